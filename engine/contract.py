"""The workbook contract (v1) in code: sheet, table and header names, settings.

This module is the single place where the names of ``CONTRACT.md`` live. The
engine validates against it, the renderer writes it and the template is
generated from it. Names here are never renamed or dropped; the contract may
only grow.
"""
from __future__ import annotations

CONTRACT_VERSION = 1

# --- sheets -----------------------------------------------------------------
SHEET_README = "Read Me"
SHEET_SETTINGS = "Settings"
SHEET_EXPECTATIONS = "Expectations"
SHEET_ACCOUNTS = "Accounts"
SHEET_FEEDBACK = "Field Feedback"
SHEET_PLAYBOOK = "Playbook"

SHEET_SEGMENTS = "Segments"
SHEET_ABC = "ABC Matrix"
SHEET_RECONCILIATION = "Reconciliation"
SHEET_TARGETS = "Target List"
SHEET_PLAN = "Action Plan"
SHEET_DASHBOARD = "Dashboard"
SHEET_HISTORY = "History"

USER_SHEETS = (SHEET_README, SHEET_SETTINGS, SHEET_EXPECTATIONS, SHEET_ACCOUNTS,
               SHEET_FEEDBACK, SHEET_PLAYBOOK)
ENGINE_SHEETS = (SHEET_SEGMENTS, SHEET_ABC, SHEET_RECONCILIATION, SHEET_TARGETS,
                 SHEET_PLAN, SHEET_DASHBOARD, SHEET_HISTORY)

# --- user-owned tables ------------------------------------------------------
TBL_SETTINGS = "tblSettings"
TBL_EXPECTATIONS = "tblExpectations"
TBL_ACCOUNTS = "tblAccounts"
TBL_FEEDBACK = "tblFeedback"
TBL_PLAYBOOK = "tblPlaybook"

SETTINGS_COLUMNS = ["Setting", "Value", "Description"]
EXPECTATION_COLUMNS = ["Expectation", "Description", "Market importance",
                       "Our strength", "Source"]
ACCOUNT_COLUMNS = ["Account ID", "Account name", "Status", "Industry", "Region",
                   "City", "Employees", "Sales owner", "Revenue 12m", "Potential",
                   "Last contact"]
NEED_PREFIX = "Need: "
FEEDBACK_COLUMNS = ["Account ID", "Date", "Sales rep", "Main need", "Relationship",
                    "Buying intent", "Competitor", "Note"]
PLAYBOOK_COLUMNS = ["Priority", "Segment", "ABC cell", "Action", "Function",
                    "Start week", "Duration weeks", "Repeat every weeks"]

STATUSES = ("Customer", "Prospect")
BUYING_INTENTS = ("Low", "Medium", "High")
FUNCTIONS = ("Marketing", "Sales", "Joint")
PRIORITIES = ("P1", "P2", "P3")
OVERRIDES = ("P1", "P2", "P3", "Exclude")
PLAYBOOK_PRIORITIES = ("P1", "P2", "P3", "All")

# --- engine-owned tables ----------------------------------------------------
TBL_SEGMENTS = "tblSegments"
TBL_ABC = "tblAbc"
TBL_CONFLICTS = "tblConflicts"
TBL_TARGETS = "tblTargets"
TBL_PLAN = "tblPlan"
TBL_HISTORY = "tblHistory"
# Extension of the contract: one row per orphaned or overwritten edit.
TBL_EDITS = "tblEdits"
ENGINE_TABLES = (TBL_SEGMENTS, TBL_ABC, TBL_CONFLICTS, TBL_TARGETS, TBL_PLAN, TBL_HISTORY,
                 TBL_EDITS)

SEGMENT_COLUMNS = ["Segment ID", "Segment name", "Marketing owner", "Accounts",
                   "Customers", "Prospects", "Revenue 12m", "Potential",
                   "Attractiveness", "Portrait", "Top needs", "Differentiators"]
SEGMENT_EDITABLE = ["Segment name", "Marketing owner"]

ABC_COLUMNS = ["ABC cell", "Revenue class", "Potential class", "Accounts",
               "Revenue 12m", "Potential", "Sales posture"]
REVENUE_CLASSES = ("A", "B", "C", "P")
POTENTIAL_CLASSES = ("A", "B", "C")
ABC_CELLS = tuple(r + p for r in REVENUE_CLASSES for p in POTENTIAL_CLASSES)

CONFLICT_COLUMNS = ["Account ID", "Account name", "Segment ID", "ABC cell",
                    "Conflict", "Suggested resolution"]

