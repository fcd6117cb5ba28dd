"""Marks on cells of user tables: a cell style cloned with a fill, and the clone undone.

A merge highlights a conflicting cell where it lives (issue 13): the cell keeps
its value and every part of its style (number format, font, border,
alignment, protection), only its fill becomes :data:`MARK_FILLS` ``[kind]``.
The clone is a new ``<xf>`` appended to ``cellXfs`` in ``xl/styles.xml`` (and
the fill a new ``<fill>``, once per workbook): ``styles.xml`` then changes,
indices of existing styles never do, so every other part that refers to them
stays as it was.

A mark is told by its fill alone (solid, that exact RGB colour), so it is still
recognised after Excel or LibreOffice saved the workbook and renumbered the
styles. Clearing a mark gives the cell back the style that differs from the
mark only by its fill: the one the cell had (when the workbook still holds it)
with the fill of ``fallback_fill`` (the fill of the nearest unmarked cell of
the same column), or no fill.

Only what table_patch needs: text in, text out, no file access.
"""
from __future__ import annotations

import re

__all__ = ["MARK_FILLS", "Styles"]

#: kind of mark -> fill colour (ARGB, as styles.xml spells it)
MARK_FILLS = {"conflict": "FFF4B183"}

_ATTR = re.compile(r'([\w:.-]+)\s*=\s*(?:"([^"]*)"|\'([^\']*)\')')


def _attrs(start: str) -> dict[str, str]:
    return {m.group(1): m.group(2) if m.group(2) is not None else m.group(3)
            for m in _ATTR.finditer(start)}


