"""Real spreadsheet programs open what Maillon writes for the user-owned sheets.

LibreOffice Calc and Gnumeric load the shipped template and a workbook with
2,000 demo accounts; openpyxl reads back every table and header as the
contract says; data text that looks like a formula stays text in both.
"""
from __future__ import annotations

import csv

import openpyxl
import pytest
import xlsxwriter

from maillon.engine import contract as c
from maillon.workbook_templates.build import TEMPLATE_PATH
from maillon.workbook_templates.defaults import default_expectations
from maillon.workbook_templates.demo_portfolio import generate_portfolio
from maillon.workbook_templates.user_sheets import account_columns, write_user_sheets

from realclients import gnumeric_opens, libreoffice_opens, needs_gnumeric, needs_libreoffice

EXPECTED_TABLES = {
    c.TBL_SETTINGS: (c.SHEET_SETTINGS, list(c.SETTINGS_COLUMNS)),
    c.TBL_EXPECTATIONS: (c.SHEET_EXPECTATIONS, list(c.EXPECTATION_COLUMNS)),
    c.TBL_ACCOUNTS: (c.SHEET_ACCOUNTS, account_columns(default_expectations())),
    c.TBL_FEEDBACK: (c.SHEET_FEEDBACK, list(c.FEEDBACK_COLUMNS)),
    c.TBL_PLAYBOOK: (c.SHEET_PLAYBOOK, list(c.PLAYBOOK_COLUMNS)),
}
TRAP = "=cmd|' /C calc'!A0"


@pytest.fixture(scope="module")
def demo_workbook(tmp_path_factory):
    accounts, feedback = generate_portfolio(2000, seed=7, as_of="2026-06-01")
    accounts.loc[0, "Account name"] = TRAP
    path = tmp_path_factory.mktemp("real") / "demo_2000.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    write_user_sheets(wb, default_expectations(), accounts, feedback)
    wb.close()
    return path


def _check_tables(path):
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames[:len(c.USER_SHEETS)] == list(c.USER_SHEETS)
    found = {}
    for ws in wb.worksheets:
        for table in ws.tables.values():
            found[table.name] = (ws.title, [col.name for col in table.tableColumns])
    assert {k: v for k, v in found.items() if k in EXPECTED_TABLES} == EXPECTED_TABLES
    for name, (sheet, headers) in EXPECTED_TABLES.items():
        row1 = [cell.value for cell in wb[sheet][1]]
        assert row1[:len(headers)] == headers, name


def test_template_tables_as_the_contract_says():
    _check_tables(TEMPLATE_PATH)


def test_template_has_every_engine_table_empty():
    wb = openpyxl.load_workbook(TEMPLATE_PATH)
    assert wb.sheetnames == list(c.USER_SHEETS) + list(c.ENGINE_SHEETS)
    found = {t.name: [col.name for col in t.tableColumns] for ws in wb.worksheets
             for t in ws.tables.values()}
    for name, headers in [(c.TBL_SEGMENTS, c.SEGMENT_COLUMNS), (c.TBL_ABC, c.ABC_COLUMNS),
                          (c.TBL_CONFLICTS, c.CONFLICT_COLUMNS),
                          (c.TBL_TARGETS, c.TARGET_COLUMNS),
                          (c.TBL_PLAN, c.PLAN_FIXED_COLUMNS),
                          (c.TBL_HISTORY, c.HISTORY_COLUMNS), (c.TBL_EDITS, c.EDIT_COLUMNS)]:
        assert found[name][:len(headers)] == headers, name


def test_demo_workbook_tables_as_the_contract_says(demo_workbook):
    _check_tables(demo_workbook)


@needs_libreoffice
@pytest.mark.parametrize("which", ["template", "demo"])
def test_libreoffice_opens(which, demo_workbook):
    path = TEMPLATE_PATH if which == "template" else demo_workbook
    ok, message = libreoffice_opens(path, convert_to="pdf")
    assert ok, message


@needs_gnumeric
@pytest.mark.parametrize("which", ["template", "demo"])
def test_gnumeric_opens(which, demo_workbook):
    path = TEMPLATE_PATH if which == "template" else demo_workbook
    ok, message = gnumeric_opens(path, convert_to="csv")
    assert ok, message


@needs_gnumeric
def test_gnumeric_keeps_formula_like_text_as_text(demo_workbook, tmp_path):
    ok, message = gnumeric_opens(demo_workbook, convert_to="csv", outdir=tmp_path)
    assert ok, message
    index = c.USER_SHEETS.index(c.SHEET_ACCOUNTS)
    with open(tmp_path / f"{demo_workbook.stem}.{index}.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    assert rows[0][:len(c.ACCOUNT_COLUMNS)] == list(c.ACCOUNT_COLUMNS)
    assert rows[1][1] == TRAP
    assert len(rows) == 2001


@needs_libreoffice
def test_libreoffice_keeps_formula_like_text_as_text(demo_workbook, tmp_path):
    # LibreOffice re-saves the workbook as xlsx; the trap must come back as text
    ok, message = libreoffice_opens(demo_workbook, convert_to="xlsx", outdir=tmp_path)
    assert ok, message
    wb = openpyxl.load_workbook(tmp_path / demo_workbook.name, read_only=True)
    ws = wb[c.SHEET_ACCOUNTS]
    cell = next(ws.iter_rows(min_row=2, max_row=2, min_col=2, max_col=2))[0]
    assert cell.value == TRAP and cell.data_type == "s"
    wb.close()
