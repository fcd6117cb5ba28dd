"""Never lose what a user saved, never crash on the file system: through real files and the CLI.

Each refused run must exit 1 with one clear message, leave the workbook
byte-identical, and leave no stray file beside it.
"""
from __future__ import annotations

import errno
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

import maillon.addin.filemode.recompute as recompute_mod
from maillon.addin.cli import main
from maillon.addin.filemode.files import run_lock, run_lock_path
from workbooks import build_workbook

pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")


@pytest.fixture(scope="module")
def small(tmp_path_factory) -> Path:
    return build_workbook(tmp_path_factory.mktemp("src") / "team.xlsx", n_accounts=30,
                          user_extras=False)


@pytest.fixture
def team(small, tmp_path) -> Path:
    path = tmp_path / "team.xlsx"
    shutil.copyfile(small, path)
    return path


def _refused(capsys, argv, path: Path, before: bytes, *, folder: Path | None = None,
             files=("team.xlsx",)) -> str:
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.startswith("maillon: ")
    assert err.count("\n") == 1, err  # one message
    assert path.read_bytes() == before
    folder = folder or path.parent
    assert sorted(p.name for p in folder.iterdir()) == sorted(files)
    return err


# --- 1. lost update ---------------------------------------------------------------------
def _save_during(path: Path, when: str):
    """A progress callback that saves ``path`` (as another program would) at step ``when``."""
    saved = {}

    def progress(message: str) -> None:
        if message.startswith(when) and not saved:
            # the other program's save: same size, other bytes (a byte of the zip's
            # end record, which every save rewrites)
            size = path.stat().st_size
            with open(path, "r+b") as fh:
                fh.seek(size - 30)
                fh.write(b"X")
            saved["bytes"] = path.read_bytes()
    return progress, saved


@pytest.mark.parametrize("when", ["Segmenting", "Saving"])
def test_a_save_landing_during_the_run_is_not_overwritten(team, capsys, monkeypatch, when):
    progress, saved = _save_during(team, when)
    real = recompute_mod.recompute_file
    monkeypatch.setattr("maillon.addin.filemode.recompute.recompute_file",
                        lambda p, o=None, _progress=None, **kw: real(p, o, progress, **kw))
    assert main(["recompute", str(team), "-q"]) == 1
    err = capsys.readouterr().err
    assert "team.xlsx was saved by another program while Maillon worked" in err
    assert "Maillon did not replace it" in err and "Traceback" not in err
    assert team.read_bytes() == saved["bytes"]  # the other program's save is what stays
    assert sorted(p.name for p in team.parent.iterdir()) == ["team.xlsx"]


def test_a_file_only_touched_is_still_recomputed(team, capsys):
    os.utime(team, ns=(1, 1))  # another mtime before the run is fine: the run reads it
    assert main(["recompute", str(team), "-q"]) == 0


# --- 2. two runs at once --------------------------------------------------------------------
def test_a_second_run_on_the_same_file_is_refused(team, capsys):
    before = team.read_bytes()
    with run_lock(team) as lock:
        assert lock == run_lock_path(team) == team.with_name(".team.xlsx.maillon-lock")
        assert f"pid={os.getpid()}" in lock.read_text()
        err = _refused(capsys, ["recompute", str(team), "-q"], team, before,
                       files=["team.xlsx", lock.name])
    assert "team.xlsx is being recomputed by another Maillon run" in err
    assert f"process {os.getpid()} on {socket.gethostname()}" in err
    assert "delete .team.xlsx.maillon-lock" in err
    assert not lock.exists()
    assert main(["recompute", str(team), "-q"]) == 0  # once the first run ended


def test_two_processes_at_once_one_refuses(team, tmp_path):
    code = ("import sys; from maillon.addin.cli import main; "
            "sys.exit(main(['recompute', sys.argv[1], '-q']))")
    runs = [subprocess.Popen([sys.executable, "-c", code, str(team)], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True) for _ in range(2)]
    results = [(r.wait(timeout=300), r.stderr.read()) for r in runs]
    codes = sorted(c for c, _ in results)
    assert codes in ([0, 0], [0, 1])  # the second may start after the first ended
    for c, err in results:
        if c == 1:
            assert "is being recomputed by another Maillon run" in err
        assert "Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["team.bak.xlsx", "team.xlsx"]


def test_a_lock_left_by_a_dead_run_is_taken_over(team, capsys):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    lock = run_lock_path(team)
    lock.write_text(f"pid={dead.pid}\nhost={socket.gethostname()}\nstarted=then\n")
    assert main(["recompute", str(team), "-q"]) == 0
    assert not lock.exists()


