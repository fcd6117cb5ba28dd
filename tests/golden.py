"""What a user sees on the engine-owned sheets, as plain data to compare.

:func:`describe` reads a workbook back (openpyxl for cells, styles, tables,
conditional formats and validations; the package XML for charts, drawings,
print setup and views, canonicalised) and returns, per engine-owned sheet and
per aspect, a JSON-able description. Two workbooks that describe the same look
the same to a user: same values, number formats, fonts, fills, borders,
alignment, column widths, row heights, merges, tables, conditional formats,
validations, charts, print setup, panes and defined names.

Part numbers, relationship ids and style indices are not described: they
depend on the user's package, not on what the user sees.
"""
from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import json
import posixpath
import zipfile
import xml.etree.ElementTree as ET
from pathlib import Path

import openpyxl

from maillon.engine import contract as C

R_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
#: parts of a worksheet's XML compared as canonical XML (what the cells do not say)
SHEET_ELEMENTS = ("sheetPr", "dimension", "sheetViews", "sheetFormatPr", "printOptions",
                  "pageMargins", "pageSetup", "headerFooter", "rowBreaks", "colBreaks")


def _value(v):
    if isinstance(v, (dt.datetime, dt.date, dt.time)):
        return v.isoformat()
    if isinstance(v, float) and v.is_integer():
        return int(v)
    return v


def _color(c):
    if c is None:
        return None
    return (c.type, c.rgb if c.type == "rgb" else c.theme if c.type == "theme" else c.indexed,
            round(c.tint or 0, 6))


def _style(cell) -> tuple:
    f, fill, b, a = cell.font, cell.fill, cell.border, cell.alignment
    return (cell.number_format,
            (f.name, f.sz, f.b, f.i, f.u, f.strike, _color(f.color), f.vertAlign),
            (fill.fill_type, _color(getattr(fill, "fgColor", None)),
             _color(getattr(fill, "bgColor", None))),
            tuple((s.style, _color(s.color)) for s in (b.left, b.right, b.top, b.bottom)),
            (a.horizontal, a.vertical, a.wrap_text, a.text_rotation, a.indent, a.shrink_to_fit),
            (cell.protection.locked, cell.protection.hidden))


def _dxf(d) -> list | None:
    if d is None:
        return None
    font = d.font
    fill = d.fill
    return [None if font is None else [font.b, font.i, _color(font.color)],
            None if fill is None else [fill.fill_type, _color(fill.fgColor), _color(fill.bgColor)],
            None if d.numFmt is None else d.numFmt.formatCode,
            None if d.border is None else [s.style for s in (d.border.left, d.border.right,
                                                            d.border.top, d.border.bottom)]]


def _rule(r) -> dict:
    out = {"type": r.type, "operator": r.operator, "formula": list(r.formula or []),
           "stopIfTrue": r.stopIfTrue, "priority": r.priority, "text": r.text,
           "dxf": _dxf(r.dxf)}
    if r.colorScale is not None:
        out["colorScale"] = [[(v.type, v.val) for v in r.colorScale.cfvo],
                             [_color(c) for c in r.colorScale.color]]
    if r.dataBar is not None:
        out["dataBar"] = [[(v.type, v.val) for v in r.dataBar.cfvo], _color(r.dataBar.color)]
    if r.iconSet is not None:
        out["iconSet"] = [r.iconSet.iconSet, [(v.type, v.val) for v in r.iconSet.cfvo]]
    return out


def _canonical(element: ET.Element) -> str:
    """Canonical XML of an element with relationship ids and table ids left out."""
    element = _copy_without_ids(element)
    return ET.canonicalize(ET.tostring(element, encoding="unicode"), strip_text=True)


def _copy_without_ids(element: ET.Element) -> ET.Element:
    el = ET.Element(element.tag, {k: v for k, v in element.attrib.items()
                                  if not k.startswith("{" + R_NS + "}")
                                  and k not in ("id", "uid", "{http://schemas.microsoft.com/office/spreadsheetml/2014/revision}uid")})
    el.text, el.tail = element.text, None
    for child in element:
        el.append(_copy_without_ids(child))
    return el


class _Package:
    def __init__(self, path):
        self.zf = zipfile.ZipFile(path)
        self.names = set(self.zf.namelist())

    def xml(self, part):
        return ET.fromstring(self.zf.read(part))

    def rels(self, part) -> dict[str, tuple[str, str]]:
        folder, name = posixpath.split(part)
        rp = posixpath.join(folder, "_rels", name + ".rels")
        if rp not in self.names:
            return {}
        out = {}
        for rel in self.xml(rp):
            target = rel.get("Target")
            if rel.get("TargetMode") != "External":
                target = posixpath.normpath(posixpath.join(folder, target)) \
                    if not target.startswith("/") else target.lstrip("/")
            out[rel.get("Id")] = (rel.get("Type").rsplit("/", 1)[-1], target)
        return out

    def sheet_parts(self) -> dict[str, str]:
        wb = self.xml("xl/workbook.xml")
        rels = self.rels("xl/workbook.xml")
        return {s.get("name"): rels[s.get(f"{{{R_NS}}}id")][1]
                for s in wb.iter(f"{{{MAIN_NS}}}sheet")}


