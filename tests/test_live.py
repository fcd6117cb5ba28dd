"""Live mode against xlwings' own classes, autospecced (no Excel needed).

The workbook is simulated by :mod:`tests.live_fakes`: every call into "Excel"
is counted, including property reads/writes and ``.api`` (COM) calls. The
engine (``maillon.engine.pipeline.recompute``) and the renderer
(``maillon.addin.render.layout.layout``) are the real ones.
"""
from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest
import xlwings as xw

from maillon.addin.live import ribbon as live
from maillon.addin.live import write as live_write
from maillon.addin.render.layout import layout
from maillon.addin.live.write import (LiveSpecError, complement, excel_rows, excel_value,
                                        header_sections, needs_text_prefix,
                                        translate_cond_format, translate_format,
                                        translate_validation)
from maillon.addin.render import specs as S
from maillon.engine import contract as C
from maillon.engine.pipeline import recompute
from maillon.engine.samples import small_input

from live_fakes import ApiMock, FakeExcel

HEADER_ROW = 4  # small_input() frames are indexed as if their header sat on row 4


# --- a synthetic workbook ----------------------------------------------------------------
def _cell(v):
    if v is None:
        return None
    if isinstance(v, pd.Timestamp):
        return v.to_pydatetime()
    if isinstance(v, (np.floating, float)):
        return None if math.isnan(v) else float(v)
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, str) and v == "":
        return None
    return v


def _table_values(df: pd.DataFrame) -> list:
    """A DataFrame as the 2D list ``table.range.value`` gives: header row first."""
    columns = [[_cell(v) for v in df[c].tolist()] for c in df.columns]
    return [list(df.columns)] + [list(r) for r in zip(*columns)]


def synthetic_workbook(n_accounts: int, previous: bool = True, tweak=None) -> FakeExcel:
    inp = small_input(n_accounts, Segments=4)
    accounts = inp.accounts.copy()
    accounts.loc[accounts.index[0], "Account name"] = "=1+1"  # text, never a formula
    accounts.loc[accounts.index[1], "Account name"] = "-5 Sud"
    if tweak is not None:
        tweak(accounts)
    frames = {C.TBL_SETTINGS: inp.settings, C.TBL_EXPECTATIONS: inp.expectations,
              C.TBL_ACCOUNTS: accounts, C.TBL_FEEDBACK: inp.feedback,
              C.TBL_PLAYBOOK: inp.playbook}
    sheets = {C.SHEET_README: []}
    for sheet, table in [(C.SHEET_SETTINGS, C.TBL_SETTINGS), (C.SHEET_EXPECTATIONS, C.TBL_EXPECTATIONS),
                         (C.SHEET_ACCOUNTS, C.TBL_ACCOUNTS), (C.SHEET_FEEDBACK, C.TBL_FEEDBACK),
                         (C.SHEET_PLAYBOOK, C.TBL_PLAYBOOK)]:
        sheets[sheet] = [(table, HEADER_ROW, 1, _table_values(frames[table]))]
    if previous:
        # engine sheets left by an earlier recompute of a smaller portfolio
        old = layout(recompute(small_input(5, Segments=4)))
        for spec in old:
            sheets[spec.name] = [(t.name, t.row + 1, t.col + 1, _table_values(t.data))
                                 for t in spec.tables]
    return FakeExcel(sheets)


def run_live(fake: FakeExcel, monkeypatch, platform="win32"):
    """Run live mode on ``fake``; returns (exit code, the EngineResult it computed)."""
    seen = {}

    def spy(inp):
        seen["result"] = result = recompute(inp)
        return result

    monkeypatch.setattr(live, "_recompute", spy)
    fake.reset_counts()
    code = live.run(fake.book, platform=platform)
    return code, seen.get("result")


def unprefix(v):
    """What Excel stores for a value written with the text prefix."""
    return v[1:] if isinstance(v, str) and v.startswith("'") else v


# --- the entry point ---------------------------------------------------------------------------
def test_main_recomputes_the_calling_book(monkeypatch, tmp_path):
    fake = synthetic_workbook(60)
    monkeypatch.setattr(live, "LOCK_DIR", tmp_path / "locks")
    monkeypatch.setattr(xw.Book, "caller", lambda: fake.book)
    assert live.main() == 0
    assert len(fake.alerts) == 1
    prompt, kw = fake.alerts[0]
    assert prompt.startswith("Recompute done") and "60 accounts" in prompt
    assert kw["title"] == "Maillon"


