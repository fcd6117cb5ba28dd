"""Write SheetSpecs with XlsxWriter: the file-mode backend of the renderer.

Two entry points:

* :func:`write_specs` writes specs into an open ``xlsxwriter.Workbook`` with
  XlsxWriter calls only (one worksheet per spec, named ``spec.name``): use it
  when the workbook holds other sheets too (the template).
* :func:`render_to_file` writes specs to a new file, fast. Tables that own
  their rows (no other cell, merge or row height on those rows) get their data
  rows written straight into the sheet's XML after XlsxWriter has saved the
  package ("spliced"): XlsxWriter writes everything else — headers, table
  definitions, formats, conditional formats, validations, charts, print
  setup — and the data rows are produced column by column with the cell
  styles XlsxWriter assigned. A 100k-row target list takes a second or two
  instead of the ~12 s of one XlsxWriter call per cell.

Values are written as they are typed: ``str`` as text (``write_string``; never
a formula, even when it begins with ``=``), numbers as numbers, dates and
datetimes as date serials with a date format, booleans as booleans,
``None``/NaN/NaT/``""`` as blank (a styled blank where the column has a format,
so that editable cells stay yellow).

``constant_memory``: XlsxWriter 3.3.1 refuses ``add_table()`` in its
``constant_memory`` mode (it warns and returns -3), so tables cannot be
written in that mode at all; its inline-string writer also passes any string
that looks like ``<r>…</r>`` through as raw XML. ``render_to_file(...,
constant_memory=True)`` therefore gives what a package graft needs from that
mode by other means: every cell of the rendered sheets holds an inline string
(no reference to ``sharedStrings.xml``) and large tables are streamed to the
package in chunks, in increasing row order.

Example
-------
>>> import tempfile, pathlib
>>> from tests.engine_result_factory import make_result
>>> from maillon.addin.layout import layout
>>> path = pathlib.Path(tempfile.mkdtemp()) / "out.xlsx"
>>> render_to_file(layout(make_result(n_accounts=50)), path)
>>> path.stat().st_size > 0
True
"""
from __future__ import annotations

import datetime as dt
import math
import os
import re
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import xlsxwriter

from .sheetspec import Cells, Chart, SheetSpec, Table, col_letter

__all__ = ["write_specs", "render_to_file", "DeferredTable", "splice_deferred"]

DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
CHUNK_ROWS = 20_000
MAX_TEXT = 32_767  # characters in a cell, as Excel allows
_EXCEL_EPOCH = np.datetime64("1899-12-30", "ns")
_DAY_NS = 86_400_000_000_000
_EPOCH_DATE = dt.date(1899, 12, 30)
_EPOCH_DATETIME = dt.datetime(1899, 12, 30)


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


def _column_formats(formats: _Formats, props: dict | None) -> _ColumnFormats:
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
        hfmt = table.header_formats.get(h)
        if hfmt:
            col["header_format"] = formats.get(hfmt)
        cfmt = table.column_formats.get(h)
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


def _chart(workbook, formats: _Formats, chart: Chart):
    options = {"type": chart.kind}
    if chart.stacked:
        options["subtype"] = "stacked"
    xl = workbook.add_chart(options)
    if xl is None:
        raise ValueError(f"unknown chart kind {chart.kind!r}")
    for s in chart.series:
        series = {"name": s.name, "categories": s.categories.formula(),
                  "values": s.values.formula()}
        if s.color:
            series["fill"] = {"color": s.color}
            if chart.kind in ("line",):
                series["line"] = {"color": s.color}
        if s.point_colors:
            series["points"] = [{"fill": {"color": c}} for c in s.point_colors]
        if chart.data_labels:
            labels = {"value": True}
            if chart.kind in ("pie", "doughnut"):
                labels = {"percentage": True, "category": True}
            series["data_labels"] = labels
        xl.add_series(series)
    xl.set_title({"name": chart.title})
    if not chart.legend:
        xl.set_legend({"none": True})
    elif chart.kind in ("pie", "doughnut"):
        xl.set_legend({"position": "bottom"})
    if chart.kind not in ("pie", "doughnut"):
        if chart.x_title:
            xl.set_x_axis({"name": chart.x_title})
        y = {}
        if chart.y_title:
            y["name"] = chart.y_title
        if chart.y_num_format:
            y["num_format"] = chart.y_num_format
        y["major_gridlines"] = {"visible": True, "line": {"color": "#D9D9D9"}}
        xl.set_y_axis(y)
    return xl


