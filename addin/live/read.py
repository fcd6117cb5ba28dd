"""Live mode's reading: the engine's tables from the workbook open in Excel, through xlwings.

One Excel call per table reads its values (header row first); the rows typed
below ``tblPlan`` take two more. The values become DataFrames with
:func:`maillon.addin.tables.table_frame`, exactly as in file mode, so both
modes feed the engine the same input.

Example
-------
>>> import datetime as dt
>>> df = frame_from_values([["Setting", "Value"], ["Segments", "auto"], [None, None],
...                         ["Plan start", dt.datetime(2026, 3, 2)]], 4)
>>> df.index.tolist(), df.columns.tolist(), df.loc[5, "Value"]
([5, 7], ['Setting', 'Value'], 'auto')
"""
from __future__ import annotations

import pandas as pd

from maillon.engine import contract as C
from maillon.engine.errors import InputError, Problem

from maillon.addin.engine_input import PREVIOUS_TABLES, USER_TABLES
from maillon.addin.live.write import parse_address
from maillon.addin.tables import table_frame

__all__ = ["frame_from_values", "read_tables_live"]


def _headers(row: list) -> list[str]:
    """Header cells as xlwings gives them, as text (a blank header is ``ColumnN``, like Excel's)."""
    out = []
    for i, h in enumerate(row):
        if h is None or (isinstance(h, float) and h != h):
            out.append(f"Column{i + 1}")
        elif isinstance(h, float) and h.is_integer():
            out.append(str(int(h)))
        else:
            out.append(str(h))
    return out


def frame_from_values(values: list, first_row: int) -> pd.DataFrame:
    """A table's values as xlwings reads them (header row first) as the engine's frame.

    Columns are the headers; the index is the Excel row number of each data
    row (``first_row`` is the header's row). Blanks, all-blank rows and dates
    follow :func:`~maillon.addin.tables.table_frame`, as in file mode.

    >>> frame_from_values([["Setting", "Value"]], 4).shape
    (0, 2)
    """
    headers = _headers(values[0]) if values else []
    return table_frame(_cells(values[1:]), headers, first_row + 1)


def _cells(rows) -> list[list]:
    """xlwings' rows with its empty cell (``None``) as python-calamine's (``""``)."""
    return [["" if v is None else v for v in row] for row in rows]


def _table_catalog(book) -> dict:
    """Every table of the workbook: lower-case name -> (sheet, table)."""
    found = {}
    for sheet in book.sheets:
        for table in sheet.tables:
            found[table.name.lower()] = (sheet, table)
    return found


def read_tables_live(book) -> tuple[dict, pd.DataFrame | None]:
    """The engine's tables and the rows typed below ``tblPlan``, read from ``book``.

    Raises :class:`InputError` naming every missing user-owned table.
    """
    catalog = _table_catalog(book)
    problems = [Problem(sheet, table, None, None, None,
                        f"the Excel table {table} is missing (Table Design > Table Name "
                        f"must read {table})")
                for sheet, table in USER_TABLES if table.lower() not in catalog]
    if problems:
        raise InputError(problems)
    tables: dict = {}
    extra = None
    for _, name in USER_TABLES + PREVIOUS_TABLES:
        entry = catalog.get(name.lower())
        if entry is None:
            continue
        sheet, table = entry
        rng = table.range
        r1, c1, r2, c2 = parse_address(rng.address)
        values = rng.options(ndim=2).value  # one call for the whole table
        tables[name] = frame_from_values(values, r1)
        if name == C.TBL_PLAN:
            extra = _rows_below(sheet, (r1, c1, r2, c2), list(tables[name].columns))
    return tables, extra


def _rows_below(sheet, bounds: tuple, headers: list) -> pd.DataFrame | None:
    """Non-blank rows a user typed below a table, in the table's columns."""
    r1, c1, r2, c2 = bounds
    last_used = parse_address(sheet.used_range.address)[2]
    if last_used <= r2:
        return None
    values = sheet.range((r2 + 1, c1), (last_used, c2)).options(ndim=2).value
    df = table_frame(_cells(values), headers, r2 + 1)
    return df if len(df) else None
