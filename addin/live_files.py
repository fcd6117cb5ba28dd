"""The ribbon buttons that run the file mode on the workbook open in Excel.

**Merge copies…** and **Import…** run exactly what ``maillon merge`` and
``maillon import`` run (:func:`~maillon.addin.filemode.merge.merge_files`,
:func:`~maillon.addin.filemode.importing.import_files`), and **Recompute
segments** takes the same road when decisions are typed on the Merge or Import
Review sheet (``maillon recompute`` applies them; the live recompute does not
know how). This module is where live mode and file mode meet: ``live`` itself
never imports the file mode, so the bridge sits beside ``cli.py``.

The road, for every button:

1. refuse, with one message and nothing changed, a workbook that was never
   saved, that lives at a URL (OneDrive, SharePoint), that is not .xlsx/.xlsm
   or is open read-only (:func:`~maillon.addin.live.dialogs.saved_path`), or
   that another Maillon run holds (the live recompute's lock,
   :func:`~maillon.addin.live.ribbon.run_locked`);
2. ask for the files in Excel's open dialog (cancel: nothing happens, no
   message), then confirm what will happen (OK / Cancel);
3. save the workbook (so that nothing typed since the last save is lost),
   close it, run the file-mode function on its path -- atomic save, backup,
   the lock files of the file mode, the Merge / Import Review sheets -- and open
   it again with ``app.books.open``;
4. one message: the summary the command line prints, or what went wrong (the
   file is then exactly as Excel saved it, and open again), what to do, and the
   log file of unexpected errors. Never a traceback.
"""
from __future__ import annotations

import time
from pathlib import Path

from maillon.engine.errors import InputError

import maillon.addin.live.ribbon as ribbon
from maillon.addin.live.dialogs import (Refused, ask_files, ask_yes_no_cancel, confirm,
                                        saved_path)

BUTTON_MERGE = "Merge copies…"
BUTTON_IMPORT = "Import…"
BUTTON_RECOMPUTE = "Recompute segments"
#: Lines of changes and conflicts shown in the message box (all of them are on the Merge sheet).
MAX_ENTRIES_SHOWN = 12
INTO_LABELS = {"accounts": "Accounts (tblAccounts)",
               "feedback": "Field Feedback (tblFeedback), as meetings",
               "needs": "the Need: columns of Accounts, as survey answers"}


# --- entry points (maillon.start calls them) ------------------------------------------------
def merge_main() -> int:
    """**Merge copies…**: merge the copies the user picks into ``xw.Book.caller()``."""
    return _main(run_merge, BUTTON_MERGE)


def import_main() -> int:
    """**Import…**: import the exports the user picks into ``xw.Book.caller()``."""
    return _main(run_import, BUTTON_IMPORT)


def recompute_main() -> int:
    """**Recompute segments**: the live recompute, or -- when decisions are typed on the Merge
    or Import Review sheet -- the file-mode recompute that applies them first."""
    import xlwings as xw

    try:
        book = xw.Book.caller()
    except Exception:
        return ribbon.main()  # it tells the user that no workbook could be reached
    try:
        pending = pending_decisions(book)
    except Exception:  # the recompute reads the workbook and says what is wrong with it
        pending = {}
    if not pending:
        return ribbon.main(route=route_formatting)
    return ribbon.run_locked(book, lambda b: run_decisions(b, pending), ribbon.BUSY_MESSAGE,
                             _crash_message(BUTTON_RECOMPUTE))


def _main(action, button: str) -> int:
    import xlwings as xw

    try:
        book = xw.Book.caller()
    except Exception as exc:
        from maillon import tell_user

        log = ribbon._log_unexpected()
        return tell_user(
            f"Maillon found no workbook to work on: {button} runs when you click it on the "
            f"Maillon tab in Excel, and Excel's workbook could not be reached ({exc}). Nothing "
            "in any workbook was changed.\nWhat to do: open the team workbook in Excel and "
            f"click {button} again; without Excel, use the command line: maillon merge / "
            "maillon import." + (f"\n{log}" if log else ""))
    return ribbon.run_locked(book, action, ribbon.BUSY_ANY_MESSAGE, _crash_message(button))


