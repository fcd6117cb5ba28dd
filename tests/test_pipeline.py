"""The whole engine: one recompute, then the next one fed with what the first left."""
import datetime as dt

import numpy as np
import pandas as pd
import pytest

from maillon.engine import contract as C
from maillon.engine.model import PreviousState
from maillon.engine.pipeline import recompute
from maillon.engine.samples import small_input


def carry(result, inp, run_at):
    """The next run's input: same user tables, the previous result as it was left."""
    inp.previous = PreviousState(segments=result.segments.copy(), targets=result.targets.copy(),
                                 plan=result.plan.copy(), history=result.history.copy(),
                                 edits=result.edits.copy())
    inp.run_at = run_at
    return inp


RUN1 = dt.datetime(2026, 11, 26, 9, 0)
RUN2 = dt.datetime(2026, 11, 27, 9, 0)


def test_every_engine_table_has_the_contract_headers():
    r = recompute(small_input(n_accounts=80))
    assert list(r.segments.columns) == C.SEGMENT_COLUMNS + [C.CHECK_COLUMN]
    assert list(r.targets.columns) == C.TARGET_COLUMNS + [C.CHECK_COLUMN]
    assert list(r.plan.columns[:len(C.PLAN_FIXED_COLUMNS)]) == C.PLAN_FIXED_COLUMNS
    assert list(r.abc.columns) == C.ABC_COLUMNS and list(r.abc["ABC cell"]) == list(C.ABC_CELLS)
    assert list(r.conflicts.columns) == C.CONFLICT_COLUMNS
    assert list(r.history.columns) == C.HISTORY_COLUMNS
    assert list(r.edits.columns) == C.EDIT_COLUMNS
    assert len(r.targets) == 80 and r.targets["Rank"].tolist() == list(range(1, 81))
    assert len(r.plan_weeks) == r.settings.plan_weeks
    assert r.targets["Next action"].str.len().gt(0).any()


def test_identical_rerun_changes_nothing():
    inp = small_input(n_accounts=120)
    r1 = recompute(inp)
    r2 = recompute(carry(r1, inp, RUN2))
    pd.testing.assert_frame_equal(r1.segments, r2.segments)
    pd.testing.assert_frame_equal(r1.targets, r2.targets)
    pd.testing.assert_frame_equal(r1.plan, r2.plan)
    pd.testing.assert_frame_equal(r1.conflicts, r2.conflicts)
    assert len(r2.history) == 2 and len(r2.edits) == 0
    last = r2.history.iloc[-1]
    assert (last["Moved segment"], last["Changed priority"], last["Overrides"]) == (0, 0, 0)
    assert last["Settings digest"] == r1.history.iloc[0]["Settings digest"]


def test_user_edits_survive_a_recompute():
    inp = small_input(n_accounts=120)
    r1 = recompute(inp)
    seg = r1.segments.copy()
    seg.loc[0, "Segment name"] = "Our price hunters"
    seg.loc[0, "Marketing owner"] = "Claire Roux"
    targets = r1.targets.copy()
    last = targets.index[-1]
    account = targets.loc[last, "Account ID"]
    targets.loc[last, "Priority override"] = "P1"
    targets.loc[last, "Override reason"] = "CEO met them at the trade show"
    plan = r1.plan.copy()
    plan.loc[0, "Status"] = "In progress"
    action = plan.loc[0, "Action ID"]
    inp = carry(r1, inp, RUN2)
    inp.previous.segments, inp.previous.targets, inp.previous.plan = seg, targets, plan
    r2 = recompute(inp)

    s = r2.segments.set_index("Segment ID")
    sid = seg.loc[0, "Segment ID"]
    assert s.loc[sid, "Segment name"] == "Our price hunters"
    assert s.loc[sid, "Marketing owner"] == "Claire Roux"
    t = r2.targets.set_index("Account ID")
    assert t.loc[account, "Priority override"] == "P1"
    assert t.loc[account, "Override reason"] == "CEO met them at the trade show"
    assert t.loc[account, "Final priority"] == "P1"
    assert t.loc[account, "Segment name"] == "Our price hunters" or t.loc[account, "Segment ID"] != sid
    # P1 first in Rank order: the overridden account now ranks among the P1s
    assert t.loc[account, "Rank"] <= (r2.targets["Final priority"] == "P1").sum()
    assert r2.plan.set_index("Action ID").loc[action, "Status"] == "In progress"
    assert r2.history.iloc[-1]["Overrides"] == 1
    assert r2.history.iloc[-1]["Changed priority"] == 1
    assert len(r2.edits) == 0


