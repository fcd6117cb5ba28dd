"""Live mode: read and write the workbook open in Excel through xlwings, and the ribbon entry.

May import the engine, ``render`` and xlwings; never ``ooxml``, ``filemode`` or
python-calamine.
"""
