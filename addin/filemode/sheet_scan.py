"""What the package check sees of a sheet's XML on its way: how far its cells reach,
and the cells whose value python-calamine would read as blank.

Read what the tables cover, not the sheet's bounding box.

python-calamine builds a dense grid of a sheet's bounding box before it hands
any row over: one note typed at ``XFD1048576`` of the Accounts sheet asks for
17 billion cells (a 549 GB allocation that aborts the process), a note at
``XFD2002`` of a 2,000-account sheet costs 1.4 GB. So, before python-calamine
parses a sheet:

1. :class:`ExtentWatch` follows the sheet's XML while the package check
   decompresses it anyway: the ``<dimension>`` the writing program recorded
   and the last row element. It costs one ``rfind`` per 4 MB chunk.
2. :func:`needs_trim` compares that extent with the region the reader needs
   (the tables' columns, down to their last row or, for a table read with the
   rows below it, to the sheet's end).
3. When the sheet reaches far beyond it, :func:`trimmed_workbook` gives
   python-calamine a copy of the workbook that holds only that sheet, without
   the cells outside the region; its grid is then as small as the tables.

The cells left out are not engine input: user-owned sheets are never written,
and what a user typed on an engine-owned sheet is read elsewhere.

A hostile or odd file can lie: a ``<dimension>`` that leaves out a cell whose
reference is far away (``<c r="XFD1048576">`` inside row 3), or a far row
element placed first, out of order. Given the region it expects,
:class:`ExtentWatch` also looks for references beyond it (and some slack),
at any sheet size: one regular expression per chunk, a filter written so
that almost nothing but a far reference matches it (when the tables' columns
have one letter, as the engine's do: two letters, or one letter after the
slack, or more row digits than the slack allows), each match then read
exactly. It spells references as python-calamine reads them: letters of
either case, either quote, spaces around ``=``. The filter costs what
visiting every ``r=`` costs, about 2 to 3 ms per MB on a quiet machine
(``benchmarks/bench_sheet_checks.py``). Not covered: cells and rows written
without an ``r`` attribute, which python-calamine places one after the other
(16,384 of them in a row reach column XFD).

Never read a wrong value silently: python-calamine reads an error value
(``#N/A``, ``#DIV/0!``) and a formula stored without its result (some programs
write formulas and leave the computing to Excel) as an empty cell, which
would move an account's ABC class. :class:`ExtentWatch` also notes where
those cells are (``errors``, ``uncached``), so that the reader can name them:
a chunk without such cells costs two reverse searches, one that holds some
two ``find`` loops.

Standard library only.
"""
from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass

from maillon.addin.ooxml.package import col_letters, col_number

__all__ = ["ExtentWatch", "Region", "needs_trim", "trimmed_workbook", "cell_ref"]

#: a bounding box at most this many cells larger than the region is read as it is
SLACK_CELLS = 1_000_000

_DIMENSION = re.compile(rb'<(?:\w+:)?dimension\s+ref="([A-Z]+)?(\d+)?(?::([A-Z]+)(\d+))?"')
_ROW_NUMBER = re.compile(rb'\s*r="(\d+)"')
_R_ATTR = re.compile(rb'\sr="([A-Z]+\d+)"')
_VALUE = re.compile(rb"<(?:\w+:)?v>([^<]*)</(?:\w+:)?v>")
_TAIL = 64  # bytes kept from one chunk to the next, so that a tag cut in two is seen
_TAIL_MAX = 1 << 16  # or up to this much: from the last tag's start


