"""A column a user adds inside an engine table is kept by the table's key.

A manager's natural move: a ``My notes`` column added to ``tblTargets`` (or to
``tblSegments``), typed into on some rows. Every recompute keeps each note on
its account, wherever the account moves in the ranking; a note whose account
is gone moves to History's ``tblEdits``, never dropped. Through real files and
the command line.
"""
from __future__ import annotations

from copy import copy

import openpyxl
from openpyxl.worksheet.table import TableColumn
from openpyxl.utils import get_column_letter

from maillon.addin.cli import main
from maillon.addin.filemode.read import read_tables
from maillon.engine import contract as C

from workbooks import build_workbook


def _table(path, name):
    return read_tables(path, [name])[name].data


def add_column(path, sheet: str, table: str, header: str, key: str, values: dict) -> None:
    """Add ``header`` as the table's last column and type ``values`` (key -> text) into it,
    as Excel does when a user types beside a table (the table grows to take the column)."""
    wb = openpyxl.load_workbook(path)
    ws = wb[sheet]
    t = ws.tables[table]
    first, last = t.ref.split(":")
    min_col, min_row, max_col, max_row = openpyxl.utils.cell.range_boundaries(t.ref)
    col = max_col + 1
    ws.cell(min_row, col, header)
    headers = [ws.cell(min_row, c).value for c in range(min_col, max_col + 1)]
    key_col = min_col + headers.index(key)
    for r in range(min_row + 1, max_row + 1):
        k = ws.cell(r, key_col).value
        if k in values:
            ws.cell(r, col, values[k])
    t.ref = f"{first}:{get_column_letter(col)}{max_row}"
    t.tableColumns.append(TableColumn(id=len(t.tableColumns) + 1, name=header))
    t.autoFilter.ref = t.ref
    wb.save(path)


def test_a_users_column_in_the_target_list_follows_its_accounts(tmp_path):
    path = build_workbook(tmp_path / "team.xlsx", user_extras=False)
    assert main(["recompute", str(path), "-q"]) == 0
    targets = _table(path, C.TBL_TARGETS)
    first, last = targets.iloc[0]["Account ID"], targets.iloc[-1]["Account ID"]
    notes = {first: "Call back in March", last: "Met at the Lyon show"}
    add_column(path, C.SHEET_TARGETS, C.TBL_TARGETS, "My notes", "Account ID", notes)

    for _ in range(2):  # the first recompute and the next one both keep them
        assert main(["recompute", str(path), "-q"]) == 0
        t = _table(path, C.TBL_TARGETS)
        assert "My notes" in t.columns
        kept = t.set_index("Account ID")["My notes"].dropna()
        assert kept.to_dict() == notes
    # the contract's columns are still all there, in their order, Row check last
    assert list(t.columns[:len(C.TARGET_COLUMNS)]) == list(C.TARGET_COLUMNS)
    assert len(_table(path, C.TBL_EDITS)) == 0


def test_a_note_whose_account_is_gone_moves_to_history(tmp_path):
    path = build_workbook(tmp_path / "team.xlsx", user_extras=False)
    assert main(["recompute", str(path), "-q"]) == 0
    accounts = _table(path, C.TBL_ACCOUNTS)
    met = set(_table(path, C.TBL_FEEDBACK)["Account ID"])
    row_of_gone = accounts.loc[~accounts["Account ID"].isin(met)].index[-1]  # no meeting logged
    gone = accounts.loc[row_of_gone, "Account ID"]
    add_column(path, C.SHEET_TARGETS, C.TBL_TARGETS, "My notes", "Account ID",
               {gone: "Sold to a competitor"})
    # the account is deleted from the common list (its row cleared, as a user does)
    wb = openpyxl.load_workbook(path)
    ws = wb[C.SHEET_ACCOUNTS]
    for cell in ws[int(row_of_gone)]:
        cell.value = None
    wb.save(path)
    assert main(["recompute", str(path), "-q"]) == 0
    assert gone not in set(_table(path, C.TBL_TARGETS)["Account ID"])
    edits = _table(path, C.TBL_EDITS)
    row = edits.loc[edits["Column"] == "My notes"].iloc[0]
    assert (row["Kind"], row["Sheet"], row["Key"], row["Value"]) == \
        ("Orphan", C.SHEET_TARGETS, gone, "Sold to a competitor")


