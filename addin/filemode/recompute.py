"""The file mode: recompute a workbook on disk, no Excel needed.

Reads the tables with python-calamine, runs the engine, renders the
engine-owned sheets with XlsxWriter into a temporary package and grafts their
parts into the user's package; every other part stays byte-identical. The
result replaces the file atomically and the previous file is kept as a backup.

pandas and scikit-learn take 1.5 to 2 s to import. The sheets are parsed in
background threads (python-calamine frees the GIL) while they are imported,
so this module imports the engine and the renderer only once the read has
started (see :func:`read_input`).
"""
from __future__ import annotations

import os
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from maillon.engine import contract as C

from maillon.addin.ooxml.safe_io import WorkbookError
from maillon.addin.filemode.files import (atomic_replace, fingerprint, os_error_message,
                                          refuse_if_changed, refuse_if_open, refuse_if_read_only,
                                          refuse_unwritable_folder, run_lock, temp_path_beside)
from maillon.addin.engine_input import TABLES_TO_READ, USER_TABLES
from maillon.addin.ooxml.package import Package, last_saved_by, saved_by_excel
from maillon.addin.ooxml.safe_io import check_package
from maillon.addin.filemode.grids import GridReader

if TYPE_CHECKING:
    from maillon.engine.model import EngineInput, EngineResult

SUFFIXES = (".xlsx", ".xlsm")


def _noop(message: str) -> None:
    pass


@dataclass
class Outcome:
    result: EngineResult
    path: Path
    backup: Path | None
    seconds: float


def _check_path(path: Path) -> None:
    try:
        path.stat()
    except FileNotFoundError:
        raise WorkbookError(f"{path}: no such file") from None
    except OSError as exc:
        raise WorkbookError(os_error_message(exc, "be read", path)) from None
    if path.suffix.lower() not in SUFFIXES:
        raise WorkbookError(f"{path}: expected an Excel workbook (.xlsx or .xlsm)")


def _refuse_case_twins(pkg: Package) -> None:
    """Refuse a user's sheet whose name is an engine sheet's in other letter case.

    Excel compares sheet names without case, so ``TARGET LIST`` is the
    ``Target List`` slot: a recompute would overwrite what the user keeps there.
    """
    engine = {name.casefold(): name for name in C.ENGINE_SHEETS}
    for sheet in pkg.sheets:
        owned = engine.get(sheet.name.casefold())
        if owned is not None and owned != sheet.name:
            raise WorkbookError(
                f"{pkg.path.name}: the sheet {sheet.name!r} differs from the engine-owned "
                f"sheet {owned!r} only in letter case, which Excel sees as the same name: "
                f"a recompute would overwrite it. Rename that sheet (for example "
                f"{sheet.name + ' (mine)'!r}), or to {owned!r} if it is Maillon's sheet, and "
                f"try again; nothing was changed.")


def _refuse_tables_lost(path: Path) -> None:
    """None of the user tables is there: say why when another program saved the file."""
    with Package(path) as pkg:
        app = last_saved_by(pkg)
    if saved_by_excel(app):
        return  # the usual message lists the missing tables
    app = app[:1].upper() + app[1:]  # Gnumeric writes "gnumeric"
    names = ", ".join(table for _, table in USER_TABLES)
    raise WorkbookError(
        f"{path.name} has none of its Excel tables any more ({names}): it was last saved by "
        f"{app}, which does not keep Excel tables. To get them back, restore the backup "
        f"saved before (for example {path.stem}.bak{path.suffix}) or an earlier copy, or "
        f"select each range in Excel and recreate it with Insert › Table, named exactly as "
        f"above (Table Design › Table Name); nothing was changed.")


def read_workbook(path: Path, progress=_noop):
    """The tables a recompute reads, as read (``{name: TableData}``), and the loose content
    of the engine sheets; nothing is written. See :func:`read_input`."""
    path = Path(path)
    _check_path(path)
    progress("Reading the workbook")
    check_package(path, verify_data=False)  # cheap: structure and prologs (again in the reader)
    with Package(path) as pkg:
        _refuse_case_twins(pkg)
    # the reader also refuses damaged sheets (a part missing, XML not well-formed)
    with GridReader(path, TABLES_TO_READ, whole=[C.TBL_PLAN],
                    check_sheets_except=C.ENGINE_SHEETS) as reader:
        import maillon.engine.pipeline  # noqa: F401 - the slow import, while the sheets parse

        from maillon.addin.filemode.read import tables_from

        found = tables_from(reader)
    from maillon.addin.filemode.loose import read_loose

    history = found.get(C.TBL_HISTORY)
    return found, read_loose(path, None if history is None else history.data)


