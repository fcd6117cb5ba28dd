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


#: a used area at most this many cells is read in one call (values) and one (formulas)
WHOLE_READ_CELLS = 200_000


def _grid(sheet, bounds: tuple, engine, platform) -> list[list]:
    """The (value, formula) of each cell of ``bounds`` as rows: two round trips."""
    r1, c1, r2, c2 = bounds
    rng = sheet.range(xl_address(bounds))
    values = read_values(sheet, bounds, engine, platform, rng=rng)
    formulas = rng.formula
    if not isinstance(formulas, (list, tuple)):
        formulas = [[formulas]]
    elif formulas and not isinstance(formulas[0], (list, tuple)):
        formulas = [list(formulas)] if r1 == r2 else [[f] for f in formulas]
    return [list(zip(v, f)) for v, f in zip(values or [], formulas)]


def _covers(rects, row: int, col: int) -> bool:
    return any(a <= row <= c and b <= col <= d for a, b, c, d in rects)


def _engine_area(sheet) -> list | None:
    """The rectangles of the sheet's hidden :data:`ENGINE_AREA_NAME`, or None."""
    for name in sheet.names:
        if name.name.split("!")[-1].lower() == ENGINE_AREA_NAME.lower():
            return parse_area(name.refers_to)
    return None


def _comments_live(sheet) -> list[tuple[int, int, str, str]]:
    """``(row, col, author, text)`` of the notes and threaded comments of ``sheet``."""
    out = []
    for note in sheet.notes:
        cell = note.location
        out.append((cell.row, cell.column, note.author or "", note.text or ""))
    try:
        threads = list(sheet.comments)
    except NotImplementedError:  # Excel for Mac's AppleScript has no threaded comments
        threads = []
    for c in threads:
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
    has it (:func:`maillon.addin.live.book.survey`).

    Per sheet: a small used area is read in two calls (values, formulas); a big
    one (the Target List) only outside its tables, two calls per rectangle. A sheet
    without the engine-area name (an older Maillon's) gives every cell outside its
    tables as ``unmarked``; the cells of the engine's area whose value no longer
    matches the last run's ``Cells check`` (tblHistory) come as ``overwritten``.
    """
    found = found if found is not None else survey_book(book)
    if engine is None:
        engine = book.app.engine.impl
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
                table = info.table
                if info.address is None:
                    info.address = table.range.address
                r1, c1, r2, c2 = parse_address(info.address)
                frame = {k.lower(): v for k, v in (frames or {}).items()}.get(key)
                headers = [str(h) for h in frame.columns] if frame is not None else []
                tables.append((table.name, (r1, c1, r2, c2), headers))
        for row, col, author, text in _comments_live(sheet):
            where, header = "", ""
            for name, (r1, c1, r2, c2), headers in tables:
                if r1 < row <= r2 and c1 <= col <= c2:
                    where = name
                    header = headers[col - c1] if col - c1 < len(headers) else ""
            out.append({"Sheet": sheet_name, "Row": row, "Col": col, "What": "comment",
                        "Value": text, "Formula": "", "Author": author, "Table": where,
                        "Header": header})
        area = _engine_area(sheet)
        own = []  # the tables, and the rows typed under the plan (read with it)
        for name, (r1, c1, r2, c2), _ in tables:
            own.append((r1, c1, r2, c2))
            if name.lower() == C.TBL_PLAN.lower():
                own.append((r2 + 1, c1, 1_048_576, c2))
        what = "cell" if area is not None else "unmarked"  # unmarked: an older Maillon's
        digests = checks.get(sheet_name) if area is not None else None
        covered = own + list(area or [])
        used = parse_address(sheet.used_range.address)
        r1, c1, r2, c2 = used
        if (r2 - r1 + 1) * (c2 - c1 + 1) <= WHOLE_READ_CELLS:
            rects = [used]
        else:  # the engine's own cells are read too when they are to be checked
            rects = complement(used, own if digests else covered)
        inside = {}
        for rect in rects:
            rows = _grid(sheet, rect, engine, platform)
            for i, row in enumerate(rows):
                for j, (value, formula) in enumerate(row):
                    r, c = rect[0] + i, rect[1] + j
                    if (value is None or value == "") and not formula:
                        continue
                    if _covers(own, r, c):
                        continue
                    is_formula = isinstance(formula, str) and formula.startswith("=")
                    item = {"Sheet": sheet_name, "Row": r, "Col": c, "What": what,
                            "Value": "" if value is None else value,
                            "Formula": formula if is_formula else "", "Author": "",
                            "Table": "", "Header": ""}
                    if area is not None and _covers(area, r, c):
                        if digests:
                            inside[(r, c)] = item
                        continue
                    out.append(item)
        if inside:
            typed = set(overwritten(area, digests, {k: v["Value"] for k, v in inside.items()}))
            typed |= {k for k, v in inside.items() if v["Formula"]}  # never the engine's
            out += [{**inside[k], "What": "overwritten"} for k in sorted(typed)]
    return out
