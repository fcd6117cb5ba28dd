"""Live mode's reading: the engine's tables from the workbook open in Excel, through xlwings.

Each table costs three Excel round trips, whatever its size: its range, its
address and its values (``Range.raw_value``, header row first). The values are
then cleaned by the xlwings engine's own ``clean_value_data`` -- what
``Range.value`` does after its read, without the round trips ``Range.value``
spends on the range's shape. A table larger than xlwings' read budget (4
million cells; 1.5 million on macOS, under the Apple Event size limit) is read
in row chunks of that size, as xlwings' ``ReadValueFromRangeStage`` would.
The rows typed below ``tblPlan`` take four more round trips. The values become
DataFrames with :func:`maillon.addin.tables.table_frame`, exactly as in file
mode, so both modes feed the engine the same input.

Example
-------
>>> import datetime as dt
>>> df = frame_from_values([["Setting", "Value"], ["Segments", "auto"], [None, None],
...                         ["Plan start", dt.datetime(2026, 3, 2)]], 4)
>>> df.index.tolist(), df.columns.tolist(), df.loc[5, "Value"]
([5, 7], ['Setting', 'Value'], 'auto')
"""
from __future__ import annotations

import datetime as dt
import sys

import pandas as pd

from maillon.engine import contract as C
from maillon.engine.errors import InputError, Problem

from maillon.addin.engine_input import PREVIOUS_TABLES, USER_TABLES
from maillon.addin.live.book import survey as survey_book
from maillon.addin.live.write import complement, parse_address, xl_address
from maillon.addin.render.specs import ENGINE_AREA_NAME, parse_area
from maillon.engine.loose import last_cells_check, overwritten
from maillon.addin.tables import table_frame

__all__ = ["frame_from_values", "read_tables_live", "read_loose_live", "read_budget", "read_values"]

#: xlwings 0.37.8's read budgets: ``base_classes.DEFAULT_MAX_CELLS_PER_READ`` (4,000,000)
#: and ``_xlmac.Range.max_cells_per_read`` (1,500,000: a larger Apple Event reply fails
#: with error -1741).
READ_BUDGET = {"darwin": 1_500_000, "other": 4_000_000}


def read_budget(platform: str | None = None) -> int:
    """Cells read in one round trip at most, as xlwings' engine for ``platform`` reads them."""
    return READ_BUDGET["darwin" if (platform or sys.platform) == "darwin" else "other"]


def _rows_2d(raw) -> list:
    """A raw read as rows: COM and AppleScript give a scalar for one cell, a flat list for one row."""
    if not isinstance(raw, (list, tuple)):
        return [[raw]]
    if raw and not isinstance(raw[0], (list, tuple)):
        return [list(raw)]
    return [list(r) for r in raw]


