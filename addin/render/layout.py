"""The one renderer of the engine-owned sheets: an EngineResult becomes SheetSpecs.

:func:`layout` decides, once for both ways in, where every table, grid, chart
and key figure goes and how it looks; ``filemode/write.py`` (file mode) and
``live/write.py`` (xlwings) only write what it says. Nothing here touches a file
or Excel.

Rules kept everywhere:

* every contract table is an Excel table with its exact name and headers; the
  hidden ``Row check`` column the engine adds travels inside the table;
* editable columns (✎ in ``CONTRACT.md``) keep their exact header text and are
  marked by a light-yellow header and light-yellow cells;
* styling that depends on the data is a column format or a conditional format
  over a whole range, never a format per row: the number of spec items (and so
  of Excel calls in live mode) does not grow with the number of accounts;
* text from data stays text (the backends write ``str`` with ``write_string``).

Sheet map (Excel addresses). Every sheet has its title in A1 and a one-line
hint in A2; every table header row is 30 pt high (two lines of header text).

=================  ==========================================================
Segments           ``tblSegments`` header row 4 (A4); frozen at C5. Rows as tall
                   as their Portrait needs (at most 12 segments).
ABC Matrix         4x3 grids with heat maps: accounts A4:D9, revenue A11:D16,
                   potential A18:D23 (caption, header, 4 rows each); legend
                   F5:F10; ``tblAbc`` header row 26 (A26:G38).
Reconciliation     agreement caption A4, big percent A5, explanation merged
                   B5:F6; ``tblConflicts`` header row 9 (A9, grows down);
                   cross-tables Segment x ABC cell from H8 down (accounts,
                   revenue, potential; caption + header + one row per segment
                   + 2 blank rows each), beside the conflicts so both grow.
Target List        priority legend A3:E3; ``tblTargets`` header row 4 (A4);
                   frozen at D5.
Action Plan        week-colour legend E3:H3; ``tblPlan`` header row 4 (A4),
                   week headers rotated; frozen at E5; rows a user added below
                   the table come back after one blank row.
Dashboard          key figures A4:B19; chart sources: by segment D4 (header D5,
                   one row per segment), priorities I4:J9, agreement I11:J14,
                   ABC heat map L4:O9; charts at A22, F22, A38, F38.
History            ``tblHistory`` header A4, ``tblEdits`` header K4: side by
                   side, both grow down; frozen at A5.
=================  ==========================================================

Example
-------
>>> from tests.engine_result_factory import make_result
>>> specs = layout(make_result(n_accounts=100))
>>> [s.name for s in specs]
['Segments', 'ABC Matrix', 'Reconciliation', 'Target List', 'Action Plan', 'Dashboard', 'History']
>>> [t.name for s in specs for t in s.tables]
['tblSegments', 'tblAbc', 'tblConflicts', 'tblTargets', 'tblPlan', 'tblHistory', 'tblEdits']
"""
from __future__ import annotations

import datetime as dt
import math
from dataclasses import replace

import numpy as np
import pandas as pd

from maillon.engine import contract as C
from maillon.engine.cells import is_blank as _blank
from maillon.engine.history import user_columns  # columns a user added: marked as theirs
from maillon.engine.loose import KEYED_TABLES, cells_check, place
from maillon.engine.plan import is_week_header  # week columns, not a user's
from maillon.engine.model import EngineResult
from maillon.workbook_templates.look import COLOURS, money_format
from maillon.addin.render.specs import engine_boxes, engine_values
from maillon.addin.render.specs import (Alignment, Border, CellEquals, Cells, CellStyle, Chart,
                                        ColorScale, Column, DataBar, Font, Formula,
                                        ListValidation, Merge, Note, Page, Ref, Series,
                                        SheetSpec, Table)

__all__ = ["layout", "money_format", "FORMATS", "TABLE_ROW", "ENGINE_TAB_COLOR"]

# --------------------------------------------------------------------------- look
HEADER_FILL, HEADER_FONT = COLOURS["header"]
INPUT_FILL = COLOURS["input"][0]
ENGINE_TAB_COLOR = HEADER_FILL
TABLE_STYLE = "Table Style Light 9"  # dark-blue banding that matches the header colour
TABLE_ROW = 3  # header row of the main table of a sheet (Excel row 4)

DATE = "yyyy-mm-dd"
DATETIME = "yyyy-mm-dd hh:mm"
INTEGER = "#,##0"
PERCENT = "0%"
SCORE = "0.0"

_BORDER = Border("thin", "#BFBFBF")
_WRAP_TOP = Alignment(vertical="top", wrap=True)
FORMATS = {
    "title": CellStyle(font=Font(bold=True, size=16, color=HEADER_FILL)),
    "hint": CellStyle(font=Font(italic=True, color="#595959")),
    "caption": CellStyle(font=Font(bold=True, size=12, color=HEADER_FILL)),
    "header": CellStyle(font=Font(bold=True, color=HEADER_FONT), fill=HEADER_FILL,
                        align=_WRAP_TOP, border=_BORDER),
    # editable columns: same shape, light-yellow fill, dark text, thicker frame
    "header_editable": CellStyle(font=Font(bold=True, color=HEADER_FILL), fill=INPUT_FILL,
                                 align=_WRAP_TOP, border=Border("medium", "#BF9000")),
    "grid_header": CellStyle(font=Font(bold=True, color=HEADER_FONT), fill=HEADER_FILL,
                             border=_BORDER),
    "grid_label": CellStyle(font=Font(bold=True), fill="#D9E1F2", border=_BORDER),
    "legend": CellStyle(font=Font(color="#404040")),
    "big_percent": CellStyle(font=Font(bold=True, size=28, color=HEADER_FILL),
                             num_format=PERCENT,
                             align=Alignment(horizontal="left", vertical="center")),
    "explanation": CellStyle(align=_WRAP_TOP, font=Font(color="#404040")),
    "figure_label": CellStyle(font=Font(bold=True), border=_BORDER, fill="#D9E1F2"),
}

# Column widths (characters) by header; others get a width from the header length.
_WIDTHS = {
    "Segment ID": 11, "Segment name": 24, "Marketing owner": 18, "Accounts": 10,
    "Customers": 10, "Prospects": 10, "Revenue 12m": 15, "Potential": 15,
    "Attractiveness": 14, "Portrait": 60, "Top needs": 34, "Differentiators": 34,
    "ABC cell": 9, "Revenue class": 10, "Potential class": 10, "Sales posture": 62,
    "Account ID": 13, "Account name": 32, "Conflict": 17, "Suggested resolution": 70,
    "Rank": 8, "Status": 12, "Score": 11, "Computed priority": 11,
    "Priority override": 11, "Override reason": 26, "Final priority": 10, "Why": 50,
    "Qualification": 18, "Sales owner": 18, "Next action": 40,
    "Action ID": 9, "Priority": 9, "Action": 44, "Function": 11, "Start": 11, "End": 11,
    "Run at": 17, "Run by": 14, "Moved segment": 10, "Changed priority": 10,
    "Overrides": 10, "Engine version": 10, "Settings digest": 15,
    "Kind": 12, "Sheet": 14, "Key": 13, "Column": 18, "Value": 18, "Note": 70,
    # the Merge sheet: dates and times, file names and the run each file comes from
    "Merged at": 17, "Applied": 17, "Modified": 17, "Label": 16, "File": 26,
    "Last modified by": 18, "Base run": 46, "Name": 26, "Base value": 18, "Value kept": 18,
    "Decision": 14,
}
_WRAP = {"Portrait", "Why", "Top needs", "Differentiators", "Sales posture",
         "Suggested resolution"}
