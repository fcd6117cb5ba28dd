"""What 'maillon addin install' writes for the add-in's VBA, checked against xlwings' source.

* the key names are the ones the ribbon template's VBA reads (extracted with
  oletools from the built maillon.xlam, module ``xlwings``);
* ADD_WORKBOOK_TO_PYTHONPATH read back as the VBA does and fed to xlwings' real
  ``prepare_sys_path`` (``xlwings/utils.py``) adds nothing to ``sys.path``;
* conda settings match ``xlwings.cli.get_conda_settings``;
* the file is in the code page VBA's ``Input #`` reads; unusable paths are refused.
"""
from __future__ import annotations

import re
import subprocess
import sys

import pytest
import xlwings
import xlwings.cli
import xlwings.utils

from maillon.addin.excel_addin import build as B
from maillon.addin.excel_addin import install as I

oletools = pytest.importorskip("oletools.olevba")


@pytest.fixture(scope="module")
def vba():
    parser = oletools.VBA_Parser(str(B.DEFAULT_OUTPUT))
    try:
        return {name: code for _, _, name, code in parser.extract_macros()}["xlwings.bas"]
    finally:
        parser.close()


def _never_run(*a, **k):
    raise AssertionError("xlwings' installer ran")


def read_like_vba(path, key, encoding):
    """GetConfigFromFile (template VBA): the first line whose LCase(name) matches."""
    for line in path.read_bytes().decode(encoding).splitlines():
        parsed = I._parse_line(line)
        if parsed and parsed[0].lower() == key.lower():
            return parsed[1]
    return None


def test_keys_are_the_ones_the_template_vba_reads(vba):
    # RunPython: AddExcelDir = GetConfig("ADD_WORKBOOK_TO_PYTHONPATH", "true")
    assert re.search(rf'AddExcelDir = GetConfig\("{I.ADD_WORKBOOK_KEY}", "true"\)', vba)
    # ExecuteWindows: CondaPath = GetConfig("CONDA PATH"), CondaEnv = GetConfig("CONDA ENV")
    assert f'CondaPath = GetConfig("{I.CONDA_PATH_KEY}")' in vba
    assert f'CondaEnv = GetConfig("{I.CONDA_ENV_KEY}")' in vba
    # GetConfigFromFile: keys compared case-insensitively, file read with Input #
    # (ANSI code page), first match wins
    body = vba.split("Function GetConfigFromFile", 1)[1].split("End Function", 1)[0]
    assert "LCase(sVarName) = LCase(sName)" in body and "For Input" in body
    assert "Input #iFileNum, sVarName, sVarValue" in body


@pytest.mark.parametrize("platform", ["win32", "darwin"])
def test_written_config_keeps_the_workbook_folder_off_sys_path(platform, tmp_path, monkeypatch):
    conf = I.configure_interpreter(platform, tmp_path, executable="/opt/py/bin/python",
                                   prefix=tmp_path)
    value = read_like_vba(conf, "ADD_WORKBOOK_TO_PYTHONPATH", I.config_encoding(platform))
    assert value == "False"
    workbook = tmp_path / "Maillon checkout" / "team.xlsx"
    before = list(sys.path)
    monkeypatch.setattr(sys, "path", list(before))
    # the string RunPython builds: AddExcelDir;Active;This;3 OneDrive settings;PYTHONPATH
    # (xlwings/utils.py prepare_sys_path, lines 458-485)
    xlwings.utils.prepare_sys_path(f"{value};{workbook};;;;;")
    # only the empty PYTHONPATH field comes through ('' is the current folder, which
    # the VBA sets to Python's own folder on Windows)
    assert [p for p in sys.path if p not in before] == [""]
    assert not any(p.startswith(str(workbook.parent)) for p in sys.path)
    xlwings.utils.prepare_sys_path(f"true;{workbook};;;;;")  # xlwings' default
    assert str(workbook.parent) in sys.path[:3]


