"""The template and the user-owned sheets, read back from the written files."""
from __future__ import annotations

import datetime as dt
import io
import re
import zipfile

import numpy as np
import openpyxl
import pandas as pd
import pytest
import xlsxwriter

from maillon.engine import contract as c
from maillon.addin.filemode.template import build_default_template
from maillon.workbook_templates.build import TEMPLATE_PATH, build_template, member_digests
from maillon.workbook_templates.defaults import (default_expectations, default_playbook,
                                                 default_settings)
from maillon.workbook_templates.demo_portfolio import generate_portfolio
from maillon.workbook_templates.look import COLOURS
from maillon.workbook_templates.user_sheets import (INPUT_FILL, account_columns, money_format,
                                                    write_user_sheets)

YELLOW = "FF" + INPUT_FILL.lstrip("#").upper()


def _tables(wb) -> dict:
    out = {}
    for ws in wb.worksheets:
        for t in ws.tables.values():
            out[t.name] = (ws.title, t.ref, [col.name for col in t.tableColumns])
    return out


def _write(tmp_path, name="wb.xlsx", **kwargs) -> str:
    path = tmp_path / name
    wb = xlsxwriter.Workbook(str(path))
    args = {"expectations": default_expectations(), "accounts": None, "feedback": None}
    args.update(kwargs)
    write_user_sheets(wb, **args)
    wb.close()
    return str(path)


def _validations(ws) -> list:
    return list(ws.data_validations.dataValidation)


def _validation_for(ws, cell: str):
    for dv in _validations(ws):
        if cell in dv.sqref:
            return dv
    return None


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    path = tmp_path_factory.mktemp("tpl") / "template.xlsx"
    build_default_template(path)
    return path


@pytest.fixture(scope="module")
def template_book(template):
    return openpyxl.load_workbook(template)


# ----------------------------------------------------------------------------- template
def test_committed_template_is_what_the_code_generates(template):
    assert TEMPLATE_PATH.is_file(), "run: python -m maillon.addin.filemode.template"
    assert member_digests(TEMPLATE_PATH) == member_digests(template), (
        "workbook_templates/maillon_template.xlsx is stale: "
        "run python -m maillon.addin.filemode.template")


def test_build_is_deterministic(tmp_path):
    a = build_template(tmp_path / "a.xlsx")
    b = build_template(tmp_path / "b.xlsx")
    assert member_digests(a) == member_digests(b)
    # XlsxWriter stamps members with a fixed date: even the bytes match
    assert a.read_bytes() == b.read_bytes()


def test_template_has_the_user_sheets_in_contract_order(template_book):
    assert template_book.sheetnames[:len(c.USER_SHEETS)] == list(c.USER_SHEETS)
    assert template_book.active.title == c.SHEET_README


def test_template_tables_and_headers_are_the_contract(template_book):
    tables = _tables(template_book)
    expected = {
        c.TBL_SETTINGS: (c.SHEET_SETTINGS, c.SETTINGS_COLUMNS),
        c.TBL_EXPECTATIONS: (c.SHEET_EXPECTATIONS, c.EXPECTATION_COLUMNS),
        c.TBL_ACCOUNTS: (c.SHEET_ACCOUNTS, account_columns(default_expectations())),
        c.TBL_FEEDBACK: (c.SHEET_FEEDBACK, c.FEEDBACK_COLUMNS),
        c.TBL_PLAYBOOK: (c.SHEET_PLAYBOOK, c.PLAYBOOK_COLUMNS),
    }
    for name, (sheet, headers) in expected.items():
        assert name in tables, name
        assert tables[name][0] == sheet
        assert tables[name][2] == list(headers)
        ws = template_book[sheet]
        assert [cell.value for cell in ws[1]][:len(headers)] == list(headers)
    # empty tables are real tables with one blank row
    assert tables[c.TBL_ACCOUNTS][1] == "A1:R2"
    assert tables[c.TBL_FEEDBACK][1] == "A1:H2"
    assert all(v is None for v in next(template_book[c.SHEET_ACCOUNTS].iter_rows(
        min_row=2, max_row=2, values_only=True)))


