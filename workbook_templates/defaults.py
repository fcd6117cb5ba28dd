"""What a new Maillon workbook holds before anybody types anything.

Three plain pandas DataFrames, one per user-owned table that ships filled:

* :func:`default_settings` — ``tblSettings``, one row per setting of the
  contract (engine/settings.py) with its default value;
* :func:`default_expectations` — ``tblExpectations``, seven expectations of a
  typical French industrial supplier's customers, as a market study gives them;
* :func:`default_playbook` — ``tblPlaybook``, a sensible set of joint action
  rules that turns priorities and ABC cells into a first plan.

Each call returns a new frame, so callers may change it freely.

Example
-------
>>> from maillon.workbook_templates.defaults import default_settings, default_playbook
>>> default_settings().set_index("Setting").loc["P1 share", "Value"]
0.1
>>> sorted(default_playbook()["Function"].unique())
['Joint', 'Marketing', 'Sales']
"""
from __future__ import annotations

import pandas as pd

from maillon.engine import contract as c
from maillon.engine.settings import SETTINGS

__all__ = ["default_settings", "default_expectations", "default_playbook"]


def default_settings() -> pd.DataFrame:
    """``tblSettings`` as a new workbook ships it: one row per contract setting.

    Names, default values and descriptions come from the declarations of
    :data:`maillon.engine.settings.SETTINGS`, which validation also parses by.

    ``Value`` is an object column: text (``auto``, ``next Monday``, ``EUR``),
    whole numbers, and shares as fractions (0.8 is shown as 80 %).
    """
    frame = pd.DataFrame(
        {
            c.SETTINGS_COLUMNS[0]: [s.name for s in SETTINGS],
            c.SETTINGS_COLUMNS[1]: pd.Series([s.default for s in SETTINGS], dtype=object),
            c.SETTINGS_COLUMNS[2]: [s.description for s in SETTINGS],
        },
        columns=c.SETTINGS_COLUMNS,
    )
    return frame


# Expectation, description, market importance (1-5), our strength (1-5).
_EXPECTATIONS = [
    ("Price", "Competitive unit price and total cost of ownership", 5, 3),
    ("Delivery reliability", "On-time, in-full deliveries and short, firm lead times", 5, 4),
    ("Technical service", "Application engineers on site, fast answers to technical questions", 4, 5),
    ("Innovation", "New materials and products, co-development of new parts", 3, 4),
    ("Sustainability", "Low-carbon products, recycling, CSR reporting and certifications", 4, 2),
    ("Digital ordering", "Web shop, EDI, live stock and order tracking", 3, 2),
    ("Customisation", "Made-to-measure parts, small batches and special finishes", 3, 4),
]
_SOURCE = "Market study 2026, 300 interviews"


def default_expectations() -> pd.DataFrame:
    """``tblExpectations`` as a new workbook ships it: seven B2B expectations."""
    rows = [(name, desc, imp, strength, _SOURCE) for name, desc, imp, strength in _EXPECTATIONS]
    frame = pd.DataFrame(rows, columns=c.EXPECTATION_COLUMNS)
    for col in (c.EXPECTATION_COLUMNS[2], c.EXPECTATION_COLUMNS[3]):
        frame[col] = frame[col].astype("int64")
    return frame


_ALL = "All"
# Priority, Segment, ABC cell, Action, Function, Start week, Duration weeks,
# Repeat every weeks (None = once).
_PLAYBOOK = [
    ("P1", _ALL, "A*", "Key account review with top management", "Sales", 0, 2, 13),
    ("P1", _ALL, "*A", "Joint account plan workshop", "Joint", 1, 2, None),
    ("P1", _ALL, _ALL, "Personalised offer on the segment's top need", "Sales", 3, 3, None),
    ("P1", _ALL, _ALL, "Invitation to our trade show stand", "Joint", 10, 2, None),
    (_ALL, _ALL, "CA", "Upsell visit with a product demo", "Sales", 2, 3, None),
    (_ALL, _ALL, "PA", "Demo or factory visit for the prospect", "Sales", 2, 4, None),
    (_ALL, _ALL, "AC", "Satisfaction call to secure the relationship", "Sales", 4, 1, 13),
    ("P2", _ALL, _ALL, "Targeted email campaign on segment's top need", "Marketing", 0, 1, 4),
    ("P2", _ALL, "A*", "Quarterly business review", "Sales", 1, 1, 13),
    ("P2", _ALL, "*B", "Webinar on the segment's top need", "Marketing", 5, 1, 8),
    ("P2", _ALL, "B*", "Customer case study for the segment", "Marketing", 6, 4, None),
    ("P3", _ALL, _ALL, "Newsletter", "Marketing", 0, 1, 8),
    ("P3", _ALL, "P*", "Qualification call: confirm needs and potential", "Sales", 4, 6, None),
]


def default_playbook() -> pd.DataFrame:
    """``tblPlaybook`` as a new workbook ships it: thirteen joint action rules.

    Week columns are whole numbers; ``Repeat every weeks`` is blank (``<NA>``)
    for an action that runs once.
    """
    frame = pd.DataFrame(_PLAYBOOK, columns=c.PLAYBOOK_COLUMNS)
    for col in c.PLAYBOOK_COLUMNS[5:7]:
        frame[col] = frame[col].astype("int64")
    frame[c.PLAYBOOK_COLUMNS[7]] = pd.array([rule[7] for rule in _PLAYBOOK], dtype="Int64")
    return frame
