"""A simulated Excel workbook made of xlwings' own classes, autospecced.

Every object live mode touches is specced on the real xlwings class (Book, App,
Sheets, Sheet, Range, Tables, Table, Charts, Chart, Font, Borders,
ConditionalFormats, DataValidation, PageSetup, ChartSeries…), so a misspelled
method or a wrong argument fails as it would against Excel.

:class:`LazyAutospec` gives the checks of ``create_autospec(cls, instance=True)``
-- attribute names from the real class, every method call bound to the real
method's signature -- but builds each method mock on first use:
``create_autospec`` builds ~100 signature-checked children per object up front
(about 0.2 s for an ``xlwings.Range``; one recompute creates ~600 ranges).
``test_lazy_autospec_is_as_strict_as_create_autospec`` checks the equivalence.
Property reads and writes go through a ``PropertyMock`` per property and are
counted; ``.api`` objects (the Windows COM object model) are recording
MagicMocks whose method calls *and* attribute assignments are counted.

:attr:`FakeExcel.calls` is the number of calls into "Excel".
"""
from __future__ import annotations

import inspect
import re
from types import FunctionType
from unittest import mock

from xlsxwriter.utility import xl_col_to_name
from xlwings import main as xwm

from maillon.addin.live.write import parse_address
from maillon.addin.ooxml.package import col_number

_CONFIG_ATTRS = {"return_value", "side_effect", "name", "called", "call_count", "call_args",
                 "call_args_list", "mock_calls", "method_calls"}


class _Method(mock.MagicMock):
    """A method mock that binds every call to the real method's signature."""

    def __call__(self, *args, **kwargs):
        signature = self.__dict__.get("_spec_signature")
        if signature is not None:
            signature.bind(*args, **kwargs)  # TypeError, as create_autospec raises
        return super().__call__(*args, **kwargs)


class LazyAutospec(mock.NonCallableMagicMock):
    """``create_autospec(cls, instance=True)``, with method mocks built on first use."""

    def __getattr__(self, name):
        d = self.__dict__
        cls = d.get("_spec_class") if d.get("_mock_methods") is not None else None
        if cls is not None and not name.startswith("_") and name not in d["_mock_children"]:
            attr = inspect.getattr_static(cls, name, None)
            if isinstance(attr, FunctionType):
                child = _Method(spec=attr, _eat_self=True, name=name, parent=self,
                                _new_name=name, _new_parent=self)
                hook = d.get("_fake_hooks", {}).get(name)
                if hook is not None:  # a side effect given before the method was built
                    child.side_effect = hook
                d["_mock_children"][name] = child
                return child
        return super().__getattr__(name)


def autospec(cls):
    return LazyAutospec(spec=cls)


class ApiMock(mock.MagicMock):
    """A COM object: records attribute reads (``rng.Borders``) and assignments
    (``ps.Orientation = 2``) too, and can be told to refuse an assignment."""

    def __setattr__(self, name, value):
        if not name.startswith("_") and name not in _CONFIG_ATTRS:
            refuse = _SINK.get("refuse", {}).get(name)
            if refuse is not None:
                _SINK["refused"].append((name, value))
                raise refuse
            sink = _SINK.get("sets")
            if sink is not None:
                sink.append((name, value))
        super().__setattr__(name, value)

    def __getattr__(self, name):
        if not name.startswith("_") and name not in _CONFIG_ATTRS:
            sink = _SINK.get("gets")
            if sink is not None:
                sink.append(name)
        return super().__getattr__(name)


_SINK: dict = {}


def _counted(collection, count) -> None:
    """Give a COM collection mock a ``Count`` that answers ``count()`` and is recorded as a
    COM property read (``collection`` itself was recorded when it was looked up)."""
    def read(self):
        sink = _SINK.get("gets")
        if sink is not None:
            sink.append("Count")
        return count()
    type(collection).Count = property(read)


