"""A realistic synthetic :class:`~maillon.engine.model.EngineResult`, for renderer tests.

Built only from the dataclass and the column lists of the contract, so that the
renderer can be tested while the engine is written; it does not compute
anything the way the engine does (scores, classes and plans are plausible, not
exact). Data includes the awkward strings a real workbook holds: text that
looks like a formula, XML special characters, control characters and
surrounding spaces.

Example
-------
>>> from tests.engine_result_factory import make_result
>>> r = make_result(n_accounts=50, n_segments=4, weeks=8)
>>> len(r.targets), len(r.segments), len(r.plan_weeks)
(50, 4, 8)
"""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from maillon.engine import contract as C
from maillon.engine.model import EngineResult, Settings

RUN_AT = dt.datetime(2026, 11, 26, 14, 3, 0)
PLAN_START = dt.date(2026, 11, 30)

#: Names that must come back as text, never as formulas or broken XML.
AWKWARD_NAMES = [
    "=HYPERLINK(\"http://example.com\",\"click\")",
    "+33 1 23 45 67 89",
    "-minus first",
    "@risk Ltd",
    "Dupont & Fils <Lyon>",
    "<r>not rich</r>",
    "  spaced name  ",
    "Bell\x07 Industries _x0041_",
]

_INDUSTRIES = ["Food", "Chemicals", "Automotive", "Aerospace", "Pharma", "Packaging",
               "Energy", "Textiles"]
_ROOTS = ["Atelier", "Groupe", "Société", "Industries", "Laboratoires", "Établissements",
          "Fonderie", "Compagnie"]
_CITIES = ["Lyon", "Lille", "Nantes", "Toulouse", "Grenoble", "Rennes", "Metz", "Dijon"]
_REPS = ["Claire Martin", "Hugo Bernard", "Léa Petit", "Nicolas Roux", "Sarah Blanc"]
_MARKETERS = ["Inès Morel", "Julien Faure", "Camille Girard"]
_ACTIONS = [
    ("Key account review with top management", "Sales"),
    ("Segment webinar and follow-up calls", "Joint"),
    ("Email nurturing campaign", "Marketing"),
    ("Qualification call on hidden potential", "Sales"),
    ("Trade show invitation", "Marketing"),
    ("Joint visit: product expert and account manager", "Joint"),
]
_LETTER = {"Marketing": "M", "Sales": "S", "Joint": "J"}


def _priorities(n: int, p1: float = 0.10, p2: float = 0.30) -> np.ndarray:
    n1 = int(np.floor(p1 * n + 0.5))
    n2 = int(np.floor(p2 * n + 0.5))
    return np.array(["P1"] * n1 + ["P2"] * n2 + ["P3"] * (n - n1 - n2), dtype=object)


