"""The shell around the engine: the renderer, the package layer, file mode, live mode, the add-in.

Import rules, one folder each: ``render`` imports the engine's contract only;
``ooxml`` imports nothing of Maillon; ``filemode`` and ``live`` import the
engine, ``render`` and (file mode) ``ooxml``; ``excel_addin`` imports xlwings'
files only; ``cli`` drives file mode and the add-in install; ``live_files`` (the
ribbon buttons that run the file mode on the open workbook) is the one module
that imports both ``live`` and ``filemode``.
"""
