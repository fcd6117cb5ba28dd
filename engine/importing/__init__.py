"""The import's pure parts: text of exported files, column mapping, records, duplicates, plan.

May import the rest of the engine, pandas, rapidfuzz and python-stdnum; no files, no Excel.
"""
