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
* **The file mode writes the same record.** It renders the same formats
  from the same specs, and records them with the same digests
  (:func:`~maillon.addin.render.live_plan.file_layout_record`; the plan and
  the digests live in ``render/live_plan.py`` for both): the first live
  recompute after ``maillon recompute`` keeps its formats too. Its digests
  are *bounded* -- a table column's formats stop at the table's last row in a
  file-mode render -- so they match only for the table sizes it rendered; a
  sheet whose tables changed size since (History gains a run row, the user
  added accounts) gets its table columns' formats, rules and validations below
  the rows the file mode formatted (:func:`_write_tails`), and is then what a
  full pass makes of it.
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

import sys
from dataclasses import dataclass

# the plan and its digests are shared with the file mode (which writes the layout record of
# what it renders); they are re-exported here for the live mode's callers and tests
from maillon.addin.render.live_plan import (  # noqa: F401
    ADDRESS_LIMIT, AS_RENDERED, LAYOUT_NAME, LAYOUT_VERSION, MAX_COL, MAX_ROW, NO_FILL, RESIZED,
    TEXT_LIMIT, WRITE_BUDGET, LiveSpecError, RangeFormat, _DYNAMIC_PAGE, _PIE_LIKE, _PX_TO_PT,
    _SheetPlan, _bgr, _chart_type, _layout_record, _overlap, _plan_sheet, _ref_address,
    _unchanged, chart_name, complement, excel_rows, excel_value, header_sections, layout_match,
    needs_text_prefix, page_settings, parse_address, parse_layout_record, translate_cond_format,
    translate_format, translate_validation, union_addresses, xl_address)
from maillon.addin.render.specs import (ENGINE_AREA_NAME, SheetSpec, engine_area_formula,
                                        parse_area, range_abs)

__all__ = ["write_specs_live", "excel_value", "excel_rows", "needs_text_prefix",
           "translate_format", "translate_cond_format", "translate_validation",
           "LiveSpecError"]


def read_layout_record(book) -> tuple[str, dict] | None:
    """What the last recompute of ``book`` formatted: ``(its stamp, {sheet: digest})``, from
    the workbook name :data:`LAYOUT_NAME` (see
    :func:`~maillon.addin.render.live_plan.parse_layout_record`); None when there is none."""
    try:
        text = book.names[LAYOUT_NAME].refers_to
    except Exception:  # no such name (first live recompute, or removed by hand)
        return None
    return parse_layout_record(text)


# --- writing ------------------------------------------------------------------------------
def _is_windows(platform: str | None) -> bool:
    return (platform or sys.platform).startswith("win")


_XL_WEIGHT = {"thin": 2, "medium": -4138}  # XlBorderWeight: xlThin, xlMedium
_XL_CONTINUOUS = 1  # XlLineStyle.xlContinuous
_XL_VALUE = 2  # XlAxisType.xlValue


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
        _reset_heights(ctx, w, whole)
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


def _reset_heights(ctx: _Context, w: _SheetWriter, whole) -> None:
    """Every row of a sheet formatted again back to the standard height: ``clear_formats``
    keeps row heights, and a row an earlier layout made taller (a segment's portrait, a
    title) would stay so. The plan's heights are set after (:func:`_write_heights`).

    Windows: ``Range.UseStandardHeight`` (COM; xlwings has no wrapper), one round trip,
    and the rows then follow their font again. macOS: the height of the sheet's last row
    (which no layout sets) read and set on every row, two round trips."""
    if ctx.windows:
        whole.api.UseStandardHeight = True
        return
    standard = w.range(xl_address((MAX_ROW, 1, MAX_ROW, MAX_COL))).row_height
    if standard:
        whole.row_height = standard


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


