"""Write SheetSpecs with XlsxWriter, and the big tables' rows straight into the package.

Two entry points:

* :func:`write_specs` writes specs into an open ``xlsxwriter.Workbook`` with
  XlsxWriter calls only (one worksheet per spec, named ``spec.name``): the
  template, whose workbook holds the user-owned sheets too.
* :func:`render_skeleton` is the file mode's: XlsxWriter writes everything
  of the engine-owned sheets — headers, table definitions, formats,
  conditional formats, validations, charts, print setup, small cells — except
  the data rows of tables that own their rows (no other cell, merge or row
  height inside their columns on those rows). Those come back as a
  :class:`DeferredBodies`, which :func:`maillon.addin.ooxml.graft.graft`
  (``bodies=``) writes once, straight into the user's package, with the
  user's final style indices: no row is built twice or re-parsed. The rows
  are produced column by column from ``%``-templates (a 100k-row target list
  takes about a second instead of the ~12 s of one XlsxWriter call per
  cell); cells XlsxWriter wrote beside such a table on its rows (left or
  right of its columns) are merged into them.

Values are written as they are typed: ``str`` as text (never a formula, even
when it begins with ``=``; inline strings in the rows written here), numbers as
numbers, dates and datetimes as date serials with a date format, booleans as
booleans, ``None``/NaN/NaT/``""`` as blank (a styled blank where the column has
a format, so that editable cells stay yellow).

The one XlsxWriter internal this needs (the index of a cell format no
XlsxWriter cell uses) is in :mod:`maillon.xlsxwriter_private`.

Example
-------
>>> import tempfile, pathlib
>>> from tests.engine_result_factory import make_result
>>> from maillon.addin.render.layout import layout
>>> skeleton = pathlib.Path(tempfile.mkdtemp()) / "rendered.xlsx"
>>> bodies = render_skeleton(layout(make_result(n_accounts=50)), skeleton)
>>> "Target List" in bodies
True
"""
from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from xml.sax.saxutils import escape

import numpy as np
import pandas as pd
import xlsxwriter
from xlsxwriter.utility import quote_sheetname
from xlsxwriter.utility import xl_col_to_name as col_letter  # 0 -> "A", 27 -> "AB"

from maillon.engine.cells import EXCEL_EPOCH

from maillon.addin.ooxml.cell_xml import MAX_TEXT
from maillon.addin.ooxml.cell_xml import QUOTE as _QUOTE
from maillon.addin.ooxml.cell_xml import text_xml as _text_xml

from maillon.addin.filemode.xlsxwriter_options import (chart_insert_options, chart_options,
                                                      conditional_format_options,
                                                      format_options, page_calls,
                                                      validation_options)
from maillon.xlsxwriter_private import cell_format_index
from maillon.addin.render.live_plan import LAYOUT_NAME, chart_name, file_layout_record
from maillon.addin.render.specs import (ENGINE_AREA_NAME, Cells, CellStyle, Chart, Formula,
                                        SheetSpec, Table, engine_area_formula)

__all__ = ["write_specs", "render_skeleton", "DeferredTable", "DeferredBodies"]

DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
CHUNK_ROWS = 5_000  # rows per chunk written
BLOCK_ROWS = 100_000  # rows per block of columns prepared at once
_EXCEL_EPOCH = np.datetime64(EXCEL_EPOCH, "ns")
_DAY_NS = 86_400_000_000_000
_EPOCH_DATE = EXCEL_EPOCH.date()
_EPOCH_DATETIME = EXCEL_EPOCH


# --------------------------------------------------------------------------- formats
class _Formats:
    """One XlsxWriter Format per distinct option dictionary."""

    def __init__(self, workbook: xlsxwriter.Workbook):
        self._wb = workbook
        self._cache: dict = {}

    @staticmethod
    def _key(props: dict) -> tuple:
        return tuple(sorted((k, repr(v)) for k, v in props.items()))

    def get(self, props: dict | None):
        if not props:
            return None
        key = self._key(props)
        fmt = self._cache.get(key)
        if fmt is None:
            fmt = self._cache[key] = self._wb.add_format(dict(props))
        return fmt

    def dated(self, props: dict | None, with_time: bool):
        """``props`` with a date number format unless it already has one."""
        props = dict(props or {})
        props.setdefault("num_format", DATETIME_FORMAT if with_time else DATE_FORMAT)
        return self.get(props)


@dataclass
class _ColumnFormats:
    """The three formats a column needs: plain, for dates, for datetimes."""

    plain: object
    date: object
    datetime: object


def _column_formats(formats: _Formats, style: CellStyle | None) -> _ColumnFormats:
    props = format_options(style)
    plain = formats.get(props)
    if props and "num_format" in props:
        return _ColumnFormats(plain, plain, plain)
    return _ColumnFormats(plain, formats.dated(props, False), formats.dated(props, True))


