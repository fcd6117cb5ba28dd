"""What an engine-owned sheet looks like, independent of how it gets written.

The renderer (``layout.py``) turns an :class:`~maillon.engine.model.EngineResult`
into a list of :class:`SheetSpec`. Two backends write the same specs: XlsxWriter
for the file mode (``filemode/write.py``, through the pure translation in
``filemode/xlsxwriter_options.py``) and xlwings for the live mode
(``live/write.py``). Layout, formats, tables, conditional formats and charts
are decided once, here, so both modes produce the same sheets.

Vocabulary: every spec is a frozen dataclass, and holds exactly what the
layout uses, no more: a cell style (:class:`CellStyle` with :class:`Font`,
:class:`Border` and :class:`Alignment`), three kinds of conditional format
(:class:`CellEquals`, :class:`ColorScale`, :class:`DataBar`), one kind of data
validation (:class:`ListValidation`), column charts and doughnuts
(:class:`Chart`), print setup (:class:`Page`). A misspelled option is a
``TypeError`` when the spec is built, and a value outside what both backends
write is a ``ValueError`` that names the field, in both modes.

Rows and columns are 0-based. Everything that depends on the data row by row is
expressed as a range-wide rule (a column format, a conditional format), never
as a per-cell format, so that the number of Excel calls in live mode does not
grow with the number of rows.

Cell values are written as they are typed in Python: ``str`` always as text
(never a formula, even when it begins with ``=``), numbers as numbers,
``datetime.date``/``datetime.datetime`` as dates, ``None``/NaN as blank.

Example
-------
>>> header = CellStyle(font=Font(bold=True, color="#FFFFFF"), fill="#1F3864",
...                    border=Border("thin", "#BFBFBF"), align=Alignment(wrap=True))
>>> header.font.bold, header.align.vertical
(True, None)
>>> CellStyle(font=Font(bold=True), fil="#1F3864")
Traceback (most recent call last):
    ...
TypeError: CellStyle.__init__() got an unexpected keyword argument 'fil'
>>> Font(color="blue")
Traceback (most recent call last):
    ...
ValueError: Font.color must be a colour '#RRGGBB'; got 'blue'
>>> Ref("My sheet", 4, 1, 9, 1).formula()
"='My sheet'!$B$5:$B$10"
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from types import MappingProxyType
from collections.abc import Mapping

import pandas as pd
from xlsxwriter.utility import quote_sheetname, xl_rowcol_to_cell

__all__ = ["ENGINE_AREA_NAME", "parse_area", "engine_area_formula", "engine_boxes",
           "engine_values", "merge_boxes", "Formula",
           "Note", "Font", "Border", "Alignment", "CellStyle", "CellEquals", "ColorScale", "DataBar",
           "CondFormat", "ListValidation", "Cells", "Table", "Column", "Ref", "Series",
           "Chart", "Page", "Merge", "SheetSpec", "sheet_ref", "range_abs"]

_COLOUR = re.compile(r"#[0-9A-F]{6}")

#: the hidden, sheet-level defined name that records the cells the engine
#: wrote on an engine sheet outside its tables (so that what a user typed
#: beside them can be told apart at the next recompute)
ENGINE_AREA_NAME = "Maillon_EngineCells"

_AREA = re.compile(r"(?:'(?:[^']|'')+'|[^'!,=]+)!\$?([A-Z]{1,3})\$?(\d+)"
                   r"(?::\$?([A-Z]{1,3})\$?(\d+))?")


def parse_area(formula: str) -> list[tuple[int, int, int, int]]:
    """The rectangles (1-based, inclusive) of a union of ranges, as a defined name holds it.

    >>> parse_area("='Target List'!$A$1:$A$2,'Target List'!$B$3")
    [(1, 1, 2, 1), (3, 2, 3, 2)]
    """
    def number(letters: str) -> int:
        n = 0
        for ch in letters:
            n = n * 26 + ord(ch) - 64
        return n

    rects = []
    for m in _AREA.finditer(formula or ""):
        c1, r1 = number(m.group(1)), int(m.group(2))
        c2, r2 = (number(m.group(3)), int(m.group(4))) if m.group(3) else (c1, r1)
        rects.append((min(r1, r2), min(c1, c2), max(r1, r2), max(c1, c2)))
    return rects


def _set(obj, name: str, value) -> None:
    object.__setattr__(obj, name, value)  # normalising a field of a frozen dataclass


def _colour(owner, name: str, value, optional: bool = True) -> None:
    if value is None and optional:
        return
    if not isinstance(value, str) or not _COLOUR.fullmatch(value):
        raise ValueError(f"{type(owner).__name__}.{name} must be a colour '#RRGGBB'; "
                         f"got {value!r}")


def _choice(owner, name: str, value, allowed: tuple) -> None:
    if value not in allowed:
        raise ValueError(f"{type(owner).__name__}.{name} must be one of {allowed}; "
                         f"got {value!r}")


def _area(owner) -> None:
    r1, c1, r2, c2 = owner.first_row, owner.first_col, owner.last_row, owner.last_col
    if not all(isinstance(v, int) and v >= 0 for v in (r1, c1, r2, c2)) or r2 < r1 or c2 < c1:
        raise ValueError(f"{type(owner).__name__}: ({r1}, {c1}, {r2}, {c2}) is not a range "
                         "(first_row, first_col, last_row, last_col) of 0-based integers")


def _frozen_rows(values):
    """A block's rows as a tuple of tuples (a DataFrame is kept as it is)."""
    if isinstance(values, pd.DataFrame):
        return values
    return tuple(tuple(r) if isinstance(r, (list, tuple)) else (r,) for r in values)


