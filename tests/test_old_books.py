"""What a user typed on engine sheets survives in workbooks that older Maillons wrote, and a
value typed over one of the engine's own cells outside its tables is kept in History.

An older Maillon (before the hidden name ``Maillon_EngineCells``) did not record which
cells it wrote beside its tables. ``old_books/maillon-678df12-200.xlsx`` is such a
workbook, written by that Maillon itself (commit 678df12: ``maillon demo --accounts 200
--seed 7``). Its first recompute tells the engine's cells from the user's by the layout
of the previous run, recomputed from its History row; from then on the name says it.

A value typed over a cell the engine wrote outside its tables (a Dashboard figure, a
title) is found by the digests the previous run left in tblHistory's hidden
``Cells check`` column, and moves to ``tblEdits`` (Kind ``Overwritten``), never silently.

Everything goes through real files and the command line; the files are read back with
openpyxl (and, once, saved by LibreOffice).
"""
from __future__ import annotations

import io
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
from openpyxl.worksheet.cell_range import CellRange

from maillon.addin.cli import main
from maillon.addin.render.specs import ENGINE_AREA_NAME
from maillon.engine import contract as C

from realclients import needs_libreoffice
from test_loose_content import _edits, _load, _set_setting
from workbooks import build_workbook

OLD_BOOK = Path(__file__).parent / "old_books" / "maillon-678df12-200.xlsx"


def _recompute(path, capsys=None) -> str:
    code = main(["recompute", str(path)])
    out = capsys.readouterr().out if capsys is not None else ""
    assert code == 0, out
    return out


def _names_in(path) -> str:
    with zipfile.ZipFile(path) as z:
        return z.read("xl/workbook.xml").decode("utf-8")


def _strays(path) -> dict[str, dict[str, object]]:
    """Per engine sheet, the cells with a value outside its tables and outside what the
    engine recorded as its own (Maillon_EngineCells): what the user typed, and nothing
    else if the engine's cells of an earlier layout were not taken for a user's."""
    wb = _load(path)
    out = {}
    for name in C.ENGINE_SHEETS:
        ws = wb[name]
        own = [CellRange(t.ref) for t in ws.tables.values()]
        area = ws.defined_names.get(ENGINE_AREA_NAME)
        assert area is not None, f"{name}: no {ENGINE_AREA_NAME}"
        own += [CellRange(part.split("!")[-1].replace("$", ""))
                for part in area.attr_text.lstrip("=").split(",")]
        found = {}
        for row in ws.iter_rows():
            for cell in row:
                if cell.value is None or cell.value == "":
                    continue
                if not any(cell.coordinate in r for r in own):
                    found[cell.coordinate] = cell.value
        if found:
            out[name] = found
    return out


def _old_book(tmp_path) -> Path:
    path = tmp_path / "team.xlsx"
    shutil.copy(OLD_BOOK, path)
    assert ENGINE_AREA_NAME not in _names_in(path)  # as the older Maillon left it
    return path


NOTES = {
    C.SHEET_TARGETS: {"U6": "Call Lyon back", "L2": "Spring review: 12 March"},
    C.SHEET_DASHBOARD: {"A22": "Board asks for P1 growth", "B22": "=B5*2",
                        "Q5": "beside the grid"},
    C.SHEET_RECONCILIATION: {"H40": "under the heat maps"},
    C.SHEET_HISTORY: {"A30": "audit in January"},
    C.SHEET_ABC: {"H3": "ask Hugo about the C customers"},
}


def _type(path, notes: dict) -> None:
    wb = _load(path)
    for sheet, cells in notes.items():
        for ref, value in cells.items():
            wb[sheet][ref] = value
    wb.save(path)


def test_notes_in_an_older_maillons_workbook_survive_its_first_recompute(tmp_path, capsys):
    path = _old_book(tmp_path)
    _type(path, NOTES)
    for _ in range(2):  # the first recompute (no name yet), then one with it
        out = _recompute(path, capsys)
        assert "kept in History" not in out
        for where in (path, path.with_name("team.bak.xlsx")):
            wb = _load(where)
            for sheet, cells in NOTES.items():
                for ref, value in cells.items():
                    assert wb[sheet][ref].value == value, (where.name, sheet, ref)
        # every other cell outside the tables is the engine's, as it now records
        assert _strays(path) == NOTES
        assert len(_edits(path)) == 0  # nothing had to move
    assert ENGINE_AREA_NAME in _names_in(path)


@pytest.mark.parametrize("segments", [3, 6])
def test_an_older_maillons_cells_are_not_taken_for_notes_when_the_segments_change(
        tmp_path, capsys, segments):
    """The older run had 4 segments: its Dashboard and Reconciliation blocks were taller or
    shorter than this run's. None of their cells is kept as if a user had typed it; a note
    typed where this run's taller block writes moves to History."""
    path = _old_book(tmp_path)
    wb = _load(path)
    assert wb[C.SHEET_DASHBOARD]["D9"].value == "S04" and wb[C.SHEET_DASHBOARD]["D10"].value is None
    notes = {C.SHEET_DASHBOARD: {"A22": "Board asks for P1 growth", "D11": "ask about S06"}}
    _type(path, notes)
    _set_setting(path, "Segments", segments)
    out = _recompute(path, capsys)
    wb = _load(path)
    assert wb[C.SHEET_DASHBOARD]["A22"].value == "Board asks for P1 growth"
    edits = _edits(path)
    edits = edits.loc[edits["Kind"] != "Orphan"]  # segment names orphaned by the new count
    if segments == 3:  # the fourth segment row of the older layout is gone, not kept
        assert wb[C.SHEET_DASHBOARD]["D9"].value is None
        assert _strays(path) == notes
        assert len(edits) == 0
    else:  # six segment rows, 6 to 11: D11 is the engine's now
        assert wb[C.SHEET_DASHBOARD]["D11"].value == "S06"
        assert _strays(path) == {C.SHEET_DASHBOARD: {"A22": "Board asks for P1 growth"}}
        assert [(e["Kind"], e["Sheet"], e["Key"], e["Value"]) for _, e in edits.iterrows()] == \
            [("Moved note", C.SHEET_DASHBOARD, "D11", "ask about S06")]
        assert "kept in History (edits kept aside): 1 Moved note" in out


