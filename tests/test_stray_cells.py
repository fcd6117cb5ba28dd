"""A stray cell far from the data costs nothing: the reader reads what the tables cover.

python-calamine allocates a sheet's whole bounding box; a note at XFD1048576
used to abort the process (a 549 GB allocation), one at XFD2002 of the
2,000-account demo took 1.4 GB. Each case goes through a real file and the
command line, in a fresh process whose peak memory is measured.
"""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from maillon.engine import contract as C

from workbooks import build_workbook, rewrite_sheet


def _add_cell(path, sheet: str, ref: str, text: str) -> None:
    """Type ``text`` at ``ref`` of ``sheet``, as Excel writes it (dimension updated)."""
    import re

    row = int(re.search(r"\d+", ref).group(0))
    col = re.match(r"[A-Z]+", ref).group(0)
    cell = f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'.encode()

    def typed(data: bytes) -> bytes:
        if f'<row r="{row}"'.encode() in data:
            data = re.sub(rb'(<row r="%d"[^>]*>.*?)(</row>)' % row,
                          lambda m: m.group(1) + cell + m.group(2), data, count=1, flags=re.S)
        else:
            data = data.replace(b"</sheetData>",
                                b'<row r="%d">' % row + cell + b"</row></sheetData>")
        return re.sub(rb'<dimension ref="([A-Z]+\d+):[A-Z]+\d+"/>',
                      rb'<dimension ref="\1:' + f"{col}{row}".encode() + rb'"/>', data)

    rewrite_sheet(path, sheet, typed)


CHILD = """
import json, resource, sys
from maillon.addin.cli import main
code = main(sys.argv[1:])
print(json.dumps({"code": code,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def _run(*args) -> dict:
    proc = subprocess.run([sys.executable, "-c", CHILD, *args], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def baseline(tmp_path_factory):
    path = build_workbook(tmp_path_factory.mktemp("base") / "team.xlsx", 2000)
    first = _run("recompute", str(path), "-q")
    assert first["code"] == 0
    return path, _run("validate", str(path), "-q")["peak_mb"]


@pytest.mark.parametrize("sheet,ref", [(C.SHEET_ACCOUNTS, "XFD1048576"),
                                       (C.SHEET_TARGETS, "XFD1048576"),
                                       (C.SHEET_ACCOUNTS, "XFD2002"),
                                       (C.SHEET_PLAN, "XFD30")])
def test_a_far_stray_cell_costs_no_memory(baseline, tmp_path, sheet, ref):
    base_path, base_peak = baseline
    path = tmp_path / "team.xlsx"
    path.write_bytes(base_path.read_bytes())
    _add_cell(path, sheet, ref, "my note")
    checked = _run("validate", str(path), "-q")
    assert checked["code"] == 0
    assert checked["peak_mb"] < base_peak + 150, (checked, base_peak)
    done = _run("recompute", str(path), "-q")
    assert done["code"] == 0
    assert done["peak_mb"] < 1500


def _plant_lying(path, sheet: str, cell_xml: bytes, at_start: bool = False) -> None:
    """Put ``cell_xml`` (a ``<c>`` or a ``<row>``) into the sheet without updating its
    ``<dimension>``, as a hostile program would: inside its first row, or (``at_start``)
    as the first row element, out of order."""
    import re

    def planted(data: bytes) -> bytes:
        if at_start:
            return data.replace(b"<sheetData>", b"<sheetData>" + cell_xml, 1)
        return re.sub(rb"(<row\b[^>]*>)", lambda m: m.group(1) + cell_xml, data, count=1)

    rewrite_sheet(path, sheet, planted)


@pytest.mark.parametrize("sheet,planted,at_start", [
    # a cell whose reference lies far away, inside an honest row, the dimension unchanged
    (C.SHEET_ACCOUNTS, b'<c r="XFD1048576"><v>1</v></c>', False),
    (C.SHEET_TARGETS, b'<c r="XFD3"><v>1</v></c>', False),
    # a far row element placed first, out of order
    (C.SHEET_ACCOUNTS, b'<row r="1048576"><c r="A1048576"><v>1</v></c></row>', True),
])
def test_a_dimension_that_lies_costs_no_memory_either(baseline, tmp_path, sheet, planted,
                                                      at_start):
    base_path, base_peak = baseline
    path = tmp_path / "team.xlsx"
    path.write_bytes(base_path.read_bytes())
    _plant_lying(path, sheet, planted, at_start)
    checked = _run("validate", str(path), "-q")  # no abort, no huge allocation
    assert checked["code"] == 0
    assert checked["peak_mb"] < base_peak + 150, (checked, base_peak)
