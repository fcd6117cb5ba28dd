"""scikit-learn's silhouette and CategoricalNB give what the hand-written formulas gave.

engine/segment.py used to compute the silhouette and the naive Bayes of
``infer_segments`` by hand. Both now come from scikit-learn. The former
formulas are kept below, as they were, as the reference: on the demo portfolio
and on planted portfolios the library gives the same numbers (to rounding) and
the same choices (exactly), and the whole segmentation is unchanged.
"""
from __future__ import annotations

import datetime as dt
import functools

import numpy as np
import pytest
from sklearn.metrics.pairwise import euclidean_distances

from maillon.engine import segment as sg
from maillon.engine.model import EngineInput, Settings
from maillon.engine.validate import validate
from maillon.workbook_templates.defaults import (default_expectations, default_playbook,
                                                 default_settings)
from maillon.workbook_templates.demo_portfolio import generate_portfolio

from test_segment import make_portfolio


# --- the former hand-written versions (reference) ---------------------------------
def reference_silhouette(dist: np.ndarray, labels: np.ndarray, k: int) -> float:
    """Mean silhouette from a precomputed distance matrix; a point alone in its
    cluster scores 0 (engine/segment.py ``_silhouette`` before scikit-learn)."""
    m = len(labels)
    onehot = np.zeros((m, k))
    onehot[np.arange(m), labels] = 1.0
    sums = dist @ onehot
    cnt = onehot.sum(axis=0)
    own_cnt = cnt[labels]
    a = sums[np.arange(m), labels] / np.maximum(own_cnt - 1, 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        other = sums / cnt
    other[np.arange(m), labels] = np.inf
    other[:, cnt == 0] = np.inf
    b = other.min(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        s = (b - a) / np.maximum(a, b)
    s[(own_cnt <= 1) | ~np.isfinite(s)] = 0.0
    return float(s.mean())


def reference_nb_scores(d, train, train_labels, target, k, alpha=1.0):
    """log P(segment) + Σ_f log P(x_f | segment), counted by hand with Laplace
    smoothing, blank features left out (``infer_segments`` before CategoricalNB)."""
    train_main = d.main_need[train].copy()
    if d.needs.shape[1]:
        missing = train_main < 0
        tn = d.needs[train][missing]
        train_main[missing] = np.argmax(np.where(np.isnan(tn), -np.inf, tn), axis=1)
    prior = np.bincount(train_labels, minlength=k).astype(float)
    score = np.tile(np.log((prior + alpha) / (prior.sum() + alpha * k)), (len(target), 1))
    features = [
        (d.industry[train], d.industry[target], len(d.industries)),
        (d.region[train], d.region[target], len(d.regions)),
        (d.size[train], d.size[target], len(sg.SIZE_BANDS)),
        (train_main, d.main_need[target], len(d.names)),
    ]
    for tr, tg, n_cat in features:
        if n_cat == 0:
            continue
        ok = tr >= 0
        counts = np.bincount(tr[ok] * k + train_labels[ok], minlength=n_cat * k).reshape(n_cat, k)
        logp = np.log((counts + alpha) / (counts.sum(axis=0) + alpha * n_cat))
        has = tg >= 0
        score[has] += logp[tg[has]]
    return score


# --- data -----------------------------------------------------------------------
@functools.cache
def _demo(n=2000, seed=7):
    expectations = default_expectations()
    accounts, feedback = generate_portfolio(n, expectations, seed=seed, as_of=dt.date(2026, 11, 30))
    v = validate(EngineInput(settings=default_settings(), expectations=expectations,
                             accounts=accounts, feedback=feedback, playbook=default_playbook()))
    return v.accounts, v.expectations, v.latest_feedback


@functools.cache
def _planted(seed=0):
    accounts, expectations, latest, _ = make_portfolio(1500, seed=seed, informative=True)
    return accounts, expectations, latest


PORTFOLIOS = {"demo 2000": lambda: _demo(), "demo 5000 seed 3": lambda: _demo(5000, 3),
              "planted": lambda: _planted(0), "planted seed 4": lambda: _planted(4)}


def _sample(d, seed):
    """The sample ``choose_k`` works on, as ``_cluster`` draws it."""
    train = np.flatnonzero(d.has_need)
    x = sg.feature_matrix(d, train)
    complete = ~np.isnan(d.needs[train]).any(axis=1)
    rows = np.flatnonzero(complete) if complete.sum() >= sg.MIN_COMPLETE_SAMPLE else \
        np.arange(len(train))
    return train, x, x[rows[sg._stable_sample(d.ids[train][rows], seed, sg.SAMPLE_SIZE)]]


# --- silhouette -------------------------------------------------------------------
@pytest.mark.parametrize("name, seed", [("demo 2000", 42), ("demo 2000", 2026),
                                        ("demo 5000 seed 3", 42), ("planted", 42)])
def test_choose_k_silhouettes_are_the_hand_written_ones(monkeypatch, name, seed):
    accounts, expectations, latest = PORTFOLIOS[name]()
    d = sg._prepare(accounts, expectations, latest)
    _, _, sample = _sample(d, seed)
    reference = {}
    library = sg.silhouette_score

    def both(dist, labels, metric):
        """scikit-learn's silhouette, and the reference on the same clustering."""
        reference[int(labels.max()) + 1] = reference_silhouette(dist, labels, int(labels.max()) + 1)
        assert np.array_equal(dist, euclidean_distances(sample))
        return library(dist, labels, metric=metric)

    monkeypatch.setattr(sg, "silhouette_score", both)
    scores, _ = sg.choose_k(sample, seed)
    assert sorted(scores) == sorted(reference) == list(range(sg.K_MIN, sg.K_MAX + 1))
    for k in scores:
        assert scores[k] == pytest.approx(reference[k], abs=1e-12), k
    # the same k is chosen, and no two k are so close that rounding could swap them
    pick = lambda s: max(s, key=lambda kk: (s[kk], -kk))  # noqa: E731
    assert pick(scores) == pick(reference)
    ordered = sorted(reference.values())
    assert min(b - a for a, b in zip(ordered, ordered[1:])) > 1e-9


def test_silhouette_of_singletons_and_ties_like_the_reference():
    rng = np.random.default_rng(1)
    x = np.vstack([rng.normal(0, 1, (30, 3)), rng.normal(6, 1, (30, 3)), [[20.0, 20, 20]]])
    labels = np.r_[np.zeros(30, int), np.ones(30, int), [2]]  # cluster 2 is one point
    dist = euclidean_distances(x)
    from sklearn.metrics import silhouette_score

    assert silhouette_score(dist, labels, metric="precomputed") == \
        pytest.approx(reference_silhouette(dist, labels, 3), abs=1e-12)
    dup = np.repeat(x[:4], 3, axis=0)  # duplicate points: zero distances
    lab = np.r_[np.zeros(6, int), np.ones(6, int)]
    d2 = euclidean_distances(dup)
    assert silhouette_score(d2, lab, metric="precomputed") == \
        pytest.approx(reference_silhouette(d2, lab, 2), abs=1e-12)


# --- naive Bayes ------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(PORTFOLIOS))
@pytest.mark.parametrize("k", [sg.K_MIN, 5, sg.K_MAX])
def test_inferred_segments_are_the_hand_written_naive_bayes(name, k):
    accounts, expectations, latest = PORTFOLIOS[name]()
    d = sg._prepare(accounts, expectations, latest)
    train, x, _ = _sample(d, 42)
    labels = sg._compact(sg._fit(sg._kmeans(k, 42), x).labels_)
    k = int(labels.max()) + 1
    target = np.flatnonzero(~d.has_need)
    assert len(target) > 100
    got = sg._nb_log_scores(d, train, labels, target, k)
    want = reference_nb_scores(d, train, labels, target, k)
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-12)
    assert (sg.infer_segments(d, train, labels, target, k) == np.argmax(want, axis=1)).all()


def test_weighted_categorical_nb_is_the_one_row_per_account_fit():
    """``_nb_log_scores`` fits one weighted row per (category, segment): the same
    likelihoods, bit for bit, as CategoricalNB fitted on one row per account."""
    from sklearn.naive_bayes import CategoricalNB

    accounts, expectations, latest = _demo()
    d = sg._prepare(accounts, expectations, latest)
    train, x, _ = _sample(d, 42)
    k = 6
    labels = sg._compact(sg._fit(sg._kmeans(k, 42), x).labels_)
    for codes, n_cat in [(d.industry[train], len(d.industries)), (d.size[train], len(sg.SIZE_BANDS))]:
        ok = codes >= 0
        rows = CategoricalNB(min_categories=n_cat, fit_prior=False).partial_fit(
            codes[ok, None], labels[ok], classes=np.arange(k))
        pairs = np.bincount(codes[ok] * k + labels[ok], minlength=n_cat * k)
        seen = np.flatnonzero(pairs)
        weighted = CategoricalNB(min_categories=n_cat, fit_prior=False).partial_fit(
            (seen // k)[:, None], seen % k, classes=np.arange(k), sample_weight=pairs[seen].astype(float))
        assert np.array_equal(rows.feature_log_prob_[0], weighted.feature_log_prob_[0])


def test_naive_bayes_with_a_feature_unknown_in_training_and_blanks():
    accounts, expectations, latest = _planted(2)
    d = sg._prepare(accounts, expectations, latest)
    train, x, _ = _sample(d, 42)
    target = np.flatnonzero(~d.has_need)
    d.region[train] = -1            # no training account has a region
    d.industry[target[::2]] = -1    # half the targets have no industry
    d.size[train[::3]] = -1         # some training accounts have no size
    labels = sg._compact(sg._fit(sg._kmeans(4, 42), x).labels_)
    got = sg._nb_log_scores(d, train, labels, target, 4)
    want = reference_nb_scores(d, train, labels, target, 4)
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-12)
    assert (np.argmax(got, axis=1) == np.argmax(want, axis=1)).all()


# --- the whole segmentation -------------------------------------------------------
@pytest.mark.parametrize("segments", [None, 4])
def test_segmentation_of_the_demo_is_the_hand_written_one(monkeypatch, segments):
    """Swap the former hand-written formulas back in: the same segments, IDs and text."""
    accounts, expectations, latest = _demo()
    settings = Settings(segments=segments)
    now = sg.segment_accounts(accounts, expectations, latest, settings)

    def hand_choose_k(sample, seed, k_max=sg.K_MAX):
        dist = euclidean_distances(sample)
        scores, centers = {}, {}
        for k in range(sg.K_MIN, min(k_max, len(sample) - 1) + 1):
            km = sg._fit(sg._kmeans(k, seed), sample)
            if len(np.unique(km.labels_)) < k:
                continue
            scores[k] = reference_silhouette(dist, km.labels_, k)
            centers[k] = km.cluster_centers_
        return scores, centers

    def hand_nb(d, train, train_labels, target, k):
        return reference_nb_scores(d, train, train_labels, target, k)

    monkeypatch.setattr(sg, "choose_k", hand_choose_k)
    monkeypatch.setattr(sg, "_nb_log_scores", hand_nb)
    before = sg.segment_accounts(accounts, expectations, latest, settings)
    assert now.membership.equals(before.membership)
    assert now.inferred.equals(before.inferred) and now.inferred.sum() > 0
    assert now.segments.equals(before.segments)
