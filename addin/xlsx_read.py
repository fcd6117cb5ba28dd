"""Fast, safe reading of Excel tables (ListObjects) from an .xlsx/.xlsm file.

The package structure (``[Content_Types].xml``, ``xl/workbook.xml``, the
relationship parts, ``xl/tables/*.xml``) is parsed with defusedxml; cell values
are read with python-calamine, one pass per sheet that holds a wanted table
(python-calamine's own table API is not used: it re-reads the sheet per table).

Values are what calamine gives: ``float``/``int``, ``str``, ``bool``,
``datetime.date``/``datetime.datetime``/``datetime.time``/``timedelta``; a blank
cell (calamine gives ``""``) becomes NaN. Nothing is coerced: the engine
validates. Column dtypes are then inferred by pandas (``infer_objects``): a
column of numbers becomes ``float64``, a column of text ``str``, a mixed column
stays ``object``.

Example
-------
::

    from maillon.addin.xlsx_read import read_tables
    tables = read_tables("team.xlsx", ["tblSettings", "tblAccounts"])
    accounts = tables["tblAccounts"].data        # index = Excel row numbers
    missing = {"tblSettings", "tblAccounts"} - tables.keys()
"""
from __future__ import annotations

import gc
import os
import posixpath
import re
import zipfile
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote

import numpy as np
import pandas as pd
import python_calamine

from .safe_io import WorkbookError, parse_xml

__all__ = ["TableData", "TableInfo", "Package", "Rel", "SheetEntry", "read_tables",
           "read_rows_below", "sheet_names", "list_tables", "parse_ref"]

NS_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
NS_R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
NS_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
NS_CT = "http://schemas.openxmlformats.org/package/2006/content-types"

MAX_THREADS = 4  # sheets parsed at once by read_tables (python-calamine frees the GIL)


# --- small helpers -------------------------------------------------------------
def local(tag: str) -> str:
    """``{ns}name`` -> ``name``."""
    return tag.rsplit("}", 1)[-1]


def rel_kind(rel_type: str) -> str:
    """Last segment of a relationship type URI (``.../worksheet`` -> ``worksheet``).

    Works for transitional and strict OOXML alike.
    """
    return rel_type.rstrip("/").rsplit("/", 1)[-1]


def rels_part(part: str) -> str:
    """Name of the relationship part of ``part`` (``""`` is the package itself)."""
    folder, base = posixpath.split(part)
    return posixpath.join(folder, "_rels", base + ".rels")


def resolve_target(source: str, target: str) -> str:
    """Zip member name of a relationship target, relative to its source part."""
    target = unquote(target)
    if target.startswith("/"):
        return posixpath.normpath(target.lstrip("/"))
    return posixpath.normpath(posixpath.join(posixpath.dirname(source), target))


_CELL = re.compile(r"^\$?([A-Za-z]{1,3})\$?(\d+)$")


def col_number(letters: str) -> int:
    """``A`` -> 1, ``AB`` -> 28."""
    n = 0
    for ch in letters.upper():
        n = n * 26 + ord(ch) - 64
    return n


def parse_ref(ref: str) -> tuple[int, int, int, int]:
    """``"B3:D10"`` -> ``(3, 2, 10, 4)``: first row, first col, last row, last col (1-based)."""
    parts = ref.split(":")
    cells = []
    for p in parts:
        m = _CELL.match(p.strip())
        if not m:
            raise ValueError(f"not a cell range: {ref!r}")
        cells.append((int(m.group(2)), col_number(m.group(1))))
    (r1, c1), (r2, c2) = cells[0], cells[-1]
    return min(r1, r2), min(c1, c2), max(r1, r2), max(c1, c2)


_ESCAPE = re.compile(r"_x([0-9A-Fa-f]{4})_")


def unescape_name(text: str) -> str:
    """Decode the ``_xHHHH_`` escapes Excel uses in table column names."""
    return _ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text)


# --- the package ---------------------------------------------------------------
@dataclass(frozen=True)
class Rel:
    id: str
    type: str
    target: str  # zip member name (internal) or the raw target (external)
    external: bool = False

    @property
    def kind(self) -> str:
        return rel_kind(self.type)


@dataclass(frozen=True)
class SheetEntry:
    name: str
    sheet_id: int
    rid: str
    part: str | None  # zip member of the sheet part
    kind: str  # relationship kind: worksheet, chartsheet, dialogsheet, ...


