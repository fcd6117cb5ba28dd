"""Marketing segmentation: stable segments from the accounts' expected needs.

What this module does, in the order :func:`segment_accounts` does it:

1. **Needs and fit.** Each account's ``Need: <Expectation>`` scores (1–5) are
   read in the order of ``tblExpectations``. An account's *fit* says how well
   our offer answers what it needs (see :func:`need_fit`).
2. **Clustering.** Accounts with at least one need are clustered with k-means
   on their needs, each weighted by Market importance, with firmographics
   (industry, region, log size) as light secondary features (see
   :func:`feature_matrix`). ``Segments = auto`` picks k from ``K_MIN``
   to ``K_MAX`` (the bounds of the Segments setting in settings.py) by the
   silhouette on a fixed sample (see :func:`choose_k`).
3. **Stability.** With the previous Target List's membership, the clustering is
   warm-started from the previous segments' centroids and the clusters are
   matched to the previous Segment IDs by membership overlap (see
   :func:`match_segment_ids`). Names and owners follow the Segment ID.
4. **Inference.** Accounts without any need get the segment that a
   categorical naive Bayes over industry, region, size band and the field's
   *Main need* finds most probable (see :func:`infer_segments`); they are
   flagged ``inferred``.
5. **Description.** Each segment gets totals, a portrait in words, its top
   needs, its differentiators against the rest and an Attractiveness 0–100
   (see :func:`attractiveness`).

Everything is deterministic for a given input and ``Segment seed``, and does
not depend on the order of the rows.

Example
-------
>>> import pandas as pd
>>> from maillon.engine.model import Settings
>>> exp = pd.DataFrame({"Expectation": ["Price", "Service"], "Description": "",
...                     "Market importance": [5, 3], "Our strength": [2, 5],
...                     "Source": ""})
>>> acc = pd.DataFrame({"Account ID": ["A1", "A2", "A3", "A4", "A5"],
...     "Account name": list("abcde"), "Status": "Customer",
...     "Industry": "Retail", "Region": "West", "City": None,
...     "Employees": [10.0, 12, 300, 250, 20], "Sales owner": None,
...     "Revenue 12m": 1.0, "Potential": 2.0, "Last contact": None,
...     "Need: Price": [5, 5, 1, 1, None], "Need: Service": [1, 1, 5, 4, None]})
>>> fb = pd.DataFrame(columns=["Main need", "Relationship", "Buying intent", "Date"])
>>> res = segment_accounts(acc, exp, fb, Settings(segments=2))
>>> res.membership.tolist()
['S01', 'S01', 'S02', 'S02', 'S01']
>>> res.inferred.tolist()
[False, False, False, False, True]
"""
from __future__ import annotations

import re
import warnings as _warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.optimize import linear_sum_assignment
from sklearn.cluster import KMeans
from sklearn.exceptions import ConvergenceWarning
import sklearn
from sklearn.metrics import silhouette_score
from sklearn.metrics.pairwise import euclidean_distances
from sklearn.naive_bayes import CategoricalNB
from threadpoolctl import threadpool_limits

from . import contract
from .cells import is_blank as _blank
from .model import Settings
from .settings import BY_NAME as _SETTINGS
from .weights import FIT_WEIGHT, POTENTIAL_WEIGHT  # Attractiveness weights

__all__ = ["SegmentResult", "segment_accounts", "need_fit", "attractiveness",
           "size_band", "SIZE_BANDS"]

# --- tuning constants (quoted by the Read Me through the docstrings) --------
K_MIN, K_MAX = _SETTINGS["Segments"].lo, _SETTINGS["Segments"].hi  # declared in settings.py
SAMPLE_SIZE = 2000              # rows used to choose k (fixed, seed-dependent sample)
MIN_COMPLETE_SAMPLE = 100       # complete-needs accounts needed to choose k on them alone
N_INIT = 3                      # k-means restarts on the sample
MAX_ITER = 300                  # Lloyd iterations on all rows (runs to a fixed point)
SAMPLE_MAX_ITER = 100           # Lloyd iterations per restart on the sample
KEEP_K_MARGIN = 0.05            # auto keeps the previous k unless a k beats it by this silhouette
FIRMO_WEIGHT = 0.3              # weight of one industry/region indicator in the distance
SIZE_WEIGHT = 0.15              # weight of one decade of employees in the distance
MAX_CATEGORIES = 12             # most frequent industries/regions used as clustering features
MATCH_MAJORITY = 0.5            # share of common accounts that makes two groups "the same"
NB_ALPHA = 1.0                  # Laplace smoothing of the naive Bayes
DIFF_MIN = 0.3                  # smallest need gap (points) worth calling a differentiator
SHARE_DIFF_MIN = 0.15           # smallest industry/region share gap worth calling one
TYPICAL_SHARE = 0.3             # share from which an industry/size/region is "typical"

SIZE_BAND_EDGES = (10, 50, 250, 1000)
SIZE_BANDS = ("1–9", "10–49", "50–249", "250–999", "1000+")
MINUS = "−"
SEGMENT_SHEET = contract.SHEET_SEGMENTS


@dataclass
class SegmentResult:
    """What :func:`segment_accounts` returns.

    ``membership``, ``inferred`` and ``account_fit`` share ``accounts.index``
    (same order). ``segments`` has exactly ``contract.SEGMENT_COLUMNS``, one
    row per segment sorted by Segment ID. ``orphans`` lists the user edits
    (name, owner) of segments that no longer exist. ``segment_fit`` (index
    Segment ID, 0–1) is the need–strength fit term of Attractiveness;
    ``warnings`` holds notes for the user (e.g. fewer segments than asked).
    """

    membership: pd.Series
    inferred: pd.Series
    account_fit: pd.Series
    segments: pd.DataFrame
    orphans: list
    segment_fit: pd.Series | None = None
    warnings: list = field(default_factory=list)


