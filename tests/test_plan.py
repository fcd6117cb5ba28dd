"""The joint action plan: rule matching, weekly grid, stable IDs, carried statuses."""
from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from maillon.engine import contract as C
from maillon.engine.model import Settings
from maillon.engine.plan import action_digest, build_plan, match_cells

START = dt.date(2026, 12, 7)  # a Monday


def settings(weeks=10):
    return Settings(plan_start=START, plan_weeks=weeks)


def segments():
    return pd.DataFrame({"Segment ID": ["S01", "S02", "S03"],
                         "Segment name": ["Urban retail", "Food makers", "Public sector"],
                         "Marketing owner": ["Mia", "Max", ""]})


def targets(rows):
    """rows: (Account ID, Segment ID, ABC cell, Final priority, Sales owner)."""
    return pd.DataFrame(rows, columns=["Account ID", "Segment ID", "ABC cell", "Final priority", "Sales owner"])


TARGETS = targets([
    ("a1", "S01", "AA", "P1", "Ann"),
    ("a2", "S01", "AB", "P1", "Bob"),
    ("a3", "S01", "BA", "P2", "Ann"),
    ("a4", "S01", "CC", "P3", "Ann"),
    ("a5", "S02", "AA", "P1", "Cy"),
    ("a6", "S02", "PA", "P2", ""),
    ("a7", "S02", "AC", "Exclude", "Dee"),
    ("a8", "S03", "CA", "P3", "Eve"),
    ("a9", "S01", "AC", "Exclude", "Bob"),
])


def playbook(rows):
    return pd.DataFrame(rows, columns=C.PLAYBOOK_COLUMNS)


def plan_of(pb, tg=TARGETS, prev=None, weeks=10, warnings=None):
    return build_plan(tg, segments(), playbook(pb), settings(weeks), prev, warnings=warnings)


def by_key(plan):
    return {(r["Segment ID"], r["Priority"], r["Action"]): r for r in plan.to_dict("records")}


def test_match_cells_patterns():
    assert match_cells("AB") == ["AB"]
    assert match_cells("A*") == ["AA", "AB", "AC"]
    assert match_cells("*A") == ["AA", "BA", "CA", "PA"]
    assert match_cells("p*") == ["PA", "PB", "PC"]
    assert match_cells("All") == list(C.ABC_CELLS)
    assert match_cells(None) == list(C.ABC_CELLS)
    assert match_cells(float("nan")) == list(C.ABC_CELLS)
    assert match_cells("AA, BA") == ["AA", "BA"]
    assert match_cells("ZZ") == []


def test_columns_and_weeks():
    plan, weeks, nxt, orphans = plan_of([["P1", "All", "A*", "Review", "Sales", 0, 1, None]])
    assert weeks == [START + dt.timedelta(days=7 * k) for k in range(10)]
    assert list(plan.columns) == C.PLAN_FIXED_COLUMNS + [d.isoformat() for d in weeks]
    assert len(set(plan.columns)) == len(plan.columns)
    assert orphans == []


def test_segment_all_gives_one_row_per_segment_with_matches():
    plan, *_ = plan_of([["P1", "All", "A*", "Review", "Sales", 0, 1, None]])
    rows = by_key(plan)
    assert set(rows) == {("S01", "P1", "Review"), ("S02", "P1", "Review")}  # S03 has no P1 A*
    assert rows[("S01", "P1", "Review")]["Accounts"] == 2
    assert rows[("S02", "P1", "Review")]["Accounts"] == 1
    assert rows[("S01", "P1", "Review")]["Marketing owner"] == "Mia"
    assert rows[("S01", "P1", "Review")]["Sales owner"] == "Ann; Bob"  # 1 each: by name
    assert rows[("S01", "P1", "Review")]["Function"] == "Sales"
    assert rows[("S01", "P1", "Review")]["Status"] == "Not started"


def test_segment_by_id_and_by_name():
    pb = [["All", "S02", "All", "By id", "Marketing", 0, 1, None],
          ["All", "food MAKERS ", "All", "By name", "Marketing", 0, 1, None],
          ["All", "Nowhere", "All", "Unknown", "Marketing", 0, 1, None]]
    warnings = []
    plan, *_ = plan_of(pb, warnings=warnings)
    rows = by_key(plan)
    assert set(rows) == {("S02", "All", "By id"), ("S02", "All", "By name")}
    # Priority All counts P1..P3, never Exclude (a7 is excluded)
    assert rows[("S02", "All", "By id")]["Accounts"] == 2
    assert any("Nowhere" in w for w in warnings)


