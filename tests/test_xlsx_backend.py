"""The XlsxWriter backend: render a result through the file mode's write path, read it back.

Every file here is written as ``maillon recompute`` writes one
(:func:`render`: ``render_skeleton``, then ``graft`` with the deferred
bodies, into a one-sheet user workbook). openpyxl reads back what XlsxWriter
and the row writer wrote (tables, formats, conditional formats, validations,
charts, print setup); python-calamine reads the values as the file mode does;
LibreOffice and Gnumeric must open the file.
"""
from __future__ import annotations

import re
import warnings
import zipfile
from pathlib import Path

import openpyxl
import pytest
import xlsxwriter
from python_calamine import CalamineWorkbook

from maillon.addin.render import specs as S
from maillon.addin.render.layout import TABLE_ROW, layout
from maillon.addin.filemode.write import DeferredBodies, render_skeleton, write_specs
from maillon.addin.ooxml.graft import graft
from maillon.addin.ooxml.package import Package
from maillon.engine import contract as C

from engine_result_factory import AWKWARD_NAMES, make_result
from realclients import gnumeric_opens, libreoffice_opens, needs_gnumeric, needs_libreoffice

N = 400
INPUT_FILL = "FFFFF2CC"
NOTES = "Notes"  # the one user sheet of the workbook that :func:`render` grafts into


def render(specs, path):
    """``specs`` written to ``path`` as the file mode writes them: skeleton, then graft."""
    path = Path(path)
    user = path.with_name(path.stem + "-user.xlsx")
    wb = xlsxwriter.Workbook(str(user))
    wb.add_worksheet(NOTES).write_string(0, 0, "notes of the user")
    wb.close()
    skeleton = path.with_name(path.stem + "-skeleton.xlsx")
    bodies = render_skeleton(specs, skeleton)
    graft(user, skeleton, path, [s.name for s in specs], bodies=bodies)
    return path


def render_naive(specs, path):
    """``specs`` written to ``path`` with one XlsxWriter call per cell (as the template is)."""
    wb = xlsxwriter.Workbook(str(path))
    write_specs(wb, specs)
    wb.close()
    return path


def sheet_xml(path, sheet: str) -> str:
    with Package(path) as pkg:
        return pkg.read(next(s for s in pkg.sheets if s.name == sheet).part).decode("utf-8")


@pytest.fixture(scope="module")
def result():
    return make_result(n_accounts=N, n_segments=6, weeks=12)


@pytest.fixture(scope="module")
def rendered(result, tmp_path_factory):
    path = tmp_path_factory.mktemp("render") / "engine.xlsx"
    return render(layout(result), path)


@pytest.fixture(scope="module")
def book(rendered):
    with warnings.catch_warnings():  # openpyxl drops the Excel 2010 data-bar extension
        warnings.simplefilter("ignore")
        return openpyxl.load_workbook(rendered)


def _tables(book) -> dict:
    out = {}
    for ws in book.worksheets:
        for table in ws.tables.values():
            out[table.name] = (ws, table)
    return out


def _headers(ws, ref: str) -> list:
    first = ref.split(":")[0]
    row = int(re.sub(r"[A-Z]", "", first))
    (cells,) = ws.iter_rows(min_row=row, max_row=row, values_only=True)
    col0 = openpyxl.utils.column_index_from_string(re.sub(r"\d", "", first)) - 1
    last = openpyxl.utils.range_boundaries(ref)[2]
    return list(cells[col0:last])


def _column_of(ws, table, header: str) -> str:
    headers = _headers(ws, table.ref)
    first_col = openpyxl.utils.range_boundaries(table.ref)[0]
    return openpyxl.utils.get_column_letter(first_col + headers.index(header))


def test_sheets_in_contract_order(book):
    assert book.sheetnames == [NOTES, *C.ENGINE_SHEETS]