WEEK_WIDTH = 3.3
HEADER_HEIGHT = 30  # points: room for a header on two lines
CHECK_WIDTH = 14
PLAN_LETTERS = {"Marketing": "M", "Sales": "S", "Joint": "J"}
PRIORITY_ORDER = ("P1", "P2", "P3", "Exclude")


def _width(header: str) -> float:
    return _WIDTHS.get(header, min(max(len(str(header)) + 2, 8), 40))


def _colour_style(key: str, bold: bool = False, horizontal: str | None = None,
                  border: Border | None = None) -> CellStyle:
    """The fill and font colour of ``COLOURS[key]``, bold and aligned as asked."""
    fill, font = COLOURS[key]
    return CellStyle(font=Font(bold=bold, color=font), fill=fill, border=border,
                     align=Alignment(horizontal=horizontal) if horizontal else None)


class _Look:
    """Number formats that depend on the result (currency)."""

    def __init__(self, result: EngineResult):
        self.money = money_format(result.settings.currency)
        self.by_header = {
            "Accounts": INTEGER, "Customers": INTEGER, "Prospects": INTEGER,
            "Revenue 12m": self.money, "Potential": self.money, "Attractiveness": "0",
            "Rank": INTEGER, "Score": SCORE, "Start": DATE, "End": DATE,
            "Run at": DATETIME, "Moved segment": INTEGER,
            "Changed priority": INTEGER, "Overrides": INTEGER, "Segments": INTEGER,
            "Merged at": DATETIME, "Applied": DATETIME,
        }

    def column_format(self, header: str, editable: bool, top: bool = False) -> CellStyle | None:
        """The style of a table column; ``top`` aligns its cells to the top."""
        align = _WRAP_TOP if header in _WRAP else None
        if top:
            align = replace(align or Alignment(), vertical="top")
        style = CellStyle(num_format=self.by_header.get(header), align=align,
                          fill=INPUT_FILL if editable else None)
        return None if style == CellStyle() else style


class _Sheet:
    """A sheet being laid out; :meth:`build` freezes it into a :class:`SheetSpec`."""

    def __init__(self, name: str, tab_color: str | None = None, gridlines: bool = True):
        self.name, self.tab_color, self.gridlines = name, tab_color, gridlines
        self.cells, self.tables, self.columns, self.merges = [], [], [], []
        self.cond_formats, self.validations, self.charts = [], [], []
        self.row_heights: dict = {}
        self.freeze = None
        self.page = None

    def build(self) -> SheetSpec:
        return SheetSpec(self.name, cells=self.cells, tables=self.tables, columns=self.columns,
                         merges=self.merges, row_heights=self.row_heights,
                         cond_formats=self.cond_formats, validations=self.validations,
                         charts=self.charts, freeze=self.freeze, page=self.page,
                         tab_color=self.tab_color, gridlines=self.gridlines)


# --------------------------------------------------------------------------- helpers
def _run_at(result: EngineResult) -> dt.datetime | None:
    hist = result.history
    if hist is None or len(hist) == 0 or "Run at" not in hist.columns:
        return None
    value = hist["Run at"].iloc[-1]
    if _blank(value):
        return None
    try:
        return pd.Timestamp(value).to_pydatetime()
    except (TypeError, ValueError):
        return None


def _recomputed(result: EngineResult) -> str:
    when = _run_at(result)
    return f", recomputed {when:%Y-%m-%d %H:%M}" if when else ""


def _title(spec: _Sheet, title: str, hint: str) -> None:
    spec.cells.append(Cells(0, 0, [[title]], FORMATS["title"]))
    spec.cells.append(Cells(1, 0, [[hint]], FORMATS["hint"]))
    spec.row_heights[0] = 24


def _frame(df: pd.DataFrame | None, columns: list[str]) -> pd.DataFrame:
    """``df`` with the contract columns first (missing ones blank), extra columns kept."""
    if df is None:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
    missing = [c for c in columns if c not in df.columns]
    if missing:
        df = df.assign(**{c: None for c in missing})
    extra = [c for c in df.columns if c not in columns]
    return df[list(columns) + extra]


def _table(spec: _Sheet, look: _Look, name: str, row: int, col: int, df: pd.DataFrame,
           editable=(), widths: bool = True, top: bool = False,
           styles: dict | None = None) -> Table:
    """A contract table with formats, header marks, widths and the hidden check column.

    ``top`` aligns every cell to the top (for tables whose rows get taller);
    ``styles`` maps a header to its (column style, header style), replacing
    the ones the header would get.
    """
    editable = set(editable)
    styles = styles or {}
    column_formats, header_formats = {}, {}
    for h in df.columns:
        fmt = look.column_format(h, h in editable, top)
        head = FORMATS["header_editable"] if h in editable else FORMATS["header"]
        fmt, head = styles.get(h, (fmt, head))
        if fmt is not None:
            column_formats[h] = fmt
        header_formats[h] = head
    table = Table(name, row, col, df, style=TABLE_STYLE, column_formats=column_formats,
                  header_formats=header_formats)
    spec.tables.append(table)
    spec.row_heights.setdefault(row, HEADER_HEIGHT)  # two lines of header text
    if widths:
        for i, h in enumerate(df.columns):
            c = col + i
            if h in (C.CHECK_COLUMN, C.CELLS_CHECK_COLUMN):
                spec.columns.append(Column(c, c, CHECK_WIDTH, hidden=True))
            else:
                spec.columns.append(Column(c, c, _width(h)))
    return table


def _conflict_marks(spec: _Sheet, result: EngineResult, table: Table, key: str) -> None:
    """Highlight, where they live, the cells of ``table`` in conflict after a merge and not
    decided yet (rows of ``result.merge``): one rule per cell, painting it while it holds
    the value the merge kept (typing another value, or deciding on the Merge sheet and
    recomputing, takes the highlight away). Only text and blank cells can be told this
    way; the editable columns of engine tables hold text."""
    merge = getattr(result, "merge", None)
    if merge is None or not len(merge) or not {"Sheet", "Key", "Column", "Kind"} <= set(
            merge.columns):
        return
    from maillon.engine.meaning import canonical

    sheet = spec.name
    open_ = merge[(merge["Sheet"].astype(str) == sheet) & (merge["Kind"] == "Conflict")]
    for col in ("Decision", "Applied"):
        if col in open_.columns:
            open_ = open_[open_[col].map(_blank)]
    if not len(open_):
        return
    df = table.data
    rows = {}
    for i, k in enumerate(df[key].tolist()):
        rows.setdefault(canonical(k, "id"), i)
    fill = COLOURS["conflict"][0]
    done = set()
    for k, column in zip(open_["Key"], open_["Column"]):
        i, column = rows.get(canonical(k, "id")), str(column)
        if i is None or column not in df.columns or (i, column) in done:
            continue
        done.add((i, column))
        value = df[column].iat[i]
        if not (_blank(value) or isinstance(value, str)):
            continue
        r, c = table.row + 1 + i, table.column_index(column)
        spec.cond_formats.append(CellEquals(r, c, r, c, "" if _blank(value) else value,
                                            fill=fill))


