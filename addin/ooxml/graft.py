"""Graft freshly rendered engine sheets into a user's workbook package.

The file mode renders the skeleton of the engine-owned sheets with XlsxWriter
into a separate temporary workbook
(:func:`maillon.addin.filemode.write.render_skeleton`), then :func:`graft`
writes those sheets' parts into a copy of the user's original zip package, the
big tables' data rows generated straight into it (``bodies=``) with their final
style indices. Every other part (user sheets, their drawings, charts, images,
comments, pivot tables, VBA, custom XML, theme, ``docProps``, ...) is copied
**byte for byte** (the compressed bytes are copied, nothing is decompressed),
through the one zip writer, :class:`maillon.addin.ooxml.zipwriter.ZipWriter`.
openpyxl never touches the file.

What changes in the package
---------------------------
- An engine sheet that already exists keeps its ``<sheet>`` element (name,
  ``sheetId``, ``r:id``, position, so formulas and defined names that refer to
  it keep working) and its worksheet part name; the part's content, its
  relationships and the parts it owned (tables, drawings, charts, comments,
  VML, images) are replaced by the rendered ones. Old owned parts that nothing
  else uses are removed with their content-type overrides.
- A new engine sheet is appended to ``<sheets>`` with a fresh ``sheetId`` and
  ``r:id``; its parts get names that do not collide (lowest free number:
  ``xl/tables/table3.xml``), so recomputing again reuses the same names.
- Styles: the rendered fonts, fills, borders, number formats, cell formats
  (cellXfs), cell style formats and differential formats (dxfs) are appended to
  the user's ``styles.xml`` only when an identical one (same canonical XML) is
  not there yet; existing indices never change, so recomputing again does not
  grow ``styles.xml``. The rendered default format (index 0) maps to the
  workbook's default format, so blank-format cells look like the rest of the
  workbook. :class:`StyleMerge` gives the one map of rendered to merged
  indices: the rows of ``bodies`` are written with it; what XlsxWriter wrote
  is remapped with it (:class:`SheetTransform`: ``s=`` on cells and rows,
  ``style=`` on columns, ``dxfId`` in conditional formats; ``*DxfId`` in
  table parts).
- Shared strings: the user's ``sharedStrings.xml`` is left byte-identical. Cells
  of a rendered sheet that point into the rendered shared-string table
  (``t="s"``, XlsxWriter's default mode) are rewritten as inline strings
  (``t="inlineStr"``, the same rich text); the rows of ``bodies`` are written
  as inline strings. Excel converts inline strings to shared
  ones when it next saves; repeated recomputes never accumulate dead strings.
- Table ids are renumbered (workbook-unique); table names stay as rendered
  (``tblTargets``), so structured references in user formulas keep working. A
  user table elsewhere with the same name is an error (Excel would refuse it).
- Defined names: the sheet-level built-in names (``_xlnm.Print_Titles``,
  ``_xlnm.Print_Area``, ``_xlnm._FilterDatabase``, ...) of the grafted sheets,
  and their sheet-level names that the renderer defines too, are replaced by
  the rendered ones; workbook-level names the renderer defines
  replace user names of the same name; every other user name is kept.
- ``xl/calcChain.xml`` is removed (with its relationship and override) and
  ``<calcPr fullCalcOnLoad="1"/>`` is set so Excel recalculates user formulas.
- ``docProps/app.xml`` is left as it was (its sheet titles may miss a new
  engine sheet until Excel next saves; no reader relies on it).
- The sheet that was the active tab stays the active tab; grafted sheets are
  never left "selected" besides it (which Excel would show as grouped sheets).

- Comments the renderer writes (the notes a user had on the engine sheets)
  come with their VML drawing, whose shape-id blocks are renumbered so that
  they do not overlap the drawings of the comments kept on other sheets.

Not handled (documented limits): a user chart sheet or dialog sheet named like an engine
sheet is refused.

Example
-------
::

    from maillon.addin.ooxml.graft import graft
    graft("team.xlsx", "rendered.xlsx", "team.tmp.xlsx",
          ["Segments", "Target List"])
"""
from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

from maillon.addin.ooxml.safe_io import WorkbookError, parse_xml
from maillon.addin.ooxml.zipwriter import ZipWriter
from maillon.addin.ooxml.package import NS_MAIN, NS_R, Package, SheetEntry, rels_part
from maillon.addin.ooxml.custom_xml import (ITEM_PROPS_TYPE, REL_CUSTOM_XML, REL_ITEM_PROPS,
                                            CustomXml, find_item, item_props_xml)

__all__ = ["graft", "GraftReport"]

CT_WORKSHEET = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
CT_TABLE = "application/vnd.openxmlformats-officedocument.spreadsheetml.table+xml"
CT_VML = "application/vnd.openxmlformats-officedocument.vmlDrawing"
REL_BASE = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/"
NS_XML = "http://www.w3.org/XML/1998/namespace"


@dataclass
class GraftReport:
    """What :func:`graft` did (returned for logging and tests)."""

    replaced: list  # sheet names replaced in place
    added: list  # sheet names appended
    removed_parts: list  # zip members dropped
    added_parts: list  # zip members created
    styles_appended: dict  # section -> number of entries appended


# =============================================================================
# text helpers
# =============================================================================
_ATTR_ENTITIES = {'"': "&quot;", "\t": "&#9;", "\n": "&#10;", "\r": "&#13;"}


def _esc_attr(value: str) -> str:
    """``value`` escaped for an attribute between double quotes (whitespace kept)."""
    return escape(value, _ATTR_ENTITIES)


_esc_text = escape  # character data: &, < and >