def make_result(n_accounts: int = 200, n_segments: int = 5, weeks: int = 26,
                seed: int = 0, currency: str = "EUR", n_actions: int | None = None,
                extra_plan_rows: bool = True, n_edits: int = 3,
                history_runs: int = 3) -> EngineResult:
    """A synthetic result with ``n_accounts`` targets, ``n_segments`` segments and
    a plan of ``weeks`` weeks; deterministic for a given ``seed``."""
    if n_accounts < 1:
        raise ValueError(f"n_accounts must be at least 1; got {n_accounts!r}")
    if not 1 <= n_segments <= 12:
        raise ValueError(f"n_segments must be between 1 and 12; got {n_segments!r}")
    rng = np.random.default_rng(seed)
    n = n_accounts
    settings = Settings(plan_start=PLAN_START, plan_weeks=weeks, currency=currency)

    # --- accounts ---------------------------------------------------------------
    ids = np.array([f"ACC{i:06d}" for i in range(1, n + 1)], dtype=object)
    names = np.array([f"{_ROOTS[i % len(_ROOTS)]} {_CITIES[(i // 8) % len(_CITIES)]} {i}"
                      for i in range(n)], dtype=object)
    for k, awkward in enumerate(AWKWARD_NAMES[: n]):
        names[k * max(1, n // len(AWKWARD_NAMES))] = awkward
    customer = rng.random(n) < 0.6
    status = np.where(customer, "Customer", "Prospect").astype(object)
    revenue = np.where(customer, np.round(rng.lognormal(11, 1.2, n), 0), 0.0)
    potential = np.round(rng.lognormal(11.5, 1.0, n), 0)
    potential[rng.random(n) < 0.03] = np.nan
    seg_idx = rng.integers(0, n_segments, n)
    seg_ids = [f"S{i + 1:02d}" for i in range(n_segments)]
    seg_names = [f"{_INDUSTRIES[i % len(_INDUSTRIES)]} {'large' if i % 2 else 'mid-size'}"
                 for i in range(n_segments)]
    seg_owner = [_MARKETERS[i % len(_MARKETERS)] for i in range(n_segments)]
    account_seg = np.array(seg_ids, dtype=object)[seg_idx]

    rev_cls = np.where(customer, rng.choice(["A", "B", "C"], n, p=[0.2, 0.3, 0.5]), "P")
    pot_cls = rng.choice(["A", "B", "C"], n, p=[0.2, 0.3, 0.5])
    cells = np.char.add(rev_cls.astype(str), pot_cls.astype(str)).astype(object)

    # --- segments ---------------------------------------------------------------
    attractiveness = np.round(np.linspace(85, 25, n_segments) + rng.normal(0, 3, n_segments), 1)
    seg_rows = []
    for s in range(n_segments):
        mask = seg_idx == s
        seg_rows.append({
            "Segment ID": seg_ids[s],
            "Segment name": seg_names[s] if s != 1 else None,  # a blank editable cell
            "Marketing owner": seg_owner[s],
            "Accounts": int(mask.sum()),
            "Customers": int((mask & customer).sum()),
            "Prospects": int((mask & ~customer).sum()),
            "Revenue 12m": float(revenue[mask].sum()),
            "Potential": float(np.nansum(potential[mask])),
            "Attractiveness": float(attractiveness[s]),
            "Portrait": (f"Typically a {seg_names[s].lower()} company of 50 to 250 employees "
                         f"in the {_CITIES[s % len(_CITIES)]} area, buying twice a year, "
                         "sensitive to lead times and technical support."),
            "Top needs": "Delivery lead time; Technical support; Price",
            "Differentiators": "Local stock, application engineers on site",
        })
    segments = pd.DataFrame(seg_rows, columns=C.SEGMENT_COLUMNS)
    segments[C.CHECK_COLUMN] = [f"{i:012x}" for i in range(n_segments)]

    # --- ABC --------------------------------------------------------------------
    frame = pd.DataFrame({"cell": cells, "rev": revenue, "pot": np.nan_to_num(potential)})
    agg = frame.groupby("cell").agg(Accounts=("cell", "size"), Revenue=("rev", "sum"),
                                    Potential=("pot", "sum")).reindex(list(C.ABC_CELLS)).fillna(0)
    abc = pd.DataFrame({
        "ABC cell": list(C.ABC_CELLS),
        "Revenue class": [c[0] for c in C.ABC_CELLS],
        "Potential class": [c[1] for c in C.ABC_CELLS],
        "Accounts": agg["Accounts"].astype("int64").to_numpy(),
        "Revenue 12m": agg["Revenue"].to_numpy(float),
        "Potential": agg["Potential"].to_numpy(float),
        "Sales posture": [f"Posture for {c}: protect, develop or nurture" for c in C.ABC_CELLS],
    }, columns=C.ABC_COLUMNS)

    def grid(col, dtype):
        return pd.DataFrame(abc[col].to_numpy().reshape(4, 3),
                            index=pd.Index(list(C.REVENUE_CLASSES), name="Revenue class"),
                            columns=pd.Index(list(C.POTENTIAL_CLASSES), name="Potential class")
                            ).astype(dtype)

    def cross(values):
        f = pd.DataFrame({"s": account_seg, "c": cells, "v": values})
        t = f.pivot_table(index="s", columns="c", values="v", aggfunc="sum", fill_value=0)
        t = t.reindex(index=seg_ids, columns=list(C.ABC_CELLS), fill_value=0)
        t.index.name, t.columns.name = "Segment ID", "ABC cell"
        return t

    cross_accounts = cross(np.ones(n, dtype="int64")).astype("int64")
    cross_revenue = cross(revenue).astype(float)
    cross_potential = cross(np.nan_to_num(potential)).astype(float)
    agree = int(n * 0.62)
    agreement = {"name": "Share of accounts on which both views agree",
                 "value": agree / n,
                 "explanation": (f"{agree:,} of {n:,} accounts sit in the same tier in both "
                                 "views: Marketing's tier is the third of the account's segment "
                                 "by Attractiveness, Sales' tier is the best of its revenue and "
                                 "potential classes.")}

    # --- conflicts --------------------------------------------------------------
    top = {seg_ids[0]}
    bottom = {seg_ids[-1]} if n_segments > 1 else set()
    hidden = np.isin(account_seg, list(top)) & np.isin(rev_cls, ["C", "P"]) & (pot_cls == "A")
    legacy = np.isin(account_seg, list(bottom)) & (rev_cls == "A")
    conf_idx = np.concatenate([np.flatnonzero(hidden), np.flatnonzero(legacy)])
    conflicts = pd.DataFrame({
        "Account ID": ids[conf_idx], "Account name": names[conf_idx],
        "Segment ID": account_seg[conf_idx], "ABC cell": cells[conf_idx],
        "Conflict": (["Hidden potential"] * int(hidden.sum())
                     + ["Legacy account"] * int(legacy.sum())),
        "Suggested resolution": ["Sales: qualify the opportunity and name a rep; Marketing: "
                                 "put the account in the segment's campaign."] * int(hidden.sum())
                                + ["Keep serving it, and check the segment's attractiveness "
                                   "with Marketing."] * int(legacy.sum()),
    }, columns=C.CONFLICT_COLUMNS)

    # --- targets ----------------------------------------------------------------
    score = np.round(rng.uniform(0, 100, n), 1)
    order = np.lexsort((ids, -score))
    computed = np.empty(n, dtype=object)
    computed[order] = _priorities(n)
    override = np.full(n, None, dtype=object)
    reason = np.full(n, None, dtype=object)
    k_over = max(1, n // 50)
    pick = rng.choice(n, k_over, replace=False)
    override[pick] = rng.choice(list(C.OVERRIDES), k_over)
    reason[pick] = "Agreed in the sales meeting"
    final = np.where(override == None, computed, override).astype(object)  # noqa: E711
    rank_order = np.lexsort((ids, -score, pd.Series(final).map(
        {"P1": 0, "P2": 1, "P3": 2, "Exclude": 3}).to_numpy()))
    qualification = np.where(np.isnan(potential), "Missing: Potential", "Complete").astype(object)
    targets = pd.DataFrame({
        "Rank": np.arange(1, n + 1, dtype="int64"),
        "Account ID": ids[rank_order],
        "Account name": names[rank_order],
        "Status": status[rank_order],
        "Segment ID": account_seg[rank_order],
        "Segment name": np.array(seg_names, dtype=object)[seg_idx][rank_order],
        "ABC cell": cells[rank_order],
        "Score": score[rank_order],
        "Computed priority": computed[rank_order],
        "Priority override": override[rank_order],
        "Override reason": reason[rank_order],
        "Final priority": final[rank_order],
        "Why": np.array([f"Segment attractiveness {attractiveness[s]:.0f}; cell {c}; "
                         "strong need for delivery lead time"
                         for s, c in zip(seg_idx, cells)], dtype=object)[rank_order],
        "Qualification": qualification[rank_order],
        "Sales owner": np.array(_REPS, dtype=object)[np.arange(n) % len(_REPS)][rank_order],
        "Marketing owner": np.array(seg_owner, dtype=object)[seg_idx][rank_order],
        "Next action": np.array([_ACTIONS[i % len(_ACTIONS)][0] for i in range(n)],
                                dtype=object)[rank_order],
    }, columns=C.TARGET_COLUMNS)
    targets[C.CHECK_COLUMN] = [f"{i:012x}" for i in range(n)]

    # --- plan -------------------------------------------------------------------
    plan_weeks = [PLAN_START + dt.timedelta(weeks=w) for w in range(weeks)]
    week_headers = [d.isoformat() for d in plan_weeks]
    n_actions = n_actions if n_actions is not None else min(3 * n_segments + 6, 40)
    plan_rows = []
    for a in range(n_actions):
        action, function = _ACTIONS[a % len(_ACTIONS)]
        start = a % max(weeks, 1)
        duration = 1 + a % 4
        repeat = 8 if a % 3 == 0 else None
        row = {
            "Action ID": f"A{a + 1:03d}", "Priority": ["P1", "P2", "P3"][a % 3],
            "Segment ID": seg_ids[a % n_segments], "Action": action, "Function": function,
            "Marketing owner": seg_owner[a % n_segments], "Sales owner": _REPS[a % len(_REPS)],
            "Accounts": int(rng.integers(1, max(2, n // 5))),
            "Start": plan_weeks[start] if weeks else None,
            "End": (plan_weeks[min(start + duration, weeks) - 1] + dt.timedelta(days=4))
            if weeks else None,
            "Status": C.PLAN_STATUSES[a % len(C.PLAN_STATUSES)] if a % 4 else None,
        }
        for w, header in enumerate(week_headers):
            on = start <= w < start + duration or (
                repeat and w > start and (w - start) % repeat < duration)
            row[header] = _LETTER[function] if on else None
        plan_rows.append(row)
    plan = pd.DataFrame(plan_rows, columns=C.PLAN_FIXED_COLUMNS + week_headers)
    plan[C.CHECK_COLUMN] = [f"{i:012x}" for i in range(n_actions)]
    extra = None
    if extra_plan_rows:
        extra = pd.DataFrame([
            ["", "", "", "Team offsite (added by hand)", "Joint", "", "", None,
             PLAN_START + dt.timedelta(days=21), None, "Not started"],
            [None, None, None, "=SUM(1,2) typed as text", None, None, None, 3.5, None, None, None],
        ], index=[60, 61])

    # --- history ----------------------------------------------------------------
    hist_rows = []
    for h in range(history_runs):
        hist_rows.append({
            "Run at": RUN_AT - dt.timedelta(days=7 * (history_runs - 1 - h)),
            "Run by": "cmartin", "Accounts": n - (history_runs - 1 - h),
            "Segments": n_segments, "Moved segment": 0 if h == 0 else 3 * h,
            "Changed priority": 0 if h == 0 else 5 * h, "Overrides": k_over,
            "Engine version": "0.1.0", "Settings digest": "3f2a9c1b7d04",
        })
    history = pd.DataFrame(hist_rows, columns=C.HISTORY_COLUMNS)
    edit_rows = []
    for e in range(n_edits):
        edit_rows.append({
            "Run at": RUN_AT, "Kind": "Orphan" if e % 2 == 0 else "Overwritten",
            "Sheet": C.SHEET_TARGETS, "Key": f"ACC9{e:05d}",
            "Column": "Priority override" if e % 2 == 0 else "Score",
            "Value": "P1" if e % 2 == 0 else 42.0,
            "Note": "the account no longer exists" if e % 2 == 0
            else "typed into a computed column; the recompute wrote the computed value back",
        })
    edits = pd.DataFrame(edit_rows, columns=C.EDIT_COLUMNS)

    final_counts = pd.Series(final).value_counts()
    key_figures = {
        "Accounts": n, "Customers": int(customer.sum()), "Prospects": int((~customer).sum()),
        "Segments": n_segments, "Revenue 12m": float(revenue.sum()),
        "Potential": float(np.nansum(potential)),
        "P1 accounts": int(final_counts.get("P1", 0)),
        "P2 accounts": int(final_counts.get("P2", 0)),
        "P3 accounts": int(final_counts.get("P3", 0)),
        "Excluded": int(final_counts.get("Exclude", 0)),
        "Overrides": k_over, "Conflicts": len(conflicts), "Agreement": agree / n,
        "Inferred segments": n // 10, "Planned actions": n_actions,
    }
    return EngineResult(
        settings=settings, segments=segments, abc=abc, abc_counts=grid("Accounts", "int64"),
        abc_revenue=grid("Revenue 12m", float), abc_potential=grid("Potential", float),
        cross_accounts=cross_accounts, cross_revenue=cross_revenue,
        cross_potential=cross_potential, agreement=agreement, conflicts=conflicts,
        targets=targets, plan=plan, plan_weeks=plan_weeks, plan_extra_rows=extra,
        history=history, edits=edits, key_figures=key_figures, warnings=[],
    )


def empty_result(weeks: int = 26) -> EngineResult:
    """A result with no accounts, segments, actions, runs or edits (a new workbook)."""
    r = make_result(n_accounts=10, n_segments=2, weeks=weeks, extra_plan_rows=False,
                    n_edits=0, history_runs=0)
    for name in ("segments", "conflicts", "targets", "plan", "history", "edits"):
        frame = getattr(r, name)
        setattr(r, name, frame.iloc[0:0])
    for name in ("cross_accounts", "cross_revenue", "cross_potential"):
        setattr(r, name, getattr(r, name).iloc[0:0])
    for name in ("abc_counts", "abc_revenue", "abc_potential"):
        setattr(r, name, getattr(r, name) * 0)
    r.abc = r.abc.assign(Accounts=0, **{"Revenue 12m": 0.0, "Potential": 0.0})
    r.agreement = {**r.agreement, "value": 0.0, "explanation": "No accounts yet."}
    r.key_figures = {k: 0 for k in r.key_figures}
    return r
