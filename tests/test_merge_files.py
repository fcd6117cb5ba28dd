"""``maillon merge`` and ``maillon diff`` on real files, as a team makes them by email.

A 2,000-account demo workbook is recomputed and "sent"; three copies come back:
one sorted (Accounts by Employees, Target List by Score) and edited with
openpyxl, one edited as Excel would (the table writer) then saved through
LibreOffice, one edited with openpyxl. The manager kept editing too.
"""
from __future__ import annotations

import hashlib
import shutil
import zipfile
from pathlib import Path

import openpyxl
import pytest

from maillon.addin.cli import main
from maillon.addin.filemode.merge import diff_files, merge_files
from maillon.addin.filemode.read import read_tables
from maillon.addin.filemode.recompute import recompute_file
from maillon.addin.filemode.table_edits import TableEdit, save_table_edits
from maillon.addin.ooxml.package import Package
from maillon.addin.filemode.base_store import read_identity
from maillon.workbook_templates.build import build_demo

from realclients import gnumeric_opens, libreoffice_opens

TABLES = ["tblAccounts", "tblFeedback", "tblTargets", "tblSegments", "tblPlan", "tblMerge",
          "tblMergeFiles", "tblEdits", "tblSettings", "tblHistory"]


def digest(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def tables(path):
    return {k: v.data for k, v in read_tables(path, TABLES).items()}


def row_of(frame, key_col, key):
    rows = frame.index[frame[key_col].astype(str) == key]
    assert len(rows) == 1, (key, len(rows))
    return rows[0]


def edit_openpyxl(path: Path, out: Path, edits: dict, *, sort=None, delete=(), add=None,
                  rename=None, new_sheet=None):
    """Edit ``path`` with openpyxl, as a script or another program would, save to ``out``.

    ``edits``: {table: [(key column, key, column, value)]}; ``sort``: {table: (column,
    descending)}: the table's body rows are rewritten in that order; ``delete``:
    [(table, key column, key)] clears that row; ``add``: {table: [row dict]} appended.
    """
    wb = openpyxl.load_workbook(path)
    for ws in wb.worksheets:
        for name in list(ws.tables):
            table = ws.tables[name]
            c1, r1, c2, r2 = openpyxl.utils.cell.range_boundaries(table.ref)
            headers = [ws.cell(r1, c).value for c in range(c1, c2 + 1)]
            col = {h: c1 + i for i, h in enumerate(headers)}
            body = [[ws.cell(r, c).value for c in range(c1, c2 + 1)] for r in range(r1 + 1, r2 + 1)]
            if sort and name in sort:
                h, desc = sort[name]
                i = headers.index(h)
                body.sort(key=lambda row: (row[i] is None, row[i] or 0), reverse=desc)
                for dr, row in enumerate(body):
                    for dc, v in enumerate(row):
                        ws.cell(r1 + 1 + dr, c1 + dc).value = v
            for tname, key_col, key, column, value in [(t, *e) for t, es in edits.items()
                                                       for e in es]:
                if tname != name:
                    continue
                for r in range(r1 + 1, r2 + 1):
                    if str(ws.cell(r, col[key_col]).value) == key:
                        ws.cell(r, col[column]).value = value
                        break
                else:
                    raise AssertionError(f"{key} not in {name}")
            for tname, key_col, key in delete:
                if tname == name:
                    for r in range(r1 + 1, r2 + 1):
                        if str(ws.cell(r, col[key_col]).value) == key:
                            for c in range(c1, c2 + 1):
                                ws.cell(r, c).value = None
            if add and name in add:
                for row in add[name]:
                    r2 += 1
                    for h, v in row.items():
                        ws.cell(r2, col[h]).value = v
                table.ref = f"{openpyxl.utils.get_column_letter(c1)}{r1}:" \
                            f"{openpyxl.utils.get_column_letter(c2)}{r2}"
                if table.autoFilter is not None:
                    table.autoFilter.ref = table.ref
    for old, new in (rename or {}).items():
        wb[old].title = new
    if new_sheet:
        wb.create_sheet(new_sheet)["A1"] = "my notes"
    wb.save(out)
    return out


PROSPECT = {"Account ID": "NEW-0001", "Account name": "Dupont Emballages SAS",
            "Status": "Prospect", "Industry": "Packaging", "Region": "Grand Est",
            "City": "Metz", "Employees": 85, "Sales owner": "Hugo", "Potential": 45000}


@pytest.fixture(scope="module")
def sent(tmp_path_factory):
    folder = tmp_path_factory.mktemp("merge")
    portfolio = folder / "portfolio.xlsx"
    build_demo(portfolio, n_accounts=2000, seed=11)
    team = folder / "sent.xlsx"
    recompute_file(portfolio, team)
    t = tables(team)
    return folder, team, t


@pytest.fixture(scope="module")
def scenario(sent):
    folder, sent_path, t = sent
    acc, tg, seg, plan = t["tblAccounts"], t["tblTargets"], t["tblSegments"], t["tblPlan"]
    ids = acc["Account ID"].tolist()
    a = {i: ids[i] for i in range(8)}
    target_key = tg["Account ID"].iloc[10]
    feedback_row = {"Account ID": a[3], "Date": None, "Sales rep": "Claire",
                    "Main need": "Price", "Relationship": 4, "Buying intent": "High",
                    "Competitor": "Acme", "Note": "met the buyer"}
    import datetime as dt
    feedback_row["Date"] = dt.datetime(2026, 11, 30)

    team = folder / "team.xlsx"
    shutil.copyfile(sent_path, team)
    # the manager kept editing: a city
    save_table_edits(team, [TableEdit("tblAccounts", cells={
        (row_of(acc, "Account ID", a[0]), "City"): "Paris"})])

    # copy 1: sorted by Score (Target List) and Employees (Accounts), edited with openpyxl
    c1 = edit_openpyxl(sent_path, folder / "team (Claire).xlsx", {
        "tblAccounts": [("Account ID", a[1], "Employees", 111), ("Account ID", a[5], "City", "Reims")],
        "tblTargets": [("Account ID", target_key, "Priority override", "p1"),
                       ("Account ID", target_key, "Override reason", "met the CEO")],
    }, sort={"tblTargets": ("Score", False), "tblAccounts": ("Employees", True)},
        add={"tblAccounts": [PROSPECT]}, rename={"Accounts": "Comptes"},
        new_sheet="Claire's notes")

    # copy 2: edited as Excel edits (the table writer), saved through LibreOffice
    raw2 = folder / "raw2" / "team-HM.xlsx"
    raw2.parent.mkdir()
    shutil.copyfile(sent_path, raw2)
    save_table_edits(raw2, [
        TableEdit("tblAccounts", cells={(row_of(acc, "Account ID", a[1]), "Employees"): 111,
                                        (row_of(acc, "Account ID", a[2]), "Potential"): 70000},
                  new_rows=[PROSPECT]),
        TableEdit("tblFeedback", new_rows=[feedback_row]),
        TableEdit("tblSegments", cells={(seg.index[0], "Segment name"): "Urban retailers"}),
    ])
    ok, why = libreoffice_opens(raw2, "xlsx", outdir=folder / "lo")
    if not ok:
        pytest.skip(why)
    c2 = folder / "lo" / "team-HM.xlsx"

    # copy 3: edited with openpyxl: a conflicting Potential, the same meeting, a row
    # removed while copy 1 edits it, a plan status
    c3 = edit_openpyxl(sent_path, folder / "team_v3.xlsx", {
        "tblAccounts": [("Account ID", a[2], "Potential", 90000)],
        "tblPlan": [("Action ID", str(plan["Action ID"].iloc[0]), "Status", "Done")],
    }, delete=[("tblAccounts", "Account ID", a[5])], add={"tblFeedback": [feedback_row]})

    copies = [c1, c2, c3]
    before = {p: digest(p) for p in copies}
    report = merge_files(team, copies)
    return dict(folder=folder, team=team, copies=copies, before=before, report=report, a=a,
                target_key=target_key, seg_id=seg["Segment ID"].iloc[0],
                action=str(plan["Action ID"].iloc[0]), base=t)


def test_every_edit_lands_and_each_conflict_is_listed_once(scenario):
    s = scenario
    a = s["a"]
    t = tables(s["team"])
    acc = t["tblAccounts"].set_index("Account ID")
    assert acc.loc[a[0], "City"] == "Paris"  # the manager's own edit
    assert acc.loc[a[1], "Employees"] == 111  # the same change from two copies
    assert acc.loc[a[5], "City"] == "Reims"  # edited in one copy, removed in another: kept
    base_potential = s["base"]["tblAccounts"].set_index("Account ID").loc[a[2], "Potential"]
    assert acc.loc[a[2], "Potential"] == base_potential  # conflict: base value until decided
    assert (t["tblAccounts"]["Account ID"] == "NEW-0001").sum() == 1  # added by two, once
    assert len(t["tblAccounts"]) == 2001
    fb = t["tblFeedback"]
    assert ((fb["Note"] == "met the buyer") & (fb["Account ID"] == a[3])).sum() == 1
    seg = t["tblSegments"].set_index("Segment ID")
    assert seg.loc[s["seg_id"], "Segment name"] == "Urban retailers"
    tg = t["tblTargets"].set_index("Account ID")
    assert tg.loc[s["target_key"], "Priority override"] == "P1"  # typed p1; the recompute spells it
    assert tg.loc[s["target_key"], "Final priority"] == "P1"
    plan = t["tblPlan"].set_index("Action ID")
    assert plan.loc[s["action"], "Status"] == "Done"

    merge = t["tblMerge"]
    conflicts = merge[merge["Kind"] == "Conflict"]
    assert conflicts[["Key", "Column"]].values.tolist() == [[a[2], "Potential"]]
    row = conflicts.iloc[0]
    assert (row["team (Claire)"], row["team-HM"], row["team_v3"]) == \
        (base_potential, 70000, 90000)
    dve = merge[merge["Kind"] == "Deleted vs edited"]
    assert dve["Key"].tolist() == [a[5]]
    # each change is one row, whatever the number of copies that made it
    changed = merge[(merge["Kind"] == "Changed") & (merge["Key"] == a[1])]
    assert changed["Column"].tolist() == ["Employees"]
    assert merge[(merge["Kind"] == "Added") & (merge["Key"] == "NEW-0001")].shape[0] == 1
    # sorting made no change: no other Accounts or Target List row is listed
    listed = set(merge.loc[merge["Sheet"].isin(["Accounts", "Target List"]), "Key"])
    assert listed == {a[1], a[2], a[5], "NEW-0001", s["target_key"]}
    files = t["tblMergeFiles"]
    assert files["File"].tolist() == ["team.xlsx", "team (Claire).xlsx", "team-HM.xlsx",
                                      "team_v3.xlsx"]
    # a renamed sheet changes nothing; a sheet added to a copy is named in the report
    assert any("Claire's notes" in n and "team (Claire).xlsx" in n for n in s["report"].notes)
    note = t["tblEdits"][t["tblEdits"]["Kind"] == "Merge"]
    assert len(note) == 1 and "3 copies" in note["Value"].iloc[0]


def test_copies_are_never_modified(scenario):
    assert {p: digest(p) for p in scenario["copies"]} == scenario["before"]


def test_a_recompute_keeps_the_merge_and_applies_decisions(scenario, tmp_path):
    s = scenario
    team = tmp_path / "team.xlsx"
    shutil.copyfile(s["team"], team)
    t = tables(team)
    merge = t["tblMerge"]
    row = merge.index[(merge["Kind"] == "Conflict")][0]
    save_table_edits(team, [TableEdit("tblMerge", cells={(row, "Decision"): "team-HM"})])
    assert main(["recompute", str(team), "-q"]) == 0
    t = tables(team)
    acc = t["tblAccounts"].set_index("Account ID")
    assert acc.loc[s["a"][2], "Potential"] == 70000  # the decision
    assert acc.loc[s["a"][1], "Employees"] == 111  # the merged edits stay
    assert (t["tblAccounts"]["Account ID"] == "NEW-0001").sum() == 1
    assert t["tblTargets"].set_index("Account ID").loc[s["target_key"], "Final priority"] == "P1"
    m = t["tblMerge"]
    assert m.loc[m["Kind"] == "Conflict", "Applied"].notna().all()
    # applied once: a second recompute changes nothing more
    assert main(["recompute", str(team), "-q"]) == 0
    assert tables(team)["tblAccounts"].set_index("Account ID").loc[s["a"][2], "Potential"] == 70000


def test_merged_workbook_opens_in_libreoffice_and_gnumeric(scenario):
    ok, why = libreoffice_opens(scenario["team"])
    assert ok, why
    ok, why = gnumeric_opens(scenario["team"])
    assert ok, why


def test_copy_from_another_workbook_is_refused_and_nothing_written(sent, tmp_path, capsys):
    folder, sent_path, _ = sent
    team = tmp_path / "team.xlsx"
    shutil.copyfile(sent_path, team)
    other_src = tmp_path / "other-src.xlsx"
    build_demo(other_src, n_accounts=200, seed=5)
    other = tmp_path / "other.xlsx"
    recompute_file(other_src, other)
    before = digest(team)
    assert main(["merge", str(team), str(other), "-q"]) == 1
    err = capsys.readouterr().err
    assert "other.xlsx" in err and "another workbook" in err and "Traceback" not in err
    assert digest(team) == before
    # the same copy after openpyxl dropped its record: told by its History
    other_op = edit_openpyxl(other, tmp_path / "other-op.xlsx", {})
    assert main(["merge", str(team), str(other_op), "-q"]) == 1
    assert "another workbook" in capsys.readouterr().err
    assert digest(team) == before


def test_stale_copy(sent, tmp_path, capsys):
    folder, sent_path, t = sent
    team = tmp_path / "team.xlsx"
    shutil.copyfile(sent_path, team)
    key = t["tblAccounts"]["Account ID"].iloc[4]
    # last week's copy, edited as Excel does: it keeps its own base and merges against it
    stale = tmp_path / "stale.xlsx"
    shutil.copyfile(sent_path, stale)
    save_table_edits(stale, [TableEdit("tblAccounts", cells={
        (row_of(t["tblAccounts"], "Account ID", key), "City"): "Brest"})])
    stale_op = edit_openpyxl(sent_path, tmp_path / "stale-op.xlsx",
                             {"tblAccounts": [("Account ID", key, "City", "Brest")]})
    recompute_file(team)  # the manager recomputed since
    with Package(team) as pkg, Package(stale) as pkg2:
        assert read_identity(pkg)["run"] != read_identity(pkg2)["run"]
    # lost its record (openpyxl) and is not from the last run: refused, naming both runs
    before = digest(team)
    assert main(["merge", str(team), str(stale_op), "-q"]) == 1
    err = capsys.readouterr().err
    assert "stale-op.xlsx is a stale copy" in err and err.count("the recompute of") == 2
    assert digest(team) == before
    report = merge_files(team, [stale])
    assert [(e.kind, e.key, e.column) for e in report.entries] == [("Changed", key, "City")]
    assert tables(team)["tblAccounts"].set_index("Account ID").loc[key, "City"] == "Brest"
    # --base: the file as it was sent serves as the base
    team2 = tmp_path / "team2.xlsx"
    shutil.copyfile(sent_path, team2)
    recompute_file(team2)
    report = merge_files(team2, [stale_op], base_path=sent_path, dry_run=True)
    assert [(e.kind, e.key, e.column) for e in report.entries] == [("Changed", key, "City")]


def test_bad_copies_are_refused_with_one_message(sent, tmp_path, capsys):
    import xlsxwriter

    _, sent_path, _ = sent
    team = tmp_path / "team.xlsx"
    shutil.copyfile(sent_path, team)
    before = digest(team)
    plain = tmp_path / "budget.xlsx"
    wb = xlsxwriter.Workbook(str(plain))
    wb.add_worksheet("Budget").write(0, 0, "Q1")
    wb.close()
    corrupt = tmp_path / "broken.xlsx"
    corrupt.write_bytes(b"PK\x03\x04 not really a zip")
    opened = tmp_path / "open.xlsx"
    shutil.copyfile(sent_path, opened)
    (tmp_path / "~$open.xlsx").write_bytes(b"x")
    for bad, words in ((plain, "not a Maillon workbook"), (corrupt, "broken.xlsx"),
                       (opened, "open in Excel")):
        assert main(["merge", str(team), str(bad), "-q"]) == 1
        err = capsys.readouterr().err
        assert words in err and bad.name in err and "Traceback" not in err, err
        assert len(err.strip().splitlines()) == 1
        assert digest(team) == before
    assert not list(tmp_path.glob(".*maillon*"))
    # a copy saved by Gnumeric, which drops Excel tables: said so, by name
    ok, why = gnumeric_opens(sent_path, "xlsx", outdir=tmp_path / "gn")
    if ok:
        gn = tmp_path / "gn" / "sent.xlsx"
        assert main(["merge", str(team), str(gn), "-q"]) == 1
        err = capsys.readouterr().err
        assert "sent.xlsx" in err and "gnumeric" in err and "does not keep Excel tables" in err
        assert digest(team) == before


def test_dry_run_writes_nothing_and_diff_lists_changes(scenario, tmp_path, capsys):
    s = scenario
    team = tmp_path / "team.xlsx"
    shutil.copyfile(s["folder"] / "sent.xlsx", team)
    before = digest(team)
    assert main(["merge", str(team), *map(str, s["copies"]), "--dry-run", "-q"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Dry run: nothing was written") and "2 conflicts" in out
    assert digest(team) == before
    assert main(["diff", str(s["folder"] / "sent.xlsx"), str(s["copies"][1]), "-q"]) == 0
    out = capsys.readouterr().out
    assert "Potential" in out and "NEW-0001" in out and "Urban retailers" in out
    assert "Employees" in out
    entries = diff_files(s["folder"] / "sent.xlsx", s["copies"][0])
    # sorted copy: only its edits, nothing from the new order
    assert sorted({e.column for e in entries}) == ["(row)", "City", "Employees",
                                                   "Override reason", "Priority override"]


def test_merge_part_survives_and_is_engine_owned(scenario):
    with zipfile.ZipFile(scenario["team"]) as z:
        names = z.namelist()
        item = next(n for n in names if n.startswith("customXml/item") and "Props" not in n)
        assert b"urn:maillon:merge-base:1" in z.read(item)[:400]
    with Package(scenario["team"]) as pkg:
        assert "Merge" in [s.name for s in pkg.sheets]


def test_no_recompute_writes_the_tables_and_the_merge_sheet_only(scenario, tmp_path):
    s = scenario
    team = tmp_path / "team.xlsx"
    shutil.copyfile(s["folder"] / "sent.xlsx", team)
    before = tables(team)
    report = merge_files(team, s["copies"], recompute=False)
    assert report.conflicts == 2 and report.backup is not None
    t = tables(team)
    acc = t["tblAccounts"].set_index("Account ID")
    assert acc.loc[s["a"][1], "Employees"] == 111
    assert (t["tblAccounts"]["Account ID"] == "NEW-0001").sum() == 1
    tg = t["tblTargets"].set_index("Account ID")
    assert tg.loc[s["target_key"], "Priority override"] == "p1"  # the cell, as typed
    # not recomputed: the computed columns are as sent
    old = before["tblTargets"].set_index("Account ID")
    assert tg.loc[s["target_key"], "Final priority"] == old.loc[s["target_key"], "Final priority"]
    assert len(t["tblHistory"]) == len(before["tblHistory"])  # no recompute ran
    assert (t["tblMerge"]["Kind"] == "Conflict").sum() == 1


def test_delete_row_decision_removes_the_row_on_the_next_recompute(scenario, tmp_path):
    s = scenario
    team = tmp_path / "team.xlsx"
    shutil.copyfile(s["team"], team)
    merge = tables(team)["tblMerge"]
    row = merge.index[merge["Kind"] == "Deleted vs edited"][0]
    save_table_edits(team, [TableEdit("tblMerge", cells={(row, "Decision"): "Delete row"})])
    assert main(["recompute", str(team), "-q"]) == 0
    t = tables(team)
    assert s["a"][5] not in set(t["tblAccounts"]["Account ID"])
    assert s["a"][5] not in set(t["tblTargets"]["Account ID"])
    assert len(t["tblAccounts"]) == 2000
    m = t["tblMerge"]
    assert m.loc[m["Kind"] == "Deleted vs edited", "Applied"].notna().all()
    note = t["tblEdits"][t["tblEdits"]["Kind"] == "Merge"]
    assert note["Value"].tolist()[-1] == "1 decision"


def _cells(frame):
    """A frame's cells as plain values (NaN, NaT and None alike; dates as datetimes)."""
    import pandas as pd

    out = {}
    for col in frame.columns:
        for row, v in zip(frame.index, frame[col].astype(object)):
            if v is None or (not isinstance(v, str) and pd.isna(v)):
                v = None
            elif isinstance(v, pd.Timestamp):
                v = v.to_pydatetime()
            out[(int(row), col)] = v
    return out


def test_the_recompute_after_a_merge_sees_what_a_read_of_the_edited_file_sees(scenario, tmp_path):
    """The merge hands the recompute the tables it read with its edits made, instead of
    reading the edited workbook again: they must be what that read would give."""
    from maillon.addin.filemode.merge import plan_merge
    from maillon.addin.filemode.recompute import input_from, read_input

    s = scenario
    team = tmp_path / "team.xlsx"
    shutil.copyfile(s["folder"] / "sent.xlsx", team)  # the workbook as it was sent
    copies = s["copies"]
    edited = tmp_path / "edited.xlsx"
    report = merge_files(team, copies, edited, recompute=False)
    assert report.edits, "the scenario's copies must still change something"
    again = plan_merge(team, copies)
    given = input_from(team, again.team.tables, again.team.loose, tables=again.merged)
    read = read_input(edited)
    for name in ("settings", "expectations", "accounts", "feedback", "playbook"):
        assert _cells(getattr(given, name)) == _cells(getattr(read, name)), name
    for name in ("segments", "targets", "plan", "history", "edits"):
        a, b = getattr(given.previous, name), getattr(read.previous, name)
        assert (a is None) == (b is None), name
        if a is not None:
            assert _cells(a) == _cells(b), name


def _type_below_plan(path: Path, out: Path, rows: list[dict]) -> Path:
    """Rows typed under tblPlan (after one blank row), with openpyxl, as a user types them."""
    wb = openpyxl.load_workbook(path)
    ws = wb["Action Plan"]
    c1, r1, c2, r2 = openpyxl.utils.cell.range_boundaries(ws.tables["tblPlan"].ref)
    headers = [ws.cell(r1, c).value for c in range(c1, c2 + 1)]
    r = r2 + 1
    while any(ws.cell(r, c).value is not None for c in range(c1, c2 + 1)):
        r += 1
    for row in rows:
        r += 1
        for h, v in row.items():
            ws.cell(r, c1 + headers.index(h)).value = v
    wb.save(out)
    return out


def test_plan_rows_below_and_plan_user_columns_merge(sent, tmp_path):
    """Rows added below the plan arrive once each (by content), a column a user added
    inside tblPlan merges by Action ID, and a recompute keeps both."""
    import datetime as dt

    folder, sent_path, t = sent
    plan = t["tblPlan"]
    action = str(plan["Action ID"].iloc[2])
    fair = {"Action": "Trade fair booth", "Function": "Joint", "Start": dt.datetime(2027, 3, 1)}
    day = {"Action": "Customer day", "Function": "Marketing", "Status": "Planned"}
    team = tmp_path / "team.xlsx"
    shutil.copyfile(sent_path, team)
    # copy 1: a column of its own inside tblPlan (as Excel does: the table writer)
    c1 = tmp_path / "c1.xlsx"
    shutil.copyfile(sent_path, c1)
    save_table_edits(c1, [TableEdit("tblPlan", new_columns=["Budget"], cells={
        (row_of(plan, "Action ID", action), "Budget"): 1500})])
    # copies 2 and 3: the same row typed below the plan, and one more in copy 3
    c2 = _type_below_plan(sent_path, tmp_path / "c2.xlsx", [fair])
    c3 = _type_below_plan(sent_path, tmp_path / "c3.xlsx", [fair, day])
    report = merge_files(team, [c1, c2, c3])
    assert report.conflicts == 0
    added = [e for e in report.entries if e.kind == "Added" and e.sheet.startswith("Action Plan")]
    assert sorted(e.name for e in added) == ["Customer day", "Trade fair booth"]
    for _ in range(2):  # the merge's own recompute, then a plain one: both keep them
        got = read_tables(team, ["tblPlan"], below=["tblPlan"])["tblPlan"]
        assert got.data.set_index("Action ID").loc[action, "Budget"] == 1500
        below = got.below
        assert below is not None and sorted(below["Action"].tolist()) == \
            ["Customer day", "Trade fair booth"]
        assert below.set_index("Action").loc["Trade fair booth", "Start"] == \
            dt.datetime(2027, 3, 1)
        assert main(["recompute", str(team), "-q"]) == 0


def test_copies_target_list_read_straight_from_the_xml_is_what_calamine_reads(scenario):
    """The copies' tblTargets are read by text_columns (key and editable columns only);
    on copies saved by openpyxl, LibreOffice and Maillon it gives what the usual reader
    gives, and the saved-by-LibreOffice copy (shared strings) does take that path."""
    import pandas as pd

    from maillon.addin.filemode.merge import _COPY_COLUMNS
    from maillon.addin.filemode.text_columns import text_columns

    keep = _COPY_COLUMNS["tblTargets"]
    taken = []
    for path in [scenario["folder"] / "sent.xlsx", *scenario["copies"]]:
        found = text_columns(path, "tblTargets", keep)
        usual = read_tables(path, ["tblTargets"], columns=_COPY_COLUMNS)["tblTargets"].data
        if found is None:
            continue
        taken.append(path.name)
        pd.testing.assert_frame_equal(found[0], usual, check_dtype=False)
    assert "team-HM.xlsx" in taken and "sent.xlsx" in taken


def test_text_columns_reads_rich_inline_and_shared_text_and_gives_up_on_numbers(tmp_path):
    from maillon.addin.filemode.text_columns import text_columns

    sheet = ('<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
             '<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>ID</t></is></c>'
             '<c r="B1" t="inlineStr"><is><t>Why</t></is></c></row>'
             '<row r="2"><c r="A2" t="s"><v>0</v></c><c r="B2" t="s"><v>1</v></c></row>'
             '<row r="3"><c r="A3" t="inlineStr"><is><t xml:space="preserve"> A&amp;B </t></is>'
             '</c><c r="B3" t="str"><f>"x"</f><v>x &lt; y</v></c></row>'
             '<row r="4"><c r="A4" t="inlineStr"><is><t>K</t></is></c><c r="B4" s="3"/></row>'
             '</sheetData></worksheet>')
    sst = ('<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
           '<si><t>S-1</t></si><si><r><t>rich </t></r><r><rPr><b/></rPr><t>text</t></r>'
           '<rPh sb="0" eb="1"><t>ルビ</t></rPh></si></sst>')
    path = tmp_path / "t.xlsx"
    _tiny_workbook(path, sheet, sst)
    frame, info = text_columns(path, "tblT", lambda headers: headers)
    assert frame.to_dict("index") == {2: {"ID": "S-1", "Why": "rich text"},
                                      3: {"ID": " A&B ", "Why": "x < y"},
                                      4: {"ID": "K", "Why": frame.loc[4, "Why"]}}
    assert frame.loc[4, "Why"] != frame.loc[4, "Why"]  # blank: NaN
    _tiny_workbook(path, sheet.replace('<c r="B4" s="3"/>', '<c r="B4"><v>46000</v></c>'), sst)
    assert text_columns(path, "tblT", lambda headers: headers) is None  # a number: give up


def _tiny_workbook(path, sheet: str, sst: str) -> None:
    import zipfile

    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    kinds = {"/xl/workbook.xml": "sheet.main", "/xl/worksheets/sheet1.xml": "worksheet",
             "/xl/sharedStrings.xml": "sharedStrings", "/xl/tables/table1.xml": "table"}
    ct = "application/vnd.openxmlformats-officedocument.spreadsheetml."
    files = {
        "[Content_Types].xml":
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" '
            'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            + "".join(f'<Override PartName="{part}" ContentType="{ct}{kind}+xml"/>'
                      for part, kind in kinds.items())
            + '</Types>',
        "_rels/.rels": f'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
                       f'<Relationship Id="r1" Type="{rel}/officeDocument" Target="xl/workbook.xml"/>'
                       f'</Relationships>',
        "xl/workbook.xml": f'<workbook xmlns="{main}" xmlns:r="{rel}"><sheets>'
                           f'<sheet name="S" sheetId="1" r:id="r1"/></sheets></workbook>',
        "xl/_rels/workbook.xml.rels":
            f'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            f'<Relationship Id="r1" Type="{rel}/worksheet" Target="worksheets/sheet1.xml"/>'
            f'<Relationship Id="r2" Type="{rel}/sharedStrings" Target="sharedStrings.xml"/>'
            f'</Relationships>',
        "xl/worksheets/sheet1.xml": sheet.replace("</sheetData>", "</sheetData>"
                                                  '<tableParts count="1"><tablePart r:id="t1" '
                                                  f'xmlns:r="{rel}"/></tableParts>'),
        "xl/worksheets/_rels/sheet1.xml.rels":
            f'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            f'<Relationship Id="t1" Type="{rel}/table" Target="../tables/table1.xml"/>'
            f'</Relationships>',
        "xl/tables/table1.xml": f'<table xmlns="{main}" id="1" name="tblT" displayName="tblT" '
                                f'ref="A1:B4"><tableColumns count="2"><tableColumn id="1" name="ID"/>'
                                f'<tableColumn id="2" name="Why"/></tableColumns></table>',
        "xl/sharedStrings.xml": sst,
    }
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, text in files.items():
            z.writestr(name, text)