@pytest.mark.parametrize("name,columns,rows", [
    (C.TBL_SEGMENTS, C.SEGMENT_COLUMNS + [C.CHECK_COLUMN], 6),
    (C.TBL_ABC, C.ABC_COLUMNS, 12),
    (C.TBL_TARGETS, C.TARGET_COLUMNS + [C.CHECK_COLUMN], N),
    (C.TBL_HISTORY, C.HISTORY_COLUMNS + [C.CELLS_CHECK_COLUMN], 3),
    (C.TBL_EDITS, C.EDIT_COLUMNS, 3),
])
def test_tables_name_ref_and_exact_headers(book, result, name, columns, rows):
    ws, table = _tables(book)[name]
    assert table.name == name
    assert _headers(ws, table.ref) == columns
    min_col, min_row, max_col, max_row = openpyxl.utils.range_boundaries(table.ref)
    assert max_row - min_row == rows
    assert max_col - min_col + 1 == len(columns)
    assert [c.name for c in table.tableColumns] == columns


def test_plan_and_conflicts_tables(book, result):
    ws, plan = _tables(book)[C.TBL_PLAN]
    assert _headers(ws, plan.ref) == list(result.plan.columns)
    last_col = openpyxl.utils.get_column_letter(len(result.plan.columns))
    assert plan.ref == f"A{TABLE_ROW + 1}:{last_col}{TABLE_ROW + 1 + len(result.plan)}"
    ws, conflicts = _tables(book)[C.TBL_CONFLICTS]
    assert _headers(ws, conflicts.ref) == C.CONFLICT_COLUMNS


def test_check_column_is_hidden_inside_the_table(book):
    for name in (C.TBL_SEGMENTS, C.TBL_TARGETS, C.TBL_PLAN):
        ws, table = _tables(book)[name]
        letter = _column_of(ws, table, C.CHECK_COLUMN)
        assert ws.column_dimensions[letter].hidden, name
        assert ws[f"{letter}{TABLE_ROW + 2}"].value  # the digest is there


def test_number_formats(book):
    ws, seg = _tables(book)[C.TBL_SEGMENTS]
    row = TABLE_ROW + 2
    assert ws[f"{_column_of(ws, seg, 'Revenue 12m')}{row}"].number_format == '#,##0 "€"'
    assert ws[f"{_column_of(ws, seg, 'Potential')}{row}"].number_format == '#,##0 "€"'
    ws, targets = _tables(book)[C.TBL_TARGETS]
    assert ws[f"{_column_of(ws, targets, 'Score')}{row}"].number_format == "0.0"
    assert ws[f"{_column_of(ws, targets, 'Why')}{row}"].alignment.wrap_text
    ws, plan = _tables(book)[C.TBL_PLAN]
    start = ws[f"{_column_of(ws, plan, 'Start')}{row}"]
    assert start.number_format == "yyyy-mm-dd" and start.is_date
    ws, hist = _tables(book)[C.TBL_HISTORY]
    run_at = ws[f"A{row}"]
    assert run_at.number_format == "yyyy-mm-dd hh:mm" and run_at.is_date
    rec = book[C.SHEET_RECONCILIATION]
    assert rec["A5"].number_format == "0%" and 0 < rec["A5"].value < 1
    dash = book[C.SHEET_DASHBOARD]
    labels = {dash.cell(r, 1).value: dash.cell(r, 2) for r in range(1, 30)}
    assert labels["Agreement"].number_format == "0%"
    assert labels["Potential"].number_format == '#,##0 "€"'


def test_editable_columns_are_yellow(book):
    for name, editable in ((C.TBL_SEGMENTS, C.SEGMENT_EDITABLE),
                           (C.TBL_TARGETS, C.TARGET_EDITABLE), (C.TBL_PLAN, C.PLAN_EDITABLE)):
        ws, table = _tables(book)[name]
        for header in _headers(ws, table.ref):
            letter = _column_of(ws, table, header)
            head = ws[f"{letter}{TABLE_ROW + 1}"]
            cell = ws[f"{letter}{TABLE_ROW + 2}"]
            if header in editable:
                assert head.fill.fgColor.rgb == INPUT_FILL, (name, header)
                assert cell.fill.fgColor.rgb == INPUT_FILL, (name, header)  # blank ones too
            else:
                assert head.fill.fgColor.rgb != INPUT_FILL, (name, header)
                assert cell.fill.fgColor.rgb != INPUT_FILL, (name, header)


