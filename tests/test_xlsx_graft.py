"""Grafting rendered engine sheets into a user's workbook, checked on real files.

Fixtures are built with XlsxWriter: a "user" workbook (user tables, a user
sheet with a native chart, an image, a comment, a defined name, a structured
reference formula to ``tblTargets``, the user's own table, and an old engine
sheet) and a "rendered" workbook (engine sheets with tables, formats,
conditional formats, a data validation, a chart and print titles). The result
is read back with zipfile, openpyxl, python-calamine, LibreOffice and Gnumeric.
"""
from __future__ import annotations

import csv
import os
import posixpath
import shutil
import struct
import subprocess
import zipfile
import zlib
from pathlib import Path

import pytest
import xlsxwriter

from maillon.addin.ooxml.safe_io import WorkbookError, check_package
from maillon.addin.ooxml.graft import graft
from maillon.addin.ooxml.package import Package, rels_part
from maillon.addin.filemode.read import read_tables

TARGET_COLUMNS = ["Rank", "Account ID", "Account name", "Status", "Final priority", "Score"]
ENGINE = ["Segments", "Target List", "Dashboard"]


# --- fixtures ---------------------------------------------------------------------
def tiny_png() -> bytes:
    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    raw = b"\x00\xff\x00\x00"  # one red pixel, filter byte 0
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def targets(p1: int, n: int = 6, prefix: str = "A") -> list[list]:
    rows = []
    for i in range(n):
        prio = "P1" if i < p1 else ("P2" if i < p1 + 2 else "P3")
        rows.append([i + 1, f"{prefix}{i:03d}", f"Company {i}", "Customer", prio, 90.5 - i])
    return rows


def make_user(path: Path, *, vba: bool = False, own_table_name: str = "tblMine") -> Path:
    png = path.parent / "pixel.png"
    png.write_bytes(tiny_png())
    wb = xlsxwriter.Workbook(str(path))
    if vba:
        bin_path = path.parent / "vbaProject.bin"
        bin_path.write_bytes(b"\xd0\xcf\x11\xe0fake-vba-project" * 20)
        wb.add_vba_project(str(bin_path))
    bold = wb.add_format({"bold": True, "font_color": "#C00000"})
    readme = wb.add_worksheet("Read Me")
    readme.write("A1", "Maillon team workbook", bold)
    settings = wb.add_worksheet("Settings")
    settings.add_table(0, 0, 2, 2, {"name": "tblSettings", "columns": [
        {"header": "Setting"}, {"header": "Value"}, {"header": "Description"}],
        "data": [["Segments", "auto", "how many"], ["P1 share", 0.1, "share"]]})
    accounts = wb.add_worksheet("Accounts")
    accounts.add_table(0, 0, 3, 2, {"name": "tblAccounts", "columns": [
        {"header": "Account ID"}, {"header": "Account name"}, {"header": "Revenue 12m"}],
        "data": [["A000", "Company 0", 1200.0], ["A001", "Company 1", 800.0],
                 ["A002", "placeholder", 5.0]]})
    accounts.write_string("B4", "=not a formula")
    notes = wb.add_worksheet("Notes")
    notes.write("A1", "P1 targets")
    notes.write_formula("B1", '=COUNTIF(tblTargets[Final priority],"P1")', None, 2)
    notes.write("A2", "Top account")
    notes.write_formula("B2", "='Target List'!B2", None, "A000")
    notes.add_table(3, 0, 6, 1, {"name": own_table_name, "columns": [
        {"header": "Month"}, {"header": "Calls"}],
        "data": [["Jan", 10], ["Feb", 14], ["Mar", 9]]})
    chart = wb.add_chart({"type": "line"})
    chart.add_series({"categories": "=Notes!$A$5:$A$7", "values": "=Notes!$B$5:$B$7",
                      "name": "Calls"})
    notes.insert_chart("D2", chart)
    notes.insert_image("D20", str(png))
    notes.write_comment("A1", "Counts P1 rows of the Target List")
    wb.define_name("MyMonths", "=Notes!$A$5:$A$7")
    old = wb.add_worksheet("Target List")  # an engine sheet from a previous recompute
    old.add_table(0, 0, 6, len(TARGET_COLUMNS) - 1, {
        "name": "tblTargets", "columns": [{"header": h} for h in TARGET_COLUMNS],
        "data": targets(2)})
    old.conditional_format("E2:E7", {"type": "cell", "criteria": "==", "value": '"P1"',
                                     "format": bold})
    old_chart = wb.add_chart({"type": "bar"})
    old_chart.add_series({"values": "='Target List'!$F$2:$F$7"})
    old.insert_chart("H2", old_chart)
    old.repeat_rows(0)
    old.write_comment("H1", "old engine comment")
    wb.close()
    return path