def test_template_settings_are_the_defaults_with_formats(template_book):
    ws = template_book[c.SHEET_SETTINGS]
    rows = list(ws.iter_rows(min_row=2, max_row=1 + len(c.SETTINGS)))
    assert [r[0].value for r in rows] == list(c.SETTING_NAMES)
    for spec, row in zip(c.SETTINGS, rows):
        value = row[1]
        assert value.value == spec.default
        assert row[2].value == spec.description
        if isinstance(spec.default, float):
            assert value.number_format == "0%", spec.name
        assert value.fill.fgColor.rgb == YELLOW, spec.name  # Value is an input cell
        assert _validation_for(ws, value.coordinate) is not None, spec.name
    assert rows[0][0].fill.fgColor.rgb != YELLOW  # setting names are not to be renamed
    assert ws.freeze_panes == "A2"


def test_template_expectations(template_book):
    ws = template_book[c.SHEET_EXPECTATIONS]
    frame = pd.DataFrame(list(ws.iter_rows(min_row=2, values_only=True)),
                         columns=c.EXPECTATION_COLUMNS)
    assert len(frame) == 7
    assert frame["Expectation"].is_unique
    assert frame["Market importance"].between(1, 5).all()
    assert frame["Our strength"].between(1, 5).all()
    assert frame["Description"].str.len().gt(10).all()
    assert frame["Source"].notna().all()
    assert _validation_for(ws, "C2").type == "whole"
    assert _validation_for(ws, "D5").formula2 == "5"


def test_template_playbook_is_sensible(template_book):
    ws = template_book[c.SHEET_PLAYBOOK]
    rows = list(ws.iter_rows(min_row=2, values_only=True))
    frame = pd.DataFrame(rows, columns=c.PLAYBOOK_COLUMNS)
    assert 10 <= len(frame) <= 14
    assert set(frame["Priority"]) <= set(c.PLAYBOOK_PRIORITIES)
    assert set(frame["Function"]) == set(c.FUNCTIONS)
    pattern = re.compile(r"^(All|[ABCP*][ABC*])$")
    assert all(pattern.match(v) for v in frame["ABC cell"])
    assert (frame["Start week"] >= 0).all() and (frame["Duration weeks"] >= 1).all()
    assert frame["Repeat every weeks"].isna().any() and frame["Repeat every weeks"].notna().any()
    first = frame.iloc[0]
    assert (first["Priority"], first["Segment"], first["ABC cell"], first["Function"]) == \
        ("P1", "All", "A*", "Sales")
    # lists guide the input
    assert _validation_for(ws, "A2").type == "list"
    assert _validation_for(ws, "A2").formula1 == '"P1,P2,P3,All"'
    assert _validation_for(ws, "E2").formula1 == '"Marketing,Sales,Joint"'
    assert ws["D2"].fill.fgColor.rgb == YELLOW


def test_template_accounts_and_feedback_guide_the_input(template_book):
    acc = template_book[c.SHEET_ACCOUNTS]
    assert acc.freeze_panes == "C2"
    assert _validation_for(acc, "C2").formula1 == '"Customer,Prospect"'
    need = _validation_for(acc, "L2")
    assert need.type == "whole" and (need.formula1, need.formula2) == ("1", "5")
    assert _validation_for(acc, "L100000") is need  # the whole column, not just the table
    fb = template_book[c.SHEET_FEEDBACK]
    assert _validation_for(fb, "F2").formula1 == '"Low,Medium,High"'
    assert _validation_for(fb, "E2").type == "whole"


