"""Excel round trips of xlwings calls, measured on xlwings' own Windows implementation.

There is no Excel (and no pywin32) on these machines, so this module loads
xlwings 0.37.8's real ``xlwings/_xlwindows.py`` with the Windows-only modules
it imports (``pywintypes``, ``win32com.client``, ``pythoncom``, ...) replaced
by inert stand-ins, and gives its classes a **COM double**: an object that
answers every attribute and call the way a pywin32 dynamic-dispatch object
does, and counts the round trips into Excel.

The COM cost model (pywin32's ``win32com.client.dynamic.CDispatch``):

* reading a property (``rng.Interior``, ``rng.Address``) is one
  ``IDispatch::Invoke`` (DISPATCH_PROPERTYGET): **1**;
* setting a property (``rng.NumberFormat = ...``) is one Invoke
  (DISPATCH_PROPERTYPUT): **1**;
* a method, or a property that takes arguments (``Worksheet.Range(...)``,
  ``Range.ClearContents()``, ``ChartObjects()``) is looked up without a call
  and invoked once: **1** for the call, **0** for the attribute;
* calling an object (``sheet.Cells(1, 2)``, ``rng.Borders(7)``) invokes its
  default member: **1**;
* iterating a collection asks for ``_NewEnum`` (**1**), then one
  ``IEnumVARIANT::Next`` per item and one that ends the loop (**n + 1**).

Name look-ups (``GetIDsOfNames``/type information) are cached by pywin32 per
object type and name, so they are paid once per name and process, not per
call: they are left out.

:func:`windows_cost` runs a piece of xlwings' real ``main.py`` + ``_xlwindows.py``
code on the double and returns the number of round trips it made; the cost
table of ``tests/test_live_round_trips.py`` is checked against it entry by entry.
"""
from __future__ import annotations

import ctypes
import importlib
import sys
import types
from unittest import mock

#: Members that pywin32 exposes as methods: a method of Excel's type library, or a
#: property that takes arguments. Reading them costs nothing; calling them costs 1.
COM_METHODS = frozenset({
    "Range", "Add", "AddChart2", "Delete", "ClearContents", "ClearFormats", "Clear",
    "Merge", "UnMerge", "Cut", "Copy", "Activate", "Select", "ChartObjects", "Resize",
    "Item", "Move", "SetSourceData", "SeriesCollection", "Axes", "Points", "Unlist",
    "Modify", "GetAddress", "Offset", "AddColorScale", "AddDatabar", "ColorScaleCriteria",
    "FullSeriesCollection", "Save", "Close", "Open",
})

#: What a property read answers when xlwings computes with it.
_SCALARS = {"Row": 1, "Column": 1, "Count": 1, "Index": 1, "Address": "$A$1", "Name": "Sheet1",
            "Value": None, "ColorIndex": 1, "Visible": -1, "Type": 1, "DisplayGridlines": True,
            "LineStyle": 1, "Weight": 2, "Color": 0, "NumberFormat": "General",
            "Formula": "", "MergeCells": False, "HasTitle": False, "ChartType": 51,
            "Calculation": -4105, "ScreenUpdating": True}
#: Property reads answered by where they are read: the workbook is a saved .xlsx (Book.save
#: compares its extension with the target's before it reads FileFormat).
_SCALARS_AT = {"book.Name": "team.xlsx"}


class _Stub(types.ModuleType):
    """A stand-in module whose every attribute is an inert mock."""

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        value = mock.MagicMock(name=f"{self.__name__}.{name}")
        setattr(self, name, value)
        return value


_WINDOWS = {}


def windows_backend():
    """xlwings' own ``_xlwindows`` module, loaded with stand-ins for pywin32."""
    if "module" in _WINDOWS:
        return _WINDOWS["module"]

    class com_error(Exception):  # pywintypes.com_error
        @property
        def hresult(self):
            return self.args[0] if self.args else 0

    class CDispatch:  # win32com.client.CDispatch: what xlwings wraps for retries
        pass

    stubs = {}
    for name in ("pywintypes", "win32api", "win32con", "win32gui", "win32process",
                 "win32timezone", "pythoncom", "win32com", "win32com.client"):
        stubs[name] = _Stub(name)
    stubs["pywintypes"].com_error = com_error
    stubs["win32timezone"].TimeZoneInfo = type(
        "TimeZoneInfo", (), {"utc": staticmethod(lambda: __import__("datetime").timezone.utc)})
    stubs["pywintypes"].TimeType = type("TimeType", (), {})
    stubs["pythoncom"].com_error = stubs["pythoncom"].ole_error = com_error
    stubs["pythoncom"].__file__ = "pythoncom.dll"
    client = stubs["win32com.client"]
    client.CDispatch = CDispatch
    client.CoClassBaseClass = type("CoClassBaseClass", (), {})
    client.DispatchBaseClass = type("DispatchBaseClass", (), {})
    stubs["win32com"].client = client
    saved = {n: sys.modules.get(n) for n in stubs}
    patched = [(n, getattr(ctypes, n, None)) for n in ("windll", "oledll", "PyDLL")]
    try:
        sys.modules.update(stubs)
        ctypes.windll = ctypes.oledll = mock.MagicMock()
        ctypes.PyDLL = mock.MagicMock()
        sys.modules.pop("xlwings._xlwindows", None)
        module = importlib.import_module("xlwings._xlwindows")
    finally:
        for n, old in patched:
            if old is None:
                delattr(ctypes, n)
            else:
                setattr(ctypes, n, old)
        for n, old in saved.items():
            if old is None:
                sys.modules.pop(n, None)
            else:
                sys.modules[n] = old
        sys.modules.pop("xlwings._xlwindows", None)
        import xlwings
        if getattr(xlwings, "_xlwindows", None) is not None:
            del xlwings._xlwindows
    _WINDOWS["module"] = module
    _WINDOWS["CDispatch"] = CDispatch
    return module


