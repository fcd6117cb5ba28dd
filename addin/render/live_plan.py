"""The live writer's plan of a sheet spec, and the digests that say what a sheet's formats are.

:func:`plan_sheet` translates a :class:`~maillon.addin.render.specs.SheetSpec`
into what the live writer (``addin/live/write.py``) sends to Excel: value
blocks, format layers grouped by value on multi-area A1 ranges, widths,
heights, rules, validations, tables. Everything that can be checked is
translated here, so a spec the live backend cannot write raises before Excel is
touched. The plan also has the digests of the workbook name
:data:`LAYOUT_NAME` (the *layout record*): the live writer compares them with
the record the previous recompute left and rewrites only what changed.

It lives in ``render`` (no I/O, no xlwings) because both backends need it: the
live writer plans and digests with it, and the file mode, which applies the
very same formats from the same specs with XlsxWriter, writes the layout
record of what it rendered with :func:`file_layout_record` -- the same
digests from the same plans, so that the first live recompute after a
file-mode one does not format every sheet again. What a file-mode render
cannot promise (the formats of a table column reach the table's last row, not
the sheet's) is in its digest (:attr:`_SheetPlan.bounded`): the record is true
for those tables' sizes only.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import math
import re
from collections import defaultdict
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from xlsxwriter.utility import xl_col_to_name

from maillon.engine import contract as C

from maillon.addin.render.specs import (CellEquals, CellStyle, ColorScale, DataBar, Formula,
                                        ListValidation, SheetSpec, merge_boxes, range_abs)


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
    #: the layout digest of a sheet whose table columns carry their formats, rules and
    #: validations on the tables' rows only (a file-mode render): ``digest`` and the
    #: tables' bounds. Such a sheet is what the live writer would make of the plan only
    #: as long as its tables keep these sizes.
    bounded: str = ""
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
LAYOUT_VERSION = "live-3"  # live-2: row heights in the second digest; live-3: header texts out
#: Page settings whose values depend on the data (the print area, titles with counts).
_DYNAMIC_PAGE = {"PrintArea", "LeftHeader", "CenterHeader", "RightHeader", "LeftFooter",
                 "CenterFooter", "RightFooter"}


def _digest(plan: _SheetPlan) -> str:
    spec = plan.spec
    static_page = [(p, v) for p, v in page_settings(spec.page) if p not in _DYNAMIC_PAGE] \
        if spec.page is not None else None
    state = (LAYOUT_VERSION, plan.layers, plan.widths, plan.cond_formats,
             plan.validations, plan.merges,
             # the header texts are values, written every time: their number is layout, their
             # text not (the Action Plan's week headers move with the plan's start, its
             # formats do not)
             [(t.spec.name, t.style, t.bounds[:2], len(t.rows[0])) for t in plan.tables],
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


def _grouped(rules, translate, tables) -> dict:
    """``rules`` (conditional formats or validations) grouped by what ``translate`` makes of
    each -- ``(method, args, options)`` -- as ``{key: (method, args, options, [rects])}``,
    each rectangle 1-based and run down to its table's end (:func:`_down_to_the_end`)."""
    out: dict = {}
    for rule in rules:
        method, args, options = translate(rule)
        entry = out.setdefault(_key((method, args, sorted(options.items()))),
                               (method, args, options, []))
        entry[3].append(_down_to_the_end((rule.first_row + 1, rule.first_col + 1,
                                          rule.last_row + 1, rule.last_col + 1), tables))
    return out


def _plan_sheet(spec: SheetSpec, values: bool = True) -> _SheetPlan:
    """The live writer's plan of ``spec``; with ``values=False``, a plan for its digests
    only: its tables' rows are counted, not converted (``rows`` holds the headers alone),
    which at 100k accounts saves the 1.7 million conversions a file-mode record has no
    use for."""
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
        if values:
            rows = excel_rows(t.data) or [[None] * len(headers)]
            n_rows = len(rows)
        else:
            rows, n_rows = [], (len(t.data) if t.data.shape[1] else 0) or 1
        bounds = (t.row + 1, t.col + 1, t.row + 1 + n_rows, t.col + len(headers))
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
    conds = _grouped(spec.cond_formats, translate_cond_format, tables)
    vals = _grouped(spec.validations, translate_validation, tables)
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
    plan.bounded = _bounded_digest(plan)
    return plan


def _bounded_digest(plan: _SheetPlan, bounds: dict | None = None) -> str:
    """The layout digest of a sheet formatted as the file mode renders ``plan`` with tables
    of the sizes ``bounds`` (``{table name: (r1, c1, r2, c2)}``, 1-based; the plan's own
    by default)."""
    bounds = bounds or {}
    state = ("bounded", plan.digest,
             [(t.spec.name, tuple(bounds.get(t.spec.name, t.bounds) or ())) for t in plan.tables])
    return hashlib.sha1(repr(state).encode("utf-8")).hexdigest()[:8]


plan_sheet = _plan_sheet


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


