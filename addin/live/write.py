"""Write :class:`~maillon.addin.render.specs.SheetSpec` sheets into an open Excel workbook.

This is the live-mode twin of ``filemode/write.py``: the same specs give the same
values, formats, tables and charts, written through xlwings into the workbook
the user has open. Two rules shape it:

* **Calls into Excel do not grow with the number of rows.** Every block of
  values is written with one ``range.value = rows``; formats go on whole
  columns or whole table columns; conditional formats and validations are
  range-wide rules. 1,000 or 100,000 accounts make the same number of calls.
* **Tables keep their identity.** A table the workbook already holds
  (``tblTargets`` …) is moved into place if needed and resized, never deleted,
  so formulas such as ``=COUNTIF(tblTargets[Final priority],"P1")`` keep
  working. Everything else on an engine sheet is cleared and rewritten.

Everything that can be checked is translated first (values, formats, rules,
charts), so a spec the backend cannot write raises before Excel is touched.

Text stays text: a string Excel could read as something else -- a formula
(``=``, ``+``, ``-``, ``@``), a number, a date, ``TRUE``, an error code -- is
written with Excel's text prefix, a leading apostrophe that Excel keeps as the
cell's prefix character and not in its value (see :func:`excel_value`). Dates
are written as ``datetime.datetime``; blanks (``None``, NaN, NaT) as empty cells.

Platforms
---------
Most of the work goes through documented xlwings API that works with desktop
Excel on Windows and on macOS (values, number formats, fonts, fills,
alignment, borders, column widths, tables, conditional formats, data
validation, charts, print area, gridlines). A few settings have no xlwings
wrapper and go through ``.api``, which is the **Windows COM object model**
(pywin32); on macOS ``.api`` is an appscript object with a different model, so
these are skipped there and listed in the notes :func:`write_specs_live`
returns:

* freeze panes and zoom (``app.api.ActiveWindow``),
* print setup other than the print area: orientation, fit to pages, repeated
  title rows, header/footer, paper size (``sheet.api.PageSetup``),
* the tab colour (``sheet.api.Tab.Color``),
* input and error messages of data validations (``range.api.Validation``),
* turning a stray table on an engine sheet back into a plain range
  (``ListObject.Unlist``).

Example
-------
::

    import xlwings as xw
    from maillon.addin.render.layout import layout
    from maillon.addin.live.write import write_specs_live

    book = xw.Book.caller()
    notes = write_specs_live(book, layout(result))
"""
from __future__ import annotations

import datetime as dt
import math
import re
import sys
from dataclasses import dataclass

import numpy as np
import pandas as pd

from xlsxwriter.utility import xl_col_to_name

from maillon.addin.render.specs import (ENGINE_AREA_NAME, CellEquals, CellStyle, ColorScale,
                                        DataBar, Formula, ListValidation, SheetSpec,
                                        engine_area_formula, range_abs)

__all__ = ["write_specs_live", "excel_value", "excel_rows", "needs_text_prefix",
           "translate_format", "translate_cond_format", "translate_validation",
           "LiveSpecError"]


class LiveSpecError(ValueError):
    """A sheet spec holds something the live backend cannot write."""


# --- values ---------------------------------------------------------------------
_FALSEY_TEXT = {"TRUE", "FALSE"}
_RISKY_FIRST = set("=+-@'#")


def needs_text_prefix(text: str) -> bool:
    """Whether Excel could read ``text`` as something other than text.

    True for a formula or sign (``=``, ``+``, ``-``, ``@``), an error code
    (``#N/A``), a leading apostrophe, a boolean, and anything holding a digit
    (numbers, dates, times, percentages, fractions in any locale).

    >>> needs_text_prefix("=1+1"), needs_text_prefix("00123"), needs_text_prefix("Chimie")
    (True, True, False)
    """
    if not text:
        return False
    if text[0] in _RISKY_FIRST or text.strip().upper() in _FALSEY_TEXT:
        return True
    return any(ch.isdigit() for ch in text)


def _text(text: str) -> str:
    return "'" + text if needs_text_prefix(text) else text


