"""Reading Excel tables with python-calamine, checked on real files."""
from __future__ import annotations

import datetime

import numpy as np
import pandas as pd
import pytest
import xlsxwriter

from maillon.addin.ooxml.package import list_tables, parse_ref, sheet_names
from maillon.addin.filemode.read import read_tables


@pytest.fixture
def book(tmp_path):
    path = tmp_path / "team.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    date = wb.add_format({"num_format": "yyyy-mm-dd"})
    wb.add_worksheet("Read Me").write("A1", "hello")
    st = wb.add_worksheet("Settings")
    st.add_table("B3:D5", {"name": "tblSettings", "columns": [
        {"header": "Setting"}, {"header": "Value"}, {"header": "Description"}],
        "data": [["Segments", "auto", "how many"], ["P1 share", 0.1, None]]})
    acc = wb.add_worksheet("Accounts")
    acc.add_table(0, 0, 6, 4, {"name": "tblAccounts", "columns": [
        {"header": "Account ID"}, {"header": "Account name"}, {"header": "Revenue 12m"},
        {"header": "Last contact"}, {"header": "Need: Speed\nof delivery"}]})
    acc.write_row(1, 0, ["A1", "Acme", 1200.5])
    acc.write_datetime(1, 3, datetime.datetime(2024, 5, 17), date)
    acc.write_row(2, 0, ["A2", "=literal", "n/a", None, 3])
    acc.write_string(2, 1, "=literal")
    acc.write_row(4, 0, ["A4", "Beta", 0, None, True])  # row 4 (Excel) left blank
    # rows 6 and 7 blank: trailing empty table rows
    plan = wb.add_worksheet("Action Plan")
    plan.add_table(1, 0, 3, 2, {"name": "tblPlan", "columns": [
        {"header": "Action ID"}, {"header": "Action"}, {"header": "Status"}],
        "data": [["X1", "Call", "Done"], ["X2", "Mail", None]]})
    plan.write_row(5, 0, ["", "My own extra line", "In progress"])
    plan.write_row(7, 0, ["Z9", "Another one"])
    plan.write(7, 6, "far right, ignored")
    wb.close()
    return path


def test_parse_ref():
    assert parse_ref("B3:D10") == (3, 2, 10, 4)
    assert parse_ref("$A$1") == (1, 1, 1, 1)
    assert parse_ref("AA10:AB20") == (10, 27, 20, 28)


def test_sheet_names_and_tables(book):
    assert sheet_names(book) == ["Read Me", "Settings", "Accounts", "Action Plan"]
    tables = list_tables(book)
    assert set(tables) == {"tblSettings", "tblAccounts", "tblPlan"}
    assert tables["tblAccounts"].headers[-1] == "Need: Speed\nof delivery"
    assert tables["tblSettings"].sheet == "Settings" and tables["tblSettings"].ref == "B3:D5"


def test_read_tables(book):
    t = read_tables(book, ["tblSettings", "tblAccounts", "tblMissing"])
    assert set(t) == {"tblSettings", "tblAccounts"}  # a missing table is absent
    s = t["tblSettings"]
    assert s.sheet == "Settings" and s.ref == "B3:D5" and s.first_row == 3 and s.first_col == 2
    assert list(s.data.columns) == ["Setting", "Value", "Description"]
    assert list(s.data.index) == [4, 5]  # Excel row numbers
    assert s.data.loc[4, "Value"] == "auto" and s.data.loc[5, "Value"] == 0.1
    assert pd.isna(s.data.loc[5, "Description"])
    a = t["tblAccounts"].data
    assert list(a.index) == [2, 3, 5]  # blank rows (4, 6, 7) dropped, numbers kept
    assert a.loc[2, "Revenue 12m"] == 1200.5
    assert a.loc[3, "Revenue 12m"] == "n/a"  # not coerced: the engine validates
    assert a.loc[3, "Account name"] == "=literal"
    assert a.loc[2, "Last contact"] in (datetime.date(2024, 5, 17), datetime.datetime(2024, 5, 17))
    assert pd.isna(a.loc[3, "Last contact"])
    assert a.loc[5, "Need: Speed\nof delivery"] is True or a.loc[5, "Need: Speed\nof delivery"] == 1
    assert a["Account name"].map(type).eq(str).all()