def _remove_engine_names(path) -> None:
    """The workbook as a Maillon before the name wrote it: the same package without the
    hidden sheet-level names in xl/workbook.xml."""
    buf = io.BytesIO()
    with zipfile.ZipFile(path) as zin, zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename == "xl/workbook.xml":
                data, n = re.subn(rb'<definedName name="' + ENGINE_AREA_NAME.encode()
                                  + rb'"[^>]*>[^<]*</definedName>', b"", data)
                assert n == len(C.ENGINE_SHEETS)
            zout.writestr(info, data)
    path.write_bytes(buf.getvalue())


def test_a_recomputed_workbook_without_the_name_keeps_its_notes(tmp_path):
    path = build_workbook(tmp_path / "team.xlsx", user_extras=False)
    _recompute(path)
    _remove_engine_names(path)
    assert ENGINE_AREA_NAME not in _names_in(path)
    _type(path, NOTES)
    _recompute(path)
    assert _strays(path) == NOTES
    assert len(_edits(path)) == 0


def test_a_new_workbook_keeps_nothing_of_the_templates_layout(tmp_path):
    """The template's engine sheets were rendered with no segment and no name: none of
    their cells survives the first recompute as if a user had typed it."""
    path = build_workbook(tmp_path / "team.xlsx", user_extras=False)
    assert ENGINE_AREA_NAME not in _names_in(path)
    _recompute(path)
    assert _strays(path) == {}
    assert len(_edits(path)) == 0


# --------------------------------------------------------------------------- typed over
@pytest.fixture
def recomputed(tmp_path):
    path = build_workbook(tmp_path / "team.xlsx", user_extras=False)
    _recompute(path)
    return path


def test_a_value_typed_over_a_dashboard_figure_or_a_title_is_kept_in_history(recomputed, capsys):
    path = recomputed
    wb = _load(path)
    dash = wb[C.SHEET_DASHBOARD]
    assert dash["A5"].value == "Accounts"
    accounts = dash["B5"].value
    typed = {C.SHEET_DASHBOARD: {"B5": "about 250 by March", "A1": "Our dashboard",
                                 "B6": "=B5-B7"},
             C.SHEET_TARGETS: {"A2": "Sorted by Kevin"}}
    _type(path, typed)
    out = _recompute(path, capsys)
    assert "kept in History (edits kept aside): 4 Overwritten" in out
    wb = _load(path)
    dash = wb[C.SHEET_DASHBOARD]
    assert dash["B5"].value == accounts  # the engine's figure is back
    assert dash["A1"].value.startswith("Dashboard")
    edits = _edits(path)
    got = {(e["Sheet"], e["Key"]): e for _, e in edits.iterrows()}
    assert set(got) == {(s, ref) for s, cells in typed.items() for ref in cells}
    for (sheet, ref), e in got.items():
        assert e["Kind"] == "Overwritten"
        assert e["Value"] == typed[sheet][ref]
        assert ref in e["Note"] and "typed over" in e["Note"]
    assert str(accounts) in got[(C.SHEET_DASHBOARD, "B5")]["Note"]  # what it shows now
    # the next recompute does not report them again: the engine wrote its value back
    out = _recompute(path, capsys)
    assert "kept in History" not in out
    assert len(_edits(path)) == 4
    assert _load(path.with_name("team.bak.xlsx"))[C.SHEET_DASHBOARD]["B5"].value == accounts


def test_a_value_typed_over_a_cell_the_engine_no_longer_writes_stays(recomputed):
    path = recomputed
    _set_setting(path, "Segments", 4)
    _recompute(path)
    wb = _load(path)
    assert wb[C.SHEET_DASHBOARD]["D9"].value == "S04"
    _type(path, {C.SHEET_DASHBOARD: {"D9": "merge S04 into S02?"}})
    _set_setting(path, "Segments", 3)
    _recompute(path)
    assert _load(path)[C.SHEET_DASHBOARD]["D9"].value == "merge S04 into S02?"
    edits = _edits(path)
    assert set(edits["Kind"]) <= {"Orphan"}  # names of the segments gone, nothing typed
    _recompute(path)  # and it is the user's from now on
    assert _load(path)[C.SHEET_DASHBOARD]["D9"].value == "merge S04 into S02?"


@needs_libreoffice
def test_nothing_is_reported_overwritten_after_libreoffice_saves_the_workbook(recomputed,
                                                                             tmp_path):
    """LibreOffice rewrites every cell (shared strings, its own number formats): the
    engine's values still match what it recorded."""
    outdir = tmp_path / "lo"
    subprocess.run(["soffice", "--headless", "--convert-to", "xlsx", "--outdir", str(outdir),
                    str(recomputed)], check=True, capture_output=True, timeout=300)
    saved = outdir / recomputed.name
    assert ENGINE_AREA_NAME in _names_in(saved)
    _recompute(saved)
    assert len(_edits(saved)) == 0
    assert _strays(saved) == {}