def excel_value(value):
    """One Python/pandas/numpy value as xlwings should write it.

    >>> excel_value(float("nan")) is None, excel_value("=SUM(A:A)")
    (True, "'=SUM(A:A)")
    >>> excel_value(dt.date(2026, 11, 30))
    datetime.datetime(2026, 11, 30, 0, 0)
    """
    if value is None:
        return None
    if isinstance(value, str):
        return _text(value)
    if isinstance(value, Formula):  # a formula a user typed beside the engine's cells
        return value.text
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        value = float(value)
        return None if math.isnan(value) or math.isinf(value) else value
    if value is pd.NaT or value is pd.NA:
        return None
    if isinstance(value, pd.Timestamp):
        return value.tz_localize(None).to_pydatetime() if value.tzinfo else value.to_pydatetime()
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=None)
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day)
    if isinstance(value, np.datetime64):
        return None if np.isnat(value) else excel_value(pd.Timestamp(value))
    if isinstance(value, (dt.time, dt.timedelta)):
        return value
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return _text(str(value))


def _column_values(series: pd.Series) -> list:
    """A column as a list of Excel-ready values (vectorised for numbers and dates)."""
    kind = series.dtype.kind
    if kind in "iu":
        return [int(v) for v in series.tolist()]
    if kind == "f":
        return [None if v != v or v in (math.inf, -math.inf) else v for v in series.tolist()]
    if kind == "b":
        return [bool(v) for v in series.tolist()]
    if kind == "M":
        s = series.dt.tz_localize(None) if getattr(series.dt, "tz", None) is not None else series
        return [None if v is pd.NaT else v.to_pydatetime() for v in s.tolist()]
    return [excel_value(v) for v in series.tolist()]


def excel_rows(values) -> list[list]:
    """A block (DataFrame or list of rows) as a rectangular list of Excel-ready rows."""
    if isinstance(values, pd.DataFrame):
        if values.shape[1] == 0:
            return []
        columns = [_column_values(values.iloc[:, j]) for j in range(values.shape[1])]
        return [list(row) for row in zip(*columns)]
    rows = [list(r) if isinstance(r, (list, tuple)) else [r] for r in values]
    width = max((len(r) for r in rows), default=0)
    return [[excel_value(v) for v in r] + [None] * (width - len(r)) for r in rows]


# --- formats ----------------------------------------------------------------------
_V_ALIGN = {"top": "top", "center": "center"}  # spec -> xlwings VAlign names
_BORDER_WEIGHTS = {"thin": "thin", "medium": "medium"}  # spec -> xlwings BordersWeight


def _bgr(hex_color: str) -> int:
    """``#RRGGBB`` as the BGR integer the Windows object model uses.

    >>> _bgr("#1F3864")
    6567967
    """
    r, g, b = (int(hex_color[i:i + 2], 16) for i in (1, 3, 5))
    return r + 256 * g + 65536 * b


@dataclass(frozen=True)
class RangeFormat:
    """What one cell style means for an xlwings Range (None: leave as is)."""

    number_format: str | None = None
    font: tuple = ()  # (name, value) keyword arguments of Font.set
    fill: str | None = None
    h_align: str | None = None
    v_align: str | None = None
    wrap: bool | None = None
    border: tuple = ()  # (name, value) keyword arguments of Borders.set("all", ...)
    rotation: int | None = None  # degrees; Windows COM only (Range.Orientation)

    def __bool__(self) -> bool:
        return any([self.number_format is not None, self.font, self.fill is not None,
                    self.h_align, self.v_align, self.wrap is not None, self.border,
                    self.rotation is not None])


