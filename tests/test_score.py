"""The target list: score properties, exact priority counts, overrides, rank, texts."""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from maillon.engine import contract as C
from maillon.engine.abc import classify
from maillon.engine.model import Settings
from maillon.engine.score import build_targets, priority_counts, score_components, joint_score

TODAY = dt.date(2026, 12, 1)
NEEDS = ["Price", "Service", "Speed"]


def world(n=25, seed=0, k=3):
    """A random but complete set of inputs for build_targets (index = Excel-like rows)."""
    rng = np.random.default_rng(seed)
    ids = [f"ACC{i:03d}" for i in rng.permutation(n)]
    status = np.where(rng.random(n) < 0.6, "Customer", "Prospect")
    revenue = np.where(status == "Customer", rng.pareto(1.2, n) * 1000, np.nan)
    potential = rng.pareto(1.1, n) * 2000
    potential[rng.random(n) < 0.15] = np.nan
    acc = pd.DataFrame({
        "Account ID": pd.array(ids, dtype="str"),
        "Account name": [f"Company {i}" for i in ids],
        "Status": pd.array(status, dtype="str"),
        "Industry": rng.choice(["Retail", "Food", None], n),
        "Region": rng.choice(["North", "South"], n),
        "City": "Lyon",
        "Employees": rng.integers(1, 500, n).astype(float),
        "Sales owner": rng.choice(["Ann", "Bob", None], n),
        "Revenue 12m": revenue,
        "Potential": potential,
        "Last contact": pd.to_datetime("2025-06-01") + pd.to_timedelta(rng.integers(0, 500, n), unit="D"),
    })
    for need in NEEDS:
        v = rng.integers(1, 6, n).astype(float)
        v[rng.random(n) < 0.1] = np.nan
        acc[C.need_column(need)] = v
    acc.index = range(5, 5 + n)
    seg_ids = [f"S{i + 1:02d}" for i in range(k)]
    segs = pd.DataFrame({"Segment ID": seg_ids, "Segment name": [f"Seg {i + 1}" for i in range(k)],
                         "Marketing owner": [f"Mia {i + 1}" for i in range(k)],
                         "Attractiveness": rng.uniform(10, 95, k).round(0)})
    membership = pd.Series(rng.choice(seg_ids, n), index=acc.index)
    inferred = pd.Series(acc[[C.need_column(x) for x in NEEDS]].isna().all(axis=1), index=acc.index)
    fit = pd.Series(np.where(inferred, np.nan, rng.random(n)), index=acc.index)
    has_fb = rng.random(n) < 0.6
    fb = pd.DataFrame({"Date": pd.Timestamp("2026-10-01"), "Sales rep": "Ann", "Main need": "Price",
                       "Relationship": rng.integers(1, 6, has_fb.sum()).astype(float),
                       "Buying intent": rng.choice(["Low", "Medium", "High", None], has_fb.sum()),
                       "Competitor": "", "Note": ""},
                      index=pd.Index(np.array(ids, dtype=object)[has_fb], name="Account ID"))
    expectations = pd.DataFrame({"Expectation": NEEDS, "Description": "", "Market importance": 3.0,
                                 "Our strength": [4.0, 2.0, 3.0], "Source": ""})
    return dict(accounts=acc, latest_feedback=fb, expectations=expectations, membership=membership,
                inferred=inferred, account_fit=fit, segments=segs)


def run(w, settings=None, previous=None, **overrides):
    inputs = {**w, **overrides}
    settings = settings or Settings()
    classes = classify(inputs["accounts"], settings)
    return build_targets(inputs["accounts"], inputs["latest_feedback"], inputs["expectations"], classes,
                         inputs["membership"], inputs["inferred"], inputs["account_fit"],
                         inputs["segments"], settings, previous, TODAY)


def scores(targets):
    return targets.set_index("Account ID")["Score"]


# --------------------------------------------------------------------------- shape
def test_columns_order_and_rank():
    w = world(40)
    targets, orphans = run(w)
    assert list(targets.columns) == C.TARGET_COLUMNS
    assert isinstance(targets.index, pd.RangeIndex) and targets.index[0] == 0
    assert targets["Rank"].tolist() == list(range(1, 41))
    assert targets["Score"].between(0, 100).all()
    assert (targets["Next action"] == "").all()
    assert orphans == []
    assert set(targets["Account ID"]) == set(w["accounts"]["Account ID"])
    # the Score a user sees orders the table as Rank does (no hidden decimals)
    order = {"P1": 0, "P2": 1, "P3": 2, "Exclude": 3}
    by_sorting = targets.assign(p=targets["Final priority"].map(order)).sort_values(
        ["p", "Score", "Account ID"], ascending=[True, False, True], kind="stable")
    assert by_sorting["Rank"].tolist() == list(range(1, 41))