# --- formulas ---------------------------------------------------------------
def need_fit(needs: np.ndarray, importance: np.ndarray, strength: np.ndarray) -> np.ndarray:
    """Need–strength fit, 0–1, of each row of ``needs`` (NaN = need unknown).

    Formula (over the expectations e whose need is known)::

        fit = Σ_e I_e · N_e · (S_e − 1) / 4  /  Σ_e I_e · N_e

    with I_e the Market importance, S_e Our strength (1–5) and N_e the need
    (1–5). It is the average of our strength, rescaled to 0–1, weighted by how
    much the market cares about each expectation and how much the account
    needs it: 1 when we are at 5 on everything it needs, 0 when we are at 1.
    NaN when no need is known.

    >>> need_fit(np.array([[5.0, 1.0]]), np.array([5.0, 5.0]), np.array([5.0, 1.0])).round(3)
    array([0.833])
    """
    needs = np.atleast_2d(np.asarray(needs, dtype=float))
    known = ~np.isnan(needs)
    w = np.where(known, needs, 0.0) * importance
    den = w.sum(axis=1)
    num = (w * ((strength - 1.0) / 4.0)).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = num / den
    out[~known.any(axis=1) | (den <= 0)] = np.nan
    return out


def attractiveness(fit: np.ndarray, potential: np.ndarray) -> np.ndarray:
    """Attractiveness 0–100 of each segment from its fit and its total potential.

    Formula::

        Attractiveness = 100 × (0.5 × fit + 0.5 × Potential / max Potential)

    where ``fit`` is :func:`need_fit` of the segment's mean needs (0–1) and
    ``Potential`` the segment's total Potential (blank counts as 0), divided by
    the largest segment total (the term is 0 for all when no segment has any
    potential). The potential term never decreases when an account of the
    segment gets more potential. Rounded to one decimal.

    >>> attractiveness(np.array([0.8, 0.4]), np.array([100.0, 50.0])).tolist()
    [90.0, 45.0]
    """
    fit = np.nan_to_num(np.asarray(fit, dtype=float), nan=0.0)
    potential = np.nan_to_num(np.asarray(potential, dtype=float), nan=0.0)
    top = potential.max() if len(potential) else 0.0
    share = potential / top if top > 0 else np.zeros_like(potential)
    score = 100.0 * (FIT_WEIGHT * fit + POTENTIAL_WEIGHT * share)
    return np.clip(np.round(score, 1), 0.0, 100.0)


def size_band(employees) -> pd.Series:
    """Size band of a number of employees: 1–9, 10–49, 50–249, 250–999, 1000+.

    >>> size_band(pd.Series([3, 10, 249, 1000, None])).tolist()
    ['1–9', '10–49', '50–249', '1000+', nan]
    """
    emp = pd.to_numeric(pd.Series(employees), errors="coerce").to_numpy(dtype=float)
    codes = _size_codes(emp)
    labels = np.array(SIZE_BANDS + ("",), dtype=object)[codes]
    out = pd.Series(labels, dtype=object)
    return out.where(codes >= 0, np.nan)


def _size_codes(emp: np.ndarray) -> np.ndarray:
    codes = np.searchsorted(np.asarray(SIZE_BAND_EDGES, dtype=float), emp, side="right")
    return np.where(np.isnan(emp), -1, codes).astype(np.int64)


# --- input preparation --------------------------------------------------------
def _categorical(values) -> tuple[np.ndarray, list[str]]:
    """Codes (−1 = blank) and sorted category labels of a text column."""
    codes, uniques = pd.factorize(pd.Series(values, dtype=object), sort=False)
    labels = ["" if _blank(u) else str(u).strip() for u in uniques]
    cats = sorted({lab for lab in labels if lab})
    pos = {c: i for i, c in enumerate(cats)}
    lookup = np.array([pos.get(lab, -1) for lab in labels] + [-1], dtype=np.int64)
    return lookup[codes], cats  # code −1 picks the trailing −1


@dataclass
class _Data:
    ids: np.ndarray            # Account ID (object array of str)
    names: list                # expectation names, in order
    importance: np.ndarray
    strength: np.ndarray
    needs: np.ndarray          # n × m, NaN = blank
    has_need: np.ndarray       # bool n
    industry: np.ndarray       # codes
    industries: list
    region: np.ndarray
    regions: list
    employees: np.ndarray
    size: np.ndarray           # size band codes
    main_need: np.ndarray      # codes into names, from the latest field feedback
    customer: np.ndarray       # bool
    prospect: np.ndarray
    revenue: np.ndarray
    potential: np.ndarray


