"""The common target list: one joint score, priorities, reasons and qualification.

Score (0-100)
-------------
Every term below is a number from 0 to 1; blanks are replaced as stated.

Marketing view ``M`` (what the market study says about the account)::

    attractiveness = Attractiveness of the account's segment / 100   (blank: 0.5)
    fit            = account_fit, the account's own need-strength fit;
                     when blank (needs unknown), the mean fit of its segment's
                     accounts; when that is blank too, the attractiveness term
    M = 0.5 * attractiveness + 0.5 * fit

Sales view ``S`` (what the portfolio and the field say)::

    size(x)      = 0.5 * log1p(x) / log1p(max x)        # magnitude, compressed
                 + 0.5 * (#accounts with a value <= x) / N   # position, 0 when x = 0
    revenue      = size(Revenue 12m), over customers (prospects and blanks: 0)
    potential    = size(Potential)                        (blank: 0)
    relationship = (Relationship - 1) / 4 from the latest feedback  (none: 0.5, neutral)
    intent       = High 1, Medium 0.5, Low 0 from the latest feedback (none: 0.25,
                   between Low and Medium: an unknown intent is worth less than a stated one)
    S = 0.30 * revenue + 0.35 * potential + 0.15 * relationship + 0.20 * intent

Joint score::

    Score = 100 * (w * M + (1 - w) * S)      w = Settings.marketing_weight

Two properties follow and are tested. With ``w = 0`` the score is ``100 * S``,
which reads no needs, segment, fit nor attractiveness, so changing needs moves
no score. Raising an account's Potential raises (or keeps) both parts of its own
potential term: ``log1p(x)/log1p(max)`` grows with ``x`` even when ``x``
becomes the new maximum (it is then 1), and the count of accounts at or below
``x`` can only grow; nothing else in the score reads Potential. The ABC class
is deliberately not used, so the score has no steps at class boundaries.

Priorities
----------
Computed priority: accounts ordered by the score descending, then Account ID
ascending; the first ``floor(P1 share * N + 0.5)`` are P1, the next
``floor(P2 share * N + 0.5)`` are P2, the rest P3 (N = all accounts). The
score is rounded to one decimal before anything is ordered by it, and the
Score column holds that value: a user who sorts the table by Final priority,
Score and Account ID gets Rank's order (no hidden decimals decide a tie).

``Priority override`` and ``Override reason`` are carried from the previous
target list by Account ID; Final priority = override when set, else computed.
Rank orders Final priority (P1, P2, P3, Exclude), then score descending, then
Account ID.
"""
from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd

from . import contract as C
from .abc import id_rank
from .cells import is_blank
from .distinct import per_distinct
from .model import Settings
from .weights import MKT_WEIGHTS, SALES_WEIGHTS

# Weights inside each view (documented in the module docstring).
INTENT_VALUE = {"low": 0.0, "medium": 0.5, "high": 1.0}
DEFAULT_RELATIONSHIP = 0.5
DEFAULT_INTENT = 0.25
DEFAULT_ATTRACTIVENESS = 0.5

_PRIORITY_ORDER = {"P1": 0, "P2": 1, "P3": 2, "Exclude": 3}
_OVERRIDE_CANON = {o.lower(): o for o in C.OVERRIDES}
_PRIORITY_LABELS = np.array(C.PRIORITIES, dtype=object)  # P1, P2, P3


# --------------------------------------------------------------------------- helpers
def _text(s: pd.Series) -> np.ndarray:
    """Text values as an object array, blanks (NaN/None) as "".

    Works on the distinct values only (factorize), which is fast on the long,
    repetitive columns of an account list.
    """
    s = pd.Series(s)
    if pd.api.types.is_string_dtype(s.dtype) and not pd.api.types.is_object_dtype(s.dtype):
        return s.to_numpy(dtype=object, na_value="")
    return per_distinct(s.astype(object), str, missing="")


def _blank(s: pd.Series) -> np.ndarray:
    """True where a text cell is blank (NaN, None or only spaces)."""
    return per_distinct(pd.Series(s).astype(object), is_blank, missing=True, dtype=bool)