def _data_range(table: Table, header: str) -> tuple[int, int, int, int]:
    c = table.column_index(header)
    return table.row + 1, c, table.last_row, c


def _cell_rule(rng, value: str, key: str) -> CellEquals:
    """Cells equal to ``value`` painted in the colours of ``COLOURS[key]``."""
    fill, font = COLOURS[key]
    return CellEquals(*rng, value, fill=fill, font_color=font)


def _heat(first_row, first_col, last_row, last_col) -> ColorScale:
    return ColorScale(first_row, first_col, last_row, last_col, min_color="#F8F9FB",
                      mid_color="#9DC3E6", max_color="#2F5597")


def _bar(rng, color: str) -> DataBar:
    return DataBar(*rng, color=color, minimum=0, maximum=100, solid=True)


def _list_validation(rng, values, title: str, message: str) -> ListValidation:
    return ListValidation(
        *rng, values=tuple(values), input_title=title[:32], input_message=message[:255],
        error_title=title[:32],
        error_message=("Choose one of: " + ", ".join(values) + ", or leave blank.")[:255])


def _grid(spec: _Sheet, row: int, col: int, caption: str, grid: pd.DataFrame,
          num_format: str, corner: str) -> tuple[int, int, int, int]:
    """A labelled 4x3 ABC grid with a heat map; returns the value range."""
    grid = grid.reindex(index=list(C.REVENUE_CLASSES), columns=list(C.POTENTIAL_CLASSES))
    spec.cells.append(Cells(row, col, [[caption]], FORMATS["caption"]))
    spec.cells.append(Cells(row + 1, col, [[corner] + [f"Potential {p}" for p in
                                                        C.POTENTIAL_CLASSES]],
                            FORMATS["grid_header"]))
    labels = [[f"Revenue {r}" if r != "P" else "Prospects (P)"] for r in C.REVENUE_CLASSES]
    spec.cells.append(Cells(row + 2, col, labels, FORMATS["grid_label"]))
    values = grid.astype(float).fillna(0.0).to_numpy().tolist()
    spec.cells.append(Cells(row + 2, col + 1, values, CellStyle(num_format=num_format,
                                                                border=_BORDER)))
    rng = (row + 2, col + 1, row + 2 + len(C.REVENUE_CLASSES) - 1,
           col + len(C.POTENTIAL_CLASSES))
    spec.cond_formats.append(_heat(*rng))
    return rng


# --------------------------------------------------------------------------- sheets
def _segments(result: EngineResult, look: _Look) -> SheetSpec:
    spec = _Sheet(C.SHEET_SEGMENTS, tab_color=ENGINE_TAB_COLOR)
    df = _frame(result.segments, C.SEGMENT_COLUMNS)
    _title(spec, f"Segments — {len(df):,} marketing segments{_recomputed(result)}",
           f"Yellow columns ({', '.join(C.SEGMENT_EDITABLE)}) are yours: they follow their "
           "Segment ID from one recompute to the next. Everything else is recomputed.")
    table = _table(spec, look, C.TBL_SEGMENTS, TABLE_ROW, 0, df,
                   [*C.SEGMENT_EDITABLE, *user_columns(df, C.SEGMENT_COLUMNS)], top=True)
    _conflict_marks(spec, result, table, "Segment ID")
    # a few segments (at most 12): give each row the height its portrait needs
    wrapped = [h for h in df.columns if h in _WRAP]
    for i, values in enumerate(df[wrapped].itertuples(index=False)):
        lines = max([math.ceil(len(str(v)) / (_width(h) * 1.05)) for h, v in zip(wrapped, values)
                     if not _blank(v)] or [1])
        if lines > 1:
            spec.row_heights[table.row + 1 + i] = 15 * min(lines, 8)
    spec.cond_formats.append(_bar(_data_range(table, "Attractiveness"), "#9DC3E6"))
    spec.freeze = (TABLE_ROW + 1, 2)
    spec.page = Page(landscape=True, repeat_rows=(TABLE_ROW, TABLE_ROW),
                     header=f"&L{_escape_header(C.SHEET_SEGMENTS)}&R&D")
    return spec.build()


def _abc(result: EngineResult, look: _Look) -> SheetSpec:
    spec = _Sheet(C.SHEET_ABC, tab_color=ENGINE_TAB_COLOR)
    total = int(np.nansum(result.abc_counts.to_numpy(dtype=float)))
    s = result.settings
    _title(spec, f"ABC matrix — {total:,} accounts in 12 cells{_recomputed(result)}",
           f"Rows: revenue class (A = customers making the first {s.revenue_a_share:.0%} of "
           f"revenue, B up to {s.revenue_b_share:.0%}, C the rest, P = prospects). Columns: "
           "potential class, same rule on Potential over all accounts.")
    corner = "Revenue \\ Potential"
    _grid(spec, 3, 0, "Accounts", result.abc_counts, INTEGER, corner)
    _grid(spec, 10, 0, "Revenue 12m", result.abc_revenue, look.money, corner)
    _grid(spec, 17, 0, "Potential", result.abc_potential, look.money, corner)
    legend = [
        ["How to read the grids"],
        ["Each grid crosses the revenue class (rows) with the potential class (columns)."],
        ["Colour: white = little, dark blue = most, within each grid (a heat map)."],
        ["Top-left (AA) = big customers with big potential: protect and grow."],
        ["Left column, lower rows (CA, PA) = potential not yet earned: develop or hunt."],
        ["Bottom-right (CC, PC) = small today and tomorrow: serve at low cost."],
    ]
    spec.cells.append(Cells(4, 5, legend[:1], FORMATS["caption"]))
    spec.cells.append(Cells(5, 5, legend[1:], FORMATS["legend"]))
    spec.cells.append(Cells(24, 0, [["Cells of the matrix, with the sales posture of each"]],
                            FORMATS["caption"]))
    df = _frame(result.abc, C.ABC_COLUMNS)
    _table(spec, look, C.TBL_ABC, 25, 0, df, widths=False)
    widths = [19, 14, 14, 14, 16, 16, 62]
    for i, w in enumerate(widths):
        spec.columns.append(Column(i, i, w))
    for i, h in enumerate(df.columns[len(widths):], start=len(widths)):
        spec.columns.append(Column(i, i, _width(h)))
    # column F also holds the legend text, which overflows to the right
    spec.page = Page(landscape=True, header=f"&L{_escape_header(C.SHEET_ABC)}&R&D")
    return spec.build()


