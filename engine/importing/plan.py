"""What an import changes in ``tblAccounts``, and what waits on the Import Review sheet.

:func:`plan_import` works on a copy of the accounts (a :class:`Working` frame,
indexed by Excel row; appended accounts get the rows below the table), so
that decisions applied first and records imported next see each other; the
edits are the difference with the original (:meth:`Working.edits`).

- an incoming record linked exactly (same Account ID, CRM ID, valid SIREN or
  web domain) to an account is **matched**: its blank cells are filled; a value
  that differs by meaning (``Dupont SAS`` and ``DUPONT`` do not differ) is not
  written but listed for review as *Value differs*;
- a record that is only probably an account already listed (or one earlier in
  the file) is **held**: it is written nowhere but in the review's hidden
  ``Record`` column, until its ``Decision`` says ``Same`` (then it fills that
  account) or ``Different`` (then it becomes a new account);
- any other record is **new**: a new account with an Account ID that no
  account has (the workbook's own pattern, ``A-00042`` after ``A-00041``).

Example
-------
>>> import pandas as pd
>>> from maillon.engine.importing.records import Records
>>> accounts = pd.DataFrame({"Account ID": ["A-001"], "Account name": ["Dupont SAS"],
...                          "Status": ["Customer"], "City": [None]}, index=[5])
>>> inc = pd.DataFrame({"Account name": ["DUPONT", "Durand"], "City": ["Lyon", "Nice"],
...                     "SIREN": [None, None]}, index=[2, 3])
>>> from maillon.engine.importing.records import add_keys
>>> p = plan_import(accounts, Records("crm", add_keys(inc), ["Account name", "City"], [], []))
>>> p.counts
{'matched': 0, 'new': 1, 'held': 1, 'values differ': 0}
>>> p.work.edits()[1]
[{'Account ID': 'A-002', 'Account name': 'Durand', 'City': 'Nice', 'Status': 'Prospect'}]
>>> p.review[["Kind", "Account ID", "Incoming: name"]].values.tolist()
[['Probable duplicate', 'A-001', 'DUPONT']]
"""
from __future__ import annotations

import datetime as dt
import json
import math
import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from maillon.engine import contract as C
from maillon.engine.cells import is_blank
from maillon.engine.importing.dedupe import find_links
from maillon.engine.importing.records import Records, add_keys, crm_column
from maillon.engine.normalise import city_key, fold, name_key, parse_date, parse_number

__all__ = ["REVIEW_COLUMNS", "DECISIONS", "Working", "ImportPlan", "plan_import",
           "apply_decisions", "account_keys", "IdMaker"]

REVIEW_COLUMNS = C.IMPORT_REVIEW_COLUMNS
DUPLICATE, DIFFERS = "Probable duplicate", "Value differs"
DECISIONS = C.IMPORT_DECISIONS
NOT_FILLED = ("Account ID",)  # never taken from another record


def _blank(v) -> bool:
    if v is None:
        return True
    if isinstance(v, float):
        return math.isnan(v)
    return is_blank(v)


def same_meaning(column: str, a, b) -> bool:
    """Whether two values say the same thing (names by :func:`name_key`, numbers by value...).

    >>> same_meaning("Account name", "Dupont S.A.S.", "DUPONT"), same_meaning("Employees", 120.0, "120")
    (True, True)
    >>> same_meaning("City", "St-Étienne", "Saint Etienne"), same_meaning("City", "Lyon", "Nice")
    (True, False)
    """
    if _blank(a) or _blank(b):
        return _blank(a) and _blank(b)
    if column == "Account name":
        return name_key(a) == name_key(b)
    if column == "City":
        return city_key(a) == city_key(b)
    if isinstance(a, (dt.date, dt.datetime)) or isinstance(b, (dt.date, dt.datetime)):
        da, db = parse_date(a), parse_date(b)
        return da is not None and da == db
    na, nb = parse_number(a), parse_number(b)
    if na is not None and nb is not None:
        return abs(na - nb) <= 1e-9 * max(1.0, abs(na))
    return fold(str(a)) == fold(str(b))


