"""The one renderer: an EngineResult becomes typed, frozen specs of the engine-owned sheets.

May import the engine's contract and model types, ``workbook_templates.look``
(the colours and money format the template shares), ``xlsxwriter.utility``'s
pure reference helpers, pandas and numpy; no I/O, no scikit-learn, no xlwings.
"""
