"""Excel round trips of a live recompute, by phase, on Windows and on macOS (issue 12).

There is no Excel here: the recompute runs on the autospecced xlwings fakes of
``tests/live_fakes.py``, and each recorded call is priced with the round trips
xlwings 0.37.8 makes for it (the cost table of ``tests/test_live_round_trips.py``,
checked there against xlwings' own ``_xlwindows.py`` / ``_xlmac.py``). Runs per
size and platform: the first live recompute of a workbook that ``maillon demo``
(a file-mode recompute) wrote, opened as it is (``live_fakes.fake_from_file``);
then on a workbook the live mode never saw the formats of (the full formatting
pass: an older book, or one whose layout record is gone), a recompute right
after it with nothing changed, one after the user pasted a tenth more
accounts, and one after the number of segments changed (Settings: Segments
4 -> 6: every sheet whose layout follows the segments is formatted again).
Then the clicks whose formatting would be slow in Excel as the Recompute segments
button takes them, through the file (``live_files.route_formatting``: save, close,
the file mode's recompute, open; the round trips of everything it calls on the
real-files fakes of ``tests/test_live_files.py``): a workbook filled and never
recomputed, an older one without the layout record, a change of the number of
segments typed and not saved; each followed by the next click (in Excel).

    .venv/bin/python benchmarks/bench_live_trips.py [--accounts 2000 20000] [--phases]

Prints the totals (and with --phases where they go) plus the CPU time the
Python side took on the fakes (the fakes' own bookkeeping included: not a
figure of Excel's speed).
"""
from __future__ import annotations

import argparse
import shutil
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from maillon.addin.live import ribbon as live  # noqa: E402
from maillon.addin.live import write as live_write  # noqa: E402

from live_fakes import fake_from_file  # noqa: E402
from test_live import synthetic_workbook  # noqa: E402
from test_live_round_trips import (_more_accounts, round_trips, routed_click,  # noqa: E402
                                   segments_edit)

PHASES = [(live, "survey"), (live, "read_tables_live"), (live, "_previous_layout"),
          (live, "read_loose_live"), (live_write, "_prepare_sheet"),
          (live_write, "_write_values"), (live_write, "_write_formats"),
          (live_write, "_write_fills"), (live_write, "_write_heights"), (live_write, "_write_tails"),
          (live_write, "_write_engine_area"),
          (live_write, "_write_charts"), (live_write, "_retitle_charts"),
          (live_write, "_write_sheet_settings")]


class Phases:
    """Round trips spent inside each of :data:`PHASES` (the rest: 'other')."""

    def __init__(self, fake, platform):
        self.fake, self.platform, self.spent = fake, platform, Counter()
        self.saved = []
        for module, name in PHASES:
            fn = getattr(module, name)
            self.saved.append((module, name, fn))
            setattr(module, name, self._wrap(name, fn))
        self.depth = 0

    def _wrap(self, name, fn):
        def run(*args, **kwargs):
            if self.depth:
                return fn(*args, **kwargs)
            self.depth += 1
            before = round_trips(self.fake, self.platform)[0]
            try:
                return fn(*args, **kwargs)
            finally:
                self.spent[name] += round_trips(self.fake, self.platform)[0] - before
                self.depth -= 1
        return run

    def close(self):
        for module, name, fn in self.saved:
            setattr(module, name, fn)


def one_run(fake, platform: str, phases: bool):
    fake.reset_counts()
    fake.range_sets.clear()
    fake.events.clear()
    probe = Phases(fake, platform) if phases else None
    cpu = time.process_time()
    try:
        code = live.run(fake.book, platform=platform)
    finally:
        if probe is not None:
            probe.close()
    cpu = time.process_time() - cpu
    assert code == 0, fake.alerts
    total = round_trips(fake, platform)[0]
    where = dict(probe.spent) if probe else {}
    if where:
        where["other"] = total - sum(where.values())
    return total, cpu, where


def _segments_six(fake, n):
    """The user sets Settings > Segments from 4 to 6."""
    from maillon.engine import contract as C

    entry = fake.tables[C.TBL_SETTINGS.lower()]
    sheet, (r1, c1, r2, _) = entry[1], entry[2]
    cells = fake._state(sheet)["_cells"]
    for r in range(r1 + 1, r2 + 1):
        if cells.get((r, c1)) == "Segments":
            cells[(r, c1 + 1)] = 6


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--accounts", type=int, nargs="+", default=[2_000, 20_000])
    ap.add_argument("--phases", action="store_true", help="where the round trips go")
    args = ap.parse_args(argv)
    print(f"{'platform':8} {'accounts':>8} {'run':<22} {'round trips':>11} {'CPU s':>6}")
    import tempfile

    from maillon.addin.filemode.recompute import recompute_file
    from maillon.workbook_templates.build import build_demo

    folder = Path(tempfile.mkdtemp(prefix="maillon-bench-"))
    for n in args.accounts:
        demo = folder / f"demo-{n}.xlsx"
        fresh = folder / f"fresh-{n}.xlsx"
        build_demo(demo, n_accounts=n)
        shutil.copyfile(demo, fresh)  # filled, never recomputed (maillon new, then an import)
        recompute_file(demo)
        for platform in ("win32", "darwin"):
            total, cpu, where = one_run(fake_from_file(demo), platform, args.phases)
            print(f"{platform:8} {n:>8,} {'first after file mode':<22} {total:>11,} {cpu:>6.1f}")
            if where:
                print("    " + ", ".join(f"{k} {v}" for k, v in where.items() if v))
            fake = synthetic_workbook(n)
            runs = [("first (full pass)", None), ("again, unchanged", None),
                    ("after +10% accounts", _more_accounts),
                    ("segments 4 -> 6", _segments_six)]
            for label, edit in runs:
                if edit is not None:
                    edit(fake, n)
                total, cpu, where = one_run(fake, platform, args.phases)
                print(f"{platform:8} {n:>8,} {label:<22} {total:>11,} {cpu:>6.1f}")
                if where:
                    print("    " + ", ".join(f"{k} {v}" for k, v in where.items() if v))
            for label, source, kw in routed_runs():
                path = folder / "team.xlsx"
                shutil.copyfile(fresh if source == "fresh" else demo, path)
                if kw.pop("segments", False):
                    kw["edit"] = segments_edit(path)
                total, cpu = routed_run(path, platform, **kw)
                print(f"{platform:8} {n:>8,} {label:<22} {total:>11,} {cpu:>6.1f}")
                total, cpu = routed_run(path, platform, answers=(), expect_route=False)
                print(f"{platform:8} {n:>8,} {'  then the next click':<22} {total:>11,} "
                      f"{cpu:>6.1f}")
    return 0


def routed_runs():
    """The runs whose formatting would be slow in Excel, taken through the file (the button's
    route, ``live_files.route_formatting``; the user answers Yes where it asks)."""
    return [("new book, via file", "fresh", {"answers": ()}),
            ("full pass, via file", "demo", {"older": True}),
            ("segments -> 6, via file", "demo", {"segments": True})]


def routed_run(path, platform: str, answers=("yes",), expect_route: bool = True, **kw):
    """One click through ``test_live_round_trips.routed_click``: its round trips (reads,
    question, save, close, open, message) and the click's CPU time (the live read and
    engine, then the file mode's recompute; opening the file into the fakes left out)."""
    s, code, (total, _) = routed_click(path, platform, answers, **kw)
    assert code == 0, s.prompts
    assert (s.events == ["save", "close", "open"]) == expect_route, s.events
    return total, s.cpu


if __name__ == "__main__":
    raise SystemExit(main())