def test_table_names_are_case_insensitive(book):
    t = read_tables(book, ["TBLSETTINGS"])
    assert t["TBLSETTINGS"].name == "tblSettings"


def _rows_below(book, name):
    """Rows typed below the table ``name``; None when there are none or no such table."""
    data = read_tables(book, [name], below=[name]).get(name)
    return None if data is None else data.below


def test_read_rows_below(book):
    below = _rows_below(book, "tblPlan")
    assert list(below.columns) == ["Action ID", "Action", "Status"]
    assert list(below.index) == [6, 8]
    assert below.loc[6, "Action"] == "My own extra line" and pd.isna(below.loc[6, "Action ID"])
    assert below.loc[8, "Action ID"] == "Z9"
    assert _rows_below(book, "tblSettings") is None
    assert _rows_below(book, "tblHistory") is None


def test_rows_below_come_in_the_same_pass_as_the_table(book):
    t = read_tables(book, ["tblSettings", "tblPlan"], below=["TBLPLAN"])
    assert t["tblPlan"].data["Action ID"].tolist() == ["X1", "X2"]
    pd.testing.assert_frame_equal(t["tblPlan"].below,
                                  _rows_below(book, "tblPlan"))
    assert t["tblSettings"].below is None
    assert read_tables(book, ["tblPlan"])["tblPlan"].below is None  # not asked for


@pytest.mark.parametrize("where, needle", [("a shared string", b"Acme"),
                                           ("the sheet being parsed", b"1200.5")])
def test_the_package_is_checked_before_a_cell_is_parsed(book, tmp_path, where, needle):
    import zipfile

    from maillon.addin.ooxml.safe_io import WorkbookError
    bad = tmp_path / "crc.xlsx"
    with zipfile.ZipFile(book) as zin, zipfile.ZipFile(bad, "w") as zout:
        for info in zin.infolist():
            zout.writestr(info.filename, zin.read(info), compress_type=zipfile.ZIP_STORED)
    raw = bytearray(bad.read_bytes())
    raw[raw.index(needle) + 1] ^= 0x01  # stored uncompressed: the part's CRC no longer matches
    bad.write_bytes(bytes(raw))
    with pytest.raises(WorkbookError, match=r"crc\.xlsx is damaged"):
        read_tables(bad, ["tblSettings", "tblAccounts"])


def test_a_big_sheet_is_checked_by_the_thread_that_parses_it(tmp_path):
    # the up-front check reads only the prolog of a sheet this big; the thread
    # that parses it checks its data first
    import zipfile

    from maillon.addin.ooxml.safe_io import WorkbookError
    path = tmp_path / "big.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("Accounts")
    ws.add_table(0, 0, 5000, 1, {"name": "tblAccounts", "columns": [
        {"header": "Account ID"}, {"header": "Revenue 12m"}],
        "data": [[i, 1000 + i] for i in range(5000)]})
    wb.close()
    stored = tmp_path / "stored.xlsx"
    with zipfile.ZipFile(path) as zin, zipfile.ZipFile(stored, "w") as zout:
        for info in zin.infolist():
            zout.writestr(info.filename, zin.read(info), compress_type=zipfile.ZIP_STORED)
        assert zin.getinfo("xl/worksheets/sheet1.xml").file_size > 4 * 64 * 1024
    assert read_tables(stored, ["tblAccounts"])["tblAccounts"].data.shape == (5000, 2)
    raw = bytearray(stored.read_bytes())
    raw[raw.rindex(b"<v>5999</v>") + 3] ^= 0x01  # 5999 -> 4999, near the end of the part
    stored.write_bytes(bytes(raw))
    with pytest.raises(WorkbookError, match=r"stored\.xlsx is damaged"):
        read_tables(stored, ["tblAccounts"])


def test_empty_table(tmp_path):
    path = tmp_path / "e.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("Field Feedback")
    ws.add_table("A1:C2", {"name": "tblFeedback", "columns": [
        {"header": "Account ID"}, {"header": "Date"}, {"header": "Note"}]})
    wb.close()
    t = read_tables(path, ["tblFeedback"])["tblFeedback"]
    assert t.data.empty and list(t.data.columns) == ["Account ID", "Date", "Note"]