class Counter:
    def __init__(self):
        self.trips = 0
        self.log: list = []

    def add(self, what: str) -> None:
        self.trips += 1
        self.log.append(what)


def com_double(counter: Counter, path: str = "xl", items: int = 0):
    """A pywin32 dispatch object that counts round trips (see the module docstring)."""
    windows_backend()
    base = _WINDOWS["CDispatch"]

    class ComDouble(base):
        def __init__(self, path, items=0):
            object.__setattr__(self, "_path", path)
            object.__setattr__(self, "_items", items)

        def __getattr__(self, name):
            if name == "_oleobj_":  # the raw IDispatch: xlwings invokes indexed properties on it
                return _OleObject(self._path)
            if name.startswith("_"):
                raise AttributeError(name)
            where = f"{self._path}.{name}"
            # ListObject.Range is a property without arguments; Worksheet.Range(...) a method
            listobject = "ListObjects" in self._path and not self._path.endswith("ListObjects")
            if name in COM_METHODS and not (name == "Range" and listobject):
                return _Method(where)
            counter.add(f"get {where}")
            if where in _SCALARS_AT:
                return _SCALARS_AT[where]
            if name in _SCALARS:
                return _SCALARS[name]
            return ComDouble(where, self._items)

        def __setattr__(self, name, value):
            counter.add(f"set {self._path}.{name}")

        def __call__(self, *args, **kwargs):
            counter.add(f"call {self._path}()")
            return ComDouble(f"{self._path}()", self._items)

        def __getitem__(self, key):  # a parameterized property read with [] (International)
            counter.add(f"get {self._path}[{key!r}]")
            return "," if self._path.endswith("International") else ComDouble(
                f"{self._path}[{key!r}]", self._items)

        def __iter__(self):
            counter.add(f"get {self._path}._NewEnum")
            for i in range(self._items):
                counter.add(f"next {self._path}")
                yield ComDouble(f"{self._path}[{i}]")
            counter.add(f"next {self._path} (end)")

    class _OleObject:
        def __init__(self, where):
            self.where = where

        def GetIDsOfNames(self, lcid, name):  # noqa: N802 (COM's name)
            counter.add(f"GetIDsOfNames {self.where}.{name}")
            return 1

        def Invoke(self, *args):  # noqa: N802
            counter.add(f"Invoke {self.where}")
            return True

    class _Method:
        def __init__(self, where):
            self.where = where

        def __call__(self, *args, **kwargs):
            counter.add(f"call {self.where}()")
            return ComDouble(f"{self.where}()", items)

    return ComDouble(path, items)


def windows_cost(action, items: int = 0) -> tuple[int, list]:
    """Round trips that ``action(sheet, book)`` makes through xlwings' Windows backend.

    ``sheet`` and ``book`` are real ``xlwings.main`` objects whose
    implementation is ``_xlwindows`` on a COM double; ``items`` is how many
    items a collection iteration yields. Returns (round trips, what they were).
    """
    import xlwings.main as xwm

    backend = windows_backend()
    counter = Counter()
    sheet_xl = backend.COMRetryObjectWrapper(com_double(counter, "sheet", items))
    book_xl = backend.COMRetryObjectWrapper(com_double(counter, "book", items))
    sheet = xwm.Sheet(impl=backend.Sheet(xl=sheet_xl))
    book = xwm.Book(impl=backend.Book(xl=book_xl))
    action(sheet, book)
    return counter.trips, counter.log


# --- macOS ------------------------------------------------------------------------------------
_MAC = {}