def _crash_message(button: str) -> str:
    return (f"Maillon stopped unexpectedly at the end of {button}. The workbook file is either "
            "as Excel saved it or fully written (the file mode replaces it in one step).\n\n"
            "What to do: if the workbook is not open, open it from File > Open Recent; if "
            "this message comes back, send the details file to support.")


# --- Merge copies… ----------------------------------------------------------------------------
def run_merge(book, platform: str | None = None) -> int:
    """Merge the copies the user picks into ``book``; returns 0 when merged (or cancelled)."""
    from maillon.addin.cli import merge_summary
    from maillon.addin.filemode.merge import merge_files

    app = book.app
    path = _path_or_tell(book, BUTTON_MERGE, platform)
    if path is None:
        return 1
    copies = ask_files(app, f"Maillon: choose the copies to merge into {path.name}", "merge",
                       platform)
    if not copies:
        return 0
    itself = [c for c in copies if _same_file(c, path)]
    if itself:
        ribbon._alert(app, f"You chose {path.name} itself among the copies. Nothing was "
                           "changed.\n\nWhat to do: click Merge copies… again and choose the "
                           "copies that came back (such as team (Claire).xlsx), not the team "
                           "workbook.", critical=True)
        return 1
    shown = "\n".join(f"  {c.name}" for c in copies[:10]) + \
        (f"\n  … and {len(copies) - 10} more" if len(copies) > 10 else "")
    n = len(copies)
    if not confirm(app, f"Merge {n} cop{'y' if n == 1 else 'ies'} into {path.name}?\n\n{shown}"
                        f"\n\nMaillon will save {path.name}, close it, merge the copies into "
                        "it and recompute it (as 'maillon merge' does), then open it again. "
                        "The previous version is kept as a backup; the copies are not "
                        "changed."):
        return 0

    def work(target, progress):
        return merge_files(target, copies, progress=progress)

    def summary(report, seconds):
        return (f"Merge done in {seconds:.1f} s.\n"
                + merge_summary(report, path.name, limit=MAX_ENTRIES_SHOWN,
                                next_step="click Recompute segments (or Merge copies… again)"))

    return through_file(book, path, work, summary, "merged", BUTTON_MERGE)


def _same_file(a: Path, b: Path) -> bool:
    try:
        return Path(a).resolve() == Path(b).resolve() or Path(a).samefile(b)
    except OSError:
        return False


# --- Import… ----------------------------------------------------------------------------------
def run_import(book, platform: str | None = None) -> int:
    """Import the exports the user picks into ``book``; returns 0 when imported (or cancelled)."""
    from maillon.addin.cli import import_summary
    from maillon.addin.filemode.importing import import_files
    from maillon.addin.ooxml.safe_io import WorkbookError

    app = book.app
    path = _path_or_tell(book, BUTTON_IMPORT, platform)
    if path is None:
        return 1
    files = ask_files(app, f"Maillon: choose the exports to import into {path.name}", "import",
                      platform)
    if not files:
        return 0
    try:
        into, why = guess_target(files, expectations_of(book))
    except (WorkbookError, InputError) as exc:  # unreadable export: the workbook is untouched
        ribbon._alert(app, f"{_problem_text(exc)}\n\nThe workbook was not changed (and not "
                           "saved).\n\nWhat to do: export the file again as CSV or XLSX, "
                           "then click Import… again.", critical=True)
        return 1
    except Refused as exc:
        ribbon._alert(app, str(exc), critical=True)
        return 1
    names = "\n".join(f"  {f.name}" for f in files[:10]) + \
        (f"\n  … and {len(files) - 10} more" if len(files) > 10 else "")
    road = (f"Maillon will save {path.name}, close it, import the file(s) into it (as "
            "'maillon import' does) and open it again; the previous version is kept as a "
            "backup. Probable duplicates wait on the Import Review sheet for your decision.")
    if into == "accounts":
        if not confirm(app, f"Import into {INTO_LABELS[into]}?\n\n{names}\n\n{road}"):
            return 0
    else:
        answer = ask_yes_no_cancel(
            app, f"These look like {why}.\n\n{names}\n\nYes: add them to "
                 f"{INTO_LABELS[into]}.\nNo: import them as accounts instead.\nCancel: "
                 f"nothing is changed.\n\n{road}")
        if answer == "cancel":
            return 0
        into = into if answer == "yes" else "accounts"

    def work(target, progress):
        return import_files(target, files, into=into, progress=progress)

    def summary(s, seconds):
        text = import_summary(s, confirm_how="then click Import… again")
        if s.written and not s.to_confirm:
            text += ("\nThe engine sheets are not recomputed yet: click Recompute segments "
                     "when the Import Review sheet is decided (or now).")
        return text

    return through_file(book, path, work, summary, "imported", BUTTON_IMPORT)


