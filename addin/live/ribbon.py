"""Live mode: recompute the workbook open in Excel, from the ribbon button.

The **Recompute segments** button of ``maillon.xlam`` runs
``import maillon; maillon.main()`` through xlwings' ``RunPython``; that calls
:func:`main` here, which works on ``xw.Book.caller()``:

1. read every table the engine needs with
   :func:`~maillon.addin.live.read.read_tables_live` -- one Excel call per
   table for its values -- into the same DataFrames as the file mode;
2. run the engine (bad input raises :class:`~maillon.engine.model.InputError`)
   and render the engine-owned sheets with ``layout``;
3. only then write them with :func:`~maillon.addin.live.write.write_specs_live`.

So bad input changes nothing in the workbook. :func:`main` runs one recompute
per workbook at a time (:class:`RunLock`): on macOS a second click during a run
starts a second Python, which is refused with a message. Progress shows in
Excel's status bar; the end is one message box: a short summary, or what went
wrong, what to do and in what state the workbook is. A Python traceback never
reaches the user: unexpected errors are written to
``~/.maillon/live-errors.log`` and summed up in the message box.
"""
from __future__ import annotations

import datetime as dt
import time
import traceback
from pathlib import Path

from maillon.engine.errors import InputError

from maillon.addin.engine_input import build_engine_input, current_user
from maillon.addin.live.book import survey
from maillon.addin.live.read import read_loose_live, read_tables_live
from maillon.addin.live.write import forecast, write_specs_live

TITLE = "Maillon"
MAX_PROBLEMS_SHOWN = 12
ERROR_LOG = Path.home() / ".maillon" / "live-errors.log"
#: Where :class:`RunLock` keeps one lock file per workbook.
LOCK_DIR = Path.home() / ".maillon" / "locks"


# --- the engine and the renderer, looked up at call time (tests may replace them) ------
def _recompute(inp):
    from maillon.engine.pipeline import recompute

    return recompute(inp)


def _layout(result):
    from maillon.addin.render.layout import kept_aside_note, layout

    specs = layout(result)
    note = kept_aside_note(result, specs)  # said in the closing message, as the CLI does
    if note:
        result.warnings.append(note)
    return specs


# --- messages -----------------------------------------------------------------------------
def input_error_message(error: InputError) -> str:
    """An InputError in a message box: the problems, at most a dozen of them."""
    problems = [str(p) for p in error.problems]
    head = (f"Nothing was changed: {len(problems)} problem(s) must be fixed first."
            if len(problems) != 1 else "Nothing was changed: one problem must be fixed first.")
    lines = [head, ""] + ["- " + p for p in problems[:MAX_PROBLEMS_SHOWN]]
    if len(problems) > MAX_PROBLEMS_SHOWN:
        lines.append(f"... and {len(problems) - MAX_PROBLEMS_SHOWN} more.")
    return "\n".join(lines)


def _log_unexpected() -> str:
    try:
        ERROR_LOG.parent.mkdir(parents=True, exist_ok=True)
        with ERROR_LOG.open("a", encoding="utf-8") as f:
            f.write(f"--- {dt.datetime.now():%Y-%m-%d %H:%M:%S}\n{traceback.format_exc()}\n")
        return f"Details for support: {ERROR_LOG}"
    except OSError:
        return ""


def _log_notes(notes: list) -> None:
    """Settings Excel refused, in the log file too (the message box is gone once closed)."""
    try:
        ERROR_LOG.parent.mkdir(parents=True, exist_ok=True)
        with ERROR_LOG.open("a", encoding="utf-8") as f:
            f.write(f"--- {dt.datetime.now():%Y-%m-%d %H:%M:%S} (recompute done)\n"
                    + "".join(f"{n}\n" for n in notes))
    except OSError:
        pass


def _alert(app, prompt: str, critical: bool = False) -> None:
    try:
        app.alert(prompt, title=TITLE, buttons="ok", mode="critical" if critical else "info")
    except Exception:  # Excel went away: nothing left to tell
        pass


