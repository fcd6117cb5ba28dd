"""Equality by meaning: when two cell values say the same thing.

Copies of a workbook come back through Excel, LibreOffice, Gnumeric, openpyxl
or a CRM export. The same value then arrives spelled differently: a number as
text (``"120"``), a trailing space, ``p1`` for ``P1``, a date as a serial
number or as text, an Account ID turned into a number (``1001.0``). None of
these is a change. :func:`canonical` gives each value one spelling per kind of
column, so that two values mean the same thing exactly when their canonical
forms are equal; merge (issue 13) and import (issue 14) share it.

Kinds (see :func:`column_kind`):

- ``"id"`` -- a key such as an Account ID: text, stripped; a whole number
  becomes its digits (``1001.0`` -> ``"1001"``); case is kept (``a-1`` and
  ``A-1`` are two accounts, as the engine sees them);
- ``"code"`` -- a value from a short list (``Status``, ``Priority override``):
  stripped and case-folded (``p1`` == ``P1``);
- ``"number"`` -- a number; text that is a plain number (``"120"``,
  ``" 12.5 "``, ``"80%"``) becomes that number;
- ``"date"`` -- a date: a ``datetime``, an Excel serial number or text in ISO
  (``2026-03-02``) or day-first (``02/03/2026``) form all become
  ``"2026-03-02"`` (with the time when it is not midnight);
- ``"any"`` -- anything else: blanks, numbers and dates as above, other
  text stripped (line ends unified); case is kept.

A blank (None, NaN, empty or spaces-only text) is ``None`` in every kind.
Numbers are rounded to 9 decimals, so a value that went through a program
printing 15 significant digits compares equal.

Pure Python and NumPy/pandas: no files.

Example
-------
>>> import datetime as dt
>>> from maillon.engine.meaning import canonical, same
>>> canonical(1001.0, "id"), canonical(" A-1001 ", "id")
('1001', 'A-1001')
>>> same("p1", "P1 ", "code"), same("120", 120.0, "number"), same(" Lyon", "Lyon", "any")
(True, True, True)
>>> same(46083, dt.datetime(2026, 3, 2), "date"), same("2026-03-02", "02/03/2026", "date")
(True, True)
>>> same("Lyon", "lyon", "any"), same(None, "  ", "number")
(False, True)
"""
from __future__ import annotations

import datetime as dt
import re

import numpy as np
import pandas as pd

from . import contract as C
from .cells import EXCEL_EPOCH, is_blank
from .distinct import per_distinct

__all__ = ["KINDS", "canonical", "canonical_column", "column_kind", "same", "display"]

KINDS = ("id", "code", "number", "date", "any")

_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
_ISO_DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?")
_DAY_FIRST = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")

_CODE_COLUMNS = {"Status", "Buying intent", "Priority override", "Priority", "Function",
                 "ABC cell", "Final priority", "Computed priority", "Setting"}
_NUMBER_COLUMNS = {"Employees", "Revenue 12m", "Potential", "Relationship",
                   "Market importance", "Our strength", "Start week", "Duration weeks",
                   "Repeat every weeks"}
_DATE_COLUMNS = {"Last contact", "Date", "Start", "End", "Run at"}
_ID_COLUMNS = {"Account ID", "Segment ID", "Action ID"}


def column_kind(column: str) -> str:
    """The kind of a contract column (``"any"`` for a column the contract does not type).

    >>> column_kind("Account ID"), column_kind("Need: Price"), column_kind("City")
    ('id', 'number', 'any')
    """
    if column in _ID_COLUMNS:
        return "id"
    if column in _CODE_COLUMNS:
        return "code"
    if column in _NUMBER_COLUMNS or column.startswith(C.NEED_PREFIX):
        return "number"
    if column in _DATE_COLUMNS:
        return "date"
    return "any"


def _number(value: float):
    f = float(value)
    if f != f or f in (float("inf"), float("-inf")):
        return None if f != f else f
    return round(f, 9) + 0.0