def _prepare(accounts: pd.DataFrame, expectations: pd.DataFrame,
             latest_feedback: pd.DataFrame | None) -> _Data:
    exp = expectations.reset_index(drop=True)
    names, imp, strg = [], [], []
    for _, row in exp.iterrows():  # a handful of expectations
        name = str(row["Expectation"]).strip()
        col = contract.need_column(name)
        if _blank(row["Expectation"]) or col not in accounts.columns or name in names:
            continue
        names.append(name)
        imp.append(pd.to_numeric(row["Market importance"], errors="coerce"))
        strg.append(pd.to_numeric(row["Our strength"], errors="coerce"))
    importance = np.nan_to_num(np.asarray(imp, dtype=float), nan=3.0)
    strength = np.nan_to_num(np.asarray(strg, dtype=float), nan=3.0)
    n = len(accounts)
    if names:
        cols = [contract.need_column(e) for e in names]
        needs = np.column_stack([pd.to_numeric(accounts[c], errors="coerce").to_numpy(dtype=float)
                                 for c in cols])
    else:
        needs = np.empty((n, 0))
    ids = accounts["Account ID"].astype(str).to_numpy(dtype=object)
    industry, industries = _categorical(accounts["Industry"].to_numpy(dtype=object))
    region, regions = _categorical(accounts["Region"].to_numpy(dtype=object))
    employees = pd.to_numeric(accounts["Employees"], errors="coerce").to_numpy(dtype=float)
    status = accounts["Status"].astype(object).to_numpy()
    main_need = np.full(n, -1, dtype=np.int64)
    if latest_feedback is not None and len(latest_feedback) and "Main need" in latest_feedback:
        fb = latest_feedback["Main need"]
        fb = fb[~fb.index.duplicated(keep="last")]
        fb.index = fb.index.astype(str)
        mn = fb.reindex(pd.Index(ids)).to_numpy(dtype=object)
        pos = {e: i for i, e in enumerate(names)}
        codes, uniques = pd.factorize(pd.Series(mn, dtype=object))
        lookup = np.array([-1 if _blank(u) else pos.get(str(u).strip(), -1) for u in uniques]
                          + [-1], dtype=np.int64)
        main_need = lookup[codes]
    return _Data(
        ids=ids, names=names, importance=importance, strength=strength, needs=needs,
        has_need=(~np.isnan(needs)).any(axis=1) if names else np.zeros(n, bool),
        industry=industry, industries=industries, region=region, regions=regions,
        employees=employees, size=_size_codes(employees), main_need=main_need,
        customer=status == "Customer", prospect=status == "Prospect",
        revenue=np.nan_to_num(pd.to_numeric(accounts["Revenue 12m"], errors="coerce")
                              .to_numpy(dtype=float), nan=0.0),
        potential=np.nan_to_num(pd.to_numeric(accounts["Potential"], errors="coerce")
                                .to_numpy(dtype=float), nan=0.0),
    )


# --- features -----------------------------------------------------------------
def _one_hot(codes: np.ndarray, n_cats: int, weight: float,
             max_cats: int | None = MAX_CATEGORIES) -> np.ndarray:
    """Indicator columns (× weight) of the most frequent categories."""
    known = codes >= 0
    counts = np.bincount(codes[known], minlength=n_cats) if n_cats else np.zeros(0, int)
    order = np.argsort(-counts, kind="stable")
    order = order[counts[order] > 0]
    if max_cats is not None:
        order = order[:max_cats]
    col_of = np.full(n_cats + 1, -1, dtype=np.int64)
    col_of[order] = np.arange(len(order))
    cols = col_of[np.where(known, codes, n_cats)]
    out = np.zeros((len(codes), len(order)))
    hit = cols >= 0
    out[np.flatnonzero(hit), cols[hit]] = weight
    return out


def feature_matrix(d: _Data, rows: np.ndarray) -> np.ndarray:
    """Clustering features of the accounts ``rows`` (which all have a need).

    * Needs: a blank need is replaced by the mean of that need over the
      accounts with needs; each need column is multiplied by
      √(I_e / mean I), so that the squared distance between two accounts is
      Σ_e (I_e / mean I) · (ΔN_e)²: a gap on an important expectation counts
      more.
    * Firmographics, secondary: one indicator per industry and per region
      (the 12 most frequent of each) worth ``FIRMO_WEIGHT`` = 0.3, and
      log10(1 + Employees) × ``SIZE_WEIGHT`` = 0.15 (blank: the median).
      Two accounts of different industries are 2 × 0.3² = 0.18 apart in
      squared distance, less than a half-point gap on one need, so
      firmographics only break ties between similar needs profiles.
    """
    needs = d.needs[rows]
    col_mean = np.full(needs.shape[1], 3.0)
    if needs.shape[1]:
        cnt = (~np.isnan(needs)).sum(axis=0)
        tot = np.nansum(needs, axis=0)
        col_mean = np.where(cnt > 0, tot / np.maximum(cnt, 1), 3.0)
    filled = np.where(np.isnan(needs), col_mean, needs)
    scale = np.sqrt(d.importance / d.importance.mean()) if len(d.importance) else 1.0
    emp = d.employees[rows]
    logsize = np.log10(1.0 + np.clip(emp, 0, None))
    if np.isnan(logsize).all():
        logsize = np.zeros_like(logsize)
    else:
        logsize = np.where(np.isnan(logsize), np.nanmedian(logsize), logsize)
    return np.column_stack([
        filled * scale,
        _one_hot(d.industry[rows], len(d.industries), FIRMO_WEIGHT),
        _one_hot(d.region[rows], len(d.regions), FIRMO_WEIGHT),
        (logsize * SIZE_WEIGHT)[:, None],
    ])


def _fallback_features(d: _Data, rows: np.ndarray) -> np.ndarray:
    """Features when (almost) no account has needs: firmographics and feedback."""
    return np.column_stack([
        np.zeros((len(rows), 0)),
        _one_hot(d.industry[rows], len(d.industries), 1.0),
        _one_hot(d.region[rows], len(d.regions), 1.0),
        _one_hot(d.size[rows], len(SIZE_BANDS), 1.0, None),
        _one_hot(d.main_need[rows], len(d.names), 1.0, None),
    ])


