"""What the engine says about bad input: a :class:`Problem` per thing wrong, and
the :class:`InputError` that carries them all.

Kept apart from the model (and free of pandas) so that a shell can catch the
error before it has imported the engine.
"""
from __future__ import annotations

from dataclasses import dataclass

from .cells import is_blank


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input, in words a manager understands."""

    sheet: str
    table: str
    row: object  # the row number a user sees, or None for a whole-table problem
    column: str | None
    value: object
    expected: str

    def __str__(self) -> str:
        where = f"{self.sheet}"
        if self.row is not None:
            where += f", row {self.row}"
        if self.column:
            where += f", column '{self.column}'"
        if is_blank(self.value):
            got = "is blank"
        else:
            got = f"has {self.value!r}"
        if self.row is None and self.column is None:
            return f"{where} ({self.table}): {self.expected}"
        return f"{where} ({self.table}) {got}: expected {self.expected}"


class InputError(ValueError):
    """Raised when the input cannot be trusted; carries every problem found."""

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        lines = [str(p) for p in self.problems]
        head = f"{len(lines)} problem(s) in the workbook; nothing was changed."
        super().__init__("\n".join([head, *("- " + line for line in lines)]))