def input_from(path: Path, found: dict, loose, *, tables: dict | None = None,
               plan_extra_rows=None, run_at=None, run_by=None) -> EngineInput:
    """Engine input from what :func:`read_workbook` read in ``path``; ``tables``
    (name -> frame) replaces some of the frames read (a merge's, as it will write them);
    ``plan_extra_rows`` replaces the rows read below ``tblPlan``."""
    if not any(table in found for _, table in USER_TABLES):
        _refuse_tables_lost(Path(path))
    frames = {name: data.data for name, data in found.items()}
    frames.update(tables or {})
    if plan_extra_rows is None and C.TBL_PLAN in found:
        plan_extra_rows = found[C.TBL_PLAN].below
    from maillon.addin.engine_input import build_engine_input

    return build_engine_input(frames, plan_extra_rows=plan_extra_rows, run_at=run_at,
                              run_by=run_by, loose=loose)


def read_input(path: Path, progress=_noop, *, run_at=None, run_by=None) -> EngineInput:
    """Engine input read from a workbook on disk (nothing is written).

    The package is checked and its sheets parsed in background threads while
    the engine (pandas, scikit-learn) is imported here. ``run_at`` and
    ``run_by`` default to now and the current user.
    """
    found, loose = read_workbook(path, progress)
    return input_from(path, found, loose, run_at=run_at, run_by=run_by)


def validate_file(path: Path, progress=_noop) -> list[str]:
    """Check a workbook without writing; returns warnings, raises InputError/WorkbookError."""
    inp = read_input(path, progress)
    from maillon.engine.validate import validate

    progress("Checking the tables")
    return validate(inp).warnings


def _write_target(out: Path) -> Path:
    """The file a save replaces: a symbolic link is followed (the link stays a link)."""
    if not out.is_symlink():
        return out
    target = Path(os.path.realpath(out))
    if not target.exists():
        raise WorkbookError(f"{out.name} is a symbolic link to {target}, which does not "
                            f"exist; nothing was changed.")
    return target


class GuardedSave:
    """A save that replaces a workbook safely: see :func:`guarded_save`."""

    def __init__(self, path: Path, out: Path, target: Path):
        self.path, self.out, self.target = path, out, target
        self.in_place = os.path.realpath(path) == os.path.realpath(target)
        self.seen = fingerprint(path)
        self.seen_target = None if self.in_place else fingerprint(target)

    @contextmanager
    def writing(self):
        """A fresh temporary file beside the target, removed however the block ends.

        An ``OSError`` while writing or saving becomes one message about the save.
        """
        written = temp_path_beside(self.target)
        try:
            yield written
        except OSError as exc:
            raise WorkbookError(os_error_message(exc, "be saved", self.out)) from None
        finally:
            written.unlink(missing_ok=True)

    def commit(self, written: Path) -> Path | None:
        """Put ``written`` in place of the target, unless a file changed since it was read."""
        refuse_if_changed(self.path, self.seen)
        if not self.in_place:
            refuse_if_changed(self.target, self.seen_target)
        return atomic_replace(written, self.target, backup=self.target.exists())


@contextmanager
def guarded_save(path, out=None):
    """Everything a run that rewrites ``path`` (or writes ``out``) must refuse, then its lock.

    Refused, with nothing changed: a workbook open in Excel or LibreOffice, one
    that another Maillon run is working on (its lock file
    ``.team.xlsx.maillon-lock``), a read-only file, an output of another
    extension. A symbolic link is followed: the file it points to is replaced,
    the link stays. Yields a :class:`GuardedSave` whose :meth:`~GuardedSave.commit`
    refuses a file that another program saved while the run worked.
    """
    path = Path(path)
    out = Path(out) if out else path
    _check_path(path)
    refuse_if_open(path)
    if out != path:
        if out.suffix.lower() != path.suffix.lower():
            raise WorkbookError(f"{out}: must have the same extension as {path.name}")
        refuse_if_open(out)
    target = _write_target(out)
    if target != out:
        refuse_if_open(target)
    refuse_unwritable_folder(target)
    refuse_if_read_only(target)
    with run_lock(target):
        yield GuardedSave(path, out, target)


