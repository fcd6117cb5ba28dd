"""What a user typed on an engine-owned sheet outside its tables, and comments on its cells.

The shell reads them before a recompute (``PreviousState.loose``, one row per
cell or comment, columns :data:`LOOSE_COLUMNS`); the renderer puts them back
after it (:func:`place`). Nothing a user typed is dropped silently:

* a **cell** typed outside the engine's tables and outside what the engine
  wrote stays where it is when the new layout leaves that cell free;
  otherwise it moves to History's ``tblEdits`` (Kind ``Moved note``) with its
  sheet, cell and text, and why;
* a **comment** (a note or a threaded comment) on a data row of a table whose
  rows follow a key (``tblTargets``, ``tblSegments``, ``tblPlan``) follows its
  key, like the editable columns: it is anchored on the same column of the
  row that now holds its Account ID, Segment ID or Action ID. When the key or
  the column is gone it moves to ``tblEdits`` (Kind ``Comment``). Any other
  comment stays on its cell.

Rows and columns here are 1-based Excel numbers; a rectangle is
``(first_row, first_col, last_row, last_col)``, inclusive.

Example
-------
>>> loose = pd.DataFrame([
...     {"Sheet": "Target List", "Row": 2, "Col": 30, "What": "cell", "Value": "call Lyon"},
...     {"Sheet": "Target List", "Row": 6, "Col": 1, "What": "cell", "Value": "in the way"}])
>>> kept, notes, edits = place(loose, "Target List", engine=[(4, 1, 10, 28)], tables={})
>>> [(k["Row"], k["Col"], k["Value"]) for k in kept], [(e["Key"], e["Kind"]) for e in edits]
([(2, 30, 'call Lyon')], [('A6', 'Moved note')])
"""
from __future__ import annotations

import pandas as pd

from . import contract as C
from .cells import is_blank

__all__ = ["LOOSE_COLUMNS", "KEYED_TABLES", "key_comments", "place", "cell_name",
           "covers"]

#: one row per cell or comment read from an engine sheet
LOOSE_COLUMNS = ["Sheet", "Row", "Col", "What", "Value", "Formula", "Author", "Table",
                 "Header", "Key"]

#: engine tables whose rows follow a key: table -> (sheet, key column)
KEYED_TABLES = {
    C.TBL_TARGETS: (C.SHEET_TARGETS, "Account ID"),
    C.TBL_SEGMENTS: (C.SHEET_SEGMENTS, "Segment ID"),
    C.TBL_PLAN: (C.SHEET_PLAN, "Action ID"),
}


def cell_name(row: int, col: int) -> str:
    """``(7, 28)`` -> ``'AB7'`` (1-based).

    >>> cell_name(7, 28), cell_name(1, 16384)
    ('AB7', 'XFD1')
    """
    letters = ""
    while col:
        col, rem = divmod(col - 1, 26)
        letters = chr(65 + rem) + letters
    return f"{letters}{row}"


def covers(rects, row: int, col: int) -> bool:
    """Whether one of ``rects`` holds the cell."""
    return any(r1 <= row <= r2 and c1 <= col <= c2 for r1, c1, r2, c2 in rects)


def _text(value) -> str:
    if is_blank(value):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def key_comments(loose: pd.DataFrame | None, previous: dict) -> pd.DataFrame | None:
    """``loose`` with the key of the row each comment in a keyed table sits on.

    ``previous`` maps a keyed table's name to its frame as read back (index =
    Excel row). A comment whose row holds no key keeps a blank ``Key`` and
    stays on its cell.

    >>> prev = {"tblTargets": pd.DataFrame({"Account ID": ["A7"]}, index=[5])}
    >>> loose = pd.DataFrame([{"Sheet": "Target List", "Row": 5, "Col": 3, "What": "comment",
    ...                        "Value": "ask Hugo", "Table": "tblTargets", "Header": "Status"}])
    >>> key_comments(loose, prev)["Key"].tolist()
    ['A7']
    """
    if loose is None or len(loose) == 0:
        return loose
    out = loose.reindex(columns=LOOSE_COLUMNS).astype(object)
    out = out.where(out.notna(), "")
    keys = []
    for table, row in zip(out["Table"], out["Row"]):
        frame = previous.get(table)
        key_col = KEYED_TABLES.get(table, (None, None))[1]
        if frame is None or key_col not in getattr(frame, "columns", ()) \
                or row not in frame.index:
            keys.append("")
            continue
        value = frame.at[row, key_col]
        keys.append(_text(value.iloc[0] if isinstance(value, pd.Series) else value))
    out["Key"] = keys
    return out


def place(loose: pd.DataFrame | None, sheet: str, engine, tables: dict
          ) -> tuple[list[dict], list[dict], list[dict]]:
    """Where the cells and comments read on ``sheet`` go in the new layout.

    ``engine`` holds the rectangles the new layout writes on the sheet;
    ``tables`` maps a keyed table on it to ``(header_row, first_col, headers,
    keys)``: its header's Excel row and first column, its headers, and the key
    of each data row in order.

    Returns ``(cells, comments, edits)``: the cells kept in place, the comments
    with the cell they are anchored on now (``Row``/``Col``; ``From`` is where
    they were), and the ``tblEdits`` rows of what could not stay.
    """
    if loose is None or len(loose) == 0:
        return [], [], []
    rows = loose.loc[loose["Sheet"] == sheet]
    cells, comments, edits = [], [], []
    where = {}
    for table, (header_row, first_col, headers, keys) in tables.items():
        at = {}
        for i, k in enumerate(keys):
            at.setdefault(_text(k), header_row + 1 + i)
        where[table] = (first_col, list(headers), at)
    for item in rows.to_dict("records"):
        row, col = int(item["Row"]), int(item["Col"])
        ref = cell_name(row, col)
        if item["What"] == "comment":
            comments_or_edit = _follow(item, ref, where)
            (comments if "Row" in comments_or_edit else edits).append(comments_or_edit)
            continue
        shown = item.get("Formula") or _text(item["Value"])
        if covers(engine, row, col):
            edits.append({"Kind": "Moved note", "Sheet": sheet, "Key": ref, "Column": "",
                          "Value": shown,
                          "Note": f"typed in {ref}, outside the engine's tables; this "
                                  "recompute writes that cell, so your text is kept here"})
        else:
            cells.append(item)
    return cells, comments, edits


def _follow(item: dict, ref: str, where: dict) -> dict:
    """A comment anchored where it goes now, or its ``tblEdits`` row."""
    text = item["Value"]
    author = item.get("Author") or ""
    table, key, header = item.get("Table") or "", item.get("Key") or "", item.get("Header") or ""
    placed = {**item, "From": (int(item["Row"]), int(item["Col"]))}
    if not table or table not in where or not key:
        return placed  # not on a keyed row: it stays on its cell
    first_col, headers, at = where[table]
    key_col = KEYED_TABLES[table][1]
    by = f" by {author}" if author else ""
    if key not in at:
        why = f"its {key_col} {key} is gone"
    elif header not in headers:
        why = f"its column {header!r} is gone"
    else:
        return {**placed, "Row": at[key], "Col": first_col + headers.index(header)}
    return {"Kind": "Comment", "Sheet": item["Sheet"], "Key": key, "Column": header,
            "Value": text,
            "Note": f"comment{by} on {ref} ({key_col} {key}, {header}): {why}, so the "
                    "comment is kept here"}