class IdMaker:
    """New Account IDs in the workbook's own pattern, never one already used.

    >>> m = IdMaker(["A-0009", "A-0010", "X7"]); m.next(), m.next()
    ('A-0011', 'A-0012')
    >>> IdMaker([]).next()
    'A-00001'
    """

    _PATTERN = re.compile(r"^(.*?)(\d+)$")

    def __init__(self, existing):
        self.used = {str(x) for x in existing if not _blank(x)}
        prefixes: dict[tuple[str, int], int] = {}
        for x in self.used:
            m = self._PATTERN.match(x)
            if m:
                key = (m.group(1), len(m.group(2)))
                prefixes[key] = max(prefixes.get(key, 0), int(m.group(2)))
        if prefixes:
            counts: dict[tuple[str, int], int] = {}
            for x in self.used:
                m = self._PATTERN.match(x)
                if m:
                    k = (m.group(1), len(m.group(2)))
                    counts[k] = counts.get(k, 0) + 1
            key = max(counts, key=lambda k: (counts[k], k))
            self.prefix, self.width = key
            self.n = prefixes[key]
        else:
            self.prefix, self.width, self.n = "A-", 5, 0

    def next(self) -> str:
        while True:
            self.n += 1
            candidate = f"{self.prefix}{self.n:0{self.width}d}"
            if candidate not in self.used:
                self.used.add(candidate)
                return candidate


class Working:
    """A copy of ``tblAccounts`` that an import changes; :meth:`edits` says how.

    Body rows live in a frame (indexed by Excel row); appended accounts in a
    dict per row below the table, so that adding 100k accounts stays cheap.
    """

    def __init__(self, accounts: pd.DataFrame, body_rows: range | None = None):
        """``body_rows``: the Excel rows of the table's body, blank ones included
        (they are filled before rows are appended below the table)."""
        self.original = accounts
        self.df = accounts.astype(object).copy()
        self.columns = list(accounts.columns)
        self.columns0 = list(accounts.columns)
        self.last_row = int(accounts.index.max()) if len(accounts) else 0
        ids = self.df["Account ID"] if "Account ID" in self.df else pd.Series(dtype=object)
        self.row_of = {str(a): int(r) for r, a in zip(self.df.index, ids) if not _blank(a)}
        self.ids = IdMaker(self.row_of)
        self._pos = {int(r): i for i, r in enumerate(self.df.index)}
        self._cols: dict[str, object] = {}
        self.added: dict[int, dict] = {}
        self.changed: dict[tuple[int, str], object] = {}
        self.free = []
        if body_rows is not None and len(body_rows):
            taken = set(int(r) for r in accounts.index)
            self.free = [r for r in body_rows if r not in taken]
            self.last_row = max(self.last_row, body_rows[-1])
        self._next_row = self.last_row + 1

    def has(self, account_id) -> bool:
        return str(account_id) in self.row_of

    def get(self, row: int, column: str):
        if row in self.added:
            v = self.added[row].get(column)
        elif (row, column) in self.changed:
            v = self.changed[(row, column)]
        else:
            cells = self._column(column)
            v = None if cells is None else cells[self._pos[row]]
        return None if _blank(v) else v

    def _column(self, column: str):
        """A body column's cells as an array (read once: ``df.at`` costs microseconds)."""
        if column not in self._cols:
            self._cols[column] = (self.df[column].to_numpy(dtype=object)
                                  if column in self.df.columns else None)
        return self._cols[column]

    def set(self, row: int, column: str, value) -> None:
        if column not in self.columns:
            self.columns.append(column)
        if row in self.added:
            self.added[row][column] = value
        else:
            self.changed[(row, column)] = value

    def add(self, values: dict) -> str:
        if self.free:
            row = self.free.pop(0)
        else:
            row = self._next_row
            self._next_row += 1
        account_id = self.ids.next()
        self.added[row] = {}
        self.set(row, "Account ID", account_id)
        for k, v in values.items():
            if k not in NOT_FILLED and not _blank(v):
                self.set(row, k, v)
        if _blank(self.get(row, "Status")):
            self.set(row, "Status", "Prospect")
        self.row_of[account_id] = row
        return account_id

    def frame(self) -> pd.DataFrame:
        """The accounts as they are now (body rows changed, appended rows below)."""
        df = self.df.reindex(columns=self.columns)
        for (r, c), v in self.changed.items():
            df.at[r, c] = v
        if self.added:
            extra = pd.DataFrame.from_dict(self.added, orient="index", dtype=object)
            df = pd.concat([df, extra.reindex(columns=self.columns)])
        return df

    def edits(self) -> tuple[dict, list[dict], list[str]]:
        """``(cells, new_rows, new_columns)`` for the user-table writer's ``TableEdit``."""
        new_columns = [c for c in self.columns if c not in self.columns0]
        cells = {}
        for (r, c), v in self.changed.items():
            was = self.df.at[r, c] if c in self.df.columns else None
            if _blank(was) and _blank(v):
                continue
            if _blank(was) != _blank(v) or not (was is v or was == v):
                cells[(int(r), c)] = v
        rows = []
        for r, values in sorted(self.added.items()):
            if r <= self.last_row:  # a blank row of the table's body
                cells.update({(r, c): v for c, v in values.items() if not _blank(v)})
            else:
                rows.append({c: v for c, v in values.items() if not _blank(v)})
        return cells, rows, new_columns


