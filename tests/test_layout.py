"""The renderer's layout: what each engine-owned sheet holds, before any backend."""
from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from maillon.addin.render import specs as S
from maillon.addin.render.layout import FORMATS, TABLE_ROW, layout, money_format
from maillon.engine import contract as C

from engine_result_factory import make_result
from realclients import SSCONVERT, needs_gnumeric

TABLES = {C.TBL_SEGMENTS: C.SEGMENT_COLUMNS, C.TBL_ABC: C.ABC_COLUMNS,
          C.TBL_CONFLICTS: C.CONFLICT_COLUMNS, C.TBL_TARGETS: C.TARGET_COLUMNS,
          C.TBL_HISTORY: C.HISTORY_COLUMNS + [C.CELLS_CHECK_COLUMN], C.TBL_EDITS: C.EDIT_COLUMNS}


@pytest.fixture(scope="module")
def result():
    return make_result(n_accounts=300, n_segments=6, weeks=12)


@pytest.fixture(scope="module")
def specs(result):
    return {s.name: s for s in layout(result)}


def _table(specs, name) -> S.Table:
    return next(t for s in specs.values() for t in s.tables if t.name == name)


def _sheet_of(specs, name) -> S.SheetSpec:
    return next(s for s in specs.values() for t in s.tables if t.name == name)


def test_sheets_in_contract_order(result):
    assert [s.name for s in layout(result)] == list(C.ENGINE_SHEETS)


def test_layout_rejects_what_is_not_a_result():
    with pytest.raises(TypeError, match="EngineResult"):
        layout({"targets": None})


@pytest.mark.parametrize("name", list(TABLES))
def test_contract_tables_have_exact_headers(specs, name):
    headers = list(_table(specs, name).data.columns)
    assert headers[:len(TABLES[name])] == TABLES[name]
    assert [h for h in headers[len(TABLES[name]):]] in ([], [C.CHECK_COLUMN])


def test_plan_headers_are_fixed_columns_then_weeks_then_check(specs, result):
    headers = list(_table(specs, C.TBL_PLAN).data.columns)
    assert headers == list(result.plan.columns)
    assert headers[:len(C.PLAN_FIXED_COLUMNS)] == C.PLAN_FIXED_COLUMNS
    assert headers[-1] == C.CHECK_COLUMN


@pytest.mark.parametrize("name,editable", [(C.TBL_SEGMENTS, C.SEGMENT_EDITABLE),
                                           (C.TBL_TARGETS, C.TARGET_EDITABLE),
                                           (C.TBL_PLAN, C.PLAN_EDITABLE)])
def test_editable_columns_are_marked_and_check_column_hidden(specs, name, editable):
    table, sheet = _table(specs, name), _sheet_of(specs, name)
    for h in table.data.columns:
        marked = table.header_formats[h] == FORMATS["header_editable"]
        assert marked == (h in editable), h
        if h in editable:
            assert table.column_formats[h].fill == FORMATS["header_editable"].fill
    check = table.column_index(C.CHECK_COLUMN)
    assert any(c.first <= check <= c.last and c.hidden for c in sheet.columns)
    assert "✎" not in "".join(map(str, table.data.columns))


def test_titles_and_hints_above_every_sheet(specs):
    for spec in specs.values():
        top = {(c.row, c.col): c for c in spec.cells}
        assert top[(0, 0)].fmt == FORMATS["title"] and top[(0, 0)].values[0][0]
        assert top[(1, 0)].fmt == FORMATS["hint"] and top[(1, 0)].values[0][0]


def test_target_title_names_count_and_time(specs):
    title = next(c for c in specs[C.SHEET_TARGETS].cells if (c.row, c.col) == (0, 0))
    assert title.values[0][0] == "Target list — 300 accounts, recomputed 2026-11-26 14:03"


def test_target_list_rules(specs):
    spec, table = specs[C.SHEET_TARGETS], _table(specs, C.TBL_TARGETS)
    assert (table.row, table.col) == (TABLE_ROW, 0)
    assert spec.freeze == (TABLE_ROW + 1, 3)
    for header in ("Computed priority", "Final priority"):
        c = table.column_index(header)
        rules = [cf for cf in spec.cond_formats if cf.first_col == c]
        assert all(isinstance(cf, S.CellEquals) for cf in rules)
        assert sorted(cf.value for cf in rules) == ["Exclude", "P1", "P2", "P3"]
        assert all((cf.first_row, cf.last_row) == (TABLE_ROW + 1, table.last_row) for cf in rules)
    score = table.column_index("Score")
    bar = next(cf for cf in spec.cond_formats if cf.first_col == score)
    assert isinstance(bar, S.DataBar)
    assert (bar.minimum, bar.maximum) == (0, 100)
    (val,) = spec.validations
    assert val.first_col == table.column_index("Priority override")
    assert isinstance(val, S.ListValidation)
    assert val.values == ("P1", "P2", "P3", "Exclude")