# --------------------------------------------------------------------------- values
def _is_blank(v) -> bool:
    if v is None or v is pd.NA or v is pd.NaT:
        return True
    if isinstance(v, float):
        return math.isnan(v) or math.isinf(v)
    if isinstance(v, str):
        return v == ""
    if isinstance(v, (np.floating,)):
        return not np.isfinite(v)
    if isinstance(v, np.datetime64):
        return bool(np.isnat(v))
    return False


def _serial(v) -> tuple[float, bool]:
    """Excel serial of a date/datetime and whether it carries a time of day."""
    if isinstance(v, pd.Timestamp):
        v = v.to_pydatetime()
    elif isinstance(v, np.datetime64):
        v = pd.Timestamp(v).to_pydatetime()
    if isinstance(v, dt.datetime):
        if v.tzinfo is not None:
            v = v.replace(tzinfo=None)
        delta = v - _EPOCH_DATETIME
        has_time = (v.hour, v.minute, v.second, v.microsecond) != (0, 0, 0, 0)
        return delta.days + delta.seconds / 86400 + delta.microseconds / 86400e6, has_time
    return float((v - _EPOCH_DATE).days), False


def _write_text(ws, row: int, col: int, s: str, fmt) -> None:
    """``write_string``, except for text shaped like ``<r>…</r>``.

    XlsxWriter copies such a string into the shared strings as raw rich-text
    XML (the text is lost, and crafted text could inject XML); written as a
    rich string of three plain fragments it is escaped and reads back exactly.
    """
    if s.startswith("<r>") and s.endswith("</r>"):
        parts = (s[:1], s[1:2], s[2:]) + ((fmt,) if fmt is not None else ())
        ws.write_rich_string(row, col, *parts)
    else:
        ws.write_string(row, col, s, fmt)


def _write_value(ws, row: int, col: int, v, fmts: _ColumnFormats) -> None:
    """Write one value with the call that matches its Python type."""
    if isinstance(v, Formula):  # a formula a user typed beside the engine's cells
        ws.write_formula(row, col, v.text, fmts.plain)
        return
    if isinstance(v, str):
        if v == "":
            if fmts.plain is not None:
                ws.write_blank(row, col, None, fmts.plain)
            return
        _write_text(ws, row, col, v, fmts.plain)
    elif _is_blank(v):
        if fmts.plain is not None:
            ws.write_blank(row, col, None, fmts.plain)
    elif isinstance(v, (bool, np.bool_)):
        ws.write_boolean(row, col, bool(v), fmts.plain)
    elif isinstance(v, (int, float, np.integer, np.floating)):
        ws.write_number(row, col, float(v), fmts.plain)
    elif isinstance(v, (dt.date, pd.Timestamp, np.datetime64)):
        value, has_time = _serial(v)
        ws.write_number(row, col, value, fmts.datetime if has_time else fmts.date)
    else:
        _write_text(ws, row, col, str(v), fmts.plain)


def _kind(series: pd.Series) -> str:
    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return "bool"
    if pd.api.types.is_numeric_dtype(dtype):
        return "number"
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return "datetime"
    return "object"


def _datetime_serials(series: pd.Series) -> tuple[np.ndarray, bool]:
    s = series
    if getattr(s.dt, "tz", None) is not None:
        s = s.dt.tz_localize(None)
    ns = s.to_numpy("datetime64[ns]")
    ok = ~np.isnat(ns)
    days = np.full(len(ns), np.nan)
    delta = (ns[ok] - _EXCEL_EPOCH).astype("int64")
    days[ok] = delta / _DAY_NS
    has_time = bool((delta % _DAY_NS != 0).any())
    return days, has_time


def _write_series(ws, first_row: int, col: int, series: pd.Series, fmts: _ColumnFormats) -> None:
    """Write a column of values top-down with one typed call per cell."""
    kind = _kind(series)
    if kind == "number":
        values = series.to_numpy(dtype=float, na_value=np.nan)
        finite = np.isfinite(values)
        write_number, fmt = ws.write_number, fmts.plain
        for r, v in zip(np.flatnonzero(finite).tolist(), values[finite].tolist()):
            write_number(first_row + r, col, v, fmt)
        if fmt is not None:
            for r in np.flatnonzero(~finite).tolist():
                ws.write_blank(first_row + r, col, None, fmt)
        return
    if kind == "datetime":
        days, has_time = _datetime_serials(series)
        fmt = fmts.datetime if has_time else fmts.date
        finite = ~np.isnan(days)
        for r, v in zip(np.flatnonzero(finite).tolist(), days[finite].tolist()):
            ws.write_number(first_row + r, col, v, fmt)
        return
    if kind == "bool":
        for r, v in enumerate(series.tolist()):
            ws.write_boolean(first_row + r, col, bool(v), fmts.plain)
        return
    write_string, fmt = ws.write_string, fmts.plain
    for r, v in enumerate(series.to_numpy(dtype=object).tolist()):
        if type(v) is str and v and v[0] != "<":
            write_string(first_row + r, col, v, fmt)
        else:
            _write_value(ws, first_row + r, col, v, fmts)