def test_a_lock_of_another_host_is_respected(team, capsys):
    lock = run_lock_path(team)
    lock.write_text("pid=1\nhost=another-machine\nstarted=2026-12-01T09:00:00+00:00\n")
    before = team.read_bytes()
    err = _refused(capsys, ["recompute", str(team), "-q"], team, before,
                   files=["team.xlsx", lock.name])
    assert "process 1 on another-machine, since 2026-12-01T09:00:00+00:00" in err


def test_excel_lock_is_still_refused(team, capsys):
    (team.parent / "~$team.xlsx").write_bytes(b"\x0bJane Doe")
    err = _refused(capsys, ["recompute", str(team), "-q"], team, team.read_bytes(),
                   files=["team.xlsx", "~$team.xlsx"])
    assert "team.xlsx is open in Excel (lock file ~$team.xlsx)" in err


# --- 4. a read-only file ---------------------------------------------------------------------
def test_a_read_only_file_is_not_replaced(team, capsys):
    os.chmod(team, 0o444)
    before = team.read_bytes()
    err = _refused(capsys, ["recompute", str(team), "-q"], team, before)
    assert "team.xlsx is read-only, so Maillon will not replace it" in err
    assert "open in another program" not in err
    assert oct(team.stat().st_mode & 0o777) == "0o444"


def test_a_read_only_out_is_not_replaced(team, capsys):
    out = team.with_name("week.xlsx")
    shutil.copyfile(team, out)
    os.chmod(out, 0o444)
    before = out.read_bytes()
    err = _refused(capsys, ["recompute", str(team), "--out", str(out), "-q"], out, before,
                   files=["team.xlsx", "week.xlsx"])
    assert "week.xlsx is read-only" in err


# --- 5. file-system errors ----------------------------------------------------------------------
def test_disk_full_while_writing(team, capsys, monkeypatch):
    import maillon.addin.ooxml.graft as graft_mod
    real = graft_mod.graft

    def graft_until_full(original, rendered, out, *args, **kwargs):
        Path(out).write_bytes(b"PK half a package")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(graft_mod, "graft", graft_until_full)
    before = team.read_bytes()
    err = _refused(capsys, ["recompute", str(team), "-q"], team, before)
    assert "team.xlsx could not be saved: the disk is full" in err
    assert "nothing was changed" in err
    monkeypatch.setattr(graft_mod, "graft", real)


def test_disk_full_while_keeping_the_backup(team, capsys, monkeypatch):
    import maillon.addin.filemode.files as files

    def no_room(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(files.os, "link", no_room)
    monkeypatch.setattr(files.shutil, "copy2", no_room)
    before = team.read_bytes()
    err = _refused(capsys, ["recompute", str(team), "-q"], team, before)
    assert "the disk is full" in err


def test_read_only_folder(team, capsys, monkeypatch):
    # the tests may run as root, who writes anywhere: the folder refuses through os.open
    import maillon.addin.filemode.files as files
    real_open = files.os.open

    def read_only_folder(name, flags, *args):
        if flags & os.O_CREAT:
            raise PermissionError(errno.EACCES, "Permission denied", str(name))
        return real_open(name, flags, *args)

    monkeypatch.setattr(files.os, "open", read_only_folder)
    before = team.read_bytes()
    err = _refused(capsys, ["recompute", str(team), "-q"], team, before)
    assert "team.xlsx could not be saved: permission denied (you cannot write there)" in err
    assert "open in another program" not in err


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("setpriv") is None,
                    reason="needs root and setpriv to run as an ordinary user")
def test_read_only_folder_for_a_real_user(team):
    import tempfile
    tmp_path = Path(tempfile.mkdtemp(prefix="maillon-test-"))
    os.chmod(tmp_path, 0o755)  # readable by nobody, writable by root only
    team = Path(shutil.copy(team, tmp_path / "team.xlsx"))
    os.chmod(team, 0o666)
    code = ("import sys; from maillon.addin.cli import main; "
            "sys.exit(main(['recompute', sys.argv[1], '-q']))")
    before = team.read_bytes()
    run = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                          sys.executable, "-c", code, str(team)],
                         capture_output=True, text=True, timeout=300)
    if "Permission denied" in run.stderr and "python" in run.stderr.lower() \
            and "maillon:" not in run.stderr:
        pytest.skip("the virtual environment is not readable by an ordinary user")
    assert run.returncode == 1, run.stderr
    assert "maillon: team.xlsx could not be saved: permission denied" in run.stderr
    assert "Traceback" not in run.stderr
    assert team.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["team.xlsx"]
    shutil.rmtree(tmp_path)


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("setpriv") is None,
                    reason="needs root and setpriv to run as an ordinary user")
