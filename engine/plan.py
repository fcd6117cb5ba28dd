"""The joint action plan: Playbook rules applied to the target list, week by week.

For each Playbook rule, each segment it names (a Segment ID, a segment name --
case and surrounding spaces ignored -- or ``All``) and each priority it names
(``P1``/``P2``/``P3`` gives that priority; ``All`` gives one row with Priority
``All`` covering P1, P2 and P3), the engine counts the accounts whose Final
priority is not ``Exclude`` and whose ABC cell matches the rule's pattern.
One action row is written when at least one account matches.

ABC cell patterns: a cell (``AB``), a pattern where ``*`` stands for any class
(``A*``, ``*A``, ``**``), ``All`` (or blank), or several of these separated by
commas (``AA, AB``); case is ignored.

Action ID = ``<Segment ID>-<priority>-<digest>``, e.g. ``S01-P1-3FA2`` or
``S02-ALL-09BC``: the digest is the first 4 hex digits of SHA-1 of the rule's
Action, Function and ABC cell pattern (normalised). It does not change when the
account counts, the owners or the timing change, so a Status typed against an
action follows it from one recompute to the next. Two rows that would get the
same ID (the same action twice for one segment and priority) get ``-2``,
``-3`` ... in Playbook order.

Timing: occurrence k starts in week ``Start week + k * Repeat every weeks``
(k = 0 only when Repeat is blank or 0) while it starts inside the horizon, and
lasts ``Duration weeks`` (blank: 1). Start = Plan start + 7 * Start week days;
End = the last day of the last occurrence that starts inside the horizon
(Plan start + 7 * (its start week + duration) - 1 day, which may fall after the
horizon). A rule that starts after the horizon produces no row.

Next action of an account = the covering action with the earliest Start (ties:
plan order), skipping actions whose Status is ``Done`` or ``Cancelled``.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import math
import re

import numpy as np
import pandas as pd

from . import contract as C
from .distinct import per_distinct
from .model import Settings
from .settings import EXCEL_LAST_DATE

_PRIO_ORDER = {"P1": 0, "P2": 1, "P3": 2, "All": 3}
_STATUS_CANON = {s.lower(): s for s in C.PLAN_STATUSES}
DEFAULT_STATUS = "Not started"
CLOSED_STATUSES = ("Done", "Cancelled")


def week_header(day: dt.date) -> str:
    """Header of the week column starting on ``day``: ISO text ``YYYY-MM-DD``."""
    return day.isoformat()


def match_cells(pattern: object) -> list[str]:
    """The ABC cells (in contract order) a Playbook ``ABC cell`` pattern matches.

    >>> match_cells("A*"), match_cells("*a"), len(match_cells("All"))
    (['AA', 'AB', 'AC'], ['AA', 'BA', 'CA', 'PA'], 12)
    """
    if pattern is None or (isinstance(pattern, float) and math.isnan(pattern)):
        return list(C.ABC_CELLS)
    text = str(pattern).strip().upper()
    if text in ("", "ALL", "*", "**"):
        return list(C.ABC_CELLS)
    out = set()
    for part in (p.strip() for p in text.split(",")):
        if len(part) == 1 and part in C.REVENUE_CLASSES:  # "A" alone means "A*"
            part += "*"
        if len(part) != 2:
            continue
        for cell in C.ABC_CELLS:
            if all(pc in ("*", cc) for pc, cc in zip(part, cell)):
                out.add(cell)
    return [c for c in C.ABC_CELLS if c in out]


def _norm_pattern(pattern: object) -> str:
    cells = match_cells(pattern)
    return "All" if len(cells) == len(C.ABC_CELLS) else ",".join(cells)


def action_digest(action: str, function: str, pattern: object) -> str:
    """4 hex digits identifying a rule's Action + Function + ABC cell pattern."""
    text = f"{str(action).strip()}|{str(function).strip().lower()}|{_norm_pattern(pattern)}"
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:4].upper()


def _num(v, default: float) -> float:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return default
    return default if math.isnan(f) else f


def _text(v) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return ""
    return str(v).strip()


def _texts(s: pd.Series) -> np.ndarray:
    """A column of text as an object array, blanks as "" and spaces stripped."""
    return per_distinct(pd.Series(s).astype(object), _text, missing="")


def _id_key(v) -> str:
    if isinstance(v, float) and not math.isnan(v) and v.is_integer():
        return str(int(v))
    return _text(v)