def test_main_outside_excel_says_so_on_stderr_and_exits_1(monkeypatch, tmp_path, capsys):
    # xlwings' real Book.caller() (xlwings/main.py, Book.caller, lines 1143-1171):
    # without --from_xl=1 in sys.argv (what RunPython passes) it raises
    # "Book.caller() must not be called directly".
    monkeypatch.setattr(live, "ERROR_LOG", tmp_path / "live-errors.log")
    with pytest.raises(SystemExit) as exit_:
        live.main()
    # exit code 1: xlwings' VBA (ExecuteWindows) shows stderr only when ExitCode <> 0
    assert exit_.value.code == 1
    out = capsys.readouterr()
    assert out.out == ""
    assert "maillon recompute team.xlsx" in out.err and "Nothing in any workbook" in out.err
    assert "Traceback" not in out.err and str(tmp_path / "live-errors.log") in out.err


def test_maillon_main_is_the_live_main(monkeypatch):
    import maillon

    monkeypatch.setattr(live, "main", lambda: "called")
    assert maillon.main() == "called"


# --- reading: round trips are counted in test_live_round_trips.py -------------------------------
def test_each_table_is_read_in_one_call(monkeypatch):
    fake = synthetic_workbook(50)
    code, _ = run_live(fake, monkeypatch)
    assert code == 0
    for name in (C.TBL_SETTINGS, C.TBL_ACCOUNTS, C.TBL_TARGETS):
        table = fake.tables[name.lower()][0]
        # table.range is read for its address and values; never cell by cell
        assert type(table).range.call_count <= 3


# --- values -----------------------------------------------------------------------------------------
def test_targets_written_equal_the_layout_of_the_result(monkeypatch):
    fake = synthetic_workbook(1_000)
    code, result = run_live(fake, monkeypatch)
    assert code == 0
    spec = next(s for s in layout(result) if s.name == C.SHEET_TARGETS)
    table = next(t for t in spec.tables if t.name == C.TBL_TARGETS)
    r1, c1 = table.row + 1, table.col + 1
    r2, c2 = r1 + len(table.data), c1 + len(table.data.columns) - 1
    block = fake.written(C.SHEET_TARGETS, (r1, c1, r2, c2))  # header and rows: one write
    header, body = block[:1], block[1:]
    assert [unprefix(h) for h in header[0]] == list(table.data.columns)
    expected = excel_rows(table.data)
    assert [[unprefix(v) for v in row] for row in body] == [[unprefix(v) for v in row]
                                                            for row in expected]
    # same data as the file mode writes: the raw table data, blanks as None
    names = [unprefix(row[list(table.data.columns).index("Account name")]) for row in body]
    assert names == [None if pd.isna(v) else v for v in table.data["Account name"]]
    # text that looks like a formula is written as text
    raw = {unprefix(row[1]): row[2] for row in body}
    first_id = "A0000"
    assert raw[first_id] == "'=1+1"


def test_existing_tables_are_resized_not_deleted(monkeypatch):
    fake = synthetic_workbook(300)
    before = fake.tables[C.TBL_TARGETS.lower()][0]
    code, _ = run_live(fake, monkeypatch)
    assert code == 0
    assert fake.tables[C.TBL_TARGETS.lower()][0] is before
    resized = [e for e in fake.events if e[0] == "resize" and e[1] == C.TBL_TARGETS]
    assert len(resized) == 1 and resized[0][3][2] - resized[0][3][0] == 300
    assert not [e for e in fake.events if e[0] == "add table"]
    assert not before.api.mock_calls  # never Unlist()/Delete()
    sheet_adds = [e for e in fake.events if e[0] == "add sheet"]
    assert not sheet_adds


def test_first_recompute_creates_sheets_and_tables(monkeypatch):
    fake = synthetic_workbook(120, previous=False)
    code, _ = run_live(fake, monkeypatch)
    assert code == 0
    added = [e[1] for e in fake.events if e[0] == "add sheet"]
    assert added == list(C.ENGINE_SHEETS)
    tables = [e[1] for e in fake.events if e[0] == "add table"]
    assert sorted(tables) == sorted([C.TBL_SEGMENTS, C.TBL_ABC, C.TBL_CONFLICTS, C.TBL_TARGETS,
                                     C.TBL_PLAN, C.TBL_HISTORY, C.TBL_EDITS])
    assert len([e for e in fake.events if e[0] == "add chart"]) == 4


