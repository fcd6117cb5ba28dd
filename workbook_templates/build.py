"""Build the Maillon template workbook from the code that knows the contract.

:func:`build_template` writes the six user-owned sheets with their defaults
(settings, expectations, playbook), empty ``Accounts`` and ``Field Feedback``
tables, and whatever the engine hook adds. The shipped
``workbook_templates/maillon_template.xlsx`` gets the engine-owned sheets
rendered empty by the renderer: ``python -m maillon.addin.filemode.template``
(``make template``) regenerates it. This package imports the engine only,
never ``maillon.addin``.

The output is deterministic: document properties carry a fixed date and
XlsxWriter stamps every zip member with the same 1980 date, so the same code
gives the same member contents. :func:`member_digests` compares packages by
content, never by raw bytes.

Example
-------
>>> import tempfile, pathlib
>>> from maillon.workbook_templates.build import build_template, member_digests
>>> with tempfile.TemporaryDirectory() as tmp:
...     a = build_template(pathlib.Path(tmp) / "a.xlsx")
...     b = build_template(pathlib.Path(tmp) / "b.xlsx")
...     member_digests(a) == member_digests(b)
True
"""
from __future__ import annotations

import datetime as dt
import hashlib
import zipfile
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import xlsxwriter

from maillon.engine import contract as c
from maillon.workbook_templates.defaults import (default_expectations, default_playbook,
                                                 default_settings)
from maillon.workbook_templates.user_sheets import write_user_sheets

__all__ = ["build_template", "build_demo", "empty_result",
           "member_digests", "TEMPLATE_PATH", "TEMPLATE_CREATED"]

TEMPLATE_PATH = Path(__file__).with_name("maillon_template.xlsx")
# Fixed document date: the same code always gives the same template.
TEMPLATE_CREATED = dt.datetime(2026, 1, 5, 9, 0, 0)

EngineHook = Callable[[xlsxwriter.Workbook], None]


def _properties() -> dict:
    return {
        "title": "Maillon workbook",
        "subject": "Marketing segments and the sales ABC matrix, reconciled",
        "author": "Maillon",
        "manager": "",
        "company": "",
        "category": "Maillon template",
        "keywords": "Maillon, segmentation, ABC, target list, action plan",
        "comments": f"Maillon workbook contract v{c.CONTRACT_VERSION}. "
                    "Yellow cells are yours to edit; see the Read Me sheet.",
        "created": TEMPLATE_CREATED,
    }


def build_template(path, add_engine_sheets: EngineHook | None = None, *,
                   expectations: pd.DataFrame | None = None,
                   settings: pd.DataFrame | None = None,
                   playbook: pd.DataFrame | None = None) -> Path:
    """Write a new, empty Maillon workbook to ``path`` and return the path.

    Parameters
    ----------
    path : str or Path
        Where to write the ``.xlsx``.
    add_engine_sheets : callable or None
        Called as ``add_engine_sheets(workbook)`` after the user-owned sheets
        are written and before the workbook is closed, to add the engine-owned
        sheets (rendered empty). ``None`` leaves them out.
    expectations, settings, playbook : DataFrame or None
        Override the defaults of :mod:`maillon.workbook_templates.defaults`.
    """
    if add_engine_sheets is not None and not callable(add_engine_sheets):
        raise TypeError("add_engine_sheets: expected a callable taking the workbook, "
                        f"got {type(add_engine_sheets).__name__}.")
    path = Path(path)
    workbook = xlsxwriter.Workbook(str(path))
    try:
        workbook.set_properties(_properties())
        workbook.set_custom_property("Maillon contract", str(c.CONTRACT_VERSION))
        write_user_sheets(
            workbook,
            default_expectations() if expectations is None else expectations,
            accounts=None,
            feedback=None,
            settings=default_settings() if settings is None else settings,
            playbook=default_playbook() if playbook is None else playbook,
        )
        if add_engine_sheets is not None:
            add_engine_sheets(workbook)
    finally:
        workbook.close()
    return path


def empty_result():
    """The engine's result on the default tables with no accounts yet.

    Rendered into the template, it gives every engine-owned sheet and table of
    the contract, empty, so formulas can be written against them before the
    first recompute.
    """
    from maillon.engine.model import EngineInput
    from maillon.engine.pipeline import recompute
    from maillon.workbook_templates.user_sheets import account_columns

    expectations = default_expectations()
    result = recompute(EngineInput(
        settings=default_settings(), expectations=expectations,
        accounts=pd.DataFrame(columns=account_columns(expectations)),
        feedback=pd.DataFrame(columns=c.FEEDBACK_COLUMNS),
        playbook=default_playbook(), run_at=TEMPLATE_CREATED, run_by=""))
    result.history = result.history.iloc[:0]
    return result


def build_demo(path, n_accounts: int = 2000, seed: int = 7, as_of: dt.date | None = None) -> Path:
    """Write a workbook holding a demo portfolio in its user-owned sheets (not yet recomputed)."""
    from maillon.workbook_templates.demo_portfolio import generate_portfolio

    path = Path(path)
    expectations = default_expectations()
    accounts, feedback = generate_portfolio(n_accounts, expectations=expectations, seed=seed,
                                            as_of=as_of or dt.date.today())
    workbook = xlsxwriter.Workbook(str(path))
    try:
        props = _properties()
        props.update(title="Maillon demo workbook", category="Maillon demo",
                     created=dt.datetime.combine(as_of or dt.date.today(), dt.time(9)))
        workbook.set_properties(props)
        write_user_sheets(workbook, expectations, accounts=accounts, feedback=feedback,
                          settings=default_settings(), playbook=default_playbook())
    finally:
        workbook.close()
    return path


def member_digests(path) -> dict[str, str]:
    """SHA-256 of every member of a zip package, by member name.

    Two workbooks with equal digests hold the same parts with the same bytes,
    whatever the zip timestamps or compression say.
    """
    out = {}
    with zipfile.ZipFile(path) as zf:
        for info in zf.infolist():
            out[info.filename] = hashlib.sha256(zf.read(info)).hexdigest()
    return out
