"""`maillon recompute` / `validate` / `new` / `demo` through real files, as a user runs them."""
from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import openpyxl
import pytest
from python_calamine import CalamineWorkbook

from maillon.addin.cli import main
from maillon.engine import contract as C
from realclients import gnumeric_opens, libreoffice_opens, needs_gnumeric, needs_libreoffice
from workbooks import (P1_FORMULA, USER_SHEET, build_workbook, member_bytes, parts_of_sheets,
                       portfolio)

USER_OWNED = list(C.USER_SHEETS) + [USER_SHEET]


def sheet_rows(path, sheet):
    return CalamineWorkbook.from_path(str(path)).get_sheet_by_name(sheet).to_python()


def table_frame(path, name):
    from maillon.addin.filemode.read import read_tables

    return read_tables(path, [name])[name].data


@pytest.fixture(scope="module")
def recomputed(tmp_path_factory):
    """A team workbook with user additions, before and after one recompute."""
    folder = tmp_path_factory.mktemp("team")
    path = build_workbook(folder / "team.xlsx")
    before = member_bytes(path)
    user_parts = parts_of_sheets(path, USER_OWNED)
    assert main(["recompute", str(path), "-q"]) == 0
    return path, before, user_parts


def test_only_engine_owned_parts_change(recomputed):
    path, before, user_parts = recomputed
    after = member_bytes(path)
    # the user's sheets and everything they own, byte for byte
    assert {"xl/drawings/drawing1.xml", "xl/comments1.xml", "xl/media/image1.png"} & user_parts
    assert any(p.startswith("xl/charts/") for p in user_parts)
    for part in sorted(user_parts):
        assert after.get(part) == before[part], part
    # shared parts the engine does not own either
    for part in ("xl/sharedStrings.xml", "xl/theme/theme1.xml", "docProps/core.xml"):
        if part in before:
            assert after[part] == before[part], part


def test_engine_sheets_follow_the_user_sheets(recomputed):
    path, _, _ = recomputed
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == list(C.USER_SHEETS) + list(C.ENGINE_SHEETS) + [USER_SHEET] \
        or wb.sheetnames[:6] == list(C.USER_SHEETS)
    assert set(C.ENGINE_SHEETS) <= set(wb.sheetnames)
    tables = {name: ws for ws in wb for name in ws.tables}
    for name in (C.TBL_SEGMENTS, C.TBL_ABC, C.TBL_CONFLICTS, C.TBL_TARGETS, C.TBL_PLAN,
                 C.TBL_HISTORY, C.TBL_EDITS, C.TBL_ACCOUNTS):
        assert name in tables, name
    # the user's sheet still has its formula on tblTargets, its defined name and comment
    ws = wb[USER_SHEET]
    assert ws["B1"].value == P1_FORMULA.replace("tblTargets[", "tblTargets[")
    assert "VisitCounts" in wb.defined_names
    assert ws["A1"].comment is not None


def test_target_list_is_complete_and_ranked(recomputed):
    path, _, _ = recomputed
    t = table_frame(path, C.TBL_TARGETS)
    assert list(t.columns[:len(C.TARGET_COLUMNS)]) == C.TARGET_COLUMNS
    assert len(t) == 300 and t["Rank"].tolist() == list(range(1, 301))
    assert (t["Computed priority"] == "P1").sum() == 30
    assert (t["Computed priority"] == "P2").sum() == 90


