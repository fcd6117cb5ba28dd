"""One declaration per setting (engine/settings.py), and every consumer reads it."""
from __future__ import annotations

import dataclasses
import datetime as dt
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from maillon.engine import contract as C
from maillon.engine.errors import InputError
from maillon.engine.model import Settings
from maillon.engine.pipeline import recompute
from maillon.engine.samples import settings_frame, small_input
from maillon.engine.settings import BY_NAME, SETTINGS, default
from maillon.engine.validate import parse_settings, validate
from maillon.workbook_templates.defaults import default_settings

TODAY = dt.date(2026, 11, 26)


def test_each_declaration_fills_one_field_of_the_model():
    fields = [f.name for f in dataclasses.fields(Settings)]
    assert [s.field for s in SETTINGS] == fields
    assert C.SETTINGS is SETTINGS and C.SETTING_NAMES == tuple(s.name for s in SETTINGS)


def test_model_defaults_are_the_declared_defaults_parsed():
    model = Settings(plan_start=dt.date(2026, 11, 30))
    for s in SETTINGS:
        if s.field != "plan_start":
            assert getattr(model, s.field) == default(s.field), s.name
    assert Settings().plan_start == default("plan_start")
    # an empty tblSettings resolves to the model's defaults
    parsed, problems = parse_settings(pd.DataFrame({"Setting": [], "Value": []}), TODAY)
    assert problems == [] and parsed == Settings(plan_start=default("plan_start", TODAY))


def test_template_rows_are_the_declarations():
    frame = default_settings()
    assert frame["Setting"].tolist() == [s.name for s in SETTINGS]
    assert frame["Value"].tolist() == [s.default for s in SETTINGS]
    assert frame["Description"].tolist() == [s.description for s in SETTINGS]
    assert BY_NAME["Segments"].description == \
        "auto, or a whole number from 2 to 12: how many marketing segments"
    # the template's defaults validate, and give the model's defaults
    parsed, problems = parse_settings(frame, TODAY)
    assert problems == [] and parsed == Settings(plan_start=default("plan_start", TODAY))


BAD = [("Segments", 13), ("Segments", 2.5), ("Segments", "many"),
       ("Segment seed", -1), ("Segment seed", 2**32), ("Segment seed", 1e20),
       ("Segment seed", "x"), ("Revenue A share", 1.5), ("P1 share", "ten"),
       ("Plan start", "someday"), ("Plan start", "1899-12-31"), ("Plan start", 0),
       ("Plan weeks", 0), ("Plan weeks", 157), ("Plan weeks", 2.5)]


@pytest.mark.parametrize("name, value", BAD)
def test_a_bad_value_is_reported_by_the_settings_name(name, value):
    frame = pd.DataFrame({"Setting": [name], "Value": [value]}, index=[7])
    _, problems = parse_settings(frame, TODAY)
    assert len(problems) == 1
    text = str(problems[0])
    assert text.startswith("Settings, row 7, column 'Value'")
    assert f"expected {name} to be " in text
    assert BY_NAME[name].allowed() in text


def test_segments_message_says_segments():
    _, problems = parse_settings(settings_frame(Segments=15), TODAY)
    assert "expected Segments to be auto or a whole number from 2 to 12" in str(problems[0])


def test_segment_seed_bounds_are_scikit_learns():
    from sklearn.cluster import KMeans
    from sklearn.utils import check_random_state

    seed = BY_NAME["Segment seed"]
    check_random_state(seed.hi)  # the largest seed accepted is one scikit-learn accepts
    check_random_state(seed.lo)
    with pytest.raises(ValueError):
        check_random_state(seed.hi + 1)
    x = np.arange(12, dtype=float).reshape(6, 2)
    KMeans(2, random_state=seed.hi, n_init=1).fit(x)