def _rows(values) -> list:
    if isinstance(values, pd.DataFrame):
        return values.astype(object).to_numpy().tolist()
    return [list(r) for r in values]


# --------------------------------------------------------------------------- sheet parts
def _write_cells(ws, formats: _Formats, block: Cells) -> None:
    fmts = _column_formats(formats, block.fmt)
    for i, row in enumerate(_rows(block.values)):
        for j, v in enumerate(row):
            _write_value(ws, block.row + i, block.col + j, v, fmts)


def _table_options(formats: _Formats, table: Table) -> dict:
    columns = []
    for h in table.data.columns:
        col = {"header": str(h)}
        hfmt = format_options(table.header_formats.get(h))
        if hfmt:
            col["header_format"] = formats.get(hfmt)
        cfmt = format_options(table.column_formats.get(h))
        if cfmt:
            col["format"] = formats.get(cfmt)
        columns.append(col)
    return {"name": table.name, "style": table.style, "columns": columns}


def _add_table(ws, formats: _Formats, table: Table, last_row: int | None = None) -> None:
    last_row = table.last_row if last_row is None else last_row
    result = ws.add_table(table.row, table.col, last_row, table.last_col,
                          _table_options(formats, table))
    if result != 0:
        raise ValueError(f"could not add table {table.name} to sheet {ws.name!r} "
                         f"(XlsxWriter returned {result})")


def _write_table_data(ws, formats: _Formats, table: Table) -> None:
    first = table.row + 1
    for j, h in enumerate(table.data.columns):
        fmts = _column_formats(formats, table.column_formats.get(h))
        if len(table.data) == 0:
            if fmts.plain is not None:  # the one empty row Excel needs, painted
                ws.write_blank(first, table.col + j, None, fmts.plain)
            continue
        _write_series(ws, first, table.col + j, table.data.iloc[:, j], fmts)


def _chart(workbook, formats: _Formats, chart: Chart, name: str | None = None):
    options = chart_options(chart)
    # named as the live writer names it, which finds it again by name to retitle it
    xl = workbook.add_chart(dict(options["chart"], name=name) if name else options["chart"])
    if xl is None:
        raise ValueError(f"unknown chart kind {chart.kind!r}")
    for series in options["series"]:
        xl.add_series(series)
    xl.set_title(options["title"])
    if options["legend"] is not None:
        xl.set_legend(options["legend"])
    if options["y_axis"] is not None:
        xl.set_y_axis(options["y_axis"])
    return xl


def _convert_options(formats: _Formats, options: dict) -> dict:
    out = dict(options)
    if isinstance(out.get("format"), dict):
        out["format"] = formats.get(out["format"])
    return out


def _page(ws, page) -> None:
    for method, args in page_calls(page):
        getattr(ws, method)(*args)


def _boxes_used(spec: SheetSpec, skip: Table) -> list[tuple[int, int, int, int]]:
    """Cell boxes (first row, first col, last row, last col) of anything but ``skip``'s data."""
    boxes = []
    for block in spec.cells:
        if isinstance(block.values, pd.DataFrame):
            n, width = block.values.shape
        else:
            n = len(block.values)
            width = max((len(r) for r in block.values), default=0)
        boxes.append((block.row, block.col, block.row + max(n, 1) - 1,
                      block.col + max(width, 1) - 1))
    boxes += [(m.first_row, m.first_col, m.last_row, m.last_col) for m in spec.merges]
    for t in spec.tables:
        if t is skip:
            boxes.append((t.row, t.col, t.row, t.last_col))  # its own header row
        else:
            boxes.append((t.row, t.col, t.last_row, t.last_col))
    return boxes


def _owns_rows(spec: SheetSpec, table: Table) -> bool:
    """Whether ``table``'s data rows can be left out of XlsxWriter, for the graft to write.

    Anything else on those rows must lie wholly left or right of the table's
    columns (its cells are then merged into the rows the graft writes); row heights are
    row attributes, kept as XlsxWriter wrote them.
    """
    first, last = table.row + 1, table.last_row
    return all(r2 < first or r1 > last or c2 < table.col or c1 > table.last_col
               for r1, c1, r2, c2 in _boxes_used(spec, table))


