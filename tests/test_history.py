"""History: digests of computed cells, overwritten and orphaned edits, run rows."""
import datetime as dt

import pandas as pd

from maillon.engine import contract as C
from maillon.engine.history import (change_counts, history_tables, overwritten_edits,
                                    row_checks)


def frame():
    return pd.DataFrame({"Account ID": ["A1", "A2"], "Score": [73.4, 12.0],
                         "Why": ["High potential", "Low fit"],
                         "Start": [dt.date(2026, 12, 7), dt.date(2026, 12, 14)]})


def test_row_check_survives_a_write_and_read_back():
    written = frame()
    # what a reader typically gives back: floats, datetimes, object columns
    read = pd.DataFrame({"Account ID": ["A1", "A2"], "Score": [73.4, 12],
                         "Why": ["High potential", "Low fit"],
                         "Start": [dt.datetime(2026, 12, 7), pd.Timestamp("2026-12-14")]},
                        dtype=object)
    cols = ["Account ID", "Score", "Why", "Start"]
    assert row_checks(written, cols).tolist() == row_checks(read, cols).tolist()


def test_value_typed_into_computed_column_is_reported():
    cols = ["Account ID", "Score", "Why"]
    current = frame()
    previous = current.copy()
    previous[C.CHECK_COLUMN] = row_checks(previous, cols)
    assert overwritten_edits(previous, current, "Account ID", cols, "Target List") == []
    previous.loc[1, "Score"] = 99.0  # a manager typed over a computed score
    edits = overwritten_edits(previous, current, "Account ID", cols, "Target List")
    assert edits == [{"Sheet": "Target List", "Key": "A2", "Column": "Score", "Value": "99.0",
                      "Kind": "Overwritten",
                      "Note": "typed into a computed column; the recompute wrote the computed "
                              "value back"}]


def test_rows_without_check_are_not_reported():
    cols = ["Account ID", "Score"]
    previous = frame().assign(**{C.CHECK_COLUMN: [None, ""]})
    assert overwritten_edits(previous, frame(), "Account ID", cols, "Target List") == []


def test_history_appends_one_row_per_run_and_keeps_edits():
    run1 = dt.datetime(2026, 11, 26, 9)
    row = dict.fromkeys(C.HISTORY_COLUMNS, 1)
    hist, edits = history_tables(None, None, row, [], run1)
    assert len(hist) == 1 and len(edits) == 0 and list(hist.columns) == C.HISTORY_COLUMNS
    orphan = {"Sheet": "Target List", "Key": "A9", "Column": "Priority override",
              "Value": "P1", "Kind": "Orphan", "Note": "account gone"}
    hist2, edits2 = history_tables(hist, edits, row, [orphan], run1 + dt.timedelta(days=1))
    assert len(hist2) == 2 and len(edits2) == 1
    assert edits2.loc[0, "Key"] == "A9" and list(edits2.columns) == C.EDIT_COLUMNS
    hist3, edits3 = history_tables(hist2, edits2, row, [], run1 + dt.timedelta(days=2))
    assert len(hist3) == 3 and len(edits3) == 1


def test_change_counts():
    prev = pd.DataFrame({"Account ID": ["A1", "A2", "A3"], "Segment ID": ["S01", "S02", "S01"],
                         "Final priority": ["P1", "P2", "P3"]})
    cur = pd.DataFrame({"Account ID": ["A1", "A2", "A4"], "Segment ID": ["S01", "S01", "S02"],
                        "Final priority": ["P2", "P2", "P1"]})
    assert change_counts(prev, cur) == (1, 1)
    assert change_counts(None, cur) == (0, 0)
    # an ID typed twice in the old list: its first row is the one compared
    twice = pd.concat([prev, pd.DataFrame({"Account ID": ["A2"], "Segment ID": ["S09"],
                                           "Final priority": ["P3"]})], ignore_index=True)
    assert change_counts(twice, cur) == (1, 1)
    assert change_counts(prev.iloc[[2]], cur) == (0, 0)  # nothing in common
