"""The Merge copies…, Import… and Recompute segments (with decisions typed) buttons in Excel.

Each button saves the open workbook, closes it, runs the file mode on its
file, and opens it again (``maillon.addin.live_files``). Excel is simulated with
xlwings' own classes, autospecced (``live_fakes``): a misspelled method or a
wrong argument fails as against Excel. :class:`Session` maps the fake book onto a
real .xlsx file: ``book.save()`` writes what the user typed since the last save
(a table edit, through the same writer the file mode uses), the book holds
Excel's ``~$`` owner file while open (the file mode refuses a workbook open in
Excel, so a merge that lands proves the book was closed first), ``book.close()``
drops it, and ``app.books.open(path)`` opens the file again. What landed is
read back from the file with the file mode's reader.
"""
from __future__ import annotations

import hashlib
import shutil
import sys
import types
from pathlib import Path

import pandas as pd
import pytest
from xlwings import main as xwm

import maillon
from maillon.addin import live_files as LF
from maillon.addin.filemode.read import read_tables
from maillon.addin.filemode.recompute import recompute_file
from maillon.addin.filemode.table_edits import TableEdit, save_table_edits
from maillon.addin.live import dialogs as D
from maillon.addin.live import ribbon
from maillon.workbook_templates.build import build_demo

from live_fakes import ApiMock, FakeExcel, com_properties