def _used_formats(series: pd.Series, fmts: _ColumnFormats) -> list:
    """The formats that the cells the graft writes in a column can refer to."""
    kind = _kind(series)
    if kind == "datetime":
        used = (fmts.date, fmts.datetime)
    elif kind in ("number", "bool") or isinstance(series.dtype, pd.StringDtype):
        used = (fmts.plain,)
    else:  # any Python value: dates take the date formats
        used = (fmts.plain, fmts.date, fmts.datetime)
    return [f for f in used if f is not None]


@dataclass
class DeferredTable:
    """Data rows of a table left out of XlsxWriter, written by the graft."""

    sheet: str
    table: Table
    formats: list  # per column: _ColumnFormats (their indices reserved in XlsxWriter)


def _write_sheet(workbook, formats: _Formats, spec: SheetSpec, deferred: list | None,
                 engine_area: bool = False) -> None:
    ws = workbook.add_worksheet(spec.name)
    if spec.tab_color:
        ws.set_tab_color(spec.tab_color)
    if spec.zoom and spec.zoom != 100:
        ws.set_zoom(spec.zoom)
    if not spec.gridlines:
        ws.hide_gridlines(2)
    for c in spec.columns:
        ws.set_column(c.first, c.last, c.width, formats.get(format_options(c.fmt)),
                      {"hidden": True} if c.hidden else None)
    for r, height in sorted(spec.row_heights.items()):
        ws.set_row(r, height)
    for block in spec.cells:
        _write_cells(ws, formats, block)
    for m in spec.merges:
        fmts = _column_formats(formats, m.fmt)
        ws.merge_range(m.first_row, m.first_col, m.last_row, m.last_col, "", fmts.plain)
        if not _is_blank(m.value):  # typed write into the merged area's first cell
            _write_value(ws, m.first_row, m.first_col, m.value, fmts)
    deferred_rows: list = []  # (first, last) rows of this sheet's deferred tables
    for t in spec.tables:
        # a table beside one already deferred is written here: its cells are then
        # merged into the rows the graft writes (two deferred tables on the same
        # rows would give each row twice)
        beside = any(a <= t.last_row and t.row <= b for a, b in deferred_rows)
        if deferred is not None and len(t.data) > 1 and not beside and _owns_rows(spec, t):
            deferred_rows.append((t.row, t.last_row))
            # XlsxWriter records every cell of a table's range (seconds for 100k
            # rows): declare it over its first data row; the graft sets the full range.
            _add_table(ws, formats, t, last_row=t.row + 1)
            col_fmts = [_column_formats(formats, t.column_formats.get(h)) for h in t.data.columns]
            for j, f in enumerate(col_fmts):  # each style the rows use needs an index
                for fmt in _used_formats(t.data.iloc[:, j], f):
                    cell_format_index(fmt)
            deferred.append(DeferredTable(spec.name, t, col_fmts))
        else:
            _add_table(ws, formats, t)
            _write_table_data(ws, formats, t)
    for cf in spec.cond_formats:
        ws.conditional_format(cf.first_row, cf.first_col, cf.last_row, cf.last_col,
                              _convert_options(formats, conditional_format_options(cf)))
    for v in spec.validations:
        ws.data_validation(v.first_row, v.first_col, v.last_row, v.last_col,
                           validation_options(v))
    for number, ch in enumerate(spec.charts, 1):
        xl = _chart(workbook, formats, ch, chart_name(number))
        ws.insert_chart(ch.row, ch.col, xl, chart_insert_options(ch))
    for note in spec.notes:
        ws.write_comment(note.row, note.col, note.text,
                         {"author": note.author} if note.author else None)
    area = engine_area_formula(spec) if engine_area else ""
    if area:  # the graft marks it hidden (XlsxWriter cannot)
        workbook.define_name(f"{quote_sheetname(spec.name)}!{ENGINE_AREA_NAME}", area)
    if spec.freeze:
        ws.freeze_panes(*spec.freeze)
    if spec.page:
        _page(ws, spec.page)


def write_specs(workbook: xlsxwriter.Workbook, specs: list[SheetSpec],
                deferred: list | None = None, engine_area: bool = False) -> None:
    """Write each spec as a worksheet named ``spec.name`` into ``workbook``.

    With ``deferred`` (a list), the data rows of tables that own their rows are
    not written; a :class:`DeferredTable` is appended for each (see
    :func:`render_skeleton`). Without it, every cell goes through XlsxWriter.
    ``engine_area`` defines each sheet's
    :data:`~maillon.addin.render.specs.ENGINE_AREA_NAME` (for the graft, which
    hides it).
    """
    names = [s.name for s in specs]
    if len(set(names)) != len(names):
        raise ValueError(f"sheet names must be unique; got {names!r}")
    for spec in specs:
        _check_overlaps(spec)
    formats = _Formats(workbook)
    for spec in specs:
        _write_sheet(workbook, formats, spec, deferred, engine_area)


