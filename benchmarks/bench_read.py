"""Benchmark of the file-mode reader: ``read_tables``.

Reads a workbook the way ``addin/filemode.read_input`` does (the package
check, then every table of ``TABLES_TO_READ`` and the rows typed below
``tblPlan``, in one pass) and prints the time of each read and the peak memory
of the process that did it (``ru_maxrss`` of a fresh child process, minus its
size after the imports). The imports are done first here: in a recompute they
overlap the read.

Without a path, builds (once, cached in --workdir) the demo workbook with
--accounts accounts and runs ``maillon recompute`` on it, so that it holds the
user tables (tblAccounts 100k x 18, tblFeedback ...) and the engine tables
(tblTargets 100k x 18, tblPlan, ...) as a real second recompute reads them.

    .venv/bin/python benchmarks/bench_read.py [PATH] [--accounts 100000] [--repeat 3]
        [--workdir /tmp/maillon-bench]

Target: reading <= 2.5 s for 100k accounts (the whole recompute <= 10 s).
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path


def build(path: Path, accounts: int, seed: int = 11) -> None:
    from maillon.workbook_templates.build import build_demo
    t = time.perf_counter()
    build_demo(str(path), n_accounts=accounts, seed=seed)
    print(f"built {path} ({accounts} accounts) in {time.perf_counter() - t:.1f} s")
    t = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import sys; from maillon.addin.cli import main; "
                    "sys.exit(main())", "recompute", str(path)], check=True,
                   stdout=subprocess.DEVNULL)
    print(f"recomputed it in {time.perf_counter() - t:.1f} s")


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def child(path: str, repeat: int) -> None:
    """Runs in a fresh process: time the reads, report peak memory as JSON."""
    from maillon.addin.engine_input import TABLES_TO_READ
    from maillon.addin.filemode.read import read_tables
    base = _rss_mb()
    runs = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        found = read_tables(path, list(TABLES_TO_READ), below=["tblPlan"])
        runs.append(time.perf_counter() - t0)
        shapes = {n: list(td.data.shape) for n, td in found.items()}
        del found
    print(json.dumps({"runs": runs, "base_mb": base, "peak_mb": _rss_mb(), "shapes": shapes}))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("path", nargs="?", help="workbook to read (default: build the demo)")
    ap.add_argument("--accounts", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=3, help="reads per process")
    ap.add_argument("--workdir", default="/tmp/maillon-bench")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        child(args.path, args.repeat)
        return 0
    if args.path:
        path = Path(args.path)
    else:
        os.makedirs(args.workdir, exist_ok=True)
        path = Path(args.workdir) / f"read-{args.accounts}.xlsx"
        if not path.exists():
            build(path, args.accounts)
    print(f"{path}: {path.stat().st_size / 1e6:.1f} MB, {os.cpu_count()} CPUs")
    out = subprocess.run([sys.executable, __file__, str(path), "--child",
                          "--repeat", str(args.repeat)], check=True, capture_output=True,
                         text=True)
    res = json.loads(out.stdout.strip().splitlines()[-1])
    for name, shape in res["shapes"].items():
        print(f"  {name:16s} {shape[0]:>7} x {shape[1]}")
    for i, seconds in enumerate(res["runs"], 1):
        print(f"run {i}: read_tables {seconds:.2f} s")
    best = min(res["runs"])
    print(f"best {best:.2f} s; peak memory {res['peak_mb']:.0f} MB "
          f"(+{res['peak_mb'] - res['base_mb']:.0f} MB over the imports)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
