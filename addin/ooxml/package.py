"""The structure of an Excel package, read without touching a cell value.

What is where: the parts, their content types and relationships
(``[Content_Types].xml``, the ``_rels`` parts), the workbook's sheets, and every
Excel table (ListObject) with its sheet, range and column names. Every XML
part goes through defusedxml. Only the standard library (and defusedxml) is
used, so that this can run before pandas is imported.

Example
-------
::

    from maillon.addin.ooxml.package import list_tables
    info = list_tables("team.xlsx")["tblAccounts"]
    info.sheet, info.ref, info.headers[:2]   # ('Accounts', 'A1:R2001', ['Account ID', ...])
"""
from __future__ import annotations

import posixpath
import re
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

from maillon.addin.ooxml.safe_io import WorkbookError, parse_xml

__all__ = ["Package", "Rel", "SheetEntry", "TableInfo", "WellFormed", "check_sheets",
           "find_table", "last_saved_by", "list_tables",
           "parse_ref", "sheet_names", "tables_in"]

NS_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
NS_R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
NS_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
NS_CT = "http://schemas.openxmlformats.org/package/2006/content-types"


# --- small helpers -------------------------------------------------------------
def local(tag: str) -> str:
    """``{ns}name`` -> ``name``."""
    return tag.rsplit("}", 1)[-1]


def rel_kind(rel_type: str) -> str:
    """Last segment of a relationship type URI (``.../worksheet`` -> ``worksheet``).

    Works for transitional and strict OOXML alike.
    """
    return rel_type.rstrip("/").rsplit("/", 1)[-1]


def rels_part(part: str) -> str:
    """Name of the relationship part of ``part`` (``""`` is the package itself)."""
    folder, base = posixpath.split(part)
    return posixpath.join(folder, "_rels", base + ".rels")


def resolve_target(source: str, target: str) -> str:
    """Zip member name of a relationship target, relative to its source part."""
    target = unquote(target)
    if target.startswith("/"):
        return posixpath.normpath(target.lstrip("/"))
    return posixpath.normpath(posixpath.join(posixpath.dirname(source), target))


_CELL = re.compile(r"^\$?([A-Za-z]{1,3})\$?(\d+)$")


def col_number(letters: str) -> int:
    """``A`` -> 1, ``AB`` -> 28."""
    n = 0
    for ch in letters.upper():
        n = n * 26 + ord(ch) - 64
    return n


def col_letters(n: int) -> str:
    """1 -> ``A``, 28 -> ``AB`` (the inverse of :func:`col_number`)."""
    out = ""
    while n:
        n, rem = divmod(n - 1, 26)
        out = chr(65 + rem) + out
    return out


def parse_ref(ref: str) -> tuple[int, int, int, int]:
    """``"B3:D10"`` -> ``(3, 2, 10, 4)``: first row, first col, last row, last col (1-based)."""
    parts = ref.split(":")
    cells = []
    for p in parts:
        m = _CELL.match(p.strip())
        if not m:
            raise ValueError(f"not a cell range: {ref!r}")
        cells.append((int(m.group(2)), col_number(m.group(1))))
    (r1, c1), (r2, c2) = cells[0], cells[-1]
    return min(r1, r2), min(c1, c2), max(r1, r2), max(c1, c2)


_ESCAPE = re.compile(r"_x([0-9A-Fa-f]{4})_")


def unescape_name(text: str) -> str:
    """Decode the ``_xHHHH_`` escapes Excel uses in table column names."""
    return _ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text)


# --- the package ---------------------------------------------------------------
@dataclass(frozen=True)
class Rel:
    id: str
    type: str
    target: str  # zip member name (internal) or the raw target (external)
    external: bool = False

    @property
    def kind(self) -> str:
        return rel_kind(self.type)


@dataclass(frozen=True)
class SheetEntry:
    name: str
    sheet_id: int
    rid: str
    part: str | None  # zip member of the sheet part
    kind: str  # relationship kind: worksheet, chartsheet, dialogsheet, ...


