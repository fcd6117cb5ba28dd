"""``maillon addin install``: put the Maillon ribbon into the user's Excel.

On Windows and macOS this

1. builds the three add-ins -- ``maillon.xlam`` (Recompute segments),
   ``maillon_merge.xlam`` (Merge copies…) and ``maillon_import.xlam``
   (Import…), which share one Maillon tab -- from the xlwings installed next to
   Maillon (the add-ins' VBA is tied to one xlwings version: see :mod:`.build`),
   in a temporary folder;
2. runs xlwings' own installer for each, ``python -m xlwings.cli addin install
   --file <that .xlam>``, which copies it into Excel's ``XLSTART`` folder (and on
   macOS also installs xlwings' AppleScript that ``RunPython`` needs);
3. tells the add-ins which Python to run: each add-in's VBA (xlwings' template,
   ``PROJECT_NAME = "myaddin"``) reads its per-user settings from
   ``%USERPROFILE%\\.myaddin\\myaddin.conf`` on Windows and from
   ``~/Library/Containers/com.microsoft.Excel/Data/myaddin.conf`` on macOS
   (Excel's sandbox). The key ``INTERPRETER_WIN`` / ``INTERPRETER_MAC`` is set
   to this Python (``sys.executable``); other keys in the file are kept. The
   global ``~/.xlwings/xlwings.conf`` of the standard xlwings add-in is not
   touched. Also set (see :func:`addin_settings`):

   * ``ADD_WORKBOOK_TO_PYTHONPATH`` = ``False``: otherwise ``RunPython`` puts
     the workbook's folder first on ``sys.path`` (``xlwings/utils.py``,
     ``prepare_sys_path``), so a workbook saved next to a ``maillon/`` folder
     imports the wrong package, and a OneDrive/SharePoint workbook, whose full
     name is a URL, makes ``prepare_sys_path`` raise before Maillon starts;
   * ``CONDA PATH`` / ``CONDA ENV`` on Windows when this Python is a conda
     environment, as ``xlwings config create`` does (``xlwings/cli.py``,
     ``get_conda_settings`` / ``config_create``): the VBA activates the
     environment before starting Python, which conda's DLLs need.

The VBA reads the file with ``Open ... For Input`` / ``Input #``, which decode
bytes in the Windows ANSI code page (cp1252 on Western Windows), so the file is
written in that code page, and a path the code page cannot represent is refused
with what to do instead. On macOS, xlwings' AppleScript puts the interpreter
path unquoted in a shell command, so a path with spaces or other shell
characters is refused too. Both checks run before anything is installed.

Linux has no desktop Excel: the command says so, points to the file mode
(``maillon recompute team.xlsx``) and exits with 0 -- nothing is wrong with
the user's input.
"""
from __future__ import annotations

import locale
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from maillon.addin.excel_addin.build import ADDINS, VBA_PROJECT_NAME, build_xlam

EXIT_OK = 0
EXIT_FAILED = 1

LINUX_MESSAGE = (
    "The Excel add-in needs desktop Excel, on Windows or macOS; there is none on this "
    "system, so nothing was installed.\n"
    "Without Excel, recompute a workbook file instead:\n"
    "    maillon recompute team.xlsx"
)


def _kind(platform: str) -> str | None:
    if platform.startswith("win"):
        return "win"
    if platform.startswith("darwin"):
        return "mac"
    return None


def config_path(platform: str | None = None, home: Path | None = None) -> Path:
    """The per-user config file that ``maillon.xlam``'s VBA reads."""
    kind = _kind(platform or sys.platform)
    home = Path(home) if home is not None else Path.home()
    if kind == "win":  # the VBA uses %USERPROFILE%, which Path.home() reads on Windows
        return home / f".{VBA_PROJECT_NAME}" / f"{VBA_PROJECT_NAME}.conf"
    if kind == "mac":
        return (home / "Library" / "Containers" / "com.microsoft.Excel" / "Data"
                / f"{VBA_PROJECT_NAME}.conf")
    raise ValueError(f"platform {platform!r}: the add-in exists on Windows and macOS only")


def _parse_line(line: str) -> tuple[str, str] | None:
    """``"KEY","VALUE"`` -> (KEY, VALUE); None for blank or unreadable lines."""
    text = line.strip()
    if not text:
        return None
    if text.startswith('"'):
        end = text.find('"', 1)
        if end > 0:
            return text[1:end], text[end + 1:].lstrip(",").strip().strip('"')
    key, _, value = text.partition(",")
    return key.strip(), value.strip().strip('"')


