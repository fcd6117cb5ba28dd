"""What a user typed on the engine-owned sheets outside their tables, and the comments
on their cells, read from the package before a recompute replaces those sheets.

The engine records, on each engine sheet, the cells it wrote outside its tables
(the hidden sheet-level name :data:`~maillon.addin.render.specs.ENGINE_AREA_NAME`).
A cell with content that lies outside that area, outside the engine's tables
and outside the rows kept under ``tblPlan`` was typed by a user: it is read
here (its value, and its formula when it has one) and handed to the engine
(``PreviousState.loose``; the renderer puts it back, see
:mod:`maillon.engine.loose`).

A sheet without that name was written by an older Maillon: every cell outside
its tables is read, as ``unmarked``; the renderer tells the engine's own
cells apart from the layout of that previous run.

The cells inside the engine's area are read too when the last run recorded
what it wrote there (tblHistory's hidden ``Cells check``): a cell whose value
no longer matches is one a user typed over, read as ``overwritten``.

Comments: the sheet's notes (its comments part) and threaded comments (with
their replies, and the authors' names from the workbook's persons part) are
read whole, with the table and header of the cell they are on.

The scan costs little on the big sheets: the rows are split into bands where
the engine's columns are the same, and one regular expression per band,
built to match only cell references outside those columns, runs over its
bytes at C speed. The values are then read by python-calamine from a tiny
copy of the workbook that holds only those cells (shared strings, dates and
number formats resolved as everywhere else).
"""
from __future__ import annotations

import io
import re
import zipfile
from xml.sax.saxutils import unescape

import python_calamine

from maillon.addin.ooxml.package import (NS_MAIN, Package, TableInfo, col_letters, col_number,
                                         local, tables_in)
from maillon.addin.render.specs import ENGINE_AREA_NAME, parse_area
from maillon.engine import contract as C

__all__ = ["read_loose", "engine_areas", "outside_cells", "inside_cells", "letters_between"]

MAX_ROW, MAX_COL = 1_048_576, 16_384
#: engine tables: their cells are read as tables, never as loose cells
ENGINE_TABLES = set(C.ENGINE_TABLES)
MAX_LOOSE = 100_000  # cells read per sheet, at most (beyond: a message, not a huge read)

def engine_areas(pkg: Package) -> dict[str, list[tuple[int, int, int, int]]]:
    """Per sheet, the rectangles of its :data:`ENGINE_AREA_NAME` (1-based, inclusive)."""
    sheets = pkg.sheets
    out: dict[str, list] = {}
    for el in pkg.workbook.iter(f"{{{NS_MAIN}}}definedName"):
        lsid = el.get("localSheetId")
        if el.get("name", "").lower() != ENGINE_AREA_NAME.lower() or lsid is None \
                or not lsid.isdigit() or int(lsid) >= len(sheets):
            continue
        out[sheets[int(lsid)].name] = parse_area(el.text or "")
    return out


# --------------------------------------------------------------------------- the scan
def _same_length(lo: str, hi: str) -> str:
    """A regex of the letter strings from ``lo`` to ``hi`` (same length, ``lo <= hi``)."""
    if not lo:
        return ""
    if lo[0] == hi[0]:
        return lo[0] + _same_length(lo[1:], hi[1:])
    rest = len(lo) - 1
    parts = [lo[0] + _same_length(lo[1:], "Z" * rest)]
    if ord(hi[0]) - ord(lo[0]) > 1:
        parts.append(f"[{chr(ord(lo[0]) + 1)}-{chr(ord(hi[0]) - 1)}]" + "[A-Z]" * rest)
    parts.append(hi[0] + _same_length("A" * rest, hi[1:]))
    return "(?:" + "|".join(parts) + ")"


def letters_between(first: int, last: int) -> str:
    """A regex matching exactly the column letters of columns ``first..last``.

    >>> p = re.compile(letters_between(29, 729) + "$")
    >>> [bool(p.match(c)) for c in ("AB", "AC", "ZZ", "AAB", "ABB", "A")]
    [False, True, True, True, False, False]
    """
    parts = []
    for length in (1, 2, 3):
        lo_n = max(first, sum(26 ** k for k in range(1, length)) + 1)
        hi_n = min(last, sum(26 ** k for k in range(1, length + 1)))
        if lo_n <= hi_n:
            parts.append(_same_length(col_letters(lo_n), col_letters(hi_n)))
    return "(?:" + "|".join(parts) + ")"