def _write_formats(ctx: _Context, w: _SheetWriter, within: list | None = None) -> None:
    """Every format, rule and validation of the plan; ``within`` (rectangles): only their
    parts inside those, without the widths and heights (see :func:`_write_tails`)."""
    plan = w.plan

    def clip(rects):
        if within is None:
            return rects
        return [x for r in rects for t in within if (x := _intersection(r, t)) is not None]
    for layer in plan.layers:
        for (aspect, value), rects in layer.items():
            if clip(rects):
                w.apply(aspect, value, clip(rects))
    if within is None:
        for width, cols in plan.widths.items():
            for rng in w.ranges([(1, a, MAX_ROW, b) for a, b in cols]):
                rng.column_width = width  # a zero width hides the columns
        _write_heights(w)
    for method, args, kwargs, rects in plan.cond_formats:
        for rng in w.ranges(clip(rects)):
            if ctx.windows and method == "add_color_scale":
                _color_scale_com(rng, args[0])
            else:
                getattr(rng.conditional_formats, method)(*args, **kwargs)
    for method, args, messages, rects in plan.validations:
        for rng in w.ranges(clip(rects)):
            getattr(rng.data_validation, method)(*args)
            if messages and ctx.windows:
                validation = rng.api.Validation
                for prop, value in messages.items():
                    setattr(validation, prop, value)
        if messages and not ctx.windows and clip(rects):
            ctx.notes.append(f"{plan.spec.name}: validation messages are shown on Windows only")


def _color_scale_com(rng, colors: list) -> None:
    """A colour scale at Excel's default points through COM (Windows): ``AddColorScale(3)``
    creates its criteria at the lowest value, the 50th percentile and the highest value, so
    only their colours are set, and the rule goes first as xlwings puts it
    (``_finish_visual_add``: ``SetFirstPriority``). 12 round trips where xlwings'
    ``add_color_scale`` makes 17 (it sets each criterion's type and value again)."""
    rule = rng.api.FormatConditions.AddColorScale(len(colors))
    for i, color in enumerate(colors, 1):
        rule.ColorScaleCriteria(i).FormatColor.Color = _bgr(color)
    rule.SetFirstPriority()


def _intersection(a: tuple, b: tuple) -> tuple | None:
    r1, c1, r2, c2 = max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3])
    return (r1, c1, r2, c2) if r1 <= r2 and c1 <= c2 else None


def _tails(found: dict) -> list:
    """Below each table as the file mode rendered it (``found``: its bounds in the workbook),
    down to the sheet's last row: where its columns' formats did not reach."""
    return [(r2 + 1, c1, MAX_ROW, c2) for r1, c1, r2, c2 in found.values() if r2 < MAX_ROW]


def _write_tails(ctx: _Context, w: _SheetWriter, tails: list) -> None:
    """A sheet the file mode rendered with this layout but other table sizes: its table
    columns' formats, rules and validations stop at the rows the tables had. Below them
    (``tails``), the formats are cleared and written as a full pass writes them there, so
    that the sheet is then what the live writer makes of the plan, down to the last row.
    Costs the groups of formats that reach there, not a full pass."""
    for rng in w.ranges(tails):
        rng.clear_formats()
    _write_formats(ctx, w, within=tails)


def _found_bounds(ctx: _Context, plan) -> dict:
    """The bounds of the plan's tables as the workbook holds them (before this run resizes
    them), ``{table name: (r1, c1, r2, c2)}``; those on another sheet are left out."""
    out = {}
    for t in plan.tables:
        info = ctx.found.tables.get(t.spec.name.lower())
        if info is None or info.sheet_name.lower() != plan.spec.name.lower():
            continue
        if info.address is None:
            info.address = info.table.range.address
        out[t.spec.name] = parse_address(info.address)
    return out


