"""Damaged, misleading or foreign packages: one message that names what is wrong.

Through real files and the CLI (``maillon recompute`` and ``maillon validate``):
exit code 1, the message, the file byte-identical, no stray file.
"""
from __future__ import annotations

import re
import subprocess
import zipfile
from pathlib import Path

import pytest

from maillon.addin.cli import main
from maillon.addin.ooxml.package import Package
from maillon.addin.ooxml.safe_io import cfb_stream_names
from maillon.engine import contract as C
from realclients import needs_gnumeric
from workbooks import USER_SHEET, build_workbook


@pytest.fixture(scope="module")
def small(tmp_path_factory) -> Path:
    return build_workbook(tmp_path_factory.mktemp("src") / "team.xlsx", n_accounts=30)


def _rewrite(src: Path, dst: Path, change) -> Path:
    """A copy of ``src`` where ``change(name, data)`` gives each member's new bytes
    (None drops the member)."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = change(info.filename, zin.read(info))
            if data is not None:
                zout.writestr(info.filename, data)
    return dst


def _part_of(path: Path, sheet: str) -> str:
    with Package(path) as pkg:
        return next(s.part for s in pkg.sheets if s.name == sheet)


def _table_part(path: Path, table: str) -> str:
    from maillon.addin.ooxml.package import tables_in
    with Package(path) as pkg:
        return tables_in(pkg)[table].part


def _both_refuse(capsys, path: Path, *needles: str) -> str:
    before = path.read_bytes()
    files = sorted(p.name for p in path.parent.iterdir())
    for command in ("recompute", "validate"):
        assert main([command, str(path), "-q"]) == 1, command
        err = capsys.readouterr().err
        assert "Traceback" not in err and err.startswith("maillon: ") and err.count("\n") == 1
        for needle in needles:
            assert needle in err, (needle, err)
        assert path.read_bytes() == before
        assert sorted(p.name for p in path.parent.iterdir()) == files
    return err


# --- 3. a user's sheet named like an engine sheet in other letter case --------------------
def test_a_sheet_named_like_an_engine_sheet_in_other_case_is_not_overwritten(tmp_path, capsys):
    src = build_workbook(tmp_path / "src.xlsx", n_accounts=30, with_engine_sheets=False)
    path = _rewrite(src, tmp_path / "team.xlsx", lambda n, d: d.replace(
        f'name="{USER_SHEET}"'.encode(), b'name="TARGET LIST"') if n == "xl/workbook.xml" else d)
    src.unlink()
    err = _both_refuse(capsys, path, "the sheet 'TARGET LIST' differs from the engine-owned "
                                     "sheet 'Target List' only in letter case",
                       "would overwrite it", "nothing was changed")
    assert "Rename that sheet" in err


# --- 6. malformed but plausible attributes --------------------------------------------------
@pytest.mark.parametrize("attr, value, needle", [
    ("ref", "", "table 'tblAccounts' on sheet 'Accounts' has no valid range (ref=''"),
    ("headerRowCount", "yes", "table 'tblAccounts' on sheet 'Accounts' has "
                              "headerRowCount='yes'"),
])
def test_malformed_table_attributes(small, tmp_path, capsys, attr, value, needle):
    part = _table_part(small, C.TBL_ACCOUNTS)

    def change(name, data):
        if name != part:
            return data
        text = data.decode()
        if f' {attr}="' in text:
            return re.sub(f' {attr}="[^"]*"', f' {attr}="{value}"', text, count=1).encode()
        return text.replace("<table ", f'<table {attr}="{value}" ', 1).encode()

    path = _rewrite(small, tmp_path / "team.xlsx", change)
    _both_refuse(capsys, path, needle, part)


def test_non_numeric_sheet_id(small, tmp_path, capsys):
    path = _rewrite(small, tmp_path / "team.xlsx", lambda n, d: re.sub(
        rb'(name="Accounts" sheetId=")\d+"', rb'\1four"', d) if n == "xl/workbook.xml" else d)
    _both_refuse(capsys, path, "sheet 'Accounts' has sheetId='four' in xl/workbook.xml")


def test_relationship_not_found_names_the_sheet(small, tmp_path, capsys):
    def change(name, data):
        if name == "xl/workbook.xml":
            return re.sub(rb'(name="Accounts" sheetId="\d+" r:id=")rId\d+"', rb'\1rId999"', data)
        return data

    path = _rewrite(small, tmp_path / "team.xlsx", change)
    assert b"rId999" in zipfile.ZipFile(path).read("xl/workbook.xml")
    _both_refuse(capsys, path, "the sheet 'Accounts' has no part",
                 "relationship rId999 not found in xl/_rels/workbook.xml.rels")


# --- 8. damaged packages ------------------------------------------------------------------------
def test_a_missing_sheet_part_is_refused(small, tmp_path, capsys):
    part = _part_of(small, USER_SHEET)
    path = _rewrite(small, tmp_path / "team.xlsx", lambda n, d: None if n == part else d)
    _both_refuse(capsys, path, f"the part {part} of the sheet '{USER_SHEET}' is missing")


@pytest.mark.parametrize("sheet", [USER_SHEET, C.SHEET_README])
def test_a_sheet_that_is_not_well_formed_is_refused(small, tmp_path, capsys, sheet):
    part = _part_of(small, sheet)
    path = _rewrite(small, tmp_path / "team.xlsx",
                    lambda n, d: d[:-40] if n == part else d)  # cut short, as a crash would
    _both_refuse(capsys, path, f"the sheet '{sheet}' ({part}) is not well-formed XML")


# --- 7. messages that mislead ----------------------------------------------------------------------
def test_a_password_protected_workbook_says_so(small, tmp_path, capsys):
    pytest.importorskip("msoffcrypto")
    import msoffcrypto.format.ooxml
    path = tmp_path / "team.xlsx"
    with open(small, "rb") as fin, open(path, "wb") as fout:
        msoffcrypto.format.ooxml.OOXMLFile(fin).encrypt("secret", fout)
    assert path.read_bytes()[:4] == b"\xd0\xcf\x11\xe0"
    assert "EncryptedPackage" in cfb_stream_names(path)
    olefile = pytest.importorskip("olefile")  # the same directory, read by olefile
    assert {"/".join(e) for e in olefile.OleFileIO(str(path)).listdir()} >= {"EncryptedPackage"}
    err = _both_refuse(capsys, path, "team.xlsx is protected by a password",
                       "File › Info › Protect Workbook")
    assert "zip" not in err


@needs_gnumeric
def test_an_old_xls_says_so(small, tmp_path, capsys):
    xls = tmp_path / "team.xls"
    subprocess.run(["ssconvert", str(small), str(xls)], check=True, capture_output=True,
                   timeout=300)
    path = tmp_path / "team.xlsx"  # renamed by a user: the extension no longer tells
    xls.rename(path)
    assert "Workbook" in cfb_stream_names(path) or "Book" in cfb_stream_names(path)
    err = _both_refuse(capsys, path, "old Excel 97-2003 format (.xls)",
                       "save it as an Excel Workbook (.xlsx)")
    assert "zip" not in err


def test_an_unknown_ole2_file(tmp_path, capsys):
    path = tmp_path / "team.xlsx"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 1000)
    _both_refuse(capsys, path, "old-style Office file (OLE2)")


@needs_gnumeric
def test_tables_lost_by_gnumeric_say_how_to_get_them_back(small, tmp_path, capsys):
    path = tmp_path / "team.xlsx"
    subprocess.run(["ssconvert", "--export-type=Gnumeric_Excel:xlsx2", str(small), str(path)],
                   check=True, capture_output=True, timeout=300)
    err = _both_refuse(capsys, path, "team.xlsx has none of its Excel tables any more",
                       "it was last saved by Gnumeric", "restore the backup",
                       "Insert › Table", "tblAccounts")
    assert "missing" not in err.split("(")[0]