def read_values(sheet, bounds: tuple, engine, platform: str | None = None,
                rng=None) -> list[list]:
    """The cleaned values of ``bounds`` (1-based r1, c1, r2, c2) of ``sheet``, in as few reads
    as the read budget allows; ``rng`` is the whole range when the caller has it already."""
    r1, c1, r2, c2 = bounds
    per_chunk = max(1, read_budget(platform) // (c2 - c1 + 1))
    rows: list = []
    if r2 - r1 + 1 <= per_chunk:
        rng = rng if rng is not None else sheet.range(xl_address((r1, c1, r2, c2)))
        rows = _rows_2d(rng.raw_value)
    else:
        for top in range(r1, r2 + 1, per_chunk):
            part = (top, c1, min(r2, top + per_chunk - 1), c2)
            rows.extend(_rows_2d(sheet.range(xl_address(part)).raw_value))
    # what xlwings' CleanDataFromReadStage does with Range.value's default options
    return engine.clean_value_data(rows, dt.datetime, None, None, False)


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


def read_tables_live(book, found=None, engine=None,
                     platform: str | None = None) -> tuple[dict, pd.DataFrame | None]:
    """The engine's tables and the rows typed below ``tblPlan``, read from ``book``.

    ``found`` is the workbook's :class:`~maillon.addin.live.book.Survey` (surveyed
    here when None); each table read gets its address recorded in it. ``engine``
    is ``book.app.engine.impl`` (looked up when None).
    Raises :class:`InputError` naming every missing user-owned table.
    """
    found = found if found is not None else survey_book(book)
    engine = engine if engine is not None else book.app.engine.impl
    catalog = found.tables
    problems = [Problem(sheet, table, None, None, None,
                        f"the Excel table {table} is missing (Table Design > Table Name "
                        f"must read {table})")
                for sheet, table in USER_TABLES if table.lower() not in catalog]
    if problems:
        raise InputError(problems)
    tables: dict = {}
    extra = None
    for _, name in USER_TABLES + PREVIOUS_TABLES:
        info = catalog.get(name.lower())
        if info is None:
            continue
        rng = info.table.range
        info.address = rng.address
        bounds = parse_address(info.address)
        values = read_values(info.sheet, bounds, engine, platform, rng=rng)
        tables[name] = frame_from_values(values, bounds[0])
        if name == C.TBL_PLAN:
            extra = _rows_below(info.sheet, bounds, list(tables[name].columns), engine,
                                platform)
    return tables, extra


def _rows_below(sheet, bounds: tuple, headers: list, engine,
                platform: str | None) -> pd.DataFrame | None:
    """Non-blank rows a user typed below a table, in the table's columns."""
    r1, c1, r2, c2 = bounds
    last_used = parse_address(sheet.used_range.address)[2]
    if last_used <= r2:
        return None
    values = read_values(sheet, (r2 + 1, c1, last_used, c2), engine, platform)
    df = table_frame(_cells(values), headers, r2 + 1)
    return df if len(df) else None


#: a used area at most this many cells is read in one call (formulas), and one more
#: (values) when it holds something typed outside the engine's cells
WHOLE_READ_CELLS = 200_000


def _formula_rows(formulas, one_row: bool) -> list[list]:
    """``Range.formula`` as rows: a scalar for one cell, a flat list for one row or column."""
    if not isinstance(formulas, (list, tuple)):
        return [[formulas]]
    if formulas and not isinstance(formulas[0], (list, tuple)):
        return [list(formulas)] if one_row else [[f] for f in formulas]
    return [list(r) for r in formulas]


def _typed_cells(sheet, bounds: tuple, covered: list, engine, platform, rng=None) -> list:
    """``(row, col, value, formula)`` of the cells of ``bounds`` that hold something and lie
    outside ``covered``: the formulas first (one round trip: an empty cell's formula is
    ``""``), the values (one more) only when there is such a cell."""
    r1, c1, r2, c2 = bounds
    rng = rng if rng is not None else sheet.range(xl_address(bounds))
    formulas = _formula_rows(rng.formula, r1 == r2)
    typed = [(i, j) for i, row in enumerate(formulas) for j, f in enumerate(row)
             if f is not None and f != "" and not _covers(covered, r1 + i, c1 + j)]
    if not typed:
        return []
    values = read_values(sheet, bounds, engine, platform, rng=rng)
    out = []
    for i, j in typed:
        value, formula = values[i][j], formulas[i][j]
        is_formula = isinstance(formula, str) and formula.startswith("=")
        out.append((r1 + i, c1 + j, value, formula if is_formula else ""))
    return out


def _covers(rects, row: int, col: int) -> bool:
    return any(a <= row <= c and b <= col <= d for a, b, c, d in rects)


def _engine_area(sheet) -> list | None:
    """The rectangles of the sheet's hidden :data:`ENGINE_AREA_NAME`, or None when it has none.

    Looked up by name (``Worksheet.Names(name)``, as VBA's ``Names("Print_Area")``): two round
    trips on Windows, where walking the sheet's names costs two per name."""
    try:
        return parse_area(sheet.names[ENGINE_AREA_NAME].refers_to)
    except Exception:  # no such name (COM error / AppleScript CommandError / KeyError)
        return None


def _count(read, otherwise: int) -> int:
    try:
        return int(read())
    except Exception:  # the collection is missing in this Excel
        return otherwise


def _comments_live(sheet, windows: bool) -> list[tuple[int, int, str, str]]:
    """``(row, col, author, text)`` of the notes and threaded comments of ``sheet``.

    On Windows each collection's ``Count`` (two COM round trips) comes first, and an empty
    one is not walked: xlwings' walk costs three round trips even when it finds nothing
    (``_xlwindows.Sheet.notes``/``comments``: the collection, ``_NewEnum``, the last
    ``Next``). An Excel without threaded comments (2016, 2019) has no ``CommentsThreaded``:
    none to read there."""
    notes = threads = 1
    if windows:
        api = sheet.api
        notes = _count(lambda: api.Comments.Count, 1)  # unknown: walk, as before
        threads = _count(lambda: api.CommentsThreaded.Count, 0)
    out = []
    if notes:
        for note in sheet.notes:
            cell = note.location
            out.append((cell.row, cell.column, note.author or "", note.text or ""))
    found = []
    if threads:
        try:
            found = list(sheet.comments)
        except NotImplementedError:  # Excel for Mac's AppleScript has no threaded comments
            found = []
    for c in found:
        cell = c.location
        text = "\n".join([c.text or ""] + [f"{r.author or 'Reply'}: {r.text}" for r in c.replies])
        out.append((cell.row, cell.column, c.author or "", text))
    return out


def read_loose_live(book, frames: dict | None = None, found=None, engine=None,
                    platform: str | None = None) -> list[dict]:
    """What a user typed on the engine sheets outside their tables, and their comments,
    as :func:`maillon.addin.filemode.loose.read_loose` reads them in file mode.

    ``frames`` are the tables :func:`read_tables_live` read (their headers name
    the column a comment is on); ``found`` is the book's survey when the caller
    has it (:func:`maillon.addin.live.book.survey`); the engine area of each
    sheet is recorded in it (``found.engine_areas``) for the writer.

    Per sheet: its notes and comments (on Windows two counts, and the walk only of
    a collection that is not empty), its hidden engine-area name (two calls), its
    used area's address (two) and the formulas of what lies outside the engine's
    cells: a small used area in one call, a big one (the Target List) one rectangle
    at a time around its tables, nothing when the engine's cells cover it all; the
    values only where a formula read found something typed.
    A sheet without the engine-area name (an older Maillon's) gives every cell outside
    its tables as ``unmarked``; where the last run's ``Cells check`` (tblHistory) is
    known, the engine's own cells outside the tables are read too, and those whose value
    no longer matches come as ``overwritten``.
    """
    found = found if found is not None else survey_book(book)
    if engine is None:
        engine = book.app.engine.impl
    windows = (platform or sys.platform).startswith("win")
    engine_sheets = {n.lower() for n in C.ENGINE_SHEETS}
    names = {n.lower() for n in C.ENGINE_TABLES}
    history = {k.lower(): v for k, v in (frames or {}).items()}.get(C.TBL_HISTORY.lower())
    checks = last_cells_check(history)
    out: list[dict] = []
    for sheet_name, sheet in found.sheets.values():
        if sheet_name.lower() not in engine_sheets:
            continue
        tables = []
        for key, info in found.tables.items():
            if info.sheet_name == sheet_name and key in names:
                if info.address is None:
                    info.address = info.table.range.address
                r1, c1, r2, c2 = parse_address(info.address)
                frame = {k.lower(): v for k, v in (frames or {}).items()}.get(key)
                headers = [str(h) for h in frame.columns] if frame is not None else []
                tables.append((info.name, (r1, c1, r2, c2), headers))
        for row, col, author, text in _comments_live(sheet, windows):
            where, header = "", ""
            for name, (r1, c1, r2, c2), headers in tables:
                if r1 < row <= r2 and c1 <= col <= c2:
                    where = name
                    header = headers[col - c1] if col - c1 < len(headers) else ""
            out.append({"Sheet": sheet_name, "Row": row, "Col": col, "What": "comment",
                        "Value": text, "Formula": "", "Author": author, "Table": where,
                        "Header": header})
        area = _engine_area(sheet)
        found.engine_areas[sheet_name.lower()] = area
        own = []  # the tables, and the rows typed under the plan (read with it)
        for name, (r1, c1, r2, c2), _ in tables:
            own.append((r1, c1, r2, c2))
            if name.lower() == C.TBL_PLAN.lower():
                own.append((r2 + 1, c1, 1_048_576, c2))
        what = "cell" if area is not None else "unmarked"  # unmarked: an older Maillon's
        digests = checks.get(sheet_name) if area is not None else None
        # the engine's own cells are read too when the last run's Cells check can tell
        # whether someone typed over them
        skip = own if digests or area is None else own + list(area)
        whole = sheet.used_range
        used = parse_address(whole.address)
        r1, c1, r2, c2 = used
        outside = complement(used, skip)
        if not outside:
            continue  # the engine's own cells fill the used area: nothing typed beside them
        if (r2 - r1 + 1) * (c2 - c1 + 1) <= WHOLE_READ_CELLS:
            typed = _typed_cells(sheet, used, skip, engine, platform, rng=whole)
        else:
            typed = [cell for rect in outside
                     for cell in _typed_cells(sheet, rect, skip, engine, platform)]
        inside = {}
        for r, c, value, formula in typed:
            item = {"Sheet": sheet_name, "Row": r, "Col": c, "What": what,
                    "Value": "" if value is None else value, "Formula": formula,
                    "Author": "", "Table": "", "Header": ""}
            if area is not None and _covers(area, r, c):
                inside[(r, c)] = item  # only read when there are digests to compare
                continue
            out.append(item)
        if inside:
            typed_over = set(overwritten(area, digests,
                                         {k: v["Value"] for k, v in inside.items()}))
            typed_over |= {k for k, v in inside.items() if v["Formula"]}  # never the engine's
            out += [{**inside[k], "What": "overwritten"} for k in sorted(typed_over)]
    return out
