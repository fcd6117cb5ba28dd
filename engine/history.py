"""History: one row per recompute, and the edits that could not be kept in place.

Two kinds of edits are logged in ``tblEdits`` rather than dropped:

* **Orphan** — an edit in an editable column (a priority override, a segment
  name, a plan status…) whose key (Account ID, Segment ID, Action ID) no longer
  exists after the recompute.
* **Overwritten** — a value typed into a computed column. Each engine table
  with editable columns carries a hidden ``Row check`` column: a digest of the
  computed cells of the row as the engine wrote them. On the next recompute a
  row whose computed cells no longer match their digest was edited by hand;
  the engine reports the cells that differ from what it now computes.

Two more kinds come from what a user typed on an engine sheet outside its
tables (:mod:`maillon.engine.loose`): **Moved note** (a cell the new layout
needs) and **Comment** (a comment whose key is gone).
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json

import numpy as np
import pandas as pd

from . import contract as C
from .cells import is_blank
from .distinct import per_distinct


def _norm(value) -> str:
    """A spelling of a cell value that survives a write and a read back."""
    if value is None:
        return ""
    if isinstance(value, (bool, np.bool_)):
        return "1" if value else "0"
    if isinstance(value, (int, float, np.integer, np.floating)):
        f = float(value)
        if np.isnan(f):
            return ""
        return repr(round(f, 6) + 0.0)
    if isinstance(value, (dt.date, pd.Timestamp)):
        if pd.isna(value):
            return ""
        stamp = pd.Timestamp(value)
        return stamp.strftime("%Y-%m-%d") if stamp == stamp.normalize() else stamp.isoformat()
    text = str(value)
    return text.strip()


def _norm_column(series: pd.Series) -> np.ndarray:
    """``_norm`` over a column, vectorised for the usual all-text or all-number columns."""
    kind = pd.api.types.infer_dtype(series, skipna=True)
    if kind == "empty":
        return np.full(len(series), "", dtype=object)
    if kind == "string":
        return series.to_numpy(dtype=object, na_value="")
    if kind in ("floating", "integer", "mixed-integer-float") and series.dtype != bool:
        if pd.api.types.is_numeric_dtype(series.dtype):
            nums = series.to_numpy(dtype=float, na_value=np.nan)  # as to_numeric gives it
        else:
            nums = pd.to_numeric(series.astype(object), errors="coerce").to_numpy(dtype=float)
        nums = np.round(nums, 6) + 0.0
        # each distinct number is spelled once (scores, classes and counts repeat a lot)
        return per_distinct(nums, repr, missing="")
    return np.array([_norm(v) for v in series.astype(object)], dtype=object)


def normalised(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """The given columns as normalised text (missing columns are blank)."""
    out = {c: (_norm_column(frame[c]) if c in frame.columns else [""] * len(frame))
           for c in columns}
    return pd.DataFrame(out, index=frame.index, dtype=object)


def _repeats(texts: pd.Series, probe: int = 2048) -> bool:
    """Whether a column's first cells repeat a lot: then hashing each distinct text once
    (pandas' ``categorize``, which gives the same hashes) is cheaper than hashing every cell.

    >>> _repeats(pd.Series(["P1", "P2"] * 50)), _repeats(pd.Series([str(i) for i in range(100)]))
    (True, False)
    """
    head = texts.iloc[:probe].tolist()
    return len(set(head)) * 4 <= len(head)


def row_checks(frame: pd.DataFrame, columns: list[str]) -> pd.Series:
    """A short digest per row of the given (computed) columns.

    Each column's normalised text is hashed with pandas' fixed-key hash and the
    column hashes are mixed in order, so the digest is computed at C speed.
    """
    norm = normalised(frame, columns)
    digest = np.zeros(len(norm), dtype=np.uint64)
    with np.errstate(over="ignore"):
        for c in columns:
            h = pd.util.hash_pandas_object(norm[c], index=False, categorize=_repeats(norm[c])) \
                .to_numpy(dtype=np.uint64)
            digest = digest * np.uint64(1_000_003) ^ h
    # 16 hex digits per row, spelled at C speed (big-endian bytes -> hex -> 16-char slices)
    hexed = np.frombuffer(digest.astype(">u8").tobytes().hex().encode("ascii"), dtype="S16")
    return pd.Series(hexed.astype("U16").astype(object), index=frame.index, dtype=object)


def overwritten_edits(previous: pd.DataFrame | None, current: pd.DataFrame, key: str,
                      computed: list[str], sheet: str) -> list[dict]:
    """Edits typed into computed cells of ``previous`` (as read back), as tblEdits rows."""
    if previous is None or len(previous) == 0 or C.CHECK_COLUMN not in previous.columns \
            or key not in previous.columns:
        return []
    stored = pd.Series(_norm_column(previous[C.CHECK_COLUMN]), index=previous.index)
    has_check = (stored != "").to_numpy()
    prev = previous if has_check.all() else previous.loc[has_check]
    if len(prev) == 0:
        return []
    actual = row_checks(prev, computed)
    edited = prev.loc[actual.to_numpy() != stored.to_numpy()[has_check]]
    if len(edited) == 0:
        return []
    edited_keys = pd.Series(_norm_column(edited[key]), index=edited.index)
    cur = current.assign(_key=_norm_column(current[key]))
    cur = cur.loc[cur["_key"].isin(set(edited_keys))].drop_duplicates("_key")
    now = normalised(cur.set_index("_key"), computed)  # only the rows edited by hand
    before = normalised(edited, computed)
    rows = []
    for idx, row in before.iterrows():
        k = edited_keys.at[idx]
        cols = []
        if k in now.index:  # a column this run no longer computes (a past week) is not
            cols = [c for c in computed  # compared: what the engine wrote there is unknown
                    if c in current.columns and row[c] != now.at[k, c]]
        for c in cols or ["(computed cells)"]:
            rows.append({"Sheet": sheet, "Key": k, "Column": c,
                         "Value": row[c] if c in row else "",
                         "Kind": "Overwritten",
                         "Note": "typed into a computed column; the recompute wrote the "
                                 "computed value back"})
    return rows


def user_columns(previous: pd.DataFrame | None, known) -> list[str]:
    """Columns a user added inside an engine table: neither the contract's nor ``Row check``.

    >>> user_columns(pd.DataFrame(columns=["Account ID", "My notes", "Row check"]), ["Account ID"])
    ['My notes']
    """
    if previous is None:
        return []
    known = set(known) | {C.CHECK_COLUMN}
    return [c for c in previous.columns if c not in known]


def carry_user_columns(previous: pd.DataFrame | None, current: pd.DataFrame, key: str,
                       known, sheet: str) -> tuple[pd.DataFrame, list[dict]]:
    """``current`` with the columns a user added to ``previous`` carried over by ``key``.

    The values follow their key, like the editable columns; a value whose key is
    gone is returned as an orphan edit (a ``tblEdits`` row), never dropped.

    >>> prev = pd.DataFrame({"Account ID": ["A1", "A2"], "My notes": ["call", "gone"]})
    >>> cur = pd.DataFrame({"Account ID": ["A3", "A1"]})
    >>> out, orphans = carry_user_columns(prev, cur, "Account ID", ["Account ID"], "Target List")
    >>> out["My notes"].tolist(), [(o["Key"], o["Value"]) for o in orphans]
    (['', 'call'], [('A2', 'gone')])
    """
    extra = user_columns(previous, known)
    if not extra or key not in previous.columns:
        return current, []
    keys = pd.Series(_norm_column(previous[key]), index=previous.index)
    prev = previous.assign(_key=keys.to_numpy()).loc[keys.to_numpy() != ""]
    prev = prev.drop_duplicates("_key").set_index("_key")[extra]
    cur_keys = _norm_column(current[key])
    carried = prev.reindex(cur_keys)
    out = current.copy()
    for c in extra:
        values = carried[c].to_numpy(dtype=object)
        out[c] = [("" if is_blank(v) else v) for v in values]
    orphans = []
    gone = prev.loc[~prev.index.isin(set(cur_keys))]
    for k, row in gone.iterrows():
        for c in extra:
            if not is_blank(row[c]):
                orphans.append({"Sheet": sheet, "Key": k, "Column": c, "Value": row[c],
                                "Kind": "Orphan",
                                "Note": f"your column {c!r}: its {key} is gone; the value was "
                                        "not carried over"})
    return out, orphans


def settings_digest(settings) -> str:
    """A short digest of the resolved settings, to tell runs with different settings apart."""
    fields = {k: (v.isoformat() if isinstance(v, dt.date) else v)
              for k, v in vars(settings).items()}
    return hashlib.sha256(json.dumps(fields, sort_keys=True, default=str).encode()).hexdigest()[:12]


def history_tables(previous_history: pd.DataFrame | None, previous_edits: pd.DataFrame | None,
                   row: dict, edits: list[dict], run_at: dt.datetime
                   ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Append this run's row to tblHistory and its edits to tblEdits."""
    hist = _keep(previous_history, C.HISTORY_COLUMNS)
    hist = pd.concat([hist, pd.DataFrame([row], columns=C.HISTORY_COLUMNS)], ignore_index=True) \
        if len(hist) else pd.DataFrame([row], columns=C.HISTORY_COLUMNS)
    new_edits = pd.DataFrame([{**e, "Run at": run_at} for e in edits], columns=C.EDIT_COLUMNS)
    old = _keep(previous_edits, C.EDIT_COLUMNS)
    parts = [p for p in (old, new_edits) if len(p)]
    all_edits = pd.concat(parts, ignore_index=True) if parts else \
        pd.DataFrame(columns=C.EDIT_COLUMNS)
    return hist, all_edits


def _keep(frame: pd.DataFrame | None, columns: list[str]) -> pd.DataFrame:
    """Previous rows of an append-only table, blank rows dropped, columns as the contract says."""
    if frame is None or len(frame) == 0:
        return pd.DataFrame(columns=columns)
    out = frame.reindex(columns=columns).astype(object)
    blank = out.map(is_blank).all(axis=1)
    return out.loc[~blank].reset_index(drop=True)


def change_counts(prev_targets: pd.DataFrame | None, targets: pd.DataFrame) -> tuple[int, int]:
    """(accounts that moved segment, accounts whose final priority changed) since last run."""
    if prev_targets is None or len(prev_targets) == 0 or "Account ID" not in prev_targets:
        return 0, 0
    prev_ids = pd.Index(_norm_column(prev_targets["Account ID"]))
    first = ~prev_ids.duplicated()  # an ID typed twice: its first row counts
    at = pd.Index(prev_ids[first]).get_indexer(_norm_column(targets["Account ID"]))
    kept = at >= 0  # accounts already there last time
    before_rows = np.flatnonzero(first)[at[kept]]
    now_rows = np.flatnonzero(kept)

    def differ(column: str) -> int:
        if column not in prev_targets:
            return 0
        before = _norm_column(prev_targets[column].iloc[before_rows])
        now = _norm_column(targets[column].iloc[now_rows])
        return int((before != now).sum())

    return differ("Segment ID"), differ("Final priority")
