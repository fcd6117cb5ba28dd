"""What both ways in share: which tables to read, and how they become engine input.

The file mode reads tables with python-calamine, the live mode through
xlwings; both hand this module a mapping ``table name -> DataFrame`` (headers
as columns, the Excel row number of each data row as index) and get the same
:class:`~maillon.engine.model.EngineInput`.
"""
from __future__ import annotations

import datetime as dt
import getpass
from typing import TYPE_CHECKING

from maillon.engine import contract as C

if TYPE_CHECKING:
    import pandas as pd

    from maillon.engine.model import EngineInput

#: user-owned tables: (sheet, table); all are required
USER_TABLES = (
    (C.SHEET_SETTINGS, C.TBL_SETTINGS),
    (C.SHEET_EXPECTATIONS, C.TBL_EXPECTATIONS),
    (C.SHEET_ACCOUNTS, C.TBL_ACCOUNTS),
    (C.SHEET_FEEDBACK, C.TBL_FEEDBACK),
    (C.SHEET_PLAYBOOK, C.TBL_PLAYBOOK),
)
#: engine-owned tables read back before a recompute (absent on the first one)
PREVIOUS_TABLES = (
    (C.SHEET_SEGMENTS, C.TBL_SEGMENTS),
    (C.SHEET_TARGETS, C.TBL_TARGETS),
    (C.SHEET_PLAN, C.TBL_PLAN),
    (C.SHEET_HISTORY, C.TBL_HISTORY),
    (C.SHEET_HISTORY, C.TBL_EDITS),
    (C.SHEET_MERGE, C.TBL_MERGE),
    (C.SHEET_MERGE, C.TBL_MERGE_FILES),
)
TABLES_TO_READ = tuple(t for _, t in USER_TABLES + PREVIOUS_TABLES)


def current_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no user name in this environment
        return ""


def build_engine_input(tables: dict, plan_extra_rows: pd.DataFrame | None = None,
                       run_by: str | None = None, run_at: dt.datetime | None = None,
                       loose: list | None = None) -> EngineInput:
    """Engine input from the tables read in a workbook (a missing table is ``None``).

    ``loose`` holds what a user typed on the engine sheets outside their tables
    and the comments on them (dicts of ``maillon.engine.loose.LOOSE_COLUMNS``).
    """
    # imported here: the file mode names the tables to read (above) before
    # pandas is imported, so that the import overlaps the read
    import pandas as pd

    from maillon.engine.loose import LOOSE_COLUMNS
    from maillon.engine.model import EngineInput, PreviousState

    return EngineInput(
        settings=tables.get(C.TBL_SETTINGS),
        expectations=tables.get(C.TBL_EXPECTATIONS),
        accounts=tables.get(C.TBL_ACCOUNTS),
        feedback=tables.get(C.TBL_FEEDBACK),
        playbook=tables.get(C.TBL_PLAYBOOK),
        previous=PreviousState(
            segments=tables.get(C.TBL_SEGMENTS),
            targets=tables.get(C.TBL_TARGETS),
            plan=tables.get(C.TBL_PLAN),
            plan_extra_rows=plan_extra_rows,
            history=tables.get(C.TBL_HISTORY),
            edits=tables.get(C.TBL_EDITS),
            loose=pd.DataFrame(loose, columns=LOOSE_COLUMNS, dtype=object) if loose else None,
            merge=tables.get(C.TBL_MERGE),
            merge_files=tables.get(C.TBL_MERGE_FILES),
        ),
        run_at=run_at or dt.datetime.now().replace(microsecond=0),
        run_by=current_user() if run_by is None else run_by,
    )