class Styles:
    """``xl/styles.xml`` as text, with cell styles to clone with a mark's fill or back."""

    def __init__(self, text: str):
        self.text = text
        m = re.search(r"<([A-Za-z_][\w.-]*:)?styleSheet[\s>]", text)
        self.p = (m.group(1) or "") if m else ""
        self.changed = False
        self._load()
        self._clones: dict[tuple[str, str], str] = {}

    # ---------------------------------------------------------------- parsing
    def _section(self, name: str) -> tuple[int, int, int] | None:
        """(start of the start tag, end of the start tag, start of the end tag) of ``name``."""
        p = re.escape(self.p)
        m = re.search(r"<" + p + name + r"\b[^>]*?(/?)>", self.text)
        if m is None:
            return None
        if m.group(1):
            return m.start(), m.end(), m.end()
        end = self.text.index("</" + self.p + name + ">", m.end())
        return m.start(), m.end(), end

    def _elements(self, section: str, tag: str) -> list[str]:
        span = self._section(section)
        if span is None or span[1] == span[2]:
            return []
        p = re.escape(self.p)
        body = self.text[span[1]:span[2]]
        return re.findall(r"<" + p + tag + r"\b[^>]*?(?:/>|>.*?</" + p + tag + r">)", body,
                          re.S)

    def _load(self) -> None:
        self.fills = self._elements("fills", "fill")
        self.xfs = self._elements("cellXfs", "xf")
        self.mark_fill: dict[str, int] = {}
        for i, fill in enumerate(self.fills):
            for kind, rgb in MARK_FILLS.items():
                if kind not in self.mark_fill and self._is_mark_fill(fill, rgb):
                    self.mark_fill[kind] = i

    def _is_mark_fill(self, fill: str, rgb: str) -> bool:
        m = re.search(r"<" + re.escape(self.p) + r"patternFill\b([^>]*)>", fill)
        if m is None or _attrs(m.group(1)).get("patternType") != "solid":
            return False
        fg = re.search(r"<" + re.escape(self.p) + r"fgColor\b([^>]*?)/?>", fill)
        return fg is not None and _attrs(fg.group(1)).get("rgb", "").upper() == rgb

    # ---------------------------------------------------------------- editing
    def _append(self, section: str, element: str) -> int:
        """Append ``element`` to ``section``; returns its index."""
        span = self._section(section)
        if span is None:
            raise ValueError(f"styles.xml has no {section}")
        start, body, end = span
        count = len(self._elements(section, element_tag(element)))
        open_tag = self.text[start:body]
        if open_tag.endswith("/>"):
            open_tag = open_tag[:-2] + ">"
            close = f"</{self.p}{section}>"
        else:
            close = ""
        open_tag = _set_count(open_tag, count + 1)
        self.text = self.text[:start] + open_tag + self.text[body:end] + element + close \
            + self.text[end:]
        self.changed = True
        self._load()
        return count

    def _fill_of(self, kind: str) -> int:
        if kind not in self.mark_fill:
            p = self.p
            rgb = MARK_FILLS[kind]
            # fills 0 and 1 are reserved (none, gray125): a mark never takes their place
            for pattern in ("none", "gray125")[len(self.fills):]:
                self._append("fills", f'<{p}fill><{p}patternFill patternType="{pattern}"/>'
                                      f'</{p}fill>')
            self._append("fills", f'<{p}fill><{p}patternFill patternType="solid"><{p}fgColor '
                                  f'rgb="{rgb}"/><{p}bgColor indexed="64"/></{p}patternFill>'
                                  f'</{p}fill>')
        return self.mark_fill[kind]

    def _xf(self, index: str | None) -> str:
        i = int(index) if index not in (None, "") else 0
        if not 0 <= i < len(self.xfs):
            raise ValueError(f"styles.xml has no cell style {i}")
        return self.xfs[i]

    def _with_fill(self, xf: str, fill: int | None) -> str:
        """``xf`` with ``fillId`` set to ``fill`` (None: no fill, attribute removed)."""
        end = xf.index(">")
        start = xf[:end + 1]
        start = re.sub(r'\s(fillId|applyFill)\s*=\s*("[^"]*"|\'[^\']*\')', "", start)
        if fill:
            cut = -2 if start.endswith("/>") else -1
            start = f'{start[:cut]} fillId="{fill}" applyFill="1"{start[cut:]}'
        return start + xf[end + 1:]

    def _index_of(self, xf: str) -> str:
        """The index of a style equal to ``xf`` (appended when there is none)."""
        want = _canonical(xf)
        for i, have in enumerate(self.xfs):
            if _canonical(have) == want:
                return str(i)
        return str(self._append("cellXfs", xf))

    def fill_of_style(self, index: str | None) -> int:
        return int(_attrs(self._xf(index)[:self._xf(index).index(">")]).get("fillId", "0") or 0)

    def is_marked(self, index: str | None) -> bool:
        if index in (None, "") or not self.mark_fill:
            return False
        try:
            return self.fill_of_style(index) in self.mark_fill.values()
        except ValueError:
            return False

    def marked(self, index: str | None, kind: str) -> str:
        """The style index of ``index`` with the fill of mark ``kind``."""
        if kind not in MARK_FILLS:
            raise ValueError(f"unknown cell mark {kind!r}; expected one of {sorted(MARK_FILLS)}")
        key = (str(index), kind)
        if key not in self._clones:
            fill = self._fill_of(kind)
            xf = self._xf(index)
            if self.fill_of_style(index) == fill:
                self._clones[key] = str(int(index or 0))
            else:
                self._clones[key] = self._index_of(self._with_fill(xf, fill))
        return self._clones[key]

    def unmarked(self, index: str | None, fallback_fill: int | None = None) -> str | None:
        """The style of a marked cell without its mark (``index`` itself when not marked):
        its style with the fill ``fallback_fill`` (None: no fill), which is the style the
        cell had when the workbook still holds it (see the module)."""
        if not self.is_marked(index):
            return index
        return self._index_of(self._with_fill(self._xf(index), fallback_fill or None))


def element_tag(element: str) -> str:
    m = re.match(r"<(?:[A-Za-z_][\w.-]*:)?([A-Za-z_][\w.-]*)", element)
    return m.group(1)


def _set_count(start: str, count: int) -> str:
    if re.search(r'\scount\s*=', start):
        return re.sub(r'(\scount\s*=\s*)("[^"]*"|\'[^\']*\')', f'\\1"{count}"', start, count=1)
    return f'{start[:-1]} count="{count}">'


def _canonical(xf: str) -> tuple:
    """An xf element as (sorted attributes, body): equal styles compare equal."""
    end = xf.index(">")
    start = xf[:end + 1]
    attrs = tuple(sorted((k, v) for k, v in _attrs(start).items()
                         if not (k in ("applyFill",) or (k == "fillId" and v == "0"))))
    body = xf[end + 1:] if not start.endswith("/>") else ""
    body = re.sub(r"</[^>]*xf>\s*$", "", body).strip()
    return attrs, re.sub(r"\s+", " ", body)
