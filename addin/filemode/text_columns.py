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
_SI = re.compile(rb"<si>(.*?)</si>|<si/>", re.S)


class _GiveUp(Exception):
    pass


def _part_bytes(path, part: str) -> bytes:
    chunks: list[bytes] = []
    check_part(path, part, on_chunk=chunks.append)
    return b"".join(chunks)


def _text(body: bytes) -> str:
    """The text of an ``<is>`` or ``<si>`` body: its ``<t>`` runs, phonetic runs left out."""
    if body.startswith(b"<t>") and body.endswith(b"</t>") and body.count(b"<") == 2:
        raw = body[3:-4]  # one plain run: the usual case
    else:
        if b"<rPh" in body:
            body = _PHONETIC.sub(b"", body)
        raw = b"".join(m.group(1) or b"" for m in _TEXT.finditer(body))
    if b"_x" in raw:
        raise _GiveUp  # an escaped character: the usual reader decodes it
    text = raw.decode("utf-8")
    return html.unescape(text) if "&" in text else text


def text_columns(path, table: str, keep):
    """``(frame, TableInfo)``: the columns ``keep(headers)`` of ``table``'s body, indexed by
    Excel row; or None (see the module). Blank cells are NaN; rows blank in every wanted
    column are left out."""
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
        return _read(path, sheet, sst_part, letters, headers, first, last), info
    except _GiveUp:
        return None


def _read(path, sheet: str, sst_part, letters: dict, headers: list[str], first: int,
          last: int) -> pd.DataFrame:
    data = _part_bytes(path, sheet)
    if b"<c r=\"" not in data or data.count(b"<c ") + data.count(b"<c>") \
            != data.count(b'<c r="'):
        raise _GiveUp  # a prefix, or cells without their reference first
    values = {h: {} for h in headers}
    shared: dict[int, list] = {}  # shared string index -> [(column, row)]
    pattern = re.compile(rb'<c r="(' + b"|".join(letters) + rb')(\d+)"([^>]*?)(?:/>|>(.*?)</c>)',
                         re.S)
    for m in pattern.finditer(data):
        row = int(m.group(2))
        if not first <= row <= last:
            continue
        header = letters[m.group(1)]
        body = m.group(4) or b""
        t = _T.search(m.group(3))
        kind = t.group(1) if t else b"n"
        if kind == b"inlineStr":
            if not body.startswith(b"<is>") or not body.endswith(b"</is>"):
                raise _GiveUp
            text = _text(body[4:-5])
            if text:
                values[header][row] = text
            continue
        v = _V.search(body)
        if v is None:
            if b"<f" in body:
                raise _GiveUp  # a formula without its result
            continue  # an empty cell (a style only)
        if kind == b"s":
            shared.setdefault(int(v.group(1)), []).append((header, row))
        elif kind == b"str":
            text = _text(b"<t>" + v.group(1) + b"</t>")
            if text:
                values[header][row] = text
        elif kind == b"b":
            values[header][row] = v.group(1).strip() == b"1"
        else:
            raise _GiveUp  # a number (a date by its format?), an error, a date cell
    if shared:
        if sst_part is None:
            raise _GiveUp
        wanted = max(shared)
        for i, m in enumerate(_SI.finditer(_part_bytes(path, sst_part))):
            if i in shared:
                text = _text(m.group(1) or b"")
                for header, row in shared[i]:
                    if text:
                        values[header][row] = text
            if i >= wanted:
                break
        else:
            raise _GiveUp  # an index past the shared strings
    rows = sorted({r for col in values.values() for r in col})
    frame = pd.DataFrame({h: pd.Series([values[h].get(r, np.nan) for r in rows],
                                       dtype=object) for h in headers})
    frame.index = pd.Index(np.array(rows, dtype="int64"), name="Excel row")
    frame.columns = pd.Index(headers, dtype=object)
    return frame.infer_objects()
