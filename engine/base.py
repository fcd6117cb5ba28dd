"""The merge base: what a recompute leaves in the workbook so that copies can merge three-way.

Each recompute records, with a workbook identity (kept from run to run) and a
run identity (new each run), the state of every mergeable table as the run
left it: the user-owned tables as they were read, and the key and editable
(and user-added) columns of ``tblTargets``, ``tblSegments`` and ``tblPlan``
as they were written. :class:`Base` holds that; :func:`encode` and
:func:`decode` turn it into compact bytes and back (JSON, deflated). Where the
bytes live in the package is the shell's business
(:mod:`maillon.addin.ooxml.base_part`).

Values are kept as read: text, numbers, booleans, dates (blank is ``None``),
so that the merge compares them by meaning
(:mod:`maillon.engine.meaning`).

Example
-------
>>> import pandas as pd
>>> from maillon.engine.base import Base, decode, encode
>>> b = Base("wb1", "run1", "2026-11-30 09:00:00", "claire",
...          {"tblAccounts": pd.DataFrame({"Account ID": ["A1"], "Employees": [12.0]})})
>>> back = decode(encode(b))
>>> back.workbook, back.run, back.tables["tblAccounts"].to_dict("list")
('wb1', 'run1', {'Account ID': ['A1'], 'Employees': [12.0]})
"""
from __future__ import annotations

import datetime as dt
import json
import uuid
import zlib
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from . import contract as C
from .merge import MERGE_TABLES, PLAN_BELOW

__all__ = ["Base", "BaseError", "encode", "decode", "snapshot", "new_id", "FORMAT"]

FORMAT = 1
_DATE = "\x00d"  # prefix of a date in the JSON (no cell text holds a NUL character)
_LIMIT = 1 << 30  # a base never inflates beyond 1 GiB (a hostile package could try)


class BaseError(ValueError):
    """The recorded base cannot be read (damaged, or written by a newer Maillon)."""


@dataclass
class Base:
    workbook: str  # identity of the workbook, kept from run to run
    run: str  # identity of the recompute that wrote it
    run_at: str  # when (ISO text), for messages
    run_by: str
    tables: dict = field(default_factory=dict)  # table name -> DataFrame (raw values)


def new_id() -> str:
    return uuid.uuid4().hex


def _plain(v):
    """A unique value of a text/mixed column as JSON can hold it."""
    if isinstance(v, (dt.datetime, dt.date, pd.Timestamp)):
        return _DATE + v.isoformat()
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, (str, float, int, bool)) or v is None:
        return v
    return str(v)  # times, timedeltas: their text


def _column(series: pd.Series, blobs: list) -> dict:
    """One column: numbers and dates as packed arrays, text as distinct values + codes."""
    def blob(arr: np.ndarray) -> int:
        blobs.append(np.ascontiguousarray(arr).tobytes())
        return len(blobs) - 1

    if series.dtype.kind == "f":
        return {"t": "f", "b": blob(series.to_numpy(dtype="<f8"))}
    if series.dtype.kind in "iu":
        return {"t": "f", "b": blob(series.to_numpy(dtype="<f8"))}
    if series.dtype.kind == "M":
        ns = series.to_numpy(dtype="datetime64[ns]").view("<i8")
        return {"t": "M", "b": blob(ns)}
    codes, uniques = pd.factorize(series.astype(object), use_na_sentinel=True)
    values = uniques.tolist()
    blank = [i for i, v in enumerate(values) if isinstance(v, str) and not v.strip()]
    if blank:  # text of spaces is a blank cell, as the readers give it (NaN)
        codes = np.where(np.isin(codes, blank), -1, codes)
    if pd.api.types.infer_dtype(uniques, skipna=False) != "string":
        values = [_plain(v) for v in values]
    return {"t": "o", "u": values, "b": blob(codes.astype("<i4"))}


def _unplain(v):
    if isinstance(v, str) and v.startswith(_DATE):
        try:
            return dt.datetime.fromisoformat(v[len(_DATE):])
        except ValueError:
            return v[len(_DATE):]
    return v


def _uncolumn(meta, blobs: list, name: str) -> np.ndarray:
    try:
        data = blobs[meta["b"]]
        kind = meta["t"]
        if kind == "f":
            return np.frombuffer(data, dtype="<f8").astype(float)
        if kind == "M":
            return np.frombuffer(data, dtype="<i8").view("datetime64[ns]")
        if kind == "o":
            codes = np.frombuffer(data, dtype="<i4")
            uniques = np.empty(len(meta["u"]) + 1, dtype=object)
            uniques[:-1] = [_unplain(v) for v in meta["u"]]
            uniques[-1] = np.nan
            if len(codes) and (codes.min() < -1 or codes.max() >= len(meta["u"])):
                raise BaseError(f"the recorded table {name} is damaged")
            return uniques[codes]
    except (KeyError, IndexError, TypeError, ValueError) as exc:
        raise BaseError(f"the recorded table {name} is damaged ({exc})") from None
    raise BaseError(f"the recorded table {name} is damaged")