def test_segment_name_and_owner_from_segments():
    w = world(30)
    targets, _ = run(w)
    seg = w["segments"].set_index("Segment ID")
    by_id = targets.set_index("Account ID")
    member = pd.Series(w["membership"].to_numpy(), index=w["accounts"]["Account ID"])
    for aid, row in by_id.iterrows():
        assert row["Segment ID"] == member[aid]
        assert row["Segment name"] == seg.loc[member[aid], "Segment name"]
        assert row["Marketing owner"] == seg.loc[member[aid], "Marketing owner"]


# --------------------------------------------------------------------------- priorities
def test_priority_counts_rule():
    assert priority_counts(25, Settings(p1_share=0.10, p2_share=0.30)) == (3, 8)
    assert priority_counts(15, Settings(p1_share=0.10, p2_share=0.30)) == (2, 5)  # 1.5 -> 2, 4.5 -> 5
    assert priority_counts(14, Settings(p1_share=0.10, p2_share=0.30)) == (1, 4)  # 1.4 -> 1, 4.2 -> 4
    assert priority_counts(0, Settings()) == (0, 0)
    assert priority_counts(3, Settings(p1_share=0.9, p2_share=0.9)) == (3, 0)


@pytest.mark.parametrize("n, p1, p2", [(25, 0.10, 0.30), (25, 0.0, 0.0), (7, 0.5, 0.5), (101, 0.05, 0.2)])
def test_exact_priority_counts_in_targets(n, p1, p2):
    targets, _ = run(world(n, seed=n), Settings(p1_share=p1, p2_share=p2))
    n1, n2 = priority_counts(n, Settings(p1_share=p1, p2_share=p2))
    counts = targets["Computed priority"].value_counts()
    assert counts.get("P1", 0) == n1 and counts.get("P2", 0) == n2
    assert counts.get("P3", 0) == n - n1 - n2
    if (n, p1, p2) == (25, 0.10, 0.30):
        assert (n1, n2) == (3, 8)


def test_computed_priority_follows_score_then_id():
    w = world(60, seed=3)
    targets, _ = run(w)
    comp = score_components(w["accounts"], w["latest_feedback"], w["membership"], w["account_fit"],
                            w["segments"])
    raw = pd.Series(joint_score(comp, 0.5), index=w["accounts"]["Account ID"].to_numpy())
    order = sorted(raw.index, key=lambda a: (-raw[a], a))
    prio = targets.set_index("Account ID")["Computed priority"]
    assert [prio[a] for a in order] == ["P1"] * 6 + ["P2"] * 18 + ["P3"] * 36
    assert (targets["Final priority"] == targets["Computed priority"]).all()


def test_ties_broken_by_account_id():
    w = world(10, seed=1)
    acc = w["accounts"].copy()
    for col in ("Revenue 12m", "Potential"):
        acc[col] = 100.0
    acc["Status"] = "Customer"
    fit = w["account_fit"] * 0 + 0.5
    targets, _ = run(w, Settings(p1_share=0.2, p2_share=0.3), accounts=acc, account_fit=fit,
                     latest_feedback=w["latest_feedback"].iloc[0:0],
                     membership=pd.Series("S01", index=acc.index))
    assert targets["Score"].nunique() == 1
    assert targets["Account ID"].tolist() == sorted(acc["Account ID"])
    assert targets["Computed priority"].tolist() == ["P1"] * 2 + ["P2"] * 3 + ["P3"] * 5


# --------------------------------------------------------------------------- score properties
def test_marketing_weight_zero_ignores_needs_and_segments():
    w = world(80, seed=4)
    settings = Settings(marketing_weight=0.0)
    base, _ = run(w, settings)
    rng = np.random.default_rng(9)
    acc = w["accounts"].copy()
    for need in NEEDS:
        acc[C.need_column(need)] = rng.integers(1, 6, len(acc)).astype(float)
    segs = w["segments"].copy()
    segs["Attractiveness"] = [0.0, 100.0, 55.0]
    moved, _ = run(w, settings, accounts=acc, segments=segs,
                   membership=pd.Series(rng.choice(segs["Segment ID"], len(acc)), index=acc.index),
                   account_fit=pd.Series(rng.random(len(acc)), index=acc.index),
                   inferred=pd.Series(False, index=acc.index))
    pd.testing.assert_series_equal(scores(base).sort_index(), scores(moved).sort_index())
    assert (base.set_index("Account ID")["Computed priority"].sort_index()
            == moved.set_index("Account ID")["Computed priority"].sort_index()).all()
    # and with a marketing weight the needs do matter
    a, _ = run(w, Settings(marketing_weight=0.5))
    b, _ = run(w, Settings(marketing_weight=0.5), segments=segs)
    assert not scores(a).sort_index().equals(scores(b).sort_index())