def _date_text(stamp: dt.datetime) -> str:
    if (stamp.hour, stamp.minute, stamp.second, stamp.microsecond) == (0, 0, 0, 0):
        return f"{stamp.year:04d}-{stamp.month:02d}-{stamp.day:02d}"
    return stamp.replace(microsecond=0).isoformat(sep=" ")


def _text_number(text: str):
    """The number a text spells plainly (``"120"``, ``"12.5"``, ``"80%"``), else None."""
    t = text.replace("\u00a0", "").replace(" ", "")
    percent = t.endswith("%")
    if percent:
        t = t[:-1]
    if not _NUMBER.fullmatch(t):
        return None
    f = float(t)
    return _number(f / 100 if percent else f)


def _text_date(text: str):
    m = _ISO_DATE.fullmatch(text)
    try:
        if m:
            y, mo, d, h, mi, s = m.groups()
            return _date_text(dt.datetime(int(y), int(mo), int(d), int(h or 0), int(mi or 0),
                                          int(s or 0)))
        m = _DAY_FIRST.fullmatch(text)
        if m:
            d, mo, y = m.groups()
            return _date_text(dt.datetime(int(y), int(mo), int(d)))
    except ValueError:
        return None
    return None


def canonical(value, kind: str = "any"):
    """One spelling of ``value`` for a column of ``kind`` (see the module).

    Returns None (blank), a ``float``, a ``bool`` or a ``str``.
    """
    if is_blank(value):
        return None
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (dt.datetime, dt.date, pd.Timestamp)):
        stamp = pd.Timestamp(value).to_pydatetime()
        return _date_text(stamp)
    if isinstance(value, (int, float, np.integer, np.floating)):
        f = _number(value)
        if kind == "id":
            return str(int(f)) if f is not None and float(f).is_integer() else repr(f)
        if kind == "date" and f is not None and 0 < f < 2958466:
            return _date_text(EXCEL_EPOCH + dt.timedelta(days=f))
        return f
    text = str(value).replace("\r\n", "\n").replace("\r", "\n").strip()
    if kind == "id":
        return text
    if kind == "code":
        return text.casefold()
    if kind in ("number", "any"):
        n = _text_number(text)
        if n is not None:
            return n
        if kind == "number":
            return text
    d = _text_date(text)
    if d is not None:
        return d
    return text


def same(a, b, kind: str = "any") -> bool:
    """Whether two cell values mean the same thing in a column of ``kind``."""
    return canonical(a, kind) == canonical(b, kind)


def canonical_column(values, kind: str = "any") -> np.ndarray:
    """:func:`canonical` over a column (called once per distinct value).

    >>> canonical_column(pd.Series([1001.0, " A-2", None, 1001.0]), "id").tolist()
    ['1001', 'A-2', None, '1001']
    """
    series = values if isinstance(values, pd.Series) else pd.Series(values)
    if series.dtype.kind == "M":  # a column of dates: their text at C speed
        stamps = pd.DatetimeIndex(series)
        midnight = stamps.normalize() == stamps
        text = np.where(midnight, stamps.strftime("%Y-%m-%d"),
                        stamps.strftime("%Y-%m-%d %H:%M:%S")).astype(object)
        text[pd.isna(stamps)] = None
        return text
    if kind in ("id", "code") and pd.api.types.infer_dtype(series, skipna=True) == "string":
        # text keys and codes, the usual case: stripped (and case-folded) at C speed
        text = series.astype(object).str.replace("\r\n", "\n", regex=False).str.strip()
        if kind == "code":
            text = text.str.casefold()
        out = text.to_numpy(dtype=object).copy()
        out[pd.isna(out) | (out == "")] = None
        return out
    return per_distinct(series.astype(object).to_numpy(dtype=object),
                        lambda v: canonical(v, kind))


def display(value) -> str:
    """A short, readable text of a cell value for messages and the Merge sheet.

    >>> display(None), display(120.0), display(dt.datetime(2026, 3, 2)), display("P1")
    ('(blank)', '120', '2026-03-02', 'P1')
    """
    if is_blank(value):
        return "(blank)"
    if isinstance(value, (dt.datetime, dt.date, pd.Timestamp)):
        return _date_text(pd.Timestamp(value).to_pydatetime())
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    return str(value)
