"""The weights of Maillon's formulas, which the Read Me quotes.

Kept apart from the modules that compute with them (``segment.py`` imports
scikit-learn and scipy, ``score.py`` pandas) so that the text of the Read Me,
and the renderer that lays it out, can quote them without importing either.
This module imports nothing.

>>> from maillon.engine.weights import FIT_WEIGHT, POTENTIAL_WEIGHT, SALES_WEIGHTS
>>> FIT_WEIGHT + POTENTIAL_WEIGHT, round(sum(SALES_WEIGHTS.values()), 12)
(1.0, 1.0)
"""
from __future__ import annotations

__all__ = ["FIT_WEIGHT", "POTENTIAL_WEIGHT", "MKT_WEIGHTS", "SALES_WEIGHTS"]

# Attractiveness = 100 × (FIT_WEIGHT × fit + POTENTIAL_WEIGHT × potential share)
FIT_WEIGHT = 0.5
POTENTIAL_WEIGHT = 0.5

# Joint score: the marketing view and the sales view, each a weighted sum of
# components in 0–1 (see ``score.py``).
MKT_WEIGHTS = {"attractiveness": 0.5, "fit": 0.5}
SALES_WEIGHTS = {"revenue": 0.30, "potential": 0.35, "relationship": 0.15, "intent": 0.20}