class Package:
    """Read-only view of an OPC zip package (parts, content types, relationships).

    Part names are zip member names without a leading slash; lookups are
    case-insensitive, as OPC requires. Every XML parse goes through defusedxml.
    """

    def __init__(self, path):
        self.path = Path(path)
        try:
            self.zf = zipfile.ZipFile(self.path)
        except FileNotFoundError:
            raise WorkbookError(f"{self.path.name} does not exist.") from None
        except (zipfile.BadZipFile, OSError) as exc:
            raise WorkbookError(f"{self.path.name} is not an Excel workbook: it cannot be "
                                f"opened as a zip package ({exc}).") from None
        self.infos = self.zf.infolist()
        self._by_lower = {i.filename.lower(): i for i in self.infos}
        self._rels_cache: dict[str, list[Rel]] = {}
        self._ct = None
        self._workbook = None

    # context manager
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self) -> None:
        self.zf.close()

    # parts
    def info(self, part: str) -> zipfile.ZipInfo | None:
        return self._by_lower.get(part.lower())

    def has(self, part: str) -> bool:
        return part.lower() in self._by_lower

    def read(self, part: str) -> bytes:
        info = self.info(part)
        if info is None:
            raise WorkbookError(f"{self.path.name} is damaged: part {part} is missing.")
        try:
            return self.zf.read(info)
        except (zipfile.BadZipFile, OSError, ValueError) as exc:
            raise WorkbookError(f"{self.path.name} is damaged: part {part} cannot be read "
                                f"({exc}).") from None

    def xml(self, part: str):
        return parse_xml(self.read(part), part, self.path)

    # content types
    @property
    def content_types(self) -> tuple[dict, dict]:
        """``(defaults by lower-case extension, overrides by lower-case part name)``."""
        if self._ct is None:
            root = self.xml("[Content_Types].xml")
            defaults, overrides = {}, {}
            for el in root:
                if local(el.tag) == "Default":
                    defaults[el.get("Extension", "").lower()] = el.get("ContentType")
                elif local(el.tag) == "Override":
                    overrides[el.get("PartName", "").lstrip("/").lower()] = el.get("ContentType")
            self._ct = (defaults, overrides)
        return self._ct

    def content_type(self, part: str) -> str | None:
        defaults, overrides = self.content_types
        ct = overrides.get(part.lower())
        if ct is None:
            ct = defaults.get(posixpath.splitext(part)[1].lstrip(".").lower())
        return ct

    # relationships
    def rels(self, part: str) -> list[Rel]:
        """Relationships of ``part`` (``""`` for the package), targets resolved."""
        key = part.lower()
        if key not in self._rels_cache:
            rp = rels_part(part)
            out = []
            if self.has(rp):
                for el in self.xml(rp):
                    if local(el.tag) != "Relationship":
                        continue
                    external = el.get("TargetMode", "Internal") == "External"
                    target = el.get("Target", "")
                    if not external:
                        target = resolve_target(part, target)
                    out.append(Rel(el.get("Id", ""), el.get("Type", ""), target, external))
            self._rels_cache[key] = out
        return self._rels_cache[key]

    def rels_of_kind(self, part: str, kind: str) -> list[Rel]:
        return [r for r in self.rels(part) if r.kind == kind and not r.external]

    @property
    def workbook_part(self) -> str:
        for r in self.rels(""):
            if r.kind == "officeDocument" and not r.external:
                return r.target
        if self.has("xl/workbook.xml"):
            return "xl/workbook.xml"
        raise WorkbookError(f"{self.path.name} is not an Excel workbook: it has no workbook part.")

    @property
    def workbook(self):
        """The parsed workbook part (an Element)."""
        if self._workbook is None:
            self._workbook = self.xml(self.workbook_part)
        return self._workbook

    @property
    def sheets(self) -> list[SheetEntry]:
        """The sheets in workbook order, with their part names."""
        wb_part = self.workbook_part
        by_id = {r.id: r for r in self.rels(wb_part)}
        out = []
        for el in self.workbook.iter(f"{{{NS_MAIN}}}sheet"):
            rid = el.get(f"{{{NS_R}}}id") or ""
            rel = by_id.get(rid)
            out.append(SheetEntry(
                name=el.get("name", ""), sheet_id=int(el.get("sheetId", "0") or 0), rid=rid,
                part=None if rel is None or rel.external else rel.target,
                kind=rel.kind if rel is not None else ""))
        return out

    def closure(self, part: str, stop: set[str] | None = None) -> set[str]:
        """Lower-case names of the parts reachable from ``part`` through relationships
        (``part`` itself excluded); parts in ``stop`` are reached but not followed."""
        stop = stop or set()
        seen: set[str] = set()
        todo = [part]
        while todo:
            cur = todo.pop()
            if cur.lower() in stop and cur != part:
                continue
            for r in self.rels(cur):
                if r.external:
                    continue
                key = r.target.lower()
                if key not in seen and key != part.lower():
                    seen.add(key)
                    todo.append(r.target)
        return seen