def _json_value(v):
    if isinstance(v, (dt.date, dt.datetime)):
        return {"date": v.isoformat()[:10]}
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (np.floating,)):
        return float(v)
    return v


def _from_json(v):
    if isinstance(v, dict) and "date" in v:
        return dt.date.fromisoformat(v["date"])
    return v


def record_json(values: dict) -> str:
    return json.dumps({k: _json_value(v) for k, v in values.items() if not _blank(v)},
                      ensure_ascii=False, sort_keys=True)


def account_keys(accounts: pd.DataFrame, source: str | None = None) -> pd.DataFrame:
    """The matching keys of existing accounts (their extra columns CRM ID, SIREN... if any);
    CRM IDs are those of ``source`` (``CRM ID (source)``)."""
    return add_keys(accounts.reset_index(drop=True),
                    crm_column(source) if source else "CRM ID")


@dataclass
class ImportPlan:
    work: Working
    review: pd.DataFrame
    counts: dict = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


class _Review:
    def __init__(self, start: int = 1):
        self.rows: list[dict] = []
        self.n = start

    def add(self, **values) -> None:
        row = {c: None for c in REVIEW_COLUMNS}
        row.update(values)
        row["Review ID"] = f"R{self.n:05d}"
        self.n += 1
        self.rows.append(row)

    def frame(self) -> pd.DataFrame:
        df = pd.DataFrame(self.rows, columns=REVIEW_COLUMNS, dtype=object)
        if len(df):
            clusters = {a: f"C{i + 1:04d}" for i, a in enumerate(dict.fromkeys(df["Account ID"]))}
            df["Cluster"] = df["Account ID"].map(clusters)
        return df


def _listed(work: Working, row: int) -> dict:
    return {"Listed: name": work.get(row, "Account name"), "Listed: city": work.get(row, "City"),
            "Listed: SIREN": work.get(row, "SIREN") or work.get(row, "SIRET")}