@pytest.mark.parametrize("seed", [2**32, 1e20])
def test_a_seed_scikit_learn_refuses_is_refused_before_computing(seed):
    with pytest.raises(InputError, match="Segment seed to be a whole number from 0 to 4294967295"):
        validate(small_input(Segment_seed=seed))


def test_the_largest_seed_recomputes():
    res = recompute(small_input(Segment_seed=2**32 - 1))
    assert res.settings.segment_seed == 2**32 - 1 and len(res.segments) >= 2


def test_segment_accounts_refuses_an_out_of_range_seed():
    from maillon.engine.segment import segment_accounts

    inp = small_input()
    with pytest.raises(ValueError, match="segment_seed"):
        segment_accounts(inp.accounts, inp.expectations, None, Settings(segment_seed=2**32))


@pytest.mark.parametrize("value", ["2300-01-06", dt.date(2300, 1, 6), dt.datetime(2300, 1, 6, 9),
                                   pd.Timestamp("2300-01-06"), np.datetime64("2300-01-06"),
                                   float((dt.date(2300, 1, 6) - dt.date(1899, 12, 30)).days)])
def test_a_plan_start_after_2262_gives_a_plan_of_that_year(value):
    """pandas' nanosecond timestamps end in 2262; the plan must not wrap to 1715."""
    s, problems = parse_settings(settings_frame(Plan_start=value), TODAY)
    assert problems == [] and s.plan_start == dt.date(2300, 1, 6)
    res = recompute(small_input(Plan_start=value))
    assert res.plan_weeks[0] == dt.date(2300, 1, 6)
    assert res.plan_weeks[-1] == dt.date(2300, 1, 6) + dt.timedelta(weeks=25)
    assert res.plan["Start"].min() >= dt.date(2300, 1, 6)


def test_plan_start_is_checked_against_excels_calendar():
    first, last = BY_NAME["Plan start"].lo, BY_NAME["Plan start"].hi
    assert (first, last) == (dt.date(1900, 1, 1), dt.date(9999, 12, 31))
    ok, problems = parse_settings(settings_frame(Plan_start=1), TODAY)
    assert problems == [] and ok.plan_start == first
    # the whole plan must fit: 26 weeks from 9999-07-03 end on 9999-12-31
    latest = last - dt.timedelta(days=7 * 26 - 1)
    ok, problems = parse_settings(settings_frame(Plan_start=latest), TODAY)
    assert problems == [] and ok.plan_start == latest
    res = recompute(small_input(Plan_start=latest))
    assert res.plan_weeks[-1] + dt.timedelta(days=6) == last
    _, problems = parse_settings(settings_frame(Plan_start=latest + dt.timedelta(days=1)), TODAY)
    assert len(problems) == 1 and "Plan start at the latest 9999-07-03" in str(problems[0])
    for value in ("10000-01-01", 2958466, "1899-12-31"):
        _, problems = parse_settings(settings_frame(Plan_start=value), TODAY)
        assert len(problems) == 1, value
        assert "expected Plan start to be a date from 1900-01-01 to 9999-12-31" in str(problems[0])


def test_readme_and_renderer_import_without_scikit_learn():
    code = ("import sys, maillon.addin.render.layout, maillon.workbook_templates.readme_text, "
            "maillon.engine.settings, maillon.engine.weights; "
            "print([m for m in sys.modules if m.startswith(('sklearn', 'scipy'))])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_weights_quoted_by_the_readme_are_the_ones_computed_with():
    from maillon.engine import score, segment, weights

    assert segment.FIT_WEIGHT is weights.FIT_WEIGHT
    assert segment.POTENTIAL_WEIGHT is weights.POTENTIAL_WEIGHT
    assert score.MKT_WEIGHTS is weights.MKT_WEIGHTS and score.SALES_WEIGHTS is weights.SALES_WEIGHTS
    assert (segment.K_MIN, segment.K_MAX) == (BY_NAME["Segments"].lo, BY_NAME["Segments"].hi)