def _keys(s: pd.Series) -> pd.Series:
    """Account IDs read back from a sheet as text (1001.0 read as a number -> "1001")."""
    def one(v):
        if v is None or (isinstance(v, float) and math.isnan(v)):
            return ""
        if isinstance(v, float) and v.is_integer():
            return str(int(v))
        return str(v).strip()
    return pd.Series(per_distinct(pd.Series(s).astype(object), one, missing=""),
                     index=s.index, dtype=object)


def _count_at_or_below(x: np.ndarray) -> np.ndarray:
    """For each value, how many values of ``x`` are <= it (itself included)."""
    order = np.argsort(x, kind="stable")
    srt = x[order]
    out = np.empty(len(x), dtype=np.int64)
    out[order] = np.searchsorted(srt, srt, side="right")  # sorted queries: fast
    return out


def size_term(x: np.ndarray, at_or_below: np.ndarray | None = None) -> np.ndarray:
    """0.5 * log1p(x)/log1p(max x) + 0.5 * share of accounts with a value <= x (0 for x <= 0).

    Monotone in each account's own value. ``x`` must have no NaN.

    >>> size_term(np.array([0.0, 10.0, 10.0, 1000.0])).round(3).tolist()
    [0.0, 0.549, 0.549, 1.0]
    """
    n = len(x)
    if n == 0:
        return np.zeros(0)
    x = np.clip(x, 0.0, None)
    top = x.max()
    if top <= 0:
        return np.zeros(n)
    mag = np.log1p(x) / np.log1p(top)
    share = (_count_at_or_below(x) if at_or_below is None else at_or_below) / n
    return np.where(x > 0, 0.5 * mag + 0.5 * share, 0.0)


def _top_percent(x: np.ndarray, at_or_below: np.ndarray | None = None) -> np.ndarray:
    """For each value, the smallest p such that it is in the top p% of all accounts (1-100)."""
    n = len(x)
    greater = n - (_count_at_or_below(x) if at_or_below is None else at_or_below)
    return np.clip(np.ceil(100.0 * (greater + 1) / max(n, 1)), 1, 100).astype(np.int64)


class _Vocab:
    """Phrases numbered from 1 (0 is "no phrase"), so texts travel as integer codes."""

    def __init__(self):
        self.words: list[str] = [""]

    def add(self, phrases) -> int:
        """Append phrases; returns the code of the first one."""
        first = len(self.words)
        self.words.extend(phrases)
        return first


def _join_codes(codes: np.ndarray, vocab: _Vocab, sep: str = "; ") -> np.ndarray:
    """Row-wise join of the phrases coded in ``codes`` (n x k ints, 0 = none).

    Joins each distinct combination once, then spreads it back to the rows.
    """
    n, k = codes.shape
    if n == 0:
        return np.zeros(0, dtype=object)
    # one integer per distinct row: fold the columns in, re-numbering densely at each step
    key = np.zeros(n, dtype=np.int64)
    width = len(vocab.words)
    for j in range(k):
        key, uniq = pd.factorize(key * width + codes[:, j])
        key = key.astype(np.int64)
    _, first = np.unique(key, return_index=True)  # a representative row of each combination
    words = vocab.words
    texts = np.array([sep.join(words[c] for c in row if c) for row in codes[first].tolist()],
                     dtype=object)
    return texts[key]


# --------------------------------------------------------------------------- components
def _segment_codes(membership: pd.Series, seg_ids) -> np.ndarray:
    """Position of each account's Segment ID in ``seg_ids``; -1 when blank or unknown."""
    codes, uniq = pd.factorize(membership.astype(object), use_na_sentinel=True)
    at = pd.Index(seg_ids).get_indexer(pd.Index([str(u) for u in uniq], dtype=object))
    return np.append(at, -1)[codes]


