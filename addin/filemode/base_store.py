"""The merge base in the workbook: written by every recompute, read by merge and diff.

The base (:class:`maillon.engine.base.Base`) is stored as one custom XML item
(:mod:`maillon.addin.ooxml.custom_xml`) whose root element is
``<maillonBase xmlns="urn:maillon:merge-base:1" workbook=".." run=".."
runAt=".." runBy="..">`` holding the encoded base as base64 text. The
identities are attributes, so reading them costs the first bytes of the part.
"""
from __future__ import annotations

import base64
import binascii

from maillon.addin.ooxml.custom_xml import CustomXml, find_item, head_attributes, item_xml
from maillon.addin.ooxml.package import Package, local
from maillon.addin.ooxml.safe_io import WorkbookError, parse_xml

__all__ = ["NS_BASE", "ROOT", "base_item", "read_identity", "read_base"]

NS_BASE = "urn:maillon:merge-base:1"
ROOT = "maillonBase"
ITEM_ID = "{6D61696C-6C6F-4E00-8000-0000000B0A5E}"  # one such item per workbook


def base_item(base) -> CustomXml:
    """The custom XML item that records ``base``."""
    from maillon.engine.base import encode

    data = base64.b64encode(encode(base)).decode("ascii")
    attrs = {"workbook": base.workbook, "run": base.run, "runAt": base.run_at,
             "runBy": base.run_by}
    return CustomXml(NS_BASE, ROOT, item_xml(NS_BASE, ROOT, attrs, data), ITEM_ID)


def read_identity(pkg: Package) -> dict | None:
    """``{"workbook", "run", "runAt", "runBy"}`` recorded in ``pkg``, or None."""
    part = find_item(pkg, NS_BASE, ROOT)
    if part is None:
        return None
    attrs = head_attributes(pkg, part, ROOT)
    if not attrs.get("workbook") or not attrs.get("run"):
        return None
    return {k: attrs.get(k, "") for k in ("workbook", "run", "runAt", "runBy")}


def read_base(pkg: Package):
    """The :class:`~maillon.engine.base.Base` recorded in ``pkg``, or None when absent."""
    from maillon.engine.base import BaseError, decode

    part = find_item(pkg, NS_BASE, ROOT)
    if part is None:
        return None
    root = parse_xml(pkg.read(part), part, pkg.path)
    if local(root.tag) != ROOT:
        return None
    try:
        return decode(base64.b64decode("".join((root.text or "").split()), validate=True))
    except (binascii.Error, ValueError, BaseError) as exc:
        raise WorkbookError(f"{pkg.path.name}: the merge base that Maillon recorded in it "
                            f"({part}) cannot be read: {exc}.") from None