def _convert_options(formats: _Formats, options: dict) -> dict:
    out = dict(options)
    if isinstance(out.get("format"), dict):
        out["format"] = formats.get(out["format"])
    return out


def _page(ws, page) -> None:
    if page.landscape:
        ws.set_landscape()
    else:
        ws.set_portrait()
    if page.paper:
        ws.set_paper(page.paper)
    if page.fit_width is not None:
        ws.fit_to_pages(page.fit_width, page.fit_height)
    if page.repeat_rows:
        ws.repeat_rows(*page.repeat_rows)
    if page.header:
        ws.set_header(page.header)
    if page.footer:
        ws.set_footer(page.footer)
    if page.print_area:
        ws.print_area(*page.print_area)


def _rows_used(spec: SheetSpec, skip: Table) -> list[tuple[int, int]]:
    """Row spans that hold anything but ``skip``'s data rows."""
    spans = []
    for block in spec.cells:
        n = len(block.values) if not isinstance(block.values, pd.DataFrame) else len(block.values)
        spans.append((block.row, block.row + max(n, 1) - 1))
    spans += [(m.first_row, m.last_row) for m in spec.merges]
    spans += [(r, r) for r in spec.row_heights]
    for t in spec.tables:
        if t is skip:
            spans.append((t.row, t.row))  # its own header row
        else:
            spans.append((t.row, t.last_row))
    return spans


def _owns_rows(spec: SheetSpec, table: Table) -> bool:
    first, last = table.row + 1, table.last_row
    return all(b < first or a > last for a, b in _rows_used(spec, table))


@dataclass
class DeferredTable:
    """Data rows of a table left out of XlsxWriter, to splice in after it saves."""

    sheet: str
    table: Table
    formats: list  # per column: _ColumnFormats (Format objects; indices known after close)
    worksheet: object = field(repr=False, default=None)


