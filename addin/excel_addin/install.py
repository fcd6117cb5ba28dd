"""``maillon addin install``: put the Maillon ribbon into the user's Excel.

On Windows and macOS this

1. builds ``maillon.xlam`` from the xlwings installed next to Maillon (the
   add-in's VBA is tied to one xlwings version: see :mod:`.build_xlam`), in a
   temporary folder;
2. runs xlwings' own installer, ``python -m xlwings.cli addin install --file
   <that maillon.xlam>``, which copies it into Excel's ``XLSTART`` folder (and on
   macOS also installs xlwings' AppleScript that ``RunPython`` needs);
3. tells the add-in which Python to run: the add-in's VBA (xlwings' template,
   ``PROJECT_NAME = "myaddin"``) reads its per-user settings from
   ``%USERPROFILE%\\.myaddin\\myaddin.conf`` on Windows and from
   ``~/Library/Containers/com.microsoft.Excel/Data/myaddin.conf`` on macOS
   (Excel's sandbox). The key ``INTERPRETER_WIN`` / ``INTERPRETER_MAC`` is set
   to this Python (``sys.executable``); other keys in the file are kept. The
   global ``~/.xlwings/xlwings.conf`` of the standard xlwings add-in is not
   touched.

Linux has no desktop Excel: the command says so, points to the file mode
(``maillon recompute team.xlsx``) and exits with 0 -- nothing is wrong with
the user's input.
"""
from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

from maillon.addin.excel_addin.build import ADDIN_NAME, VBA_PROJECT_NAME, build_xlam

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


def set_config(path: Path, values: dict) -> Path:
    """Set ``values`` in an xlwings-style config file, keeping every other line.

    Keys match case-insensitively, as the add-in's VBA reads them. The file is
    rewritten atomically.

    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "myaddin.conf"
    >>> _ = p.write_text('"PYTHONPATH","C:\\\\code"\\n')
    >>> print(set_config(p, {"INTERPRETER_WIN": "C:\\\\py\\\\python.exe"}).read_text(), end="")
    "PYTHONPATH","C:\\code"
    "INTERPRETER_WIN","C:\\py\\python.exe"
    """
    path = Path(path)
    for key, value in values.items():
        if '"' in str(key) or '"' in str(value):
            raise ValueError(f"config {key!r}: values cannot contain double quotes")
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    wanted = {k.lower(): k for k in values}
    out, done = [], set()
    for line in lines:
        parsed = _parse_line(line)
        if parsed is None:
            continue
        key = parsed[0].lower()
        if key in wanted:
            if key not in done:
                out.append(f'"{wanted[key]}","{values[wanted[key]]}"')
                done.add(key)
            continue  # drop duplicates: the VBA would read the first one only
        out.append(line.rstrip("\r\n"))
    out += [f'"{k}","{v}"' for k, v in values.items() if k.lower() not in done]
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text("\n".join(out) + "\n", encoding="utf-8")
    tmp.replace(path)
    return path


def configure_interpreter(platform: str | None = None, home: Path | None = None,
                          executable: str | None = None) -> Path:
    """Point the add-in at this Python; returns the config file written."""
    platform = platform or sys.platform
    key = "INTERPRETER_WIN" if _kind(platform) == "win" else "INTERPRETER_MAC"
    return set_config(config_path(platform, home), {key: executable or sys.executable})


def install_addin(platform: str | None = None, home: Path | None = None,
                  run=subprocess.run, out=print) -> int:
    """Install ``maillon.xlam`` for the current user; returns the exit code.

    ``platform`` (default ``sys.platform``), ``home``, ``run`` and ``out`` are
    there for tests.
    """
    platform = platform or sys.platform
    if _kind(platform) is None:
        out(LINUX_MESSAGE)
        return EXIT_OK
    with tempfile.TemporaryDirectory(prefix="maillon-addin-") as folder:
        addin = build_xlam(Path(folder) / ADDIN_NAME)
        cmd = [sys.executable, "-m", "xlwings.cli", "addin", "install", "--file", str(addin)]
        try:
            proc = run(cmd, capture_output=True, text=True)
        except OSError as exc:
            out(f"Could not run xlwings' installer: {exc}")
            return EXIT_FAILED
    report = ((proc.stdout or "") + (proc.stderr or "")).strip()
    # xlwings prints its errors and still exits with 0: read what it says.
    if proc.returncode != 0 or "Successfully installed" not in report:
        out("The add-in was not installed. xlwings said:\n" + (report or "(nothing)"))
        if _kind(platform) == "win":
            out("If Excel is running, quit it and run 'maillon addin install' again.")
        return EXIT_FAILED
    conf = configure_interpreter(platform, home)
    out(report)
    out(f"Maillon add-in installed. Excel will run {sys.executable} (set in {conf}).\n"
        "Restart Excel, open your team workbook and click Maillon > Recompute segments.")
    return EXIT_OK
