"""The **Import…** button of Excel's Maillon tab (the add-in ``maillon_import.xlam``).

xlwings' ribbon template runs ``import maillon_import; maillon_import.main()``: the
module is named like the add-in file, so it lives at the top level, beside the
``maillon`` package. It asks for the files and runs the same import as
``maillon import`` on the workbook open in Excel (:mod:`maillon.addin.live_files`).
"""
from maillon import start


def main():
    """Import CRM, marketing or SIRENE exports into the open workbook (live mode)."""
    return start("import")