def _write_sheet(workbook, formats: _Formats, spec: SheetSpec, deferred: list | None) -> None:
    ws = workbook.add_worksheet(spec.name)
    if spec.tab_color:
        ws.set_tab_color(spec.tab_color)
    if spec.zoom and spec.zoom != 100:
        ws.set_zoom(spec.zoom)
    if not spec.gridlines:
        ws.hide_gridlines(2)
    for c in spec.columns:
        ws.set_column(c.first, c.last, c.width, formats.get(c.fmt),
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
    for t in spec.tables:
        if deferred is not None and len(t.data) > 1 and _owns_rows(spec, t):
            # XlsxWriter records every cell of a table's range (seconds for 100k
            # rows): declare it over its first data row, the splice sets the range.
            _add_table(ws, formats, t, last_row=t.row + 1)
            col_fmts = [_column_formats(formats, t.column_formats.get(h)) for h in t.data.columns]
            for f in col_fmts:  # make sure each style gets an index in styles.xml
                for fmt in (f.plain, f.date, f.datetime):
                    if fmt is not None:
                        fmt._get_xf_index()
            deferred.append(DeferredTable(spec.name, t, col_fmts, ws))
        else:
            _add_table(ws, formats, t)
            _write_table_data(ws, formats, t)
    for cf in spec.cond_formats:
        ws.conditional_format(cf.first_row, cf.first_col, cf.last_row, cf.last_col,
                              _convert_options(formats, cf.options))
    for v in spec.validations:
        ws.data_validation(v.first_row, v.first_col, v.last_row, v.last_col, dict(v.options))
    for ch in spec.charts:
        xl = _chart(workbook, formats, ch)
        ws.insert_chart(ch.row, ch.col, xl, {"x_scale": ch.width / 480,
                                             "y_scale": ch.height / 288, "object_position": 1})
    if spec.freeze:
        ws.freeze_panes(*spec.freeze)
    if spec.page:
        _page(ws, spec.page)


def write_specs(workbook: xlsxwriter.Workbook, specs: list[SheetSpec],
                deferred: list | None = None) -> None:
    """Write each spec as a worksheet named ``spec.name`` into ``workbook``.

    With ``deferred`` (a list), the data rows of tables that own their rows are
    not written; a :class:`DeferredTable` is appended for each, to pass to
    :func:`splice_deferred` once the workbook is closed. Without it, every
    cell goes through XlsxWriter.
    """
    if getattr(workbook, "constant_memory", False):
        raise ValueError("XlsxWriter cannot write Excel tables in constant_memory mode; "
                         "open the workbook without it, or use "
                         "render_to_file(..., constant_memory=True)")
    names = [s.name for s in specs]
    if len(set(names)) != len(names):
        raise ValueError(f"sheet names must be unique; got {names!r}")
    for spec in specs:
        _check_overlaps(spec)
    formats = _Formats(workbook)
    for spec in specs:
        _write_sheet(workbook, formats, spec, deferred)


def _check_overlaps(spec: SheetSpec) -> None:
    """Tables and merged ranges must not overlap (Excel calls the file corrupt)."""
    boxes = [(f"table {t.name}", t.row, t.col, t.last_row, t.last_col) for t in spec.tables]
    boxes += [(f"merged range at row {m.first_row}", m.first_row, m.first_col, m.last_row,
               m.last_col) for m in spec.merges]
    for i, (name_a, r1, c1, r2, c2) in enumerate(boxes):
        for name_b, s1, d1, s2, d2 in boxes[i + 1:]:
            if r1 <= s2 and s1 <= r2 and c1 <= d2 and d1 <= c2:
                raise ValueError(f"sheet {spec.name!r}: {name_a} overlaps {name_b}")


# --------------------------------------------------------------------------- splicing

_CONTROL_ESCAPE = re.compile(r"(_x[0-9a-fA-F]{4}_)")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f]")
_EDGE_SPACE = re.compile(r"^\s|\s$")
# control characters, and whitespace other than space and newline
_CONTROL_OR_SPACE = re.compile(r"[\x00-\x09\x0b-\x1f\ufffe\uffff\x85\xa0\u1680\u2000-\u200a"
                               r"\u2028\u2029\u202f\u205f\u3000]")


def _escape_text(s: str) -> str:
    """Text for ``<t>``, escaped as Excel (and XlsxWriter) expect."""
    s = _CONTROL_ESCAPE.sub(r"_x005F\1", s)
    s = _CONTROL.sub(lambda m: f"_x{ord(m.group(0)):04X}_", s)
    s = s.replace("\ufffe", "_xFFFE_").replace("\uffff", "_xFFFF_")
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _text_xml(s: str) -> str:
    """``<t>`` element of a non-empty string (cut to Excel's 32,767 characters)."""
    s = s[:MAX_TEXT]
    preserve = ' xml:space="preserve"' if _EDGE_SPACE.search(s) else ""
    return f"<t{preserve}>{_escape_text(s)}</t>"


def _style_attr(fmt) -> str:
    if fmt is None:
        return ""
    index = fmt._get_xf_index()
    return f' s="{index}"' if index else ""


