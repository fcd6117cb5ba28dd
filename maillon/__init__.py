"""Maillon: one workbook where Marketing's segments and Sales' ABC matrix meet.

The repository keeps its parts in top-level folders (``engine/``, ``addin/``,
``workbook_templates/``); they install as ``maillon.engine``, ``maillon.addin``
and ``maillon.workbook_templates``.

``main()`` is what the Excel add-in ``maillon.xlam`` calls when a user clicks
**Recompute segments**: xlwings' ribbon template imports the module named like
the add-in (``maillon``) and calls its ``main()``.
"""
__version__ = "0.1.0"


def main():
    """Recompute the workbook that called this from Excel (live mode)."""
    from maillon.addin.live.ribbon import main as live_main

    return live_main()
