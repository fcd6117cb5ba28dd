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

Two more kinds of cells come from the shell:

* ``unmarked``: a cell outside the tables of a sheet that an older Maillon
  wrote, before the engine recorded its own cells (no hidden
  ``Maillon_EngineCells`` name). The caller gives the rectangles the previous
  run's layout wrote (``previous``): a cell in them was the engine's, any
  other is a user's and is kept like a ``cell``;
* ``overwritten``: a cell the engine wrote outside its tables whose value no
  longer matches the digest recorded when it was written
  (:func:`cells_check`, kept in tblHistory's hidden ``Cells check`` column):
  a user typed over it. When the new layout writes that cell again, the
  user's text moves to ``tblEdits`` (Kind ``Overwritten``); otherwise it
  stays where it is.

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

import base64
import datetime as dt
import hashlib
import json
import numbers

import pandas as pd

from . import contract as C
from .cells import is_blank

__all__ = ["LOOSE_COLUMNS", "KEYED_TABLES", "key_comments", "place", "cell_name",
           "covers", "cell_digest", "box_cells", "cells_check", "read_cells_check",
           "last_cells_check", "overwritten"]

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


def box_cells(box) -> list[tuple[int, int]]:
    """The cells of a rectangle, row by row (the order of :func:`cells_check`).

    >>> box_cells((2, 1, 3, 2))
    [(2, 1), (2, 2), (3, 1), (3, 2)]
    """
    r1, c1, r2, c2 = box
    return [(r, c) for r in range(r1, r2 + 1) for c in range(c1, c2 + 1)]


def _shown(value) -> str:
    """A cell value as both readers (python-calamine, xlwings) and the renderer agree on it."""
    if is_blank(value):
        return ""
    if isinstance(value, bool) or type(value).__name__ == "bool_":
        return "TRUE" if value else "FALSE"
    if isinstance(value, numbers.Number):
        text = f"{float(value):.12g}"
        return "0" if text == "-0" else text
    if isinstance(value, (pd.Timestamp, dt.datetime)):
        ts = pd.Timestamp(value).round("s")
        return ts.strftime("%Y-%m-%d") if ts == ts.normalize() else \
            ts.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def cell_digest(value) -> str:
    """Four characters that change when a cell's value changes (24 bits of a hash of what
    the cell shows: a number and its text agree, a date and its datetime at midnight too).

    >>> cell_digest(200) == cell_digest(200.0) == cell_digest("200"), cell_digest(None) == cell_digest("")
    (True, True)
    >>> cell_digest("Dashboard") == cell_digest("Dashboard!")
    False
    """
    h = hashlib.blake2b(_shown(value).encode("utf-8"), digest_size=3).digest()
    return base64.b64encode(h).decode("ascii")


#: version of the text :func:`cells_check` writes
_CHECK_FORMAT = 1


def cells_check(sheets: dict) -> str:
    """The ``Cells check`` text of a run: ``sheets`` maps a sheet's name to its boxes, each
    ``(rectangle, {(row, col): value})`` (1-based; the boxes of its Maillon_EngineCells
    name, in that name's order; a cell missing from the mapping is blank).

    >>> text = cells_check({"Dashboard": [((1, 1, 1, 2), {(1, 1): "Dashboard"})]})
    >>> read_cells_check(text)["Dashboard"] == [cell_digest("Dashboard") + cell_digest("")]
    True
    """
    out: dict = {"v": _CHECK_FORMAT}
    for name, boxes in sheets.items():
        out[name] = ["".join(cell_digest(values.get(rc)) for rc in box_cells(box))
                     for box, values in boxes]
    return json.dumps(out, ensure_ascii=False, separators=(",", ":"))


def read_cells_check(text) -> dict[str, list[str]]:
    """Sheet -> the digests of each box, from a ``Cells check`` text ({} when none or
    unreadable: then nothing is reported as overwritten)."""
    if not isinstance(text, str) or not text.startswith("{"):
        return {}
    try:
        data = json.loads(text)
    except ValueError:
        return {}
    if not isinstance(data, dict) or data.get("v") != _CHECK_FORMAT:
        return {}
    return {k: v for k, v in data.items() if k != "v" and isinstance(v, list)
            and all(isinstance(d, str) for d in v)}


def last_cells_check(history: pd.DataFrame | None) -> dict[str, list[str]]:
    """Sheet -> digests, from ``tblHistory`` as read (``{}`` when none). Only the row of the
    run that wrote the sheets holds one, so it is found even in a table sorted by hand.

    >>> hist = pd.DataFrame({C.CELLS_CHECK_COLUMN: ['{"v":1,"Dashboard":["RS8c"]}', None]})
    >>> last_cells_check(hist)
    {'Dashboard': ['RS8c']}
    """
    if history is None or len(history) == 0 or C.CELLS_CHECK_COLUMN not in history.columns:
        return {}
    filled = [v for v in history[C.CELLS_CHECK_COLUMN].tolist()
              if isinstance(v, str) and v.startswith("{")]
    return read_cells_check(filled[-1]) if filled else {}


def overwritten(boxes: list, digests: list[str], values: dict) -> list[tuple[int, int]]:
    """The cells of ``boxes`` (the sheet's engine area as read now) that hold a value a
    user typed: not blank, and different from what the engine wrote there (its digest in
    ``digests``, box by box). A box whose size no longer matches its digests (rows
    inserted or deleted inside it) is not compared.

    >>> box = (1, 1, 1, 2)
    >>> written = [cell_digest("Key figures") + cell_digest(None)]
    >>> overwritten([box], written, {(1, 1): "Key figures", (1, 2): "mine"})
    [(1, 2)]
    """
    out = []
    for box, digest in zip(boxes, digests):
        cells = box_cells(box)
        if len(digest) != 4 * len(cells):
            continue
        for i, rc in enumerate(cells):
            value = values.get(rc)
            if is_blank(value) or value == "":
                continue
            if digest[4 * i:4 * i + 4] != cell_digest(value):
                out.append(rc)
    return out


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


def place(loose: pd.DataFrame | None, sheet: str, engine, tables: dict, previous=None,
          written: dict | None = None) -> tuple[list[dict], list[dict], list[dict]]:
    """Where the cells and comments read on ``sheet`` go in the new layout.

    ``engine`` holds the rectangles the new layout writes on the sheet;
    ``tables`` maps a keyed table on it to ``(header_row, first_col, headers,
    keys)``: its header's Excel row and first column, its headers, and the key
    of each data row in order. ``previous`` holds the rectangles the previous
    run wrote on the sheet, outside its tables, for the ``unmarked`` cells of a
    sheet an older Maillon wrote (``engine`` when not given); ``written`` maps
    a cell ``(row, col)`` of the new layout to its value, for the notes.

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
        if item["What"] == "unmarked" and covers(engine if previous is None else previous,
                                                 row, col):
            continue  # what the previous run wrote: the engine's own cell
        if item["What"] == "overwritten":
            if not covers(engine, row, col):
                cells.append(item)  # the new layout leaves the cell free: it stays
                continue
            now = _text((written or {}).get((row, col)))
            now = f" (it now shows {now!r})" if now else ""
            edits.append({"Kind": "Overwritten", "Sheet": sheet, "Key": ref, "Column": "",
                          "Value": shown,
                          "Note": f"typed over {ref}, a cell Maillon writes outside its "
                                  f"tables; this recompute writes its own value there again"
                                  f"{now}, so your text is kept here"})
            continue
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