def com_properties(api, **values) -> None:
    """Give a COM object mock properties (``FullName=...``) that answer ``values``, can be set
    again, and are recorded as COM property reads when read."""
    for name, value in values.items():
        store = {"value": value}

        def read(self, _name=name, _store=store):
            sink = _SINK.get("gets")
            if sink is not None:
                sink.append(_name)
            return _store["value"]

        def write(self, new, _store=store):
            _store["value"] = new
        setattr(type(api), name, property(read, write))


class Lazy:
    """A property value built on first read (and kept)."""

    def __init__(self, factory):
        self.factory = factory


def _properties(cls) -> list[str]:
    return [n for n, v in inspect.getmembers(cls) if isinstance(v, property)]


def _address(r1, c1, r2=None, c2=None) -> str:
    a = f"${xl_col_to_name(c1 - 1)}${r1}"
    if r2 is None or (r2, c2) == (r1, c1):
        return a
    return f"{a}:${xl_col_to_name(c2 - 1)}${r2}"


class _Formula(str):
    """A formula a user typed into a cell (:meth:`FakeExcel.put`)."""


def _formula_of(v) -> str:
    """What ``Range.formula`` gives for a cell holding ``v``: text that looks like a
    formula shows Excel's text prefix."""
    if isinstance(v, str) and v.startswith("=") and not isinstance(v, _Formula):
        return "'" + v
    return str(v)


