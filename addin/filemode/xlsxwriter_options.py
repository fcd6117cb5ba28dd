"""The typed sheet specs as XlsxWriter's option dictionaries (pure functions).

The renderer (:mod:`maillon.addin.render.specs`) says what a sheet looks like
in frozen dataclasses; XlsxWriter takes untyped dictionaries
(``workbook.add_format({...})``, ``worksheet.conditional_format(..., {...})``).
This module is the one place where the first become the second, for the file
mode; ``live/write.py`` does the same for xlwings. Nothing here touches a file.

Example
-------
>>> from maillon.addin.render.specs import Border, CellStyle, Font
>>> format_options(CellStyle(font=Font(bold=True), border=Border("thin", "#BFBFBF")))
{'bold': True, 'border': 1, 'border_color': '#BFBFBF'}
>>> format_options(None)
{}
"""
from __future__ import annotations

from maillon.addin.render.specs import (CellEquals, CellStyle, Chart, ColorScale, DataBar,
                                        ListValidation, Page)

__all__ = ["format_options", "conditional_format_options", "validation_options",
           "chart_options", "chart_insert_options", "page_calls"]

_BORDERS = {"thin": 1, "medium": 2}  # XlsxWriter's border style numbers
_VERTICAL = {"top": "top", "center": "vcenter"}
_PIE_LIKE = ("doughnut",)


def format_options(style: CellStyle | None) -> dict:
    """``workbook.add_format`` properties of ``style`` (``{}`` for None)."""
    out: dict = {}
    if style is None:
        return out
    font, align, border = style.font, style.align, style.border
    if font is not None:
        if font.bold:
            out["bold"] = True
        if font.italic:
            out["italic"] = True
        if font.size is not None:
            out["font_size"] = font.size
        if font.color is not None:
            out["font_color"] = font.color
    if style.fill is not None:
        out["bg_color"] = style.fill
    if align is not None:
        if align.wrap:
            out["text_wrap"] = True
        if align.horizontal is not None:
            out["align"] = align.horizontal
        if align.vertical is not None:
            out["valign"] = _VERTICAL[align.vertical]
        if align.rotation is not None:
            out["rotation"] = align.rotation
    if border is not None:
        out["border"] = _BORDERS[border.style]
        if border.color is not None:
            out["border_color"] = border.color
    if style.num_format is not None:
        out["num_format"] = style.num_format
    return out


def conditional_format_options(rule) -> dict:
    """``worksheet.conditional_format`` options of a rule.

    A cell rule's ``"format"`` is a dictionary of format properties: the
    caller turns it into a workbook Format.

    >>> from maillon.addin.render.specs import CellEquals, DataBar
    >>> conditional_format_options(CellEquals(4, 8, 99, 8, "P1", fill="#FFC7CE"))
    {'type': 'cell', 'criteria': '==', 'value': '"P1"', 'format': {'bg_color': '#FFC7CE'}}
    >>> conditional_format_options(DataBar(4, 7, 99, 7, "#5B9BD5", 0, 100))["bar_solid"]
    True
    """
    if isinstance(rule, CellEquals):
        fmt = {}
        if rule.fill is not None:
            fmt["bg_color"] = rule.fill
        if rule.font_color is not None:
            fmt["font_color"] = rule.font_color
        return {"type": "cell", "criteria": "==", "value": rule.formula_value(), "format": fmt}
    if isinstance(rule, ColorScale):
        return {"type": "3_color_scale", "min_color": rule.min_color,
                "mid_color": rule.mid_color, "max_color": rule.max_color}
    if isinstance(rule, DataBar):
        return {"type": "data_bar", "bar_color": rule.color, "min_type": "num",
                "min_value": rule.minimum, "max_type": "num", "max_value": rule.maximum,
                "bar_solid": bool(rule.solid)}
    raise TypeError(f"not a conditional format of the sheet specs: {type(rule).__name__}")


