"""One table's cells as the engine's DataFrame: the same in file mode and in live mode.

The file mode gets a table's cells from python-calamine, the live mode from
xlwings; both hand them to :func:`table_frame`, so the engine sees the same
input whichever way in was used:

- the columns are the table's headers; the index, named ``Excel row``, is the
  Excel row number (1-based) of each data row;
- an empty cell is ``""`` (python-calamine's; the live reader turns
  xlwings' ``None`` into ``""``) and becomes NaN; text of only spaces stays text (the engine's one blank rule,
  :func:`maillon.engine.cells.is_blank`, treats it as blank where it matters);
- rows whose cells are all empty are dropped, wherever they are;
- dates are ``datetime``: python-calamine gives a ``date`` for a cell
  formatted as a date only, xlwings a ``datetime``; a ``date`` becomes a
  ``datetime`` at midnight;
- then pandas infers each column's dtype (``infer_objects``) without
  converting values: text stays text, a column of numbers becomes ``float64``.

Pure pandas and NumPy: no python-calamine, no xlwings.

Example
-------
>>> import datetime as dt
>>> df = table_frame([["Segments", "auto"], ["", ""], ["Plan start", dt.date(2026, 3, 2)]],
...                  ["Setting", "Value"], first_row=5)
>>> df.index.tolist(), df.columns.tolist()
([5, 7], ['Setting', 'Value'])
>>> df.loc[7, "Value"]
datetime.datetime(2026, 3, 2, 0, 0)
"""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

__all__ = ["table_frame", "empty_cells"]


def empty_cells(values: np.ndarray) -> np.ndarray:
    """Where a 2-D object array of cell values holds an empty cell (``""``).

    >>> empty_cells(np.array([["", " ", 0]], dtype=object)).tolist()
    [[True, False, False]]
    """
    # one C-level comparison: a check of every cell in Python would cost seconds at 100k rows
    return values == ""


_TYPE_OF = np.frompyfunc(type, 1, 1)  # the type of each cell, in a C loop
_ORDINAL_OF = np.frompyfunc(dt.date.toordinal, 1, 1)  # day number of each date, in a C loop
_UNIX_ORDINAL = dt.date(1970, 1, 1).toordinal()


def table_frame(rows, headers: list[str], first_row: int) -> pd.DataFrame:
    """The data rows of a table as a DataFrame indexed by Excel row (see the module).

    ``rows`` is a 2-D object array or a list of equal-length rows, one value per
    header; ``first_row`` is the Excel row of ``rows[0]``.
    """
    width = len(headers)
    if isinstance(rows, np.ndarray) and rows.dtype == object and rows.ndim == 2:
        values = rows
    else:
        values = np.empty((len(rows), width), dtype=object)
        if len(rows):
            values[:] = rows
    index = np.arange(first_row, first_row + len(values), dtype="int64")
    cols = pd.Index(headers, dtype=object)
    empty = empty_cells(values)
    if empty.any():
        values[empty] = np.nan
        keep = ~empty.all(axis=1)
        if not keep.all():
            values, index = values[keep], index[keep]
    # copy=False: the array is ours (pandas 3 would copy it by default)
    df = pd.DataFrame(values, columns=cols, index=pd.Index(index, name="Excel row"),
                      dtype=object, copy=False)
    df = df.infer_objects()  # numbers and texts get their dtype at C speed
    for i in range(df.shape[1]):
        column = df.iloc[:, i]
        if column.dtype != object:  # only columns still of objects can hold dates
            continue
        cells = column.to_numpy()
        is_date = _TYPE_OF(cells) == dt.date  # a date, not a datetime (a subclass)
        if is_date.any() and (is_date | pd.isna(cells)).all():
            # only dates and blanks: each date's day number, taken in a C loop, gives
            # what infer_objects makes of the same datetimes (microseconds, NaT for blanks)
            days = _ORDINAL_OF(cells[is_date]).astype(np.int64) - _UNIX_ORDINAL
            stamps = np.full(len(cells), np.datetime64("NaT"), dtype="datetime64[us]")
            stamps[is_date] = days.astype("datetime64[D]")
            df.isetitem(i, pd.Series(stamps, index=df.index, name=column.name))
        elif is_date.any():
            cells = cells.copy()
            cells[is_date] = [dt.datetime(d.year, d.month, d.day) for d in cells[is_date]]
            df.isetitem(i, pd.Series(cells, index=df.index, name=column.name).infer_objects())
    return df
