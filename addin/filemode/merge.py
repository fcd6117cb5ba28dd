"""``maillon merge`` and ``maillon diff`` in file mode: the email round trip.

:func:`merge_files` merges copies of a workbook into the team workbook, three
way, against the base that the recompute they descend from recorded
(:mod:`maillon.addin.filemode.base_store`); the merge itself is the engine's
(:mod:`maillon.engine.merge`). The user tables are changed through the one
writer of user tables (:mod:`maillon.addin.filemode.table_edits`), then the
workbook is recomputed in the same save, with the **Merge** sheet listing
every change and conflict. :func:`diff_files` lists what changed between two
versions, writing nothing.

Which base a copy merges against:

- its run (recorded beside the base) is the team workbook's: the team
  workbook's base;
- an older run of the same workbook whose base the copy still holds (Excel
  and LibreOffice keep it): that base;
- a copy that lost the record (saved by openpyxl or Gnumeric) is recognised
  by its History: the last recompute it lists is the team workbook's last;
- otherwise it is refused, with the run each file comes from; ``--base
  SENT.xlsx`` names the file as it was sent, which then serves as the base.

A copy from another workbook, a file that is not a Maillon workbook, a damaged
package and a copy open in Excel are refused with one message naming the file,
and nothing is written. The copies are only read.

Until decided, a conflicting cell is highlighted where it lives: in a user
table by the table writer's mark (``TableEdit.marks``; ``styles.xml`` gains a
clone of the cell's style with the conflict fill), on the engine sheets by the
renderer (a conditional format on the cell, from the open rows of
``tblMerge``). Applying a decision clears the mark.

Speed: the team workbook is read once, as a recompute reads it, and the
recompute after the merge takes those tables with the merge's cells in them
(:func:`~maillon.addin.filemode.recompute.input_from`) instead of reading the
edited file again; a copy's engine tables are read with their key and merged
columns only, its ``tblTargets`` straight from the sheet XML when it can
(:mod:`maillon.addin.filemode.text_columns`). The copies are read by worker
processes while the team workbook is read, when fork is safe and the machine
has a core to spare (:mod:`maillon.addin.filemode.copy_readers`), else two at a
time in threads once it is read.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path

from maillon.engine import contract as C
from maillon.engine.errors import InputError

from maillon.addin.filemode.base_store import read_base, read_identity
from maillon.addin.filemode.files import fingerprint, refuse_if_changed, refuse_if_open
from maillon.addin.filemode.recompute import SUFFIXES, _noop
from maillon.addin.ooxml.package import (Package, last_saved_by, local, parse_ref,
                                         saved_by_excel)
from maillon.addin.ooxml.safe_io import WorkbookError, check_package

__all__ = ["merge_files", "diff_files", "MergeReport", "apply_decisions_and_recompute"]

MERGED = (C.TBL_SETTINGS, C.TBL_EXPECTATIONS, C.TBL_ACCOUNTS, C.TBL_FEEDBACK, C.TBL_PLAYBOOK,
          C.TBL_SEGMENTS, C.TBL_TARGETS, C.TBL_PLAN)
TO_READ = MERGED + (C.TBL_HISTORY, C.TBL_MERGE, C.TBL_MERGE_FILES)
#: what a copy needs (its History only when it lost the record of its run: read then)
COPY_READ = MERGED
# --------------------------------------------------------------------------- one file
@dataclass
class Side:
    """One workbook of a merge, as read (never written)."""

    path: Path
    role: str  # "team", "copy" or "base"
    label: str = ""
    tables: dict = field(default_factory=dict)  # name -> TableData
    identity: dict | None = None
    modified_by: str = ""
    modified: str = ""
    runs: list = field(default_factory=list)  # History's Run at, as datetimes
    sheets: list = field(default_factory=list)
    loose: list | None = None  # the team workbook's: what the recompute after the merge needs
    seen: object = None  # the team workbook's fingerprint before it was read
    _base: object = None

    def frame(self, name):
        from maillon.engine.merge import PLAN_BELOW

        if name == PLAN_BELOW:  # the rows typed below tblPlan
            data = self.tables.get(C.TBL_PLAN)
            return None if data is None else data.below
        data = self.tables.get(name)
        return None if data is None else data.data

    @property
    def last_run(self) -> dt.datetime | None:
        return self.runs[-1] if self.runs else None

    def base(self):
        if self._base is None:
            with Package(self.path) as pkg:
                self._base = read_base(pkg)
        return self._base

    def describe_run(self) -> str:
        if self.identity:
            return f"the recompute of {self.identity['runAt']} by {self.identity['runBy'] or '?'}"
        if self.last_run:
            return f"the recompute of {self.last_run:%Y-%m-%d %H:%M:%S}"
        return "no recompute that Maillon can tell"


def _core_properties(pkg: Package) -> tuple[str, str]:
    part = next((r.target for r in pkg.rels("") if r.kind == "core-properties"
                 and not r.external), "docProps/core.xml")
    if not pkg.has(part):
        return "", ""
    try:
        root = pkg.xml(part)
    except WorkbookError:
        return "", ""
    found = {local(el.tag): (el.text or "").strip() for el in root}
    modified = found.get("modified", "")
    m = re.match(r"(\d{4}-\d\d-\d\d)T(\d\d:\d\d)", modified)
    return found.get("lastModifiedBy", ""), (f"{m.group(1)} {m.group(2)}" if m else modified)


def _as_datetime(value) -> dt.datetime | None:
    import pandas as pd

    if value is None:
        return None
    try:
        if isinstance(value, (int, float)):
            from maillon.engine.cells import EXCEL_EPOCH

            return EXCEL_EPOCH + dt.timedelta(days=float(value))
        stamp = pd.Timestamp(value)
        return None if pd.isna(stamp) else stamp.to_pydatetime().replace(microsecond=0)
    except (ValueError, TypeError, OverflowError):
        return None


def _merged_columns(name):
    """What a copy's engine table needs: its key and the columns that merge (the computed
    columns are left out as they are read: at 100k rows they cost seconds)."""
    def keep(headers):
        from maillon.engine.merge import MERGE_TABLES

        spec = MERGE_TABLES[name]
        return [spec.key] + spec.merge_columns(headers)
    return keep


_COPY_COLUMNS = {name: _merged_columns(name) for name in (C.TBL_TARGETS, C.TBL_SEGMENTS,
                                                          C.TBL_PLAN)}


def _read_copy(path: Path, names: list[str]) -> dict:
    """A copy's tables; its tblTargets by :func:`~maillon.addin.filemode.text_columns.text_columns`
    when it can (the key and the editable columns are text: the biggest sheet need not
    become Python objects), else as the other tables."""
    from maillon.addin.filemode.read import TableData, read_tables
    from maillon.addin.filemode.text_columns import text_columns

    checked: list[str] = []  # its sheet and the shared strings: not checked twice
    found = text_columns(path, C.TBL_TARGETS, _COPY_COLUMNS[C.TBL_TARGETS], checked)
    rest = [n for n in names if found is None or n != C.TBL_TARGETS]
    # one parsing thread: the copies are read side by side (threads or processes), and each
    # thread more parses the shared strings again
    tables = read_tables(path, rest, below=[C.TBL_PLAN], columns=_COPY_COLUMNS,
                         checked=checked, threads=1)
    if found is not None:
        frame, info = found
        tables[C.TBL_TARGETS] = TableData(info.name, info.sheet, info.ref, list(info.headers),
                                          frame, first_row=info.bounds[0],
                                          first_col=info.bounds[1])
    return tables


def read_side(path, role: str, progress=_noop) -> Side:
    """Read one workbook of a merge; refuses what cannot be merged, naming the file."""

    path = Path(path)
    try:
        path.stat()
    except FileNotFoundError:
        raise WorkbookError(f"{path}: no such file") from None
    if path.suffix.lower() not in SUFFIXES:
        raise WorkbookError(f"{path}: expected an Excel workbook (.xlsx or .xlsm)")
    refuse_if_open(path)
    progress(f"Reading {path.name}")
    check_package(path, verify_data=False)  # structure; the cells are read below
    side = Side(path, role)
    if role == "team":
        side.seen = fingerprint(path)
    with Package(path) as pkg:
        side.identity = read_identity(pkg)
        side.modified_by, side.modified = _core_properties(pkg)
        side.sheets = [s.name for s in pkg.sheets]
    try:
        if role == "team":  # everything a recompute reads, for the recompute after the merge
            from maillon.addin.filemode.recompute import read_workbook

            side.tables, side.loose = read_workbook(path)
        else:
            side.tables = _read_copy(path, list(COPY_READ if side.identity else TO_READ))
    except InputError as exc:
        raise WorkbookError(f"{path.name}: {exc}") from None
    if C.TBL_ACCOUNTS not in side.tables and C.TBL_TARGETS not in side.tables:
        with Package(path) as pkg:
            app = last_saved_by(pkg)
        if C.SHEET_ACCOUNTS in side.sheets and not saved_by_excel(app):
            raise WorkbookError(
                f"{path.name} has none of Maillon's Excel tables any more: it was last saved "
                f"by {app}, which does not keep Excel tables; ask for a copy saved by Excel "
                f"or LibreOffice; nothing was merged.")
        raise WorkbookError(f"{path.name} is not a Maillon workbook: it has neither the table "
                            f"{C.TBL_ACCOUNTS} (sheet {C.SHEET_ACCOUNTS}) nor {C.TBL_TARGETS} "
                            f"(sheet {C.SHEET_TARGETS}); nothing was merged.")
    from maillon.engine.merge import MERGE_TABLES

    for name in (C.TBL_TARGETS, C.TBL_SEGMENTS, C.TBL_PLAN):  # keep what merges: memory
        data = side.tables.get(name)
        spec = MERGE_TABLES[name]
        if role != "team" and data is not None and spec.key in data.data.columns:
            data.data = data.data[[spec.key] + spec.merge_columns(data.data.columns)]
    hist = side.frame(C.TBL_HISTORY)
    if hist is not None and "Run at" in hist.columns:
        side.runs = [d for d in (_as_datetime(v) for v in hist["Run at"]) if d is not None]
    return side


def _read_copy_side(path: Path) -> Side:
    """A copy read in a worker process (:mod:`~maillon.addin.filemode.copy_readers`)."""
    return read_side(path, "copy")


def _read_all(paths: list[Path], progress=_noop) -> list[Side]:
    """The copies, read two at a time (python-calamine parses without holding the GIL)."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(2, thread_name_prefix="maillon-merge") as pool:
        futures = [pool.submit(read_side, p, "copy", progress) for p in paths]
        return [f.result() for f in futures]  # the first refusal, in the order given


