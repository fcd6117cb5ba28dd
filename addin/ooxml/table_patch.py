"""Edit the cells of Excel tables inside a package, and nothing else of their sheets.

The one write path for user-owned tables (merge, import): a :class:`TableEdit`
sets cells of a table's body rows, appends rows below it and adds columns at
its right. :func:`patch_parts` returns the new bytes of the sheet parts and
table parts that change; :func:`write_package` writes a package where those
parts replace the originals and every other part is copied byte for byte.

In a patched sheet only the rows that the edit touches are rebuilt: every
other row, the column widths, merged cells, comments, drawings, formats and
validations stay as they were. A rebuilt cell keeps its style; a new cell
takes the style of the cell above it in its column (a new row) or of the
table's header cell to its left (a new header). Conditional formats and
validations that covered the table's body down to its last row are extended
to the new last row, as Excel does when a table grows. Text is always written
as text (an inline string), never as a formula.

A cell can also be *marked* (``TableEdit.marks``): a merge highlights a
conflicting cell where it lives. The cell keeps its value and its style but
for the fill, through a clone of its style (:mod:`maillon.addin.ooxml.cell_marks`):
``xl/styles.xml`` then changes too (styles are appended, none is renumbered).
A mark of None clears a mark and gives the cell its own style back.

Refused with a :class:`~maillon.addin.ooxml.safe_io.WorkbookError` naming the
sheet and cell: growing a table over a cell that holds something, over
another table or a merged range, a table with a totals row that would grow,
and replacing a cell whose formula other cells share.

Example
-------
::

    with Package("team.xlsx") as pkg:
        parts = patch_parts(pkg, [TableEdit("tblAccounts", cells={(5, "City"): "Lyon"},
                                            new_rows=[{"Account ID": "A-9", ...}])])
        write_package(pkg, "out.xlsx", parts)
"""
from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape

from maillon.addin.ooxml.cell_xml import QUOTE, cell_xml
from maillon.addin.ooxml.package import (Package, TableInfo, col_letters, col_number, parse_ref,
                                         tables_in)
from maillon.addin.ooxml.safe_io import WorkbookError
from maillon.addin.ooxml.zipwriter import ZipWriter

__all__ = ["TableEdit", "patch_parts", "write_package", "col_letters"]


@dataclass(frozen=True)
class TableEdit:
    """What to change in one Excel table.

    ``cells`` maps ``(sheet row number, header)`` of existing body rows to the
    new value; ``new_rows`` are appended below the last row, each a mapping of
    header to value (missing headers stay blank); ``new_columns`` are headers
    added at the table's right end (``cells`` and ``new_rows`` may use them).
    Values: ``str`` (text), ``int``/``float``, ``bool``, ``datetime.date`` /
    ``datetime.datetime`` (a date serial), ``None`` or ``""`` (blank).
    ``marks`` maps ``(sheet row number, header)`` of a body row or of a new row
    to a kind of mark (``"conflict"``: the cell's fill becomes
    ``cell_marks.MARK_FILLS["conflict"]``) or to None (a mark is cleared, the
    cell's own style comes back); see the module.
    """

    table: str
    cells: Mapping[tuple[int, str], object] = field(default_factory=dict)
    new_rows: Sequence[Mapping[str, object]] = ()
    new_columns: Sequence[str] = ()
    marks: Mapping[tuple[int, str], str | None] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not (self.cells or self.new_rows or self.new_columns or self.marks)


def _ref(r1: int, c1: int, r2: int, c2: int) -> str:
    return f"{col_letters(c1)}{r1}:{col_letters(c2)}{r2}"


def _root_prefix(text: str, name: str) -> str:
    m = re.search(r"<([A-Za-z_][\w.-]*:)?" + name + r"[\s/>]", text)
    return (m.group(1) or "") if m else ""


def _decode(data: bytes) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    head = data[:100]
    if head.startswith(b"\xff\xfe") or head.startswith(b"\xfe\xff"):
        return data.decode("utf-16")
    return data.decode("utf-8")