def _reconciliation(result: EngineResult, look: _Look) -> SheetSpec:
    spec = _Sheet(C.SHEET_RECONCILIATION, tab_color=ENGINE_TAB_COLOR)
    conflicts = _frame(result.conflicts, C.CONFLICT_COLUMNS)
    _title(spec, f"Reconciliation — marketing segments × sales ABC cells, "
                 f"{len(conflicts):,} conflicts{_recomputed(result)}",
           "The agreement figure says how far the two views agree; the conflict list "
           "names the accounts where they disagree; the heat maps on the right cross "
           "segments with ABC cells.")
    agreement = result.agreement or {}
    value = agreement.get("value")
    spec.cells.append(Cells(3, 0, [[agreement.get("name", "Agreement")]], FORMATS["caption"]))
    spec.cells.append(Cells(4, 0, [[float(value) if value is not None else None]],
                            FORMATS["big_percent"]))
    spec.row_heights[4] = 42
    spec.row_heights[5] = 42
    spec.merges.append(Merge(4, 1, 5, 5, str(agreement.get("explanation", "")),
                             FORMATS["explanation"]))
    spec.cells.append(Cells(7, 0, [["Conflicts between the two views"]], FORMATS["caption"]))
    _table(spec, look, C.TBL_CONFLICTS, 8, 0, conflicts)

    # cross-tables to the right, stacked: they do not move when conflicts grow
    col = len(conflicts.columns) + 1
    row = 7  # under the agreement block, level with the conflict list
    cells = list(C.ABC_CELLS)
    for caption, cross, num in (("Accounts by segment and ABC cell", result.cross_accounts,
                                 INTEGER),
                                ("Revenue 12m by segment and ABC cell", result.cross_revenue,
                                 look.money),
                                ("Potential by segment and ABC cell", result.cross_potential,
                                 look.money)):
        cross = cross.reindex(columns=cells).fillna(0)
        spec.cells.append(Cells(row, col, [[caption]], FORMATS["caption"]))
        spec.cells.append(Cells(row + 1, col, [["Segment ID"] + cells], FORMATS["grid_header"]))
        ids = [[str(i)] for i in cross.index]
        if ids:
            spec.cells.append(Cells(row + 2, col, ids, FORMATS["grid_label"]))
            spec.cells.append(Cells(row + 2, col + 1, cross.astype(float).to_numpy().tolist(),
                                    CellStyle(num_format=num, border=_BORDER)))
            spec.cond_formats.append(_heat(row + 2, col + 1, row + 1 + len(ids),
                                           col + len(cells)))
        row += len(ids) + 4
    spec.columns.append(Column(col - 1, col - 1, 3))
    spec.columns.append(Column(col, col, 11))
    spec.columns.append(Column(col + 1, col + len(cells), 12))
    spec.page = Page(landscape=True, header=f"&L{_escape_header(C.SHEET_RECONCILIATION)}&R&D")
    return spec.build()


def _targets(result: EngineResult, look: _Look) -> SheetSpec:
    spec = _Sheet(C.SHEET_TARGETS, tab_color=ENGINE_TAB_COLOR)
    df = _frame(result.targets, C.TARGET_COLUMNS)
    _title(spec, f"Target list — {len(df):,} accounts{_recomputed(result)}",
           "Yellow columns are yours: Priority override (P1, P2, P3, Exclude or blank) and "
           "Override reason are kept by Account ID. Rank follows Final priority, then Score.")
    spec.cells.append(Cells(2, 0, [["Priorities:"]], FORMATS["legend"]))
    for i, p in enumerate(PRIORITY_ORDER):
        spec.cells.append(Cells(2, 1 + i, [[p]], _colour_style(p, bold=True, horizontal="center")))
    table = _table(spec, look, C.TBL_TARGETS, TABLE_ROW, 0, df,
                   [*C.TARGET_EDITABLE, *user_columns(df, C.TARGET_COLUMNS)])
    _conflict_marks(spec, result, table, "Account ID")
    for header in ("Computed priority", "Final priority"):
        rng = _data_range(table, header)
        for p in PRIORITY_ORDER:
            spec.cond_formats.append(_cell_rule(rng, p, p))
    spec.cond_formats.append(_bar(_data_range(table, "Score"), "#5B9BD5"))
    spec.validations.append(_list_validation(
        _data_range(table, "Priority override"), list(C.OVERRIDES), "Priority override",
        "P1, P2, P3 or Exclude replaces the computed priority; leave blank to keep it. "
        "Please give an Override reason."))
    spec.freeze = (TABLE_ROW + 1, 3)
    spec.page = Page(landscape=True, repeat_rows=(TABLE_ROW, TABLE_ROW),
                     header=f"&L{_escape_header(C.SHEET_TARGETS)}&R&D", footer="&RPage &P of &N")
    return spec.build()


def _week_header(h) -> str:
    if isinstance(h, (dt.date, pd.Timestamp)):
        return pd.Timestamp(h).strftime("%Y-%m-%d")
    return str(h)


def _plan(result: EngineResult, look: _Look) -> SheetSpec:
    spec = _Sheet(C.SHEET_PLAN, tab_color=ENGINE_TAB_COLOR)
    df = _frame(result.plan, C.PLAN_FIXED_COLUMNS)
    df = df.rename(columns={h: _week_header(h) for h in df.columns if not isinstance(h, str)})
    weeks = [h for h in df.columns if h not in C.PLAN_FIXED_COLUMNS and is_week_header(h)]
    # keep the hidden check column last, after the weeks
    ordered = list(C.PLAN_FIXED_COLUMNS) + weeks
    ordered += [h for h in df.columns if h not in ordered]
    df = df[ordered]
    start = result.plan_weeks[0] if result.plan_weeks else result.settings.plan_start
    n_weeks = len(weeks)
    span = f"{n_weeks} weeks from {pd.Timestamp(start):%Y-%m-%d}" if start is not None \
        else f"{n_weeks} weeks"
    title = f"Joint action plan — {len(df):,} actions over {span}"
    _title(spec, title + _recomputed(result),
           "One row per action, one column per week (Monday date). Status (yellow) is yours; "
           "rows you add below the table are kept. Prints one page wide as the wall plan.")
    # legend over Marketing owner, Sales owner and Accounts: columns wide enough
    spec.cells.append(Cells(2, 4, [["Week cells:"]],
                            replace(FORMATS["legend"], align=Alignment(horizontal="right"))))
    for i, (function, letter) in enumerate(PLAN_LETTERS.items()):
        spec.cells.append(Cells(2, 5 + i, [[f"{letter} = {function}"]],
                                _colour_style(function, bold=True, horizontal="center")))
    week_fmt = CellStyle(font=Font(bold=True, size=9), align=Alignment(horizontal="center"))
    header = FORMATS["header"]
    week_header = replace(header, font=replace(header.font, size=9),
                          align=replace(header.align, rotation=90, horizontal="center"))
    table = _table(spec, look, C.TBL_PLAN, TABLE_ROW, 0, df,
                   [*C.PLAN_EDITABLE, *user_columns(df, [*C.PLAN_FIXED_COLUMNS, *weeks])],
                   widths=False, styles={h: (week_fmt, week_header) for h in weeks})
    _conflict_marks(spec, result, table, "Action ID")
    for i, h in enumerate(df.columns):
        if h == C.CHECK_COLUMN:
            spec.columns.append(Column(i, i, CHECK_WIDTH, hidden=True))
        elif h in weeks:
            continue
        else:
            spec.columns.append(Column(i, i, _width(h)))
    if weeks:
        first, last = table.column_index(weeks[0]), table.column_index(weeks[-1])
        spec.columns.append(Column(first, last, WEEK_WIDTH, week_fmt))
        spec.row_heights[TABLE_ROW] = 66
        rng = (table.row + 1, first, table.last_row, last)
        for function, letter in PLAN_LETTERS.items():
            spec.cond_formats.append(_cell_rule(rng, letter, function))
    spec.validations.append(_list_validation(
        _data_range(table, "Status"), list(C.PLAN_STATUSES), "Status",
        "Where the action stands: " + ", ".join(C.PLAN_STATUSES) + "."))
    last_row = table.last_row
    extra = result.plan_extra_rows
    if extra is not None and len(extra):
        first_extra = table.last_row + 2  # one blank row under the table
        spec.cells.append(Cells(first_extra, table.col, extra.astype(object).values.tolist()))
        last_row = first_extra + len(extra) - 1
    spec.freeze = (TABLE_ROW + 1, 4)
    spec.page = Page(landscape=True, fit_width=1, fit_height=0,
                     repeat_rows=(TABLE_ROW, TABLE_ROW), paper=9,  # A4: any office printer
                     header=f'&C&"-,Bold"{_escape_header(title)}&R&D',
                     footer="&L" + _escape_header(C.SHEET_PLAN) + "&RPage &P of &N",
                     print_area=(0, 0, last_row, table.last_col - (
                         1 if C.CHECK_COLUMN in df.columns else 0)))
    return spec.build()