class Package:
    """Read-only view of an OPC zip package (parts, content types, relationships).

    Part names are zip member names without a leading slash; lookups are
    case-insensitive, as OPC requires. Every XML parse goes through defusedxml.
    """

    def __init__(self, path):
        self.path = Path(path)
        try:
            self.zf = zipfile.ZipFile(self.path)
        except FileNotFoundError:
            raise WorkbookError(f"{self.path.name} does not exist.") from None
        except (zipfile.BadZipFile, OSError) as exc:
            raise WorkbookError(f"{self.path.name} is not an Excel workbook: it cannot be "
                                f"opened as a zip package ({exc}).") from None
        self.infos = self.zf.infolist()
        self._by_lower = {i.filename.lower(): i for i in self.infos}
        self._rels_cache: dict[str, list[Rel]] = {}
        self._ct = None
        self._workbook = None

    # context manager
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self) -> None:
        self.zf.close()

    # parts
    def info(self, part: str) -> zipfile.ZipInfo | None:
        return self._by_lower.get(part.lower())

    def has(self, part: str) -> bool:
        return part.lower() in self._by_lower

    def read(self, part: str) -> bytes:
        info = self.info(part)
        if info is None:
            raise WorkbookError(f"{self.path.name} is damaged: part {part} is missing.")
        try:
            return self.zf.read(info)
        except (zipfile.BadZipFile, OSError, ValueError) as exc:
            raise WorkbookError(f"{self.path.name} is damaged: part {part} cannot be read "
                                f"({exc}).") from None

    def xml(self, part: str):
        return parse_xml(self.read(part), part, self.path)

    # content types
    @property
    def content_types(self) -> tuple[dict, dict]:
        """``(defaults by lower-case extension, overrides by lower-case part name)``."""
        if self._ct is None:
            root = self.xml("[Content_Types].xml")
            defaults, overrides = {}, {}
            for el in root:
                if local(el.tag) == "Default":
                    defaults[el.get("Extension", "").lower()] = el.get("ContentType")
                elif local(el.tag) == "Override":
                    overrides[el.get("PartName", "").lstrip("/").lower()] = el.get("ContentType")
            self._ct = (defaults, overrides)
        return self._ct

    def content_type(self, part: str) -> str | None:
        defaults, overrides = self.content_types
        ct = overrides.get(part.lower())
        if ct is None:
            ct = defaults.get(posixpath.splitext(part)[1].lstrip(".").lower())
        return ct

    # relationships
    def rels(self, part: str) -> list[Rel]:
        """Relationships of ``part`` (``""`` for the package), targets resolved."""
        key = part.lower()
        if key not in self._rels_cache:
            rp = rels_part(part)
            out = []
            if self.has(rp):
                for el in self.xml(rp):
                    if local(el.tag) != "Relationship":
                        continue
                    external = el.get("TargetMode", "Internal") == "External"
                    target = el.get("Target", "")
                    if not external:
                        target = resolve_target(part, target)
                    out.append(Rel(el.get("Id", ""), el.get("Type", ""), target, external))
            self._rels_cache[key] = out
        return self._rels_cache[key]

    def rels_of_kind(self, part: str, kind: str) -> list[Rel]:
        return [r for r in self.rels(part) if r.kind == kind and not r.external]

    @property
    def workbook_part(self) -> str:
        for r in self.rels(""):
            if r.kind == "officeDocument" and not r.external:
                return r.target
        if self.has("xl/workbook.xml"):
            return "xl/workbook.xml"
        raise WorkbookError(f"{self.path.name} is not an Excel workbook: it has no workbook part.")

    @property
    def workbook(self):
        """The parsed workbook part (an Element)."""
        if self._workbook is None:
            self._workbook = self.xml(self.workbook_part)
        return self._workbook

    @property
    def sheets(self) -> list[SheetEntry]:
        """The sheets in workbook order, with their part names."""
        wb_part = self.workbook_part
        by_id = {r.id: r for r in self.rels(wb_part)}
        out = []
        for el in self.workbook.iter(f"{{{NS_MAIN}}}sheet"):
            rid = el.get(f"{{{NS_R}}}id") or ""
            rel = by_id.get(rid)
            name = el.get("name", "")
            out.append(SheetEntry(
                name=name, sheet_id=_whole(el.get("sheetId", "0") or "0", self.path,
                                           f"sheet {name!r}", "sheetId", wb_part), rid=rid,
                part=None if rel is None or rel.external else rel.target,
                kind=rel.kind if rel is not None else ""))
        return out

    def closure(self, part: str, stop: set[str] | None = None) -> set[str]:
        """Lower-case names of the parts reachable from ``part`` through relationships
        (``part`` itself excluded); parts in ``stop`` are reached but not followed."""
        stop = stop or set()
        seen: set[str] = set()
        todo = [part]
        while todo:
            cur = todo.pop()
            if cur.lower() in stop and cur != part:
                continue
            for r in self.rels(cur):
                if r.external:
                    continue
                key = r.target.lower()
                if key not in seen and key != part.lower():
                    seen.add(key)
                    todo.append(r.target)
        return seen