def encode(base: Base) -> bytes:
    """``base`` as compact bytes: a JSON header, then packed columns, all deflated."""
    blobs: list[bytes] = []
    tables = {name: {"columns": [str(c) for c in frame.columns],
                     "data": [_column(frame.iloc[:, i], blobs) for i in range(frame.shape[1])]}
              for name, frame in base.tables.items()}
    doc = {"format": FORMAT, "workbook": base.workbook, "run": base.run,
           "run_at": base.run_at, "run_by": base.run_by, "tables": tables,
           "blobs": [len(b) for b in blobs]}
    head = json.dumps(doc, ensure_ascii=False, separators=(",", ":"),
                      allow_nan=True).encode("utf-8")
    z = zlib.compressobj(1)
    parts = [z.compress(len(head).to_bytes(8, "little")), z.compress(head)]
    parts += [z.compress(b) for b in blobs]
    parts.append(z.flush())
    return b"".join(parts)


def decode(data: bytes) -> Base:
    """The :class:`Base` that :func:`encode` gave; raises :class:`BaseError`."""
    try:
        z = zlib.decompressobj()
        raw = z.decompress(data, _LIMIT)
        if z.unconsumed_tail:
            raise BaseError("the recorded base is larger than Maillon reads")
        size = int.from_bytes(raw[:8], "little")
        if not 0 < size <= len(raw) - 8:
            raise BaseError("the recorded base is damaged")
        doc = json.loads(raw[8:8 + size].decode("utf-8"))
    except (zlib.error, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BaseError(f"the recorded base is damaged ({exc})") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("tables"), dict) \
            or not isinstance(doc.get("blobs"), list):
        raise BaseError("the recorded base is damaged")
    if doc.get("format") != FORMAT:
        raise BaseError(f"the recorded base has format {doc.get('format')!r}; this Maillon "
                        f"reads format {FORMAT}: update Maillon")
    blobs, at = [], 8 + size
    for n in doc["blobs"]:
        if not isinstance(n, int) or n < 0 or at + n > len(raw):
            raise BaseError("the recorded base is damaged")
        blobs.append(raw[at:at + n])
        at += n
    tables = {}
    for name, t in doc["tables"].items():
        name = str(name)
        if not isinstance(t, dict) or not isinstance(t.get("columns"), list) \
                or not isinstance(t.get("data"), list) or len(t["columns"]) != len(t["data"]):
            raise BaseError(f"the recorded table {name} is damaged")
        cols = [_uncolumn(m, blobs, name) for m in t["data"]]
        if len({len(c) for c in cols}) > 1:
            raise BaseError(f"the recorded table {name} is damaged")
        frame = pd.DataFrame(dict(zip(range(len(cols)), cols)))
        frame.columns = pd.Index([str(c) for c in t["columns"]], dtype=object)
        tables[name] = frame
    return Base(str(doc.get("workbook", "")), str(doc.get("run", "")),
                str(doc.get("run_at", "")), str(doc.get("run_by", "")), tables)


def _engine_part(spec, frame: pd.DataFrame | None) -> pd.DataFrame | None:
    if frame is None or spec.key not in frame.columns:
        return None
    cols = [spec.key] + spec.merge_columns(frame.columns)
    return frame[cols]


def snapshot(inp, result, workbook: str, run: str) -> Base:
    """The base a recompute records: ``inp`` (as read) and ``result`` (as written).

    ``workbook`` is the identity read from the previous base (a new one on the
    first recompute), ``run`` this run's identity (:func:`new_id`).
    """
    tables = {}
    for name, frame in ((C.TBL_SETTINGS, inp.settings), (C.TBL_EXPECTATIONS, inp.expectations),
                        (C.TBL_ACCOUNTS, inp.accounts), (C.TBL_FEEDBACK, inp.feedback),
                        (C.TBL_PLAYBOOK, inp.playbook)):
        if frame is not None:
            tables[name] = frame
    for name, frame in ((C.TBL_TARGETS, result.targets), (C.TBL_SEGMENTS, result.segments),
                        (C.TBL_PLAN, result.plan)):
        part = _engine_part(MERGE_TABLES[name], frame)
        if part is not None:
            tables[name] = part
    below = getattr(result, "plan_extra_rows", None)
    if below is not None and len(below):
        tables[PLAN_BELOW] = below.reset_index(drop=True)
    return Base(workbook, run, inp.run_at.isoformat(sep=" "), inp.run_by, tables)