def _owners(hits: pd.DataFrame) -> dict:
    """Action key -> up to three Sales owners, most accounts first (ties by name), "; "-joined."""
    c = hits[hits["Sales owner"] != ""].groupby(["key", "Sales owner"], sort=False)["n"].sum().reset_index()
    if c.empty:
        return {}
    c = c.sort_values(["key", "n", "Sales owner"], ascending=[True, False, True], kind="stable")
    return c.groupby("key", sort=False).head(3).groupby("key", sort=False)["Sales owner"].agg("; ".join).to_dict()


def build_plan(targets: pd.DataFrame, segments: pd.DataFrame, playbook: pd.DataFrame,
               settings: Settings, previous_plan: pd.DataFrame | None, *,
               warnings: list | None = None
               ) -> tuple[pd.DataFrame, list[dt.date], pd.Series, list[dict]]:
    """``tblPlan``, the week start dates, each target's next action, and orphans.

    Parameters
    ----------
    targets : ``tblTargets`` (uses Account ID, Segment ID, ABC cell,
        Final priority, Sales owner).
    segments : ``tblSegments`` (Segment ID, Segment name, Marketing owner).
    playbook : ``tblPlaybook``.
    settings : uses ``plan_start`` and ``plan_weeks``.
    previous_plan : the previous ``tblPlan`` as the user left it, or None.
    warnings : optional list; a sentence is appended for each Playbook rule
        that names an unknown segment or an ABC pattern matching no cell.

    Returns
    -------
    (plan, weeks, next_action, orphans): ``plan`` has ``PLAN_FIXED_COLUMNS``
    then one column per week (header :func:`week_header`), cells holding the
    Function's initial (``M``/``S``/``J``) where the action runs, else "";
    ``weeks`` the start date of each week column; ``next_action`` indexed by
    Account ID, "Action (from YYYY-MM-DD)" or ""; ``orphans`` the statuses whose
    Action ID no longer exists.
    """
    n_weeks = int(settings.plan_weeks)
    if n_weeks < 1:
        raise ValueError(f"plan_weeks must be a whole number of at least 1; got {settings.plan_weeks!r}")
    start0 = settings.plan_start
    if isinstance(start0, dt.datetime):
        start0 = start0.date()
    weeks = [start0 + dt.timedelta(days=7 * k) for k in range(n_weeks)]
    week_cols = [week_header(d) for d in weeks]

    seg_ids = segments["Segment ID"].astype(str).tolist()
    seg_order = {s: i for i, s in enumerate(seg_ids)}
    by_name = {}
    for sid, name in zip(seg_ids, segments["Segment name"]):
        by_name.setdefault(_text(name).lower(), sid)
    mkt_owner = dict(zip(seg_ids, (_text(v) for v in segments["Marketing owner"])))

    # accounts per (segment, priority, cell, owner): a small table, whatever the size
    t = pd.DataFrame({
        "Account ID": targets["Account ID"].astype(str).to_numpy(dtype=object),
        "Segment ID": _texts(targets["Segment ID"]),
        "Priority": _texts(targets["Final priority"]),
        "ABC cell": _texts(targets["ABC cell"]),
        "Sales owner": _texts(targets["Sales owner"]),
    })
    live = t[t["Priority"].isin(C.PRIORITIES)]
    groups = (live.groupby(["Segment ID", "Priority", "ABC cell", "Sales owner"], sort=False)
              .size().rename("n").reset_index())

    # expand rules into (row key) x (segment, priority, cell) pieces
    pieces = []
    rows = []
    seen_ids: dict[str, int] = {}
    for r_i, rule in enumerate(playbook.to_dict("records")):
        prio = _text(rule.get("Priority")) or "All"
        prio = {"p1": "P1", "p2": "P2", "p3": "P3", "all": "All"}.get(prio.lower())
        if prio is None:
            if warnings is not None:
                warnings.append(f"Playbook row {r_i + 1}: Priority {rule.get('Priority')!r} is not "
                                "P1, P2, P3 or All; rule skipped")
            continue
        seg_txt = _text(rule.get("Segment"))
        if seg_txt == "" or seg_txt.lower() == "all":
            rule_segs = seg_ids
        elif seg_txt in seg_order:
            rule_segs = [seg_txt]
        elif seg_txt.upper() in seg_order:
            rule_segs = [seg_txt.upper()]
        elif seg_txt.lower() in by_name:
            rule_segs = [by_name[seg_txt.lower()]]
        else:
            rule_segs = []
            if warnings is not None:
                warnings.append(f"Playbook row {r_i + 1}: segment {seg_txt!r} is neither a Segment ID, "
                                "a segment name nor All; rule matches no account")
        cells = match_cells(rule.get("ABC cell"))
        if not cells and warnings is not None:
            warnings.append(f"Playbook row {r_i + 1}: ABC cell {rule.get('ABC cell')!r} matches no cell")
        action = _text(rule.get("Action"))
        function = _text(rule.get("Function"))
        sw = max(0, int(_num(rule.get("Start week"), 0.0)))
        dur = max(1, int(math.ceil(_num(rule.get("Duration weeks"), 1.0))))
        rep = int(math.ceil(_num(rule.get("Repeat every weeks"), 0.0)))
        if sw >= n_weeks and warnings is not None:
            warnings.append(f"Playbook row {r_i + 1}: Start week {sw} is after the {n_weeks}-week "
                            "horizon; no action planned")
        if sw >= n_weeks or not rule_segs or not cells:
            continue
        starts = list(range(sw, n_weeks, rep)) if rep > 0 else [sw]
        digest = action_digest(action, function, rule.get("ABC cell"))
        prios = list(C.PRIORITIES) if prio == "All" else [prio]
        ptag = "ALL" if prio == "All" else prio
        for sid in rule_segs:
            base = f"{sid}-{ptag}-{digest}"
            seen_ids[base] = seen_ids.get(base, 0) + 1
            aid = base if seen_ids[base] == 1 else f"{base}-{seen_ids[base]}"
            key = len(rows)
            rows.append({"key": key, "Action ID": aid, "Priority": prio, "Segment ID": sid,
                         "Action": action, "Function": function, "starts": starts, "dur": dur,
                         "sw": sw})
            pieces.append(pd.DataFrame({
                "key": key, "Segment ID": sid,
                "Priority": np.repeat(prios, len(cells)),
                "ABC cell": cells * len(prios)}))

    fixed = list(C.PLAN_FIXED_COLUMNS)
    empty_next = pd.Series("", index=pd.Index(t["Account ID"], name="Account ID"),
                           name="Next action", dtype=object)
    prev_status = _previous_status(previous_plan)
    if not rows:
        plan = pd.DataFrame({c: pd.Series(dtype=object) for c in fixed + week_cols})
        return plan, weeks, empty_next, _status_orphans(prev_status, set())

    expansion = pd.concat(pieces, ignore_index=True)
    hits = expansion.merge(groups, on=["Segment ID", "Priority", "ABC cell"], how="inner")
    counts = hits.groupby("key")["n"].sum()
    owners = _owners(hits)

    recs = []
    for row in rows:
        k = row["key"]
        n_acc = int(counts.get(k, 0))
        if n_acc == 0:
            continue
        last = row["starts"][-1]
        grid = np.zeros(n_weeks, dtype=bool)
        for s in row["starts"]:
            grid[s:min(n_weeks, s + row["dur"])] = True
        letter = row["Function"][:1].upper() or "X"  # M, S or J; X if the Function is blank
        status = prev_status.get(row["Action ID"], (DEFAULT_STATUS, ""))[0]
        rec = {
            "key": k,
            "Action ID": row["Action ID"], "Priority": row["Priority"],
            "Segment ID": row["Segment ID"], "Action": row["Action"], "Function": row["Function"],
            "Marketing owner": mkt_owner.get(row["Segment ID"], ""),
            "Sales owner": owners.get(k, ""), "Accounts": n_acc,
            "Start": start0 + dt.timedelta(days=7 * row["sw"]),
            # never past Excel's last day, whatever the rule's duration
            "End": start0 + dt.timedelta(days=min(7 * (last + row["dur"]) - 1,
                                                  (EXCEL_LAST_DATE - start0).days)),
            "Status": status,
        }
        rec.update(zip(week_cols, np.where(grid, letter, "").tolist()))
        recs.append(rec)
    if not recs:
        plan = pd.DataFrame({c: pd.Series(dtype=object) for c in fixed + week_cols})
        return plan, weeks, empty_next, _status_orphans(prev_status, set())

    plan = pd.DataFrame(recs)
    plan["_p"] = plan["Priority"].map(_PRIO_ORDER)
    plan = plan.sort_values(["_p", "Segment ID", "Start", "Action ID"], kind="stable").reset_index(drop=True)
    plan["Accounts"] = plan["Accounts"].astype("int64")

    # next action: per (segment, priority, cell), the open action starting first
    pos = pd.Series(np.arange(len(plan)), index=plan["key"])
    open_ = plan.loc[~plan["Status"].isin(CLOSED_STATUSES), "key"]
    cover = expansion[expansion["key"].isin(open_)].copy()
    cover["pos"] = cover["key"].map(pos)
    cover["start"] = plan["Start"].to_numpy()[cover["pos"].to_numpy()]
    first = cover.sort_values(["start", "pos"], kind="stable").drop_duplicates(
        ["Segment ID", "Priority", "ABC cell"])
    label = (plan["Action"] + " (from " + plan["Start"].map(dt.date.isoformat) + ")").to_numpy(dtype=object)
    first["text"] = label[first["pos"].to_numpy()]
    nxt = t.merge(first[["Segment ID", "Priority", "ABC cell", "text"]],
                  on=["Segment ID", "Priority", "ABC cell"], how="left")
    next_action = pd.Series(nxt["text"].fillna("").to_numpy(dtype=object),
                            index=pd.Index(t["Account ID"], name="Account ID"), name="Next action")

    orphans = _status_orphans(prev_status, set(plan["Action ID"]))
    return plan[fixed + week_cols], weeks, next_action, orphans