def _fill(work: Working, row: int, values: dict, review: _Review, source: str, file_row) -> int:
    """Fill blanks of account ``row`` from ``values``; differing values go to review."""
    differ = 0
    account_id = work.get(row, "Account ID")
    for column, v in values.items():
        if column in NOT_FILLED or _blank(v):
            continue
        current = work.get(row, column)
        if current is None:
            work.set(row, column, v)
        elif not same_meaning(column, current, v):
            differ += 1
            review.add(Kind=DIFFERS, Score=None, Evidence=f"{column} differs",
                       **{"Account ID": account_id, "Incoming: source": source,
                          "Incoming: row": file_row, "Column": column,
                          "Listed value": current, "Incoming value": v,
                          "Incoming: name": values.get("Account name"),
                          "Incoming: city": values.get("City"),
                          "Incoming: SIREN": values.get("SIREN") or values.get("SIRET"),
                          "Record": record_json({column: v})}, **_listed(work, row))
    return differ


def _all_values(records: Records) -> list[dict]:
    cols = list(dict.fromkeys(records.fields + records.extras))
    return [{c: v for c, v in row.items() if not _blank(v)}
            for row in records.frame[cols].to_dict("records")]


def plan_import(accounts: pd.DataFrame, records: Records, work: Working | None = None,
                review_start: int = 1) -> ImportPlan:
    """Plan the import of ``records`` into ``accounts`` (see the module)."""
    work = work or Working(accounts)
    review = _Review(review_start)
    current = work.frame()
    rows = current.index.to_numpy()
    links = find_links(account_keys(current, records.source), records.frame)
    ids = current["Account ID"].to_numpy(dtype=object) if "Account ID" in current else \
        np.full(len(current), "", dtype=object)
    ne = len(current)
    # exact groups: union-find, the root an existing account when there is one
    parent = list(range(ne + len(records.frame)))

    def root(x):
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for link in links:
        if link.kind == "exact":
            ra, rb = root(link.a), root(link.b)
            if ra != rb:
                parent[max(ra, rb)] = min(ra, rb)  # the smaller: an existing account first
    probable: dict[int, list] = {}
    for link in links:
        if link.kind == "probable":
            probable.setdefault(link.b, []).append(link)
    counts = {"matched": 0, "new": 0, "held": 0, "values differ": 0}
    account_of: dict[int, str] = {}     # root -> account ID (matched or new)
    candidate_of: dict[int, str] = {}   # held root -> candidate account ID
    all_values = _all_values(records)
    for i in range(len(records.frame)):
        node = ne + i
        r = root(node)
        values = all_values[i]
        file_row = int(records.frame.index[i])
        if r < ne:  # matched exactly to an existing account
            row = int(rows[r])
            counts["matched"] += 1
            counts["values differ"] += _fill(work, row, values, review, records.source, file_row)
            continue
        if r in account_of:  # an earlier record of the same company in this file
            row = work.row_of[account_of[r]]
            counts["matched"] += 1
            counts["values differ"] += _fill(work, row, values, review, records.source, file_row)
            continue
        if r in candidate_of:  # the same company as a held record: held with it
            best = None
        else:
            best = None
            for link in probable.get(node, []):
                a = link.a
                ra = root(a)
                if a < ne:
                    target = str(ids[a])
                elif ra in account_of:
                    target = account_of[ra]
                elif ra in candidate_of:
                    target = candidate_of[ra]
                else:
                    continue
                if best is None or link.score > best[0]:
                    best = (link.score, target, link.evidence)
        if best is None and r in candidate_of:
            best = (None, candidate_of[r], "same identifier as a record held above")
        if best is not None:
            score, target, evidence = best
            candidate_of[r] = target
            counts["held"] += 1
            row = work.row_of.get(target)
            listed = _listed(work, row) if row is not None else {}
            review.add(Kind=DUPLICATE, Score=score, Evidence=evidence,
                       **{"Account ID": target, "Incoming: source": records.source,
                          "Incoming: row": file_row, "Incoming: name": values.get("Account name"),
                          "Incoming: city": values.get("City"),
                          "Incoming: SIREN": values.get("SIREN") or values.get("SIRET"),
                          "Record": record_json(values)}, **listed)
            continue
        account_of[r] = work.add(values)
        counts["new"] += 1
    return ImportPlan(work, review.frame(), counts)