def _xml_aspects(pkg: _Package, part: str) -> dict:
    root = pkg.xml(part)
    out = {}
    for name in SHEET_ELEMENTS:
        el = root.find(f"{{{MAIN_NS}}}{name}")
        out[name] = None if el is None else _canonical(el)
    charts, anchors = [], []
    for kind, target in pkg.rels(part).values():
        if kind != "drawing":
            continue
        drawing = pkg.xml(target)
        anchors.append(_canonical(drawing))
        for ckind, ctarget in pkg.rels(target).values():
            if ckind == "chart":
                charts.append(_canonical(pkg.xml(ctarget)))
    out["drawing"] = anchors
    out["charts"] = sorted(charts)
    tables = []
    for kind, target in pkg.rels(part).values():
        if kind == "table":
            tables.append(_canonical(pkg.xml(target)))
    out["tables"] = sorted(tables)
    return out


def describe(path, sheets=C.ENGINE_SHEETS) -> dict:
    """Per engine-owned sheet, per aspect, what a user sees (JSON-able)."""
    pkg = _Package(path)
    parts = pkg.sheet_parts()
    wb = openpyxl.load_workbook(path)
    out: dict = {}
    for name in sheets:
        ws = wb[name]
        styles: dict[tuple, int] = {}
        cells = []
        for row in ws.iter_rows():
            for cell in row:
                if cell.value is None and cell.style_id == 0:
                    continue
                key = _style(cell)
                sid = styles.setdefault(key, len(styles))
                cells.append([cell.coordinate, _value(cell.value), cell.data_type, sid])
        desc = {
            "cells": cells,
            "styles": [list(k) for k in styles],
            "columns": sorted([k, d.width, d.hidden, d.min, d.max, d.outlineLevel]
                              for k, d in ws.column_dimensions.items()),
            "rows": sorted([k, d.ht, d.hidden] for k, d in ws.row_dimensions.items()
                           if d.ht is not None or d.hidden),
            "merged": sorted(str(r) for r in ws.merged_cells.ranges),
            "freeze": ws.freeze_panes,
            "conditional": sorted(
                [str(cf.sqref), [_rule(r) for r in cf.rules]]
                for cf in ws.conditional_formatting),
            "validations": sorted(
                [str(v.sqref), v.type, v.operator, v.formula1, v.formula2, v.allow_blank,
                 v.showDropDown, v.showErrorMessage, v.showInputMessage, v.errorTitle,
                 v.error, v.promptTitle, v.prompt, v.errorStyle]
                for v in ws.data_validations.dataValidation),
            "print": [ws.print_title_rows, ws.print_title_cols, ws.print_area and str(ws.print_area)],
            "hidden": ws.sheet_state,
        }
        desc.update(_xml_aspects(pkg, parts[name]))
        out[name] = desc
    names = []
    for dn in pkg.xml("xl/workbook.xml").iter(f"{{{MAIN_NS}}}definedName"):
        names.append([dn.get("name"), dn.get("localSheetId"), dn.get("hidden"), dn.text])
    out["defined names"] = sorted(names, key=lambda n: [str(x) for x in n])
    return json.loads(json.dumps(out, default=str))


def digests(description: dict) -> dict:
    """SHA-256 of every (sheet, aspect) of a description."""
    out = {}
    for sheet, aspects in description.items():
        if isinstance(aspects, dict):
            for aspect, value in aspects.items():
                out[f"{sheet} / {aspect}"] = hashlib.sha256(
                    json.dumps(value, sort_keys=True).encode()).hexdigest()
        else:
            out[sheet] = hashlib.sha256(json.dumps(aspects, sort_keys=True).encode()).hexdigest()
    return out


def save(description: dict, path: Path) -> None:
    with gzip.open(path, "wt", encoding="utf-8") as f:
        json.dump(description, f, sort_keys=True, separators=(",", ":"))


def load(path: Path):
    with gzip.open(path, "rt", encoding="utf-8") as f:
        return json.load(f)


def first_difference(a, b, where="") -> str | None:
    """Where two descriptions first differ, in words (None when equal)."""
    if type(a) is not type(b):
        return f"{where}: {a!r} != {b!r}"
    if isinstance(a, dict):
        for k in sorted(set(a) | set(b)):
            if k not in a or k not in b:
                return f"{where}/{k}: only in {'after' if k in b else 'before'}"
            d = first_difference(a[k], b[k], f"{where}/{k}")
            if d:
                return d
        return None
    if isinstance(a, list):
        for i, (x, y) in enumerate(zip(a, b)):
            d = first_difference(x, y, f"{where}[{i}]")
            if d:
                return d
        if len(a) != len(b):
            return f"{where}: {len(a)} items != {len(b)}"
        return None
    return None if a == b else f"{where}: {a!r} != {b!r}"
