"""The engine-owned sheets look exactly as they did when the snapshot was taken.

A refactoring of the renderer or the writers must not change what a user sees.
Two workbooks are built as users get them (the 2,000-account demo and a
10,000-account portfolio), recomputed twice a week apart with a fixed clock,
and described by :func:`golden.describe`: values, number formats, fonts,
fills, borders, alignment, widths, tables, conditional formats, validations,
charts, print setup, panes and defined names. The description must equal the
snapshot in ``tests/golden/`` (the demo in full, the 10k one as digests).

A change that is meant to change the sheets regenerates the snapshot on purpose:
``MAILLON_WRITE_GOLDEN=1 .venv/bin/python -m pytest tests/test_golden.py``,
and says so in its commit.
"""
from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

import pytest

import golden
from maillon.addin.filemode import recompute_file
from maillon.workbook_templates.build import build_demo

HERE = Path(__file__).with_name("golden")
WRITE = os.environ.get("MAILLON_WRITE_GOLDEN") == "1"
FIRST = dt.datetime(2026, 11, 23, 9, 30)
WEEKLY = dt.datetime(2026, 11, 30, 9, 15)


def _recomputed(folder: Path, n_accounts: int, seed: int) -> Path:
    path = build_demo(folder / f"golden-{n_accounts}.xlsx", n_accounts=n_accounts, seed=seed,
                      as_of=dt.date(2026, 11, 20))
    recompute_file(path, run_at=FIRST, run_by="claire")
    recompute_file(path, run_at=WEEKLY, run_by="hugo")
    return path


def test_demo_workbook_matches_its_snapshot(tmp_path):
    description = golden.describe(_recomputed(tmp_path, 2000, 7))
    snapshot = HERE / "demo-2000.json.gz"
    if WRITE:
        HERE.mkdir(exist_ok=True)
        golden.save(description, snapshot)
    expected = golden.load(snapshot)
    assert golden.first_difference(expected, description) is None
    # the snapshot is of a recomputed workbook, not an empty one
    assert len(expected["Target List"]["cells"]) > 2000 * 15
    assert expected["Dashboard"]["charts"]


def test_10k_workbook_matches_its_snapshot(tmp_path):
    digests = golden.digests(golden.describe(_recomputed(tmp_path, 10_000, 11)))
    snapshot = HERE / "planted-10k.digests.json"
    if WRITE:
        HERE.mkdir(exist_ok=True)
        snapshot.write_text(json.dumps(digests, indent=1, sort_keys=True) + "\n")
    expected = json.loads(snapshot.read_text())
    changed = sorted(k for k in expected.keys() | digests.keys()
                     if expected.get(k) != digests.get(k))
    assert changed == []


@pytest.mark.parametrize("aspect", ["charts", "tables", "conditional", "validations",
                                    "pageSetup", "headerFooter"])
def test_the_snapshot_covers_each_aspect(aspect):
    expected = golden.load(HERE / "demo-2000.json.gz")
    assert any(sheet.get(aspect) for sheet in expected.values() if isinstance(sheet, dict))