@needs_libreoffice
def test_formula_on_tbltargets_still_works_in_libreoffice(recomputed, tmp_path):
    path, _, _ = recomputed
    profile = tmp_path / "profile" / "user"
    profile.mkdir(parents=True)
    (profile / "registrymodifications.xcu").write_text(
        '<?xml version="1.0" encoding="UTF-8"?><oor:items '
        'xmlns:oor="http://openoffice.org/2001/registry" '
        'xmlns:xs="http://www.w3.org/2001/XMLSchema" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        '<item oor:path="/org.openoffice.Office.Calc/Formula/Load">'
        '<prop oor:name="OOXMLRecalcMode" oor:op="fuse"><value>0</value></prop></item>'
        '</oor:items>')
    filt = "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,-1"
    proc = subprocess.run(["soffice", f"-env:UserInstallation=file://{tmp_path / 'profile'}",
                           "--headless", "--convert-to", filt, "--outdir", str(tmp_path / "out"),
                           str(path)], capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stderr
    rows = (tmp_path / "out" / f"team-{USER_SHEET}.csv").read_text().splitlines()
    assert rows[0].split(",")[:2] == ["P1 accounts", "30"]
    assert rows[1].split(",")[:2] == ["Accounts", "300"]


@needs_libreoffice
def test_libreoffice_opens_the_recomputed_workbook(recomputed):
    ok, message = libreoffice_opens(recomputed[0])
    assert ok, message


@needs_gnumeric
def test_gnumeric_opens_the_recomputed_workbook(recomputed):
    ok, message = gnumeric_opens(recomputed[0])
    assert ok, message


def edit_with_openpyxl(path: Path, sheet: str, edits: dict) -> None:
    """What a manager does in Excel: type into cells (the test uses openpyxl to do it)."""
    wb = openpyxl.load_workbook(path)
    ws = wb[sheet]
    for cell, value in edits.items():
        ws[cell] = value
    wb.save(path)


def find_row(path, sheet, column_header, value, header_row=4):
    ws = openpyxl.load_workbook(path, read_only=True)[sheet]
    rows = list(ws.iter_rows(values_only=True))
    headers = list(rows[header_row - 1])
    col = headers.index(column_header)
    for i, row in enumerate(rows[header_row:], start=header_row + 1):
        if row[col] == value:
            return i, headers
    raise AssertionError(f"{value} not found in {sheet}")


def letter(headers, name):
    from openpyxl.utils import get_column_letter

    return get_column_letter(headers.index(name) + 1)


def test_manager_edits_survive_the_next_recompute(tmp_path):
    path = build_workbook(tmp_path / "team.xlsx", user_extras=False)
    assert main(["recompute", str(path), "-q"]) == 0
    targets = table_frame(path, C.TBL_TARGETS)
    last = targets.iloc[-1]
    account = last["Account ID"]
    row, headers = find_row(path, C.SHEET_TARGETS, "Account ID", account)
    seg_row, seg_headers = find_row(path, C.SHEET_SEGMENTS, "Segment ID", "S01")
    edit_with_openpyxl(path, C.SHEET_TARGETS, {
        f"{letter(headers, 'Priority override')}{row}": "P1",
        f"{letter(headers, 'Override reason')}{row}": "Met the CEO at the trade show",
    })
    edit_with_openpyxl(path, C.SHEET_SEGMENTS, {
        f"{letter(seg_headers, 'Segment name')}{seg_row}": "Price hunters",
        f"{letter(seg_headers, 'Marketing owner')}{seg_row}": "Claire Roux",
    })
    plan = table_frame(path, C.TBL_PLAN)
    action = plan.iloc[0]["Action ID"]
    plan_row, plan_headers = find_row(path, C.SHEET_PLAN, "Action ID", action)
    edit_with_openpyxl(path, C.SHEET_PLAN, {f"{letter(plan_headers, 'Status')}{plan_row}": "Done"})

    assert main(["recompute", str(path), "-q"]) == 0
    t = table_frame(path, C.TBL_TARGETS).set_index("Account ID")
    assert t.loc[account, "Priority override"] == "P1"
    assert t.loc[account, "Override reason"] == "Met the CEO at the trade show"
    assert t.loc[account, "Final priority"] == "P1"
    s = table_frame(path, C.TBL_SEGMENTS).set_index("Segment ID")
    assert (s.loc["S01", "Segment name"], s.loc["S01", "Marketing owner"]) == \
        ("Price hunters", "Claire Roux")
    assert table_frame(path, C.TBL_PLAN).set_index("Action ID").loc[action, "Status"] == "Done"
    history = table_frame(path, C.TBL_HISTORY)
    assert len(history) == 2 and history.iloc[-1]["Overrides"] == 1
    assert len(table_frame(path, C.TBL_EDITS)) == 0


def test_value_typed_over_a_computed_cell_is_reported_in_history(tmp_path):
    path = build_workbook(tmp_path / "team.xlsx", user_extras=False)
    assert main(["recompute", str(path), "-q"]) == 0
    targets = table_frame(path, C.TBL_TARGETS)
    account = targets.iloc[3]["Account ID"]
    score = targets.iloc[3]["Score"]
    row, headers = find_row(path, C.SHEET_TARGETS, "Account ID", account)
    edit_with_openpyxl(path, C.SHEET_TARGETS, {f"{letter(headers, 'Score')}{row}": 99.9})
    assert main(["recompute", str(path), "-q"]) == 0
    edits = table_frame(path, C.TBL_EDITS)
    assert edits[["Kind", "Sheet", "Key", "Column"]].values.tolist() == \
        [["Overwritten", C.SHEET_TARGETS, account, "Score"]]
    assert table_frame(path, C.TBL_TARGETS).set_index("Account ID").loc[account, "Score"] == score


def test_bad_input_changes_nothing_and_says_where(tmp_path, capsys):
    accounts, feedback = portfolio(50)
    accounts.loc[7, "Status"] = "Partner"
    path = build_workbook(tmp_path / "team.xlsx", accounts=accounts, feedback=feedback)
    before = path.read_bytes()
    assert main(["recompute", str(path), "-q"]) == 1
    err = capsys.readouterr().err
    assert "Accounts, row 9, column 'Status'" in err and "'Partner'" in err
    assert "Traceback" not in err and "nothing was changed" in err
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["team.xlsx"]
    assert main(["validate", str(path), "-q"]) == 1


def test_validate_writes_nothing(tmp_path, capsys):
    path = build_workbook(tmp_path / "team.xlsx", n_accounts=40, user_extras=False)
    before = path.read_bytes()
    assert main(["validate", str(path), "-q"]) == 0
    assert "OK" in capsys.readouterr().out
    assert path.read_bytes() == before


def test_workbook_open_in_excel_is_refused(tmp_path, capsys):
    path = build_workbook(tmp_path / "team.xlsx", n_accounts=30, user_extras=False)
    (tmp_path / "~$team.xlsx").write_bytes(b"owner")
    before = path.read_bytes()
    assert main(["recompute", str(path), "-q"]) == 1
    assert "open in Excel" in capsys.readouterr().err
    assert path.read_bytes() == before


def test_save_keeps_the_previous_file_as_backup(tmp_path):
    path = build_workbook(tmp_path / "team.xlsx", n_accounts=30, user_extras=False)
    before = path.read_bytes()
    assert main(["recompute", str(path), "-q"]) == 0
    assert (tmp_path / "team.bak.xlsx").read_bytes() == before
    assert path.read_bytes() != before


def test_out_writes_elsewhere_and_leaves_the_original(tmp_path):
    path = build_workbook(tmp_path / "team.xlsx", n_accounts=30, user_extras=False)
    before = path.read_bytes()
    assert main(["recompute", str(path), "--out", str(tmp_path / "week48.xlsx"), "-q"]) == 0
    assert path.read_bytes() == before
    assert len(table_frame(tmp_path / "week48.xlsx", C.TBL_TARGETS)) == 30


def test_workbook_with_only_user_sheets_gets_the_engine_sheets(tmp_path):
    path = build_workbook(tmp_path / "hand.xlsx", n_accounts=60, with_engine_sheets=False,
                          user_extras=False)
    assert main(["recompute", str(path), "-q"]) == 0
    names = openpyxl.load_workbook(path, read_only=True).sheetnames
    assert names == list(C.USER_SHEETS) + list(C.ENGINE_SHEETS)


def test_xlsm_keeps_its_macros(tmp_path):
    import xlwings

    with zipfile.ZipFile(Path(xlwings.__file__).with_name("quickstart.xlsm")) as zf:
        (tmp_path / "vbaProject.bin").write_bytes(zf.read("xl/vbaProject.bin"))
    path = build_workbook(tmp_path / "team.xlsm", n_accounts=40, vba=tmp_path / "vbaProject.bin")
    before = member_bytes(path)
    assert main(["recompute", str(path), "-q"]) == 0
    after = member_bytes(path)
    assert after["xl/vbaProject.bin"] == before["xl/vbaProject.bin"]
    assert b"application/vnd.ms-excel.sheet.macroEnabled.main+xml" in after["[Content_Types].xml"]
    assert (tmp_path / "team.bak.xlsm").exists()


def test_text_from_data_stays_text(tmp_path):
    accounts, feedback = portfolio(40)
    accounts.loc[0, "Account name"] = '=HYPERLINK("http://x.example","click")'
    accounts.loc[1, "Account name"] = "@SUM(A1:A2)"
    path = build_workbook(tmp_path / "team.xlsx", accounts=accounts, feedback=feedback,
                          user_extras=False)
    assert main(["recompute", str(path), "-q"]) == 0
    ws = openpyxl.load_workbook(path)[C.SHEET_TARGETS]
    cells = [c for row in ws.iter_rows() for c in row
             if isinstance(c.value, str) and c.value.startswith(("=HYPERLINK", "@SUM"))]
    assert len(cells) == 2 and all(c.data_type == "s" for c in cells)


def test_new_creates_a_workbook_from_the_template(tmp_path, capsys):
    out = tmp_path / "team.xlsx"
    assert main(["new", str(out)]) == 0
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == list(C.USER_SHEETS) + list(C.ENGINE_SHEETS)
    assert main(["new", str(out)]) == 1  # never overwrites without --force
    # an empty workbook recomputes: every table is there, empty
    assert main(["recompute", str(out), "-q"]) == 0


def test_demo_builds_and_recomputes(tmp_path, capsys):
    out = tmp_path / "demo.xlsx"
    assert main(["demo", str(out), "--accounts", "400", "-q"]) == 0
    printed = capsys.readouterr().out
    assert str(out.resolve()) in printed and "segments" in printed and "P1" in printed
    assert len(table_frame(out, C.TBL_TARGETS)) == 400
    assert not (tmp_path / "demo.bak.xlsx").exists()


@pytest.mark.parametrize("command", [[], ["new"], ["demo"], ["recompute"], ["validate"],
                                     ["addin"], ["addin", "install"]])
def test_every_command_has_help(command):
    proc = subprocess.run([sys.executable, "-m", "maillon.addin.cli", *command, "--help"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and "usage: maillon" in proc.stdout


def test_the_engine_is_imported_only_once_the_read_has_started():
    # pandas and scikit-learn take seconds to import: the file mode imports
    # them while its threads parse the sheets, so the command line and the
    # reader must not pull them in before
    code = ("import sys; import maillon.addin.cli, maillon.addin.filemode, "
            "maillon.addin.filemode.grids; "
            "print(sorted(m for m in ('pandas', 'numpy', 'sklearn') if m in sys.modules))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


def test_not_a_workbook_is_a_clear_error(tmp_path, capsys):
    bad = tmp_path / "team.xlsx"
    bad.write_text("hello")
    assert main(["recompute", str(bad), "-q"]) == 1
    err = capsys.readouterr().err
    assert "team.xlsx" in err and "Traceback" not in err


def test_rows_added_below_the_action_plan_are_kept(tmp_path):
    path = build_workbook(tmp_path / "team.xlsx", n_accounts=80, user_extras=False)
    assert main(["recompute", str(path), "-q"]) == 0
    plan = table_frame(path, C.TBL_PLAN)
    below = int(plan.index.max()) + 3
    edit_with_openpyxl(path, C.SHEET_PLAN, {f"A{below}": "Extra: trade show in Lyon",
                                            f"D{below}": "Book the stand"})
    assert main(["recompute", str(path), "-q"]) == 0
    rows = sheet_rows(path, C.SHEET_PLAN)
    flat = [v for row in rows for v in row if isinstance(v, str)]
    assert "Extra: trade show in Lyon" in flat and "Book the stand" in flat
    # still below the table, not inside it
    assert "Extra: trade show in Lyon" not in table_frame(path, C.TBL_PLAN).values


def test_sorting_the_target_list_as_a_user_does_gives_rank_order(recomputed):
    """Rank orders Final priority, then Score descending, then Account ID: a user who
    sorts the table read from the file (the Score stored in the cells) gets that order."""
    path, _, _ = recomputed
    t = table_frame(path, C.TBL_TARGETS)
    order = {"P1": 0, "P2": 1, "P3": 2, "Exclude": 3}
    ids = t["Account ID"].astype(str)
    by_sorting = t.assign(p=t["Final priority"].map(order), id=ids).sort_values(
        ["p", "Score", "id"], ascending=[True, False, True], kind="stable")
    assert by_sorting["Rank"].tolist() == list(range(1, len(t) + 1))
    # no hidden decimals: what the cells show is what is ranked on
    assert (t["Score"] == t["Score"].round(1)).all()
