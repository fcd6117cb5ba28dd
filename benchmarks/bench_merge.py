"""`maillon merge` of three copies beside one `maillon recompute`, in the same run.

For each size it builds a demo workbook and recomputes it (the workbook as
sent, not timed), makes three copies edited as Excel edits them (the table
writer: 300 cells each, some overlapping, 20 new accounts and 20 meetings
each, two copies adding the same prospect; they keep the recorded base),
saves each copy through LibreOffice as the colleague's spreadsheet program
would (every part written anew: nothing of a copy is byte for byte the team
workbook's any more; ``--resave none`` keeps the copies as the table writer
left them), then times, each in a fresh Python process (imports included,
peak memory its own):

* a weekly recompute of the team workbook;
* the merge of the three copies into it, with its recompute (one save);
* the cost of recording the base inside one recompute (snapshot + encode),
  timed in-process after a recompute's read and engine run.

Target (DESIGN.md, issue 13): merge of three copies <= 2x a recompute; 100k
<= 2 GB peak.

    .venv/bin/python benchmarks/bench_merge.py               # 10k
    .venv/bin/python benchmarks/bench_merge.py --sizes 10000 100000
    .venv/bin/python benchmarks/bench_merge.py --resave none   # copies as edited in place
    .venv/bin/python benchmarks/bench_merge.py --sizes 100000 --keep /tmp/m100k   # keep them
    .venv/bin/python benchmarks/bench_merge.py --reuse /tmp/m100k   # time the kept files again

``--keep DIR`` keeps the workbook as sent and its copies (``DIR/<size>/``) so that
``--reuse DIR`` times them again without building and re-saving them (the
LibreOffice re-save of three 100k copies takes minutes); ``--only merge`` times
the merge alone (``--profile FILE`` writes its cProfile statistics).
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path


def _copies(team: Path, folder: Path, n: int) -> list[Path]:
    from maillon.addin.filemode.read import read_tables
    from maillon.addin.filemode.table_edits import TableEdit, save_table_edits

    acc = read_tables(team, ["tblAccounts"])["tblAccounts"].data
    rows = acc.index.to_numpy()
    copies = []
    for k in range(3):
        path = folder / f"copy{k + 1}.xlsx"
        shutil.copyfile(team, path)
        step = max(1, len(rows) // 300)
        picked = rows[k * 7::step][:300]  # copies 1-3 overlap on some rows
        cells = {(int(r), "Employees"): 1000 + k for r in picked[:150]}
        cells.update({(int(r), "City"): f"City {k}" for r in picked[150:]})
        if k < 2:  # copies 1 and 2 both change these 50 cells: 50 conflicts
            cells.update({(int(r), "Sales owner"): f"Owner {k}" for r in rows[1:51]})
        new = [{"Account ID": f"NEW-{k}-{i:04d}", "Account name": f"Prospect {k}-{i}",
                "Status": "Prospect", "Potential": 1000.0 * i} for i in range(20)]
        new.append({"Account ID": "NEW-SAME", "Account name": "Same prospect",
                    "Status": "Prospect"} if k < 2 else
                   {"Account ID": f"NEW-{k}-X", "Account name": "x", "Status": "Prospect"})
        meetings = [{"Account ID": str(acc["Account ID"].iloc[i]), "Sales rep": f"Rep {k}",
                     "Date": dt.datetime(2026, 11, 2 + k),
                     "Relationship": 3, "Buying intent": "High", "Note": f"meeting {k}-{i}"}
                    for i in range(20)]
        save_table_edits(path, [TableEdit("tblAccounts", cells=cells, new_rows=new),
                                TableEdit("tblFeedback", new_rows=meetings)])
        copies.append(path)
    return copies


def _resave(copies: list[Path], folder: Path) -> None:
    """Each copy opened and saved again by LibreOffice (its own profile, so that a
    running LibreOffice does not take the job), in place."""
    out = folder / "resaved"
    cmd = ["soffice", f"-env:UserInstallation={(folder / 'lo-profile').as_uri()}", "--headless",
           "--calc", "--convert-to", "xlsx:Calc Office Open XML", "--outdir", str(out),
           *map(str, copies)]
    subprocess.run(cmd, check=True, capture_output=True, timeout=3600)
    for path in copies:
        shutil.move(out / path.name, path)


def _cpu() -> float:
    """CPU time of every thread of this process and of the processes it started (the
    merge's copy readers) that have ended."""
    use = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return use.ru_utime + use.ru_stime + kids.ru_utime + kids.ru_stime


def child(action: str, path: str, extra: str) -> None:
    t0, c0 = time.perf_counter(), _cpu()
    info = {}
    if action == "prepare":
        from maillon.addin.filemode import recompute_file
        from maillon.workbook_templates.build import build_demo

        folder = Path(path).parent
        src = folder / "portfolio.xlsx"
        build_demo(src, n_accounts=int(extra), seed=11)
        recompute_file(src, Path(path))
        _copies(Path(path), folder, int(extra))
    elif action == "recompute":
        from maillon.addin.filemode import recompute_file

        recompute_file(Path(path))
    elif action == "merge":
        from maillon.addin.filemode.merge import merge_files

        from maillon.addin.filemode.copy_readers import spare_cores, use_workers

        # what the merge decides as it starts: copies read by worker processes or not
        info["workers"], info["spare_cores"] = use_workers(3), spare_cores()
        profile = os.environ.get("MAILLON_BENCH_PROFILE")
        if profile:
            import cProfile

            prof = cProfile.Profile()
            report = prof.runcall(merge_files, Path(path), [Path(p) for p in extra.split("|")])
            prof.dump_stats(profile)
        else:
            report = merge_files(Path(path), [Path(p) for p in extra.split("|")])
        info.update(changes=report.changes, conflicts=report.conflicts)
    elif action == "base":
        from maillon.addin.filemode.recompute import read_input, record_base
        from maillon.engine.pipeline import recompute

        inp = read_input(Path(path))
        result = recompute(inp)
        t0, c0 = time.perf_counter(), _cpu()
        item = record_base(Path(path), inp, result)
        info = {"part_mb": len(item.data) / 1e6}
    seconds, cpu = time.perf_counter() - t0, _cpu() - c0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "cpu": cpu, "peak_mb": rss, **info}))


