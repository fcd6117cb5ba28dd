"""The **Merge copies…** button of Excel's Maillon tab (the add-in ``maillon_merge.xlam``).

xlwings' ribbon template runs ``import maillon_merge; maillon_merge.main()``: the
module is named like the add-in file, so it lives at the top level, beside the
``maillon`` package. It asks for the files and runs the same merge as
``maillon merge`` on the workbook open in Excel (:mod:`maillon.addin.live_files`).
"""
from maillon import start


def main():
    """Merge the emailed copies of the team workbook into the open workbook (live mode)."""
    return start("merge")
