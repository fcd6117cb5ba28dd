"""Maillon: one workbook where Marketing's segments and Sales' ABC matrix meet.

The repository keeps its parts in top-level folders (``engine/``, ``addin/``,
``workbook_templates/``); they install as ``maillon.engine``, ``maillon.addin``
and ``maillon.workbook_templates``.

``main()`` is what the Excel add-in ``maillon.xlam`` calls when a user clicks
**Recompute segments**: xlwings' ribbon template imports the module named like
the add-in (``maillon``) and calls its ``main()``. The two other buttons are
add-ins of their own, built from the same template, so their modules are
top-level too: ``maillon_merge.xlam`` runs ``maillon_merge.main()`` (**Merge
copies…**) and ``maillon_import.xlam`` runs ``maillon_import.main()``
(**Import…**); both call :func:`start` here, as ``main()`` does.

Before anything else, :func:`start` checks what could make the click fail before
the work even starts, and turns each into one message for the user rather
than a Python traceback:

* an xlwings outside the tested range (:data:`XLWINGS_TESTED`, the same range
  as the pin in ``pyproject.toml``);
* ``maillon.addin`` that cannot be imported -- a broken installation, or Python
  having picked up another ``maillon`` folder (the repository's, next to a
  workbook) instead of the installed package.

The message goes to Excel's message box when the calling workbook can be
reached, else to stderr with exit code 1: xlwings' ``RunPython`` on Windows
shows what the command wrote to stderr when it exits with a non-zero code
(``ExecuteWindows`` in the VBA of ``xlwings/quickstart_addin_ribbon.xlam``,
module ``xlwings``: ``2> LOG_FILE`` then ``If ExitCode <> 0 Then ShowError``).
"""
__version__ = "0.1.0"

#: The xlwings versions live mode is tested with: ``>= low, < high`` (as in pyproject.toml).
XLWINGS_TESTED = ("0.37.8", "0.38")

TITLE = "Maillon"
#: Where unexpected errors of live mode are written (with their traceback).
ERROR_LOG_NAME = ("~", ".maillon", "live-errors.log")


def _version_tuple(text: str) -> tuple:
    """``"0.37.8"`` -> (0, 37, 8); a suffix such as ``rc1`` or ``.dev0`` stops the parse.

    >>> _version_tuple("0.37.8"), _version_tuple("0.38.0rc1"), _version_tuple("1.0")
    ((0, 37, 8), (0, 38, 0), (1, 0))
    """
    parts = []
    for piece in str(text).split("."):
        digits = ""
        for ch in piece:
            if not ch.isdigit():
                break
            digits += ch
        if not digits:
            break
        parts.append(int(digits))
        if len(digits) != len(piece):
            break
    return tuple(parts)


def xlwings_version_problem(version: str, button: str = "Recompute segments") -> str | None:
    """The message refusing an untested xlwings, or None when ``version`` is in range.

    >>> xlwings_version_problem("0.37.8") is None
    True
    >>> "0.30.1" in xlwings_version_problem("0.30.1")
    True
    """
    low, high = XLWINGS_TESTED
    if _version_tuple(low) <= _version_tuple(version) < _version_tuple(high):
        return None
    return (f"Maillon did not start: it needs xlwings {low} or later, before {high}, "
            f"and this Python has xlwings {version}. Nothing in the workbook was changed.\n\n"
            "What to do: in a terminal, run\n"
            f'    python -m pip install "xlwings>={low},<{high}"\n'
            "    maillon addin install\n"
            f"then restart Excel and click {button} again.")


def _error_log():
    from pathlib import Path

    return Path(*ERROR_LOG_NAME).expanduser()


def _log_traceback() -> str:
    """Append the current exception's traceback to the log; returns a line naming it."""
    import datetime
    import traceback

    path = _error_log()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as f:
            f.write(f"--- {datetime.datetime.now():%Y-%m-%d %H:%M:%S}\n"
                    f"{traceback.format_exc()}\n")
        return f"Details for support: {path}"
    except OSError:
        return ""