# --- choosing k and clustering --------------------------------------------------
def _stable_sample(ids: np.ndarray, seed: int, size: int) -> np.ndarray:
    """Positions of a sample of at most ``size`` rows chosen by a seeded hash of
    the Account ID: the same accounts whatever the row order, and a few new
    accounts change only a few sampled rows."""
    key = f"{abs(int(seed)) % 10**16:016d}"
    h = pd.util.hash_pandas_object(pd.Series(ids, dtype=object), index=False,
                                   hash_key=key).to_numpy()
    order = np.argsort(h, kind="stable")
    return order[:size] if len(ids) > size else order


def _kmeans(k: int, seed: int, init="k-means++", n_init=N_INIT, max_iter=SAMPLE_MAX_ITER,
            tol=1e-4) -> KMeans:
    """k-means as used here: seeded; on the sample, scikit-learn's usual
    tolerance; on all rows (``tol=0``), Lloyd runs until no account moves."""
    return KMeans(n_clusters=k, init=init, n_init=n_init, max_iter=max_iter,
                  tol=tol, random_state=seed)


def _fit(model: KMeans, x: np.ndarray) -> KMeans:
    with _warnings.catch_warnings():
        _warnings.simplefilter("ignore", ConvergenceWarning)
        return model.fit(x)


def choose_k(sample: np.ndarray, seed: int, k_max: int = K_MAX) -> tuple[dict, dict]:
    """Silhouette of k-means for every k from ``K_MIN`` to ``K_MAX`` on a fixed sample.

    For each k, k-means (3 restarts, seeded) is fitted on the sample of at
    most 2,000 accounts; its mean silhouette s(k) = mean over accounts of
    (b − a) / max(a, b), with a the mean distance to the account's own
    cluster and b to the nearest other cluster, measures how well separated
    the segments are (scikit-learn's ``silhouette_score`` on the sample's
    Euclidean distances; an account alone in its cluster scores 0). ``auto``
    takes the k with the highest s(k) (the smaller k on a tie). Returns
    ``({k: s(k)}, {k: centers})``.
    """
    dist = euclidean_distances(sample)
    scores, centers = {}, {}
    for k in range(K_MIN, min(k_max, len(sample) - 1) + 1):
        km = _fit(_kmeans(k, seed), sample)
        labels = km.labels_
        if len(np.unique(labels)) < k:
            continue
        # the distances are ours and finite: skip scikit-learn's input scan (a third
        # of the call on 2,000 accounts)
        with sklearn.config_context(assume_finite=True):
            scores[k] = float(silhouette_score(dist, labels, metric="precomputed"))
        centers[k] = km.cluster_centers_
    return scores, centers


def _compact(labels: np.ndarray) -> np.ndarray:
    """Renumber labels 0..k'−1 keeping their order (drops empty clusters)."""
    _, inv = np.unique(labels, return_inverse=True)
    return inv.reshape(-1)


def _cluster(x: np.ndarray, ids: np.ndarray, k_setting: int | None, seed: int,
             prev: np.ndarray | None, notes: list,
             complete: np.ndarray | None = None) -> np.ndarray:
    """Cluster the rows of ``x``; returns labels 0..k−1.

    ``auto`` chooses k on accounts whose needs are all filled in (``complete``)
    when there are at least ``MIN_COMPLETE_SAMPLE`` of them: a blank need is
    filled with the column mean, which pulls partly known accounts towards the
    middle and blurs the separation that the silhouette measures.

    With previous Segment IDs (``prev``, one per row, None when unknown) the
    Lloyd iterations start from the centroids of the previous segments as
    they stand in today's data, so a small change of the data moves few
    accounts. ``auto`` keeps the previous k unless another k has a silhouette
    higher by more than ``KEEP_K_MARGIN`` = 0.05.
    """
    n = len(x)
    if n <= 1:
        return np.zeros(n, dtype=np.int64)
    if complete is not None and complete.sum() >= MIN_COMPLETE_SAMPLE:
        rows = np.flatnonzero(complete)
        sample = x[rows[_stable_sample(ids[rows], seed, SAMPLE_SIZE)]]
    else:
        sample = x[_stable_sample(ids, seed, SAMPLE_SIZE)]
    n_distinct = len(np.unique(sample, axis=0))
    warm = None
    if prev is not None:
        known = np.array([p is not None for p in prev], dtype=bool)
        if known.any():
            codes, _ = pd.factorize(pd.Series(prev[known], dtype=object), sort=True)
            rows = np.flatnonzero(known)
            g = int(codes.max()) + 1
            onehot = sparse.csr_matrix((np.ones(len(rows)), (codes, rows)), shape=(g, n))
            counts = np.asarray(onehot.sum(axis=1)).ravel()
            warm = np.asarray(onehot @ x) / counts[:, None]
    k_cap = min(K_MAX, n_distinct)
    if k_setting is None:
        if n_distinct <= K_MIN:
            k, init = n_distinct, None
        else:
            scores, centers = choose_k(sample, seed, k_cap)
            if not scores:
                k, init = max(1, min(K_MIN, n_distinct)), None
            else:
                best = max(scores, key=lambda kk: (scores[kk], -kk))
                k, init = best, centers[best]
                if warm is not None and len(warm) in scores and \
                        scores[len(warm)] >= scores[best] - KEEP_K_MARGIN:
                    k, init = len(warm), warm
    else:
        k = int(k_setting)
        if k > n_distinct:
            notes.append(f"Segments is {k} but the accounts' needs only support "
                         f"{n_distinct} distinct groups; {n_distinct} segments were made.")
            k = n_distinct
        init = warm if warm is not None and len(warm) == k else None
    if k <= 1:
        return np.zeros(n, dtype=np.int64)
    if init is None:
        init = _fit(_kmeans(k, seed), sample).cluster_centers_
    km = _fit(_kmeans(k, seed, init=np.asarray(init, dtype=float), n_init=1,
                      max_iter=MAX_ITER, tol=0.0), x)
    return _compact(km.labels_)


