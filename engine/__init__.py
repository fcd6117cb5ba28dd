"""The pure core of Maillon: validate, segment, classify, reconcile, rank, plan.

No Excel, no files, no xlwings: pandas DataFrames in, DataFrames out.
"""
from .model import EngineInput, EngineResult, InputError, PreviousState, Problem, Settings

__all__ = ["EngineInput", "EngineResult", "InputError", "PreviousState", "Problem", "Settings"]