# --- the recompute ---------------------------------------------------------------------------
def run(book, platform: str | None = None, route=None) -> int:
    """Recompute ``book`` (an ``xlwings.Book``) in place; returns 0 on success, 1 otherwise.

    Shows its outcome in exactly one message box and never raises.

    ``route(book, forecast, fresh, platform)``, when given, is asked -- after the engine ran
    and before anything is written -- what to do with a recompute whose formatting would be
    slow in Excel (:attr:`~maillon.addin.live.write.Forecast.slow`: a full pass, or sheets
    whose layout changed); ``fresh`` says the workbook was never recomputed. It returns the
    exit code when it did the recompute itself (through the file: ``live_files``), or None
    to go on here, or a note that the closing message adds (why it stayed in Excel).
    """
    app = book.app
    started = time.perf_counter()
    stage = "reading"
    restore = None
    slow_note = None
    try:
        app.status_bar = "Maillon: reading the workbook..."
        found = survey(book)  # sheets and tables, once for the read and the write
        tables, extra = read_tables_live(book, found=found, engine=app.engine.impl,
                                         platform=platform)
        run_at = dt.datetime.now().replace(microsecond=0)
        previous = _previous_layout(book, tables)
        loose = read_loose_live(book, tables, found=found, engine=app.engine.impl,
                                platform=platform)
        inp = build_engine_input(tables, plan_extra_rows=extra, run_by=current_user(),
                                 run_at=run_at, loose=loose)
        app.status_bar = "Maillon: computing segments, ABC matrix, targets and plan..."
        stage = "computing"
        result = _recompute(inp)
        specs = _layout(result)
        ahead = forecast(book, specs, previous, found, platform) if route is not None else None
    except Exception as exc:
        return _failed(app, restore, stage, exc)
    if ahead is not None and ahead.slow:  # nothing written yet: the file route may take it
        outcome = route(book, ahead, _last_run(tables) is None, platform)
        if isinstance(outcome, int):
            return outcome
        slow_note = outcome
    try:
        stage = "writing"
        restore = (app.screen_updating, app.calculation)
        app.screen_updating = False
        app.calculation = "manual"
        notes = write_specs_live(book, specs, platform=platform, found=found, app=app,
                                 previous=previous, stamp=_stamp(run_at),
                                 progress=lambda m: setattr(app, "status_bar", f"Maillon: {m}..."))
    except Exception as exc:
        return _failed(app, restore, stage, exc)
    _finish(app, restore)
    seconds = time.perf_counter() - started
    lines = [f"Recompute done in {seconds:.1f} s.", result.summary() + "."]
    warnings = list(getattr(result, "warnings", []) or [])
    if warnings:
        lines += ["", f"{len(warnings)} note(s):"] + ["- " + str(w) for w in warnings[:5]]
        if len(warnings) > 5:
            lines.append(f"... and {len(warnings) - 5} more (see the History sheet).")
    refused = [n for n in dict.fromkeys(notes) if "could not be applied" in n]
    missing = sorted(set(notes) - set(refused))
    if refused:
        lines += ["", "Excel refused some settings:"] + ["- " + n for n in refused[:5]]
        _log_notes(refused)
    if missing:
        lines += ["", "Not available in this version of Excel:"] + ["- " + n for n in
                                                                   missing[:5]]
    if slow_note:
        lines += ["", slow_note]
    _alert(app, "\n".join(lines))
    return 0


def _failed(app, restore, stage: str, exc: Exception) -> int:
    """The one message of a recompute that stopped ``stage`` ("reading", "computing",
    "writing"): the problems of bad input, else what happened and what to do."""
    _finish(app, restore)
    if isinstance(exc, InputError):
        _alert(app, input_error_message(exc), critical=True)
        return 1
    where = {"reading": "while reading the workbook; nothing was changed",
             "computing": "while computing; nothing was changed",
             "writing": ("while writing the result: some engine sheets may be half "
                         "rewritten. Close the workbook without saving to get the "
                         "previous version back")}[stage]
    todo = ("Close the workbook without saving, open it again and click Recompute "
            "segments once more" if stage == "writing" else
            "Click Recompute segments again; if the same message comes back, send it "
            "to support with the details file named below. Meanwhile the file mode gives the "
            "same result without Excel: maillon recompute team.xlsx")
    text = (f"Maillon stopped {where}.\n\n{type(exc).__name__}: {exc}\n\n"
            f"What to do: {todo}.")
    log = _log_unexpected()
    _alert(app, text + (f"\n\n{log}" if log else ""), critical=True)
    return 1


def _last_run(tables: dict):
    """The ``Run at`` of the last recompute in ``tblHistory``, None when there was none (a
    workbook fresh from ``maillon new``)."""
    from maillon.engine import contract as C

    history = tables.get(C.TBL_HISTORY)
    if history is None or not len(history) or "Run at" not in history.columns:
        return None
    return _stamp(history["Run at"].iloc[-1])


def _stamp(when) -> str | None:
    """A run's ``Run at`` as the layout record writes it (the file mode's record too)."""
    from maillon.addin.render.live_plan import run_stamp

    return run_stamp(when)


def _previous_layout(book, tables: dict) -> dict:
    """What the last recompute formatted, if its result is what the workbook holds: the
    layout record's stamp is the last run of ``tblHistory``. A live recompute writes the
    record, and so does a file-mode one (``maillon recompute``, ``maillon new``, a merge or
    an import that recomputes); a run that did not write one (an older Maillon) leaves a
    record whose stamp is no longer the last run, which then no longer counts."""
    from maillon.engine import contract as C
    from maillon.addin.live.write import read_layout_record

    history = tables.get(C.TBL_HISTORY)
    if history is None or not len(history) or "Run at" not in history.columns:
        return {}
    record = read_layout_record(book)
    if record is None:
        return {}
    stamp, digests = record
    return digests if stamp and stamp == _stamp(history["Run at"].iloc[-1]) else {}


def _finish(app, restore) -> None:
    try:
        if restore is not None:
            app.screen_updating, app.calculation = restore
        app.status_bar = False  # give the status bar back to Excel
    except Exception:
        pass