def test_plan_prints_as_the_wall_plan(specs, result):
    spec, table = specs[C.SHEET_PLAN], _table(specs, C.TBL_PLAN)
    page = spec.page
    assert page.landscape and page.fit_width == 1 and page.fit_height == 0
    assert page.repeat_rows == (TABLE_ROW, TABLE_ROW)
    assert page.header.startswith('&C&"-,Bold"Joint action plan') and page.header.endswith("&R&D")
    weeks = [h for h in table.data.columns if h not in C.PLAN_FIXED_COLUMNS + [C.CHECK_COLUMN]]
    first, last = table.column_index(weeks[0]), table.column_index(weeks[-1])
    rules = [cf for cf in spec.cond_formats
             if (cf.first_col, cf.last_col) == (first, last)]
    assert sorted(cf.value for cf in rules) == ["J", "M", "S"]
    assert all((cf.first_row, cf.last_row) == (TABLE_ROW + 1, table.last_row) for cf in rules)
    assert any(c.first == first and c.last == last and c.width < 5 for c in spec.columns)
    status = next(v for v in spec.validations if v.first_col == table.column_index("Status"))
    assert status.values == tuple(C.PLAN_STATUSES)


def test_plan_extra_rows_come_back_after_one_blank_row(specs, result):
    spec, table = specs[C.SHEET_PLAN], _table(specs, C.TBL_PLAN)
    block = next(c for c in spec.cells if c.row > table.last_row)
    assert block.row == table.last_row + 2 and block.col == table.col
    assert block.values[0][3] == "Team offsite (added by hand)"
    assert block.values[1][3] == "=SUM(1,2) typed as text"
    assert spec.page.print_area[2] == block.row + len(block.values) - 1


def test_plan_without_extra_rows(result):
    r = make_result(n_accounts=30, extra_plan_rows=False)
    spec = {s.name: s for s in layout(r)}[C.SHEET_PLAN]
    table = spec.tables[0]
    assert not [c for c in spec.cells if c.row > table.last_row]


def test_plan_week_headers_given_as_dates_become_text():
    r = make_result(n_accounts=30, weeks=4)
    r.plan = r.plan.rename(columns={h: dt.date.fromisoformat(h) for h in r.plan.columns
                                    if h[:2] == "20"})
    table = {s.name: s for s in layout(r)}[C.SHEET_PLAN].tables[0]
    assert [h for h in table.data.columns if h[:2] == "20"] == \
        [d.isoformat() for d in r.plan_weeks]


def test_abc_grids_heat_maps_and_table(specs):
    spec = specs[C.SHEET_ABC]
    heat = [cf for cf in spec.cond_formats if isinstance(cf, S.ColorScale)]
    assert len(heat) == 3
    assert all((cf.last_row - cf.first_row, cf.last_col - cf.first_col) == (3, 2) for cf in heat)
    table = _table(specs, C.TBL_ABC)
    assert all(cf.last_row < table.row for cf in heat)
    assert any("How to read" in str(c.values[0][0]) for c in spec.cells)


def test_reconciliation_agreement_and_cross_tables(specs, result):
    spec = specs[C.SHEET_RECONCILIATION]
    big = next(c for c in spec.cells if c.fmt == FORMATS["big_percent"])
    assert big.values[0][0] == pytest.approx(result.agreement["value"])
    assert spec.merges[0].value == result.agreement["explanation"]
    heat = [cf for cf in spec.cond_formats if isinstance(cf, S.ColorScale)]
    assert len(heat) == 3
    assert all(cf.last_col - cf.first_col + 1 == 12 for cf in heat)
    assert all(cf.last_row - cf.first_row + 1 == len(result.segments) for cf in heat)
    table = _table(specs, C.TBL_CONFLICTS)
    assert all(cf.first_col > table.last_col for cf in heat)  # beside, so both can grow


