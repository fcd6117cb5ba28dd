"""A few text columns of a big table, read straight from the sheet XML.

A merge needs, from each copy's ``tblTargets`` (100k rows by 20 columns), only
its Account ID and its editable columns, which hold text. python-calamine
turns every cell of the sheet into a Python object (3.5 s of CPU per copy at
100k accounts); this reader finds the cells of the wanted columns only.

It reads what a spreadsheet program writes for text: shared strings (rich
text runs joined, phonetic runs left out), inline strings, formula results
typed ``str``, booleans and empty cells. Anything else in a wanted column (a
number, which could be a date by its format, an error, a formula without its
result, a ``_xHHHH_`` escape, a cell without its reference, a namespace
prefix) gives up: :func:`text_columns` returns None and the caller reads the
sheet the usual way. The part is checked first like every part parsed
(:func:`~maillon.addin.ooxml.safe_io.check_part`).

Example
-------
::

    found = text_columns("copy.xlsx", "tblTargets", lambda h: ["Account ID", "Priority override"])
    if found is None:
        ...  # read it with read_tables
    frame, info = found
"""
from __future__ import annotations

import html
import re

import numpy as np
import pandas as pd

from maillon.addin.ooxml.package import Package, col_letters, find_table, tables_in
from maillon.addin.ooxml.safe_io import check_part

__all__ = ["text_columns"]

_T = re.compile(rb'\st="(\w+)"')
_V = re.compile(rb"<v>(.*?)</v>", re.S)
_TEXT = re.compile(rb"<t(?:\s[^>]*)?>(.*?)</t>|<t\s*/>", re.S)
_PHONETIC = re.compile(rb"<rPh\b.*?</rPh>", re.S)
_SI = re.compile(rb"<si>([^<]*(?:<(?!/si>)[^<]*)*)</si>|<si/>")  # (.*?) without backtracking
_NO_REF = re.compile(rb'<c(?:>|\s(?!r="))')  # a cell whose first attribute is not r


_PLAIN = (b"<t>", b'<t xml:space="preserve">')  # a run as Excel and LibreOffice write it


class _GiveUp(Exception):
    pass


def _part_bytes(path, part: str, checked: list | None = None) -> bytes:
    chunks: list[bytes] = []
    check_part(path, part, on_chunk=chunks.append)
    if checked is not None:
        checked.append(part)
    return b"".join(chunks)


def _text(body: bytes) -> str:
    """The text of an ``<is>`` or ``<si>`` body: its ``<t>`` runs, phonetic runs left out."""
    if body.endswith(b"</t>") and body.count(b"<") == 2 and body.startswith(_PLAIN):
        raw = body[body.index(b">") + 1:-4]  # one plain run: the usual case
    else:
        if b"<rPh" in body:
            body = _PHONETIC.sub(b"", body)
        raw = b"".join(m.group(1) or b"" for m in _TEXT.finditer(body))
    if b"_x" in raw:
        raise _GiveUp  # an escaped character: the usual reader decodes it
    text = raw.decode("utf-8")
    return html.unescape(text) if "&" in text else text


def text_columns(path, table: str, keep, checked: list | None = None):
    """``(frame, TableInfo)``: the columns ``keep(headers)`` of ``table``'s body, indexed by
    Excel row; or None (see the module). Blank cells are NaN; rows blank in every wanted
    column are left out. ``checked``, a list, gets the names of the parts whose data were
    checked on the way (:func:`~maillon.addin.ooxml.safe_io.check_part`), gave up or not."""
    try:
        with Package(path) as pkg:
            info = find_table(tables_in(pkg), table)
            if info is None:
                return None
            sheet = next(s.part for s in pkg.sheets if s.name == info.sheet)
            r1, c1, r2, c2 = info.bounds
            first, last = info.first_data_row, info.last_data_row
            names = list(info.headers)
            if len(names) != c2 - c1 + 1 or len(set(names)) != len(names):
                return None
            headers = list(keep(names))
            if not headers or any(h not in names for h in headers):
                return None
            letters = {col_letters(c1 + names.index(h)).encode(): h for h in headers}
            sst_part = next((r.target for r in pkg.rels_of_kind(pkg.workbook_part,
                                                                 "sharedStrings")), None)
        return _read(path, sheet, sst_part, letters, headers, first, last, checked), info
    except _GiveUp:
        return None


def _cell_pattern(letters) -> re.Pattern:
    """The cells of the columns ``letters`` but the empty ones (a style only): a shared
    string's index, or any other cell's attributes and body."""
    return re.compile(
        rb'<c r="(' + b"|".join(letters) + rb')(\d+)"(?!(?: s="\d+")?/>)(?:'  # not empty
        rb'(?: s="\d+")? t="s"><v>(\d+)</v></c>'  # a shared string: its index (group 3)
        rb'|([^>]*?)(?:/>|>([^<]*(?:<(?!/c>)[^<]*)*)</c>))')  # any other: attributes, body


