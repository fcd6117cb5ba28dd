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


def _probable(names, cities, depts, sirens, ne: int, exact_codes: np.ndarray):
    """``(a, b, score, evidence)`` of the probable pairs: blocked, scored in C, best first."""
    from rapidfuzz import fuzz, process

    n = len(names)
    city_c, dept_c, siren_c = _codes(cities), _codes(depts), _codes(sirens)
    digit_c = _codes(np.array([" ".join(_DIGITS.findall(x)) for x in names], dtype=object))
    found_a, found_b, found_s = [], [], []
    for nodes in _blocks(names, cities, depts):
        inc = nodes[nodes >= ne]
        if not len(inc):
            continue
        name = process.cdist(list(names[inc]), list(names[nodes]), scorer=fuzz.token_sort_ratio,
                             score_cutoff=NAME_CUTOFF, dtype=np.uint8,
                             workers=-1 if len(inc) * len(nodes) > 200_000 else 1)
        name = name.astype(np.float32)
        name[nodes[None, :] >= inc[:, None]] = 0          # each pair once, a < b
        ci, cj = city_c[inc][:, None], city_c[nodes][None, :]
        di, dj = dept_c[inc][:, None], dept_c[nodes][None, :]
        city = np.where((ci != 0) & (ci == cj), 100.0,
                        np.where((di != 0) & (dj != 0), np.where(di == dj, 80.0, 0.0),
                                 np.where((ci == 0) | (cj == 0), 60.0, 100.0)))  # 100: see below
        score = 0.75 * name + 0.25 * city
        score[name == 0] = 0
        si, sj = siren_c[inc][:, None], siren_c[nodes][None, :]
        score[(si != 0) & (sj != 0) & (si != sj)] = 0     # two valid SIRENs: two legal units
        gi, gj = digit_c[inc][:, None], digit_c[nodes][None, :]
        score[(gi != 0) & (gj != 0) & (gi != gj)] = 0     # "Lot 12" is not "Lot 13"
        if score.shape[1] > TOP:
            top = np.argpartition(-score, TOP, axis=1)[:, :TOP]
        else:
            top = np.broadcast_to(np.arange(score.shape[1]), score.shape)
        picked = np.take_along_axis(score, top, axis=1)
        r, k = np.nonzero(picked >= REVIEW_SCORE)
        found_a.append(nodes[top[r, k]])
        found_b.append(inc[r])
        found_s.append(picked[r, k])
    if not found_a:
        return []
    a, b = np.concatenate(found_a), np.concatenate(found_b)
    code = a.astype(np.int64) * n + b
    code, first = np.unique(code, return_index=True)
    a, b = a[first], b[first]
    keep = ~np.isin(code, exact_codes)
    out = []
    for x, y in zip(a[keep].tolist(), b[keep].tolist()):
        ca, cb, da, db = cities[x], cities[y], depts[x], depts[y]
        if ca and cb and ca != cb and not (da and db):
            city = float(fuzz.ratio(ca, cb))      # a typo in the city, or another city
            city = city if city >= 80 else 0.0
        elif ca and ca == cb:
            city = 100.0
        elif da and db:
            city = 80.0 if da == db else 0.0
        else:
            city = 60.0
        name_score = float(fuzz.token_sort_ratio(names[x], names[y]))
        score = round(0.75 * name_score + 0.25 * city, 1)
        if score < REVIEW_SCORE:
            continue
        name_words = "same name" if names[x] == names[y] else f"names alike {name_score:.0f}"
        out.append((x, y, score, f"{name_words} ({names[x]} / {names[y]}), "
                                 f"{_city_words(ca, cb, da, db, city)}"))
    return out