def test_dashboard_charts_reference_dashboard_cells(specs):
    spec = specs[C.SHEET_DASHBOARD]
    assert len(spec.charts) == 4
    kinds = sorted(ch.kind for ch in spec.charts)
    assert kinds == ["column", "column", "column", "doughnut"]
    written = {(c.row + i, c.col + j) for c in spec.cells
               for i, row in enumerate(c.values) for j, _ in enumerate(row)}
    for ch in spec.charts:
        for s in ch.series:
            for ref in (s.categories, s.values):
                assert ref.sheet == C.SHEET_DASHBOARD
                assert ref.formula().startswith("=Dashboard!$")
                cells = {(r, c) for r in range(ref.first_row, ref.last_row + 1)
                         for c in range(ref.first_col, ref.last_col + 1)}
                assert cells <= written
    assert any(isinstance(cf, S.ColorScale) for cf in spec.cond_formats)


def test_history_tables_side_by_side(specs):
    hist, edits = specs[C.SHEET_HISTORY].tables
    assert (hist.name, edits.name) == (C.TBL_HISTORY, C.TBL_EDITS)
    assert hist.row == edits.row == TABLE_ROW
    assert edits.col > hist.last_col + 0  # beside: both grow downwards


def test_empty_tables_still_have_one_row():
    r = make_result(n_accounts=10, n_edits=0)
    r.conflicts = r.conflicts.iloc[0:0]
    spec = {s.name: s for s in layout(r)}
    edits = spec[C.SHEET_HISTORY].tables[1]
    assert len(edits.data) == 0 and edits.last_row == edits.row + 1
    conflicts = spec[C.SHEET_RECONCILIATION].tables[0]
    assert list(conflicts.data.columns) == C.CONFLICT_COLUMNS


def _shape(spec: S.SheetSpec) -> tuple:
    return (len(spec.cells), len(spec.tables), len(spec.columns), len(spec.merges),
            len(spec.row_heights), len(spec.cond_formats), len(spec.validations),
            len(spec.charts))


def test_spec_size_does_not_grow_with_accounts():
    """Live mode makes one Excel call per spec item: 1k and 20k accounts give the same."""
    small = layout(make_result(n_accounts=1_000, n_segments=6))
    large = layout(make_result(n_accounts=20_000, n_segments=6))
    assert [_shape(s) for s in small] == [_shape(s) for s in large]


def test_money_format_follows_currency():
    assert money_format("EUR") == '#,##0 "€"'
    assert money_format("usd") == '"$"#,##0'
    assert money_format('SE"K') == '#,##0 "SEK"'
    assert money_format("") == "#,##0"
    r = make_result(n_accounts=20, currency="CHF")
    seg = layout(r)[0].tables[0]
    assert seg.column_formats["Revenue 12m"].num_format == '#,##0 "CHF"'


def test_formats_by_column(specs):
    targets = _table(specs, C.TBL_TARGETS)
    assert targets.column_formats["Score"].num_format == "0.0"
    assert targets.column_formats["Why"].align.wrap is True
    plan = _table(specs, C.TBL_PLAN)
    assert plan.column_formats["Start"].num_format == "yyyy-mm-dd"
    seg = _table(specs, C.TBL_SEGMENTS)
    assert seg.column_formats["Portrait"].align.wrap is True
    hist = _table(specs, C.TBL_HISTORY)
    assert hist.column_formats["Run at"].num_format.startswith("yyyy-mm-dd")


def test_extra_user_columns_in_result_are_kept_after_contract_columns():
    r = make_result(n_accounts=20)
    r.segments = r.segments.assign(Extra="x")
    seg = layout(r)[0].tables[0]
    assert list(seg.data.columns)[:len(C.SEGMENT_COLUMNS)] == C.SEGMENT_COLUMNS
    assert "Extra" in seg.data.columns


def test_missing_history_gives_title_without_time():
    r = make_result(n_accounts=20)
    r.history = pd.DataFrame(columns=C.HISTORY_COLUMNS)
    title = layout(r)[3].cells[0].values[0][0]
    assert title == "Target list — 20 accounts"


# --- the typed specs: a wrong field fails when the spec is built, in both modes --------------
@pytest.mark.parametrize("make", [
    lambda: S.CellStyle(bg_color="#FFF2CC"),  # XlsxWriter's name, not a spec field
    lambda: S.Font(font_size=9),
    lambda: S.Alignment(valign="top"),
    lambda: S.Border(border_color="#BFBFBF"),
    lambda: S.CellEquals(0, 0, 9, 0, "P1", bg_color="#FFC7CE"),
    lambda: S.ColorScale(0, 0, 9, 0, "#FFFFFF", "#9DC3E6", "#2F5597", mid_type="percent"),
    lambda: S.DataBar(0, 0, 9, 0, "#5B9BD5", 0, 100, bar_solid=True),
    lambda: S.ListValidation(0, 0, 9, 0, ("P1",), source=["P1"]),
    lambda: S.Chart("column", "t", (), 0, 0, x_title="x"),
    lambda: S.Page(landscap=True),
    lambda: S.SheetSpec("X", conditional_formats=()),
])
def test_a_misspelled_field_fails_at_construction(make):
    with pytest.raises(TypeError, match="unexpected keyword"):
        make()


