"""A small, valid engine input to try the engine and to build tests on.

Example
-------
>>> from maillon.engine.samples import small_input
>>> inp = small_input(n_accounts=12)
>>> len(inp.accounts)
12
"""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from . import contract as C
from .model import EngineInput

EXPECTATIONS = [
    # name, importance, our strength
    ("Price", 5, 3),
    ("Delivery", 4, 5),
    ("Service", 3, 4),
    ("Innovation", 3, 2),
]


def settings_frame(**overrides) -> pd.DataFrame:
    """``tblSettings`` with the contract defaults, some values replaced by keyword.

    Keywords are setting names with spaces as underscores: ``P1_share=0.2``.
    """
    rows = []
    for spec in C.SETTINGS:
        value = overrides.get(spec.name.replace(" ", "_"), spec.default)
        rows.append({"Setting": spec.name, "Value": value, "Description": spec.description})
    return pd.DataFrame(rows, index=range(5, 5 + len(rows)))


def small_input(n_accounts: int = 30, seed: int = 0, run_at: dt.datetime | None = None,
                **settings) -> EngineInput:
    """A portfolio of ``n_accounts`` with two needs profiles, feedback and a playbook.

    Frames are indexed like a sheet whose table header sits on row 4.
    """
    rng = np.random.default_rng(seed)
    exp = pd.DataFrame([{"Expectation": n, "Description": f"{n} matters", "Market importance": i,
                         "Our strength": s, "Source": "Study 2026"} for n, i, s in EXPECTATIONS])
    exp.index = range(5, 5 + len(exp))
    n = n_accounts
    status = np.where(np.arange(n) % 3 == 2, "Prospect", "Customer")
    profile = np.arange(n) % 2
    acc = pd.DataFrame({
        "Account ID": [f"A{i:04d}" for i in range(n)],
        "Account name": [f"Company {i}" for i in range(n)],
        "Status": status,
        "Industry": np.where(profile == 0, "Chimie", "Santé"),
        "Region": np.where(np.arange(n) % 4 < 2, "Bretagne", "Normandie"),
        "City": np.where(np.arange(n) % 4 < 2, "Rennes", "Caen"),
        "Employees": rng.integers(5, 2000, n).astype(float),
        "Sales owner": np.where(np.arange(n) % 2 == 0, "Alice Martin", "Bruno Petit"),
        "Revenue 12m": np.where(status == "Customer", rng.pareto(1.5, n) * 10000, 0.0).round(0),
        "Potential": (rng.pareto(1.5, n) * 20000).round(0),
        "Last contact": pd.Timestamp("2026-10-01") - pd.to_timedelta(rng.integers(0, 400, n), "D"),
    })
    for j, (name, _, _) in enumerate(EXPECTATIONS):
        high = (j % 2) == profile
        needs = np.where(high, rng.integers(4, 6, n), rng.integers(1, 3, n)).astype(float)
        needs[(status == "Prospect") & (np.arange(n) % 6 == 5)] = np.nan  # some with no needs
        acc[C.need_column(name)] = needs
    acc.index = range(5, 5 + n)
    fb_ids = acc["Account ID"].iloc[::3]
    fb = pd.DataFrame({
        "Account ID": fb_ids.tolist(),
        "Date": pd.Timestamp("2026-09-01") + pd.to_timedelta(np.arange(len(fb_ids)), "D"),
        "Sales rep": "Alice Martin",
        "Main need": [EXPECTATIONS[p][0] for p in profile[::3]],
        "Relationship": rng.integers(1, 6, len(fb_ids)).astype(float),
        "Buying intent": np.array(["Low", "Medium", "High"])[rng.integers(0, 3, len(fb_ids))],
        "Competitor": "",
        "Note": "",
    })
    fb.index = range(5, 5 + len(fb))
    pb = pd.DataFrame([
        {"Priority": "P1", "Segment": "All", "ABC cell": "A*", "Action": "Key account review",
         "Function": "Sales", "Start week": 0, "Duration weeks": 2, "Repeat every weeks": None},
        {"Priority": "P1", "Segment": "All", "ABC cell": "All", "Action": "Joint account plan",
         "Function": "Joint", "Start week": 1, "Duration weeks": 1, "Repeat every weeks": 8},
        {"Priority": "P2", "Segment": "All", "ABC cell": "All", "Action": "Targeted campaign",
         "Function": "Marketing", "Start week": 2, "Duration weeks": 2, "Repeat every weeks": 6},
        {"Priority": "P3", "Segment": "All", "ABC cell": "All", "Action": "Newsletter",
         "Function": "Marketing", "Start week": 0, "Duration weeks": 1, "Repeat every weeks": 4},
    ])
    pb.index = range(5, 5 + len(pb))
    return EngineInput(settings=settings_frame(**settings), expectations=exp, accounts=acc,
                       feedback=fb, playbook=pb,
                       run_at=run_at or dt.datetime(2026, 11, 26, 9, 0), run_by="tester")
