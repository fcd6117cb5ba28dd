"""Live mode keeps what a user typed beside the engine's tables and the comments on engine
sheets, as the file mode does (``test_loose_content.py``): in place, following their key,
or in History's ``tblEdits``.

The workbook is the simulated Excel of ``live_fakes`` (xlwings' own classes, autospecced):
its engine sheets are those a previous recompute of the same portfolio left, with their
hidden engine-area names, the engine's own cells, and what a user then typed.
"""
from __future__ import annotations

import datetime as dt

from maillon.addin.render.layout import layout
from maillon.addin.render.specs import ENGINE_AREA_NAME, engine_area_formula
from maillon.engine import contract as C
from maillon.engine.pipeline import recompute
from maillon.engine.samples import small_input

from live_fakes import FakeExcel
from test_live import HEADER_ROW, _table_values, run_live

N = 40


def _previous_workbook(exclude_top: bool = True, segments_now: int = 3, names: bool = True
                       ) -> tuple[FakeExcel, list]:
    """A workbook a recompute with 3 segments left, then edited: the top account excluded
    by hand, and Segments set to ``segments_now``. ``names=False``: as an older Maillon
    left it, without the hidden engine-area names."""
    inp = small_input(N, Segments=3, run_at=dt.datetime(2026, 11, 23, 9, 30))
    now = small_input(N, Segments=segments_now)
    frames = {C.TBL_SETTINGS: now.settings, C.TBL_EXPECTATIONS: inp.expectations,
              C.TBL_ACCOUNTS: inp.accounts, C.TBL_FEEDBACK: inp.feedback,
              C.TBL_PLAYBOOK: inp.playbook}
    sheets = {}
    for sheet, table in [(C.SHEET_SETTINGS, C.TBL_SETTINGS),
                         (C.SHEET_EXPECTATIONS, C.TBL_EXPECTATIONS),
                         (C.SHEET_ACCOUNTS, C.TBL_ACCOUNTS), (C.SHEET_FEEDBACK, C.TBL_FEEDBACK),
                         (C.SHEET_PLAYBOOK, C.TBL_PLAYBOOK)]:
        sheets[sheet] = [(table, HEADER_ROW, 1, _table_values(frames[table]))]
    old = layout(recompute(inp))
    for spec in old:
        tables = []
        for t in spec.tables:
            values = _table_values(t.data)
            if t.name == C.TBL_TARGETS and exclude_top:
                values[1][values[0].index("Priority override")] = "Exclude"
            tables.append((t.name, t.row + 1, t.col + 1, values))
        sheets[spec.name] = tables
    fake = FakeExcel(sheets)
    for spec in old:  # what the engine wrote outside its tables, and its hidden name
        sheet = fake.book.sheets[spec.name]
        if names:
            fake._add_name(sheet, ENGINE_AREA_NAME, engine_area_formula(spec))
        for block in spec.cells:
            for i, row in enumerate(block.values):
                for j, v in enumerate(row):
                    if v is not None and v != "":
                        fake.put(spec.name, block.row + 1 + i, block.col + 1 + j, v)
    return fake, old


def test_live_keeps_notes_beside_the_tables_in_place(monkeypatch):
    fake, old = _previous_workbook()
    right = len(C.TARGET_COLUMNS) + 5
    fake.put(C.SHEET_TARGETS, 6, right, "Call Lyon back")
    fake.put(C.SHEET_DASHBOARD, 21, 1, "Board asks for P1 growth")
    fake.put(C.SHEET_DASHBOARD, 21, 2, "=B5*2")
    code, result = run_live(fake, monkeypatch)
    assert code == 0, fake.alerts
    assert fake.cell(C.SHEET_TARGETS, 6, right) == "Call Lyon back"
    assert fake.cell(C.SHEET_DASHBOARD, 21, 1) == "Board asks for P1 growth"
    assert fake.cell(C.SHEET_DASHBOARD, 21, 2) == "=B5*2"  # still a formula
    # the engine's own cells of last time are not taken for a user's
    history = next(s for s in layout(result) if s.name == C.SHEET_HISTORY)
    edits = next(t for t in history.tables if t.name == C.TBL_EDITS).data
    assert "Moved note" not in set(edits["Kind"])
    # the hidden name now records this recompute's cells
    names = {n.name for n in fake.book.sheets[C.SHEET_DASHBOARD].names}
    assert f"'{C.SHEET_DASHBOARD}'!{ENGINE_AREA_NAME}" in names