class FakeExcel:
    """A workbook: ``{sheet name: [(table name, header row, first col, values 2D)]}``."""

    def __init__(self, layout: dict[str, list[tuple]]):
        self.roots: list = []
        self.props: dict = {}  # (id(mock), property name) -> PropertyMock
        self.api_sets: list = []
        self.api_gets: list = []  # names of COM properties read (and methods looked up)
        self.iterations: list = []  # (class name, items) of every collection walked
        self.refused: list = []  # COM assignments refused (see refuse())
        _SINK.update(sets=self.api_sets, gets=self.api_gets, refuse={}, refused=self.refused)
        self.writes: list = []  # (sheet, address, value) of every range.value = ...
        self.range_sets: list = []  # (sheet, address, property, value) of every Range property set
        self.events: list = []  # (what, details) of structural changes
        self.alerts: list = []
        self.app = self._new(xwm.App, api=Lazy(self._api), status_bar=None,
                             screen_updating=True, calculation="automatic",
                             engine=_FakeEngine())
        self.app.alert.side_effect = lambda prompt, **kw: self.alerts.append((prompt, kw))
        self.sheets: list = []
        self.tables: dict = {}  # lower name -> [table mock, sheet mock, bounds, values]
        self.book = self._new(xwm.Book, app=self.app, api=Lazy(self._api), name="team.xlsx",
                              sheet_names=Lazy(None), names=Lazy(self._names))
        self.defined_names: dict = {}  # name -> refers_to
        self.sheets_coll = self._new(xwm.Sheets)
        self._state(self.book)["sheets"] = self.sheets_coll
        self._state(self.book)["sheet_names"] = _Dynamic(lambda: [self.name(s) for s in self.sheets])
        self.sheets_coll.__iter__.side_effect = lambda: self._walk("Sheets", self.sheets)
        self.sheets_coll.__len__.side_effect = lambda: len(self.sheets)
        self.sheets_coll.__getitem__.side_effect = self._sheet_getitem
        self.sheets_coll.add.side_effect = self._add_sheet
        for sheet_name, tables in layout.items():
            sheet = self._add_sheet(name=sheet_name, record=False)
            for name, row, col, values in tables:
                self._make_table(sheet, name, (row, col, row + len(values) - 1,
                                               col + len(values[0]) - 1), values)
        self.roots_at_start = None
        self.reset_counts()

    # --- counting ------------------------------------------------------------------------
    def reset_counts(self):
        for m in self.roots:
            m.reset_mock()
        self.api_sets.clear()
        self.api_gets.clear()
        self.iterations.clear()

    def refuse(self, prop: str, error: Exception) -> None:
        """Make every COM assignment of ``prop`` raise ``error`` (e.g. PaperSize, error 1004)."""
        _SINK["refuse"][prop] = error

    def _walk(self, what: str, items):
        items = list(items)
        self.iterations.append((what, len(items)))
        return iter(items)

    def ledger(self) -> list[tuple]:
        """Every call into "Excel" since the last reset, as ``(kind, class, member, detail)``:
        ``("call", "Range", "clear_contents", call)``, ``("get"/"set", "Range", "color", value)``,
        ``("com get"/"com set"/"com call", "", name, ...)`` and ``("walk", "Sheets", "", n)``."""
        ids = {id(m): m for m in self.roots}
        out = []
        props = {id(pm): key for key, pm in self.props.items()}
        for m in self.roots:
            if isinstance(m, ApiMock):
                out += [("com call", "", c[0], c) for c in m.mock_calls]
            elif id(m) in props:
                owner = ids.get(props[id(m)][0])
                cls = owner._spec_class.__name__ if owner is not None else "?"
                for c in m.mock_calls:
                    out.append(("set" if c.args else "get", cls, props[id(m)][1],
                                c.args[0] if c.args else None))
            else:
                cls = m._spec_class.__name__
                out += [("call", cls, c[0], c) for c in m.mock_calls if "." not in c[0]]
        out += [("com get", "", name, None) for name in self.api_gets]
        out += [("com set", "", name, value) for name, value in self.api_sets]
        out += [("walk", what, "", n) for what, n in self.iterations]
        return out

    @property
    def calls(self) -> int:
        return sum(len(m.mock_calls) for m in self.roots) + len(self.api_sets)

    # --- plumbing ------------------------------------------------------------------------
    def _api(self):
        api = ApiMock()
        self.roots.append(api)
        return api

    def _state(self, m) -> dict:
        return self._states[id(m)]

    def _new(self, cls, **props):
        m = autospec(cls)
        if not hasattr(self, "_states"):
            self._states = {}
        state = dict(props)
        self._states[id(m)] = state
        self.roots.append(m)
        for pname in _properties(cls):
            def prop(*args, _n=pname, _m=m, _cls=cls):
                if args:
                    if not isinstance(state.get(_n), _Dynamic):
                        state[_n] = args[0]
                    self._on_set(_m, _cls, _n, args[0])
                    return None
                if _n not in state:
                    raise AssertionError(f"{_cls.__name__}.{_n} is read but not simulated")
                v = state[_n]
                if isinstance(v, Lazy):
                    v = state[_n] = v.factory()
                if isinstance(v, _Dynamic):
                    return v.fn()
                return v
            pm = mock.PropertyMock(side_effect=prop)
            setattr(type(m), pname, pm)
            self.props[(id(m), pname)] = pm
            self.roots.append(pm)
        return m

    def _on_set(self, m, cls, name, value):
        if cls is xwm.Range:
            st = self._state(m)
            self.range_sets.append((self.name(st["_sheet"]), st["address"], name, value))
        if cls is xwm.Range and name in ("value", "raw_value"):
            st = self._state(m)
            self.writes.append((self.name(st["_sheet"]), st["address"], value))
            if "row" in st:
                self._store(st["_sheet"], (st["row"], st["column"]), value)

    def name(self, sheet) -> str:
        return self._state(sheet)["name"]  # the fake's own read: not a call into "Excel"

    # --- sheets ----------------------------------------------------------------------------
    def _sheet_getitem(self, key):
        if isinstance(key, int):
            return self.sheets[key]
        for s in self.sheets:
            if self.name(s).lower() == str(key).lower():
                return s
        raise KeyError(key)

    def _add_sheet(self, name=None, before=None, after=None, record=True):
        sheet = self._new(xwm.Sheet, name=name, api=None, book=self.book,
                          show_gridlines=True)
        st = self._state(sheet)

        def sheet_api():
            api = self._api()
            # COM ChartObjects().Delete(): every chart of the sheet goes
            api.ChartObjects.return_value.Delete.side_effect = lambda: st["_charts"].clear()
            # COM Worksheet.Comments.Count / CommentsThreaded.Count: what the sheet holds
            # (notes; threaded comments: none in this workbook), each read a round trip
            gets, _SINK["gets"] = _SINK.get("gets"), None  # setting up: not Excel's work
            _counted(api.Comments, lambda: len(st["_notes"]))
            _counted(api.CommentsThreaded, lambda: 0)
            _SINK["gets"] = gets
            return api
        st["api"] = Lazy(sheet_api)
        st["_tables"] = []
        st["_charts"] = []
        st["_cells"] = {}  # (row, col) -> value: what the sheet holds
        tables = self._new(xwm.Tables)
        tables.__iter__.side_effect = lambda: self._walk("Tables", st["_tables"])
        tables.__len__.side_effect = lambda: len(st["_tables"])
        tables.add.side_effect = lambda source=None, name=None, **kw: self._add_table(
            sheet, source, name, kw)
        charts = self._new(xwm.Charts)
        charts.__iter__.side_effect = lambda: self._walk("Charts", st["_charts"])
        charts.__len__.side_effect = lambda: len(st["_charts"])
        charts.add.side_effect = lambda **kw: self._add_chart(sheet, kw)

        def chart_named(key):
            for chart in st["_charts"]:
                if self._state(chart)["name"] == key:
                    return chart
            raise KeyError(key)
        charts.__getitem__.side_effect = chart_named
        st["tables"] = tables
        st["charts"] = charts
        # notes and sheet-level names
        st["_notes"] = {}  # (row, col) -> [text, author]
        st["_names"] = {}  # lower-case name -> Name
        names = self._new(xwm.Names)
        names.__iter__.side_effect = lambda: iter(list(st["_names"].values()))
        names.add.side_effect = lambda name, refers_to: self._add_name(sheet, name, refers_to)

        def name_of_sheet(key):  # Worksheet.Names(name): the sheet's own names only
            if str(key).lower() not in st["_names"]:
                raise KeyError(key)
            return st["_names"][str(key).lower()]
        names.__getitem__.side_effect = name_of_sheet
        notes = self._new(xwm.Notes)
        notes.__iter__.side_effect = lambda: iter([self._note(sheet, rc) for rc in
                                                   sorted(st["_notes"])])
        comments = self._new(xwm.Comments)  # threaded comments: none in this workbook
        comments.__iter__.side_effect = lambda: iter([])
        st["names"], st["notes"], st["comments"] = names, notes, comments
        st["cells"] = Lazy(lambda: self._range(sheet, (1, 1, 1048576, 16384)))
        st["used_range"] = _Dynamic(lambda: self._range(sheet, self._used(sheet)))
        st["page_setup"] = Lazy(lambda: self._new(xwm.PageSetup, api=Lazy(self._api)))
        sheet.range.side_effect = lambda cell1, cell2=None: self._range_from(sheet, cell1, cell2)
        self.sheets.append(sheet)
        if record:
            self.events.append(("add sheet", name))
        return sheet

    def _used(self, sheet):
        bounds = [t[2] for t in self.tables.values() if t[1] is sheet]
        st = self._state(sheet)
        bounds += [(r, c, r, c) for r, c in list(st["_cells"]) + list(st["_notes"])]
        if not bounds:
            return (1, 1, 1, 1)
        return (1, 1, max(b[2] for b in bounds), max(b[3] for b in bounds))

    # --- cells outside tables, notes, names -------------------------------------------------
    def put(self, sheet_name: str, row: int, col: int, value) -> None:
        """Type ``value`` into a cell as a user would (a text starting with = is a formula)."""
        if isinstance(value, str) and value.startswith("="):
            value = _Formula(value)
        self._state(self._sheet_getitem(sheet_name))["_cells"][(row, col)] = value

    def cell(self, sheet_name: str, row: int, col: int):
        return self._state(self._sheet_getitem(sheet_name))["_cells"].get((row, col))

    def add_note(self, sheet_name: str, row: int, col: int, text: str, author: str = "") -> None:
        self._state(self._sheet_getitem(sheet_name))["_notes"][(row, col)] = [text, author]

    def notes(self, sheet_name: str) -> dict:
        return {rc: v[0] for rc, v in self._state(self._sheet_getitem(sheet_name))["_notes"].items()}

    def _note(self, sheet, rc):
        st = self._state(sheet)
        text, author = st["_notes"][rc]
        note = self._new(xwm.Note, api=Lazy(self._api), text=text, author=author,
                         location=Lazy(lambda: self._range(sheet, (*rc, *rc))))
        note.delete.side_effect = lambda: (st["_notes"].pop(rc, None),
                                           self.events.append(("delete note", rc)))
        return note

    def _add_name(self, sheet, name, refers_to):
        m = self._new(xwm.Name, api=Lazy(self._api), name=f"'{self.name(sheet)}'!{name}",
                      refers_to=refers_to)
        self._state(sheet)["_names"][name.lower()] = m
        return m

    # --- ranges ----------------------------------------------------------------------------
    def _range_from(self, sheet, cell1, cell2=None):
        if isinstance(cell1, tuple):
            r1, c1 = cell1
            r2, c2 = cell2 if cell2 is not None else cell1
            return self._range(sheet, (r1, c1, r2, c2))
        text = str(cell1)
        if "," in text or ":" in text and not any(ch.isdigit() for ch in text):
            return self._range(sheet, None, address=text)  # union or whole columns/rows
        if ":" in text and text.replace("$", "").split(":")[0].isdigit():
            return self._range(sheet, None, address=text)  # whole rows "5:5"
        return self._range(sheet, parse_address(text))

    def _range(self, sheet, bounds, address=None, value=None):
        rng = self._new(xwm.Range, _sheet=sheet, sheet=sheet, api=Lazy(self._api),
                        address=address or _address(*bounds), row_height=15.0,
                        font=Lazy(lambda: self._font(sheet, address or _address(*bounds))),
                        borders=Lazy(lambda: self._new(xwm.Borders)),
                        conditional_formats=Lazy(lambda: self._new(xwm.ConditionalFormats)),
                        data_validation=Lazy(lambda: self._new(xwm.DataValidation)))
        if bounds is not None:
            self._state(rng)["row"], self._state(rng)["column"] = bounds[0], bounds[1]
            self._state(rng)["value"] = _Dynamic(lambda: self._values_in(sheet, bounds))
            self._state(rng)["raw_value"] = self._state(rng)["value"]
        where = self._state(rng)["address"]
        rng.clear_contents.side_effect = lambda: self._clear(sheet, where)
        rng.options.side_effect = lambda *a, **kw: rng
        if bounds is not None:
            st = self._state(rng)
            cells, notes = self._state(sheet)["_cells"], self._state(sheet)["_notes"]
            r1, c1, r2, c2 = bounds

            def formulas():
                rows = [[("" if cells.get((r, c)) is None else _formula_of(cells[(r, c)]))
                         for c in range(c1, c2 + 1)] for r in range(r1, r2 + 1)]
                return rows[0][0] if (r1, c1) == (r2, c2) else rows

            st["formula"] = _Dynamic(formulas)
            st["note"] = _Dynamic(lambda: self._note(sheet, (r1, c1))
                                  if (r1, c1) in notes else None)

            # built only when called: most ranges never are
            rng.__dict__["_fake_hooks"] = {
                "add_note": lambda text: notes.__setitem__((r1, c1), [text, ""])}
        rng.move.side_effect = lambda destination: self.events.append(
            ("move", self._state(rng)["address"], self._state(destination)["address"]))
        return rng

    def _names(self):
        names = self._new(xwm.Names)

        def getitem(key):
            if key not in self.defined_names:
                raise KeyError(key)
            return self._new(xwm.Name, name=key, refers_to=self.defined_names[key])

        def add(name, refers_to):
            self.defined_names[name] = refers_to
            return getitem(name)
        names.__getitem__.side_effect = getitem
        names.add.side_effect = add
        return names

    def _font(self, sheet, address):
        font = self._new(xwm.Font)

        def record(**kw):
            for k, v in kw.items():
                self.range_sets.append((self.name(sheet), address, f"font.{k}", v))
        font.set.side_effect = record
        return font

    def _values_in(self, sheet, bounds):
        r1, c1, r2, c2 = bounds
        if r2 - r1 > 200_000:  # a whole column: not read by the live mode
            return None
        cells = self._state(sheet)["_cells"]

        def shown(v):  # a formula typed by a user shows its result (here: 0)
            return 0.0 if isinstance(v, _Formula) else v
        return [[shown(cells.get((r, c))) for c in range(c1, c2 + 1)] for r in range(r1, r2 + 1)]

    def _store(self, sheet, bounds, values):
        cells = self._state(sheet)["_cells"]
        r1, c1 = bounds[0], bounds[1]
        if not isinstance(values, (list, tuple)):
            values = [[values]]  # one cell
        elif values and not isinstance(values[0], (list, tuple)):
            values = [values]  # one row
        for i, row in enumerate(values):
            for j, v in enumerate(row):
                if v is None or v == "":
                    cells.pop((r1 + i, c1 + j), None)
                elif isinstance(v, str) and v.startswith("'"):
                    cells[(r1 + i, c1 + j)] = v[1:]  # Excel's text prefix is not in the value
                else:
                    cells[(r1 + i, c1 + j)] = v

    def _clear(self, sheet, address):
        cells = self._state(sheet)["_cells"]
        for r1, c1, r2, c2 in rects(address):
            for key in [k for k in cells if r1 <= k[0] <= r2 and c1 <= k[1] <= c2]:
                del cells[key]

    # --- tables ----------------------------------------------------------------------------
    def _make_table(self, sheet, name, bounds, values):
        table = self._new(xwm.Table, name=name, api=Lazy(self._api), table_style="TableStyleMedium2")
        entry = [table, sheet, bounds]
        self.tables[name.lower()] = entry
        if values is not None:
            self._store(sheet, bounds, values)
        self._state(table)["range"] = _Dynamic(lambda: self._range(sheet, entry[2]))

        def resize(rng):
            new = parse_address(self._state(rng)["address"])
            self.events.append(("resize", name, entry[2], new))
            entry[2] = new
        table.resize.side_effect = resize
        self._state(sheet)["_tables"].append(table)
        return table

    def _add_table(self, sheet, source, name, kw):
        bounds = parse_address(self._state(source)["address"])
        self.events.append(("add table", name, bounds))
        return self._make_table(sheet, name, bounds, None)

    def _add_chart(self, sheet, kw):
        chart = self._new(xwm.Chart, api=Lazy(self._api), name=f"Chart {len(self.events)}")
        series = self._new(xwm.ChartSeriesCollection)
        series.__getitem__.side_effect = lambda i: self._new(xwm.ChartSeries, api=Lazy(self._api))
        st = self._state(chart)
        st["series"] = series
        st["legend"] = Lazy(lambda: self._new(xwm.ChartLegend))
        st["category_axis"] = Lazy(lambda: self._new(xwm.ChartAxis))
        st["value_axis"] = Lazy(lambda: self._new(xwm.ChartAxis))
        self._state(sheet)["_charts"].append(chart)
        chart.delete.side_effect = lambda: self._state(sheet)["_charts"].remove(chart)
        self.events.append(("add chart", self.name(sheet)))
        return chart

    # --- reading back ----------------------------------------------------------------------
    def written(self, sheet: str, bounds: tuple):
        address = _address(*bounds)
        found = [v for s, a, v in self.writes if s == sheet and a == address]
        assert found, f"nothing written to {sheet}!{address}"
        return found[-1]


