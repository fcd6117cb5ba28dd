"""Conflicting cells highlighted where they live: a mark set, read back, and cleared.

Real files: a workbook made like the template, marked through the table writer,
read back with openpyxl (the fill, the number format, the value), re-saved
through LibreOffice and cleared again.
"""
from __future__ import annotations

import datetime as dt

import openpyxl
import pytest

from maillon.addin.filemode.table_edits import save_table_edits
from maillon.addin.ooxml.cell_marks import MARK_FILLS, Styles
from maillon.addin.ooxml.package import list_tables
from maillon.addin.ooxml.table_patch import TableEdit
from tests.realclients import libreoffice_opens
from tests.workbooks import build_workbook, member_bytes

CONFLICT = MARK_FILLS["conflict"]


@pytest.fixture(scope="module")
def team(tmp_path_factory):
    return build_workbook(tmp_path_factory.mktemp("marks") / "team.xlsx", n_accounts=30)


def _copy(team, tmp_path, name="copy.xlsx"):
    out = tmp_path / name
    out.write_bytes(team.read_bytes())
    return out


def _cell(path, row, header):
    wb = openpyxl.load_workbook(path)
    ws = wb["Accounts"]
    c1, r1, c2, _ = openpyxl.utils.cell.range_boundaries(ws.tables["tblAccounts"].ref)
    headers = [ws.cell(r1, c).value for c in range(c1, c2 + 1)]
    return ws.cell(row, c1 + headers.index(header))


def _style_index(path, cell) -> str:
    """The cell's style index as the sheet part stores it (``s``; "0" when absent)."""
    import re

    from maillon.addin.ooxml.package import Package

    with Package(path) as pkg:
        part = next(sh.part for sh in pkg.sheets if sh.name == "Accounts")
        text = pkg.read(part).decode("utf-8")
    m = re.search(r'<c r="' + cell.coordinate + r'"([^>]*?)/?>', text)
    found = re.search(r'\ss="(\d+)"', m.group(1)) if m else None
    return found.group(1) if found else "0"


def _fill(cell):
    f = cell.fill
    return f.fgColor.rgb if f is not None and f.fill_type == "solid" else None


def test_a_mark_fills_the_cell_and_keeps_its_value_and_format_then_goes_away(team, tmp_path):
    path = _copy(team, tmp_path)
    row = list_tables(path)["tblAccounts"].first_data_row + 3
    before = _cell(path, row, "Revenue 12m")
    value, number_format, font = before.value, before.number_format, before.font.b
    assert _fill(before) != CONFLICT and value is not None
    parts_before = member_bytes(path)

    save_table_edits(path, [TableEdit("tblAccounts", marks={(row, "Revenue 12m"): "conflict",
                                                            (row, "City"): "conflict"})])
    marked = _cell(path, row, "Revenue 12m")
    assert _fill(marked) == CONFLICT
    assert (marked.value, marked.number_format, marked.font.b) == (value, number_format, font)
    assert _fill(_cell(path, row, "City")) == CONFLICT
    assert _fill(_cell(path, row + 1, "City")) != CONFLICT  # the cell below: untouched
    changed = {k for k, v in member_bytes(path).items() if parts_before.get(k) != v}
    assert "xl/styles.xml" in changed and len(changed) == 2  # the sheet and the styles

    # the mark is told by its fill: it is cleared even after LibreOffice renumbered styles
    ok, why = libreoffice_opens(path, "xlsx", outdir=tmp_path / "lo")
    if not ok:
        pytest.skip(why)
    resaved = tmp_path / "lo" / path.name
    assert _fill(_cell(resaved, row, "City")) == CONFLICT
    number_format = _cell(resaved, row, "Revenue 12m").number_format  # as LibreOffice spells it
    save_table_edits(resaved, [TableEdit("tblAccounts", marks={(row, "Revenue 12m"): None,
                                                               (row, "City"): None})])
    cleared = _cell(resaved, row, "Revenue 12m")
    assert _fill(cleared) != CONFLICT and cleared.value == value
    assert cleared.number_format == number_format
    assert _fill(_cell(resaved, row, "City")) == _fill(_cell(resaved, row + 1, "City"))


def test_clearing_gives_back_the_very_style_the_cell_had(team, tmp_path):
    path = _copy(team, tmp_path)
    row = list_tables(path)["tblAccounts"].first_data_row + 1
    own = _style_index(path, _cell(path, row, "Employees"))
    save_table_edits(path, [TableEdit("tblAccounts", marks={(row, "Employees"): "conflict"},
                                      cells={(row, "Employees"): 77})])
    cell = _cell(path, row, "Employees")
    assert cell.value == 77 and _fill(cell) == CONFLICT and _style_index(path, cell) != own
    save_table_edits(path, [TableEdit("tblAccounts", marks={(row, "Employees"): None})])
    assert _style_index(path, _cell(path, row, "Employees")) == own
    # marking twice, and clearing a cell that has no mark, change nothing more
    save_table_edits(path, [TableEdit("tblAccounts", marks={(row + 1, "Employees"): None})])
    assert _style_index(path, _cell(path, row + 1, "Employees")) == own


def test_a_new_row_can_be_marked(team, tmp_path):
    path = _copy(team, tmp_path)
    info = list_tables(path)["tblAccounts"]
    new = info.last_data_row + 1
    save_table_edits(path, [TableEdit(
        "tblAccounts", new_rows=[{"Account ID": "NEW-9", "Account name": "Dupont",
                                  "Status": "Prospect", "Last contact": dt.date(2026, 1, 5)}],
        marks={(new, "Account name"): "conflict", (new, "Industry"): "conflict"})])
    assert _cell(path, new, "Account name").value == "Dupont"
    assert _fill(_cell(path, new, "Account name")) == CONFLICT
    assert _fill(_cell(path, new, "Industry")) == CONFLICT  # a blank cell, highlighted
    assert _fill(_cell(path, new, "City")) != CONFLICT


def test_styles_text_with_a_prefix_and_an_empty_fills_list():
    styles = Styles('<x:styleSheet xmlns:x="urn:s"><x:fills count="0"/><x:cellXfs count="1">'
                    '<x:xf numFmtId="14" fontId="0"/></x:cellXfs></x:styleSheet>')
    clone = styles.marked("0", "conflict")
    assert clone == "1" and styles.is_marked("1") and not styles.is_marked("0")
    assert '<x:fills count="3">' in styles.text and 'x:xf numFmtId="14" fontId="0" fillId="2"' \
        in styles.text and '<x:cellXfs count="2">' in styles.text
    assert styles.unmarked("1") == "0"
    with pytest.raises(ValueError, match="unknown cell mark"):
        styles.marked("0", "bold")