_ATTR = re.compile(r'([\w:.-]+)\s*=\s*(?:"([^"]*)"|\'([^\']*)\')')


def _attrs(tag_inner: str) -> dict[str, str]:
    return {m.group(1): m.group(2) if m.group(2) is not None else m.group(3)
            for m in _ATTR.finditer(tag_inner)}


def _set_attr(start: str, name: str, value: str) -> str:
    """Start tag text ``<x ...>`` with attribute ``name`` set (added before the end)."""
    pattern = re.compile(r'(\s' + re.escape(name) + r'\s*=\s*)("[^"]*"|\'[^\']*\')')
    if pattern.search(start):
        return pattern.sub(lambda m: f'{m.group(1)}"{value}"', start, count=1)
    end = -2 if start.endswith("/>") else -1
    return f'{start[:end]} {name}="{value}"{start[end:]}'


def _drop_attr(start: str, name: str) -> str:
    return re.sub(r'\s' + re.escape(name) + r'\s*=\s*("[^"]*"|\'[^\']*\')', "", start)


# --------------------------------------------------------------------------- plans
@dataclass
class _Append:
    """Rows appended below a table: each new cell takes the style of ``style_row``'s."""

    first_row: int
    style_row: int | None  # the table's last body row (None: the table had no body row)
    c1: int
    c2: int
    records: list[dict[int, object]]  # column -> value

    @property
    def last_row(self) -> int:
        return self.first_row + len(self.records) - 1


@dataclass
class _Plan:
    """Every cell to write on one sheet, and the checks that the growth needs."""

    sheet: str
    values: dict[int, dict[int, object]] = field(default_factory=dict)  # row -> col -> value
    header_cells: set[tuple[int, int]] = field(default_factory=set)  # new header cells
    must_be_empty: list[tuple[int, int, int, int]] = field(default_factory=list)
    style_from: dict[tuple[int, int], tuple[int, int]] = field(default_factory=dict)
    appends: list[_Append] = field(default_factory=list)
    grown: list[tuple[TableInfo, str, list[str]]] = field(default_factory=list)
    extend_rows: list[tuple[int, int, int, int, int]] = field(default_factory=list)  # c1, c2,
    # first body row, old and new last row of a table that grows down
    marks: dict[int, dict[int, str | None]] = field(default_factory=dict)  # row -> col -> kind

    def set(self, row: int, col: int, value) -> None:
        self.values.setdefault(row, {})[col] = value


