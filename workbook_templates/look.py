"""How Maillon's sheets look, the same on the user-owned and the engine-owned sheets.

- :data:`COLOURS`: the fill and font colours, ``{key: (fill, font)}``; the Read
  Me shows them as swatches;
- :func:`money_format`: the number format of amounts in the workbook's currency.

Plain data and one function, standard library only: the renderer
(``maillon.addin.render``) and the template both import it, and it imports
nothing of Maillon.

>>> COLOURS["P1"]
('#FFC7CE', '#9C0006')
>>> money_format("EUR")
'#,##0 "€"'
"""
from __future__ import annotations

__all__ = ["COLOURS", "money_format"]

COLOURS = {
    "input": ("#FFF2CC", "#000000"),  # light yellow: cells that are yours to edit
    "P1": ("#FFC7CE", "#9C0006"),  # red
    "P2": ("#FFEB9C", "#9C5700"),  # amber
    "P3": ("#C6EFCE", "#006100"),  # green
    "Exclude": ("#D9D9D9", "#404040"),  # grey
    "Marketing": ("#5B9BD5", "#FFFFFF"),  # plan weeks run by Marketing: blue
    "Sales": ("#ED7D31", "#FFFFFF"),  # plan weeks run by Sales: orange
    "Joint": ("#8E6BBF", "#FFFFFF"),  # plan weeks run together: purple
    "header": ("#1F3864", "#FFFFFF"),  # table headers: dark blue, white text
    # a cell in conflict after a merge, until decided on the Merge sheet: orange (the
    # table writer's mark, maillon.addin.ooxml.cell_marks.MARK_FILLS, is the same colour)
    "conflict": ("#F4B183", "#000000"),
}


_CURRENCY_FORMATS = {
    "EUR": '#,##0 "€"', "USD": '"$"#,##0', "GBP": '"£"#,##0', "CHF": '#,##0 "CHF"',
    "JPY": '"¥"#,##0',
}


def money_format(currency: str) -> str:
    """Excel number format for whole amounts in ``currency`` (ISO code or symbol).

    Plain quoted text after (or before) the number: portable to every
    spreadsheet program, no locale codes.

    >>> money_format("EUR")
    '#,##0 "€"'
    >>> money_format("SEK")
    '#,##0 "SEK"'
    """
    code = str(currency or "").strip()
    if code.upper() in _CURRENCY_FORMATS:
        return _CURRENCY_FORMATS[code.upper()]
    code = code.replace('"', "").replace("\\", "")
    return f'#,##0 "{code}"' if code else "#,##0"