class ExtentWatch:
    """Fed the chunks of a sheet's XML in order, knows how far its cells reach.

    >>> w = ExtentWatch()
    >>> w(b'<worksheet><dimension ref="A1:XFD3"/><sheetData><row r="1"><c r="A1"/></row>')
    >>> w(b'<row r="3"><c r="XFD3"/></row></sheetData></worksheet>')
    >>> w.last_row, w.last_col
    (3, 16384)
    >>> w = ExtentWatch()
    >>> w(b'<row r="2"><c r="B2" t="e"><f>NA()</f><v>#N/A</v></c><c r="C2"><f>B2*2</f></c></row>')
    >>> w.errors, w.uncached
    ({'B2': '#N/A'}, {'C2'})
    """

    def __init__(self, expect: Region | None = None):
        self.last_row = 0
        self.last_col = 0
        self.errors: dict[str, str] = {}  # cell reference -> the error value shown
        self.uncached: set[str] = set()  # formulas stored without their value
        self._tail = b""
        self._first = True
        # the ``<dimension>`` and the rows' order may lie: references beyond what the
        # reader expects are looked for in every chunk (one search, at C speed)
        self._far = _far_pattern(expect) if expect is not None else None

    def __call__(self, chunk: bytes) -> None:
        data = self._tail + chunk
        if self._first:
            self._first = False
            m = _DIMENSION.search(data, 0, 65536)
            if m:
                letters = m.group(3) or m.group(1)
                digits = m.group(4) or m.group(2)
                if letters:
                    self.last_col = max(self.last_col, col_number(letters.decode()))
                if digits:
                    self.last_row = max(self.last_row, int(digits))
        pos = data.rfind(b"<row ")
        if pos >= 0:
            m = _ROW_NUMBER.search(data, pos + 4, pos + 40)
            if m:
                self.last_row = max(self.last_row, int(m.group(1)))
        # Each test below reads the whole chunk while holding the GIL, against the
        # import of pandas that the read overlaps: first one reverse search per
        # kind of cell (twice as fast as a forward one), the full search only in
        # a chunk that holds such a cell. A formula whose value is missing always
        # has its ``<f`` in ``data`` (its ``<c `` must be there to be named).
        if data.rfind(b't="e"') >= 0:
            self._find_errors(data)
        if data.rfind(b"<f") >= 0:
            self._find_uncached(data)
        if self._far is not None:
            for m in self._far.finditer(data):
                self._far_ref(data, m)
        # kept for the next chunk: the tag cut in two (an attribute may be spaced out)
        cut = data.rfind(b"<", len(data) - _TAIL_MAX)
        self._tail = data[cut:] if cut >= 0 and len(data) - cut > _TAIL else data[-_TAIL:]

    def _far_ref(self, data: bytes, m: re.Match) -> None:
        """Take in the extent of one match of the far filter, read exactly."""
        if m.start() > 0 and data[m.start() - 1] not in _SPACE:
            return  # another attribute whose name ends with r (``header="…"``)
        letters, digits = _REF_PARTS.match(m.group(1)).groups()
        if letters:  # more than 4 letters or 9 digits: far anyway, and not worth an int
            col = col_number(letters.decode()) if len(letters) <= 4 else _FAR_COL
            self.last_col = max(self.last_col, col)
        if digits:
            self.last_row = max(self.last_row, int(digits) if len(digits) <= 9 else _FAR_ROW)

    def _find_errors(self, data: bytes) -> None:
        pos = data.find(b't="e"')
        while pos >= 0:
            start = data.rfind(b"<c ", 0, pos)
            end = data.find(b"</c>", pos)
            if start >= 0 and end >= 0:
                ref = cell_ref(data[start:pos])
                v = _VALUE.search(data, pos, end)
                if ref:
                    self.errors[ref] = v.group(1).decode("utf-8", "replace") if v else "#VALUE!"
            pos = data.find(b't="e"', pos + 5)

    def _find_uncached(self, data: bytes) -> None:
        for needle in (b"</f></c>", b"/></c>"):
            pos = data.find(needle)
            while pos >= 0:
                start = data.rfind(b"<c ", 0, pos)
                if start >= 0:
                    cell = data[start:pos + len(needle)]
                    if (needle == b"</f></c>" or cell.rfind(b"<f", 0) > 0) and b"<v" not in cell:
                        ref = cell_ref(cell)
                        if ref:
                            self.uncached.add(ref)
                pos = data.find(needle, pos + len(needle))