def _check_overlaps(spec: SheetSpec) -> None:
    """Tables and merged ranges must not overlap (Excel calls the file corrupt)."""
    boxes = [(f"table {t.name}", t.row, t.col, t.last_row, t.last_col) for t in spec.tables]
    boxes += [(f"merged range at row {m.first_row}", m.first_row, m.first_col, m.last_row,
               m.last_col) for m in spec.merges]
    for i, (name_a, r1, c1, r2, c2) in enumerate(boxes):
        for name_b, s1, d1, s2, d2 in boxes[i + 1:]:
            if r1 <= s2 and s1 <= r2 and c1 <= d2 and d1 <= c2:
                raise ValueError(f"sheet {spec.name!r}: {name_a} overlaps {name_b}")


# --------------------------------------------------------------------------- rows as XML

# control characters, and whitespace other than space and newline
_CONTROL_OR_SPACE = re.compile(r"[\x00-\x09\x0b-\x1f\ufffe\uffff\x85\xa0\u1680\u2000-\u200a"
                               r"\u2028\u2029\u202f\u205f\u3000]")


def _style_attr(fmt, xf_map: dict) -> str:
    """`` s="…"`` of a format ('' for the default), its rendered index mapped by ``xf_map``.

    The only place where the rows written into the package get their style.
    """
    index = cell_format_index(fmt)
    if not index:
        return ""
    return f' s="{xf_map[index]}"'


_FEW = 4  # a column with at most 1/_FEW distinct values is formatted per distinct value


def _numbers(values: np.ndarray) -> list:
    """``f"{v:.16G}"`` of each finite float, the same text, formatted in bulk.

    Whole numbers below 1e15 (no negative zero) are ``str`` of the integer;
    a column with few distinct values formats each distinct value once.
    """
    values = np.asarray(values, dtype=float)
    if len(values) == 0:
        return []
    negative_zero = bool((np.signbit(values) & (values == 0)).any())
    if not negative_zero and len(values) > 64:
        uniq, inverse = np.unique(values, return_inverse=True)
        if len(uniq) * _FEW <= len(values):
            return np.array(_numbers_each(uniq, False), dtype=object)[inverse].tolist()
    return _numbers_each(values, negative_zero)


def _numbers_each(values: np.ndarray, negative_zero: bool) -> list:
    if not negative_zero and bool((np.abs(values) < 1e15).all()) \
            and bool((values == np.trunc(values)).all()):
        return list(map(str, values.astype(np.int64).tolist()))
    return list(map("%.16G".__mod__, values.tolist()))


def _column_parts(series: pd.Series, letter: str, rows: list, fmts: _ColumnFormats,
                  xf_map: dict) -> tuple[str, list]:
    """One column of a row template: its ``%``-template piece and the argument lists.

    A column whose cells all have the same shape gives a piece such as
    ``<c r="B%s" s="3"><v>%s</v></c>`` with ``[rows, values]``; any other gives
    ``%s`` with the whole ``<c>`` element of each row ('' for a cell left out).
    """
    s_plain = _style_attr(fmts.plain, xf_map)
    blank = (lambda ref: f'<c r="{ref}"{s_plain}/>') if s_plain else (lambda ref: "")
    blank_piece = f'<c r="{letter}%s"{s_plain}/>' if s_plain else ""
    kind = _kind(series)
    if kind == "number":
        values = series.to_numpy(dtype=float, na_value=np.nan)
        finite = np.isfinite(values)
        piece = f'<c r="{letter}%s"{s_plain}><v>%s</v></c>'
        if finite.all():
            return piece, [rows, _numbers(values)]
        return "%s", [_sparse(rows, finite, _numbers(values[finite]), piece, blank_piece)]
    if kind == "datetime":
        days, has_time = _datetime_serials(series)
        s = _style_attr(fmts.datetime if has_time else fmts.date, xf_map)
        piece = f'<c r="{letter}%s"{s}><v>%s</v></c>'
        ok = ~np.isnan(days)
        if ok.all():
            return piece, [rows, _numbers(days)]
        return "%s", [_sparse(rows, ok, _numbers(days[ok]), piece, "")]
    if kind == "bool":
        return f'<c r="{letter}%s"{s_plain} t="b"><v>%s</v></c>', \
            [rows, ["1" if bool(v) else "0" for v in series.tolist()]]
    text_piece = f'<c r="{letter}%s"{s_plain} t="inlineStr"><is>%s</is></c>'
    values = series.to_numpy(dtype=object).tolist()
    if isinstance(series.dtype, pd.StringDtype):  # text or missing, tested in bulk
        is_text = (series.notna() & (series != "")).to_numpy(dtype=bool)
        if not is_text.all():
            texts = _texts_xml([values[i] for i in np.flatnonzero(is_text).tolist()])
            return "%s", [_sparse(rows, is_text, texts, text_piece, blank_piece)]
        is_text = is_text.tolist()
    else:
        is_text = [type(v) is str and v != "" for v in values]
    if all(is_text):
        return text_piece, [rows, _texts_xml(values)]
    texts = iter(_texts_xml([v for v, ok in zip(values, is_text) if ok]))
    return "%s", [[f'<c r="{letter}{r}"{s_plain} t="inlineStr"><is>{next(texts)}</is></c>' if ok
                   else _other_xml(v, f"{letter}{r}", fmts, s_plain, blank, xf_map)
                   for r, v, ok in zip(rows, values, is_text)]]