def _escape_header(text: str) -> str:
    return str(text).replace("&", "&&")


def _pixels(width: float) -> int:
    """Excel column width (characters) to pixels, as XlsxWriter computes it."""
    return int(width * 7 + 5) if width >= 1 else int(width * 12 + 0.5)


def _dashboard(result: EngineResult, look: _Look) -> SheetSpec:
    name = C.SHEET_DASHBOARD
    spec = _Sheet(name, tab_color=ENGINE_TAB_COLOR, gridlines=False)
    _title(spec, f"Dashboard{_recomputed(result)}",
           "Key figures and charts of this recompute. The small tables feed the charts; "
           "they are rewritten at every recompute.")
    row = 3
    spec.cells.append(Cells(row, 0, [["Key figures"]], FORMATS["caption"]))
    for key, value in (result.key_figures or {}).items():
        row += 1
        if key in ("Revenue 12m", "Potential"):
            num = look.money
        elif key == "Agreement" or "share" in key.lower():
            num = PERCENT
        else:
            num = INTEGER
        spec.cells.append(Cells(row, 0, [[str(key)]], FORMATS["figure_label"]))
        spec.cells.append(Cells(row, 1, [[value]], CellStyle(num_format=num, border=_BORDER,
                                                             font=Font(bold=True))))
    figures_end = row

    # chart sources
    seg = _frame(result.segments, C.SEGMENT_COLUMNS)
    k = len(seg)
    seg_col = 3
    spec.cells.append(Cells(3, seg_col, [["By segment"]], FORMATS["caption"]))
    spec.cells.append(Cells(4, seg_col, [["Segment ID", "Segment name", "Accounts", "Potential"]],
                            FORMATS["header"]))
    labels = [[str(i) if not _blank(i) else "", _label(i, n)] for i, n in
              zip(seg["Segment ID"], seg["Segment name"])]
    if k:
        spec.cells.append(Cells(5, seg_col, labels, CellStyle(border=_BORDER)))
        spec.cells.append(Cells(5, seg_col + 2, [[v] for v in seg["Accounts"].tolist()],
                                CellStyle(num_format=INTEGER, border=_BORDER)))
        spec.cells.append(Cells(5, seg_col + 3, [[v] for v in seg["Potential"].tolist()],
                                CellStyle(num_format=look.money, border=_BORDER)))
    seg_last = 5 + max(k, 1) - 1

    pri_col = 8
    final = result.targets["Final priority"] if "Final priority" in result.targets else \
        pd.Series(dtype=object)
    counts = final.value_counts()
    spec.cells.append(Cells(3, pri_col, [["Priorities"]], FORMATS["caption"]))
    spec.cells.append(Cells(4, pri_col, [["Final priority", "Accounts"]], FORMATS["header"]))
    for i, p in enumerate(PRIORITY_ORDER):  # four fixed labels, each in its colour
        spec.cells.append(Cells(5 + i, pri_col, [[p]], _colour_style(p, bold=True,
                                                                     border=_BORDER)))
    spec.cells.append(Cells(5, pri_col + 1, [[int(counts.get(p, 0))] for p in PRIORITY_ORDER],
                            CellStyle(num_format=INTEGER, border=_BORDER)))

    n_accounts = len(result.targets)
    agree_value = float((result.agreement or {}).get("value") or 0.0)
    agree = int(round(agree_value * n_accounts))
    spec.cells.append(Cells(10, pri_col, [["Agreement"]], FORMATS["caption"]))
    spec.cells.append(Cells(11, pri_col, [["Both views", "Accounts"]], FORMATS["header"]))
    spec.cells.append(Cells(12, pri_col, [["Same tier"], ["Different tiers"]],
                            FORMATS["grid_label"]))
    spec.cells.append(Cells(12, pri_col + 1, [[agree], [n_accounts - agree]],
                            CellStyle(num_format=INTEGER, border=_BORDER)))

    grid_col = 11
    _grid(spec, 3, grid_col, "ABC grid (accounts)", result.abc_counts, INTEGER,
          "Revenue \\ Potential")

    widths = {0: 22, 1: 16, 2: 3, 3: 11, 4: 24, 5: 10, 6: 15, 7: 3, 8: 15, 9: 10, 10: 3,
              11: 20, 12: 12, 13: 12, 14: 12}
    for c, w in widths.items():
        spec.columns.append(Column(c, c, w))

    # charts in a 2 x 2 grid under the blocks
    top = max(figures_end, seg_last, 17) + 3
    px = [_pixels(widths[c]) for c in sorted(widths)]

    def col_at(pixel: int) -> int:
        acc = 0
        for c, w in enumerate(px):
            if acc >= pixel:
                return c
            acc += w
        return len(px)

    right = col_at(500)
    seg_cats = Ref(name, 5, seg_col + 1, seg_last, seg_col + 1)
    blue = COLOURS["Marketing"][0]
    spec.charts += [
        Chart("column", "Accounts by segment",
              [Series("Accounts", seg_cats, Ref(name, 5, seg_col + 2, seg_last, seg_col + 2),
                      color=blue)], top, 0, legend=False, y_title="Accounts",
              data_labels=True),
        Chart("column", "Potential by segment",
              [Series("Potential", seg_cats, Ref(name, 5, seg_col + 3, seg_last, seg_col + 3),
                      color=COLOURS["Sales"][0])], top, right, legend=False,
              y_num_format=look.money),
        Chart("column", "Accounts by final priority",
              [Series("Accounts", Ref(name, 5, pri_col, 8, pri_col),
                      Ref(name, 5, pri_col + 1, 8, pri_col + 1),
                      point_colors=tuple(COLOURS[p][0] for p in PRIORITY_ORDER))],
              top + 16, 0, legend=False, data_labels=True),
        Chart("doughnut", f"Agreement between the two views: {agree_value:.0%}",
              [Series("Accounts", Ref(name, 12, pri_col, 13, pri_col),
                      Ref(name, 12, pri_col + 1, 13, pri_col + 1),
                      point_colors=(COLOURS["P3"][0], COLOURS["P1"][0]))],
              top + 16, right, data_labels=True),
    ]
    spec.page = Page(landscape=True, header=f"&L{_escape_header(name)}&R&D")
    return spec.build()