@pytest.mark.parametrize("weight", [0.0, 0.3, 0.5, 1.0])
def test_raising_potential_never_lowers_own_score(weight):
    rng = np.random.default_rng(int(weight * 10))
    w = world(150, seed=7)
    settings = Settings(marketing_weight=weight)

    def raw_scores(acc):
        comp = score_components(acc, w["latest_feedback"], w["membership"], w["account_fit"], w["segments"])
        return joint_score(comp, settings.marketing_weight)

    acc = w["accounts"]
    before = raw_scores(acc)
    pmax = np.nanmax(acc["Potential"])
    for trial in range(120):
        i = rng.integers(len(acc))
        old = acc["Potential"].iloc[i]
        base = 0.0 if np.isnan(old) else old
        new = base + rng.choice([0.0, 1.0, rng.uniform(0, 1000), pmax * rng.uniform(0.5, 3), 1e9])
        changed = acc.copy()
        changed.iloc[i, changed.columns.get_loc("Potential")] = new
        after = raw_scores(changed)
        assert after[i] >= before[i] - 1e-12, (trial, old, new)
    # the published, rounded score as well
    i = int(np.nanargmin(acc["Potential"]))
    changed = acc.copy()
    changed.iloc[i, changed.columns.get_loc("Potential")] = pmax * 10
    t0, _ = run(w, settings)
    t1, _ = run(w, settings, accounts=changed)
    aid = acc["Account ID"].iloc[i]
    if weight < 1.0:
        assert scores(t1)[aid] > scores(t0)[aid]
    else:  # the sales view has no weight: the potential cannot move the score at all
        assert scores(t1)[aid] == scores(t0)[aid]


def test_missing_feedback_gets_documented_defaults():
    w = world(20, seed=5)
    comp = score_components(w["accounts"], None, w["membership"], w["account_fit"], w["segments"])
    assert (comp["relationship"] == 0.5).all() and (comp["intent"] == 0.25).all()
    assert not comp["has_feedback"].any()


def test_fit_falls_back_to_segment_mean():
    w = world(30, seed=6)
    fit = w["account_fit"].copy()
    fit.iloc[0] = np.nan
    comp = score_components(w["accounts"], w["latest_feedback"], w["membership"], fit, w["segments"])
    seg = w["membership"].iloc[0]
    expected = fit[w["membership"] == seg].mean()
    assert comp["fit"].iloc[0] == pytest.approx(expected)
    assert not comp["fit_own"].iloc[0]


# --------------------------------------------------------------------------- overrides
def test_overrides_carried_by_account_id_and_rank_order():
    w = world(25, seed=8)
    first, _ = run(w)
    ids = first["Account ID"].tolist()
    top, bottom, middle, gone = ids[0], ids[-1], ids[12], "NOT-THERE"
    prev = first.copy()
    prev["Priority override"] = ""
    prev["Override reason"] = ""
    prev.loc[prev["Account ID"] == top, ["Priority override", "Override reason"]] = ["Exclude", "Bankrupt"]
    prev.loc[prev["Account ID"] == bottom, ["Priority override", "Override reason"]] = ["p1", "CEO is a friend"]
    prev.loc[prev["Account ID"] == middle, "Override reason"] = "Watch closely"
    prev = pd.concat([prev, pd.DataFrame([{"Account ID": gone, "Priority override": "P2",
                                           "Override reason": "Old deal"}])], ignore_index=True)
    prev = prev.iloc[::-1]  # order of the previous sheet does not matter

    second, orphans = run(w, previous=prev)
    row = second.set_index("Account ID")
    assert row.loc[top, "Priority override"] == "Exclude" and row.loc[top, "Final priority"] == "Exclude"
    assert row.loc[top, "Override reason"] == "Bankrupt"
    assert row.loc[top, "Computed priority"] == "P1"
    assert row.loc[bottom, "Priority override"] == "P1" and row.loc[bottom, "Final priority"] == "P1"
    assert row.loc[middle, "Override reason"] == "Watch closely"
    assert row.loc[middle, "Final priority"] == row.loc[middle, "Computed priority"]
    # computed counts are unchanged by overrides
    assert (second["Computed priority"].value_counts().to_dict()
            == first["Computed priority"].value_counts().to_dict())
    # Rank: P1, P2, P3, Exclude, then score desc, then Account ID
    order = {"P1": 0, "P2": 1, "P3": 2, "Exclude": 3}
    keys = list(zip(second["Final priority"].map(order), -second["Score"]))
    assert keys == sorted(keys)
    assert second["Account ID"].iloc[-1] == top
    assert second["Rank"].tolist() == list(range(1, 26))
    assert {(o["Key"], o["Column"], o["Value"]) for o in orphans} == {
        (gone, "Priority override", "P2"), (gone, "Override reason", "Old deal")}
    assert all(o["Sheet"] == "Target List" and o["Note"] for o in orphans)