def _sparse(rows: list, present: np.ndarray, values: list, piece: str, blank_piece: str) -> list:
    """Whole ``<c>`` elements: ``piece % (row, value)`` where ``present``, else the blank."""
    index = np.flatnonzero(present)
    if blank_piece:
        cells = np.array(list(map(blank_piece.__mod__, rows)), dtype=object)
    else:
        cells = np.full(len(rows), "", dtype=object)
    if len(index):
        at = np.array(rows, dtype=object)[index].tolist()
        filled = np.empty(len(index), dtype=object)
        filled[:] = list(map(piece.__mod__, zip(at, values)))
        cells[index] = filled
    return cells.tolist()


_PRINTABLE_ASCII = bytes(range(0x20, 0x7F))


def _plain_texts(joined: str, texts: list) -> bool:
    """Whether no text holds a control character or whitespace other than space.

    The same as ``_CONTROL_OR_SPACE.search(joined) is None`` for ``texts``
    joined by newlines, with cheaper tests first (ASCII: delete the printable
    bytes, only the newlines may be left; else ``str.isprintable``, false for
    every character of ``_CONTROL_OR_SPACE``).
    """
    if joined.isascii() and len(joined.encode("ascii").translate(None, _PRINTABLE_ASCII)) \
            == len(texts) - 1:
        return True
    return all(map(str.isprintable, texts)) or _CONTROL_OR_SPACE.search(joined) is None


def _texts_xml(texts: list) -> list:
    """The ``<t>`` element of each non-empty string.

    A column with few distinct values escapes each distinct value once.
    Escaped all at once (joined by newlines) when no value needs more than
    ``&``, ``<``, ``>`` and ``"`` escaped, else one by one.
    """
    if not texts:
        return []
    if len(texts) > 64:
        distinct = dict.fromkeys(texts)
        if len(distinct) * _FEW <= len(texts):
            escaped = dict(zip(distinct, _texts_xml(list(distinct))))
            return list(map(escaped.__getitem__, texts))
    joined = "\n".join(texts)
    if (joined.count("\n") == len(texts) - 1 and "_x" not in joined
            and _plain_texts(joined, texts)
            and not joined[0].isspace() and not joined[-1].isspace()
            and "\n " not in joined and " \n" not in joined
            and (len(joined) <= MAX_TEXT or max(map(len, texts)) <= MAX_TEXT)):
        joined = escape(joined, _QUOTE)
        return ("<t>" + joined.replace("\n", "</t>\n<t>") + "</t>").split("\n")
    return [_text_xml(v) for v in texts]


def _other_xml(v, ref: str, fmts: _ColumnFormats, s_plain: str, blank,
               xf_map: dict) -> str:
    """A cell that is not a non-empty string, in an object column."""
    if _is_blank(v):
        return blank(ref)
    if isinstance(v, str):
        return f'<c r="{ref}"{s_plain} t="inlineStr"><is>{_text_xml(v)}</is></c>'
    if isinstance(v, (bool, np.bool_)):
        return f'<c r="{ref}"{s_plain} t="b"><v>{int(bool(v))}</v></c>'
    if isinstance(v, (int, float, np.integer, np.floating)):
        return f'<c r="{ref}"{s_plain}><v>{float(v):.16G}</v></c>'
    if isinstance(v, (dt.date, pd.Timestamp, np.datetime64)):
        value, has_time = _serial(v)
        return f'<c r="{ref}"{_style_attr(fmts.datetime if has_time else fmts.date, xf_map)}>' \
               f'<v>{value:.16G}</v></c>'
    return f'<c r="{ref}"{s_plain} t="inlineStr"><is>{_text_xml(str(v))}</is></c>'


