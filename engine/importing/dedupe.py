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

from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["Link", "find_links", "REVIEW_SCORE", "NAME_CUTOFF"]

NAME_CUTOFF = 80.0      # below it two names are not compared further
REVIEW_SCORE = 85.0     # a pair at or above it goes to review
BLOCK_CAP = 4000        # a block bigger than this is split further (by département/city)
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


def _city_score(ca: str, cb: str, da: str, db: str) -> tuple[float, str]:
    from rapidfuzz import fuzz

    if ca and ca == cb:
        return 100.0, f"same city ({ca})"
    if da and db:
        if da == db:
            return 80.0, f"same département ({da})"
        return 0.0, f"different départements ({da}, {db})"
    if not ca or not cb:
        return 60.0, "city unknown on one side"
    r = fuzz.ratio(ca, cb)
    if r >= 80:
        return float(r), f"cities alike ({ca} / {cb})"
    return 0.0, f"different cities ({ca} / {cb})"


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
    from rapidfuzz import fuzz, process

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
    exact_pairs = set(links)
    names, cities, depts, sirens = both["_name"], both["_city"], both["_dept"], both["_siren"]
    if ni:
        seen: set[tuple[int, int]] = set()
        for nodes in _blocks(names, cities, depts):
            inc = nodes[nodes >= ne]
            if not len(inc):
                continue
            scores = process.cdist(list(names[inc]), list(names[nodes]),
                                   scorer=fuzz.token_sort_ratio, score_cutoff=NAME_CUTOFF,
                                   dtype=np.uint8, workers=1)
            ii, jj = np.nonzero(scores)
            for i, j in zip(ii, jj):
                b, a = int(inc[i]), int(nodes[j])
                if a >= b or (a, b) in seen or (a, b) in exact_pairs:
                    continue
                seen.add((a, b))
                if sirens[a] and sirens[b] and sirens[a] != sirens[b]:
                    continue  # two valid SIRENs: two legal units
                name_score = float(fuzz.token_sort_ratio(names[a], names[b]))
                city, city_words = _city_score(cities[a], cities[b], depts[a], depts[b])
                score = round(0.75 * name_score + 0.25 * city, 1)
                if score < REVIEW_SCORE:
                    continue
                name_words = ("same name" if names[a] == names[b]
                              else f"names alike {name_score:.0f}")
                links[(a, b)] = Link(a, b, "probable", score,
                                     f"{name_words} ({names[a]} / {names[b]}), {city_words}")
    del n
    return sorted(links.values(), key=lambda link: (link.b, link.a))