def test_live_moves_a_comment_with_its_account_and_keeps_others_on_their_cell(monkeypatch):
    fake, old = _previous_workbook()
    targets = next(s for s in old if s.name == C.SHEET_TARGETS)
    top = targets.tables[0].data["Account ID"].iloc[0]  # on Excel row 5
    name_col = 1 + C.TARGET_COLUMNS.index("Account name")
    fake.add_note(C.SHEET_TARGETS, 5, name_col, "Met the CFO on 3 Nov", "Claire")
    fake.add_note(C.SHEET_DASHBOARD, 5, 2, "Includes the Lyon prospects", "Claire")
    code, result = run_live(fake, monkeypatch)
    assert code == 0, fake.alerts
    new_row = 5 + result.targets["Account ID"].tolist().index(top)
    assert new_row != 5  # excluded by hand: it went down the list
    notes = fake.notes(C.SHEET_TARGETS)
    assert list(notes) == [(new_row, name_col)]
    assert "Met the CFO on 3 Nov" in notes[(new_row, name_col)]
    assert fake.notes(C.SHEET_DASHBOARD) == {(5, 2): "Includes the Lyon prospects"}
    assert ("delete note", (5, 2)) not in fake.events  # untouched: no call for it


def test_live_moves_a_note_the_engine_needs_to_history(monkeypatch):
    fake, old = _previous_workbook(exclude_top=False, segments_now=4)
    dashboard = next(s for s in old if s.name == C.SHEET_DASHBOARD)
    assert fake.cell(C.SHEET_DASHBOARD, 8, 4) == "S03"  # three segment rows, 6 to 8
    fake.put(C.SHEET_DASHBOARD, 9, 5, "ask marketing about S04")  # free, under them
    fake.put(C.SHEET_DASHBOARD, 30, 20, "kept: nothing is written here")
    code, result = run_live(fake, monkeypatch)
    assert code == 0, fake.alerts
    assert len(result.segments) == 4
    assert fake.cell(C.SHEET_DASHBOARD, 9, 5) != "ask marketing about S04"  # the engine's now
    assert fake.cell(C.SHEET_DASHBOARD, 30, 20) == "kept: nothing is written here"
    history = next(s for s in layout(result) if s.name == C.SHEET_HISTORY)
    edits = next(t for t in history.tables if t.name == C.TBL_EDITS).data
    moved = edits.loc[edits["Kind"] == "Moved note"]
    assert [(r["Sheet"], r["Key"], r["Value"]) for _, r in moved.iterrows()] == \
        [(C.SHEET_DASHBOARD, "E9", "ask marketing about S04")]
    # and it is what live mode wrote into tblEdits
    assert any("ask marketing about S04" in str(v)
               for sheet, _, v in fake.writes if sheet == C.SHEET_HISTORY)
    assert dashboard is not None


def _kept_aside(result) -> list:
    """The tblEdits rows of cells outside the tables (a cell reference as their key, no
    column; an edit typed into a table's computed column names its column)."""
    history = next(s for s in layout(result) if s.name == C.SHEET_HISTORY)
    edits = next(t for t in history.tables if t.name == C.TBL_EDITS).data
    return [(r["Kind"], r["Sheet"], r["Key"], r["Value"]) for _, r in edits.iterrows()
            if r["Kind"] in ("Moved note", "Overwritten") and not r["Column"]]


