"""The one write path into user-owned tables (merge and import build on it).

Real files: a team workbook made like the template, edited, read back with
openpyxl and python-calamine, every part other than the edited sheet and its
table byte-identical, and opened by LibreOffice and Gnumeric.
"""
from __future__ import annotations

import datetime as dt
import zipfile

import openpyxl
import pytest

from maillon.addin.filemode.recompute import read_input
from maillon.addin.filemode.table_edits import recompute_with_edits, save_table_edits
from maillon.addin.ooxml.package import Package, list_tables
from maillon.addin.ooxml.safe_io import WorkbookError
from maillon.addin.ooxml.table_patch import TableEdit, patch_parts, write_package
from tests.realclients import gnumeric_opens, libreoffice_opens
from tests.workbooks import build_workbook, member_bytes, parts_of_sheets


@pytest.fixture(scope="module")
def team(tmp_path_factory):
    return build_workbook(tmp_path_factory.mktemp("edits") / "team.xlsx", n_accounts=40)


def _copy(team, tmp_path, name="copy.xlsx"):
    out = tmp_path / name
    out.write_bytes(team.read_bytes())
    return out


def _accounts(path):
    wb = openpyxl.load_workbook(path)
    ws = wb["Accounts"]
    table = ws.tables["tblAccounts"]
    rows = list(ws[table.ref])
    headers = [c.value for c in rows[0]]
    return ws, table, headers, [[c.value for c in row] for row in rows[1:]]


def test_cells_new_rows_and_a_new_column_land_and_nothing_else_changes(team, tmp_path):
    path = _copy(team, tmp_path)
    before = member_bytes(path)
    info = list_tables(path)["tblAccounts"]
    row = info.first_data_row + 2
    backup = save_table_edits(path, [TableEdit(
        "tblAccounts",
        cells={(row, "City"): "Saint-Étienne", (row, "Employees"): 120,
               (row, "Sales owner"): "=HYPERLINK(\"x\")", (row, "Last contact"): dt.date(2026, 11, 2),
               (row, "Annual revenue"): 2_500_000},
        new_rows=[{"Account ID": "NEW-1", "Account name": "Dupont & Fils", "Status": "Prospect",
                   "Employees": 12, "Annual revenue": 900_000},
                  {"Account ID": "007", "Account name": "  spaces kept  ", "Status": "Customer"}],
        new_columns=["Annual revenue"])])
    assert backup is not None and backup.read_bytes() == team.read_bytes()

    ws, table, headers, body = _accounts(path)
    assert headers[-1] == "Annual revenue" and headers[:-1] == info.headers
    assert table.ref.endswith(str(info.last_data_row + 2))
    assert len(body) == info.last_data_row - info.first_data_row + 3
    edited = body[row - info.first_data_row]
    col = {h: i for i, h in enumerate(headers)}
    assert edited[col["City"]] == "Saint-Étienne" and edited[col["Employees"]] == 120
    assert edited[col["Sales owner"]] == '=HYPERLINK("x")'  # text, never a formula
    assert ws.cell(row, col["Sales owner"] + 1).data_type == "s"
    assert edited[col["Last contact"]] == dt.datetime(2026, 11, 2)  # the column's date format kept
    assert edited[col["Annual revenue"]] == 2_500_000
    new1, new2 = body[-2], body[-1]
    assert new1[col["Account ID"]] == "NEW-1" and new1[col["Account name"]] == "Dupont & Fils"
    assert new1[col["Annual revenue"]] == 900_000 and new1[col["City"]] is None
    assert new2[col["Account ID"]] == "007" and new2[col["Account name"]] == "  spaces kept  "
    # a new row takes the style of the row above: the Status drop-down's cell format too
    above = ws.cell(info.last_data_row, col["Status"] + 1)
    assert ws.cell(info.last_data_row + 1, col["Status"] + 1).number_format == above.number_format

    after = member_bytes(path)
    with Package(path) as pkg:
        sheet_part = next(s.part for s in pkg.sheets if s.name == "Accounts")
    changed = {n for n in before if before[n] != after.get(n)}
    assert changed == {sheet_part, info.part}
    assert set(after) == set(before)
    # the engine reads what was written
    inp = read_input(path)
    accounts = inp.accounts.set_index("Account ID")
    assert accounts.loc["NEW-1", "Account name"] == "Dupont & Fils"
    assert "007" in accounts.index


def test_validations_follow_the_table_down(team, tmp_path):
    path = _copy(team, tmp_path)
    info = list_tables(path)["tblAccounts"]
    save_table_edits(path, [TableEdit("tblAccounts", new_rows=[
        {"Account ID": f"N{i}", "Account name": f"New {i}", "Status": "Prospect"} for i in range(3)])])
    ws = openpyxl.load_workbook(path)["Accounts"]
    headers = [c.value for c in ws[1]]
    status = openpyxl.utils.get_column_letter(headers.index("Status") + 1)
    new_last = f"{status}{info.last_data_row + 3}"
    covering = [dv for dv in ws.data_validations.dataValidation if new_last in dv.sqref]
    assert covering, "the Status drop-down does not reach the new rows"


def test_feedback_rows_appended_then_recomputed_in_one_save(team, tmp_path):
    path = _copy(team, tmp_path)
    first_id = read_input(path).accounts["Account ID"].iloc[0]
    outcome = recompute_with_edits(path, [TableEdit("tblFeedback", new_rows=[
        {"Account ID": first_id, "Date": dt.date(2026, 11, 30), "Sales rep": "Claire",
         "Relationship": 5, "Buying intent": "High", "Note": "Met the buyer"}])])
    assert outcome.backup.read_bytes() == team.read_bytes()
    feedback = read_input(path).feedback
    last = feedback.iloc[-1]
    assert last["Account ID"] == first_id and last["Note"] == "Met the buyer"
    wb = openpyxl.load_workbook(path, read_only=True)
    assert wb["Target List"].max_row > 10  # the engine sheets were recomputed in the same save


