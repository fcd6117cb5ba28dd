"""A conflicting cell keeps its base value and is highlighted where it lives, until decided.

Real files: a recomputed workbook, two copies edited as Excel edits them (the
table writer) that disagree on an account's City (a user table) and on its
Override reason (an editable column of the engine-owned Target List), merged;
openpyxl reads the fill of the Accounts cell and the conditional format on the
Target List cell; LibreOffice opens the result; deciding on the Merge sheet and
recomputing takes both highlights away and gives the cell its own style back.
"""
from __future__ import annotations

import shutil

import openpyxl
import pytest

from maillon.addin.cli import main
from maillon.addin.filemode.merge import merge_files
from maillon.addin.filemode.read import read_tables
from maillon.addin.filemode.recompute import recompute_file
from maillon.addin.filemode.table_edits import TableEdit, save_table_edits
from maillon.addin.ooxml.cell_marks import MARK_FILLS
from maillon.workbook_templates.build import build_demo
from maillon.workbook_templates.look import COLOURS

from realclients import libreoffice_opens

CONFLICT = MARK_FILLS["conflict"]


def test_the_table_writer_and_the_renderer_paint_a_conflict_the_same_colour():
    assert CONFLICT == "FF" + COLOURS["conflict"][0].lstrip("#").upper()


def _row(path, table, key_col, key):
    frame = read_tables(path, [table])[table].data
    return int(frame.index[frame[key_col].astype(str) == key][0])


@pytest.fixture(scope="module")
def merged(tmp_path_factory):
    folder = tmp_path_factory.mktemp("marks")
    build_demo(folder / "portfolio.xlsx", n_accounts=120, seed=5)
    sent = folder / "sent.xlsx"
    recompute_file(folder / "portfolio.xlsx", sent)
    acc = read_tables(sent, ["tblAccounts"])["tblAccounts"].data
    account = str(acc["Account ID"].iloc[4])
    other = str(acc["Account ID"].iloc[5])
    a_row = _row(sent, "tblAccounts", "Account ID", account)
    t_row = _row(sent, "tblTargets", "Account ID", account)
    copies = []
    for k, (city, reason) in enumerate((("Reims", "met the CEO"), ("Nancy", "lost the tender"))):
        copy = folder / f"copy{k + 1}.xlsx"
        shutil.copyfile(sent, copy)
        save_table_edits(copy, [
            TableEdit("tblAccounts", cells={(a_row, "City"): city}),
            TableEdit("tblTargets", cells={(t_row, "Override reason"): reason})])
        copies.append(copy)
    team = folder / "team.xlsx"
    shutil.copyfile(sent, team)
    report = merge_files(team, copies)
    return dict(folder=folder, team=team, account=account, other=other, report=report)


def _accounts_cell(path, key, header):
    ws = openpyxl.load_workbook(path)["Accounts"]
    c1, r1, c2, r2 = openpyxl.utils.cell.range_boundaries(ws.tables["tblAccounts"].ref)
    headers = [ws.cell(r1, c).value for c in range(c1, c2 + 1)]
    for r in range(r1 + 1, r2 + 1):
        if str(ws.cell(r, c1).value) == key:
            return ws.cell(r, c1 + headers.index(header))
    raise AssertionError(key)


def _fill(cell):
    return cell.fill.fgColor.rgb if cell.fill.fill_type == "solid" else None


def _painted_on_target_list(path, key, header):
    """Whether a conditional format paints the Target List cell in the conflict colour."""
    ws = openpyxl.load_workbook(path)["Target List"]
    c1, r1, c2, r2 = openpyxl.utils.cell.range_boundaries(ws.tables["tblTargets"].ref)
    headers = [ws.cell(r1, c).value for c in range(c1, c2 + 1)]
    row = next(r for r in range(r1 + 1, r2 + 1) if str(ws.cell(r, c1 + 1).value) == key)
    cell = ws.cell(row, c1 + headers.index(header)).coordinate
    for rng in ws.conditional_formatting:
        if cell in rng.sqref:
            for rule in rng.rules:
                fill = rule.dxf.fill if rule.dxf is not None else None
                colour = fill.bgColor.rgb if fill is not None and fill.bgColor is not None \
                    else None
                if colour and colour.upper().endswith(CONFLICT[2:]):
                    return True
    return False


def test_conflicting_cells_keep_their_base_value_and_are_highlighted(merged):
    m = merged
    assert m["report"].conflicts == 2
    city = _accounts_cell(m["team"], m["account"], "City")
    base_city = _accounts_cell(m["folder"] / "sent.xlsx", m["account"], "City")
    assert city.value == base_city.value  # the base value, until decided
    assert _fill(city) == CONFLICT
    assert city.number_format == base_city.number_format and city.font.b == base_city.font.b
    assert _fill(_accounts_cell(m["team"], m["other"], "City")) != CONFLICT
    assert _fill(_accounts_cell(m["team"], m["account"], "Region")) != CONFLICT
    assert _painted_on_target_list(m["team"], m["account"], "Override reason")
    assert not _painted_on_target_list(m["team"], m["other"], "Override reason")
    assert not _painted_on_target_list(m["team"], m["account"], "Priority override")


def test_the_highlighted_workbook_opens_in_libreoffice(merged):
    ok, why = libreoffice_opens(merged["team"])
    assert ok, why


def test_deciding_takes_the_highlight_away(merged, tmp_path):
    m = merged
    team = tmp_path / "team.xlsx"
    shutil.copyfile(m["team"], team)
    own = _accounts_cell(m["folder"] / "sent.xlsx", m["account"], "City")
    merge = read_tables(team, ["tblMerge"])["tblMerge"].data
    rows = merge.index[merge["Kind"] == "Conflict"]
    save_table_edits(team, [TableEdit("tblMerge", cells={(r, "Decision"): "copy2"
                                                         for r in rows})])
    assert main(["recompute", str(team), "-q"]) == 0
    city = _accounts_cell(team, m["account"], "City")
    assert city.value == "Nancy"
    assert _fill(city) == _fill(own) and city.number_format == own.number_format
    assert not _painted_on_target_list(team, m["account"], "Override reason")
    tg = read_tables(team, ["tblTargets"])["tblTargets"].data.set_index("Account ID")
    assert tg.loc[m["account"], "Override reason"] == "lost the tender"
