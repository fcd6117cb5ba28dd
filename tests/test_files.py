"""The file system side of the file mode: locks, fingerprints, atomic saves."""
from __future__ import annotations

import os
import stat

import pytest

from maillon.addin.filemode.files import (atomic_replace, backup_path, refuse_if_open,
                                          temp_path_beside)
from maillon.addin.ooxml.safe_io import WorkbookError


@pytest.fixture
def good(tmp_path):
    path = tmp_path / "team.xlsx"
    path.write_bytes(b"PK not really a workbook: these tests look at files only")
    return path


# --- lock files ----------------------------------------------------------------------------
def test_refuse_if_open_in_excel(good):
    refuse_if_open(good)
    lock = good.with_name("~$team.xlsx")
    lock.write_bytes(b"\x0bJane Doe")
    with pytest.raises(WorkbookError, match=r"team\.xlsx is open in Excel \(lock file "
                                            r"~\$team\.xlsx\); close it and try again"):
        refuse_if_open(good)


def test_refuse_if_open_in_libreoffice(good):
    good.with_name(".~lock.team.xlsx#").write_text("Jane,host,...")
    with pytest.raises(WorkbookError, match="open in LibreOffice"):
        refuse_if_open(good)


# --- atomic replace --------------------------------------------------------------------------
def test_atomic_replace_keeps_a_backup(tmp_path):
    target = tmp_path / "team.xlsx"
    target.write_bytes(b"old contents")
    os.chmod(target, 0o640)
    tmp = temp_path_beside(target)
    assert tmp.parent == tmp_path and tmp.exists()
    tmp.write_bytes(b"new contents")
    kept = atomic_replace(tmp, target)
    assert kept == tmp_path / "team.bak.xlsx" == backup_path(target)
    assert target.read_bytes() == b"new contents"
    assert kept.read_bytes() == b"old contents"
    assert not tmp.exists()
    assert stat.S_IMODE(target.stat().st_mode) == 0o640  # permissions of the old file
    # a second save replaces the backup with the previous version
    tmp2 = temp_path_beside(target)
    tmp2.write_bytes(b"newer")
    atomic_replace(tmp2, target)
    assert kept.read_bytes() == b"new contents" and target.read_bytes() == b"newer"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["team.bak.xlsx", "team.xlsx"]


def test_atomic_replace_without_backup_or_previous_file(tmp_path):
    target = tmp_path / "new.xlsm"
    tmp = temp_path_beside(target)
    tmp.write_bytes(b"x")
    assert atomic_replace(tmp, target) is None
    assert backup_path(target).name == "new.bak.xlsm"
    tmp = temp_path_beside(target)
    tmp.write_bytes(b"y")
    assert atomic_replace(tmp, target, backup=False) is None
    assert not backup_path(target).exists() and target.read_bytes() == b"y"


def test_atomic_replace_needs_the_same_folder(tmp_path):
    (tmp_path / "a").mkdir()
    tmp = tmp_path / "a" / "x.tmp"
    tmp.write_bytes(b"x")
    with pytest.raises(ValueError, match="same|folder"):
        atomic_replace(tmp, tmp_path / "team.xlsx")