def score_components(accounts: pd.DataFrame, latest_feedback: pd.DataFrame | None,
                     membership: pd.Series, account_fit: pd.Series,
                     segments: pd.DataFrame) -> pd.DataFrame:
    """The six score terms (0-1) of each account, indexed like ``accounts``.

    Columns: ``attractiveness``, ``fit``, ``revenue``, ``potential``,
    ``relationship``, ``intent`` plus ``fit_own`` (bool: the account's own fit
    was used), ``has_relationship``, ``has_intent`` (bool).
    """
    idx = accounts.index
    n = len(accounts)
    seg_ids = segments["Segment ID"].astype(str).to_numpy(dtype=object)
    seg_code = _segment_codes(membership.reindex(idx), seg_ids)  # -1: no known segment
    k = len(seg_ids)
    seg_attr = pd.to_numeric(segments["Attractiveness"], errors="coerce").to_numpy(dtype=float) / 100.0
    attr = np.append(seg_attr, np.nan)[seg_code]
    attr = np.clip(np.where(np.isnan(attr), DEFAULT_ATTRACTIVENESS, attr), 0.0, 1.0)

    fit = pd.to_numeric(account_fit.reindex(idx), errors="coerce").to_numpy(dtype=float, copy=True)
    fit_own = ~np.isnan(fit)
    known = fit_own & (seg_code >= 0)
    total = np.bincount(seg_code[known], weights=fit[known], minlength=k)
    count = np.bincount(seg_code[known], minlength=k)
    with np.errstate(invalid="ignore", divide="ignore"):
        seg_fit = np.where(count > 0, total / np.maximum(count, 1), np.nan)
    fallback = np.append(seg_fit, np.nan)[seg_code]
    fit = np.where(fit_own, fit, fallback)
    fit = np.where(np.isnan(fit), attr, fit)
    fit = np.clip(fit, 0.0, 1.0)

    customer = (accounts["Status"] == "Customer").to_numpy(dtype=bool)
    revenue = pd.to_numeric(accounts["Revenue 12m"], errors="coerce").fillna(0.0).to_numpy(dtype=float)
    revenue = np.where(customer, revenue, 0.0)
    potential = pd.to_numeric(accounts["Potential"], errors="coerce").fillna(0.0).to_numpy(dtype=float)

    ids = pd.Index(accounts["Account ID"].astype(str))
    if latest_feedback is not None and len(latest_feedback):
        fb = latest_feedback
        if "Account ID" in fb.columns:
            fb = fb.set_index("Account ID")
        fb_ids = pd.Index(fb.index.astype(str))
        keep = ~fb_ids.duplicated(keep="last")
        fb, fb_ids = fb[keep], fb_ids[keep]
        at = fb_ids.get_indexer(ids)  # row of each account's latest feedback, -1 when none
        has_fb = at >= 0
        rel_all = np.append(pd.to_numeric(fb["Relationship"], errors="coerce").to_numpy(dtype=float), np.nan)
        rel_raw = rel_all[at]
        codes, uniq = pd.factorize(fb["Buying intent"].astype(object), use_na_sentinel=True)
        values = np.array([INTENT_VALUE.get(str(u).strip().lower(), np.nan) for u in uniq] + [np.nan])
        intent_raw = values[np.append(codes, -1)[at]]
    else:
        has_fb = np.zeros(n, dtype=bool)
        rel_raw = np.full(n, np.nan)
        intent_raw = np.full(n, np.nan)
    has_rel = ~np.isnan(rel_raw)
    has_int = ~np.isnan(intent_raw)
    rel = np.where(has_rel, np.clip((rel_raw - 1.0) / 4.0, 0.0, 1.0), DEFAULT_RELATIONSHIP)
    intent = np.where(has_int, intent_raw, DEFAULT_INTENT)

    rev_le, pot_le = _count_at_or_below(revenue), _count_at_or_below(potential)
    return pd.DataFrame({
        "attractiveness": attr, "fit": fit, "revenue": size_term(revenue, rev_le),
        "potential": size_term(potential, pot_le), "relationship": rel, "intent": intent,
        "revenue_top": _top_percent(revenue, rev_le), "potential_top": _top_percent(potential, pot_le),
        "segment_code": seg_code,
        "fit_own": fit_own, "has_relationship": has_rel, "has_intent": has_int, "has_feedback": has_fb,
        "relationship_raw": rel_raw,
    }, index=idx)


def joint_score(components: pd.DataFrame, marketing_weight: float) -> np.ndarray:
    """Unrounded joint score 0-100 from :func:`score_components`."""
    w = float(marketing_weight)
    if not 0.0 <= w <= 1.0:
        raise ValueError(f"marketing_weight must be between 0 and 1; got {w!r}")
    mkt = sum(wt * components[k].to_numpy(dtype=float) for k, wt in MKT_WEIGHTS.items())
    sales = sum(wt * components[k].to_numpy(dtype=float) for k, wt in SALES_WEIGHTS.items())
    # w == 0 must ignore the marketing view entirely (never 0 * something).
    joint = sales if w == 0.0 else (mkt if w == 1.0 else w * mkt + (1.0 - w) * sales)
    return np.clip(100.0 * np.asarray(joint, dtype=float), 0.0, 100.0)