def test_abc_patterns_and_priorities():
    pb = [["P2", "All", "*A", "Develop", "Joint", 0, 1, None],
          ["P3", "All", "C*", "Nurture", "Marketing", 0, 1, None],
          ["P1", "All", "AB", "Defend", "Sales", 0, 1, None],
          ["P3", "All", "A*", "Nothing", "Sales", 0, 1, None]]
    rows = by_key(plan_of(pb)[0])
    assert rows[("S01", "P2", "Develop")]["Accounts"] == 1     # a3 BA
    assert rows[("S02", "P2", "Develop")]["Accounts"] == 1     # a6 PA
    assert rows[("S01", "P3", "Nurture")]["Accounts"] == 1     # a4 CC
    assert rows[("S03", "P3", "Nurture")]["Accounts"] == 1     # a8 CA
    assert rows[("S01", "P1", "Defend")]["Accounts"] == 1      # a2 AB
    assert not any(k[2] == "Nothing" for k in rows)            # no P3 in A*: no row
    assert rows[("S01", "P2", "Develop")]["Sales owner"] == "Ann"
    assert rows[("S02", "P2", "Develop")]["Sales owner"] == ""  # blank owner


def test_excluded_accounts_not_counted():
    pb = [["All", "All", "AC", "Only excluded", "Sales", 0, 1, None],
          ["All", "S01", "All", "Everyone", "Sales", 0, 1, None]]
    rows = by_key(plan_of(pb)[0])
    assert not any(k[2] == "Only excluded" for k in rows)  # a7 and a9 are excluded
    assert rows[("S01", "All", "Everyone")]["Accounts"] == 4  # a9 left out
    assert "Bob" in rows[("S01", "All", "Everyone")]["Sales owner"]  # a2, not a9


def test_repeat_schedule_in_weekly_grid():
    pb = [["P1", "S01", "All", "Call", "Sales", 1, 2, 4],
          ["P1", "S01", "All", "Mail", "Marketing", 3, 1, None],
          ["P1", "S01", "All", "Visit", "Joint", 0, 1, 3],
          ["P1", "S01", "All", "Too late", "Joint", 10, 1, None]]
    plan, weeks, *_ = plan_of(pb)
    cols = [d.isoformat() for d in weeks]
    rows = {r["Action"]: r for r in plan.to_dict("records")}
    grid = lambda action: "".join(rows[action][c] or "." for c in cols)  # noqa: E731
    assert grid("Call") == ".SS..SS..S"    # weeks 1-2, 5-6, 9 (9-10 cut by the horizon)
    assert grid("Mail") == "...M......"
    assert grid("Visit") == "J..J..J..J"
    assert "Too late" not in rows          # starts after the 10-week horizon
    assert rows["Call"]["Start"] == START + dt.timedelta(days=7)
    assert rows["Call"]["End"] == START + dt.timedelta(days=7 * 11 - 1)  # last occurrence week 9, 2 weeks
    assert rows["Mail"]["End"] == START + dt.timedelta(days=7 * 4 - 1)
    assert rows["Visit"]["End"] == START + dt.timedelta(days=7 * 10 - 1)
    # sorted by Priority, Segment ID, Start, Action ID
    assert plan["Action"].tolist() == ["Visit", "Call", "Mail"]


def test_sort_order():
    pb = [["All", "All", "All", "Newsletter", "Marketing", 0, 1, None],
          ["P2", "All", "All", "Upsell", "Sales", 2, 1, None],
          ["P1", "All", "All", "Review", "Sales", 5, 1, None],
          ["P1", "All", "All", "Kickoff", "Joint", 0, 1, None]]
    plan = plan_of(pb)[0]
    keys = list(zip(plan["Priority"].map({"P1": 0, "P2": 1, "P3": 2, "All": 3}), plan["Segment ID"],
                    plan["Start"], plan["Action ID"]))
    assert keys == sorted(keys)
    assert plan["Priority"].iloc[0] == "P1" and plan["Priority"].iloc[-1] == "All"


def test_action_ids_stable_and_unique():
    pb = [["P1", "All", "A*", "Review", "Sales", 0, 1, None],
          ["All", "All", "All", "Newsletter", "Marketing", 0, 1, 2],
          ["All", "S01", "All", "Newsletter", "Marketing", 0, 1, 2]]  # same action again for S01
    first = plan_of(pb)[0]
    assert first["Action ID"].is_unique
    digest = action_digest("Review", "Sales", "A*")
    assert "S01-P1-" + digest in set(first["Action ID"])
    assert {"S01-ALL-" + action_digest("Newsletter", "Marketing", "All"),
            "S01-ALL-" + action_digest("Newsletter", "Marketing", "All") + "-2"} <= set(first["Action ID"])
    # a second run, with other accounts, timings and rule order of unrelated rows: same IDs
    tg2 = pd.concat([TARGETS, targets([("b1", "S01", "AA", "P1", "Zed")])], ignore_index=True)
    pb2 = [[*pb[0][:5], 3, 2, 4], pb[1], pb[2]]
    second = plan_of(pb2, tg=tg2, weeks=12)[0]
    assert set(first["Action ID"]) == set(second["Action ID"])
    r1 = first.set_index("Action ID")
    r2 = second.set_index("Action ID")
    assert r2.loc["S01-P1-" + digest, "Accounts"] == r1.loc["S01-P1-" + digest, "Accounts"] + 1
    # case and spacing of the pattern do not change the ID; the action text does
    assert action_digest("Review", "sales", " a* ") == digest
    assert action_digest("Review call", "Sales", "A*") != digest


