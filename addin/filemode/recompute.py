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

import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from maillon.engine import contract as C

from maillon.addin.ooxml.safe_io import WorkbookError, atomic_replace, refuse_if_open, temp_path_beside
from maillon.addin.engine_input import TABLES_TO_READ
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
    if not path.exists():
        raise WorkbookError(f"{path}: no such file")
    if path.suffix.lower() not in SUFFIXES:
        raise WorkbookError(f"{path}: expected an Excel workbook (.xlsx or .xlsm)")


def read_input(path: Path, progress=_noop, *, run_at=None, run_by=None) -> EngineInput:
    """Engine input read from a workbook on disk (nothing is written).

    The package is checked and its sheets parsed in background threads while
    the engine (pandas, scikit-learn) is imported here. ``run_at`` and
    ``run_by`` default to now and the current user.
    """
    path = Path(path)
    _check_path(path)
    progress("Reading the workbook")
    with GridReader(path, TABLES_TO_READ, whole=[C.TBL_PLAN]) as reader:
        import maillon.engine.pipeline  # noqa: F401 - the slow import, while the sheets parse

        from maillon.addin.engine_input import build_engine_input
        from maillon.addin.filemode.read import tables_from

        found = tables_from(reader)
    tables = {name: data.data for name, data in found.items()}
    extra = found[C.TBL_PLAN].below if C.TBL_PLAN in found else None
    return build_engine_input(tables, plan_extra_rows=extra, run_at=run_at, run_by=run_by)


def validate_file(path: Path, progress=_noop) -> list[str]:
    """Check a workbook without writing; returns warnings, raises InputError/WorkbookError."""
    inp = read_input(path, progress)
    from maillon.engine.validate import validate

    progress("Checking the tables")
    return validate(inp).warnings


def recompute_file(path: Path, out: Path | None = None, progress=_noop, *,
                   run_at=None, run_by=None) -> Outcome:
    """Recompute ``path`` and write the result to ``out`` (default: in place, with a backup)."""
    started = time.perf_counter()
    path = Path(path)
    out = Path(out) if out else path
    _check_path(path)
    refuse_if_open(path)
    if out != path:
        if out.suffix.lower() != path.suffix.lower():
            raise WorkbookError(f"{out}: must have the same extension as {path.name}")
        refuse_if_open(out)
    inp = read_input(path, progress, run_at=run_at, run_by=run_by)
    from maillon.engine.pipeline import recompute

    from maillon.addin.render.layout import layout
    from maillon.addin.filemode.write import render_skeleton
    from maillon.addin.ooxml.graft import graft

    progress("Segmenting, classifying and ranking")
    result = recompute(inp)
    progress("Writing the engine-owned sheets")
    specs = layout(result)
    with tempfile.TemporaryDirectory(prefix="maillon-") as tmp:
        rendered = Path(tmp) / "rendered.xlsx"
        bodies = render_skeleton(specs, rendered)
        grafted = temp_path_beside(out)
        try:
            graft(path, rendered, grafted, list(C.ENGINE_SHEETS), bodies=bodies)
            progress("Saving")
            backup = atomic_replace(grafted, out, backup=out.exists())
        finally:
            grafted.unlink(missing_ok=True)
    return Outcome(result, out, backup, time.perf_counter() - started)
