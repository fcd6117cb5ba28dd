"""What a cell's value means, the same in every part of Maillon.

One definition each, imported wherever it is needed (the engine, both
readers, the writers, the template):

- :func:`is_blank`: a value the user left blank -- ``None``, NaN (also NaT and
  ``pd.NA``) or text of nothing but spaces;
- :data:`EXCEL_EPOCH`: day 0 of Excel's date serial numbers (1900 date system,
  with Lotus' 1900 leap-year bug folded in: serial 1 is 1900-01-01 from March
  1900 on);

Standard library only: :mod:`maillon.engine.errors` imports it before pandas.

Example
-------
>>> from maillon.engine.cells import EXCEL_EPOCH, is_blank
>>> [is_blank(v) for v in (None, float("nan"), "", "  ", 0, "x")]
[True, True, True, True, False, False]
>>> EXCEL_EPOCH + __import__("datetime").timedelta(days=46083)
datetime.datetime(2026, 3, 2, 0, 0)
"""
from __future__ import annotations

import datetime as dt
import sys

__all__ = ["EXCEL_EPOCH", "is_blank"]

#: day 0 of Excel's serial dates: ``EXCEL_EPOCH + timedelta(days=serial)``
EXCEL_EPOCH = dt.datetime(1899, 12, 30)


def is_blank(value) -> bool:
    """True for a blank cell value: None, NaN, NaT, ``pd.NA``, or text of only spaces.

    Zero, ``False`` and any other text are values, not blanks.

    >>> import pandas as pd
    >>> is_blank(pd.NaT), is_blank(pd.NA), is_blank("\\u00a0"), is_blank(False)
    (True, True, True, False)
    """
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    pd = sys.modules.get("pandas")  # no pandas imported: no pd.NA can exist
    if pd is not None and value is pd.NA:
        return True
    try:
        return bool(value != value)  # NaN and NaT only differ from themselves
    except (TypeError, ValueError):
        return False