def test_status_carried_and_orphans_reported():
    pb = [["P1", "All", "A*", "Review", "Sales", 0, 1, None],
          ["All", "All", "All", "Newsletter", "Marketing", 0, 1, 2]]
    first = plan_of(pb)[0]
    prev = first.copy()
    ids = prev["Action ID"].tolist()
    prev.loc[prev["Action ID"] == ids[0], "Status"] = "in progress"
    prev.loc[prev["Action ID"] == ids[1], "Status"] = "Done"
    prev = pd.concat([prev, pd.DataFrame([
        {"Action ID": "S09-P1-FFFF", "Status": "Blocked"},        # vanished, edited: orphan
        {"Action ID": "S09-P2-EEEE", "Status": "Not started"},    # vanished, default: not an edit
    ])], ignore_index=True)
    second, weeks, nxt, orphans = plan_of(pb, prev=prev.iloc[::-1])
    status = second.set_index("Action ID")["Status"]
    assert status[ids[0]] == "In progress"
    assert status[ids[1]] == "Done"
    assert (status.drop([ids[0], ids[1]]) == "Not started").all()
    assert orphans == [{"Sheet": "Action Plan", "Key": "S09-P1-FFFF", "Column": "Status",
                        "Value": "Blocked", "Note": orphans[0]["Note"]}]
    assert orphans[0]["Note"]


def test_next_action_is_earliest_covering_action():
    pb = [["All", "All", "All", "Newsletter", "Marketing", 2, 1, None],
          ["P1", "All", "A*", "Review", "Sales", 0, 1, None],
          ["P3", "All", "All", "Webinar", "Marketing", 4, 1, None]]
    plan, weeks, nxt, _ = plan_of(pb)
    assert nxt.index.name == "Account ID"
    assert set(nxt.index) == set(TARGETS["Account ID"])
    assert nxt["a1"] == "Review (from 2026-12-07)"
    assert nxt["a3"] == "Newsletter (from 2026-12-21)"
    assert nxt["a4"] == "Newsletter (from 2026-12-21)"
    assert nxt["a7"] == ""  # excluded
    # a finished action gives way to the next one
    prev = plan[["Action ID", "Status"]].copy()
    prev["Status"] = "Done"
    prev.loc[plan["Action"] == "Webinar", "Status"] = "Not started"
    _, _, nxt2, _ = plan_of(pb, prev=prev)
    assert nxt2["a4"] == "Webinar (from 2027-01-04)"
    assert nxt2["a1"] == ""


def test_empty_playbook_and_no_match():
    plan, weeks, nxt, orphans = plan_of([])
    assert list(plan.columns) == C.PLAN_FIXED_COLUMNS + [d.isoformat() for d in weeks]
    assert len(plan) == 0 and (nxt == "").all() and len(nxt) == len(TARGETS)
    plan, *_ = plan_of([["P1", "All", "PC", "Never", "Sales", 0, 1, None]])
    assert len(plan) == 0


def test_many_accounts_grouped():
    import numpy as np
    rng = np.random.default_rng(0)
    n = 50_000
    tg = targets(list(zip([f"X{i}" for i in range(n)], rng.choice(["S01", "S02", "S03"], n),
                          rng.choice(list(C.ABC_CELLS), n), rng.choice(["P1", "P2", "P3", "Exclude"], n),
                          rng.choice(["Ann", "Bob", "Cy", "Dee", "Eve"], n))))
    pb = [["All", "All", "All", "Newsletter", "Marketing", 0, 1, 2],
          ["P1", "All", "A*", "Review", "Sales", 0, 1, None]]
    plan, weeks, nxt, _ = plan_of(pb, tg=tg)
    live = tg[tg["Final priority"] != "Exclude"]
    news = plan[plan["Action"] == "Newsletter"].set_index("Segment ID")["Accounts"]
    assert news.to_dict() == live.groupby("Segment ID").size().to_dict()
    review = plan[plan["Action"] == "Review"].set_index("Segment ID")["Accounts"]
    p1a = live[(live["Final priority"] == "P1") & live["ABC cell"].str.startswith("A")]
    assert review.to_dict() == p1a.groupby("Segment ID").size().to_dict()
    assert (nxt[tg["Account ID"][tg["Final priority"] == "Exclude"]] == "").all()
    assert plan["Sales owner"].str.count("; ").max() == 2  # at most three owners


@pytest.mark.parametrize("bad", [0, -1])
def test_bad_horizon(bad):
    with pytest.raises(ValueError, match="plan_weeks"):
        plan_of([], weeks=bad)