def test_status_bar_shows_progress_and_is_given_back(monkeypatch):
    fake = synthetic_workbook(40)
    code, _ = run_live(fake, monkeypatch)
    assert code == 0
    status_bar = fake.props[(id(fake.app), "status_bar")]
    sets = [c.args[0] for c in status_bar.call_args_list if c.args]
    assert any("Maillon" in str(s) for s in sets)
    assert sets[-1] is False
    assert fake._state(fake.app)["screen_updating"] is True
    assert fake._state(fake.app)["calculation"] == "automatic"


# --- errors: one message box, nothing written -------------------------------------------------
def _no_write(fake):
    assert fake.writes == []
    assert not [e for e in fake.events if e[0] in ("add sheet", "add table", "resize", "move")]


def test_bad_input_gives_one_alert_and_writes_nothing(monkeypatch):
    def bad_status(accounts):
        accounts.loc[accounts.index[3], "Status"] = "Customr"

    fake = synthetic_workbook(200, tweak=bad_status)
    code, _ = run_live(fake, monkeypatch)
    assert code == 1
    assert len(fake.alerts) == 1
    prompt, kw = fake.alerts[0]
    assert kw["mode"] == "critical"
    assert "Nothing was changed" in prompt and "Accounts" in prompt and "row 8" in prompt
    assert "Traceback" not in prompt
    _no_write(fake)


def test_missing_table_gives_one_alert_and_writes_nothing(monkeypatch):
    fake = synthetic_workbook(30)
    playbook = fake.tables.pop(C.TBL_PLAYBOOK.lower())
    fake._state(playbook[1])["_tables"].remove(playbook[0])
    code, _ = run_live(fake, monkeypatch)
    assert code == 1 and len(fake.alerts) == 1
    assert "tblPlaybook" in fake.alerts[0][0]
    _no_write(fake)


def test_unexpected_error_gives_one_alert_without_traceback(monkeypatch, tmp_path):
    fake = synthetic_workbook(30)
    monkeypatch.setattr(live, "ERROR_LOG", tmp_path / "live-errors.log")

    def broken(result):
        raise RuntimeError("renderer exploded")

    monkeypatch.setattr(live, "_layout", broken)
    code, _ = run_live(fake, monkeypatch)
    assert code == 1 and len(fake.alerts) == 1
    prompt = fake.alerts[0][0]
    assert "renderer exploded" in prompt and "nothing was changed" in prompt
    assert "Traceback" not in prompt
    assert "Traceback" in (tmp_path / "live-errors.log").read_text()
    _no_write(fake)


def test_untranslatable_spec_fails_before_any_write(monkeypatch):
    fake = synthetic_workbook(30)

    def with_bad_rule(result):
        specs = layout(result)
        # a SheetSpec refuses a rule it does not know (test_layout checks it): force one in
        object.__setattr__(specs[-1], "cond_formats", specs[-1].cond_formats + (object(),))
        return specs

    monkeypatch.setattr(live, "_layout", with_bad_rule)
    code, _ = run_live(fake, monkeypatch)
    assert code == 1 and len(fake.alerts) == 1
    _no_write(fake)


# --- macOS: no COM -----------------------------------------------------------------------------------
def test_macos_path_uses_no_com_and_says_what_it_skipped(monkeypatch):
    fake = synthetic_workbook(80)
    code, _ = run_live(fake, monkeypatch, platform="darwin")
    assert code == 0
    assert fake.api_sets == []
    assert not any(isinstance(m, ApiMock) and m.mock_calls for m in fake.roots)
    assert "Windows only" in fake.alerts[0][0]


