"""Workbooks as users make them, for tests that go through real files."""
from __future__ import annotations

import io
import struct
import zlib
import datetime as dt
import posixpath
import zipfile
from pathlib import Path, PurePosixPath

import xlsxwriter

from maillon.addin.render.layout import layout
from maillon.addin.filemode.write import write_specs
from maillon.workbook_templates.build import empty_result
from maillon.workbook_templates.defaults import (default_expectations, default_playbook,
                                                 default_settings)
from maillon.workbook_templates.demo_portfolio import generate_portfolio
from maillon.workbook_templates.user_sheets import write_user_sheets

def _png(width: int = 8, height: int = 8, rgb=(200, 30, 30)) -> bytes:
    """A small, valid PNG of one colour."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    raw = b"".join(b"\x00" + bytes(rgb) * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n"
            + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


PNG = _png()
USER_SHEET = "My analysis"
P1_FORMULA = '=COUNTIF(tblTargets[Final priority],"P1")'


def portfolio(n_accounts: int = 300, seed: int = 3):
    return generate_portfolio(n_accounts, expectations=default_expectations(), seed=seed,
                              as_of=dt.date(2026, 11, 20))


def build_workbook(path: Path, n_accounts: int = 300, *, accounts=None, feedback=None,
                   with_engine_sheets: bool = True, user_extras: bool = True,
                   vba: Path | None = None) -> Path:
    """A team workbook: user-owned sheets with a portfolio, the engine-owned sheets
    as the template ships them, and (``user_extras``) a sheet of the user's own with
    a native chart, an image, a comment, a defined name and a formula on tblTargets."""
    if accounts is None:
        accounts, feedback = portfolio(n_accounts)
    wb = xlsxwriter.Workbook(str(path))
    try:
        write_user_sheets(wb, default_expectations(), accounts=accounts, feedback=feedback,
                          settings=default_settings(), playbook=default_playbook())
        if with_engine_sheets:
            write_specs(wb, layout(empty_result()))
        if user_extras:
            ws = wb.add_worksheet(USER_SHEET)
            ws.write_string(0, 0, "P1 accounts")
            ws.write_formula(0, 1, P1_FORMULA)
            ws.write_string(1, 0, "Accounts")
            ws.write_formula(1, 1, "=ROWS(tblAccounts[Account ID])")
            ws.write_comment(0, 0, "Counts the P1 rows of the Target List")
            ws.insert_image(4, 4, "logo.png", {"image_data": io.BytesIO(PNG)})
            for i, (label, value) in enumerate([("North", 12), ("South", 7), ("East", 9)]):
                ws.write_string(10 + i, 0, label)
                ws.write_number(10 + i, 1, value)
            chart = wb.add_chart({"type": "column"})
            chart.add_series({"name": "Visits", "categories": f"='{USER_SHEET}'!$A$11:$A$13",
                              "values": f"='{USER_SHEET}'!$B$11:$B$13"})
            ws.insert_chart(4, 8, chart)
            wb.define_name("VisitCounts", f"='{USER_SHEET}'!$B$11:$B$13")
        if vba is not None:
            wb.add_vba_project(str(vba))
    finally:
        wb.close()
    return path


def _rels_part(part: str) -> str:
    p = PurePosixPath(part)
    return str(p.parent / "_rels" / (p.name + ".rels"))


def parts_of_sheets(path: Path, sheet_names: list[str]) -> set[str]:
    """Every package part that belongs to the named sheets: the sheet, its rels and
    everything they reach (drawings, charts, images, comments, tables)."""
    import re

    with zipfile.ZipFile(path) as zf:
        names = set(zf.namelist())
        wb = zf.read("xl/workbook.xml").decode()
        rels = zf.read("xl/_rels/workbook.xml.rels").decode()
        targets = {m.group(1): m.group(2) for m in re.finditer(
            r'<Relationship[^>]*?Id="([^"]+)"[^>]*?Target="([^"]+)"', rels)}
        targets.update({m.group(2): m.group(1) for m in re.finditer(
            r'<Relationship[^>]*?Target="([^"]+)"[^>]*?Id="([^"]+)"', rels)})
        found: set[str] = set()
        todo = []
        for m in re.finditer(r'<sheet [^>]*?name="([^"]+)"[^>]*?r:id="([^"]+)"', wb):
            if m.group(1) in sheet_names:
                todo.append(posixpath.normpath(posixpath.join("xl", targets[m.group(2)])))
        while todo:
            part = todo.pop()
            if part in found or part not in names:
                continue
            found.add(part)
            rp = _rels_part(part)
            if rp in names:
                found.add(rp)
                text = zf.read(rp).decode()
                for t in re.finditer(r'Target="([^"]+)"', text):
                    if 'TargetMode="External"' in text and t.group(1).startswith("http"):
                        continue
                    todo.append(posixpath.normpath(posixpath.join(posixpath.dirname(part),
                                                                  t.group(1))))
    return found


def member_bytes(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {n: zf.read(n) for n in zf.namelist()}


def sheet_part(path: Path, sheet: str) -> str:
    """The package part of the sheet named ``sheet`` (``xl/worksheets/sheetN.xml``)."""
    from maillon.addin.ooxml.package import Package

    with Package(path) as pkg:
        return next(s.part for s in pkg.sheets if s.name == sheet)


def rewrite_sheet(path: Path, sheet: str, change) -> None:
    """Rewrite ``path`` in place with the XML of ``sheet`` replaced by ``change(its bytes)``,
    every other member kept as it was (what a program that edits one sheet's XML does)."""
    part = sheet_part(path, sheet)
    with zipfile.ZipFile(path) as zin:
        members = [(i, zin.read(i)) for i in zin.infolist()]
    out = path.with_name("tmp-" + path.name)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for info, data in members:
            zout.writestr(info, change(data) if info.filename == part else data)
    out.replace(path)