def _same_time(a: dt.datetime | None, b: dt.datetime | None) -> bool:
    return a is not None and b is not None and abs((a - b).total_seconds()) <= 1


def _run_time(identity: dict | None) -> dt.datetime | None:
    return _as_datetime(identity["runAt"]) if identity else None


def _labels(sides: list[Side]) -> None:
    seen: dict[str, int] = {}
    for s in sides:
        label = s.path.stem[:40]
        n = seen.get(label.casefold(), 0) + 1
        seen[label.casefold()] = n
        s.label = label if n == 1 else f"{label} ({n})"
        if s.label in (C.DECISION_BASE, C.DECISION_KEEP_ROW, C.DECISION_DELETE_ROW) \
                or s.label in C.MERGE_COLUMNS or s.label in C.MERGE_TAIL_COLUMNS:
            s.label = f"{s.label} (file)"


# --------------------------------------------------------------------------- bases
def _plain_base(side: Side):
    """A workbook as sent, used as the base (``--base``)."""
    from maillon.engine.base import Base

    from maillon.engine.merge import PLAN_BELOW

    tables = {}
    for name in MERGED + (PLAN_BELOW,):
        frame = side.frame(name)
        if frame is not None:
            tables[name] = frame.reset_index(drop=True)
    ident = side.identity or {}
    return Base(ident.get("workbook", ""), ident.get("run", f"file:{side.path.name}"),
                ident.get("runAt", ""), ident.get("runBy", ""), tables)