def test_a_users_column_in_segments_follows_its_segments(tmp_path):
    path = build_workbook(tmp_path / "team.xlsx", user_extras=False)
    assert main(["recompute", str(path), "-q"]) == 0
    add_column(path, C.SHEET_SEGMENTS, C.TBL_SEGMENTS, "Campaign", "Segment ID",
               {"S01": "Spring mailing"})
    assert main(["recompute", str(path), "-q"]) == 0
    s = _table(path, C.TBL_SEGMENTS).set_index("Segment ID")
    assert s.loc["S01", "Campaign"] == "Spring mailing"


def insert_column(path, sheet: str, table: str, before: str, header: str, key: str,
                  values: dict) -> None:
    """Insert ``header`` inside the table, left of its column ``before``, as Excel's
    Insert > Table Columns to the Left does: the cells to the right shift by one."""
    wb = openpyxl.load_workbook(path)
    ws = wb[sheet]
    t = ws.tables[table]
    min_col, min_row, max_col, max_row = openpyxl.utils.cell.range_boundaries(t.ref)
    grid = [[(ws.cell(r, c).value, copy(ws.cell(r, c)._style))
             for c in range(min_col, max_col + 1)] for r in range(min_row, max_row + 1)]
    at = [v for v, _ in grid[0]].index(before)
    k = [v for v, _ in grid[0]].index(key)
    for i, row in enumerate(grid):  # the new cells take the format of the cells they push
        row.insert(at, (header if i == 0 else values.get(row[k][0]), copy(row[at][1])))
    for i, row in enumerate(grid):
        for j, (v, style) in enumerate(row):
            cell = ws.cell(min_row + i, min_col + j)
            cell.value = v  # None clears the cell
            cell._style = style
    t.ref = f"{get_column_letter(min_col)}{min_row}:{get_column_letter(max_col + 1)}{max_row}"
    names = [c.name for c in t.tableColumns]
    names.insert(at, header)
    t.tableColumns = [TableColumn(id=i + 1, name=n) for i, n in enumerate(names)]
    t.autoFilter.ref = t.ref
    wb.save(path)


def test_users_columns_in_the_action_plan_follow_their_actions(tmp_path):
    path = build_workbook(tmp_path / "team.xlsx", user_extras=False)
    assert main(["recompute", str(path), "-q"]) == 0
    plan = _table(path, C.TBL_PLAN)
    first, last = plan.iloc[0]["Action ID"], plan.iloc[-1]["Action ID"]
    booths = {first: "Lyon show, stand B12"}
    budgets = {last: 2500.0}
    add_column(path, C.SHEET_PLAN, C.TBL_PLAN, "Booth", "Action ID", booths)  # at the right
    insert_column(path, C.SHEET_PLAN, C.TBL_PLAN, "Function", "Budget", "Action ID", budgets)
    weeks = [c for c in plan.columns if c not in C.PLAN_FIXED_COLUMNS and c != C.CHECK_COLUMN]

    for _ in range(2):  # the first recompute and the next one both keep them
        assert main(["recompute", str(path), "-q"]) == 0
        p = _table(path, C.TBL_PLAN).set_index("Action ID")
        assert p["Booth"].dropna().to_dict() == booths
        assert p["Budget"].dropna().to_dict() == budgets
    t = _table(path, C.TBL_PLAN)
    # the engine's columns in their order, the weeks unchanged and not taken for a user's
    assert list(t.columns[:len(C.PLAN_FIXED_COLUMNS)]) == list(C.PLAN_FIXED_COLUMNS)
    assert [c for c in t.columns if c in weeks] == weeks
    assert t.columns[-1] == C.CHECK_COLUMN
    assert len(_table(path, C.TBL_EDITS)) == 0
    # marked as the user's: the light-yellow header of the editable columns
    ws = openpyxl.load_workbook(path)[C.SHEET_PLAN]
    headers = {ws.cell(4, c).value: ws.cell(4, c) for c in range(1, ws.max_column + 1)}
    status_fill = headers["Status"].fill.fgColor.rgb
    assert headers["Booth"].fill.fgColor.rgb == status_fill
    assert headers["Budget"].fill.fgColor.rgb == status_fill