# --------------------------------------------------------------------------- cell style
@dataclass(frozen=True)
class Font:
    """Font of a cell: bold, italic, colour and size (None: the workbook default)."""

    bold: bool = False
    italic: bool = False
    color: str | None = None  # '#RRGGBB'
    size: float | None = None  # points

    def __post_init__(self):
        _colour(self, "color", self.color)
        if self.size is not None and not (isinstance(self.size, (int, float)) and self.size > 0):
            raise ValueError(f"Font.size must be a positive number of points; got {self.size!r}")


@dataclass(frozen=True)
class Border:
    """The same line on the four sides of every cell of a range."""

    style: str = "thin"  # "thin" or "medium"
    color: str | None = None  # '#RRGGBB'; None: automatic (black)

    def __post_init__(self):
        _choice(self, "style", self.style, ("thin", "medium"))
        _colour(self, "color", self.color)


@dataclass(frozen=True)
class Alignment:
    """Alignment of a cell (None: Excel's default)."""

    horizontal: str | None = None  # "left", "center" or "right"
    vertical: str | None = None  # "top" or "center"
    wrap: bool = False
    rotation: int | None = None  # degrees, -90..90

    def __post_init__(self):
        _choice(self, "horizontal", self.horizontal, (None, "left", "center", "right"))
        _choice(self, "vertical", self.vertical, (None, "top", "center"))
        if self.rotation is not None and not (isinstance(self.rotation, int)
                                              and -90 <= self.rotation <= 90):
            raise ValueError(f"Alignment.rotation must be whole degrees in -90..90; "
                             f"got {self.rotation!r}")


@dataclass(frozen=True)
class CellStyle:
    """How a cell looks: font, fill, border, alignment and number format."""

    font: Font | None = None
    fill: str | None = None  # solid fill colour '#RRGGBB'
    border: Border | None = None
    align: Alignment | None = None
    num_format: str | None = None  # an Excel number format code, e.g. '0%'

    def __post_init__(self):
        for name, kind in (("font", Font), ("border", Border), ("align", Alignment)):
            value = getattr(self, name)
            if value is not None and not isinstance(value, kind):
                raise TypeError(f"CellStyle.{name} must be a {kind.__name__} or None; "
                                f"got {type(value).__name__}")
        _colour(self, "fill", self.fill)
        if self.num_format is not None and not (isinstance(self.num_format, str)
                                                and self.num_format):
            raise ValueError(f"CellStyle.num_format must be a non-empty format code; "
                             f"got {self.num_format!r}")