def test_growing_over_a_cell_that_holds_something_is_refused(team, tmp_path):
    path = _copy(team, tmp_path)
    info = list_tables(path)["tblAccounts"]
    wb = openpyxl.load_workbook(path)
    # openpyxl here only plants the obstacle in a throw-away copy
    wb["Accounts"].cell(info.last_data_row + 1, 2, "my total")
    wb.save(path)
    before = path.read_bytes()
    with pytest.raises(WorkbookError, match=f"B{info.last_data_row + 1}, which is not empty"):
        save_table_edits(path, [TableEdit("tblAccounts", new_rows=[{"Account ID": "X"}])])
    assert path.read_bytes() == before
    assert not list(tmp_path.glob(".*maillon*"))


def test_a_column_name_that_is_taken_or_unknown_is_a_caller_error(team, tmp_path):
    with Package(team) as pkg:
        with pytest.raises(ValueError, match="already has a column"):
            patch_parts(pkg, [TableEdit("tblAccounts", new_columns=["city"])])
        with pytest.raises(ValueError, match="no column 'Town'"):
            patch_parts(pkg, [TableEdit("tblAccounts", cells={(2, "Town"): "x"})])
        with pytest.raises(ValueError, match="not a body row"):
            patch_parts(pkg, [TableEdit("tblAccounts", cells={(1, "City"): "x"})])


def test_a_sheet_with_a_namespace_prefix_and_rows_without_numbers(tmp_path):
    """Some writers prefix SpreadsheetML (``x:``) and leave out ``r``: both are valid."""
    src = tmp_path / "plain.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Data"
    ws.append(["Key", "Value"])
    ws.append(["a", 1])
    ws.append(["b", 2])
    tab = openpyxl.worksheet.table.Table(displayName="tblData", ref="A1:B3")
    ws.add_table(tab)
    wb.save(src)
    prefixed = tmp_path / "prefixed.xlsx"
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(prefixed, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                text = data.decode()
                text = text.replace("<worksheet xmlns=", "<x:worksheet xmlns:x=")
                for tag in ("sheetPr", "outlinePr", "dimension", "sheetViews", "sheetView",
                            "selection", "pageSetUpPr", "sheetFormatPr", "sheetData", "row", "c", "v", "is",
                            "t", "pageMargins", "tableParts", "tablePart", "worksheet"):
                    text = text.replace(f"<{tag} ", f"<x:{tag} ").replace(f"<{tag}>", f"<x:{tag}>")
                    text = text.replace(f"</{tag}>", f"</x:{tag}>").replace(f"<{tag}/>", f"<x:{tag}/>")
                text = text.replace("<x:x:", "<x:").replace(' r="2"', "", 1)
                data = text.encode()
            zout.writestr(item, data)
    out = tmp_path / "out.xlsx"
    with Package(prefixed) as pkg:
        write_package(pkg, out, patch_parts(pkg, [TableEdit(
            "tblData", cells={(2, "Value"): 10}, new_rows=[{"Key": "c", "Value": 3}])]))
    ws = openpyxl.load_workbook(out)["Data"]
    assert [[c.value for c in row] for row in ws["A1:B4"]] == [
        ["Key", "Value"], ["a", 10], ["b", 2], ["c", 3]]
    assert ws.tables["tblData"].ref == "A1:B4"


def test_libreoffice_and_gnumeric_open_the_edited_workbook(team, tmp_path):
    path = _copy(team, tmp_path)
    save_table_edits(path, [TableEdit("tblAccounts", new_columns=["Web domain"], new_rows=[
        {"Account ID": "NEW-9", "Account name": "Société Générale d'Essai", "Status": "Prospect",
         "Web domain": "essai.fr"}])])
    ok, why = libreoffice_opens(path, "csv")
    if "not installed" in why:
        pytest.skip(why)
    assert ok, why
    ok, why = gnumeric_opens(path)
    if "not installed" in why:
        pytest.skip(why)
    assert ok, why


def test_user_sheets_outside_the_edit_stay_byte_identical(team, tmp_path):
    path = _copy(team, tmp_path)
    before = member_bytes(path)
    save_table_edits(path, [TableEdit("tblFeedback", new_rows=[{"Account ID": "x", "Note": "n"}])])
    after = member_bytes(path)
    for part in parts_of_sheets(path, ["Accounts", "Settings", "Playbook", "Target List"]):
        assert after[part] == before[part], part


def test_cells_written_where_none_existed_take_the_column_format(tmp_path):
    """The shipped template's Accounts table has one empty row and column formats only."""
    from maillon.workbook_templates.build import TEMPLATE_PATH

    path = tmp_path / "new.xlsx"
    path.write_bytes(TEMPLATE_PATH.read_bytes())
    info = list_tables(path)["tblAccounts"]
    row = info.first_data_row
    save_table_edits(path, [TableEdit("tblAccounts", cells={
        (row, "Account ID"): "A-1", (row, "Account name"): "Dupont", (row, "Status"): "Prospect",
        (row, "Last contact"): dt.date(2026, 11, 30)}, new_rows=[
        {"Account ID": "A-2", "Account name": "Durand", "Status": "Customer",
         "Last contact": dt.date(2026, 10, 1)}])])
    ws, _, headers, body = _accounts(path)
    col = headers.index("Last contact")
    assert [r[col] for r in body] == [dt.datetime(2026, 11, 30), dt.datetime(2026, 10, 1)]
    assert ws.cell(row + 1, col + 1).is_date
