"""Validation: turn the user-owned tables into typed frames, or say what is wrong.

Every rule of the contract's "Bad input" section is checked, all at once, and
each problem names the sheet, the row a user sees (the frame's index), the
column, the value found and what is expected. Nothing is computed from input
that failed validation.

Example
-------
>>> import pandas as pd
>>> from maillon.engine.validate import parse_settings
>>> s, problems = parse_settings(pd.DataFrame({"Setting": ["P1 share"], "Value": [0.2]}))
>>> s.p1_share, problems
(0.2, [])
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import contract as C
from .cells import EXCEL_EPOCH
from .distinct import per_distinct
from .errors import InputError, Problem
from .model import EngineInput, Settings
from .settings import EXCEL_LAST_DATE, SETTINGS, next_monday

#: the longest action a Playbook rule may plan: ten years
MAX_ACTION_WEEKS = 520

# Report at most this many problems per column, then one line with the rest.
MAX_PER_COLUMN = 5

_EXCEL_EPOCH = pd.Timestamp(EXCEL_EPOCH)


@dataclass
class ValidInput:
    """Typed, trusted input for the engine's computations."""

    settings: Settings
    expectations: pd.DataFrame  # Market importance / Our strength as floats
    accounts: pd.DataFrame  # typed; Need columns for every expectation
    feedback: pd.DataFrame  # all rows, typed
    latest_feedback: pd.DataFrame  # one row per Account ID (the latest), index Account ID
    playbook: pd.DataFrame  # typed
    previous_targets: pd.DataFrame | None
    previous_segments: pd.DataFrame | None
    previous_plan: pd.DataFrame | None
    warnings: list


class _Collector:
    def __init__(self):
        self.problems: list[Problem] = []

    def add(self, sheet, table, row, column, value, expected):
        self.problems.append(Problem(sheet, table, row, column, value, expected))

    def add_mask(self, sheet, table, frame, column, mask, values, expected):
        """Report the rows where ``mask`` is true (at most MAX_PER_COLUMN, then a count)."""
        mask = np.asarray(mask, dtype=bool)
        if not mask.any():
            return
        rows = frame.index[mask]
        vals = np.asarray(values, dtype=object)[mask]  # only converted when there is a problem
        for row, val in zip(rows[:MAX_PER_COLUMN], vals[:MAX_PER_COLUMN]):
            self.add(sheet, table, _py(row), column, _py(val), expected)
        extra = len(rows) - MAX_PER_COLUMN
        if extra > 0:
            self.add(sheet, table, None, None, None,
                     f"{extra} more row(s) in column '{column}' have the same problem "
                     f"(expected {expected})")


def _py(value):
    """A plain Python value for messages."""
    if isinstance(value, np.generic):
        return value.item()
    return value


_NUMERIC_KINDS = ("floating", "integer", "mixed-integer-float", "decimal")
_DATE_KINDS = ("datetime", "datetime64", "date")


def _kind(series: pd.Series) -> str:
    """What a column holds, inferred at C speed: 'string', 'floating', 'mixed', …"""
    return pd.api.types.infer_dtype(series, skipna=True)


def _blank(series: pd.Series) -> np.ndarray:
    """True where a cell is empty (None, NaN, or only spaces)."""
    kind = _kind(series)
    if kind == "string":
        return pd.isna(_stripped(series))
    isna = series.isna().to_numpy()
    if kind != "mixed":
        return isna
    text = np.fromiter((isinstance(v, str) and not v.strip() for v in series.astype(object)),
                       bool, len(series))
    return isna | text


def _to_number(series: pd.Series) -> tuple[pd.Series, np.ndarray, np.ndarray]:
    """Numbers from cells; text holding a plain number is accepted.

    Returns (floats with NaN for blanks, mask of cells that are not numbers,
    mask of those that are text numbers too ambiguous to read). Booleans and
    dates are not numbers.
    """
    kind = _kind(series)
    if kind in _NUMERIC_KINDS or kind == "empty":
        none = np.zeros(len(series), dtype=bool)
        if pd.api.types.is_float_dtype(series.dtype) or pd.api.types.is_integer_dtype(series.dtype):
            return series.astype(float), none, none  # already numbers: no detour through objects
        return pd.to_numeric(series.astype(object), errors="coerce").astype(float), none, none
    s = series.astype(object)
    blank = _blank(s)
    bad_type = np.fromiter((isinstance(v, (bool, np.bool_, dt.date, dt.time, pd.Timestamp))
                            for v in s), bool, len(s))
    cleaned = s.where(~bad_type, None)
    cleaned = cleaned.map(lambda v: v.strip().replace("\u00a0", "").replace(" ", "")
                          if isinstance(v, str) else v)
    num = pd.to_numeric(cleaned, errors="coerce").astype(float)
    ambiguous = ambiguous_text_numbers(s)
    bad = (~blank) & (num.isna().to_numpy() | bad_type | ambiguous)
    num[blank] = np.nan
    num[bad] = np.nan
    return num, bad, ambiguous