class ConfigError(ValueError):
    """A setting the add-in could not use; the message says what to do instead."""


#: The key the template's VBA reads: ``AddExcelDir = GetConfig("ADD_WORKBOOK_TO_PYTHONPATH",
#: "true")`` in ``RunPython`` (module ``xlwings`` of the ribbon template), passed as the
#: first field to ``xlwings.utils.prepare_sys_path``, which adds the workbook's folder
#: only when that field is ``"true"`` (``args[0].lower() == "true"``).
ADD_WORKBOOK_KEY = "ADD_WORKBOOK_TO_PYTHONPATH"
CONDA_PATH_KEY = "CONDA PATH"
CONDA_ENV_KEY = "CONDA ENV"

#: Characters a macOS interpreter path may hold: the AppleScript builds
#: ``PythonInterpreter & " -B -u -W ignore -c ..."`` and runs it with ``do shell script``
#: without quoting the path (``xlwings/xlwings-0.37.8.applescript``, ``VbaHandler``).
_MAC_SAFE_PATH = re.compile(r"[A-Za-z0-9_./+@%:,=-]+")


def config_encoding(platform: str | None = None) -> str:
    """The encoding the add-in's VBA reads its config file in.

    Windows: the ANSI code page (VBA's ``Input #``); ``locale.getencoding()``
    gives it when run on Windows, else cp1252, Western Windows' code page.
    macOS: ASCII only -- we do not rely on how Mac VBA decodes other bytes.
    """
    kind = _kind(platform or sys.platform)
    if kind == "win":
        if sys.platform.startswith("win"):
            return locale.getencoding()
        return "cp1252"
    return "ascii"


def conda_settings(prefix: str | Path | None = None, environ=None) -> dict:
    """``{CONDA PATH, CONDA ENV}`` when ``prefix`` (default ``sys.prefix``) is a conda env.

    Like ``xlwings.cli.get_conda_settings``: the conda root is ``CONDA_EXE``
    without its last two parts (``\\Scripts\\conda.exe``) and the env is
    ``CONDA_DEFAULT_ENV`` -- used when that activated env is this Python's.
    Otherwise (a conda Python run without activating it) they are derived from
    the prefix: ``<root>\\envs\\<name>`` or the root itself (env ``base``).
    An empty dict when this Python is not conda's (no ``conda-meta`` folder).
    """
    environ = os.environ if environ is None else environ
    prefix = Path(prefix if prefix is not None else sys.prefix)
    if not (prefix / "conda-meta").is_dir():
        return {}
    active = environ.get("CONDA_PREFIX")
    exe, name = environ.get("CONDA_EXE"), environ.get("CONDA_DEFAULT_ENV")
    same = active is not None and os.path.normcase(os.path.normpath(active)) == \
        os.path.normcase(os.path.normpath(str(prefix)))
    if exe and name and same:
        sep = "\\" if "\\" in exe else os.path.sep
        return {CONDA_PATH_KEY: sep.join(exe.split(sep)[:-2]), CONDA_ENV_KEY: name}
    if prefix.parent.name.lower() == "envs":
        return {CONDA_PATH_KEY: str(prefix.parent.parent), CONDA_ENV_KEY: prefix.name}
    return {CONDA_PATH_KEY: str(prefix), CONDA_ENV_KEY: "base"}


def addin_settings(platform: str | None = None, executable: str | None = None,
                   prefix: str | Path | None = None, environ=None) -> dict:
    """The keys ``maillon addin install`` sets (None: remove the key)."""
    platform = platform or sys.platform
    executable = executable or sys.executable
    if _kind(platform) == "win":
        values = {"INTERPRETER_WIN": executable, ADD_WORKBOOK_KEY: "False"}
        conda = conda_settings(prefix, environ)
        # a conda setting left by an earlier install would activate another env
        values[CONDA_PATH_KEY] = conda.get(CONDA_PATH_KEY)
        values[CONDA_ENV_KEY] = conda.get(CONDA_ENV_KEY)
        return values
    return {"INTERPRETER_MAC": executable, ADD_WORKBOOK_KEY: "False"}