@pytest.mark.parametrize("make, field", [
    (lambda: S.Font(color="blue"), "Font.color"),
    (lambda: S.CellStyle(fill="#fff"), "CellStyle.fill"),
    (lambda: S.CellStyle(font={"bold": True}), "CellStyle.font"),
    (lambda: S.Alignment(horizontal="centre"), "Alignment.horizontal"),
    (lambda: S.Alignment(vertical="vcenter"), "Alignment.vertical"),
    (lambda: S.Alignment(rotation=180), "Alignment.rotation"),
    (lambda: S.Border("dashed"), "Border.style"),
    (lambda: S.CellEquals(5, 0, 4, 0, "P1"), "CellEquals"),
    (lambda: S.DataBar(0, 0, 9, 0, "#5B9BD5", 100, 0), "DataBar.minimum"),
    (lambda: S.ListValidation(0, 0, 9, 0, ("P1",), input_title="x" * 33), "input_title"),
    (lambda: S.Chart("pie", "t", (), 0, 0), "Chart.kind"),
    (lambda: S.Cells(0, 0, [["x"]], {"bold": True}), "Cells.fmt"),
    (lambda: S.Table("t", 0, 0, pd.DataFrame({"a": [1]}), column_formats={"a": {"bold": True}}),
     "Table.column_formats"),
    (lambda: S.SheetSpec("X", cond_formats=[{"type": "data_bar"}]), "SheetSpec.cond_formats"),
])
def test_a_wrong_value_fails_at_construction_naming_the_field(make, field):
    with pytest.raises((TypeError, ValueError), match=field.replace(".", r"\.")):
        make()


def test_specs_are_frozen(specs):
    spec = specs[C.SHEET_TARGETS]
    with pytest.raises(AttributeError):
        spec.freeze = None
    with pytest.raises(AttributeError):
        spec.cond_formats[0].value = "P9"
    with pytest.raises(TypeError):
        spec.tables[0].column_formats["Score"] = S.CellStyle()
    with pytest.raises(TypeError):
        spec.row_heights[0] = 10
    assert all(isinstance(getattr(s, name), tuple) for s in specs.values()
               for name in ("cells", "tables", "columns", "merges", "cond_formats",
                            "validations", "charts"))


@pytest.mark.parametrize("sheet, expected", [
    ("Dashboard", "=Dashboard!$B$1:$B$3"),
    ("2024", "='2024'!$B$1:$B$3"),  # unquoted, a formula reads a number
    ("My sheet", "='My sheet'!$B$1:$B$3"),
    ("Claire's", "='Claire''s'!$B$1:$B$3"),
    ("A1", "='A1'!$B$1:$B$3"),  # unquoted, a formula reads a cell
])
def test_chart_references_are_quoted_as_formulas_need(sheet, expected):
    assert S.Ref(sheet, 0, 1, 2, 1).formula() == expected


@needs_gnumeric
def test_chart_references_compute_in_a_real_spreadsheet(tmp_path):
    """Gnumeric recalculates =SUM(<reference>) over sheets named like numbers, cells, words."""
    import subprocess

    import xlsxwriter

    names = ["Dashboard", "2024", "My sheet", "A1"]
    wb = xlsxwriter.Workbook(str(tmp_path / "refs.xlsx"))
    for name in names:
        wb.add_worksheet(name).write_column(0, 1, [1, 2, 3])
    total = wb.add_worksheet("Sum")
    for i, name in enumerate(names):
        total.write_formula(i, 0, "=SUM(" + S.Ref(name, 0, 1, 2, 1).formula()[1:] + ")")
    wb.close()
    subprocess.run([SSCONVERT, "--recalc", "-S", str(tmp_path / "refs.xlsx"),
                    str(tmp_path / "out.%n.csv")], check=True, capture_output=True, timeout=120)
    assert (tmp_path / f"out.{len(names)}.csv").read_text().split() == ["6"] * len(names)


def test_the_renderer_imports_no_scientific_or_excel_library():
    """render/ is pure: no scikit-learn, scipy, xlwings or workbook reader behind it."""
    import subprocess
    import sys

    code = ("import sys, maillon.addin.render.layout, maillon.addin.render.specs; "
            "print(sorted(m for m in ('sklearn', 'scipy', 'xlwings', 'openpyxl', "
            "'python_calamine') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=120).stdout
    assert out.strip() == "[]"
