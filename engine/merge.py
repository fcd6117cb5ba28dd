"""The three-way merge of emailed copies of one workbook (pure: frames in, edits out).

A manager recomputes the team workbook and emails it; copies come back edited
while the manager kept editing too. Every recompute records a *base*: the
state of each mergeable table as it left the workbook
(:mod:`maillon.engine.base`). :func:`merge_table` compares each side (the
team workbook first, then every copy) with that base, cell by cell:

- rows are matched by key, never by position (Account ID, Segment ID, Action
  ID, Setting, Expectation); rows of tables without a key (Field Feedback,
  Playbook) by their content, so sorting, filtering and moving columns change
  nothing;
- values are compared by meaning (:mod:`maillon.engine.meaning`);
- a cell changed on one side takes the change; the same new value on several
  sides is one change; different new values are a **conflict**, and the cell
  keeps its base value until someone decides;
- a row added on several sides arrives once when the copies agree; where they
  disagree on a cell, the first side's value is kept and the cell is a
  conflict;
- a row missing from a copy is not deleted: it is listed (*Missing*) for the
  manager to confirm; missing on one side and edited on another is a conflict
  (*Deleted vs edited*) and the edits are kept;
- in the engine-owned tables (``tblTargets``, ``tblSegments``, ``tblPlan``)
  only the editable and user-added columns of existing rows merge; the rows a
  user typed below ``tblPlan`` merge by their content (:data:`PLAN_BELOW_SPEC`).

Nothing is dropped without an :class:`Entry`: every change that came from a
copy and every conflict is one entry, which the shell lists on the **Merge**
sheet.

Example
-------
>>> import pandas as pd
>>> from maillon.engine.merge import MERGE_TABLES, merge_table
>>> spec = MERGE_TABLES["tblAccounts"]
>>> base = pd.DataFrame({"Account ID": ["A1", "A2"], "City": ["Lyon", "Metz"]})
>>> team = pd.DataFrame({"Account ID": ["A1", "A2"], "City": ["Lyon", "Metz"]}, index=[5, 6])
>>> copy = pd.DataFrame({"Account ID": ["A2", "A1"], "City": ["Nancy", "Lyon "]}, index=[5, 6])
>>> out = merge_table(spec, base, [team, copy])
>>> out.cells
{(6, 'City'): 'Nancy'}
>>> [(e.kind, e.key, e.column) for e in out.entries]
[('Changed', 'A2', 'City')]
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from . import contract as C
from .cells import is_blank
from .meaning import canonical, canonical_column, column_kind, display
from .plan import is_week_header

__all__ = ["MergeTable", "MERGE_TABLES", "Entry", "TableMerge", "merge_table",
           "ENTRY_KINDS", "CONFLICT_KINDS", "ROW", "PLAN_BELOW", "PLAN_BELOW_SPEC"]

#: the Column of an entry about a whole row
ROW = "(row)"
ENTRY_KINDS = ("Changed", "Added", "Conflict", "Missing", "Deleted vs edited")
CONFLICT_KINDS = ("Conflict", "Deleted vs edited")


@dataclass(frozen=True)
class MergeTable:
    """How one table merges.

    ``key``: the column that identifies a row (None: rows by content, over
    ``identity`` columns); ``name``: the column shown beside the key in the
    report; ``engine``: an engine-owned table, where rows are computed and
    only ``editable`` columns (plus columns a user added) of existing rows
    merge; ``known``: the contract's columns of an engine table (anything
    else in it is a user's column).
    """

    table: str
    sheet: str
    key: str | None
    name: str | None = None
    identity: tuple = ()
    engine: bool = False
    editable: tuple = ()
    known: tuple = ()
    key_kind: str = "id"

    def merge_columns(self, columns) -> list[str]:
        """The columns of ``columns`` that merge, in order."""
        out = []
        for c in columns:
            if c == self.key or c == C.CHECK_COLUMN:
                continue
            if self.engine and c not in self.editable and c in self.known:
                continue
            if self.engine and self.table == C.TBL_PLAN and is_week_header(c):
                continue  # week columns are computed; columns a user added are kept
            out.append(c)
        return out


#: the rows a user typed below tblPlan (not a table: the recompute writes them back under
#: it), merged by their content, in the base under this name
PLAN_BELOW = "tblPlan (rows below)"
PLAN_BELOW_SPEC = MergeTable(
    PLAN_BELOW, f"{C.SHEET_PLAN} (rows below)", None, "Action",
    identity=("Action", "Start", "End", *[c for c in C.PLAN_FIXED_COLUMNS
                                          if c not in ("Action", "Start", "End")]))

MERGE_TABLES = {t.table: t for t in (
    MergeTable(C.TBL_SETTINGS, C.SHEET_SETTINGS, "Setting", key_kind="code"),
    MergeTable(C.TBL_EXPECTATIONS, C.SHEET_EXPECTATIONS, "Expectation"),
    MergeTable(C.TBL_ACCOUNTS, C.SHEET_ACCOUNTS, "Account ID", "Account name"),
    MergeTable(C.TBL_FEEDBACK, C.SHEET_FEEDBACK, None, "Account ID",
               identity=tuple(C.FEEDBACK_COLUMNS)),
    MergeTable(C.TBL_PLAYBOOK, C.SHEET_PLAYBOOK, None, "Action",
               identity=tuple(C.PLAYBOOK_COLUMNS)),
    MergeTable(C.TBL_SEGMENTS, C.SHEET_SEGMENTS, "Segment ID", "Segment name", engine=True,
               editable=tuple(C.SEGMENT_EDITABLE), known=tuple(C.SEGMENT_COLUMNS)),
    MergeTable(C.TBL_TARGETS, C.SHEET_TARGETS, "Account ID", "Account name", engine=True,
               editable=tuple(C.TARGET_EDITABLE), known=tuple(C.TARGET_COLUMNS)),
    MergeTable(C.TBL_PLAN, C.SHEET_PLAN, "Action ID", "Action", engine=True,
               editable=tuple(C.PLAN_EDITABLE), known=tuple(C.PLAN_FIXED_COLUMNS)),
)}


@dataclass
class Entry:
    """One line of the merge report (one row of the Merge sheet).

    ``values`` holds each side's value (the team workbook first), ``None``
    where the side has no such row; ``changed`` says which sides changed it;
    ``kept`` is the value the merged workbook holds.
    """

    table: str
    sheet: str
    key: str
    name: str
    column: str
    kind: str
    base: object
    values: tuple
    changed: tuple
    kept: object

    @property
    def conflict(self) -> bool:
        return self.kind in CONFLICT_KINDS


@dataclass
class TableMerge:
    """What to write into the team workbook's table, and what to report.

    ``cells`` maps ``(Excel row of the team table, column)`` to the value to
    write; ``new_rows`` are rows to append (column -> value); ``new_columns``
    are headers a copy added that the team table lacks. ``marks`` are the cells
    of the team table to highlight until decided (``(row, column)`` ->
    ``"conflict"``), ``new_marks`` the columns to highlight in each new row.
    """

    table: str
    cells: dict = field(default_factory=dict)
    new_rows: list = field(default_factory=list)
    new_columns: list = field(default_factory=list)
    entries: list = field(default_factory=list)
    marks: dict = field(default_factory=dict)
    new_marks: list = field(default_factory=list)  # one tuple of columns per new row

    @property
    def conflicts(self) -> int:
        return sum(e.conflict for e in self.entries)


def _keys(spec: MergeTable, frame: pd.DataFrame) -> np.ndarray:
    """The canonical key of each row (None for a row without one)."""
    return _keys_of(spec, [frame])[0]


def _stacked(frames: list, column: str, kind: str) -> list[np.ndarray]:
    """:func:`canonical_column` of ``column`` in every frame, worked out once per distinct
    value over all of them (copies of one workbook share nearly all their values)."""
    pieces = [f[column] if column in f.columns else None for f in frames]
    present = [p for p in pieces if p is not None]
    if not present:
        return [np.full(len(f), None, dtype=object) for f in frames]
    if len({p.dtype for p in present}) > 1:
        present = [p.astype(object) for p in present]
    together = pd.concat(present, ignore_index=True) if len(present) > 1 else present[0]
    codes, uniques = pd.factorize(together, use_na_sentinel=True)
    done = np.empty(len(uniques) + 1, dtype=object)
    done[1:] = canonical_column(pd.Series(uniques), kind)  # a blank is None (-1: NaN, NaT)
    canon = done[codes + 1]
    out, at = [], 0
    for f, p in zip(frames, pieces):
        if p is None:
            out.append(np.full(len(f), None, dtype=object))
        else:
            out.append(canon[at:at + len(f)])
            at += len(f)
    return out


def _keys_of(spec: MergeTable, frames: list) -> list[np.ndarray]:
    """:func:`_keys` of each frame (the canonical values worked out once for all)."""
    if spec.key is not None:
        return _stacked(frames, spec.key, spec.key_kind)
    # rows by content: the identity columns' meanings, plus an occurrence number
    columns = [_stacked(frames, c, column_kind(c)) for c in spec.identity]
    out = []
    for i, frame in enumerate(frames):
        parts = [col[i] for col in columns]
        rows = list(zip(*parts)) if parts else [()] * len(frame)
        empty = np.logical_and.reduce([pd.isna(p) for p in parts]) if parts \
            else np.ones(len(frame), dtype=bool)
        seen: dict[tuple, int] = {}
        keys = np.empty(len(frame), dtype=object)
        for j, sig in enumerate(rows):
            n = seen.get(sig, 0)
            seen[sig] = n + 1
            keys[j] = (sig, n)
        keys[empty] = None
        out.append(keys)
    return out


def _combine(codes: list[np.ndarray]) -> np.ndarray:
    """One code per row for the tuple of ``codes`` (each >= 0), in order of first appearance."""
    out = pd.factorize(codes[0])[0]
    for c in codes[1:]:
        out = pd.factorize(out * (int(c.max(initial=0)) + 1) + c)[0]
    return out


def _together(frames: list, column: str):
    """``column`` of the frames that have it, end to end, and which frames have it."""
    pieces = [f[column] if column in f.columns else None for f in frames]
    present = [p for p in pieces if p is not None]
    if not present:
        return None, pieces
    dtypes = {p.dtype for p in present}
    if len(dtypes) > 1:  # dates of two units stay dates; anything else becomes objects
        common = "datetime64[ns]" if all(d.kind == "M" for d in dtypes) else object
        present = [p.astype(common) for p in present]
    return (pd.concat(present, ignore_index=True) if len(present) > 1 else present[0]), pieces


def _value_codes(frames: list, column: str, kind: str) -> np.ndarray:
    """One integer per row of all frames end to end: the same for values of the same
    meaning (:func:`canonical`), -1 for a blank or a frame without the column.

    The meaning is worked out once per distinct value, over all frames together.
    """
    together, pieces = _together(frames, column)
    if together is None:
        return np.full(sum(len(f) for f in frames), -1, dtype=np.int64)
    codes, uniques = pd.factorize(together, use_na_sentinel=True)
    canon = canonical_column(pd.Series(uniques), kind)
    canon[pd.isna(canon)] = None
    blank = np.fromiter((c is None or c == "" for c in canon), dtype=bool, count=len(canon))
    meaning = np.full(len(canon) + 1, -1, dtype=np.int64)
    if (~blank).any():
        meaning[1:][~blank] = pd.factorize(canon[~blank])[0]
    mapped = meaning[codes + 1]
    if all(p is not None for p in pieces):
        return mapped
    out, at = [], 0
    for f, p in zip(frames, pieces):
        if p is None:
            out.append(np.full(len(f), -1, dtype=np.int64))
        else:
            out.append(mapped[at:at + len(f)])
            at += len(f)
    return np.concatenate(out)


def _codes_of(spec: MergeTable, frames: list) -> tuple[list[np.ndarray], int]:
    """Each row's key as an integer (-1: no key), the same for the same key in every frame,
    numbered in order of first appearance (frame after frame); and how many keys.

    Rows of a table without a key are told by their identity columns' meanings
    and their occurrence number among equal rows of the same frame (as :func:`_keys`).
    """
    sizes = [len(f) for f in frames]
    total = sum(sizes)
    if spec.key is not None:
        codes = _value_codes(frames, spec.key, spec.key_kind)
        valid = codes >= 0
        renumbered = np.full(total, -1, dtype=np.int64)
        renumbered[valid], uniques = pd.factorize(codes[valid])  # first appearance order
        codes, count = renumbered, len(uniques)
    else:
        parts = []
        empty = np.ones(total, dtype=bool)
        for c in spec.identity:
            part = _value_codes(frames, c, column_kind(c))
            empty &= part < 0
            parts.append(part + 1)
        signature = _combine(parts) if parts else np.zeros(total, dtype=np.int64)
        occurrence = np.empty(total, dtype=np.int64)
        at = 0
        for n in sizes:  # the n-th equal row of each frame
            sl = signature[at:at + n]
            occurrence[at:at + n] = pd.Series(sl).groupby(sl).cumcount().to_numpy()
            at += n
        codes = np.full(total, -1, dtype=np.int64)
        keep = ~empty
        if keep.any():
            codes[keep] = _combine([signature[keep], occurrence[keep]])
        count = int(codes.max(initial=-1)) + 1
    out, at = [], 0
    for n in sizes:
        out.append(codes[at:at + n])
        at += n
    return out, count


def _label(spec: MergeTable, row: pd.Series | None) -> tuple[str, str]:
    """(key, name) as the report shows them."""
    if row is None:
        return "", ""
    name = row.get(spec.name) if spec.name else None
    name = "" if name is None or is_blank(name) else display(name)
    if spec.key is not None:
        return display(row.get(spec.key)), name
    shown = [display(row.get(c)) for c in spec.identity[:3] if c in row.index]
    return " · ".join(shown), name


def _aligned(codes: np.ndarray, frame: pd.DataFrame, universe: pd.Index):
    """``frame`` reindexed on the key codes (first row of a duplicated key wins); the
    Excel row of each key (NaN: absent) and whether the frame has it."""
    valid = np.flatnonzero(codes >= 0)
    uniq, first = np.unique(codes[valid], return_index=True)
    at = valid[first]
    f = frame.iloc[at].set_axis(pd.Index(uniq), axis=0)
    rows = pd.Series(frame.index.to_numpy()[at], index=pd.Index(uniq))
    present = np.zeros(len(universe), dtype=bool)
    present[uniq] = True
    return f.reindex(universe), rows.reindex(universe), present


def _differs(a: pd.Series, b: pd.Series, kind: str) -> np.ndarray:
    """Cells of the aligned columns ``a`` and ``b`` whose meanings differ.

    Equal values and two blanks are settled in C loops (on the columns' own
    dtype when both have it: numbers, dates); only the cells left (few, in
    copies of one workbook) are compared by meaning.
    """
    va, vb = a.to_numpy(), b.to_numpy()
    if va.dtype.kind == "M" and vb.dtype.kind == "M" and va.dtype != vb.dtype:
        va, vb = va.astype("datetime64[ns]"), vb.astype("datetime64[ns]")  # units differ
    if va.dtype != vb.dtype or va.dtype.kind not in "fiMb":
        va, vb = a.to_numpy(dtype=object), b.to_numpy(dtype=object)
    with np.errstate(invalid="ignore"):
        equal = np.asarray(va == vb, dtype=bool)
    unequal = np.flatnonzero(~equal)
    if len(unequal):  # two blanks are equal (NaN != NaN): checked on the unequal cells only
        both = pd.isna(va[unequal]) & pd.isna(vb[unequal])
        equal[unequal[both]] = True
    out = np.zeros(len(va), dtype=bool)
    left = np.flatnonzero(~equal)
    if len(left):
        oa, ob = a.iloc[left].to_numpy(dtype=object), b.iloc[left].to_numpy(dtype=object)
        for j, i in enumerate(left):
            out[i] = canonical(oa[j], kind) != canonical(ob[j], kind)
    return out


def merge_table(spec: MergeTable, base: pd.DataFrame | None, sides: list[pd.DataFrame | None]
                ) -> TableMerge:
    """Merge one table: ``sides[0]`` is the team workbook's, the others the copies'.

    ``base`` is the table as the recompute that the copies descend from left
    it. A side of ``None`` does not have the table (it changes nothing). Every
    frame has the table's headers as columns; the sides' index is their Excel
    row numbers (only ``sides[0]``'s are used, as the rows to write).
    """
    out = TableMerge(spec.table)
    if sides[0] is None:
        return out
    base = base if base is not None else pd.DataFrame(columns=list(sides[0].columns))
    present_sides = [(i, s) for i, s in enumerate(sides) if s is not None]
    found, count = _codes_of(spec, [base] + [s for _, s in present_sides])
    keys = {-1: found[0]}
    for (i, _), k in zip(present_sides, found[1:]):
        keys[i] = k
    universe = pd.RangeIndex(count)
    b, _, in_base = _aligned(keys[-1], base, universe)
    aligned = {}
    for i, s in present_sides:
        aligned[i] = _aligned(keys[i], s, universe)
    team, team_rows, in_team = aligned[0]

    columns = list(dict.fromkeys(
        list(sides[0].columns) + list(base.columns)
        + [c for _, s in present_sides for c in s.columns]))
    columns = spec.merge_columns(columns)
    out.new_columns = [c for c in columns if c not in sides[0].columns]
    n = len(sides)

    arrays: dict = {}

    def value(i, col, pos):
        if i not in aligned or col not in sides[i].columns or not aligned[i][2][pos]:
            return None
        arr = arrays.get((i, col))
        if arr is None:
            column = aligned[i][0][col]
            # dates stay a Series: turning a whole column into Timestamps costs more
            arr = arrays[(i, col)] = column if column.dtype.kind == "M" \
                else column.to_numpy(dtype=object)
        return arr.iat[pos] if isinstance(arr, pd.Series) else arr[pos]

    def label_at(pos):
        """(key, name) of a row, from the first side that has it (else the base)."""
        if spec.key is None:
            return _label(spec, _row_of(spec, aligned, pos, base=b))
        for i in sorted(aligned):
            if aligned[i][2][pos]:
                name = value(i, spec.name, pos) if spec.name else None
                return display(value(i, spec.key, pos)), \
                    "" if name is None or is_blank(name) else display(name)
        name = base_value(spec.name, pos) if spec.name else None
        return display(base_value(spec.key, pos)), \
            "" if name is None or is_blank(name) else display(name)

    base_columns: dict = {}

    def base_value(col, pos):
        if col not in b.columns or not in_base[pos]:
            return None
        column = base_columns.get(col)
        if column is None:
            column = base_columns[col] = b[col]
        return column.iat[pos]

    # --- cells of rows in the base (changes and conflicts), by column
    changed_rows: dict[int, set] = {}  # position -> sides that changed a cell of it
    conflicted: set = set()  # (position, column) of cells in conflict
    merged_rows: dict[int, dict] = {}  # position -> column -> value (for rows restored)
    for col in columns:
        kind = column_kind(col)
        bv = b[col] if col in b.columns \
            else pd.Series(np.full(len(universe), None, dtype=object), index=universe)
        changed = np.zeros((n, len(universe)), dtype=bool)
        for i in aligned:
            frame, _, present = aligned[i]
            if col not in sides[i].columns:
                continue
            changed[i] = present & in_base & _differs(frame[col], bv, kind)
        for pos in np.flatnonzero(changed.any(axis=0)):
            who = tuple(bool(x) for x in changed[:, pos])
            news: dict = {}
            for i in range(n):
                if who[i]:
                    v = value(i, col, pos)
                    news.setdefault(canonical(v, kind), v)
            for i in range(n):
                if who[i]:
                    changed_rows.setdefault(pos, set()).add(i)
            key, name = label_at(pos)
            vals = tuple(value(i, col, pos) for i in range(n))
            base_v = base_value(col, pos)
            if spec.engine and not in_team[pos]:
                continue  # an engine row that no longer exists: nothing to merge into
            if len(news) == 1:
                new = next(iter(news.values()))
                if in_team[pos] and not who[0]:
                    out.cells[(int(team_rows.iat[pos]), col)] = new
                merged_rows.setdefault(pos, {})[col] = new
                if any(who[1:]):
                    out.entries.append(Entry(spec.table, spec.sheet, key, name, col, "Changed",
                                             base_v, vals, who, new))
            else:
                if in_team[pos] and who[0]:
                    out.cells[(int(team_rows.iat[pos]), col)] = base_v
                if in_team[pos]:
                    out.marks[(int(team_rows.iat[pos]), col)] = "conflict"
                conflicted.add((pos, col))
                merged_rows.setdefault(pos, {})[col] = base_v
                out.entries.append(Entry(spec.table, spec.sheet, key, name, col, "Conflict",
                                         base_v, vals, who, base_v))
    if spec.engine:
        return out

    # --- rows: missing from a side, restored, added
    present = np.zeros((n, len(universe)), dtype=bool)
    for i in aligned:
        present[i] = aligned[i][2]
    listed = [i for i in range(n) if i in aligned]
    todo = np.flatnonzero(np.where(in_base, ~present[listed].all(axis=0),
                                   present[1:].any(axis=0) if n > 1 else False))
    for pos in todo:
        has = tuple(bool(x) for x in present[:, pos])
        if in_base[pos]:
            missing = [i for i in range(n) if i in aligned and not has[i]]
            if not missing:
                continue
            edited_by = changed_rows.get(pos, set())
            key, name = label_at(pos)
            kind = "Deleted vs edited" if edited_by else "Missing"
            who = tuple(i in missing for i in range(n))
            vals = tuple("(present)" if has[i] else "(missing)" for i in range(n))
            if not has[0]:
                if not edited_by:
                    continue  # the team workbook's own deletion, no copy touched the row
                # restore the row, with the merged values, so that no edit is lost
                row = {c: b[c].iat[pos] for c in b.columns if c in columns or c == spec.key}
                row.update(merged_rows.get(pos, {}))
                if spec.key is not None:
                    row[spec.key] = _first_present(aligned, spec.key, pos)
                out.new_rows.append(row)
                out.new_marks.append(tuple(c for c, v in row.items() if c != spec.key
                                           and (pos, c) in conflicted))
            out.entries.append(Entry(spec.table, spec.sheet, key, name, ROW, kind,
                                     "(present)", vals, who, "(present)"))
            continue
        adders = [i for i in range(n) if has[i]]
        if adders == [0] or not adders:
            continue  # added by the team workbook itself
        key, name = label_at(pos)
        chosen: dict = {}
        conflicts = []
        for col in columns:
            kind = column_kind(col)
            news: dict = {}
            for i in adders:
                v = value(i, col, pos)
                if v is not None and not is_blank(v):
                    news.setdefault(canonical(v, kind), v)
            if not news:
                continue
            first = next(iter(news.values()))
            chosen[col] = first
            if len(news) > 1:
                conflicts.append((col, first))
        who = tuple(i in adders for i in range(n))
        out.entries.append(Entry(spec.table, spec.sheet, key, name, ROW, "Added", None,
                                 tuple("(added)" if h else None for h in has), who,
                                 "(added)"))
        for col, first in conflicts:
            out.entries.append(Entry(spec.table, spec.sheet, key, name, col, "Conflict", None,
                                     tuple(value(i, col, pos) for i in range(n)), who, first))
        if has[0]:
            tr = int(team_rows.iat[pos])
            for col, v in chosen.items():
                if not _same(value(0, col, pos), v, column_kind(col)):
                    out.cells[(tr, col)] = v
            for col, _ in conflicts:
                out.marks[(tr, col)] = "conflict"
        else:
            if spec.key is not None:
                chosen[spec.key] = _first_present(aligned, spec.key, pos)
            out.new_rows.append(chosen)
            out.new_marks.append(tuple(col for col, _ in conflicts))
    return out


def _same(a, b, kind) -> bool:
    return canonical(a, kind) == canonical(b, kind)


def _first_present(aligned: dict, col: str, pos: int):
    for i in sorted(aligned):
        frame, _, present = aligned[i]
        if present[pos] and col in frame.columns:
            return frame[col].iat[pos]
    return None


def _row_of(spec, aligned: dict, pos: int, base: pd.DataFrame | None = None):
    for i in sorted(aligned):
        frame, _, present = aligned[i]
        if present[pos]:
            return frame.iloc[pos]
    if base is not None:
        return base.iloc[pos]
    return None
