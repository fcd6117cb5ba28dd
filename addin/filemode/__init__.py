"""File mode: read a workbook on disk, recompute it, write the engine-owned sheets back.

May import the engine, ``render``, ``ooxml``, python-calamine and XlsxWriter;
never xlwings. Importing this package does not import pandas.
"""
from maillon.addin.filemode.recompute import Outcome, read_input, recompute_file, validate_file

__all__ = ["Outcome", "read_input", "recompute_file", "validate_file"]