def _style(owner, name: str, value) -> None:
    if value is not None and not isinstance(value, CellStyle):
        raise TypeError(f"{type(owner).__name__}.{name} must be a CellStyle or None; "
                        f"got {type(value).__name__}")


# --------------------------------------------------------------------------- conditional formats
@dataclass(frozen=True)
class CellEquals:
    """Paint the cells of a range whose value equals the text ``value``."""

    first_row: int
    first_col: int
    last_row: int
    last_col: int
    value: str
    fill: str | None = None  # '#RRGGBB'
    font_color: str | None = None  # '#RRGGBB'

    def __post_init__(self):
        _area(self)
        if not isinstance(self.value, str):
            raise TypeError(f"CellEquals.value must be text; got {type(self.value).__name__}")
        _colour(self, "fill", self.fill)
        _colour(self, "font_color", self.font_color)

    def formula_value(self) -> str:
        """The value as a quoted formula string, the way Excel compares text.

        >>> CellEquals(0, 0, 9, 0, 'P1').formula_value(), CellEquals(0, 0, 9, 0, 'a"b').formula_value()
        ('"P1"', '"a""b"')
        """
        return '"' + self.value.replace('"', '""') + '"'


@dataclass(frozen=True)
class ColorScale:
    """A three-colour scale: lowest value, 50th percentile, highest value."""

    first_row: int
    first_col: int
    last_row: int
    last_col: int
    min_color: str
    mid_color: str
    max_color: str

    def __post_init__(self):
        _area(self)
        for name in ("min_color", "mid_color", "max_color"):
            _colour(self, name, getattr(self, name), optional=False)


@dataclass(frozen=True)
class DataBar:
    """A data bar whose length runs from ``minimum`` to ``maximum`` (numbers)."""

    first_row: int
    first_col: int
    last_row: int
    last_col: int
    color: str
    minimum: float
    maximum: float
    solid: bool = True  # a solid fill; False: a gradient

    def __post_init__(self):
        _area(self)
        _colour(self, "color", self.color, optional=False)
        if not self.minimum < self.maximum:
            raise ValueError(f"DataBar.minimum must be below DataBar.maximum; "
                             f"got {self.minimum!r} and {self.maximum!r}")


CondFormat = CellEquals | ColorScale | DataBar


# --------------------------------------------------------------------------- validation
@dataclass(frozen=True)
class ListValidation:
    """A drop-down of ``values``; anything else is refused (blanks allowed)."""

    first_row: int
    first_col: int
    last_row: int
    last_col: int
    values: tuple
    input_title: str = ""
    input_message: str = ""
    error_title: str = ""
    error_message: str = ""

    def __post_init__(self):
        _area(self)
        _set(self, "values", tuple(self.values))
        if not self.values or not all(isinstance(v, str) for v in self.values):
            raise ValueError(f"ListValidation.values must be a non-empty list of text; "
                             f"got {self.values!r}")
        for name, limit in (("input_title", 32), ("error_title", 32),
                            ("input_message", 255), ("error_message", 255)):
            if len(getattr(self, name)) > limit:
                raise ValueError(f"ListValidation.{name} holds at most {limit} characters "
                                 "(Excel's limit)")


# --------------------------------------------------------------------------- blocks
@dataclass(frozen=True)
class Formula:
    """A formula a user typed (kept as a formula, not as its result): ``"=SUM(B5:B9)"``."""

    text: str

    def __post_init__(self):
        if not isinstance(self.text, str) or not self.text.startswith("="):
            raise ValueError(f"Formula.text must start with '='; got {self.text!r}")


