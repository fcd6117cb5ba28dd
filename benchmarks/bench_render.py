"""Time the renderer: ``layout`` + writing the engine-owned sheets to a file.

Usage::

    .venv/bin/python benchmarks/bench_render.py            # 10k and 100k accounts
    .venv/bin/python benchmarks/bench_render.py 1000 50000 --naive

For each size it times, on a synthetic result (``tests/engine_result_factory``):

* ``layout``          — EngineResult -> SheetSpecs;
* ``fast``            — ``render_to_file`` (table rows spliced into the package);
* ``fast+inline``     — the same with ``constant_memory=True`` (every string inline,
                        as a package graft wants);
* ``naive`` (opt-in)  — ``render_to_file(fast=False)``: every cell through XlsxWriter.

Timings are wall-clock seconds of one run each, on whatever machine runs it.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from maillon.addin.layout import layout  # noqa: E402
from maillon.addin.xlsx_backend import render_to_file  # noqa: E402
from tests.engine_result_factory import make_result  # noqa: E402


def _time(fn):
    started = time.perf_counter()
    out = fn()
    return time.perf_counter() - started, out


def bench(n: int, naive: bool, tmp: Path) -> dict:
    result = make_result(n_accounts=n, n_segments=8, weeks=26)
    t_layout, specs = _time(lambda: layout(result))
    row = {"accounts": n, "layout": t_layout}
    path = tmp / f"render-{n}.xlsx"
    row["fast"], _ = _time(lambda: render_to_file(specs, path))
    row["size MB"] = path.stat().st_size / 1e6
    row["fast+inline"], _ = _time(lambda: render_to_file(specs, path, constant_memory=True))
    if naive:
        row["naive"], _ = _time(lambda: render_to_file(specs, path, fast=False))
    return row


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sizes", nargs="*", type=int, default=[10_000, 100_000],
                        help="numbers of accounts (default: 10000 100000)")
    parser.add_argument("--naive", action="store_true",
                        help="also time every cell through XlsxWriter (slow)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="maillon-bench-") as tmp:
        rows = [bench(n, args.naive, Path(tmp)) for n in args.sizes]
    keys = list(rows[0])
    print("  ".join(f"{k:>12}" for k in keys))
    for r in rows:
        print("  ".join(f"{r[k]:>12,}" if k == "accounts" else f"{r[k]:>12.2f}" for k in keys))
    for r in rows:
        total = r["layout"] + r["fast"]
        print(f"{r['accounts']:,} accounts: layout + write_specs (fast) = {total:.2f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
