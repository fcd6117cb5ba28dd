"""The one renderer: an EngineResult becomes typed specs of the engine-owned sheets.

May import the engine's contract and model types, pandas and numpy; no I/O,
no scikit-learn, no XlsxWriter, no xlwings.
"""
