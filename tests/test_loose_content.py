"""What a user types on an engine-owned sheet outside its tables, and comments on its cells,
survive recomputes: in place when they can, following their key on a table row, or in
History's ``tblEdits`` with sheet, cell, text and why. Never dropped silently.

A manager's natural moves, through real files and the command line: notes typed right
of the Target List, a note and a formula under the Dashboard figures, a comment on a
Target List row, on a Dashboard figure; recomputed twice, then opened in LibreOffice.
"""
from __future__ import annotations

import re
import warnings
import zipfile

import openpyxl
import pytest
from openpyxl.comments import Comment

from maillon.addin.cli import main
from maillon.addin.filemode.read import read_tables
from maillon.engine import contract as C

from realclients import libreoffice_opens, needs_libreoffice
from workbooks import build_workbook


def _load(path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # openpyxl: extensions it does not read
        return openpyxl.load_workbook(path)


def _edits(path):
    return read_tables(path, [C.TBL_EDITS])[C.TBL_EDITS].data


def _recompute(path):
    assert main(["recompute", str(path), "-q"]) == 0


def _row_of(ws, account_id: str) -> int:
    for row in ws.iter_rows(min_row=5, min_col=2, max_col=2):
        if row[0].value == account_id:
            return row[0].row
    raise AssertionError(f"{account_id} not on the Target List")


def _set_setting(path, name: str, value) -> None:
    wb = _load(path)
    ws = wb[C.SHEET_SETTINGS]
    for row in ws.iter_rows():
        if row[0].value == name:
            row[1].value = value
            break
    else:
        raise AssertionError(f"no setting {name}")
    wb.save(path)


@pytest.fixture
def recomputed(tmp_path):
    path = build_workbook(tmp_path / "team.xlsx", user_extras=False)
    _recompute(path)
    return path


def test_notes_beside_the_tables_stay_where_they_are(recomputed):
    path = recomputed
    wb = _load(path)
    targets = wb[C.SHEET_TARGETS]
    right = targets.cell(6, len(C.TARGET_COLUMNS) + 4)  # a few columns right of tblTargets
    right.value = "Call Lyon back"
    targets.cell(2, 12).value = "Spring review: 12 March"  # beside the hint line
    dashboard = wb[C.SHEET_DASHBOARD]
    dashboard["A21"] = "Board asks for P1 growth"
    dashboard["B21"] = "=B5*2"  # a formula of the user's under the key figures
    wb.save(path)

    for _ in range(2):  # after a second recompute too
        _recompute(path)
        for where in (path, path.with_name("team.bak.xlsx")):  # the file and its backup
            wb = _load(where)
            targets = wb[C.SHEET_TARGETS]
            assert targets[right.coordinate].value == "Call Lyon back"
            assert targets.cell(2, 12).value == "Spring review: 12 March"
            assert wb[C.SHEET_DASHBOARD]["A21"].value == "Board asks for P1 growth"
            assert wb[C.SHEET_DASHBOARD]["B21"].value == "=B5*2"
        assert len(_edits(path)) == 0  # nothing had to move
    # the engine's own cells are unchanged
    assert targets["A4"].value == "Rank" and targets["A1"].value.startswith("Target list")


def test_a_note_in_a_cell_the_engine_now_needs_moves_to_history(recomputed):
    path = recomputed
    _set_setting(path, "Segments", 3)
    _recompute(path)
    wb = _load(path)
    dashboard = wb[C.SHEET_DASHBOARD]
    assert dashboard["D8"].value == "S03" and dashboard["D9"].value is None
    dashboard["E10"] = "ask marketing about S05"  # under the three segment rows: free
    wb.save(path)
    _recompute(path)
    assert _load(path)[C.SHEET_DASHBOARD]["E10"].value == "ask marketing about S05"

    _set_setting(path, "Segments", 5)  # the segment block grows over the note
    for _ in range(2):
        _recompute(path)
        edits = _edits(path)
        moved = edits.loc[edits["Kind"] == "Moved note"]
        assert len(moved) == 1  # once, not again at the next recompute
        row = moved.iloc[0]
        assert (row["Sheet"], row["Key"], row["Value"]) == \
            (C.SHEET_DASHBOARD, "E10", "ask marketing about S05")
        assert "E10" in row["Note"]
        assert _load(path)[C.SHEET_DASHBOARD]["E10"].value != "ask marketing about S05"


def test_what_the_engine_wrote_last_time_is_not_taken_for_a_note(recomputed):
    path = recomputed
    wb = _load(path)
    assert wb[C.SHEET_DASHBOARD]["D10"].value == "S05"  # five segments
    _set_setting(path, "Segments", 3)
    _recompute(path)
    wb = _load(path)
    dashboard = wb[C.SHEET_DASHBOARD]
    # the rows of the segments that are gone are not kept as if a user had typed them
    assert [dashboard.cell(r, 4).value for r in (8, 9, 10)] == ["S03", None, None]
    assert set(_edits(path)["Kind"]) == {"Orphan"}  # the segment names of S04 and S05 only


def test_a_comment_on_a_target_row_follows_its_account(recomputed):
    path = recomputed
    wb = _load(path)
    ws = wb[C.SHEET_TARGETS]
    top = ws["B5"].value  # rank 1
    name_col = 1 + C.TARGET_COLUMNS.index("Account name")
    ws.cell(5, name_col).comment = Comment("Met the CFO on 3 Nov", "Claire")
    # the account is excluded by hand: it goes to the bottom of the list
    ws.cell(5, 1 + C.TARGET_COLUMNS.index("Priority override")).value = "Exclude"
    ws.cell(5, 1 + C.TARGET_COLUMNS.index("Override reason")).value = "Lost to a competitor"
    wb.save(path)

    for _ in range(2):
        _recompute(path)
        ws = _load(path)[C.SHEET_TARGETS]
        row = _row_of(ws, top)
        assert row != 5
        comment = ws.cell(row, name_col).comment
        assert comment is not None and "Met the CFO on 3 Nov" in comment.text
        assert comment.author == "Claire"
        others = [c.coordinate for r in ws.iter_rows(min_row=5) for c in r if c.comment]
        assert others == [ws.cell(row, name_col).coordinate]  # not left on row 5 too


def test_a_comment_whose_account_is_gone_moves_to_history(recomputed):
    path = recomputed
    accounts = read_tables(path, [C.TBL_ACCOUNTS])[C.TBL_ACCOUNTS].data
    met = set(read_tables(path, [C.TBL_FEEDBACK])[C.TBL_FEEDBACK].data["Account ID"])
    row_of_gone = accounts.loc[~accounts["Account ID"].isin(met)].index[-1]
    gone = accounts.loc[row_of_gone, "Account ID"]
    wb = _load(path)
    ws = wb[C.SHEET_TARGETS]
    status_col = 1 + C.TARGET_COLUMNS.index("Status")
    ws.cell(_row_of(ws, gone), status_col).comment = Comment("Closing their site", "Hugo")
    for cell in wb[C.SHEET_ACCOUNTS][int(row_of_gone)]:
        cell.value = None  # the account is deleted from the common list
    wb.save(path)
    for _ in range(2):
        _recompute(path)
        edits = _edits(path)
        kept = edits.loc[edits["Kind"] == "Comment"]
        assert len(kept) == 1
        row = kept.iloc[0]
        assert (row["Sheet"], row["Key"], row["Column"], row["Value"]) == \
            (C.SHEET_TARGETS, gone, "Status", "Closing their site")
        assert "Hugo" in row["Note"] and "gone" in row["Note"]
        ws = _load(path)[C.SHEET_TARGETS]
        assert not any(c.comment for r in ws.iter_rows(min_row=5) for c in r)


def test_comments_outside_keyed_rows_stay_on_their_cell(tmp_path):
    path = build_workbook(tmp_path / "team.xlsx")  # a user sheet with a comment of its own
    _recompute(path)
    wb = _load(path)
    wb[C.SHEET_DASHBOARD]["B5"].comment = Comment("Includes the Lyon prospects", "Claire")
    wb[C.SHEET_HISTORY]["A5"].comment = Comment("first run with the new CRM export", "Hugo")
    wb.save(path)
    for _ in range(2):
        _recompute(path)
        wb = _load(path)
        assert "Lyon prospects" in wb[C.SHEET_DASHBOARD]["B5"].comment.text
        assert "new CRM export" in wb[C.SHEET_HISTORY]["A5"].comment.text
    # every comment drawing of the package numbers its shapes in blocks of its own
    with zipfile.ZipFile(path) as z:
        blocks = [m for n in z.namelist() if n.endswith(".vml")
                  for m in re.findall(rb'idmap[^>]*data="([0-9,]+)"', z.read(n))]
    assert len(blocks) == 3 and len(set(blocks)) == 3


def test_every_engine_sheet_gives_each_row_once(recomputed):
    """History's two tables side by side, both longer than a row: one <row> per row."""
    path = recomputed
    _set_setting(path, "Segments", 3)  # two segment names become orphans in tblEdits
    _recompute(path)
    _recompute(path)
    with zipfile.ZipFile(path) as z:
        from maillon.addin.ooxml.package import Package

        with Package(path) as pkg:
            parts = {s.name: s.part for s in pkg.sheets if s.name in C.ENGINE_SHEETS}
        for sheet, part in parts.items():
            rows = [int(n) for n in re.findall(rb'<row r="(\d+)"', z.read(part))]
            assert rows == sorted(set(rows)), sheet
    assert len(_edits(path)) >= 2


@needs_libreoffice
def test_libreoffice_opens_a_workbook_with_kept_notes_and_comments(recomputed, tmp_path):
    path = recomputed
    wb = _load(path)
    wb[C.SHEET_TARGETS].cell(6, 40).value = "Call Lyon back"
    wb[C.SHEET_TARGETS]["C5"].comment = Comment("Met the CFO", "Claire")
    wb.save(path)
    _recompute(path)
    out = tmp_path / "lo"
    ok, message = libreoffice_opens(path, "xlsx", outdir=out)
    assert ok, message
    ws = _load(out / "team.xlsx")[C.SHEET_TARGETS]
    assert ws.cell(6, 40).value == "Call Lyon back"
    assert any(c.comment and "Met the CFO" in c.comment.text
               for r in ws.iter_rows(min_row=5, max_col=5) for c in r)


TC_NS = "http://schemas.microsoft.com/office/spreadsheetml/2018/threadedcomments"
TC_REL = "http://schemas.microsoft.com/office/2017/10/relationships/"


def _plant_threaded_comment(path, sheet: str, ref: str) -> None:
    """A threaded comment with a reply on ``ref``, as Excel 365 saves it (its parts,
    relationships and content types; the persons part names the authors)."""
    from maillon.addin.ooxml.package import Package, rels_part

    with Package(path) as pkg:
        part = next(s.part for s in pkg.sheets if s.name == sheet)
        wb_part = pkg.workbook_part
    with zipfile.ZipFile(path) as zin:
        members = {i.filename: zin.read(i.filename) for i in zin.infolist()}
    person, first = "{11111111-1111-1111-1111-111111111111}", "{22222222-2222-2222-2222-222222222222}"
    members["xl/threadedComments/threadedComment1.xml"] = (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        f'<ThreadedComments xmlns="{TC_NS}">'
        f'<threadedComment ref="{ref}" dT="2026-11-20T10:00:00.00" personId="{person}" '
        f'id="{first}"><text>Met the CFO on 3 Nov</text></threadedComment>'
        f'<threadedComment ref="{ref}" dT="2026-11-21T10:00:00.00" personId="{person}" '
        f'id="{{33333333-3333-3333-3333-333333333333}}" parentId="{first}">'
        f'<text>Budget confirmed</text></threadedComment></ThreadedComments>').encode()
    members["xl/persons/person.xml"] = (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><personList xmlns="{TC_NS}">'
        f'<person displayName="Claire Dubois" id="{person}" userId="claire" '
        f'providerId="None"/></personList>').encode()

    def add_rel(rels_name: str, rid: str, kind: str, target: str) -> None:
        rel = f'<Relationship Id="{rid}" Type="{TC_REL}{kind}" Target="{target}"/>'.encode()
        members[rels_name] = members[rels_name].replace(b"</Relationships>",
                                                        rel + b"</Relationships>")

    add_rel(rels_part(part), "rIdTc1", "threadedComment", "../threadedComments/threadedComment1.xml")
    add_rel(rels_part(wb_part), "rIdPs1", "person", "persons/person.xml")
    members["[Content_Types].xml"] = members["[Content_Types].xml"].replace(
        b"</Types>",
        b'<Override PartName="/xl/threadedComments/threadedComment1.xml" '
        b'ContentType="application/vnd.ms-excel.threadedcomments+xml"/>'
        b'<Override PartName="/xl/persons/person.xml" '
        b'ContentType="application/vnd.ms-excel.person+xml"/></Types>')
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
        for name, data in members.items():
            zout.writestr(name, data)


def test_a_threaded_comment_follows_its_account_with_its_replies(recomputed):
    path = recomputed
    wb = _load(path)
    ws = wb[C.SHEET_TARGETS]
    top = ws["B5"].value
    ws.cell(5, 1 + C.TARGET_COLUMNS.index("Priority override")).value = "Exclude"
    wb.save(path)
    _plant_threaded_comment(path, C.SHEET_TARGETS, "C5")
    for _ in range(2):
        _recompute(path)
        ws = _load(path)[C.SHEET_TARGETS]
        row = _row_of(ws, top)
        comment = ws.cell(row, 3).comment
        assert comment is not None and comment.author == "Claire Dubois"
        assert "Met the CFO on 3 Nov" in comment.text and "Budget confirmed" in comment.text
        assert ws["C5"].comment is None or row == 5