def macos_backend():
    """xlwings' own ``_xlmac`` module, loaded with stand-ins for appscript, aem, osax, psutil."""
    if "module" in _MAC:
        return _MAC["module"]

    class CommandError(Exception):  # appscript.reference.CommandError
        pass

    class Reference:  # appscript.reference.Reference
        pass

    stubs = {n: _Stub(n) for n in ("aem", "appscript", "appscript.reference", "osax", "psutil")}
    stubs["appscript.reference"].CommandError = CommandError
    stubs["appscript.reference"].Reference = Reference
    stubs["appscript"].reference = stubs["appscript.reference"]
    saved = {n: sys.modules.get(n) for n in stubs}
    try:
        sys.modules.update(stubs)
        sys.modules.pop("xlwings._xlmac", None)
        module = importlib.import_module("xlwings._xlmac")
    finally:
        for n, old in saved.items():
            if old is None:
                sys.modules.pop(n, None)
            else:
                sys.modules[n] = old
        sys.modules.pop("xlwings._xlmac", None)
        import xlwings
        if getattr(xlwings, "_xlmac", None) is not None:
            del xlwings._xlmac
    _MAC["module"] = module
    return module


class _Properties(dict):
    """What ``properties()`` answers: the object's properties as one record (a dict): a
    saved workbook's path and file format."""

    def get(self, key, default=None):
        return "Macintosh HD:Users:h:team.xlsx"


#: What an Apple Event answers when xlwings computes with it, by the last name before the call.
_MAC_ANSWERS = {"get_address": "$A$1", "first_row_index": 1, "first_column_index": 1,
                "name": "Sheet1", "value": None, "get_international": ","}


_MAC_EXTRA: dict = {}
#: appscript/aem calls answered locally (the target application's process descriptor).
_MAC_LOCAL = {"target", "coerce"}


def apple_double(counter: Counter, path: str = "xl", items: int = 0):
    """An appscript reference that counts Apple Events.

    appscript builds a reference (``sheet.cells["A1"].font_object.bold``) locally:
    attribute access and indexing cost nothing. Each command sent -- ``.get()``,
    ``.set(...)``, ``.clear_contents()``, ``.make(...)`` -- is one Apple Event: **1**,
    except the target descriptor aem works out in the process (``App.pid``).
    ``.properties()`` is one event that answers every property as one record (a dict):
    xlwings' ``.properties().get(kw.path)`` then reads the dict, in the process.
    """

    class AppleRef:
        def __init__(self, path):
            self._path = path

        def __getattr__(self, name):
            if name == "_key":  # an element id, rebuilt into a reference by xlwings (axes)
                return 1
            if name.startswith("_"):
                raise AttributeError(name)
            if name == "data":  # App.pid unpacks the process id of the target descriptor
                return (4242).to_bytes(4, sys.byteorder)
            return AppleRef(f"{self._path}.{name}")

        def __getitem__(self, key):
            return AppleRef(f"{self._path}[{key!r}]")

        def __call__(self, *args, **kwargs):
            parts = self._path.split(".")
            if parts[-1] in _MAC_LOCAL:  # aem works these out in the process: no event
                return AppleRef(f"{self._path}()")
            counter.add(f"event {self._path}()")
            last = parts[-1]
            if last == "get" and len(parts) > 1:
                last = parts[-2]
            if last == "properties" and parts[-1] == "properties":
                return _Properties()  # one event; its .get(key) is a dict look-up
            if last in _MAC_EXTRA:
                return _MAC_EXTRA[last]
            if last in _MAC_ANSWERS:
                return _MAC_ANSWERS[last]
            if last == "count":
                return max(items, 1)
            if last.endswith("_collection") and parts[-1] == "get":  # a list of elements
                return [AppleRef(f"{self._path}[{i}]") for i in range(max(items, 1))]
            if last == "get":
                return items
            return AppleRef(f"{self._path}()")

        def __iter__(self):
            raise TypeError("an appscript reference is not iterable: xlwings calls .get()")

    return AppleRef(path)


def macos_cost(action, items: int = 0, answers: dict | None = None) -> tuple[int, list]:
    """Apple Events that ``action(sheet, book)`` makes through xlwings' macOS backend;
    ``answers`` adds what some events answer (by the last name before the call)."""
    import xlwings.main as xwm

    backend = macos_backend()
    counter = Counter()
    _MAC_EXTRA.clear()
    _MAC_EXTRA.update(answers or {})
    app_impl = backend.App.__new__(backend.App)
    app_impl._xl = apple_double(counter, "app", items)
    book_impl = backend.Book.__new__(backend.Book)
    book_impl._app = app_impl
    book_impl.xl = apple_double(counter, "book", items)
    sheet_impl = backend.Sheet.__new__(backend.Sheet)
    sheet_impl.workbook = book_impl
    sheet_impl.xl = apple_double(counter, "sheet", items)
    action(xwm.Sheet(impl=sheet_impl), xwm.Book(impl=book_impl))
    return counter.trips, counter.log
