"""Benchmark of the marketing segmentation on synthetic portfolios.

Usage::

    .venv/bin/python benchmarks/bench_segment.py [--accounts 100000] [--needs 7]

Prints, for a first run (Segments = auto), an unchanged rerun fed with the
previous membership, a rerun after 5 % of the accounts changed, and a run
with a fixed number of segments: the wall time in seconds, then the peak
memory traced by tracemalloc during one run and the process' peak RSS.
"""
from __future__ import annotations

import argparse
import resource
import sys
import time
import tracemalloc

import numpy as np
import pandas as pd

from maillon.engine import contract
from maillon.engine.model import Settings
from maillon.engine.segment import segment_accounts


def synthetic(n: int, n_needs: int, seed: int = 0, n_profiles: int = 6, no_need_share: float = 0.4):
    """A portfolio of ``n`` accounts: needs drawn around a few profiles with
    noise, 40 % of accounts (by default) without needs, 12 industries,
    13 regions, log-normal sizes, revenue and potential, feedback on a third."""
    rng = np.random.default_rng(seed)
    names = [f"Expectation {j + 1}" for j in range(n_needs)]
    profiles = rng.uniform(1, 5, (n_profiles, n_needs))
    truth = rng.integers(0, n_profiles, n)
    needs = np.clip(np.rint(profiles[truth] + rng.normal(0, 0.9, (n, n_needs))), 1, 5)
    no_need = rng.random(n) < no_need_share
    needs[no_need] = np.nan
    needs[rng.random(needs.shape) < 0.05] = np.nan
    ids = np.char.add("AC", np.arange(n).astype(str).astype(object).astype(str))
    industries = np.array([f"Industry {i}" for i in range(12)], dtype=object)
    regions = np.array([f"Region {i}" for i in range(13)], dtype=object)
    status = np.where(no_need | (rng.random(n) < 0.3), "Prospect", "Customer")
    accounts = pd.DataFrame({
        "Account ID": ids.astype(object),
        "Account name": ids.astype(object),
        "Status": status,
        "Industry": industries[(truth + rng.integers(0, 3, n)) % 12],
        "Region": regions[rng.integers(0, 13, n)],
        "City": None,
        "Employees": np.rint(rng.lognormal(3.5, 1.5, n)),
        "Sales owner": None,
        "Revenue 12m": np.where(status == "Customer", np.rint(rng.lognormal(10, 1, n)), 0.0),
        "Potential": np.rint(rng.lognormal(11, 1, n)),
        "Last contact": pd.NaT,
    })
    for j, e in enumerate(names):
        accounts[contract.need_column(e)] = needs[:, j]
    expectations = pd.DataFrame({
        "Expectation": names, "Description": "",
        "Market importance": rng.integers(1, 6, n_needs).astype(float),
        "Our strength": rng.integers(1, 6, n_needs).astype(float), "Source": "",
    })
    fb = rng.random(n) < 0.33
    latest = pd.DataFrame({
        "Main need": np.array(names, dtype=object)[rng.integers(0, n_needs, n)],
        "Relationship": rng.integers(1, 6, n).astype(float),
        "Buying intent": rng.choice(["Low", "Medium", "High"], n),
        "Date": pd.Timestamp("2025-01-15"),
    }, index=pd.Index(accounts["Account ID"], name="Account ID"))[fb]
    return accounts, expectations, latest


def timed(label, fn):
    t0 = time.perf_counter()
    out = fn()
    dt = time.perf_counter() - t0
    print(f"{label:<40} {dt:6.2f} s")
    return out, dt


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--accounts", type=int, default=100_000)
    ap.add_argument("--needs", type=int, default=7)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-need-share", type=float, default=0.4,
                    help="share of accounts without any need (default 0.4)")
    args = ap.parse_args(argv)
    accounts, expectations, latest = synthetic(args.accounts, args.needs, args.seed,
                                              no_need_share=args.no_need_share)
    print(f"{len(accounts):,} accounts × {args.needs} needs, "
          f"{int(accounts.filter(like=contract.NEED_PREFIX).notna().any(axis=1).sum()):,} with needs")
    auto = Settings(segments=None, segment_seed=42)
    first, _ = timed("first run (auto)", lambda: segment_accounts(accounts, expectations, latest, auto))
    print(f"  -> {len(first.segments)} segments")
    pm = pd.Series(first.membership.to_numpy(), index=accounts["Account ID"].to_numpy())
    again, _ = timed("unchanged rerun (auto, previous)", lambda: segment_accounts(
        accounts, expectations, latest, auto, pm, first.segments))
    print(f"  -> identical: {again.membership.equals(first.membership)}")
    changed = accounts.copy()
    rng = np.random.default_rng(1)
    rows = rng.choice(len(changed), len(changed) // 20, replace=False)
    cols = [c for c in changed.columns if c.startswith(contract.NEED_PREFIX)]
    changed.loc[changed.index[rows], cols] = rng.integers(1, 6, (len(rows), len(cols))).astype(float)
    moved, _ = timed("rerun after 5 % changed (auto)", lambda: segment_accounts(
        changed, expectations, latest, auto, pm, first.segments))
    keep = np.ones(len(accounts), bool)
    keep[rows] = False
    print(f"  -> unchanged accounts keeping their segment: "
          f"{(moved.membership.to_numpy()[keep] == first.membership.to_numpy()[keep]).mean():.2%}")
    timed("first run (Segments = 12)", lambda: segment_accounts(
        accounts, expectations, latest, Settings(segments=12, segment_seed=42)))
    tracemalloc.start()
    segment_accounts(accounts, expectations, latest, auto)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    rss_mb = rss / 1024 if sys.platform != "darwin" else rss / 1024 / 1024
    print(f"peak traced memory of one run: {peak / 2**20:.0f} MB; process peak RSS: {rss_mb:.0f} MB")


if __name__ == "__main__":
    main()