def record_base(path: Path, inp, result):
    """The merge base this run records (a custom XML item), keeping the workbook's identity."""
    from maillon.engine.base import new_id, snapshot

    from maillon.addin.filemode.base_store import base_item, read_identity

    with Package(path) as pkg:
        identity = read_identity(pkg)
    workbook = identity["workbook"] if identity else new_id()
    return base_item(snapshot(inp, result, workbook, new_id()))


def engine_sheets(result) -> list[str]:
    """The engine-owned sheets a recompute writes: the contract's, and Merge after a merge."""
    names = list(C.ENGINE_SHEETS)
    if getattr(result, "merge", None) is not None:
        names.append(C.SHEET_MERGE)
    return names


def recompute_into(source: Path, save: GuardedSave, progress=_noop, *, adjust=None,
                   run_at=None, run_by=None, inp=None) -> tuple[EngineResult, Path | None]:
    """Recompute the workbook ``source`` and commit the result through ``save``.

    ``source`` is ``save.path`` itself, or a file made from it in this run (the
    edits of a merge or an import). ``adjust(engine_input)`` may return a
    changed engine input before the engine runs. ``inp``: the engine input of
    ``source`` when the caller already has it (a merge builds it from the tables
    it read and the cells it writes, instead of reading them again); ``run_at``
    and ``run_by`` then are its own. Returns the result and the backup path.
    """
    if inp is None:
        inp = read_input(source, progress, run_at=run_at, run_by=run_by)
    if adjust is not None:
        inp = adjust(inp)
    from maillon.engine.pipeline import recompute

    from maillon.addin.render.layout import kept_aside_note, layout
    from maillon.addin.filemode.write import render_skeleton
    from maillon.addin.ooxml.graft import graft
    from maillon.addin.render.specs import ENGINE_AREA_NAME

    progress("Segmenting, classifying and ranking")
    result = recompute(inp)
    progress("Writing the engine-owned sheets")
    specs = layout(result)
    note = kept_aside_note(result, specs)
    if note:
        result.warnings.append(note)
    base = record_base(source, inp, result)
    with tempfile.TemporaryDirectory(prefix="maillon-") as tmp, save.writing() as grafted:
        rendered = Path(tmp) / "rendered.xlsx"
        bodies = render_skeleton(specs, rendered)
        graft(source, rendered, grafted, engine_sheets(result), bodies=bodies, custom_xml=base,
              hidden_names=[ENGINE_AREA_NAME])
        progress("Saving")
        backup = save.commit(grafted)
    return result, backup


def recompute_file(path: Path, out: Path | None = None, progress=_noop, *,
                   run_at=None, run_by=None) -> Outcome:
    """Recompute ``path`` and write the result to ``out`` (default: in place, with a backup).

    Refused, with nothing changed, what :func:`guarded_save` refuses, and a
    file that another program saved while this run worked (it would otherwise
    be lost). No temporary file is left beside the workbook, however the run
    ends.
    """
    started = time.perf_counter()
    with guarded_save(path, out) as save:
        result, backup = recompute_into(save.path, save, progress, run_at=run_at, run_by=run_by)
    return Outcome(result, save.out, backup, time.perf_counter() - started)


def recompute_with_decisions(path, out=None, progress=_noop):
    """``maillon recompute`` (and the live Recompute segments when decisions are typed):
    the decisions typed on Import Review, else those on the Merge sheet, are applied in the
    same save as the recompute; with none, a plain recompute."""
    from maillon.addin.filemode.importing import has_decisions, recompute_applying_decisions
    from maillon.addin.filemode.merge import apply_decisions_and_recompute

    path = Path(path)
    if has_decisions(path):  # decisions typed on Import Review: applied first
        return recompute_applying_decisions(path, out, progress)
    outcome = apply_decisions_and_recompute(path, out, progress)  # the Merge sheet's
    return outcome if outcome is not None else recompute_file(path, out, progress)