def _rules(ws) -> dict:
    out = {}
    for rng in ws.conditional_formatting:
        out.setdefault(str(rng.sqref), []).extend(rng.rules)
    return out


def test_priority_colours_and_score_bar(book):
    ws, targets = _tables(book)[C.TBL_TARGETS]
    rules = _rules(ws)
    last = TABLE_ROW + 1 + N
    for header in ("Computed priority", "Final priority"):
        letter = _column_of(ws, targets, header)
        found = rules[f"{letter}{TABLE_ROW + 2}:{letter}{last}"]
        assert sorted(r.formula[0] for r in found) == ['"Exclude"', '"P1"', '"P2"', '"P3"']
        p1 = next(r for r in found if r.formula[0] == '"P1"')
        assert p1.dxf.fill.bgColor.rgb == "FFFFC7CE"
    score = _column_of(ws, targets, "Score")
    (bar,) = rules[f"{score}{TABLE_ROW + 2}:{score}{last}"]
    assert bar.type == "dataBar"
    assert [(v.type, float(v.val)) for v in bar.dataBar.cfvo] == [("num", 0.0), ("num", 100.0)]


def test_priority_override_validation(book):
    ws, targets = _tables(book)[C.TBL_TARGETS]
    letter = _column_of(ws, targets, "Priority override")
    (dv,) = [d for d in ws.data_validations.dataValidation
             if str(d.sqref) == f"{letter}{TABLE_ROW + 2}:{letter}{TABLE_ROW + 1 + N}"]
    assert dv.type == "list" and dv.formula1 == '"P1,P2,P3,Exclude"'
    assert dv.allow_blank


def test_plan_week_colours_validation_and_print_setup(book, result):
    ws, plan = _tables(book)[C.TBL_PLAN]
    weeks = [h for h in result.plan.columns if h not in C.PLAN_FIXED_COLUMNS + [C.CHECK_COLUMN]]
    first, last = _column_of(ws, plan, weeks[0]), _column_of(ws, plan, weeks[-1])
    grid = f"{first}{TABLE_ROW + 2}:{last}{TABLE_ROW + 1 + len(result.plan)}"
    rules = _rules(ws)[grid]
    assert sorted(r.formula[0] for r in rules) == ['"J"', '"M"', '"S"']
    status = _column_of(ws, plan, "Status")
    dv = next(d for d in ws.data_validations.dataValidation if str(d.sqref).startswith(status))
    assert dv.formula1 == '"' + ",".join(C.PLAN_STATUSES) + '"'
    assert ws.column_dimensions[first].width < 5
    assert ws.page_setup.orientation == "landscape"
    # fitToWidth="1" is the default of the attribute, so XlsxWriter leaves it out
    assert ws.page_setup.fitToWidth in (None, 1) and ws.page_setup.fitToHeight == 0
    assert ws.sheet_properties.pageSetUpPr.fitToPage
    assert ws.print_title_rows.replace("$", "") == f"{TABLE_ROW + 1}:{TABLE_ROW + 1}"
    assert "Joint action plan" in ws.oddHeader.center.text
    assert ws.oddHeader.right.text == "&D"
    assert ws.freeze_panes == f"E{TABLE_ROW + 2}"


def test_plan_extra_rows_below_the_table(book, result):
    ws, plan = _tables(book)[C.TBL_PLAN]
    last = openpyxl.utils.range_boundaries(plan.ref)[3]
    assert all(c.value is None for c in ws[last + 1])
    assert ws.cell(last + 2, 4).value == "Team offsite (added by hand)"
    assert ws.cell(last + 2, 9).is_date
    assert ws.cell(last + 3, 4).value == "=SUM(1,2) typed as text"
    assert ws.cell(last + 3, 4).data_type == "s"
    assert ws.cell(last + 3, 8).value == 3.5