def check_settings(values: dict, platform: str | None = None,
                   encoding: str | None = None) -> None:
    """Raise :class:`ConfigError` when the add-in could not use ``values``."""
    platform = platform or sys.platform
    encoding = encoding or config_encoding(platform)
    mac_python = values.get("INTERPRETER_MAC")
    if mac_python is not None and not _MAC_SAFE_PATH.fullmatch(mac_python):
        bad = sorted({c for c in mac_python if not _MAC_SAFE_PATH.fullmatch(c)})
        shown = ", ".join("a space" if c == " " else repr(c) for c in bad)
        raise ConfigError(
            f"This Python is at {mac_python}, whose path holds {shown}. The Excel add-in "
            "on macOS starts Python through a shell command that does not quote the path, "
            "so Excel could not start it. Nothing was installed.\n"
            "What to do: create a virtual environment in a folder without spaces, install "
            "Maillon there and run its installer:\n"
            "    python3 -m venv ~/maillon-venv\n"
            "    ~/maillon-venv/bin/python -m pip install <the Maillon folder>\n"
            "    ~/maillon-venv/bin/maillon addin install")
    for key, value in values.items():
        if value is None:
            continue
        try:
            str(value).encode(encoding)
        except UnicodeEncodeError:
            bad = "".join(sorted({c for c in str(value) if not _encodes(c, encoding)}))
            raise ConfigError(
                f"The setting {key} would be {value}, but the characters {bad!r} cannot be "
                f"read by the Excel add-in, which reads its settings in {encoding} (the "
                "code page Windows uses for programs like Excel's macros). Nothing was "
                "installed.\n"
                "What to do: put Python (or a virtual environment) in a folder whose path "
                "has only plain letters, e.g. C:\\maillon\\venv:\n"
                "    py -m venv C:\\maillon\\venv\n"
                "    C:\\maillon\\venv\\Scripts\\python -m pip install <the Maillon folder>\n"
                "    C:\\maillon\\venv\\Scripts\\maillon addin install") from None


def _encodes(char: str, encoding: str) -> bool:
    try:
        char.encode(encoding)
        return True
    except UnicodeEncodeError:
        return False


def _read_config_lines(path: Path, encoding: str) -> list[str]:
    if not path.exists():
        return []
    data = path.read_bytes()
    try:  # an earlier Maillon wrote UTF-8; valid UTF-8 is rarely anything else
        return data.decode("utf-8").splitlines()
    except UnicodeDecodeError:
        return data.decode(encoding, errors="replace").splitlines()


def set_config(path: Path, values: dict, encoding: str = "utf-8",
               newline: str = "\n") -> Path:
    """Set ``values`` in an xlwings-style config file, keeping every other line.

    Keys match case-insensitively, as the add-in's VBA reads them; a value of
    None removes the key. The file is written in ``encoding`` with ``newline``
    line ends, atomically.

    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "myaddin.conf"
    >>> _ = p.write_text('"PYTHONPATH","C:\\\\code"\\n"CONDA ENV","old"\\n')
    >>> print(set_config(p, {"INTERPRETER_WIN": "C:\\\\py\\\\python.exe", "CONDA ENV": None}
    ...                  ).read_text(), end="")
    "PYTHONPATH","C:\\code"
    "INTERPRETER_WIN","C:\\py\\python.exe"
    """
    path = Path(path)
    for key, value in values.items():
        if '"' in str(key) or (value is not None and '"' in str(value)):
            raise ValueError(f"config {key!r}: values cannot contain double quotes")
    lines = _read_config_lines(path, encoding)
    wanted = {k.lower(): k for k in values}
    out, done = [], set()
    for line in lines:
        parsed = _parse_line(line)
        if parsed is None:
            continue
        key = parsed[0].lower()
        if key in wanted:
            if key not in done and values[wanted[key]] is not None:
                out.append(f'"{wanted[key]}","{values[wanted[key]]}"')
            done.add(key)
            continue  # drop duplicates: the VBA would read the first one only
        out.append(line.rstrip("\r\n"))
    out += [f'"{k}","{v}"' for k, v in values.items()
            if k.lower() not in done and v is not None]
    try:
        data = "".join(line + newline for line in out).encode(encoding)
    except UnicodeEncodeError as exc:
        raise ConfigError(f"{path} holds text that {encoding} cannot write ({exc}); "
                          "remove that line and run 'maillon addin install' again.") from None
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    tmp.replace(path)
    return path