def _tree_rss_mb(root: int) -> float:
    """Resident memory of process ``root`` and all its descendants now (Linux /proc; 0
    elsewhere). Pages shared after a fork count in each process: an upper bound."""
    parents, rss = {}, {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        parents[int(entry.name)] = int(fields.get("PPid", "0").strip() or 0)
        rss[int(entry.name)] = int(fields.get("VmRSS", "0 kB").split()[0])
    tree, grew = {root}, True
    while grew:
        more = {pid for pid, ppid in parents.items() if ppid in tree} - tree
        tree |= more
        grew = bool(more)
    return sum(rss.get(pid, 0) for pid in tree) / 1024


def run(action: str, path: Path, extra: str = "") -> dict:
    """One timed child; ``tree_peak_mb``: the most memory its process tree held at once
    (sampled every 0.1 s: the child and the processes it starts, summed)."""
    proc = subprocess.Popen([sys.executable, __file__, "--child", action, str(path), extra],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak = [0.0]

    def watch():
        while proc.poll() is None:
            peak[0] = max(peak[0], _tree_rss_mb(proc.pid))
            time.sleep(0.1)

    watcher = threading.Thread(target=watch, daemon=True)
    if Path("/proc/self/status").exists():
        watcher.start()
    out, err = proc.communicate()
    if watcher.is_alive():
        watcher.join()
    if proc.returncode != 0:
        raise SystemExit(f"{action} failed:\n{err[-3000:]}")
    info = json.loads(out.strip().splitlines()[-1])
    info["tree_peak_mb"] = max(peak[0], info["peak_mb"])
    return info


def _peaks(info: dict) -> str:
    """The merge's peak memory: all its processes at once (sampled every 0.1 s), and the
    merge process alone. (RUSAGE_CHILDREN's peak is not shown: scikit-learn's cpu count
    forks lscpu, whose peak is the parent's size at that moment.)"""
    how = "copies read by worker processes" if info.get("workers") else \
        "copies read in threads"
    return (f"{info['tree_peak_mb']:,.0f} MB all processes (merge process "
            f"{info['peak_mb']:,.0f} MB; {how}, {info.get('spare_cores', 0):.1f} spare cores "
            f"by the load average)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000])
    parser.add_argument("--resave", choices=["libreoffice", "none"], default="libreoffice",
                        help="save the copies through LibreOffice first (default), or not")
    parser.add_argument("--keep", type=Path, metavar="DIR",
                        help="keep the workbook and its copies in DIR/<size>/")
    parser.add_argument("--reuse", type=Path, metavar="DIR",
                        help="time the workbook and copies kept in DIR/<size>/ by --keep")
    parser.add_argument("--only", choices=["all", "merge"], default="all",
                        help="time everything (default) or the merge alone")
    parser.add_argument("--profile", type=Path, metavar="FILE",
                        help="write the merge's cProfile statistics to FILE")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    if args.profile:
        os.environ["MAILLON_BENCH_PROFILE"] = str(args.profile.resolve())
    if args.reuse and args.sizes == [10_000]:
        args.sizes = sorted(int(p.name) for p in args.reuse.iterdir() if p.name.isdigit())
    for n in args.sizes:
        with tempfile.TemporaryDirectory(prefix="maillon-bench-merge-") as tmp:
            folder = Path(tmp)
            team = folder / "team.xlsx"
            paths = [folder / f"copy{k}.xlsx" for k in (1, 2, 3)]
            pristine = folder / "pristine.xlsx"
            if args.reuse:
                kept = args.reuse / str(n)
                for name in ("pristine.xlsx", *(p.name for p in paths)):
                    shutil.copyfile(kept / name, folder / name)
                shutil.copyfile(pristine, team)
                print(f"{n:,} accounts: workbook and 3 copies from {kept}", flush=True)
            else:
                t = time.perf_counter()
                run("prepare", team, str(n))
                print(f"{n:,} accounts: workbook and 3 copies prepared in "
                      f"{time.perf_counter() - t:.0f} s", flush=True)
                if args.resave == "libreoffice":
                    t = time.perf_counter()
                    _resave(paths, folder)
                    print(f"  copies saved through LibreOffice in "
                          f"{time.perf_counter() - t:.0f} s", flush=True)
                shutil.copyfile(team, pristine)
                if args.keep:
                    kept = args.keep / str(n)
                    kept.mkdir(parents=True, exist_ok=True)
                    for name in ("pristine.xlsx", *(p.name for p in paths)):
                        shutil.copyfile(folder / name, kept / name)
            copies = "|".join(map(str, paths))
            if args.only == "merge":
                merge = run("merge", team, copies)
                print(f"  merge of 3 copies         {merge['seconds']:6.1f} s "
                      f"(CPU {merge['cpu']:.1f} s), peak {_peaks(merge)}", flush=True)
                continue
            base = run("base", team)
            rec = run("recompute", team)
            shutil.copyfile(pristine, team)
            merge = run("merge", team, copies)
            shutil.copyfile(pristine, team)
            rec2 = run("recompute", team)
            best = min(rec["seconds"], rec2["seconds"])
            best_cpu = min(rec["cpu"], rec2["cpu"])
            print(f"  recompute (weekly)        {rec['seconds']:6.1f} s / {rec2['seconds']:6.1f} s"
                  f" (CPU {rec['cpu']:.1f} s / {rec2['cpu']:.1f} s),"
                  f" peak {max(rec['peak_mb'], rec2['peak_mb']):,.0f} MB")
            print(f"  merge of 3 copies         {merge['seconds']:6.1f} s (CPU {merge['cpu']:.1f} s),"
                  f" peak {_peaks(merge)} ({merge['changes']:,} changes, "
                  f"{merge['conflicts']:,} conflicts): {merge['seconds'] / best:.2f}x the "
                  f"faster recompute (target <= 2x), CPU {merge['cpu'] / best_cpu:.2f}x")
            print(f"  recording the base        {base['seconds']:6.2f} s inside a recompute "
                  f"(custom XML part {base['part_mb']:.1f} MB)", flush=True)


if __name__ == "__main__":
    main()
