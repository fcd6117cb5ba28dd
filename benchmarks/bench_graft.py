"""Benchmark of the file-mode package layer: check, read (calamine) and graft.

Builds (once, cached in --workdir) a user workbook with a 100k-row x 27-column
``tblAccounts`` and a rendered workbook with a 100k-row x 17-column
``tblTargets`` (XlsxWriter, shared strings as XlsxWriter writes them by
default), then times each step in its own forked process and reports its peak
memory (``ru_maxrss`` of that process).

    .venv/bin/python benchmarks/bench_graft.py [--rows 100000] [--workdir /tmp/maillon-bench]

Targets (DESIGN.md): the whole recompute of 100k accounts <= 10 s, so the graft
of the 100k-row sheet should take about 2 s or less. This times the graft of a
complete rendered file (every row re-parsed by the graft's SheetTransform,
which in the file mode only sees the small skeleton XlsxWriter writes);
``bench_render.py`` times what ``maillon recompute`` does: ``render_skeleton``
+ graft writing the deferred rows (100k accounts: render + graft <= 3 s).
"""
from __future__ import annotations

import argparse
import datetime
import os
import resource
import sys
import time
from pathlib import Path

import xlsxwriter

from maillon.addin.ooxml.safe_io import check_package
from maillon.addin.ooxml.graft import graft
from maillon.addin.filemode.read import read_tables

TARGETS = ["Rank", "Account ID", "Account name", "Status", "Segment ID", "Segment name",
           "ABC cell", "Score", "Computed priority", "Priority override", "Override reason",
           "Final priority", "Why", "Qualification", "Sales owner", "Marketing owner",
           "Next action"]
ACCOUNTS = ["Account ID", "Account name", "Status", "Industry", "Region", "City", "Employees",
            "Sales owner", "Revenue 12m", "Potential", "Last contact"] + \
    [f"Need: E{i}" for i in range(1, 17)]


def build_user(path: Path, rows: int) -> None:
    wb = xlsxwriter.Workbook(str(path))
    money = wb.add_format({"num_format": "#,##0"})
    date = wb.add_format({"num_format": "yyyy-mm-dd"})
    wb.add_worksheet("Read Me").write("A1", "Benchmark workbook")
    st = wb.add_worksheet("Settings")
    st.add_table("A1:C3", {"name": "tblSettings", "columns": [
        {"header": "Setting"}, {"header": "Value"}, {"header": "Description"}],
        "data": [["Segments", "auto", ""], ["Plan weeks", 26, ""]]})
    ws = wb.add_worksheet("Accounts")
    base = datetime.date(2024, 1, 1)
    data = []
    for i in range(rows):
        data.append([f"A{i:07d}", f"Company {i}", "Customer" if i % 3 else "Prospect",
                     f"Industry {i % 12}", f"Region {i % 7}", f"City {i % 301}", (i * 37) % 5000,
                     f"Rep {i % 40}", float((i * 7919) % 100000), float((i * 104729) % 250000),
                     base + datetime.timedelta(days=i % 365)] + [1 + (i + k) % 5 for k in range(16)])
    ws.add_table(0, 0, rows, len(ACCOUNTS) - 1, {
        "name": "tblAccounts", "data": data,
        "columns": [{"header": h, "format": money if h in ("Revenue 12m", "Potential") else
                     date if h == "Last contact" else None} for h in ACCOUNTS]})
    notes = wb.add_worksheet("Notes")
    notes.write_formula("A1", '=COUNTIF(tblTargets[Final priority],"P1")')
    wb.close()


