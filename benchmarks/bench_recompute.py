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

Each time is given as wall time and CPU time (all threads of the process:
on a shared machine the CPU time moves less than the wall time).

Targets (DESIGN.md): 10k ≤ 2 s; 100k ≤ 10 s, ≤ 1.5 GB and ≤ a fifth of the
openpyxl load+save; 1,048,575 accounts completes.

``--compare [LABEL=]PYTHON ...`` runs the same measures with other
installations of Maillon (for example the code of an earlier commit installed
in its own virtual environment), interleaved with this one (A B, B A, ...)
``--repeat`` times, and prints them side by side, the median and the best of
each: before/after figures from the same run. ``--phases`` (or ``MAILLON_BENCH_PHASES=1``) adds
the wall and CPU time of each phase of the two cold recomputes (read, engine,
layout, render, graft, save); it wraps the phase functions from the outside,
production code has no timer.

    .venv/bin/python benchmarks/bench_recompute.py            # 10k and 100k
    .venv/bin/python benchmarks/bench_recompute.py --sizes 1048575 --no-openpyxl
    .venv/bin/python benchmarks/bench_recompute.py --sizes 10000 100000 --no-openpyxl \\
        --compare before=../before/.venv/bin/python --repeat 5 --phases
"""
from __future__ import annotations

import argparse
import importlib
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# phase -> the functions it wraps, by module and attribute: this tree's names
# first, then those of the code before addin/ was split in folders (commit
# 678df12), so that --compare can time an older installation the same way
PHASES = {
    "read": [("maillon.addin.filemode.recompute", "read_input"),
             ("maillon.addin.filemode", "read_input")],
    "engine": [("maillon.engine.pipeline", "recompute")],
    "layout": [("maillon.addin.render.layout", "layout"), ("maillon.addin.layout", "layout")],
    "render": [("maillon.addin.filemode.write", "render_skeleton"),
               ("maillon.addin.xlsx_backend", "render_to_file")],
    "graft": [("maillon.addin.ooxml.graft", "graft"), ("maillon.addin.xlsx_graft", "graft")],
    "save": [("maillon.addin.filemode.recompute", "atomic_replace"),
             ("maillon.addin.filemode", "atomic_replace")],
}
_timings: dict[str, list[float]] = {}


def _timed(name: str, fn):
    def wrapper(*args, **kwargs):
        w0, c0 = time.perf_counter(), time.process_time()
        try:
            return fn(*args, **kwargs)
        finally:
            w, c = _timings.setdefault(name, [0.0, 0.0])
            _timings[name] = [w + time.perf_counter() - w0, c + time.process_time() - c0]
    wrapper.__wrapped__ = fn
    return wrapper


def _wrap(phase: str, *, import_it: bool) -> None:
    for module_name, attr in PHASES[phase]:
        module = sys.modules.get(module_name)
        if module is None and import_it:
            try:
                module = importlib.import_module(module_name)
            except ImportError:
                continue
        fn = getattr(module, attr, None) if module is not None else None
        if fn is not None and not hasattr(fn, "__wrapped__"):
            setattr(module, attr, _timed(phase, fn))
            return


def _instrument() -> None:
    """Time each phase of a recompute without importing pandas before the read.

    The read's module imports no pandas, so it is wrapped first; the modules of
    the later phases are imported (and wrapped) once the read is over.
    """
    _wrap("read", import_it=True)
    _wrap("save", import_it=True)
    read = None
    for module_name, attr in PHASES["read"]:
        module = sys.modules.get(module_name)
        if module is not None and hasattr(getattr(module, attr, None), "__wrapped__"):
            read = (module, attr, getattr(module, attr))
            break
    if read is None:
        return
    module, attr, timed_read = read

    def read_then_wrap(*args, **kwargs):
        out = timed_read(*args, **kwargs)
        w0, c0 = time.perf_counter(), time.process_time()
        for phase in ("engine", "layout", "render", "graft"):
            _wrap(phase, import_it=True)
        _timings["imports after read"] = [time.perf_counter() - w0, time.process_time() - c0]
        return out
    setattr(module, attr, read_then_wrap)


def _recompute_file():
    try:
        from maillon.addin.filemode.recompute import recompute_file
    except ImportError:  # before addin/ was split in folders
        from maillon.addin.filemode import recompute_file
    return recompute_file


def child(action: str, path: str, out: str | None) -> None:
    phases = os.environ.get("MAILLON_BENCH_PHASES") == "1"
    t0, c0 = time.perf_counter(), time.process_time()
    if action == "build":
        from maillon.workbook_templates.build import build_demo

        build_demo(path, n_accounts=int(out), seed=11)
    elif action == "recompute":
        if phases:
            _instrument()
        _recompute_file()(Path(path), Path(out) if out else None)
    elif action == "warm":
        recompute_file = _recompute_file()
        warm_up = Path(out)
        shutil.copy(path, warm_up)
        recompute_file(warm_up)  # the same work once, untimed
        t0, c0 = time.perf_counter(), time.process_time()
        recompute_file(Path(path))
    elif action == "imports":
        for name in ("maillon.addin.render.layout", "maillon.addin.filemode.write",
                     "maillon.addin.layout", "maillon.addin.xlsx_backend"):
            try:
                importlib.import_module(name)
            except ImportError:
                pass
        import maillon.engine.pipeline  # noqa: F401 - pandas, scikit-learn
    elif action == "openpyxl":
        import openpyxl

        wb = openpyxl.load_workbook(path)
        wb.save(out)
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "cpu": cpu, "peak_mb": rss, "phases": _timings}))


def run(python: str, action: str, path: Path, out=None, phases: bool = False) -> dict:
    env = dict(os.environ, MAILLON_BENCH_PHASES="1" if phases else "0")
    proc = subprocess.run([python, __file__, "--child", action, str(path),
                           "" if out is None else str(out)],
                          capture_output=True, text=True, env=env)
    if proc.returncode:
        sys.exit(f"{python} {action} {path} failed:\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


MEASURES = [
    ("first", "recompute, first (adds the engine sheets)"),
    ("again", "recompute, again (replaces them: weekly)"),
    ("warm", "recompute, again, in a process that ran one"),
    ("imports", "imports alone (pandas, scikit-learn)"),
    ("openpyxl", "openpyxl load + save, same workbook"),
]


def measure(python: str, pristine: Path, tmp: Path, args, results: dict) -> None:
    path = tmp / "team.xlsx"
    shutil.copy(pristine, path)
    for key in ("first", "again"):
        results.setdefault(key, []).append(run(python, "recompute", path, phases=args.phases))
    if args.cold_only:
        return
    results.setdefault("warm", []).append(run(python, "warm", path, tmp / "warm-up.xlsx"))
    results.setdefault("imports", []).append(run(python, "imports", path))
    if not args.no_openpyxl:
        shutil.copy(path, tmp / "copy.xlsx")
        results.setdefault("openpyxl", []).append(
            run(python, "openpyxl", tmp / "copy.xlsx", tmp / "saved.xlsx"))


def _median(runs: list[dict], key: str, phase: str | None = None) -> float:
    if phase is None:
        return statistics.median(r[key] for r in runs)
    return statistics.median(r["phases"].get(phase, [0.0, 0.0])[key] for r in runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--no-openpyxl", action="store_true",
                        help="skip the openpyxl load+save comparison")
    parser.add_argument("--cold-only", action="store_true",
                        help="only the two recomputes from a cold interpreter (no warm "
                             "process, imports alone or openpyxl)")
    parser.add_argument("--compare", metavar="[LABEL=]PYTHON", nargs="+", default=[],
                        help="also measure the Maillon installed for each of these "
                             "interpreters (shown as LABEL, by default 'before'), "
                             "interleaved with this one (shown as 'after')")
    parser.add_argument("--repeat", type=int, default=1,
                        help="measure each installation this many times (medians shown)")
    parser.add_argument("--phases", action="store_true",
                        default=os.environ.get("MAILLON_BENCH_PHASES") == "1",
                        help="time each phase of the cold recomputes")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        action, path, out = args.child
        child(action, path, out or None)
        return
    trees = {}
    for item in args.compare:
        label, _, python = item.rpartition("=")
        trees[label or ("before" if not trees else f"before{len(trees) + 1}")] = python
    trees["after" if trees else "this"] = sys.executable
    for n in args.sizes:
        with tempfile.TemporaryDirectory(prefix="maillon-bench-") as tmp:
            tmp = Path(tmp)
            pristine = {}
            for name, python in trees.items():
                (tmp / name).mkdir()
                pristine[name] = tmp / name / "built.xlsx"
                built = run(python, "build", pristine[name], n)
                size_mb = pristine[name].stat().st_size / 2**20
                print(f"{n:,} accounts, {name}: workbook {size_mb:.1f} MB, "
                      f"built in {built['seconds']:.1f} s", flush=True)
            results = {name: {} for name in trees}
            order = list(trees)
            for i in range(args.repeat):
                for name in order if i % 2 == 0 else order[::-1]:  # A B, B A, ...
                    measure(trees[name], pristine[name], tmp / name, args, results[name])
            report(n, results, args)


def report(n: int, results: dict, args) -> None:
    names = list(results)
    runs = len(next(iter(results.values()))["first"])
    head = "".join(f"{name + ' wall':>12}{'cpu':>8}" for name in names)
    print(f"{n:,} accounts (median of {runs} run{'s' * (runs > 1)}; seconds)")
    print(f"  {'':<45}{head}   peak MB")
    for key, label in MEASURES:
        if key not in results[names[0]]:
            continue
        cells = "".join(f"{_median(results[name][key], 'seconds'):12.2f}"
                        f"{_median(results[name][key], 'cpu'):8.2f}" for name in names)
        peaks = " / ".join(f"{_median(results[name][key], 'peak_mb'):.0f}" for name in names)
        print(f"  {label:<45}{cells}   {peaks}")
        if len(results[names[0]][key]) > 2:
            best = "".join(f"{min(r['seconds'] for r in results[name][key]):12.2f}"
                           f"{min(r['cpu'] for r in results[name][key]):8.2f}" for name in names)
            print(f"    {'best of ' + str(len(results[names[0]][key])):<43}{best}")
        if args.phases and key in ("first", "again"):
            seen = [p for p in ("read", "imports after read", "engine", "layout", "render",
                                "graft", "save")
                    if any(p in r["phases"] for name in names for r in results[name][key])]
            for phase in seen:
                cells = "".join(f"{_median(results[name][key], 0, phase):12.2f}"
                                f"{_median(results[name][key], 1, phase):8.2f}"
                                for name in names)
                print(f"    {phase:<43}{cells}")
    if args.repeat > 1:
        for key in ("first", "again"):
            for name in names:
                walls = " ".join(f"{r['seconds']:.2f}" for r in results[name][key])
                cpus = " ".join(f"{r['cpu']:.2f}" for r in results[name][key])
                print(f"  {key:<6} {name:<7} each run: wall {walls} | cpu {cpus}")
    if "openpyxl" in results[names[-1]]:
        ratio = (_median(results[names[-1]]["again"], "seconds")
                 / _median(results[names[-1]]["openpyxl"], "seconds"))
        print(f"  {'recompute (again) / openpyxl load+save':<45}{ratio:6.2f}")


if __name__ == "__main__":
    main()
