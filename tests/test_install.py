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
    seen = []

    def run(cmd, **kw):
        seen.append(cmd)
        xlam = cmd[cmd.index("--file") + 1]
        with zipfile.ZipFile(xlam) as z:
            seen[-1] = (cmd, z.read("customUI/customUI.xml").decode())
        return subprocess.CompletedProcess(cmd, 0, "Successfully installed the xlwings add-in! "
                                           "Please restart Excel.", "")

    lines = []
    assert I.install_addin(platform="darwin", home=tmp_path, run=run, out=lines.append) == 0
    # the three add-ins, one xlwings install each, each with its own button
    files = [c[c.index("--file") + 1].rsplit("/", 1)[-1] for c, _ in seen]
    assert files == ["maillon.xlam", "maillon_merge.xlam", "maillon_import.xlam"]
    assert all(c[:6] == [sys.executable, "-m", "xlwings.cli", "addin", "install", "--file"]
               for c, _ in seen)
    labels = ["Recompute segments", "Merge copies…", "Import…"]
    assert all(f'label="{lab}"' in ui for (_, ui), lab in zip(seen, labels))
    conf = I.config_path("darwin", tmp_path)
    assert conf.read_text() == (f'"INTERPRETER_MAC","{sys.executable}"\n'
                                '"ADD_WORKBOOK_TO_PYTHONPATH","False"\n')
    assert "Recompute segments, Merge copies…, Import…" in lines[-1]


def test_install_stops_at_the_first_add_in_xlwings_refuses(tmp_path):
    calls = []

    def run(cmd, **kw):
        calls.append(cmd)
        ok = len(calls) == 1
        return subprocess.CompletedProcess(cmd, 0, "Successfully installed the xlwings add-in!"
                                           if ok else "Error: Failed to install the add-in", "")

    lines = []
    assert I.install_addin(platform="win32", home=tmp_path, run=run, out=lines.append) == 1
    assert len(calls) == 2
    assert "maillon_merge.xlam was not installed" in lines[0]
    assert "Already installed: maillon.xlam" in lines[0]
    assert not I.config_path("win32", tmp_path).exists()


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


def test_install_refuses_a_python_that_lacks_a_buttons_module(tmp_path, monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "maillon_import" else real(name, *a))
    lines = []
    code = I.install_addin(platform="win32", home=tmp_path, out=lines.append,
                           run=lambda *a, **k: (_ for _ in ()).throw(AssertionError("ran")))
    assert code == 1
    assert "cannot import maillon_import" in lines[0] and "pip install" in lines[0]
    assert not I.config_path("win32", tmp_path).exists()


def test_every_buttons_module_is_installed_here(tmp_path):
    # in a fresh Python started elsewhere (not the checkout: `python -m pytest` puts it on
    # sys.path), as Excel's RunPython starts it
    env = {k: v for k, v in __import__("os").environ.items() if k != "PYTHONPATH"}
    proc = subprocess.run([sys.executable, "-c", "from maillon.addin.excel_addin.install "
                           "import missing_modules; print(missing_modules())"],
                          capture_output=True, text=True, cwd=tmp_path, env=env)
    assert proc.stdout.strip() == "[]", proc.stderr