def test_edit_whose_key_vanished_is_logged_not_dropped():
    inp = small_input(n_accounts=60)
    r1 = recompute(inp)
    targets = r1.targets.copy()
    gone = targets.loc[5, "Account ID"]
    targets.loc[5, "Priority override"] = "Exclude"
    inp = carry(r1, inp, RUN2)
    inp.previous.targets = targets
    inp.accounts = inp.accounts[inp.accounts["Account ID"] != gone]
    inp.feedback = inp.feedback[inp.feedback["Account ID"] != gone]
    r2 = recompute(inp)
    orphans = r2.edits[r2.edits["Kind"] == "Orphan"]
    assert gone in orphans["Key"].tolist()
    row = orphans[orphans["Key"] == gone].iloc[0]
    assert (row["Sheet"], row["Column"], row["Value"]) == ("Target List", "Priority override",
                                                           "Exclude")
    assert row["Run at"] == RUN2


def test_value_typed_into_a_computed_column_is_reported_as_overwritten():
    inp = small_input(n_accounts=60)
    r1 = recompute(inp)
    targets = r1.targets.copy()
    account = targets.loc[3, "Account ID"]
    targets["Score"] = targets["Score"].astype(object)
    targets.loc[3, "Score"] = 100
    inp = carry(r1, inp, RUN2)
    inp.previous.targets = targets
    r2 = recompute(inp)
    over = r2.edits[r2.edits["Kind"] == "Overwritten"]
    assert over[["Sheet", "Key", "Column"]].values.tolist() == [["Target List", account, "Score"]]
    # the computed value is written back
    assert r2.targets.set_index("Account ID").loc[account, "Score"] == \
        r1.targets.set_index("Account ID").loc[account, "Score"]


def test_marketing_weight_zero_needs_move_no_score():
    inp = small_input(n_accounts=90, Marketing_weight=0)
    r1 = recompute(inp)
    need_cols = [c for c in inp.accounts.columns if c.startswith(C.NEED_PREFIX)]
    rng = np.random.default_rng(3)
    inp.accounts[need_cols] = rng.integers(1, 6, size=(len(inp.accounts), len(need_cols)))
    r2 = recompute(inp)
    s1 = r1.targets.set_index("Account ID")["Score"].sort_index()
    s2 = r2.targets.set_index("Account ID")["Score"].sort_index()
    pd.testing.assert_series_equal(s1, s2)


def test_raising_potential_never_lowers_the_score():
    inp = small_input(n_accounts=90)
    base = recompute(inp).targets.set_index("Account ID")["Score"]
    for row in inp.accounts.index[::9]:
        bumped = small_input(n_accounts=90)
        bumped.accounts.loc[row, "Potential"] = bumped.accounts.loc[row, "Potential"] * 3 + 1000
        account = bumped.accounts.loc[row, "Account ID"]
        after = recompute(bumped).targets.set_index("Account ID")["Score"]
        assert after[account] >= base[account]


def test_p1_p2_counts_exact():
    r = recompute(small_input(n_accounts=45, P1_share=0.1, P2_share=0.3))
    counts = r.targets["Computed priority"].value_counts()
    assert counts["P1"] == 5 and counts["P2"] == 14 and counts["P3"] == 26  # 4.5 -> 5, 13.5 -> 14


def test_bad_input_raises_before_anything_is_computed():
    from maillon.engine.errors import InputError

    inp = small_input()
    inp.accounts.loc[5, "Status"] = "Partner"
    with pytest.raises(InputError, match="Accounts, row 5, column 'Status'"):
        recompute(inp)


def test_an_empty_portfolio_gives_empty_tables():
    inp = small_input()
    inp.accounts = inp.accounts.iloc[:0]
    inp.feedback = inp.feedback.iloc[:0]
    r = recompute(inp)
    assert len(r.targets) == 0 and len(r.segments) == 0 and len(r.abc) == 12
    assert r.key_figures["Accounts"] == 0


def test_a_plan_written_a_week_ago_is_not_taken_for_values_typed_over():
    """With the plan start on auto (next Monday), a recompute a week later plans other
    weeks: each row of the plan read back is checked against the weeks it was written
    with, not against this run's (every row used to come back as Overwritten)."""
    from maillon.engine.plan import is_week_header

    inp = small_input(n_accounts=120, run_at=dt.datetime(2026, 11, 23, 9, 0))
    r1 = recompute(inp)
    assert len(r1.plan) > 3
    inp = carry(r1, inp, dt.datetime(2026, 11, 30, 9, 0))
    r2 = recompute(inp)
    weeks = [[c for c in r.plan.columns if is_week_header(c)] for r in (r1, r2)]
    assert weeks[0][0] != weeks[1][0]  # the plan moved on a week
    assert "Overwritten" not in set(r2.edits["Kind"])
    # a value typed over a computed cell of the plan is still reported, on its row only
    plan = r1.plan.copy()
    key = plan["Action ID"].iloc[1]
    plan["Accounts"] = plan["Accounts"].astype(object)
    plan.loc[plan.index[1], "Accounts"] = 999
    inp.previous.plan = plan
    r3 = recompute(inp)
    over = r3.edits[r3.edits["Kind"] == "Overwritten"]
    assert set(over["Key"]) == {key} and set(over["Sheet"]) == {C.SHEET_PLAN}
    assert over.loc[over["Column"] == "Accounts", "Value"].tolist() == ["999.0"]