def resolve_bases(team: Side, copies: list[Side], sent: Side | None) -> list[tuple[object, list]]:
    """Group the copies by the base they merge against: ``[(base, [copy, ...]), ...]``."""
    if sent is not None:
        return [(_plain_base(sent), copies)]
    if team.identity is None:
        raise WorkbookError(
            f"{team.path.name} holds no merge base: it was not recomputed by this version of "
            f"Maillon since it was sent, or it was last saved by a program that drops it "
            f"(openpyxl, Gnumeric). Recompute the workbook before sending it, or name the file "
            f"as it was sent with --base SENT.xlsx; nothing was merged.")
    team_base = team.base()
    team_run_at = _run_time(team.identity)
    groups: dict[str, tuple[object, list]] = {team.identity["run"]: (team_base, [])}
    for c in copies:
        ident = c.identity
        if ident is not None:
            if ident["workbook"] != team.identity["workbook"]:
                raise WorkbookError(
                    f"{c.path.name} is a copy of another workbook, not of {team.path.name} "
                    f"(each workbook keeps its own identity from its first recompute); "
                    f"nothing was merged.")
            if ident["run"] in groups:
                groups[ident["run"]][1].append(c)
                continue
            own = c.base()
            if own is None:
                raise WorkbookError(f"{c.path.name}: its merge base cannot be found; nothing "
                                    f"was merged.")
            groups[ident["run"]] = (own, [c])
            continue
        # the record was dropped (openpyxl, Gnumeric): tell the run by History
        if not c.runs:
            raise WorkbookError(
                f"{c.path.name} has no History of recomputes and no merge base: it is not a "
                f"copy of a recomputed Maillon workbook; nothing was merged.")
        if _same_time(c.last_run, team_run_at):
            groups[team.identity["run"]][1].append(c)
            continue
        if not any(_same_time(c.last_run, r) for r in team.runs):
            raise WorkbookError(
                f"{c.path.name} is a copy of another workbook: its last recompute "
                f"({c.last_run:%Y-%m-%d %H:%M:%S}) is not in the History of {team.path.name}; "
                f"nothing was merged.")
        raise WorkbookError(
            f"{c.path.name} is a stale copy: it comes from {c.describe_run()}, and "
            f"{team.path.name} from {team.describe_run()}; its own merge base was not kept "
            f"(it was last saved by a program that drops it). Merge it with --base and the "
            f"file as it was sent then; nothing was merged.")
    return [g for g in groups.values() if g[1]]


