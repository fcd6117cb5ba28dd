"""The engine's inputs and outputs: plain dataclasses of pandas DataFrames.

Row numbers: every input DataFrame's index is the row number a user sees for
that row (the Excel row number when the shell read it from a sheet). The engine
never renumbers; it quotes ``df.index`` in its messages. A DataFrame built by
hand with a default ``RangeIndex`` simply gets 0-based row numbers.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pandas as pd

from .settings import default, next_monday

__all__ = ["Settings", "PreviousState", "EngineInput", "EngineResult", "next_monday"]


@dataclass
class Settings:
    """Settings resolved from ``tblSettings`` (shares as fractions 0–1).

    Each field is declared once, with its type, bounds and default, in
    :data:`maillon.engine.settings.SETTINGS`; the defaults below come from there.

    >>> Settings().segments is None, Settings().plan_weeks
    (True, 26)
    """

    segments: int | None = default("segments")  # None means auto
    segment_seed: int = default("segment_seed")
    revenue_a_share: float = default("revenue_a_share")
    revenue_b_share: float = default("revenue_b_share")
    potential_a_share: float = default("potential_a_share")
    potential_b_share: float = default("potential_b_share")
    marketing_weight: float = default("marketing_weight")
    p1_share: float = default("p1_share")
    p2_share: float = default("p2_share")
    plan_start: dt.date = field(default_factory=lambda: default("plan_start"))
    plan_weeks: int = default("plan_weeks")
    currency: str = default("currency")


@dataclass
class PreviousState:
    """What the previous recompute left in the workbook, as read back.

    Every field may be ``None`` (first recompute). Frames hold the engine-owned
    tables exactly as the user left them, edits included.
    """

    segments: pd.DataFrame | None = None  # tblSegments
    targets: pd.DataFrame | None = None  # tblTargets
    plan: pd.DataFrame | None = None  # tblPlan
    plan_extra_rows: pd.DataFrame | None = None  # rows a user added below tblPlan
    history: pd.DataFrame | None = None  # tblHistory
    edits: pd.DataFrame | None = None  # tblEdits
    # cells typed outside the engine's tables and comments on engine sheets
    # (columns: maillon.engine.loose.LOOSE_COLUMNS)
    loose: pd.DataFrame | None = None
    merge: pd.DataFrame | None = None  # tblMerge (after a merge), carried to the result
    merge_files: pd.DataFrame | None = None  # tblMergeFiles


@dataclass
class EngineInput:
    settings: pd.DataFrame
    expectations: pd.DataFrame
    accounts: pd.DataFrame
    feedback: pd.DataFrame
    playbook: pd.DataFrame
    previous: PreviousState = field(default_factory=PreviousState)
    run_at: dt.datetime = field(default_factory=lambda: dt.datetime.now().replace(microsecond=0))
    run_by: str = ""


@dataclass
class EngineResult:
    """Every engine-owned table of the contract, ready to render."""

    settings: Settings
    segments: pd.DataFrame  # tblSegments (+ CHECK_COLUMN)
    abc: pd.DataFrame  # tblAbc, 12 rows AA..PC
    abc_counts: pd.DataFrame  # 4x3 grid: index A,B,C,P; columns A,B,C
    abc_revenue: pd.DataFrame  # same grid, Revenue 12m
    abc_potential: pd.DataFrame  # same grid, Potential
    cross_accounts: pd.DataFrame  # index Segment ID, columns the 12 ABC cells
    cross_revenue: pd.DataFrame
    cross_potential: pd.DataFrame
    agreement: dict  # {"name", "value" (0-1), "explanation"}
    conflicts: pd.DataFrame  # tblConflicts
    targets: pd.DataFrame  # tblTargets (+ CHECK_COLUMN)
    plan: pd.DataFrame  # tblPlan: fixed columns then one column per week
    plan_weeks: list  # the Monday (datetime.date) of each week column, in order
    plan_extra_rows: pd.DataFrame | None  # passed through from PreviousState
    history: pd.DataFrame  # tblHistory, previous rows + this run's row
    edits: pd.DataFrame  # tblEdits, previous rows + this run's orphans/overwrites
    key_figures: dict  # name -> value for the Dashboard
    warnings: list = field(default_factory=list)
    # what PreviousState.loose held, comments keyed by the row they sat on
    loose: pd.DataFrame | None = None
    merge: pd.DataFrame | None = None  # tblMerge: the last merge's report (None: never merged)
    merge_files: pd.DataFrame | None = None  # tblMergeFiles

    def summary(self) -> str:
        k = self.key_figures
        return (f"{k['Accounts']} accounts, {k['Segments']} segments, "
                f"{k['P1 accounts']} P1, {k['Conflicts']} conflicts, "
                f"agreement {k['Agreement']:.0%}")