def test_frozen_panes(book):
    assert book[C.SHEET_TARGETS].freeze_panes == f"D{TABLE_ROW + 2}"
    assert book[C.SHEET_SEGMENTS].freeze_panes == f"C{TABLE_ROW + 2}"
    assert book[C.SHEET_HISTORY].freeze_panes == f"A{TABLE_ROW + 2}"


def test_dashboard_charts_and_heat_map(book):
    ws = book[C.SHEET_DASHBOARD]
    assert len(ws._charts) == 4
    kinds = sorted(type(ch).__name__ for ch in ws._charts)
    assert kinds == ["BarChart", "BarChart", "BarChart", "DoughnutChart"]
    for ch in ws._charts:
        for s in ch.series:
            assert s.val.numRef.f.startswith("Dashboard!$")
    assert any(r.type == "colorScale" for rules in _rules(ws).values() for r in rules)


def test_abc_and_reconciliation_heat_maps(book):
    for name, count in ((C.SHEET_ABC, 3), (C.SHEET_RECONCILIATION, 3)):
        scales = [r for rules in _rules(book[name]).values() for r in rules
                  if r.type == "colorScale"]
        assert len(scales) == count


def test_data_text_is_never_a_formula(book, rendered):
    ws, targets = _tables(book)[C.TBL_TARGETS]
    letter = _column_of(ws, targets, "Account name")
    cells = {c.value: c for (c,) in ws[f"{letter}{TABLE_ROW + 2}:{letter}{TABLE_ROW + 1 + N}"]}
    formula_like = [n for n in AWKWARD_NAMES if n[0] in "=+-@"]
    for name in formula_like:
        assert cells[name].data_type == "s", name
    # no formula anywhere in the engine sheets
    with zipfile.ZipFile(rendered) as z:
        for part in z.namelist():
            if part.startswith("xl/worksheets/sheet"):
                assert "<f>" not in z.read(part).decode("utf-8"), part


def _calamine(path) -> dict:
    """Sheet -> rows of values, the user's sheet left out."""
    wb = CalamineWorkbook.from_path(str(path))
    return {name: wb.get_sheet_by_name(name).to_python() for name in wb.sheet_names
            if name != NOTES}


def test_awkward_strings_read_back_exactly(rendered):
    names = {row[2] for row in _calamine(rendered)[C.SHEET_TARGETS][TABLE_ROW + 1:]}
    for awkward in AWKWARD_NAMES:
        assert awkward in names, repr(awkward)


def test_file_mode_and_cell_by_cell_give_the_same_values(result, rendered, tmp_path):
    naive = render_naive(layout(result), tmp_path / "naive.xlsx")
    assert _calamine(naive) == _calamine(rendered)


def test_engine_sheets_hold_inline_strings_only(rendered):
    """The user's sharedStrings.xml is never needed by, nor grown for, an engine sheet."""
    for sheet in C.ENGINE_SHEETS:
        xml = sheet_xml(rendered, sheet)
        assert ' t="s"' not in xml, sheet
        assert 't="inlineStr"' in xml, sheet