def priority_counts(n: int, settings: Settings) -> tuple[int, int]:
    """(P1 count, P2 count) = floor(share * n + 0.5) each, P1 + P2 capped at n.

    >>> priority_counts(25, Settings(p1_share=0.10, p2_share=0.30))
    (3, 8)
    """
    for name in ("p1_share", "p2_share"):
        v = getattr(settings, name)
        if not 0.0 <= v <= 1.0:
            raise ValueError(f"{name} must be between 0 and 1; got {v!r}")
    # the tiny epsilon keeps 0.3 * 25 = 7.499999... from rounding down
    n1 = min(n, math.floor(settings.p1_share * n + 0.5 + 1e-9))
    n2 = min(n - n1, math.floor(settings.p2_share * n + 0.5 + 1e-9))
    return n1, n2


# --------------------------------------------------------------------------- reasons
def _why(comp: pd.DataFrame, accounts: pd.DataFrame, w: float) -> np.ndarray:
    """Two or three strongest reasons behind each score, in plain words.

    Strengths (a high term) are listed first, strongest contribution to the
    score first, up to three. When fewer than two strengths exist, the
    weaknesses that cost the most points are added until there are two, then
    neutral facts ("Average potential (top 40%)"). Marketing reasons are left
    out when the marketing weight is 0.
    """
    n = len(comp)
    customer = (accounts["Status"] == "Customer").to_numpy(dtype=bool)
    potential = pd.to_numeric(accounts["Potential"], errors="coerce").to_numpy(dtype=float)
    revenue = pd.to_numeric(accounts["Revenue 12m"], errors="coerce").to_numpy(dtype=float)
    rev0 = np.where(customer, np.nan_to_num(revenue), 0.0)
    pot0 = np.nan_to_num(potential)
    rev_t, pot_t = comp["revenue_top"].to_numpy(), comp["potential_top"].to_numpy()
    attr = comp["attractiveness"].to_numpy()
    attr_i = np.clip(np.rint(attr * 100), 0, 100).astype(np.int64)
    rel_raw = comp["relationship_raw"].to_numpy()
    rel_i = np.clip(np.rint(np.nan_to_num(rel_raw)), 0, 5).astype(np.int64)
    intent = comp["intent"].to_numpy()
    has_int = comp["has_intent"].to_numpy(dtype=bool)
    has_rel = comp["has_relationship"].to_numpy(dtype=bool)
    fit = comp["fit"].to_numpy()
    fit_own = comp["fit_own"].to_numpy(dtype=bool)

    v = _Vocab()
    pct = range(101)
    hp = v.add([f"High potential (top {i}%)" for i in pct])
    gp = v.add([f"Good potential (top {i}%)" for i in pct])
    pot_unknown = v.add(["Potential unknown", "No potential", "Low potential"])
    no_pot, low_pot = pot_unknown + 1, pot_unknown + 2
    mc = v.add([f"Major customer (top {i}% of revenue)" for i in pct])
    sc = v.add([f"Solid customer (top {i}% of revenue)" for i in pct])
    no_rev = v.add(["No revenue yet", "Small customer"])
    small = no_rev + 1
    hi_int = v.add(["High buying intent", "Medium buying intent", "Low buying intent"])
    med_int, low_int = hi_int + 1, hi_int + 2
    strong_rel = v.add([f"Strong relationship ({i}/5)" for i in range(6)])
    weak_rel = v.add([f"Weak relationship ({i}/5)" for i in range(6)])
    att = v.add([f"Attractive segment ({i}/100)" for i in pct])
    less_att = v.add([f"Less attractive segment ({i}/100)" for i in pct])
    fit_good = v.add(["Needs fit our strengths", "Needs poorly covered by our strengths"])
    fit_poor = fit_good + 1
    none = v.add(["Average on every criterion"])
    avg_pot = v.add([f"Average potential (top {i}%)" for i in pct])
    mid_c = v.add([f"Mid-size customer (top {i}% of revenue)" for i in pct])
    rel_plain = v.add([f"Relationship {i}/5" for i in range(6)])
    mid_att = v.add([f"Segment attractiveness {i}/100" for i in pct])
    fit_partial = v.add(["Needs partly fit our strengths"])

    def sel(*pairs):
        """First matching (condition, code array) wins; 0 where none matches."""
        conds = [c for c, _ in pairs]
        vals = [np.broadcast_to(np.asarray(x, dtype=np.int64), (n,)) for _, x in pairs]
        return np.select(conds, vals, 0)

    sw, mw = 1.0 - w, w
    terms = [  # (strength, weakness, neutral fact, contribution to the score)
        (sel(((pot0 > 0) & (pot_t <= 10), hp + pot_t), ((pot0 > 0) & (pot_t <= 30), gp + pot_t)),
         sel((np.isnan(potential), pot_unknown), (pot0 <= 0, no_pot), (pot_t > 50, low_pot)),
         sel(((pot0 > 0) & (pot_t > 30) & (pot_t <= 50), avg_pot + pot_t)),
         sw * SALES_WEIGHTS["potential"] * comp["potential"].to_numpy()),
        (sel(((rev0 > 0) & (rev_t <= 10), mc + rev_t), ((rev0 > 0) & (rev_t <= 30), sc + rev_t)),
         sel((rev0 <= 0, no_rev), (rev_t > 50, small)),
         sel(((rev0 > 0) & (rev_t > 30) & (rev_t <= 50), mid_c + rev_t)),
         sw * SALES_WEIGHTS["revenue"] * comp["revenue"].to_numpy()),
        (sel((has_int & (intent >= 1.0), hi_int), (has_int & (intent == 0.5), med_int)),
         sel((has_int & (intent <= 0.0), low_int)),
         np.zeros(n, dtype=np.int64),
         sw * SALES_WEIGHTS["intent"] * intent),
        (sel((has_rel & (rel_raw >= 4), strong_rel + rel_i)),
         sel((has_rel & (rel_raw <= 2), weak_rel + rel_i)),
         sel((has_rel & (rel_raw > 2) & (rel_raw < 4), rel_plain + rel_i)),
         sw * SALES_WEIGHTS["relationship"] * comp["relationship"].to_numpy()),
    ]
    if mw > 0:
        terms += [
            (sel((attr >= 0.6, att + attr_i)), sel((attr < 0.4, less_att + attr_i)),
             sel(((attr >= 0.4) & (attr < 0.6), mid_att + attr_i)),
             mw * MKT_WEIGHTS["attractiveness"] * attr),
            (sel((fit_own & (fit >= 0.6), fit_good)), sel((fit_own & (fit < 0.4), fit_poor)),
             sel((fit_own & (fit >= 0.4) & (fit < 0.6), fit_partial)),
             mw * MKT_WEIGHTS["fit"] * fit),
        ]
    pos = np.stack([t[0] for t in terms], axis=1)
    neg = np.stack([t[1] for t in terms], axis=1)
    neu = np.stack([t[2] for t in terms], axis=1)
    contrib = np.stack([np.broadcast_to(t[3], (n,)) for t in terms], axis=1).astype(float)
    # order of preference: strengths (largest contribution first), then weaknesses (the
    # ones that cost the most first), then neutral facts; 3 reasons when there are 3
    # strengths, else 2
    key = np.where(pos > 0, 1.0 - contrib,
                   np.where(neg > 0, 10.0 + contrib, np.where(neu > 0, 20.0 + 1.0 - contrib, np.inf)))
    code = np.where(pos > 0, pos, np.where(neg > 0, neg, neu))
    order = np.argsort(key, axis=1, kind="stable")[:, :3]
    codes = np.take_along_axis(code, order, axis=1)
    n_pos = (pos > 0).sum(axis=1)
    codes[:, 2] = np.where(n_pos >= 3, codes[:, 2], 0)
    codes[:, 0] = np.where((codes > 0).any(axis=1), codes[:, 0], none)
    return _join_codes(codes, v)