# --------------------------------------------------------------------------- the merge
@dataclass
class _Work:
    """The team workbook's tables as the merge changes them, and the edits so far."""

    frame: object  # DataFrame, Excel rows as index (new rows numbered after the table)
    cells: dict = field(default_factory=dict)
    new_rows: dict = field(default_factory=dict)  # row number -> {column: value}
    new_columns: list = field(default_factory=list)
    next_row: int = 0
    marks: dict = field(default_factory=dict)  # (row, column) -> "conflict" or None (cleared)


def _plain_value(v):
    """A value as the table writer takes it (no NumPy or pandas scalars, NaN is blank)."""
    import numpy as np
    import pandas as pd

    if v is None:
        return None
    if isinstance(v, pd.Timestamp):
        return None if pd.isna(v) else v.to_pydatetime()
    if isinstance(v, np.datetime64):
        return None if np.isnat(v) else pd.Timestamp(v).to_pydatetime()
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and v != v:
        return None
    return v


def _work_of(team: Side, plan_below: bool = True) -> dict[str, _Work]:
    """The tables to merge into; with ``plan_below``, the rows typed below tblPlan too
    (which only a recompute writes back: they are not a table)."""
    import pandas as pd

    from maillon.engine.merge import PLAN_BELOW

    work = {}
    for name in MERGED:
        data = team.tables.get(name)
        if data is None:
            continue
        last = parse_ref(data.ref)[2]
        work[name] = _Work(data.data.copy(), next_row=last + 1)
    plan = team.tables.get(C.TBL_PLAN)
    if plan_below and plan is not None:
        below = plan.below
        if below is None:
            below = pd.DataFrame(columns=plan.data.columns, dtype=object)
            below.index.name = plan.data.index.name
        first = parse_ref(plan.ref)[2] + 2
        work[PLAN_BELOW] = _Work(below.copy(), next_row=max([first, *(below.index + 1)]))
    return work


def _apply(w: _Work, out) -> None:
    """Apply one table's merge result to the working frame and the edits so far.

    Cells are set column by column on arrays and new rows appended in one
    concat (a pandas ``.loc`` per cell would cost seconds for a few thousand).
    """
    import numpy as np
    import pandas as pd

    def ensure(col):
        if col not in w.frame.columns:
            w.frame[col] = pd.Series(np.full(len(w.frame), np.nan, dtype=object),
                                     index=w.frame.index)
            w.new_columns.append(col)

    for col in out.new_columns:
        ensure(col)
    by_col: dict = {}
    for (row, col), v in out.cells.items():
        v = _plain_value(v)
        ensure(col)
        by_col.setdefault(col, []).append((row, v))
        if row in w.new_rows:
            w.new_rows[row][col] = v
        else:
            w.cells[(row, col)] = v
    if by_col:
        pos = pd.Series(np.arange(len(w.frame)), index=w.frame.index)
        for col, items in by_col.items():
            values = w.frame[col].to_numpy(dtype=object).copy()
            values[pos.loc[[r for r, _ in items]].to_numpy()] = [v for _, v in items]
            w.frame[col] = pd.Series(values, index=w.frame.index).infer_objects()
    w.marks.update(out.marks)
    if out.new_rows:
        added, index = [], []
        marks = out.new_marks or [()] * len(out.new_rows)
        for values, marked in zip(out.new_rows, marks):
            clean = {k: _plain_value(v) for k, v in values.items()}
            for col in clean:
                ensure(col)
            for col in marked:
                w.marks[(w.next_row, col)] = "conflict"
            w.new_rows[w.next_row] = clean
            index.append(w.next_row)
            added.append(clean)
            w.next_row += 1
        new = pd.DataFrame(added, index=pd.Index(index, name=w.frame.index.name),
                           columns=w.frame.columns, dtype=object)
        w.frame = pd.concat([_as_objects(w.frame), new]).infer_objects()