def test_lazy_autospec_is_as_strict_as_create_autospec():
    from unittest import mock
    from xlwings.main import Range, Tables

    from live_fakes import autospec

    for make in (lambda c: mock.create_autospec(c, instance=True), autospec):
        rng, tables = make(Range), make(Tables)
        with pytest.raises(AttributeError):
            rng.clear_contents_all()
        with pytest.raises(TypeError):
            rng.resize(1, 2, 3)
        with pytest.raises(TypeError):
            tables.add(source=rng, nam="tblX")
        tables.add(source=rng, name="tblX", table_style_name="TableStyleMedium2")
        rng.options(ndim=2)
        assert tables.mock_calls[-1] == mock.call.add(source=rng, name="tblX",
                                                      table_style_name="TableStyleMedium2")


# --- pure translations -------------------------------------------------------------------------------
def test_excel_value_keeps_text_as_text():
    for text in ["=SUM(A1)", "+33 6 12", "-5", "@home", "00123", "1/2", "TRUE", "#N/A", "'x"]:
        assert needs_text_prefix(text)
        assert excel_value(text) == "'" + text
    assert excel_value("Chimie") == "Chimie"
    assert excel_value(np.int64(3)) == 3 and type(excel_value(np.int64(3))) is int
    assert excel_value(pd.NaT) is None and excel_value(np.nan) is None
    assert excel_value(pd.Timestamp("2026-11-30 10:00")) == dt.datetime(2026, 11, 30, 10)
    assert excel_value(dt.date(2026, 11, 30)) == dt.datetime(2026, 11, 30)


def test_excel_rows_of_a_frame():
    df = pd.DataFrame({"a": [1.0, np.nan], "b": ["x", None],
                       "c": pd.to_datetime(["2026-01-05", None])})
    assert excel_rows(df) == [[1.0, "x", dt.datetime(2026, 1, 5)], [None, None, None]]


def test_complement_covers_everything_but_the_holes():
    rects = complement((1, 1, 20, 10), [(4, 1, 12, 6), (4, 8, 6, 10)])
    cells = {(r, c) for r1, c1, r2, c2 in rects for r in range(r1, r2 + 1)
             for c in range(c1, c2 + 1)}
    holes = {(r, c) for r in range(4, 13) for c in range(1, 7)} | \
            {(r, c) for r in range(4, 7) for c in range(8, 11)}
    assert cells == {(r, c) for r in range(1, 21) for c in range(1, 11)} - holes
    assert len(cells) == sum((r2 - r1 + 1) * (c2 - c1 + 1) for r1, c1, r2, c2 in rects)


@pytest.mark.parametrize("rule, method, expected", [
    (S.CellEquals(4, 2, 100, 2, "P1", fill="#FFC7CE", font_color="#9C0006"), "add_cell_value",
     (("equal_to", '"P1"'), {"fill_color": "#FFC7CE", "font_color": "#9C0006"})),
    (S.ColorScale(4, 2, 100, 2, "#F8F9FB", "#9DC3E6", "#2F5597"), "add_color_scale",
     ((["#F8F9FB", "#9DC3E6", "#2F5597"],), {})),
    (S.DataBar(4, 2, 100, 2, "#5B9BD5", 0, 100), "add_data_bar",
     (("#5B9BD5",), {"gradient": False, "show_value": True, "minimum": 0,
                     "threshold_type": "number", "maximum": 100})),
])
def test_conditional_formats_translate_to_xlwings_calls(rule, method, expected):
    from unittest import mock
    from xlwings.main import ConditionalFormats

    got, args, kwargs = translate_cond_format(rule)
    assert (got, (args, kwargs)) == (method, expected)
    # the arguments are accepted by xlwings' own signature
    formats = mock.create_autospec(ConditionalFormats, instance=True)
    getattr(formats, method)(*args, **kwargs)


def test_every_rule_the_layout_emits_translates(monkeypatch):
    """Each kind of conditional format and validation of a real layout has a live call."""
    specs = layout(recompute(small_input(40, Segments=4)))
    rules = [cf for s in specs for cf in s.cond_formats]
    assert {type(cf) for cf in rules} == {S.CellEquals, S.ColorScale, S.DataBar}
    assert {translate_cond_format(cf)[0] for cf in rules} == \
        {"add_cell_value", "add_color_scale", "add_data_bar"}
    validations = [v for s in specs for v in s.validations]
    assert validations and all(translate_validation(v)[0] == "set_list" for v in validations)