def _column_xml(series: pd.Series, letter: str, rows: list, fmts: _ColumnFormats) -> list:
    """The ``<c>`` element of each row of a column ('' for a cell left out)."""
    s_plain = _style_attr(fmts.plain)
    blank = (lambda ref: f'<c r="{ref}"{s_plain}/>') if s_plain else (lambda ref: "")
    kind = _kind(series)
    if kind == "number":
        values = series.to_numpy(dtype=float, na_value=np.nan)
        finite = np.isfinite(values)
        if finite.all():
            return [f'<c r="{letter}{r}"{s_plain}><v>{v:.16G}</v></c>'
                    for r, v in zip(rows, values.tolist())]
        return [f'<c r="{letter}{r}"{s_plain}><v>{v:.16G}</v></c>' if ok else blank(f"{letter}{r}")
                for r, v, ok in zip(rows, values.tolist(), finite.tolist())]
    if kind == "datetime":
        days, has_time = _datetime_serials(series)
        s = _style_attr(fmts.datetime if has_time else fmts.date)
        return [f'<c r="{letter}{r}"{s}><v>{v:.16G}</v></c>' if v == v else ""
                for r, v in zip(rows, days.tolist())]
    if kind == "bool":
        return [f'<c r="{letter}{r}"{s_plain} t="b"><v>{int(bool(v))}</v></c>'
                for r, v in zip(rows, series.tolist())]
    values = series.to_numpy(dtype=object).tolist()
    if isinstance(series.dtype, pd.StringDtype):  # text or missing, tested in bulk
        is_text = (series.notna() & (series != "")).to_numpy(dtype=bool).tolist()
        if not all(is_text):
            empty = [blank(f"{letter}{r}") for r in rows] if s_plain else [""] * len(rows)
            texts = iter(_texts_xml([v for v, ok in zip(values, is_text) if ok]))
            return [f'<c r="{letter}{r}"{s_plain} t="inlineStr"><is>{next(texts)}</is></c>'
                    if ok else e for r, ok, e in zip(rows, is_text, empty)]
    else:
        is_text = [type(v) is str and v != "" for v in values]
    if all(is_text):
        return [f'<c r="{letter}{r}"{s_plain} t="inlineStr"><is>{t}</is></c>'
                for r, t in zip(rows, _texts_xml(values))]
    texts = iter(_texts_xml([v for v, ok in zip(values, is_text) if ok]))
    return [f'<c r="{letter}{r}"{s_plain} t="inlineStr"><is>{next(texts)}</is></c>' if ok
            else _other_xml(v, f"{letter}{r}", fmts, s_plain, blank)
            for r, v, ok in zip(rows, values, is_text)]


def _texts_xml(texts: list) -> list:
    """The ``<t>`` element of each non-empty string.

    Escaped all at once (joined by newlines) when no value needs more than
    ``&``, ``<`` and ``>`` escaped, else one by one.
    """
    if not texts:
        return []
    joined = "\n".join(texts)
    if (joined.count("\n") == len(texts) - 1 and "_x" not in joined
            and _CONTROL_OR_SPACE.search(joined) is None
            and not joined[0].isspace() and not joined[-1].isspace()
            and "\n " not in joined and " \n" not in joined
            and (len(joined) <= MAX_TEXT or max(map(len, texts)) <= MAX_TEXT)):
        joined = joined.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        return ("<t>" + joined.replace("\n", "</t>\n<t>") + "</t>").split("\n")
    return [_text_xml(v) for v in texts]


def _other_xml(v, ref: str, fmts: _ColumnFormats, s_plain: str, blank) -> str:
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
        return f'<c r="{ref}"{_style_attr(fmts.datetime if has_time else fmts.date)}>' \
               f'<v>{value:.16G}</v></c>'
    return f'<c r="{ref}"{s_plain} t="inlineStr"><is>{_text_xml(str(v))}</is></c>'


def _table_rows_xml(item: DeferredTable):
    """The ``<row>`` elements of a deferred table, in chunks of ``CHUNK_ROWS`` rows."""
    t = item.table
    letters = [col_letter(t.col + j) for j in range(len(t.data.columns))]
    first = t.row + 2  # 1-based row of the first data row
    for start in range(0, len(t.data), CHUNK_ROWS):
        part = t.data.iloc[start:start + CHUNK_ROWS]
        rows = list(range(first + start, first + start + len(part)))
        cols = [_column_xml(part.iloc[:, j], letters[j], rows, item.formats[j])
                for j in range(len(letters))]
        yield "".join([f'<row r="{r}">' + "".join(cells) + "</row>"
                       for r, cells in zip(rows, zip(*cols))])


