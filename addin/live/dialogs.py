"""Excel's own dialogs for the ribbon buttons: choose files, confirm, and where the workbook is.

Imports xlwings' objects only (the Windows COM object model and, on macOS,
the Standard Additions that xlwings' own ``App.alert`` uses); nothing of the
file mode.

* **Choosing files.** Windows: Excel's ``Application.GetOpenFilename`` through
  the COM object xlwings exposes as ``app.api``, with named arguments as
  xlwings itself passes them to COM (``self.xl.Close(SaveChanges=False)``,
  ``self.xl.SaveAs(..., FileFormat=file_format, Password=password)`` in
  ``xlwings/_xlwindows.py``, ``Book.close`` / ``Book.save``). With
  ``MultiSelect=True`` it returns a tuple of full paths, or ``False`` when the
  user cancels. macOS: Standard Additions' ``choose file ... with multiple
  selections allowed``, sent to Excel's process exactly as xlwings'
  ``App.alert`` sends ``display alert`` (``xlwings/_xlmac.py``, ``App.alert``:
  ``sa = osax.OSAX(pid=self.pid)``, ``sa.activate()``, ``sa.display_alert(...)``),
  so the dialog shows in front of Excel with no other program involved. It
  returns aliases (their ``path`` is the POSIX path) and raises error -128
  when the user cancels.
* **Confirming.** ``app.alert(..., buttons="ok_cancel")`` returns ``"ok"`` or
  ``"cancel"`` on both platforms (``_xlwindows.App.alert``: ``{1: "ok", 2:
  "cancel", 6: "yes", 7: "no"}``; ``_xlmac.App.alert``: the button's name,
  lower-cased).
* **Where the workbook lives.** ``Book.fullname`` turns a OneDrive/SharePoint
  URL into a local path when it can guess one, or raises
  (``_xlwindows.Book.fullname`` / ``_xlmac.Book.fullname``:
  ``if "://" in ...: return fullname_url_to_local_path(...)``), so the raw
  ``FullName`` is read from ``book.api`` (``FullName`` on Windows; ``full name``
  on macOS, the property ``_xlmac.Book.fullname`` reads as ``kw.full_name``).
"""
from __future__ import annotations

import sys
from pathlib import Path, PurePosixPath, PureWindowsPath

TITLE = "Maillon"

#: ``GetOpenFilename``'s FileFilter: pairs of "label,patterns", comma separated.
FILTERS = {
    "merge": "Excel workbooks (*.xlsx;*.xlsm),*.xlsx;*.xlsm",
    "import": ("Exports (*.csv;*.txt;*.tsv;*.xlsx;*.xlsm),*.csv;*.txt;*.tsv;*.xlsx;*.xlsm,"
               "All files (*.*),*.*"),
}
#: AppleScript's "user canceled" error number.
USER_CANCELED = -128


class Refused(Exception):
    """The button cannot run on this workbook; the message says why and what to do."""


def _is_mac(platform: str | None) -> bool:
    return (platform or sys.platform).startswith("darwin")


def ask_files(app, title: str, kind: str, platform: str | None = None) -> list[Path] | None:
    """The files the user picks in Excel's open dialog; None when they cancel."""
    if _is_mac(platform):
        return _ask_mac(app, title)
    chosen = app.api.GetOpenFilename(FileFilter=FILTERS[kind], Title=title, MultiSelect=True)
    return windows_choice(chosen)


def windows_choice(chosen) -> list[Path] | None:
    r"""What ``GetOpenFilename(MultiSelect=True)`` returned, as paths (None: cancelled).

    >>> windows_choice(False) is None, [str(p) for p in windows_choice(("C:\\a b\\é.xlsx",))]
    (True, ['C:\\a b\\é.xlsx'])
    """
    if chosen is False or chosen is None:
        return None
    if isinstance(chosen, str):  # one file, as some Excel versions give it
        chosen = (chosen,)
    return [Path(c) for c in chosen if isinstance(c, str) and c and c != "False"] or None


def _ask_mac(app, title: str) -> list[Path] | None:
    import osax  # xlwings' mac backend depends on it (appscript)

    sa = osax.OSAX(pid=app.pid)
    sa.activate()  # in front of Excel, as xlwings' App.alert does
    try:
        chosen = sa.choose_file(with_prompt=title, multiple_selections_allowed=True)
    except Exception as exc:
        if _error_number(exc) == USER_CANCELED:
            return None
        raise
    return mac_choice(chosen)


