"""An error value or a formula saved without its result is reported, never read as blank.

python-calamine reads both as an empty cell: ``#N/A`` in Revenue 12m would
silently make a customer class C. Through real files and the command line:
exit code 1, a message naming sheet, row and column, the file unchanged.
"""
from __future__ import annotations

import re
import zipfile

import pytest

from maillon.addin.cli import main
from maillon.addin.ooxml.package import Package, find_table, tables_in
from maillon.engine import contract as C

from workbooks import build_workbook


def _rewrite_cell(path, table: str, column: str, offset: int, new_cell) -> tuple[int, str]:
    """Replace one data cell of ``table`` by ``new_cell(ref)``; returns (Excel row, ref)."""
    with Package(path) as pkg:
        info = find_table(tables_in(pkg), table)
        part = next(s.part for s in pkg.sheets if s.name == info.sheet)
    r1, c1, _, _ = info.bounds
    col = c1 + info.headers.index(column)
    letters = ""
    n = col
    while n:
        n, rem = divmod(n - 1, 26)
        letters = chr(65 + rem) + letters
    row = r1 + 1 + offset
    ref = f"{letters}{row}"
    with zipfile.ZipFile(path) as zin:
        members = [(i, zin.read(i)) for i in zin.infolist()]
    out = path.with_name("x-" + path.name)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for i, data in members:
            if i.filename == part:
                data, n = re.subn(rb'<c r="%s"[^>]*?(?:/>|>.*?</c>)' % ref.encode(),
                                  new_cell(ref).encode(), data, count=1, flags=re.S)
                assert n == 1
            zout.writestr(i, data)
    out.replace(path)
    return row, ref


@pytest.fixture()
def team(tmp_path):
    return build_workbook(tmp_path / "team.xlsx", 120)


CASES = {
    "error": (lambda ref: f'<c r="{ref}" t="e"><f>NA()</f><v>#N/A</v></c>', "#N/A"),
    "formula without a value": (lambda ref: f'<c r="{ref}"><f>1+1</f></c>',
                                "formula with no saved result"),
}


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("command", ["validate", "recompute"])
def test_reported_with_sheet_row_and_column(team, capsys, case, command):
    cell, shown = CASES[case]
    row, _ = _rewrite_cell(team, C.TBL_ACCOUNTS, "Revenue 12m", 3, cell)
    before = team.read_bytes()
    assert main([command, str(team), "-q"]) == 1
    err = capsys.readouterr().err
    assert f"Accounts, row {row}, column 'Revenue 12m'" in err
    assert shown in err
    assert "Traceback" not in err
    assert team.read_bytes() == before
    assert sorted(p.name for p in team.parent.iterdir()) == ["team.xlsx"]



@pytest.mark.parametrize("text", ["1.234", "12,500"])
def test_a_text_number_that_could_mean_thousands_is_reported(team, capsys, text):
    row, _ = _rewrite_cell(team, C.TBL_ACCOUNTS, "Revenue 12m", 5,
                           lambda ref: f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>')
    before = team.read_bytes()
    assert main(["validate", str(team), "-q"]) == 1
    err = capsys.readouterr().err
    assert f"Accounts, row {row}, column 'Revenue 12m' (tblAccounts) has '{text}'" in err
    assert "could mean thousands or decimals" in err
    assert team.read_bytes() == before


def test_a_plain_text_number_is_still_read(team, capsys):
    _rewrite_cell(team, C.TBL_ACCOUNTS, "Revenue 12m", 5,
                  lambda ref: f'<c r="{ref}" t="inlineStr"><is><t>1234.5</t></is></c>')
    assert main(["validate", str(team), "-q"]) == 0