# --- tables ----------------------------------------------------------------------
@dataclass
class TableInfo:
    """Where an Excel table lives and what its columns are (no cell values)."""

    name: str  # displayName: what formulas use
    sheet: str
    ref: str
    headers: list[str]
    header_rows: int  # 0 or 1
    totals_rows: int  # 0 or 1
    part: str  # zip member of the table part
    id: int = 0

    @property
    def bounds(self) -> tuple[int, int, int, int]:
        return parse_ref(self.ref)

    @property
    def first_data_row(self) -> int:
        return self.bounds[0] + self.header_rows

    @property
    def last_data_row(self) -> int:
        return self.bounds[2] - self.totals_rows


def list_tables(path) -> dict[str, TableInfo]:
    """Every Excel table of the workbook, by displayName (as Excel shows it)."""
    with Package(path) as pkg:
        return tables_in(pkg)


def tables_in(pkg: Package) -> dict[str, TableInfo]:
    """Every Excel table of an open package, by displayName."""
    out: dict[str, TableInfo] = {}
    for sheet in pkg.sheets:
        if sheet.part is None or not pkg.has(sheet.part):
            continue
        for rel in pkg.rels_of_kind(sheet.part, "table"):
            if not pkg.has(rel.target):
                continue
            root = pkg.xml(rel.target)
            name = root.get("displayName") or root.get("name") or ""
            headers = [unescape_name(c.get("name", ""))
                       for c in root.iter(f"{{{NS_MAIN}}}tableColumn")]
            where = f"table {name!r} on sheet {sheet.name!r}"

            def whole(attr, default, *, limit=None, root=root, where=where, rel=rel):
                return _whole(root.get(attr, default) or default, pkg.path, where, attr,
                              rel.target, limit=limit)

            ref = root.get("ref", "")
            try:
                parse_ref(ref)
            except ValueError:
                raise WorkbookError(
                    f"{pkg.path.name} is damaged: {where} has no valid range (ref={ref!r} "
                    f"in {rel.target}); open it in Excel and save it again, or restore the "
                    f"backup.") from None
            out[name] = TableInfo(
                name=name, sheet=sheet.name, ref=ref, headers=headers,
                header_rows=whole("headerRowCount", "1", limit=1),
                totals_rows=whole("totalsRowCount", "0", limit=1),
                part=rel.target, id=whole("id", "0"))
    return out


def _whole(text: str, path: Path, where: str, attr: str, part: str, *, limit=None) -> int:
    """An attribute that must be a whole number (at most ``limit``), or a WorkbookError."""
    text = text.strip()
    if text.isdigit() and (limit is None or int(text) <= limit):
        return int(text)
    allowed = f"0 to {limit}" if limit is not None else "a whole number"
    raise WorkbookError(
        f"{path.name} is damaged: {where} has {attr}={text!r} in {part}, where {allowed} "
        f"belongs; open it in Excel and save it again, or restore the backup.")