def make_rendered(path: Path, *, p1: int = 3, extra_fmt: bool = False) -> Path:
    wb = xlsxwriter.Workbook(str(path))
    head = wb.add_format({"bold": True, "bg_color": "#1F4E79", "font_color": "#FFFFFF",
                          "border": 1})
    money = wb.add_format({"num_format": "#,##0 [$EUR]"})
    score = wb.add_format({"num_format": "0.0", "italic": True})
    hot = wb.add_format({"bg_color": "#FFC7CE", "font_color": "#9C0006"})
    if extra_fmt:
        wb.add_format({"num_format": "0.000%", "underline": 1})
    seg = wb.add_worksheet("Segments")
    seg.add_table(0, 0, 2, 2, {"name": "tblSegments", "columns": [
        {"header": "Segment ID"}, {"header": "Segment name"},
        {"header": "Accounts", "format": money}],
        "data": [["S01", "Big buyers", 3], ["S02", "Small & curious <ones>", 3]]})
    seg.set_column(1, 1, 24)
    tl = wb.add_worksheet("Target List")
    rows = targets(p1, prefix="R")
    tl.add_table(0, 0, len(rows), len(TARGET_COLUMNS) - 1, {
        "name": "tblTargets", "style": "Table Style Medium 2",
        "columns": [{"header": h, "format": score if h == "Score" else None}
                    for h in TARGET_COLUMNS], "data": rows})
    tl.set_column(2, 2, 30, money)
    tl.set_row(0, 20, head)
    tl.conditional_format(1, 4, len(rows), 4, {"type": "cell", "criteria": "==",
                                                "value": '"P1"', "format": hot})
    tl.conditional_format(1, 5, len(rows), 5, {"type": "data_bar"})
    tl.data_validation(1, 4, len(rows), 4, {"validate": "list", "source": ["P1", "P2", "P3"]})
    tl.repeat_rows(0)
    tl.print_area(0, 0, len(rows), len(TARGET_COLUMNS) - 1)
    tl.set_landscape()
    tl.fit_to_pages(1, 0)
    tl.freeze_panes(1, 0)
    chart = wb.add_chart({"type": "column"})
    chart.add_series({"name": "Score", "categories": f"='Target List'!$B$2:$B${len(rows) + 1}",
                      "values": f"='Target List'!$F$2:$F${len(rows) + 1}"})
    tl.insert_chart("H2", chart)
    dash = wb.add_worksheet("Dashboard")
    dash.write("A1", "Key figures", head)
    pie = wb.add_chart({"type": "pie"})
    pie.add_series({"categories": "=Segments!$A$2:$A$3", "values": "=Segments!$C$2:$C$3"})
    dash.insert_chart("B3", pie)
    wb.close()
    return path


def add_calc_chain(path: Path) -> None:
    """Give an XlsxWriter file the calcChain part Excel would have written."""
    tmp = path.with_suffix(".tmp")
    with zipfile.ZipFile(path) as zin, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename == "[Content_Types].xml":
                data = data.replace(b"</Types>", b'<Override PartName="/xl/calcChain.xml" '
                                    b'ContentType="application/vnd.openxmlformats-officedocument'
                                    b'.spreadsheetml.calcChain+xml"/></Types>')
            if info.filename == "xl/_rels/workbook.xml.rels":
                data = data.replace(b"</Relationships>", b'<Relationship Id="rId99" Type="http:'
                                    b'//schemas.openxmlformats.org/officeDocument/2006/'
                                    b'relationships/calcChain" Target="calcChain.xml"/>'
                                    b"</Relationships>")
            zout.writestr(info, data)
        zout.writestr("xl/calcChain.xml", b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
                      b'<calcChain xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/'
                      b'main"><c r="B1" i="4"/><c r="B2"/></calcChain>')
    os.replace(tmp, path)