def _as_objects(frame):
    """``frame.astype(object)``, but the cells of its date columns as numpy makes them
    (datetimes, at C speed) rather than as Timestamps: ``infer_objects`` gives both back as
    the same dates; 100k Timestamps cost a third of a second."""
    import numpy as np
    import pandas as pd

    columns = []
    for i in range(frame.shape[1]):
        col = frame.iloc[:, i]
        values = col.to_numpy()
        if values.dtype.kind == "M" and np.datetime_data(values.dtype)[0] in ("s", "ms", "us"):
            columns.append(values.astype(object))  # NaT becomes None
        else:
            columns.append(col.to_numpy(dtype=object))
    out = pd.DataFrame(dict(enumerate(columns)), index=frame.index, dtype=object)
    out.columns = frame.columns
    return out


@dataclass
class MergeReport:
    team: Side
    copies: list
    entries: list  # (entry, [side labels]) of maillon.engine.merge.Entry
    edits: list  # TableEdit
    merge_frame: object  # tblMerge rows of this merge
    files_frame: object  # tblMergeFiles rows of this merge
    decisions: int = 0
    notes: list = field(default_factory=list)
    outcome: object = None
    backup: object = None
    #: the merged tables as the edits leave them in the team workbook (name -> frame),
    #: which the recompute after the merge takes instead of reading them again
    merged: dict = field(default_factory=dict)

    @property
    def changes(self) -> int:
        return sum(not e.conflict for e in self.entries if e.kind != "Missing")

    @property
    def conflicts(self) -> int:
        return sum(e.conflict for e in self.entries)

    @property
    def missing(self) -> int:
        return sum(e.kind == "Missing" for e in self.entries)


def _merge_rows(entries, sides: list[Side], when: dt.datetime):
    import pandas as pd

    labels = [s.label for s in sides]
    rows = []
    for e in entries:
        row = {"Merged at": when, "Sheet": e.sheet, "Key": e.key, "Name": e.name,
               "Column": e.column, "Kind": e.kind, "Base value": _plain_value(e.base)}
        for label, v in zip(labels, e.values):
            row[label] = _plain_value(v)
        row.update({"Value kept": _plain_value(e.kept), "Decision": None, "Applied": None})
        rows.append(row)
    cols = C.MERGE_COLUMNS + labels + C.MERGE_TAIL_COLUMNS
    return pd.DataFrame(rows, columns=cols, dtype=object)


def _files_rows(sides: list[Side], when: dt.datetime):
    import pandas as pd

    rows = [{"Merged at": when, "Label": s.label, "File": str(s.path.name),
             "Role": "team workbook" if s.role == "team" else "copy",
             "Last modified by": s.modified_by, "Modified": s.modified,
             "Base run": s.describe_run()} for s in sides]
    return pd.DataFrame(rows, columns=C.MERGE_FILE_COLUMNS, dtype=object)


def _key_finder(spec, frame):
    """Canonical key -> Excel row of ``frame`` (first occurrence)."""
    from maillon.engine.merge import _keys

    keys = _keys(spec, frame)
    out = {}
    for k, row in zip(keys, frame.index):
        if k is not None:
            out.setdefault(k, row)
    return out


def decided(merge) -> list[int]:
    """Positions of tblMerge rows with a Decision not yet applied."""
    from maillon.engine.cells import is_blank

    if merge is None or "Decision" not in merge.columns:
        return []
    applied = merge["Applied"] if "Applied" in merge.columns else [None] * len(merge)
    return [i for i, (d, a) in enumerate(zip(merge["Decision"], applied))
            if not is_blank(d) and is_blank(a)]