def test_onedrive_url_is_harmless_once_the_setting_is_off(tmp_path, monkeypatch):
    url = "https://d.docs.live.net/0123456789abcdef/Documents/team.xlsx"
    monkeypatch.setattr(sys, "path", list(sys.path))
    monkeypatch.delenv("OneDrive", raising=False)
    monkeypatch.delenv("OneDriveConsumer", raising=False)
    monkeypatch.delenv("OneDriveCommercial", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    # utils.py lines 468-476 -> fullname_url_to_local_path, which raises (lines 569-636)
    with pytest.raises(xlwings.XlwingsError, match="local OneDrive file"):
        xlwings.utils.fullname_url_to_local_path.cache_clear()
        xlwings.utils.prepare_sys_path(f"true;{url};;;;;")
    xlwings.utils.prepare_sys_path(f"False;{url};;;;;")


def test_accented_windows_path_is_written_in_the_ansi_code_page(tmp_path):
    python = "C:\\Users\\Hélène\\maillon\\.venv\\Scripts\\python.exe"
    conf = I.configure_interpreter("win32", tmp_path, executable=python, prefix=tmp_path,
                                   encoding="cp1252")
    data = conf.read_bytes()
    assert b"H\xe9l\xe8ne" in data and "é".encode() not in data
    assert data.endswith(b"\r\n") and b"\n" not in data.replace(b"\r\n", b"")  # CRLF, as
    # xlwings' config_create writes it (text mode on Windows, xlwings/cli.py config_create)
    assert read_like_vba(conf, "interpreter_win", "cp1252") == python


def test_config_encoding_on_windows_is_the_ansi_code_page():
    assert I.config_encoding("win32") == "cp1252"  # not running on Windows here
    assert I.config_encoding("darwin") == "ascii"


def test_path_the_code_page_cannot_hold_is_refused_before_installing(tmp_path):
    python = "C:\\Users\\Łukasz\\venv\\Scripts\\python.exe"
    lines = []
    code = I.install_addin(platform="win32", home=tmp_path, run=_never_run, out=lines.append,
                           executable=python, prefix=tmp_path, encoding="cp1252")
    assert code == 1 and len(lines) == 1
    text = lines[0]
    assert "'Ł'" in text and "cp1252" in text and "Nothing was installed" in text
    assert "C:\\maillon\\venv\\Scripts\\maillon addin install" in text
    assert not I.config_path("win32", tmp_path).exists()


@pytest.mark.parametrize("python", ["/Users/h/My Projects/venv/bin/python",
                                    "/Users/h/a&b/venv/bin/python",
                                    "/Users/h/Hélène/venv/bin/python"])
def test_macos_interpreter_path_the_applescript_cannot_run_is_refused(python, tmp_path):
    lines = []
    code = I.install_addin(platform="darwin", home=tmp_path, run=_never_run, out=lines.append,
                           executable=python, prefix=tmp_path)
    assert code == 1 and "Nothing was installed" in lines[0]
    assert "~/maillon-venv/bin/maillon addin install" in lines[0]
    if " " in python:
        assert "a space" in lines[0]
    assert not I.config_path("darwin", tmp_path).exists()


def test_macos_applescript_leaves_the_interpreter_unquoted():
    from pathlib import Path

    script = (Path(xlwings.__file__).parent /
              f"xlwings-{xlwings.__version__}.applescript").read_text()
    assert 'set ShellCommand to PythonInterpreter & " -B' in script  # no quote around it


def _conda_env(tmp_path):
    root = tmp_path / "miniconda3"
    prefix = root / "envs" / "maillon"
    (prefix / "conda-meta").mkdir(parents=True)
    environ = {"CONDA_EXE": str(root / "Scripts" / "conda.exe"),
               "CONDA_DEFAULT_ENV": "maillon", "CONDA_PREFIX": str(prefix)}
    return root, prefix, environ


def test_conda_settings_match_xlwings_config_writer(tmp_path, monkeypatch):
    root, prefix, environ = _conda_env(tmp_path)
    for k, v in environ.items():
        monkeypatch.setenv(k, v)
    # xlwings/cli.py get_conda_settings: CONDA_EXE minus its last two parts, CONDA_DEFAULT_ENV
    assert xlwings.cli.get_conda_settings() == (str(root), "maillon")
    ours = I.conda_settings(prefix, environ)
    assert ours == {"CONDA PATH": str(root), "CONDA ENV": "maillon"}
    conf = I.configure_interpreter("win32", tmp_path, executable=str(prefix / "python.exe"),
                                   prefix=prefix, environ=environ)
    assert read_like_vba(conf, "CONDA PATH", "cp1252") == str(root)
    assert read_like_vba(conf, "CONDA ENV", "cp1252") == "maillon"


def test_conda_python_run_without_activation_is_found_from_its_prefix(tmp_path):
    root, prefix, _ = _conda_env(tmp_path)
    assert I.conda_settings(prefix, {}) == {"CONDA PATH": str(root), "CONDA ENV": "maillon"}
    (root / "conda-meta").mkdir()
    assert I.conda_settings(root, {}) == {"CONDA PATH": str(root), "CONDA ENV": "base"}
    assert I.conda_settings(tmp_path / "venv", {}) == {}


def test_leaving_conda_removes_the_old_conda_settings(tmp_path):
    conf = I.config_path("win32", tmp_path)
    conf.parent.mkdir(parents=True)
    conf.write_text('"CONDA PATH","C:\\miniconda3"\n"CONDA ENV","old"\n"SHOW CONSOLE","True"\n')
    I.configure_interpreter("win32", tmp_path, executable="C:\\venv\\python.exe",
                            prefix=tmp_path / "venv", environ={})
    text = conf.read_text()
    assert "CONDA" not in text and '"SHOW CONSOLE","True"' in text


def test_config_written_by_an_earlier_maillon_in_utf8_is_rewritten(tmp_path):
    conf = I.config_path("win32", tmp_path)
    conf.parent.mkdir(parents=True)
    conf.write_bytes('"PYTHONPATH","C:\\Users\\Hélène\\code"\n'.encode())
    I.configure_interpreter("win32", tmp_path, executable="C:\\py\\python.exe",
                            prefix=tmp_path, encoding="cp1252")
    assert read_like_vba(conf, "PYTHONPATH", "cp1252") == "C:\\Users\\Hélène\\code"


def test_install_writes_the_settings_after_xlwings_installed(tmp_path):
    def run(cmd, **kw):
        return subprocess.CompletedProcess(cmd, 0, "Successfully installed the add-in", "")

    lines = []
    assert I.install_addin(platform="win32", home=tmp_path, run=run, out=lines.append,
                           executable="C:\\py\\python.exe", prefix=tmp_path,
                           encoding="cp1252") == 0
    conf = I.config_path("win32", tmp_path)
    assert read_like_vba(conf, "ADD_WORKBOOK_TO_PYTHONPATH", "cp1252") == "False"
    assert read_like_vba(conf, "INTERPRETER_WIN", "cp1252") == "C:\\py\\python.exe"


def test_readme_troubleshooting_covers_the_first_click_failures():
    from pathlib import Path

    import maillon

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    path, trouble = readme.split("## The Excel user's path", 1)[1].split("### Troubleshooting", 1)
    assert "maillon addin install" in path and "will **not** hold your workbooks" in path
    low, high = maillon.XLWINGS_TESTED
    assert f'"xlwings>={low},<{high}"' in trouble
    for topic in ("Python not found", "Run-time error 70", "maillon recompute team.xlsx",
                  "OneDrive", I.ADD_WORKBOOK_KEY, "conda", I.CONDA_PATH_KEY, "live-errors.log"):
        assert topic in trouble, topic


def test_untested_xlwings_is_refused_at_install(tmp_path, monkeypatch):
    monkeypatch.setattr(xlwings, "__version__", "0.31.4")
    lines = []
    code = I.install_addin(platform="win32", home=tmp_path, run=_never_run, out=lines.append,
                           executable="C:\\py\\python.exe", prefix=tmp_path)
    assert code == 1 and len(lines) == 1
    assert lines[0].startswith("The add-in was not installed") and "0.31.4" in lines[0]
    assert 'pip install "xlwings>=0.37.8,<0.38"' in lines[0]
    assert not I.config_path("win32", tmp_path).exists()