def test_numeric_account_ids_read_back_as_numbers_still_match():
    w = world(6, seed=2)
    acc = w["accounts"].copy()
    acc["Account ID"] = pd.array([str(1000 + i) for i in range(6)], dtype="str")
    fb = w["latest_feedback"].iloc[0:0]
    prev = pd.DataFrame({"Account ID": [1003.0], "Priority override": ["Exclude"], "Override reason": [None]})
    targets, orphans = run(w, previous=prev, accounts=acc, latest_feedback=fb)
    assert targets.set_index("Account ID").loc["1003", "Final priority"] == "Exclude"
    assert orphans == []


def test_invalid_override_is_reported_and_ignored():
    w = world(10, seed=2)
    aid = w["accounts"]["Account ID"].iloc[0]
    prev = pd.DataFrame({"Account ID": [aid], "Priority override": ["urgent"], "Override reason": ["x"]})
    targets, orphans = run(w, previous=prev)
    row = targets.set_index("Account ID").loc[aid]
    assert row["Priority override"] == "" and row["Final priority"] == row["Computed priority"]
    assert row["Override reason"] == "x"
    assert len(orphans) == 1 and orphans[0]["Value"] == "urgent"


# --------------------------------------------------------------------------- texts
def test_qualification_texts():
    w = world(8, seed=11)
    acc = w["accounts"].copy()
    acc["Industry"] = "Retail"
    acc["Sales owner"] = "Ann"
    acc["Potential"] = 100.0
    acc["Revenue 12m"] = np.where(acc["Status"] == "Customer", 10.0, np.nan)
    acc["Last contact"] = pd.Timestamp("2026-11-01")
    for need in NEEDS:
        acc[C.need_column(need)] = 3.0
    fb = pd.DataFrame({"Relationship": 4.0, "Buying intent": "High"},
                      index=pd.Index(acc["Account ID"].astype(object), name="Account ID"))
    inferred = pd.Series(False, index=acc.index)
    targets, _ = run(w, accounts=acc, latest_feedback=fb, inferred=inferred)
    assert (targets["Qualification"] == "Complete").all()

    acc2 = acc.copy()
    i0, i1, i2 = acc.index[:3]
    acc2.loc[i0, ["Potential", "Industry", "Sales owner"]] = [np.nan, None, None]
    acc2.loc[i1, "Last contact"] = pd.NaT
    acc2.loc[i2, "Last contact"] = pd.Timestamp("2025-01-01")
    for need in NEEDS:
        acc2.loc[i0, C.need_column(need)] = np.nan
    acc2.loc[i1, C.need_column(NEEDS[0])] = np.nan
    inferred2 = inferred.copy()
    inferred2[i0] = True
    fb2 = fb.drop(index=acc.loc[i2, "Account ID"])
    targets, _ = run(w, accounts=acc2, latest_feedback=fb2, inferred=inferred2)
    q = targets.set_index("Account ID")["Qualification"]
    assert q[acc.loc[i0, "Account ID"]] == ("Potential missing; Industry missing; Needs missing — segment "
                                            "inferred from firmographics/feedback; Sales owner missing")
    assert q[acc.loc[i1, "Account ID"]] == "Needs incomplete (2 of 3); Last contact missing"
    assert q[acc.loc[i2, "Account ID"]] == "No field feedback; No contact in 12 months"


def test_why_gives_two_or_three_plain_reasons():
    w = world(200, seed=12)
    targets, _ = run(w)
    parts = targets["Why"].str.split("; ")
    assert parts.map(len).between(2, 3).all()
    assert (targets["Why"] != "").all()
    text = " ".join(targets["Why"])
    assert "High potential (top" in text and "buying intent" in text
    # with marketing weight 0, no marketing reason is given
    t0, _ = run(w, Settings(marketing_weight=0.0))
    assert not t0["Why"].str.contains("segment|Needs", regex=True).any()


def test_empty_accounts():
    w = world(5)
    acc = w["accounts"].iloc[0:0]
    targets, orphans = run(w, accounts=acc, membership=w["membership"].iloc[0:0],
                           inferred=w["inferred"].iloc[0:0], account_fit=w["account_fit"].iloc[0:0])
    assert list(targets.columns) == C.TARGET_COLUMNS and len(targets) == 0