_AREA = re.compile(r"^([A-Z]+):([A-Z]+)$|^(\d+):(\d+)$")


def rects(address: str) -> list[tuple]:
    """An address (``"A1:B2,D:D,5:7"``) as 1-based rectangles (r1, c1, r2, c2)."""
    out = []
    for part in address.replace("$", "").split(","):
        m = _AREA.match(part)
        if m and m.group(1):
            out.append((1, col_number(m.group(1)), 1_048_576, col_number(m.group(2))))
        elif m:
            out.append((int(m.group(3)), 1, int(m.group(4)), 16_384))
        else:
            out.append(parse_address(part))
    return out


class _FakeEngine:
    """``app.engine``: its ``impl`` converts values the way an xlwings engine does, here as
    the identity (the writer hands it plain Python values; the real engines' conversions
    are xlwings' own code)."""

    class impl:  # noqa: N801 (xlwings' attribute name)
        @staticmethod
        def prepare_xl_data_element(x, options):
            return x

        @staticmethod
        def clean_value_data(data, datetime_builder, empty_as, number_builder, err_to_str):
            return [[empty_as if v is None else v for v in row] for row in data]


class _Dynamic:
    """A property recomputed on every read (e.g. ``book.sheet_names``)."""

    def __init__(self, fn):
        self.fn = fn