def _plan_edit(plan: _Plan, info: TableInfo, edit: TableEdit, others: list[TableInfo]) -> None:
    r1, c1, r2, c2 = info.bounds
    where = f"table {info.name} on sheet {info.sheet!r}"
    folded = {h.casefold() for h in info.headers}
    new_columns = list(edit.new_columns)
    for name in new_columns:
        if not isinstance(name, str) or not name.strip():
            raise ValueError(f"{where}: a new column needs a name, got {name!r}")
        if name.casefold() in folded:
            raise ValueError(f"{where}: it already has a column {name!r}")
        folded.add(name.casefold())
    headers = list(info.headers) + new_columns
    col_of = {h: c1 + i for i, h in enumerate(headers)}
    first, last = info.first_data_row, info.last_data_row
    n_new = len(edit.new_rows)
    if (n_new or new_columns) and info.totals_rows:
        raise WorkbookError(
            f"table {info.name} on sheet {info.sheet!r} has a Total Row, so Maillon cannot add "
            f"rows or columns to it: turn the Total Row off (Table Design > Total Row) and try "
            f"again; nothing was changed.")
    if info.header_rows == 0 and new_columns:
        raise WorkbookError(
            f"table {info.name} on sheet {info.sheet!r} has no header row, so Maillon cannot add "
            f"the columns {', '.join(new_columns)}: turn the Header Row on (Table Design > "
            f"Header Row) and try again; nothing was changed.")

    def column(header: str) -> int:
        try:
            return col_of[header]
        except KeyError:
            raise ValueError(f"{where}: no column {header!r} (it has {headers})") from None

    for (row, header), value in edit.cells.items():
        if not first <= row <= last:
            raise ValueError(f"{where}: row {row} is not a body row ({first}-{last})")
        plan.set(row, column(header), value)
    new_last = last + n_new
    new_c2 = c2 + len(new_columns)
    for (row, header), kind in edit.marks.items():
        if not first <= row <= new_last:
            raise ValueError(f"{where}: row {row} is not a body row ({first}-{new_last})")
        plan.marks.setdefault(row, {})[column(header)] = kind
    if n_new:
        plan.appends.append(_Append(
            last + 1, last if last >= first else None, c1, new_c2,
            [{column(h): v for h, v in record.items()} for record in edit.new_rows]))
        plan.must_be_empty.append((last + 1, c1, new_last, new_c2))
        plan.extend_rows.append((c1, c2, first, last, new_last))
    if new_columns:
        plan.must_be_empty.append((r1, c2 + 1, new_last, new_c2))
        for k, name in enumerate(new_columns):
            col = c2 + 1 + k
            plan.set(r1, col, name)
            plan.header_cells.add((r1, col))
            plan.style_from[(r1, col)] = (r1, c2)
    new_ref = _ref(r1, c1, new_last + info.totals_rows, new_c2)
    if n_new or new_columns:
        grown_box = (r1, c1, new_last, new_c2)
        for other in others:
            o1, d1, o2, d2 = other.bounds
            if o1 <= grown_box[2] and grown_box[0] <= o2 and d1 <= grown_box[3] \
                    and grown_box[1] <= d2:
                raise WorkbookError(
                    f"table {info.name} on sheet {info.sheet!r} cannot grow to {new_ref}: table "
                    f"{other.name} is in the way ({other.ref}). Move one of them and try again; "
                    f"nothing was changed.")
    plan.grown.append((info, new_ref, new_columns))


# --------------------------------------------------------------------------- sheet XML
class _Row:
    """A ``<row>`` element of the sheet text: where it is, its start tag, its cells."""

    __slots__ = ("number", "start", "end", "attrs", "body_start", "body_end")

    def __init__(self, number, start, end, attrs, body_start, body_end):
        self.number, self.start, self.end = number, start, end
        self.attrs, self.body_start, self.body_end = attrs, body_start, body_end


_ROW_NUMBER = re.compile(r"""\sr\s*=\s*["'](\d+)["']""")
_CELL_COLUMN = re.compile(r"""\sr\s*=\s*["']\$?([A-Za-z]{1,3})""")
_CELL_STYLE = re.compile(r"""\ss\s*=\s*["'](\d+)["']""")


