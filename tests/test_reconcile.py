"""Segments against the ABC matrix: cross-tables, agreement, conflicts."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from maillon.engine import contract as C
from maillon.engine.abc import classify
from maillon.engine.model import Settings
from maillon.engine.reconcile import reconcile, sales_tiers, segment_tiers


def segments(attractiveness, names=None):
    k = len(attractiveness)
    ids = [f"S{i + 1:02d}" for i in range(k)]
    return pd.DataFrame({
        "Segment ID": ids,
        "Segment name": names or [f"Segment {i + 1}" for i in range(k)],
        "Marketing owner": [f"Owner {i + 1}" for i in range(k)],
        "Accounts": 0, "Customers": 0, "Prospects": 0, "Revenue 12m": 0.0, "Potential": 0.0,
        "Attractiveness": [float(a) for a in attractiveness],
        "Portrait": "", "Top needs": "", "Differentiators": "",
    })[C.SEGMENT_COLUMNS]


def portfolio(rows):
    """rows: (Account ID, Status, Revenue 12m, Potential, Segment ID)."""
    df = pd.DataFrame(rows, columns=["Account ID", "Status", "Revenue 12m", "Potential", "seg"])
    df.index = range(10, 10 + len(df))
    df["Account name"] = "Name of " + df["Account ID"]
    membership = df.pop("seg")
    df["Revenue 12m"] = df["Revenue 12m"].astype(float)
    df["Potential"] = df["Potential"].astype(float)
    return df, membership


@pytest.mark.parametrize("k, sizes", [(1, (0, 1, 0)), (2, (1, 0, 1)), (3, (1, 1, 1)), (4, (1, 2, 1)),
                                      (5, (2, 1, 2)), (6, (2, 2, 2)), (7, (2, 3, 2)), (12, (4, 4, 4))])
def test_tier_sizes(k, sizes):
    tiers = segment_tiers(segments(list(range(k, 0, -1))))
    assert (tiers == "top").sum() == sizes[0]
    assert (tiers == "middle").sum() == sizes[1]
    assert (tiers == "bottom").sum() == sizes[2]
    if k >= 2:
        assert tiers.iloc[0] == "top" and tiers.iloc[-1] == "bottom"


def test_tier_ties_broken_by_segment_id():
    tiers = segment_tiers(segments([50, 50, 50]))
    assert tiers.to_dict() == {"S01": "top", "S02": "middle", "S03": "bottom"}
    tiers = segment_tiers(segments([10, 80, 80, 10, 50, 50]))
    assert tiers.to_dict() == {"S01": "bottom", "S02": "top", "S03": "top",
                               "S04": "bottom", "S05": "middle", "S06": "middle"}


def test_blank_attractiveness_ranks_last():
    tiers = segment_tiers(segments([np.nan, 20, 30]))
    assert tiers.to_dict() == {"S01": "bottom", "S02": "middle", "S03": "top"}


def planted():
    segs = segments([90, 50, 10, 40])  # S01 top, S02/S04 middle, S03 bottom
    acc, membership = portfolio([
        ("hidden", "Prospect", None, 10_000, "S01"),     # top segment, P, potential A
        ("hidden2", "Customer", 1, 9_000, "S01"),        # top segment, C, potential A
        ("legacy", "Customer", 10_000, 1, "S03"),        # revenue A, bottom segment
        ("ok-top", "Customer", 9_000, 1, "S01"),         # revenue A in a top segment: no conflict
        ("ok-mid", "Prospect", None, 8_000, "S02"),      # potential A in a middle segment: none
        ("small1", "Customer", 10, 1, "S03"),
        ("small2", "Customer", 10, 1, "S02"),
        ("small3", "Prospect", None, 1, "S01"),
    ])
    classes = classify(acc, Settings())
    return acc, classes, membership, segs


def test_conflicts_detected():
    acc, classes, membership, segs = planted()
    *_, conflicts = reconcile(acc, classes, membership, segs)
    assert list(conflicts.columns) == C.CONFLICT_COLUMNS
    got = dict(zip(conflicts["Account ID"], conflicts["Conflict"]))
    assert got == {"hidden": "Hidden potential", "hidden2": "Hidden potential",
                   "legacy": "Legacy account"}
    row = conflicts.set_index("Account ID").loc["legacy"]
    assert row["Segment ID"] == "S03" and row["ABC cell"][0] == "A"
    assert row["Account name"] == "Name of legacy"
    assert "Segment 3" in row["Suggested resolution"]
    assert conflicts["Suggested resolution"].str.len().min() > 40
    # largest potential first among hidden potential
    assert conflicts["Account ID"].tolist()[:2] == ["hidden", "hidden2"]


def test_cross_tables():
    acc, classes, membership, segs = planted()
    ca, cr, cp, agreement, _ = reconcile(acc, classes, membership, segs)
    for t in (ca, cr, cp):
        assert list(t.index) == ["S01", "S02", "S03", "S04"]
        assert list(t.columns) == list(C.ABC_CELLS)
    assert ca.to_numpy().sum() == len(acc)
    assert ca.sum(axis=1).to_dict() == membership.value_counts().reindex(segs["Segment ID"], fill_value=0).to_dict()
    assert ca.loc["S04"].sum() == 0  # an empty segment is still there, with zeros
    assert ca.sum(axis=0).to_dict() == \
        classes["ABC cell"].value_counts().reindex(list(C.ABC_CELLS), fill_value=0).to_dict()
    assert cr.to_numpy().sum() == pytest.approx(acc["Revenue 12m"].fillna(0).sum())
    assert cp.to_numpy().sum() == pytest.approx(acc["Potential"].sum())
    assert cr.loc["S03", classes.loc[acc["Account ID"] == "legacy", "ABC cell"].iloc[0]] >= 10_000


def test_agreement_value_by_hand():
    acc, classes, membership, segs = planted()
    *_, agreement, _ = reconcile(acc, classes, membership, segs)
    assert set(agreement) >= {"name", "value", "explanation"}
    assert 0.0 <= agreement["value"] <= 1.0
    mkt = membership.map(segment_tiers(segs)).to_numpy()
    sales = sales_tiers(classes)
    assert agreement["value"] == pytest.approx((mkt == sales).mean())
    # by hand: hidden (top/top), hidden2 (top/top), ok-top (top/top), small3 (top vs bottom),
    # legacy (bottom vs top), ok-mid (middle vs top), small1 (bottom/bottom), small2 (middle vs bottom)
    assert agreement["value"] == pytest.approx(4 / 8)
    assert "4 of 8" in agreement["explanation"]


def test_sales_tiers():
    classes = pd.DataFrame({"Revenue class": ["A", "C", "B", "P", "C", "B"],
                            "Potential class": ["C", "A", "C", "B", "C", "B"]})
    assert sales_tiers(classes).tolist() == ["top", "top", "middle", "middle", "bottom", "middle"]


@pytest.mark.parametrize("seed", range(5))
def test_random_agreement_in_range_and_totals(seed):
    rng = np.random.default_rng(seed)
    n = 500
    segs = segments(rng.uniform(0, 100, 5).round())
    acc, membership = portfolio([
        (f"A{i:04d}", rng.choice(["Customer", "Prospect"]), float(rng.pareto(1) * 100),
         float(rng.pareto(1) * 100), rng.choice(segs["Segment ID"])) for i in range(n)])
    classes = classify(acc, Settings())
    ca, cr, cp, agreement, conflicts = reconcile(acc, classes, membership, segs)
    assert ca.to_numpy().sum() == n
    assert 0.0 <= agreement["value"] <= 1.0
    tiers = membership.map(segment_tiers(segs))
    hidden = (tiers == "top") & classes["Revenue class"].isin(["C", "P"]) & (classes["Potential class"] == "A")
    legacy = (tiers == "bottom") & (classes["Revenue class"] == "A")
    assert (conflicts["Conflict"] == "Hidden potential").sum() == hidden.sum()
    assert (conflicts["Conflict"] == "Legacy account").sum() == legacy.sum()


def test_no_accounts():
    acc, membership = portfolio([])
    classes = classify(acc, Settings())
    ca, cr, cp, agreement, conflicts = reconcile(acc, classes, membership, segments([50, 40]))
    assert ca.shape == (2, 12) and ca.to_numpy().sum() == 0
    assert agreement["value"] == 0.0
    assert list(conflicts.columns) == C.CONFLICT_COLUMNS and len(conflicts) == 0