def _qualification(accounts: pd.DataFrame, has_fb: np.ndarray, inferred: pd.Series,
                   need_cols: list[str], today: dt.date) -> np.ndarray:
    """"Complete", or what is missing to trust the account's row, in a fixed order."""
    idx = accounts.index
    n = len(accounts)
    customer = (accounts["Status"] == "Customer").to_numpy(dtype=bool)
    v = _Vocab()
    cols = []

    def flag(cond, text):
        cols.append(np.where(cond, v.add([text]), 0))

    flag(pd.to_numeric(accounts["Potential"], errors="coerce").isna().to_numpy(), "Potential missing")
    flag(customer & pd.to_numeric(accounts["Revenue 12m"], errors="coerce").isna().to_numpy(),
         "Revenue 12m missing")
    for col in ("Industry", "Region"):
        if col in accounts.columns:
            flag(_blank(accounts[col]), f"{col} missing")
    if "Employees" in accounts.columns:
        flag(pd.to_numeric(accounts["Employees"], errors="coerce").isna().to_numpy(), "Employees missing")
    inf = inferred.reindex(idx).astype(object).fillna(False).astype(bool).to_numpy()
    flag(inf, "Needs missing — segment inferred from firmographics/feedback")
    if need_cols:
        known = accounts[need_cols].notna().sum(axis=1).to_numpy()
        k = len(need_cols)
        first = v.add([f"Needs incomplete ({i} of {k})" for i in range(k + 1)])
        cols.append(np.where(~inf & (known < k), first + known, 0))
    flag(~has_fb, "No field feedback")
    last = pd.to_datetime(accounts["Last contact"], errors="coerce")
    cutoff = pd.Timestamp(today) - pd.DateOffset(years=1)
    flag(last.isna().to_numpy(), "Last contact missing")
    flag((last < cutoff).to_numpy(dtype=bool), "No contact in 12 months")
    flag(_blank(accounts["Sales owner"]), "Sales owner missing")
    codes = np.stack(cols, axis=1) if cols else np.zeros((n, 1), dtype=np.int64)
    complete = v.add(["Complete"])
    codes[:, 0] = np.where((codes > 0).any(axis=1), codes[:, 0], complete)
    return _join_codes(codes, v)