_ROW_START = re.compile(r'<row r="(\d+)"')
_DIMENSION = re.compile(r'<dimension ref="([A-Z]+)(\d+)(?::([A-Z]+)(\d+))?"/>')
_SHARED_CELL = re.compile(r'<c ([^>]*?)t="s"><v>(\d+)</v></c>')
_SI = re.compile(r"<si>(.*?)</si>", re.S)


def _col_number(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n - 1


def _union_dimension(xml: str, tables: list[Table]) -> str:
    m = _DIMENSION.search(xml)
    if not m:
        return xml
    c1, r1 = _col_number(m.group(1)), int(m.group(2)) - 1
    c2 = _col_number(m.group(3)) if m.group(3) else c1
    r2 = int(m.group(4)) - 1 if m.group(4) else r1
    empty = m.group(0) == '<dimension ref="A1"/>' and "<c " not in xml
    for t in tables:
        if empty:
            c1, r1, c2, r2 = t.col, t.row, t.last_col, t.last_row
            empty = False
        else:
            c1, r1 = min(c1, t.col), min(r1, t.row)
            c2, r2 = max(c2, t.last_col), max(r2, t.last_row)
    ref = f"{col_letter(c1)}{r1 + 1}:{col_letter(c2)}{r2 + 1}"
    return xml[:m.start()] + f'<dimension ref="{ref}"/>' + xml[m.end():]


def _shared_strings(zin: zipfile.ZipFile) -> list[str]:
    try:
        xml = zin.read("xl/sharedStrings.xml").decode("utf-8")
    except KeyError:
        return []
    return _SI.findall(xml)


def _inline_shared(xml: str, strings: list[str]) -> str:
    return _SHARED_CELL.sub(lambda m: f'<c {m.group(1)}t="inlineStr"><is>{strings[int(m.group(2))]}'
                                      "</is></c>", xml)


_TABLE_NAME = re.compile(r'<table [^>]*?name="([^"]+)"')


def _table_parts(zin: zipfile.ZipFile, tables: dict) -> dict:
    """Table parts of deferred tables, their range set to the full data."""
    out = {}
    if not tables:
        return out
    for name in zin.namelist():
        if not (name.startswith("xl/tables/table") and name.endswith(".xml")):
            continue
        xml = zin.read(name).decode("utf-8")
        m = _TABLE_NAME.search(xml)
        if not m or m.group(1) not in tables:
            continue
        t = tables[m.group(1)]
        first = f"{col_letter(t.col)}{t.row + 1}"
        short = f'ref="{first}:{col_letter(t.last_col)}{t.row + 2}"'
        full = f'ref="{first}:{col_letter(t.last_col)}{t.last_row + 1}"'
        if short not in xml:
            raise RuntimeError(f"table {t.name}: range {short} not found in {name}")
        out[name] = xml.replace(short, full).encode("utf-8")
    missing = set(tables) - {(_TABLE_NAME.search(v.decode()).group(1)) for v in out.values()}
    if missing:
        raise RuntimeError(f"table part(s) not found for {sorted(missing)}")
    return out


def _sheet_parts(workbook: xlsxwriter.Workbook) -> dict:
    """Worksheet name -> its part in the package, as XlsxWriter's packager names it."""
    parts, index = {}, 0
    for ws in workbook.worksheets():
        if getattr(ws, "is_chartsheet", False):
            continue
        index += 1
        parts[ws.name] = f"xl/worksheets/sheet{index}.xml"
    return parts


def splice_deferred(path, workbook: xlsxwriter.Workbook, deferred: list,
                    inline_strings: bool = False, sheets: list[str] | None = None,
                    compresslevel: int | None = 1) -> None:
    """Write the deferred tables' rows into the closed package at ``path``.

    ``inline_strings`` also turns every shared-string cell of ``sheets``
    into an inline string. Sheets with spliced rows are deflated at
    ``compresslevel`` (1: three times faster than zlib's default 6 for a file
    about a quarter larger).
    """
    path = Path(path)
    parts = _sheet_parts(workbook)
    by_part: dict = {}
    for item in deferred:
        by_part.setdefault(parts[item.sheet], []).append(item)
    inline_parts = {parts[s] for s in (sheets or [])} if inline_strings else set()
    touched = set(by_part) | inline_parts
    if not touched:
        return
    fd, tmp = tempfile.mkstemp(prefix=path.stem + "-", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        with zipfile.ZipFile(path) as zin, \
                zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as zout:
            strings = _shared_strings(zin) if inline_parts else []
            table_parts = _table_parts(zin, {d.table.name: d.table for d in deferred})
            for info in zin.infolist():
                if info.filename in table_parts:
                    zout.writestr(info, table_parts[info.filename])
                    continue
                if info.filename not in touched:
                    zout.writestr(info, zin.read(info.filename))
                    continue
                xml = zin.read(info.filename).decode("utf-8")
                if info.filename in inline_parts:
                    xml = _inline_shared(xml, strings)
                items = sorted(by_part.get(info.filename, []), key=lambda d: d.table.row)
                if not items:
                    zout.writestr(info, xml.encode("utf-8"))
                    continue
                xml = _union_dimension(xml, [d.table for d in items])
                _stream_sheet(zout, info, xml, items, compresslevel)
        os.chmod(tmp, os.stat(path).st_mode & 0o7777)  # mkstemp made it private
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _stream_sheet(zout: zipfile.ZipFile, info: zipfile.ZipInfo, xml: str, items: list,
                  compresslevel: int | None) -> None:
    if "<sheetData/>" in xml:
        xml = xml.replace("<sheetData/>", "<sheetData></sheetData>", 1)
    start = xml.index("<sheetData>") + len("<sheetData>")
    end = xml.index("</sheetData>")
    body = xml[start:end]
    row_starts = [(int(m.group(1)), m.start()) for m in _ROW_START.finditer(body)]
    out = zipfile.ZipInfo(info.filename, date_time=info.date_time)
    out.compress_type = zipfile.ZIP_DEFLATED
    if compresslevel is not None:
        for attr in ("compress_level", "_compresslevel"):  # its name from 3.13, before
            try:
                setattr(out, attr, compresslevel)
                break
            except AttributeError:
                continue
    with zout.open(out, "w", force_zip64=True) as fh:
        fh.write(xml[:start].encode("utf-8"))
        pos = 0
        for item in items:
            t = item.table
            first, last = t.row + 2, t.last_row + 1  # 1-based data rows
            clash = [r for r, _ in row_starts if first <= r <= last]
            if clash:
                raise RuntimeError(f"row {clash[0]} of sheet {item.sheet!r} holds cells "
                                   f"besides table {t.name}; it cannot be spliced")
            cut = next((p for r, p in row_starts if r > last), len(body))
            cut = max(cut, pos)
            fh.write(body[pos:cut].encode("utf-8"))
            pos = cut
            for chunk in _table_rows_xml(item):
                fh.write(chunk.encode("utf-8"))
        fh.write(body[pos:].encode("utf-8"))
        fh.write(xml[end:].encode("utf-8"))


# --------------------------------------------------------------------------- files
def render_to_file(specs: list[SheetSpec], path, constant_memory: bool = False,
                   fast: bool = True) -> None:
    """Write ``specs`` to a new ``.xlsx`` at ``path`` (one worksheet per spec).

    Parameters
    ----------
    specs : list of SheetSpec, e.g. ``layout(result)``.
    path : file to create (replaced if it exists).
    constant_memory : if True, every cell of the rendered sheets holds an
        inline string (no sharedStrings references, as in XlsxWriter's own
        constant_memory mode, which cannot write tables); large tables are
        always streamed in row order.
    fast : splice the data rows of tables that own their rows into the saved
        package (default) instead of writing each cell through XlsxWriter.
    """
    path = Path(path)
    workbook = xlsxwriter.Workbook(str(path), {"constant_memory": False})
    deferred: list | None = [] if fast else None
    try:
        write_specs(workbook, specs, deferred)
    finally:
        workbook.close()
    if deferred or constant_memory:
        splice_deferred(path, workbook, deferred or [], inline_strings=constant_memory,
                        sheets=[s.name for s in specs])
