"""Every bad-input rule of the contract gives a message naming sheet, row, column and what is expected."""
import datetime as dt

import numpy as np
import pandas as pd
import pytest

from maillon.engine import contract as C
from maillon.engine.errors import InputError
from maillon.engine.samples import settings_frame, small_input
from maillon.engine.validate import parse_settings, validate


def problems_of(inp):
    with pytest.raises(InputError) as err:
        validate(inp)
    return err.value.problems, str(err.value)


def test_valid_input_passes_and_is_typed():
    v = validate(small_input())
    assert list(v.accounts.columns[:11]) == C.ACCOUNT_COLUMNS
    assert v.accounts["Revenue 12m"].dtype == float
    assert str(v.accounts["Last contact"].dtype).startswith("datetime64")
    # the row numbers a user sees are kept
    assert v.accounts.index[0] == 5


def test_missing_table_is_named():
    inp = small_input()
    inp.accounts = None
    problems, text = problems_of(inp)
    assert "Accounts" in text and "tblAccounts" in text and "missing" in text


def test_missing_header_is_named():
    inp = small_input()
    inp.accounts = inp.accounts.drop(columns=["Status"])
    _, text = problems_of(inp)
    assert "column 'Status'" in text and "tblAccounts" in text


def test_missing_need_column_for_an_expectation():
    inp = small_input()
    inp.accounts = inp.accounts.drop(columns=["Need: Price"])
    _, text = problems_of(inp)
    assert "Need: Price" in text


def test_duplicate_and_blank_account_id():
    inp = small_input()
    inp.accounts.loc[7, "Account ID"] = "A0000"
    inp.accounts.loc[9, "Account ID"] = "  "
    problems, text = problems_of(inp)
    dup = [p for p in problems if p.row == 7][0]
    assert dup.sheet == "Accounts" and dup.column == "Account ID" and dup.value == "A0000"
    assert "already on row 5" in str(dup)
    blank = [p for p in problems if p.row == 9][0]
    assert blank.column == "Account ID" and "required" in blank.expected


def test_status_out_of_range():
    inp = small_input()
    inp.accounts.loc[6, "Status"] = "Lead"
    problems, text = problems_of(inp)
    assert "Accounts, row 6, column 'Status'" in text
    assert "'Lead'" in text and "Customer, Prospect" in text


def test_status_case_is_forgiven():
    inp = small_input()
    inp.accounts.loc[6, "Status"] = "customer "
    assert validate(inp).accounts.loc[6, "Status"] == "Customer"


@pytest.mark.parametrize("value", [0, 6, 2.5 + 3])
def test_need_score_out_of_range(value):
    inp = small_input()
    inp.accounts.loc[8, "Need: Delivery"] = value
    problems, text = problems_of(inp)
    p = problems[0]
    assert (p.sheet, p.row, p.column) == ("Accounts", 8, "Need: Delivery")
    assert "1 to 5" in p.expected


def test_text_where_a_number_belongs():
    inp = small_input()
    inp.accounts["Revenue 12m"] = inp.accounts["Revenue 12m"].astype(object)
    inp.accounts.loc[10, "Revenue 12m"] = "about 10k"
    problems, text = problems_of(inp)
    p = problems[0]
    assert (p.row, p.column, p.value) == (10, "Revenue 12m", "about 10k")
    assert "number" in p.expected


def test_number_written_as_text_is_accepted():
    inp = small_input()
    inp.accounts["Employees"] = inp.accounts["Employees"].astype(object)
    inp.accounts.loc[10, "Employees"] = " 120 "
    assert validate(inp).accounts.loc[10, "Employees"] == 120


def test_negative_revenue_and_fractional_employees():
    inp = small_input()
    inp.accounts.loc[11, "Revenue 12m"] = -5
    inp.accounts.loc[12, "Employees"] = 10.5
    problems, _ = problems_of(inp)
    assert {(p.row, p.column) for p in problems} == {(11, "Revenue 12m"), (12, "Employees")}


def test_bad_date():
    inp = small_input()
    inp.accounts["Last contact"] = inp.accounts["Last contact"].astype(object)
    inp.accounts.loc[13, "Last contact"] = "last week"
    problems, _ = problems_of(inp)
    assert (problems[0].row, problems[0].column, problems[0].expected) == (13, "Last contact", "a date")


def test_feedback_rules():
    inp = small_input()
    inp.feedback.loc[5, "Account ID"] = "NOPE"
    inp.feedback.loc[6, "Relationship"] = 9
    inp.feedback.loc[7, "Buying intent"] = "Maybe"
    inp.feedback.loc[8, "Main need"] = "Colour"
    problems, text = problems_of(inp)
    got = {(p.sheet, p.row, p.column) for p in problems}
    assert got == {("Field Feedback", 5, "Account ID"), ("Field Feedback", 6, "Relationship"),
                   ("Field Feedback", 7, "Buying intent"), ("Field Feedback", 8, "Main need")}
    assert "Price, Delivery, Service, Innovation" in text


