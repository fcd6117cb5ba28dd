"""Work done once per distinct value of a column, then spread back to its cells.

Account lists repeat their values a lot (statuses, classes, industries,
owners, segment names), so a Python function called once per distinct value
instead of once per cell is what keeps the engine fast on 100k rows.

Example
-------
>>> import numpy as np
>>> from maillon.engine.distinct import per_distinct
>>> per_distinct(np.array([" A", "B ", None, " A"], dtype=object), str.strip).tolist()
['A', 'B', None, 'A']
"""
from __future__ import annotations

import numpy as np
import pandas as pd


def per_distinct(values, fn, missing=None, dtype=object) -> np.ndarray:
    """``fn(value)`` for every cell of ``values``, called once per distinct value.

    A missing cell (NaN, None) gives ``missing`` without calling ``fn``. The
    result is a NumPy array of ``dtype``, one item per cell.
    """
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    done = np.array([missing] + [fn(v) for v in uniques.tolist()], dtype=dtype)
    return done[codes + 1]