def guess_target(files, expectations=()) -> tuple[str, str]:
    """What the exports are -- accounts, meetings (feedback) or survey answers (needs) -- from
    their headers; :class:`Refused` when they are of different kinds (one import takes one)."""
    from maillon.addin.filemode.importing import read_export
    from maillon.engine.importing.mapping import guess_into

    kinds = {}
    for f in files:
        kinds[Path(f).name] = guess_into(read_export(f).headers, tuple(expectations))
    found = {k for k, _ in kinds.values()}
    if len(found) > 1:
        listed = "\n".join(f"  {name}: {why}" for name, (_, why) in kinds.items())
        raise Refused("These files are of different kinds, and one import takes one kind:\n"
                      f"{listed}\n\nNothing was changed.\n\nWhat to do: click Import… once "
                      "per kind of file.")
    into, why = next(iter(kinds.values()))
    return into, why


def expectations_of(book) -> tuple[str, ...]:
    """The Expectation column of ``tblExpectations`` in the open workbook (() if none)."""
    from maillon.engine import contract as C

    try:
        rows = _table_rows(book, C.TBL_EXPECTATIONS)
    except Exception:
        return ()
    return tuple(str(r.get("Expectation")).strip() for r in rows
                 if r.get("Expectation") not in (None, ""))


# --- Recompute segments with decisions typed ------------------------------------------------------
def pending_decisions(book) -> dict[str, int]:
    """``{sheet: count}`` of the decisions typed and not applied yet, read from the open
    workbook: tblMerge rows with a Decision and no Applied date (what ``maillon recompute``
    applies), tblImportReview rows with a Decision. Two sheet names read when neither sheet
    exists."""
    from maillon.engine import contract as C
    from maillon.engine.cells import is_blank

    names = {str(n).casefold() for n in book.sheet_names}
    if C.SHEET_MERGE.casefold() not in names and C.SHEET_IMPORT_REVIEW.casefold() not in names:
        return {}
    import pandas as pd

    from maillon.addin.filemode.merge import decided
    from maillon.addin.live.book import survey

    found = survey(book)
    out = {}
    merge = _table_rows(book, C.TBL_MERGE, found)
    if merge:
        n = len(decided(pd.DataFrame(merge, dtype=object)))
        if n:
            out[C.SHEET_MERGE] = n
    review = _table_rows(book, C.TBL_IMPORT_REVIEW, found)
    n = sum(not is_blank(r.get("Decision")) and str(r.get("Decision")).strip() != ""
            for r in review)
    if n:
        out[C.SHEET_IMPORT_REVIEW] = n
    return out