def chart_name(number: int) -> str:
    """The name of the ``number``-th chart of a sheet's spec (from 1).

    >>> chart_name(2)
    'Maillon chart 2'
    """
    return f"Maillon chart {number}"


#: The workbook name that remembers what the last live recompute formatted.
LAYOUT_NAME = "Maillon_live_layout"


def parse_layout_record(text) -> tuple[str, dict] | None:
    """The layout record's formula (what the name :data:`LAYOUT_NAME` refers to) as
    ``(its stamp, {sheet: digest})``; None when it is not one. A digest is the layout's,
    followed by ``/`` and the one of what a kept sheet rewrites (:func:`_dynamic_digest`)
    when the record has room for it.

    >>> parse_layout_record('="2026-12-01 18:00:00|Segments=1a2b3c4d/5e6f70"')
    ('2026-12-01 18:00:00', {'Segments': '1a2b3c4d/5e6f70'})
    """
    m = re.fullmatch(r'="(.*)"', str(text or "").strip())
    if not m or "|" not in m.group(1):
        return None
    stamp, _, body = m.group(1).partition("|")
    digests = dict(item.split("=", 1) for item in body.split(";") if "=" in item)
    return stamp, digests


#: Excel refuses a text constant of more than 255 characters in a formula (a name's too).
TEXT_LIMIT = 255


def _layout_record(stamp: str, plans: list, bounded=()) -> str:
    """The record's formula: the stamp, then per sheet its digests; without the second digest
    of each sheet when all of them would not fit in one text constant. The sheets named in
    ``bounded`` are recorded with their bounded digest (:attr:`_SheetPlan.bounded`): their
    formats are those of a file-mode render (or were kept from one)."""
    def layout(p):
        return p.bounded if p.spec.name in bounded else p.digest
    body = stamp + "|" + ";".join(f"{p.spec.name}={layout(p)}/{p.dynamic}" for p in plans)
    if len(body) > TEXT_LIMIT:
        body = stamp + "|" + ";".join(f"{p.spec.name}={layout(p)}" for p in plans)
    return '="' + body + '"'


def _unchanged(previous: dict, plan: _SheetPlan) -> tuple[bool, bool]:
    """(the layout is what the record says, and so is what a kept sheet rewrites)."""
    same, dynamic, _ = layout_match(previous, plan)
    return same, dynamic


#: What :func:`layout_match` says of a sheet whose record is a file-mode render's.
AS_RENDERED, RESIZED = "as rendered", "resized"


def layout_match(previous: dict, plan: _SheetPlan,
                 found: dict | None = None) -> tuple[bool, bool, str | None]:
    """(the layout is what the record says, so is what a kept sheet rewrites, and how the
    record says it): None for the live writer's digest (formats that reach the sheet's last
    row); :data:`AS_RENDERED` for the bounded digest of the plan's own table sizes (a
    file-mode render of this very layout); :data:`RESIZED` for the bounded digest of the
    sizes ``found`` in the workbook (``{table name: bounds}``): the file mode rendered this
    layout, and the tables have other sizes now -- their formats stop at the rows they
    had, which the live writer then extends (``_write_tails``)."""
    layout, _, dynamic = str(previous.get(plan.spec.name, "")).partition("/")
    if layout == plan.digest:
        return True, dynamic == plan.dynamic, None
    if layout == plan.bounded:
        return True, dynamic == plan.dynamic, AS_RENDERED
    if found and plan.tables and layout == _bounded_digest(
            plan, {t.spec.name: found.get(t.spec.name) for t in plan.tables}):
        return True, False, RESIZED
    return False, False, None


def run_stamp(when) -> str | None:
    """A run's ``Run at`` as the layout record writes it (None when it is not a time).

    >>> run_stamp(dt.datetime(2026, 12, 1, 18, 0, 5, 120))
    '2026-12-01 18:00:05'
    """
    try:
        if when is None or pd.isna(when):
            return None
        return pd.Timestamp(when).strftime("%Y-%m-%d %H:%M:%S")
    except (TypeError, ValueError):
        return None


def history_stamp(specs: list) -> str | None:
    """The stamp of the run whose sheets ``specs`` are: the last ``Run at`` of ``tblHistory``
    (what the next live recompute reads there); None without a History table or a run."""
    for spec in specs:
        for t in spec.tables:
            if t.name == C.TBL_HISTORY and len(t.data) and "Run at" in t.data.columns:
                return run_stamp(t.data["Run at"].iloc[-1])
    return None


def file_layout_record(specs: list) -> str | None:
    """The layout record of a file-mode render of ``specs`` (the formula of the workbook name
    :data:`LAYOUT_NAME`), or None when the specs are not a recompute's (no History run).

    The file mode writes the same formats as the live writer from the same plans (the
    parity test compares them), except that a table column's formats, rules and
    validations stop at the table's last row: every sheet is recorded with its bounded
    digest, which the next live recompute matches only while its tables keep these sizes.
    """
    stamp = history_stamp(specs)
    if stamp is None:
        return None
    plans = [_plan_sheet(s, values=False) for s in specs]
    return _layout_record(stamp, plans, bounded={p.spec.name for p in plans})