def _previous_status(previous_plan: pd.DataFrame | None) -> dict[str, tuple[str, str]]:
    """Action ID -> (status as carried, as typed), for non-blank statuses."""
    if previous_plan is None or len(previous_plan) == 0 or "Action ID" not in previous_plan.columns \
            or "Status" not in previous_plan.columns:
        return {}
    out: dict[str, tuple[str, str]] = {}
    for aid, st in zip(previous_plan["Action ID"], previous_plan["Status"]):
        key, typed = _id_key(aid), _text(st)
        if key and typed and key not in out:
            out[key] = (_STATUS_CANON.get(typed.lower(), typed), typed)
    return out


def _status_orphans(prev_status: dict[str, tuple[str, str]], present: set) -> list[dict]:
    """Statuses typed against actions that no longer exist (the default status is not an edit)."""
    return [{"Sheet": C.SHEET_PLAN, "Key": aid, "Column": "Status", "Value": typed,
             "Note": "Action no longer in the plan; the status was not carried over"}
            for aid, (status, typed) in prev_status.items()
            if aid not in present and status != DEFAULT_STATUS]


_WEEK_HEADER = re.compile(r"\d{4}-\d{2}-\d{2}")


def is_week_header(header) -> bool:
    """Whether a ``tblPlan`` header is a week column's (its Monday, ``2026-11-30``).

    >>> is_week_header("2026-11-30"), is_week_header(dt.date(2026, 11, 30)), is_week_header("Notes")
    (True, True, False)
    """
    if isinstance(header, (dt.date, pd.Timestamp)):
        return True
    return bool(_WEEK_HEADER.fullmatch(str(header).strip()))