def apply_decisions(work: dict[str, _Work], merge, when: dt.datetime) -> tuple[int, object]:
    """Apply the decided rows of a previous tblMerge to ``work``; returns (count, new frame)."""
    from maillon.engine.cells import is_blank
    from maillon.engine.meaning import canonical, display
    from maillon.engine.merge import MERGE_TABLES, PLAN_BELOW_SPEC, ROW, TableMerge

    todo = decided(merge)
    if not todo:
        return 0, merge
    merge = merge.copy()
    merge["Applied"] = merge["Applied"].astype(object) if "Applied" in merge.columns else None
    by_sheet = {spec.sheet: spec for spec in (*MERGE_TABLES.values(), PLAN_BELOW_SPEC)}
    labels = [c for c in merge.columns
              if c not in C.MERGE_COLUMNS and c not in C.MERGE_TAIL_COLUMNS]
    count = 0
    finders: dict = {}
    for i in todo:
        row = merge.iloc[i]
        spec = by_sheet.get(str(row["Sheet"]))
        decision = str(row["Decision"]).strip()
        if spec is None or spec.table not in work:
            continue
        w = work[spec.table]
        column = str(row["Column"])
        out = TableMerge(spec.table)
        if spec.key is not None:
            if spec.table not in finders:  # rows added meanwhile are not decided on
                finders[spec.table] = _key_finder(spec, w.frame)
            target = finders[spec.table].get(canonical(row["Key"], spec.key_kind))
        else:
            shown = str(row["Key"])
            target = next((r for r, rec in w.frame.iterrows()
                           if " · ".join(display(rec.get(c)) for c in spec.identity[:3]
                                         if c in rec.index) == shown), None)
        if column == ROW:
            if decision.casefold() == C.DECISION_DELETE_ROW.casefold() and target is not None:
                for col in w.frame.columns:
                    out.cells[(target, col)] = None
            elif decision.casefold() != C.DECISION_KEEP_ROW.casefold():
                continue
        else:
            if decision.casefold() == C.DECISION_BASE.casefold():
                value = row["Base value"]
            else:
                label = next((lab for lab in labels if lab.casefold() == decision.casefold()),
                             None)
                if label is None:
                    continue
                value = row[label]
            if target is None:
                continue
            out.cells[(target, column)] = None if is_blank(value) else value
            out.marks[(target, column)] = None  # decided: the highlight goes
        _apply(w, out)
        merge.iat[i, merge.columns.get_loc("Applied")] = when
        count += 1
    return count, merge


def _edits(work: dict[str, _Work]) -> list:
    from maillon.addin.ooxml.table_patch import TableEdit

    from maillon.engine.merge import PLAN_BELOW

    edits = []
    for name, w in work.items():
        if name == PLAN_BELOW:  # not a table: the recompute writes these rows
            continue
        e = TableEdit(name, cells=dict(w.cells), new_rows=list(w.new_rows.values()),
                      new_columns=list(dict.fromkeys(w.new_columns)), marks=dict(w.marks))
        if not e.empty:
            edits.append(e)
    return edits


def plan_merge(team_path, copy_paths, base_path=None, progress=_noop, *,
               when: dt.datetime | None = None, plan_below: bool = True) -> MergeReport:
    """Read the files and work out the merge; nothing is written.

    ``plan_below``: merge the rows typed below tblPlan too (only a recompute
    writes them back, so a merge without one leaves them out).
    """
    import pandas as pd

    from maillon.engine.merge import MERGE_TABLES, PLAN_BELOW, PLAN_BELOW_SPEC, merge_table

    when = when or dt.datetime.now().replace(microsecond=0)
    team_path = Path(team_path)
    paths = [Path(p) for p in copy_paths]
    if not paths:
        raise WorkbookError("name at least one copy to merge into the team workbook")
    for p in paths:
        if p.resolve() == team_path.resolve():
            raise WorkbookError(f"{p.name} is the team workbook itself; name the copies to "
                                f"merge into it")
    from maillon.addin.filemode.copy_readers import CopyReaders

    # the copies are read in worker processes (where fork is safe) while the team workbook
    # is read here; a refusal of the team workbook still comes first, and stops them
    with CopyReaders(paths, _read_copy_side, lambda ps: _read_all(ps, progress)) as readers:
        team = read_side(team_path, "team", progress)
        if any(s.casefold() == C.SHEET_MERGE.casefold() for s in team.sheets) \
                and C.TBL_MERGE not in team.tables:
            raise WorkbookError(
                f"{team_path.name}: the sheet {C.SHEET_MERGE!r} is not Maillon's (it has no "
                f"table {C.TBL_MERGE}); a merge writes that sheet: rename yours and try again; "
                f"nothing was merged.")
        if readers.forked and team.identity is not None:
            team.base()  # decoded here while the workers still read the copies
        copies = readers.results(progress)
    sent = read_side(base_path, "base", progress) if base_path else None
    sides = [team] + copies
    _labels(sides)
    groups = resolve_bases(team, copies, sent)

    progress("Merging")
    work = _work_of(team, plan_below)
    decisions, previous = apply_decisions(work, team.frame(C.TBL_MERGE), when)
    entries = []
    for base, group in groups:
        for name in MERGED + (PLAN_BELOW,):
            if name not in work:
                continue
            spec = MERGE_TABLES.get(name, PLAN_BELOW_SPEC)
            frames = [work[name].frame] + [c.frame(name) for c in group]
            out = merge_table(spec, base.tables.get(name), frames)
            # report values by every side of the merge (copies of other groups: blank)
            for e in out.entries:
                values = [None] * len(sides)
                changed = [False] * len(sides)
                values[0], changed[0] = e.values[0], e.changed[0]
                for c, v, ch in zip(group, e.values[1:], e.changed[1:]):
                    values[sides.index(c)], changed[sides.index(c)] = v, ch
                e.values, e.changed = tuple(values), tuple(changed)
                entries.append(e)
            _apply(work[name], out)
    notes = []
    if sent is None and team.last_run and not _same_time(team.last_run, _run_time(team.identity)):
        notes.append(f"{team.path.name}'s History ends with the recompute of "
                     f"{team.last_run:%Y-%m-%d %H:%M:%S}, but its merge base was recorded by "
                     f"{team.describe_run()} (a recompute in Excel does not record it yet): "
                     f"cells edited between the two may be listed as conflicts; name the file "
                     f"as it was sent with --base to merge against it exactly.")
    team_sheets = {s.casefold() for s in team.sheets}
    for c in copies:
        merged_on = {d.sheet.casefold() for d in c.tables.values()}  # a renamed sheet
        extra = [s for s in c.sheets if s.casefold() not in team_sheets
                 and s.casefold() not in merged_on]
        for s in extra:
            notes.append(f"{c.path.name} has a sheet {s!r} that {team.path.name} has not: it "
                         f"was not carried over; copy it by hand if it is needed.")
    merge_frame = _merge_rows(entries, sides, when)
    if previous is not None and len(previous):
        merge_frame = pd.concat([merge_frame, previous], ignore_index=True)
        tail = [c for c in C.MERGE_TAIL_COLUMNS]
        merge_frame = merge_frame[[c for c in merge_frame.columns if c not in tail] + tail]
    files = _files_rows(sides, when)
    prev_files = team.frame(C.TBL_MERGE_FILES)
    if prev_files is not None and len(prev_files):
        files = pd.concat([files, prev_files], ignore_index=True)
    report = MergeReport(team, copies, entries, _edits(work), merge_frame, files, decisions,
                         notes)
    report.merged = {name: _as_read(w.frame) for name, w in work.items()}
    return report


