"""maillon.main(), the ribbon button's entry point: what happens before the recompute.

Every failure ends in one message a manager can act on and leaves the workbook
as it was; a second click during a run is refused. Checked against xlwings'
real source (installed in the venv): ``xlwings/utils.py`` (``prepare_sys_path``),
``xlwings/main.py`` (``Book.caller``) and the AppleScript RunPython uses on macOS.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
import threading
import time
import tomllib
from pathlib import Path
from types import SimpleNamespace

import pytest
import xlwings as xw

import maillon
from maillon.addin.live import ribbon as live

from test_live import synthetic_workbook

REPO = Path(__file__).resolve().parent.parent
XLWINGS = Path(xw.__file__).resolve().parent


def _no_touch(monkeypatch):
    """Fail the test if live mode starts reading the workbook."""
    def refuse(*a, **k):
        raise AssertionError("the workbook was read")

    monkeypatch.setattr(live, "read_tables_live", refuse)


# --- 2. the xlwings version ----------------------------------------------------------------
def test_pyproject_pins_the_tested_xlwings_range():
    deps = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    pin = [d for d in deps if d.lower().startswith("xlwings")]
    low, high = maillon.XLWINGS_TESTED
    assert pin == [f"xlwings>={low},<{high}"]
    assert maillon.xlwings_version_problem(xw.__version__) is None  # the venv's is tested


@pytest.mark.parametrize("version", ["0.30.1", "0.36.9", "0.38.0", "1.0.0"])
def test_untested_xlwings_is_refused_before_touching_the_workbook(version, monkeypatch):
    fake = synthetic_workbook(8, previous=False)
    monkeypatch.setattr(xw, "__version__", version)
    monkeypatch.setattr(xw.Book, "caller", lambda: fake.book)
    _no_touch(monkeypatch)
    fake.reset_counts()
    assert maillon.main() == 1
    assert len(fake.alerts) == 1
    prompt, kw = fake.alerts[0]
    assert version in prompt and "Nothing in the workbook was changed" in prompt
    assert 'pip install "xlwings>=0.37.8,<0.38"' in prompt
    assert kw["mode"] == "critical" and kw["title"] == "Maillon"
    assert fake.writes == [] and fake.events == []


def test_untested_xlwings_outside_excel_goes_to_stderr(monkeypatch, capsys):
    monkeypatch.setattr(xw, "__version__", "0.33.0")  # real Book.caller(): no Excel -> raises
    with pytest.raises(SystemExit) as exit_:
        maillon.main()
    assert exit_.value.code == 1
    err = capsys.readouterr().err
    assert "xlwings 0.33.0" in err and "Traceback" not in err


# --- 4. a failure before run(): import errors ------------------------------------------------
def test_broken_install_gives_one_message_in_excel(monkeypatch, tmp_path):
    fake = synthetic_workbook(8, previous=False)
    monkeypatch.setattr(xw.Book, "caller", lambda: fake.book)
    monkeypatch.setattr(maillon, "ERROR_LOG_NAME", (str(tmp_path), "live-errors.log"))
    monkeypatch.setitem(sys.modules, "maillon.addin.live.ribbon", None)  # import fails
    monkeypatch.delitem(sys.modules, "maillon.addin.live_files", raising=False)  # imported anew
    assert maillon.main() == 1
    assert len(fake.alerts) == 1
    prompt = fake.alerts[0][0]
    assert "could not load its Python code" in prompt
    assert "Nothing in the workbook was changed" in prompt and "What to do" in prompt
    assert str(tmp_path / "live-errors.log") in prompt and "Traceback" not in prompt
    assert "Traceback" in (tmp_path / "live-errors.log").read_text()
    assert fake.writes == []


def _run_as_excel_does(tmp_path, add_workbook_dir: str, fullname: str, regular=False):
    """The command RunPython runs, with xlwings' real prepare_sys_path.

    ExecuteWindows / the AppleScript run ``python -c "import xlwings.utils;
    xlwings.utils.prepare_sys_path('<AddExcelDir>;<ActiveFullName>;<ThisFullName>;
    <3 OneDrive/SharePoint settings>;<PYTHONPATH>'); import maillon; maillon.main()"``
    (RunPython in the ribbon template's VBA, module xlwings).
    """
    args = ";".join([add_workbook_dir, fullname, "", "", "", "", ""])
    # regular: as after 'pip install <folder>' (not -e): no editable finder maps maillon.addin
    unmap = ("import sys; sys.meta_path[:] = [f for f in sys.meta_path "
             "if 'editable' not in str(getattr(f, '__module__', '')).lower()]; "
             if regular else "")
    code = (f"{unmap}import xlwings.utils;xlwings.utils.prepare_sys_path({args!r}); "
            "import maillon; print('MAILLON', maillon.__file__, flush=True); maillon.main()")
    env = dict(os.environ, HOME=str(tmp_path), USERPROFILE=str(tmp_path))
    env.pop("PYTHONPATH", None)
    return subprocess.run([sys.executable, "-B", "-c", code, "--wb=team.xlsx"],
                          capture_output=True, text=True, cwd=tmp_path, env=env, timeout=120)


@pytest.fixture()
def workbook_beside_a_maillon_folder(tmp_path):
    """A workbook saved in a copy of the repository's top level (its maillon/ folder)."""
    folder = tmp_path / "checkout"
    (folder / "maillon").mkdir(parents=True)
    (folder / "maillon" / "__init__.py").write_text(
        (REPO / "maillon" / "__init__.py").read_text())
    return folder / "team.xlsx"


def test_workbook_folder_on_sys_path_imports_the_wrong_maillon(tmp_path,
                                                               workbook_beside_a_maillon_folder):
    # ADD_WORKBOOK_TO_PYTHONPATH "true" (xlwings' default): utils.py prepare_sys_path,
    # lines 460-485, puts the workbook's folder first on sys.path.
    proc = _run_as_excel_does(tmp_path, "true", str(workbook_beside_a_maillon_folder),
                              regular=True)
    assert f"MAILLON {workbook_beside_a_maillon_folder.parent / 'maillon'}" in proc.stdout
    assert proc.returncode == 1  # VBA's ExecuteWindows shows stderr when ExitCode <> 0
    assert "not the installed Maillon package" in proc.stderr
    assert "maillon addin install" in proc.stderr and "Nothing in the workbook" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_with_the_setting_off_the_installed_maillon_is_imported(tmp_path,
                                                                 workbook_beside_a_maillon_folder):
    # "False", as 'maillon addin install' writes it: prepare_sys_path adds nothing.
    proc = _run_as_excel_does(tmp_path, "False", str(workbook_beside_a_maillon_folder))
    assert f"MAILLON {REPO / 'maillon' / '__init__.py'}" in proc.stdout
    # then Book.caller() finds no Excel here: one message, exit 1, no traceback
    assert proc.returncode == 1
    assert "found no workbook to recompute" in proc.stderr and "Traceback" not in proc.stderr


def test_a_onedrive_url_breaks_prepare_sys_path_unless_the_setting_is_off(tmp_path):
    url = "https://d.docs.live.net/0123456789abcdef/Documents/team.xlsx"
    # utils.py lines 468-476: a "://" full name goes through fullname_url_to_local_path,
    # which raises when no local OneDrive folder matches -- before maillon is imported.
    proc = _run_as_excel_does(tmp_path, "true", url)
    assert proc.returncode != 0 and "MAILLON" not in proc.stdout
    proc = _run_as_excel_does(tmp_path, "False", url)
    assert "MAILLON" in proc.stdout and "found no workbook" in proc.stderr


# --- 5. one run at a time per workbook --------------------------------------------------------
def test_macos_runpython_does_not_wait_for_python():
    # Why a lock is needed: the AppleScript ends its shell command with "&".
    script = (XLWINGS / f"xlwings-{xw.__version__}.applescript").read_text()
    lines = script.splitlines()
    at = next(i for i, line in enumerate(lines) if "set ShellCommand to" in line)
    statement = lines[at].rstrip().rstrip("¬") + lines[at + 1].strip()  # ¬ continues a line
    assert statement.endswith('LOG_FILE & "\\" & "')  # ... 2>"LOG" & : in the background


def test_second_click_during_a_run_is_refused(monkeypatch, tmp_path):
    first = synthetic_workbook(20, previous=False)
    second = synthetic_workbook(8, previous=False)  # the same workbook, clicked again
    for fake in (first, second):
        fake._state(fake.book)["fullname"] = "/Users/helene/Documents/team.xlsx"
    monkeypatch.setattr(live, "LOCK_DIR", tmp_path / "locks")
    started, proceed = threading.Event(), threading.Event()
    recompute = live._recompute

    def slow(inp):
        started.set()
        assert proceed.wait(60)
        return recompute(inp)

    monkeypatch.setattr(live, "_recompute", slow)
    worker = threading.current_thread
    main_thread = worker()
    monkeypatch.setattr(xw.Book, "caller",
                        lambda: second.book if worker() is main_thread else first.book)
    codes = {}
    t = threading.Thread(target=lambda: codes.setdefault("first", live.main()))
    t.start()
    try:
        assert started.wait(60)
        codes["second"] = live.main()
    finally:
        proceed.set()
        t.join(120)
    assert codes == {"first": 0, "second": 1}
    assert len(second.alerts) == 1 and "already recomputing this workbook" in second.alerts[0][0]
    assert "changed nothing" in second.alerts[0][0]
    assert second.writes == []
    assert len(first.alerts) == 1 and first.alerts[0][0].startswith("Recompute done")
    # the lock is given back: a third click runs
    monkeypatch.setattr(live, "_recompute", recompute)
    monkeypatch.setattr(xw.Book, "caller", lambda: second.book)
    assert live.main() == 0


def test_lock_is_per_workbook_and_across_processes(tmp_path):
    a = live.RunLock("/Users/h/team.xlsx", tmp_path)
    assert a.acquire()
    assert not live.RunLock("/Users/h/team.xlsx", tmp_path).acquire()
    other = live.RunLock("/Users/h/other team.xlsx", tmp_path)
    assert other.acquire()
    other.release()
    a.release()
    # another process (a second RunPython on macOS) holding the lock
    holder = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(f"""
            import sys, time
            from maillon.addin.live.ribbon import RunLock
            lock = RunLock({"/Users/h/team.xlsx"!r}, {str(tmp_path)!r})
            print(lock.acquire(), flush=True)
            time.sleep(60)
        """)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "True"
        assert not live.RunLock("/Users/h/team.xlsx", tmp_path).acquire()
    finally:
        holder.kill()
        holder.wait(30)
    # the OS released it with the process: no stale lock after a crash
    deadline = time.time() + 10
    again = live.RunLock("/Users/h/team.xlsx", tmp_path)
    while not again.acquire():
        assert time.time() < deadline
        time.sleep(0.1)
    again.release()


# --- 4. every message says what happened, what to do, where the log is ----------------------
def test_unexpected_error_message_says_what_to_do(monkeypatch, tmp_path):
    fake = synthetic_workbook(8, previous=False)
    monkeypatch.setattr(live, "ERROR_LOG", tmp_path / "live-errors.log")
    monkeypatch.setattr(live, "_recompute", lambda inp: 1 / 0)
    assert live.run(fake.book) == 1
    prompt = fake.alerts[0][0]
    assert "nothing was changed" in prompt and "What to do" in prompt
    assert re.search(r"Details for support: .*live-errors\.log", prompt)
    assert "Traceback" not in prompt and fake.writes == []


def test_no_caller_on_macos_is_told_in_the_active_excel(monkeypatch, tmp_path):
    fake = synthetic_workbook(8, previous=False)
    monkeypatch.setattr(live, "ERROR_LOG", tmp_path / "live-errors.log")
    monkeypatch.setattr(sys, "platform", "darwin")
    monkeypatch.setattr(xw, "apps", SimpleNamespace(active=fake.app))
    # xlwings' real Book.caller() raises: no --from_xl=1 in sys.argv (main.py 1143-1171)
    assert live.main() == 1
    assert len(fake.alerts) == 1 and "found no workbook to recompute" in fake.alerts[0][0]
    assert "Traceback" not in fake.alerts[0][0] and fake.writes == []


def test_a_crash_outside_run_still_ends_in_one_message(monkeypatch, tmp_path):
    fake = synthetic_workbook(8, previous=False)
    fake._state(fake.book)["fullname"] = "C:\\Users\\h\\team.xlsx"
    monkeypatch.setattr(live, "ERROR_LOG", tmp_path / "live-errors.log")
    monkeypatch.setattr(live, "LOCK_DIR", tmp_path / "locks")
    monkeypatch.setattr(xw.Book, "caller", lambda: fake.book)

    def crash(book):
        raise KeyError("summary")

    monkeypatch.setattr(live, "run", crash)
    assert live.main() == 1
    prompt = fake.alerts[0][0]
    assert len(fake.alerts) == 1 and "partly written" in prompt and "What to do" in prompt
    assert "Traceback" not in prompt and "live-errors.log" in prompt
    lock = live.RunLock("C:\\Users\\h\\team.xlsx", tmp_path / "locks")
    assert lock.acquire()  # given back
    lock.release()


def test_maillon_main_guards_the_live_entry_too(monkeypatch, tmp_path):
    fake = synthetic_workbook(8, previous=False)
    monkeypatch.setattr(xw.Book, "caller", lambda: fake.book)
    monkeypatch.setattr(maillon, "ERROR_LOG_NAME", (str(tmp_path), "live-errors.log"))

    def crash():
        raise RuntimeError("boom")

    monkeypatch.setattr(live, "main", crash)
    assert maillon.main() == 1
    assert len(fake.alerts) == 1 and "stopped unexpectedly" in fake.alerts[0][0]
    assert "Traceback" in (tmp_path / "live-errors.log").read_text()