def _error_number(exc: Exception) -> int | None:
    """An appscript ``CommandError``'s number (``errornumber``), else None."""
    for attr in ("errornumber", "number"):
        value = getattr(exc, attr, None)
        if isinstance(value, int):
            return value
    return USER_CANCELED if "-128" in str(exc) else None


def mac_choice(chosen) -> list[Path] | None:
    """What ``choose file`` returned (an alias, or a list of them) as POSIX paths.

    An alias (``mactypes.Alias``) gives its POSIX path as ``.path``.

    >>> class Alias:
    ...     def __init__(self, path): self.path = path
    >>> mac_choice([Alias("/Users/hélène/Team copies/team (Claire).xlsx")])
    [PosixPath('/Users/hélène/Team copies/team (Claire).xlsx')]
    """
    if chosen is None or chosen is False:
        return None
    if not isinstance(chosen, (list, tuple)):
        chosen = [chosen]
    out = []
    for c in chosen:
        path = c if isinstance(c, str) else getattr(c, "path", None)
        if isinstance(path, str) and path:
            out.append(Path(path))
    return out or None


def confirm(app, prompt: str) -> bool:
    """OK / Cancel in Excel; True for OK."""
    answer = app.alert(prompt, title=TITLE, buttons="ok_cancel", mode="info")
    return str(answer).lower() == "ok"


def ask_yes_no_cancel(app, prompt: str) -> str:
    """Yes / No / Cancel in Excel: ``"yes"``, ``"no"`` or ``"cancel"``."""
    answer = str(app.alert(prompt, title=TITLE, buttons="yes_no_cancel", mode="info")).lower()
    return answer if answer in ("yes", "no") else "cancel"


def raw_fullname(book, platform: str | None = None) -> str:
    """The workbook's ``FullName`` as Excel has it: a path, a URL, or only a name if unsaved."""
    if _is_mac(platform):
        return str(book.api.full_name.get())
    return str(book.api.FullName)


SUFFIXES = (".xlsx", ".xlsm")


def saved_path(book, button: str, platform: str | None = None) -> Path:
    """The local file of ``book``, or :class:`Refused` with what to do.

    Refused: a workbook never saved (its full name has no folder), one that
    lives at a URL (OneDrive, SharePoint: the file mode needs a file it can
    replace), one saved in a format the file mode does not write (.xls, .xlsb),
    one opened read-only.
    """
    mac = _is_mac(platform)
    full = raw_fullname(book, platform)
    name = _book_name(book) or full
    if "://" in full:
        raise Refused(
            f"{button} works on a workbook saved as a file on this computer, and {name} is "
            f"open from the web ({full.split('?')[0]}). Nothing was changed.\n\n"
            "What to do: File > Save a Copy (or Save As) into a folder on this computer, "
            f"open that copy and click {button} there; or use the command line on a "
            "downloaded copy: maillon merge / maillon import.")
    # Excel's FullName of a workbook never saved is its name alone ("Book1", "Classeur1")
    pure = PurePosixPath(full) if mac else PureWindowsPath(full)
    if "/" not in full and "\\" not in full:
        raise Refused(
            f"{name} has never been saved, so there is no file to {_verb(button)} yet. "
            "Nothing was changed.\n\n"
            f"What to do: save it (File > Save As, as an Excel workbook .xlsx) and click "
            f"{button} again.")
    if pure.suffix.lower() not in SUFFIXES:
        raise Refused(
            f"{name} is saved as {pure.suffix or 'a file without extension'}; Maillon writes "
            "Excel workbooks (.xlsx or .xlsm) only. Nothing was changed.\n\n"
            f"What to do: File > Save As > Excel Workbook (.xlsx), then click {button} again.")
    if _read_only(book, mac):
        raise Refused(
            f"{name} is open read-only, so Maillon cannot save it. Nothing was changed.\n\n"
            f"What to do: close it, open it for editing (or save a copy) and click {button} "
            "again.")
    return Path(full)


def _verb(button: str) -> str:
    return {"Merge copies…": "merge into", "Import…": "import into"}.get(button, "work on")


def _book_name(book) -> str:
    try:
        return str(book.name)
    except Exception:
        return ""


def _read_only(book, mac: bool) -> bool:
    try:
        value = book.api.read_only.get() if mac else book.api.ReadOnly
    except Exception:  # not answered: the save says so if it is
        return False
    return value is True