# "1.234" or "12,500": one separator followed by exactly three digits reads as
# a thousands separator in a French workbook and as a decimal point in an
# English one; "1,5" and "1.5" are not ambiguous (and "1,5" is not read at all)
_AMBIGUOUS = re.compile(r"[+-]?\d{1,3}[.,]\d{3}")


def ambiguous_text_numbers(series: pd.Series) -> np.ndarray:
    """Where a text cell holds a number whose separator could mean either thousands
    or decimals (``"1.234"``, ``"12,500"``): reported, never guessed.

    >>> ambiguous_text_numbers(pd.Series(["1.234", "1.5", 1.234, "12,500", "1 234", None])).tolist()
    [True, False, False, True, False, False]
    """
    return np.fromiter((isinstance(v, str) and _AMBIGUOUS.fullmatch(
        v.strip().replace("\u00a0", "").replace(" ", "")) is not None for v in series),
        bool, len(series))


_ISO_DATE = re.compile(r"\s*\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2})?)?\s*")


def _to_date(series: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """Dates from cells: date/datetime values, Excel serial numbers, ISO text."""
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        return series.astype("datetime64[ns]"), np.zeros(len(series), dtype=bool)
    kind = _kind(series)
    if kind in _DATE_KINDS or kind == "empty":
        dates = pd.to_datetime(series.astype(object), errors="coerce")
        return pd.Series(dates.to_numpy(dtype="datetime64[ns]"), index=series.index), \
            np.zeros(len(series), dtype=bool)
    s = series.astype(object)
    blank = _blank(s)
    out = []
    bad = np.zeros(len(s), dtype=bool)
    for i, v in enumerate(s):
        if blank[i]:
            out.append(pd.NaT)
            continue
        try:
            if isinstance(v, (dt.datetime, dt.date, pd.Timestamp)):
                out.append(pd.Timestamp(v))
            elif isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool):
                if not 1 <= float(v) <= 2958465:
                    raise ValueError
                out.append(_EXCEL_EPOCH + pd.Timedelta(days=float(v)))
            elif isinstance(v, str) and _ISO_DATE.fullmatch(v):
                out.append(pd.Timestamp(v.strip()))
            else:
                raise ValueError
        except (ValueError, OverflowError):
            out.append(pd.NaT)
            bad[i] = True
    return pd.Series(pd.to_datetime(pd.Series(out, dtype=object), errors="coerce").to_numpy(),
                     index=series.index, dtype="datetime64[ns]"), bad


def _cell_text(v):
    """One cell as text; whole numbers print without '.0'; blank is None."""
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return None
    if isinstance(v, (float, np.floating)) and float(v).is_integer():
        return str(int(v))
    if isinstance(v, str):
        v = v.strip()
        return v or None
    if isinstance(v, (dt.date, pd.Timestamp)):
        stamp = pd.Timestamp(v)
        return stamp.strftime("%Y-%m-%d") if stamp == stamp.normalize() else stamp.isoformat()
    return str(v)


def _to_text(series: pd.Series) -> pd.Series:
    """Cell values as text (see ``_cell_text``), as an object column."""
    kind = _kind(series)
    if kind == "string":  # at least one text (infer_dtype skips missing cells)
        return pd.Series(_stripped(series), index=series.index, dtype=object)
    if kind == "empty" or series.isna().all():
        return pd.Series([None] * len(series), index=series.index, dtype=object)
    return series.astype(object).map(_cell_text).astype(object)


def _strip_cell(v):
    return (v.strip() or None) if type(v) is str else None


# called once per cell in a C loop: ``strip`` costs less than hashing each text
# to call it once per distinct value (per_distinct)
_STRIP_EACH = np.frompyfunc(_strip_cell, 1, 1)


def _stripped(series: pd.Series) -> np.ndarray:
    """A text column stripped, blanks as None.

    >>> _stripped(pd.Series([" a ", "  ", None, "b"])).tolist()
    ['a', None, None, 'b']
    """
    return _STRIP_EACH(series.to_numpy(dtype=object))


