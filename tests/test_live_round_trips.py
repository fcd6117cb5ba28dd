"""Excel round trips of a live recompute: at most 400, whatever the number of accounts.

An xlwings call is not one trip into Excel: xlwings' implementation makes its
own COM calls (Windows, ``xlwings/_xlwindows.py``) or Apple Events (macOS,
``xlwings/_xlmac.py``) for it. :data:`COSTS` prices every call the live mode
makes -- reading, writing and the ribbon entry -- with the round trips xlwings
0.37.8 makes for it on each platform, and names the xlwings function the
price comes from. :func:`test_cost_table_matches_xlwings` checks each price by
running xlwings' own code (``main.py`` plus ``_xlwindows.py`` / ``_xlmac.py``)
on doubles that count COM calls and Apple Events (``tests/xlwings_costs.py``).

A recompute is run on the autospecced fakes (``tests/live_fakes.py``), which
record every xlwings call; :func:`round_trips` prices that record. Calls the
live mode makes through ``.api`` (Windows COM) are priced by the COM model of
``tests/xlwings_costs.py``: a property read or write 1, a method call 1.

Values are the one part that grows with the data: xlwings' write budget is
100,000 cells per write (``base_classes.DEFAULT_MAX_CELLS_PER_WRITE``), so a
table of 2 million cells takes 20 writes. :func:`value_chunks` counts them;
the rest of the recompute (formats, rules, charts, print setup, reading) is
the same at 2,000 and 20,000 accounts.
"""
from __future__ import annotations

import math
import time
from dataclasses import replace

import pytest

from maillon.addin.live.write import WRITE_BUDGET

from live_fakes import FakeExcel
from test_live import run_live, synthetic_workbook
from xlwings_costs import COM_METHODS, macos_backend, macos_cost, windows_cost

#: Issue 12 asks for at most 400. A recompute after a live one cost 425 (2,000 accounts) /
#: 435 (20,000) on Windows once the notes, comments and cells typed on engine sheets were
#: read (issue 11); batching that read (a Count per comment collection, the engine-area
#: name by name, formulas before values) and not rewriting what the layout record says is
#: unchanged (table sizes and styles, fills, engine-area names, print headers, chart titles)
#: brought it to the figures below, measured: the limit is the figure, so that any growth
#: fails. ``True``: after the user added accounts (every table, fill, row height and title
#: that follows the data is rewritten); ``False``: nothing changed but the run. Reading the
#: engine's own cells outside the tables, for the Cells check that finds a value typed
#: over them (issue 11), adds about 7: measured 296-303 / 338-355 on Windows, 236-239 /
#: 254-260 on macOS, at 1k, 2k and 20k accounts.
BUDGET = {False: 305, True: 360}


def _n_kwargs(call) -> int:  # call: (args, kwargs)
    return len(call[1])


def _cell_value_rule(call) -> tuple[int, int]:
    colours = sum(1 for k in ("fill_color", "font_color") if call[1].get(k) is not None)
    return 5 + 2 * colours, 4 + colours