def _book_key(book) -> str:
    """The lock key of ``book``: its full name (path or URL), else its name."""
    for attr in ("fullname", "name"):
        try:
            value = getattr(book, attr)
        except Exception:
            continue
        if isinstance(value, str) and value:
            return value
    return "unknown workbook"


class RunLock:
    """One recompute at a time per workbook, across processes.

    On macOS, xlwings' ``RunPython`` does not wait for Python: the AppleScript
    that ``ExecuteMac`` calls starts the command in the background (the shell
    command ends in ``&``: ``xlwings/xlwings-0.37.8.applescript``, line
    ``set ShellCommand to ... 2>"LOG_FILE" & "``), so a second click starts a
    second Python while the first one is still writing. Each run takes an
    exclusive lock on a file named after the workbook's full name; the
    operating system drops it when the process ends, even if it crashes, so a
    lock is never left behind.
    """

    def __init__(self, key: str, folder: Path | None = None):
        import hashlib
        import sys

        folder = Path(folder) if folder is not None else LOCK_DIR
        norm = key.casefold() if sys.platform.startswith("win") else key
        digest = hashlib.sha256(norm.encode("utf-8", "surrogatepass")).hexdigest()[:24]
        self.key = key
        self.path = folder / f"{digest}.lock"
        self._fd = None

    def acquire(self) -> bool:
        """Take the lock without waiting; False when another run holds it."""
        import os

        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            _lock_fd(fd)
        except OSError:
            os.close(fd)
            return False
        self._fd = fd
        try:
            os.ftruncate(fd, 0)
            os.write(fd, f"{os.getpid()} {self.key}\n".encode("utf-8", "replace"))
        except OSError:
            pass
        return True

    def release(self) -> None:
        import os

        if self._fd is None:
            return
        try:
            _unlock_fd(self._fd)
        finally:
            os.close(self._fd)
            self._fd = None


def _lock_fd(fd: int) -> None:
    """Exclusive, non-blocking; raises OSError when the lock is held elsewhere."""
    import os

    try:
        import fcntl
    except ImportError:  # Windows
        import msvcrt

        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
    else:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)


def _unlock_fd(fd: int) -> None:
    import os

    try:
        import fcntl
    except ImportError:  # Windows
        import msvcrt

        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)


BUSY_MESSAGE = ("Maillon is already recomputing this workbook (or merging copies or "
                "importing files into it, from an earlier click). This click changed "
                "nothing: wait for the message that ends the running work, then look at "
                "the result.")

#: A click on another button while a run holds the workbook's lock.
BUSY_ANY_MESSAGE = ("Maillon is already working on this workbook (a recompute, a merge or an "
                    "import, from an earlier click). This click changed nothing: wait for the "
                    "message that ends it, then click again.")

CRASH_MESSAGE = ("Maillon stopped unexpectedly at the end of the recompute. The workbook may "
                 "hold a partly written result: close it without saving to get the previous "
                 "version back.\n\nWhat to do: open it again and click Recompute segments "
                 "once more.")

NO_CALLER_MESSAGE = (
    "Maillon found no workbook to recompute: live mode runs when you click Maillon > "
    "Recompute segments in Excel, and Excel's workbook could not be reached ({error}). "
    "Nothing in any workbook was changed.\n"
    "What to do: open the team workbook in Excel and click Recompute segments again; "
    "without Excel, recompute the file instead: maillon recompute team.xlsx")


def main(route=None) -> int:
    """Entry point of the ribbon button: recompute ``xw.Book.caller()`` (``route``: see
    :func:`run`).

    When no calling workbook can be reached, :func:`maillon.tell_user` shows
    the message: in the active Excel on macOS, else on stderr with exit code 1,
    which xlwings' VBA on Windows shows in a message box (``ExecuteWindows``:
    ``2> LOG_FILE`` ... ``If ExitCode <> 0 Then Call ShowError(LOG_FILE)``).
    """
    import xlwings as xw

    try:
        book = xw.Book.caller()
    except Exception as exc:
        from maillon import tell_user

        log = _log_unexpected()
        return tell_user(NO_CALLER_MESSAGE.format(error=exc) + (f"\n{log}" if log else ""))
    return run_locked(book, run if route is None else
                      lambda b: run(b, route=route))


def run_locked(book, action, busy: str = BUSY_MESSAGE, crash: str | None = None) -> int:
    """``action(book)`` under the workbook's :class:`RunLock`; ``busy`` when another run holds it.

    Every button of the Maillon tab runs through here with the same lock, so a
    merge, an import and a recompute of one workbook never overlap. ``crash`` is
    the message when ``action`` itself raises (it shows its own messages
    otherwise).
    """
    lock = RunLock(_book_key(book))
    try:
        got = lock.acquire()
    except OSError:  # no lock folder (read-only home...): run without the guard
        got, lock = True, None
    if not got:
        _alert(book.app, busy)
        return 1
    try:
        return action(book)
    except Exception:  # action() shows its own messages: this only guards its last lines
        log = _log_unexpected()
        _alert(book.app, (crash or CRASH_MESSAGE) + (f"\n\n{log}" if log else ""),
               critical=True)
        return 1
    finally:
        if lock is not None:
            lock.release()