def validation_options(v: ListValidation) -> dict:
    """``worksheet.data_validation`` options of a list validation.

    >>> validation_options(ListValidation(4, 9, 99, 9, ("P1", "P2")))["source"]
    ['P1', 'P2']
    """
    if not isinstance(v, ListValidation):
        raise TypeError(f"not a data validation of the sheet specs: {type(v).__name__}")
    return {"validate": "list", "source": list(v.values), "ignore_blank": True,
            "input_title": v.input_title, "input_message": v.input_message,
            "error_title": v.error_title, "error_type": "stop",
            "error_message": v.error_message}


def chart_options(chart: Chart) -> dict:
    """What XlsxWriter needs to draw ``chart``.

    Returns a dictionary with ``"chart"`` (``workbook.add_chart`` options),
    ``"series"`` (one ``chart.add_series`` dictionary each), ``"title"``,
    ``"legend"`` (``set_legend`` options or None) and ``"y_axis"``
    (``set_y_axis`` options or None).

    >>> from maillon.addin.render.specs import Chart, Ref, Series
    >>> s = Series("Accounts", Ref("Dashboard", 5, 4, 9, 4), Ref("Dashboard", 5, 5, 9, 5))
    >>> opts = chart_options(Chart("column", "Accounts by segment", [s], 22, 0, legend=False))
    >>> opts["chart"], opts["series"][0]["values"], opts["legend"]
    ({'type': 'column'}, '=Dashboard!$F$6:$F$10', {'none': True})
    """
    pie_like = chart.kind in _PIE_LIKE
    series = []
    for s in chart.series:
        one = {"name": s.name, "categories": s.categories.formula(),
               "values": s.values.formula()}
        if s.color:
            one["fill"] = {"color": s.color}
        if s.point_colors:
            one["points"] = [{"fill": {"color": c}} for c in s.point_colors]
        if chart.data_labels:
            one["data_labels"] = {"percentage": True, "category": True} if pie_like \
                else {"value": True}
        series.append(one)
    if not chart.legend:
        legend = {"none": True}
    elif pie_like:
        legend = {"position": "bottom"}
    else:
        legend = None
    y_axis = None
    if not pie_like:
        y_axis = {}
        if chart.y_title:
            y_axis["name"] = chart.y_title
        if chart.y_num_format:
            y_axis["num_format"] = chart.y_num_format
        y_axis["major_gridlines"] = {"visible": True, "line": {"color": "#D9D9D9"}}
    return {"chart": {"type": chart.kind}, "series": series, "title": {"name": chart.title},
            "legend": legend, "y_axis": y_axis}


def chart_insert_options(chart: Chart) -> dict:
    """``worksheet.insert_chart`` options: the chart's size in pixels, moving with cells.

    >>> from maillon.addin.render.specs import Chart
    >>> chart_insert_options(Chart("doughnut", "Agreement", [], 38, 6, width=240))
    {'x_scale': 0.5, 'y_scale': 1.0, 'object_position': 1}
    """
    return {"x_scale": chart.width / 480, "y_scale": chart.height / 288, "object_position": 1}


def page_calls(page: Page) -> list[tuple[str, tuple]]:
    """The worksheet print-setup calls of ``page``, as ``(method name, arguments)``.

    >>> page_calls(Page(landscape=True, repeat_rows=(3, 3), header="&LPlan"))
    [('set_landscape', ()), ('set_paper', (9,)), ('fit_to_pages', (1, 0)),
     ('repeat_rows', (3, 3)), ('set_header', ('&LPlan',))]
    """
    calls: list[tuple[str, tuple]] = [("set_landscape", ()) if page.landscape
                                      else ("set_portrait", ())]
    if page.paper:
        calls.append(("set_paper", (page.paper,)))
    if page.fit_width is not None:
        calls.append(("fit_to_pages", (page.fit_width, page.fit_height)))
    if page.repeat_rows:
        calls.append(("repeat_rows", tuple(page.repeat_rows)))
    if page.header:
        calls.append(("set_header", (page.header,)))
    if page.footer:
        calls.append(("set_footer", (page.footer,)))
    if page.print_area:
        calls.append(("print_area", tuple(page.print_area)))
    return calls
