"""The three-way merge on frames (maillon.engine.merge) and equality by meaning."""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from maillon.engine.meaning import canonical, same
from maillon.engine.merge import MERGE_TABLES, ROW, merge_table

ACC = MERGE_TABLES["tblAccounts"]


def accounts(rows, first_row=5):
    df = pd.DataFrame(rows, columns=["Account ID", "Account name", "Status", "City", "Employees",
                                     "Last contact"])
    df.index = pd.RangeIndex(first_row, first_row + len(df))
    return df


BASE_ROWS = [
    ["A1", "Alpha", "Customer", "Lyon", 10.0, dt.datetime(2026, 3, 2)],
    ["A2", "Beta", "Prospect", "Metz", 20.0, np.nan],
    ["A3", "Gamma", "Customer", "Nice", 30.0, dt.datetime(2026, 1, 5)],
]


def base():
    return accounts(BASE_ROWS, first_row=0)


def kinds(out):
    return sorted((e.kind, e.key, e.column) for e in out.entries)


def test_sorted_copy_and_round_trip_spellings_change_nothing():
    team = accounts(BASE_ROWS)
    # sorted, numbers as text, trailing spaces, lower-case status, date as a serial,
    # an Account ID that another program left as-is
    copy = accounts([
        ["A3", "Gamma ", "customer", "Nice", "30", 46027.0],
        ["A2", "Beta", "PROSPECT", " Metz", 20, ""],
        ["A1", "Alpha", "Customer", "Lyon\u00a0", "10.0", "2026-03-02"],
    ])
    out = merge_table(ACC, base(), [team, copy])
    assert out.cells == {} and out.entries == [] and out.new_rows == []


def test_account_id_turned_into_a_number_is_the_same_account():
    b = accounts([["1001", "Alpha", "Customer", "Lyon", 10.0, np.nan]], first_row=0)
    team = accounts([["1001", "Alpha", "Customer", "Lyon", 10.0, np.nan]])
    copy = accounts([[1001.0, "Alpha", "Customer", "Lyon", 12.0, np.nan]])
    out = merge_table(ACC, b, [team, copy])
    assert out.cells == {(5, "Employees"): 12.0}
    assert out.new_rows == []


def test_one_sided_changes_land_on_the_team_rows_by_key():
    team = accounts(BASE_ROWS)
    team.loc[6, "City"] = "Strasbourg"  # the manager's own edit stays
    c1 = accounts(list(reversed(BASE_ROWS)))  # sorted the other way
    c1.loc[5, "Employees"] = 35.0  # A3 (row 5 of the copy)
    c2 = accounts(BASE_ROWS)
    c2.loc[5, "City"] = "Villeurbanne"  # A1
    out = merge_table(ACC, base(), [team, c1, c2])
    assert out.cells == {(7, "Employees"): 35.0, (5, "City"): "Villeurbanne"}
    assert kinds(out) == [("Changed", "A1", "City"), ("Changed", "A3", "Employees")]
    e = next(e for e in out.entries if e.key == "A3")
    assert e.base == 30.0 and e.values == (30.0, 35.0, 30.0) and e.changed == (False, True, False)


def test_same_new_value_on_two_sides_is_one_change():
    team = accounts(BASE_ROWS)
    c1, c2 = accounts(BASE_ROWS), accounts(BASE_ROWS)
    c1.loc[6, "City"] = "Nancy"
    c2.loc[6, "City"] = "nancy "  # 'any' keeps case: a different value
    out = merge_table(ACC, base(), [team, c1, c2])
    assert [e.kind for e in out.entries] == ["Conflict"]
    c2.loc[6, "City"] = "Nancy "
    out = merge_table(ACC, base(), [team, c1, c2])
    assert out.cells == {(6, "City"): "Nancy"}
    assert [(e.kind, e.changed) for e in out.entries] == [("Changed", (False, True, True))]


def test_conflict_keeps_the_base_value_and_lists_every_value():
    team = accounts(BASE_ROWS)
    team.loc[5, "Employees"] = 11.0
    c1, c2 = accounts(BASE_ROWS), accounts(BASE_ROWS)
    c1.loc[5, "Employees"] = 12.0
    c2.loc[5, "Employees"] = 11.0
    out = merge_table(ACC, base(), [team, c1, c2])
    assert out.cells == {(5, "Employees"): 10.0}  # the manager's 11 goes back to base...
    (e,) = out.entries  # ...and is listed, with everyone's value, once
    assert (e.kind, e.key, e.column, e.base, e.values, e.kept) == \
        ("Conflict", "A1", "Employees", 10.0, (11.0, 12.0, 11.0), 10.0)


def test_a_missing_row_is_listed_not_deleted_and_delete_vs_edit_is_a_conflict():
    team = accounts(BASE_ROWS)
    c1 = accounts(BASE_ROWS[:2])  # A3 removed
    out = merge_table(ACC, base(), [team, c1])
    assert out.cells == {} and out.new_rows == []
    assert kinds(out) == [("Missing", "A3", ROW)]
    c2 = accounts(BASE_ROWS)
    c2.loc[7, "City"] = "Cannes"  # A3 edited elsewhere
    out = merge_table(ACC, base(), [team, c1, c2])
    assert out.cells == {(7, "City"): "Cannes"}  # the edit is kept
    assert kinds(out) == [("Changed", "A3", "City"), ("Deleted vs edited", "A3", ROW)]