def _read(path, sheet: str, sst_part, letters: dict, headers: list[str], first: int,
          last: int, checked: list | None = None) -> pd.DataFrame:
    """The wanted cells found in one C-level pass, empty cells left out; the shared strings
    taken as arrays, only the other cells one by one."""
    data = _part_bytes(path, sheet, checked)
    if b'<c r="' not in data or _NO_REF.search(data):
        raise _GiveUp  # a prefix, or cells without their reference first
    found = _cell_pattern(letters).findall(data)
    del data
    rows_out: list[np.ndarray] = []  # per value set: its row, its column, its value
    cols_out: list[np.ndarray] = []
    vals_out: list[np.ndarray] = []
    if found:
        letter, row_text, s_text, attrs, bodies = zip(*found)
        del found
        rows = np.array(row_text, dtype="S").astype(np.int64)
        col_of = {k: headers.index(h) for k, h in letters.items()}
        cols = np.array([col_of[k] for k in letter], dtype=np.int64)
        inside = (rows >= first) & (rows <= last)
        s_mask = inside & (np.array(s_text, dtype="S") != b"")
        other = np.flatnonzero(inside & ~s_mask)
        extra_rows, extra_cols, extra_vals = [], [], []
        s_other = []
        for i in other.tolist():
            value = _other_cell(attrs[i], bodies[i])
            if isinstance(value, _Shared):
                s_other.append((i, value.index))
            elif value is not None:
                extra_rows.append(rows[i])
                extra_cols.append(cols[i])
                extra_vals.append(value)
        if extra_rows:
            rows_out.append(np.array(extra_rows, dtype=np.int64))
            cols_out.append(np.array(extra_cols, dtype=np.int64))
            vals_out.append(_objects(extra_vals))
        if s_other:  # shared strings spelled otherwise (attributes in another order)
            at = np.array([i for i, _ in s_other], dtype=np.int64)
            more = np.array([k for _, k in s_other], dtype=np.int64)
        else:
            at = more = np.zeros(0, dtype=np.int64)
        if s_mask.any() or len(at):
            index = np.concatenate([np.array(s_text, dtype="S")[s_mask].astype(np.int64), more])
            s_rows = np.concatenate([rows[s_mask], rows[at]])
            s_cols = np.concatenate([cols[s_mask], cols[at]])
            if sst_part is None:
                raise _GiveUp
            items = _SI.findall(_part_bytes(path, sst_part, checked))  # the bodies, in order
            if int(index.max()) >= len(items):
                raise _GiveUp  # an index past the shared strings
            uniq, inverse = np.unique(index, return_inverse=True)
            texts = _objects([_text(items[i]) for i in uniq.tolist()])[inverse]
            keep = texts != ""
            rows_out.append(s_rows[keep])
            cols_out.append(s_cols[keep])
            vals_out.append(texts[keep])
    return _frame(rows_out, cols_out, vals_out, headers)


class _Shared(int):
    """A shared string's index, found in a cell of another shape."""

    @property
    def index(self) -> int:
        return int(self)


def _objects(values: list) -> np.ndarray:
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out


def _other_cell(attrs: bytes, body: bytes):
    """The value of a wanted cell of another shape (None: blank); gives up on a number."""
    t = _T.search(attrs)
    kind = t.group(1) if t else b"n"
    if kind == b"inlineStr":
        if not body.startswith(b"<is>") or not body.endswith(b"</is>"):
            raise _GiveUp
        return _text(body[4:-5]) or None
    m = _V.search(body)
    if m is None:
        if b"<f" in body:
            raise _GiveUp  # a formula without its result
        return None  # an empty cell (a style only)
    v = m.group(1)
    if kind == b"s":
        return _Shared(int(v))
    if kind == b"str":
        return _text(b"<t>" + v + b"</t>") or None
    if kind == b"b":
        return v.strip() == b"1"
    raise _GiveUp  # a number (a date by its format?), an error, a date cell


def _frame(rows_out, cols_out, vals_out, headers: list[str]) -> pd.DataFrame:
    """The values set, as a frame by Excel row (the last value of a cell given twice wins);
    rows with no value in any wanted column are left out."""
    if rows_out:
        rows, cols, vals = (np.concatenate(x) for x in (rows_out, cols_out, vals_out))
    else:
        rows = cols = np.zeros(0, dtype=np.int64)
        vals = np.zeros(0, dtype=object)
    index = np.unique(rows)
    at = np.searchsorted(index, rows)
    columns = {}
    for j, h in enumerate(headers):
        column = np.full(len(index), np.nan, dtype=object)
        mine = cols == j
        column[at[mine]] = vals[mine]
        columns[h] = pd.Series(column, dtype=object)
    frame = pd.DataFrame(columns)
    frame.index = pd.Index(index.astype("int64"), name="Excel row")
    frame.columns = pd.Index(headers, dtype=object)
    return frame.infer_objects()