def tell_user(message: str) -> int:
    """Show ``message`` in Excel, or on stderr with exit code 1 when Excel is out of reach.

    Only the message box or only stderr: one message either way. The exit code
    is what makes xlwings' VBA show stderr (see the module docstring).
    """
    import sys

    try:
        import xlwings as xw

        app = xw.Book.caller().app
        app.alert(message, title=TITLE, buttons="ok", mode="critical")
        return 1
    except Exception:
        pass
    if sys.platform.startswith("darwin"):
        # On macOS, RunPython reads the command's stderr before the command (run in
        # the background by the AppleScript) has written it: try Excel itself.
        try:
            import xlwings as xw

            xw.apps.active.alert(message, title=TITLE, buttons="ok", mode="critical")
            return 1
        except Exception:
            pass
    try:
        print(message, file=sys.stderr)
    except Exception:
        pass
    raise SystemExit(1)


def _import_problem(exc: BaseException) -> str:
    """What to tell the user when ``maillon.addin`` cannot be imported."""
    from pathlib import Path

    here = Path(__file__).resolve().parent
    log = _log_traceback()
    if not (here / "addin").is_dir() and getattr(exc, "name", "") in ("maillon.addin",
                                                                        "maillon.engine"):
        # The repository's own maillon/ folder (only this __init__.py) came first
        # on sys.path: typically a workbook saved in the repository's folder.
        what = (f"Python found a 'maillon' folder at {here}, which is not the installed "
                "Maillon package -- usually because the workbook is saved in the folder "
                "Maillon was installed from.")
        todo = ("Save the workbook in another folder, or run 'maillon addin install' "
                "again (it tells Excel not to look for Python code next to the workbook), "
                "then restart Excel.")
    else:
        what = f"Maillon could not load its Python code ({type(exc).__name__}: {exc})."
        todo = ("Reinstall Maillon in this Python (python -m pip install <the Maillon "
                "folder>), run 'maillon addin install', then restart Excel. Meanwhile the "
                "file mode works without Excel: maillon recompute team.xlsx")
    return (f"Maillon did not start. {what} Nothing in the workbook was changed.\n\n"
            f"What to do: {todo}" + (f"\n\n{log}" if log else ""))


#: The buttons of the Maillon tab: entry name -> (module, function, button label).
BUTTONS = {
    "recompute": ("maillon.addin.live_files", "recompute_main", "Recompute segments"),
    "merge": ("maillon.addin.live_files", "merge_main", "Merge copies…"),
    "import": ("maillon.addin.live_files", "import_main", "Import…"),
}


def start(button: str = "recompute"):
    """Run the ribbon button ``button`` (a key of :data:`BUTTONS`) on ``xw.Book.caller()``.

    Checks xlwings (importable, in the tested range) and that the installed
    ``maillon.addin`` is the one imported, then calls the button's function;
    every failure is one message (:func:`tell_user`), never a traceback.
    """
    module_name, function, label = BUTTONS[button]
    try:
        import xlwings
    except Exception as exc:  # nothing can reach Excel without xlwings: stderr only
        import sys

        log = _log_traceback()
        print(f"Maillon did not start: xlwings cannot be imported ({exc}). Nothing in the "
              "workbook was changed.\nWhat to do: reinstall Maillon in this Python "
              "(python -m pip install <the Maillon folder>), then run 'maillon addin "
              "install' again."
              + (f"\n{log}" if log else ""), file=sys.stderr)
        raise SystemExit(1) from None
    problem = xlwings_version_problem(getattr(xlwings, "__version__", "unknown"), label)
    if problem is not None:
        return tell_user(problem)
    try:
        import importlib

        entry = getattr(importlib.import_module(module_name), function)
    except Exception as exc:
        return tell_user(_import_problem(exc))
    try:
        return entry()
    except Exception:  # live mode shows its own messages; this is the last guard
        log = _log_traceback()
        return tell_user(
            "Maillon stopped unexpectedly. The workbook may hold a partly written "
            "result: close it without saving to get the previous version back.\n\n"
            f"What to do: open it again and click {label} once more; if this "
            "message comes back, send the details file to support."
            + (f"\n\n{log}" if log else ""))


def main():
    """Recompute the workbook that called this from Excel (live mode): **Recompute segments**."""
    return start("recompute")