class _SheetText:
    """The rows of a worksheet part (rows do not nest; cells are in column order)."""

    def __init__(self, text: str):
        self.text = text
        self.p = _root_prefix(text, "worksheet")
        p = re.escape(self.p)
        self.cell_re = re.compile(r"<" + p + r"c(?=[\s/>])([^>]*?)(/>|>(.*?)</" + p + r"c>)",
                                  re.S)
        self.content_re = re.compile(r"<" + p + r"(v|f|is)[\s>]")
        m = re.search(r"<" + p + r"sheetData(?=[\s/>])[^>]*?(/?)>", text)
        if m is None:
            raise WorkbookError("the sheet has no cell data part (sheetData)")
        self.data_start = m.end()
        if m.group(1):  # <sheetData/>
            self.empty_tag = (m.start(), m.end())
            self.data_end = m.end()
        else:
            self.empty_tag = None
            self.data_end = text.index("</" + self.p + "sheetData>", m.end())

    def rows(self) -> list[_Row]:
        """Every row in order (a row without ``r`` is the one after the previous)."""
        text, end_of_data = self.text, self.data_end
        opening, closing = "<" + self.p + "row", "</" + self.p + "row>"
        out, number, pos = [], 0, self.data_start
        while True:
            i = text.find(opening, pos, end_of_data)
            if i < 0:
                return out
            j = text.index(">", i)
            attrs = text[i + len(opening):j]
            if attrs[:1] not in (" ", "\t", "\n", "\r", "/", ""):
                pos = j  # another element whose name begins with "row"
                continue
            m = _ROW_NUMBER.search(attrs)
            number = int(m.group(1)) if m else number + 1
            if attrs.endswith("/"):
                out.append(_Row(number, i, j + 1, attrs[:-1], j + 1, j + 1))
                pos = j + 1
            else:
                k = text.index(closing, j)
                out.append(_Row(number, i, k + len(closing), attrs, j + 1, k))
                pos = k + len(closing)

    def cells(self, row: _Row) -> dict[int, tuple[str | None, str]]:
        """Column -> (style index or None, whole element) of a row's cells."""
        out: dict[int, tuple[str | None, str]] = {}
        col = 0
        for m in self.cell_re.finditer(self.text, row.body_start, row.body_end):
            a = m.group(1)
            letters = _CELL_COLUMN.search(a)
            col = col_number(letters.group(1)) if letters else col + 1
            style = _CELL_STYLE.search(a)
            out[col] = (style.group(1) if style else None, m.group(0))
        return out

    def last_column(self, row: _Row) -> int:
        """Column of a row's last cell (0 for none), without parsing the others."""
        i = self.text.rfind("<" + self.p + "c", row.body_start, row.body_end)
        while i >= 0 and self.text[i + 2 + len(self.p)] not in " \t\n\r/>":
            i = self.text.rfind("<" + self.p + "c", row.body_start, i)
        if i < 0:
            return 0
        letters = _CELL_COLUMN.search(self.text, i, self.text.index(">", i))
        if letters:
            return col_number(letters.group(1))
        return max(self.cells(row), default=0)  # cells without references: count them


def _shares_formula(element: str, p: str) -> bool:
    m = re.search(r"<" + re.escape(p) + r"f\b([^>]*)>", element)
    if not m:
        return False
    a = _attrs(m.group(1))
    return a.get("t") == "shared" and "ref" in a


def _in(box, row, col) -> bool:
    return box[0] <= row <= box[2] and box[1] <= col <= box[3]


def _prefixed(element: str, p: str) -> str:
    """``element`` (unprefixed SpreadsheetML) with the sheet's namespace prefix."""
    return re.sub(r"<(/?)(c|is|t|v)(?=[\s/>])", lambda m: f"<{m.group(1)}{p}{m.group(2)}",
                  element) if p else element


def _style(cell) -> str:
    style = cell[0] if cell is not None else None
    return f' s="{style}"' if style not in (None, "", "0") else ""


def _check_growth(sheet: _SheetText, row: _Row, plan: _Plan, parsed: dict) -> None:
    """A row that a table grows into holds nothing in the cells it takes."""
    boxes = [box for box in plan.must_be_empty if box[0] <= row.number <= box[2]]
    if not boxes or sheet.last_column(row) < min(box[1] for box in boxes):
        return
    cells = parsed.get(row.number)
    if cells is None:
        cells = parsed[row.number] = sheet.cells(row)
    for col, (_, element) in cells.items():
        if any(_in(box, row.number, col) for box in boxes) \
                and (row.number, col) not in plan.header_cells \
                and sheet.content_re.search(element):
            raise WorkbookError(
                f"sheet {plan.sheet!r}: the table would grow over cell "
                f"{col_letters(col)}{row.number}, which is not empty. Move what is there "
                f"and try again; nothing was changed.")


def _column_styles(text: str, p: str) -> dict[int, str]:
    """`` s="n"`` of each column that has a default style (``<col style=...>``)."""
    out: dict[int, str] = {}
    for m in re.finditer(r"<" + re.escape(p) + r"col\b([^>]*?)/?>", text):
        a = _attrs(m.group(1))
        style = a.get("style", "")
        if style in ("", "0") or not a.get("min", "").isdigit() or not a.get("max", "").isdigit():
            continue
        for col in range(int(a["min"]), min(int(a["max"]), 16384) + 1):
            out[col] = f' s="{style}"'
    return out