def _lookup(text: pd.Series, lookup: dict, case_insensitive: bool = True) -> pd.Series:
    """Each text of ``text`` (from ``_to_text``) through ``lookup``; unknown or blank is None."""
    def find(v):
        if not isinstance(v, str):
            return None
        return lookup.get(v.lower() if case_insensitive else v)

    return pd.Series(per_distinct(text, find), index=text.index, dtype=object)


def _check_headers(col: _Collector, sheet, table, frame, required) -> bool:
    if frame is None:
        col.add(sheet, table, None, None, None,
                f"the table '{table}' is missing: the sheet '{sheet}' must hold an Excel "
                f"table named {table} with the columns {', '.join(required)}")
        return False
    missing = [h for h in required if h not in frame.columns]
    for h in missing:
        col.add(sheet, table, None, h, None,
                f"the table '{table}' has no column '{h}' (headers must be exactly: "
                f"{', '.join(required)})")
    return not missing


def _choice(col, sheet, table, frame, column, allowed, required=True, case_insensitive=True):
    """Normalise a column to one of ``allowed``; report others."""
    text = _to_text(frame[column])
    lookup = {a.lower(): a for a in allowed} if case_insensitive else {a: a for a in allowed}
    norm = _lookup(text, lookup, case_insensitive)
    blank = text.isna().to_numpy()
    bad = (~blank) & norm.isna().to_numpy()
    col.add_mask(sheet, table, frame, column, bad, frame[column],
                 "one of " + ", ".join(allowed))
    if required:
        col.add_mask(sheet, table, frame, column, blank, frame[column],
                     "one of " + ", ".join(allowed) + " (required)")
    return norm


def _number(col, sheet, table, frame, column, *, lo=None, hi=None, whole=False,
            required=False, what=None):
    num, bad, ambiguous = _to_number(frame[column])
    raw = frame[column]
    expected = what or _describe_range(lo, hi, whole)
    col.add_mask(sheet, table, frame, column, ambiguous, raw,
                 "a number, not text: this text could mean thousands or decimals (1.234 "
                 "is 1234 in a French workbook, 1.234 in an English one), so Maillon does "
                 "not guess; type the value as a number")
    col.add_mask(sheet, table, frame, column, bad & ~ambiguous, raw, expected)
    ok = ~bad & num.notna().to_numpy()
    out_of_range = np.zeros(len(num), dtype=bool)
    vals = num.to_numpy()
    if lo is not None:
        out_of_range |= ok & (vals < lo)
    if hi is not None:
        out_of_range |= ok & (vals > hi)
    if whole:
        out_of_range |= ok & (np.floor(np.nan_to_num(vals)) != np.nan_to_num(vals))
    col.add_mask(sheet, table, frame, column, out_of_range, raw, expected)
    if required:
        col.add_mask(sheet, table, frame, column, num.isna().to_numpy() & ~bad, raw,
                     expected + " (required)")
    num[out_of_range] = np.nan
    return num


def _describe_range(lo, hi, whole):
    kind = "a whole number" if whole else "a number"
    if lo is not None and hi is not None:
        return f"{kind} from {lo:g} to {hi:g}"
    if lo is not None:
        return f"{kind} ≥ {lo:g}"
    return kind


# --- settings -----------------------------------------------------------------