def _table_rows_xml(item: DeferredTable, xf_map: dict, side: dict | None = None):
    """The ``<row>`` elements of a deferred table, UTF-8, in chunks of ``CHUNK_ROWS`` rows.

    Each chunk is built row by row from one ``%``-template (C-level formatting
    of the column pieces of :func:`_column_parts`), not cell by cell. Style
    indices are the images of the rendered ones under ``xf_map`` (the
    graft's map into the user's ``styles.xml``). ``side``: 1-based row number ->
    the ``<row>`` element XlsxWriter wrote for that row (cells beside the table,
    row height), merged into the row.
    """
    t = item.table
    letters = [col_letter(t.col + j) for j in range(len(t.data.columns))]
    first = t.row + 2  # 1-based row of the first data row
    # columns are prepared a block at a time (few pandas calls, values escaped
    # once per distinct value), rows formatted a chunk at a time
    for block in range(0, len(t.data), BLOCK_ROWS):
        part = t.data.iloc[block:block + BLOCK_ROWS]
        rows = list(map(str, range(first + block, first + block + len(part))))
        pieces, args = ['<row r="%s">'], [rows]
        for j in range(len(letters)):
            piece, cols = _column_parts(part.iloc[:, j], letters[j], rows, item.formats[j], xf_map)
            pieces.append(piece)
            args += cols
        template = "".join(pieces) + "</row>"
        cells = zip(*args)
        del args
        for start in range(block, block + len(part), CHUNK_ROWS):
            out = [template % a for a in islice(cells, CHUNK_ROWS)]
            if side:
                base = first + start
                for r in sorted(side):
                    if base <= r < base + len(out):
                        out[r - base] = _merge_row(side[r], out[r - base], t)
            yield "".join(out).encode("utf-8")


_CELL_COL = re.compile(r'<c r="([A-Z]+)')
_ROW_ELEMENT = re.compile(rb'<row r="(\d+)"([^>]*?)(?:/>|>(.*?)</row>)', re.S)
_SPANS = re.compile(r'\sspans="[^"]*"')


def _merge_row(row_xml: str, ours: str, table: Table) -> str:
    """XlsxWriter's ``<row>`` element ``row_xml`` with the table's cells (``ours``) put in."""
    m = _ROW_ELEMENT.match(row_xml.encode("utf-8"))
    attrs = _SPANS.sub("", m.group(2).decode("utf-8"))  # spans: a hint, now wrong
    inner = (m.group(3) or b"").decode("utf-8")
    cut = len(inner)
    for c in _CELL_COL.finditer(inner):
        if _col_number(c.group(1)) > table.last_col:
            cut = c.start()
            break
    cells = ours[ours.index(">") + 1:-len("</row>")]
    return f'<row r="{m.group(1).decode()}"{attrs}>' + inner[:cut] + cells + inner[cut:] + "</row>"


_DIMENSION = re.compile(rb'<dimension ref="([A-Z]+)(\d+)(?::([A-Z]+)(\d+))?"/>')