def run_decisions(book, pending: dict[str, int], platform: str | None = None) -> int:
    """Apply the decisions typed in ``book`` and recompute it, through its file."""
    from maillon.addin.cli import recompute_summary
    from maillon.addin.filemode.recompute import recompute_with_decisions

    app = book.app
    path = _path_or_tell(book, BUTTON_RECOMPUTE, platform)
    if path is None:
        return 1
    typed = " and ".join(f"{n} on the {sheet} sheet" for sheet, n in pending.items())
    if not confirm(app, f"Decisions are typed in {path.name}: {typed}.\n\nTo apply them, "
                        f"Maillon will save {path.name}, close it, apply the decisions and "
                        "recompute it (as 'maillon recompute' does), then open it again. The "
                        "previous version is kept as a backup.\n\nCancel changes nothing."):
        return 0

    def work(target, progress):
        return recompute_with_decisions(target, None, progress)

    def summary(outcome, seconds):
        return recompute_summary(outcome, f"Recompute done in {seconds:.1f} s, with the "
                                          f"decisions typed ({typed}) applied.")

    return through_file(book, path, work, summary, "recomputed", BUTTON_RECOMPUTE)


# --- Recompute segments when formatting in Excel would be slow -----------------------------------
def route_formatting(book, ahead, fresh: bool, platform: str | None = None):
    """The live recompute's ``route`` (:func:`~maillon.addin.live.ribbon.run`): a recompute
    whose formatting would be slow in Excel (``ahead``: a
    :class:`~maillon.addin.live.write.Forecast`, a full pass or sheets whose layout changed)
    goes through the file, as ``maillon recompute`` -- which renders the same sheets and
    records their layout, so the next click is a quick one again.

    A workbook that has a previous result asks first (Yes: through the file; No: in Excel,
    slower; Cancel: nothing); one fresh from ``maillon new`` (``fresh``: never recomputed)
    does not: its first recompute always formats every sheet. Returns the exit code when it
    took the recompute (or the user cancelled), None to recompute in Excel, or -- for a
    workbook the file mode cannot take (never saved, on the web, read-only, not
    .xlsx/.xlsm) -- a note for the closing message saying why the recompute took longer."""
    from maillon.addin.cli import recompute_summary
    from maillon.addin.filemode.recompute import recompute_file

    app = book.app
    n = len(ahead.sheets)
    listed = ", ".join(ahead.sheets[:8]) + (f" and {n - 8} more" if n > 8 else "")
    laid = f"{n} sheet{'s' if n != 1 else ''} ({listed})"
    try:
        path = saved_path(book, BUTTON_RECOMPUTE, platform)
    except Refused as exc:
        why = str(exc).split(" Nothing was changed")[0].strip()
        return (f"This recompute formatted {laid} in Excel, which takes longer. For a "
                "workbook saved as .xlsx or .xlsm on this computer, Maillon does that through "
                f"the file, in seconds; here it could not: {why}")
    if not fresh:
        why = ("their layout changed (for example the number of segments)" if ahead.recorded
               else "the workbook does not say how an earlier recompute formatted them")
        answer = ask_yes_no_cancel(
            app, f"This recompute has to format {laid} again: {why}. In Excel that is "
                 "slow (it can take a minute); through the file it takes seconds.\n\n"
                 f"Yes: save {path.name}, recompute the file (as 'maillon recompute' does) "
                 "and open it again. The previous version is kept as a backup.\n"
                 "No: recompute in Excel, without saving (slower).\n"
                 "Cancel: nothing is changed.")
        if answer == "cancel":
            ribbon._finish(app, None)
            return 0
        if answer == "no":
            return None

    def work(target, progress):
        return recompute_file(target, None, progress)

    def summary(outcome, seconds):
        saved = ("Maillon saved it first (nothing you typed is lost), " if fresh
                 else "Maillon saved it, ")
        return recompute_summary(
            outcome, f"Recompute done in {seconds:.1f} s, through the file: {path.name} had "
                     f"{laid} to format, which is quicker in the file than in Excel. "
                     f"{saved}recomputed it as 'maillon recompute' does and opened it again; "
                     "the next recompute works in Excel.")

    return through_file(book, path, work, summary, "recomputed", BUTTON_RECOMPUTE)