def parse_settings(frame: pd.DataFrame, today: dt.date | None = None
                   ) -> tuple[Settings, list[Problem]]:
    """Resolve ``tblSettings`` into :class:`Settings`; missing settings take their default.

    Each ``Value`` is parsed by its declaration in :mod:`maillon.engine.settings`
    (type and bounds); a problem names the setting and what it accepts.

    >>> s, problems = parse_settings(pd.DataFrame({"Setting": ["Segments"], "Value": [13]}))
    >>> print(problems[0])
    Settings, row 0, column 'Value' (tblSettings) has 13: expected Segments to be auto or a whole number from 2 to 12
    """
    col = _Collector()
    sheet, table = C.SHEET_SETTINGS, C.TBL_SETTINGS
    today = today or dt.date.today()
    s = Settings(plan_start=next_monday(today))
    if not _check_headers(col, sheet, table, frame, ["Setting", "Value"]):
        return s, col.problems
    names = _to_text(frame["Setting"])
    declared = {d.name.lower(): d for d in SETTINGS}
    seen = {}
    for row, name, value in zip(frame.index, names, frame["Value"].astype(object)):
        if name is None:
            continue
        key = name.strip().lower()
        if key in seen:
            col.add(sheet, table, _py(row), "Setting", name,
                    f"each setting once (also on row {seen[key]})")
            continue
        seen[key] = _py(row)
        decl = declared.get(key)
        if decl is None:  # an extra row of the user's: ignored
            continue
        try:
            setattr(s, decl.field, decl.parse(value, today))
        except (ValueError, TypeError, OverflowError):
            col.add(sheet, table, _py(row), "Value", _py(value), decl.expected())
    if s.revenue_b_share < s.revenue_a_share:
        col.add(sheet, table, seen.get("revenue b share"), "Value", s.revenue_b_share,
                "Revenue B share at least Revenue A share")
    if s.potential_b_share < s.potential_a_share:
        col.add(sheet, table, seen.get("potential b share"), "Value", s.potential_b_share,
                "Potential B share at least Potential A share")
    if s.p1_share + s.p2_share > 1:
        col.add(sheet, table, seen.get("p2 share"), "Value", s.p2_share,
                "P1 share + P2 share at most 100%")
    last_start = EXCEL_LAST_DATE - dt.timedelta(days=7 * s.plan_weeks - 1)
    if s.plan_start > last_start:
        col.add(sheet, table, seen.get("plan start"), "Value", s.plan_start.isoformat(),
                f"Plan start at the latest {last_start.isoformat()}, so that the "
                f"{s.plan_weeks} weeks of the plan end by {EXCEL_LAST_DATE.isoformat()}, "
                f"the last day Excel shows")
    return s, col.problems


# --- the whole input --------------------------------------------------------

_ABC_PATTERN = re.compile(r"^(all|[ABCP*][ABC*])$", re.IGNORECASE)