def test_read_me_explains_the_workbook(template_book):
    ws = template_book[c.SHEET_README]
    text = "\n".join(str(v) for row in ws.iter_rows(values_only=True) for v in row if v)
    assert "maillon recompute team.xlsx" in text
    assert "Recompute segments" in text
    for header in c.SEGMENT_EDITABLE + c.TARGET_EDITABLE + c.PLAN_EDITABLE:
        assert f"✎ {header}" in text
    for sheet in c.USER_SHEETS[1:] + c.ENGINE_SHEETS:
        assert sheet in text
    for setting in ("Revenue A share", "Marketing weight", "P1 share", "Plan weeks"):
        assert setting in text
    assert "Hidden potential" in text and "Legacy account" in text
    assert "yellow" in text.lower()
    # colour swatches are painted with the colours they explain
    swatches = {cell.value: cell.fill.fgColor.rgb for row in ws.iter_rows() for cell in row
                if cell.value in ("P1", "P2", "P3", "Marketing", "Sales", "Joint")}
    for key in ("P1", "P2", "P3", "Marketing", "Sales", "Joint"):
        assert swatches[key] == "FF" + COLOURS[key][0].lstrip("#").upper()
    # printable: portrait, one page wide
    assert ws.page_setup.orientation == "portrait"
    assert ws.page_setup.fitToWidth in (None, 1)  # 1 is the default, left out
    assert ws.page_setup.fitToHeight == 0
    assert ws.sheet_properties.pageSetUpPr.fitToPage


def test_build_template_calls_the_engine_hook(tmp_path):
    seen = []

    def add_engine_sheets(workbook):
        seen.append(workbook)
        ws = workbook.add_worksheet(c.SHEET_SEGMENTS)
        ws.write_string(0, 0, "engine here")

    path = build_template(tmp_path / "t.xlsx", add_engine_sheets=add_engine_sheets)
    assert len(seen) == 1 and isinstance(seen[0], xlsxwriter.Workbook)
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == list(c.USER_SHEETS) + [c.SHEET_SEGMENTS]
    with pytest.raises(TypeError, match="add_engine_sheets"):
        build_template(tmp_path / "x.xlsx", add_engine_sheets="not callable")


# ----------------------------------------------------------------------------- user sheets
@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    accounts, feedback = generate_portfolio(2000, seed=7, as_of="2026-06-01")
    path = tmp_path_factory.mktemp("demo") / "demo.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    write_user_sheets(wb, default_expectations(), accounts, feedback)
    wb.close()
    return accounts, feedback, path


def test_demo_accounts_round_trip(demo):
    accounts, feedback, path = demo
    wb = openpyxl.load_workbook(path)
    tables = _tables(wb)
    assert tables[c.TBL_ACCOUNTS][1] == f"A1:R{len(accounts) + 1}"
    assert tables[c.TBL_ACCOUNTS][2] == list(accounts.columns)
    assert tables[c.TBL_FEEDBACK][1] == f"A1:H{len(feedback) + 1}"
    ws = wb[c.SHEET_ACCOUNTS]
    back = pd.DataFrame(list(ws.iter_rows(min_row=2, values_only=True)), columns=accounts.columns)
    assert back["Account ID"].tolist() == accounts["Account ID"].tolist()
    assert back["Account name"].tolist() == accounts["Account name"].tolist()
    np.testing.assert_allclose(back["Revenue 12m"].astype(float), accounts["Revenue 12m"])
    np.testing.assert_allclose(back["Potential"].astype(float), accounts["Potential"])
    need = c.need_column("Price")
    assert back[need].isna().tolist() == accounts[need].isna().tolist()
    dates = pd.to_datetime(back["Last contact"])
    assert dates.isna().tolist() == accounts["Last contact"].isna().tolist()
    assert (dates.dropna() == accounts["Last contact"].dropna()).all()
    # formats: money in the currency, dates as dates, yellow input cells
    customer_row = int(np.flatnonzero(accounts["Revenue 12m"].to_numpy() > 0)[0]) + 2
    assert ws.cell(customer_row, 9).number_format == money_format("EUR")
    assert ws.cell(customer_row, 9).fill.fgColor.rgb == YELLOW
    dated = int(np.flatnonzero(accounts["Last contact"].notna().to_numpy())[0]) + 2
    assert ws.cell(dated, 11).is_date