# --------------------------------------------------------------------------- overrides
def _carry_overrides(ids: pd.Series, previous_targets: pd.DataFrame | None
                     ) -> tuple[np.ndarray, np.ndarray, list[dict]]:
    """Priority override and Override reason per account, carried by Account ID.

    Only rows of the previous table with an edit are looked at, so this costs
    little however long the list. Values are trimmed; the override is matched
    without regard to case (``p1`` -> ``P1``). A previous Account ID read back
    as a number (1001.0) matches the text ID "1001".
    """
    n = len(ids)
    override = np.full(n, "", dtype=object)
    reason = np.full(n, "", dtype=object)
    orphans: list[dict] = []
    if previous_targets is None or len(previous_targets) == 0 or "Account ID" not in previous_targets:
        return override, reason, orphans
    cols = {}
    for col in C.TARGET_EDITABLE:
        cols[col] = (_text(previous_targets[col]) if col in previous_targets.columns
                     else np.full(len(previous_targets), "", dtype=object))
    edited = ~(_blank(pd.Series(cols["Priority override"])) & _blank(pd.Series(cols["Override reason"])))
    if not edited.any():
        return override, reason, orphans
    prev = pd.DataFrame({
        "Account ID": _keys(previous_targets["Account ID"].iloc[np.flatnonzero(edited)]).to_numpy(),
        "Priority override": [str(v).strip() for v in cols["Priority override"][edited]],
        "Override reason": [str(v).strip() for v in cols["Override reason"][edited]],
    })
    prev = prev[prev["Account ID"] != ""].drop_duplicates("Account ID", keep="first")
    at = pd.Index(ids.to_numpy(dtype=object)).get_indexer(pd.Index(prev["Account ID"], dtype=object))
    for rec in prev[at < 0].itertuples(index=False):
        for col, val in zip(C.TARGET_EDITABLE, (rec[1], rec[2])):
            if val != "":
                orphans.append({"Sheet": C.SHEET_TARGETS, "Key": rec[0], "Column": col, "Value": val,
                                "Note": "Account no longer in Accounts; the edit was not carried over"})
    keep = prev[at >= 0]
    rows = at[at >= 0]
    for row, aid, raw, why in zip(rows, keep["Account ID"], keep["Priority override"], keep["Override reason"]):
        canon = _OVERRIDE_CANON.get(raw.lower()) if raw else ""
        if canon is None:
            orphans.append({"Sheet": C.SHEET_TARGETS, "Key": aid, "Column": "Priority override",
                            "Value": raw,
                            "Note": "Not a valid override (P1, P2, P3, Exclude or blank); ignored"})
            canon = ""
        override[row] = canon
        reason[row] = why
    return override, reason, orphans