def validate(inp: EngineInput) -> ValidInput:
    """Check every user-owned table; raise :class:`InputError` listing all problems."""
    col = _Collector()
    warnings: list[str] = []
    settings, problems = parse_settings(inp.settings, inp.run_at.date())
    col.problems.extend(problems)

    # Expectations
    sheet, table = C.SHEET_EXPECTATIONS, C.TBL_EXPECTATIONS
    exp = inp.expectations
    expectations = pd.DataFrame(columns=C.EXPECTATION_COLUMNS)
    if _check_headers(col, sheet, table, exp, ["Expectation", "Market importance", "Our strength"]):
        exp = exp.loc[~_all_blank(exp)]
        names = _to_text(exp["Expectation"])
        col.add_mask(sheet, table, exp, "Expectation", names.isna().to_numpy(),
                     exp["Expectation"], "a short name (required)")
        dup = names.notna() & names.str.lower().duplicated(keep="first")
        col.add_mask(sheet, table, exp, "Expectation", dup.to_numpy(), names.to_numpy(object),
                     "a unique name (it appears twice)")
        imp = _number(col, sheet, table, exp, "Market importance", lo=1, hi=5, required=True)
        strength = _number(col, sheet, table, exp, "Our strength", lo=1, hi=5, required=True)
        expectations = pd.DataFrame({
            "Expectation": names,
            "Description": _to_text(exp["Description"]) if "Description" in exp else None,
            "Market importance": imp,
            "Our strength": strength,
            "Source": _to_text(exp["Source"]) if "Source" in exp else None,
        }, index=exp.index)
        if len(expectations) == 0:
            col.add(sheet, table, None, None, None,
                    "at least one expectation in tblExpectations")
    exp_names = [n for n in expectations["Expectation"] if isinstance(n, str)]
    exp_lookup = {n.lower(): n for n in exp_names}

    # Accounts
    sheet, table = C.SHEET_ACCOUNTS, C.TBL_ACCOUNTS
    acc = inp.accounts
    need_cols = [C.need_column(n) for n in exp_names]
    accounts = None
    if _check_headers(col, sheet, table, acc, ["Account ID", "Account name", "Status"]):
        acc = acc.loc[~_all_blank(acc)]
        missing_needs = [c for c in need_cols if c not in acc.columns]
        for c in missing_needs:
            col.add(sheet, table, None, c, None,
                    f"a column '{c}' in {table} for the expectation "
                    f"'{c[len(C.NEED_PREFIX):]}' of {C.TBL_EXPECTATIONS}")
        ids = _to_text(acc["Account ID"])
        raw_ids = acc["Account ID"]
        col.add_mask(sheet, table, acc, "Account ID", ids.isna().to_numpy(), raw_ids,
                     "an Account ID (required, unique)")
        dup = ids.notna() & ids.duplicated(keep="first")
        if dup.any():
            first_row = dict(zip(ids[~ids.duplicated(keep="first")], acc.index))
            for row, v in list(zip(acc.index[dup.to_numpy()], ids[dup]))[:MAX_PER_COLUMN]:
                col.add(sheet, table, _py(row), "Account ID", v,
                        f"a unique Account ID (already on row {_py(first_row[v])})")
            if dup.sum() > MAX_PER_COLUMN:
                col.add(sheet, table, None, None, None,
                        f"{int(dup.sum()) - MAX_PER_COLUMN} more duplicate Account IDs")
        names = _to_text(acc["Account name"])
        col.add_mask(sheet, table, acc, "Account name", names.isna().to_numpy(),
                     acc["Account name"], "an account name (required)")
        status = _choice(col, sheet, table, acc, "Status", C.STATUSES)
        accounts = pd.DataFrame({"Account ID": ids, "Account name": names, "Status": status},
                                index=acc.index)
        for c in ("Industry", "Region", "City", "Sales owner"):
            accounts[c] = _to_text(acc[c]) if c in acc else None
        accounts["Employees"] = _number(col, sheet, table, acc, "Employees", lo=0, whole=True) \
            if "Employees" in acc else np.nan
        for c in ("Revenue 12m", "Potential"):
            accounts[c] = _number(col, sheet, table, acc, c, lo=0) if c in acc else np.nan
        if "Last contact" in acc:
            dates, bad = _to_date(acc["Last contact"])
            col.add_mask(sheet, table, acc, "Last contact", bad,
                         acc["Last contact"], "a date")
            accounts["Last contact"] = dates
        else:
            accounts["Last contact"] = pd.Series(pd.NaT, index=acc.index, dtype="datetime64[ns]")
        for c in need_cols:
            accounts[c] = _number(col, sheet, table, acc, c, lo=1, hi=5,
                                  what="a need score from 1 to 5, or blank") \
                if c in acc else np.nan
        unknown = [c for c in acc.columns if isinstance(c, str) and c.startswith(C.NEED_PREFIX)
                   and c[len(C.NEED_PREFIX):].lower() not in exp_lookup]
        if unknown:
            warnings.append(f"{sheet}: column(s) {', '.join(unknown)} name no expectation of "
                            f"{C.TBL_EXPECTATIONS} and were ignored")
    known_ids = set(accounts["Account ID"].dropna()) if accounts is not None else set()

    # Field feedback
    sheet, table = C.SHEET_FEEDBACK, C.TBL_FEEDBACK
    fb = inp.feedback
    feedback = pd.DataFrame(columns=C.FEEDBACK_COLUMNS)
    if _check_headers(col, sheet, table, fb, ["Account ID", "Date"]):
        fb = fb.loc[~_all_blank(fb)]
        ids = _to_text(fb["Account ID"])
        unknown = ids.isna() | ~ids.isin(known_ids)
        if accounts is not None:
            col.add_mask(sheet, table, fb, "Account ID", unknown.to_numpy(),
                         fb["Account ID"], "an Account ID of tblAccounts")
        dates, bad = _to_date(fb["Date"])
        col.add_mask(sheet, table, fb, "Date", bad | dates.isna().to_numpy(),
                     fb["Date"], "the date of the meeting")
        feedback = pd.DataFrame({"Account ID": ids, "Date": dates}, index=fb.index)
        feedback["Sales rep"] = _to_text(fb["Sales rep"]) if "Sales rep" in fb else None
        if "Main need" in fb:
            main = _to_text(fb["Main need"])
            norm = _lookup(main, exp_lookup)
            col.add_mask(sheet, table, fb, "Main need", (main.notna() & norm.isna()).to_numpy(),
                         fb["Main need"],
                         "an expectation of tblExpectations (" + ", ".join(exp_names) + ")")
            feedback["Main need"] = norm
        else:
            feedback["Main need"] = None
        feedback["Relationship"] = _number(col, sheet, table, fb, "Relationship", lo=1, hi=5,
                                           what="a score from 1 to 5") \
            if "Relationship" in fb else np.nan
        feedback["Buying intent"] = _choice(col, sheet, table, fb, "Buying intent",
                                            C.BUYING_INTENTS, required=False) \
            if "Buying intent" in fb else None
        for c in ("Competitor", "Note"):
            feedback[c] = _to_text(fb[c]) if c in fb else None

    # Playbook
    sheet, table = C.SHEET_PLAYBOOK, C.TBL_PLAYBOOK
    pb = inp.playbook
    playbook = pd.DataFrame(columns=C.PLAYBOOK_COLUMNS)
    if _check_headers(col, sheet, table, pb, C.PLAYBOOK_COLUMNS):
        pb = pb.loc[~_all_blank(pb)]
        playbook = pd.DataFrame(index=pb.index)
        playbook["Priority"] = _choice(col, sheet, table, pb, "Priority", C.PLAYBOOK_PRIORITIES)
        seg = _to_text(pb["Segment"])
        playbook["Segment"] = seg.fillna("All").map(lambda v: "All" if v.lower() == "all" else v)
        cell = _to_text(pb["ABC cell"])
        badcell = cell.notna() & ~cell.map(lambda v: bool(_ABC_PATTERN.match(v)) if v else False)
        col.add_mask(sheet, table, pb, "ABC cell", badcell.to_numpy(), pb["ABC cell"],
                     "an ABC cell such as AB, a pattern such as A* or *A, or All")
        playbook["ABC cell"] = cell.fillna("All").map(lambda v: "All" if v.lower() == "all" else v.upper())
        playbook["Action"] = _to_text(pb["Action"])
        col.add_mask(sheet, table, pb, "Action", playbook["Action"].isna().to_numpy(),
                     pb["Action"], "the action to take (required)")
        playbook["Function"] = _choice(col, sheet, table, pb, "Function", C.FUNCTIONS)
        playbook["Start week"] = _number(col, sheet, table, pb, "Start week", lo=0, whole=True,
                                         required=True)
        # bounded so that an action's End stays a date Excel can show
        playbook["Duration weeks"] = _number(col, sheet, table, pb, "Duration weeks", lo=1,
                                             hi=MAX_ACTION_WEEKS, whole=True, required=True)
        playbook["Repeat every weeks"] = _number(col, sheet, table, pb, "Repeat every weeks",
                                                 lo=1, whole=True,
                                                 what="a whole number of weeks ≥ 1, or blank")

    # What the previous recompute left, as edited by users
    prev = inp.previous
    prev_targets = _previous(prev.targets)
    if prev_targets is not None and "Priority override" in prev_targets:
        _choice(col, C.SHEET_TARGETS, C.TBL_TARGETS, prev_targets, "Priority override",
                C.OVERRIDES, required=False)
        prev_targets = prev_targets.copy()
        prev_targets["Account ID"] = _to_text(prev_targets["Account ID"]) \
            if "Account ID" in prev_targets else None
        lookup = {o.lower(): o for o in C.OVERRIDES}
        prev_targets["Priority override"] = _lookup(
            _to_text(prev_targets["Priority override"]), lookup)

    if col.problems:
        raise InputError(col.problems)

    accounts = accounts[C.ACCOUNT_COLUMNS + need_cols]
    latest = _latest_feedback(feedback)
    return ValidInput(settings, expectations, accounts, feedback, latest, playbook,
                      prev_targets, _previous(prev.segments), _previous(prev.plan), warnings)


def _all_blank(frame: pd.DataFrame) -> np.ndarray:
    """Rows whose every cell is blank (Excel tables often end with such rows)."""
    undecided = np.ones(len(frame), dtype=bool)  # no filled cell seen yet
    for c in frame.columns:
        if not undecided.any():
            break
        rows = np.flatnonzero(undecided)
        undecided[rows[~_blank(frame[c].iloc[rows])]] = False
    return undecided


def _previous(frame):
    if frame is None or len(frame) == 0:
        return frame if frame is None else frame.copy()
    return frame.loc[~_all_blank(frame)].copy()


def _latest_feedback(feedback: pd.DataFrame) -> pd.DataFrame:
    """The latest meeting per account (ties: the lowest row, i.e. typed first)."""
    if len(feedback) == 0:
        return pd.DataFrame(columns=C.FEEDBACK_COLUMNS[1:], index=pd.Index([], name="Account ID"))
    ordered = feedback.assign(_row=np.arange(len(feedback))) \
        .sort_values(["Account ID", "Date", "_row"], ascending=[True, False, True], kind="mergesort")
    latest = ordered.drop_duplicates("Account ID", keep="first").drop(columns="_row")
    return latest.set_index("Account ID")