def _col_number(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n - 1


def _union_dimension(xml: bytes, tables: list[Table]) -> bytes:
    """``xml`` with its ``<dimension>`` grown to cover ``tables`` (XlsxWriter saw one row)."""
    m = _DIMENSION.search(xml)
    if not m:
        return xml
    c1, r1 = _col_number(m.group(1).decode()), int(m.group(2)) - 1
    c2 = _col_number(m.group(3).decode()) if m.group(3) else c1
    r2 = int(m.group(4)) - 1 if m.group(4) else r1
    empty = m.group(0) == b'<dimension ref="A1"/>' and b"<c " not in xml
    for t in tables:
        if empty:
            c1, r1, c2, r2 = t.col, t.row, t.last_col, t.last_row
            empty = False
        else:
            c1, r1 = min(c1, t.col), min(r1, t.row)
            c2, r2 = max(c2, t.last_col), max(r2, t.last_row)
    ref = f"{col_letter(c1)}{r1 + 1}:{col_letter(c2)}{r2 + 1}".encode()
    return xml[:m.start()] + b'<dimension ref="' + ref + b'"/>' + xml[m.end():]


_TABLE_NAME = re.compile(r'<table [^>]*?name="([^"]+)"')


class DeferredBodies:
    """The data rows of the big tables, which :func:`render_skeleton` leaves out of the file.

    :func:`maillon.addin.ooxml.graft.graft` (``bodies=``) writes them once,
    straight into the user's package, with the user's final style indices:
    :meth:`table_part` gives a rendered table part its full range,
    :meth:`chunks` the worksheet part with its rows.
    """

    def __init__(self, deferred: list):
        self._by_sheet: dict = {}
        self._by_table: dict = {}
        for item in deferred:
            self._by_sheet.setdefault(item.sheet.lower(), []).append(item)
            self._by_table[item.table.name] = item.table
        for items in self._by_sheet.values():
            items.sort(key=lambda d: d.table.row)

    def __contains__(self, sheet: str) -> bool:
        return sheet.lower() in self._by_sheet

    def __bool__(self) -> bool:
        return bool(self._by_sheet)

    def table_part(self, xml: str) -> str:
        """A rendered table part (its XML text) with its range over all its rows.

        XlsxWriter declared a deferred table over its header and first data
        row; any other table part is returned as it is.
        """
        m = _TABLE_NAME.search(xml)
        t = self._by_table.get(m.group(1)) if m else None
        if t is None:
            return xml
        first = f"{col_letter(t.col)}{t.row + 1}"
        short = f'ref="{first}:{col_letter(t.last_col)}{t.row + 2}"'
        if short not in xml:
            raise RuntimeError(f"table {t.name}: range {short} not found in its table part")
        return xml.replace(short, f'ref="{first}:{col_letter(t.last_col)}{t.last_row + 1}"')

    def chunks(self, sheet: str, xml: bytes, xf_map: dict):
        """The worksheet part ``xml`` (UTF-8) of ``sheet`` with its rows put in, in chunks.

        ``xml`` is the part as XlsxWriter wrote it, its style indices already
        mapped; ``xf_map`` maps the rendered cell-format indices to the ones to
        write (the graft's :class:`~maillon.addin.ooxml.graft.StyleMerge`).
        """
        items = self._by_sheet.get(sheet.lower(), [])
        if items:
            xml = _union_dimension(xml, [d.table for d in items])
        return _sheet_with_rows(xml, items, xf_map)


_ROW_START_B = re.compile(rb'<row r="(\d+)"')


def _sheet_with_rows(xml: bytes, items: list, xf_map: dict):
    """``xml`` (a worksheet part, UTF-8) with the rows of ``items`` inserted, in chunks."""
    if not items:
        yield xml
        return
    empty = re.search(rb"<sheetData\s*/>", xml)
    if empty:
        xml = xml[:empty.start()] + b"<sheetData></sheetData>" + xml[empty.end():]
    start = xml.index(b"<sheetData>") + len(b"<sheetData>")
    end = xml.rindex(b"</sheetData>")
    row_starts = [(int(m.group(1)), m.start()) for m in _ROW_START_B.finditer(xml, start, end)]
    plan = []
    for item in items:  # the rows XlsxWriter wrote on the table's rows, and where it goes
        t = item.table
        first, last = t.row + 2, t.last_row + 1  # 1-based data rows
        begin = next((p for r, p in row_starts if r >= first), end)
        cut = next((p for r, p in row_starts if r > last), end)
        side = {}
        if begin < cut:  # cells beside the table (see _owns_rows): merged into its rows
            for m in _ROW_ELEMENT.finditer(xml, begin, cut):
                side[int(m.group(1))] = m.group(0).decode("utf-8")
            bad = _check_side(side, t)
            if bad is not None:
                raise RuntimeError(f"row {bad} of sheet {item.sheet!r} holds cells inside "
                                   f"the columns of table {t.name}; its rows cannot be written apart")
        plan.append((item, begin, cut, side))
    pos = 0
    for item, begin, cut, side in plan:
        begin = max(begin, pos)
        yield xml[pos:begin]
        pos = max(cut, begin)
        yield from _table_rows_xml(item, xf_map, side)
    yield xml[pos:]


def _check_side(side: dict, table: Table):
    """The first row of ``side`` with a cell in ``table``'s columns, or None."""
    for r, row_xml in side.items():
        for c in _CELL_COL.finditer(row_xml):
            if table.col <= _col_number(c.group(1)) <= table.last_col:
                return r
    return None


# --------------------------------------------------------------------------- files
def render_skeleton(specs: list[SheetSpec], path) -> DeferredBodies:
    """Write ``specs`` with XlsxWriter to a new ``.xlsx`` at ``path``, big tables' rows left out.

    One worksheet per spec. The data rows of tables that own their rows are
    returned as a :class:`DeferredBodies`, for ``graft(..., bodies=...)``:
    the file at ``path`` holds everything else and is meant to be grafted,
    not opened on its own (those tables' ranges cover their first data row
    only until the graft writes them).

    When the specs are a recompute's (a History run), the workbook name
    ``Maillon_live_layout`` records what was formatted
    (:func:`~maillon.addin.render.live_plan.file_layout_record`): the first live
    recompute after this one then writes only what changed.
    """
    workbook = xlsxwriter.Workbook(str(Path(path)))
    deferred: list = []
    try:
        write_specs(workbook, specs, deferred, engine_area=True)
        record = file_layout_record(specs)
        if record is not None:  # the graft replaces the workbook's name of the same name
            workbook.define_name(LAYOUT_NAME, record)
    finally:
        workbook.close()
    return DeferredBodies(deferred)