def translate_format(style: CellStyle | None) -> RangeFormat:
    """A :class:`~maillon.addin.render.specs.CellStyle` as a :class:`RangeFormat`.

    >>> from maillon.addin.render.specs import CellStyle, Font
    >>> translate_format(CellStyle(font=Font(bold=True), num_format="0%", fill="#FFF2CC"))
    RangeFormat(number_format='0%', font=(('bold', True),), fill='#FFF2CC', h_align=None,
                v_align=None, wrap=None, border=(), rotation=None)
    """
    if style is None:
        return RangeFormat()
    font, align, border = [], style.align, style.border
    if style.font is not None:
        f = style.font
        if f.bold:
            font.append(("bold", True))
        if f.italic:
            font.append(("italic", True))
        if f.color is not None:
            font.append(("color", f.color))
        if f.size is not None:
            font.append(("size", float(f.size)))
    lines = ()
    if border is not None:
        lines = (("line_style", "continuous"), ("weight", _BORDER_WEIGHTS[border.style]))
        if border.color is not None:
            lines += (("color", border.color),)
    return RangeFormat(
        number_format=style.num_format, font=tuple(font), fill=style.fill,
        h_align=align.horizontal if align is not None else None,
        v_align=_V_ALIGN[align.vertical] if align is not None and align.vertical else None,
        wrap=True if align is not None and align.wrap else None, border=lines,
        rotation=align.rotation if align is not None else None)


def _apply_format(rng, f: RangeFormat, windows: bool, notes: list, where: str) -> None:
    """Apply a RangeFormat to a whole range: a fixed number of calls."""
    if f.number_format is not None:
        rng.number_format = f.number_format
    if f.font:
        rng.font.set(**dict(f.font))
    if f.fill is not None:
        rng.color = f.fill
    if f.h_align:
        rng.horizontal_alignment = f.h_align
    if f.v_align:
        rng.vertical_alignment = f.v_align
    if f.wrap is not None:
        rng.wrap_text = f.wrap
    if f.border:
        rng.borders.set("all", **dict(f.border))
    if f.rotation is not None:
        if windows:
            rng.api.Orientation = f.rotation  # COM: no xlwings wrapper for text rotation
        else:
            notes.append(f"{where}: rotated text is applied on Windows only")


# --- conditional formats --------------------------------------------------------------
def translate_cond_format(rule) -> tuple[str, tuple, dict]:
    """A conditional format of the specs as ``(method, args, kwargs)`` of
    :class:`xlwings.main.ConditionalFormats`.

    >>> from maillon.addin.render.specs import CellEquals, DataBar
    >>> translate_cond_format(CellEquals(4, 8, 99, 8, "P1", fill="#FFC7CE"))
    ('add_cell_value', ('equal_to', '"P1"'), {'fill_color': '#FFC7CE'})
    >>> translate_cond_format(DataBar(4, 7, 99, 7, "#5B9BD5", 0, 100))
    ('add_data_bar', ('#5B9BD5',), {'gradient': False, 'show_value': True, 'minimum': 0,
                                    'threshold_type': 'number', 'maximum': 100})
    """
    if isinstance(rule, CellEquals):
        style = {}
        if rule.fill is not None:
            style["fill_color"] = rule.fill
        if rule.font_color is not None:
            style["font_color"] = rule.font_color
        return "add_cell_value", ("equal_to", rule.formula_value()), style
    if isinstance(rule, ColorScale):
        # Excel's default points (lowest, 50th percentile, highest): no thresholds
        return "add_color_scale", ([rule.min_color, rule.mid_color, rule.max_color],), {}
    if isinstance(rule, DataBar):
        return "add_data_bar", (rule.color,), {
            "gradient": not rule.solid, "show_value": True, "minimum": rule.minimum,
            "threshold_type": "number", "maximum": rule.maximum}
    raise LiveSpecError(f"conditional format {type(rule).__name__} is not a conditional "
                        "format of the sheet specs (CellEquals, ColorScale or DataBar)")