# (kind, xlwings class, member) -> (Windows round trips, macOS round trips, where xlwings makes them)
# A price may be a function of the call (its arguments) or, for a walk, of the items walked.
COSTS: dict = {
    # --- the application -------------------------------------------------------------------
    ("get", "Book", "app"): (2, 0, "_xlwindows.Book.app: App(xl=self.xl.Application), and "
                                   "App.__init__ reads xl.Hwnd; _xlmac.Book.app: self._app"),
    ("get", "App", "api"): (0, 0, "App.api: self.xl, on both"),
    ("get", "App", "engine"): (0, 0, "App.engine: the module's engine object, on both"),
    ("get", "App", "screen_updating"): (1, 1, "_xlwindows.App.screen_updating: xl.ScreenUpdating; "
                                              "_xlmac: xl.screen_updating.get()"),
    ("set", "App", "screen_updating"): (1, 1, "App.screen_updating setter: one property write"),
    ("get", "App", "calculation"): (1, 1, "App.calculation: xl.Calculation / "
                                          "xl.calculation.get()"),
    ("set", "App", "calculation"): (1, 1, "App.calculation setter: one property write"),
    ("set", "App", "status_bar"): (1, 1, "App.status_bar setter: xl.StatusBar = / "
                                         "xl.status_bar.set()"),
    ("call", "App", "alert"): (1, 1, "App.alert: one message box (win32api.MessageBox on "
                                     "Windows; osax display alert on macOS)"),
    # --- sheets and tables -----------------------------------------------------------------
    ("get", "Book", "sheets"): (1, 0, "_xlwindows.Book.sheets: Sheets(xl=self.xl.Worksheets); "
                                      "_xlmac.Book.sheets: Sheets(workbook=self)"),
    ("get", "Book", "api"): (0, 0, "Book.api: self.xl"),
    ("walk", "Sheets", ""): (lambda n: 3 + n, lambda n: 2,
                             "_xlwindows.Sheets.__iter__: for xl in self.xl (main.Sheets.__iter__ "
                             "reads Count first): Count, _NewEnum, one Next per sheet and the last; "
                             "_xlmac.Sheets.__iter__: range(len(self)), each Sheet by index"),
    ("call", "Sheets", "__getitem__"): (1, 0, "_xlwindows.Sheets.__call__: self.xl(name_or_index); "
                                              "_xlmac: Sheet(workbook, key), a reference"),
    ("call", "Sheets", "add"): (15, 5, "_xlwindows.Sheets.add (after=): Count, Index, Add, Move, "
                                       "Activate, Name; _xlmac.Sheets.add: make + name.set"),
    ("get", "Sheet", "name"): (1, 1, "Sheet.name: xl.Name / xl.name.get()"),
    ("get", "Sheet", "api"): (0, 0, "Sheet.api: self.xl"),
    ("get", "Sheet", "tables"): (1, 0, "_xlwindows.Sheet.tables: Tables(xl=self.xl.ListObjects); "
                                       "_xlmac: Tables(parent=self), a reference"),
    ("walk", "Tables", ""): (lambda n: 3 + n, lambda n: 2 + n,
                             "_xlwindows.Collection.__iter__: _NewEnum, one Next per table and "
                             "the last; _xlmac.Collection.__iter__: count, then exists() per item"),
    ("get", "Table", "name"): (1, 1, "Table.name: xl.Name / xl.name.get()"),
    ("get", "Table", "range"): (1, 1, "_xlwindows.Table.range: Range(xl=self.xl.Range); "
                                      "_xlmac: Range(sheet, xl.range_object), a reference"),
    ("call", "Table", "resize"): (1, 1, "Table.resize: xl.Resize(range.xl) / xl.resize(range=)"),
    ("set", "Table", "table_style"): (1, 1, "Table.table_style setter: xl.TableStyle = / "
                                            "xl.table_style.set()"),
    ("call", "Tables", "add"): (2, 4, "_xlwindows.Tables.add: ListObjects.Add(...), then .Name = "
                                      "name; _xlmac.Tables.add: make(new=list_object) + name"),
    ("get", "Sheet", "cells"): (1, 4, "_xlwindows.Sheet.cells: Range(xl=self.xl.Cells); _xlmac: "
                                      "Range(self, (1, 1, rows, cols)) reads two counts and two "
                                      "addresses"),
    ("get", "Sheet", "used_range"): (1, 1, "Sheet.used_range: Range(xl=self.xl.UsedRange) / "
                                           "used_range.get_address()"),
    ("call", "Sheet", "range"): (1, 0, "_xlwindows.Sheet.range(address): Range(xl=self.xl.Range("
                                       "arg1)); _xlmac.Range(sheet, address): sheet.xl.cells["
                                       "address], a reference"),
    # --- values -------------------------------------------------------------------------------
    ("get", "Range", "address"): (1, 1, "Range.address: xl.Address / xl.get_address()"),
    ("get", "Range", "raw_value"): (1, 1, "Range.raw_value: xl.Value / xl.value.get()"),
    ("set", "Range", "raw_value"): (1, 1, "Range.raw_value setter: xl.Value = data / "
                                          "xl.value.set(data)"),
    ("get", "Range", "api"): (0, 0, "Range.api: self.xl"),
    # --- clearing -------------------------------------------------------------------------------
    ("call", "Range", "clear_contents"): (1, 4, "_xlwindows.Range.clear_contents: xl.ClearContents(); "
                                                "_xlmac: inside app.screen_updating off and back"),
    ("call", "Range", "clear_formats"): (1, 4, "_xlwindows.Range.clear_formats: xl.ClearFormats(); "
                                               "_xlmac: clear_formats() inside screen updating off, "
                                               "plus a used-range probe"),
    ("call", "Range", "unmerge"): (1, 1, "Range.unmerge: xl.UnMerge() / xl.unmerge()"),
    ("call", "Range", "merge"): (None, 4, "macOS only (Windows: COM Merge): main.Range.merge "
                                          "turns display_alerts off and back, then xl.merge()"),
    ("get", "Range", "conditional_formats"): (1, 0, "_xlwindows.Range.conditional_formats: "
                                                    "ConditionalFormats(xl=self.xl.FormatConditions)"
                                                    "; _xlmac: a reference"),
    ("call", "ConditionalFormats", "clear"): (1, 3, "ConditionalFormats.clear: xl.Delete() / "
                                                    "delete format conditions"),
    ("get", "Range", "data_validation"): (0, 0, "Range.data_validation: DataValidation(self)"),
    ("call", "DataValidation", "delete"): (2, 1, "_xlwindows.DataValidation.delete: "
                                                 "parent.xl.Validation.Delete(); _xlmac: "
                                                 "validation.delete()"),
    # --- formats ---------------------------------------------------------------------------------
    ("set", "Range", "number_format"): (1, 4, "_xlwindows.Range.number_format: xl.NumberFormat =; "
                                              "_xlmac: number_format.set() inside screen updating "
                                              "off and back"),
    ("set", "Range", "color"): (2, 1, "_xlwindows.Range.color: xl.Interior then .Color = (or "
                                      ".ColorIndex = none); _xlmac: interior_object.color.set()"),
    ("get", "Range", "font"): (1, 0, "_xlwindows.Range.font: Font(self, self.xl.Font); _xlmac: a "
                                     "reference"),
    ("call", "Font", "set"): (_n_kwargs, _n_kwargs, "main.Font.set: one setter per argument "
                                                    "(Font.bold/italic/size/color: one write each)"),
    ("set", "Range", "horizontal_alignment"): (1, 1, "Range.horizontal_alignment setter"),
    ("set", "Range", "vertical_alignment"): (1, 1, "Range.vertical_alignment setter"),
    ("set", "Range", "wrap_text"): (1, 1, "Range.wrap_text setter"),
    ("get", "Range", "borders"): (0, 0, "Range.borders: Borders(self, self.xl)"),
    ("call", "Borders", "set"): (None, 27, "macOS only (Windows: the COM Borders collection): "
                                           "_xlmac.Borders.set('all'): get_border + colour, weight "
                                           "and line style for each of the six sides"),
    ("set", "Range", "column_width"): (1, 1, "Range.column_width setter"),
    ("set", "Range", "row_height"): (1, 1, "Range.row_height setter"),
    ("get", "Range", "row_height"): (1, 1, "_xlwindows.Range.row_height: xl.RowHeight; _xlmac: "
                                           "xl.row_height.get()"),
    ("set", "Sheet", "show_gridlines"): (None, 3, "macOS only (Windows: COM DisplayGridlines): "
                                                  "_xlmac.Sheet.show_gridlines compares the active "
                                                  "sheet's name, then windows[1].display_gridlines"),
    ("get", "Sheet", "page_setup"): (1, 0, "Sheet.page_setup: PageSetup(xl.PageSetup) is read "
                                           "when a property is set"),
    ("set", "PageSetup", "print_area"): (None, 1, "macOS only (Windows: COM PrintArea): "
                                                  "page_setup_object.print_area.set()"),
    # --- rules ------------------------------------------------------------------------------------
    ("call", "ConditionalFormats", "add_cell_value"): (
        lambda c: _cell_value_rule(c)[0], lambda c: _cell_value_rule(c)[1],
        "_xlwindows.ConditionalFormats.add_cell_value: Add, Interior.Color, Font.Color, "
        "StopIfTrue, SetFirstPriority, the new rule; _xlmac: make, set_first_priority, "
        "type, colours"),
    ("call", "ConditionalFormats", "add_color_scale"): (
        17, 10, "_xlwindows.ConditionalFormats.add_color_scale: AddColorScale(3), then type, "
               "value and colour of each ColorScaleCriteria; _xlmac: make + criteria"),
    ("call", "ConditionalFormats", "add_data_bar"): (
        12, 8, "_xlwindows.ConditionalFormats.add_data_bar: AddDatabar, BarColor, BarFillType, "
               "ShowValue, MinPoint/MaxPoint.Modify; _xlmac: make + bar settings"),
    ("call", "DataValidation", "set_list"): (
        9, 4, "_xlwindows.DataValidation.set_list: the list separator (Application."
              "International), the current Validation.Type, Add or Modify, InCellDropdown; "
              "_xlmac: get_international, validation type, add, in_cell_dropdown"),
    # --- charts ------------------------------------------------------------------------------------
    ("get", "Sheet", "charts"): (1, 0, "_xlwindows.Sheet.charts: Charts(xl=self.xl.ChartObjects());"
                                       " _xlmac: a reference"),
    ("walk", "Charts", ""): (lambda n: 2 + 2 * n, lambda n: 1 + n,
                             "_xlwindows.Charts.__iter__: ChartObjects _NewEnum, one Next and one "
                             ".Chart per chart, the last Next; _xlmac.Collection.__iter__: count, "
                             "then exists() per chart"),
    ("call", "Charts", "__len__"): (1, 1, "Charts.__len__: xl.Count / count()"),
    ("call", "Chart", "delete"): (1, 1, "Chart.delete: xl.Parent.Delete() / delete"),
    ("call", "Charts", "add"): (8, 11, "_xlwindows.Charts.add: the anchor's Top and Left, "
                                       "ChartObjects.Add, .Chart, ChartType; _xlmac: the anchor's "
                                       "position, make(new=chart_object), chart type"),
    ("call", "Chart", "set_source_data"): (1, 1, "Chart.set_source_data: xl.SetSourceData(rng.xl)"
                                                 " / set_source_data"),
    ("call", "Chart", "set_x_axis_values"): (4, 2, "Chart.set_x_axis_values: the series' XValues, "
                                                   "one series (SeriesCollection)"),
    ("get", "Chart", "series"): (1, 0, "Chart.series: ChartSeriesCollection(self)"),
    ("call", "ChartSeriesCollection", "__getitem__"): (2, 2, "ChartSeriesCollection.__getitem__: "
                                                             "the count, then the series"),
    ("call", "ChartSeries", "set"): (8, 4, "ChartSeries.set(name, fill_color): Name, then "
                                           "Format.Fill (Visible, Solid, ForeColor.RGB)"),
    ("get", "ChartSeries", "api"): (0, 0, "ChartSeries.api: self.xl"),
    ("set", "Chart", "title"): (3, 2, "Chart.title setter: HasTitle, ChartTitle.Text"),
    ("get", "Chart", "api"): (0, None, "_xlwindows.Chart.api: (self.xl_obj, self.xl), the COM "
                                       "ChartObject and Chart already held (Windows only: the "
                                       "value axis and a series' data labels and point colours "
                                       "go through COM)"),
    ("get", "Chart", "legend"): (0, 0, "Chart.legend: ChartLegend(self)"),
    ("set", "ChartLegend", "visible"): (1, 1, "ChartLegend.visible setter: HasLegend"),
    ("get", "Chart", "value_axis"): (0, 0, "Chart.value_axis: ChartAxis(self, 'value')"),
    ("call", "ChartAxis", "set"): (13, 10, "ChartAxis.set(title, number_format): HasAxis (by "
                                          "GetIDsOfNames and Invoke), Axes(), HasTitle, "
                                          "AxisTitle.Text, TickLabels.NumberFormat"),
    # --- the layout record ------------------------------------------------------------------------
    ("get", "Book", "names"): (1, 0, "_xlwindows.Book.names: Names(xl=self.xl.Names); _xlmac: a "
                                     "reference"),
    ("call", "Names", "__getitem__"): (1, 0, "_xlwindows.Names.__call__: self.xl(name); _xlmac: "
                                             "named_items[name], a reference"),
    ("get", "Name", "refers_to"): (1, 1, "Name.refers_to: xl.RefersTo / the name's properties"),
    ("call", "Names", "add"): (1, 1, "Names.add: xl.Add(name, refers_to) / make(new=named_item)"),
    ("set", "Chart", "name"): (1, 1, "Chart.name setter: the ChartObject's Name"),
    # --- what a user typed beside the tables, and comments (issue 11) ---------------------------
    ("get", "Sheet", "notes"): (3, 3, "main.Sheet.notes: Notes(self), read here to walk it: "
                                      "_xlwindows.Sheet.notes: [Note(xl=c) for c in "
                                      "self.xl.Comments] (Comments, _NewEnum, the last Next; one "
                                      "more per note); _xlmac.Sheet.notes: used_range.special_cells"
                                      "(comments).get_address() (one more per note)"),
    ("get", "Sheet", "comments"): (0, 0, "main.Sheet.comments: Comments(self), no call yet"),
    ("call", "Comments", "__len__"): (3, 0, "main.Comments.__len__ walks impl.comments: "
                                            "_xlwindows.Sheet.comments: CommentsThreaded, "
                                            "_NewEnum, the last Next (one more per comment); "
                                            "_xlmac.Sheet.comments raises NotImplementedError"),
    ("get", "Sheet", "names"): (1, 0, "_xlwindows.Sheet.names: Names(xl=self.xl.Names); _xlmac: "
                                      "a reference"),
    ("get", "Name", "api"): (0, 0, "Name.api: self.xl"),
    ("get", "Name", "name"): (1, 1, "Name.name: xl.Name / xl.name.get()"),
    ("get", "Range", "formula"): (1, 1, "_xlwindows.Range.formula: xl.Formula; _xlmac: "
                                        "xl.formula.get()"),
    ("call", "Charts", "__getitem__"): (2, 1, "_xlwindows.Charts.__call__: ChartObjects().Item(name)"
                                              " and its .Chart; _xlmac: exists()"),
    ("call", "Range", "move"): (28, 9, "main.Range.move: the sheets of both ranges compared, "
                                        "then xl.Cut(Destination)"),
    # --- the file route: save, close, recompute the file, open again ----------------------------
    ("get", "Book", "name"): (1, 1, "Book.name: xl.Name / xl.name.get()"),
    ("call", "Book", "save"): (9, 7, "main.Book.save: self.app (Application, Hwnd), "
                                     "app.properties(display_alerts=False) (read, set, set back); "
                                     "_xlwindows.Book.save: Path, Name, FileFormat, Save(); "
                                     "_xlmac.Book.save: properties() (one record; its "
                                     "path), name, properties() (its file format), "
                                     "save(timeout=-1)"),
    ("call", "Book", "close"): (1, 2, "_xlwindows.Book.close: xl.Close(SaveChanges=False); "
                                      "_xlmac.Book.close: self.name, then xl.close(saving=no)"),
    ("get", "App", "books"): (1, 0, "_xlwindows.App.books: Books(xl=self.xl.Workbooks); "
                                    "_xlmac.App.books: Books(self)"),
    ("call", "Books", "open"): (2, 4, "main.Books.open: self.impl(name) (a book of that name "
                                      "open already? _xlwindows.Books.__call__: Workbooks(name), "
                                      "which raises; _xlmac: workbooks[name].exists()), then "
                                      "_xlwindows.Books.open: Workbooks.Open(...); _xlmac: "
                                      "app.visible (System Events), activate, open_workbook"),
}
#: Apple Events that live mode sends through ``book.api`` on macOS (appscript: building the
#: reference ``book.api.full_name`` is local, its ``.get()`` one event): where the file route
#: reads the workbook's full name and read-only state (``dialogs.raw_fullname``,
#: ``dialogs._read_only``, as ``_xlmac.Book.fullname`` reads ``full_name``).
APPLESCRIPT_REFERENCES = frozenset({"full_name", "read_only"})