# --- tables ----------------------------------------------------------------------
@dataclass
class TableInfo:
    """Where an Excel table lives and what its columns are (no cell values)."""

    name: str  # displayName: what formulas use
    sheet: str
    ref: str
    headers: list[str]
    header_rows: int  # 0 or 1
    totals_rows: int  # 0 or 1
    part: str  # zip member of the table part
    id: int = 0

    @property
    def bounds(self) -> tuple[int, int, int, int]:
        return parse_ref(self.ref)

    @property
    def first_data_row(self) -> int:
        return self.bounds[0] + self.header_rows

    @property
    def last_data_row(self) -> int:
        return self.bounds[2] - self.totals_rows


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


def list_tables(path) -> dict[str, TableInfo]:
    """Every Excel table of the workbook, by displayName (as Excel shows it)."""
    with Package(path) as pkg:
        return _list_tables(pkg)


def _list_tables(pkg: Package) -> dict[str, TableInfo]:
    out: dict[str, TableInfo] = {}
    for sheet in pkg.sheets:
        if sheet.part is None or not pkg.has(sheet.part):
            continue
        for rel in pkg.rels_of_kind(sheet.part, "table"):
            if not pkg.has(rel.target):
                continue
            root = pkg.xml(rel.target)
            name = root.get("displayName") or root.get("name") or ""
            headers = [unescape_name(c.get("name", ""))
                       for c in root.iter(f"{{{NS_MAIN}}}tableColumn")]
            out[name] = TableInfo(
                name=name, sheet=sheet.name, ref=root.get("ref", ""), headers=headers,
                header_rows=int(root.get("headerRowCount", "1")),
                totals_rows=int(root.get("totalsRowCount", "0")),
                part=rel.target, id=int(root.get("id", "0") or 0))
    return out


def _find(tables: dict[str, TableInfo], name: str) -> TableInfo | None:
    if name in tables:
        return tables[name]
    lowered = name.lower()  # Excel table names are case-insensitive
    for key, info in tables.items():
        if key.lower() == lowered:
            return info
    return None


def sheet_names(path) -> list[str]:
    """Names of all sheets, in workbook order."""
    with Package(path) as pkg:
        return [s.name for s in pkg.sheets]


def _read_grid(wb, sheet: str, nrows: int | None, path: Path) -> list[list]:
    try:
        sh = wb.get_sheet_by_name(sheet)  # the XML parse: python-calamine releases the GIL
        return sh.to_python(skip_empty_area=False, nrows=nrows)
    except python_calamine.CalamineError as exc:
        raise WorkbookError(f"{path.name}: sheet {sheet!r} cannot be read ({exc}).") from None


def _open(path: Path):
    try:
        return python_calamine.CalamineWorkbook.from_path(str(path))
    except python_calamine.CalamineError as exc:
        raise WorkbookError(f"{path.name} cannot be read ({exc}).") from None