@dataclass(frozen=True)
class Cells:
    """A rectangular block of values at (row, col); ``values`` has no header.

    ``user`` marks what a user typed and the recompute put back: it is not
    part of the engine's area (:meth:`SheetSpec.engine_area`). A value may be
    a :class:`Formula` only in such a block.
    """

    row: int
    col: int
    values: tuple  # rows (tuples); or a DataFrame (its values are used)
    fmt: CellStyle | None = None  # one style for the whole block (None: column style)
    user: bool = False

    def __post_init__(self):
        _set(self, "values", _frozen_rows(self.values))
        _style(self, "fmt", self.fmt)


@dataclass(frozen=True)
class Note:
    """A comment (an Excel note) on the cell (row, col); ``origin`` is the cell it was
    on before this recompute, when it was read from the sheet."""

    row: int
    col: int
    text: str
    author: str = ""
    origin: tuple | None = None  # (row, col), 0-based

    def __post_init__(self):
        if not isinstance(self.text, str):
            raise TypeError(f"Note.text must be text; got {type(self.text).__name__}")
        if self.origin is not None:
            _set(self, "origin", tuple(self.origin))


def _styles(owner, name: str) -> None:
    value = MappingProxyType(dict(getattr(owner, name)))
    for header, style in value.items():
        _style(owner, f"{name}[{header!r}]", style)
    _set(owner, name, value)


@dataclass(frozen=True, eq=False)
class Table:
    """An Excel table (ListObject): header row at ``row``, data below."""

    name: str
    row: int
    col: int
    data: pd.DataFrame  # columns are the exact headers
    style: str = "Table Style Medium 2"
    column_formats: Mapping = field(default_factory=dict)  # header -> CellStyle
    header_formats: Mapping = field(default_factory=dict)  # header -> CellStyle

    def __post_init__(self):
        _styles(self, "column_formats")
        _styles(self, "header_formats")

    @property
    def last_row(self) -> int:
        # a table always has at least one data row (Excel requires it)
        return self.row + max(len(self.data), 1)

    @property
    def last_col(self) -> int:
        return self.col + len(self.data.columns) - 1

    def column_index(self, header: str) -> int:
        return self.col + list(self.data.columns).index(header)


@dataclass(frozen=True)
class Column:
    """Width, default style and visibility of columns first..last."""

    first: int
    last: int
    width: float
    fmt: CellStyle | None = None
    hidden: bool = False

    def __post_init__(self):
        _style(self, "fmt", self.fmt)


@dataclass(frozen=True)
class Merge:
    first_row: int
    first_col: int
    last_row: int
    last_col: int
    value: object
    fmt: CellStyle | None = None

    def __post_init__(self):
        _area(self)
        _style(self, "fmt", self.fmt)


# --------------------------------------------------------------------------- charts
def range_abs(first_row: int, first_col: int, last_row: int, last_col: int) -> str:
    """An absolute range, always as two corners (a chart series keeps ``$E$6:$E$6``).

    ``xlsxwriter.utility.xl_range_abs`` writes a one-cell range as one cell.

    >>> range_abs(5, 4, 5, 4), range_abs(0, 0, 2, 27)
    ('$E$6:$E$6', '$A$1:$AB$3')
    """
    return (xl_rowcol_to_cell(first_row, first_col, True, True) + ":"
            + xl_rowcol_to_cell(last_row, last_col, True, True))


def sheet_ref(sheet: str, first_row: int, first_col: int, last_row: int, last_col: int) -> str:
    """An absolute reference to a range of ``sheet``, quoted as a formula needs it.

    >>> sheet_ref("Dashboard", 5, 3, 9, 3), sheet_ref("2024", 0, 0, 1, 1)
    ('Dashboard!$D$6:$D$10', "'2024'!$A$1:$B$2")
    """
    return f"{quote_sheetname(sheet)}!{range_abs(first_row, first_col, last_row, last_col)}"


@dataclass(frozen=True)
class Ref:
    """A range on a sheet, used by chart series."""

    sheet: str
    first_row: int
    first_col: int
    last_row: int
    last_col: int

    def __post_init__(self):
        _area(self)

    def formula(self) -> str:
        return "=" + sheet_ref(self.sheet, self.first_row, self.first_col, self.last_row,
                               self.last_col)