def _free_columns(covered: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out, col = [], 1
    for a, b in sorted(covered):
        if a > col:
            out.append((col, a - 1))
        col = max(col, b + 1)
    if col <= MAX_COL:
        out.append((col, MAX_COL))
    return out


_ROW_AT = re.compile(rb'<(?:\w+:)?row\b[^>]*?\br="(\d+)"')
_CELL_END = re.compile(rb"</(?:\w+:)?c>")
_HAS_CONTENT = re.compile(rb"<(?:\w+:)?(?:v|is|f)\b")


def _row_offset(data: bytes, lo: int, hi: int, row: int) -> int:
    """The offset in ``data[lo:hi]`` of the first row numbered ``row`` or more (``hi`` if none).

    Rows come in order: a binary search over offsets, then a short walk.

    >>> xml = b"".join(b'<row r="%d"><c r="A%d"><v>1</v></c></row>' % (n, n) for n in range(1, 9000, 3))
    >>> at = _row_offset(xml, 0, len(xml), 5000)
    >>> xml[at:at + 14]
    b'<row r="5002">'
    """
    a, b, best = lo, hi, hi

    def start_in(x: int, y: int):
        m = _ROW_AT.search(data, x, min(len(data), y + 64))
        return m if m is not None and m.start() < y else None

    while b - a > 4096:
        mid = (a + b) // 2
        m = start_in(mid, b)
        if m is None:
            b = mid  # no row starts in [mid, b)
        elif int(m.group(1)) >= row:
            best = b = m.start()
        else:
            a = m.end()  # every row before is numbered below ``row``
    m = start_in(a, b)
    while m is not None:
        if int(m.group(1)) >= row:
            return m.start()
        m = start_in(m.end(), b)
    return best


def _bands(covered: list, dimension: tuple | None):
    """``(first row, last row, free columns)`` of each band of rows where the covered
    columns are the same, leaving out what the sheet's ``dimension`` (its cells' bounding
    box, 1-based) shows to be empty."""
    cuts = sorted({1, MAX_ROW + 1, *(r[0] for r in covered), *(r[2] + 1 for r in covered)})
    cuts = [c for c in cuts if 1 <= c <= MAX_ROW + 1]
    for lo, nxt in zip(cuts, cuts[1:]):
        hi = nxt - 1
        cols = [(r[1], r[3]) for r in covered if r[0] <= lo and r[2] >= hi]
        free = _free_columns(cols)
        if dimension is not None:
            d1, e1, d2, e2 = dimension
            if hi < d1 or lo > d2:
                continue
            free = [(max(a, e1), min(b, e2)) for a, b in free if a <= e2 and b >= e1]
        if free:
            yield lo, hi, tuple(free)


def last_needed_row(covered: list, dimension: tuple | None) -> int:
    """The last row a scan of the sheet must see (0: none)."""
    if dimension is None:
        return MAX_ROW
    return max((hi for _, hi, _ in _bands(covered, dimension)), default=0)


def outside_cells(xml: bytes, covered: list[tuple[int, int, int, int]],
                  dimension: tuple | None = None) -> list[tuple[int, int, bytes]]:
    """The cells with content of a sheet's XML that no rectangle of ``covered`` holds.

    Returns ``(row, col, the cell's XML)``, in sheet order. Cells without a
    reference (``r``) are not seen: every program that writes Excel tables
    writes it. ``dimension`` (the sheet's bounding box as its ``<dimension>``
    says) lets the scan skip the rows and columns it shows to be empty.

    >>> xml = (b'<sheetData><row r="1"><c r="A1"><v>1</v></c><c r="C1"><v>2</v></c></row>'
    ...        b'<row r="2"><c r="A2" s="1"/><c r="B2" t="s"><v>0</v></c></row></sheetData>')
    >>> [(r, c) for r, c, _ in outside_cells(xml, [(1, 1, 1, 2)])]
    [(1, 3), (2, 2)]
    """
    start = xml.find(b"sheetData")
    if start < 0:
        return []
    end = xml.rfind(b"sheetData")
    end = len(xml) if end <= start else end
    found = []
    pos = start
    patterns: dict = {}
    for lo, hi, free in _bands(covered, dimension):
        a = _row_offset(xml, pos, end, lo)
        b = _row_offset(xml, a, end, hi + 1) if hi < MAX_ROW else end
        pos = b
        if a >= b:
            continue
        pattern = patterns.get(free)
        if pattern is None:  # a literal start: the search runs at C speed between cells
            letters = "|".join(letters_between(f, t) for f, t in free)
            pattern = patterns[free] = re.compile(rb' r="(' + letters.encode() + rb')(\d+)"')
        for m in pattern.finditer(xml, a, b):
            tag = xml.rfind(b"<", a, m.start())
            if tag < 0 or not _CELL_TAG.match(xml, tag):
                continue  # an ``r`` attribute of something else
            close = xml.find(b">", m.end(), b)
            if close < 0 or xml[close - 1:close] == b"/":
                continue  # an empty cell (a format only)
            shut = _CELL_END.search(xml, close, b)
            if shut is None:
                continue
            cell = xml[tag:shut.end()]
            if _HAS_CONTENT.search(cell):
                found.append((int(m.group(2)), col_number(m.group(1).decode()), cell))
    return found


_CELL_TAG = re.compile(rb"<(?:\w+:)?c\s")
_CELL_AT = re.compile(rb'<(?:\w+:)?c\s[^>]*?\br="([A-Z]{1,3})(\d+)"')


def inside_cells(xml: bytes, rects: list, outside: list = ()) -> list[tuple[int, int, bytes]]:
    """The cells with content of a sheet's XML that one of ``rects`` holds and none of
    ``outside`` does: ``(row, col, the cell's XML)``. Meant for a few small rectangles
    near the top of a sheet: the scan stops after their last row.

    >>> xml = (b'<sheetData><row r="1"><c r="A1"><v>1</v></c><c r="C1"><v>2</v></c></row>'
    ...        b'<row r="2"><c r="A2" s="1"/><c r="B2"><v>3</v></c></row></sheetData>')
    >>> [(r, c) for r, c, _ in inside_cells(xml, [(1, 1, 2, 2)])]
    [(1, 1), (2, 2)]
    """
    if not rects:
        return []
    start = xml.find(b"sheetData")
    if start < 0:
        return []
    end = xml.rfind(b"sheetData")
    end = len(xml) if end <= start else end
    last = max(r[2] for r in rects)
    stop = _row_offset(xml, start, end, last + 1) if last < MAX_ROW else end
    found = []
    for m in _CELL_AT.finditer(xml, start, stop):
        row, col = int(m.group(2)), col_number(m.group(1).decode())
        if not any(a <= row <= c and b <= col <= d for a, b, c, d in rects) or \
                any(a <= row <= c and b <= col <= d for a, b, c, d in outside):
            continue
        close = xml.find(b">", m.end(), stop)
        if close < 0 or xml[close - 1:close] == b"/":
            continue  # an empty cell (a format only)
        shut = _CELL_END.search(xml, close, stop)
        if shut is None:
            continue
        cell = xml[m.start():shut.end()]
        if _HAS_CONTENT.search(cell):
            found.append((row, col, cell))
    return found
_DIMENSION = re.compile(rb'<(?:\w+:)?dimension\s+ref="([A-Z]{1,3})(\d+)(?::([A-Z]{1,3})(\d+))?"')


def _dimension(head: bytes) -> tuple | None:
    m = _DIMENSION.search(head)
    if m is None:
        return None
    c1, r1 = col_number(m.group(1).decode()), int(m.group(2))
    c2, r2 = (col_number(m.group(3).decode()), int(m.group(4))) if m.group(3) else (c1, r1)
    return r1, c1, r2, c2


def _sheet_xml(pkg: Package, part: str, covered: list, at_least: int = 0
               ) -> tuple[bytes, tuple | None]:
    """The sheet's XML as far as a scan needs it, and its dimension.

    When the ``<dimension>`` shows nothing outside ``covered`` below some row,
    decompression stops there: a big Target List with nothing typed beside it
    costs its first chunk. ``at_least``: a row the caller needs in any case."""
    info = pkg.info(part)
    with pkg.zf.open(info) as fh:
        first = fh.read(1 << 16)
        dimension = _dimension(first[:4096])
        last = max(last_needed_row(covered, dimension), at_least)
        if last == 0:
            return b"", dimension
        chunks = [first]
        while True:
            chunk = chunks[-1]
            at = max(chunk.rfind(b"<row "), chunk.rfind(b":row "))
            m = _ROW_AT.match(chunk, at) if at >= 0 else None
            if m is not None and int(m.group(1)) > last:
                break  # past the last row to look at
            more = fh.read(8 << 20)
            if not more:
                break
            chunks.append(more)
    return b"".join(chunks), dimension


# --------------------------------------------------------------------------- values
_R_ATTR = re.compile(rb'(\br=")[A-Z]{1,3}\d+(")')
_FORMULA = re.compile(rb"<(?:\w+:)?f\b([^>]*?)(?:/>|>(.*?)</(?:\w+:)?f>)", re.S)
_ERROR = re.compile(rb'\bt="e"')
_VALUE = re.compile(rb"<(?:\w+:)?v>([^<]*)</(?:\w+:)?v>")
_WORKBOOK_PARTS = ("[Content_Types].xml", "_rels/.rels", "xl/workbook.xml",
                   "xl/_rels/workbook.xml.rels", "xl/styles.xml", "xl/sharedStrings.xml")


def _values(path, sheets: list[tuple[str, str, list[bytes]]]) -> list[list]:
    """The values of the cells of each ``(sheet, part, cells' XML)``, read by
    python-calamine from one copy of the workbook whose sheets hold only them, one per row
    of column A. The copy takes the shared strings only when a cell refers to them (the
    engine writes inline strings; a program that saved the workbook may not)."""
    bodies = []
    for _, _, cells in sheets:
        rows = b"".join(b'<row r="%d">' % (i + 1)
                        + _R_ATTR.sub(rb"\g<1>A%d\g<2>" % (i + 1), c, 1) + b"</row>"
                        for i, c in enumerate(cells))
        bodies.append(b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
                      b'<worksheet xmlns="' + NS_MAIN.encode() + b'"><sheetData>' + rows
                      + b"</sheetData></worksheet>")
    shared = any(_SHARED.search(c) for _, _, cells in sheets for c in cells)
    buf = io.BytesIO()
    with zipfile.ZipFile(path) as zin, zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zout:
        names = {i.filename.lower(): i.filename for i in zin.infolist()}
        for wanted in _WORKBOOK_PARTS:
            if wanted == "xl/sharedStrings.xml" and not shared:
                continue
            name = names.get(wanted.lower())
            if name is not None:
                zout.writestr(name, zin.read(name))
        for (_, part, _), xml in zip(sheets, bodies):
            zout.writestr(names.get(part.lower(), part), xml)
    buf.seek(0)
    wb = python_calamine.CalamineWorkbook.from_filelike(buf)
    out = []
    for sheet, _, cells in sheets:
        grid = wb.get_sheet_by_name(sheet).to_python(skip_empty_area=False)
        got = [row[0] if row else "" for row in grid]
        out.append(got + [""] * (len(cells) - len(got)))
    return out


_SHARED = re.compile(rb'\bt="s"')


def _formula(cell: bytes) -> str:
    m = _FORMULA.search(cell)
    if m is None or not m.group(2):
        return ""  # no formula, or a cell sharing another's (its value is kept)
    return "=" + unescape(m.group(2).decode("utf-8", "replace"))


# --------------------------------------------------------------------------- comments
def _text_of(el) -> str:
    return "".join(t.text or "" for t in el.iter() if local(t.tag) == "t")


def _persons(pkg: Package) -> dict[str, str]:
    names = {}
    for rel in pkg.rels(pkg.workbook_part):
        if rel.kind == "person" and not rel.external and pkg.has(rel.target):
            for el in pkg.xml(rel.target):
                if local(el.tag) == "person":
                    names[el.get("id", "")] = el.get("displayName", "")
    return names


def _comments(pkg: Package, part: str) -> list[tuple[str, str, str]]:
    """``(cell reference, author, text)`` of every comment on the sheet part."""
    threads: dict[str, list] = {}
    persons = None
    for rel in pkg.rels(part):
        if rel.kind != "threadedComment" or rel.external or not pkg.has(rel.target):
            continue
        persons = _persons(pkg) if persons is None else persons
        for el in pkg.xml(rel.target):
            if local(el.tag) != "threadedComment":
                continue
            text = "".join(t.text or "" for t in el if local(t.tag) == "text")  # plain text
            threads.setdefault(el.get("ref", ""), []).append(
                (persons.get(el.get("personId", ""), ""), text))
    out = []
    for ref, items in threads.items():
        author = items[0][0]
        text = "\n".join([items[0][1]] + [f"{a or 'Reply'}: {t}" for a, t in items[1:]])
        out.append((ref, author, text))
    for rel in pkg.rels(part):
        if rel.kind != "comments" or rel.external or not pkg.has(rel.target):
            continue
        root = pkg.xml(rel.target)
        authors = [a.text or "" for el in root if local(el.tag) == "authors" for a in el]
        for el in root.iter():
            if local(el.tag) != "comment" or el.get("ref", "") in threads:
                continue
            aid = el.get("authorId", "")
            author = authors[int(aid)] if aid.isdigit() and int(aid) < len(authors) else ""
            text = "".join(_text_of(t) for t in el if local(t.tag) == "text")
            out.append((el.get("ref", ""), author, text))
    return out


def _where(tables: list[TableInfo], row: int, col: int) -> tuple[str, str]:
    """The table and header of a data cell of one of ``tables`` ("" when none)."""
    for t in tables:
        r1, c1, r2, c2 = t.bounds
        if t.first_data_row <= row <= t.last_data_row and c1 <= col <= c2:
            i = col - c1
            return t.name, (t.headers[i] if i < len(t.headers) else "")
    return "", ""


# --------------------------------------------------------------------------- the read
def read_loose(path, history=None) -> list[dict]:
    """The cells typed outside the engine's tables and the comments on the engine sheets
    of the workbook at ``path`` (rows of :data:`maillon.engine.loose.LOOSE_COLUMNS`).

    ``history`` is ``tblHistory`` as read: its last row's ``Cells check`` says what the
    engine wrote outside its tables, so that what a user typed over it is found.
    The package must have been checked (:func:`~maillon.addin.ooxml.safe_io.check_package`).
    """
    from maillon.engine.loose import last_cells_check, overwritten
    from maillon.addin.ooxml.package import parse_ref
    from maillon.addin.ooxml.safe_io import WorkbookError

    out: list[dict] = []
    with Package(path) as pkg:
        engine = {name.lower() for name in C.ENGINE_SHEETS}
        sheets = [s for s in pkg.sheets
                  if s.name.lower() in engine and s.part and pkg.has(s.part)]
        if not sheets:
            return out
        areas = engine_areas(pkg)
        checks = last_cells_check(history)
        catalog = tables_in(pkg)
        by_sheet: dict[str, list[TableInfo]] = {}
        for t in catalog.values():
            if t.name in ENGINE_TABLES:
                by_sheet.setdefault(t.sheet, []).append(t)
        found = []  # per sheet with cells to read: what their values are compared with
        for s in sheets:
            tables = by_sheet.get(s.name, [])
            for ref, author, text in _comments(pkg, s.part):
                try:
                    row, col = parse_ref(ref)[:2]
                except ValueError:
                    continue
                table, header = _where(tables, row, col)
                out.append({"Sheet": s.name, "Row": row, "Col": col, "What": "comment",
                            "Value": text, "Formula": "", "Author": author, "Table": table,
                            "Header": header})
            own = []  # the tables, and the rows typed under the plan (read with it)
            for t in tables:
                r1, c1, r2, c2 = t.bounds
                own.append((r1, c1, r2, c2))
                if t.name == C.TBL_PLAN:
                    own.append((r2 + 1, c1, MAX_ROW, c2))
            area = areas.get(s.name)
            what = "cell" if area is not None else "unmarked"  # unmarked: an older Maillon's
            digests = checks.get(s.name) if area is not None else None
            covered = own + list(area or [])
            at_least = max((r[2] for r in area), default=0) if digests else 0
            xml, dimension = _sheet_xml(pkg, s.part, covered, at_least)
            cells = outside_cells(xml, covered, dimension) if xml else []
            inside = inside_cells(xml, area, own) if xml and digests else []
            if len(cells) > MAX_LOOSE:
                raise WorkbookError(
                    f"{pkg.path.name}: the engine-owned sheet {s.name!r} holds "
                    f"{len(cells):,} cells typed outside its tables (at most {MAX_LOOSE:,} "
                    f"are kept by a recompute); move them to a sheet of your own and try "
                    f"again; nothing was changed.")
            if cells or inside:
                found.append((s.name, s.part, what, area, digests, cells, inside))
        if not found:
            return out
        values = _values(path, [(name, part, [c for _, _, c in cells + inside])
                                for name, part, _, _, _, cells, inside in found])
        for (name, _, what, area, digests, cells, inside), got in zip(found, values):
            read = []
            for (row, col, xml), value in zip(cells + inside, got):
                formula = _formula(xml)
                if value == "" and _ERROR.search(xml[:200]):
                    v = _VALUE.search(xml)
                    value = v.group(1).decode("utf-8", "replace") if v else "#VALUE!"
                read.append((row, col, value, formula))
            typed_over = set()
            if inside:
                now = {(r, c): v for r, c, v, _ in read[len(cells):]}
                typed_over = set(overwritten(area, digests, now))
                # the engine writes no formula outside its tables: one is a user's
                typed_over |= {(r, c) for r, c, _, f in read[len(cells):] if f}
            for i, (row, col, value, formula) in enumerate(read):
                if i >= len(cells) and (row, col) not in typed_over:
                    continue
                if value == "" and not formula:
                    continue
                out.append({"Sheet": name, "Row": row, "Col": col,
                            "What": what if i < len(cells) else "overwritten",
                            "Value": value, "Formula": formula, "Author": "", "Table": "",
                            "Header": ""})
    return out
