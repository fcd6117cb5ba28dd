"""One recompute: validate, segment, classify, reconcile, rank, plan, log.

Example
-------
>>> from maillon.engine.pipeline import recompute
>>> from maillon.engine.samples import small_input
>>> result = recompute(small_input())
>>> list(result.targets.columns[:3])
['Rank', 'Account ID', 'Account name']
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from . import contract as C
from .abc import abc_tables, classify
from .loose import key_comments
from .history import (carry_user_columns, change_counts, history_tables, overwritten_edits,
                      row_checks, settings_digest)
from .model import EngineInput, EngineResult
from .plan import build_plan, plan_columns, plan_computed_columns
from .reconcile import reconcile
from .score import build_targets
from .segment import segment_accounts
from .validate import validate


def engine_version() -> str:
    from maillon import __version__

    return __version__


TARGET_COMPUTED = [c for c in C.TARGET_COLUMNS if c not in C.TARGET_EDITABLE]
SEGMENT_COMPUTED = [c for c in C.SEGMENT_COLUMNS if c not in C.SEGMENT_EDITABLE]


def recompute(inp: EngineInput) -> EngineResult:
    """Run the whole engine on validated input; raises ``InputError`` on bad input."""
    v = validate(inp)
    settings = v.settings
    accounts = v.accounts
    prev_targets = v.previous_targets

    prev_membership = None
    if prev_targets is not None and {"Account ID", "Segment ID"} <= set(prev_targets.columns):
        pm = prev_targets[["Account ID", "Segment ID"]].dropna()
        prev_membership = pd.Series(pm["Segment ID"].astype(str).to_numpy(),
                                    index=pm["Account ID"].astype(str).to_numpy(), name="Segment ID")
        prev_membership = prev_membership[~prev_membership.index.duplicated()]

    seg = segment_accounts(accounts, v.expectations, v.latest_feedback, settings,
                           previous_membership=prev_membership,
                           previous_segments=v.previous_segments)
    classes = classify(accounts, settings)
    abc, abc_counts, abc_revenue, abc_potential = abc_tables(accounts, classes)
    cross_a, cross_r, cross_p, agreement, conflicts = reconcile(
        accounts, classes, seg.membership, seg.segments)
    targets, target_orphans = build_targets(
        accounts, v.latest_feedback, v.expectations, classes, seg.membership, seg.inferred,
        seg.account_fit, seg.segments, settings, prev_targets, inp.run_at.date())
    plan, weeks, next_action, plan_orphans = build_plan(
        targets, seg.segments, v.playbook, settings, v.previous_plan)
    targets["Next action"] = targets["Account ID"].map(next_action).fillna("").astype(object)

    # Hidden digests of the computed cells, and edits typed into computed cells.
    plan_computed = plan_computed_columns(plan)
    edits = [*seg.orphans, *target_orphans, *plan_orphans]
    edits += overwritten_edits(prev_targets, targets, "Account ID", TARGET_COMPUTED,
                               C.SHEET_TARGETS)
    edits += overwritten_edits(v.previous_segments, seg.segments, "Segment ID",
                               SEGMENT_COMPUTED, C.SHEET_SEGMENTS)
    # the previous plan's rows are checked against the weeks they were written with
    edits += overwritten_edits(v.previous_plan, plan, "Action ID",
                               plan_computed if v.previous_plan is None
                               else plan_computed_columns(v.previous_plan), C.SHEET_PLAN)
    # columns a user added inside tblTargets or tblSegments follow their key
    targets, user_orphans = carry_user_columns(prev_targets, targets, "Account ID",
                                               C.TARGET_COLUMNS, C.SHEET_TARGETS)
    edits += user_orphans
    seg_table, user_orphans = carry_user_columns(v.previous_segments, seg.segments, "Segment ID",
                                                 C.SEGMENT_COLUMNS, C.SHEET_SEGMENTS)
    edits += user_orphans
    # ... and inside tblPlan, by Action ID (its week columns are the engine's)
    plan, user_orphans = carry_user_columns(v.previous_plan, plan, "Action ID",
                                            plan_columns(v.previous_plan), C.SHEET_PLAN)
    edits += user_orphans
    for e in edits:
        e.setdefault("Kind", "Orphan")
    targets[C.CHECK_COLUMN] = row_checks(targets, TARGET_COMPUTED)
    segments = seg_table.copy()
    segments[C.CHECK_COLUMN] = row_checks(segments, SEGMENT_COMPUTED)
    plan[C.CHECK_COLUMN] = row_checks(plan, plan_computed)

    moved, changed = change_counts(prev_targets, targets)
    overrides = int(targets["Priority override"].map(
        lambda x: isinstance(x, str) and x != "").sum())
    history_row = {
        "Run at": inp.run_at, "Run by": inp.run_by, "Accounts": len(targets),
        "Segments": len(segments), "Moved segment": moved, "Changed priority": changed,
        "Overrides": overrides, "Engine version": engine_version(),
        "Settings digest": settings_digest(settings),
    }
    history, all_edits = history_tables(inp.previous.history, inp.previous.edits,
                                        history_row, edits, inp.run_at)

    final = targets["Final priority"].value_counts()
    key_figures = {
        "Accounts": len(targets),
        "Customers": int((accounts["Status"] == "Customer").sum()),
        "Prospects": int((accounts["Status"] == "Prospect").sum()),
        "Segments": len(segments),
        "Revenue 12m": float(np.nansum(accounts["Revenue 12m"].to_numpy(float))),
        "Potential": float(np.nansum(accounts["Potential"].to_numpy(float))),
        "P1 accounts": int(final.get("P1", 0)),
        "P2 accounts": int(final.get("P2", 0)),
        "P3 accounts": int(final.get("P3", 0)),
        "Excluded": int(final.get("Exclude", 0)),
        "Overrides": overrides,
        "Conflicts": len(conflicts),
        "Agreement": float(agreement["value"]),
        "Inferred segments": int(seg.inferred.sum()),
        "Planned actions": len(plan),
    }
    return EngineResult(
        settings=settings, segments=segments, abc=abc, abc_counts=abc_counts,
        abc_revenue=abc_revenue, abc_potential=abc_potential, cross_accounts=cross_a,
        cross_revenue=cross_r, cross_potential=cross_p, agreement=agreement,
        conflicts=conflicts, targets=targets, plan=plan, plan_weeks=weeks,
        plan_extra_rows=inp.previous.plan_extra_rows, history=history, edits=all_edits,
        key_figures=key_figures, warnings=v.warnings,
        loose=key_comments(inp.previous.loose, {C.TBL_TARGETS: prev_targets,
                                                C.TBL_SEGMENTS: v.previous_segments,
                                                C.TBL_PLAN: v.previous_plan}),
        merge=inp.previous.merge, merge_files=inp.previous.merge_files,
    )