def _decide(ctx: _Context, plan, previous: dict, existed: bool) -> tuple:
    """What the writer does with one sheet, read from the workbook and the layout record
    only: ``(kept, same, as_rendered, tails)`` -- its formats are kept (else formatted in
    full), it has nothing but values to write, its formats are still a file-mode render's
    (bounded digest), and the rectangles below its tables whose formats are to be extended
    (:func:`_write_tails`)."""
    name = plan.spec.name
    layout_same, dynamic_same, how = layout_match(previous, plan)
    tails = []
    if existed and not layout_same and name in previous and plan.tables:
        # rendered by the file mode with this layout, when its tables had other sizes?
        found_bounds = _found_bounds(ctx, plan)
        layout_same, dynamic_same, how = layout_match(previous, plan, found_bounds)
        if how == RESIZED:
            tails = _tails(found_bounds)
            if any(_overlap(m, t) for m in plan.merges for t in tails):
                # clearing formats there would unmerge part of a merged area
                layout_same, dynamic_same, how, tails = False, False, None, []
    kept = existed and layout_same
    return kept, kept and dynamic_same, kept and how == AS_RENDERED, tails


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
        if not pie_like and windows and (chart.y_title or chart.y_num_format):
            # COM: the value axis once (Chart.Axes(xlValue)), its title and tick labels; 4-6
            # round trips where xlwings' ChartAxis.set makes 13 (it looks the axis up and
            # checks that it is visible for each setting). Chart.api on Windows is
            # (ChartObject, Chart): _xlwindows.Chart.api returns self.xl_obj, self.xl.
            axis = xl_chart.api[1].Axes(_XL_VALUE)
            if chart.y_title:
                axis.HasTitle = True
                axis.AxisTitle.Text = chart.y_title
            if chart.y_num_format:
                axis.TickLabels.NumberFormat = chart.y_num_format
        elif not pie_like:
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
        ``{sheet: digest}`` of what the previous recompute formatted, when its
        result is still in the workbook (the caller checks that the record's stamp
        is the last run of ``tblHistory``): a live recompute, or a file-mode one
        (which records bounded digests, see
        :func:`~maillon.addin.render.live_plan.file_layout_record`). A sheet whose
        plan has the same digest keeps its formats, rules, widths, merges, charts
        and settings: only its values, the fills of its table cells, its print
        area, print titles and chart titles are written.
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
    bounded = set()  # kept sheets whose formats are a file-mode render's (bounded digest)
    last = None
    for plan in plans:
        name = plan.spec.name
        progress(f"Writing {name}")
        entry = found.sheets.get(name.lower())
        existed[name] = entry is not None
        kept[name], same[name], as_rendered, tails = _decide(ctx, plan, previous, existed[name])
        if as_rendered:
            bounded.add(name)  # still formatted as the file mode rendered it
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
        elif tails:
            _write_tails(ctx, w, tails)
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
                 lambda: book.names.add(LAYOUT_NAME, _layout_record(stamp, plans, bounded)))
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


# --- what a recompute would format, before anything is written -------------------------------
#: Round trips of formatting above which a recompute is slow in Excel: a recompute that keeps
#: the formats costs about 300 (issue 12 asks for at most 400 in all), so more than about a
#: hundred spent on formats makes it miss. One sheet formatted in full costs 70-180; a full
#: pass of every engine sheet about 1,000; a change of the number of segments about 450.
FORMAT_BUDGET = 100


@dataclass(frozen=True)
class Forecast:
    """What :func:`write_specs_live` would format: the sheets it would format in full, and
    the round trips into Excel that costs, estimated from the plan (:func:`format_trips`)."""

    sheets: tuple
    trips: int
    #: a layout record of the last recompute applied (else every sheet is formatted anew)
    recorded: bool = False

    @property
    def slow(self) -> bool:
        """More formatting than :data:`FORMAT_BUDGET` allows."""
        return self.trips > FORMAT_BUDGET


def forecast(book, specs: list, previous: dict | None = None, found=None,
             platform: str | None = None) -> Forecast:
    """What writing ``specs`` into ``book`` would format, decided as :func:`write_specs_live`
    decides it (the layout record ``previous``, the tables' sizes in the workbook), and
    nothing written: it reads at most the address of a table the reader did not ask for.

    ``found`` (:func:`~maillon.addin.live.book.survey`) is surveyed when None; the table
    addresses read here are kept in it, so the writer does not read them again.
    """
    from maillon.addin.live.book import survey

    found = found if found is not None else survey(book)
    windows = _is_windows(platform)
    ctx = _Context(book, found, windows, [], None)
    previous = previous or {}
    sheets, trips = [], 0
    for spec in specs:
        plan = _plan_sheet(spec, values=False)
        existed = spec.name.lower() in found.sheets
        kept = _decide(ctx, plan, previous, existed)[0]
        if not kept:
            sheets.append(spec.name)
            trips += format_trips(plan, windows, existed)
    return Forecast(tuple(sheets), trips, bool(previous))


def _pair(windows: bool, win: int, mac: int) -> int:
    return win if windows else mac