# --- stable Segment IDs -----------------------------------------------------------
_ID_RE = re.compile(r"^S(\d+)$")


def _id_number(value) -> int | None:
    if _blank(value):
        return None
    m = _ID_RE.match(str(value).strip())
    return int(m.group(1)) if m else None


def _format_id(number: int) -> str:
    return f"S{number:02d}"


def match_segment_ids(labels: np.ndarray, ids: np.ndarray, prev: np.ndarray | None,
                      next_number: int) -> list[str]:
    """Segment ID of each cluster 0..k−1.

    Clusters are matched to previous Segment IDs by a maximum-overlap
    assignment (Hungarian algorithm) on the table "accounts of cluster i that
    were in previous segment j". A pair only counts as the same group when the
    common accounts are a majority (≥ 50 %) of the cluster's or of the previous
    segment's accounts present in both runs. Unmatched clusters get new IDs
    from ``next_number`` on (IDs of vanished segments are never reused),
    largest cluster first; without history, S01 is the largest segment.
    """
    k = int(labels.max()) + 1 if len(labels) else 0
    sizes = np.bincount(labels, minlength=k)
    # tie-break equal sizes by the smallest Account ID: independent of row order
    first_id = pd.Series(ids, dtype=object).groupby(labels).min().reindex(range(k)).to_numpy()
    out: list[str | None] = [None] * k
    if prev is not None:
        known = np.array([p is not None for p in prev], dtype=bool)
        if known.any():
            codes, uniq = pd.factorize(pd.Series(prev[known], dtype=object), sort=True)
            overlap = np.zeros((k, len(uniq)))
            np.add.at(overlap, (labels[known], codes), 1.0)
            rows, cols = linear_sum_assignment(-overlap)
            new_size = overlap.sum(axis=1)
            old_size = overlap.sum(axis=0)
            for i, j in zip(rows, cols):
                o = overlap[i, j]
                if o > 0 and (o >= MATCH_MAJORITY * new_size[i] or o >= MATCH_MAJORITY * old_size[j]):
                    out[i] = str(uniq[j])
    todo = sorted((i for i in range(k) if out[i] is None), key=lambda i: (-sizes[i], str(first_id[i])))
    for i in todo:
        out[i] = _format_id(next_number)
        next_number += 1
    return out  # type: ignore[return-value]


# --- inference for accounts without needs ----------------------------------------
def infer_segments(d: _Data, train: np.ndarray, train_labels: np.ndarray,
                   target: np.ndarray, k: int) -> np.ndarray:
    """Segment (0..k−1) of the accounts ``target``, which have no need.

    A categorical naive Bayes trained on the accounts with needs: the chosen
    segment maximises

        log P(segment) + Σ_f log P(x_f | segment)

    over the features f the account has among industry, region, size band and
    Main need (from its latest Field Feedback; for a training account, its
    feedback's Main need, else its highest need). Probabilities are counted
    with Laplace smoothing (+1). A blank feature is left out, so an account
    with nothing known goes to the most common segment. The first segment
    wins a tie.
    """
    if len(target) == 0:
        return np.zeros(0, dtype=np.int64)
    if k <= 1:
        return np.zeros(len(target), dtype=np.int64)
    return np.argmax(_nb_log_scores(d, train, train_labels, target, k), axis=1)