def _as_read(frame):
    """A merged frame as the reader gives the table once written: all-blank rows left out."""
    if not len(frame):
        return frame
    keep = ~frame.isna().all(axis=1).to_numpy()  # the merge writes None, never "", for blank
    return frame if keep.all() else frame[keep]


def counted(n: int, word: str) -> str:
    """``n`` and ``word``, plural unless ``n`` is 1 (the CLI's summary and History's notes).

    >>> counted(1, "conflict"), counted(1_200, "change"), counted(3, "copy")
    ('1 conflict', '1,200 changes', '3 copies')
    """
    plural = word[:-1] + "ies" if word.endswith("y") and word[-2:-1] not in "aeiou" \
        else word + "s"
    return f"{n:,} {word if n == 1 else plural}"


def _history_note(report: MergeReport, when: dt.datetime) -> dict:
    names = ", ".join(c.path.name for c in report.copies)
    return {"Run at": when, "Kind": "Merge", "Sheet": C.SHEET_MERGE, "Key": "",
            "Column": "", "Value": f"{counted(len(report.copies), 'copy')}: {names}",
            "Note": f"{counted(report.changes, 'change')} applied, "
                    f"{counted(report.conflicts, 'conflict')}, "
                    f"{counted(report.missing, 'missing row')} listed, "
                    f"{counted(report.decisions, 'decision')} applied"}


def _adjust(merge_frame, files_frame, note: dict | None):
    def adjust(inp):
        import pandas as pd

        inp.previous.merge = merge_frame
        inp.previous.merge_files = files_frame
        if note is not None:
            row = pd.DataFrame([note], columns=C.EDIT_COLUMNS)
            prev = inp.previous.edits
            inp.previous.edits = row if prev is None or not len(prev) else \
                pd.concat([prev, row], ignore_index=True)
        return inp
    return adjust


def merge_files(team_path, copy_paths, out=None, *, base_path=None, dry_run=False,
                recompute=True, progress=_noop, when=None) -> MergeReport:
    """Merge ``copy_paths`` into ``team_path`` (or into ``out``); see the module."""
    from maillon.addin.filemode.table_edits import recompute_with_edits

    when = when or dt.datetime.now().replace(microsecond=0)
    report = plan_merge(team_path, copy_paths, base_path, progress, when=when,
                        plan_below=recompute)
    if dry_run:
        return report
    note = _history_note(report, when)
    refuse_if_changed(Path(team_path), report.team.seen)
    if recompute:
        from maillon.addin.filemode.recompute import input_from

        # the engine input of the edited workbook, from the tables already read and the
        # cells the edits write (reading the edited file again would cost a whole read)
        from maillon.engine.merge import PLAN_BELOW

        merged = dict(report.merged)
        below = merged.pop(PLAN_BELOW, None)
        inp = input_from(Path(team_path), report.team.tables, report.team.loose,
                         tables=merged, plan_extra_rows=below)
        report.outcome = recompute_with_edits(
            team_path, report.edits, out, progress,
            adjust=_adjust(report.merge_frame, report.files_frame, note), inp=inp)
    else:
        _save_without_recompute(team_path, report, out, progress)
    return report