def test_live_keeps_notes_in_an_older_maillons_workbook(monkeypatch):
    """No engine-area names (an older Maillon's sheets, with 3 segments): the engine's cells
    of that run are told from the notes by its layout, recomputed from its History row."""
    fake, old = _previous_workbook(exclude_top=False, segments_now=4, names=False)
    assert not list(fake.book.sheets[C.SHEET_DASHBOARD].names)
    right = len(C.TARGET_COLUMNS) + 5
    fake.put(C.SHEET_TARGETS, 6, right, "Call Lyon back")
    fake.put(C.SHEET_DASHBOARD, 9, 5, "ask marketing about S04")  # free then, needed now
    fake.put(C.SHEET_DASHBOARD, 30, 20, "kept: nothing is written here")
    fake.put(C.SHEET_RECONCILIATION, 40, 8, "under the heat maps")
    code, result = run_live(fake, monkeypatch)
    assert code == 0, fake.alerts
    assert len(result.segments) == 4
    assert fake.cell(C.SHEET_TARGETS, 6, right) == "Call Lyon back"
    assert fake.cell(C.SHEET_DASHBOARD, 30, 20) == "kept: nothing is written here"
    assert fake.cell(C.SHEET_RECONCILIATION, 40, 8) == "under the heat maps"
    # the older run's own cells were not taken for notes: only the one in the way moved
    assert _kept_aside(result) == [("Moved note", C.SHEET_DASHBOARD, "E9",
                                    "ask marketing about S04")]
    assert set(result.loose.loc[result.loose["What"] == "unmarked", "Sheet"]) >= \
        {C.SHEET_DASHBOARD, C.SHEET_TARGETS}
    assert any("Moved note" in w for w in result.warnings)


def test_live_keeps_a_value_typed_over_a_dashboard_figure_in_history(monkeypatch):
    fake, old = _previous_workbook(exclude_top=False)
    assert fake.cell(C.SHEET_DASHBOARD, 5, 1) == "Accounts"
    fake.put(C.SHEET_DASHBOARD, 5, 2, "about 50 by March")
    fake.put(C.SHEET_DASHBOARD, 1, 1, "Our dashboard")
    code, result = run_live(fake, monkeypatch)
    assert code == 0, fake.alerts
    assert fake.cell(C.SHEET_DASHBOARD, 5, 2) == result.key_figures["Accounts"]
    assert _kept_aside(result) == [
        ("Overwritten", C.SHEET_DASHBOARD, "A1", "Our dashboard"),
        ("Overwritten", C.SHEET_DASHBOARD, "B5", "about 50 by March")]
    assert any("Overwritten" in w for w in result.warnings)


def test_live_a_plan_written_a_week_ago_is_not_taken_for_values_typed_over(monkeypatch):
    """The previous recompute ran a week earlier (its plan, with the plan start on auto,
    covers other weeks) and Segments went from 3 to 7 since: no row of the plan read
    back is taken for one a user typed over (about 80 false ``Overwritten`` rows
    before); a value typed over a computed cell of the plan still is, on its row only."""
    fake, old = _previous_workbook(exclude_top=False, segments_now=7)
    plan = next(t for s in old for t in s.tables if t.name == C.TBL_PLAN)
    headers = [str(h) for h in plan.data.columns]
    key = plan.data["Action ID"].iloc[0]
    fake.put(C.SHEET_PLAN, plan.row + 2, plan.col + 1 + headers.index("Accounts"), 999)
    code, result = run_live(fake, monkeypatch)
    assert code == 0, fake.alerts
    assert len(result.segments) == 7
    over = result.edits[result.edits["Kind"] == "Overwritten"]
    assert set(over["Key"]) == {key}, over[["Key", "Column"]].values.tolist()[:10]
    assert over.loc[over["Column"] == "Accounts", "Value"].tolist() == ["999.0"]
