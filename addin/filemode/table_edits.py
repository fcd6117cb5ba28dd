"""Write edits of user-owned tables into a workbook on disk, alone or with a recompute.

The one write path of merge and import into the user's tables (``tblAccounts``,
``tblFeedback``, ``tblExpectations``, ...): the edits are made by
:mod:`maillon.addin.ooxml.table_patch` (only the edited sheets' XML and their
table parts change; every other part stays byte-identical), and the file is
replaced as a recompute replaces it (:func:`~maillon.addin.filemode.recompute.guarded_save`:
lock, refusal of a file changed meanwhile, atomic save, backup).

Example
-------
::

    from maillon.addin.ooxml.table_patch import TableEdit
    save_table_edits("team.xlsx", [TableEdit("tblAccounts", cells={(5, "City"): "Lyon"})])
    recompute_with_edits("team.xlsx", [TableEdit("tblFeedback", new_rows=[{...}])])
"""
from __future__ import annotations

import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from maillon.addin.filemode.recompute import (Outcome, _noop, guarded_save, recompute_into)
from maillon.addin.ooxml.package import Package
from maillon.addin.ooxml.table_patch import TableEdit, patch_parts, write_package

__all__ = ["TableEdit", "save_table_edits", "recompute_with_edits"]


def _write_edited(path: Path, edits: Sequence[TableEdit], written: Path) -> None:
    with Package(path) as pkg:
        write_package(pkg, written, patch_parts(pkg, edits))


def save_table_edits(path, edits: Sequence[TableEdit], out=None, progress=_noop) -> Path | None:
    """Make ``edits`` in ``path`` (or write the result to ``out``); returns the backup path.

    Nothing else changes: the engine-owned sheets are not recomputed.
    """
    with guarded_save(path, out) as save:
        progress("Writing the tables")
        with save.writing() as written:
            _write_edited(save.path, edits, written)
            return save.commit(written)


def recompute_with_edits(path, edits: Sequence[TableEdit], out=None, progress=_noop, *,
                         adjust=None, run_at=None, run_by=None, inp=None) -> Outcome:
    """Make ``edits``, then recompute the result, in one save (one backup of the original).

    ``adjust(engine_input)`` may change the engine input read from the edited
    workbook before the engine runs; ``inp`` is the engine input of the edited
    workbook when the caller has it (see
    :func:`~maillon.addin.filemode.recompute.recompute_into`).
    """
    started = time.perf_counter()
    path = Path(path)
    with guarded_save(path, out) as save:
        progress("Writing the tables")
        with tempfile.TemporaryDirectory(prefix="maillon-") as tmp:
            edited = Path(tmp) / f"edited{path.suffix.lower()}"
            _write_edited(save.path, edits, edited)
            result, backup = recompute_into(edited, save, progress, adjust=adjust,
                                            run_at=run_at, run_by=run_by, inp=inp)
    return Outcome(result, save.out, backup, time.perf_counter() - started)