def _label(seg_id, name) -> str:
    if _blank(name):
        return "" if _blank(seg_id) else str(seg_id)
    return str(name)


def _history(result: EngineResult, look: _Look, kept_aside=(), check: str | None = "") -> SheetSpec:
    """History; ``kept_aside`` are more ``tblEdits`` rows (what a user typed on an engine
    sheet that could not stay where it was); ``check`` is this run's hidden ``Cells check``
    (on its row only; None: no such column, the layout of a Maillon before it)."""
    spec = _Sheet(C.SHEET_HISTORY, tab_color=ENGINE_TAB_COLOR)
    hist = _frame(result.history, C.HISTORY_COLUMNS)
    if check is not None:
        hist = hist.copy()
        hist[C.CELLS_CHECK_COLUMN] = [""] * (len(hist) - 1) + [check] if len(hist) else []
    edits = _frame(result.edits, C.EDIT_COLUMNS)
    if kept_aside:
        run_at = _run_at(result)
        more = pd.DataFrame([{**e, "Run at": run_at} for e in kept_aside],
                            columns=C.EDIT_COLUMNS)
        edits = more if len(edits) == 0 else pd.concat([edits, more], ignore_index=True)
    _title(spec, f"History — {len(hist):,} recomputes, {len(edits):,} edits kept aside"
                 f"{_recomputed(result)}",
           "Left: one row per recompute. Right: edits that could not stay in place — "
           "Orphan (its key is gone) or Overwritten (typed into a computed column).")
    spec.cells.append(Cells(2, 0, [["Recomputes"]], FORMATS["caption"]))
    _table(spec, look, C.TBL_HISTORY, TABLE_ROW, 0, hist)
    edits_col = len(hist.columns) + 1
    spec.columns.append(Column(edits_col - 1, edits_col - 1, 3))
    spec.cells.append(Cells(2, edits_col, [["Edits kept aside (orphaned or overwritten)"]],
                            FORMATS["caption"]))
    _table(spec, look, C.TBL_EDITS, TABLE_ROW, edits_col, edits)
    spec.freeze = (TABLE_ROW + 1, 0)
    spec.page = Page(landscape=True, repeat_rows=(TABLE_ROW, TABLE_ROW),
                     header=f"&L{_escape_header(C.SHEET_HISTORY)}&R&D")
    return spec.build()


def merge_decisions(merge: pd.DataFrame) -> list[str]:
    """What the Decision drop-down offers: Base, each file's label, Keep row, Delete row."""
    fixed = set(C.MERGE_COLUMNS) | set(C.MERGE_TAIL_COLUMNS)
    labels = [str(c) for c in merge.columns if c not in fixed]
    return [C.DECISION_BASE, *labels, C.DECISION_KEEP_ROW, C.DECISION_DELETE_ROW]


def _merge(result: EngineResult, look: _Look) -> SheetSpec:
    spec = _Sheet(C.SHEET_MERGE, tab_color=ENGINE_TAB_COLOR)
    merge = result.merge
    files = _frame(result.merge_files, C.MERGE_FILE_COLUMNS)
    conflicts = int(merge["Kind"].isin(("Conflict", "Deleted vs edited")).sum()) \
        if "Kind" in merge.columns else 0
    open_ = int((merge["Kind"].isin(("Conflict", "Deleted vs edited", "Missing"))
                 & merge["Decision"].map(_blank) & merge["Applied"].map(_blank)).sum()) \
        if {"Kind", "Decision", "Applied"} <= set(merge.columns) else 0
    _title(spec, f"Merge — {len(merge):,} changes and conflicts, {conflicts:,} conflicts, "
                 f"{open_:,} to decide",
           "One row per change a copy brought and per conflict. A conflicting cell keeps its "
           "Base value, highlighted in orange, until you choose, in Decision, Base or the "
           "file whose value wins "
           "(Keep row / Delete row for a missing row); the next merge or recompute applies it.")
    spec.cells.append(Cells(2, 0, [["Files merged"]], FORMATS["caption"]))
    # the two tables are stacked in the same columns: each column gets the width the wider
    # of its two headers needs, so that neither table prints cut (Base run under Base value)
    _table(spec, look, C.TBL_MERGE_FILES, TABLE_ROW, 0, files, widths=False)
    row = TABLE_ROW + len(files) + 3
    spec.cells.append(Cells(row - 1, 0, [["Changes and conflicts"]], FORMATS["caption"]))
    table = _table(spec, look, C.TBL_MERGE, row, 0, merge, ["Decision"], widths=False)
    labels = set(merge_decisions(merge)[1:-2])  # each file's values: as wide as Value kept

    def width(header):
        return max(_width(header), _WIDTHS["Value kept"]) if header in labels else _width(header)

    stacked = (list(files.columns), list(merge.columns))
    for c in range(max(len(files.columns), len(merge.columns))):
        spec.columns.append(Column(c, c, max(width(cols[c]) for cols in stacked
                                             if c < len(cols))))
    if len(merge):
        rng = _data_range(table, "Kind")
        spec.cond_formats.append(_cell_rule(rng, "Conflict", "P1"))
        spec.cond_formats.append(_cell_rule(rng, "Deleted vs edited", "P1"))
        spec.cond_formats.append(_cell_rule(rng, "Missing", "P2"))
        choices = merge_decisions(merge)
        if len(",".join(choices)) <= 255:  # Excel's limit for a list typed in the rule
            spec.validations.append(_list_validation(
                _data_range(table, "Decision"), choices, "Decision",
                "Base keeps the value before the copies; a file's label takes its value; "
                "Keep row or Delete row for a missing row."))
    spec.freeze = (row + 1, 0)
    spec.page = Page(landscape=True, repeat_rows=(row, row),
                     header=f"&L{_escape_header(C.SHEET_MERGE)}&R&D")
    return spec.build()


