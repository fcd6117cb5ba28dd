"""The file system side of the file mode: locks, fingerprints, atomic saves.

Nothing here knows what is inside a workbook (that is :mod:`maillon.addin.ooxml`);
this module knows files and folders. A file-mode run goes::

    refuse_if_open(path)              # Excel (or LibreOffice) has it open: stop
    with run_lock(path):              # another Maillon run on it: stop
        seen = fingerprint(path)      # size, mtime and a digest, before reading
        ... read, compute, render, graft into tmp = temp_path_beside(path) ...
        refuse_if_changed(path, seen) # saved by someone else meanwhile: stop
        atomic_replace(tmp, path)     # previous file kept as team.bak.xlsx

Every problem is a :class:`~maillon.addin.ooxml.safe_io.WorkbookError` with one
sentence naming the file, which the command line prints as it is.

Example
-------
::

    from maillon.addin.filemode.files import fingerprint, refuse_if_changed
    seen = fingerprint("team.xlsx")
    refuse_if_changed("team.xlsx", seen)   # WorkbookError if it was saved meanwhile
"""
from __future__ import annotations

import datetime as _dt
import errno
import hashlib
import os
import shutil
import socket
import stat
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from maillon.addin.ooxml.safe_io import WorkbookError

__all__ = ["Fingerprint", "atomic_replace", "backup_path", "fingerprint", "lock_files",
           "os_error_message", "refuse_if_changed", "refuse_if_open", "refuse_if_read_only",
           "refuse_unwritable_folder", "run_lock", "run_lock_path", "temp_path_beside",
           "TEMP_MARK"]

# in the name of every temporary file Maillon writes beside a workbook: a kill
# can leave one behind, and its name says what it is and that it can go
TEMP_MARK = ".maillon-unsaved-can-be-deleted"
# how long an unreadable (empty, half-written) run lock is trusted
UNREADABLE_LOCK_SECONDS = 600
# bytes of the end of a file hashed by :func:`fingerprint` (the zip central
# directory, which holds the CRC of every part, sits there)
TAIL_BYTES = 4 * 1024 ** 2


# --- messages ----------------------------------------------------------------------
def os_error_message(exc: OSError, doing: str, where) -> str:
    """One sentence for an OSError, without asking "is it open?" when nothing says so.

    ``doing`` completes "could not ..." (e.g. "be saved"), ``where`` is the file
    or folder named in the sentence.
    """
    name = Path(where).name or str(where)
    code = exc.errno
    if code in (errno.ENOSPC, getattr(errno, "EDQUOT", -1)):
        why = "the disk is full (or your quota is used up); free some space and try again"
    elif code == errno.EROFS:
        why = "it is on a read-only file system"
    elif code in (errno.EACCES, errno.EPERM):
        why = ("permission denied (you cannot write there)" if "save" in doing
               else "permission denied (you cannot read it)")
    elif code == errno.ENOENT:
        why = "a folder on the way does not exist"
    elif code == errno.ENOTDIR:
        why = "a part of the path is a file, not a folder"
    else:
        why = exc.strerror or type(exc).__name__
    return f"{name} could not {doing}: {why}; nothing was changed."


# --- open in Excel? ------------------------------------------------------------------
def lock_files(path) -> list[Path]:
    """The lock files a spreadsheet program keeps beside ``path`` while it is open.

    Excel: ``~$team.xlsx``; LibreOffice: ``.~lock.team.xlsx#``.
    """
    path = Path(path)
    return [path.with_name("~$" + path.name), path.with_name(".~lock." + path.name + "#")]


def refuse_if_open(path) -> None:
    """Raise :class:`WorkbookError` if Excel (or LibreOffice) has ``path`` open."""
    path = Path(path)
    excel, office = lock_files(path)
    if excel.exists():
        raise WorkbookError(
            f"{path.name} is open in Excel (lock file {excel.name}); close it and try again "
            f"(if Excel is closed, delete {excel.name}).")
    if office.exists():
        raise WorkbookError(
            f"{path.name} is open in LibreOffice (lock file {office.name}); close it and try "
            f"again (if LibreOffice is closed, delete {office.name}).")


def refuse_if_read_only(path) -> None:
    """Refuse a file that is marked read-only (as Excel would refuse to save over it).

    The permission bits are looked at, not only :func:`os.access`: an
    administrator can write anywhere, but a file without any write bit was made
    read-only on purpose.
    """
    path = Path(path)
    try:
        st = path.stat()
    except FileNotFoundError:
        return
    if not st.st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH) \
            or not os.access(path, os.W_OK):
        raise WorkbookError(
            f"{path.name} is read-only, so Maillon will not replace it; make it writable "
            f"(or write elsewhere with --out) and try again; nothing was changed.")