def test_text_from_data_stays_text(tmp_path):
    accounts = pd.DataFrame({
        "Account ID": ["=1+1", "@SUM(A1)", "+33 1 23"],
        "Account name": ["=cmd|' /C calc'!A0", "-2+3", "http://example.com"],
        "Status": ["Customer", "Prospect", "Customer"],
        "Revenue 12m": [10.0, 0.0, 5.0],
    })
    feedback = pd.DataFrame({"Account ID": ["=1+1"], "Note": ["=HYPERLINK(\"x\")"]})
    path = _write(tmp_path, accounts=accounts, feedback=feedback)
    with zipfile.ZipFile(path) as zf:
        for name in zf.namelist():
            if name.startswith("xl/worksheets/sheet"):
                assert "<f>" not in zf.read(name).decode(), name
                assert "<hyperlink" not in zf.read(name).decode(), name
    wb = openpyxl.load_workbook(path)
    ws = wb[c.SHEET_ACCOUNTS]
    assert [ws.cell(r, 1).value for r in (2, 3, 4)] == ["=1+1", "@SUM(A1)", "+33 1 23"]
    assert ws["B2"].value == "=cmd|' /C calc'!A0" and ws["B2"].data_type == "s"
    assert wb[c.SHEET_FEEDBACK]["H2"].value == "=HYPERLINK(\"x\")"


def test_missing_and_extra_columns(tmp_path):
    accounts = pd.DataFrame({"Account ID": ["A1"], "Account name": ["Alpha"],
                             "Status": ["Customer"], "My notes": ["keep me"],
                             "Need: Price": [4]})
    path = _write(tmp_path, accounts=accounts)
    wb = openpyxl.load_workbook(path)
    name, ref, headers = _tables(wb)[c.TBL_ACCOUNTS]
    assert headers == account_columns(default_expectations()) + ["My notes"]
    ws = wb[c.SHEET_ACCOUNTS]
    assert ws.cell(2, len(headers)).value == "keep me"
    assert ws.cell(2, headers.index("Need: Price") + 1).value == 4
    assert ws.cell(2, headers.index("Industry") + 1).value is None


def test_need_columns_follow_the_expectations(tmp_path):
    expectations = pd.DataFrame({"Expectation": ["Speed", "Quality"], "Description": ["", ""],
                                 "Market importance": [5, 3], "Our strength": [2, 4],
                                 "Source": ["Panel", "Panel"]})
    path = _write(tmp_path, expectations=expectations)
    headers = _tables(openpyxl.load_workbook(path))[c.TBL_ACCOUNTS][2]
    assert headers == list(c.ACCOUNT_COLUMNS) + ["Need: Speed", "Need: Quality"]


def test_settings_currency_and_custom_values(tmp_path):
    settings = default_settings()
    values = settings.set_index("Setting")["Value"]
    values["Currency"] = "USD"
    values["Plan start"] = dt.date(2026, 9, 7)
    values["Segments"] = 6
    settings["Value"] = values.to_numpy()
    accounts = pd.DataFrame({"Account ID": ["A1"], "Account name": ["Alpha"],
                             "Status": ["Customer"], "Revenue 12m": [1200.0]})
    path = _write(tmp_path, settings=settings, accounts=accounts)
    wb = openpyxl.load_workbook(path)
    ws = wb[c.SHEET_SETTINGS]
    by_name = {row[0].value: row[1] for row in ws.iter_rows(min_row=2)}
    assert by_name["Plan start"].value == dt.datetime(2026, 9, 7) and by_name["Plan start"].is_date
    assert by_name["Segments"].value == 6
    assert wb[c.SHEET_ACCOUNTS]["I2"].number_format == money_format("USD") == '"$"#,##0'


def test_default_frames():
    settings = default_settings()
    assert list(settings.columns) == c.SETTINGS_COLUMNS
    assert settings["Setting"].tolist() == list(c.SETTING_NAMES)
    assert list(default_expectations().columns) == c.EXPECTATION_COLUMNS
    assert list(default_playbook().columns) == c.PLAYBOOK_COLUMNS
    # fresh frames each time
    settings.loc[0, "Value"] = "changed"
    assert default_settings().loc[0, "Value"] == "auto"


def test_bad_arguments():
    wb = xlsxwriter.Workbook(io.BytesIO(), {"constant_memory": True})
    with pytest.raises(ValueError, match="constant_memory"):
        write_user_sheets(wb, default_expectations(), None, None)
    wb = xlsxwriter.Workbook(io.BytesIO())
    with pytest.raises(TypeError, match="accounts"):
        write_user_sheets(wb, default_expectations(), accounts=[1, 2], feedback=None)
