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

So bad input changes nothing in the workbook. Progress shows in Excel's status
bar; the end is one message box: a short summary, or what went wrong. A Python
traceback never reaches the user: unexpected errors are written to
``~/.maillon/live-errors.log`` and summed up in the message box.
"""
from __future__ import annotations

import datetime as dt
import time
import traceback
from pathlib import Path

from maillon.engine.errors import InputError

from maillon.addin.engine_input import build_engine_input, current_user
from maillon.addin.live.read import read_tables_live
from maillon.addin.live.write import write_specs_live

TITLE = "Maillon"
MAX_PROBLEMS_SHOWN = 12
ERROR_LOG = Path.home() / ".maillon" / "live-errors.log"


# --- the engine and the renderer, looked up at call time (tests may replace them) ------
def _recompute(inp):
    from maillon.engine.pipeline import recompute

    return recompute(inp)


def _layout(result):
    from maillon.addin.render.layout import layout

    return layout(result)


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


def _alert(app, prompt: str, critical: bool = False) -> None:
    try:
        app.alert(prompt, title=TITLE, buttons="ok", mode="critical" if critical else "info")
    except Exception:  # Excel went away: nothing left to tell
        pass


# --- the recompute ---------------------------------------------------------------------------
def run(book, platform: str | None = None) -> int:
    """Recompute ``book`` (an ``xlwings.Book``) in place; returns 0 on success, 1 otherwise.

    Shows its outcome in exactly one message box and never raises.
    """
    app = book.app
    started = time.perf_counter()
    stage = "reading"
    restore = None
    try:
        app.status_bar = "Maillon: reading the workbook..."
        tables, extra = read_tables_live(book)
        inp = build_engine_input(tables, plan_extra_rows=extra, run_by=current_user(),
                                 run_at=dt.datetime.now().replace(microsecond=0))
        app.status_bar = "Maillon: computing segments, ABC matrix, targets and plan..."
        stage = "computing"
        result = _recompute(inp)
        specs = _layout(result)
        stage = "writing"
        restore = (app.screen_updating, app.calculation)
        app.screen_updating = False
        app.calculation = "manual"
        notes = write_specs_live(book, specs, platform=platform,
                                 progress=lambda m: setattr(app, "status_bar", f"Maillon: {m}..."))
    except InputError as exc:
        _finish(app, restore)
        _alert(app, input_error_message(exc), critical=True)
        return 1
    except Exception as exc:  # never a traceback in Excel
        _finish(app, restore)
        where = {"reading": "while reading the workbook; nothing was changed",
                 "computing": "while computing; nothing was changed",
                 "writing": ("while writing the result: some engine sheets may be half "
                             "rewritten. Close the workbook without saving to get the "
                             "previous version back")}[stage]
        text = f"Maillon stopped {where}.\n\n{type(exc).__name__}: {exc}"
        log = _log_unexpected()
        _alert(app, text + (f"\n\n{log}" if log else ""), critical=True)
        return 1
    _finish(app, restore)
    seconds = time.perf_counter() - started
    lines = [f"Recompute done in {seconds:.1f} s.", result.summary() + "."]
    warnings = list(getattr(result, "warnings", []) or [])
    if warnings:
        lines += ["", f"{len(warnings)} note(s):"] + ["- " + str(w) for w in warnings[:5]]
        if len(warnings) > 5:
            lines.append(f"... and {len(warnings) - 5} more (see the History sheet).")
    if notes:
        lines += ["", "Not available in this version of Excel:"] + ["- " + n for n in
                                                                   sorted(set(notes))[:5]]
    _alert(app, "\n".join(lines))
    return 0


def _finish(app, restore) -> None:
    try:
        if restore is not None:
            app.screen_updating, app.calculation = restore
        app.status_bar = False  # give the status bar back to Excel
    except Exception:
        pass


def main() -> int:
    """Entry point of the ribbon button: recompute ``xw.Book.caller()``."""
    import xlwings as xw

    try:
        book = xw.Book.caller()
    except Exception as exc:
        print(f"maillon: live mode runs from the Excel ribbon (Maillon > Recompute segments); "
              f"no calling workbook was found ({exc}). To recompute a file without Excel, "
              "run: maillon recompute team.xlsx")
        return 1
    return run(book)
