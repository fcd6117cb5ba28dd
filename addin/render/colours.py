"""The fill and font colours of Maillon sheets, ``{key: (fill, font)}``.

One place for both the renderer of the engine-owned sheets and the Read Me,
which shows them as swatches (``workbook_templates/readme_text.py``). Plain
data: importing it costs nothing (no engine, no scikit-learn).

>>> COLOURS["P1"]
('#FFC7CE', '#9C0006')
"""
from __future__ import annotations

__all__ = ["COLOURS"]

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
}
