"""The one place where the file mode relies on XlsxWriter internals.

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

Tested with XlsxWriter 3.3.1 (``_get_xf_index`` has the same behaviour since
3.1); ``pyproject.toml`` bounds XlsxWriter to ``>=3.1,<3.4``, and
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

__all__ = ["cell_format_index"]


def cell_format_index(fmt) -> int:
    """Index of ``fmt`` in the ``cellXfs`` of the workbook it belongs to (0: no format).

    Reserves the index: XlsxWriter then writes the format into ``styles.xml``
    even when no cell it wrote uses it.
    """
    if fmt is None:
        return 0
    return fmt._get_xf_index()