@dataclass(frozen=True)
class Series:
    name: str
    categories: Ref
    values: Ref
    color: str | None = None  # '#RRGGBB'
    point_colors: tuple | None = None  # one fill per point, in order (bars, slices)

    def __post_init__(self):
        _colour(self, "color", self.color)
        if self.point_colors is not None:
            _set(self, "point_colors", tuple(self.point_colors))
            for c in self.point_colors:
                _colour(self, "point_colors", c, optional=False)


@dataclass(frozen=True)
class Chart:
    """A native Excel chart anchored at (row, col): clustered columns or a doughnut."""

    kind: str  # "column" or "doughnut"
    title: str
    series: tuple
    row: int
    col: int
    width: int = 480  # pixels
    height: int = 288
    y_title: str | None = None  # columns only
    legend: bool = True
    data_labels: bool = False  # show each point's value (a doughnut: percentage and category)
    y_num_format: str | None = None  # number format of the value axis (columns only)

    def __post_init__(self):
        _choice(self, "kind", self.kind, ("column", "doughnut"))
        _set(self, "series", tuple(self.series))
        if not all(isinstance(s, Series) for s in self.series):
            raise TypeError("Chart.series must hold Series")


# --------------------------------------------------------------------------- page
@dataclass(frozen=True)
class Page:
    """Print setup."""

    landscape: bool = False
    fit_width: int | None = 1  # pages wide (None: no fitting)
    fit_height: int = 0  # 0: as many pages tall as needed
    repeat_rows: tuple | None = None  # (first_row, last_row) repeated on each page
    header: str = ""  # Excel header codes (&L, &C, &R, &D, &P, &N)
    footer: str = ""
    paper: int = 9  # Excel's paper size number: 9 = A4
    print_area: tuple | None = None  # (first_row, first_col, last_row, last_col)

    def __post_init__(self):
        for name, n in (("repeat_rows", 2), ("print_area", 4)):
            value = getattr(self, name)
            if value is not None:
                value = tuple(value)
                if len(value) != n:
                    raise ValueError(f"Page.{name} must hold {n} numbers; got {value!r}")
                _set(self, name, value)


# --------------------------------------------------------------------------- sheet
@dataclass(frozen=True, eq=False)
class SheetSpec:
    """Everything a backend needs to write one engine-owned sheet."""

    name: str
    cells: tuple = ()  # Cells
    tables: tuple = ()  # Table
    columns: tuple = ()  # Column
    merges: tuple = ()  # Merge
    row_heights: Mapping = field(default_factory=dict)  # row -> height in points
    cond_formats: tuple = ()  # CellEquals, ColorScale, DataBar
    validations: tuple = ()  # ListValidation
    charts: tuple = ()  # Chart
    freeze: tuple | None = None  # (row, col) of the first unfrozen cell
    page: Page | None = None
    tab_color: str | None = None
    zoom: int = 100
    gridlines: bool = True
    notes: tuple = ()  # Note: every comment the sheet holds after the write
    #: cells (row, col) whose comment was read and is not on that cell any more
    dropped_notes: tuple = ()

    def __post_init__(self):
        kinds = {"notes": (Note,), "cells": (Cells,), "tables": (Table,), "columns": (Column,),
                 "merges": (Merge,), "cond_formats": (CellEquals, ColorScale, DataBar),
                 "validations": (ListValidation,), "charts": (Chart,)}
        for name, allowed in kinds.items():
            items = tuple(getattr(self, name))
            bad = [type(i).__name__ for i in items if not isinstance(i, allowed)]
            if bad:
                raise TypeError(f"SheetSpec.{name} holds {bad[0]}; expected "
                                + " or ".join(k.__name__ for k in allowed))
            _set(self, name, items)
        _set(self, "row_heights", MappingProxyType(dict(self.row_heights)))
        if self.freeze is not None:
            _set(self, "freeze", tuple(self.freeze))
        if self.page is not None and not isinstance(self.page, Page):
            raise TypeError(f"SheetSpec.page must be a Page; got {type(self.page).__name__}")
        _colour(self, "tab_color", self.tab_color)
        _set(self, "dropped_notes", tuple(tuple(d) for d in self.dropped_notes))

    def engine_area(self) -> list[tuple[int, int, int, int]]:
        """The rectangles (0-based, inclusive) the engine writes: its cells, merges and
        tables (header included), not the cells a user typed (``Cells.user``)."""
        boxes = []
        for block in self.cells:
            if block.user:
                continue
            if isinstance(block.values, pd.DataFrame):
                n, width = block.values.shape
            else:
                n = len(block.values)
                width = max((len(r) for r in block.values), default=0)
            if n and width:
                boxes.append((block.row, block.col, block.row + n - 1, block.col + width - 1))
        boxes += [(m.first_row, m.first_col, m.last_row, m.last_col) for m in self.merges]
        boxes += [(t.row, t.col, t.last_row, t.last_col) for t in self.tables]
        return boxes