def _appended_rows(append: _Append, numbers, parsed: dict, p: str,
                   col_styles: dict[int, str], marked=None) -> dict[int, str]:
    """The ``<row>`` elements of appended rows that the sheet does not have yet."""
    above = parsed.get(append.style_row, {}) if append.style_row else {}
    styles = {col: _style(above.get(col)) or col_styles.get(col, "")
              for col in range(append.c1, append.c2 + 1)}
    blanks = {col: f'<c r="{col_letters(col)}%d"{st}/>' for col, st in styles.items() if st}
    letters = {col: col_letters(col) for col in styles}
    out = {}
    for number, record in zip(range(append.first_row, append.last_row + 1), append.records):
        if number not in numbers:
            continue
        cells = []
        for col in styles:
            value = record.get(col)
            style = marked(number, col, styles[col]) if marked else styles[col]
            if value is None or value == "":
                if style == styles[col] and col in blanks:
                    cells.append(blanks[col] % number)
                elif style:
                    cells.append(f'<c r="{letters[col]}{number}"{style}/>')
            else:
                cells.append(cell_xml(f"{letters[col]}{number}", value, style))
        body = _prefixed("".join(cells), p)
        out[number] = f'<{p}row r="{number}">{body}</{p}row>' if body else f'<{p}row r="{number}"/>'
    return out


def _style_index(attr: str) -> str | None:
    m = _CELL_STYLE.search(attr)
    return m.group(1) if m else None