def digest(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def frames(path, names=("tblAccounts", "tblFeedback", "tblMerge", "tblHistory",
                        "tblImportReview")):
    return {k: v.data for k, v in read_tables(path, list(names)).items()}


def row_of(frame, key):
    rows = frame.index[frame["Account ID"].astype(str) == key]
    assert len(rows) == 1
    return rows[0]


class Session:
    """Excel with one workbook open, backed by the real file ``path``."""

    def __init__(self, path: Path, platform: str = "win32", answers=("ok",), chosen=None,
                 unsaved=None, layout=None, fake=None):
        self.path, self.platform = Path(path), platform
        # ``fake``: the workbook as Excel shows it (``live_fakes.fake_from_file``), for a run
        # that reads it; else a book holding ``layout`` only
        self.fake = fake if fake is not None else FakeExcel(layout or {})
        self.answers = list(answers)
        self.prompts: list[tuple[str, dict]] = []
        self.events: list[str] = []
        self.unsaved = list(unsaved or [])  # TableEdits typed in Excel, not saved yet
        self.open_books: list = []
        fake, book, app = self.fake, self.fake.book, self.fake.app
        st = fake._state(book)
        st["name"], st["fullname"] = self.path.name, str(self.path)
        api = ApiMock()
        if platform.startswith("darwin"):
            api.full_name.get.return_value = str(self.path)
            api.read_only.get.return_value = False
        else:  # read through COM: each read recorded, as a round trip
            com_properties(api, FullName=str(self.path), ReadOnly=False)
        st["api"] = api
        self.app_api = ApiMock()
        self.app_api.GetOpenFilename.return_value = tuple(str(c) for c in chosen or ()) or False
        fake._state(app)["api"] = self.app_api
        fake._state(app)["pid"] = 4242
        books = fake._new(xwm.Books)
        books.open.side_effect = self._open
        fake._state(app)["books"] = books
        app.alert.side_effect = self._alert
        book.save.side_effect = self._save
        book.close.side_effect = self._close
        self.owner = self.path.with_name("~$" + self.path.name)
        self.owner.write_bytes(b"\x0bExcel user")  # Excel's owner file while the book is open
        self.closed = False

    @property
    def book(self):
        return self.fake.book

    def _alert(self, prompt, title=None, buttons="ok", mode=None, callback=None):
        self.prompts.append((prompt, {"buttons": buttons, "mode": mode, "title": title}))
        if buttons in ("ok_cancel", "yes_no_cancel", "yes_no"):
            return self.answers.pop(0)
        return "ok"

    def _save(self, path=None, password=None):
        assert not self.closed and path is None  # saved in place, never "Save As"
        self.events.append("save")
        if self.unsaved:  # Excel writes its own open file: its owner file is no lock to it
            self.owner.unlink()
            save_table_edits(self.path, self.unsaved)
            self.owner.write_bytes(b"\x0bExcel user")
            self.unsaved = []
        self.saved_digest = digest(self.path)

    def _close(self):
        assert not self.closed
        self.events.append("close")
        self.closed = True
        self.owner.unlink()

    def _open(self, fullname=None, **kw):
        self.events.append("open")
        assert Path(fullname) == self.path
        self.owner.write_bytes(b"\x0bExcel user")
        new = self.fake._new(xwm.Book, name=self.path.name, fullname=str(fullname),
                             app=self.fake.app)
        self.open_books.append(new)
        return new

    def messages(self):
        return [p for p, kw in self.prompts if kw["buttons"] == "ok"]


@pytest.fixture(scope="module")
def sent(tmp_path_factory):
    """A recomputed 300-account team workbook, as it was emailed."""
    folder = tmp_path_factory.mktemp("sent")
    build_demo(folder / "portfolio.xlsx", n_accounts=300, seed=5)
    recompute_file(folder / "portfolio.xlsx", folder / "sent.xlsx")
    return folder / "sent.xlsx", frames(folder / "sent.xlsx")["tblAccounts"]


@pytest.fixture
def team(sent, tmp_path):
    """The manager's team workbook and two copies that came back, in folders with spaces and
    accents; the manager has an edit typed in Excel and not saved yet."""
    path, acc = sent
    folder = tmp_path / "Équipe commerciale"
    (folder / "Copies reçues").mkdir(parents=True)
    team = folder / "team.xlsx"
    shutil.copyfile(path, team)
    ids = acc["Account ID"].astype(str).tolist()
    claire = folder / "Copies reçues" / "team (Claire).xlsx"
    hugo = folder / "Copies reçues" / "team-HM.xlsx"
    shutil.copyfile(path, claire)
    shutil.copyfile(path, hugo)
    save_table_edits(claire, [TableEdit("tblAccounts", cells={
        (row_of(acc, ids[1]), "Employees"): 111, (row_of(acc, ids[2]), "City"): "Reims"})])
    save_table_edits(hugo, [TableEdit("tblAccounts", cells={
        (row_of(acc, ids[2]), "City"): "Troyes", (row_of(acc, ids[3]), "Sales owner"): "Hugo"})])
    unsaved = [TableEdit("tblAccounts", cells={(row_of(acc, ids[0]), "City"): "Paris"})]
    return types.SimpleNamespace(path=team, copies=[claire, hugo], ids=ids, acc=acc,
                                 unsaved=unsaved)


# --- the dialogs, against xlwings' real surface -------------------------------------------------
def test_windows_dialog_is_excels_getopenfilename(tmp_path):
    s = Session(tmp_path / "team.xlsx", chosen=["C:\\Users\\Hélène\\Mes copies\\team (Claire).xlsx",
                                               "C:\\Users\\Hélène\\Mes copies\\team-HM.xlsx"])
    got = D.ask_files(s.fake.app, "Maillon: choose the copies", "merge", "win32")
    assert [str(p) for p in got] == ["C:\\Users\\Hélène\\Mes copies\\team (Claire).xlsx",
                                     "C:\\Users\\Hélène\\Mes copies\\team-HM.xlsx"]
    (call,) = s.app_api.GetOpenFilename.call_args_list
    assert call.kwargs == {"FileFilter": "Excel workbooks (*.xlsx;*.xlsm),*.xlsx;*.xlsm",
                           "Title": "Maillon: choose the copies", "MultiSelect": True}
    s.app_api.GetOpenFilename.return_value = False  # Cancel
    assert D.ask_files(s.fake.app, "t", "import", "win32") is None
    assert "All files (*.*),*.*" in s.app_api.GetOpenFilename.call_args.kwargs["FileFilter"]


class _Alias:
    def __init__(self, path):
        self.path = path


class _CommandError(Exception):
    def __init__(self, number):
        super().__init__(f"Command failed: OSERROR: {number}")
        self.errornumber = number


def test_macos_dialog_is_choose_file_sent_to_excel_as_xlwings_alert_does(tmp_path, monkeypatch):
    calls = []

    class OSAX:
        def __init__(self, pid=None):
            calls.append(("OSAX", pid))
            self.result = [_Alias("/Users/hélène/Équipe/team (Claire).xlsx"),
                           _Alias("/Users/hélène/Équipe/team-HM.xlsx")]

        def activate(self):
            calls.append(("activate",))

        def choose_file(self, **kw):
            calls.append(("choose_file", kw))
            result = OSAX.next
            if isinstance(result, Exception):
                raise result
            return result

    monkeypatch.setitem(sys.modules, "osax", types.SimpleNamespace(OSAX=OSAX))
    s = Session(tmp_path / "team.xlsx", platform="darwin")
    OSAX.next = [_Alias("/Users/hélène/Équipe/team (Claire).xlsx"),
                 _Alias("/Users/hélène/Équipe/team-HM.xlsx")]
    got = D.ask_files(s.fake.app, "Maillon: choose the copies", "merge", "darwin")
    assert got == [Path("/Users/hélène/Équipe/team (Claire).xlsx"),
                   Path("/Users/hélène/Équipe/team-HM.xlsx")]
    assert calls[:3] == [("OSAX", 4242), ("activate",),
                         ("choose_file", {"with_prompt": "Maillon: choose the copies",
                                          "multiple_selections_allowed": True})]
    OSAX.next = _Alias("/Users/h/one.csv")  # one file: an alias, not a list
    assert D.ask_files(s.fake.app, "t", "import", "darwin") == [Path("/Users/h/one.csv")]
    OSAX.next = _CommandError(-128)  # "User canceled."
    assert D.ask_files(s.fake.app, "t", "import", "darwin") is None
    OSAX.next = _CommandError(-1743)  # not allowed to send Apple events: not a cancel
    with pytest.raises(_CommandError):
        D.ask_files(s.fake.app, "t", "import", "darwin")
    assert s.app_api.mock_calls == []  # no COM on a Mac


# --- refusals: one message, nothing touched ------------------------------------------------------
@pytest.mark.parametrize("platform,fullname,expect", [
    ("win32", "https://contoso.sharepoint.com/sites/sales/Shared Documents/team.xlsx",
     "open from the web"),
    ("darwin", "https://d.docs.live.net/0123456789abcdef/Documents/team.xlsx",
     "open from the web"),
    ("win32", "Book1", "never been saved"),
    ("darwin", "Classeur1", "never been saved"),
    ("win32", "C:\\Users\\h\\team.xls", "Excel workbooks (.xlsx or .xlsm) only"),
])
@pytest.mark.parametrize("run", [LF.run_merge, LF.run_import])
def test_unsaved_or_web_workbooks_are_refused_before_anything(tmp_path, platform, fullname,
                                                              expect, run):
    s = Session(tmp_path / "team.xlsx", platform=platform)
    api = s.fake._state(s.book)["api"]
    if platform == "darwin":
        api.full_name.get.return_value = fullname
    else:
        api.FullName = fullname
    assert run(s.book, platform=platform) == 1
    (message,) = s.messages()
    assert expect in message and "Nothing was changed" in message and "What to do" in message
    assert s.events == [] and s.app_api.GetOpenFilename.call_count == 0


def test_a_read_only_workbook_is_refused(tmp_path):
    s = Session(tmp_path / "team.xlsx")
    s.fake._state(s.book)["api"].ReadOnly = True
    assert LF.run_merge(s.book, platform="win32") == 1
    assert "read-only" in s.messages()[0] and s.events == []


def test_another_run_holding_the_workbook_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(ribbon, "LOCK_DIR", tmp_path / "locks")
    s = Session(tmp_path / "team.xlsx")
    monkeypatch.setattr(xwm.Book, "caller", lambda: s.book)
    held = ribbon.RunLock(str(tmp_path / "team.xlsx"), tmp_path / "locks")
    assert held.acquire()
    try:
        LF.merge_main()
    finally:
        held.release()
    (message,) = s.messages()
    assert "already working on this workbook" in message and "changed nothing" in message
    assert s.events == [] and s.app_api.GetOpenFilename.call_count == 0


def test_cancel_in_the_dialog_or_the_confirmation_changes_nothing(team):
    before = digest(team.path)
    s = Session(team.path, unsaved=team.unsaved)  # GetOpenFilename returns False: Cancel
    assert LF.run_merge(s.book, platform="win32") == 0
    assert s.prompts == [] and s.events == []
    s = Session(team.path, chosen=team.copies, answers=["cancel"], unsaved=team.unsaved)
    assert LF.run_merge(s.book, platform="win32") == 0
    ((prompt, kw),) = s.prompts
    assert kw["buttons"] == "ok_cancel" and "team (Claire).xlsx" in prompt
    assert "save team.xlsx, close it" in prompt and s.events == []
    assert digest(team.path) == before


def test_the_team_workbook_itself_is_not_a_copy(team):
    s = Session(team.path, chosen=[team.path, team.copies[0]])
    assert LF.run_merge(s.book, platform="win32") == 1
    assert "itself" in s.messages()[0] and s.events == []


# --- the merge, end to end -------------------------------------------------------------------
def test_merge_copies_lands_in_the_file_and_reopens_it(team):
    s = Session(team.path, chosen=team.copies, unsaved=team.unsaved)
    assert LF.run_merge(s.book, platform="win32") == 0, s.prompts
    assert s.events == ["save", "close", "open"]
    assert s.owner.exists() and len(s.open_books) == 1  # open again in Excel
    t = frames(team.path)
    acc, ids = t["tblAccounts"], team.ids
    assert acc.loc[row_of(acc, ids[0]), "City"] == "Paris"  # typed in Excel, saved, kept
    assert acc.loc[row_of(acc, ids[1]), "Employees"] == 111  # Claire's
    assert acc.loc[row_of(acc, ids[3]), "Sales owner"] == "Hugo"  # Hugo's
    base_city = team.acc.loc[row_of(team.acc, ids[2]), "City"]
    assert acc.loc[row_of(acc, ids[2]), "City"] == base_city  # a conflict keeps the base
    merge = t["tblMerge"]
    conflict = merge[(merge["Key"].astype(str) == ids[2]) & (merge["Column"] == "City")]
    assert len(conflict) == 1
    assert set(conflict[["team (Claire)", "team-HM"]].iloc[0]) == {"Reims", "Troyes"}
    (message,) = s.messages()
    assert message.startswith("Merge done in") and "Merged 2 copies into team.xlsx" in message
    assert "1 conflict," in message and "Decide each conflict on the Merge sheet" in message
    assert "click Recompute segments" in message and "previous file kept as" in message
    assert "Traceback" not in message


def test_a_copy_that_is_not_a_maillon_workbook_reopens_the_untouched_file(team, tmp_path):
    import openpyxl

    stranger = tmp_path / "budget 2027.xlsx"
    wb = openpyxl.Workbook()
    wb.active["A1"] = "not a team workbook"
    wb.save(stranger)
    s = Session(team.path, chosen=[team.copies[0], stranger], unsaved=team.unsaved)
    assert LF.run_merge(s.book, platform="win32") == 1
    assert s.events == ["save", "close", "open"]
    assert digest(team.path) == s.saved_digest  # exactly as Excel saved it
    (message,) = s.messages()
    assert "Nothing was merged" in message and "budget 2027.xlsx" in message
    assert "open again, as you saved it" in message and "What to do" in message
    assert "Traceback" not in message and s.prompts[-1][1]["mode"] == "critical"


def test_an_unexpected_failure_is_logged_and_the_file_is_untouched(team, monkeypatch, tmp_path):
    import maillon.addin.filemode.merge as M

    monkeypatch.setattr(ribbon, "ERROR_LOG", tmp_path / "live-errors.log")

    def boom(*a, **k):
        raise KeyError("a bug")

    monkeypatch.setattr(M, "merge_files", boom)
    s = Session(team.path, chosen=team.copies, unsaved=team.unsaved)
    assert LF.run_merge(s.book, platform="win32") == 1
    assert s.events == ["save", "close", "open"] and digest(team.path) == s.saved_digest
    (message,) = s.messages()
    assert "Nothing was merged" in message and str(tmp_path / "live-errors.log") in message
    assert "Traceback" not in message
    assert "KeyError" in (tmp_path / "live-errors.log").read_text()


def test_a_workbook_excel_cannot_reopen_says_where_it_is(team):
    s = Session(team.path, chosen=team.copies)
    s.fake._state(s.fake.app)["books"].open.side_effect = OSError("file in use")
    assert LF.run_merge(s.book, platform="win32") == 0
    (message,) = s.messages()
    assert message.startswith("Merge done") and "could not open team.xlsx again" in message
    assert str(team.path) in message


def test_merge_main_is_what_the_merge_addin_runs(team, monkeypatch, tmp_path):
    import maillon_merge

    monkeypatch.setattr(ribbon, "LOCK_DIR", tmp_path / "locks")
    s = Session(team.path, chosen=team.copies)
    monkeypatch.setattr(xwm.Book, "caller", lambda: s.book)
    monkeypatch.setattr(sys, "platform", "win32")
    maillon_merge.main()
    assert s.events == ["save", "close", "open"]
    assert s.messages()[0].startswith("Merge done")
    # and the lock is given back
    lock = ribbon.RunLock(str(team.path), tmp_path / "locks")
    assert lock.acquire()
    lock.release()


# --- Import… ------------------------------------------------------------------------------------
def _accounts_csv(path: Path) -> Path:
    path.write_bytes("\r\n".join([
        "Account Name;Billing City;Employees;Annual Revenue",
        "Fonderie Réunie SAS;Saint-Étienne;1\u00a0200;12,5 M€",
        "Boulangerie Martin;Lyon;12;850 k€",
    ]).encode("cp1252") + b"\r\n")
    return path


def _meetings_csv(path: Path, account: str) -> Path:
    path.write_bytes("\r\n".join([
        "Compte;Date de l'activité;Attribué à;Intention d'achat;Commentaires",
        f"{account};02/12/2026;Claire Morel;Forte;Veut un devis",
    ]).encode("cp1252") + b"\r\n")
    return path


def test_import_adds_accounts_and_says_what_the_command_line_says(team, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "osax", types.SimpleNamespace(OSAX=None))
    (tmp_path / "Salons 2026").mkdir()
    export = _accounts_csv(tmp_path / "Salons 2026" / "prospects été.csv")
    s = Session(team.path, platform="darwin", unsaved=team.unsaved)
    monkeypatch.setattr(D, "_ask_mac", lambda app, title: [export])
    assert LF.run_import(s.book, platform="darwin") == 0
    confirm_prompt = s.prompts[0][0]
    assert "Import into Accounts (tblAccounts)?" in confirm_prompt
    assert "prospects été.csv" in confirm_prompt
    assert s.events == ["save", "close", "open"]
    acc = frames(team.path)["tblAccounts"]
    assert {"Fonderie Réunie SAS", "Boulangerie Martin"} <= set(acc["Account name"])
    assert acc.loc[row_of(acc, team.ids[0]), "City"] == "Paris"  # the unsaved edit kept
    fonderie = acc[acc["Account name"] == "Fonderie Réunie SAS"].iloc[0]
    assert fonderie["Employees"] == 1200
    (message,) = s.messages()
    assert message.startswith("Imported 1 file(s)") and "rows read" in message
    assert "click Recompute segments" in message


def test_import_tells_meetings_by_their_columns_and_asks(team, tmp_path):
    meetings = _meetings_csv(tmp_path / "activités.csv", team.acc["Account name"].iloc[4])
    s = Session(team.path, chosen=[meetings], answers=["yes"])
    before = len(frames(team.path)["tblFeedback"].dropna(how="all"))
    assert LF.run_import(s.book, platform="win32") == 0
    prompt, kw = s.prompts[0]
    assert kw["buttons"] == "yes_no_cancel" and "These look like meetings" in prompt
    assert "Field Feedback" in prompt and "No: import them as accounts" in prompt
    feedback = frames(team.path)["tblFeedback"].dropna(how="all")
    assert len(feedback) == before + 1
    assert feedback.iloc[-1]["Account ID"] == team.acc["Account ID"].iloc[4]
    assert feedback.iloc[-1]["Sales rep"] == "Claire Morel"


def test_files_of_different_kinds_are_refused_unchanged(team, tmp_path):
    before = digest(team.path)
    files = [_accounts_csv(tmp_path / "a.csv"), _meetings_csv(tmp_path / "m.csv", "X")]
    s = Session(team.path, chosen=files)
    assert LF.run_import(s.book, platform="win32") == 1
    (message,) = s.messages()
    assert "different kinds" in message and "a.csv: accounts" in message
    assert s.events == [] and digest(team.path) == before


def test_an_unreadable_export_is_refused_before_the_workbook_is_saved(team, tmp_path):
    bad = tmp_path / "export.csv"
    bad.write_bytes(b"\x00\x01\x02binary" * 100)
    s = Session(team.path, chosen=[bad], unsaved=team.unsaved)
    assert LF.run_import(s.book, platform="win32") == 1
    assert "export.csv" in s.messages()[0] and "not changed" in s.messages()[0]
    assert s.events == []


# --- Recompute segments with decisions typed ----------------------------------------------------
def _merge_layout(path: Path) -> dict:
    """The Merge sheet's table as Excel shows it (header row 4, as the file has it)."""
    found = read_tables(path, ["tblMerge"])["tblMerge"]
    data = found.data
    values = [list(data.columns)] + [[None if v != v else v for v in row]
                                     for row in data.itertuples(index=False)]
    return {"Merge": [("tblMerge", int(data.index[0]) - 1, 1, values)]}


def test_recompute_applies_the_decisions_typed_on_the_merge_sheet(team, monkeypatch, tmp_path):
    from maillon.addin.filemode.merge import merge_files

    merge_files(team.path, team.copies)
    shutil.rmtree(tmp_path / "locks", ignore_errors=True)
    monkeypatch.setattr(ribbon, "LOCK_DIR", tmp_path / "locks")
    merge = frames(team.path)["tblMerge"]
    i = merge.index[(merge["Key"].astype(str) == team.ids[2]) & (merge["Column"] == "City")][0]
    decision = [TableEdit("tblMerge", cells={(i, "Decision"): "team-HM"})]  # typed in Excel
    save_table_edits(team.path, decision)  # (what the fake shows and what Save writes)
    s = Session(team.path, answers=["ok"], layout=_merge_layout(team.path))
    monkeypatch.setattr(xwm.Book, "caller", lambda: s.book)
    monkeypatch.setattr(sys, "platform", "win32")
    assert LF.pending_decisions(s.book) == {"Merge": 1}
    maillon.main()  # the Recompute segments button
    prompt, kw = s.prompts[0]
    assert kw["buttons"] == "ok_cancel" and "1 on the Merge sheet" in prompt
    assert s.events == ["save", "close", "open"]
    acc = frames(team.path)["tblAccounts"]
    assert acc.loc[row_of(acc, team.ids[2]), "City"] == "Troyes"  # the decision applied
    applied = frames(team.path)["tblMerge"]
    assert pd.notna(applied.loc[i, "Applied"])  # and it is not applied twice
    message = s.messages()[0]
    assert message.startswith("Recompute done in") and "decisions typed" in message


def test_recompute_without_decisions_stays_the_live_recompute(tmp_path, monkeypatch):
    s = Session(tmp_path / "team.xlsx")
    monkeypatch.setattr(xwm.Book, "caller", lambda: s.book)
    ran = []
    monkeypatch.setattr(ribbon, "main", lambda route=None: ran.append(route) or 0)
    assert maillon.main() == 0
    # the live recompute, which takes the file route only when its formatting would be slow
    assert ran == [LF.route_formatting] and s.events == [] and s.prompts == []


def test_a_workbook_still_open_elsewhere_is_not_written(team):
    """Another Excel (or a colleague on the share) keeps the file open: the file mode refuses."""
    s = Session(team.path, chosen=team.copies)
    s.fake.book.close.side_effect = lambda: s.events.append("close")  # the owner file stays
    assert LF.run_merge(s.book, platform="win32") == 1
    assert digest(team.path) == s.saved_digest
    (message,) = s.messages()
    assert "is open in Excel" in message and "Nothing was merged" in message


def test_decisions_typed_on_import_review_are_seen_in_the_open_workbook():
    header = ["Review ID", "Kind", "Account ID", "Decision", "Record"]
    fake = FakeExcel({"Import Review": [("tblImportReview", 4, 1, [
        header, ["R1", "Probable duplicate", "A-0001", "Different", "{}"],
        ["R2", "Probable duplicate", "A-0002", None, "{}"],
        ["R3", "Value differs", "A-0003", "  ", "{}"]])],
        "Merge": [("tblMerge", 4, 1, [
            ["Merged at", "Sheet", "Key", "Column", "Decision", "Applied"],
            ["2026-12-01", "Accounts", "A-0001", "City", "Base", "2026-12-01 10:00"]])]})
    # R1 only; the Merge row was applied already
    assert LF.pending_decisions(fake.book) == {"Import Review": 1}
    assert LF.pending_decisions(FakeExcel({"Accounts": []}).book) == {}


@pytest.mark.parametrize("module,button", [("maillon_merge", "Merge copies…"),
                                           ("maillon_import", "Import…")])
def test_the_command_runpython_runs_finds_the_module_and_says_one_thing(tmp_path, module,
                                                                        button):
    """``RunMain`` of maillon_merge.xlam runs, through ExecuteWindows, ``python -B -c "import
    xlwings.utils;xlwings.utils.prepare_sys_path(...); import maillon_merge;
    maillon_merge.main()" --wb=... --from_xl=1`` (xlwings.bas). Outside Excel, Book.caller()
    fails: one message on stderr, exit code 1 (what the VBA shows), no traceback."""
    import os
    import subprocess

    args = ";".join(["False", str(tmp_path / "team.xlsx"), "", "", "", "", ""])
    code = (f"import xlwings.utils;xlwings.utils.prepare_sys_path({args!r}); "
            f"import {module}; {module}.main()")
    env = dict(os.environ, HOME=str(tmp_path), USERPROFILE=str(tmp_path))
    env.pop("PYTHONPATH", None)
    proc = subprocess.run([sys.executable, "-B", "-c", code, "--wb=team.xlsx"],
                          capture_output=True, text=True, cwd=tmp_path, env=env, timeout=120)
    assert proc.returncode == 1
    assert "found no workbook to work on" in proc.stderr and button in proc.stderr
    assert "Traceback" not in proc.stderr


# --- Recompute segments when formatting in Excel would be slow ------------------------------------
@pytest.fixture
def older(sent, tmp_path, monkeypatch):
    """The team workbook, recomputed, whose layout record is gone (an older Maillon wrote it):
    the next live recompute would format every engine sheet."""
    monkeypatch.setattr(ribbon, "LOCK_DIR", tmp_path / "locks")
    path = tmp_path / "Équipe" / "team.xlsx"
    path.parent.mkdir()
    shutil.copyfile(sent[0], path)
    return path


def _click(path, platform="win32", answers=("yes",), **kw):
    from test_live_round_trips import routed_click

    return routed_click(path, platform, answers, older=True, **kw)


def test_no_formats_in_excel_without_saving(older):
    before = digest(older)
    s, code, _ = _click(older, answers=("no",))
    assert code == 0 and s.events == []  # not saved, not closed
    assert digest(older) == before
    props = {p for _, _, p, _ in s.fake.range_sets}
    assert {"number_format", "column_width", "font.bold"} <= props  # the full pass, in Excel
    (message,) = s.messages()
    assert message.startswith("Recompute done in") and "through the file" not in message


@pytest.mark.parametrize("platform", ["win32", "darwin"])
def test_cancel_changes_nothing_and_says_nothing_more(older, platform):
    before = digest(older)
    s, code, _ = _click(older, platform, answers=("cancel",))
    assert code == 0 and s.events == [] and digest(older) == before
    assert not s.fake.writes and not s.fake.range_sets
    ((prompt, kw),) = s.prompts  # the question only
    assert kw["buttons"] == "yes_no_cancel" and "7 sheets" in prompt
    assert "does not say how an earlier recompute formatted them" in prompt
    assert s.fake._state(s.fake.app)["status_bar"] is False  # given back to Excel


@pytest.mark.parametrize("platform,fullname,why", [
    ("win32", "https://contoso.sharepoint.com/sites/sales/Shared Documents/team.xlsx",
     "open from the web"),
    ("darwin", "Classeur1", "has never been saved"),
    ("win32", "C:\\Users\\h\\team.xlsb", "Excel workbooks (.xlsx or .xlsm) only"),
])
def test_a_workbook_the_file_mode_cannot_take_is_formatted_in_excel_and_says_why(
        older, platform, fullname, why):
    from maillon.addin import live_files as LF
    from maillon.addin.live import ribbon as live
    from live_fakes import fake_from_file
    from maillon.addin.render.live_plan import LAYOUT_NAME

    fake = fake_from_file(older)
    del fake.defined_names[LAYOUT_NAME]
    s = Session(older, platform=platform, fake=fake)
    api = s.fake._state(s.book)["api"]
    if platform == "darwin":
        api.full_name.get.return_value = fullname
    else:
        api.FullName = fullname
    assert live.run(s.book, platform=platform, route=LF.route_formatting) == 0
    assert s.events == [] and s.fake.range_sets  # formatted in Excel, not saved
    (message,) = [p for p, _ in s.prompts]  # no question: the closing message only
    assert message.startswith("Recompute done in")
    assert "This recompute formatted 7 sheets" in message and why in message
    assert "takes longer" in message and "Nothing was changed" not in message


def test_the_read_only_workbook_is_formatted_in_excel(older):
    from maillon.addin import live_files as LF
    from maillon.addin.live import ribbon as live
    from live_fakes import fake_from_file
    from maillon.addin.render.live_plan import LAYOUT_NAME

    fake = fake_from_file(older)
    del fake.defined_names[LAYOUT_NAME]
    s = Session(older, fake=fake)
    s.fake._state(s.book)["api"].ReadOnly = True
    assert live.run(s.book, platform="win32", route=LF.route_formatting) == 0
    assert s.events == [] and "open read-only" in s.messages()[0]


def test_a_failure_in_the_file_route_reopens_the_file_as_excel_saved_it(older, monkeypatch,
                                                                        tmp_path):
    import maillon.addin.filemode.recompute as R

    monkeypatch.setattr(ribbon, "ERROR_LOG", tmp_path / "live-errors.log")

    def boom(*a, **k):
        raise KeyError("a bug")
    monkeypatch.setattr(R, "recompute_file", boom)
    s, code, _ = _click(older)
    assert code == 1 and s.events == ["save", "close", "open"]
    assert digest(older) == s.saved_digest and len(s.open_books) == 1
    (message,) = s.messages()
    assert "Nothing was recomputed" in message and "open again, as you saved it" in message
    assert str(tmp_path / "live-errors.log") in message and "Traceback" not in message
    assert not s.fake.writes  # nothing was written into the open workbook either


def test_the_lock_holds_through_the_file_route(older, monkeypatch):
    """A second click (on macOS, a second Python) while the file mode works is refused."""
    import maillon.addin.filemode.recompute as R

    real, tried = R.recompute_file, []

    def second_click_meanwhile(path, out=None, progress=R._noop, **kw):
        lock = ribbon.RunLock(str(older))
        tried.append(lock.acquire())
        if tried[-1]:
            lock.release()
        return real(path, out, progress, **kw)
    monkeypatch.setattr(R, "recompute_file", second_click_meanwhile)
    from live_fakes import fake_from_file
    from maillon.addin.render.live_plan import LAYOUT_NAME

    fake = fake_from_file(older)
    del fake.defined_names[LAYOUT_NAME]
    s = Session(older, answers=["yes"], fake=fake)
    monkeypatch.setattr(xwm.Book, "caller", lambda: s.book)
    monkeypatch.setattr(sys, "platform", "win32")
    assert maillon.main() == 0  # the Recompute segments button, through its lock
    assert tried == [False] and s.events == ["save", "close", "open"]
    assert s.messages()[0].startswith("Recompute done in")
    lock = ribbon.RunLock(str(older))  # and given back at the end
    assert lock.acquire()
    lock.release()