@pytest.fixture
def user(tmp_path) -> Path:
    p = make_user(tmp_path / "team.xlsx")
    add_calc_chain(p)
    return p


@pytest.fixture
def rendered(tmp_path) -> Path:
    return make_rendered(tmp_path / "rendered.xlsx")


# --- helpers -------------------------------------------------------------------------
def owned_parts(path: Path, sheet: str) -> set[str]:
    """Lower-case names of the parts an engine sheet owns in ``path`` (its part too)."""
    with Package(path) as pkg:
        entry = next(s for s in pkg.sheets if s.name == sheet)
        owned = pkg.closure(entry.part) | {entry.part.lower()}
        return owned | {rels_part(p).lower() for p in owned}


def check_integrity(path: Path) -> None:
    """Every relationship target exists; every part is reachable; overrides match parts."""
    with Package(path) as pkg:
        names = {i.filename.lower() for i in pkg.infos}
        reach = pkg.closure("")
        for part in reach | {""}:
            for rel in pkg.rels(part) if part == "" or part in names else []:
                if not rel.external:
                    assert rel.target.lower() in names, f"{part}: dangling {rel.target}"
        for info in pkg.infos:
            n = info.filename.lower()
            if n == "[content_types].xml" or n.endswith(".rels"):
                continue
            assert n in reach, f"orphan part {info.filename}"
            assert pkg.content_type(info.filename), f"no content type for {info.filename}"
        _, overrides = pkg.content_types
        for part in overrides:
            assert part in names, f"override for a missing part {part}"
        # every .rels belongs to an existing part
        for info in pkg.infos:
            n = info.filename
            if n.endswith(".rels") and n != "_rels/.rels":
                folder, base = posixpath.split(n)
                source = posixpath.join(posixpath.dirname(folder), base[:-5]).lower()
                assert source in names, f"rels of a missing part: {n}"


def sheet_xml(path: Path, sheet: str) -> bytes:
    with Package(path) as pkg:
        entry = next(s for s in pkg.sheets if s.name == sheet)
        return pkg.read(entry.part)


# --- the graft ---------------------------------------------------------------------------
def test_untouched_parts_are_byte_identical(user, rendered, tmp_path):
    out = tmp_path / "out.xlsx"
    report = graft(user, rendered, out, ENGINE)
    assert report.replaced == ["Target List"] and report.added == ["Segments", "Dashboard"]
    changed = owned_parts(user, "Target List") | {
        "[content_types].xml", "xl/workbook.xml", "xl/_rels/workbook.xml.rels",
        "xl/styles.xml", "xl/calcchain.xml"}
    with zipfile.ZipFile(user) as zin, zipfile.ZipFile(out) as zout:
        out_infos = {i.filename: i for i in zout.infolist()}
        kept = 0
        for info in zin.infolist():
            if info.filename.lower() in changed:
                continue
            assert info.filename in out_infos, f"{info.filename} was lost"
            o = out_infos[info.filename]
            assert zout.read(o) == zin.read(info), f"{info.filename} changed"
            assert (o.compress_type, o.compress_size, o.CRC) == \
                (info.compress_type, info.compress_size, info.CRC)
            kept += 1
        assert kept >= 15  # user sheets, their drawings, chart, image, comments, theme, ...
        assert "xl/media/image1.png" in out_infos
        assert "xl/sharedStrings.xml" in out_infos  # untouched (inline strings used)
        assert "xl/calcChain.xml" not in out_infos
        # the original member order is kept; new parts come last
        names = [i.filename for i in zout.infolist()]
        assert names[0] == "[Content_Types].xml"
        assert zout.testzip() is None
    check_integrity(out)
    check_package(out)