def _patch_sheet(text: str, plan: _Plan, styles=None) -> str:
    sheet = _SheetText(text)
    p = sheet.p
    rows = sheet.rows()
    existing = {row.number for row in rows}
    # appended rows that the sheet already has (empty, perhaps styled) are rebuilt cell by cell
    for append in plan.appends:
        for number, record in zip(range(append.first_row, append.last_row + 1), append.records):
            if number in existing:
                for col in range(append.c1, append.c2 + 1):
                    plan.set(number, col, record.get(col))
                    if append.style_row:
                        plan.style_from[(number, col)] = (append.style_row, col)
    need = set(plan.values) | {src[0] for src in plan.style_from.values()}
    need |= {a.style_row for a in plan.appends if a.style_row}
    need |= {r + d for r in plan.marks for d in (-1, 0, 1)}  # a cleared mark: the fill beside
    lowest = min((box[0] for box in plan.must_be_empty), default=0)
    highest = max((box[2] for box in plan.must_be_empty), default=-1)
    parsed: dict[int, dict[int, tuple[str | None, str]]] = {}
    for row in rows:
        if row.number in need:
            parsed[row.number] = sheet.cells(row)
        if lowest <= row.number <= highest:
            _check_growth(sheet, row, plan, parsed)
    for number, cols in plan.values.items():
        row_cells = parsed.get(number, {})
        for col in cols:
            old = row_cells.get(col)
            if old is not None and _shares_formula(old[1], p):
                raise WorkbookError(
                    f"sheet {plan.sheet!r}: cell {col_letters(col)}{number} holds a formula that "
                    f"other cells share, so Maillon cannot replace it. Copy the formula to each "
                    f"cell (or delete it) and try again; nothing was changed.")
    _refuse_merges(text, p, plan)

    cols_end = text.find("</" + p + "cols>", 0, sheet.data_start)
    col_styles = _column_styles(text[:cols_end], p) if cols_end > 0 else {}

    def style_of(row: int, col: int) -> str:
        own = _style(parsed.get(row, {}).get(col))
        if own:
            return own
        src = plan.style_from.get((row, col))
        above = _style(parsed.get(src[0], {}).get(src[1])) if src and src != (row, col) else ""
        return above or col_styles.get(col, "")

    def marked(number: int, col: int, style: str) -> str:
        """`` s="n"`` of a cell once its mark is set or cleared (``style`` when none)."""
        marks = plan.marks.get(number)
        if not marks or col not in marks or styles is None:
            return style
        kind, index = marks[col], _style_index(style)
        if kind is not None:
            new = styles.marked(index, kind)
        else:
            fill = None
            for other in (number - 1, number + 1):  # the fill of an unmarked cell beside
                cell = parsed.get(other, {}).get(col)
                if cell is not None and not styles.is_marked(cell[0]):
                    fill = styles.fill_of_style(cell[0])
                    break
            new = styles.unmarked(index, fill)
        return f' s="{new}"' if new not in (None, "", "0") else ""

    def restyled(element: str, style: str) -> str:
        """A cell element with `` s="n"`` replaced by ``style``."""
        end = element.index(">")
        start = _CELL_STYLE.sub("", element[:end])
        if start.endswith("/"):
            return start[:-1] + style + "/" + element[end:]
        return start + style + element[end:]

    def row_xml(number: int, start_attrs: str | None) -> str:
        cells = {col: element for col, (_, element) in parsed.get(number, {}).items()}
        for col, value in plan.values.get(number, {}).items():
            cells[col] = _prefixed(cell_xml(f"{col_letters(col)}{number}", value,
                                            marked(number, col, style_of(number, col))), p)
        for col in plan.marks.get(number, {}):
            if col in plan.values.get(number, {}):
                continue
            own = parsed.get(number, {}).get(col)
            if own is not None:
                cells[col] = restyled(own[1], marked(number, col, _style(own)))
            else:
                style = marked(number, col, style_of(number, col))
                if style:
                    cells[col] = f'<{p}c r="{col_letters(col)}{number}"{style}/>'

        body = "".join(cells[c] for c in sorted(cells))
        if start_attrs is None:
            start = f'<{p}row r="{number}"'
        else:
            start = _set_attr(_drop_attr(f"<{p}row{start_attrs}", "spans") + ">", "r",
                              str(number))[:-1]
        return f"{start}>{body}</{p}row>" if body else f"{start}/>"

    appended = {n for a in plan.appends for n in range(a.first_row, a.last_row + 1)}
    rebuilt = set(plan.values) | (set(plan.marks) & (existing | (set(plan.marks) - appended)))
    new_rows: dict[int, str] = {}
    for number in rebuilt:
        if number not in existing:
            new_rows[number] = row_xml(number, None)
    for append in plan.appends:
        wanted = set(range(append.first_row, append.last_row + 1)) - existing
        new_rows.update(_appended_rows(append, wanted, parsed, p, col_styles, marked))
    pending = sorted(new_rows)
    pieces: list[str] = []
    pos = sheet.data_start
    k = 0
    for row in rows:
        if row.number not in rebuilt and not (k < len(pending) and pending[k] < row.number):
            continue
        pieces.append(text[pos:row.start])
        while k < len(pending) and pending[k] < row.number:
            pieces.append(new_rows[pending[k]])
            k += 1
        pieces.append(row_xml(row.number, row.attrs) if row.number in rebuilt
                      else text[row.start:row.end])
        pos = row.end
    pieces.append(text[pos:sheet.data_end])
    pieces.extend(new_rows[n] for n in pending[k:])
    if sheet.empty_tag is None:
        head = _grow_dimension(text[:sheet.data_start], p, plan)
    else:  # <sheetData/>: opened and closed around the new rows
        a, _ = sheet.empty_tag
        head = _grow_dimension(text[:a], p, plan) + text[a:sheet.data_start][:-2] + ">"
        pieces.append(f"</{p}sheetData>")
    return head + "".join(pieces) + _extend_ranges(text[sheet.data_end:], plan)


def _refuse_merges(text: str, p: str, plan: _Plan) -> None:
    for m in re.finditer(r"<" + re.escape(p) + r"mergeCell\b[^>]*?\bref=\"([^\"]+)\"", text):
        try:
            r1, c1, r2, c2 = parse_ref(m.group(1))
        except ValueError:
            continue
        for box in plan.must_be_empty:
            if r1 <= box[2] and box[0] <= r2 and c1 <= box[3] and box[1] <= c2:
                raise WorkbookError(
                    f"sheet {plan.sheet!r}: the table would grow over the merged cells "
                    f"{m.group(1)}. Unmerge them and try again; nothing was changed.")