def test_unknown_conditional_format_is_refused():
    with pytest.raises(LiveSpecError, match="not a conditional format"):
        translate_cond_format(object())
    with pytest.raises(LiveSpecError, match="not a data validation"):
        translate_validation(object())


def test_list_validation_translates_to_xlwings_calls():
    from unittest import mock
    from xlwings.main import DataValidation

    v = S.ListValidation(4, 9, 100, 9, ("P1", "P2"), input_title="Override",
                         input_message="Pick one", error_title="Override",
                         error_message="Choose one of: P1, P2, or leave blank.")
    got, args, messages = translate_validation(v)
    assert (got, args) == ("set_list", (["P1", "P2"],))
    validation = mock.create_autospec(DataValidation, instance=True)
    getattr(validation, got)(*args)
    assert messages == {"IgnoreBlank": True, "InputTitle": "Override", "InputMessage": "Pick one",
                        "ErrorTitle": "Override",
                        "ErrorMessage": "Choose one of: P1, P2, or leave blank."}


def test_formats_translate():
    f = translate_format(S.CellStyle(
        font=S.Font(bold=True, color="#FFFFFF"), fill="#1F4E79", num_format="#,##0",
        align=S.Alignment(horizontal="center", vertical="center", wrap=True, rotation=90),
        border=S.Border("thin", "#BFBFBF")))
    assert dict(f.font) == {"bold": True, "color": "#FFFFFF"}
    assert (f.fill, f.number_format, f.h_align, f.v_align, f.wrap, f.rotation) == \
        ("#1F4E79", "#,##0", "center", "center", True, 90)
    assert dict(f.border) == {"line_style": "continuous", "weight": "thin", "color": "#BFBFBF"}
    medium = translate_format(S.CellStyle(border=S.Border("medium", "#BF9000")))
    assert dict(medium.border)["weight"] == "medium"
    assert dict(translate_format(S.CellStyle(font=S.Font(italic=True, size=9))).font) == \
        {"italic": True, "size": 9.0}
    assert not translate_format(None)
    with pytest.raises(ValueError, match="fill"):
        S.CellStyle(fill="not a colour")


def test_header_sections():
    assert header_sections("&LAction Plan&C&P of &N&R&D") == {
        "Left": "Action Plan", "Center": "&P of &N", "Right": "&D"}
    assert header_sections("Plan") == {"Center": "Plan"}


# --- print setup never stops the recompute (issue 12, item 6) ----------------------------------
def test_a_refused_paper_size_is_named_once_and_the_rest_is_written(monkeypatch, tmp_path):
    # Excel without a printer: "Unable to set the PaperSize property of the PageSetup
    # class" (run-time error 1004) on every sheet
    monkeypatch.setattr(live, "ERROR_LOG", tmp_path / "live-errors.log")
    fake = synthetic_workbook(300)
    fake.refuse("PaperSize", RuntimeError("Unable to set the PaperSize property of the "
                                          "PageSetup class"))
    code, result = run_live(fake, monkeypatch)
    assert code == 0, fake.alerts
    specs = layout(result)
    with_page = [s.name for s in specs if s.page is not None]
    assert len(fake.refused) == len(with_page) >= 2  # tried on every sheet, refused each time
    prompt = fake.alerts[-1][0]
    assert prompt.startswith("Recompute done")
    assert len([line for line in prompt.splitlines() if "PaperSize" in line]) == 1  # one note
    assert all(name in prompt for name in with_page)
    assert "PaperSize" in (tmp_path / "live-errors.log").read_text()
    # the other print settings, the charts and the window settings after it were all written
    sets = [name for name, _ in fake.api_sets]
    for prop in ("Orientation", "FitToPagesWide", "PrintArea", "FreezePanes", "RightFooter"):
        assert prop in sets, prop
    assert sets.count("Orientation") >= len(with_page)
    assert len([e for e in fake.events if e[0] == "add chart"]) == sum(len(s.charts)
                                                                      for s in specs)