def build_rendered(path: Path, rows: int) -> None:
    wb = xlsxwriter.Workbook(str(path))
    head = wb.add_format({"bold": True, "bg_color": "#1F4E79", "font_color": "#FFFFFF"})
    score = wb.add_format({"num_format": "0.0"})
    edit = wb.add_format({"bg_color": "#FFF2CC"})
    hot = wb.add_format({"bg_color": "#FFC7CE"})
    ws = wb.add_worksheet("Target List")
    data = []
    for i in range(rows):
        prio = "P1" if i < rows * 0.1 else ("P2" if i < rows * 0.4 else "P3")
        data.append([i + 1, f"A{i:07d}", f"Company {i}", "Customer" if i % 3 else "Prospect",
                     f"S{i % 6 + 1:02d}", f"Segment {i % 6 + 1}", "AB", 100.0 - i / rows * 100,
                     prio, None, None, prio, f"Potential A, segment {i % 6 + 1}",
                     "Complete" if i % 5 else "Missing: Potential", f"Rep {i % 40}",
                     f"Owner {i % 6}", "Call"])
    ws.add_table(0, 0, rows, len(TARGETS) - 1, {
        "name": "tblTargets", "data": data,
        "columns": [{"header": h, "format": score if h == "Score" else
                     edit if h in ("Priority override", "Override reason") else None}
                    for h in TARGETS]})
    ws.set_row(0, None, head)
    ws.conditional_format(1, 11, rows, 11, {"type": "cell", "criteria": "==", "value": '"P1"',
                                             "format": hot})
    ws.data_validation(1, 9, rows, 9, {"validate": "list", "source": ["P1", "P2", "P3", "Exclude"]})
    ws.repeat_rows(0)
    ws.freeze_panes(1, 0)
    wb.close()


def measured(label: str, fn) -> float:
    """Run ``fn`` in a forked child; print wall time and the child's peak RSS."""
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # child
        os.close(read_fd)
        t = time.perf_counter()
        try:
            fn()
            code = 0
        except BaseException as exc:  # pragma: no cover - reported by the parent
            print(f"{label}: failed: {exc!r}", file=sys.stderr)
            code = 1
        os.write(write_fd, f"{time.perf_counter() - t:.6f}".encode())
        os._exit(code)
    os.close(write_fd)
    elapsed = float(os.read(read_fd, 64) or b"nan")
    os.close(read_fd)
    _, status, usage = os.wait4(pid, 0)
    peak_mb = usage.ru_maxrss / 1024  # KiB on Linux
    ok = "" if os.waitstatus_to_exitcode(status) == 0 else "  FAILED"
    print(f"{label:<44} {elapsed:7.2f} s   peak {peak_mb:7.0f} MB{ok}")
    return elapsed


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--workdir", type=Path, default=Path("/tmp/maillon-bench"))
    args = ap.parse_args(argv)
    args.workdir.mkdir(parents=True, exist_ok=True)
    user = args.workdir / f"user-{args.rows}.xlsx"
    rendered = args.workdir / f"rendered-{args.rows}.xlsx"
    out1 = args.workdir / f"out1-{args.rows}.xlsx"
    out2 = args.workdir / f"out2-{args.rows}.xlsx"
    for path, build in ((user, build_user), (rendered, build_rendered)):
        if not path.exists():
            t = time.perf_counter()
            build(path, args.rows)
            print(f"built {path.name} with XlsxWriter in {time.perf_counter() - t:.1f} s "
                  f"({path.stat().st_size / 1e6:.1f} MB)")
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPU(s), rows={args.rows}")
    measured("check_package(user, verify_data=True)", lambda: check_package(user))
    measured("check_package(user, verify_data=False)",
             lambda: check_package(user, verify_data=False))
    measured("read_tables(user, tblSettings+tblAccounts)",
             lambda: read_tables(user, ["tblSettings", "tblAccounts"]))
    measured("graft Target List into user (first time)",
             lambda: graft(user, rendered, out1, ["Target List"]))
    measured("graft again (recompute of a recomputed file)",
             lambda: graft(out1, rendered, out2, ["Target List"]))
    measured("read_tables(grafted, tblTargets)", lambda: read_tables(out2, ["tblTargets"]))
    print(f"sizes: user {user.stat().st_size / 1e6:.1f} MB, rendered "
          f"{rendered.stat().st_size / 1e6:.1f} MB, grafted {out2.stat().st_size / 1e6:.1f} MB; "
          f"this process peak {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