def _grow_dimension(head: str, p: str, plan: _Plan) -> str:
    m = re.search(r"<" + re.escape(p) + r"dimension\b[^>]*?\bref=\"([^\"]+)\"[^>]*>", head)
    if not m:
        return head
    try:
        r1, c1, r2, c2 = parse_ref(m.group(1))
    except ValueError:
        return head
    for _, new_ref, _ in plan.grown:
        a1, b1, a2, b2 = parse_ref(new_ref)
        r1, c1, r2, c2 = min(r1, a1), min(c1, b1), max(r2, a2), max(c2, b2)
    start = m.group(0)
    return head[:m.start()] + _set_attr(start, "ref", _ref(r1, c1, r2, c2)) + head[m.end():]


def _extend_sqref(sqref: str, plan: _Plan) -> str:
    """Ranges of ``sqref`` that end on a growing table's last row, down to its new last row."""
    out = []
    for piece in sqref.split():
        try:
            r1, c1, r2, c2 = parse_ref(piece)
        except ValueError:
            out.append(piece)
            continue
        for t1, t2, first, old_last, new_last in plan.extend_rows:
            if r2 == old_last and r1 >= first and t1 <= c1 and c2 <= t2:
                piece = _ref(r1, c1, new_last, c2)
                break
        out.append(piece)
    return " ".join(out)


def _extend_ranges(tail: str, plan: _Plan) -> str:
    """Conditional formats and validations after the rows follow the tables' growth."""
    if not plan.extend_rows:
        return tail
    tail = re.sub(r'(\ssqref\s*=\s*)"([^"]*)"',
                  lambda m: f'{m.group(1)}"{_extend_sqref(m.group(2), plan)}"', tail)
    return re.sub(r"(<xm:sqref>)([^<]*)(</xm:sqref>)",
                  lambda m: m.group(1) + _extend_sqref(m.group(2), plan) + m.group(3), tail)


# --------------------------------------------------------------------------- table XML
def _name_xml(name: str) -> str:
    """A table column name as its attribute: escaped, line breaks as Excel writes them."""
    name = name.replace("_x", "_x005F_x")
    name = re.sub(r"[\x00-\x1f]", lambda m: f"_x{ord(m.group(0)):04x}_", name)
    return escape(name, QUOTE)


def _patch_table(data: bytes, new_ref: str, new_columns: list[str]) -> bytes:
    text = _decode(data)
    p = _root_prefix(text, "table")
    q = re.escape(p)
    m = re.search(r"<" + q + r"table\b[^>]*>", text)
    text = text[:m.start()] + _set_attr(m.group(0), "ref", new_ref) + text[m.end():]
    af = re.search(r"<" + q + r"autoFilter\b[^>]*?/?>", text)
    if af:
        text = text[:af.start()] + _set_attr(af.group(0), "ref", new_ref) + text[af.end():]
    if new_columns:
        cols = re.search(r"<" + q + r"tableColumns\b[^>]*>", text)
        end = text.index("</" + p + "tableColumns>", cols.end())
        ids = [int(x) for x in re.findall(r"<" + q + r"tableColumn\b[^>]*?\bid=\"(\d+)\"",
                                           text[cols.end():end])]
        count = len(re.findall(r"<" + q + r"tableColumn(?=[\s/>])", text[cols.end():end]))
        next_id = max(ids, default=0) + 1
        added = "".join(f'<{p}tableColumn id="{next_id + i}" name="{_name_xml(name)}"/>'
                        for i, name in enumerate(new_columns))
        start = _set_attr(cols.group(0), "count", str(count + len(new_columns)))
        text = text[:cols.start()] + start + text[cols.end():end] + added + text[end:]
    if not text.startswith("<?xml"):
        return text.encode("utf-8")
    return re.sub(r'encoding="[^"]*"', 'encoding="UTF-8"', text, count=1).encode("utf-8")


