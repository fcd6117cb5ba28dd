"""File mode and live mode give the engine the same input from the same cells.

The same grid -- blanks, text of only spaces, an all-blank row in the middle
and at the end, dates, whole numbers, identifiers that look like numbers -- is
written to a real .xlsx and read back by the file mode's reader
(python-calamine), and handed to the live mode's reader as xlwings returns
the values of a table's range (``None`` for an empty cell, ``float`` for
numbers, ``datetime`` for dates). Both must build the same engine input.
"""
from __future__ import annotations

import datetime as dt

import pandas as pd
import xlsxwriter

from maillon.addin.engine_input import build_engine_input
from maillon.addin.filemode.read import read_tables
from maillon.addin.live.read import frame_from_values
from maillon.engine import contract as C

HEADERS = list(C.FEEDBACK_COLUMNS)
RUN_AT = dt.datetime(2026, 11, 30, 9, 0)
# one row per case; None is an empty cell
GRID = [
    ["A001", dt.datetime(2026, 10, 5), "Claire", "Delivery", 4.0, "High", "Dupont", "Good talk"],
    ["00123", dt.datetime(2026, 10, 6), "   ", None, 3.0, "Low", None, None],
    [None, None, None, None, None, None, None, None],
    ["A003", None, "Hugo", "Price", 2.5, "Medium", "  ", "=not a formula"],
    ["A004", dt.datetime(2026, 11, 2, 14, 30), "Hugo", "Price", 5.0, None, None, "x"],
    [None, None, None, None, None, None, None, None],
]
FIRST_ROW = 4  # the header's Excel row (1-based)


def _write(path):
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet(C.SHEET_FEEDBACK)
    dates = wb.add_format({"num_format": "yyyy-mm-dd"})
    for r, row in enumerate(GRID, start=FIRST_ROW):  # 0-based row FIRST_ROW is Excel row +1
        for c, v in enumerate(row):
            if v is None:
                continue
            if isinstance(v, dt.datetime):
                ws.write_datetime(r, c, v, dates)
            elif isinstance(v, float):
                ws.write_number(r, c, v)
            else:
                ws.write_string(r, c, v)
    ws.add_table(FIRST_ROW - 1, 0, FIRST_ROW - 1 + len(GRID), len(HEADERS) - 1,
                 {"name": C.TBL_FEEDBACK, "columns": [{"header": h} for h in HEADERS]})
    wb.close()
    return path


def test_both_readers_give_the_engine_the_same_input(tmp_path):
    file_frame = read_tables(_write(tmp_path / "grid.xlsx"), [C.TBL_FEEDBACK])[C.TBL_FEEDBACK].data
    live_frame = frame_from_values([HEADERS] + [list(r) for r in GRID], FIRST_ROW)

    from_file = build_engine_input({C.TBL_FEEDBACK: file_frame}, run_at=RUN_AT, run_by="t")
    from_live = build_engine_input({C.TBL_FEEDBACK: live_frame}, run_at=RUN_AT, run_by="t")
    pd.testing.assert_frame_equal(from_file.feedback, from_live.feedback)

    # what both agree on is what a user typed: the all-blank rows are gone, the
    # rows keep their Excel numbers, text stays text
    fb = from_live.feedback
    assert fb.index.tolist() == [5, 6, 8, 9]
    assert fb.loc[6, "Account ID"] == "00123"
    assert fb.loc[8, "Note"] == "=not a formula"
    assert fb.loc[9, "Date"] == dt.datetime(2026, 11, 2, 14, 30)
    assert fb.loc[5, "Relationship"] == 4.0