# --- checking the table against xlwings' own code ------------------------------------------------
def _nothing(sheet, book):
    return None


def _rng(sheet, book, address="A1:B2"):
    return sheet.range(address)


def _chart(sheet, book):
    return sheet.charts.add(anchor=sheet.range("A1"), width=360.0, height=216.0,
                            chart_type="column_clustered")


def _table(sheet, book):
    return sheet.tables.add(source=sheet.range("A1:B3"), name="tblX",
                            table_style_name="TableStyleLight9")


def _set(make, prop, value):
    return lambda s, b: setattr(make(s, b), prop, value)


def _call(make, method, *args, **kwargs):
    return lambda s, b: getattr(make(s, b), method)(*args, **kwargs)


def _cells(s, b):
    return s.cells


def _app(s, b):
    return b.app


# key -> (what to run before, what to run, call arguments for a priced function or walk size)
CHECKS: dict = {
    ("get", "Book", "app"): (_nothing, _app, None),
    ("get", "App", "api"): (_app, lambda s, b: b.app.api, None),
    ("get", "App", "engine"): (_app, lambda s, b: b.app.engine, None),
    ("get", "App", "screen_updating"): (_app, lambda s, b: b.app.screen_updating, None),
    ("set", "App", "screen_updating"): (_app, _set(_app, "screen_updating", False), None),
    ("get", "App", "calculation"): (_app, lambda s, b: b.app.calculation, None),
    ("set", "App", "calculation"): (_app, _set(_app, "calculation", "manual"), None),
    ("set", "App", "status_bar"): (_app, _set(_app, "status_bar", "Maillon"), None),
    ("get", "Book", "sheets"): (_nothing, lambda s, b: b.sheets, None),
    ("get", "Book", "api"): (_nothing, lambda s, b: b.api, None),
    ("get", "Sheet", "api"): (_nothing, lambda s, b: s.api, None),
    ("get", "Range", "api"): (_rng, lambda s, b: _rng(s, b).api, None),
    ("walk", "Sheets", ""): (lambda s, b: b.sheets, lambda s, b: list(b.sheets), 3),
    ("call", "Sheets", "__getitem__"): (lambda s, b: b.sheets, lambda s, b: b.sheets["Plan"], None),
    ("call", "Sheets", "add"): (lambda s, b: (b.sheets, s), lambda s, b: (b.sheets, s) and
                                b.sheets.add(name="Plan", after=s), None),
    ("get", "Sheet", "name"): (_nothing, lambda s, b: s.name, None),
    ("get", "Sheet", "tables"): (_nothing, lambda s, b: s.tables, None),
    ("walk", "Tables", ""): (lambda s, b: s.tables, lambda s, b: list(s.tables), 3),
    ("get", "Table", "name"): (_table, lambda s, b: _table(s, b).name, None),
    ("get", "Table", "range"): (_table, lambda s, b: _table(s, b).range, None),
    ("call", "Table", "resize"): (lambda s, b: (_table(s, b), _rng(s, b)),
                                  lambda s, b: _table(s, b).resize(_rng(s, b)), None),
    ("set", "Table", "table_style"): (_table, _set(_table, "table_style", "TableStyleLight9"), None),
    ("call", "Tables", "add"): (lambda s, b: (s.tables, _rng(s, b)), _table, None),
    ("get", "Sheet", "cells"): (_nothing, _cells, None),
    ("get", "Sheet", "used_range"): (_nothing, lambda s, b: s.used_range, None),
    ("call", "Sheet", "range"): (_nothing, _rng, None),
    ("get", "Range", "address"): (_rng, lambda s, b: _rng(s, b).address, None),
    ("get", "Range", "raw_value"): (_rng, lambda s, b: _rng(s, b).raw_value, None),
    ("set", "Range", "raw_value"): (_rng, _set(_rng, "raw_value", [[1, 2], [3, 4]]), None),
    ("call", "Range", "clear_contents"): (_rng, _call(_rng, "clear_contents"), None),
    ("call", "Range", "clear_formats"): (_cells, _call(_cells, "clear_formats"), None),
    ("call", "Range", "unmerge"): (_cells, _call(_cells, "unmerge"), None),
    ("call", "Range", "merge"): (_rng, _call(_rng, "merge"), None),
    ("get", "Range", "conditional_formats"): (_cells, lambda s, b: s.cells.conditional_formats,
                                              None),
    ("call", "ConditionalFormats", "clear"): (lambda s, b: s.cells.conditional_formats,
                                              lambda s, b: s.cells.conditional_formats.clear(),
                                              None),
    ("get", "Range", "data_validation"): (_cells, lambda s, b: s.cells.data_validation, None),
    ("call", "DataValidation", "delete"): (_cells, lambda s, b: s.cells.data_validation.delete(),
                                           None),
    ("set", "Range", "number_format"): (_rng, _set(_rng, "number_format", "0%"), None),
    ("set", "Range", "color"): (_rng, _set(_rng, "color", "#FFF2CC"), None),
    ("get", "Range", "font"): (_rng, lambda s, b: _rng(s, b).font, None),
    ("call", "Font", "set"): (lambda s, b: _rng(s, b).font,
                              lambda s, b: _rng(s, b).font.set(bold=True, size=9.0,
                                                               color="#1F3864"),
                              ((), {"bold": True, "size": 9.0, "color": "#1F3864"})),
    ("set", "Range", "horizontal_alignment"): (_rng, _set(_rng, "horizontal_alignment", "center"),
                                               None),
    ("set", "Range", "vertical_alignment"): (_rng, _set(_rng, "vertical_alignment", "top"), None),
    ("set", "Range", "wrap_text"): (_rng, _set(_rng, "wrap_text", True), None),
    ("get", "Range", "borders"): (_rng, lambda s, b: _rng(s, b).borders, None),
    ("call", "Borders", "set"): (lambda s, b: _rng(s, b).borders,
                                 lambda s, b: _rng(s, b).borders.set(
                                     "all", line_style="continuous", weight="thin",
                                     color="#BFBFBF"), None),
    ("set", "Range", "column_width"): (_rng, _set(_rng, "column_width", 12), None),
    ("set", "Range", "row_height"): (_rng, _set(_rng, "row_height", 30), None),
    ("get", "Range", "row_height"): (_rng, lambda s, b: _rng(s, b).row_height, None),
    ("set", "Sheet", "show_gridlines"): (_nothing, _set(lambda s, b: s, "show_gridlines", False),
                                         None),
    ("get", "Sheet", "page_setup"): (_nothing, lambda s, b: s.page_setup, None),
    ("set", "PageSetup", "print_area"): (lambda s, b: s.page_setup,
                                         _set(lambda s, b: s.page_setup, "print_area",
                                              "$A$1:$E$10"), None),
    ("call", "ConditionalFormats", "add_cell_value"): (
        lambda s, b: _rng(s, b).conditional_formats,
        lambda s, b: _rng(s, b).conditional_formats.add_cell_value(
            "equal_to", '"P1"', fill_color="#FFC7CE", font_color="#9C0006"),
        (("equal_to", '"P1"'), {"fill_color": "#FFC7CE", "font_color": "#9C0006"})),
    ("call", "ConditionalFormats", "add_color_scale"): (
        lambda s, b: _rng(s, b).conditional_formats,
        lambda s, b: _rng(s, b).conditional_formats.add_color_scale(
            ["#F8F9FB", "#9DC3E6", "#2F5597"]), None),
    ("call", "ConditionalFormats", "add_data_bar"): (
        lambda s, b: _rng(s, b).conditional_formats,
        lambda s, b: _rng(s, b).conditional_formats.add_data_bar(
            "#5B9BD5", gradient=False, show_value=True, minimum=0, threshold_type="number",
            maximum=100), None),
    ("call", "DataValidation", "set_list"): (
        lambda s, b: _rng(s, b).data_validation,
        lambda s, b: _rng(s, b).data_validation.set_list(["P1", "P2"]), None),
    ("get", "Sheet", "charts"): (_nothing, lambda s, b: s.charts, None),
    ("call", "Charts", "add"): (lambda s, b: (s.charts, s.range("A1")), _chart, None),
    ("walk", "Charts", ""): (lambda s, b: s.charts, lambda s, b: [c for c in s.charts], 3),
    ("call", "Charts", "__len__"): (lambda s, b: s.charts, lambda s, b: len(s.charts), None),
    ("call", "Chart", "delete"): (lambda s, b: s.charts[0], lambda s, b: s.charts[0].delete(),
                                  None),
    ("call", "Chart", "set_source_data"): (
        lambda s, b: (_chart(s, b), _rng(s, b)),
        lambda s, b: _chart(s, b).set_source_data(_rng(s, b), plot_by="columns"), None),
    ("call", "Chart", "set_x_axis_values"): (
        lambda s, b: (_chart(s, b), _rng(s, b)),
        lambda s, b: _chart(s, b).set_x_axis_values(_rng(s, b)), None),
    ("get", "Chart", "series"): (_chart, lambda s, b: _chart(s, b).series, None),
    ("call", "ChartSeriesCollection", "__getitem__"): (lambda s, b: _chart(s, b).series,
                                                       lambda s, b: _chart(s, b).series[0], None),
    ("call", "ChartSeries", "set"): (lambda s, b: _chart(s, b).series[0],
                                     lambda s, b: _chart(s, b).series[0].set(
                                         name="Accounts", fill_color="#1F3864"), None),
    ("get", "ChartSeries", "api"): (lambda s, b: _chart(s, b).series[0],
                                    lambda s, b: _chart(s, b).series[0].api, None),
    ("set", "Chart", "title"): (_chart, _set(_chart, "title", "Accounts by segment"), None),
    ("get", "Chart", "legend"): (_chart, lambda s, b: _chart(s, b).legend, None),
    ("get", "Chart", "api"): (_chart, lambda s, b: _chart(s, b).api, None),
    ("set", "ChartLegend", "visible"): (lambda s, b: _chart(s, b).legend,
                                        _set(lambda s, b: _chart(s, b).legend, "visible", False),
                                        None),
    ("get", "Chart", "value_axis"): (_chart, lambda s, b: _chart(s, b).value_axis, None),
    ("call", "ChartAxis", "set"): (lambda s, b: _chart(s, b).value_axis,
                                   lambda s, b: _chart(s, b).value_axis.set(
                                       title="Potential", number_format="#,##0"), None),
    ("get", "Book", "names"): (_nothing, lambda s, b: b.names, None),
    ("call", "Names", "__getitem__"): (lambda s, b: b.names, lambda s, b: b.names[
        "Maillon_live_layout"], None),
    ("get", "Name", "refers_to"): (lambda s, b: b.names["Maillon_live_layout"],
                                   lambda s, b: b.names["Maillon_live_layout"].refers_to, None),
    ("call", "Names", "add"): (lambda s, b: b.names,
                               lambda s, b: b.names.add("Maillon_live_layout", '="x"'), None),
    ("set", "Chart", "name"): (_chart, _set(_chart, "name", "Maillon chart 1"), None),
    ("call", "Charts", "__getitem__"): (lambda s, b: s.charts,
                                        lambda s, b: s.charts["Maillon chart 1"], None),
    ("call", "Range", "move"): (lambda s, b: (_rng(s, b), _rng(s, b, "D1")),
                                lambda s, b: _rng(s, b).move(_rng(s, b, "D1")), None),
    ("get", "Book", "name"): (_nothing, lambda s, b: b.name, None),
    ("call", "Book", "save"): (_nothing, lambda s, b: b.save(), None),
    ("call", "Book", "close"): (_nothing, lambda s, b: b.close(), None),
    ("get", "App", "books"): (_app, lambda s, b: b.app.books, None),
}
#: What some Apple Events answer for one check (by the last name before the call).
MAC_ANSWERS = {("call", "Book", "save"): {"name": "team.xlsx"}}
#: Prices taken from reading xlwings, not measured: the double cannot run them.
_NO_COMMENT_DOUBLES = ("priced from the xlwings source cited; the counting doubles have no "
                      "comment collections to walk")
