"""Reconciliation of the marketing view (segments) with the sales view (ABC).

Three results:

* **Cross-tables** Segment x ABC cell of accounts, Revenue 12m and Potential:
  one row per segment (every segment, in the order of ``segments``), one column
  per ABC cell (the 12 cells, zeros where empty).
* **Agreement** -- "share of accounts on which both views agree". Each view
  puts an account into a top, middle or bottom tier:

  - Marketing: the tier of the account's segment, i.e. its third when segments
    are ranked by Attractiveness (see :func:`segment_tiers`);
  - Sales: the best class the account has in the crossed ABC matrix --
    *top* when its revenue class or its potential class is ``A``, *middle*
    when the better of the two is ``B``, *bottom* otherwise (revenue class
    ``C`` or ``P`` and potential class ``C``).

  agreement = (accounts whose two tiers are equal) / (all accounts).
  It reads directly as a share of the customer base, which a manager can check
  by hand on the cross-table; Cramér's V or mutual information would measure
  association but not say on how many accounts the teams agree.
* **Conflicts** (``tblConflicts``), account by account:

  - *Hidden potential*: segment in the top third, revenue class ``C`` or ``P``
    and potential class ``A`` -- Marketing and the potential estimate say
    "go", the revenue says Sales is not there yet;
  - *Legacy account*: revenue class ``A`` in a segment of the bottom third --
    an important customer in a market Marketing finds unattractive.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

from . import contract as C
from .distinct import per_distinct

TOP, MIDDLE, BOTTOM = "top", "middle", "bottom"
HIDDEN_POTENTIAL = "Hidden potential"
LEGACY_ACCOUNT = "Legacy account"


def segment_tiers(segments: pd.DataFrame) -> pd.Series:
    """Tier (``top``/``middle``/``bottom``) of each segment, indexed by Segment ID.

    Segments are ranked by Attractiveness, highest first; ties are broken by
    Segment ID ascending (``S01`` before ``S02``), and a blank Attractiveness
    ranks last. With k segments, the first ``floor(k/3 + 0.5)`` are the top
    third and the last ``floor(k/3 + 0.5)`` the bottom third; the rest are the
    middle. So 2 segments give one top and one bottom, 3 give one of each,
    4 give 1/2/1, 5 give 2/1/2, 6 give 2/2/2, 12 give 4/4/4; a single segment
    is middle (there is nothing to compare it with).

    >>> segment_tiers(pd.DataFrame({"Segment ID": ["S01", "S02", "S03", "S04"],
    ...                             "Attractiveness": [40, 90, 40, 10]})).tolist()
    ['middle', 'top', 'middle', 'bottom']
    """
    ids = segments["Segment ID"].astype(str).to_numpy(dtype=object)
    attr = pd.to_numeric(segments["Attractiveness"], errors="coerce").to_numpy(dtype=float)
    k = len(ids)
    key = pd.DataFrame({"a": -np.nan_to_num(attr, nan=-np.inf), "id": ids})
    order = key.sort_values(["a", "id"], kind="stable").index.to_numpy()
    n = math.floor(k / 3 + 0.5)
    tiers = np.full(k, MIDDLE, dtype=object)
    if k >= 2:
        tiers[order[:n]] = TOP
        tiers[order[k - n:]] = BOTTOM
    return pd.Series(tiers, index=pd.Index(ids, name="Segment ID"), name="Tier")


def sales_tiers(classes: pd.DataFrame) -> np.ndarray:
    """Sales tier of each account from its ABC classes (see the module docstring)."""
    rev = classes["Revenue class"].to_numpy(dtype=object)
    pot = classes["Potential class"].to_numpy(dtype=object)
    return np.where((rev == "A") | (pot == "A"), TOP,
                    np.where((rev == "B") | (pot == "B"), MIDDLE, BOTTOM)).astype(object)


def _cross(seg_code: np.ndarray, cell_code: np.ndarray, values: np.ndarray | None,
           seg_ids: list[str]) -> pd.DataFrame:
    """Segment x ABC cell sums (counts when ``values`` is None); unknown codes (-1) are left out."""
    k, m = len(seg_ids), len(C.ABC_CELLS)
    ok = (seg_code >= 0) & (cell_code >= 0)
    flat = seg_code[ok] * m + cell_code[ok]
    weights = None if values is None else values[ok]
    sums = np.bincount(flat, weights=weights, minlength=k * m).reshape(k, m)
    table = pd.DataFrame(sums, index=pd.Index(seg_ids, name="Segment ID"),
                         columns=pd.Index(list(C.ABC_CELLS), name="ABC cell"))
    return table.astype("int64" if values is None else float)


def reconcile(accounts: pd.DataFrame, classes: pd.DataFrame, membership: pd.Series,
              segments: pd.DataFrame
              ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, dict, pd.DataFrame]:
    """Cross-tables, agreement and conflicts between segments and ABC cells.

    Parameters
    ----------
    accounts : DataFrame of accounts (``Account ID``, ``Account name``,
        ``Revenue 12m``, ``Potential``).
    classes : result of :func:`maillon.engine.abc.classify` (same index).
    membership : Segment ID of each account (same index).
    segments : ``tblSegments`` (``Segment ID``, ``Segment name``, ``Attractiveness``).

    Returns
    -------
    (cross_accounts, cross_revenue, cross_potential, agreement, conflicts)
    """
    seg_ids = segments["Segment ID"].astype(str).tolist()
    seg = membership.reindex(accounts.index).astype(object).to_numpy(dtype=object)
    cells = classes["ABC cell"].reindex(accounts.index).to_numpy(dtype=object)
    revenue = pd.to_numeric(accounts["Revenue 12m"], errors="coerce").fillna(0.0).to_numpy()
    potential = pd.to_numeric(accounts["Potential"], errors="coerce").fillna(0.0).to_numpy()

    seg_code = pd.Index(seg_ids).get_indexer(pd.Index(seg))
    cell_code = pd.Index(list(C.ABC_CELLS)).get_indexer(pd.Index(cells))
    cross_accounts = _cross(seg_code, cell_code, None, seg_ids)
    cross_revenue = _cross(seg_code, cell_code, revenue, seg_ids)
    cross_potential = _cross(seg_code, cell_code, potential, seg_ids)

    tiers = segment_tiers(segments).reindex(seg_ids).to_numpy(dtype=object)
    mkt_tier = np.append(tiers, "none").astype(object)[seg_code]  # -1 (no segment) -> "none"
    sales_tier = sales_tiers(classes.reindex(accounts.index))
    n = len(accounts)
    agree = int((mkt_tier == sales_tier).sum()) if n else 0
    value = agree / n if n else 0.0
    agreement = {
        "name": "Share of accounts on which both views agree",
        "value": float(value),
        "explanation": (
            f"{agree:,} of {n:,} accounts sit in the same tier in both views: Marketing's tier is "
            "the third of the account's segment by Attractiveness, Sales' tier is the best of its "
            "revenue and potential classes (A = top, B = middle, C or P = bottom). "
            "It reads as a plain share of the portfolio, so both teams can check it on the "
            "cross-table."),
    }
    conflicts = _conflicts(accounts, classes, seg, mkt_tier, revenue, potential, segments)
    return cross_accounts, cross_revenue, cross_potential, agreement, conflicts


def _conflicts(accounts, classes, seg, mkt_tier, revenue, potential, segments) -> pd.DataFrame:
    rev = classes["Revenue class"].reindex(accounts.index).to_numpy(dtype=object)
    pot = classes["Potential class"].reindex(accounts.index).to_numpy(dtype=object)
    cells = classes["ABC cell"].reindex(accounts.index).to_numpy(dtype=object)
    names = segments.set_index(segments["Segment ID"].astype(str))["Segment name"]
    seg_name = pd.Series(seg).map(names).fillna("").astype(object).to_numpy(dtype=object)
    seg_label = np.where(seg_name != "", seg_name, seg).astype(object)

    hidden = (mkt_tier == TOP) & np.isin(rev, ["C", "P"]) & (pot == "A")
    legacy = (mkt_tier == BOTTOM) & (rev == "A")
    parts = []
    for mask, kind, amount, text in (
        (hidden, HIDDEN_POTENTIAL, potential,
         (" is a top-third segment and the account's potential is class A, but Sales earns "
          "little or nothing there yet. Sales: qualify the opportunity and name a rep; "
          "Marketing: put the account in the segment's campaign.")),
        (legacy, LEGACY_ACCOUNT, revenue,
         (" is a bottom-third segment, yet the account is a class A customer. Keep serving it "
          "(Sales) but check with Marketing whether the segment is underrated or the account "
          "belongs to another segment; do not spend acquisition budget on look-alikes.")),
    ):
        idx = np.flatnonzero(mask)
        if len(idx) == 0:
            continue
        part = pd.DataFrame({
            "Account ID": accounts["Account ID"].to_numpy(dtype=object)[idx],
            "Account name": accounts["Account name"].to_numpy(dtype=object)[idx],
            "Segment ID": seg[idx],
            "ABC cell": cells[idx],
            "Conflict": kind,
            # one string per distinct segment label (they repeat)
            "Suggested resolution": per_distinct(seg_label[idx], lambda label, text=text: label + text),
            "_amount": -amount[idx],
        })
        parts.append(part.sort_values(["_amount", "Account ID"], kind="stable"))
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in C.CONFLICT_COLUMNS})
    out = pd.concat(parts, ignore_index=True)
    return out[C.CONFLICT_COLUMNS]
