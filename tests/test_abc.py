"""The crossed ABC matrix: the exact rule of the contract, by hand and against a reference."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from maillon.engine import contract as C
from maillon.engine.abc import SALES_POSTURE, abc_tables, classify
from maillon.engine.model import Settings


def accounts(rows):
    """rows: (Account ID, Status, Revenue 12m, Potential); None = blank."""
    df = pd.DataFrame(rows, columns=["Account ID", "Status", "Revenue 12m", "Potential"])
    df["Account ID"] = df["Account ID"].astype("str")
    df["Status"] = df["Status"].astype("str")
    df["Revenue 12m"] = df["Revenue 12m"].astype(float)
    df["Potential"] = df["Potential"].astype(float)
    df.index = range(2, len(df) + 2)  # Excel-like row numbers
    return df


def cells(df, **settings):
    out = classify(df, Settings(**settings))
    assert list(out.index) == list(df.index)
    return dict(zip(df["Account ID"], out["ABC cell"]))


PORTFOLIO = [
    # Revenue over customers with revenue > 0: total 310.
    ("C2", "Customer", 100, None),   # tie with C1: ranked after it; 100 above (32 %) -> A
    ("C1", "Customer", 100, 50),     # first: nothing above -> A
    ("C3", "Customer", 50, 0),       # 200 above (64.5 %) -> A
    ("C4", "Customer", 30, 200),     # 250 above (80.6 %) -> B
    ("C5", "Customer", 20, 10),      # 280 above (90.3 %) -> B
    ("C8", "Customer", 10, None),    # 300 above (96.8 %) -> C
    ("C6", "Customer", 0, 100),      # customer without revenue -> C
    ("C7", "Customer", None, None),  # blank revenue -> C
    ("P1", "Prospect", None, 200),   # prospect -> P
    ("P2", "Prospect", 500, 5),      # a prospect stays P and is not ranked on revenue
]
# Potential over all accounts with potential > 0, total 565, order:
# C4 200 (A, 0 above), P1 200 (A, 35.4 %), C6 100 (A, 70.8 %), C1 50 (B, 88.5 %),
# C5 10 (C, 97.3 %), P2 5 (C, 99.1 %); blank or 0 -> C.
EXPECTED = {"C1": "AB", "C2": "AC", "C3": "AC", "C4": "BA", "C5": "BC", "C8": "CC",
            "C6": "CA", "C7": "CC", "P1": "PA", "P2": "PC"}


def test_hand_computed_portfolio():
    assert cells(accounts(PORTFOLIO)) == EXPECTED


def test_row_order_does_not_matter():
    assert cells(accounts(PORTFOLIO[::-1])) == EXPECTED


def test_classes_columns():
    out = classify(accounts(PORTFOLIO), Settings())
    assert list(out.columns) == ["Revenue class", "Potential class", "ABC cell"]
    assert (out["Revenue class"] + out["Potential class"]).tolist() == out["ABC cell"].tolist()


@pytest.mark.parametrize("order", [["a", "b"], ["b", "a"]])
def test_equal_revenues_ordered_by_account_id(order):
    rows = [(i, "Customer", 50, 1) for i in order]
    # 50 % A share: "a" has nothing above it (A); "b" has exactly 50 % above (not less) -> B
    got = cells(accounts(rows), revenue_a_share=0.5, revenue_b_share=0.5)
    assert got == {"a": "AA", "b": "CA"}


def test_first_account_is_always_a():
    rows = [("big", "Customer", 1_000_000, 1_000_000), ("x", "Customer", 1, 1)]
    got = cells(accounts(rows), revenue_a_share=0.01, potential_a_share=0.01)
    assert got["big"] == "AA"
    assert got["x"] == "CC"  # 99.9999 % above it


def test_exact_boundary_is_not_less():
    rows = [("a", "Customer", 50, 50), ("b", "Customer", 30, 30), ("c", "Customer", 20, 20)]
    # 50 + 30 = 80 % above c: not less than 80 % -> B
    assert cells(accounts(rows)) == {"a": "AA", "b": "AA", "c": "BB"}
    # 80 % above c is less than 81 %: A
    assert cells(accounts(rows), revenue_a_share=0.81)["c"] == "AB"
    # B share exactly 80 %: c has 80 % above -> C
    assert cells(accounts(rows), revenue_b_share=0.80)["c"] == "CB"


def test_floating_point_noise_does_not_move_a_boundary():
    # 0.7 + 0.2 is 0.8999999999999999 in floating point: still "not less than 90 %"
    rows = [("a", "Customer", 0.7, 0.7), ("b", "Customer", 0.2, 0.2), ("c", "Customer", 0.1, 0.1)]
    got = cells(accounts(rows), revenue_a_share=0.7, revenue_b_share=0.9,
                potential_a_share=0.7, potential_b_share=0.9)
    assert got == {"a": "AA", "b": "BB", "c": "CC"}


def test_full_shares_make_everything_a():
    got = cells(accounts(PORTFOLIO), revenue_a_share=1.0, revenue_b_share=1.0,
                potential_a_share=1.0, potential_b_share=1.0)
    assert got["C8"] == "AC" and got["P2"] == "PA" and got["C6"] == "CA" and got["C7"] == "CC"


def test_no_revenue_at_all():
    rows = [("a", "Prospect", None, None), ("b", "Customer", 0, None)]
    assert cells(accounts(rows)) == {"a": "PC", "b": "CC"}


def test_empty_portfolio():
    out = classify(accounts([]), Settings())
    assert len(out) == 0
    tbl, counts, revenue, potential = abc_tables(accounts([]), out)
    assert tbl["Accounts"].sum() == 0 and counts.to_numpy().sum() == 0


def test_bad_shares_are_named():
    with pytest.raises(ValueError, match="Revenue A share"):
        classify(accounts(PORTFOLIO), Settings(revenue_a_share=0.9, revenue_b_share=0.8))


def reference_classes(values, ids, eligible, a, b):
    """Literal reading of the contract, one account at a time."""
    ranked = sorted((i for i in range(len(values)) if eligible[i]), key=lambda i: (-values[i], ids[i]))
    total = sum(values[i] for i in ranked)
    out = ["C"] * len(values)
    above = 0.0
    for i in ranked:
        share = above / total
        out[i] = "A" if share < a - 1e-9 else ("B" if share < b - 1e-9 else "C")
        above += values[i]
    return out


@pytest.mark.parametrize("seed", range(8))
def test_matches_reference_on_random_portfolios(seed):
    rng = np.random.default_rng(seed)
    n = 300
    ids = [f"K{v:03d}" for v in rng.permutation(n)]
    status = np.where(rng.random(n) < 0.7, "Customer", "Prospect")
    revenue = rng.choice([0, 10, 20, 50, 100, 1000], n).astype(float)  # many ties
    revenue[rng.random(n) < 0.1] = np.nan
    potential = rng.choice([0, 5, 10, 100, 500], n).astype(float)
    potential[rng.random(n) < 0.1] = np.nan
    df = accounts(list(zip(ids, status, revenue, potential)))
    a, b = rng.uniform(0.5, 0.8), rng.uniform(0.8, 1.0)
    out = classify(df, Settings(revenue_a_share=a, revenue_b_share=b,
                                potential_a_share=a, potential_b_share=b))
    rev_ref = reference_classes(np.nan_to_num(revenue), ids,
                                (status == "Customer") & (np.nan_to_num(revenue) > 0), a, b)
    rev_ref = ["P" if s == "Prospect" else r for s, r in zip(status, rev_ref)]
    pot_ref = reference_classes(np.nan_to_num(potential), ids, np.nan_to_num(potential) > 0, a, b)
    assert out["Revenue class"].tolist() == rev_ref
    assert out["Potential class"].tolist() == pot_ref


def test_abc_tables():
    df = accounts(PORTFOLIO)
    classes = classify(df, Settings())
    tbl, counts, revenue, potential = abc_tables(df, classes)
    assert list(tbl.columns) == C.ABC_COLUMNS
    assert tbl["ABC cell"].tolist() == list(C.ABC_CELLS)
    assert tbl["Accounts"].sum() == len(df)
    assert tbl.set_index("ABC cell").loc["AC", "Accounts"] == 2
    assert tbl.set_index("ABC cell").loc["CC", "Accounts"] == 2
    assert tbl.set_index("ABC cell").loc["BB", "Accounts"] == 0
    assert tbl["Revenue 12m"].sum() == pytest.approx(df["Revenue 12m"].fillna(0).sum())
    assert tbl["Potential"].sum() == pytest.approx(df["Potential"].fillna(0).sum())
    assert tbl["Sales posture"].tolist() == [SALES_POSTURE[c] for c in C.ABC_CELLS]
    assert list(counts.index) == ["A", "B", "C", "P"] and list(counts.columns) == ["A", "B", "C"]
    assert counts.loc["A", "C"] == 2 and counts.loc["P", "A"] == 1 and counts.to_numpy().sum() == len(df)
    assert revenue.loc["A", "B"] == 100 and potential.loc["B", "A"] == 200
    assert counts.dtypes.eq("int64").all()


def test_posture_for_every_cell():
    assert set(SALES_POSTURE) == set(C.ABC_CELLS)
    assert all(isinstance(v, str) and v for v in SALES_POSTURE.values())
