"""Fast, safe reading of Excel tables (ListObjects) from an .xlsx/.xlsm file.

The package structure comes from :mod:`maillon.addin.ooxml.package` (defusedxml); cell
values are parsed by python-calamine in background threads
(:mod:`maillon.addin.filemode.grids`), one pass per sheet that holds a wanted table
(python-calamine's own table API is not used: it re-reads the sheet per table).
This module turns the grids into pandas DataFrames.

Values are what calamine gives: ``float``, ``str``, ``bool``,
``datetime.date``/``datetime.datetime``/``datetime.time``/``timedelta``. They
become a frame by :func:`maillon.addin.tables.table_frame`, as in live mode: a
blank cell (calamine gives ``""``) becomes NaN, all-blank rows are dropped, a
``date`` becomes a ``datetime``. Nothing else is coerced: the engine
validates. Column dtypes are then inferred by pandas (``infer_objects``): a
column of numbers becomes ``float64``, a column of text ``str``, a mixed column
stays ``object``.

Example
-------
::

    from maillon.addin.filemode.read import read_tables
    tables = read_tables("team.xlsx", ["tblSettings", "tblAccounts"])
    accounts = tables["tblAccounts"].data        # index = Excel row numbers
    missing = {"tblSettings", "tblAccounts"} - tables.keys()
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from maillon.addin.filemode.grids import GridReader, ParsedSheet
from maillon.addin.ooxml.package import parse_ref
from maillon.engine.errors import InputError, Problem
from maillon.addin.tables import table_frame

__all__ = ["TableData", "read_tables", "tables_from"]


@dataclass
class TableData:
    """One Excel table read from a workbook.

    ``data`` has the table's headers as columns and, as index, the Excel row
    number (1-based) of each data row. Rows whose cells are all blank are
    dropped (wherever they are in the table: the index keeps the real row numbers).
    """

    name: str
    sheet: str
    ref: str
    headers: list[str]
    data: pd.DataFrame = field(repr=False)
    first_row: int = 0  # Excel row of the header (of the first data row if no header)
    first_col: int = 0  # 1-based column of the table's first column
    # rows typed below the table (same columns, Excel rows as index), when asked
    # for with ``below=``; None when there are none
    below: pd.DataFrame | None = field(default=None, repr=False)
    # cells read as blank that are not: error values, formulas without a saved result
    unreadable: list = field(default_factory=list, repr=False)


def _cells(block: list[list], c0: int, c1: int) -> np.ndarray:
    """Columns ``c0:c1`` of the rows ``block`` as a 2-D object array, short rows padded with ``""``."""
    width = c1 - c0
    values = np.empty((len(block), width), dtype=object)
    lengths = set(map(len, block))
    if min(lengths) >= c1:
        # calamine's grid is rectangular: one C-level copy (no per-row slice
        # when the table spans the whole grid)
        values[:] = block if lengths == {c1} and c0 == 0 else [row[c0:c1] for row in block]
    else:  # the range goes beyond the cells calamine saw
        for i, row in enumerate(block):
            row = row[c0:c1]
            if len(row) < width:
                row = row + [""] * (width - len(row))
            values[i] = row
    return values


def _frame(grid: list[list], first_row: int, last_row: int, first_col: int, last_col: int,
           headers: list[str], pick: list[int] | None = None) -> pd.DataFrame:
    """Cells of an Excel range (1-based, inclusive) as a DataFrame indexed by Excel row.

    The cells are cut from the grid here; what they become (blanks, all-blank
    rows, dates, dtypes) is :func:`maillon.addin.tables.table_frame`'s, the
    same as in live mode.
    """
    r0, r1 = first_row - 1, min(last_row, len(grid))
    block = grid[r0:r1]
    if pick is not None:  # only these columns (offsets in the range) become the frame
        headers = [headers[i] for i in pick]
    if not block:
        return table_frame([], headers, first_row)
    cells = _cells(block, first_col - 1, last_col)
    return table_frame(cells if pick is None else cells[:, pick], headers, first_row)


def unreadable_cells(sheet: ParsedSheet, info, headers: list[str]) -> list[Problem]:
    """The cells of a table's data that python-calamine read as blank but are not:
    an error value, or a formula stored without its result."""
    if not sheet.errors and not sheet.uncached:
        return []
    r1, c1, r2, c2 = info.first_data_row, info.bounds[1], info.last_data_row, info.bounds[3]
    found = [(ref, value, "a value, not an error: correct the cell or its formula, or "
                          "clear it") for ref, value in sheet.errors.items()]
    found += [(ref, "a formula with no saved result",
               "a value: open and save the workbook in Excel or LibreOffice so that the "
               "formula is computed, or type the value") for ref in sheet.uncached]
    problems = []
    for ref, value, expected in sorted(found, key=lambda f: parse_ref(f[0])):
        row, col = parse_ref(ref)[:2]
        if r1 <= row <= r2 and c1 <= col <= c2:
            problems.append(Problem(sheet.name, info.name, row, headers[col - c1], value,
                                    expected))
    return problems


def _tables_of(sheet: ParsedSheet, below: set[str], columns: dict | None = None
               ) -> list[TableData]:
    grid = sheet.grid
    out = []
    for asked, info in sheet.tables:
        r1, c1, r2, c2 = info.bounds
        headers = list(info.headers)
        if len(headers) != c2 - c1 + 1:  # damaged table part: trust the ref
            headers = (headers + [f"Column{i + 1}" for i in range(c2 - c1 + 1)])[:c2 - c1 + 1]
        keep = (columns or {}).get(asked.lower())
        pick = None
        if keep is not None:
            wanted = set(keep(headers))
            pick = [i for i, h in enumerate(headers) if h in wanted]
        df = _frame(grid, info.first_data_row, info.last_data_row, c1, c2, headers, pick)
        extra = None
        if asked.lower() in below and len(grid) > r2:
            # only the columns the table spans: anything typed to its right is ignored
            extra = _frame(grid, r2 + 1, len(grid), c1, c2, headers)
            extra = extra if len(extra) else None
        out.append(TableData(name=info.name, sheet=info.sheet, ref=info.ref,
                             headers=headers, data=df, first_row=r1, first_col=c1,
                             below=extra, unreadable=unreadable_cells(sheet, info, headers)))
    return out


def tables_from(reader: GridReader, columns: dict | None = None) -> dict[str, TableData]:
    """The tables of a running :class:`GridReader` as DataFrames, by the name asked for.

    Each sheet's frames are built as soon as it is parsed, while bigger sheets
    are still parsing. Tables not found are absent from the result. The order
    is that of ``reader.names`` (sheet by sheet, as they were first asked
    for). The tables in ``reader.whole`` come with the rows typed below them
    (``TableData.below``). ``columns`` (see :func:`read_tables`) leaves columns out.
    """
    below = {b.lower() for b in reader.whole}
    columns = {k.lower(): v for k, v in (columns or {}).items()}
    found: dict[str, TableData] = {}
    for sheet in reader.sheets():
        for (asked, _), data in zip(sheet.tables, _tables_of(sheet, below, columns)):
            found[asked] = data
        sheet.grid = []  # free the cells once the sheet's frames are built
    problems = [p for data in found.values() for p in data.unreadable]
    if problems:  # never read an error or an uncomputed formula as a blank
        raise InputError(problems)
    order = {}
    for asked in reader.names:
        if asked in found:
            order.setdefault(found[asked].sheet, []).append(asked)
    return {asked: found[asked] for group in order.values() for asked in group}


def read_tables(path, names: list[str], below=(), columns: dict | None = None, checked=(),
                threads: int | None = None) -> dict[str, TableData]:
    """Read the Excel tables named ``names``, wherever they are in the workbook.

    Returns ``{name: TableData}`` for the tables found (under the name asked
    for; matching is case-insensitive like Excel's). A missing table is simply
    absent from the result: the caller names it in its message. Each sheet that
    holds a wanted table is read once, up to the last row any of them needs
    (to its end for the tables named in ``below``, whose ``TableData.below``
    then holds the rows typed under them); big sheets are parsed in parallel.
    ``columns`` maps a table name to ``keep(headers) -> headers``: only those
    columns of its body become ``TableData.data`` (``headers`` stays the
    table's; the rows below keep every column). ``checked``: parts whose data the
    caller checked already; ``threads``: at most this many parsing threads (see
    :class:`~maillon.addin.filemode.grids.GridReader`).
    """
    with GridReader(path, names, whole=below, checked=checked, threads=threads) as reader:
        return tables_from(reader, columns)