def plan_computed_columns(plan: pd.DataFrame) -> list:
    """The computed columns of a ``tblPlan`` that its ``Row check`` digests, in the order
    the digest takes them: the fixed columns but the editable ones, then its weeks by
    date. The same for the plan built now and for the plan as read back, whose weeks are
    those of the run that wrote it: with the plan start on ``auto`` (next Monday), a
    week later the plan covers other weeks, and its rows must be checked against the
    weeks they were written with, not against this run's.

    >>> plan_computed_columns(pd.DataFrame(columns=["Action ID", "2026-12-07", "Status",
    ...                                             "Notes", "2026-11-30", "Row check"]))[-2:]
    ['2026-11-30', '2026-12-07']
    """
    weeks = sorted((c for c in plan.columns if is_week_header(c)),
                   key=lambda h: pd.Timestamp(h if isinstance(h, (dt.date, pd.Timestamp))
                                              else str(h).strip()))
    return [c for c in C.PLAN_FIXED_COLUMNS if c not in C.PLAN_EDITABLE] + weeks


def plan_columns(plan: pd.DataFrame | None) -> list:
    """The engine's columns of a ``tblPlan`` as read back: the fixed ones and its weeks
    (any other column was added by a user)."""
    weeks = [] if plan is None else [c for c in plan.columns if is_week_header(c)]
    return list(C.PLAN_FIXED_COLUMNS) + weeks