NOT_MEASURED = {("call", "App", "alert"): "a message box (win32api.MessageBox / osax), one "
                                          "round trip by convention",
                ("get", "Sheet", "notes"): _NO_COMMENT_DOUBLES,
                ("get", "Sheet", "comments"): _NO_COMMENT_DOUBLES,
                ("call", "Comments", "__len__"): _NO_COMMENT_DOUBLES,
                ("get", "Sheet", "names"): _NO_COMMENT_DOUBLES,
                ("get", "Name", "api"): _NO_COMMENT_DOUBLES,
                ("get", "Name", "name"): _NO_COMMENT_DOUBLES,
                ("get", "Range", "formula"): _NO_COMMENT_DOUBLES,
                ("call", "Books", "open"): "main.Books.open checks that the file exists on "
                                           "disk and looks for an open book of its name first: "
                                           "the doubles hold neither (priced from the source "
                                           "cited)"}


def _mac_answers():
    backend = macos_backend()
    return {"calculation": backend.calculation_s2k["automatic"]}


def measured(key, platform: str) -> int:
    before, action, extra = CHECKS[key]
    cost = windows_cost if platform == "win32" else macos_cost
    kw = {} if platform == "win32" else {"answers": {**_mac_answers(),
                                                     **MAC_ANSWERS.get(key, {})}}
    items = extra if key[0] == "walk" else 0
    return cost(action, items=items, **kw)[0] - cost(before, items=items, **kw)[0]


