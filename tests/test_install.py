"""maillon addin install: the Linux message and the per-user config."""
from __future__ import annotations

import subprocess
import sys
import zipfile

from maillon.addin.excel_addin import install as I


def test_linux_says_live_mode_needs_desktop_excel(tmp_path):
    lines = []
    code = I.install_addin(platform="linux", home=tmp_path, out=lines.append,
                           run=lambda *a, **k: (_ for _ in ()).throw(AssertionError("ran")))
    assert code == 0
    text = "\n".join(lines)
    assert "Windows or macOS" in text and "maillon recompute team.xlsx" in text
    assert not any(tmp_path.iterdir())


def test_config_paths_are_the_ones_the_addin_vba_reads(tmp_path):
    assert I.config_path("win32", tmp_path) == tmp_path / ".myaddin" / "myaddin.conf"
    assert I.config_path("darwin", tmp_path) == (tmp_path / "Library" / "Containers" /
                                                 "com.microsoft.Excel" / "Data" / "myaddin.conf")


def test_config_keeps_other_keys(tmp_path):
    path = tmp_path / ".myaddin" / "myaddin.conf"
    path.parent.mkdir()
    path.write_text('"PYTHONPATH","C:\\code"\n"interpreter_win","C:\\old\\python.exe"\n'
                    '"SHOW CONSOLE","True"\n')
    I.configure_interpreter("win32", tmp_path, executable="C:\\venv\\python.exe",
                            prefix=tmp_path)
    assert path.read_text().splitlines() == [
        '"PYTHONPATH","C:\\code"', '"INTERPRETER_WIN","C:\\venv\\python.exe"',
        '"SHOW CONSOLE","True"', '"ADD_WORKBOOK_TO_PYTHONPATH","False"']


def test_install_runs_xlwings_installer_then_configures(tmp_path):
    seen = {}

    def run(cmd, **kw):
        seen["cmd"] = cmd
        xlam = cmd[cmd.index("--file") + 1]
        assert xlam.endswith("maillon.xlam")
        with zipfile.ZipFile(xlam) as z:
            assert "Recompute segments" in z.read("customUI/customUI.xml").decode()
        return subprocess.CompletedProcess(cmd, 0, "Successfully installed the xlwings add-in! "
                                           "Please restart Excel.", "")

    lines = []
    assert I.install_addin(platform="darwin", home=tmp_path, run=run, out=lines.append) == 0
    assert seen["cmd"][:6] == [sys.executable, "-m", "xlwings.cli", "addin", "install", "--file"]
    conf = I.config_path("darwin", tmp_path)
    assert conf.read_text() == (f'"INTERPRETER_MAC","{sys.executable}"\n'
                                '"ADD_WORKBOOK_TO_PYTHONPATH","False"\n')


def test_install_reports_xlwings_failure(tmp_path):
    def run(cmd, **kw):
        return subprocess.CompletedProcess(cmd, 0, "Error: Failed to install the add-in", "")

    lines = []
    assert I.install_addin(platform="win32", home=tmp_path, run=run, out=lines.append) == 1
    assert "not installed" in lines[0]
    assert not I.config_path("win32", tmp_path).exists()


def test_xlwings_cli_module_runs():
    proc = subprocess.run([sys.executable, "-m", "xlwings.cli", "--help"],
                          capture_output=True, text=True)
    assert proc.returncode == 0 and "addin" in proc.stdout