def merge_sheet(merge: pd.DataFrame, files: pd.DataFrame | None,
                currency: str = "EUR") -> SheetSpec:
    """The Merge sheet alone (a merge that does not recompute writes only this sheet)."""
    from types import SimpleNamespace

    from maillon.engine.model import Settings

    result = SimpleNamespace(merge=merge, merge_files=files, settings=Settings(currency=currency))
    return _merge(result, _Look(result))


_BUILDERS = {
    C.SHEET_SEGMENTS: _segments,
    C.SHEET_ABC: _abc,
    C.SHEET_RECONCILIATION: _reconciliation,
    C.SHEET_TARGETS: _targets,
    C.SHEET_PLAN: _plan,
    C.SHEET_DASHBOARD: _dashboard,
    C.SHEET_HISTORY: _history,
}



def _with_merge(result, look, specs: list) -> list:
    """The Merge sheet after the others, once a workbook has been merged."""
    if getattr(result, "merge", None) is not None:
        specs.append(_merge(result, look))
    return specs


def layout(result: EngineResult) -> list[SheetSpec]:
    """The seven engine-owned sheets of ``result``, in contract order.

    Parameters
    ----------
    result : :class:`~maillon.engine.model.EngineResult`

    Returns
    -------
    list of :class:`~maillon.addin.render.specs.SheetSpec`, one per name in
    ``contract.ENGINE_SHEETS``, then the Merge sheet when ``result.merge`` is
    set (a workbook that ``maillon merge`` wrote).
    """
    if not isinstance(result, EngineResult):
        raise TypeError(f"result must be an EngineResult; got {type(result).__name__}")
    look = _Look(result)
    specs = {name: _BUILDERS[name](result, look) for name in C.ENGINE_SHEETS
             if name != C.SHEET_HISTORY}
    if result.loose is None or len(result.loose) == 0:
        specs[C.SHEET_HISTORY] = _history(result, look)
        out = _with_merge(result, look, [specs[name] for name in C.ENGINE_SHEETS])
        history = _history(result, look, check=_cells_check(out))
        return [history if s.name == C.SHEET_HISTORY else s for s in out]
    placed, aside = {}, []
    for name, spec in specs.items():
        placed[name] = _place(result.loose, spec, _previous_area(result, look, spec))
        aside += placed[name][2]
    # History last: what is kept aside makes tblEdits longer, which can reach
    # more of what a user typed under it (each pass only adds rows)
    on_history: list = []
    while True:
        history = _history(result, look, aside + on_history)
        placed[C.SHEET_HISTORY] = _place(result.loose, history,
                                         _previous_area(result, look, history))
        if len(placed[C.SHEET_HISTORY][2]) == len(on_history):
            break
        on_history = placed[C.SHEET_HISTORY][2]
    specs[C.SHEET_HISTORY] = history
    out = _with_merge(result, look, [_with_users(result.loose, specs[name], *placed[name][:2])
                                     for name in C.ENGINE_SHEETS])
    history = _with_users(result.loose, _history(result, look, aside + on_history,
                                                 check=_cells_check(out)),
                          *placed[C.SHEET_HISTORY][:2])
    return [history if s.name == C.SHEET_HISTORY else s for s in out]


def kept_aside_note(result: EngineResult, specs: list) -> str | None:
    """One line saying what this layout moved to History's ``tblEdits`` from the engine
    sheets (a note in a cell the engine now writes, a value typed over the engine's, a
    comment whose row is gone), or None when nothing was.

    >>> from tests.engine_result_factory import make_result
    >>> result = make_result()
    >>> kept_aside_note(result, layout(result)) is None
    True
    """
    history = next((s for s in specs if s.name == C.SHEET_HISTORY), None)
    table = next((t for t in history.tables if t.name == C.TBL_EDITS), None) if history else None
    if table is None:
        return None
    before = 0 if result.edits is None else len(result.edits)
    kinds = table.data["Kind"].iloc[before:].value_counts()
    if not len(kinds):
        return None
    what = ", ".join(f"{n} {kind}" for kind, n in kinds.sort_index().items())
    return (f"kept in History (edits kept aside): {what} — what you typed on engine sheets "
            "where this recompute writes, or a comment whose row is gone")


def _cells_check(specs: list) -> str:
    """The ``Cells check`` of these sheets: a digest of each cell the engine writes outside
    their tables, box by box of each sheet's engine-area name."""
    sheets = {}
    for spec in specs:
        boxes = engine_boxes(spec)
        if not boxes:
            continue
        values = {(r + 1, c + 1): v for (r, c), v in engine_values(spec).items()}
        sheets[spec.name] = [((r1 + 1, c1 + 1, r2 + 1, c2 + 1), values)
                             for r1, c1, r2, c2 in boxes]
    return cells_check(sheets)


def _previous_segments(result: EngineResult) -> int | None:
    """How many segments the previous run had (its tblHistory row; 0 when there was none:
    the engine sheets are the template's, rendered with no segment), or None."""
    hist = result.history
    if hist is None or "Segments" not in hist.columns:
        return None
    if len(hist) < 2:
        return 0
    try:
        n = int(float(hist["Segments"].iloc[-2]))
    except (TypeError, ValueError):
        return None
    return n if 0 <= n <= 100 else None


def _with_segments(result: EngineResult, n: int) -> EngineResult:
    """``result`` with ``n`` segments (rows cut or padded): the shape of a previous run's
    segment blocks, for where its layout wrote (values do not matter)."""
    seg = _frame(result.segments, C.SEGMENT_COLUMNS)
    ids = [str(i) for i in seg["Segment ID"]][:n]
    ids += [f"S{i:02d}" for i in range(len(ids) + 1, n + 1)]
    seg = seg.head(n).reindex(range(n))
    seg["Segment ID"] = ids
    cross = {}
    for k in ("cross_accounts", "cross_revenue", "cross_potential"):
        frame = getattr(result, k)
        frame = frame.set_axis([str(i) for i in frame.index], axis=0)
        cross[k] = frame.reindex(ids).fillna(0)
    return replace(result, segments=seg, **cross)


def _previous_area(result: EngineResult, look: _Look, spec: SheetSpec) -> list | None:
    """Where the previous run wrote on this sheet (1-based), when an older Maillon wrote it
    without recording its cells (``unmarked`` cells were read): the layout of that run,
    recomputed from the segment count its tblHistory row gives and the layout it had
    (History before its ``Cells check`` column). None when no such cell was read."""
    loose = result.loose
    if loose is None or not ((loose["Sheet"] == spec.name) & (loose["What"] == "unmarked")).any():
        return None
    before = [spec]
    if spec.name == C.SHEET_HISTORY:  # before its Cells check column, or with it
        before.append(_history(result, look, check=None))
    elif spec.name in (C.SHEET_DASHBOARD, C.SHEET_RECONCILIATION):
        n = _previous_segments(result)
        if n is not None and n != len(_frame(result.segments, C.SEGMENT_COLUMNS)):
            before = [_BUILDERS[spec.name](_with_segments(result, n), look)]
    return [(r1 + 1, c1 + 1, r2 + 1, c2 + 1) for b in before
            for r1, c1, r2, c2 in b.engine_area()]