def format_trips(plan: _SheetPlan, windows: bool, existed: bool = True) -> int:
    """The round trips into Excel that formatting ``plan``'s sheet in full costs (clearing it,
    its formats, widths, heights, rules, validations, charts, window and print settings),
    estimated from the calls this module makes for it, each priced as xlwings 0.37.8 makes
    it (the cost table of ``tests/test_live_round_trips.py``, which checks each price against
    xlwings' own ``_xlwindows.py`` / ``_xlmac.py``)."""
    spec = plan.spec
    rng = _pair(windows, 1, 0)  # Sheet.range(address): a COM call / an appscript reference
    n_charts = len(spec.charts)
    if not existed:
        total = _pair(windows, 15, 5)  # Sheets.add
    else:  # _prepare_sheet: the whole sheet's rules, validations, merges, formats, heights
        total = rng + _pair(windows, 2, 3) + _pair(windows, 2, 1) + 1 + _pair(windows, 1, 4) \
            + _pair(windows, 1, 2)
        if n_charts:
            total += _pair(windows, 3, 1 + 2 * n_charts)  # ChartObjects().Delete / each delete
    for layer in plan.layers:
        for (aspect, value), rects in layer.items():
            for _ in union_addresses(rects):
                total += rng + _aspect_trips(aspect, value, windows)
    for cols in plan.widths.values():
        total += len(union_addresses([(1, a, MAX_ROW, b) for a, b in cols])) * (rng + 1)
    for rows in plan.heights.values():
        total += len(union_addresses([(r, 1, r, MAX_COL) for r in rows])) * (rng + 1)
    for method, args, kwargs, rects in plan.cond_formats:
        per = {"add_cell_value": _pair(windows, 5, 4) + sum(
                   _pair(windows, 2, 1) for k in ("fill_color", "font_color")
                   if kwargs.get(k) is not None),
               "add_color_scale": _pair(windows, 4 + 3 * len(args[0]) if args else 13, 10),
               "add_data_bar": _pair(windows, 12, 8)}.get(method, _pair(windows, 12, 8))
        total += len(union_addresses(rects)) * (rng + _pair(windows, 1, 0) + per)
    for _method, _args, messages, rects in plan.validations:
        per = _pair(windows, 9 + (1 + len(messages) if messages else 0), 4)
        total += len(union_addresses(rects)) * (rng + per)
    for chart in spec.charts:
        total += _chart_trips(chart, windows)
    if windows:  # _write_window and _write_page: each setting one COM write
        total += 1 + (6 if spec.freeze is not None else 0) + (spec.zoom != 100) + 1 \
            + (2 if spec.tab_color is not None else 0)
        if spec.page is not None:
            total += 1 + len(page_settings(spec.page))
    else:
        total += 3 + (1 if spec.page is not None and spec.page.print_area is not None else 0)
    return total


def _aspect_trips(aspect: str, value, windows: bool) -> int:
    if aspect == "font":
        n = len(dict(value))
        return _pair(windows, 1 + n, n)  # Range.font, then Font.set: one write per argument
    if aspect == "border":  # COM Borders: Color, Weight, LineStyle / xlwings Borders.set("all")
        return _pair(windows, 3 + ("color" in dict(value)), 27)
    return {"number_format": _pair(windows, 1, 4), "fill": _pair(windows, 2, 1),
            "rotation": _pair(windows, 1, 0)}.get(aspect, 1)


def _chart_trips(chart, windows: bool) -> int:
    """Charts.add and its anchor, the name, the source data and categories (three ranges),
    each series' look, the title, the legend and the value axis."""
    total = _pair(windows, 8 + 1, 11) + 1 + _pair(windows, 2, 0) + 1 + _pair(windows, 4, 2) \
        + _pair(windows, 1, 0) + _pair(windows, 3, 2) + 1
    pie_like = chart.kind in _PIE_LIKE
    for s in chart.series:
        total += 2 + _pair(windows, 8 if s.color is not None and not pie_like else 2, 4)
        if windows:
            total += (1 if chart.data_labels else 0) + 3 * len(s.point_colors or ())
    if not pie_like and (chart.y_title or chart.y_num_format):
        total += _pair(windows, 1 + 2 * bool(chart.y_title) + 2 * bool(chart.y_num_format), 10)
    return total
