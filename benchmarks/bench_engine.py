"""The engine alone (no files): time and peak memory of one recompute.

Target (issue 2): 100k accounts with 7 needs in ≤ 3 s and ≤ 1 GB peak memory.

    .venv/bin/python benchmarks/bench_engine.py [--accounts 100000] [--repeat 3]
"""
from __future__ import annotations

import argparse
import datetime as dt
import resource
import time
import tracemalloc

from maillon.engine.model import EngineInput, PreviousState
from maillon.engine.pipeline import recompute
from maillon.workbook_templates.defaults import (default_expectations, default_playbook,
                                                 default_settings)
from maillon.workbook_templates.demo_portfolio import generate_portfolio


def make_input(n: int) -> EngineInput:
    expectations = default_expectations()
    accounts, feedback = generate_portfolio(n, expectations=expectations, seed=11)
    return EngineInput(settings=default_settings(), expectations=expectations,
                       accounts=accounts, feedback=feedback, playbook=default_playbook(),
                       run_at=dt.datetime(2026, 11, 26, 9, 0), run_by="bench")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    inp = make_input(args.accounts)
    needs = sum(c.startswith("Need: ") for c in inp.accounts.columns)
    print(f"engine alone: {args.accounts:,} accounts, {needs} needs, "
          f"{len(inp.feedback):,} feedback rows")
    base_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    times = []
    for i in range(args.repeat):
        t0 = time.perf_counter()
        result = recompute(inp)
        times.append(time.perf_counter() - t0)
        print(f"  first run #{i + 1}: {times[-1]:.2f} s   ({result.summary()})")
    rerun = EngineInput(inp.settings, inp.expectations, inp.accounts, inp.feedback, inp.playbook,
                        PreviousState(result.segments, result.targets, result.plan, None,
                                      result.history, result.edits),
                        run_at=dt.datetime(2026, 11, 27, 9, 0), run_by="bench")
    t0 = time.perf_counter()
    recompute(rerun)
    rerun_s = time.perf_counter() - t0
    tracemalloc.start()
    recompute(inp)
    _, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"  best first run        {min(times):.2f} s   (target ≤ 3 s)")
    print(f"  rerun with history    {rerun_s:.2f} s")
    print(f"  peak traced (Python)  {traced_peak / 2**20:.0f} MB")
    print(f"  peak RSS of process   {peak_rss:.0f} MB (before engine: {base_rss:.0f} MB; "
          f"target ≤ 1 GB)")


if __name__ == "__main__":
    main()