def test_row_the_manager_deleted_comes_back_when_a_copy_edited_it():
    team = accounts(BASE_ROWS[:2])
    c1 = accounts(BASE_ROWS)
    c1.loc[7, "City"] = "Cannes"
    out = merge_table(ACC, base(), [team, c1])
    assert len(out.new_rows) == 1 and out.new_rows[0]["Account ID"] == "A3"
    assert out.new_rows[0]["City"] == "Cannes" and out.new_rows[0]["Account name"] == "Gamma"
    assert ("Deleted vs edited", "A3", ROW) in kinds(out)
    # deleted by the manager, untouched elsewhere: stays deleted, nothing to report
    out = merge_table(ACC, base(), [team, accounts(BASE_ROWS)])
    assert out.new_rows == [] and out.entries == []


def test_additions_from_several_copies_all_arrive_identical_ones_once():
    team = accounts(BASE_ROWS)
    new = ["P9", "Dupont SAS", "Prospect", "Lyon", 5.0, np.nan]
    c1 = accounts(BASE_ROWS + [new, ["P8", "Martin", "Prospect", "Pau", np.nan, np.nan]])
    c2 = accounts([new[:4] + ["5", ""]] + BASE_ROWS)
    out = merge_table(ACC, base(), [team, c1, c2])
    ids = [r["Account ID"] for r in out.new_rows]
    assert ids == ["P9", "P8"]
    assert [e.kind for e in out.entries] == ["Added", "Added"]


def test_same_new_account_with_different_data_is_a_conflict():
    team = accounts(BASE_ROWS)
    c1 = accounts(BASE_ROWS + [["P9", "Dupont SAS", "Prospect", "Lyon", 5.0, np.nan]])
    c2 = accounts(BASE_ROWS + [["P9", "Dupont SAS", "Prospect", "Lille", 5.0, np.nan]])
    out = merge_table(ACC, base(), [team, c1, c2])
    assert [r["City"] for r in out.new_rows] == ["Lyon"]  # the first copy's, until decided
    assert kinds(out) == [("Added", "P9", ROW), ("Conflict", "P9", "City")]
    e = [e for e in out.entries if e.kind == "Conflict"][0]
    assert e.values == (None, "Lyon", "Lille")


def test_a_column_added_in_a_copy_arrives():
    team = accounts(BASE_ROWS)
    c1 = accounts(BASE_ROWS).assign(**{"Annual revenue": [1e6, np.nan, np.nan]})
    out = merge_table(ACC, base(), [team, c1])
    assert out.new_columns == ["Annual revenue"]
    assert out.cells == {(5, "Annual revenue"): 1e6}


def feedback(rows, first_row=5):
    df = pd.DataFrame(rows, columns=["Account ID", "Date", "Sales rep", "Main need",
                                     "Relationship", "Buying intent", "Competitor", "Note"])
    df.index = pd.RangeIndex(first_row, first_row + len(df))
    return df


def test_feedback_rows_by_content_identical_new_rows_arrive_once():
    fb = MERGE_TABLES["tblFeedback"]
    old = ["A1", dt.datetime(2026, 2, 1), "Claire", "Price", 3.0, "Low", np.nan, "call"]
    new = ["A2", dt.datetime(2026, 11, 30), "Hugo", "Service", 4.0, "High", np.nan, "met"]
    b = feedback([old], first_row=0)
    team = feedback([old])
    c1 = feedback([new, old])
    c2 = feedback([old, ["A2", 46356.0, "Hugo ", "Service", "4", "high", "", "met"]])
    out = merge_table(fb, b, [team, c1, c2])
    assert len(out.new_rows) == 1 and out.new_rows[0]["Sales rep"] == "Hugo"
    assert [e.kind for e in out.entries] == ["Added"]
    c3 = feedback([new])  # the old meeting is gone from this copy: listed, kept
    out = merge_table(fb, b, [team, c3])
    assert [e.kind for e in out.entries] == ["Missing", "Added"]


def test_engine_tables_merge_only_editable_and_user_columns():
    tg = MERGE_TABLES["tblTargets"]
    cols = ["Rank", "Account ID", "Score", "Priority override", "Override reason", "My note"]
    b = pd.DataFrame([[1, "A1", 90.0, np.nan, np.nan, np.nan],
                      [2, "A2", 80.0, np.nan, np.nan, np.nan]], columns=cols)
    team = b.set_axis([5, 6])
    copy = pd.DataFrame([[1, "A2", 99.0, "p1", "met the CEO", "call back"],
                         [2, "A1", 90.0, np.nan, np.nan, np.nan]], columns=cols, index=[5, 6])
    out = merge_table(tg, b, [team, copy])
    assert out.cells == {(6, "Priority override"): "p1", (6, "Override reason"): "met the CEO",
                         (6, "My note"): "call back"}
    assert out.new_rows == []


@pytest.mark.parametrize("a, b, kind", [
    ("P1", "p1 ", "code"), (120.0, "120", "number"), ("80%", 0.8, "any"),
    (dt.datetime(2026, 3, 2), 46083, "date"), ("02/03/2026", "2026-03-02", "date"),
    (1001.0, "1001", "id"), ("a\r\nb", "a\nb", "any"), (None, "  ", "any"),
])
def test_equal_by_meaning(a, b, kind):
    assert same(a, b, kind)


@pytest.mark.parametrize("a, b, kind", [
    ("Lyon", "lyon", "any"), ("A-1", "a-1", "id"), (1.0, 2.0, "number"), ("", 0, "number"),
    ("1,234", 1234.0, "number"),
])
def test_different_by_meaning(a, b, kind):
    assert not same(a, b, kind)
    assert canonical(a, kind) != canonical(b, kind)