def refuse_unwritable_folder(target) -> None:
    """Refuse when ``target``'s folder is missing, or is not a folder."""
    folder = Path(target).parent
    if not folder.exists():
        raise WorkbookError(f"cannot write {Path(target).name}: the folder {folder} does not "
                            f"exist; create it first; nothing was changed.")
    if not folder.is_dir():
        raise WorkbookError(f"cannot write {Path(target).name}: {folder} is not a folder; "
                            f"nothing was changed.")


# --- one run at a time ---------------------------------------------------------------
def run_lock_path(target) -> Path:
    """The lock file a Maillon run keeps beside ``target``: ``.team.xlsx.maillon-lock``."""
    target = Path(target)
    return target.with_name(f".{target.name}.maillon-lock")


def _pid_alive(pid: int) -> bool:
    if os.name != "posix":  # pragma: no cover - no cheap check: trust the lock
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


def _read_lock(lock: Path) -> dict | None:
    """The fields of a lock file, {} when unreadable, None when it is gone."""
    try:
        text = lock.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return None
    except OSError:
        return {}
    fields = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            fields[key.strip()] = value.strip()
    return fields


def _is_stale(lock: Path, fields: dict) -> bool:
    """A lock left by a run that died: a dead process of this host, or unreadable and old."""
    host, pid = fields.get("host"), fields.get("pid", "")
    if host is not None and pid.isdigit():
        return host == socket.gethostname() and not _pid_alive(int(pid))
    try:
        age = _dt.datetime.now().timestamp() - lock.stat().st_mtime
    except OSError:
        return False
    return age > UNREADABLE_LOCK_SECONDS


def _take_over(lock: Path, fields: dict) -> None:
    """Remove a stale lock, unless another run took it over meanwhile."""
    aside = lock.with_name(f"{lock.name}.stale-{os.getpid()}")
    try:
        os.replace(lock, aside)
    except FileNotFoundError:
        return
    if _read_lock(aside) != fields:  # a fresh lock of another run: put it back
        try:
            os.link(aside, lock)
        except OSError:
            pass
    aside.unlink(missing_ok=True)