def apply_decisions(work: Working, review: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    """Apply the decided rows of a previous review to ``work``; returns the rows still open.

    ``Same``: the held record fills the account's blanks (its differing values
    come back as new *Value differs* rows); ``Different``: it becomes a new
    account; ``Use incoming``: the incoming value replaces the listed one;
    ``Keep current``: nothing changes. A row whose account is gone stays open.
    """
    counts = {d: 0 for d in DECISIONS}
    still = []
    again = _Review(_next_review_number(review))
    for _, r in review.iterrows():
        decision = str(r.get("Decision") or "").strip()
        match = next((d for d in DECISIONS if d.casefold() == decision.casefold()), None)
        try:
            values = {k: _from_json(v) for k, v in json.loads(r.get("Record") or "{}").items()}
        except (ValueError, TypeError):
            values = None
        account = str(r.get("Account ID") or "")
        if match is None or values is None or (match != "Different" and not work.has(account)):
            still.append(r)
            continue
        counts[match] += 1
        if match == "Same":
            _fill(work, work.row_of[account], values, again, r.get("Incoming: source"),
                  r.get("Incoming: row"))
        elif match == "Different":
            work.add(values)
        elif match == "Use incoming":
            for column, v in values.items():
                work.set(work.row_of[account], column, v)
    open_rows = pd.DataFrame(still, columns=REVIEW_COLUMNS) if still else \
        pd.DataFrame(columns=REVIEW_COLUMNS)
    return pd.concat([open_rows, again.frame()], ignore_index=True), counts


def _next_review_number(review: pd.DataFrame) -> int:
    numbers = [int(m.group(1)) for x in review.get("Review ID", [])
               if isinstance(x, str) and (m := re.match(r"R(\d+)$", x))]
    return max(numbers, default=0) + 1


def plan_fill(work: Working, records: Records, review_start: int = 1) -> ImportPlan:
    """Fill accounts already listed, never add one (a survey's answers: ``--into needs``).

    A record is the account with its Account ID, CRM ID, valid SIREN or web
    domain, else the one account with its exact name (names compared by
    :func:`name_key`; several: the one in its city). Blanks are filled; a
    differing answer is listed for review; a record that is no account is noted.
    """
    review = _Review(review_start)
    current = work.frame()
    keys = account_keys(current, records.source)
    rows = current.index.to_numpy()
    lookups = {}
    for col in ("_id", "_crm", "_siren", "_domain"):
        d: dict[str, int] = {}
        for pos, k in enumerate(keys[col]):
            if k:
                d.setdefault(k, pos)
        lookups[col] = d
    by_name: dict[str, list[int]] = {}
    for pos, k in enumerate(keys["_name"]):
        if k:
            by_name.setdefault(k, []).append(pos)
    counts = {"matched": 0, "new": 0, "held": 0, "values differ": 0}
    notes = []
    all_values = _all_values(records)
    inc = records.frame
    for i in range(len(inc)):
        pos = None
        for col in ("_id", "_crm", "_siren", "_domain"):
            k = inc[col].iat[i]
            if k and k in lookups[col]:
                pos = lookups[col][k]
                break
        if pos is None and inc["_name"].iat[i]:
            found = by_name.get(inc["_name"].iat[i], [])
            if len(found) > 1 and inc["_city"].iat[i]:
                found = [p for p in found if keys["_city"].iat[p] == inc["_city"].iat[i]]
            pos = found[0] if len(found) == 1 else None
        file_row = int(inc.index[i])
        if pos is None:
            notes.append(f"row {file_row}: {all_values[i].get('Account name', '(no name)')!r} "
                         f"is no single account of the list: not imported")
            continue
        counts["matched"] += 1
        values = {k: v for k, v in all_values[i].items() if k.startswith(C.NEED_PREFIX)}
        counts["values differ"] += _fill(work, int(rows[pos]), values, review, records.source,
                                         file_row)
    return ImportPlan(work, review.frame(), counts, notes)
