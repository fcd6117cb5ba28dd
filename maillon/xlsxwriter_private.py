"""The one place where Maillon relies on XlsxWriter internals.

It sits in the package root so that both layers that write with XlsxWriter
may import it: the file mode (``maillon.addin.filemode``) and the template
(``maillon.workbook_templates``, which never imports the addin). Three
internals, each used for speed or for what the public API cannot say:

1. ``Format._get_xf_index()`` (:func:`cell_format_index`);
2. ``Worksheet._write_number()``, the unchecked form of ``write_number``
   (:func:`number_writer`): the template writes up to a million numbers;
3. ``Worksheet.table_cells``, XlsxWriter's cell-by-cell record of table
   ranges (:func:`add_table_unchecked`).

The file mode lets XlsxWriter write the skeleton of each engine-owned sheet
(headers, table definitions, formats, charts, print setup) and writes the data
rows of big tables itself, straight into the grafted package
(:mod:`maillon.addin.filemode.write`). Those rows refer to cell formats that
no XlsxWriter cell uses, and XlsxWriter's public API has no call that gives a
:class:`xlsxwriter.format.Format` its index in ``cellXfs`` without writing a
cell. :func:`cell_format_index` does it with the private
``Format._get_xf_index()``: the index it returns is the one XlsxWriter writes
into ``styles.xml`` when the workbook closes, and calling it is what makes
XlsxWriter write that format at all (unused formats are left out).

Tested with XlsxWriter 3.3.1 (the three have the same behaviour since 3.1);
``pyproject.toml`` bounds XlsxWriter to ``>=3.1,<3.4``, and
``tests/test_xlsx_backend.py::test_xlsxwriter_private_api_is_as_expected``
fails loudly when an upgrade changes what this relies on.

Example
-------
>>> import io, xlsxwriter
>>> wb = xlsxwriter.Workbook(io.BytesIO())
>>> cell_format_index(wb.add_format({"bold": True}))
1
>>> cell_format_index(None)
0
>>> wb.close()
"""
from __future__ import annotations

__all__ = ["cell_format_index", "number_writer", "add_table_unchecked"]


def cell_format_index(fmt) -> int:
    """Index of ``fmt`` in the ``cellXfs`` of the workbook it belongs to (0: no format).

    Reserves the index: XlsxWriter then writes the format into ``styles.xml``
    even when no cell it wrote uses it.
    """
    if fmt is None:
        return 0
    return fmt._get_xf_index()


def number_writer(ws):
    """``ws``'s number writer without argument checks (``write_number`` if there is none)."""
    return getattr(ws, "_write_number", ws.write_number)


class _NoOverlapRecord(dict):
    """Stand-in for XlsxWriter's per-cell record of table ranges: records nothing."""

    def __setitem__(self, key, value):
        pass


def add_table_unchecked(ws, first_row, first_col, last_row, last_col, options) -> None:
    """``ws.add_table`` without XlsxWriter's cell-by-cell overlap bookkeeping.

    To detect overlapping tables XlsxWriter stores one dict entry per cell of
    every table: 19 million entries (seconds and gigabytes) for a full sheet of
    accounts. Callers that lay out one table per sheet, where nothing can
    overlap, use this; small tables keep the check.
    """
    cells = (last_row - first_row + 1) * (last_col - first_col + 1)
    saved = getattr(ws, "table_cells", None)
    if cells > 10_000 and isinstance(saved, dict):
        ws.table_cells = _NoOverlapRecord()
        try:
            ws.add_table(first_row, first_col, last_row, last_col, options)
        finally:
            ws.table_cells = saved
    else:
        ws.add_table(first_row, first_col, last_row, last_col, options)