def engine_boxes(spec: SheetSpec) -> list[tuple[int, int, int, int]]:
    """The boxes (0-based, inclusive) of what the engine writes outside its tables, as few
    as cover them, in the order of the sheet's :data:`ENGINE_AREA_NAME`."""
    boxes = [b for b in spec.engine_area()
             if not any(b == (t.row, t.col, t.last_row, t.last_col) for t in spec.tables)]
    return merge_boxes(boxes)


def engine_values(spec: SheetSpec) -> dict[tuple[int, int], object]:
    """``(row, col)`` (0-based) -> the value the engine writes there, outside its tables
    (a merged range shows its value in its first cell; a cell not listed is blank)."""
    out: dict = {}
    for block in spec.cells:
        if block.user:
            continue
        rows = block.values.itertuples(index=False, name=None) \
            if isinstance(block.values, pd.DataFrame) else block.values
        for i, row in enumerate(rows):
            for j, v in enumerate(row):
                out[(block.row + i, block.col + j)] = v
    for m in spec.merges:
        for r in range(m.first_row, m.last_row + 1):
            for c in range(m.first_col, m.last_col + 1):
                out.pop((r, c), None)
        out[(m.first_row, m.first_col)] = m.value
    return out


def engine_area_formula(spec: SheetSpec) -> str:
    """The formula of the sheet's :data:`~maillon.addin.render.specs.ENGINE_AREA_NAME`:
    the union of what the engine writes outside its tables ('' when nothing)."""
    boxes = engine_boxes(spec)
    return "=" + ",".join(sheet_ref(spec.name, *b) for b in boxes) if boxes else ""


def merge_boxes(boxes: list) -> list:
    """Boxes that touch side by side (same rows) or one above the other (same columns)
    joined, until none can be: the same cells in fewer boxes.

    >>> merge_boxes([(4, 0, 4, 0), (4, 1, 4, 1), (5, 0, 5, 1), (9, 9, 9, 9)])
    [(4, 0, 5, 1), (9, 9, 9, 9)]
    """
    boxes = sorted(set(boxes))
    joined = True
    while joined:
        joined = False
        for i, a in enumerate(boxes):
            for j in range(i + 1, len(boxes)):
                b = boxes[j]
                if a[0] == b[0] and a[2] == b[2] and (a[3] + 1 == b[1] or b[3] + 1 == a[1]):
                    union = (a[0], min(a[1], b[1]), a[2], max(a[3], b[3]))
                elif a[1] == b[1] and a[3] == b[3] and (a[2] + 1 == b[0] or b[2] + 1 == a[0]):
                    union = (min(a[0], b[0]), a[1], max(a[2], b[2]), a[3])
                else:
                    continue
                boxes = sorted(set(boxes[:i] + boxes[i + 1:j] + boxes[j + 1:] + [union]))
                joined = True
                break
            if joined:
                break
    return boxes
