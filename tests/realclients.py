"""Open workbooks in real spreadsheet programs: LibreOffice Calc and Gnumeric.

A helper module for tests (not a test file). Each ``*_opens`` function asks a
real program to load a workbook and convert it, headless, and returns
``(ok, message)``: ``ok`` is True when the program exited cleanly, said
nothing that looks like an error, and wrote a non-empty output. ``message``
explains a failure in one line, with what the program printed.

``needs_libreoffice`` and ``needs_gnumeric`` are pytest skip markers with a
clear reason when the program is not installed (``.ci/run`` installs both
with apt-get).

Example
-------
>>> from tests.realclients import libreoffice_opens      # doctest: +SKIP
>>> libreoffice_opens("workbook_templates/maillon_template.xlsx")  # doctest: +SKIP
(True, 'LibreOffice converted maillon_template.xlsx to pdf (12345 bytes)')
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
SSCONVERT = shutil.which("ssconvert")

needs_libreoffice = pytest.mark.skipif(
    SOFFICE is None,
    reason="LibreOffice (soffice) is not installed: apt-get install libreoffice-calc")
needs_gnumeric = pytest.mark.skipif(
    SSCONVERT is None,
    reason="Gnumeric (ssconvert) is not installed: apt-get install gnumeric")

# What a converter may print without anything being wrong.
_HARMLESS = [
    re.compile(r"^\s*$"),
    re.compile(r"^convert .* -> .* using filter", re.I),
    re.compile(r"javaldx", re.I),  # LibreOffice without a Java runtime
    re.compile(r"Warning: failed to launch javaldx", re.I),
    re.compile(r"^\(process:\d+\): .*(GLib-GIO|dconf|Gtk)-(WARNING|CRITICAL)", re.I),
    re.compile(r"Fontconfig", re.I),
    re.compile(r"^\*\* \(ssconvert:\d+\): (WARNING|CRITICAL) \*\*.*(dconf|GLib-GIO|goffice"
               r" plugin|Gtk)", re.I),
    re.compile(r"^overwriting", re.I),
    # Gnumeric does not read Excel tables (ListObjects): it says so for every
    # workbook that has one, Excel's own included, and reads the cells anyway.
    re.compile(r"^Unexpected element 'tableParts' in state"),
    # Gnumeric has no data bars or colour scales: it names their parts and
    # shows the cells without them.
    re.compile(r"Ignoring unhandled conditional format of type '(colorScale|dataBar)'"),
    re.compile(r"^Unexpected element '(cfvo|color|extLst)' in state"),
    re.compile(r"^\s*chartSpace\b"),
    # ...nor structured references to tables: a user's formula such as
    # =COUNTIF(tblTargets[Final priority],"P1") stays text there (Excel and
    # LibreOffice compute it).
    re.compile(r"At [A-Z]+\d+: '.*\btbl\w+\[.*' Invalid expression"),
    re.compile(r"^\s*worksheet\s*$"),
]
_ERRORS = re.compile(r"error|fail|exception|corrupt|could not|cannot|unable|invalid|"
                     r"crash|abort|unexpected", re.I)


def _suspicious(text: str) -> list[str]:
    bad = []
    for line in text.splitlines():
        if any(p.search(line) for p in _HARMLESS):
            continue
        if _ERRORS.search(line):
            bad.append(line.strip())
    return bad


def _tail(text: str, limit: int = 400) -> str:
    text = " ".join(text.split())
    return text[-limit:]


def libreoffice_opens(path, convert_to: str = "pdf", timeout: float = 240.0,
                      outdir=None) -> tuple[bool, str]:
    """Open ``path`` in LibreOffice Calc headless and convert it (pdf, csv, xlsx…).

    Uses a private, throw-away user profile so that it never touches (or waits
    for) a running LibreOffice. ``outdir`` keeps the converted file; by
    default it goes to a temporary folder that is removed.
    """
    if SOFFICE is None:
        return False, "LibreOffice (soffice) is not installed"
    path = Path(path).resolve()
    if not path.is_file():
        return False, f"no such file: {path}"
    ext = convert_to.split(":", 1)[0]
    with tempfile.TemporaryDirectory(prefix="maillon-lo-") as tmp:
        profile = Path(tmp) / "profile"
        out = Path(outdir).resolve() if outdir else Path(tmp) / "out"
        out.mkdir(parents=True, exist_ok=True)
        cmd = [SOFFICE, f"-env:UserInstallation={profile.as_uri()}", "--headless",
               "--norestore", "--nolockcheck", "--convert-to", convert_to,
               "--outdir", str(out), str(path)]
        env = dict(os.environ, SAL_USE_VCLPLUGIN="svp", HOME=tmp)
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
        except subprocess.TimeoutExpired:
            return False, f"LibreOffice did not finish converting {path.name} in {timeout:.0f} s"
        produced = out / f"{path.stem}.{ext}"
        if proc.returncode != 0:
            return False, (f"LibreOffice exited with {proc.returncode} on {path.name}: "
                           f"{_tail(proc.stderr + proc.stdout)}")
        bad = _suspicious(proc.stderr)
        if bad:
            return False, f"LibreOffice reported problems on {path.name}: {' | '.join(bad)[:400]}"
        if not produced.is_file() or produced.stat().st_size == 0:
            return False, (f"LibreOffice wrote no {ext} for {path.name}: "
                           f"{_tail(proc.stderr + proc.stdout)}")
        return True, f"LibreOffice converted {path.name} to {ext} ({produced.stat().st_size} bytes)"


def gnumeric_opens(path, convert_to: str = "csv", timeout: float = 240.0,
                   outdir=None) -> tuple[bool, str]:
    """Open ``path`` in Gnumeric (``ssconvert``) and convert it.

    ``convert_to`` is an extension ssconvert knows (``csv``, ``gnumeric``,
    ``xlsx``, ``ods``…). For csv, every sheet is exported (``-S``), one file
    per sheet, so that a problem on any sheet shows.
    """
    if SSCONVERT is None:
        return False, "Gnumeric (ssconvert) is not installed"
    path = Path(path).resolve()
    if not path.is_file():
        return False, f"no such file: {path}"
    with tempfile.TemporaryDirectory(prefix="maillon-gn-") as tmp:
        out = Path(outdir).resolve() if outdir else Path(tmp)
        out.mkdir(parents=True, exist_ok=True)
        if convert_to == "csv":
            target = out / f"{path.stem}.%n.csv"
            cmd = [SSCONVERT, "-S", str(path), str(target)]
        else:
            target = out / f"{path.stem}.{convert_to}"
            cmd = [SSCONVERT, str(path), str(target)]
        env = dict(os.environ, HOME=tmp)
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
        except subprocess.TimeoutExpired:
            return False, f"Gnumeric did not finish converting {path.name} in {timeout:.0f} s"
        if proc.returncode != 0:
            return False, (f"ssconvert exited with {proc.returncode} on {path.name}: "
                           f"{_tail(proc.stderr + proc.stdout)}")
        bad = _suspicious(proc.stderr + "\n" + proc.stdout)
        if bad:
            return False, f"Gnumeric reported problems on {path.name}: {' | '.join(bad)[:400]}"
        produced = sorted(p for p in out.iterdir() if p.name.startswith(path.stem + ".")
                          and p.suffix == f".{convert_to}")
        if not produced or all(p.stat().st_size == 0 for p in produced):
            return False, f"ssconvert wrote no {convert_to} for {path.name}"
        return True, f"Gnumeric converted {path.name} to {len(produced)} {convert_to} file(s)"