@contextmanager
def run_lock(target):
    """Hold ``.team.xlsx.maillon-lock`` beside ``target`` for the duration of a run.

    The lock is created with ``O_CREAT | O_EXCL`` and holds the pid, the host
    and the time. A second run refuses with a message saying who holds it; a
    lock left by a process of this host that no longer runs is taken over. The
    lock file is removed when the block ends, however it ends.
    """
    target = Path(target)
    lock = run_lock_path(target)
    body = (f"pid={os.getpid()}\nhost={socket.gethostname()}\n"
            f"started={_dt.datetime.now().astimezone().isoformat(timespec='seconds')}\n"
            f"what=a Maillon recompute of {target.name} is running; this file goes away "
            f"when it ends\n").encode()
    for _ in range(5):
        try:
            fd = os.open(lock, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            fields = _read_lock(lock)
            if fields is None:
                continue  # released meanwhile
            if _is_stale(lock, fields):
                _take_over(lock, fields)
                continue
            who = (f"process {fields.get('pid', '?')} on {fields.get('host', '?')}, "
                   f"since {fields.get('started', '?')}") if fields else "another run"
            raise WorkbookError(
                f"{target.name} is being recomputed by another Maillon run ({who}); wait "
                f"for it to end and try again (if no Maillon runs, delete {lock.name}).") from None
        except OSError as exc:
            raise WorkbookError(os_error_message(exc, "be saved", target)) from None
        break
    else:
        raise WorkbookError(f"{target.name}: could not take the lock {lock.name}; try again.")
    try:
        try:
            os.write(fd, body)
        finally:
            os.close(fd)
    except OSError as exc:
        lock.unlink(missing_ok=True)
        raise WorkbookError(os_error_message(exc, "be saved", target)) from None
    try:
        yield lock
    finally:
        lock.unlink(missing_ok=True)


# --- did it change while we worked? ----------------------------------------------------
@dataclass(frozen=True)
class Fingerprint:
    """What identifies the content of a file cheaply: size, mtime, and a digest.

    The digest is SHA-256 over the file's last :data:`TAIL_BYTES` (the whole of
    a small file). For a zip package that is its central directory, which holds
    the CRC-32 and the sizes of every part: any part saved anew changes it. A
    100 MB workbook is never hashed as a whole.
    """

    size: int
    mtime_ns: int
    digest: str


def _digest(path: Path, size: int) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        fh.seek(max(0, size - TAIL_BYTES))
        while chunk := fh.read(1024 ** 2):
            h.update(chunk)
    return h.hexdigest()


def fingerprint(path) -> Fingerprint | None:
    """The :class:`Fingerprint` of ``path`` (None when there is no such file)."""
    path = Path(path)
    try:
        st = path.stat()
        return Fingerprint(st.st_size, st.st_mtime_ns, _digest(path, st.st_size))
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise WorkbookError(os_error_message(exc, "be read", path)) from None


def refuse_if_changed(path, seen: Fingerprint | None) -> None:
    """Refuse to go on when ``path`` is not the file :func:`fingerprint` saw."""
    path = Path(path)
    now = fingerprint(path)
    if now == seen:
        return
    if seen is None:
        what = "was created by another program while Maillon worked"
    elif now is None:
        what = "was moved or deleted while Maillon worked"
    else:
        what = "was saved by another program while Maillon worked"
    raise WorkbookError(
        f"{path.name} {what}; Maillon did not replace it, so nothing of that save is lost. "
        f"Run the recompute again on the saved file; nothing was changed.")


# --- saving ------------------------------------------------------------------------------
def backup_path(target) -> Path:
    """Where :func:`atomic_replace` keeps the previous file: ``team.xlsx`` -> ``team.bak.xlsx``.

    The extension stays last so that the backup opens in Excel with a double
    click (``team.xlsm`` -> ``team.bak.xlsm``). Only the latest backup is kept.
    """
    target = Path(target)
    return target.with_name(f"{target.stem}.bak{target.suffix}")


def temp_path_beside(target) -> Path:
    """A fresh, empty temporary file in ``target``'s folder (so the final rename is atomic).

    Its name (``.team.XXXX.maillon-unsaved-can-be-deleted.xlsx``) says that it
    can be deleted, should a killed run leave it behind.
    """
    target = Path(target)
    try:
        fd, name = tempfile.mkstemp(prefix=f".{target.stem}.",
                                    suffix=TEMP_MARK + target.suffix, dir=target.parent)
    except OSError as exc:
        raise WorkbookError(os_error_message(exc, "be saved", target)) from None
    os.close(fd)
    return Path(name)


def fsync_file(path: Path) -> None:
    with open(path, "rb+") as fh:
        os.fsync(fh.fileno())


def fsync_dir(folder: Path) -> None:
    if os.name != "posix":  # pragma: no cover - Windows has no directory fsync
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_replace(tmp, target, backup: bool = True) -> Path | None:
    """Put ``tmp`` in place of ``target`` atomically; keep the previous file as a backup.

    ``tmp`` must be in the same folder as ``target`` (see :func:`temp_path_beside`).
    Steps: fsync ``tmp``; give it ``target``'s permission bits; copy (hard link
    when the file system allows) ``target`` to ``team.bak.xlsx`` via a temporary
    name and an atomic rename; ``os.replace(tmp, target)``; fsync the folder.
    At every instant ``target`` is either the complete old file or the complete
    new one. Returns the backup path (None when ``backup`` is False or there was
    no previous file). On failure no temporary file of this step is left
    (``tmp`` itself is the caller's).
    """
    tmp, target = Path(tmp), Path(target)
    if tmp.resolve().parent != target.resolve().parent:
        raise ValueError(f"atomic_replace: tmp must be in the folder of target "
                         f"({target.parent}), got {tmp.parent}")
    kept = None
    staging = None
    try:
        fsync_file(tmp)
        if target.exists():
            shutil.copymode(target, tmp)
            if backup:
                kept = backup_path(target)
                staging = kept.with_name(f".{kept.stem}{TEMP_MARK}{kept.suffix}")
                staging.unlink(missing_ok=True)
                try:
                    os.link(target, staging)
                except OSError:
                    shutil.copy2(target, staging)
                    fsync_file(staging)
                os.replace(staging, kept)
                staging = None
        else:  # a new file gets the usual permissions, not mkstemp's private ones
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, target)
    except OSError as exc:
        raise WorkbookError(os_error_message(exc, "be saved", target)) from None
    finally:
        if staging is not None:
            staging.unlink(missing_ok=True)
    try:
        fsync_dir(target.parent)
    except OSError:  # the new file is in place; only the durability hint failed
        pass
    return kept