def test_workbook_structure_after_graft(user, rendered, tmp_path):
    out = tmp_path / "out.xlsx"
    graft(user, rendered, out, ENGINE)
    with Package(user) as a, Package(out) as b:
        before = [(s.name, s.sheet_id, s.rid, s.part) for s in a.sheets]
        after = [(s.name, s.sheet_id, s.rid, s.part) for s in b.sheets]
        assert after[:len(before)] == before  # same names, ids, r:ids, parts, positions
        assert [s[0] for s in after[len(before):]] == ["Segments", "Dashboard"]
        ids = [s[1] for s in after]
        assert len(set(ids)) == len(ids)
        wb = b.read("xl/workbook.xml")
        assert b'fullCalcOnLoad="1"' in wb
        # print titles of Target List (index 4 in the user's order) replaced, once
        assert wb.count(b'name="_xlnm.Print_Titles" localSheetId="4"') == 1
        assert wb.count(b"_xlnm.Print_Area") == 1
        assert b"MyMonths" in wb
        # only the active sheet (the first) is selected
        assert b"tabSelected" not in sheet_xml(out, "Target List")
        assert b"tabSelected" not in sheet_xml(out, "Segments")
        # table ids are unique in the workbook
        tids = []
        for info in b.infos:
            if info.filename.startswith("xl/tables/"):
                root = b.xml(info.filename)
                tids.append(int(root.get("id")))
        assert len(tids) == len(set(tids)) == 5