def price(entry, detail):
    if callable(entry):
        return entry(detail)
    return entry


def round_trips(fake: FakeExcel, platform: str) -> tuple[int, dict]:
    """What the calls ``fake`` recorded cost in Excel round trips on ``platform``.

    Returns (total, {what: round trips}); a call the table does not price fails.
    """
    column = 0 if platform == "win32" else 1
    spent: dict = {}
    unpriced = []
    for kind, cls, member, detail in fake.ledger():
        if kind == "com get" and platform != "win32" and member in APPLESCRIPT_REFERENCES:
            spent[("apple event", "Book.api", member)] = \
                spent.get(("apple event", "Book.api", member), 0) + 1  # its .get()
            continue
        if kind == "com get" and platform != "win32" and member == "get":
            continue  # the .get() of a reference above, priced with it
        if kind.startswith("com "):
            assert platform == "win32", f"COM ({member}) used on {platform}"
            if kind == "com get":
                cost = 0 if member in COM_METHODS else 1
            elif kind == "com call":
                if member.rsplit(".", 1)[-1].startswith("__"):
                    continue  # the fake's own truth test of a mock, not a COM call
                cost = 1
            else:
                cost = 1
            key = (kind, "COM", member if kind != "com call" else member.rsplit(".", 1)[-1])
        else:
            if kind == "call" and member == "__iter__":
                continue  # priced by its ("walk", ...) record, which knows the items walked
            key = (kind, cls, member)
            entry = COSTS.get(key)
            if entry is None or entry[column] is None:
                unpriced.append(key)
                continue
            if kind == "walk":
                cost = entry[column](detail)
            elif kind == "call" and callable(entry[column]):
                cost = entry[column]((detail.args, detail.kwargs))
            else:
                cost = entry[column]
        spent[key] = spent.get(key, 0) + cost
    assert not unpriced, f"calls the cost table does not price on {platform}: {set(unpriced)}"
    return sum(spent.values()), spent


def value_writes(fake: FakeExcel) -> int:
    """Value writes the recompute made (each one round trip, in COSTS)."""
    return sum(1 for kind, cls, member, _ in fake.ledger()
               if (kind, cls, member) == ("set", "Range", "raw_value"))


