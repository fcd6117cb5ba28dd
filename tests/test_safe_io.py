"""Defensive opening and safe saving: hostile or broken files get one clear error."""
from __future__ import annotations

import time
import zipfile

import pytest
import xlsxwriter

from maillon.addin.ooxml.safe_io import WorkbookError, check_package, parse_xml
from maillon.addin.ooxml.package import sheet_names
from maillon.addin.filemode.read import read_tables

LAUGHS = (b'<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">'
          b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
          b'<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>'
          b'<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
          b"<sheets><sheet name=\"&lol3;\" sheetId=\"1\"/></sheets></workbook>")


@pytest.fixture
def good(tmp_path):
    path = tmp_path / "team.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("Settings")
    ws.add_table("A1:B3", {"name": "tblSettings", "columns": [{"header": "Setting"},
                                                             {"header": "Value"}],
                           "data": [["Segments", "auto"], ["Plan weeks", 26]]})
    wb.close()
    return path


def rewrite(src, dst, replace: dict | None = None, add: dict | None = None,
            compression=zipfile.ZIP_DEFLATED):
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", compression) as zout:
        for info in zin.infolist():
            data = (replace or {}).get(info.filename, zin.read(info))
            zout.writestr(info.filename, data)
        for name, data in (add or {}).items():
            zout.writestr(name, data)
    return dst


def test_good_package_passes(good):
    check_package(good)
    check_package(good, verify_data=False)


def test_not_a_zip(tmp_path):
    p = tmp_path / "team.xlsx"
    p.write_text("Account ID;Name\nA1;Acme\n")
    with pytest.raises(WorkbookError, match=r"^team\.xlsx is not an Excel workbook"):
        check_package(p)


def test_missing_file(tmp_path):
    with pytest.raises(WorkbookError, match="nothere.xlsx does not exist"):
        check_package(tmp_path / "nothere.xlsx")


def test_truncated_zip(good, tmp_path):
    p = tmp_path / "cut.xlsx"
    p.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(WorkbookError, match="cut.xlsx"):
        check_package(p)


def test_corrupt_member(good, tmp_path):
    data = bytearray(good.read_bytes())
    with zipfile.ZipFile(good) as z:
        info = z.getinfo("xl/worksheets/sheet1.xml")
    start = info.header_offset + 30 + len(info.filename) + len(info.extra) + 5
    for i in range(start, start + 20):
        data[i] ^= 0x55
    p = tmp_path / "bad.xlsx"
    p.write_bytes(bytes(data))
    with pytest.raises(WorkbookError, match=r"^bad\.xlsx is damaged"):
        check_package(p)


def test_zip_bomb_member(good, tmp_path):
    p = rewrite(good, tmp_path / "bomb.xlsx", add={"xl/media/zeros.bin": bytes(64 * 1024 ** 2)})
    t = time.perf_counter()
    with pytest.raises(WorkbookError, match=r"bomb\.xlsx is refused: part xl/media/zeros.bin "
                                            r"expands \d+ times.*zip bomb"):
        check_package(p)
    assert time.perf_counter() - t < 2


def test_too_many_members(good, tmp_path, monkeypatch):
    import maillon.addin.ooxml.safe_io as safe_io
    monkeypatch.setattr(safe_io, "MAX_MEMBERS", 5)
    with pytest.raises(WorkbookError, match="parts"):
        check_package(good)


def test_part_lying_about_its_size(good, tmp_path):
    p = rewrite(good, tmp_path / "liar.xlsx")
    data = bytearray(p.read_bytes())
    with zipfile.ZipFile(p) as z:
        info = z.getinfo("xl/worksheets/sheet1.xml")
        real = info.file_size
    # patch the declared uncompressed size in the central directory entry
    pos = data.rfind(info.filename.encode())
    cd_start = pos - 46
    assert data[cd_start:cd_start + 4] == b"PK\x01\x02"
    data[cd_start + 24:cd_start + 28] = (real // 2).to_bytes(4, "little")
    p.write_bytes(bytes(data))
    with pytest.raises(WorkbookError, match="liar.xlsx"):
        check_package(p)


def test_doctype_in_a_part(good, tmp_path):
    p = rewrite(good, tmp_path / "lol.xlsx", replace={"xl/workbook.xml": LAUGHS})
    t = time.perf_counter()
    with pytest.raises(WorkbookError, match=r"lol\.xlsx is refused: part xl/workbook.xml "
                                            r"declares a DTD"):
        check_package(p)
    # readers refuse it too, even without check_package
    with pytest.raises(WorkbookError, match="DTD or XML entities"):
        sheet_names(p)
    with pytest.raises(WorkbookError, match="DTD"):
        read_tables(p, ["tblSettings"])
    assert time.perf_counter() - t < 2


def test_doctype_after_comments(good, tmp_path):
    xml = (b'<?xml version="1.0"?><!-- a comment --><!-- <sheet> -->\n'
           b'<!DOCTYPE x SYSTEM "http://example.com/x.dtd"><x/>')
    p = rewrite(good, tmp_path / "ext.xlsx", add={"customXml/item9.xml": xml})
    with pytest.raises(WorkbookError, match="customXml/item9.xml declares a DTD"):
        check_package(p)


def test_parse_xml_refuses_entities():
    with pytest.raises(WorkbookError, match="DTD or XML entities"):
        parse_xml(LAUGHS, "xl/workbook.xml")
    with pytest.raises(WorkbookError, match="damaged"):
        parse_xml(b"<a><b></a>", "xl/workbook.xml")


def test_missing_content_types(good, tmp_path):
    with zipfile.ZipFile(good) as zin, zipfile.ZipFile(tmp_path / "noct.xlsx", "w") as zout:
        for info in zin.infolist():
            if info.filename != "[Content_Types].xml":
                zout.writestr(info.filename, zin.read(info))
    with pytest.raises(WorkbookError, match="Content_Types"):
        check_package(tmp_path / "noct.xlsx")