def _nb_log_scores(d: _Data, train: np.ndarray, train_labels: np.ndarray,
                   target: np.ndarray, k: int) -> np.ndarray:
    """log P(segment) + Σ_f log P(x_f | segment) of each target (rows) and segment.

    P(x_f | segment) comes from scikit-learn's ``CategoricalNB``, fitted on
    each feature f alone, over the training accounts whose f is known: so a
    blank value counts neither in training nor in prediction (a single
    ``CategoricalNB`` needs every feature of every row). It is fitted on one
    row per (category, segment) weighted by its number of accounts, which
    gives the same counts as one row per account, faster. Its smoothing is
    (count + 1) / (segment's known count + 1 × number of categories), every
    category of the portfolio counted (``min_categories``). The prior is
    smoothed the same way, (accounts + 1) / (all + k), so it is computed here.
    """
    train_main = d.main_need[train].copy()
    if d.needs.shape[1]:
        missing = train_main < 0
        tn = d.needs[train][missing]
        train_main[missing] = np.argmax(np.where(np.isnan(tn), -np.inf, tn), axis=1)
    prior = np.bincount(train_labels, minlength=k).astype(float)
    score = np.tile(np.log((prior + NB_ALPHA) / (prior.sum() + NB_ALPHA * k)), (len(target), 1))
    features = [
        (d.industry[train], d.industry[target], len(d.industries)),
        (d.region[train], d.region[target], len(d.regions)),
        (d.size[train], d.size[target], len(SIZE_BANDS)),
        (train_main, d.main_need[target], len(d.names)),
    ]
    classes = np.arange(k)
    for tr, tg, n_cat in features:
        if n_cat == 0:
            continue
        ok = tr >= 0
        has = tg >= 0
        if not ok.any():  # known in no training account: 1 / n_cat for every segment
            score[has] += np.log(NB_ALPHA / (NB_ALPHA * n_cat))
            continue
        # one weighted row per (category, segment) seen: the same counts as one
        # row per account, without scikit-learn's per-row work at 1M accounts
        pairs = np.bincount(tr[ok] * k + train_labels[ok], minlength=n_cat * k)
        seen = np.flatnonzero(pairs)
        nb = CategoricalNB(alpha=NB_ALPHA, min_categories=n_cat, fit_prior=False)
        nb.partial_fit((seen // k)[:, None], seen % k, classes=classes,
                       sample_weight=pairs[seen].astype(float))
        logp = nb.feature_log_prob_[0].T  # n_cat × k
        score[has] += logp[tg[has]]
    return score


# --- description of the segments ----------------------------------------------------
def _fmt_share(x: float) -> str:
    return f"{x:.0%}"


def _signed(x: float) -> str:
    return f"+{x:.1f}" if x >= 0 else f"{MINUS}{-x:.1f}"


def _and_list(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _crosstab(labels: np.ndarray, codes: np.ndarray, k: int, n_cat: int) -> np.ndarray:
    ok = codes >= 0
    if n_cat == 0:
        return np.zeros((k, 0))
    return np.bincount(labels[ok] * n_cat + codes[ok], minlength=k * n_cat).reshape(k, n_cat).astype(float)


def _mode(table: np.ndarray, cats) -> tuple[list, list]:
    """Most frequent category of each row and its share among known values."""
    modes, shares = [], []
    for row in table:
        tot = row.sum()
        if tot <= 0:
            modes.append(None)
            shares.append(0.0)
        else:
            j = int(np.argmax(row))
            modes.append(cats[j])
            shares.append(row[j] / tot)
    return modes, shares


def _describe(d: _Data, labels: np.ndarray, k: int) -> dict:
    """Totals, need means, portraits, top needs and differentiators per segment."""
    n_e = len(d.names)
    counts = np.bincount(labels, minlength=k)
    need_rows = d.has_need
    lab_n = labels[need_rows]
    needs = d.needs[need_rows]
    known = ~np.isnan(needs)
    val = np.where(known, needs, 0.0)
    seg_sum = np.zeros((k, n_e))
    seg_cnt = np.zeros((k, n_e))
    for e in range(n_e):
        seg_sum[:, e] = np.bincount(lab_n, weights=val[:, e], minlength=k)
        seg_cnt[:, e] = np.bincount(lab_n, weights=known[:, e].astype(float), minlength=k)
    with np.errstate(invalid="ignore", divide="ignore"):
        seg_mean = seg_sum / seg_cnt
        rest_mean = (seg_sum.sum(0) - seg_sum) / (seg_cnt.sum(0) - seg_cnt)
    with_needs = np.bincount(lab_n, minlength=k)

    ind_tab = _crosstab(labels, d.industry, k, len(d.industries))
    reg_tab = _crosstab(labels, d.region, k, len(d.regions))
    size_tab = _crosstab(labels, d.size, k, len(SIZE_BANDS))
    main_tab = _crosstab(labels, d.main_need, k, n_e)
    ind_mode, ind_share = _mode(ind_tab, d.industries)
    reg_mode, reg_share = _mode(reg_tab, d.regions)
    size_mode, size_share = _mode(size_tab, SIZE_BANDS)
    main_mode, _ = _mode(main_tab, d.names)

    def share_gap(tab, cats, s):
        """Category whose share in segment s exceeds its share in the rest the most."""
        tot = tab[s].sum()
        rest = tab.sum(0) - tab[s]
        if tot <= 0 or rest.sum() <= 0:
            return None
        gap = tab[s] / tot - rest / rest.sum()
        j = int(np.argmax(gap))
        return (gap[j], cats[j], tab[s, j] / tot, rest[j] / rest.sum())

    portraits, tops, diffs, leads = [], [], [], []
    for s in range(k):
        mean = seg_mean[s]
        has_mean = ~np.isnan(mean)
        order = [e for e in np.argsort(-np.where(has_mean, mean, -np.inf), kind="stable")
                 if has_mean[e]][:3]
        top = [f"{d.names[e]} ({mean[e]:.1f})" for e in order]
        tops.append("; ".join(f"{d.names[e]} {mean[e]:.1f}" for e in order)
                    if order else "No needs recorded")
        # portrait -----------------------------------------------------------
        ind = ind_mode[s]
        if ind and ind_share[s] >= TYPICAL_SHARE:
            parts = [f"a{'n' if ind[0].upper() in 'AEIOU' else ''} {ind} company "
                     f"({_fmt_share(ind_share[s])})"]
        elif ind:
            parts = [f"a company of mixed industries (most often {ind}, "
                     f"{_fmt_share(ind_share[s])})"]
        else:
            parts = ["a company"]
        if size_mode[s] and size_share[s] >= TYPICAL_SHARE:
            parts.append(f"of {size_mode[s]} employees ({_fmt_share(size_share[s])})")
        elif size_mode[s]:
            parts.append(f"of varied size (most often {size_mode[s]} employees, "
                         f"{_fmt_share(size_share[s])})")
        if reg_mode[s] and reg_share[s] >= TYPICAL_SHARE:
            parts.append(f"in {reg_mode[s]} ({_fmt_share(reg_share[s])})")
        elif reg_mode[s]:
            parts.append(f"across regions (most often {reg_mode[s]}, "
                         f"{_fmt_share(reg_share[s])})")
        text = "Typically " + " ".join(parts)
        if top:
            text += "; needs " + _and_list(top)
        elif main_mode[s]:
            text += f"; field feedback points to {main_mode[s]}"
        if with_needs[s] < counts[s]:
            text += (f"; needs known for {_fmt_share(with_needs[s] / counts[s])} of its "
                     f"{counts[s]} accounts, the rest inferred")
        portraits.append(text + ".")
        # differentiators -------------------------------------------------------
        gap = mean - rest_mean[s]
        ok = ~np.isnan(gap)
        items = []
        for e in np.argsort(-np.abs(np.where(ok, gap, 0.0)), kind="stable"):
            if ok[e] and abs(gap[e]) >= DIFF_MIN and len(items) < 3:
                items.append(f"{d.names[e]} {_signed(gap[e])} vs rest")
        firmo = [g for g in (share_gap(ind_tab, d.industries, s), share_gap(reg_tab, d.regions, s))
                 if g is not None and g[0] >= SHARE_DIFF_MIN]
        if firmo:
            _, cat, a, b = max(firmo, key=lambda g: g[0])
            items.append(f"{cat} {_fmt_share(a)} vs {_fmt_share(b)} in the rest")
        if k == 1:
            diffs.append("Only segment: the whole portfolio")
        else:
            diffs.append("; ".join(items) if items else "No marked difference from the rest")
        # lead need for the automatic name: the most over-represented need
        lead = None
        if ok.any():
            lead = d.names[int(np.argmax(np.where(ok, gap, -np.inf)))]
        elif has_mean.any():
            lead = d.names[order[0]]
        elif main_mode[s]:
            lead = main_mode[s]
        leads.append(lead)

    fit_seg = need_fit(seg_mean, d.importance, d.strength) if n_e else np.full(k, np.nan)
    if n_e:
        neutral = float(need_fit(np.ones((1, n_e)), d.importance, d.strength)[0])
        fit_seg = np.where(np.isnan(fit_seg), neutral, fit_seg)
    else:
        fit_seg = np.full(k, 0.5)
    return dict(counts=counts, portraits=portraits, tops=tops, diffs=diffs, leads=leads,
                ind_mode=ind_mode, ind_share=ind_share, reg_mode=reg_mode, reg_share=reg_share,
                size_mode=size_mode, fit=fit_seg)


def _auto_name(lead, industry, ind_share, region, band) -> list[str]:
    """Candidate automatic names, e.g. 'Price-driven Manufacturing'."""
    what = industry if industry and ind_share >= TYPICAL_SHARE else "accounts"
    base = f"{lead}-driven {what}" if lead else (f"{industry} accounts" if industry else "Accounts")
    out = [base]
    if region:
        out.append(f"{base}, {region}")
    if band:
        out.append(f"{base}, {band} employees")
    return out


# --- main entry point ------------------------------------------------------------
def segment_accounts(accounts: pd.DataFrame, expectations: pd.DataFrame,
                     latest_feedback: pd.DataFrame, settings: Settings,
                     previous_membership: pd.Series | None = None,
                     previous_segments: pd.DataFrame | None = None) -> SegmentResult:
    """Segment the accounts; see the module docstring for the steps.

    Parameters
    ----------
    accounts : validated ``tblAccounts`` with its ``Need: <Expectation>`` columns.
    expectations : validated ``tblExpectations``.
    latest_feedback : latest Field Feedback row per account, indexed by Account ID.
    settings : ``segments`` (None = auto, or a k within the Segments bounds of
        settings.py) and ``segment_seed``.
    previous_membership : Account ID → Segment ID from the previous Target List.
    previous_segments : the previous ``tblSegments`` as the user left it.
    """
    k_setting = settings.segments
    if k_setting is not None and not (K_MIN <= int(k_setting) <= K_MAX):
        raise ValueError(f"settings.segments must be None (auto) or a whole number from "
                         f"{K_MIN} to {K_MAX}; got {k_setting!r}")
    seed = int(settings.segment_seed)
    seed_spec = _SETTINGS["Segment seed"]
    if not seed_spec.lo <= seed <= seed_spec.hi:
        raise ValueError(f"settings.segment_seed must be a whole number from {seed_spec.lo} "
                         f"to {seed_spec.hi} (scikit-learn's random_state); got {seed!r}")
    notes: list[str] = []
    d = _prepare(accounts, expectations, latest_feedback)
    n = len(d.ids)

    # previous state ------------------------------------------------------------
    prev_ids = None
    used_numbers = [0]
    if previous_membership is not None and len(previous_membership):
        pm = pd.Series(previous_membership.to_numpy(dtype=object),
                       index=previous_membership.index.astype(str))
        pm = pm[~pm.index.duplicated(keep="last")]
        pm = pd.Series([(v.strip() or None) if isinstance(v, str)
                        else (None if _blank(v) else str(v).strip()) for v in pm.to_numpy()],
                       index=pm.index, dtype=object)
        used_numbers += [x for x in map(_id_number, pm.dropna().unique()) if x is not None]
        prev_ids = pm.reindex(pd.Index(d.ids)).to_numpy(dtype=object, copy=True)
        prev_ids[pd.isna(prev_ids)] = None
    prev_seg = None
    if previous_segments is not None and len(previous_segments) and \
            "Segment ID" in previous_segments.columns:
        ps = previous_segments.copy()
        ps["Segment ID"] = ps["Segment ID"].map(lambda v: None if _blank(v) else str(v).strip())
        prev_seg = ps.dropna(subset=["Segment ID"]).drop_duplicates("Segment ID").set_index("Segment ID")
        used_numbers += [x for x in map(_id_number, prev_seg.index) if x is not None]
    next_number = max(used_numbers) + 1

    # clustering ------------------------------------------------------------------
    train = np.flatnonzero(d.has_need)
    fallback = len(train) < 2 * K_MIN
    if fallback:
        train = np.arange(n)
        x = _fallback_features(d, train)
        if n:
            notes.append("Too few accounts have needs: segments were made from "
                         "firmographics and field feedback.")
    else:
        x = feature_matrix(d, train)
    prev_train = prev_ids[train] if prev_ids is not None else None
    # One thread: as fast as several on these sizes (thread start-up costs
    # more than it saves), and sums are then added in the same order on every
    # machine, so the result does not depend on the number of cores.
    with threadpool_limits(limits=1):
        complete = None if fallback else ~np.isnan(d.needs[train]).any(axis=1)
        labels_train = _cluster(x, d.ids[train], k_setting, seed, prev_train, notes,
                                complete) \
            if n else np.zeros(0, dtype=np.int64)
    k = int(labels_train.max()) + 1 if len(labels_train) else 0
    labels = np.zeros(n, dtype=np.int64)
    labels[train] = labels_train
    if not fallback:
        rest = np.flatnonzero(~d.has_need)
        labels[rest] = infer_segments(d, train, labels_train, rest, k)
    # IDs are matched on every account (inferred ones included)
    seg_ids = match_segment_ids(labels, d.ids, prev_ids, next_number) if k else []
    # renumber clusters in Segment ID order so that every table is sorted by ID
    order = sorted(range(k), key=lambda i: (_id_number(seg_ids[i]) or 0, seg_ids[i]))
    rank = np.empty(k, dtype=np.int64)
    rank[order] = np.arange(k)
    seg_ids = [seg_ids[i] for i in order]
    labels = rank[labels] if k else labels

    idx = accounts.index
    inferred = pd.Series(~d.has_need, index=idx, name="Inferred")
    fit = pd.Series(need_fit(d.needs, d.importance, d.strength) if len(d.names)
                    else np.full(n, np.nan), index=idx, name="Account fit")
    membership = pd.Series(np.array(seg_ids, dtype=object)[labels] if k else
                           np.array([], dtype=object), index=idx, name="Segment ID", dtype="str")

    # segment table -----------------------------------------------------------------
    desc = _describe(d, labels, k) if k else None
    potential = np.bincount(labels, weights=d.potential, minlength=k) if k else np.zeros(0)
    revenue = np.bincount(labels, weights=d.revenue, minlength=k) if k else np.zeros(0)
    attract = attractiveness(desc["fit"], potential) if k else np.zeros(0)
    names, owners = [], []
    for sid in seg_ids:
        name = owner = None
        if prev_seg is not None and sid in prev_seg.index:
            row = prev_seg.loc[sid]
            if "Segment name" in row and not _blank(row["Segment name"]):
                name = str(row["Segment name"]).strip()
            if "Marketing owner" in row and not _blank(row["Marketing owner"]):
                owner = str(row["Marketing owner"]).strip()
        names.append(name)
        owners.append(owner)
    taken = {nm for nm in names if nm}
    for s, sid in enumerate(seg_ids):
        if names[s]:
            continue
        cands = _auto_name(desc["leads"][s], desc["ind_mode"][s], desc["ind_share"][s],
                           desc["reg_mode"][s], desc["size_mode"][s])
        name = next((c for c in cands if c not in taken), f"{cands[0]} ({sid})")
        names[s] = name
        taken.add(name)
    segments = pd.DataFrame({
        "Segment ID": pd.Series(seg_ids, dtype="str"),
        "Segment name": pd.Series(names, dtype="str"),
        "Marketing owner": pd.Series(owners, dtype="str"),
        "Accounts": desc["counts"].astype(np.int64) if k else np.zeros(0, np.int64),
        "Customers": np.bincount(labels, weights=d.customer, minlength=k).astype(np.int64)
        if k else np.zeros(0, np.int64),
        "Prospects": np.bincount(labels, weights=d.prospect, minlength=k).astype(np.int64)
        if k else np.zeros(0, np.int64),
        "Revenue 12m": revenue,
        "Potential": potential,
        "Attractiveness": attract,
        "Portrait": pd.Series(desc["portraits"] if k else [], dtype="str"),
        "Top needs": pd.Series(desc["tops"] if k else [], dtype="str"),
        "Differentiators": pd.Series(desc["diffs"] if k else [], dtype="str"),
    }, columns=contract.SEGMENT_COLUMNS)
    segment_fit = pd.Series(desc["fit"] if k else np.zeros(0), index=pd.Index(seg_ids, name="Segment ID"),
                            name="Segment fit")

    # orphans: user edits of segments that no longer exist --------------------------
    orphans = []
    if prev_seg is not None:
        alive = set(seg_ids)
        for sid, row in prev_seg.iterrows():
            if sid in alive:
                continue
            where = ""
            if prev_ids is not None and n:
                moved = membership[(prev_ids == sid)]
                if len(moved):
                    where = f" Most of its accounts are now in {moved.value_counts().idxmax()}."
            for col in contract.SEGMENT_EDITABLE:
                if col in row and not _blank(row[col]):
                    orphans.append({
                        "Sheet": SEGMENT_SHEET, "Key": sid, "Column": col, "Value": row[col],
                        "Note": f"Segment {sid} no longer exists after this recompute; "
                                f"its {col.lower()} is kept here.{where}"})
    return SegmentResult(membership=membership, inferred=inferred, account_fit=fit,
                         segments=segments, orphans=orphans, segment_fit=segment_fit,
                         warnings=notes)