def _letters_above(n: int) -> str:
    """A regex of the column letters (either case, as python-calamine reads them) of the
    columns after ``n`` (1-based).

    >>> p = re.compile(_letters_above(28) + "$")
    >>> [bool(p.match(c)) for c in ("AB", "AC", "B", "ZZ", "AAA", "ac", "xfd")]
    [False, True, False, True, True, True, True]
    """
    if n >= 16384:
        return "(?!)"
    s = col_letters(n)
    parts = [f"[A-Za-z]{{{len(s) + 1}}}"]  # more letters (python-calamine reads 4 too)
    for i, ch in enumerate(s):  # same length: a greater letter at position i
        if ch != "Z":
            up = chr(ord(ch) + 1)
            same = "".join(f"[{c}{c.lower()}]" for c in s[:i])
            parts.append(same + f"[{up}-Z{up.lower()}-z]" + "[A-Za-z]" * (len(s) - i - 1))
    return "(?:" + "|".join(parts) + ")"


def _rows_from(n: int) -> str:
    """A regex that matches every whole number of ``n`` or more (and a few smaller
    ones: only the first two digits of ``n`` are compared, the caller checks the
    number it is given).

    >>> p = re.compile(_rows_from(112002))
    >>> [bool(p.match(x)) for x in ("112002", "110000", "109999", "99999", "1048576")]
    [True, True, False, False, True]
    """
    s = str(n)
    parts = [f"[0-9]{{{len(s) + 1}}}"]
    if s[0] != "9":
        parts.append(f"[{int(s[0]) + 1}-9][0-9]{{{len(s) - 1}}}")
    if len(s) > 1:
        parts.append(f"{s[0]}[{s[1]}-9][0-9]{{{len(s) - 2}}}")
    return "(?:" + "|".join(parts) + ")"


#: how far past what the reader expects a reference may go before it is looked at
FAR_COLS, FAR_ROWS = 16, 10_000


def _far_pattern(expect: Region) -> re.Pattern:
    """A filter for the ``r`` attributes (of rows and cells) that may reach beyond
    ``expect`` and some slack: every such reference matches, and hardly any other,
    so that the search stays in C (about 3 ms per MB). It is written the way
    python-calamine reads references: letters of either case, either quote,
    spaces around ``=``. :meth:`ExtentWatch._far` reads each match exactly.

    >>> p = _far_pattern(Region(2002, 18))
    >>> [m.group(1) for m in p.finditer(b'<row r="12"><c r="A12"/><c r="XFD3"/><c r="B900000"/>')]
    [b'XFD3', b'B900000']
    >>> [m.group(1) for m in p.finditer(b'<c r = "xfd1"/>' b"<c r='AH99'/><c r='R9'/>")]
    [b'xfd1', b'AH99']
    >>> p = _far_pattern(Region(2002, 40))
    >>> [m.group(1) for m in p.finditer(b'<c r = "xfd1"/>' b"<c r='AD99'/><c r='BE9'/>")]
    [b'xfd1', b'BE9']
    """
    far_col = expect.last_col + FAR_COLS
    rows = None if expect.last_row is None else _rows_from(expect.last_row + FAR_ROWS)
    if expect.last_col <= 26:
        # the common case, and the fastest filter: the tables' cells have one letter,
        # any reference of two letters or more is read (rows: one letter at most), and
        # so is a single letter after the last column with its slack
        after = ""
        if far_col < 26:
            nxt = col_letters(far_col + 1)
            after = f"[{nxt}-Z{nxt.lower()}-z]|"
        refs = after + "[A-Za-z]?+(?:[A-Za-z]" + (f"|{rows}" if rows else "") + ")"
    else:
        cols = _letters_above(far_col)
        refs = cols if rows is None else f"{cols}|[A-Za-z]{{0,3}}+{rows}"
    return re.compile(rb'r\s*+=\s*+["\']((?:' + refs.encode() + rb')[A-Za-z0-9]*)')


_REF_PARTS = re.compile(rb"([A-Za-z]*)([0-9]*)")
_FAR_COL, _FAR_ROW = 16384 * 26, 10 ** 9  # stand-ins for references too long to read
_SPACE = b" \t\r\n"


def cell_ref(tag: bytes) -> str | None:
    """The ``r`` attribute of a cell's start tag.

    >>> cell_ref(b'<c s="3" r="AB12" t="e"')
    'AB12'
    """
    m = _R_ATTR.search(tag, 0, 200)
    return m.group(1).decode() if m else None


