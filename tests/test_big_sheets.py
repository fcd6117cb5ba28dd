"""No sheet size lets a stray far cell or damaged XML through (issue 11).

The checks used to stop at a size: sheets above 8 MB had their ``<dimension>``
and row order trusted (a far reference hidden by a lying dimension made
python-calamine allocate the whole bounding box: an abort at XFD1048576), and
sheets above 16 MB were not checked to be well-formed XML (damage that
python-calamine reads past, such as a mismatched end tag, was carried into the
output). A 100k-account Accounts sheet is 53 MB.

The sheets here are made big quickly: a 30-account workbook whose sheet is
padded past 16 MB with XML comments after its cells (each check reads them
like any other bytes), rewritten with zipfile. Each case goes through the
command line in a fresh process (``maillon validate`` and ``maillon
recompute``) whose peak memory is measured.
"""
from __future__ import annotations

import json
import random
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from maillon.addin.ooxml.package import Package
from maillon.engine import contract as C
from test_stray_cells import CHILD  # the CLI in a fresh process, its peak memory
from workbooks import USER_SHEET, build_workbook, rewrite_sheet, sheet_part

BIG = 17 * 1024 ** 2  # past both former limits (8 MB and 16 MB)


def _run(*args) -> dict:
    proc = subprocess.run([sys.executable, "-c", CHILD, *args], capture_output=True, text=True)
    assert "Traceback" not in proc.stderr and "panicked" not in proc.stderr, proc.stderr[-2000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    out["stderr"] = proc.stderr
    out["returncode"] = proc.returncode
    return out


def _pad(data: bytes) -> bytes:
    """The sheet's XML made BIG bytes long, with comments after its cells (of random
    hex digits: text that compresses like a sheet's, not like a zip bomb)."""
    rng = random.Random(11)
    comments = b"".join(b"<!-- %s -->" % rng.randbytes(512).hex().encode()
                        for _ in range(BIG // 1024 + 1))
    return data.replace(b"</sheetData>", b"</sheetData>" + comments, 1)


def _sheet_size(path: Path, sheet: str) -> int:
    with zipfile.ZipFile(path) as z:
        return z.getinfo(sheet_part(path, sheet)).file_size


@pytest.fixture(scope="module")
def padded(tmp_path_factory):
    """A recomputed workbook whose Accounts and Target List sheets are past 16 MB, and
    the peak memory of validating it."""
    path = build_workbook(tmp_path_factory.mktemp("big") / "team.xlsx", n_accounts=30)
    assert _run("recompute", str(path), "-q")["code"] == 0
    for sheet in (C.SHEET_ACCOUNTS, C.SHEET_TARGETS):
        rewrite_sheet(path, sheet, _pad)
        assert _sheet_size(path, sheet) > BIG
    checked = _run("validate", str(path), "-q")
    assert checked["code"] == 0, checked["stderr"]
    return path, checked["peak_mb"]


def _first_row(planted: bytes):
    """Put ``planted`` inside the sheet's first row, the ``<dimension>`` unchanged."""
    return lambda data: re.sub(rb"(<row\b[^>]*>)", lambda m: m.group(1) + planted, data,
                               count=1)


def _first_in_sheet_data(planted: bytes):
    """Put ``planted`` (a row) first in ``<sheetData>``: out of order."""
    return lambda data: data.replace(b"<sheetData>", b"<sheetData>" + planted, 1)


@pytest.mark.parametrize("sheet,plant", [
    (C.SHEET_ACCOUNTS, _first_row(b'<c r="XFD1048576"><v>1</v></c>')),
    # written the other ways python-calamine reads: lower case, single quotes, spaces
    (C.SHEET_ACCOUNTS, _first_row(b"<c r = 'xfd1048576'><v>1</v></c>")),
    (C.SHEET_ACCOUNTS, _first_in_sheet_data(b'<row r="1048576"><c r="a1048576"><v>1</v></c></row>')),
    (C.SHEET_TARGETS, _first_row(b'<c r="R1048576"><v>1</v></c>')),
], ids=["far-cell", "far-cell-spelled-otherwise", "far-row-first", "target-list"])
def test_a_far_reference_hidden_in_a_big_sheet_costs_no_memory(padded, tmp_path, sheet, plant):
    base, base_peak = padded
    path = tmp_path / "team.xlsx"
    path.write_bytes(base.read_bytes())
    rewrite_sheet(path, sheet, plant)
    assert _sheet_size(path, sheet) > BIG
    checked = _run("validate", str(path), "-q")
    assert checked["code"] == 0, checked["stderr"]
    assert checked["peak_mb"] < base_peak + 150, (checked["peak_mb"], base_peak)
    done = _run("recompute", str(path), "-q")
    assert done["code"] == 0, done["stderr"]
    assert done["peak_mb"] < base_peak + 400, (done["peak_mb"], base_peak)
    with zipfile.ZipFile(path) as z:  # a normal result: the plan is there
        assert z.getinfo(sheet_part(path, C.SHEET_TARGETS)).file_size > 0


def _mismatched_end_tag(data: bytes) -> bytes:
    """The last row's end tag misspelt: python-calamine reads past it."""
    i = data.rindex(b"</row>")
    return data[:i] + b"</rov>" + data[i + len(b"</row>"):]


def _broken_after_cells(data: bytes) -> bytes:
    """An element left open after the padding, where python-calamine never reads."""
    return data.replace(b"</worksheet>", b"<pageMargins left='0.7'></worksheet>")


@pytest.mark.parametrize("sheet", [C.SHEET_ACCOUNTS, USER_SHEET])
@pytest.mark.parametrize("damage", [_mismatched_end_tag, _broken_after_cells],
                         ids=["in-the-cells", "after-the-cells"])
def test_a_big_sheet_that_is_not_well_formed_is_refused(tmp_path, sheet, damage):
    path = build_workbook(tmp_path / "team.xlsx", n_accounts=30)
    if sheet == USER_SHEET:  # make sure the user's own sheet has rows to damage
        with Package(path) as pkg:
            assert any(s.name == USER_SHEET for s in pkg.sheets)
    rewrite_sheet(path, sheet, lambda data: damage(_pad(data)))
    assert _sheet_size(path, sheet) > BIG
    part = sheet_part(path, sheet)
    before = path.read_bytes()
    files = sorted(p.name for p in path.parent.iterdir())
    for command in ("validate", "recompute"):
        out = _run(command, str(path), "-q")
        assert out["returncode"] == 0 and out["code"] == 1, out
        err = out["stderr"]
        assert err.startswith("maillon: ") and err.count("\n") == 1, err
        assert f"the sheet '{sheet}' ({part}) is not well-formed XML" in err, err
        assert path.read_bytes() == before
        assert sorted(p.name for p in path.parent.iterdir()) == files


@pytest.mark.parametrize("size", [7, 64, 1000, 4096])
def test_a_far_reference_cut_between_two_chunks_is_seen(size):
    """The package check hands the sheet over in chunks: a reference spelt out over
    several of them (spaces and line breaks around ``=``) is seen whole; an attribute
    whose name only ends with ``r`` is not taken for one."""
    from maillon.addin.filemode.sheet_scan import ExtentWatch, Region

    xml = (b'<worksheet><dimension ref="A1:B3"/><sheetData><row r="1"><c r="A1"/>'
           + b'<c r="B1"/>' * 5000
           + b'<c header="ZZ9" r\n=\n\'xfd5\'/></row></sheetData></worksheet>')
    watch = ExtentWatch(expect=Region(3, 2))
    for i in range(0, len(xml), size):
        watch(xml[i:i + size])
    assert (watch.last_row, watch.last_col) == (5, 16384)
    other = ExtentWatch(expect=Region(3, 2))
    other(b'<worksheet><sheetData><row r="1"><c header="ZZ9" xr="AB9"/></row>')
    assert (other.last_row, other.last_col) == (1, 0)