# --------------------------------------------------------------------------- entry points
def patch_parts(pkg: Package, edits: Sequence[TableEdit]) -> dict[str, bytes]:
    """New bytes of every sheet part and table part that ``edits`` change, by part name.

    Raises ``ValueError`` for an edit that names a table, column or row that is
    not there (a caller's mistake), :class:`WorkbookError` for a sheet where the
    edit cannot be made without overwriting something (see the module).
    """
    tables = tables_in(pkg)
    by_folded = {name.casefold(): info for name, info in tables.items()}
    plans: dict[str, _Plan] = {}
    sheet_part = {s.name: s.part for s in pkg.sheets}
    seen: set[str] = set()
    for edit in edits:
        if edit.empty:
            continue
        info = by_folded.get(edit.table.casefold())
        if info is None:
            raise ValueError(f"no table {edit.table!r} in {pkg.path.name}")
        if info.name in seen:
            raise ValueError(f"two edits of table {info.name}: give one per table")
        seen.add(info.name)
        plan = plans.setdefault(info.sheet, _Plan(info.sheet))
        others = [t for t in tables.values() if t.sheet == info.sheet and t.name != info.name]
        _plan_edit(plan, info, edit, others)
    out: dict[str, bytes] = {}
    styles = None
    if any(plan.marks for plan in plans.values()):
        from maillon.addin.ooxml.cell_marks import Styles

        styles_part = next((r.target for r in pkg.rels_of_kind(pkg.workbook_part, "styles")),
                           None)
        if styles_part is None or not pkg.has(styles_part):
            raise WorkbookError(f"{pkg.path.name} has no styles part, so Maillon cannot "
                                f"highlight cells in it; nothing was changed.")
        styles = Styles(_decode(pkg.read(styles_part)))
    for sheet, plan in plans.items():
        part = sheet_part[sheet]
        boxes = [parse_ref(new_ref) for _, new_ref, _ in plan.grown]
        for i, a in enumerate(boxes):
            for b in boxes[i + 1:]:
                if a[0] <= b[2] and b[0] <= a[2] and a[1] <= b[3] and b[1] <= a[3]:
                    raise WorkbookError(f"sheet {sheet!r}: two tables would grow into each "
                                        f"other; nothing was changed.")
        text = _decode(pkg.read(part))
        try:
            patched = _patch_sheet(text, plan, styles)
        except WorkbookError as exc:
            raise WorkbookError(f"{pkg.path.name}, {exc}") from None
        out[part] = patched.encode("utf-8") if not patched.startswith("<?xml") else \
            re.sub(r'encoding="[^"]*"', 'encoding="UTF-8"', patched, count=1).encode("utf-8")
        for info, new_ref, new_columns in plan.grown:
            if new_ref != info.ref or new_columns:
                out[info.part] = _patch_table(pkg.read(info.part), new_ref, new_columns)
    if styles is not None and styles.changed:
        text = styles.text
        out[styles_part] = text.encode("utf-8") if not text.startswith("<?xml") else \
            re.sub(r'encoding="[^"]*"', 'encoding="UTF-8"', text, count=1).encode("utf-8")
    return out


def write_package(pkg: Package, out, parts: Mapping[str, bytes]) -> None:
    """Write ``pkg`` to ``out`` with ``parts`` (by part name) replacing those members.

    Every other member is copied as stored (compressed bytes, dates): byte-identical.
    """
    replace = {name.lower(): data for name, data in parts.items()}
    missing = set(replace) - {i.filename.lower() for i in pkg.infos}
    if missing:
        raise ValueError(f"write_package: no such parts in {pkg.path.name}: {sorted(missing)}")
    with open(pkg.path, "rb") as src, open(Path(out), "wb") as fh, ZipWriter(fh) as z:
        for info in pkg.infos:
            data = replace.get(info.filename.lower())
            if data is None:
                z.copy_raw(src, info)
            else:
                z.write_bytes(info.filename, data, date_time=info.date_time)
