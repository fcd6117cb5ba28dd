"""Write :class:`~maillon.addin.render.specs.SheetSpec` sheets into an open Excel workbook.

This is the live-mode twin of ``filemode/write.py``: the same specs give the same
values, formats, tables and charts, written through xlwings into the workbook
the user has open. Three rules shape it:

* **A bounded number of Excel round trips, whatever the number of rows.**
  Each xlwings call costs the COM (Windows) or Apple Event (macOS) round trips
  that xlwings' own implementation makes for it -- ``tests/test_live_round_trips.py``
  keeps the table, checked against xlwings' code. So values go in whole blocks
  (``Range.raw_value``: one round trip per block, after the xlwings engine's
  own ``prepare_xl_data_element``; ``Range.value`` would spend about a hundred
  on the range's shape), in row chunks of xlwings' write budget (100,000
  cells). Formats are grouped: every cell style is split into its parts
  (number format, font, fill, alignment, wrap, border, rotation), and each
  distinct part is set once per sheet on one multi-area range (``"A4:Q4,S4"``)
  that covers every cell using it. Column widths, row heights, conditional
  formats and validations are grouped the same way; ranges are A1 addresses
  (a ``(row, col)`` tuple costs five round trips, an address one).
* **What did not change is not written again.** Once everything is written,
  the workbook name ``Maillon_live_layout`` records this run's stamp (its
  ``Run at``) and a digest per sheet of everything but the values: formats,
  rules, validations, widths, merges, charts, window and print settings. The
  next live recompute trusts the record only when its stamp is still the last
  run of ``tblHistory`` (a file-mode recompute since then adds a later one); a
  sheet whose digest is unchanged then gets only its values, the fills of its
  table cells, its row heights, its print area, headers and footers and its
  chart titles -- and of those only when they changed: a second digest per
  sheet covers them (a chart a user deleted is drawn again). Its tables are
  resized only when their size changed, and its hidden engine-area name is
  written only when it names other cells than the reader found in it. For
  that, what a table column carries (number format, alignment,
  conditional formats, validation) reaches the sheet's last row, so that it
  does not depend on the number of rows; fills, which show on empty cells,
  cover the table's rows only. Formats a user changes by hand on an engine
  sheet are kept until its layout changes.
* **Tables keep their identity.** A table the workbook already holds
  (``tblTargets`` …) is moved into place if needed and resized, never deleted,
  so formulas such as ``=COUNTIF(tblTargets[Final priority],"P1")`` keep
  working. Everything else on an engine sheet is cleared and rewritten; charts
  are deleted and drawn again only on sheets whose spec has charts.
* **Print setup never stops a recompute.** Each print setting is applied on
  its own; one Excel refuses (``PageSetup.PaperSize`` raises error 1004 when no
  printer is installed) is named once in the notes returned, and everything
  else is written.

A cell style replaces the column's style, as in file mode (XlsxWriter writes a
formatted cell with its own format only): where a later style lacks a part an
earlier, overlapping one sets (number format, fill, bold, italic, alignment,
wrap, rotation), that part is set back to Excel's default. Font size and
colour and borders have no such reset; the layout never needs one.

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
alignment, column widths, tables, conditional formats, data validation,
charts, print area, gridlines). Some settings go through ``.api``, the
**Windows COM object model** (pywin32), either because xlwings has no wrapper
or because its wrapper costs many round trips where COM needs one; on macOS
``.api`` is an appscript object with a different model, so the first kind is
skipped there and listed in the notes :func:`write_specs_live` returns, and
the second goes through xlwings:

* Windows only: freeze panes, zoom, the tab colour (``Window``,
  ``Worksheet.Tab``); print setup other than the print area
  (``PageSetup``); input and error messages of data validations
  (``Validation``); rotated text (``Range.Orientation``); data labels and
  per-point colours of charts; turning a stray table on an engine sheet back
  into a plain range (``ListObject.Unlist``);
* COM on Windows, xlwings on macOS: borders (``Range.Borders``: 4 round trips
  for every side; xlwings' ``Borders.set("all")`` makes 30), merging
  (``Range.Merge``; xlwings' ``Range.merge`` reads the range's shape first),
  gridlines (``Window.DisplayGridlines``), deleting a sheet's charts.

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
import hashlib
import math
import re
import sys
from collections import defaultdict
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from xlsxwriter.utility import xl_col_to_name

from maillon.addin.render.specs import (ENGINE_AREA_NAME, CellEquals, CellStyle, ColorScale,
                                        DataBar, Formula, ListValidation, SheetSpec,
                                        engine_area_formula, merge_boxes, parse_area,
                                        range_abs)

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




# --- addresses ------------------------------------------------------------------------------
MAX_ROW, MAX_COL = 1_048_576, 16_384
#: xlwings 0.37.8's write budget (``base_classes.DEFAULT_MAX_CELLS_PER_WRITE``; neither
#: the Windows nor the macOS engine overrides it): cells per value write at most.
WRITE_BUDGET = 100_000
#: Excel refuses a ``Range("...")`` argument longer than 255 characters.
ADDRESS_LIMIT = 255


def xl_address(bounds: tuple) -> str:
    """1-based ``(r1, c1, r2, c2)`` as an A1 address; whole rows and columns as ``5:7``, ``B:D``.

    >>> xl_address((4, 1, 1004, 17)), xl_address((1, 2, MAX_ROW, 2)), xl_address((5, 1, 5, MAX_COL))
    ('A4:Q1004', 'B:B', '5:5')
    >>> xl_address((3, 3, 3, 3))
    'C3'
    """
    r1, c1, r2, c2 = bounds
    if r1 == 1 and r2 == MAX_ROW:
        return f"{xl_col_to_name(c1 - 1)}:{xl_col_to_name(c2 - 1)}"
    if c1 == 1 and c2 == MAX_COL:
        return f"{r1}:{r2}"
    first = f"{xl_col_to_name(c1 - 1)}{r1}"
    return first if (r1, c1) == (r2, c2) else f"{first}:{xl_col_to_name(c2 - 1)}{r2}"


def union_addresses(rects) -> list[str]:
    """The rectangles as multi-area addresses of at most 255 characters each.

    >>> union_addresses([(4, 1, 4, 3), (6, 1, 9, 1)])
    ['A4:C4,A6:A9']
    """
    out, current = [], ""
    for rect in merge_boxes(rects):
        a = xl_address(rect)
        if current and len(current) + 1 + len(a) > ADDRESS_LIMIT:
            out.append(current)
            current = a
        else:
            current = f"{current},{a}" if current else a
    if current:
        out.append(current)
    return out


def _overlap(a: tuple, b: tuple) -> bool:
    return a[0] <= b[2] and b[0] <= a[2] and a[1] <= b[3] and b[1] <= a[3]


# --- the plan: everything translated before Excel is touched ------------------------------
NO_FILL = "none"  # a fill reset: no fill at all
_ASPECTS = ("number_format", "font", "fill", "h_align", "v_align", "wrap", "border", "rotation")
#: Excel's default of each part of a style that a later style may have to put back.
_DEFAULTS = {"number_format": "General", "fill": NO_FILL, "h_align": "general",
             "v_align": "bottom", "wrap": False, "rotation": 0}


@dataclass
class _TablePlan:
    spec: object
    bounds: tuple  # 1-based (r1, c1, r2, c2), header row included
    rows: list  # header row first
    style: str


@dataclass
class _SheetPlan:
    spec: SheetSpec
    tables: list
    blocks: list  # (bounds, rows): every value outside the tables, in few rectangles
    merges: list  # bounds
    layers: list  # [{(aspect, value): [rects]}], applied in order
    widths: dict  # width -> [(c1, c2)]
    heights: dict  # height -> [row]
    cond_formats: list  # (method, args, kwargs, [rects])
    validations: list  # (method, args, com_messages, [rects])
    fills: dict = field(default_factory=dict)  # fill -> [rects]: table cells, set every time
    unfills: list = field(default_factory=list)  # rects below the tables' filled columns
    digest: str = ""  # of everything above but the values and the fills of table cells
    #: of what a kept sheet rewrites: its table cells' fills, its data-dependent page
    #: settings (print area, headers and footers) and its chart titles
    dynamic: str = ""
    notes: list = field(default_factory=list)


def _table_style(name: str) -> str:
    """``"Table Style Medium 2"`` (XlsxWriter) -> ``"TableStyleMedium2"`` (Excel)."""
    return (name or "TableStyleMedium2").replace(" ", "")


def _aspects(f: RangeFormat):
    for name in _ASPECTS:
        value = getattr(f, name)
        if value is not None and value != ():
            yield name, value


def _with_resets(f: RangeFormat, under: list) -> RangeFormat:
    """``f`` where it lies over the styles ``under``: what they set and ``f`` does not goes back
    to Excel's default (XlsxWriter's semantics: a cell's format replaces the column's)."""
    changes = {}
    for g in under:
        for name, _ in _aspects(g):
            if name in _DEFAULTS and getattr(f, name) is None and name not in changes:
                changes[name] = _DEFAULTS[name]
        mine = dict(f.font)
        for attr in ("bold", "italic"):
            if dict(g.font).get(attr) and attr not in mine:
                mine[attr] = False
        if len(mine) != len(f.font):
            changes["font"] = tuple(sorted(mine.items()))
            f = replace(f, font=changes["font"])
    return replace(f, **changes) if changes else f


def _layers(ops: list) -> list:
    """Format operations ``(rect, RangeFormat)``, in file-mode precedence order, as layers of
    ``{(aspect, value): [rects]}``: within a layer no two rectangles overlap, so grouping
    them by value changes nothing; an operation over an earlier one goes to a later layer."""
    placed = []  # (rect, layer, RangeFormat)
    for rect, f in ops:
        under = [(layer, g) for r, layer, g in placed if _overlap(r, rect)]
        layer = 1 + max((lay for lay, _ in under), default=-1)
        placed.append((rect, layer, _with_resets(f, [g for _, g in under])))
    layers: list = [defaultdict(list) for _ in range(1 + max((p[1] for p in placed), default=-1))]
    for rect, layer, f in placed:
        for name, value in _aspects(f):
            layers[layer][(name, value)].append(rect)
    return [dict(layer) for layer in layers]


def _blocks(cells: list, holes: list) -> list:
    """Every value outside the tables (``cells``: ``(bounds, rows)``) as few rectangles:
    their bounding box minus the tables, each with its values (None where nothing is)."""
    if not cells:
        return []
    box = (min(b[0] for b, _ in cells), min(b[1] for b, _ in cells),
           max(b[2] for b, _ in cells), max(b[3] for b, _ in cells))
    out = []
    for rect in complement(box, holes):
        inside = [(b, rows) for b, rows in cells if _overlap(b, rect)]
        if not inside:
            continue
        r1, c1, r2, c2 = rect
        # only the rows and columns the values reach
        r1 = max(r1, min(b[0] for b, _ in inside))
        r2 = min(r2, max(b[2] for b, _ in inside))
        c1 = max(c1, min(b[1] for b, _ in inside))
        c2 = min(c2, max(b[3] for b, _ in inside))
        grid = [[None] * (c2 - c1 + 1) for _ in range(r2 - r1 + 1)]
        for (b1, d1, b2, d2), rows in inside:
            for r in range(max(b1, r1), min(b2, r2) + 1):
                row = rows[r - b1]
                for c in range(max(d1, c1), min(d2, c2) + 1):
                    grid[r - r1][c - c1] = row[c - d1]
        out.append(((r1, c1, r2, c2), grid))
    return out


def _key(value) -> str:
    return repr(value)


def _down_to_the_end(rect: tuple, tables: list) -> tuple:
    """A rectangle on the data rows of a table, extended to the sheet's last row, so that the
    format, rule or validation it carries does not depend on the number of rows."""
    for t in tables:
        r1, c1, r2, c2 = t.bounds
        if rect[0] == r1 + 1 and rect[2] == r2 and c1 <= rect[1] and rect[3] <= c2:
            return (rect[0], rect[1], MAX_ROW, rect[3])
    return rect


#: Changes whenever what the writer does with a plan changes: older layout records are void.
LAYOUT_VERSION = "live-2"  # live-2: row heights moved to the second digest
#: Page settings whose values depend on the data (the print area, titles with counts).
_DYNAMIC_PAGE = {"PrintArea", "LeftHeader", "CenterHeader", "RightHeader", "LeftFooter",
                 "CenterFooter", "RightFooter"}


def _digest(plan: _SheetPlan) -> str:
    spec = plan.spec
    static_page = [(p, v) for p, v in page_settings(spec.page) if p not in _DYNAMIC_PAGE] \
        if spec.page is not None else None
    state = (LAYOUT_VERSION, plan.layers, plan.widths, plan.cond_formats,
             plan.validations, plan.merges,
             [(t.spec.name, t.style, t.bounds[:2], t.rows[0]) for t in plan.tables],
             (spec.freeze, spec.zoom, spec.tab_color, spec.gridlines, static_page),
             [replace(c, title="") for c in spec.charts])
    return hashlib.sha1(repr(state).encode("utf-8")).hexdigest()[:8]


def _dynamic_digest(plan: _SheetPlan) -> str:
    """What a sheet whose layout is unchanged still rewrites when it changed: the fills of its
    table cells (they follow the number of rows), its row heights (wrapped text in a data
    column: the Segments sheet's change with the accounts), its data-dependent page
    settings and its chart titles."""
    spec = plan.spec
    page = [(p, v) for p, v in page_settings(spec.page) if p in _DYNAMIC_PAGE] \
        if spec.page is not None else None
    state = (LAYOUT_VERSION, sorted(plan.fills.items()), plan.unfills,
             sorted(plan.heights.items()), page,
             [c.title for c in spec.charts])
    return hashlib.sha1(repr(state).encode("utf-8")).hexdigest()[:6]


def _plan_sheet(spec: SheetSpec) -> _SheetPlan:
    fmt = translate_format
    tables, ops = [], []
    fills: dict = defaultdict(list)
    unfills: list = []
    for c in spec.columns:
        f = fmt(c.fmt)
        if f:
            ops.append(((1, c.first + 1, MAX_ROW, c.last + 1), f))
    for t in spec.tables:
        headers = [_text(str(h)) for h in t.data.columns]
        rows = excel_rows(t.data)
        if not rows:
            rows = [[None] * len(headers)]
        bounds = (t.row + 1, t.col + 1, t.row + 1 + len(rows), t.col + len(headers))
        tables.append(_TablePlan(t, bounds, [headers] + rows, _table_style(t.style)))
        r1, _, r2, _ = bounds
        for h, style in t.column_formats.items():
            col = t.column_index(h) + 1
            f = fmt(style)
            if f.fill is not None:  # a fill shows on empty cells: the table's rows only
                fills[f.fill].append((r1 + 1, col, r2, col))
                unfills.append((r2 + 1, col, MAX_ROW, col))
                f = replace(f, fill=None)
            if f:
                ops.append(((r1 + 1, col, MAX_ROW, col), f))
        for h, style in t.header_formats.items():
            col = t.column_index(h) + 1
            if fmt(style):
                ops.append(((r1, col, r1, col), fmt(style)))
    cells = []
    for c in spec.cells:
        rows = excel_rows(c.values)
        if not rows or not rows[0]:
            continue
        bounds = (c.row + 1, c.col + 1, c.row + len(rows), c.col + len(rows[0]))
        cells.append((bounds, rows))
        if fmt(c.fmt):
            ops.append((bounds, fmt(c.fmt)))
    merges = []
    for m in spec.merges:
        bounds = (m.first_row + 1, m.first_col + 1, m.last_row + 1, m.last_col + 1)
        merges.append(bounds)
        cells.append((bounds[:2] * 2, [[excel_value(m.value)]]))
        if fmt(m.fmt):
            ops.append((bounds, fmt(m.fmt)))
    widths: dict = defaultdict(list)
    for c in spec.columns:
        widths[0 if c.hidden else c.width].append((c.first + 1, c.last + 1))
    heights: dict = defaultdict(list)
    for row, height in spec.row_heights.items():
        heights[height].append(row + 1)
    conds: dict = {}
    for cf in spec.cond_formats:
        method, args, kwargs = translate_cond_format(cf)
        entry = conds.setdefault(_key((method, args, sorted(kwargs.items()))),
                                 (method, args, kwargs, []))
        entry[3].append(_down_to_the_end((cf.first_row + 1, cf.first_col + 1, cf.last_row + 1,
                                          cf.last_col + 1), tables))
    vals: dict = {}
    for v in spec.validations:
        method, args, messages = translate_validation(v)
        entry = vals.setdefault(_key((method, args, sorted(messages.items()))),
                                (method, args, messages, []))
        entry[3].append(_down_to_the_end((v.first_row + 1, v.first_col + 1, v.last_row + 1,
                                          v.last_col + 1), tables))
    for chart in spec.charts:
        _chart_type(chart)
    layers = _layers(ops)
    # below a table, "no fill" must not wipe the fill of a cell the layout paints there
    painted = [r for layer in layers for (aspect, _), rects in layer.items()
               if aspect == "fill" for r in rects]
    unfills = [piece for u in unfills for piece in complement(u, painted)]
    plan = _SheetPlan(spec, tables, _blocks(cells, [t.bounds for t in tables]), merges,
                      layers, dict(widths), dict(heights), list(conds.values()),
                      list(vals.values()), dict(fills), unfills)
    plan.digest = _digest(plan)
    plan.dynamic = _dynamic_digest(plan)
    return plan


# --- writing ------------------------------------------------------------------------------
def _is_windows(platform: str | None) -> bool:
    return (platform or sys.platform).startswith("win")


_XL_WEIGHT = {"thin": 2, "medium": -4138}  # XlBorderWeight: xlThin, xlMedium
_XL_CONTINUOUS = 1  # XlLineStyle.xlContinuous


class _SheetWriter:
    """One engine sheet: a cache of the ranges already asked for, and the writes."""

    def __init__(self, ctx, sheet, plan: _SheetPlan):
        self.ctx, self.sheet, self.plan = ctx, sheet, plan
        self.name = plan.spec.name
        self._ranges: dict = {}

    def range(self, address: str):
        rng = self._ranges.get(address)
        if rng is None:
            rng = self._ranges[address] = self.sheet.range(address)
        return rng

    def ranges(self, rects):
        return [self.range(a) for a in union_addresses(rects)]

    # values --------------------------------------------------------------------------------
    def write_block(self, bounds: tuple, rows: list) -> None:
        """``rows`` into ``bounds``, in row chunks of at most WRITE_BUDGET cells."""
        prepare = self.ctx.prepare
        r1, c1, r2, c2 = bounds
        per_chunk = max(1, WRITE_BUDGET // (c2 - c1 + 1))
        for start in range(0, len(rows), per_chunk):
            part = rows[start:start + per_chunk]
            top = r1 + start
            rng = self.range(xl_address((top, c1, top + len(part) - 1, c2)))
            rng.raw_value = [[prepare(v) for v in row] for row in part]

    # formats -------------------------------------------------------------------------------
    def apply(self, aspect: str, value, rects) -> None:
        windows, notes = self.ctx.windows, self.ctx.notes
        for rng in self.ranges(rects):
            if aspect == "number_format":
                rng.number_format = value
            elif aspect == "font":
                rng.font.set(**dict(value))
            elif aspect == "fill":
                rng.color = None if value == NO_FILL else value
            elif aspect == "h_align":
                rng.horizontal_alignment = value
            elif aspect == "v_align":
                rng.vertical_alignment = value
            elif aspect == "wrap":
                rng.wrap_text = value
            elif aspect == "border":
                lines = dict(value)
                if windows:
                    # COM: the Borders collection sets every side and inside line at once
                    borders = rng.api.Borders
                    if "color" in lines:
                        borders.Color = _bgr(lines["color"])
                    borders.Weight = _XL_WEIGHT[lines["weight"]]
                    borders.LineStyle = _XL_CONTINUOUS
                else:
                    rng.borders.set("all", **lines)
            elif aspect == "rotation":
                if windows:
                    rng.api.Orientation = value  # COM: no xlwings wrapper for text rotation
                else:
                    notes.append(f"{self.name}: rotated text is applied on Windows only")


@dataclass
class _Context:
    book: object
    found: object  # Survey
    windows: bool
    notes: list
    prepare: object  # one value as the xlwings engine writes it


def _prepare_sheet(ctx: _Context, w: _SheetWriter, existed: bool, keep: bool = False) -> list:
    """Clear an engine sheet except its kept tables, move and resize those; returns the tables
    still to create. With ``keep`` (the sheet's formats are those of the plan already),
    only the values are cleared."""
    plan, sheet = w.plan, w.sheet
    wanted = {t.spec.name.lower() for t in plan.tables}
    if existed and not keep:
        if plan.spec.charts:
            _delete_charts(ctx, sheet)
        # the whole sheet by address: one round trip on Windows as Sheet.cells, none on macOS
        # (_xlmac.Sheet.cells reads the sheet's row and column counts and two addresses)
        whole = w.range(xl_address((1, 1, MAX_ROW, MAX_COL)))
        whole.conditional_formats.clear()
        whole.data_validation.delete()
        whole.unmerge()
        whole.clear_formats()
    elif existed and plan.merges:
        # clearing part of a merged area fails; merged again below
        w.range(xl_address((1, 1, MAX_ROW, MAX_COL))).unmerge()
    if existed:
        for name, info in ctx.found.tables.items():
            if info.sheet_name.lower() == plan.spec.name.lower() and name not in wanted:
                if ctx.windows:
                    info.table.api.Unlist()  # COM: keep the cells, drop the table
                else:
                    ctx.notes.append(f"{plan.spec.name}: table {info.name} is not part of the "
                                     "sheet any more; remove it by hand (Table > Convert to "
                                     "Range)")
    to_create, kept = [], []
    for t in plan.tables:
        info = ctx.found.tables.get(t.spec.name.lower())
        if info is None:
            to_create.append(t)
            continue
        if info.address is None:
            info.address = info.table.range.address
        r1, c1, _, _ = t.bounds
        if info.sheet_name.lower() != plan.spec.name.lower() or parse_address(info.address)[:2] \
                != (r1, c1):
            # Cut and paste: the table keeps its name and every reference to it.
            info.table.range.move(w.range(xl_address((r1, c1, r1, c1))))
        if parse_address(info.address) != t.bounds:  # Excel keeps a table that did not change
            info.table.resize(w.range(xl_address(t.bounds)))
        if not keep:  # a kept sheet's tables have the style of the plan already
            info.table.table_style = t.style
        info.address = xl_address(t.bounds)  # where the table now is
        kept.append(t.bounds)
    if existed:
        for rng in w.ranges(complement((1, 1, MAX_ROW, MAX_COL), kept)):
            rng.clear_contents()
    return to_create


def _delete_charts(ctx: _Context, sheet) -> None:
    if ctx.windows:
        charts = sheet.api.ChartObjects()
        if charts.Count:
            charts.Delete()  # COM: the whole collection at once
    else:
        for chart in list(sheet.charts):
            chart.delete()


def _write_values(ctx: _Context, w: _SheetWriter, to_create: list) -> None:
    creating = {id(t) for t in to_create}
    for t in w.plan.tables:
        w.write_block(t.bounds, t.rows)
        if id(t) in creating:
            w.sheet.tables.add(source=w.range(xl_address(t.bounds)), name=t.spec.name,
                               table_style_name=t.style)
    for bounds, rows in w.plan.blocks:
        w.write_block(bounds, rows)
    if w.plan.merges:
        if ctx.windows:
            for rng in w.ranges(w.plan.merges):
                rng.api.Merge()  # COM: each area of the multi-area range is merged
        else:
            for bounds in w.plan.merges:
                w.range(xl_address(bounds)).merge()


def _write_fills(w: _SheetWriter) -> None:
    """The fills of table cells: on the table's rows, and none below (a table that shrank)."""
    for fill, rects in w.plan.fills.items():
        w.apply("fill", fill, rects)
    if w.plan.unfills:
        w.apply("fill", NO_FILL, w.plan.unfills)


def _write_heights(w: _SheetWriter) -> None:
    for height, rows in w.plan.heights.items():
        for rng in w.ranges([(r, 1, r, MAX_COL) for r in rows]):
            rng.row_height = height


def _write_formats(ctx: _Context, w: _SheetWriter) -> None:
    plan = w.plan
    for layer in plan.layers:
        for (aspect, value), rects in layer.items():
            w.apply(aspect, value, rects)
    for width, cols in plan.widths.items():
        for rng in w.ranges([(1, a, MAX_ROW, b) for a, b in cols]):
            rng.column_width = width  # a zero width hides the columns
    _write_heights(w)
    for method, args, kwargs, rects in plan.cond_formats:
        for rng in w.ranges(rects):
            getattr(rng.conditional_formats, method)(*args, **kwargs)
    for method, args, messages, rects in plan.validations:
        for rng in w.ranges(rects):
            getattr(rng.data_validation, method)(*args)
            if messages and ctx.windows:
                validation = rng.api.Validation
                for prop, value in messages.items():
                    setattr(validation, prop, value)
        if messages and not ctx.windows:
            ctx.notes.append(f"{plan.spec.name}: validation messages are shown on Windows only")


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


def page_settings(page) -> list[tuple[str, object]]:
    """The Windows ``PageSetup`` properties of a :class:`~maillon.addin.render.specs.Page`, in order.

    >>> from maillon.addin.render.specs import Page
    >>> page_settings(Page(landscape=True, repeat_rows=(3, 3), footer="&RPage &P",
    ...                    print_area=(0, 0, 9, 4)))  # doctest: +NORMALIZE_WHITESPACE
    [('Orientation', 2), ('PaperSize', 9), ('Zoom', False), ('FitToPagesWide', 1),
     ('FitToPagesTall', False), ('PrintTitleRows', '$4:$4'), ('RightFooter', 'Page &P'),
     ('PrintArea', '$A$1:$E$10')]
    """
    out = [("Orientation", 2 if page.landscape else 1),  # xlLandscape / xlPortrait
           ("PaperSize", page.paper)]  # XlPaperSize uses XlsxWriter's numbers (9 = A4)
    if page.fit_width is not None:
        out += [("Zoom", False), ("FitToPagesWide", page.fit_width),
                ("FitToPagesTall", page.fit_height if page.fit_height else False)]
    if page.repeat_rows is not None:
        first, last = page.repeat_rows
        out.append(("PrintTitleRows", f"${first + 1}:${last + 1}"))
    out += [(f"{where}Header", text) for where, text in header_sections(page.header).items()]
    out += [(f"{where}Footer", text) for where, text in header_sections(page.footer).items()]
    if page.print_area is not None:
        out.append(("PrintArea", range_abs(*page.print_area)))
    return out


class _Refusals:
    """Settings Excel refused: each kind named once, with the sheets it concerns."""

    def __init__(self):
        self.by_kind: dict = {}

    def add(self, kind: str, sheet: str, error: Exception) -> None:
        sheets, _ = self.by_kind.setdefault(kind, ([], error))
        if sheet not in sheets:
            sheets.append(sheet)

    def notes(self) -> list[str]:
        out = []
        for kind, (sheets, error) in self.by_kind.items():
            reason = str(error).strip() or type(error).__name__
            out.append(f"{kind} could not be applied on {', '.join(sheets)} (Excel said: "
                       f"{reason[:160]}); the rest of the recompute was written")
        return out


def _guarded(refusals: _Refusals, kind: str, sheet: str, action) -> bool:
    try:
        action()
        return True
    except Exception as exc:  # Excel refused this one setting: go on with the rest
        refusals.add(kind, sheet, exc)
        return False


def _write_window(ctx: _Context, sheet, spec: SheetSpec, window, refusals: _Refusals,
                  existed: bool) -> None:
    """Freeze panes, zoom, gridlines and tab colour (Windows COM), each on its own."""
    name = spec.name
    gridlines = existed or not spec.gridlines
    if spec.freeze is not None or spec.zoom != 100 or gridlines:
        if not _guarded(refusals, "Showing the sheet", name, sheet.api.Activate):
            return
    if spec.freeze is not None:
        row, col = spec.freeze

        def freeze():
            window.FreezePanes = False
            window.ScrollRow = 1
            window.ScrollColumn = 1
            window.SplitRow = row
            window.SplitColumn = col
            window.FreezePanes = True
        _guarded(refusals, "Freeze panes", name, freeze)
    if spec.zoom != 100:
        _guarded(refusals, "Zoom", name, lambda: setattr(window, "Zoom", spec.zoom))
    if gridlines:
        _guarded(refusals, "Gridlines", name,
                 lambda: setattr(window, "DisplayGridlines", bool(spec.gridlines)))
    if spec.tab_color is not None:
        _guarded(refusals, "Tab colour", name,
                 lambda: setattr(sheet.api.Tab, "Color", _bgr(spec.tab_color)))


def _write_page(sheet, spec: SheetSpec, refusals: _Refusals, only_data: bool = False) -> None:
    """Print setup (Windows COM): each property on its own, so that one Excel refuses (the
    paper size with no printer installed) never stops the others or the recompute;
    ``only_data``: only the settings that depend on the data."""
    holder = {}
    if not _guarded(refusals, "Print setup", spec.name,
                    lambda: holder.setdefault("ps", sheet.api.PageSetup)):
        return
    ps = holder["ps"]
    for prop, value in page_settings(spec.page):
        if only_data and prop not in _DYNAMIC_PAGE:
            continue
        kind = "Print area" if prop == "PrintArea" else f"Print setup ({prop})"
        _guarded(refusals, kind, spec.name, lambda p=prop, v=value: setattr(ps, p, v))


def _write_charts(ctx: _Context, sheet, spec: SheetSpec, refusals: _Refusals) -> None:
    book, windows, notes = ctx.book, ctx.windows, ctx.notes
    sheets = {}

    def source_sheet(name):
        if name not in sheets:
            entry = ctx.found.sheets.get(name.lower())
            sheets[name] = entry[1] if entry is not None else book.sheets[name]
        return sheets[name]

    for number, chart in enumerate(spec.charts, 1):
        kind = _chart_type(chart)
        xl_chart = sheet.charts.add(anchor=sheet.range(xl_address((chart.row + 1,
                                                                   chart.col + 1) * 2)),
                                    width=chart.width * _PX_TO_PT,
                                    height=chart.height * _PX_TO_PT, chart_type=kind)
        xl_chart.name = chart_name(number)  # found again by name when only titles change
        if not chart.series:
            continue
        first = chart.series[0].values
        horizontal = first.first_row == first.last_row and first.first_col != first.last_col
        source = source_sheet(first.sheet).range(
            ",".join(_ref_address(s.values) for s in chart.series))
        xl_chart.set_source_data(source, plot_by="rows" if horizontal else "columns")
        cats = chart.series[0].categories
        xl_chart.set_x_axis_values(source_sheet(cats.sheet).range(_ref_address(cats)))
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
                    _guarded(refusals, "Chart data labels", spec.name,
                             lambda com=com: setattr(com, "HasDataLabels", True))
                for j, c in enumerate(point_colors):
                    _guarded(refusals, "Chart point colours", spec.name,
                             lambda j=j, c=c, com=com: setattr(
                                 com.Points(j + 1).Format.Fill.ForeColor,
                                                      "RGB", _bgr(c)))
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


def _write_engine_area(sheet, spec: SheetSpec, windows: bool, notes: list,
                       found_area: list | None = None) -> None:
    """The hidden name of the cells the engine wrote outside its tables (see
    :data:`~maillon.addin.render.specs.ENGINE_AREA_NAME`); ``found_area`` is what the
    reader found in the sheet's name (``Survey.engine_areas``): the same cells are not
    written again.

    Without it the next recompute cannot tell what a user typed beside the
    tables: a refusal is said, never silent."""
    formula = engine_area_formula(spec)
    if not formula:
        return
    if found_area is not None and sorted(found_area) == sorted(parse_area(formula)):
        return  # the name holds these cells already (and was hidden when written)
    try:
        name = sheet.names.add(ENGINE_AREA_NAME, formula)
    except Exception as exc:  # Excel refused the name (its formula is long: ~260 characters)
        notes.append(f"{spec.name}: the name {ENGINE_AREA_NAME} could not be written ({exc}); "
                     "before the next recompute, move what you typed beside the tables of "
                     "this sheet to a sheet of your own")
        return
    if windows:
        name.api.Visible = False  # COM: hidden from the Name Manager


def chart_name(number: int) -> str:
    """The name of the ``number``-th chart of a sheet's spec (from 1).

    >>> chart_name(2)
    'Maillon chart 2'
    """
    return f"Maillon chart {number}"


def _charts_there(sheet, spec: SheetSpec) -> bool:
    """Whether the sheet holds as many charts as its spec (two round trips): a chart a user
    deleted is drawn again."""
    try:
        return len(sheet.charts) == len(spec.charts)
    except Exception:  # the count could not be read: draw them again
        return False


def _retitle_charts(ctx: _Context, sheet, spec: SheetSpec) -> bool:
    """The charts drawn by the last recompute, with this one's titles; False when one is gone."""
    charts = sheet.charts
    try:
        found = [charts[chart_name(i)] for i in range(1, len(spec.charts) + 1)]
    except Exception:  # a chart was deleted or renamed: draw them again
        return False
    for xl_chart, chart in zip(found, spec.charts):
        xl_chart.title = chart.title or None
    return True


def _add_sheet(ctx: _Context, name: str, last):
    sheet = ctx.book.sheets.add(name=name, after=last)
    ctx.found.add_sheet(name, sheet)
    return sheet


#: The workbook name that remembers what the last live recompute formatted.
LAYOUT_NAME = "Maillon_live_layout"


def read_layout_record(book) -> tuple[str, dict] | None:
    """What the last live recompute of ``book`` formatted: ``(its stamp, {sheet: digest})``,
    from the workbook name :data:`LAYOUT_NAME`; None when there is none. A digest is the
    layout's, followed by ``/`` and the one of what a kept sheet rewrites
    (:func:`_dynamic_digest`) when the record has room for it."""
    try:
        text = book.names[LAYOUT_NAME].refers_to
    except Exception:  # no such name (first live recompute, or removed by hand)
        return None
    m = re.fullmatch(r'="(.*)"', str(text or "").strip())
    if not m or "|" not in m.group(1):
        return None
    stamp, _, body = m.group(1).partition("|")
    digests = dict(item.split("=", 1) for item in body.split(";") if "=" in item)
    return stamp, digests


#: Excel refuses a text constant of more than 255 characters in a formula (a name's too).
TEXT_LIMIT = 255


def _layout_record(stamp: str, plans: list) -> str:
    """The record's formula: the stamp, then per sheet its digests; without the second digest
    of each sheet when all of them would not fit in one text constant."""
    body = stamp + "|" + ";".join(f"{p.spec.name}={p.digest}/{p.dynamic}" for p in plans)
    if len(body) > TEXT_LIMIT:
        body = stamp + "|" + ";".join(f"{p.spec.name}={p.digest}" for p in plans)
    return '="' + body + '"'


def _unchanged(previous: dict, plan: _SheetPlan) -> tuple[bool, bool]:
    """(the layout is what the record says, and so is what a kept sheet rewrites)."""
    layout, _, dynamic = str(previous.get(plan.spec.name, "")).partition("/")
    same = layout == plan.digest
    return same, same and dynamic == plan.dynamic


def write_specs_live(book, specs: list, progress=None, platform: str | None = None,
                     found=None, app=None, previous: dict | None = None,
                     stamp: str | None = None) -> list[str]:
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
    found : Survey or None
        The workbook's sheets and tables (:func:`maillon.addin.live.book.survey`),
        surveyed here when None.
    app : xlwings.App or None
        ``book.app``, looked up when None (two round trips on Windows).
    previous : dict or None
        ``{sheet: digest}`` of what the previous recompute formatted, when it was
        a live recompute whose result is still in the workbook (the caller checks
        that its stamp is the last run of ``tblHistory``). A sheet whose plan has
        the same digest keeps its formats, rules, widths, merges, charts and
        settings: only its values, the fills of its table cells, its print area,
        print titles and chart titles are written.
    stamp : str or None
        This recompute's stamp (its ``Run at``); with it, what was formatted is
        remembered in the workbook name :data:`LAYOUT_NAME` once everything is
        written.

    Returns
    -------
    list of str
        What could not be written: settings this platform lacks (none on
        Windows), and settings Excel refused (print setup without a printer…),
        each named once.

    Raises
    ------
    LiveSpecError
        Before anything is written, when a spec holds something the live
        backend cannot translate.
    """
    from maillon.addin.live.book import survey

    if not isinstance(specs, (list, tuple)) or not all(isinstance(s, SheetSpec) for s in specs):
        raise TypeError("specs must be a list of SheetSpec (what layout(result) returns)")
    plans = [_plan_sheet(s) for s in specs]  # may raise: nothing written yet
    windows = _is_windows(platform)
    notes: list = [n for p in plans for n in p.notes]
    progress = progress or (lambda message: None)
    previous = previous or {}
    found = found if found is not None else survey(book)
    app = app if app is not None else book.app
    engine = app.engine.impl
    ctx = _Context(book, found, windows, notes,
                   lambda v, _p=engine.prepare_xl_data_element: _p(v, {}))
    refusals = _Refusals()

    writers, existed, kept, same = [], {}, {}, {}
    last = None
    for plan in plans:
        name = plan.spec.name
        progress(f"Writing {name}")
        entry = found.sheets.get(name.lower())
        existed[name] = entry is not None
        layout_same, dynamic_same = _unchanged(previous, plan)
        kept[name] = existed[name] and layout_same
        same[name] = kept[name] and dynamic_same  # nothing but the values to write
        if entry is not None:
            sheet = entry[1]
        else:
            if last is None:
                last = book.sheets[-1]
            sheet = _add_sheet(ctx, name, last)
        last = sheet
        w = _SheetWriter(ctx, sheet, plan)
        to_create = _prepare_sheet(ctx, w, existed[name], kept[name])
        _write_values(ctx, w, to_create)
        if not kept[name]:
            _write_formats(ctx, w)
        if not same[name]:
            _write_fills(w)
            if kept[name]:
                _write_heights(w)  # part of the second digest (a full pass sets them)
        _write_notes(sheet, plan.spec)
        _write_engine_area(sheet, plan.spec, windows, notes,
                           found.engine_areas.get(name.lower()) if existed[name] else None)
        if not windows and not kept[name] and (existed[name] or not plan.spec.gridlines):
            _guarded(refusals, "Gridlines", name,
                     lambda s=sheet, g=plan.spec.gridlines: setattr(s, "show_gridlines", bool(g)))
        writers.append(w)
    progress("Drawing charts")
    for w in writers:  # after every sheet exists: charts refer to other sheets
        spec = w.plan.spec
        if not spec.charts:
            continue
        if same[spec.name] and _charts_there(w.sheet, spec):
            continue  # the charts of the last recompute, with these titles
        if kept[spec.name] and not same[spec.name] and _retitle_charts(ctx, w.sheet, spec):
            continue
        if kept[spec.name]:
            _delete_charts(ctx, w.sheet)
        _write_charts(ctx, w.sheet, spec, refusals)
    progress("Page setup")
    _write_sheet_settings(ctx, app, writers, existed, kept, refusals, same)
    if stamp:
        _guarded(refusals, "Remembering the formats", "the workbook",
                 lambda: book.names.add(LAYOUT_NAME, _layout_record(stamp, plans)))
    return notes + refusals.notes()


def _write_sheet_settings(ctx: _Context, app, writers: list, existed: dict, kept: dict,
                          refusals: _Refusals, same: dict | None = None) -> None:
    """Window settings and print setup, last: none of them may stop the others. A kept sheet
    gets only what depends on the data (print area, headers, footers), and nothing when
    that did not change either (``same``)."""
    same = same or {}
    specs = [w.plan.spec for w in writers]
    if not ctx.windows:
        for w in writers:
            spec = w.plan.spec
            if spec.page is not None and spec.page.print_area is not None \
                    and not same.get(spec.name):
                area = range_abs(*spec.page.print_area)
                _guarded(refusals, "Print area", spec.name,
                         lambda s=w.sheet, a=area: setattr(s.page_setup, "print_area", a))
            if spec.freeze is not None or spec.page is not None or spec.zoom != 100 \
                    or spec.tab_color is not None:
                ctx.notes.append(f"{spec.name}: freeze panes, zoom, tab colour and print "
                                 "setup (except the print area) are applied on Windows only")
        return
    book_api = ctx.book.api
    holder = {}
    if not all(kept.get(s.name) for s in specs):
        _guarded(refusals, "Showing the sheets", specs[0].name if specs else "",
                 lambda: holder.update(window=book_api.Windows(1), active=book_api.ActiveSheet))
    app_api = app.api
    paging = any(s.page is not None and not same.get(s.name) for s in specs)
    if paging:  # batch the page setup (Excel 2010+); an older Excel just goes slower
        _guarded(refusals, "Print setup", "every sheet",
                 lambda: setattr(app_api, "PrintCommunication", False))
    try:
        for w in writers:
            spec = w.plan.spec
            if "window" in holder and not kept[spec.name]:
                _write_window(ctx, w.sheet, spec, holder["window"], refusals, existed[spec.name])
            if spec.page is not None and not same.get(spec.name):
                _write_page(w.sheet, spec, refusals, only_data=kept[spec.name])
    finally:
        if paging:
            _guarded(refusals, "Print setup", "every sheet",
                     lambda: setattr(app_api, "PrintCommunication", True))
        if "active" in holder:
            _guarded(refusals, "Showing the sheet you were on", "", holder["active"].Activate)
