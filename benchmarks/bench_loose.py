"""Benchmark of what a recompute reads beside the engine's tables: ``read_loose``.

Builds (once, cached in --workdir) the demo workbook with --accounts accounts and
recomputes it, then times :func:`maillon.addin.filemode.loose.read_loose` on it
twice: as it is (nothing typed beside the tables: the sheets' ``<dimension>``
lets the scan stop after the first chunk of the big ones) and with one note
typed right of ``tblTargets`` (the Target List is then scanned in full).

    .venv/bin/python benchmarks/bench_loose.py [--accounts 50000] [--repeat 3]
        [--workdir /tmp/maillon-bench]
"""
from __future__ import annotations

import argparse
import datetime as dt
import re
import time
import zipfile
from pathlib import Path

from maillon.addin.filemode import recompute_file
from maillon.addin.filemode.loose import read_loose
from maillon.addin.ooxml.package import Package
from maillon.engine import contract as C
from maillon.workbook_templates.build import build_demo


def _with_note(path: Path, out: Path) -> Path:
    """A copy of ``path`` with a note typed at AE6 of the Target List (dimension updated)."""
    with Package(path) as pkg:
        part = next(s.part for s in pkg.sheets if s.name == C.SHEET_TARGETS)
    with zipfile.ZipFile(path) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename == part:
                data = re.sub(rb'(<row r="6"[^>]*>.*?)(</row>)',
                              lambda m: m.group(1) + b'<c r="AE6" t="inlineStr"><is><t>note'
                              b'</t></is></c>' + m.group(2), data, count=1, flags=re.S)
                data = re.sub(rb'<dimension ref="A1:[A-Z]+(\d+)"',
                              rb'<dimension ref="A1:AE\1"', data, count=1)
            zout.writestr(info.filename, data)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--accounts", type=int, default=50_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--workdir", default="/tmp/maillon-bench")
    args = ap.parse_args()
    work = Path(args.workdir)
    work.mkdir(parents=True, exist_ok=True)
    path = work / f"loose-{args.accounts}.xlsx"
    if not path.exists():
        build_demo(path, n_accounts=args.accounts, seed=3, as_of=dt.date(2026, 11, 20))
        recompute_file(path, run_at=dt.datetime(2026, 11, 23, 9, 30), run_by="bench")
    noted = _with_note(path, work / f"loose-{args.accounts}-noted.xlsx")
    for label, p in (("nothing typed", path), ("a note right of tblTargets", noted)):
        times = []
        for _ in range(args.repeat):
            t = time.perf_counter()
            found = read_loose(p)
            times.append(time.perf_counter() - t)
        print(f"{args.accounts:,} accounts, {label}: read_loose {min(times):.3f} s "
              f"(best of {args.repeat}), {len(found)} cells or comments")


if __name__ == "__main__":
    main()
