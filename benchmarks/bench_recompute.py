"""File mode end to end: `maillon recompute` on 10k, 100k (and optionally 1,048,575) accounts.

For each size it builds a workbook (user-owned sheets with a demo portfolio, not
timed), then times, each in a fresh process so that peak memory is its own:

* the recompute (read with calamine, engine, render, graft, atomic save), twice,
  from a cold interpreter: the time includes importing pandas and
  scikit-learn, which the file mode does while its threads parse the sheets;
  the first run adds the engine-owned sheets, the second replaces them and
  carries the previous results (the weekly case);
* those imports alone, in a cold interpreter of their own (for reference);
* a weekly recompute in a process that has already run one (imports done,
  as in a Python that stays up between recomputes);
* an openpyxl load + save of the same recomputed workbook, for comparison.

Targets (DESIGN.md): 10k ≤ 2 s; 100k ≤ 10 s, ≤ 1.5 GB and ≤ a fifth of the
openpyxl load+save; 1,048,575 accounts completes.

    .venv/bin/python benchmarks/bench_recompute.py            # 10k and 100k
    .venv/bin/python benchmarks/bench_recompute.py --sizes 1048575 --no-openpyxl
"""
from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def child(action: str, path: str, out: str | None) -> None:
    t0 = time.perf_counter()
    if action == "build":
        from maillon.workbook_templates.build import build_demo

        build_demo(path, n_accounts=int(out), seed=11)
    elif action == "recompute":
        from maillon.addin.filemode import recompute_file

        recompute_file(Path(path), Path(out) if out else None)
    elif action == "warm":
        from maillon.addin.filemode import recompute_file

        warm_up = Path(out)
        shutil.copy(path, warm_up)
        recompute_file(warm_up)  # the same work once, untimed
        t0 = time.perf_counter()
        recompute_file(Path(path))
    elif action == "imports":
        import maillon.addin.render.layout  # noqa: F401
        import maillon.addin.filemode.write  # noqa: F401
        import maillon.engine.pipeline  # noqa: F401 - pandas, scikit-learn
    elif action == "openpyxl":
        import openpyxl

        wb = openpyxl.load_workbook(path)
        wb.save(out)
    seconds = time.perf_counter() - t0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "peak_mb": rss}))


def run(action: str, path: Path, out=None) -> dict:
    proc = subprocess.run([sys.executable, __file__, "--child", action, str(path),
                           "" if out is None else str(out)],
                          capture_output=True, text=True, check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--no-openpyxl", action="store_true",
                        help="skip the openpyxl load+save comparison")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        action, path, out = args.child
        child(action, path, out or None)
        return
    for n in args.sizes:
        with tempfile.TemporaryDirectory(prefix="maillon-bench-") as tmp:
            path = Path(tmp) / "team.xlsx"
            built = run("build", path, n)
            size_mb = path.stat().st_size / 2**20
            print(f"{n:,} accounts  (workbook {size_mb:.1f} MB, built in {built['seconds']:.1f} s)")
            first = run("recompute", path)
            show("recompute, first (adds the engine sheets)", first["seconds"],
                 f"peak {first['peak_mb']:6.0f} MB")
            second = run("recompute", path)
            show("recompute, again (replaces them)", second["seconds"],
                 f"peak {second['peak_mb']:6.0f} MB")
            warm = run("warm", path, Path(tmp) / "warm-up.xlsx")
            show("recompute, again, in a process that ran one", warm["seconds"])
            imports = run("imports", path)
            show("imports alone (pandas, scikit-learn)", imports["seconds"],
                 "(a recompute does them while it reads)")
            if not args.no_openpyxl:
                shutil.copy(path, Path(tmp) / "copy.xlsx")
                ox = run("openpyxl", Path(tmp) / "copy.xlsx", Path(tmp) / "saved.xlsx")
                show("openpyxl load + save, same workbook", ox["seconds"],
                     f"peak {ox['peak_mb']:6.0f} MB")
                print(f"  {'recompute (again) / openpyxl load+save':<45}"
                      f"{second['seconds'] / ox['seconds']:6.2f}")


def show(label: str, seconds: float, extra: str = "") -> None:
    print(f"  {label:<45}{seconds:6.2f} s   {extra}".rstrip())

if __name__ == "__main__":
    main()