def test_xlsxwriter_private_api_is_as_expected(tmp_path):
    """What xlsxwriter_private relies on; an XlsxWriter upgrade that changes it fails here."""
    from maillon.xlsxwriter_private import cell_format_index

    major_minor = tuple(int(p) for p in xlsxwriter.__version__.split(".")[:2])
    assert (3, 1) <= major_minor < (3, 4), \
        f"XlsxWriter {xlsxwriter.__version__}: check xlsxwriter_private, then pyproject's bound"
    path = tmp_path / "formats.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("S")
    bold, italic = wb.add_format({"bold": True}), wb.add_format({"italic": True})
    assert cell_format_index(italic) == 1  # reserved: no cell uses it
    ws.write_string(0, 0, "x", bold)
    assert cell_format_index(bold) == 2
    assert cell_format_index(italic) == 1 and cell_format_index(None) == 0
    wb.close()
    with zipfile.ZipFile(path) as z:
        styles = z.read("xl/styles.xml").decode("utf-8")
    xfs = re.search(r"<cellXfs [^>]*>(.*?)</cellXfs>", styles).group(1)
    fonts = re.search(r"<fonts [^>]*>(.*?)</fonts>", styles).group(1)
    xf_fonts = [int(f) for f in re.findall(r'<xf [^>]*fontId="(\d+)"', xfs)]
    font_xml = re.findall(r"<font>.*?</font>", fonts)
    assert len(xf_fonts) == 3  # the default, then the two formats in index order
    assert "<i/>" in font_xml[xf_fonts[1]] and "<b/>" in font_xml[xf_fonts[2]]


def test_write_specs_into_a_workbook_with_other_sheets(result, tmp_path):
    path = tmp_path / "with-user-sheets.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    wb.add_worksheet("Read Me").write_string(0, 0, "hello")
    write_specs(wb, layout(result))
    wb.close()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        back = openpyxl.load_workbook(path)
    assert back.sheetnames == ["Read Me", *C.ENGINE_SHEETS]
    assert back[C.SHEET_TARGETS].tables[C.TBL_TARGETS].ref == \
        f"A{TABLE_ROW + 1}:R{TABLE_ROW + 1 + N}"


def test_overlapping_tables_are_refused(tmp_path):
    import pandas as pd
    df = pd.DataFrame({"a": [1, 2]})
    spec = S.SheetSpec("X", tables=[S.Table("t1", 0, 0, df), S.Table("t2", 2, 0, df)])
    with pytest.raises(ValueError, match="overlaps"):
        render_skeleton([spec], tmp_path / "x.xlsx")


def test_empty_tables_render(tmp_path):
    r = make_result(n_accounts=5, n_edits=0, n_segments=2)
    r.conflicts = r.conflicts.iloc[0:0]
    path = render(layout(r), tmp_path / "empty.xlsx")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        back = openpyxl.load_workbook(path)
    edits = back[C.SHEET_HISTORY].tables[C.TBL_EDITS]
    rows = openpyxl.utils.range_boundaries(edits.ref)
    assert rows[3] - rows[1] == 1  # header and one empty row


def test_rendered_file_keeps_default_permissions(rendered):
    assert rendered.stat().st_mode & 0o044  # readable by others, like any new file


@needs_libreoffice
def test_libreoffice_opens_rendered_file(rendered):
    ok, message = libreoffice_opens(rendered, "pdf")
    assert ok, message


# Gnumeric has no colour scales or data bars: it says so, and reads the rest.
@needs_gnumeric
def test_gnumeric_opens_rendered_file(rendered, tmp_path):
    ok, message = gnumeric_opens(rendered, "csv", outdir=tmp_path)
    assert ok, message
    assert len(list(tmp_path.glob("*.csv"))) == len(C.ENGINE_SHEETS) + 1  # and the user's


def test_real_engine_result_renders_and_reads_back(tmp_path):
    samples = pytest.importorskip("maillon.engine.samples")
    from maillon.engine.pipeline import recompute

    result = recompute(samples.small_input(120))
    path = render(layout(result), tmp_path / "real.xlsx")
    rows = _calamine(path)[C.SHEET_TARGETS]
    header = rows[TABLE_ROW]
    assert header == C.TARGET_COLUMNS + [C.CHECK_COLUMN]
    body = rows[TABLE_ROW + 1:TABLE_ROW + 1 + len(result.targets)]
    ids = [r[header.index("Account ID")] for r in body]
    assert ids == result.targets["Account ID"].tolist()
    scores = [r[header.index("Score")] for r in body]
    assert scores == pytest.approx(result.targets["Score"].tolist())
    checks = [r[header.index(C.CHECK_COLUMN)] for r in body]
    assert checks == result.targets[C.CHECK_COLUMN].tolist()