def value_chunks(result_specs, platform: str) -> int:
    """Round trips that xlwings' write budget adds: each table of more than 100,000 cells is
    written in chunks, each chunk a range (one round trip on Windows, none on macOS) and a
    write (one), beside the table's whole range (Windows: one more, for the resize)."""
    extra = 0
    for spec in result_specs:
        for t in spec.tables:
            rows, cols = max(len(t.data), 1) + 1, len(t.data.columns)
            chunks = math.ceil(rows / max(1, WRITE_BUDGET // cols))
            if chunks > 1:
                extra += (2 * chunks - 1) if platform == "win32" else chunks - 1
    return extra


@pytest.mark.parametrize("key", sorted(k for k in COSTS if k not in NOT_MEASURED))
@pytest.mark.parametrize("platform", ["win32", "darwin"])
def test_cost_table_matches_xlwings(key, platform):
    entry = COSTS[key][0 if platform == "win32" else 1]
    if entry is None:
        pytest.skip(f"not used on {platform}")
    _, _, extra = CHECKS[key]
    if key[0] == "walk":
        for n in (2, 3):
            before, action, _ = CHECKS[key]
            cost = windows_cost if platform == "win32" else macos_cost
            kw = {} if platform == "win32" else {"answers": _mac_answers()}
            got = cost(action, items=n, **kw)[0] - cost(before, items=n, **kw)[0]
            assert got == entry(n), (key, platform, n)
        return
    expected = price(entry, extra)
    assert measured(key, platform) == expected, (key, platform)


def test_every_priced_call_is_checked_or_explained():
    assert set(COSTS) == set(CHECKS) | set(NOT_MEASURED)
    for key, (win, mac, source) in COSTS.items():
        assert source and (win is not None or mac is not None), key


RUNS: dict = {}
#: A recompute that formats every engine sheet (one on a workbook an older Maillon wrote, or
#: whose layout record is gone; a layout change formats only the sheets it touches: see
#: ``test_live_after_file_mode.py``; the first one after a file-mode recompute keeps the
#: file mode's formats, same file). Measured 1,364-1,371 on Windows and 1,145-1,148 on macOS
#: at 1k, 2k and 20k accounts; 7 / 14 of them put every row back to the standard height
#: (issue 12: a full pass left the heights an earlier layout set); on Windows the charts'
#: value axes and the colour scales go through COM (-34: 1,398-1,405 before). The first recompute
#: also reads once the engine sheets an older Maillon (or the template) left without
#: their engine-area names, to keep what a user typed beside the tables (+about 20).
FULL_BUDGET = {"win32": 1_371, "darwin": 1_148}


def _more_accounts(fake: FakeExcel, n: int) -> None:
    """The user pastes a tenth more accounts into tblAccounts: every table, count, title and
    fill that follows the data changes, the layout (columns, segments) does not."""
    from maillon.engine import contract as C
    from maillon.engine.samples import small_input

    from test_live import HEADER_ROW, _table_values

    entry = fake.tables[C.TBL_ACCOUNTS.lower()]
    values = _table_values(small_input(n + n // 10, Segments=4).accounts)
    fake._clear(entry[1], "A:ZZ")
    entry[2] = (HEADER_ROW, 1, HEADER_ROW + len(values) - 1, len(values[0]))
    fake._store(entry[1], entry[2], values)


def _recompute_twice(n: int, platform: str, monkeypatch, edit: bool = False):
    """A workbook recomputed live once (formats applied), then once more (after the user
    added accounts, with ``edit``): what that costs."""
    fake = synthetic_workbook(n)
    code, first = run_live(fake, monkeypatch, platform=platform)
    assert code == 0, fake.alerts
    full = round_trips(fake, platform)
    fake.range_sets.clear()
    fake.events.clear()
    if edit:
        _more_accounts(fake, n)
    code, result = run_live(fake, monkeypatch, platform=platform)
    assert code == 0, fake.alerts
    return fake, result, full


@pytest.mark.parametrize("edit", [False, True], ids=["unchanged", "more accounts"])
@pytest.mark.parametrize("platform", ["win32", "darwin"])
@pytest.mark.parametrize("n", [1_000, 2_000, 20_000])
def test_a_recompute_costs_at_most_400_round_trips(n, platform, edit, monkeypatch):
    fake, result, (full, _) = _recompute_twice(n, platform, monkeypatch, edit)
    accounts = n + n // 10 if edit else n
    assert result.key_figures["Accounts"] == accounts
    total, spent = round_trips(fake, platform)
    from maillon.addin.render.layout import layout
    chunks = value_chunks(layout(result), platform)
    RUNS[(n, platform, edit)] = (total, chunks)
    top = sorted(spent.items(), key=lambda kv: -kv[1])[:40]
    print(f"\n{platform} {accounts:,} accounts ({'after edits' if edit else 'unchanged'}): "
          f"{total} round trips ({chunks} of them for value chunks), {full} for the first "
          f"one; most: {top}")
    assert total <= BUDGET[edit], (total, top)
    assert full <= FULL_BUDGET[platform], full
    for other in [(m, platform, False) for m in (1_000, 2_000, 20_000) if m != n]:
        if not edit and other in RUNS:
            # everything but the value chunks is the same at every size, but for the notes
            # typed beside the Target List: above 200,000 cells its used area is read around
            # its table (a few rectangles, two calls each, whatever the number of rows).
            # After edits, what is rewritten depends on what the edit changed (the Segments
            # sheet's row heights follow its texts): the budget bounds it.
            assert abs((total - chunks) - (RUNS[other][0] - RUNS[other][1])) <= 8


def test_the_second_recompute_keeps_formats_and_rewrites_values(monkeypatch):
    fake, result, _ = _recompute_twice(300, "win32", monkeypatch)
    props = {p for _, _, p, _ in fake.range_sets}
    # values and the fills of table cells only
    assert props <= {"raw_value", "color"}, props
    assert fake.defined_names  # the record of what was formatted
    assert not [e for e in fake.events if e[0] == "add chart"]


def test_a_file_mode_recompute_in_between_makes_the_next_one_format_again(monkeypatch):
    fake = synthetic_workbook(300)
    assert run_live(fake, monkeypatch)[0] == 0
    fake.range_sets.clear()
    record = next(iter(fake.defined_names.values()))
    # the file mode rewrites the engine sheets and appends its own run to tblHistory:
    # the record's stamp is no longer the last run
    fake.defined_names["Maillon_live_layout"] = record.replace('="', '="2001-01-01 00:00:00|', 1)
    assert run_live(fake, monkeypatch)[0] == 0
    props = {p for _, _, p, _ in fake.range_sets}
    assert {"number_format", "column_width", "font.bold"} <= props


def test_more_accounts_keep_the_formats_and_fill_the_new_rows(monkeypatch):
    from maillon.engine import contract as C
    from maillon.engine.samples import small_input

    from test_live import HEADER_ROW, _table_values

    fake = synthetic_workbook(300)
    assert run_live(fake, monkeypatch)[0] == 0
    # the user pastes 300 more accounts into tblAccounts
    entry = fake.tables[C.TBL_ACCOUNTS.lower()]
    values = _table_values(small_input(600, Segments=4).accounts)
    fake._clear(entry[1], "A:ZZ")
    entry[2] = (HEADER_ROW, 1, HEADER_ROW + len(values) - 1, len(values[0]))
    fake._store(entry[1], entry[2], values)
    fake.range_sets.clear()
    code, result = run_live(fake, monkeypatch)
    assert code == 0 and result.key_figures["Accounts"] == 600
    props = {p for _, _, p, _ in fake.range_sets}
    # the layout did not change: formats kept; on the sheets whose data-dependent part
    # changed, the fills of table cells and the row heights (the Segments sheet's follow its
    # wrapped texts) are rewritten
    assert props <= {"raw_value", "color", "row_height"}, props
    targets = [(a, v) for s, a, p, v in fake.range_sets if s == C.SHEET_TARGETS and p == "color"]
    last = HEADER_ROW + 600  # the table's last row
    filled = [a for a, v in targets if v is not None]
    assert filled and all(a.endswith(str(last)) for a in filled)  # down to the last account
    cleared = [a for a, v in targets if v is None]
    assert cleared and all(f"{last + 1}:" in a for a in cleared)  # and none below it


def _sheet_state(fake: FakeExcel, name: str) -> dict:
    return fake._state(fake.book.sheets[name])


def test_an_unchanged_recompute_writes_only_values(monkeypatch):
    fake, _, _ = _recompute_twice(300, "win32", monkeypatch)
    props = {p for _, _, p, _ in fake.range_sets}
    assert props == {"raw_value"}, props  # fills, formats: those of the last run
    page = {"PageSetup", "LeftHeader", "CenterHeader", "RightHeader", "RightFooter",
            "PrintArea", "Visible"}
    assert not page & {name for name, _ in fake.api_sets}  # print setup, hidden names: kept
    assert not [k for k in fake.ledger() if k[:3] == ("set", "Chart", "title")]
    assert not [k for k in fake.ledger() if k[:3] == ("call", "Names", "add")
                and k[3].args[0] != "Maillon_live_layout"]
    # a table is resized only when its size changed (History gains its run row)
    resized = [e for e in fake.events if e[0] == "resize"]
    assert resized and all(old != new for _, _, old, new in resized)


def test_what_a_user_types_between_two_live_recomputes_is_kept(monkeypatch):
    from maillon.engine import contract as C

    fake = synthetic_workbook(300)
    assert run_live(fake, monkeypatch)[0] == 0
    right = len(C.TARGET_COLUMNS) + 3
    fake.put(C.SHEET_TARGETS, 7, right, "Call Lyon back")
    fake.put(C.SHEET_DASHBOARD, 40, 1, "=B5*2")
    fake.add_note(C.SHEET_DASHBOARD, 5, 2, "Includes the Lyon prospects", "Claire")
    code, result = run_live(fake, monkeypatch)
    assert code == 0, fake.alerts
    assert fake.cell(C.SHEET_TARGETS, 7, right) == "Call Lyon back"
    assert fake.cell(C.SHEET_DASHBOARD, 40, 1) == "=B5*2"
    assert fake.notes(C.SHEET_DASHBOARD) == {(5, 2): "Includes the Lyon prospects"}
    # and the recompute read them through the batched read: counts first, then the notes
    ledger = fake.ledger()
    assert ("get", "Sheet", "notes") in {k[:3] for k in ledger}
    assert sum(1 for k in ledger if k[:3] == ("com get", "", "Count")) >= 14


def test_a_chart_a_user_deleted_is_drawn_again(monkeypatch):
    from maillon.engine import contract as C

    fake = synthetic_workbook(300)
    assert run_live(fake, monkeypatch)[0] == 0
    charts = _sheet_state(fake, C.SHEET_DASHBOARD)["_charts"]
    drawn = len(charts)
    charts.pop()
    fake.events.clear()
    assert run_live(fake, monkeypatch)[0] == 0
    assert len(charts) == drawn
    assert [e for e in fake.events if e[0] == "add chart"]


def test_an_engine_area_name_a_user_deleted_is_written_again(monkeypatch):
    from maillon.addin.render.specs import ENGINE_AREA_NAME
    from maillon.engine import contract as C

    fake = synthetic_workbook(300)
    assert run_live(fake, monkeypatch)[0] == 0
    names = _sheet_state(fake, C.SHEET_DASHBOARD)["_names"]
    formula = names.pop(ENGINE_AREA_NAME.lower())
    assert run_live(fake, monkeypatch)[0] == 0
    assert ENGINE_AREA_NAME.lower() in names
    assert fake._state(names[ENGINE_AREA_NAME.lower()])["refers_to"] == \
        fake._state(formula)["refers_to"]


def test_an_excel_without_threaded_comments_still_reads_the_notes(monkeypatch):
    """Excel 2016/2019 has no Worksheet.CommentsThreaded: reading it fails with a COM error."""
    from maillon.engine import contract as C

    fake = synthetic_workbook(300)
    assert run_live(fake, monkeypatch)[0] == 0
    fake.add_note(C.SHEET_DASHBOARD, 5, 2, "Includes the Lyon prospects", "Claire")
    for sheet in fake.sheets:
        threaded = type(sheet.api.CommentsThreaded)
        threaded.Count = property(lambda self: (_ for _ in ()).throw(
            AttributeError("Worksheet.CommentsThreaded")))
    code, _ = run_live(fake, monkeypatch)
    assert code == 0, fake.alerts
    assert fake.notes(C.SHEET_DASHBOARD) == {(5, 2): "Includes the Lyon prospects"}


def test_the_comment_counts_cost_what_xlwings_com_objects_make_of_them():
    """The notes read asks ``Worksheet.Comments.Count`` and ``CommentsThreaded.Count`` through
    ``Sheet.api`` (``_xlwindows.Sheet.api``: the pywin32 object itself): two property reads
    each, as the round-trip ledger prices them (``com get``: 1 each)."""
    trips, log = windows_cost(lambda s, b: (s.api.Comments.Count, s.api.CommentsThreaded.Count))
    assert trips == 4, log
    fake = synthetic_workbook(50)
    sheet = fake.sheets[0]
    fake.reset_counts()
    assert sheet.api.Comments.Count == 0 and sheet.api.CommentsThreaded.Count == 0
    assert round_trips(fake, "win32")[0] == trips


def test_the_layout_record_fits_in_one_excel_text_and_reads_back():
    """Excel refuses a text constant of more than 255 characters in a name's formula: the
    record of the engine's sheets fits; one that would not drops the second digests, and
    the sheets then keep their formats but rewrite their fills, headers and titles."""
    from maillon.addin.live import write as W
    from maillon.engine.pipeline import recompute
    from maillon.engine.samples import small_input
    from maillon.addin.render.layout import layout

    plans = [W._plan_sheet(s) for s in layout(recompute(small_input(200, Segments=4)))]
    record = W._layout_record("2026-12-01 18:00:00", plans)
    assert len(record) - 3 <= W.TEXT_LIMIT and "/" in record
    fake = FakeExcel({"README": []})
    fake.defined_names[W.LAYOUT_NAME] = record
    stamp, digests = W.read_layout_record(fake.book)
    assert stamp == "2026-12-01 18:00:00"
    assert all(W._unchanged(digests, p) == (True, True) for p in plans)
    long = [replace(p, spec=replace(p.spec, name=p.spec.name * 2)) for p in plans]
    record = W._layout_record("2026-12-01 18:00:00", long)
    assert len(record) - 3 <= W.TEXT_LIMIT and "/" not in record
    fake.defined_names[W.LAYOUT_NAME] = record
    _, digests = W.read_layout_record(fake.book)
    assert all(W._unchanged(digests, p) == (True, False) for p in long)


# --- a slow recompute takes the file route (issue 12) ------------------------------------------
#: Round trips of a recompute that goes through the file because formatting it in Excel would
#: be slow: reading the workbook and deciding (as any live recompute does), the question, the
#: save, the close, the open and the closing message. The file mode does the formatting.
ROUTED_BUDGET = 400
ROUTE_RUN = __import__("datetime").datetime(2026, 12, 1, 18, 30)


@pytest.fixture(scope="module")
def demo_books(tmp_path_factory):
    """Per size: a workbook filled and never recomputed (as after ``maillon new`` and an
    import) and the same recomputed by the file mode (as ``maillon demo`` leaves it)."""
    from maillon.addin.filemode.recompute import recompute_file
    from maillon.workbook_templates.build import build_demo

    folder = tmp_path_factory.mktemp("routed")
    books = {}
    for n in (1_000, 20_000):
        fresh = build_demo(folder / f"fresh-{n}.xlsx", n_accounts=n)
        done = folder / f"done-{n}.xlsx"
        recompute_file(fresh, done)
        books[n] = fresh, done
    return books


def segments_edit(path, value: int = 6):
    """Settings > Segments typed in Excel and not saved yet: ``(edit the fake, TableEdit)``."""
    from maillon.addin.filemode.table_edits import TableEdit
    from maillon.engine import contract as C

    def edit(fake):
        entry = fake.tables[C.TBL_SETTINGS.lower()]
        sheet, (r1, c1, r2, _) = entry[1], entry[2]
        cells = fake._state(sheet)["_cells"]
        row = next(r for r in range(r1 + 1, r2 + 1) if cells.get((r, c1)) == "Segments")
        cells[(row, c1 + 1)] = value
        return TableEdit(C.TBL_SETTINGS, cells={(row, str(cells[(r1, c1 + 1)])): value})
    return edit


def routed_click(path, platform: str, answers=("yes",), older: bool = False, edit=None):
    """One click on Recompute segments in Excel, with the workbook file ``path`` open
    (``test_live_files.Session``: save writes what was typed, close and open are Excel's):
    ``older``: the layout record is gone (a book an older Maillon wrote); ``edit``: what the
    user typed and did not save (see :func:`segments_edit`). Returns the session, the exit
    code and the round trips (total, by call); ``session.cpu`` is the click's CPU time (the
    file mode's recompute included, the fake's set-up not)."""
    from maillon.addin import live_files as LF
    from maillon.addin.live import ribbon as live
    from maillon.addin.render.live_plan import LAYOUT_NAME

    from live_fakes import fake_from_file
    from test_live_files import Session

    fake = fake_from_file(path)
    if older:
        del fake.defined_names[LAYOUT_NAME]
    unsaved = [edit(fake)] if edit is not None else []
    s = Session(path, platform=platform, answers=list(answers), unsaved=unsaved, fake=fake)
    fake.reset_counts()
    cpu = time.process_time()
    code = live.run(s.book, platform=platform, route=LF.route_formatting)
    s.cpu = time.process_time() - cpu  # the click's own (the fake's set-up left out)
    return s, code, round_trips(fake, platform)


@pytest.fixture
def fixed_file_clock(monkeypatch):
    """The file mode's run at :data:`ROUTE_RUN` (for comparing two runs' files)."""
    import maillon.addin.filemode.recompute as R

    real = R.recompute_file

    def at_route_run(path, out=None, progress=R._noop, **kw):
        return real(path, out, progress, **{"run_at": ROUTE_RUN, **kw})
    monkeypatch.setattr(R, "recompute_file", at_route_run)
    return real


def _engine_values(path) -> dict:
    import openpyxl

    from maillon.engine import contract as C

    wb = openpyxl.load_workbook(path, read_only=True)
    try:
        return {name: [row for row in wb[name].iter_rows(values_only=True)]
                for name in C.ENGINE_SHEETS}
    finally:
        wb.close()


def _user_frames(path) -> dict:
    from maillon.addin.filemode.read import read_tables
    from maillon.engine import contract as C

    names = [C.TBL_ACCOUNTS, C.TBL_SETTINGS, C.TBL_FEEDBACK]
    return {k: v.data for k, v in read_tables(path, names).items()}


SCENARIOS = {"new book": dict(book=0, answers=()),
             "older book": dict(book=1, older=True),
             "segments 4 -> 6": dict(book=1, segments=6)}


@pytest.mark.parametrize("scenario", list(SCENARIOS))
@pytest.mark.parametrize("platform", ["win32", "darwin"])
@pytest.mark.parametrize("n", [1_000, 20_000])
def test_a_slow_recompute_goes_through_the_file_in_at_most_400_round_trips(
        n, platform, scenario, demo_books, tmp_path, monkeypatch):
    import shutil

    monkeypatch.setattr("maillon.addin.live.ribbon.LOCK_DIR", tmp_path / "locks")
    how = SCENARIOS[scenario]
    path = tmp_path / "team.xlsx"
    shutil.copyfile(demo_books[n][how["book"]], path)
    edit = segments_edit(path, how["segments"]) if "segments" in how else None
    s, code, (total, spent) = routed_click(path, platform, how.get("answers", ("yes",)),
                                           older=how.get("older", False), edit=edit)
    assert code == 0, s.prompts
    assert s.events == ["save", "close", "open"]  # the route, and no write into the open book
    assert not s.fake.writes and not s.fake.range_sets
    top = sorted(spent.items(), key=lambda kv: -kv[1])[:12]
    print(f"\n{platform} {n:,} {scenario}, through the file: {total} round trips; most: {top}")
    assert total <= ROUTED_BUDGET, (total, top)
    (message,) = s.messages()
    assert message.startswith("Recompute done in") and "through the file" in message
    assert f"accounts   {n:>8,}" in message and "Traceback" not in message
    if "segments" in how:
        assert "segments          6" in message
    asked = [p for p, kw in s.prompts if kw["buttons"] == "yes_no_cancel"]
    assert len(asked) == (0 if scenario == "new book" else 1)


@pytest.mark.parametrize("platform", ["win32", "darwin"])
def test_the_file_route_gives_the_workbook_a_file_mode_recompute_gives(
        platform, demo_books, tmp_path, monkeypatch, fixed_file_clock):
    """The user changed the number of segments and did not save: the route saves that edit,
    recomputes the file, and the engine sheets hold what ``maillon recompute`` of the saved
    workbook writes; the layout record it writes makes the next click a quick one."""
    import shutil

    from maillon.addin.filemode.table_edits import save_table_edits
    from maillon.addin.render.live_plan import LAYOUT_NAME, parse_layout_record

    from live_fakes import fake_from_file

    monkeypatch.setattr("maillon.addin.live.ribbon.LOCK_DIR", tmp_path / "locks")
    path, ref = tmp_path / "team.xlsx", tmp_path / "reference.xlsx"
    shutil.copyfile(demo_books[1_000][1], path)
    edit = segments_edit(path)
    s, code, _ = routed_click(path, platform, edit=edit)
    assert code == 0 and s.events == ["save", "close", "open"], s.prompts
    (prompt,) = [p for p, kw in s.prompts if kw["buttons"] == "yes_no_cancel"]
    assert "Dashboard" in prompt and "team.xlsx" in prompt and "layout changed" in prompt
    assert "Yes: save team.xlsx" in prompt and "No: recompute in Excel" in prompt
    # the reference: the same edit saved, then the file mode's recompute, at the same time
    shutil.copyfile(demo_books[1_000][1], ref)
    save_table_edits(ref, [edit(fake_from_file(ref))])
    fixed_file_clock(ref, run_at=ROUTE_RUN)
    assert _engine_values(path) == _engine_values(ref)
    mine, theirs = _user_frames(path), _user_frames(ref)
    for name in theirs:
        assert mine[name].equals(theirs[name]), name  # the edit typed in Excel is kept
    stamp, digests = parse_layout_record(fake_from_file(path).defined_names[LAYOUT_NAME])
    assert stamp == "2026-12-01 18:30:00" and digests
    # the next click keeps the formats the file mode recorded: no route, a quick recompute
    s, code, (total, _) = routed_click(path, platform)
    assert code == 0 and s.events == [] and s.prompts[-1][0].startswith("Recompute done")
    assert "through the file" not in s.prompts[-1][0]
    print(f"\n{platform}: the click after the route: {total} round trips")
    assert total <= NEXT_AFTER_ROUTE[platform]


#: The click after the file route, which finds the layout record the file mode wrote: every
#: sheet keeps its formats, History's gained a run row (its columns' formats are extended).
NEXT_AFTER_ROUTE = {"win32": 320, "darwin": 260}


@pytest.mark.parametrize("platform", ["win32", "darwin"])
def test_the_forecast_prices_the_formatting_as_the_writer_spends_it(platform, monkeypatch):
    """The route is taken on the forecast (``write.forecast``), made before anything is
    written: it must say what the writer then spends on formats -- the difference between a
    run that formats and one that keeps every format -- within 15 %, and call slow exactly
    the runs that miss the budget (a full pass, a change of the number of segments)."""
    from maillon.addin.live import ribbon as live
    from maillon.addin.live import write as W

    seen = []

    def spy(*a, **k):
        seen.append(W.forecast(*a, **k))
        return seen[-1]
    monkeypatch.setattr(live, "forecast", spy)
    fake = synthetic_workbook(2_000)
    totals = {}
    for label, edit in [("full", None), ("kept", None), ("more", _more_accounts),
                        ("segments", segments_edit(None))]:
        if edit is not None:
            edit(fake, 2_000) if edit is _more_accounts else edit(fake)
        fake.reset_counts()
        assert live.run(fake.book, platform=platform, route=lambda *a: None) == 0, fake.alerts
        totals[label] = round_trips(fake, platform)[0], seen[-1]
    kept = totals["kept"][0]
    for label in ("full", "segments"):
        total, ahead = totals[label]
        assert ahead.slow and ahead.sheets
        assert abs(ahead.trips - (total - kept)) <= 0.15 * (total - kept), (label, ahead, total)
    assert len(totals["full"][1].sheets) == 7 and not totals["full"][1].recorded
    assert totals["segments"][1].recorded
    for label in ("kept", "more"):
        assert totals[label][1].trips == 0 and not totals[label][1].slow
    assert totals["more"][0] <= BUDGET[True]  # the forecast itself reads nothing more