_ENCODING = re.compile(rb"""^(?:\xef\xbb\xbf)?<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")


def _decode(data: bytes) -> tuple[str, str]:
    m = _ENCODING.match(data)
    enc = m.group(1).decode("ascii") if m else "utf-8"
    if enc.lower().replace("-", "") == "utf8":
        enc = "utf-8"
    text = data.decode(enc)
    return text, enc


def _encode(text: str, enc: str) -> bytes:
    return text.encode(enc)


_ATTR = re.compile(r"""([\w:.-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')""")


def _attrs(start_tag: str) -> dict:
    return {m.group(1): m.group(2) if m.group(2) is not None else m.group(3)
            for m in _ATTR.finditer(start_tag)}


def _root_prefix(text: str, name: str) -> str:
    """Namespace prefix (``""`` or ``"x:"``) of the root element ``name``."""
    m = re.search(r"<([A-Za-z_][\w.-]*:)?" + name + r"[\s/>]", text)
    return (m.group(1) or "") if m else ""


def _find_start(text: str, p: str, name: str, pos: int = 0):
    """Match of the start tag ``<p:name ...>`` or ``<p:name .../>``."""
    return re.compile(r"<" + re.escape(p) + name + r"(?=[\s/>])([^>]*?)(/?)>").search(text, pos)


def _element_end(text: str, p: str, name: str) -> int:
    """Index just after element ``name`` (first occurrence), or -1."""
    m = _find_start(text, p, name)
    if not m:
        return -1
    if m.group(2):
        return m.end()
    close = "</" + p + name + ">"
    i = text.find(close, m.end())
    return -1 if i < 0 else i + len(close)


def _set_attr(start_tag: str, name: str, value: str) -> str:
    """Set an attribute in a start tag string (``<x a="1">`` or ``<x a="1"/>``)."""
    pat = re.compile(r"(\s" + re.escape(name) + r"\s*=\s*)(\"[^\"]*\"|'[^']*')")
    if pat.search(start_tag):
        return pat.sub(lambda m: m.group(1) + '"' + _esc_attr(value) + '"', start_tag, count=1)
    end = -2 if start_tag.endswith("/>") else -1
    return start_tag[:end] + f' {name}="{_esc_attr(value)}"' + start_tag[end:]


# =============================================================================
# canonical XML and serialisation (for style entries)
# =============================================================================
def _canon(el) -> tuple:
    return (el.tag, tuple(sorted(el.attrib.items())), (el.text or "").strip(),
            tuple(_canon(c) for c in el))


def _qname(name: str, p: str, decls: dict) -> str:
    if name.startswith("{"):
        ns, loc = name[1:].split("}", 1)
        if ns == NS_MAIN:
            return p + loc
        if ns == NS_XML:
            return "xml:" + loc
        prefix = decls.setdefault(ns, f"ns{len(decls)}")
        return f"{prefix}:{loc}"
    return name


def _serialize(el, p: str) -> str:
    """Serialise an element of the main namespace with prefix ``p`` (``""`` or ``"x:"``)."""
    decls: dict = {}
    body = _serialize_inner(el, p, decls)
    if decls:  # declare foreign namespaces on this element
        extra = "".join(f' xmlns:{pre}="{_esc_attr(ns)}"' for ns, pre in decls.items())
        i = body.index(">")
        if body[i - 1] == "/":
            i -= 1
        body = body[:i] + extra + body[i:]
    return body


def _serialize_inner(el, p: str, decls: dict) -> str:
    tag = _qname(el.tag, p, decls)
    attrs = "".join(f' {_qname(k, p, decls)}="{_esc_attr(v)}"' for k, v in el.attrib.items())
    children = "".join(_serialize_inner(c, p, decls) + _esc_text(c.tail or "") for c in el)
    text = _esc_text(el.text or "")
    if not children and not text:
        return f"<{tag}{attrs}/>"
    return f"<{tag}{attrs}>{text}{children}</{tag}>"


# =============================================================================
# styles
# =============================================================================
SECTIONS = ["numFmts", "fonts", "fills", "borders", "cellStyleXfs", "cellXfs",
            "cellStyles", "dxfs", "tableStyles", "colors", "extLst"]


class StyleMerge:
    """Append the rendered styles that the original lacks; give index maps.

    ``xf_map`` / ``dxf_map``: rendered index -> merged index (ints).
    ``text``: the new styles.xml bytes, or None when nothing had to be added.
    """

    def __init__(self, original: bytes | None, rendered: bytes, path=None):
        q = lambda n: f"{{{NS_MAIN}}}{n}"  # noqa: E731
        r_root = parse_xml(rendered, "xl/styles.xml (rendered)")
        if original is None:  # a package without styles: take the rendered ones
            self.text = rendered
            self.created = True
            xfs, dxfs = r_root.find(q("cellXfs")), r_root.find(q("dxfs"))
            n_xf = len(xfs) if xfs is not None else 0
            n_dxf = len(dxfs) if dxfs is not None else 0
            self.xf_map = {i: i for i in range(n_xf)}
            self.dxf_map = {i: i for i in range(n_dxf)}
            self.appended = {}
            return
        self.created = False
        o_root = parse_xml(original, "xl/styles.xml", path)
        o_text, enc = _decode(original)
        p = _root_prefix(o_text, "styleSheet")

        def section(root, name):
            el = root.find(q(name))
            return list(el) if el is not None else []

        new_items: dict[str, list[str]] = {s: [] for s in SECTIONS}

        # --- number formats: by format code
        o_fmts = {int(e.get("numFmtId")): e.get("formatCode", "") for e in section(o_root, "numFmts")}
        code_to_id = {}
        for i, code in sorted(o_fmts.items()):
            code_to_id.setdefault(code, i)
        r_fmts = {int(e.get("numFmtId")): e.get("formatCode", "") for e in section(r_root, "numFmts")}
        next_id = max([163, *o_fmts])

        def fmt_id(rid: int, code: str | None = None) -> int:
            nonlocal next_id
            if code is None:
                if rid not in r_fmts:
                    return rid  # built-in format
                code = r_fmts[rid]
            if code in code_to_id:
                return code_to_id[code]
            next_id += 1
            code_to_id[code] = next_id
            new_items["numFmts"].append(
                f'<{p}numFmt numFmtId="{next_id}" formatCode="{_esc_attr(code)}"/>')
            return next_id

        # --- fonts, fills, borders: by canonical XML; index 0 is the workbook default
        def merge_list(name):
            o_list = section(o_root, name)
            index = {}
            for i, e in enumerate(o_list):
                index.setdefault(_canon(e), i)
            mapping = {}
            count = len(o_list)
            for i, e in enumerate(section(r_root, name)):
                if i == 0 and o_list:
                    mapping[0] = 0
                    continue
                key = _canon(e)
                if key not in index:
                    index[key] = count
                    count += 1
                    new_items[name].append(_serialize(e, p))
                mapping[i] = index[key]
            return mapping

        font_map = merge_list("fonts")
        fill_map = merge_list("fills")
        border_map = merge_list("borders")

        def remap_xf(e, style_map=None):
            e = _copy(e)
            if e.get("numFmtId") is not None:
                e.set("numFmtId", str(fmt_id(int(e.get("numFmtId")))))
            for attr, m in (("fontId", font_map), ("fillId", fill_map), ("borderId", border_map)):
                if e.get(attr) is not None:
                    e.set(attr, str(m.get(int(e.get(attr)), int(e.get(attr)))))
            if style_map is not None and e.get("xfId") is not None:
                e.set("xfId", str(style_map.get(int(e.get("xfId")), 0)))
            return e

        # --- cell style formats (named styles): by style name, else canonical XML
        o_sxf = section(o_root, "cellStyleXfs")
        o_styles = {e.get("name"): int(e.get("xfId", "0")) for e in section(o_root, "cellStyles")}
        r_styles = {int(e.get("xfId", "0")): e for e in section(r_root, "cellStyles")}
        sxf_index = {}
        for i, e in enumerate(o_sxf):
            sxf_index.setdefault(_canon(e), i)
        sxf_map = {}
        sxf_count = len(o_sxf)
        for i, e in enumerate(section(r_root, "cellStyleXfs")):
            named = r_styles.get(i)
            if named is not None and named.get("name") in o_styles:
                sxf_map[i] = o_styles[named.get("name")]
                continue
            if i == 0 and o_sxf:
                sxf_map[0] = 0
                continue
            e2 = remap_xf(e)
            key = _canon(e2)
            if key not in sxf_index:
                sxf_index[key] = sxf_count
                sxf_count += 1
                new_items["cellStyleXfs"].append(_serialize(e2, p))
                if named is not None:
                    ns = _copy(named)
                    ns.set("xfId", str(sxf_index[key]))
                    new_items["cellStyles"].append(_serialize(ns, p))
                    o_styles[named.get("name")] = sxf_index[key]
            sxf_map[i] = sxf_index[key]

        # --- cell formats
        o_xf = section(o_root, "cellXfs")
        xf_index = {}
        for i, e in enumerate(o_xf):
            xf_index.setdefault(_canon(e), i)
        xf_count = len(o_xf)
        self.xf_map = {}
        for i, e in enumerate(section(r_root, "cellXfs")):
            if i == 0 and o_xf:
                self.xf_map[0] = 0
                continue
            e2 = remap_xf(e, sxf_map)
            key = _canon(e2)
            if key not in xf_index:
                xf_index[key] = xf_count
                xf_count += 1
                new_items["cellXfs"].append(_serialize(e2, p))
            self.xf_map[i] = xf_index[key]

        # --- differential formats (conditional formats, table columns)
        o_dxf = section(o_root, "dxfs")
        dxf_index = {}
        for i, e in enumerate(o_dxf):
            dxf_index.setdefault(_canon(e), i)
        dxf_count = len(o_dxf)
        self.dxf_map = {}
        for i, e in enumerate(section(r_root, "dxfs")):
            e2 = _copy(e)
            for nf in e2.iter(q("numFmt")):
                nf.set("numFmtId", str(fmt_id(int(nf.get("numFmtId", "0")), nf.get("formatCode"))))
            key = _canon(e2)
            if key not in dxf_index:
                dxf_index[key] = dxf_count
                dxf_count += 1
                new_items["dxfs"].append(_serialize(e2, p))
            self.dxf_map[i] = dxf_index[key]

        self.appended = {k: len(v) for k, v in new_items.items() if v}
        if not self.appended:
            self.text = None
            return
        counts = {name: len(section(o_root, name)) for name in SECTIONS}
        for name in SECTIONS:
            if new_items[name]:
                o_text = _append_children(o_text, p, name, new_items[name],
                                          counts[name] + len(new_items[name]), "styleSheet",
                                          SECTIONS)
        self.text = _encode(o_text, enc)


def _copy(el):
    """Deep copy of an ElementTree element (defusedxml elements are stdlib ones)."""
    import copy

    return copy.deepcopy(el)


def _append_children(text: str, p: str, name: str, items: list[str], count: int,
                     root: str, order: list[str]) -> str:
    """Append serialised children to section ``name`` (creating it in schema order)."""
    m = _find_start(text, p, name)
    joined = "".join(items)
    if m:
        start = _set_attr(m.group(0), "count", str(count))
        if m.group(2):  # self-closing
            start = start[:-2].rstrip() + ">"
            return text[:m.start()] + start + joined + f"</{p}{name}>" + text[m.end():]
        close = text.index(f"</{p}{name}>", m.end())
        return text[:m.start()] + start + text[m.end():close] + joined + text[close:]
    # create the section before the first later section present
    block = f'<{p}{name} count="{count}">{joined}</{p}{name}>'
    for later in order[order.index(name) + 1:]:
        lm = _find_start(text, p, later)
        if lm:
            return text[:lm.start()] + block + text[lm.start():]
    close = text.rindex(f"</{p}{root}>")
    return text[:close] + block + text[close:]


# =============================================================================
# worksheet transformation (fast: one regex split over the cells)
# =============================================================================
_SI = re.compile(rb"<(?:\w+:)?si(?:\s[^>]*)?(?:/>|>(.*?)</(?:\w+:)?si>)", re.S)


def _shared_strings(data: bytes | None) -> list[bytes]:
    """Inner XML of each ``<si>`` of a shared-string part, in index order."""
    if not data:
        return []
    if b"<si " not in data and b"<si/>" not in data and b":si" not in data:
        return re.findall(rb"<si>(.*?)</si>", data, re.S)  # XlsxWriter's form: fast
    return [m.group(1) or b"" for m in _SI.finditer(data)]


# A styled cell (or row) in the attribute order Excel and XlsxWriter write
# (r, s, t), and when it is a shared string, its value: one match per cell.
# A cell's start tag as XlsxWriter and our renderer write it. Anchored on "<c r=":
# text and formulas escape "<", so no cell content can look like this.
_STYLED = re.compile(rb'(<c r="[A-Z]{1,3}[0-9]{1,7}") s="([0-9]+)"(?: t="s"><v>([0-9]+)</v>)?')
_SHARED = re.compile(rb' t="s"><v>([0-9]+)</v>')
_COL_S = re.compile(rb'(<col\s[^>]*?\sstyle=")([0-9]+)(?=")')
_CF_DXF = re.compile(rb'(<cfRule\s[^>]*?\sdxfId=")([0-9]+)(?=")')
_ROW_S = re.compile(rb'(<row\s[^>]*?\ss=")([0-9]+)(?=")')
_CELL_ANY = re.compile(rb"<c(?=[\s/>])(\s[^>]*?)?(/?)>(?:(\s*<v>)([0-9]+)(</v>))?")
_TAB_SELECTED = re.compile(rb'\stabSelected="(?:1|true)"')


class SheetTransform:
    """Remap style and shared-string indices of one rendered worksheet part.

    Fast path (sheets without inline text or formulas, i.e. what XlsxWriter
    writes in its default mode): one ``re.split`` over the cells, the
    replacements looked up in dicts by C code (``map``), one ``join``. Any other
    sheet goes through a slower path that parses each cell's start tag.
    """

    def __init__(self, xf_map: dict, dxf_map: dict, strings: list[bytes]):
        self.xf = {str(k).encode(): str(v).encode() for k, v in xf_map.items()}
        self.dxf = {str(k).encode(): str(v).encode() for k, v in dxf_map.items()}
        self.strings = strings
        self._styled = None
        self._inline = None

    @property
    def styled(self) -> dict:
        if self._styled is None:
            self._styled = {k: b' s="' + v + b'"' for k, v in self.xf.items()}
        return self._styled

    @property
    def inline(self) -> dict:
        if self._inline is None:
            d = {b"%d" % i: b' t="inlineStr"><is>' + s + b"</is>"
                 for i, s in enumerate(self.strings)}
            d[None] = b""
            self._inline = d
        return self._inline

    def _xf(self, key: bytes) -> bytes:
        try:
            return self.xf[key]
        except KeyError:
            raise WorkbookError(f"the rendered workbook uses cell format {key.decode()} "
                                f"that its styles.xml does not define.") from None

    def _string(self, key: bytes) -> bytes:
        i = int(key)
        if i >= len(self.strings):
            raise WorkbookError(f"the rendered workbook uses shared string {i} that its "
                                f"sharedStrings.xml does not define.")
        return self.strings[i]

    def __call__(self, data: bytes, selected: bool) -> bytes:
        start = data.find(b"<sheetData")
        if start < 0:
            return self._small(data, selected)
        empty = re.match(rb"<sheetData\s*/>", data[start:start + 20])
        if empty:
            end = start + empty.end()
            body = data[start:end]
        else:
            end = data.rindex(b"</sheetData>") + len(b"</sheetData>")
            body = self._body(data[start:end])
        return self._small(data[:start], selected) + body + self._tail(data[end:])

    def _small(self, head: bytes, selected: bool) -> bytes:
        head = _TAB_SELECTED.sub(b"", head)
        if selected:
            head = re.sub(rb"<sheetView(?=[\s/>])", b'<sheetView tabSelected="1"', head, count=1)
        return _COL_S.sub(lambda m: m.group(1) + self._xf(m.group(2)), head)

    def _tail(self, tail: bytes) -> bytes:
        return _CF_DXF.sub(lambda m: m.group(1) + self.dxf.get(m.group(2), m.group(2)), tail)

    def _body(self, body: bytes) -> bytes:
        n_s = body.count(b' s="')
        n_t = body.count(b't="s"')
        original = body
        if not (n_s or n_t):
            return body
        if b"<f" not in body:  # formula text may hold ' s="' unescaped: slow path
            body, n_rows = _ROW_S.subn(lambda m: m.group(1) + self._xf(m.group(2)), body)
            parts = _STYLED.split(body)
            s_keys, t_keys = parts[2::4], parts[3::4]
            # every other ' s="' must be a cell's (else: another attribute order,
            # or text with a quote in it): then the slow path
            if len(s_keys) == n_s - n_rows:
                try:
                    parts[2::4] = map(self.styled.__getitem__, s_keys)
                    parts[3::4] = map(self.inline.__getitem__, t_keys)
                except KeyError:
                    pass  # an index out of range: the slow path names it
                else:
                    body = b"".join(parts)
                    del parts
                    if len(t_keys) - t_keys.count(None) < n_t:  # strings without a style
                        parts = _SHARED.split(body)
                        try:
                            parts[1::2] = map(self.inline.__getitem__, parts[1::2])
                        except KeyError:
                            pass
                        else:
                            return b"".join(parts)
                    else:
                        return body
        # Another attribute order, inline text or formulas: parse each start tag.
        body = _ROW_S.sub(lambda m: m.group(1) + self._xf(m.group(2)), original)
        return _CELL_ANY.sub(self._any_cell, body)

    def _any_cell(self, m) -> bytes:
        attrs = m.group(1) or b""
        is_shared = re.search(rb'\st\s*=\s*"s"', attrs) is not None
        attrs = re.sub(rb'(\ss\s*=\s*")([0-9]+)(")',
                       lambda a: a.group(1) + self._xf(a.group(2)) + a.group(3), attrs)
        if is_shared and m.group(4) is not None:
            attrs = re.sub(rb'(\st\s*=\s*")s(")', rb'\1inlineStr\2', attrs)
            return b"<c" + attrs + b"><is>" + self._string(m.group(4)) + b"</is>"
        return b"<c" + attrs + m.group(2) + b">" + (m.group(3) or b"") + \
            (m.group(4) or b"") + (m.group(5) or b"")


# =============================================================================
# the graft
# =============================================================================
def _rels_xml(rels: list[tuple[str, str, str, bool]]) -> bytes:
    out = ['<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
           '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">']
    for rid, typ, target, external in rels:
        mode = ' TargetMode="External"' if external else ""
        out.append(f'<Relationship Id="{_esc_attr(rid)}" Type="{_esc_attr(typ)}" '
                   f'Target="{_esc_attr(target)}"{mode}/>')
    out.append("</Relationships>")
    return "".join(out).encode("utf-8")


def _relative(source: str, target: str) -> str:
    return posixpath.relpath(target, posixpath.dirname(source) or ".")


_NUMBERED = re.compile(r"^(.*?)(\d*)(\.[^./]*)$")


class _Streamed:
    """A new member written from chunks (a sheet with deferred rows), not from bytes."""

    def __init__(self, chunks):
        self.chunks = chunks  # a callable giving an iterable of bytes


_IDMAP = re.compile(rb'(<(?:\w+:)?idmap\b[^>]*?\bdata=")([0-9, ]*)(")')
_SPID = re.compile(rb'(_x0000_s)([0-9]+)')


class _VmlBlocks:
    """Shape-id blocks (``<o:idmap data=...>``, 1,024 ids each) of the comment drawings.

    Excel numbers the shapes of every VML drawing in blocks that must not
    overlap across the workbook; a rendered drawing (comments on an engine
    sheet) gets blocks that the kept ones do not use.
    """

    def __init__(self, kept):
        self.used = set()
        for data in kept:
            for m in _IDMAP.finditer(data):
                self.used |= {int(x) for x in re.split(rb"[, ]+", m.group(2)) if x.strip()}

    def _fresh(self) -> int:
        n = 1
        while n in self.used:
            n += 1
        self.used.add(n)
        return n

    def renumber(self, data: bytes) -> bytes:
        blocks = {}
        for m in _IDMAP.finditer(data):
            for x in re.split(rb"[, ]+", m.group(2)):
                if x.strip() and int(x) not in blocks:
                    blocks[int(x)] = self._fresh()
        if not blocks:
            return data
        data = _IDMAP.sub(lambda m: m.group(1) + b",".join(
            b"%d" % blocks.get(int(x), int(x)) for x in re.split(rb"[, ]+", m.group(2))
            if x.strip()) + m.group(3), data)

        def spid(m):
            n = int(m.group(2))
            block, offset = divmod(n, 1024)
            return m.group(1) + b"%d" % (blocks.get(block, block) * 1024 + offset)

        return _SPID.sub(spid, data)


class _Grafter:
    def __init__(self, orig: Package, rend: Package, sheet_names: list[str], bodies=None,
                 hidden_names=(), custom_xml: CustomXml | None = None):
        self.orig, self.rend = orig, rend
        self.hidden_names = {n.lower() for n in hidden_names}
        self.custom_xml = custom_xml
        self.bodies = bodies
        self.names = list(dict.fromkeys(sheet_names))
        self.o_sheets = orig.sheets
        self.r_sheets = rend.sheets
        self.wb_part = orig.workbook_part
        self.r_wb_part = rend.workbook_part
        o_by = {s.name.lower(): s for s in self.o_sheets}
        r_by = {s.name.lower(): s for s in self.r_sheets}
        self.pairs: list[tuple[SheetEntry, SheetEntry | None]] = []
        for name in self.names:
            r = r_by.get(name.lower())
            if r is None or r.part is None or not rend.has(r.part):
                raise ValueError(f"graft: sheet {name!r} is not in the rendered workbook "
                                 f"{rend.path.name} (it has {[s.name for s in self.r_sheets]})")
            o = o_by.get(name.lower())
            if o is not None and (o.kind != "worksheet" or o.part is None):
                raise WorkbookError(
                    f"{orig.path.name}: sheet {o.name!r} is a {o.kind or 'broken sheet'}, not "
                    f"a worksheet; Maillon owns that sheet name: rename that sheet and try again.")
            self.pairs.append((r, o))

    # -- which original parts go away -------------------------------------------
    def _dead_parts(self) -> set[str]:
        orig = self.orig
        replaced = {o.part.lower() for _, o in self.pairs if o is not None}
        keep = orig.closure("", stop=replaced)
        calc = {r.target.lower() for r in orig.rels_of_kind(self.wb_part, "calcChain")}
        owned: set[str] = set()
        for _, o in self.pairs:
            if o is not None:
                owned |= orig.closure(o.part)
        sheet_parts = {s.part.lower() for s in self.o_sheets if s.part}
        dead = ((owned - keep) | calc) - sheet_parts
        dead = {d for d in dead if orig.has(d)}
        for d in list(dead):
            rp = rels_part(d).lower()
            if orig.has(rp):
                dead.add(rp)
        for p in replaced:
            rp = rels_part(p).lower()
            if orig.has(rp):
                dead.add(rp)  # rewritten below if the rendered sheet has relationships
        return dead

    def run(self, out: Path) -> GraftReport:
        orig, rend = self.orig, self.rend
        dead = self._dead_parts()
        used = {i.filename.lower() for i in orig.infos} - dead
        new_parts: dict[str, bytes] = {}  # name -> bytes (new or replaced members)
        new_ct: dict[str, str] = {}  # part -> content type override to add
        drop_ct: set[str] = set(dead)

        def alloc(rend_name: str) -> str:
            folder, base = posixpath.split(rend_name)
            stem, _, ext = _NUMBERED.match(base).groups()
            n = 1
            while True:
                cand = posixpath.join(folder, f"{stem}{n}{ext}")
                if cand.lower() not in used:
                    used.add(cand.lower())
                    return cand
                n += 1

        # --- styles
        o_styles = orig.rels_of_kind(self.wb_part, "styles")
        r_styles = rend.rels_of_kind(self.r_wb_part, "styles")
        o_styles_part = o_styles[0].target if o_styles and orig.has(o_styles[0].target) else None
        if not r_styles or not rend.has(r_styles[0].target):
            raise WorkbookError(f"{rend.path.name}: the rendered workbook has no styles part.")
        merge = StyleMerge(orig.read(o_styles_part) if o_styles_part else None,
                           rend.read(r_styles[0].target), orig.path)
        wb_rels_add: list[tuple[str, str, str]] = []  # (type, target part, id placeholder)
        if o_styles_part is None:
            o_styles_part = alloc("xl/styles.xml")
            new_parts[o_styles_part] = merge.text
            new_ct[o_styles_part] = rend.content_type(r_styles[0].target)
            wb_rels_add.append((r_styles[0].type, o_styles_part))
        elif merge.text is not None:
            new_parts[o_styles_part] = merge.text

        # --- shared strings of the rendered workbook (become inline strings)
        r_sst = rend.rels_of_kind(self.r_wb_part, "sharedStrings")
        strings = _shared_strings(rend.read(r_sst[0].target)) \
            if r_sst and rend.has(r_sst[0].target) else []
        transform = SheetTransform(merge.xf_map, merge.dxf_map, strings)

        # --- table ids and names
        o_tables = {}
        for s in self.o_sheets:
            if not s.part or not orig.has(s.part):
                continue
            for r in orig.rels_of_kind(s.part, "table"):
                if r.target.lower() not in dead and orig.has(r.target):
                    root = orig.xml(r.target)
                    o_tables[r.target.lower()] = (s.name, root.get("displayName") or
                                                  root.get("name") or "",
                                                  int(root.get("id", "0") or 0))
        used_ids = {t[2] for t in o_tables.values()}
        user_names = {t[1].lower(): t[0] for t in o_tables.values()}

        def next_table_id() -> int:
            n = 1
            while n in used_ids:
                n += 1
            used_ids.add(n)
            return n

        # --- comment drawings: shape ids unique across the workbook
        vml_blocks = _VmlBlocks(orig.read(i.filename) for i in orig.infos
                                if i.filename.lower() not in dead
                                and orig.content_type(i.filename) == CT_VML)

        # --- position and tab selection
        wb_text, wb_enc = _decode(orig.read(self.wb_part))
        p = _root_prefix(wb_text, "workbook")
        m = re.search(r"<" + re.escape(p) + r"workbookView\b[^>]*?\sactiveTab=\"(\d+)\"", wb_text)
        active = int(m.group(1)) if m else 0
        o_index = {s.name.lower(): i for i, s in enumerate(self.o_sheets)}
        final_index: dict[str, int] = {}
        n_sheets = len(self.o_sheets)
        for r, o in self.pairs:
            if o is not None:
                final_index[r.name.lower()] = o_index[o.name.lower()]
            else:
                final_index[r.name.lower()] = n_sheets
                n_sheets += 1

        # --- the parts of each rendered sheet
        mapped: dict[str, str] = {}  # rendered part (lower) -> new part name
        sheet_xml_entries = []  # (name, sheetId, rid) for new <sheet> elements
        existing_ids = [s.sheet_id for s in self.o_sheets]
        next_sheet_id = max(existing_ids + [0]) + 1
        wb_rel_ids = {r.id for r in orig.rels(self.wb_part)}
        replaced, added = [], []

        def new_rid() -> str:
            n = 1
            while f"rId{n}" in wb_rel_ids:
                n += 1
            wb_rel_ids.add(f"rId{n}")
            return f"rId{n}"

        for r, o in self.pairs:
            if o is not None:
                sheet_part = o.part
                replaced.append(o.name)
            else:
                sheet_part = alloc(r.part)
                rid = new_rid()
                sheet_xml_entries.append((r.name, next_sheet_id, rid))
                next_sheet_id += 1
                wb_rels_add.append((REL_BASE + "worksheet", sheet_part, rid))
                new_ct[sheet_part] = CT_WORKSHEET
                added.append(r.name)
            mapped[r.part.lower()] = sheet_part
            # owned parts, in a stable order
            order = []
            todo = [r.part]
            seen = {r.part.lower()}
            while todo:
                cur = todo.pop(0)
                for rel in rend.rels(cur):
                    if rel.external or rel.target.lower() in seen or not rend.has(rel.target):
                        continue
                    if rel.kind in ("worksheet", "chartsheet", "officeDocument"):
                        continue
                    seen.add(rel.target.lower())
                    order.append(rel.target)
                    todo.append(rel.target)
            for part in order:
                if part.lower() not in mapped:
                    mapped[part.lower()] = alloc(part)
            # contents
            sel = final_index[r.name.lower()] == active
            sheet_xml = transform(rend.read(r.part), sel)
            if self.bodies is not None and r.name in self.bodies:
                new_parts[sheet_part] = _Streamed(
                    lambda name=r.name, xml=sheet_xml: self.bodies.chunks(name, xml,
                                                                          merge.xf_map))
            else:
                new_parts[sheet_part] = sheet_xml
            for part in [r.part] + order:
                target_name = mapped[part.lower()]
                if part != r.part:
                    if target_name in new_parts:
                        continue
                    data = rend.read(part)
                    ct = rend.content_type(part) or "application/xml"
                    if ct == CT_TABLE:
                        data = self._table(data, part, next_table_id, transform, user_names)
                    elif ct == CT_VML:
                        data = vml_blocks.renumber(data)
                    new_parts[target_name] = data
                    new_ct[target_name] = ct
                rels = rend.rels(part)
                if rels:
                    out_rels = []
                    for rel in rels:
                        if rel.external:
                            out_rels.append((rel.id, rel.type, rel.target, True))
                        else:
                            tgt = mapped.get(rel.target.lower(), rel.target)
                            out_rels.append((rel.id, rel.type, _relative(target_name, tgt), False))
                    new_parts[rels_part(target_name)] = _rels_xml(out_rels)

        # --- a custom XML item: replaced in place, or added with its properties
        if self.custom_xml is not None:
            cx = self.custom_xml
            existing = find_item(orig, cx.namespace, cx.name)
            if existing is not None:
                new_parts[existing] = cx.data
            else:
                item = alloc("customXml/item1.xml")
                props = alloc("customXml/itemProps1.xml")
                new_parts[item] = cx.data
                new_parts[props] = item_props_xml(cx.item_id, cx.namespace)
                new_parts[rels_part(item)] = _rels_xml(
                    [("rId1", REL_ITEM_PROPS, _relative(item, props), False)])
                new_ct[item] = "application/xml"
                new_ct[props] = ITEM_PROPS_TYPE
                wb_rels_add.append((REL_CUSTOM_XML, item))

        # --- workbook.xml
        wb_text = self._workbook_xml(wb_text, p, sheet_xml_entries, final_index)
        new_parts[self.wb_part] = _encode(wb_text, wb_enc)

        # --- workbook rels: drop calcChain, add sheets (and styles if created)
        calc_ids = {r.id for r in orig.rels_of_kind(self.wb_part, "calcChain")}
        wb_rels_name = rels_part(self.wb_part)
        rtext, renc = _decode(orig.read(wb_rels_name))
        rp = _root_prefix(rtext, "Relationships")
        for cid in calc_ids:
            rtext = re.sub(r"<" + re.escape(rp) + r"Relationship\b[^>]*?\sId=\"" + re.escape(cid)
                           + r"\"[^>]*?(?:/>|>\s*</" + re.escape(rp) + r"Relationship>)", "", rtext)
        add = []
        for item in wb_rels_add:
            typ, target = item[0], item[1]
            rid = item[2] if len(item) > 2 else new_rid()
            add.append(f'<{rp}Relationship Id="{rid}" Type="{_esc_attr(typ)}" '
                       f'Target="{_esc_attr(_relative(self.wb_part, target))}"/>')
        close = rtext.rindex(f"</{rp}Relationships>")
        rtext = rtext[:close] + "".join(add) + rtext[close:]
        new_parts[wb_rels_name] = _encode(rtext, renc)

        # --- content types
        new_parts["[Content_Types].xml"] = self._content_types(drop_ct, new_ct)

        # --- write
        rewritten = {k.lower() for k in new_parts}
        removed = sorted(i.filename for i in orig.infos
                         if i.filename.lower() in dead and i.filename.lower() not in rewritten)
        self._write(out, new_parts, dead)
        o_names = {i.filename.lower() for i in orig.infos}
        return GraftReport(replaced=replaced, added=added, removed_parts=removed,
                           added_parts=sorted(k for k in new_parts if k.lower() not in o_names),
                           styles_appended=dict(merge.appended))

    # -- parts ------------------------------------------------------------------
    def _table(self, data: bytes, part: str, next_id, transform: SheetTransform,
               user_names: dict) -> bytes:
        root = parse_xml(data, part + " (rendered)")
        name = root.get("displayName") or root.get("name") or ""
        if name.lower() in user_names:
            raise WorkbookError(
                f"{self.orig.path.name}: the table name {name} is already used by a table on "
                f"sheet {user_names[name.lower()]!r}; Maillon needs that name: rename your "
                f"table and try again.")
        text, enc = _decode(data)
        if self.bodies is not None:  # a table whose rows the graft writes: its full range
            text = self.bodies.table_part(text)
        m = re.search(r"<([\w.-]+:)?table(?=[\s>])[^>]*>", text)
        start = _set_attr(m.group(0), "id", str(next_id()))
        text = text[:m.start()] + start + text[m.end():]

        def dxf(mm):
            return mm.group(1) + str(transform.dxf.get(mm.group(2).encode(),
                                                       mm.group(2).encode()).decode())

        text = re.sub(r'(\s\w*DxfId=")(\d+)(?=")', dxf, text)
        return _encode(text, enc)

    def _workbook_xml(self, text: str, p: str, new_sheets, final_index: dict) -> str:
        # namespace prefix of relationships
        m = re.search(r'xmlns:([\w.-]+)="' + re.escape(NS_R) + '"', text)
        if m:
            rpre, decl = m.group(1), ""
        else:
            rpre, decl = "r", f' xmlns:r="{NS_R}"'
        if new_sheets:
            elems = "".join(f'<{p}sheet name="{_esc_attr(n)}" sheetId="{sid}" '
                            f'{rpre}:id="{rid}"{decl}/>' for n, sid, rid in new_sheets)
            close = text.index(f"</{p}sheets>")
            text = text[:close] + elems + text[close:]

        # defined names
        grafted_pos = {final_index[r.name.lower()] for r, _ in self.pairs}
        r_root = self.rend.workbook
        r_sheet_names = [s.name.lower() for s in self.r_sheets]
        new_names = []
        global_names = set()
        local_names = set()  # (final sheet index, lower-case name) the renderer defines
        for el in r_root.iter(f"{{{NS_MAIN}}}definedName"):
            attrs = dict(el.attrib)
            lsid = attrs.get("localSheetId")
            if lsid is not None:
                idx = int(lsid)
                if idx >= len(r_sheet_names) or r_sheet_names[idx] not in final_index:
                    continue
                attrs["localSheetId"] = str(final_index[r_sheet_names[idx]])
                local_names.add((final_index[r_sheet_names[idx]], attrs.get("name", "").lower()))
                if attrs.get("name", "").lower() in self.hidden_names:
                    attrs["hidden"] = "1"
            else:
                if attrs.get("name", "").lower().startswith("_xlnm."):
                    continue
                global_names.add(attrs.get("name", "").lower())
            a = "".join(f' {k}="{_esc_attr(v)}"' for k, v in attrs.items())
            new_names.append(f"<{p}definedName{a}>{_esc_text(el.text or '')}</{p}definedName>")

        def keep(mm) -> str:
            a = _attrs(mm.group(1) or "")
            name = a.get("name", "").lower()
            lsid = a.get("localSheetId")
            if lsid is None:
                return "" if name in global_names else mm.group(0)
            if lsid.isdigit() and int(lsid) in grafted_pos and (
                    name.startswith("_xlnm.") or (int(lsid), name) in local_names):
                return ""
            return mm.group(0)

        dn = re.compile(r"<" + re.escape(p) + r"definedName(?=[\s>/])([^>]*?)(?:/>|>.*?</"
                        + re.escape(p) + r"definedName>)", re.S)
        block = _find_start(text, p, "definedNames")
        if block is not None:
            end = _element_end(text, p, "definedNames")
            inner = dn.sub(keep, text[block.start():end])
            if new_names:
                if block.group(2):  # <definedNames/>
                    inner = f"<{p}definedNames>" + "".join(new_names) + f"</{p}definedNames>"
                else:
                    close = inner.rindex(f"</{p}definedNames>")
                    inner = inner[:close] + "".join(new_names) + inner[close:]
            if not _find_start(inner, p, "definedName"):
                inner = ""  # an empty <definedNames> is not valid
            text = text[:block.start()] + inner + text[end:]
        elif new_names:
            at = self._after(text, p, ["sheets", "functionGroups", "externalReferences"])
            text = text[:at] + f"<{p}definedNames>" + "".join(new_names) + \
                f"</{p}definedNames>" + text[at:]

        # calcPr fullCalcOnLoad="1"
        cm = _find_start(text, p, "calcPr")
        if cm:
            text = text[:cm.start()] + _set_attr(cm.group(0), "fullCalcOnLoad", "1") + \
                text[cm.end():]
        else:
            at = self._after(text, p, ["sheets", "functionGroups", "externalReferences",
                                       "definedNames"])
            text = text[:at] + f'<{p}calcPr fullCalcOnLoad="1"/>' + text[at:]
        return text

    @staticmethod
    def _after(text: str, p: str, names: list[str]) -> int:
        best = -1
        for n in names:
            best = max(best, _element_end(text, p, n))
        return best

    def _content_types(self, drop: set[str], add: dict[str, str]) -> bytes:
        text, enc = _decode(self.orig.read("[Content_Types].xml"))
        p = _root_prefix(text, "Types")
        defaults, _ = self.orig.content_types
        drop = {d.lower() for d in drop}

        def override(m):
            a = _attrs(m.group(0))
            part = a.get("PartName", "").lstrip("/").lower()
            return "" if part in drop or part in {k.lower() for k in add} else m.group(0)

        text = re.sub(r"<" + re.escape(p) + r"Override\b[^>]*?(?:/>|>\s*</" + re.escape(p)
                      + r"Override>)", override, text)
        items = []
        for part, ct in add.items():
            ext = posixpath.splitext(part)[1].lstrip(".").lower()
            if defaults.get(ext) == ct:
                continue
            items.append(f'<{p}Override PartName="/{_esc_attr(part)}" '
                         f'ContentType="{_esc_attr(ct)}"/>')
        close = text.rindex(f"</{p}Types>")
        text = text[:close] + "".join(items) + text[close:]
        return _encode(text, enc)

    def _write(self, out: Path, new_parts: dict[str, bytes], dead: set[str]) -> None:
        orig = self.orig
        pending = {k.lower(): (k, v) for k, v in new_parts.items()}
        with open(out, "wb") as fh, open(orig.path, "rb") as src, ZipWriter(fh) as z:
            for info in orig.infos:
                key = info.filename.lower()
                if key in pending:
                    _, data = pending.pop(key)
                    self._put(z, info.filename, data, info.date_time)
                elif key in dead:
                    continue
                else:
                    z.copy_raw(src, info)
            for name, data in pending.values():
                self._put(z, name, data)

    @staticmethod
    def _put(z: ZipWriter, name: str, data, date_time=(1980, 1, 1, 0, 0, 0)) -> None:
        if isinstance(data, _Streamed):
            z.write_chunks(name, data.chunks(), level=1, date_time=date_time)
        else:
            z.write_bytes(name, data, date_time=date_time)


def graft(original, rendered, out, sheet_names: list[str], bodies=None,
          hidden_names=(), custom_xml: CustomXml | None = None) -> GraftReport:
    """Graft the sheets ``sheet_names`` of ``rendered`` into ``original``, write ``out``.

    ``original`` is the user's workbook (.xlsx or .xlsm), ``rendered`` the
    XlsxWriter output holding the freshly rendered engine sheets, ``out`` the
    file to write (the caller renames it over the original, see
    :func:`maillon.addin.ooxml.safe_io.atomic_replace`). Every part of ``original``
    that the grafted sheets did not own is copied byte for byte. See the module
    documentation for what changes. Raises :class:`~maillon.addin.ooxml.safe_io.WorkbookError`
    for a package that cannot be grafted safely, ``ValueError`` for a sheet name
    that is not in ``rendered``.

    ``bodies`` is what :func:`~maillon.addin.filemode.write.render_skeleton`
    returned for ``rendered`` (:class:`~maillon.addin.filemode.write.DeferredBodies`):
    the data rows it left out of that file are then generated straight into
    ``out`` with their final style indices (no re-parsing of the rows), and
    those tables' parts get their full range. Without it, ``rendered`` is taken
    as complete (any XlsxWriter workbook).

    ``hidden_names`` are sheet-level defined names of the rendered sheets that
    are marked hidden (XlsxWriter cannot); like every sheet-level name the
    renderer defines, each replaces the original's name of the same name on
    that sheet.
    ``custom_xml`` (:class:`~maillon.addin.ooxml.custom_xml.CustomXml`) replaces
    the custom XML item with the same root element and namespace, or is added
    as a new item (with its properties part and relationships).
    """
    original, rendered, out = Path(original), Path(rendered), Path(out)
    if not sheet_names:
        raise ValueError("graft: sheet_names is empty; name the rendered sheets to graft")
    if out.resolve() in (original.resolve(), rendered.resolve()):
        raise ValueError("graft: out must be a new file, not the original or the rendered one")
    with Package(original) as orig, Package(rendered) as rend:
        return _Grafter(orig, rend, sheet_names, bodies, hidden_names, custom_xml).run(out)