def test_a_file_the_user_cannot_read(team, tmp_path):
    os.chmod(tmp_path, 0o700)  # an ordinary user cannot even look inside
    run = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                          sys.executable, "-c", "import sys; from maillon.addin.cli import main;"
                          " sys.exit(main(sys.argv[1:]))", "validate", str(team), "-q"],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 1 and "Traceback" not in run.stderr
    assert "maillon: team.xlsx could not be read: permission denied" in run.stderr


def test_out_into_a_missing_folder(team, capsys):
    before = team.read_bytes()
    err = _refused(capsys, ["recompute", str(team), "--out",
                            str(team.parent / "nowhere" / "w.xlsx"), "-q"], team, before)
    assert "the folder" in err and "nowhere does not exist" in err


def test_out_into_a_read_only_folder(team, capsys, monkeypatch, tmp_path):
    import maillon.addin.filemode.files as files
    (tmp_path / "shared").mkdir()
    real_open = files.os.open

    def read_only_folder(name, flags, *args):
        if flags & os.O_CREAT and "shared" in str(name):
            raise OSError(errno.EROFS, "Read-only file system", str(name))
        return real_open(name, flags, *args)

    monkeypatch.setattr(files.os, "open", read_only_folder)
    before = team.read_bytes()
    err = _refused(capsys, ["recompute", str(team), "--out", str(tmp_path / "shared" / "w.xlsx"),
                            "-q"], team, before, files=["shared", "team.xlsx"])
    assert "w.xlsx could not be saved: it is on a read-only file system" in err
    assert list((tmp_path / "shared").iterdir()) == []


def test_a_symlinked_workbook_is_followed_and_stays_a_link(team, tmp_path, capsys):
    real = tmp_path / "data" / "team.xlsx"
    real.parent.mkdir()
    shutil.move(team, real)
    link = tmp_path / "team.xlsx"
    link.symlink_to(real)
    before = real.read_bytes()
    assert main(["recompute", str(link), "-q"]) == 0
    assert link.is_symlink() and Path(os.readlink(link)) == real
    assert real.read_bytes() != before
    assert (real.parent / "team.bak.xlsx").read_bytes() == before
    assert sorted(p.name for p in real.parent.iterdir()) == ["team.bak.xlsx", "team.xlsx"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data", "team.xlsx"]


def test_a_dangling_symlink_out_is_refused(team, tmp_path, capsys):
    out = tmp_path / "week.xlsx"
    out.symlink_to(tmp_path / "gone" / "week.xlsx")
    before = team.read_bytes()
    err = _refused(capsys, ["recompute", str(team), "--out", str(out), "-q"], team, before,
                   files=["team.xlsx", "week.xlsx"])
    assert "week.xlsx is a symbolic link to" in err and "which does not exist" in err


def _cli(*args, **kwargs):
    code = "import sys; from maillon.addin.cli import main; sys.exit(main(sys.argv[1:]))"
    return subprocess.run([sys.executable, "-c", code, *args], text=True, timeout=300, **kwargs)


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="no /dev/full")
def test_stdout_full_is_one_message_not_a_traceback(team):
    with open("/dev/full", "w") as full:
        run = _cli("recompute", str(team), "-q", stdout=full, stderr=subprocess.PIPE)
    assert run.returncode == 1
    assert "Traceback" not in run.stderr and "Exception ignored" not in run.stderr
    assert "team.xlsx was recomputed and saved, but its summary could not be printed" \
        in run.stderr
    assert sorted(p.name for p in team.parent.iterdir()) == ["team.bak.xlsx", "team.xlsx"]


def test_stdout_closed_is_not_a_traceback(team):
    run = _cli("validate", str(team), "-q", stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
               preexec_fn=lambda: os.close(1))
    assert "Traceback" not in run.stderr and "Exception ignored" not in run.stderr
    assert run.returncode in (0, 1)


def test_a_killed_run_leaves_only_files_that_say_they_can_go(team, monkeypatch, capsys):
    # the run stops hard in the middle of the save (as a kill would): what is left
    # beside the workbook says what it is
    import maillon.addin.ooxml.graft as graft_mod
    real = graft_mod.graft
    names = {}

    def graft_then_die(original, rendered, out, *args, **kwargs):
        names["tmp"] = Path(out).name
        raise SystemExit(9)

    monkeypatch.setattr(graft_mod, "graft", graft_then_die)
    with pytest.raises(SystemExit):
        main(["recompute", str(team), "-q"])
    assert "maillon-unsaved-can-be-deleted" in names["tmp"]
    assert names["tmp"].startswith(".team.") and names["tmp"].endswith(".xlsx")
    assert sorted(p.name for p in team.parent.iterdir()) == ["team.xlsx"]  # finally: removed
    monkeypatch.setattr(graft_mod, "graft", real)