def _place(loose: pd.DataFrame, spec: SheetSpec, previous=None) -> tuple[list, list, list]:
    """:func:`maillon.engine.loose.place` for one sheet of the new layout."""
    engine = [(r1 + 1, c1 + 1, r2 + 1, c2 + 1) for r1, c1, r2, c2 in spec.engine_area()]
    tables = {}
    for t in spec.tables:
        if t.name in KEYED_TABLES and KEYED_TABLES[t.name][1] in t.data.columns:
            tables[t.name] = (t.row + 1, t.col + 1, [str(h) for h in t.data.columns],
                              t.data[KEYED_TABLES[t.name][1]].tolist())
    written = None
    if ((loose["Sheet"] == spec.name) & (loose["What"] == "overwritten")).any():
        written = {(r + 1, c + 1): v for (r, c), v in engine_values(spec).items()}
    return place(loose, spec.name, engine, tables, previous, written)


def _user_value(item: dict):
    if item.get("Formula"):
        return Formula(item["Formula"])
    return None if _blank(item["Value"]) else item["Value"]


def _with_users(loose: pd.DataFrame, spec: SheetSpec, cells: list, comments: list) -> SheetSpec:
    """``spec`` with the cells a user typed and the comments put back."""
    if not cells and not comments and not (loose["Sheet"] == spec.name).any():
        return spec
    date = CellStyle(num_format=DATE)
    blocks = [Cells(int(c["Row"]) - 1, int(c["Col"]) - 1, [[_user_value(c)]],
                    date if isinstance(c["Value"], (dt.date, pd.Timestamp)) else None,
                    user=True) for c in cells]
    by_cell: dict = {}  # Excel holds one note per cell: two that meet are joined
    stayed = set()
    for c in comments:
        at = (int(c["Row"]) - 1, int(c["Col"]) - 1)
        origin = (c["From"][0] - 1, c["From"][1] - 1)
        if origin == at:
            stayed.add(at)
        if at in by_cell:
            first = by_cell[at]
            by_cell[at] = replace(first, text=first.text + "\n\n" + str(c["Value"]),
                                  origin=first.origin if first.origin == at else origin)
        else:
            by_cell[at] = Note(*at, str(c["Value"]), str(c.get("Author") or ""), origin=origin)
    notes = [by_cell[at] for at in sorted(by_cell)]
    # every comment read on the sheet and not on its cell any more (moved or kept aside)
    read = loose.loc[(loose["Sheet"] == spec.name) & (loose["What"] == "comment")]
    dropped = sorted({(int(r) - 1, int(k) - 1) for r, k in zip(read["Row"], read["Col"])}
                     - stayed)
    return replace(spec, cells=spec.cells + tuple(blocks), notes=tuple(notes),
                   dropped_notes=tuple(dropped))

# --------------------------------------------------------------------------- import sheets
# Written by ``maillon import`` (engine/importing), not by a recompute: Import Review is
# engine-owned and re-rendered by every import; Import Mapping is rendered once, when an
# import first needs it, and is the user's from then on.
SHEET_IMPORT_REVIEW = C.SHEET_IMPORT_REVIEW
SHEET_IMPORT_MAPPING = C.SHEET_IMPORT_MAPPING
TBL_IMPORT_REVIEW = C.TBL_IMPORT_REVIEW
TBL_IMPORT_MAPPING = C.TBL_IMPORT_MAPPING
IMPORT_MAPPING_COLUMNS = C.IMPORT_MAPPING_COLUMNS
REVIEW_DECISIONS = C.IMPORT_DECISIONS


class _ImportLook(_Look):
    def __init__(self):  # no EngineResult: the import's sheets show no money
        self.money = money_format("EUR")
        self.by_header = {"Score": SCORE, "Incoming: row": "0"}


def import_review_sheet(review: pd.DataFrame) -> SheetSpec:
    """The ``Import Review`` sheet: one row per probable duplicate or differing value.

    Its ``Decision`` column (Same, Different, Use incoming, Keep current) is the
    user's; the next ``maillon import`` applies the decided rows. The hidden
    ``Record`` column keeps the held record until then.

    >>> from maillon.engine.importing.plan import REVIEW_COLUMNS
    >>> spec = import_review_sheet(pd.DataFrame(columns=REVIEW_COLUMNS))
    >>> spec.name, [t.name for t in spec.tables], spec.validations[0].values
    ('Import Review', ['tblImportReview'], ('Same', 'Different', 'Use incoming', 'Keep current'))
    """
    spec = _Sheet(SHEET_IMPORT_REVIEW, tab_color=ENGINE_TAB_COLOR)
    df = review.copy()
    open_rows = len(df)
    _title(spec, f"Import review — {open_rows:,} row{'' if open_rows == 1 else 's'} to decide",
           "Probable duplicates are held until you decide: Same fills the listed account's "
           "blanks, Different adds it as a new account. Value differs: Use incoming or Keep "
           "current. The next import or recompute applies your decisions.")
    spec.cells.append(Cells(2, 0, [["Nothing below certainty is merged without your "
                                    "Decision."]], FORMATS["legend"]))
    table = _table(spec, _ImportLook(), TBL_IMPORT_REVIEW, TABLE_ROW, 0, df,
                   C.IMPORT_REVIEW_EDITABLE)
    record = table.column_index("Record")
    spec.columns = [c for c in spec.columns if c.first != record]
    spec.columns.append(Column(record, record, CHECK_WIDTH, hidden=True))
    spec.validations.append(_list_validation(
        _data_range(table, "Decision"), list(REVIEW_DECISIONS), "Decision",
        "Same or Different for a probable duplicate; Use incoming or Keep current when a "
        "value differs. Blank: decide later."))
    spec.freeze = (TABLE_ROW + 1, 2)
    spec.page = Page(landscape=True, repeat_rows=(TABLE_ROW, TABLE_ROW),
                     header=f"&L{_escape_header(SHEET_IMPORT_REVIEW)}&R&D")
    return spec.build()


def import_mapping_sheet(mapping: pd.DataFrame) -> SheetSpec:
    """The ``Import Mapping`` sheet as an import first writes it (the user's afterwards).

    >>> spec = import_mapping_sheet(pd.DataFrame(columns=IMPORT_MAPPING_COLUMNS))
    >>> [t.name for t in spec.tables], list(spec.tables[0].data.columns)
    (['tblImportMapping'], ['Source', 'Column in file', 'Maps to', 'Found by', 'Confirmed'])
    """
    spec = _Sheet(SHEET_IMPORT_MAPPING)
    _title(spec, "Import mapping — how each export's columns map to the Accounts table",
           "Yours to edit: change Maps to (a column of Accounts, Keep or Skip) and type Yes in "
           "Confirmed. The next import of the same Source uses these rows without questions.")
    _table(spec, _ImportLook(), TBL_IMPORT_MAPPING, TABLE_ROW, 0, mapping,
           ["Maps to", "Confirmed"])
    spec.freeze = (TABLE_ROW + 1, 0)
    return spec.build()