@dataclass(frozen=True)
class Region:
    """The cells a reader needs: columns up to ``last_col``, rows up to ``last_row``
    (``None``: to the end of the sheet)."""

    last_row: int | None
    last_col: int


def needs_trim(watch: ExtentWatch, region: Region) -> bool:
    """Whether the sheet reaches so far past ``region`` that it must be trimmed.

    >>> w = ExtentWatch(); w.last_row, w.last_col = 2002, 16384
    >>> needs_trim(w, Region(2002, 18)), needs_trim(w, Region(2002, 16384))
    (True, False)
    """
    rows = watch.last_row
    cols = max(watch.last_col, region.last_col)
    wanted_rows = rows if region.last_row is None else min(rows, region.last_row)
    box = max(rows, 1) * cols
    return box > max(wanted_rows, 1) * region.last_col + SLACK_CELLS


_ROW = re.compile(rb"<(?:\w+:)?row\b[^>]*?(?:/>|>.*?</(?:\w+:)?row>)", re.S)
# references read as python-calamine reads them (either case, either quote, spaces)
_CELL = re.compile(rb'<(?:\w+:)?c\b[^>]*?\sr\s*=\s*["\']([A-Za-z]+)(\d+)["\'][^>]*?'
                   rb'(?:/>|>.*?</(?:\w+:)?c>)', re.S)
_ROW_START = re.compile(rb'<(?:\w+:)?row\b[^>]*?\sr\s*=\s*["\'][A-Za-z]*(\d+)["\']')
_SHEET_DATA = re.compile(rb"<(?:\w+:)?sheetData\b[^>]*?(?:/>|>(.*?)</(?:\w+:)?sheetData>)", re.S)
# elements that name cells outside the region and are not cell values
_DROP = re.compile(rb"<(?:\w+:)?(dimension|mergeCells|hyperlinks|conditionalFormatting|"
                   rb"dataValidations)\b[^>]*?(?:/>|>.*?</(?:\w+:)?\1>)", re.S)


def _trim_sheet(xml: bytes, region: Region) -> bytes:
    """The sheet's XML with only the cells of ``region``."""
    m = _SHEET_DATA.search(xml)
    if m is None or m.group(1) is None:
        return xml
    last_col = region.last_col
    last_row = region.last_row

    def cell(c: re.Match) -> bytes:
        if last_row is not None and int(c.group(2)) > last_row:
            return b""  # a reference below the region, whatever row holds it
        return c.group(0) if col_number(c.group(1).decode()) <= last_col else b""

    rows = []
    for r in _ROW.finditer(m.group(1)):
        row = r.group(0)
        n = _ROW_START.match(row)
        if last_row is not None and n is not None and int(n.group(1)) > last_row:
            continue  # rows should come in order; a hostile file's may not
        rows.append(_CELL.sub(cell, row))
    head = _DROP.sub(b"", xml[:m.start()])
    tail = _DROP.sub(b"", xml[m.end():])
    open_tag = xml[m.start():m.start(1)]
    close_tag = xml[m.end(1):m.end()]
    return head + open_tag + b"".join(rows) + close_tag + tail


#: the parts python-calamine needs to read one sheet (the sheet itself is added)
_WORKBOOK_PARTS = ("[Content_Types].xml", "_rels/.rels", "xl/workbook.xml",
                   "xl/_rels/workbook.xml.rels", "xl/styles.xml", "xl/sharedStrings.xml")


def trimmed_workbook(path, sheet_part: str, region: Region) -> io.BytesIO:
    """An in-memory copy of the workbook at ``path`` in which ``sheet_part`` holds only
    the cells of ``region``; the other sheets' parts are left out (the package was
    checked before: sizes and ratios are bounded)."""
    out = io.BytesIO()
    with zipfile.ZipFile(path) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as zout:
        names = {i.filename.lower(): i.filename for i in zin.infolist()}
        for part in _WORKBOOK_PARTS:
            name = names.get(part.lower())
            if name is not None:
                zout.writestr(name, zin.read(name))
        name = names[sheet_part.lower()]
        zout.writestr(name, _trim_sheet(zin.read(name), region))
    out.seek(0)
    return out
