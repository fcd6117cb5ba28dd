"""Which incoming records are companies already listed, or listed twice in the file.

Two kinds of link, between an incoming record and an existing account or an
earlier incoming record (existing accounts are never linked to each other):

- **exact**, on an exact identifier: ``Account ID``, ``CRM ID``, a valid
  SIREN (from a SIREN, SIRET or VAT number; an invalid one never links), a
  web domain (web-mail domains excluded). Certain: applied without a question.
- **probable**, on the name and the city, scored with rapidfuzz: names
  reduced by :func:`~maillon.engine.normalise.name_key` (accents, ``&``,
  punctuation, legal forms), cities by :func:`~maillon.engine.normalise.city_key`.
  Only records in the same **block** are compared, never the whole list with
  itself: the same first four letters of the name, or the same département
  (or city) and the same first letters of the name's longest word. Two valid
  SIRENs that differ say "different companies": such a pair is not proposed.
  Probable links go to the Import Review sheet; nothing is merged on them
  until someone decides.

Example
-------
>>> import pandas as pd
>>> existing = pd.DataFrame({"_name": ["dupont", "martin"], "_city": ["lyon", "lille"]})
>>> incoming = pd.DataFrame({"_name": ["dupond", "martin"], "_city": ["lyon", "nice"]})
>>> links = find_links(existing, incoming)
>>> [(l.a, l.b, l.kind, l.score) for l in links]
[(0, 2, 'probable', 87.5)]
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["Link", "find_links", "REVIEW_SCORE", "NAME_CUTOFF"]

NAME_CUTOFF = 80.0      # below it two names are not compared further
REVIEW_SCORE = 85.0     # a pair at or above it goes to review
BLOCK_CAP = 4000        # a block bigger than this is split further (by département/city)
TOP = 5                 # candidates kept per incoming record and block, best first
_IDENTIFIERS = [("_id", "same Account ID"), ("_crm", "same CRM ID"), ("_siren", "same SIREN"),
                ("_domain", "same web domain")]


@dataclass(frozen=True)
class Link:
    """``a`` and ``b`` index the combined list: existing accounts ``0..E-1``, then the
    incoming records ``E..``; ``b`` is always incoming and ``a < b``."""

    a: int
    b: int
    kind: str       # "exact" or "probable"
    score: float    # 100 for exact
    evidence: str


def _col(df: pd.DataFrame, name: str, n: int) -> np.ndarray:
    if name in df.columns:
        return df[name].fillna("").astype(str).to_numpy(dtype=object)
    return np.full(n, "", dtype=object)


def _exact(keys: np.ndarray, n_existing: int, evidence: str) -> list[Link]:
    """Each incoming record with a key seen before: linked to the first existing account
    with it, else to the first incoming record with it."""
    s = pd.Series(keys)
    s = s[s != ""]
    if s.empty:
        return []
    node = s.index.to_numpy()
    is_existing = node < n_existing
    frame = pd.DataFrame({"key": s.to_numpy(), "node": node, "existing": is_existing})
    first_any = frame.groupby("key", sort=False)["node"].transform("min")
    ex = frame[frame["existing"]]
    first_ex = ex.groupby("key", sort=False)["node"].min()
    target = frame["key"].map(first_ex).fillna(first_any).astype("int64")
    keep = (~frame["existing"]) & (target != frame["node"])
    return [Link(int(a), int(b), "exact", 100.0, evidence)
            for a, b in zip(target[keep], frame["node"][keep])]


def _codes(values: np.ndarray) -> np.ndarray:
    """Each distinct non-blank text as a positive integer, blank as 0."""
    codes, uniques = pd.factorize(pd.Series(values, dtype=object))
    codes = codes + 1
    blank = np.array([u == "" for u in uniques], dtype=bool)
    if blank.any():
        codes[np.isin(codes - 1, np.nonzero(blank)[0])] = 0
    return codes.astype(np.int64)


_DIGITS = re.compile(r"\d+")


def _city_words(ca: str, cb: str, da: str, db: str, city: float) -> str:
    if ca and ca == cb:
        return f"same city ({ca})"
    if da and db:
        return f"same département ({da})" if da == db else f"different départements ({da}, {db})"
    if not ca or not cb:
        return "city unknown on one side"
    return f"cities alike ({ca} / {cb})" if city >= 80 else f"different cities ({ca} / {cb})"


def _blocks(names: np.ndarray, cities: np.ndarray, depts: np.ndarray) -> list[np.ndarray]:
    """Groups of node indices to compare within (see the module)."""
    first4 = np.array([n.split(" ", 1)[0][:4] for n in names], dtype=object)
    longest = np.array([max(n.split(), key=len)[:3] if n else "" for n in names], dtype=object)
    where = np.where(depts != "", depts, cities)
    keys = [first4, np.array([f"{w}|{lg}" if w else "" for w, lg in zip(where, longest)],
                             dtype=object)]
    out = []
    for key in keys:
        s = pd.Series(key)
        s = s[(s != "") & (names != "")]
        for _, idx in s.groupby(s, sort=False).indices.items():
            nodes = s.index.to_numpy()[idx]
            if len(nodes) < 2:
                continue
            if len(nodes) > BLOCK_CAP:  # split a crowded block by where the companies are
                sub = pd.Series(where[nodes])
                for _, j in sub.groupby(sub, sort=False).indices.items():
                    if len(j) > 1:
                        out.append(nodes[j][:BLOCK_CAP])
            else:
                out.append(nodes)
    return out


def find_links(existing: pd.DataFrame, incoming: pd.DataFrame) -> list[Link]:
    """Exact and probable links (see the module), sorted by ``(b, a)``.

    Both frames carry the key columns of
    :mod:`maillon.engine.importing.records` (``_name``, ``_city``, ``_dept``,
    ``_siren``, ``_domain``, ``_crm``, ``_id``); missing ones count as blank.
    """
    ne, ni = len(existing), len(incoming)
    n = ne + ni
    both = {c: np.concatenate([_col(existing, c, ne), _col(incoming, c, ni)])
            for c in ("_name", "_city", "_dept", "_siren", "_domain", "_crm", "_id")}
    links: dict[tuple[int, int], Link] = {}
    for col, evidence in _IDENTIFIERS:
        for link in _exact(both[col], ne, evidence):
            key = (link.a, link.b)
            if key in links:
                links[key] = Link(link.a, link.b, "exact", 100.0,
                                  links[key].evidence + ", " + evidence)
            else:
                links[key] = link
    exact_codes = np.array([a * n + b for a, b in links], dtype=np.int64)
    names, cities, depts, sirens = both["_name"], both["_city"], both["_dept"], both["_siren"]
    if ni:
        for a, b, score, evidence in _probable(names, cities, depts, sirens, ne, exact_codes):
            links[(a, b)] = Link(a, b, "probable", score, evidence)
    del n
    return sorted(links.values(), key=lambda link: (link.b, link.a))


SMALL_BLOCK = 48  # blocks up to this size give their pairs; bigger ones a score matrix


def _pairs_of_small(blocks: list[np.ndarray], ne: int) -> tuple[np.ndarray, np.ndarray]:
    """Every pair ``a < b`` (``b`` incoming) of the small blocks, as two arrays."""
    aa, bb = [], []
    for nodes in blocks:
        nodes = np.sort(nodes)
        i, j = np.triu_indices(len(nodes), 1)
        a, b = nodes[i], nodes[j]
        keep = b >= ne
        aa.append(a[keep])
        bb.append(b[keep])
    if not aa:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    return np.concatenate(aa).astype(np.int64), np.concatenate(bb).astype(np.int64)


def _pairs_of_big(nodes: np.ndarray, ne: int, names: np.ndarray, city_c: np.ndarray):
    """The best pairs of a big block by a score matrix (rapidfuzz cdist), ``TOP`` per record."""
    from rapidfuzz import fuzz, process

    inc = nodes[nodes >= ne]
    name = process.cdist(list(names[inc]), list(names[nodes]), scorer=fuzz.token_sort_ratio,
                         score_cutoff=NAME_CUTOFF, dtype=np.uint8, workers=-1)
    rank = name.astype(np.float32)
    rank[nodes[None, :] >= inc[:, None]] = 0                 # each pair once, a < b
    ci, cj = city_c[inc][:, None], city_c[nodes][None, :]
    rank += np.where((ci != 0) & (ci == cj), 25.0, 0.0)      # the same city ranks first
    rank[name == 0] = 0
    k = min(TOP, rank.shape[1])
    top = np.argpartition(-rank, k - 1, axis=1)[:, :k] if rank.shape[1] > k else \
        np.broadcast_to(np.arange(rank.shape[1]), rank.shape)
    picked = np.take_along_axis(rank, top, axis=1)
    r, c = np.nonzero(picked > 0)
    return nodes[top[r, c]].astype(np.int64), inc[r].astype(np.int64)


def _by_digits(nodes: np.ndarray, digit_c: np.ndarray) -> list[np.ndarray]:
    """A big block split by the numbers in the names: ``Lot 12`` is compared with ``Lot 12``
    and with names without a number, never with ``Lot 13``."""
    d = digit_c[nodes]
    if (d == d[0]).all():
        return [nodes]
    plain = nodes[d == 0]
    out = [plain] if len(plain) > 1 else []
    for value in np.unique(d[d != 0]):
        out.append(np.concatenate([nodes[d == value], plain]))
    return out


def _probable(names, cities, depts, sirens, ne: int, exact_codes: np.ndarray):
    """``(a, b, score, evidence)`` of the probable pairs: blocked, scored in C, best first."""
    from rapidfuzz import fuzz, process

    n = len(names)
    city_c, dept_c, siren_c = _codes(cities), _codes(depts), _codes(sirens)
    digit_c = _codes(np.array([" ".join(_DIGITS.findall(x)) for x in names], dtype=object))
    blocks = [b for b in _blocks(names, cities, depts) if (b >= ne).any()]
    small = [b for b in blocks if len(b) <= SMALL_BLOCK]
    a, b = _pairs_of_small(small, ne)
    parts_a, parts_b = [a], [b]
    for nodes in blocks:
        if len(nodes) <= SMALL_BLOCK:
            continue
        for sub in _by_digits(nodes, digit_c):
            if not (sub >= ne).any() or len(sub) < 2:
                continue
            if len(sub) <= SMALL_BLOCK:
                x, y = _pairs_of_small([sub], ne)
            else:
                x, y = _pairs_of_big(sub, ne, names, city_c)
            parts_a.append(x)
            parts_b.append(y)
    a, b = np.concatenate(parts_a), np.concatenate(parts_b)
    if not len(a):
        return []
    code = a * n + b
    code, first = np.unique(code, return_index=True)
    a, b = a[first], b[first]
    keep = ~np.isin(code, exact_codes)
    keep &= ~((siren_c[a] != 0) & (siren_c[b] != 0) & (siren_c[a] != siren_c[b]))  # 2 legal units
    keep &= ~((digit_c[a] != 0) & (digit_c[b] != 0) & (digit_c[a] != digit_c[b]))  # Lot 12, Lot 13
    a, b = a[keep], b[keep]
    if not len(a):
        return []
    name = process.cpdist(list(names[a]), list(names[b]), scorer=fuzz.token_sort_ratio,
                          dtype=np.float32, workers=-1 if len(a) > 20_000 else 1)
    ok = name >= NAME_CUTOFF
    a, b, name = a[ok], b[ok], name[ok]
    ca, cb, da, db = city_c[a], city_c[b], dept_c[a], dept_c[b]
    city = np.full(len(a), 60.0, dtype=np.float32)           # unknown on one side
    both_dept = (da != 0) & (db != 0)
    city[both_dept] = np.where(da[both_dept] == db[both_dept], 80.0, 0.0)
    other = (ca != 0) & (cb != 0) & (ca != cb) & ~both_dept  # a typo, or another city
    if other.any():
        ratio = process.cpdist(list(cities[a[other]]), list(cities[b[other]]), scorer=fuzz.ratio,
                               dtype=np.float32, workers=1)
        city[other] = np.where(ratio >= 80, ratio, 0.0)
    city[(ca != 0) & (ca == cb)] = 100.0
    score = np.round(0.75 * name + 0.25 * city, 1)
    ok = score >= REVIEW_SCORE
    a, b, name, city, score = a[ok], b[ok], name[ok], city[ok], score[ok]
    order = np.lexsort((-score, b))                           # best first for each record
    a, b, name, city, score = a[order], b[order], name[order], city[order], score[order]
    rank = pd.Series(b).groupby(b).cumcount().to_numpy()
    out = []
    for x, y, ns, cs, sc in zip(a[rank < TOP].tolist(), b[rank < TOP].tolist(),
                                name[rank < TOP].tolist(), city[rank < TOP].tolist(),
                                score[rank < TOP].tolist()):
        name_words = "same name" if names[x] == names[y] else f"names alike {ns:.0f}"
        out.append((x, y, float(sc), f"{name_words} ({names[x]} / {names[y]}), "
                                     f"{_city_words(cities[x], cities[y], depts[x], depts[y], cs)}"))
    return out
