"""What an engine-owned sheet looks like, independent of how it gets written.

The renderer (``layout.py``) turns an :class:`~maillon.engine.model.EngineResult`
into a list of :class:`SheetSpec`. Two backends write the same specs: XlsxWriter
for the file mode (``xlsx_backend.py``) and xlwings for the live mode
(``live_backend.py``). Layout, formats, tables, conditional formats and charts
are decided once, here, so both modes produce the same sheets.

Vocabulary: formats, conditional formats and data validations use XlsxWriter's
option dictionaries (``{"bold": True, "num_format": "0%"}``,
``{"type": "data_bar", ...}``), which the live backend translates. Rows and
columns are 0-based. Everything that depends on the data row by row is
expressed as a range-wide rule (a column format, a conditional format), never
as a per-cell format, so that the number of Excel calls in live mode does not
grow with the number of rows.

Cell values are written as they are typed in Python: ``str`` always as text
(never a formula, even when it begins with ``=``), numbers as numbers,
``datetime.date``/``datetime.datetime`` as dates, ``None``/NaN as blank.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

Format = dict  # XlsxWriter format properties


@dataclass
class Cells:
    """A rectangular block of values at (row, col); ``values`` has no header."""

    row: int
    col: int
    values: list  # list of rows (lists); or a DataFrame (its values are used)
    fmt: Format | None = None  # one format for the whole block (None: column format)


@dataclass
class Table:
    """An Excel table (ListObject): header row at ``row``, data below."""

    name: str
    row: int
    col: int
    data: pd.DataFrame  # columns are the exact headers
    style: str = "Table Style Medium 2"
    column_formats: dict = field(default_factory=dict)  # header -> Format
    header_formats: dict = field(default_factory=dict)  # header -> Format (e.g. editable mark)

    @property
    def last_row(self) -> int:
        # a table always has at least one data row (Excel requires it)
        return self.row + max(len(self.data), 1)

    @property
    def last_col(self) -> int:
        return self.col + len(self.data.columns) - 1

    def column_index(self, header: str) -> int:
        return self.col + list(self.data.columns).index(header)


@dataclass
class Column:
    """Width, default format and visibility of columns first..last."""

    first: int
    last: int
    width: float
    fmt: Format | None = None
    hidden: bool = False


@dataclass
class CondFormat:
    """A conditional format over a range (XlsxWriter ``conditional_format`` options)."""

    first_row: int
    first_col: int
    last_row: int
    last_col: int
    options: dict


@dataclass
class Validation:
    """A data validation over a range (XlsxWriter ``data_validation`` options)."""

    first_row: int
    first_col: int
    last_row: int
    last_col: int
    options: dict


@dataclass
class Ref:
    """A range on a sheet, used by chart series."""

    sheet: str
    first_row: int
    first_col: int
    last_row: int
    last_col: int

    def formula(self) -> str:
        return f"={quote_sheet(self.sheet)}!{absolute(self.first_row, self.first_col)}:" \
               f"{absolute(self.last_row, self.last_col)}"


@dataclass
class Series:
    name: str
    categories: Ref
    values: Ref
    color: str | None = None
    # Extension (layout v1): one fill colour per point, in order (pie/doughnut
    # slices, coloured bars); None uses ``color`` or the chart's defaults.
    point_colors: list | None = None


@dataclass
class Chart:
    """A native Excel chart anchored at (row, col)."""

    kind: str  # "column", "bar", "pie", "doughnut", "line"
    title: str
    series: list
    row: int
    col: int
    width: int = 480  # pixels
    height: int = 288
    x_title: str | None = None
    y_title: str | None = None
    stacked: bool = False
    legend: bool = True
    # Extensions (layout v1), all optional with neutral defaults:
    data_labels: bool = False  # show each point's value on the chart
    y_num_format: str | None = None  # number format of the value axis (e.g. money)


@dataclass
class Page:
    """Print setup."""

    landscape: bool = False
    fit_width: int | None = 1  # pages wide (None: no fitting)
    fit_height: int = 0  # 0: as many pages tall as needed
    repeat_rows: tuple | None = None  # (first_row, last_row) repeated on each page
    header: str = ""  # XlsxWriter header codes (&L, &C, &R, &D, &P, &N)
    footer: str = ""
    paper: int = 9  # A4
    print_area: tuple | None = None  # (first_row, first_col, last_row, last_col)


@dataclass
class Merge:
    first_row: int
    first_col: int
    last_row: int
    last_col: int
    value: object
    fmt: Format | None = None


@dataclass
class SheetSpec:
    """Everything a backend needs to write one engine-owned sheet."""

    name: str
    cells: list = field(default_factory=list)  # Cells
    tables: list = field(default_factory=list)  # Table
    columns: list = field(default_factory=list)  # Column
    merges: list = field(default_factory=list)  # Merge
    row_heights: dict = field(default_factory=dict)  # row -> height in points
    cond_formats: list = field(default_factory=list)  # CondFormat
    validations: list = field(default_factory=list)  # Validation
    charts: list = field(default_factory=list)  # Chart
    freeze: tuple | None = None  # (row, col) of the first unfrozen cell
    page: Page | None = None
    tab_color: str | None = None
    zoom: int = 100
    gridlines: bool = True


def col_letter(col: int) -> str:
    """0-based column index to letters: 0 -> A, 27 -> AB."""
    letters = ""
    col += 1
    while col:
        col, rem = divmod(col - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def absolute(row: int, col: int) -> str:
    return f"${col_letter(col)}${row + 1}"


def quote_sheet(name: str) -> str:
    if name.replace("_", "").isalnum():
        return name
    return "'" + name.replace("'", "''") + "'"