# --- data validation -----------------------------------------------------------------
def translate_validation(v) -> tuple[str, tuple, dict]:
    """A list validation as ``(method, args, com_messages)``.

    ``method`` is the :class:`xlwings.main.DataValidation` setter;
    ``com_messages`` are Windows ``Validation`` properties (blanks allowed,
    input and error messages), set through COM.

    >>> from maillon.addin.render.specs import ListValidation
    >>> translate_validation(ListValidation(4, 9, 99, 9, ("P1", "P2"), input_title="Override"))
    ('set_list', (['P1', 'P2'],), {'IgnoreBlank': True, 'InputTitle': 'Override'})
    """
    if not isinstance(v, ListValidation):
        raise LiveSpecError(f"data validation {type(v).__name__} is not a data validation "
                            "of the sheet specs (ListValidation)")
    messages = {"IgnoreBlank": True}
    for prop, value in (("InputTitle", v.input_title), ("InputMessage", v.input_message),
                        ("ErrorTitle", v.error_title), ("ErrorMessage", v.error_message)):
        if value:
            messages[prop] = value
    return "set_list", (list(v.values),), messages


# --- charts -------------------------------------------------------------------------------
_CHART_TYPES = {"column": "column_clustered", "doughnut": "doughnut"}
_PIE_LIKE = ("doughnut",)
_PX_TO_PT = 0.75


def _chart_type(chart) -> str:
    if chart.kind not in _CHART_TYPES:
        raise LiveSpecError(f"chart kind {chart.kind!r} is not supported in live mode")
    return _CHART_TYPES[chart.kind]


def _ref_address(ref) -> str:
    return range_abs(ref.first_row, ref.first_col, ref.last_row, ref.last_col)

# --- geometry -------------------------------------------------------------------------
_ADDRESS = re.compile(r"^\$?([A-Z]{1,3})\$?(\d+)(?::\$?([A-Z]{1,3})\$?(\d+))?$")


