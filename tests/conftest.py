"""Shared set-up of the test suite.

pytest puts this folder on ``sys.path`` because it holds this ``conftest.py``
(its default ``prepend`` import mode), so tests import their helper modules
(``workbooks``, ``realclients``, ``engine_result_factory``, ``live_fakes``,
``golden``) by their plain names; no test edits ``sys.path``. The package under
test is the installed ``maillon`` (``pip install -e .``).
"""
from __future__ import annotations

import pytest


def pytest_report_header(config):
    import maillon

    return f"maillon {maillon.__version__} from {maillon.__file__}"


@pytest.fixture
def fixed_run_at():
    """The clock of tests that compare a recompute with a stored result."""
    import datetime as dt

    return dt.datetime(2026, 11, 23, 9, 30)
