"""The sales view: the crossed ABC matrix (revenue class x potential class).

The rule is the one written in ``CONTRACT.md`` and is exact:

* **Revenue class**, over the accounts with Status ``Customer`` and
  Revenue 12m > 0, sorted by Revenue 12m descending then Account ID ascending:
  an account is ``A`` when the accounts ranked strictly above it make less than
  ``Revenue A share`` of the total, else ``B`` when they make less than
  ``Revenue B share``, else ``C``. A customer with no revenue (blank or 0) is
  ``C``; a prospect is ``P`` whatever its revenue.
* **Potential class**: the same rule on Potential over all accounts (customers
  and prospects). A blank or zero Potential is ``C``.
* **ABC cell** = revenue class followed by potential class: ``AA`` ... ``PC``.

Consequences worth knowing: the first account of a ranking is always ``A``
(nothing is ranked above it), and equal amounts are ordered by Account ID, so
of two accounts with the same revenue, the lower Account ID may be ``A`` while
the other is ``B``.

"Less than" is strict. To keep floating-point noise from deciding a boundary
(0.1 + 0.2 != 0.3), amounts above an account that fall within one part in 10^9
of the share boundary count as reaching it: a portfolio of 50, 30 and 20 with an
80 % A share gives ``A``, ``A``, ``B`` (50 + 30 is exactly 80 %, not less).

Example
-------
>>> import pandas as pd
>>> from maillon.engine.model import Settings
>>> acc = pd.DataFrame({"Account ID": ["a", "b", "c", "d"],
...                     "Status": ["Customer", "Customer", "Customer", "Prospect"],
...                     "Revenue 12m": [50.0, 30.0, 20.0, None],
...                     "Potential": [10.0, None, 80.0, 10.0]})
>>> classify(acc, Settings())["ABC cell"].tolist()
['AB', 'AC', 'BA', 'PB']
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from . import contract as C
from .model import Settings

#: What Sales does with an account of each cell of the crossed matrix.
SALES_POSTURE: dict[str, str] = {
    "AA": "Protect and grow: key account plan, top management sponsor",
    "AB": "Protect: defend the share of wallet, regular senior reviews",
    "AC": "Secure and serve efficiently: the account is near its ceiling",
    "BA": "Develop: upsell and cross-sell plan, raise the level of contact",
    "BB": "Maintain and grow selectively: regular visits, targeted offers",
    "BC": "Maintain at lower cost: account manager follow-up, digital touch",
    "CA": "Conquer the wallet: treat as a development target, qualify needs",
    "CB": "Nurture: develop step by step with campaigns and calls",
    "CC": "Serve at minimal cost: inside sales, web shop, partners",
    "PA": "Hunt: priority prospect, named rep and a tailored approach",
    "PB": "Prospect actively: campaigns then qualification calls",
    "PC": "Watch: marketing nurturing only, no field time",
}

#: Relative tolerance under which a cumulative amount counts as reaching a boundary.
BOUNDARY_TOLERANCE = 1e-9

_REV = "Revenue class"
_POT = "Potential class"
_CELL = "ABC cell"


def _check_shares(a: float, b: float, what: str) -> None:
    if not (0.0 <= a <= 1.0 and 0.0 <= b <= 1.0):
        raise ValueError(f"{what} A share and B share must be between 0 and 1; got {a!r} and {b!r}")
    if a > b:
        raise ValueError(f"{what} A share ({a:.0%}) must not exceed {what} B share ({b:.0%})")


def id_rank(ids) -> np.ndarray:
    """Position of each Account ID in ascending text order (0-based, ties keep row order).

    Sorting fixed-width numpy text is several times faster than sorting Python
    strings; the order is the same (by code point).
    """
    arr = np.asarray(pd.Series(ids).astype(str).to_numpy(dtype=object), dtype=str)
    order = np.argsort(arr, kind="stable")
    rank = np.empty(len(arr), dtype=np.int64)
    rank[order] = np.arange(len(arr))
    return rank


# Class labels are taken from these few objects, never built per account: a
# column of 100k references to the same strings is quicker to hash, compare and
# write than 100k separate strings.
_ABC = np.array(["A", "B", "C"], dtype=object)
_CELLS = {(r, p): r + p for r in C.REVENUE_CLASSES for p in C.POTENTIAL_CLASSES}


def _rank_classes(values: np.ndarray, id_pos: np.ndarray, eligible: np.ndarray,
                  a_share: float, b_share: float) -> np.ndarray:
    """Class ``A``/``B``/``C`` of each eligible row by the cumulative rule; others ``C``.

    ``values`` are positive where ``eligible``; ``id_pos`` is :func:`id_rank`.
    Sorting is by value descending then Account ID ascending; the amount ranked strictly above a row is the cumulative
    sum minus the row's own value.
    """
    out = np.full(len(values), "C", dtype=object)
    pos = np.flatnonzero(eligible)
    if len(pos) == 0:
        return out
    vals = values[pos]
    order = np.lexsort((id_pos[pos], -vals))  # value descending, then Account ID ascending
    sorted_vals = vals[order]
    above = np.cumsum(sorted_vals) - sorted_vals
    total = sorted_vals.sum()
    tol = BOUNDARY_TOLERANCE * total
    cls = np.where(above < a_share * total - tol, 0, np.where(above < b_share * total - tol, 1, 2))
    out[pos[order]] = _ABC[cls]
    return out


def classify(accounts: pd.DataFrame, settings: Settings) -> pd.DataFrame:
    """Revenue class, Potential class and ABC cell of every account.

    Parameters
    ----------
    accounts : DataFrame with at least ``Account ID``, ``Status``,
        ``Revenue 12m`` and ``Potential`` (floats, NaN for blank).
    settings : :class:`~maillon.engine.model.Settings`; uses the revenue and
        potential A/B shares.

    Returns
    -------
    DataFrame indexed like ``accounts`` with columns ``Revenue class``,
    ``Potential class`` and ``ABC cell``.
    """
    _check_shares(settings.revenue_a_share, settings.revenue_b_share, "Revenue")
    _check_shares(settings.potential_a_share, settings.potential_b_share, "Potential")
    id_pos = id_rank(accounts["Account ID"])
    customer = (accounts["Status"] == "Customer").to_numpy(dtype=bool)
    revenue = pd.to_numeric(accounts["Revenue 12m"], errors="coerce").to_numpy(dtype=float)
    potential = pd.to_numeric(accounts["Potential"], errors="coerce").to_numpy(dtype=float)

    rev_ok = customer & (revenue > 0)  # NaN > 0 is False
    rev_cls = _rank_classes(np.nan_to_num(revenue), id_pos, rev_ok,
                            settings.revenue_a_share, settings.revenue_b_share)
    rev_cls[~customer] = "P"
    pot_cls = _rank_classes(np.nan_to_num(potential), id_pos, potential > 0,
                            settings.potential_a_share, settings.potential_b_share)
    cell = np.fromiter(map(_CELLS.__getitem__, zip(rev_cls, pot_cls)), dtype=object,
                       count=len(rev_cls))
    return pd.DataFrame({_REV: rev_cls, _POT: pot_cls, _CELL: cell}, index=accounts.index)


def abc_tables(accounts: pd.DataFrame, classes: pd.DataFrame
               ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """``tblAbc`` and the three 4x3 grids (accounts, revenue, potential).

    ``tblAbc`` has the 12 cells in ``contract.ABC_CELLS`` order, empty cells
    included with zeros. The grids are indexed by revenue class
    (``A``, ``B``, ``C``, ``P``) with potential classes as columns
    (``A``, ``B``, ``C``). Blank amounts count as 0 in the sums.
    """
    frame = pd.DataFrame({
        _CELL: classes[_CELL].to_numpy(dtype=object),
        "Revenue 12m": pd.to_numeric(accounts["Revenue 12m"], errors="coerce").fillna(0.0).to_numpy(),
        "Potential": pd.to_numeric(accounts["Potential"], errors="coerce").fillna(0.0).to_numpy(),
    })
    agg = frame.groupby(_CELL, sort=False).agg(
        Accounts=(_CELL, "size"), Revenue=("Revenue 12m", "sum"), Potential=("Potential", "sum"))
    agg = agg.reindex(list(C.ABC_CELLS)).fillna(0)
    tbl = pd.DataFrame({
        "ABC cell": list(C.ABC_CELLS),
        "Revenue class": [c[0] for c in C.ABC_CELLS],
        "Potential class": [c[1] for c in C.ABC_CELLS],
        "Accounts": agg["Accounts"].astype("int64").to_numpy(),
        "Revenue 12m": agg["Revenue"].astype(float).to_numpy(),
        "Potential": agg["Potential"].astype(float).to_numpy(),
        "Sales posture": [SALES_POSTURE[c] for c in C.ABC_CELLS],
    })[C.ABC_COLUMNS]

    def grid(col: str, dtype) -> pd.DataFrame:
        g = pd.DataFrame(tbl[col].to_numpy().reshape(len(C.REVENUE_CLASSES), len(C.POTENTIAL_CLASSES)),
                         index=pd.Index(list(C.REVENUE_CLASSES), name=_REV),
                         columns=pd.Index(list(C.POTENTIAL_CLASSES), name=_POT))
        return g.astype(dtype)

    return tbl, grid("Accounts", "int64"), grid("Revenue 12m", float), grid("Potential", float)