def test_print_setup_failing_at_its_root_still_ends_in_done(monkeypatch, tmp_path):
    monkeypatch.setattr(live, "ERROR_LOG", tmp_path / "live-errors.log")
    fake = synthetic_workbook(50)
    for prop in ("PrintCommunication", "PaperSize", "PrintArea", "FreezePanes", "Zoom"):
        fake.refuse(prop, RuntimeError(f"{prop} refused"))
    code, _ = run_live(fake, monkeypatch)
    assert code == 0, fake.alerts
    prompt = fake.alerts[-1][0]
    assert prompt.startswith("Recompute done") and "Excel refused some settings" in prompt
    log = (tmp_path / "live-errors.log").read_text()
    for what in ("Print setup could not", "PaperSize", "Print area", "Freeze panes", "Zoom"):
        assert what in log, what
    assert "Traceback" not in log


# --- reading and writing in xlwings' budgets -----------------------------------------------------
def test_large_tables_are_read_in_chunks_under_the_apple_event_limit():
    from maillon.addin.live.read import read_budget, read_values

    asked = []

    class Sheet:
        def range(self, address):
            asked.append(address)
            r1, c1, r2, c2 = live_write.parse_address(address)
            return type("R", (), {"raw_value": [[r] * (c2 - c1 + 1) for r in range(r1, r2 + 1)]})

    engine = type("E", (), {"clean_value_data": staticmethod(
        lambda rows, *a: [list(r) for r in rows])})
    rows = read_values(Sheet(), (5, 1, 200_004, 15), engine, platform="darwin")
    assert read_budget("darwin") == 1_500_000 and read_budget("win32") == 4_000_000
    assert len(rows) == 200_000 and [r[0] for r in rows[:2]] == [5, 6] and rows[-1][0] == 200_004
    assert len(asked) == 2  # 3 million cells: two reads of at most 1.5 million
    asked.clear()
    read_values(Sheet(), (5, 1, 200_004, 15), engine, platform="win32")
    assert len(asked) == 1


def test_the_read_budget_is_xlwings_own():
    import inspect

    from xlwings import base_classes

    from xlwings_costs import macos_backend

    assert base_classes.DEFAULT_MAX_CELLS_PER_READ == 4_000_000
    assert base_classes.DEFAULT_MAX_CELLS_PER_WRITE == live_write.WRITE_BUDGET
    assert "return 1_500_000" in inspect.getsource(macos_backend().Range.max_cells_per_read.fget)


def test_values_are_written_in_chunks_of_the_write_budget(monkeypatch):
    fake = synthetic_workbook(20_000)
    code, result = run_live(fake, monkeypatch)
    assert code == 0
    spec = next(s for s in layout(result) if s.name == C.SHEET_TARGETS)
    table = next(t for t in spec.tables if t.name == C.TBL_TARGETS)
    cols = len(table.data.columns)
    writes = [v for s, a, v in fake.writes if s == C.SHEET_TARGETS and len(v[0]) == cols]
    assert all(len(v) * cols <= live_write.WRITE_BUDGET for v in writes)
    assert sum(len(v) for v in writes) == len(table.data) + 1  # header and every row, once


def test_a_stray_table_on_an_engine_sheet_becomes_a_range(monkeypatch):
    fake = synthetic_workbook(100)
    sheet = next(s for s in fake.sheets if fake.name(s) == C.SHEET_TARGETS)
    fake._make_table(sheet, "tblOld", (300, 30, 302, 31), [["a", "b"], [1, 2], [3, 4]])
    code, _ = run_live(fake, monkeypatch)
    assert code == 0, fake.alerts
    stray = fake.tables["tblold"][0]
    assert [c[0] for c in stray.api.mock_calls] == ["Unlist"]
    kept = fake.tables[C.TBL_TARGETS.lower()][0]
    assert "Unlist" not in [c[0] for c in kept.api.mock_calls]


def test_no_fill_below_a_table_spares_the_cells_the_layout_paints():
    from maillon.addin.live.write import _plan_sheet

    table = S.Table("tblT", 3, 0, pd.DataFrame({"Status": ["Open", "Done"]}),
                    column_formats={"Status": S.CellStyle(fill="#FFF2CC")})
    note = S.Cells(8, 0, [["a note"]], S.CellStyle(fill="#D9E1F2"))
    plan = _plan_sheet(S.SheetSpec("Plan", cells=(note,), tables=(table,)))
    assert plan.fills == {"#FFF2CC": [(5, 1, 6, 1)]}
    # every row below the table loses its fill, except the note's (row 9)
    assert sorted(plan.unfills) == [(7, 1, 8, 1), (10, 1, live_write.MAX_ROW, 1)]