# --- the road through the file ----------------------------------------------------------------
def through_file(book, path: Path, work, summary, done: str, button: str) -> int:
    """Save and close ``book``, run ``work(path, progress)``, open the workbook again, and
    show one message: ``summary(result, seconds)``, or what went wrong."""
    from maillon.addin.ooxml.safe_io import WorkbookError

    app = book.app
    name = path.name
    try:
        _status(app, f"saving {name}")
        book.save()
    except Exception as exc:
        ribbon._finish(app, None)
        ribbon._alert(app, f"Maillon could not save {name} ({type(exc).__name__}: {exc}), so "
                           f"nothing was {done}: the workbook is open as it was.\n\nWhat to "
                           f"do: save it yourself (File > Save) and click {button} again.",
                      critical=True)
        return 1
    try:
        book.close()
    except Exception as exc:
        ribbon._finish(app, None)
        ribbon._alert(app, f"{name} was saved, but Maillon could not close it "
                           f"({type(exc).__name__}: {exc}), so nothing was {done}.\n\nWhat to "
                           f"do: close the other dialogs of Excel and click {button} again.",
                      critical=True)
        return 1
    started = time.perf_counter()
    result, problem = None, None
    try:
        result = work(path, lambda m: _status(app, m))
    except InputError as exc:
        problem = ribbon.input_error_message(exc).replace("Nothing was changed:",
                                                          f"Nothing was {done}:", 1)
    except WorkbookError as exc:
        problem = f"Nothing was {done}: {exc}"
    except OSError as exc:
        where = Path(exc.filename).name if getattr(exc, "filename", None) else "a file"
        problem = f"Nothing was {done}: {where}: {exc.strerror or exc}."
    except Exception as exc:
        log = ribbon._log_unexpected()
        problem = (f"Maillon stopped while the workbook was closed ({type(exc).__name__}: "
                   f"{exc}). Nothing was {done}: the file mode writes the workbook in one "
                   "step, so the file is as Excel saved it." + (f"\n\n{log}" if log else ""))
    seconds = time.perf_counter() - started
    ribbon._finish(app, None)
    reopened, reopen_error = _reopen(app, path)
    if problem is not None:
        text = problem + (f"\n\n{name} is open again, as you saved it." if reopened else "")
        text += ("\n\nWhat to do: fix what the message names, then click "
                 f"{button} again.")
    else:
        try:
            text = summary(result, seconds)
        except Exception:
            log = ribbon._log_unexpected()
            text = (f"{button}: done in {seconds:.1f} s, but its summary could not be shown."
                    + (f"\n\n{log}" if log else ""))
    if not reopened:
        text += (f"\n\nMaillon could not open {name} again ({reopen_error}): open it with "
                 f"File > Open ({path}).")
    ribbon._alert(app, text, critical=problem is not None)
    return 1 if problem is not None else 0


def _reopen(app, path: Path):
    try:
        return app.books.open(str(path)), None
    except Exception as exc:
        return None, f"{type(exc).__name__}: {exc}"


def _status(app, message: str) -> None:
    try:
        app.status_bar = f"Maillon: {message}..."
    except Exception:
        pass


def _path_or_tell(book, button: str, platform: str | None) -> Path | None:
    try:
        return saved_path(book, button, platform)
    except Refused as exc:
        ribbon._alert(book.app, str(exc), critical=True)
        return None


def _problem_text(exc) -> str:
    if isinstance(exc, InputError):
        return ribbon.input_error_message(exc)
    return str(exc)


def _table_rows(book, table: str, found=None) -> list[dict]:
    """The rows of one table of the open workbook as dicts (one Excel read for its values)."""
    from maillon.addin.live.book import survey

    info = (found if found is not None else survey(book)).tables.get(table.lower())
    if info is None:
        return []
    values = info.table.range.options(ndim=2).value or []
    if len(values) < 2:
        return []
    headers = [str(h) if h is not None else "" for h in values[0]]
    return [dict(zip(headers, row)) for row in values[1:]
            if any(v not in (None, "") for v in row)]