def test_empty_result_renders_for_the_template(tmp_path):
    """The template holds the engine sheets rendered empty: every table, no data."""
    from engine_result_factory import empty_result

    path = render(layout(empty_result()), tmp_path / "empty.xlsx")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        back = openpyxl.load_workbook(path)
    names = {t.name for ws in back.worksheets for t in ws.tables.values()}
    assert names == {C.TBL_SEGMENTS, C.TBL_ABC, C.TBL_CONFLICTS, C.TBL_TARGETS, C.TBL_PLAN,
                     C.TBL_HISTORY, C.TBL_EDITS}
    assert len(back[C.SHEET_DASHBOARD]._charts) == 4
    ok, message = libreoffice_opens(path, "pdf") if libreoffice_opens else (True, "")
    assert ok or "not installed" in message, message


def _styles_by_cell(path, values: bool = True) -> dict:
    """Sheet -> {cell: (value, number format, fill, font, border, alignment)}, resolved.

    ``values=False`` leaves the value out (openpyxl does not undo the
    ``_x005F_`` escape of an inline string; calamine, Excel and LibreOffice do).
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        book = openpyxl.load_workbook(path)
    return {ws.title: {c.coordinate: repr((c.value if values else None, c.number_format,
                                           c.fill, c.font, c.border, c.alignment))
                       for row in ws.iter_rows() for c in row}
            for ws in book.worksheets}


def test_table_beside_other_cells_is_spliced_like_naive(tmp_path):
    """Cells left and right of a table on its rows (and a row height) merge into its rows."""
    import pandas as pd

    df = pd.DataFrame({"Name": ["a", "b & <c>", "", 'say "hi"'], "Value": [1.5, None, 3.0, 4.0],
                       "When": pd.to_datetime(["2024-01-02", None, "2024-03-04", "2024-05-06"])})
    spec = S.SheetSpec(
        "Side",
        cells=[S.Cells(0, 0, [["title"]]), S.Cells(2, 0, [["left"], ["left 2"]], S.CellStyle(font=S.Font(bold=True))),
               S.Cells(1, 5, [["right", 7.0], ["r2", 8.0], ["r3", 9.0]],
                       S.CellStyle(fill="#FFF2CC")),
               S.Cells(8, 1, [["below"]])],
        row_heights={3: 30},
        tables=[S.Table("tblSide", 1, 1, df,
                        column_formats={"Value": S.CellStyle(num_format="0.0")})])
    fast = render([spec], tmp_path / "fast.xlsx")
    naive = render_naive([spec], tmp_path / "naive.xlsx")
    assert _calamine(fast) == _calamine(naive)
    styles = _styles_by_cell(fast)
    del styles[NOTES]
    assert styles == _styles_by_cell(naive)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        back = openpyxl.load_workbook(fast)
    assert back["Side"].row_dimensions[4].height == 30
    assert back["Side"].tables["tblSide"].ref == "B2:D6"
    xml = sheet_xml(fast, "Side")  # the data rows were spliced, cells in column order
    row3 = re.search(r'<row r="3"([^>]*)>(.*?)</row>', xml)
    assert "spans=" not in row3.group(1)  # XlsxWriter writes spans, the splice drops them
    assert re.findall(r'<c r="([A-Z]+)3"', row3.group(2)) == ["A", "B", "C", "D", "F", "G"]
    row4 = re.search(r'<row r="4"([^>]*)>', xml).group(1)
    assert 'ht="30"' in row4 and "spans=" not in row4


def test_table_with_cells_in_its_columns_is_not_spliced(tmp_path):
    import pandas as pd

    from maillon.addin.filemode.write import _owns_rows

    df = pd.DataFrame({"a": [1, 2, 3], "b": [4, 5, 6]})
    table = S.Table("tblT", 0, 0, df)
    inside = S.SheetSpec("X", tables=[table], cells=[S.Cells(2, 3, [["x"]])])
    assert _owns_rows(inside, table)  # column D, beside the table
    across = S.SheetSpec("X", tables=[table], merges=[S.Merge(2, 1, 2, 3, "m")])
    assert not _owns_rows(across, table)  # a merge over column B


def test_skeleton_leaves_the_rows_to_the_graft(result, tmp_path):
    """render_skeleton leaves exactly the deferred rows out; the graft writes them all."""
    specs = layout(result)
    skeleton = tmp_path / "skeleton.xlsx"
    bodies = render_skeleton(specs, skeleton)
    assert isinstance(bodies, DeferredBodies)
    assert C.SHEET_TARGETS in bodies and "Dashboard" not in bodies
    assert f'<row r="{TABLE_ROW + 2}"' not in sheet_xml(skeleton, C.SHEET_TARGETS)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        short = openpyxl.load_workbook(skeleton)[C.SHEET_TARGETS].tables[C.TBL_TARGETS]
    assert short.ref == f"A{TABLE_ROW + 1}:R{TABLE_ROW + 2}"  # header and first row only
    grafted = render(specs, tmp_path / "grafted.xlsx")
    rows = _calamine(grafted)[C.SHEET_TARGETS]
    assert len(rows) == TABLE_ROW + 1 + N
    naive = render_naive(specs, tmp_path / "naive.xlsx")
    styles = _styles_by_cell(grafted, values=False)
    del styles[NOTES]
    assert styles == _styles_by_cell(naive, values=False)  # the same formats, cell by cell


def test_bulk_formatting_matches_per_value_formatting():
    import numpy as np

    from maillon.addin.filemode.write import (_CONTROL_OR_SPACE, _numbers, _plain_texts,
                                              _text_xml, _texts_xml)

    floats = np.array([0.0, -0.0, 1.0, -1.0, 1e15, 1e15 - 1, 1e16, 0.1, 1 / 3, 2.5e-300,
                       4503599627370497.0, -5.0] * 10)
    assert _numbers(floats) == [f"{v:.16G}" for v in floats.tolist()]
    few = np.array([86.3, 86.0, 12.0] * 100)
    assert _numbers(few) == [f"{v:.16G}" for v in few.tolist()]
    texts = ["plain", " edge", "tab\there", "nbsp\xa0", "_x0041_", "a & <b>", 'q"', "é—",
             "\u2028", "line\nbreak", "zero\u200bwidth"]
    for t in texts:
        assert _plain_texts(t, [t]) == (_CONTROL_OR_SPACE.search(t) is None), repr(t)
    many = texts * 20
    assert _texts_xml(many) == [_text_xml(t) for t in many]
    assert _texts_xml(["ok", "a & b"] * 50) == [_text_xml(t) for t in ["ok", "a & b"] * 50]
    assert _text_xml('a & <b> "c"') == "<t>a &amp; &lt;b&gt; &quot;c&quot;</t>"


# --- the typed specs as XlsxWriter options --------------------------------------------------
def _styles_of(spec: S.SheetSpec) -> list:
    styles = [c.fmt for c in spec.cells] + [c.fmt for c in spec.columns] + \
        [m.fmt for m in spec.merges]
    for t in spec.tables:
        styles += list(t.column_formats.values()) + list(t.header_formats.values())
    return [s for s in styles if s is not None]


def test_file_mode_translates_every_kind_the_layout_emits(result, tmp_path):
    """Each style, rule, validation, chart and page of a real layout is accepted by
    XlsxWriter as it is, with no warning (XlsxWriter warns on an unknown option)."""
    from maillon.addin.filemode import xlsxwriter_options as X

    specs = layout(result)
    kinds = {type(cf) for s in specs for cf in s.cond_formats}
    assert kinds == {S.CellEquals, S.ColorScale, S.DataBar}
    assert {ch.kind for s in specs for ch in s.charts} == {"column", "doughnut"}
    wb = xlsxwriter.Workbook(str(tmp_path / "opts.xlsx"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for spec in specs:
            ws = wb.add_worksheet(spec.name)
            for style in _styles_of(spec):
                props = X.format_options(style)
                assert props and wb.add_format(props) is not None
            for cf in spec.cond_formats:
                opts = X.conditional_format_options(cf)
                if "format" in opts:
                    opts["format"] = wb.add_format(opts["format"])
                assert ws.conditional_format(cf.first_row, cf.first_col, cf.last_row,
                                             cf.last_col, opts) == 0
            for v in spec.validations:
                assert ws.data_validation(v.first_row, v.first_col, v.last_row, v.last_col,
                                          X.validation_options(v)) == 0
            for ch in spec.charts:
                opts = X.chart_options(ch)
                chart = wb.add_chart(opts["chart"])
                for series in opts["series"]:
                    chart.add_series(series)
                ws.insert_chart(ch.row, ch.col, chart, X.chart_insert_options(ch))
            if spec.page is not None:
                for method, args in X.page_calls(spec.page):
                    getattr(ws, method)(*args)
        wb.close()


def test_typed_styles_become_the_xlsxwriter_properties():
    from maillon.addin.filemode.xlsxwriter_options import conditional_format_options as cfo
    from maillon.addin.filemode.xlsxwriter_options import format_options

    style = S.CellStyle(font=S.Font(bold=True, italic=True, color="#1F3864", size=9),
                        fill="#FFF2CC", border=S.Border("medium", "#BF9000"),
                        align=S.Alignment(horizontal="center", vertical="center", wrap=True,
                                          rotation=90), num_format="0%")
    assert format_options(style) == {
        "bold": True, "italic": True, "font_size": 9, "font_color": "#1F3864",
        "bg_color": "#FFF2CC", "text_wrap": True, "align": "center", "valign": "vcenter",
        "rotation": 90, "border": 2, "border_color": "#BF9000", "num_format": "0%"}
    assert cfo(S.ColorScale(0, 0, 3, 2, "#F8F9FB", "#9DC3E6", "#2F5597")) == {
        "type": "3_color_scale", "min_color": "#F8F9FB", "mid_color": "#9DC3E6",
        "max_color": "#2F5597"}
    assert cfo(S.DataBar(0, 0, 9, 0, "#5B9BD5", 0, 100, solid=False))["bar_solid"] is False
    assert cfo(S.CellEquals(0, 0, 9, 0, 'a"b', font_color="#9C0006")) == {
        "type": "cell", "criteria": "==", "value": '"a""b"',
        "format": {"font_color": "#9C0006"}}
    with pytest.raises(TypeError, match="not a conditional format"):
        cfo({"type": "data_bar"})


def test_xlsxwriter_private_writers_are_as_expected(tmp_path):
    """The template's two internals: the unchecked number writer and the table record."""
    from maillon.xlsxwriter_private import add_table_unchecked, number_writer

    path = tmp_path / "big.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("S")
    assert hasattr(ws, "_write_number"), "XlsxWriter renamed _write_number"
    assert isinstance(getattr(ws, "table_cells", None), dict), "XlsxWriter changed table_cells"
    write = number_writer(ws)
    for r in range(1, 3001):
        write(r, 0, float(r), None)
        write(r, 3, float(-r), None)
    add_table_unchecked(ws, 0, 0, 3000, 3, {"name": "tblBig", "columns": [
        {"header": h} for h in ("A", "B", "C", "D")]})
    assert ws.table_cells == {}  # no cell-by-cell record for a big table
    add_table_unchecked(ws, 0, 6, 2, 7, {"name": "tblSmall"})
    assert len(ws.table_cells) == 6  # a small one keeps XlsxWriter's overlap check
    wb.close()
    rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_name("S").to_python()
    assert rows[3000][0] == 3000.0 and rows[1][3] == -1.0
    with zipfile.ZipFile(path) as z:
        assert 'ref="A1:D3001"' in z.read("xl/tables/table1.xml").decode()
