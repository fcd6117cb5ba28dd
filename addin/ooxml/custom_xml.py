"""Custom XML data parts (``customXml/itemN.xml``): find one by its root element, read it.

A custom XML data part is related from the workbook part (relationship type
``.../customXml``) and has a properties part (``itemPropsN.xml``). Excel and
LibreOffice keep such parts when they save a workbook. :func:`graft
<maillon.addin.ooxml.graft.graft>` writes or replaces one (``custom_xml=``).
Nothing here knows what the part means.
"""
from __future__ import annotations

import re
from xml.sax.saxutils import quoteattr, unescape

from maillon.addin.ooxml.package import Package

__all__ = ["REL_CUSTOM_XML", "REL_ITEM_PROPS", "ITEM_PROPS_TYPE", "CustomXml", "find_item",
           "head_attributes", "item_props_xml", "item_xml"]

REL_CUSTOM_XML = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/customXml"
REL_ITEM_PROPS = ("http://schemas.openxmlformats.org/officeDocument/2006/relationships/"
                  "customXmlProps")
ITEM_PROPS_TYPE = "application/vnd.openxmlformats-officedocument.customXmlProperties+xml"
_HEAD = 4096


class CustomXml:
    """A custom XML item to write: its root ``name`` in ``namespace``, its bytes, its id."""

    def __init__(self, namespace: str, name: str, data: bytes, item_id: str):
        self.namespace, self.name, self.data, self.item_id = namespace, name, data, item_id


def item_xml(namespace: str, name: str, attributes: dict, text: str) -> bytes:
    """An XML document of one element ``name`` with ``attributes`` and ``text`` (escaped)."""
    from xml.sax.saxutils import escape

    attrs = "".join(f" {k}={quoteattr(str(v))}" for k, v in attributes.items())
    return (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            f'<{name} xmlns="{namespace}"{attrs}>{escape(text)}</{name}>').encode()


def item_props_xml(item_id: str, namespace: str) -> bytes:
    return ('<?xml version="1.0" encoding="UTF-8" standalone="no"?>\n'
            f'<ds:datastoreItem ds:itemID="{item_id}" xmlns:ds="http://schemas.openxmlformats.'
            f'org/officeDocument/2006/customXml"><ds:schemaRefs><ds:schemaRef ds:uri='
            f'{quoteattr(namespace)}/></ds:schemaRefs></ds:datastoreItem>').encode()


def _head(pkg: Package, part: str) -> str:
    info = pkg.info(part)
    if info is None:
        return ""
    try:
        with pkg.zf.open(info) as fh:
            return fh.read(_HEAD).decode("utf-8", "replace")
    except Exception:  # a damaged member: the package checks report it, not this lookup
        return ""


def find_item(pkg: Package, namespace: str, name: str) -> str | None:
    """The custom XML part whose root element is ``name`` in ``namespace``, or None.

    Looked for among the workbook's custom XML relationships, then among the
    package's members named ``customXml/item*.xml`` (LibreOffice relates them
    from the package root, with a target outside the package).
    """
    candidates = [rel.target for rel in pkg.rels_of_kind(pkg.workbook_part, "customXml")]
    candidates += sorted(i.filename for i in pkg.infos
                         if re.fullmatch(r"customxml/item\d*\.xml", i.filename.lower()))
    pattern = re.compile(r"<([\w.-]+:)?" + re.escape(name) + r"\b")
    for part in dict.fromkeys(candidates):
        head = _head(pkg, part)
        if namespace in head and pattern.search(head):
            return part
    return None


def head_attributes(pkg: Package, part: str, name: str) -> dict:
    """The attributes of the root element ``name`` of ``part``, read from its first bytes."""
    m = re.search(r"<([\w.-]+:)?" + re.escape(name) + r"\b([^>]*)>", _head(pkg, part))
    if not m:
        return {}
    return {k: unescape(v, {"&quot;": '"', "&apos;": "'"})
            for k, _, v in re.findall(r'([\w.-]+)\s*=\s*(["\'])(.*?)\2', m.group(2))}
