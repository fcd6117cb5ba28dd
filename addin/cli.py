"""The ``maillon`` command line.

``maillon new``, ``maillon demo``, ``maillon recompute``, ``maillon merge``,
``maillon diff``, ``maillon validate``
and ``maillon addin install``. Every command has ``--help``; exit code 0 on
success, 1 on bad input with one clear message and no traceback.
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from pathlib import Path

from maillon import __version__
from maillon.engine.errors import InputError

from maillon.addin.ooxml.safe_io import WorkbookError
from maillon.addin.filemode.files import refuse_if_open, temp_path_beside

EXIT_OK, EXIT_BAD_INPUT = 0, 1


class Progress:
    """A one-line progress display on stderr, with the elapsed time of each step."""

    def __init__(self, quiet: bool = False):
        self.quiet = quiet
        self.start = time.perf_counter()
        self.tty = sys.stderr is not None and sys.stderr.isatty()

    def __call__(self, message: str) -> None:
        if self.quiet or sys.stderr is None:
            return
        elapsed = time.perf_counter() - self.start
        line = f"[{elapsed:5.1f}s] {message}…"
        try:
            sys.stderr.write("\r\033[K" + line if self.tty else line + "\n")
            sys.stderr.flush()
        except (OSError, ValueError):  # nowhere to show progress: go on without it
            self.quiet = True

    def done(self) -> None:
        if self.tty and not self.quiet:
            _err("\r\033[K")


def _summary(outcome, headline: str | None = None) -> str:
    k = outcome.result.key_figures
    lines = [
        headline or f"Recomputed {outcome.path} in {outcome.seconds:.1f} s",
        f"  accounts   {k['Accounts']:>8,}  "
        f"({k['Customers']:,} customers, {k['Prospects']:,} prospects)",
        f"  segments   {k['Segments']:>8}",
        f"  P1         {k['P1 accounts']:>8,}  "
        f"(P2 {k['P2 accounts']:,}, P3 {k['P3 accounts']:,}, excluded {k['Excluded']:,})",
        f"  conflicts  {k['Conflicts']:>8,}",
        f"  agreement  {k['Agreement']:>8.0%}",
        f"  actions    {k['Planned actions']:>8,}",
    ]
    if outcome.backup:
        lines.append(f"  previous file kept as {outcome.backup}")
    for w in outcome.result.warnings:
        lines.append(f"  note: {w}")
    return "\n".join(lines)


def cmd_new(args) -> int:
    from maillon.workbook_templates import template_path

    out = Path(args.path)
    if out.suffix.lower() != ".xlsx":
        raise WorkbookError(f"{out}: a new workbook must end in .xlsx")
    if out.exists() and not args.force:
        raise WorkbookError(f"{out} already exists; choose another name or pass --force")
    out.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(template_path(), out)
    _say(f"Created {out}: fill the Accounts sheet, then run `maillon recompute {out}` "
         f"or click Recompute segments in Excel.")
    return EXIT_OK


def cmd_demo(args) -> int:
    from maillon.workbook_templates.build import build_demo

    from maillon.addin.filemode.recompute import recompute_file

    out = Path(args.path)
    if out.suffix.lower() != ".xlsx":
        raise WorkbookError(f"{out}: the demo workbook must end in .xlsx")
    progress = Progress(args.quiet)
    progress(f"Building a demo portfolio of {args.accounts:,} accounts")
    out.parent.mkdir(parents=True, exist_ok=True)
    refuse_if_open(out)
    portfolio = temp_path_beside(out)
    try:
        build_demo(portfolio, n_accounts=args.accounts, seed=args.seed)
        outcome = recompute_file(portfolio, out, progress=progress)
    finally:
        portfolio.unlink(missing_ok=True)
    progress.done()
    _say(_summary(outcome, f"Demo workbook written to {out.resolve()} "
                           f"(recomputed in {outcome.seconds:.1f} s)")
         + "\nOpen it in Excel, LibreOffice or Gnumeric: start with the Dashboard and the "
           "Target List sheets.")
    return EXIT_OK


def cmd_recompute(args) -> int:
    from maillon.addin.filemode.recompute import recompute_with_decisions

    progress = Progress(args.quiet)
    outcome = recompute_with_decisions(Path(args.path), Path(args.out) if args.out else None,
                                       progress)
    progress.done()
    _say(_summary(outcome))
    return EXIT_OK


def recompute_summary(outcome, headline: str | None = None) -> str:
    """What ``maillon recompute`` prints."""
    return _summary(outcome, headline)


def _entry_lines(entries, labels=None, limit: int = 200) -> list[str]:
    from maillon.engine.meaning import display

    lines, sheet = [], None
    for e in entries[:limit]:
        if e.sheet != sheet:
            sheet = e.sheet
            lines.append(f"  {sheet}")
        what = f"{e.key}" + (f" ({e.name})" if e.name and e.name != e.key else "")
        if labels:
            vals = "; ".join(f"{lab}: {display(v)}" for lab, v, ch in
                             zip(labels, e.values, e.changed) if ch or e.kind == "Conflict")
        else:
            vals = display(e.values[-1])
        if e.column == "(row)":
            lines.append(f"    {e.kind:<18} {what}" + (f"  [{vals}]" if labels else ""))
        else:
            lines.append(f"    {e.kind:<18} {what} · {e.column}: {display(e.base)} -> {vals}")
    if len(entries) > limit:
        lines.append(f"  … and {len(entries) - limit:,} more (all of them on the Merge sheet)")
    return lines


def cmd_merge(args) -> int:
    from maillon.addin.filemode.merge import merge_files

    progress = Progress(args.quiet)
    report = merge_files(Path(args.path), [Path(c) for c in args.copies],
                         Path(args.out) if args.out else None,
                         base_path=Path(args.base) if args.base else None,
                         dry_run=args.dry_run, recompute=not args.no_recompute,
                         progress=progress)
    progress.done()
    _say(merge_summary(report, args.out or args.path, args.dry_run))
    return EXIT_OK


def merge_summary(report, target, dry_run: bool = False, limit: int = 200,
                  next_step: str = "run `maillon recompute` or merge again") -> str:
    """What ``maillon merge`` prints (and the Merge copies… button shows): the counts, who
    sent what, the changes and conflicts (at most ``limit`` lines of them), and the notes."""
    from maillon.addin.filemode.merge import counted

    sides = [report.team] + report.copies
    labels = [s.label for s in sides]
    head = ("Dry run: nothing was written. " if dry_run else "") + \
        f"Merged {counted(len(report.copies), 'copy')} into " \
        f"{target}: {counted(report.changes, 'change')}, " \
        f"{counted(report.conflicts, 'conflict')}, " \
        f"{counted(report.missing, 'missing row')} to confirm"
    if report.decisions:
        head += f", {counted(report.decisions, 'decision')} applied"
    lines = [head]
    for s in sides:
        who = ", ".join(x for x in (s.modified_by, s.modified) if x)
        lines.append(f"  {s.label}: {s.path.name}" + (f" ({who})" if who else "")
                     + f", from {s.describe_run()}")
    lines += _entry_lines(report.entries, labels, limit=limit)
    lines += [f"  note: {n}" for n in report.notes]
    if report.conflicts and not dry_run:
        lines.append(f"Decide each conflict on the Merge sheet (column Decision), then "
                     f"{next_step}: the decisions are applied then.")
    if report.outcome is not None and report.outcome.backup:
        lines.append(f"  previous file kept as {report.outcome.backup}")
    return "\n".join(lines)


def cmd_diff(args) -> int:
    from maillon.addin.filemode.merge import diff_files

    progress = Progress(args.quiet)
    entries = diff_files(Path(args.a), Path(args.b), progress)
    progress.done()
    if not entries:
        _say(f"No change from {args.a} to {args.b} in the tables Maillon merges.")
        return EXIT_OK
    _say("\n".join([f"{len(entries):,} changes from {args.a} to {args.b}:"]
                   + _entry_lines(entries, limit=args.limit)))
    return EXIT_OK


def cmd_validate(args) -> int:
    from maillon.addin.filemode.recompute import validate_file

    progress = Progress(args.quiet)
    warnings = validate_file(Path(args.path), progress)
    progress.done()
    _say("\n".join([f"{args.path}: OK, ready to recompute."]
                    + [f"  note: {w}" for w in warnings]))
    return EXIT_OK


def import_summary(s, dry_run: bool = False,
                   confirm_how: str = "then import again; or pass --yes") -> str:
    """What ``maillon import`` prints (and the Import… button shows)."""
    if dry_run:
        head = "Dry run: nothing was written"
    elif s.to_confirm:
        head = "Nothing imported yet: the mapping was written to the Import Mapping sheet"
    else:
        head = f"Imported {len(s.files)} file(s) in {s.seconds:.1f} s"
    lines = [head]
    lines += [f"  rows read      {s.rows_read:>8,}",
              f"  new            {s.new:>8,}",
              f"  matched        {s.matched:>8,}",
              f"  to review      {s.to_review:>8,}  (probable duplicates, held on Import Review)",
              f"  values differ  {s.values_differ:>8,}  (not overwritten, listed on Import Review)",
              f"  unmapped       {len(s.unmapped):>8,}  columns"]
    for d, n in s.decisions.items():
        lines.append(f"  decisions applied: {d} × {n}")
    lines += [f"    {u}" for u in s.unmapped]
    if s.to_confirm:
        lines.append("  columns that need your confirmation (Import Mapping sheet: type Yes in "
                     f"Confirmed or change Maps to, {confirm_how}):")
        lines += [f"    {c}" for c in s.to_confirm]
    lines += [f"  guess: {g}" for g in s.guesses]
    lines += [f"  note: {n}" for n in s.notes]
    if s.backup:
        lines.append(f"  previous file kept as {s.backup}")
    return "\n".join(lines)


def cmd_import(args) -> int:
    from maillon.addin.filemode.importing import import_files

    progress = Progress(args.quiet)
    summary = import_files(Path(args.path), [Path(f) for f in args.files], source=args.source,
                           profile=args.profile, into=args.into, dry_run=args.dry_run,
                           accept=args.yes, out=Path(args.out) if args.out else None,
                           progress=progress)
    progress.done()
    _say(import_summary(summary, args.dry_run))
    return EXIT_BAD_INPUT if summary.to_confirm and not args.dry_run else EXIT_OK


def cmd_addin_install(args) -> int:
    from maillon.addin.excel_addin.install import install_addin

    return install_addin()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="maillon",
        description="Marketing segments and the sales ABC matrix, reconciled in one workbook.")
    parser.add_argument("--version", action="version", version=f"maillon {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("new", help="create a workbook from the template",
                       description="Create a new Maillon workbook from the template.")
    p.add_argument("path", help="the .xlsx file to create")
    p.add_argument("--force", action="store_true", help="overwrite an existing file")
    p.set_defaults(func=cmd_new)

    p = sub.add_parser("demo", help="build and recompute a demo workbook",
                       description="Write a workbook with a realistic French B2B portfolio "
                                   "and recompute it.")
    p.add_argument("path", nargs="?", default="maillon-demo.xlsx",
                   help="where to write it (default: maillon-demo.xlsx)")
    p.add_argument("--accounts", type=int, default=2000, help="number of accounts (default 2000)")
    p.add_argument("--seed", type=int, default=7, help="random seed of the portfolio")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress display")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("recompute", help="recompute the engine-owned sheets of a workbook",
                       description="Read the user-owned tables, recompute segments, ABC "
                                   "matrix, reconciliation, target list and plan, and write "
                                   "them back. Only the engine-owned sheets change; the "
                                   "previous file is kept as a backup.")
    p.add_argument("path", help="the workbook (.xlsx or .xlsm)")
    p.add_argument("--out", help="write the result to this file instead of in place")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress display")
    p.set_defaults(func=cmd_recompute)

    p = sub.add_parser("merge", help="merge emailed copies into the team workbook",
                       description="Merge copies of the workbook (as they come back by email) "
                                   "into the team workbook, three-way against the recompute "
                                   "they were sent from: rows by key, cells by meaning; "
                                   "conflicts are listed on the Merge sheet with a Decision "
                                   "column. The copies are never modified.")
    p.add_argument("path", help="the team workbook (.xlsx or .xlsm)")
    p.add_argument("copies", nargs="+", metavar="COPY", help="the copies to merge into it")
    p.add_argument("--out", help="write the result to this file instead of in place")
    p.add_argument("--base", metavar="SENT.xlsx",
                   help="the workbook as it was sent, to merge against (when the copies' "
                        "own record of it is lost)")
    p.add_argument("--dry-run", action="store_true", help="print what would change; write nothing")
    p.add_argument("--no-recompute", action="store_true",
                   help="write the merged tables without recomputing")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress display")
    p.set_defaults(func=cmd_merge)

    p = sub.add_parser("diff", help="what changed between two versions of a workbook",
                       description="List, by sheet, key and column, what changed from A to B "
                                   "in the tables Maillon merges. Writes nothing.")
    p.add_argument("a", metavar="A.xlsx", help="the earlier version")
    p.add_argument("b", metavar="B.xlsx", help="the later version")
    p.add_argument("--limit", type=int, default=500, help="lines to print at most (default 500)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress display")
    p.set_defaults(func=cmd_diff)

    p = sub.add_parser("validate", help="check a workbook without writing",
                       description="Report every problem in the user-owned tables; "
                                   "writes nothing.")
    p.add_argument("path", help="the workbook (.xlsx or .xlsm)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress display")
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("import", help="import CRM, marketing or SIRENE exports into the workbook",
                       description="Add the rows of CSV or XLSX exports (Salesforce, HubSpot, "
                                   "Dynamics, Pipedrive, SIRENE, or any table) to tblAccounts: "
                                   "columns mapped (kept on the Import Mapping sheet), French "
                                   "numbers and dates read, companies already listed matched "
                                   "on exact identifiers; probable duplicates are held on the "
                                   "Import Review sheet until you decide.")
    p.add_argument("path", help="the workbook (.xlsx or .xlsm)")
    p.add_argument("files", nargs="+", metavar="FILE", help="the exports (.csv, .txt, .xlsx)")
    p.add_argument("--source", help="name of the source, for the Import Mapping sheet "
                                    "(default: the export detected, or the file name)")
    p.add_argument("--profile", default="auto",
                   choices=["auto", "salesforce", "hubspot", "dynamics", "pipedrive", "sirene",
                            "generic"], help="the kind of export (default: auto)")
    p.add_argument("--into", default="accounts", choices=["accounts", "feedback", "needs"],
                   help="accounts (default), feedback (meetings appended to tblFeedback) or "
                        "needs (a survey's answers, 1-5 or words such as Très important, "
                        "into the Need: columns of the accounts it names)")
    p.add_argument("--dry-run", action="store_true",
                   help="write nothing; print rows read, new, matched, to review, unmapped")
    p.add_argument("--yes", action="store_true",
                   help="accept the proposed mapping of ambiguous columns")
    p.add_argument("--out", help="write the result to this file instead of in place")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress display")
    p.set_defaults(func=cmd_import)

    p = sub.add_parser("addin", help="the Excel add-in",
                       description="Manage the Excel add-in (Windows and macOS).")
    addin_sub = p.add_subparsers(dest="addin_command", required=True, metavar="ACTION")
    q = addin_sub.add_parser("install", help="install the add-in for the current user",
                             description="Install the Maillon add-ins (maillon.xlam, "
                                         "maillon_merge.xlam, maillon_import.xlam: the "
                                         "Recompute segments, Merge copies… and Import… "
                                         "buttons of one Maillon tab) into Excel and point "
                                         "them at this Python.")
    q.set_defaults(func=cmd_addin_install)
    return parser


class OutputClosed(Exception):
    """stdout cannot be written (closed, a full disk, a pipe whose reader left)."""


def _say(text: str) -> None:
    """Print to stdout; a stdout that cannot be written becomes :class:`OutputClosed`."""
    if sys.stdout is None:  # started with stdout closed
        return
    try:
        print(text)
        sys.stdout.flush()
    except (OSError, ValueError) as exc:
        raise OutputClosed(getattr(exc, "strerror", None) or str(exc)) from None


def _err(text: str) -> None:
    if sys.stderr is None:
        return
    try:
        sys.stderr.write(text)
        sys.stderr.flush()
    except (OSError, ValueError):
        pass


def _silence_stdout() -> None:
    """After a failed write, point stdout at the null device so that the
    interpreter's last flush at exit does not print a traceback."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):
        pass
    sys.stdout = None


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (InputError, WorkbookError) as exc:
        tty = sys.stderr is not None and sys.stderr.isatty()
        _err(("\n" if tty else "") + f"maillon: {exc}\n")
        return EXIT_BAD_INPUT
    except OutputClosed as exc:
        _silence_stdout()
        done = {"recompute": f"{getattr(args, 'path', '')} was recomputed and saved, but its "
                             f"summary",
                "validate": f"{getattr(args, 'path', '')} was checked, but the result",
                "import": f"{getattr(args, 'path', '')} was imported into, but the summary",
                "demo": "the demo workbook was written, but its summary",
                "new": "the workbook was created, but the message"}.get(
            args.command, "the command ran, but its output")
        _err(f"maillon: {done} could not be printed (standard output: {exc}).\n")
        return EXIT_BAD_INPUT
    except OSError as exc:  # what the file mode did not foresee, still one sentence
        where = Path(exc.filename).name if getattr(exc, "filename", None) else "a file"
        _err(f"maillon: {where}: {exc.strerror or exc}; the workbook was not changed.\n")
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        _err("maillon: interrupted; the workbook was not changed\n")
        return 130
    except Exception as exc:  # a bug: one message, never a traceback (MAILLON_DEBUG=1 shows it)
        if os.environ.get("MAILLON_DEBUG"):
            raise
        _err(f"maillon: internal error ({type(exc).__name__}: {exc}); the workbook was not "
             f"changed. Please report it (MAILLON_DEBUG=1 shows the details).\n")
        return 2


if __name__ == "__main__":
    sys.exit(main())