def configure_interpreter(platform: str | None = None, home: Path | None = None,
                          executable: str | None = None, prefix: str | Path | None = None,
                          environ=None, encoding: str | None = None) -> Path:
    """Write the add-in's settings (:func:`addin_settings`); returns the config file.

    Raises :class:`ConfigError` (nothing written) when a setting cannot work.
    """
    platform = platform or sys.platform
    encoding = encoding or config_encoding(platform)
    values = addin_settings(platform, executable, prefix, environ)
    check_settings(values, platform, encoding)
    newline = "\r\n" if _kind(platform) == "win" else "\n"
    return set_config(config_path(platform, home), values, encoding=encoding, newline=newline)


def missing_modules(find_spec=None) -> list[str]:
    """The modules the add-ins' buttons import (``maillon``, ``maillon_merge``,
    ``maillon_import``: RunMain imports the add-in's file stem) that this Python lacks."""
    import importlib.util

    find_spec = find_spec or importlib.util.find_spec
    out = []
    for addin in ADDINS:
        try:
            found = find_spec(addin.module) is not None
        except (ImportError, ValueError):
            found = False
        if not found:
            out.append(addin.module)
    return out


def install_addin(platform: str | None = None, home: Path | None = None,
                  run=subprocess.run, out=print, executable: str | None = None,
                  prefix: str | Path | None = None, environ=None,
                  encoding: str | None = None) -> int:
    """Install ``maillon.xlam`` for the current user; returns the exit code.

    ``platform`` (default ``sys.platform``), ``home``, ``run``, ``out``,
    ``executable`` (default ``sys.executable``), ``prefix``, ``environ`` and
    ``encoding`` are there for tests.
    """
    platform = platform or sys.platform
    if _kind(platform) is None:
        out(LINUX_MESSAGE)
        return EXIT_OK
    import xlwings

    from maillon import xlwings_version_problem

    problem = xlwings_version_problem(xlwings.__version__)
    if problem is not None:  # the add-in's VBA would come from this untested xlwings
        out(problem.replace("Maillon did not start", "The add-in was not installed")
                   .replace(" Nothing in the workbook was changed.", ""))
        return EXIT_FAILED
    missing = missing_modules()
    if missing:  # a button would fail with "No module named ..." on its first click
        out(f"The add-ins were not installed: this Python cannot import {', '.join(missing)}, "
            "the module(s) their buttons run (an installation made before they existed, or "
            "a broken one).\n"
            "What to do: install Maillon again into this Python, then run this command "
            "again:\n"
            "    python -m pip install <the Maillon folder>\n"
            "    maillon addin install")
        return EXIT_FAILED
    try:  # before installing anything: a setting the add-in cannot use stops here
        check_settings(addin_settings(platform, executable, prefix, environ), platform,
                       encoding)
    except ConfigError as exc:
        out(str(exc))
        return EXIT_FAILED
    reports = []
    with tempfile.TemporaryDirectory(prefix="maillon-addin-") as folder:
        for one in ADDINS:  # the three share one tab; each is installed on its own
            addin = build_xlam(Path(folder) / one.file)
            cmd = [sys.executable, "-m", "xlwings.cli", "addin", "install", "--file", str(addin)]
            try:
                proc = run(cmd, capture_output=True, text=True)
            except OSError as exc:
                out(f"Could not run xlwings' installer: {exc}")
                return EXIT_FAILED
            report = ((proc.stdout or "") + (proc.stderr or "")).strip()
            # xlwings prints its errors and still exits with 0: read what it says.
            if proc.returncode != 0 or "Successfully installed" not in report:
                done = [a.file for a in ADDINS[:ADDINS.index(one)]]
                out(f"The add-in {one.file} was not installed. xlwings said:\n"
                    + (report or "(nothing)")
                    + (f"\n(Already installed: {', '.join(done)}.)" if done else ""))
                if _kind(platform) == "win":
                    out("If Excel is running, quit it and run 'maillon addin install' again.")
                return EXIT_FAILED
            reports.append(f"{one.file}: {report}")
    try:
        conf = configure_interpreter(platform, home, executable, prefix, environ, encoding)
    except ConfigError as exc:
        out(str(exc))
        return EXIT_FAILED
    out("\n".join(reports))
    out(f"Maillon add-ins installed ({', '.join(a.file for a in ADDINS)}). Excel will run "
        f"{executable or sys.executable} (set in {conf}).\n"
        "Restart Excel and open your team workbook: the Maillon tab holds "
        + ", ".join(a.label for a in ADDINS) + ".")
    return EXIT_OK