TARGET_COLUMNS = ["Rank", "Account ID", "Account name", "Status", "Segment ID",
                  "Segment name", "ABC cell", "Score", "Computed priority",
                  "Priority override", "Override reason", "Final priority", "Why",
                  "Qualification", "Sales owner", "Marketing owner", "Next action"]
TARGET_EDITABLE = ["Priority override", "Override reason"]

PLAN_FIXED_COLUMNS = ["Action ID", "Priority", "Segment ID", "Action", "Function",
                      "Marketing owner", "Sales owner", "Accounts", "Start", "End",
                      "Status"]
PLAN_EDITABLE = ["Status"]
PLAN_STATUSES = ("Not started", "In progress", "Done", "Blocked", "Cancelled")

HISTORY_COLUMNS = ["Run at", "Run by", "Accounts", "Segments", "Moved segment",
                   "Changed priority", "Overrides", "Engine version",
                   "Settings digest"]
EDIT_COLUMNS = ["Run at", "Kind", "Sheet", "Key", "Column", "Value", "Note"]

# Extension of the contract (issue 13): the Merge sheet, engine-owned, written by
# ``maillon merge`` and carried by every recompute. It is not in ENGINE_SHEETS:
# a workbook has it only once it has been merged.
SHEET_MERGE = "Merge"
TBL_MERGE = "tblMerge"
TBL_MERGE_FILES = "tblMergeFiles"
# tblMerge: these columns, then one column per file merged (headed by its label,
# the value that file holds), then MERGE_TAIL_COLUMNS
MERGE_COLUMNS = ["Merged at", "Sheet", "Key", "Name", "Column", "Kind", "Base value"]
MERGE_TAIL_COLUMNS = ["Value kept", "Decision", "Applied"]
MERGE_FILE_COLUMNS = ["Merged at", "Label", "File", "Role", "Last modified by", "Modified",
                      "Base run"]
# Decision: a file's label (take its value), or one of these
DECISION_BASE = "Base"
DECISION_KEEP_ROW = "Keep row"
DECISION_DELETE_ROW = "Delete row"

# A hidden trailing column on tables with editable columns: a digest of the
# computed cells of the row as written, so that a value typed into a computed
# column is detected on the next recompute and reported as overwritten.
CHECK_COLUMN = "Row check"

# A hidden trailing column of tblHistory, filled on the row of the run that wrote the
# engine sheets: a digest of each cell the engine wrote outside its tables, box by box of
# each sheet's hidden name Maillon_EngineCells, so that a value typed over one of them
# (a Dashboard figure, a title) is detected on the next recompute and reported in
# tblEdits as overwritten (see maillon.engine.loose.cells_check).
CELLS_CHECK_COLUMN = "Cells check"


# --- import (contract "Added since v1") ---------------------------------------
# Written by ``maillon import`` only, never by a recompute (so not in ENGINE_SHEETS, whose
# sheets every recompute re-renders): Import Review is engine-owned, re-rendered by every
# import; Import Mapping is created by the first import that needs it and is the user's
# from then on.
SHEET_IMPORT_REVIEW = "Import Review"
SHEET_IMPORT_MAPPING = "Import Mapping"
TBL_IMPORT_REVIEW = "tblImportReview"
TBL_IMPORT_MAPPING = "tblImportMapping"
IMPORT_MAPPING_COLUMNS = ["Source", "Column in file", "Maps to", "Found by", "Confirmed"]
IMPORT_REVIEW_COLUMNS = ["Review ID", "Kind", "Cluster", "Score", "Evidence", "Account ID",
                         "Listed: name", "Listed: city", "Listed: SIREN", "Incoming: source",
                         "Incoming: row", "Incoming: name", "Incoming: city", "Incoming: SIREN",
                         "Column", "Listed value", "Incoming value", "Decision", "Record"]
IMPORT_REVIEW_EDITABLE = ["Decision"]
IMPORT_DECISIONS = ("Same", "Different", "Use incoming", "Keep current")


# --- settings ---------------------------------------------------------------
# Declared once, with their types, defaults and bounds, in ``settings.py``;
# named here too because the setting names are part of the contract.
from .settings import SETTING_NAMES, SETTINGS, Setting  # noqa: E402, F401 - part of the contract

SettingSpec = Setting  # the former name of a declaration


def need_column(expectation: str) -> str:
    """Column of ``tblAccounts`` that holds an account's need for an expectation."""
    return f"{NEED_PREFIX}{expectation}"
