"""The copies of a merge read in worker processes (copy_readers) give what a read in this
process gives; a refused or lost copy is named, with exit code 1, nothing written, no
process and no file left behind. And the Target List read straight from the XML
(text_columns) reads what python-calamine reads, whatever the attributes' order."""
from __future__ import annotations

import datetime as dt
import hashlib
import multiprocessing
import os
import shutil
from pathlib import Path

import pandas as pd
import pytest

from maillon.addin.cli import main
from maillon.addin.filemode import copy_readers
from maillon.addin.filemode import merge as merge_module
from maillon.addin.filemode.merge import merge_files
from maillon.addin.filemode.read import read_tables
from maillon.addin.filemode.recompute import recompute_file
from maillon.addin.filemode.table_edits import TableEdit, save_table_edits
from maillon.workbook_templates.build import build_demo

from realclients import libreoffice_opens

TABLES = ["tblAccounts", "tblFeedback", "tblTargets", "tblSegments", "tblPlan", "tblMerge",
          "tblMergeFiles", "tblSettings", "tblExpectations", "tblPlaybook"]

needs_fork = pytest.mark.skipif(not copy_readers.can_fork(),
                                reason="the copies are read in processes on Linux only")


@pytest.fixture(autouse=True)
def _workers_whatever_the_load(monkeypatch):
    """The machine's load decides whether workers are forked: here they always are."""
    monkeypatch.setenv("MAILLON_MERGE_PROCESSES", "1")


