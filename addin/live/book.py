"""What the open workbook holds -- its sheets and tables -- surveyed once per recompute.

Reading and writing both need every sheet and every table of the workbook
(a table may sit on any sheet). Walking ``book.sheets`` and each
``sheet.tables`` costs Excel round trips per sheet and per table, so
:func:`survey` walks them once and both :mod:`read` and :mod:`write` use the
result. The reader adds each table's address as it reads it, so the writer
does not ask Excel again.

Example
-------
::

    found = survey(xw.Book.caller())
    found.tables["tbltargets"].sheet_name   # 'Target List'
"""
from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["TableInfo", "Survey", "survey"]


@dataclass
class TableInfo:
    """One table of the workbook."""

    name: str
    sheet_name: str
    sheet: object  # xlwings.Sheet
    table: object  # xlwings.Table
    address: str | None = None  # '$A$4:$Q$1004' once known


@dataclass
class Survey:
    """The workbook's sheets and tables, by lower-case name."""

    book: object
    sheets: dict = field(default_factory=dict)  # lower name -> (name, xlwings.Sheet)
    tables: dict = field(default_factory=dict)  # lower name -> TableInfo
    #: lower sheet name -> the rectangles of its hidden engine-area name as the reader found
    #: them (None: the sheet has none), so that the writer leaves an unchanged one alone
    engine_areas: dict = field(default_factory=dict)

    def sheet_names(self) -> list[str]:
        return [name for name, _ in self.sheets.values()]

    def add_sheet(self, name: str, sheet) -> None:
        self.sheets[name.lower()] = (name, sheet)


def survey(book) -> Survey:
    """Every sheet and table of ``book`` (an ``xlwings.Book``)."""
    found = Survey(book)
    for sheet in book.sheets:
        name = sheet.name
        found.add_sheet(name, sheet)
        for table in sheet.tables:
            tname = table.name
            found.tables[tname.lower()] = TableInfo(tname, name, sheet, table)
    return found