def test_expectation_rules():
    inp = small_input()
    inp.expectations.loc[6, "Market importance"] = 7
    inp.expectations.loc[7, "Expectation"] = "price"
    problems, _ = problems_of(inp)
    got = {(p.sheet, p.row, p.column) for p in problems}
    assert ("Expectations", 6, "Market importance") in got
    assert ("Expectations", 7, "Expectation") in got


def test_playbook_rules():
    inp = small_input()
    inp.playbook.loc[5, "ABC cell"] = "XYZ"
    inp.playbook.loc[6, "Function"] = "Finance"
    inp.playbook.loc[7, "Duration weeks"] = 0
    inp.playbook.loc[8, "Priority"] = "P9"
    problems, _ = problems_of(inp)
    got = {(p.sheet, p.row, p.column) for p in problems}
    assert got == {("Playbook", 5, "ABC cell"), ("Playbook", 6, "Function"),
                   ("Playbook", 7, "Duration weeks"), ("Playbook", 8, "Priority")}


def test_settings_rules():
    frame = settings_frame(Segments=15, P1_share=1.5, Plan_start="someday")
    _, problems = parse_settings(frame, dt.date(2026, 11, 26))
    got = {(p.row, p.column) for p in problems}
    assert len(got) == 3 and all(c == "Value" for _, c in got)
    text = " ".join(str(p) for p in problems)
    assert "auto or a whole number from 2 to 12" in text and "Settings, row" in text


def test_settings_accept_percent_text_and_dates():
    s, problems = parse_settings(settings_frame(P1_share="15%", Plan_start=dt.date(2027, 1, 4),
                                                Segments="Auto"), dt.date(2026, 11, 26))
    assert problems == [] and s.p1_share == 0.15 and s.plan_start == dt.date(2027, 1, 4)
    assert s.segments is None


def test_next_monday_default():
    s, _ = parse_settings(settings_frame(), dt.date(2026, 11, 26))  # a Thursday
    assert s.plan_start == dt.date(2026, 11, 30)


def test_bad_override_in_previous_target_list():
    inp = small_input()
    inp.previous.targets = pd.DataFrame({"Account ID": ["A0001"], "Segment ID": ["S01"],
                                         "Priority override": ["urgent"]}, index=[6])
    problems, text = problems_of(inp)
    assert "Target List, row 6, column 'Priority override'" in text
    assert "P1, P2, P3, Exclude" in text


def test_all_problems_at_once_and_capped_per_column():
    inp = small_input(n_accounts=30)
    inp.accounts["Status"] = "Lead"
    inp.accounts.loc[5, "Account name"] = None
    problems, text = problems_of(inp)
    assert any(p.column == "Account name" for p in problems)
    assert "25 more row(s) in column 'Status'" in text
    assert text.splitlines()[0].endswith("nothing was changed.")


def test_blank_rows_inside_a_table_are_ignored():
    inp = small_input()
    blank = pd.DataFrame([[None] * inp.accounts.shape[1]], columns=inp.accounts.columns, index=[99])
    inp.accounts = pd.concat([inp.accounts, blank])
    assert 99 not in validate(inp).accounts.index


def test_latest_feedback_counts():
    inp = small_input()
    extra = inp.feedback.iloc[[0]].copy()
    extra.index = [50]
    extra["Date"] = pd.Timestamp("2026-11-20")
    extra["Buying intent"] = "High"
    inp.feedback = pd.concat([inp.feedback, extra])
    latest = validate(inp).latest_feedback
    assert latest.loc["A0000", "Buying intent"] == "High"


@pytest.mark.parametrize("texts", [
    ["ACC-1", "ACC-2", "Acme & Co", "d\u00e9j\u00e0 vu"],          # nothing to strip: kept as is
    ["ACC-1", " ACC-2", "ACC-3\t", "\u00a0ACC-4", "ACC-5\u2003"],  # edges of every kind of space
    ["ACC-1", "", "   ", "\n"],                                  # empty and blank texts
    ["a b", "c\u00a0d", "e\tf"],                                 # inner spaces stay
])
def test_text_cells_are_stripped_exactly_like_str_strip(texts):
    from maillon.engine.validate import _to_text
    series = pd.Series(texts * 50 + [np.nan], dtype=object)
    expected = [(t.strip() or None) for t in texts] * 50 + [None]
    assert _to_text(series).tolist() == expected


def test_an_action_longer_than_ten_years_is_refused():
    inp = small_input()
    row = inp.playbook.index[2]
    inp.playbook.loc[row, "Duration weeks"] = 1e9  # would put the End past year 9999
    problems, text = problems_of(inp)
    assert [(p.sheet, p.row, p.column) for p in problems] == [("Playbook", row, "Duration weeks")]
    assert "520" in text


def test_a_long_action_near_excels_last_day_ends_on_it():
    from maillon.engine.pipeline import recompute

    inp = small_input()
    inp.settings.loc[inp.settings["Setting"] == "Plan start", "Value"] = dt.date(9999, 1, 4)
    inp.settings.loc[inp.settings["Setting"] == "Plan weeks", "Value"] = 4
    inp.playbook["Duration weeks"] = 520
    plan = recompute(inp).plan
    assert len(plan) and plan["End"].max() == dt.date(9999, 12, 31)