def digest(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    """A recomputed 600-account workbook and three copies edited as Excel edits them
    (overlapping cells: conflicts; new accounts, the same prospect twice; meetings), the
    second saved through LibreOffice when it is installed."""
    folder = tmp_path_factory.mktemp("readers")
    portfolio = folder / "portfolio.xlsx"
    build_demo(portfolio, n_accounts=600, seed=7)
    team = folder / "sent.xlsx"
    recompute_file(portfolio, team)
    acc = read_tables(team, ["tblAccounts"])["tblAccounts"].data
    targets = read_tables(team, ["tblTargets"])["tblTargets"].data
    rows, trows = acc.index.to_numpy(), targets.index.to_numpy()
    copies = []
    for k in range(3):
        path = folder / f"copy{k + 1}.xlsx"
        shutil.copyfile(team, path)
        cells = {(int(r), "Employees"): 500 + k for r in rows[k * 3::40]}
        cells[(int(rows[1]), "City")] = f"City {k}"  # the same cell in every copy: a conflict
        new = [{"Account ID": f"NEW-{k}-{i}", "Account name": f"Prospect {k}-{i}",
                "Status": "Prospect", "Potential": 1000.0 * (i + 1)} for i in range(3)]
        new.append({"Account ID": "NEW-SAME", "Account name": "Same prospect",
                    "Status": "Prospect"})
        meetings = [{"Account ID": str(acc["Account ID"].iloc[i]), "Sales rep": f"Rep {k}",
                     "Date": dt.datetime(2026, 11, 2 + k), "Relationship": 3,
                     "Buying intent": "High", "Note": f"meeting {k}-{i}"} for i in range(3)]
        override = {(int(trows[5 + k]), "Priority override"): "P1",
                    (int(trows[5 + k]), "Override reason"): f"copy {k + 1} met them"}
        save_table_edits(path, [TableEdit("tblAccounts", cells=cells, new_rows=new),
                                TableEdit("tblFeedback", new_rows=meetings),
                                TableEdit("tblTargets", cells=override)])
        copies.append(path)
    ok, _ = libreoffice_opens(copies[1], "xlsx:Calc Office Open XML", outdir=folder / "lo")
    if ok:
        shutil.move(folder / "lo" / copies[1].name, copies[1])
    return folder, team, copies


def _merged(path: Path) -> dict:
    return {k: v.data for k, v in read_tables(path, TABLES).items()}


def _same_tables(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for name in a:
        fa, fb = a[name], b[name]
        if name in ("tblMerge", "tblMergeFiles"):  # when the merge ran: not the point here
            fa, fb = fa.drop(columns=["Merged at"]), fb.drop(columns=["Merged at"])
        pd.testing.assert_frame_equal(fa, fb, obj=name)


@needs_fork
def test_copies_read_in_processes_give_the_same_merged_workbook(made, tmp_path, monkeypatch):
    folder, team, copies = made
    when = dt.datetime(2026, 12, 1, 9, 0)
    forked, serial = tmp_path / "forked.xlsx", tmp_path / "serial.xlsx"
    started = []
    real = copy_readers.CopyReaders.__init__

    def spy(self, *a, **k):
        real(self, *a, **k)
        started.append(self.forked)
    monkeypatch.setattr(copy_readers.CopyReaders, "__init__", spy)
    a = merge_files(team, copies, forked, when=when)
    monkeypatch.setenv("MAILLON_MERGE_PROCESSES", "0")
    b = merge_files(team, copies, serial, when=when)
    assert started == [True, False]  # the first merge did read its copies in processes
    assert (a.changes, a.conflicts) == (b.changes, b.conflicts)
    assert a.conflicts >= 1 and a.changes >= 40  # the cells, rows and meetings of 3 copies
    assert [c.path.name for c in a.copies] == [p.name for p in copies]
    _same_tables(_merged(forked), _merged(serial))
    merged = _merged(forked)["tblAccounts"]
    assert (merged["Account ID"] == "NEW-SAME").sum() == 1
    assert {f"NEW-{k}-2" for k in range(3)} <= set(merged["Account ID"])
    assert not multiprocessing.active_children()


@needs_fork
@pytest.mark.parametrize("where", [0, 1, 2])
def test_a_refused_copy_is_named_first_in_order_nothing_written_no_process_left(
        made, tmp_path, capsys, where):
    folder, sent, copies = made
    team = tmp_path / "team.xlsx"
    shutil.copyfile(sent, team)
    before = digest(team)
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"PK\x03\x04 not really a zip")
    other = tmp_path / "other.xlsx"  # a second refusal, after the first: not the one named
    other.write_bytes(b"not a workbook at all")
    names = [str(p) for p in copies]
    names.insert(where, str(broken))
    names.append(str(other))
    listed = sorted(p.name for p in tmp_path.iterdir())
    assert main(["merge", str(team), *names, "-q"]) == 1
    err = capsys.readouterr().err
    assert "broken.xlsx" in err and "other.xlsx" not in err and "Traceback" not in err, err
    assert len(err.strip().splitlines()) == 1
    assert digest(team) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == listed  # no file left beside
    assert not multiprocessing.active_children()


@needs_fork
def test_a_reader_that_dies_is_named_as_the_copy_it_was_reading(made, tmp_path, capsys,
                                                                monkeypatch):
    folder, sent, copies = made
    team = tmp_path / "team.xlsx"
    shutil.copyfile(sent, team)
    before = digest(team)
    real, parent = merge_module._read_copy_side, os.getpid()

    def dies_in_a_worker(path):
        if os.getpid() != parent:
            os._exit(9)  # as the kernel's out-of-memory killer would stop it
        return real(path)
    monkeypatch.setattr(merge_module, "_read_copy_side", dies_in_a_worker)
    # the worker takes copy1 as soon as it is forked; this process reads copy2 itself
    # once the team workbook is read
    assert main(["merge", str(team), str(copies[0]), str(copies[1]), "-q"]) == 1
    err = capsys.readouterr().err
    assert "copy1.xlsx could not be read" in err and "exit code 9" in err, err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert digest(team) == before
    assert not multiprocessing.active_children()


@needs_fork
def test_workers_and_this_process_share_the_copies_results_in_order(tmp_path):
    """Each copy is read once, by a worker or (what no worker took) by this process; the
    results come in the order given, the first refusal in that order is raised."""
    from maillon.addin.ooxml.safe_io import WorkbookError

    paths = [tmp_path / f"c{i}.xlsx" for i in range(5)]

    def read(path):
        if path.name == "c3.xlsx":
            raise WorkbookError("c3.xlsx is refused")
        return (path.name, os.getpid())

    with copy_readers.CopyReaders(paths, read, lambda ps: [read(p) for p in ps],
                                  workers=2) as readers:
        assert readers.forked
        with pytest.raises(WorkbookError, match="c3.xlsx is refused"):
            readers.results()
    with copy_readers.CopyReaders(paths[:3], read, None, workers=2) as readers:
        got = readers.results()
    assert [name for name, _ in got] == ["c0.xlsx", "c1.xlsx", "c2.xlsx"]
    assert not multiprocessing.active_children()


@needs_fork
def test_a_refused_team_workbook_comes_first_and_stops_the_readers(made, tmp_path, capsys):
    folder, sent, copies = made
    team = tmp_path / "team.xlsx"
    team.write_bytes(b"PK\x03\x04 broken team workbook")
    assert main(["merge", str(team), *map(str, copies), "-q"]) == 1
    err = capsys.readouterr().err
    assert "team.xlsx" in err and "copy" not in err and "Traceback" not in err, err
    assert not multiprocessing.active_children()


def test_text_columns_reads_shared_strings_in_any_attribute_order_and_booleans(tmp_path):
    from maillon.addin.filemode.text_columns import text_columns

    from test_merge_files import _tiny_workbook

    sheet = ('<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
             '<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>ID</t></is></c>'
             '<c r="B1" t="inlineStr"><is><t>Why</t></is></c></row>'
             '<row r="2"><c r="A2" s="1" t="s"><v>0</v></c><c r="B2" t="s" s="2"><v>1</v></c>'
             '</row><row r="3"><c r="A3" t="s"><v>2</v></c><c r="B3" t="b"><v>1</v></c></row>'
             '<row r="4"><c r="A4" s="4" t="s"><v>3</v></c><c r="B4" s="3" t="s"><v>4</v>'
             '</c></row><row r="5"><c r="A5" t="s"><v>0</v></c></row>'  # below the table
             '</sheetData></worksheet>')
    sst = ('<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
           '<si><t>S-1</t></si><si><t xml:space="preserve"> spaced </t></si>'
           '<si><t>a &amp; b</t></si><si><t></t></si><si><t>only why</t></si></sst>')
    path = tmp_path / "t.xlsx"
    _tiny_workbook(path, sheet, sst)
    checked: list = []
    frame, _ = text_columns(path, "tblT", lambda headers: headers, checked)
    rows = frame.astype(object).where(frame.notna(), None).to_dict("index")
    assert rows == {2: {"ID": "S-1", "Why": " spaced "}, 3: {"ID": "a & b", "Why": True},
                    4: {"ID": None, "Why": "only why"}}  # A4: an empty string, a blank
    assert checked == ["xl/worksheets/sheet1.xml", "xl/sharedStrings.xml"]
    # an index past the shared strings: the usual reader is left to say so
    _tiny_workbook(path, sheet.replace("<v>4</v>", "<v>9</v>"), sst)
    assert text_columns(path, "tblT", lambda headers: headers) is None
