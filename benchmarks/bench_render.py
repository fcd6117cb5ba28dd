"""Time the file-mode writer: ``layout`` + ``render_skeleton`` + ``graft`` of an engine result.

Usage::

    .venv/bin/python benchmarks/bench_render.py                 # 10k and 100k accounts
    .venv/bin/python benchmarks/bench_render.py 1000 50000 --repeat 5 --naive

For each size it computes a real engine result (``maillon.engine.pipeline.recompute``
on ``generate_portfolio(n)`` with the default settings, as ``bench_engine.py``)
and builds once (cached in ``--workdir``) a demo workbook of that size to graft
into, then times, each run in a forked child (its wall time and peak RSS):

* ``layout``        — EngineResult -> SheetSpecs;
* ``render``        — ``render_skeleton``: the structure, table data rows kept
                      aside (what ``maillon recompute`` does);
* ``graft``         — ``graft(..., bodies=...)``: the rendered sheets into the
                      demo workbook, the data rows streamed into the output;
* ``render+graft``  — the two together (budget: 100k <= 3 s, 10k <= 0.4 s);
* ``naive`` (opt-in)  — ``write_specs`` into a new XlsxWriter workbook: every
                      cell through XlsxWriter (as the template is written).

Timings are the best of ``--repeat`` runs; peak memory is the largest child
peak RSS (it includes the engine result the parent holds).
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import xlsxwriter
from bench_engine import make_input

from maillon.addin.filemode.write import render_skeleton, write_specs
from maillon.addin.ooxml.graft import graft
from maillon.addin.render.layout import layout
from maillon.engine import contract as C
from maillon.engine.pipeline import recompute


def forked(fn) -> tuple[dict, float]:
    """Run ``fn`` (returning a dict of timings) in a child; its result and peak RSS (MB)."""
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # child
        os.close(read_fd)
        try:
            out = repr(fn()).encode()
            code = 0
        except BaseException as exc:  # pragma: no cover - reported by the parent
            print(f"failed: {exc!r}", file=sys.stderr)
            out, code = b"{}", 1
        os.write(write_fd, out)
        os._exit(code)
    os.close(write_fd)
    data = b""
    while chunk := os.read(read_fd, 65536):
        data += chunk
    os.close(read_fd)
    _, status, usage = os.wait4(pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit("a benchmark run failed")
    return eval(data.decode()), usage.ru_maxrss / 1024  # noqa: S307 - our own repr


def demo_workbook(n: int, workdir: Path) -> Path:
    path = workdir / f"demo-{n}.xlsx"
    if not path.exists():
        from maillon.workbook_templates.build import build_demo

        t = time.perf_counter()
        build_demo(str(path), n_accounts=n, seed=11)
        print(f"built {path.name} in {time.perf_counter() - t:.1f} s", flush=True)
    return path


def bench(n: int, workdir: Path, repeat: int, naive: bool) -> dict:
    user = demo_workbook(n, workdir)
    result = recompute(make_input(n))
    names = list(C.ENGINE_SHEETS)
    rendered, out = workdir / f"rendered-{n}.xlsx", workdir / f"out-{n}.xlsx"

    def streamed() -> dict:
        t0 = time.perf_counter()
        specs = layout(result)
        t1 = time.perf_counter()
        bodies = render_skeleton(specs, rendered)
        t2 = time.perf_counter()
        out.unlink(missing_ok=True)
        graft(user, rendered, out, names, bodies=bodies)
        t3 = time.perf_counter()
        return {"layout": t1 - t0, "render": t2 - t1, "graft": t3 - t2, "render+graft": t3 - t1,
                "out MB": out.stat().st_size / 1e6}

    def cell_by_cell() -> dict:
        specs = layout(result)
        t1 = time.perf_counter()
        workbook = xlsxwriter.Workbook(str(rendered))
        write_specs(workbook, specs)
        workbook.close()
        return {"naive": time.perf_counter() - t1}

    row: dict = {"accounts": n}
    peak = 0.0
    jobs = [streamed] + ([cell_by_cell] if naive else [])
    for job in jobs:
        for _ in range(repeat if job is not cell_by_cell else 1):
            times, rss = forked(job)
            peak = max(peak, rss)
            for k, v in times.items():
                row[k] = min(row.get(k, v), v)
    row["peak MB"] = peak
    return row


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sizes", nargs="*", type=int, default=[10_000, 100_000],
                        help="numbers of accounts (default: 10000 100000)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per size (best is kept)")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/maillon-bench"))
    parser.add_argument("--naive", action="store_true",
                        help="also time every cell through XlsxWriter (slow)")
    args = parser.parse_args(argv)
    args.workdir.mkdir(parents=True, exist_ok=True)
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPU(s)")
    rows = [bench(n, args.workdir, args.repeat, args.naive) for n in args.sizes]
    keys = list(dict.fromkeys(k for r in rows for k in r))
    print("  ".join(f"{k:>12}" for k in keys))
    for r in rows:
        print("  ".join(f"{r[k]:>12,}" if k == "accounts" else f"{r.get(k, float('nan')):>12.2f}"
                        for k in keys))
    for r in rows:
        budget = 3.0 if r["accounts"] >= 100_000 else 0.4 if r["accounts"] >= 10_000 else None
        note = f" (budget {budget:.1f} s)" if budget else ""
        print(f"{r['accounts']:,} accounts: render + graft = {r['render+graft']:.2f} s{note}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