def _col_number(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n


def parse_address(address: str) -> tuple[int, int, int, int]:
    """``"$A$1:$Q$1001"`` -> ``(1, 1, 1001, 17)`` (1-based, inclusive)."""
    address = address.split("!")[-1].replace("'", "")
    m = _ADDRESS.match(address.upper())
    if not m:
        raise ValueError(f"not a single-area cell address: {address!r}")
    c1, r1 = _col_number(m.group(1)), int(m.group(2))
    c2, r2 = (_col_number(m.group(3)), int(m.group(4))) if m.group(3) else (c1, r1)
    return r1, c1, r2, c2


def complement(bounds: tuple, holes: list) -> list[tuple]:
    """Rectangles covering ``bounds`` minus the ``holes`` (all 1-based, inclusive).

    The count depends on the number of holes, never on their size.

    >>> complement((1, 1, 10, 5), [(3, 2, 6, 4)])
    [(1, 1, 2, 5), (3, 1, 6, 1), (3, 5, 6, 5), (7, 1, 10, 5)]
    """
    r1, c1, r2, c2 = bounds
    holes = [(max(h[0], r1), max(h[1], c1), min(h[2], r2), min(h[3], c2)) for h in holes]
    holes = [h for h in holes if h[0] <= h[2] and h[1] <= h[3]]
    cuts = sorted({r1, r2 + 1, *(h[0] for h in holes), *(h[2] + 1 for h in holes)})
    out = []
    for top, nxt in zip(cuts, cuts[1:]):
        bottom = nxt - 1
        covered = sorted((h[1], h[3]) for h in holes if h[0] <= top and h[2] >= bottom)
        col = c1
        for a, b in covered:
            if a > col:
                out.append((top, col, bottom, a - 1))
            col = max(col, b + 1)
        if col <= c2:
            out.append((top, col, bottom, c2))
    # merge vertically adjacent rectangles with the same columns
    merged: list[list] = []
    for rect in sorted(out, key=lambda r: (r[1], r[3], r[0])):
        if merged and merged[-1][1] == rect[1] and merged[-1][3] == rect[3] \
                and merged[-1][2] + 1 == rect[0]:
            merged[-1][2] = rect[2]
        else:
            merged.append(list(rect))
    return sorted(tuple(m) for m in merged)


# --- the plan: everything translated before Excel is touched ------------------------------
@dataclass
class _TablePlan:
    spec: object
    bounds: tuple  # 1-based (r1, c1, r2, c2), header row included
    headers: list
    rows: list
    style: str
    column_formats: list  # (col 1-based, RangeFormat)
    header_formats: list  # (col 1-based, RangeFormat)


@dataclass
class _SheetPlan:
    spec: SheetSpec
    tables: list
    cells: list  # (bounds, rows, RangeFormat)
    columns: list  # (first col letter, last col letter, width or None, RangeFormat, hidden)
    merges: list  # (bounds, value, RangeFormat)
    cond_formats: list  # (bounds, method, args, kwargs)
    validations: list  # (bounds, method, args, com_messages)
    notes: list


def _table_style(name: str) -> str:
    """``"Table Style Medium 2"`` (XlsxWriter) -> ``"TableStyleMedium2"`` (Excel)."""
    return (name or "TableStyleMedium2").replace(" ", "")


def _plan_sheet(spec: SheetSpec) -> _SheetPlan:
    notes: list = []

    fmt = translate_format

    tables = []
    for t in spec.tables:
        headers = [str(h) for h in t.data.columns]
        rows = excel_rows(t.data)
        if not rows:
            rows = [[None] * len(headers)]
        bounds = (t.row + 1, t.col + 1, t.row + 1 + len(rows), t.col + len(headers))
        colf = [(t.column_index(h) + 1, fmt(f)) for h, f in t.column_formats.items()]
        headf = [(t.column_index(h) + 1, fmt(f)) for h, f in t.header_formats.items()]
        tables.append(_TablePlan(t, bounds, [_text(h) for h in headers], rows,
                                 _table_style(t.style), colf, headf))
    cells = []
    for c in spec.cells:
        rows = excel_rows(c.values)
        if not rows or not rows[0]:
            continue
        bounds = (c.row + 1, c.col + 1, c.row + len(rows), c.col + len(rows[0]))
        cells.append((bounds, rows, fmt(c.fmt)))
    columns = [(xl_col_to_name(c.first), xl_col_to_name(c.last), c.width, fmt(c.fmt), c.hidden)
               for c in spec.columns]
    merges = [((m.first_row + 1, m.first_col + 1, m.last_row + 1, m.last_col + 1),
               excel_value(m.value), fmt(m.fmt)) for m in spec.merges]
    conds = []
    for cf in spec.cond_formats:
        method, args, kwargs = translate_cond_format(cf)
        conds.append(((cf.first_row + 1, cf.first_col + 1, cf.last_row + 1, cf.last_col + 1),
                      method, args, kwargs))
    vals = []
    for v in spec.validations:
        method, args, messages = translate_validation(v)
        vals.append(((v.first_row + 1, v.first_col + 1, v.last_row + 1, v.last_col + 1),
                     method, args, messages))
    for chart in spec.charts:
        _chart_type(chart)
    return _SheetPlan(spec, tables, cells, columns, merges, conds, vals, notes)


# --- writing ------------------------------------------------------------------------------
def _is_windows(platform: str | None) -> bool:
    return (platform or sys.platform).startswith("win")


def _rng(sheet, bounds: tuple):
    r1, c1, r2, c2 = bounds
    return sheet.range((r1, c1), (r2, c2))


def _catalog(book) -> dict:
    """Every table of the workbook: lower-case name -> (sheet, table)."""
    found = {}
    for sheet in book.sheets:
        for table in sheet.tables:
            found[table.name.lower()] = (sheet, table)
    return found


def _prepare_sheet(book, plan: _SheetPlan, sheet, existed: bool, catalog: dict,
                   windows: bool, notes: list) -> list:
    """Clear an engine sheet except its kept tables; returns the tables still to create."""
    spec = plan.spec
    wanted = {t.spec.name.lower() for t in plan.tables}
    if existed:
        used = sheet.used_range.address
        for chart in list(sheet.charts):
            chart.delete()
        whole = sheet.cells
        whole.conditional_formats.clear()
        whole.data_validation.delete()
        sheet.range(used).unmerge()
        whole.clear_formats()
        for name, (owner, table) in catalog.items():
            if owner.name == sheet.name and name not in wanted:
                if windows:
                    table.api.Unlist()  # COM: keep the cells, drop the table
                else:
                    notes.append(f"{spec.name}: table {table.name} is not part of the "
                                 "sheet any more; remove it by hand (Table > Convert to Range)")
    to_create, kept = [], []
    for t in plan.tables:
        entry = catalog.get(t.spec.name.lower())
        if entry is None:
            to_create.append(t)
            continue
        owner, table = entry
        r1, c1, r2, c2 = t.bounds
        cur = parse_address(table.range.address)
        if owner.name != sheet.name or cur[:2] != (r1, c1):
            # Cut and paste: the table keeps its name and every reference to it.
            table.range.move(sheet.range((r1, c1)))
        table.resize(_rng(sheet, t.bounds))
        table.table_style = t.style
        kept.append(t.bounds)
    if existed:
        for rect in complement(parse_address(used), kept):
            _rng(sheet, rect).clear_contents()
    return to_create


def _write_values(sheet, plan: _SheetPlan, to_create: list) -> None:
    creating = {id(t) for t in to_create}
    for t in plan.tables:
        r1, c1, r2, c2 = t.bounds
        if id(t) in creating:
            _rng(sheet, t.bounds).value = [t.headers] + t.rows
            sheet.tables.add(source=_rng(sheet, t.bounds), name=t.spec.name,
                             table_style_name=t.style)
        else:
            _rng(sheet, (r1, c1, r1, c2)).value = [t.headers]
            _rng(sheet, (r1 + 1, c1, r2, c2)).value = t.rows
    for bounds, rows, _ in plan.cells:
        _rng(sheet, bounds).value = rows
    for bounds, value, _ in plan.merges:
        rng = _rng(sheet, bounds)
        rng.merge()
        sheet.range(bounds[:2]).value = value


def _write_formats(book, sheet, plan: _SheetPlan, existed: bool, windows: bool,
                   notes: list) -> None:
    spec = plan.spec
    for first, last, width, f, hidden in plan.columns:
        rng = sheet.range(f"{first}:{last}")
        if f:
            _apply_format(rng, f, windows, notes, spec.name)
        if hidden:
            rng.column_width = 0  # a zero width hides the columns
        elif width is not None:
            rng.column_width = width
    for t in plan.tables:
        r1, c1, r2, c2 = t.bounds
        for col, f in t.column_formats:
            if f:
                _apply_format(_rng(sheet, (r1 + 1, col, r2, col)), f, windows, notes, spec.name)
        for col, f in t.header_formats:
            if f:
                _apply_format(_rng(sheet, (r1, col, r1, col)), f, windows, notes, spec.name)
    for bounds, _, f in plan.cells:
        if f:
            _apply_format(_rng(sheet, bounds), f, windows, notes, spec.name)
    for bounds, _, f in plan.merges:
        if f:
            _apply_format(_rng(sheet, bounds), f, windows, notes, spec.name)
    for row, height in spec.row_heights.items():
        sheet.range(f"{row + 1}:{row + 1}").row_height = height
    for bounds, method, args, kwargs in plan.cond_formats:
        getattr(_rng(sheet, bounds).conditional_formats, method)(*args, **kwargs)
    for bounds, method, args, messages in plan.validations:
        rng = _rng(sheet, bounds)
        getattr(rng.data_validation, method)(*args)
        if messages:
            if windows:
                validation = rng.api.Validation
                for prop, value in messages.items():
                    setattr(validation, prop, value)
            else:
                notes.append(f"{spec.name}: validation messages are shown on Windows only")
    if existed or not spec.gridlines:
        sheet.show_gridlines = bool(spec.gridlines)
    if spec.page is not None and spec.page.print_area is not None:
        r1, c1, r2, c2 = spec.page.print_area
        sheet.page_setup.print_area = range_abs(r1, c1, r2, c2)


_HEADER_SECTION = re.compile(r"&([LCR])")


def header_sections(text: str) -> dict:
    """XlsxWriter header codes split into Excel's Left/Center/Right parts.

    >>> header_sections("&LAction Plan&R&D")
    {'Left': 'Action Plan', 'Right': '&D'}
    """
    if not text:
        return {}
    parts = _HEADER_SECTION.split(text)
    out = {}
    if parts[0]:
        out["Center"] = parts[0]
    for code, body in zip(parts[1::2], parts[2::2]):
        out[{"L": "Left", "C": "Center", "R": "Right"}[code]] = body
    return out


def _write_windows_only(book, sheet, spec: SheetSpec) -> None:
    """Settings with no xlwings wrapper: the Windows COM object model."""
    app_api = book.app.api
    if spec.freeze is not None or spec.zoom != 100:
        sheet.activate()
        window = app_api.ActiveWindow
        if spec.freeze is not None:
            row, col = spec.freeze
            window.FreezePanes = False
            window.ScrollRow = 1
            window.ScrollColumn = 1
            window.SplitRow = row
            window.SplitColumn = col
            window.FreezePanes = True
        if spec.zoom != 100:
            window.Zoom = spec.zoom
    if spec.tab_color is not None:
        sheet.api.Tab.Color = _bgr(spec.tab_color)
    page = spec.page
    if page is not None:
        app_api.PrintCommunication = False  # batch the page setup (Excel 2010+)
        try:
            ps = sheet.api.PageSetup
            ps.Orientation = 2 if page.landscape else 1  # xlLandscape / xlPortrait
            ps.PaperSize = page.paper  # XlPaperSize uses XlsxWriter's numbers (9 = A4)
            if page.fit_width is not None:
                ps.Zoom = False
                ps.FitToPagesWide = page.fit_width
                ps.FitToPagesTall = page.fit_height if page.fit_height else False
            if page.repeat_rows is not None:
                first, last = page.repeat_rows
                ps.PrintTitleRows = f"${first + 1}:${last + 1}"
            for where, text in header_sections(page.header).items():
                setattr(ps, f"{where}Header", text)
            for where, text in header_sections(page.footer).items():
                setattr(ps, f"{where}Footer", text)
        finally:
            app_api.PrintCommunication = True


def _write_charts(book, sheet, spec: SheetSpec, windows: bool, notes: list) -> None:
    for chart in spec.charts:
        kind = _chart_type(chart)
        xl_chart = sheet.charts.add(anchor=sheet.range((chart.row + 1, chart.col + 1)),
                                    width=chart.width * _PX_TO_PT,
                                    height=chart.height * _PX_TO_PT, chart_type=kind)
        if not chart.series:
            continue
        first = chart.series[0].values
        horizontal = first.first_row == first.last_row and first.first_col != first.last_col
        source_sheet = book.sheets[first.sheet]
        source = source_sheet.range(",".join(_ref_address(s.values) for s in chart.series))
        xl_chart.set_source_data(source, plot_by="rows" if horizontal else "columns")
        cats = chart.series[0].categories
        xl_chart.set_x_axis_values(book.sheets[cats.sheet].range(_ref_address(cats)))
        series = xl_chart.series
        pie_like = chart.kind in _PIE_LIKE
        for i, s in enumerate(chart.series):
            style = {"name": s.name}
            if s.color is not None and not pie_like:
                style["fill_color"] = s.color
            one = series[i]
            one.set(**style)
            point_colors = s.point_colors or ()
            if windows and (point_colors or chart.data_labels):
                com = one.api  # COM Series: no xlwings wrapper for labels and point fills
                if chart.data_labels:
                    com.HasDataLabels = True
                for j, c in enumerate(point_colors):
                    com.Points(j + 1).Format.Fill.ForeColor.RGB = _bgr(c)
            elif point_colors or chart.data_labels:
                notes.append(f"{spec.name}: data labels and per-point colours of charts "
                             "are applied on Windows only")
        xl_chart.title = chart.title or None
        xl_chart.legend.visible = bool(chart.legend)
        if not pie_like:
            axis = {}
            if chart.y_title:
                axis["title"] = chart.y_title
            if chart.y_num_format:
                axis["number_format"] = chart.y_num_format
            if axis:
                xl_chart.value_axis.set(**axis)


def _write_notes(sheet, spec: SheetSpec) -> None:
    """Comments: Excel keeps them on their cells when the values are cleared, so only
    those that moved (following their key) or went to History are touched: one call
    or two per such comment, none for the others."""
    for row, col in spec.dropped_notes:
        cell = sheet.range((row + 1, col + 1))
        note = cell.note
        if note is not None:
            note.delete()
        else:
            try:
                threads = list(sheet.comments)
            except NotImplementedError:  # Excel for Mac: no threaded comments
                threads = []
            for c in threads:
                where = c.location
                if (where.row, where.column) == (row + 1, col + 1):
                    c.delete()
    for n in spec.notes:
        if n.origin == (n.row, n.col):
            continue  # still on its cell
        text = f"{n.author}:\n{n.text}" if n.author else n.text
        sheet.range((n.row + 1, n.col + 1)).add_note(text)


def _write_engine_area(sheet, spec: SheetSpec, windows: bool, notes: list) -> None:
    """The hidden name of the cells the engine wrote outside its tables (see
    :data:`~maillon.addin.render.specs.ENGINE_AREA_NAME`).

    Without it the next recompute cannot tell what a user typed beside the
    tables: a refusal is said, never silent."""
    formula = engine_area_formula(spec)
    if not formula:
        return
    try:
        name = sheet.names.add(ENGINE_AREA_NAME, formula)
    except Exception as exc:  # Excel refused the name (its formula is long: ~260 characters)
        notes.append(f"{spec.name}: the name {ENGINE_AREA_NAME} could not be written ({exc}); "
                     "before the next recompute, move what you typed beside the tables of "
                     "this sheet to a sheet of your own")
        return
    if windows:
        name.api.Visible = False  # COM: hidden from the Name Manager


def write_specs_live(book, specs: list, progress=None, platform: str | None = None) -> list[str]:
    """Write engine-owned sheets into the open workbook ``book`` (an ``xlwings.Book``).

    Parameters
    ----------
    book : xlwings.Book
        The workbook, usually ``xw.Book.caller()``.
    specs : list of SheetSpec
        What ``layout(result)`` returns.
    progress : callable(str) or None
        Called with a short message before each sheet (e.g. to update the
        status bar).
    platform : str or None
        ``sys.platform`` by default; ``"win32"`` enables the settings that go
        through the Windows COM object model (see the module docstring).

    Returns
    -------
    list of str
        What could not be written on this platform (empty on Windows).

    Raises
    ------
    LiveSpecError
        Before anything is written, when a spec holds something the live
        backend cannot translate.
    """
    if not isinstance(specs, (list, tuple)) or not all(isinstance(s, SheetSpec) for s in specs):
        raise TypeError("specs must be a list of SheetSpec (what layout(result) returns)")
    plans = [_plan_sheet(s) for s in specs]  # may raise: nothing written yet
    windows = _is_windows(platform)
    notes: list = [n for p in plans for n in p.notes]
    progress = progress or (lambda message: None)

    existing = {name.lower(): name for name in book.sheet_names}
    catalog = _catalog(book)
    sheets = {}
    for plan in plans:
        name = plan.spec.name
        progress(f"Writing {name}")
        existed = name.lower() in existing
        if existed:
            sheet = book.sheets[existing[name.lower()]]
        else:
            sheet = book.sheets.add(name=name, after=book.sheets[-1])
        sheets[name] = sheet
        to_create = _prepare_sheet(book, plan, sheet, existed, catalog, windows, notes)
        _write_values(sheet, plan, to_create)
        _write_formats(book, sheet, plan, existed, windows, notes)
        _write_notes(sheet, plan.spec)
        _write_engine_area(sheet, plan.spec, windows, notes)
    progress("Drawing charts")
    for plan in plans:  # after every sheet exists: charts refer to other sheets
        sheet = sheets[plan.spec.name]
        _write_charts(book, sheet, plan.spec, windows, notes)
        if windows:
            _write_windows_only(book, sheet, plan.spec)
        elif plan.spec.freeze is not None or plan.spec.page is not None \
                or plan.spec.zoom != 100 or plan.spec.tab_color is not None:
            notes.append(f"{plan.spec.name}: freeze panes, zoom, tab colour and print "
                         "setup (except the print area) are applied on Windows only")
    return notes