# --------------------------------------------------------------------------- main
def build_targets(accounts: pd.DataFrame, latest_feedback: pd.DataFrame | None,
                  expectations: pd.DataFrame | None, classes: pd.DataFrame,
                  membership: pd.Series, inferred: pd.Series, account_fit: pd.Series,
                  segments: pd.DataFrame, settings: Settings,
                  previous_targets: pd.DataFrame | None, today: dt.date
                  ) -> tuple[pd.DataFrame, list[dict]]:
    """``tblTargets`` (exactly ``contract.TARGET_COLUMNS``, sorted by Rank) and orphans.

    ``Next action`` is left blank for :func:`maillon.engine.plan.build_plan`
    to fill. Orphans are ``{"Sheet", "Key", "Column", "Value", "Note"}`` dicts
    for overrides whose Account ID no longer exists (or whose value is not a
    valid override).

    The score formula is in this module's docstring.
    """
    n = len(accounts)
    ids = accounts["Account ID"].astype(str).reset_index(drop=True)
    comp = score_components(accounts, latest_feedback, membership, account_fit, segments)
    # rounded first: the order is the one a user can check by sorting on what is stored
    score = np.round(joint_score(comp, settings.marketing_weight), 1)

    # computed priority: score desc, then Account ID asc
    id_pos = id_rank(ids)
    order = np.lexsort((id_pos, -score))
    n1, n2 = priority_counts(n, settings)
    pos = np.empty(n, dtype=np.int64)
    pos[order] = np.arange(n)
    # three shared label objects, not one new string per account
    computed = _PRIORITY_LABELS[np.where(pos < n1, 0, np.where(pos < n1 + n2, 1, 2))]

    override, reason, orphans = _carry_overrides(ids, previous_targets)
    final = np.where(override != "", override, computed).astype(object)

    seg_code = comp["segment_code"].to_numpy()
    seg_text = np.append(segments["Segment ID"].astype(str).to_numpy(dtype=object), "")
    seg_name = np.append(_text(segments["Segment name"]), "")
    mkt_owner = np.append(_text(segments["Marketing owner"]), "")

    need_cols = []
    if expectations is not None and "Expectation" in expectations.columns:
        need_cols = [C.need_column(str(e)) for e in expectations["Expectation"]
                     if C.need_column(str(e)) in accounts.columns]
    if not need_cols:
        need_cols = [c for c in accounts.columns if str(c).startswith(C.NEED_PREFIX)]

    out = pd.DataFrame({
        "Rank": 0,
        "Account ID": ids.to_numpy(dtype=object),
        "Account name": _text(accounts["Account name"]),
        "Status": _text(accounts["Status"]),
        "Segment ID": seg_text[seg_code],
        "Segment name": seg_name[seg_code],
        "ABC cell": classes["ABC cell"].reindex(accounts.index).to_numpy(dtype=object),
        "Score": score,
        "Computed priority": computed,
        "Priority override": override,
        "Override reason": reason,
        "Final priority": final,
        "Why": _why(comp, accounts, float(settings.marketing_weight)),
        "Qualification": _qualification(accounts, comp["has_feedback"].to_numpy(dtype=bool), inferred,
                                        need_cols, today),
        "Sales owner": _text(accounts["Sales owner"]),
        "Marketing owner": mkt_owner[seg_code],
        "Next action": "",
    })
    p_code = np.select([final == p for p in _PRIORITY_ORDER], list(_PRIORITY_ORDER.values()), 9)
    out = out.iloc[np.lexsort((id_pos, -score, p_code))].reset_index(drop=True)
    out["Rank"] = np.arange(1, n + 1, dtype=np.int64)
    return out[C.TARGET_COLUMNS], orphans