def fake_from_file(path) -> FakeExcel:
    """The workbook at ``path`` as Excel would open it, as a :class:`FakeExcel`: every table
    with its values, the cells outside the tables, the charts (with the names the file gives
    them), the workbook's and each sheet's defined names. Formats are not simulated: the
    fake records what a recompute writes, the file holds what was there before."""
    import openpyxl

    from maillon.addin.ooxml.package import Package

    wb = openpyxl.load_workbook(path, data_only=False)
    layout, cells = {}, {}
    for ws in wb.worksheets:
        tables, inside = [], []
        for t in ws.tables.values():
            r1, c1, r2, c2 = parse_address(t.ref)
            values = [[ws.cell(r, c).value for c in range(c1, c2 + 1)] for r in range(r1, r2 + 1)]
            tables.append((t.name, r1, c1, values))
            inside.append((r1, c1, r2, c2))
        layout[ws.title] = tables
        cells[ws.title] = {(r, c): cell.value for (r, c), cell in ws._cells.items()
                           if cell.value is not None and not any(
                               a <= r <= b and d <= c <= e for a, d, b, e in inside)}
    fake = FakeExcel(layout)
    chart_names = {}
    with Package(path) as pkg:
        for entry in pkg.sheets:
            names = []
            for rel in pkg.rels_of_kind(entry.part, "drawing"):
                text = pkg.read(rel.target).decode("utf-8")
                names += re.findall(r'<xdr:graphicFrame[^>]*>\s*<xdr:nvGraphicFramePr>\s*'
                                    r'<xdr:cNvPr [^>]*name="([^"]*)"', text)
            chart_names[entry.name] = names
    for ws in wb.worksheets:
        sheet = fake._sheet_getitem(ws.title)
        st = fake._state(sheet)
        st["_cells"].update(cells[ws.title])
        for name in chart_names.get(ws.title, []):
            chart = fake._add_chart(sheet, {})
            fake._state(chart)["name"] = name
        for name, dn in ws.defined_names.items():
            fake._add_name(sheet, name, "=" + dn.attr_text)
    for name, dn in wb.defined_names.items():
        fake.defined_names[name] = "=" + dn.attr_text
    fake.events.clear()
    fake.reset_counts()
    return fake