def test_openpyxl_reads_the_result(user, rendered, tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    out = tmp_path / "out.xlsx"
    graft(user, rendered, out, ENGINE)
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == ["Read Me", "Settings", "Accounts", "Notes", "Target List",
                             "Segments", "Dashboard"]
    tl = wb["Target List"]
    assert "tblTargets" in tl.tables and tl.tables["tblTargets"].ref == "A1:F7"
    assert [c.value for c in tl[1]][:6] == TARGET_COLUMNS
    assert [tl.cell(r, 5).value for r in range(2, 8)].count("P1") == 3
    assert tl.cell(2, 6).number_format == "0.0" and tl.cell(2, 6).font.i
    assert tl.cell(2, 3).number_format == "#,##0 [$EUR]"
    assert tl.conditional_formatting and tl.data_validations.dataValidation
    assert tl.freeze_panes == "A2"
    assert wb["Segments"]["B3"].value == "Small & curious <ones>"
    assert "tblSegments" in wb["Segments"].tables
    assert "tblMine" in wb["Notes"].tables and "tblAccounts" in wb["Accounts"].tables
    assert "MyMonths" in wb.defined_names
    assert wb["Notes"]["B1"].value == '=COUNTIF(tblTargets[Final priority],"P1")'
    assert wb["Notes"]["A1"].comment is not None
    assert tl.print_title_rows == "$1:$1"
    assert wb["Read Me"]["A1"].font.b  # user styles untouched


def test_calamine_reads_rendered_values(user, rendered, tmp_path):
    out = tmp_path / "out.xlsx"
    graft(user, rendered, out, ENGINE)
    t = read_tables(out, ["tblTargets", "tblSegments", "tblAccounts", "tblMine"])
    assert set(t) == {"tblTargets", "tblSegments", "tblAccounts", "tblMine"}
    tt = t["tblTargets"].data
    assert list(tt.columns) == TARGET_COLUMNS and list(tt.index) == list(range(2, 8))
    assert (tt["Final priority"] == "P1").sum() == 3
    assert tt.loc[2, "Score"] == 90.5
    assert t["tblAccounts"].data.loc[4, "Account name"] == "=not a formula"
    assert t["tblSegments"].data.loc[3, "Segment name"] == "Small & curious <ones>"


def test_regraft_is_stable(user, rendered, tmp_path):
    out1, out2, out3 = (tmp_path / f"out{i}.xlsx" for i in (1, 2, 3))
    graft(user, rendered, out1, ENGINE)
    rendered2 = make_rendered(tmp_path / "rendered2.xlsx", p1=4)
    report = graft(out1, rendered2, out2, ENGINE)
    assert report.replaced == ENGINE and report.added == []
    assert report.styles_appended == {}
    graft(out2, rendered2, out3, ENGINE)
    with zipfile.ZipFile(out1) as z1, zipfile.ZipFile(out2) as z2, zipfile.ZipFile(out3) as z3:
        assert z2.read("xl/styles.xml") == z1.read("xl/styles.xml")
        assert sorted(z2.namelist()) == sorted(z1.namelist())  # same part names reused
        assert sorted(z3.namelist()) == sorted(z1.namelist())
        for name in z2.namelist():
            if name not in ("xl/worksheets/sheet5.xml",):
                pass
        assert z3.read("xl/workbook.xml") == z2.read("xl/workbook.xml")
    check_integrity(out2)
    check_integrity(out3)
    t = read_tables(out2, ["tblTargets"])["tblTargets"].data
    assert (t["Final priority"] == "P1").sum() == 4


def test_new_formats_are_appended_once(user, rendered, tmp_path):
    out1, out2 = tmp_path / "o1.xlsx", tmp_path / "o2.xlsx"
    graft(user, rendered, out1, ENGINE)
    more = make_rendered(tmp_path / "more.xlsx", extra_fmt=True)
    r = graft(out1, more, out2, ENGINE)
    # an unused XlsxWriter format is not written by XlsxWriter: nothing to add
    assert r.styles_appended == {}


def test_xlsm_keeps_its_macros(tmp_path):
    user = make_user(tmp_path / "team.xlsm", vba=True)
    rendered = make_rendered(tmp_path / "rendered.xlsx")
    out = tmp_path / "out.xlsm"
    graft(user, rendered, out, ENGINE)
    with zipfile.ZipFile(user) as a, zipfile.ZipFile(out) as b:
        assert b.read("xl/vbaProject.bin") == a.read("xl/vbaProject.bin")
        ct = b.read("[Content_Types].xml")
        assert b"application/vnd.ms-excel.sheet.macroEnabled.main+xml" in ct
        assert b"vbaProject" in b.read("xl/_rels/workbook.xml.rels")
    check_integrity(out)


def test_user_table_with_an_engine_table_name_is_refused(tmp_path):
    user = make_user(tmp_path / "team.xlsx", own_table_name="tblSegments")
    rendered = make_rendered(tmp_path / "rendered.xlsx")
    with pytest.raises(WorkbookError, match="tblSegments.*'Notes'"):
        graft(user, rendered, tmp_path / "out.xlsx", ENGINE)


def test_unknown_sheet_name(user, rendered, tmp_path):
    with pytest.raises(ValueError, match="History"):
        graft(user, rendered, tmp_path / "out.xlsx", ["History"])


def test_active_tab_is_kept_selected(tmp_path):
    path = tmp_path / "team.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    wb.add_worksheet("Read Me")
    tl = wb.add_worksheet("Target List")
    tl.activate()
    wb.close()
    rendered = make_rendered(tmp_path / "r.xlsx")
    out = tmp_path / "out.xlsx"
    graft(path, rendered, out, ENGINE)
    assert b'tabSelected="1"' in sheet_xml(out, "Target List")
    assert b"tabSelected" not in sheet_xml(out, "Segments")
    assert b"tabSelected" not in sheet_xml(out, "Read Me")


# --- real spreadsheet programs -------------------------------------------------------------
def _csv_rows(path: Path) -> list[list[str]]:
    with open(path, newline="", encoding="utf-8", errors="replace") as fh:
        return list(csv.reader(fh))


@pytest.mark.skipif(shutil.which("ssconvert") is None, reason="Gnumeric (ssconvert) not installed")
def test_gnumeric_opens_and_recalculates(user, rendered, tmp_path):
    out = tmp_path / "out.xlsx"
    graft(user, rendered, out, ENGINE)
    target = tmp_path / "g_%s.csv"
    proc = subprocess.run(["ssconvert", "--recalc", "-S", str(out), str(target)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    notes = _csv_rows(tmp_path / "g_Notes.csv")
    # Gnumeric 1.12 has no Excel tables: it keeps structured references as text
    # (it says so on stderr for the original file too); address formulas recalculate.
    assert notes[1][:2] == ["Top account", "R000"]
    tl = _csv_rows(tmp_path / "g_Target List.csv")
    assert tl[0][:6] == TARGET_COLUMNS and [r[4] for r in tl[1:7]].count("P1") == 3


LO_RECALC_ALWAYS = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry"
 xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode"
 oor:op="fuse"><value>0</value></prop></item>
</oor:items>
"""


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) not installed")
def test_libreoffice_opens_and_recalculates(user, rendered, tmp_path):
    out = tmp_path / "out.xlsx"
    graft(user, rendered, out, ENGINE)
    # LibreOffice does not honour fullCalcOnLoad (Excel does): tell this private
    # profile to recalculate OOXML files on load, as a user can in its options.
    profile = tmp_path / "lo-profile"
    (profile / "user").mkdir(parents=True)
    (profile / "user" / "registrymodifications.xcu").write_text(LO_RECALC_ALWAYS)
    # CSV filter options: separator, quote, UTF-8, first line, ..., sheet -1 = every sheet
    filt = "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,-1"
    base = ["soffice", f"-env:UserInstallation=file://{profile}", "--headless", "--convert-to"]
    proc = subprocess.run(base + [filt, "--outdir", str(tmp_path / "lo"), str(out)],
                          capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr
    notes = _csv_rows(tmp_path / "lo" / "out-Notes.csv")
    assert notes[0][:2] == ["P1 targets", "3"]  # tblTargets[Final priority] resolves
    assert notes[1][:2] == ["Top account", "R000"]
    tl = _csv_rows(tmp_path / "lo" / "out-Target List.csv")
    assert tl[0][:6] == TARGET_COLUMNS and [r[4] for r in tl[1:7]].count("P1") == 3
    proc = subprocess.run(base + ["pdf", "--outdir", str(tmp_path / "lo"), str(out)],
                          capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0 and (tmp_path / "lo" / "out.pdf").stat().st_size > 1000


# --- the sheet transformation, both paths ---------------------------------------------------
def test_sheet_transform_fast_and_general_paths():
    from maillon.addin.ooxml.graft import SheetTransform

    tr = SheetTransform({0: 0, 1: 7, 2: 9}, {0: 4}, [b"<t>hi</t>", b'<t xml:space="preserve"> a </t>'])
    head = (b'<worksheet><sheetViews><sheetView tabSelected="1" workbookViewId="0"/></sheetViews>'
            b'<cols><col min="1" max="1" style="2"/></cols>')
    tail = b'<conditionalFormatting sqref="A1"><cfRule type="x" dxfId="0"/></conditionalFormatting></worksheet>'
    fast = (b'<sheetData><row r="1" spans="1:3" s="1" customFormat="1"><c r="A1" s="1" t="s"><v>0</v></c>'
            b'<c r="B1" t="s"><v>1</v></c><c r="C1" s="2"><v>3.5</v></c></row></sheetData>')
    out = tr(head + fast + tail, selected=False)
    assert b"tabSelected" not in out and b'style="9"' in out and b'dxfId="4"' in out
    assert (b'<row r="1" spans="1:3" s="7" customFormat="1"><c r="A1" s="7" t="inlineStr"><is><t>hi</t>'
            b'</is></c><c r="B1" t="inlineStr"><is><t xml:space="preserve"> a </t></is></c>'
            b'<c r="C1" s="9"><v>3.5</v></c></row>') in out
    # another attribute order, text that looks like an attribute, a formula
    odd = (b'<sheetData><row r="1" s="1"><c s="1" r="A1" t="s"><v>1</v></c>'
           b'<c r="B1" s="2" t="inlineStr"><is><t>x" s="1" y</t></is></c>'
           b'<c r="C1" s="1"><f>A1&amp;" s=""2"""</f><v>0</v></c></row></sheetData>')
    out = tr(head + odd + tail, selected=True)
    assert b'<sheetView tabSelected="1" workbookViewId="0"/>' in out
    assert b'<row r="1" s="7">' in out
    assert b'<c s="7" r="A1" t="inlineStr"><is><t xml:space="preserve"> a </t></is></c>' in out
    assert b'<c r="B1" s="9" t="inlineStr"><is><t>x" s="1" y</t></is></c>' in out
    assert b'<c r="C1" s="7"><f>A1&amp;" s=""2"""</f><v>0</v></c>' in out
    with pytest.raises(WorkbookError, match="cell format 5"):
        tr(head + b'<sheetData><row r="1"><c r="A1" s="5"/></row></sheetData>' + tail, False)


def test_graft_with_deferred_bodies(user, tmp_path):
    """The file mode's path: rows streamed by the graft, the same cells as cell by cell."""
    try:
        from engine_result_factory import make_result
    except ImportError:  # pragma: no cover
        from tests.engine_result_factory import make_result
    from python_calamine import CalamineWorkbook

    from maillon.addin.filemode.write import render_skeleton, write_specs
    from maillon.addin.render.layout import layout
    from maillon.engine import contract as C

    specs = layout(make_result(n_accounts=300, n_segments=5, weeks=8))
    complete, skeleton = tmp_path / "complete.xlsx", tmp_path / "skeleton.xlsx"
    wb = xlsxwriter.Workbook(str(complete))  # every cell through XlsxWriter
    write_specs(wb, specs)
    wb.close()
    bodies = render_skeleton(specs, skeleton)
    names = list(C.ENGINE_SHEETS)
    out_a, out_b = tmp_path / "a.xlsx", tmp_path / "b.xlsx"
    report_a = graft(user, complete, out_a, names)
    report_b = graft(user, skeleton, out_b, names, bodies=bodies)
    assert report_a == report_b
    with zipfile.ZipFile(out_a) as za, zipfile.ZipFile(out_b) as zb, \
            zipfile.ZipFile(user) as zu:
        assert zb.testzip() is None  # CRCs and sizes of the streamed members are right
        assert za.namelist() == zb.namelist()
        for info in zu.infolist():  # what one graft kept byte for byte, the other keeps
            if info.filename in za.namelist() and za.read(info.filename) == zu.read(info):
                assert zb.getinfo(info.filename).CRC == info.CRC, info.filename
    check_integrity(out_b)
    a, b = CalamineWorkbook.from_path(str(out_a)), CalamineWorkbook.from_path(str(out_b))
    assert a.sheet_names == b.sheet_names
    for sheet in a.sheet_names:
        assert a.get_sheet_by_name(sheet).to_python() == b.get_sheet_by_name(sheet).to_python()
    # and again over the grafted file (the engine sheets are replaced)
    out_c = tmp_path / "c.xlsx"
    graft(out_b, skeleton, out_c, names, bodies=bodies)
    assert sheet_xml(out_c, C.SHEET_TARGETS) == sheet_xml(out_b, C.SHEET_TARGETS)
    with zipfile.ZipFile(out_c) as zc:
        assert zc.testzip() is None


def test_zip_writer(tmp_path):
    """The one zip writer: raw copies keep a member's bytes; bytes and chunks are deflated."""
    from maillon.addin.ooxml.zipwriter import ZipWriter

    source = tmp_path / "source.zip"
    with zipfile.ZipFile(source, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(zipfile.ZipInfo("kept.xml", (2023, 1, 2, 3, 4, 6)), b"<kept/>" * 1000)
        z.writestr("stored.bin", b"\x00\x01", compress_type=zipfile.ZIP_STORED)
    chunks = [bytes([65 + i % 26]) * (100_000 + i) for i in range(7)]
    path = tmp_path / "s.zip"
    with open(path, "wb") as fh, open(source, "rb") as src, ZipWriter(fh) as z:
        for info in zipfile.ZipFile(source).infolist():
            z.copy_raw(src, info)
        z.write_bytes("small.xml", b"<a/>")
        z.write_chunks("big.xml", iter(chunks), date_time=(2024, 5, 6, 7, 8, 10))
        z.write_chunks("empty.xml", iter([]))
    with zipfile.ZipFile(path) as z, zipfile.ZipFile(source) as s:
        assert z.testzip() is None
        assert z.read("big.xml") == b"".join(chunks)
        assert z.read("empty.xml") == b"" and z.read("small.xml") == b"<a/>"
        assert z.getinfo("big.xml").date_time == (2024, 5, 6, 7, 8, 10)
        for name in ("kept.xml", "stored.bin"):
            a, b = z.getinfo(name), s.getinfo(name)
            assert (a.CRC, a.compress_type, a.compress_size, a.date_time) == \
                (b.CRC, b.compress_type, b.compress_size, b.date_time)
            assert z.read(name) == s.read(name)