def _save_without_recompute(team_path, report: MergeReport, out, progress) -> None:
    """The edits and the Merge sheet, in one save; the engine sheets stay as they are."""
    import tempfile

    from maillon.addin.filemode.recompute import guarded_save
    from maillon.addin.filemode.table_edits import _write_edited
    from maillon.addin.filemode.write import render_skeleton
    from maillon.addin.ooxml.graft import graft
    from maillon.addin.render.layout import merge_sheet

    team_path = Path(team_path)
    with guarded_save(team_path, out) as save:
        progress("Writing the tables and the Merge sheet")
        with tempfile.TemporaryDirectory(prefix="maillon-") as tmp:
            edited = Path(tmp) / f"edited{team_path.suffix.lower()}"
            _write_edited(save.path, report.edits, edited)
            rendered = Path(tmp) / "rendered.xlsx"
            bodies = render_skeleton([merge_sheet(report.merge_frame, report.files_frame)],
                                     rendered)
            with save.writing() as grafted:
                graft(edited, rendered, grafted, [C.SHEET_MERGE], bodies=bodies)
                report.backup = save.commit(grafted)


def apply_decisions_and_recompute(path, out=None, progress=_noop):
    """A recompute that first applies the decisions typed on the Merge sheet.

    Returns the recompute's outcome, or None when the workbook has no decision
    to apply (the caller then recomputes as usual).
    """
    from maillon.addin.filemode.read import read_tables
    from maillon.addin.filemode.recompute import input_from, read_workbook
    from maillon.addin.filemode.table_edits import recompute_with_edits
    from maillon.engine.merge import PLAN_BELOW

    path = Path(path)
    try:
        with Package(path) as pkg:
            names = {s.name for s in pkg.sheets}
    except WorkbookError:
        return None
    if C.SHEET_MERGE not in names:
        return None
    try:
        merge = read_tables(path, [C.TBL_MERGE]).get(C.TBL_MERGE)
    except InputError:
        return None  # the recompute reports it
    if merge is None or not decided(merge.data):
        return None
    seen = fingerprint(path)
    try:
        tables, loose = read_workbook(path, progress)
    except InputError:
        return None  # the recompute reports it
    merge = tables.get(C.TBL_MERGE)
    if merge is None or not decided(merge.data):
        return None
    when = dt.datetime.now().replace(microsecond=0)
    team = Side(path, "team", tables=tables, loose=loose, seen=seen)
    work = _work_of(team)
    count, new_merge = apply_decisions(work, merge.data, when)
    merged = {name: _as_read(w.frame) for name, w in work.items()}
    below = merged.pop(PLAN_BELOW, None)
    files = tables.get(C.TBL_MERGE_FILES)
    note = {"Run at": when, "Kind": "Merge", "Sheet": C.SHEET_MERGE, "Key": "", "Column": "",
            "Value": counted(count, "decision"), "Note": "decisions typed on the Merge sheet applied"}
    refuse_if_changed(path, seen)
    inp = input_from(path, tables, loose, tables=merged, plan_extra_rows=below)
    return recompute_with_edits(path, _edits(work), out, progress,
                                adjust=_adjust(new_merge, None if files is None else files.data,
                                               note), inp=inp)


# --------------------------------------------------------------------------- diff
def diff_files(a_path, b_path, progress=_noop) -> list:
    """What changed from ``a_path`` to ``b_path``: entries by sheet, key and column."""
    from maillon.engine.merge import MERGE_TABLES, merge_table

    a = read_side(a_path, "team", progress)
    b = read_side(b_path, "copy", progress)
    if a.identity and b.identity and a.identity["workbook"] != b.identity["workbook"]:
        raise WorkbookError(f"{Path(b_path).name} is not a version of {Path(a_path).name}: "
                            f"they are two different workbooks.")
    from maillon.engine.merge import PLAN_BELOW, PLAN_BELOW_SPEC

    entries = []
    for name in MERGED + (PLAN_BELOW,):
        fa, fb = a.frame(name), b.frame(name)
        if fa is None and fb is None:
            continue
        spec = MERGE_TABLES.get(name, PLAN_BELOW_SPEC)
        if fa is None:
            fa = fb.iloc[0:0]
        out = merge_table(spec, fa, [fa, fb])
        entries.extend(out.entries)
    return entries
