"""One worksheet cell as SpreadsheetML: escaped text, numbers, booleans, date serials.

Shared by every writer of rows into a package (the engine sheets' rows and the
edits of user tables), so that a value is written the same way everywhere:
text is an inline string (never a formula, even when it begins with ``=``),
control characters use Excel's ``_xHHHH_`` escapes, and text is cut to
Excel's 32,767 characters.

Example
-------
>>> cell_xml("B2", "=1+1", ' s="3"')
'<c r="B2" s="3" t="inlineStr"><is><t>=1+1</t></is></c>'
>>> cell_xml("C2", 12.5, ""), cell_xml("D2", True, ""), cell_xml("E2", None, ' s="1"')
('<c r="C2"><v>12.5</v></c>', '<c r="D2" t="b"><v>1</v></c>', '<c r="E2" s="1"/>')
>>> import datetime as dt
>>> cell_xml("F2", dt.date(2026, 12, 1), ' s="4"')
'<c r="F2" s="4"><v>46357</v></c>'
"""
from __future__ import annotations

import datetime as dt
import math
import re
from xml.sax.saxutils import escape

from maillon.engine.cells import EXCEL_EPOCH

__all__ = ["MAX_TEXT", "QUOTE", "cell_xml", "date_serial", "escape_text", "text_xml"]

MAX_TEXT = 32_767  # characters in a cell, as Excel allows
QUOTE = {'"': "&quot;"}
_CONTROL_ESCAPE = re.compile(r"(_x[0-9a-fA-F]{4}_)")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f]")
_EDGE_SPACE = re.compile(r"^\s|\s$")


def escape_text(s: str) -> str:
    """Text for ``<t>``, escaped as Excel (and XlsxWriter) expect."""
    s = _CONTROL_ESCAPE.sub(r"_x005F\1", s)
    s = _CONTROL.sub(lambda m: f"_x{ord(m.group(0)):04X}_", s)
    s = s.replace("\ufffe", "_xFFFE_").replace("\uffff", "_xFFFF_")
    # quotes too, although text allows them: then no cell text can look like an
    # attribute (and the bytes stay those of the snapshot)
    return escape(s, QUOTE)


def text_xml(s: str) -> str:
    """``<t>`` element of a non-empty string (cut to Excel's 32,767 characters)."""
    s = s[:MAX_TEXT]
    preserve = ' xml:space="preserve"' if _EDGE_SPACE.search(s) else ""
    return f"<t{preserve}>{escape_text(s)}</t>"


def date_serial(value: dt.date) -> float:
    """Excel's serial of a date or datetime (1900 date system; a time zone is dropped).

    >>> date_serial(dt.datetime(2026, 12, 1, 12, 0))
    46357.5
    """
    if isinstance(value, dt.datetime):
        delta = value.replace(tzinfo=None) - EXCEL_EPOCH
        return delta.days + delta.seconds / 86400 + delta.microseconds / 86400e6
    return float((value - EXCEL_EPOCH.date()).days)


def cell_xml(ref: str, value, style: str = "") -> str:
    """The ``<c>`` element of ``value`` at ``ref``; ``style`` is `` s="n"`` or ``""``.

    ``None``, ``""``, NaN and infinities give a blank cell (kept only when it
    has a style). Dates need a date number format in ``style`` to show as dates.
    """
    if isinstance(value, bool):
        return f'<c r="{ref}"{style} t="b"><v>{int(value)}</v></c>'
    if isinstance(value, int):
        return f'<c r="{ref}"{style}><v>{value}</v></c>'
    if isinstance(value, float):
        if math.isfinite(value):
            return f'<c r="{ref}"{style}><v>{value:.16G}</v></c>'
        value = None
    elif isinstance(value, dt.date):
        return f'<c r="{ref}"{style}><v>{date_serial(value):.16G}</v></c>'
    if value is None or value == "":
        return f'<c r="{ref}"{style}/>' if style else ""
    return f'<c r="{ref}"{style} t="inlineStr"><is>{text_xml(str(value))}</is></c>'
