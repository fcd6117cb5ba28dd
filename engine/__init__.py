"""The pure core of Maillon: validate, segment, classify, reconcile, rank, plan.

No Excel, no files, no xlwings: pandas DataFrames in, DataFrames out.

The model's classes are imported on first use (``maillon.engine.EngineInput``
imports pandas then), so that ``maillon.engine.contract`` and
``maillon.engine.errors`` stay cheap to import.
"""
from .errors import InputError, Problem

__all__ = ["EngineInput", "EngineResult", "InputError", "PreviousState", "Problem", "Settings"]

_MODEL = {"EngineInput", "EngineResult", "PreviousState", "Settings"}


def __getattr__(name: str):
    if name in _MODEL:
        from . import model

        return getattr(model, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
