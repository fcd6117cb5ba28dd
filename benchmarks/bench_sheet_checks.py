"""Benchmark: what the checks of every sheet the reader parses cost (issue 11).

Since issue 11, no sheet size is trusted: for each sheet that holds a table
the recompute reads, the reader looks for references beyond the tables (a
lying ``<dimension>``, rows out of order) with ``sheet_scan.ExtentWatch``'s
filter, and checks that the sheets it does not replace are well-formed XML
(``package.WellFormed``, expat), both in the pass that inflates the sheet for
the package check. Before, sheets above 8 MB and 16 MB skipped those checks.

For each of those sheets this prints its size and the CPU time
(``time.process_time``; wall time in brackets, the machine is shared) of the
pass as the reader makes it, chunk by chunk (4 MB): inflating alone; with
``ExtentWatch`` as it ran on big sheets before (the dimension, the last row,
error values and formulas without a value); with the far-reference filter
added; and the expat parse on its own. The last line gives the CPU the two
checks add for the whole workbook, to set against the recompute's
(``bench_recompute.py --sizes 100000 --no-openpyxl``).

    .venv/bin/python benchmarks/bench_sheet_checks.py [PATH] [--accounts 100000]
        [--workdir /tmp/maillon-bench] [--repeat 3]

Without a path, builds (once, cached in --workdir) the demo workbook with
--accounts accounts and recomputes it, as ``bench_read.py`` does. Each figure
is the best of --repeat runs.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

CHUNK = 4 * 1024 ** 2  # as safe_io.check_part reads


def _timed(fn, repeat, *args):
    best = None
    for _ in range(repeat):
        w, c = time.perf_counter(), time.process_time()
        fn(*args)
        run = (time.process_time() - c, time.perf_counter() - w)
        best = run if best is None or run[0] < best[0] else best
    return best


def _inflate(z, part, *feeds):
    with z.open(part) as fh:
        while chunk := fh.read(CHUNK):
            for f in feeds:
                f(chunk)
    for f in feeds:
        if hasattr(f, "close"):
            f.close()


def measure(path: Path, repeat: int) -> None:
    from maillon.addin.engine_input import TABLES_TO_READ
    from maillon.addin.filemode.sheet_scan import ExtentWatch, Region
    from maillon.addin.ooxml.package import Package, WellFormed, find_table, tables_in
    from maillon.engine import contract as C

    with Package(path) as pkg:
        catalog = tables_in(pkg)
        parts = {s.name: s.part for s in pkg.sheets}
    regions = {}
    for name in TABLES_TO_READ:
        info = find_table(catalog, name)
        if info is None:
            continue
        last_row = None if name == C.TBL_PLAN else info.bounds[2]
        old = regions.get(info.sheet)
        if old is None:
            regions[info.sheet] = Region(last_row, info.bounds[3])
        else:
            rows = None if None in (old.last_row, last_row) else max(old.last_row, last_row)
            regions[info.sheet] = Region(rows, max(old.last_col, info.bounds[3]))
    engine = {n.casefold() for n in C.ENGINE_SHEETS}
    total_far = total_xml = 0.0
    with zipfile.ZipFile(path) as z:
        by_size = sorted(regions.items(), key=lambda kv: -z.getinfo(parts[kv[0]]).file_size)
        for sheet, region in by_size:
            part = parts[sheet]
            mb = z.getinfo(part).file_size / 1024 ** 2
            checked = sheet.casefold() not in engine
            c_inf, w_inf = _timed(_inflate, repeat, z, part)
            c_old, w_old = _timed(lambda p=part: _inflate(z, p, ExtentWatch()), repeat)
            c_far, w_far = _timed(lambda p=part, r=region: _inflate(z, p, ExtentWatch(expect=r)),
                                  repeat)
            if checked:
                c_xml, w_xml = _timed(lambda p=part, s=sheet: _inflate(
                    z, p, WellFormed(path.name, s, p)), repeat)
                c_xml, w_xml = c_xml - c_inf, w_xml - w_inf
            else:
                c_xml = w_xml = 0.0
            far = c_far - c_old
            total_far += max(far, 0.0)
            total_xml += max(c_xml, 0.0)
            xml = (f"well-formed {c_xml:5.2f} s ({w_xml:.2f})" if checked
                   else "well-formed (replaced, not checked)")
            print(f"{sheet:<16} {mb:6.1f} MB  inflate {c_inf:5.2f} s ({w_inf:.2f})  "
                  f"+watch before {c_old - c_inf:5.2f} s  +far filter {far:5.2f} s "
                  f"({w_far - w_old:.2f}) [{1000 * far / mb:.1f} ms/MB]  {xml}")
    print(f"CPU the checks add for this workbook: far references {total_far:.2f} s, "
          f"well-formedness {total_xml:.2f} s, together {total_far + total_xml:.2f} s")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("path", nargs="?", help="workbook (default: build the demo)")
    ap.add_argument("--accounts", type=int, default=100_000)
    ap.add_argument("--workdir", default="/tmp/maillon-bench")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(argv)
    if args.path:
        path = Path(args.path)
    else:
        from bench_read import build
        os.makedirs(args.workdir, exist_ok=True)
        path = Path(args.workdir) / f"read-{args.accounts}.xlsx"
        if not path.exists():
            build(path, args.accounts)
    measure(path, args.repeat)
    return 0


if __name__ == "__main__":
    sys.exit(main())