def test_numbers_are_floats(book):
    a = read_tables(book, ["tblSettings"])["tblSettings"].data
    assert isinstance(a.loc[5, "Value"], (float, np.floating))


def _as_dict(tables):
    return {n: (t.sheet, t.ref, t.first_row, t.first_col, t.data) for n, t in tables.items()}


def test_threads_and_one_thread_read_the_same(book, monkeypatch):
    import maillon.addin.filemode.grids as xg
    names = ["tblPlan", "tblSettings", "tblAccounts", "tblMissing"]
    threaded = read_tables(book, names)
    monkeypatch.setattr(xg, "MAX_THREADS", 1)
    single = read_tables(book, names)
    assert list(threaded) == list(single) == ["tblPlan", "tblSettings", "tblAccounts"]
    for name in single:
        a, b = _as_dict(threaded)[name], _as_dict(single)[name]
        assert a[:4] == b[:4]
        pd.testing.assert_frame_equal(a[4], b[4], check_exact=True)


def test_reader_leaves_the_garbage_collector_as_it_was(book):
    import gc
    assert gc.isenabled()
    read_tables(book, ["tblSettings", "tblAccounts"])
    read_tables(book, ["tblPlan"], below=["tblPlan"])
    assert gc.isenabled()
    gc.disable()
    try:
        read_tables(book, ["tblSettings"])
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_columns_beyond_the_cells_and_sheets_with_two_tables(tmp_path):
    """A table whose last columns are empty (calamine's grid is narrower than the
    table) and two tables side by side on one sheet, the right one narrower."""
    path = tmp_path / "w.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("History")
    ws.add_table("A4:D7", {"name": "tblHistory", "columns": [
        {"header": "Run"}, {"header": "Count"}, {"header": "Note"}, {"header": "Empty"}],
        "data": [["r1", 1, "x"], ["r2", 2.5, None], ["r3", None, "z"]]})
    ws.add_table("F4:G6", {"name": "tblEdits", "columns": [{"header": "When"}, {"header": "What"}],
                           "data": [["d1", "e1"]]})
    big = wb.add_worksheet("Big")
    rows = [[f"ID{i}", float(i), "" if i % 7 else "note", i % 3 == 0] for i in range(3000)]
    big.add_table(0, 1, 3000, 4, {"name": "tblBig", "data": rows, "columns": [
        {"header": "ID"}, {"header": "Value"}, {"header": "Note"}, {"header": "Flag"}]})
    big.write(10, 8, "outside")
    wb.close()
    t = read_tables(path, ["tblHistory", "tblEdits", "tblBig"])
    h = t["tblHistory"].data
    assert list(h.index) == [5, 6, 7] and h["Count"].dtype == np.float64
    assert h["Empty"].isna().all() and pd.isna(h.loc[6, "Note"]) and pd.isna(h.loc[7, "Count"])
    e = t["tblEdits"].data
    assert list(e.index) == [5] and e.loc[5, "What"] == "e1"  # the blank row 6 is dropped
    b = t["tblBig"].data
    assert b.shape == (3000, 4) and list(b.index[:2]) == [2, 3]
    assert b["Value"].dtype == np.float64 and b["Value"].sum() == sum(range(3000))
    assert b["Note"].isna().sum() == 3000 - len(range(0, 3000, 7))
    assert b["Flag"].sum() == len(range(0, 3000, 3))
    assert pd.api.types.infer_dtype(b["ID"]) == "string"


def test_a_damaged_sheet_is_a_workbook_error(book, tmp_path):
    import zipfile

    from maillon.addin.ooxml.safe_io import WorkbookError
    bad = tmp_path / "bad.xlsx"
    with zipfile.ZipFile(book) as zin, zipfile.ZipFile(bad, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename == "xl/worksheets/sheet3.xml":  # Accounts
                data = data[: len(data) // 2]
            zout.writestr(info, data)
    import gc
    with pytest.raises(WorkbookError, match=r"bad\.xlsx: sheet 'Accounts' cannot be read"):
        read_tables(bad, ["tblSettings", "tblAccounts", "tblPlan"])
    assert gc.isenabled()  # the reader resumes the collector after an error too