class WellFormed:
    """Fed the XML of the sheet ``sheet`` (part ``part``) in chunks, in order; raises a
    :class:`WorkbookError` that names the sheet as soon as it is not well-formed XML
    (expat, the standard library's parser, about 14 ms per MB), and at :meth:`close`
    if it ends too soon.

    >>> w = WellFormed("team.xlsx", "Notes", "xl/worksheets/sheet9.xml")
    >>> w(b"<worksheet><sheetData><row>")
    >>> w(b"</sheetData></worksheet>")
    Traceback (most recent call last):
    ...
    maillon.addin.ooxml.safe_io.WorkbookError: team.xlsx is damaged: the sheet 'Notes' \
(xl/worksheets/sheet9.xml) is not well-formed XML (mismatched tag: line 1, column 29); \
restore the backup, or open the workbook in Excel and let it repair it.
    """

    def __init__(self, file_name: str, sheet: str, part: str):
        import xml.parsers.expat

        self.file_name, self.sheet, self.part = file_name, sheet, part
        self._error = xml.parsers.expat.ExpatError
        self._parser = xml.parsers.expat.ParserCreate()
        self._parser.StartDoctypeDeclHandler = self._no_dtd

    @staticmethod
    def _no_dtd(*args):
        raise ValueError("a DTD")

    def __call__(self, chunk: bytes) -> None:
        self._parse(chunk, False)

    def close(self) -> None:
        self._parse(b"", True)

    def _parse(self, data: bytes, final: bool) -> None:
        try:
            self._parser.Parse(data, final)
        except (self._error, ValueError) as exc:
            raise WorkbookError(
                f"{self.file_name} is damaged: the sheet {self.sheet!r} ({self.part}) is not "
                f"well-formed XML ({exc}); restore the backup, or open the workbook in Excel "
                f"and let it repair it.") from None


def check_sheets(pkg: Package, skip=(), deferred=()) -> None:
    """Refuse a package whose sheets would be carried into the output damaged.

    Every sheet the workbook lists must have a relationship and a part, and
    every sheet part, whatever its size, must be well-formed XML, except the
    parts of the sheets named in ``skip`` (which are replaced) and in
    ``deferred`` (which the caller checks with :class:`WellFormed` in a pass it
    makes anyway: the cell reader, while it inflates the sheets it parses). The
    message names the sheet.
    """
    skip = {n.casefold() for n in skip} | {n.casefold() for n in deferred}
    wb_part = pkg.workbook_part
    for s in pkg.sheets:
        if s.part is None:
            raise WorkbookError(
                f"{pkg.path.name} is damaged: the sheet {s.name!r} has no part (relationship "
                f"{s.rid or '(none)'} not found in {rels_part(wb_part)}); restore the backup, "
                f"or open the workbook in Excel and let it repair it.")
        info = pkg.info(s.part)
        if info is None:
            raise WorkbookError(
                f"{pkg.path.name} is damaged: the part {s.part} of the sheet {s.name!r} is "
                f"missing; restore the backup, or open the workbook in Excel and let it "
                f"repair it.")
        if s.name.casefold() in skip:
            continue
        check = WellFormed(pkg.path.name, s.name, s.part)
        try:
            with pkg.zf.open(info) as fh:
                while chunk := fh.read(1024 ** 2):
                    check(chunk)
            check.close()
        except (zipfile.BadZipFile, zlib.error, OSError, EOFError) as exc:
            raise WorkbookError(f"{pkg.path.name} is damaged: the sheet {s.name!r} ({s.part}) "
                                f"cannot be read ({exc}).") from None


def find_table(tables: dict[str, TableInfo], name: str) -> TableInfo | None:
    """The table called ``name`` (case-insensitive, like Excel), or None."""
    if name in tables:
        return tables[name]
    lowered = name.lower()  # Excel table names are case-insensitive
    for key, info in tables.items():
        if key.lower() == lowered:
            return info
    return None


def sheet_names(path) -> list[str]:
    """Names of all sheets, in workbook order."""
    with Package(path) as pkg:
        return [s.name for s in pkg.sheets]


#: programs whose name in docProps/app.xml says Excel saved the file last
_EXCEL_APPS = ("microsoft excel", "microsoft macintosh excel")


def last_saved_by(pkg: Package) -> str | None:
    """The program docProps/app.xml names (``Application``), or None when unknown."""
    part = next((r.target for r in pkg.rels("") if r.kind == "extended-properties"
                 and not r.external), "docProps/app.xml")
    if not pkg.has(part):
        return None
    try:
        root = pkg.xml(part)
    except WorkbookError:
        return None
    for el in root:
        if local(el.tag) == "Application" and (el.text or "").strip():
            return el.text.strip()
    return None


def saved_by_excel(app: str | None) -> bool:
    return app is None or app.strip().lower().startswith(_EXCEL_APPS) \
        or app.strip().lower() == "excel"
