"""Benchmark: what the checks that big sheets skip today would cost (issue 11, gap 3).

The reader trusts the ``<dimension>`` and row order of a sheet larger than
``grids.FAR_SCAN_MAX`` (8 MB): it does not look for a far cell reference that a
lying dimension hides. The package check does not parse a sheet larger than
``package.WELL_FORMED_MAX`` (16 MB) to see that it is well-formed XML. At 100k
accounts both limits leave out the Accounts and Field Feedback sheets.

For each sheet part of the workbook above 8 MB, this prints its size and the
CPU time (``time.process_time``; wall time in brackets, the machine is shared)
of: inflating it, the far-reference scan as ``sheet_scan.ExtentWatch`` runs it,
the same scan with a pattern that starts with a literal (``r=`` then either
quote), and a well-formedness parse with expat (the standard library's; lxml's
parsers were measured slower here: 3.4 s for the 55 MB Accounts sheet with its
pull parser, against 1.1 s for expat).

    .venv/bin/python benchmarks/bench_sheet_checks.py [PATH] [--accounts 100000]
        [--workdir /tmp/maillon-bench]

Without a path, builds (once, cached in --workdir) the demo workbook with
--accounts accounts and recomputes it, as ``bench_read.py`` does.
"""
from __future__ import annotations

import argparse
import os
import re
import sys
import time
import xml.parsers.expat
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))


def _timed(fn, *args):
    w, c = time.perf_counter(), time.process_time()
    out = fn(*args)
    return out, time.process_time() - c, time.perf_counter() - w


def _count(pattern: re.Pattern, data: bytes) -> int:
    return sum(1 for _ in pattern.finditer(data))


def _expat(data: bytes) -> None:
    parser = xml.parsers.expat.ParserCreate()
    for i in range(0, len(data), 1 << 20):
        parser.Parse(data[i:i + (1 << 20)], False)
    parser.Parse(b"", True)


def _literal_far(region) -> re.Pattern:
    from maillon.addin.filemode.sheet_scan import (FAR_COLS, FAR_ROWS, _digits_above,
                                                   _letters_above)
    cols = _letters_above(region.last_col + FAR_COLS)
    refs = f"{cols}[0-9]+"
    if region.last_row is not None:
        refs += f"|(?:[A-Z]{{1,3}})?{_digits_above(region.last_row + FAR_ROWS)}"
    return re.compile(rb"r=[\"']((?:" + refs.encode() + rb"))[\"']")


def measure(path: Path) -> None:
    from maillon.addin.filemode.sheet_scan import Region, _far_pattern
    from maillon.addin.ooxml.package import Package, tables_in

    with Package(path) as pkg:
        catalog = tables_in(pkg)
        sheets = [(s.name, s.part, pkg.info(s.part).file_size) for s in pkg.sheets if s.part]
    total = {"far": 0.0, "literal": 0.0, "expat": 0.0}
    with zipfile.ZipFile(path) as z:
        for name, part, size in sheets:
            if size <= 8 * 1024 ** 2:
                continue
            tables = [t for t in catalog.values() if t.sheet == name]
            last_row = max((t.bounds[2] for t in tables), default=1)
            last_col = max((t.bounds[3] for t in tables), default=1)
            region = Region(last_row, last_col)
            data, c_inf, w_inf = _timed(z.read, part)
            far = _far_pattern(region)
            _, c_far, w_far = _timed(_count, far, data)
            lit = _literal_far(region)
            _, c_lit, w_lit = _timed(_count, lit, data)
            _, c_exp, w_exp = _timed(_expat, data)
            mb = size / 1024 ** 2
            print(f"{name:<16} {mb:7.1f} MB  inflate {c_inf:5.2f} s ({w_inf:.2f})  "
                  f"far scan {c_far:5.2f} s ({w_far:.2f})  literal-prefix scan {c_lit:5.2f} s "
                  f"({w_lit:.2f})  expat {c_exp:5.2f} s ({w_exp:.2f})  "
                  f"[{1000 * c_far / mb:.0f} / {1000 * c_lit / mb:.0f} / "
                  f"{1000 * c_exp / mb:.0f} ms per MB]")
            total["far"] += c_far
            total["literal"] += c_lit
            total["expat"] += c_exp
    print(f"CPU for all sheets above 8 MB: far scan {total['far']:.2f} s, literal-prefix scan "
          f"{total['literal']:.2f} s, well-formedness (expat) {total['expat']:.2f} s")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("path", nargs="?", help="workbook (default: build the demo)")
    ap.add_argument("--accounts", type=int, default=100_000)
    ap.add_argument("--workdir", default="/tmp/maillon-bench")
    args = ap.parse_args(argv)
    if args.path:
        path = Path(args.path)
    else:
        from bench_read import build
        os.makedirs(args.workdir, exist_ok=True)
        path = Path(args.workdir) / f"read-{args.accounts}.xlsx"
        if not path.exists():
            build(path, args.accounts)
    measure(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