@contextmanager
def _gc_paused():
    """Pause the cyclic garbage collector while millions of cells are built.

    ``to_python`` creates one list per row: each batch of new containers sets
    off a collection that walks every list already built (about half the time
    of turning a 100k-row sheet into frames). The reader makes no reference
    cycles, so nothing is lost by collecting afterwards.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


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
           headers: list[str]) -> pd.DataFrame:
    """Cells of an Excel range (1-based, inclusive) as a DataFrame indexed by Excel row.

    Blank cells (calamine gives ``""``) become NaN; all-blank rows are dropped;
    pandas then infers each column's dtype (``infer_objects``) without
    converting values (text stays text).
    """
    c0, c1 = first_col - 1, last_col
    r0, r1 = first_row - 1, min(last_row, len(grid))
    block = grid[r0:r1]
    index = np.arange(r0 + 1, r0 + 1 + len(block), dtype="int64")
    cols = pd.Index(headers, dtype=object)
    if not block:
        return pd.DataFrame(columns=cols, index=pd.Index(index, name="Excel row"), dtype=object)
    values = _cells(block, c0, c1)
    del block
    blank = values == ""
    if blank.any():
        values[blank] = np.nan
        keep = ~blank.all(axis=1)
        if not keep.all():
            values, index = values[keep], index[keep]
    # copy=False: the array is ours (pandas 3 would copy it by default)
    df = pd.DataFrame(values, columns=cols, index=pd.Index(index, name="Excel row"),
                      dtype=object, copy=False)
    return df.infer_objects()


def _workers(n_jobs: int) -> int:
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cpus = os.cpu_count() or 1
    return max(1, min(n_jobs, cpus, MAX_THREADS))


def _read_sheets(path: Path, jobs: list, build) -> None:
    """Run ``build(wb, job)`` for every job, on up to ``MAX_THREADS`` threads.

    A job is one sheet (with the tables it holds); its weight is the size of the
    sheet's XML. python-calamine parses a sheet without holding the GIL, so two
    big sheets parse in parallel, and one thread turns its grid into frames
    while another is still parsing. A CalamineWorkbook cannot be shared
    between threads ("Already borrowed"): each thread opens its own (that costs
    the shared strings, a few tens of ms). Jobs are dealt largest first to the
    least loaded thread.
    """
    n = _workers(len(jobs))
    if n == 1:
        with _open(path) as wb:
            for job in jobs:
                build(wb, job)
        return
    buckets: list[list] = [[] for _ in range(n)]
    load = [0] * n
    for job in sorted(jobs, key=lambda j: -j[0]):
        k = load.index(min(load))
        buckets[k].append(job)
        load[k] += max(job[0], 1)

    def run(bucket):
        with _open(path) as wb:
            for job in bucket:
                build(wb, job)

    with ThreadPoolExecutor(max_workers=n, thread_name_prefix="maillon-read") as pool:
        futures = [pool.submit(run, b) for b in buckets]
        for fut in futures:
            fut.result()  # re-raises a worker's WorkbookError


def read_tables(path, names: list[str]) -> dict[str, TableData]:
    """Read the Excel tables named ``names``, wherever they are in the workbook.

    Returns ``{name: TableData}`` for the tables found (under the name asked
    for; matching is case-insensitive like Excel's). A missing table is simply
    absent from the result: the caller names it in its message. Each sheet that
    holds a wanted table is read once, up to the last row any of them needs;
    big sheets are parsed in parallel threads (see ``_read_sheets``).
    """
    path = Path(path)
    with Package(path) as pkg:
        catalog = _list_tables(pkg)
        sizes = {}
        for s in pkg.sheets:
            info = pkg.info(s.part) if s.part else None
            sizes[s.name] = info.file_size if info is not None else 0
    wanted = {n: _find(catalog, n) for n in names}
    by_sheet: dict[str, list[tuple[str, TableInfo]]] = {}
    for asked, info in wanted.items():
        if info is not None:
            by_sheet.setdefault(info.sheet, []).append((asked, info))
    out: dict[str, TableData] = {}
    if not by_sheet:
        return out

    def build(wb, job):
        _, sheet, items = job
        nrows = max(info.bounds[2] for _, info in items)
        grid = _read_grid(wb, sheet, nrows, path)
        for asked, info in items:
            r1, c1, r2, c2 = info.bounds
            headers = list(info.headers)
            if len(headers) != c2 - c1 + 1:  # damaged table part: trust the ref
                headers = (headers + [f"Column{i + 1}" for i in range(c2 - c1 + 1)])[:c2 - c1 + 1]
            df = _frame(grid, info.first_data_row, info.last_data_row, c1, c2, headers)
            out[asked] = TableData(name=info.name, sheet=info.sheet, ref=info.ref,
                                   headers=headers, data=df, first_row=r1, first_col=c1)

    jobs = [(sizes.get(sheet, 0), sheet, items) for sheet, items in by_sheet.items()]
    with _gc_paused():
        _read_sheets(path, jobs, build)
    # sheet by sheet, in the order the sheets were first asked for (as before)
    return {asked: out[asked] for items in by_sheet.values() for asked, _ in items}


def read_rows_below(path, sheet: str, table_name: str) -> pd.DataFrame | None:
    """Non-blank rows a user typed below a table, e.g. extra lines under ``tblPlan``.

    Looks at the rows after the table's last row (its totals row if any) down to
    the end of the sheet, in the columns the table spans only (anything typed
    to the right of the table is ignored). Returns a DataFrame with the table's
    headers as columns and the Excel row numbers as index, or None when the
    sheet or the table does not exist or nothing was typed below it.
    """
    path = Path(path)
    with Package(path) as pkg:
        catalog = _list_tables(pkg)
        names = [s.name for s in pkg.sheets]
    info = _find(catalog, table_name)
    if info is None or sheet.lower() not in {n.lower() for n in names} \
            or info.sheet.lower() != sheet.lower():
        return None
    with _gc_paused(), _open(path) as wb:
        grid = _read_grid(wb, info.sheet, None, path)
        r1, c1, r2, c2 = info.bounds
        if len(grid) <= r2:
            return None
        headers = list(info.headers)[:c2 - c1 + 1]
        headers += [f"Column{i + 1}" for i in range(len(headers), c2 - c1 + 1)]
        df = _frame(grid, r2 + 1, len(grid), c1, c2, headers)
    return df if len(df) else None
