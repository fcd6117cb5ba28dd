"""``maillon import``: the teams' own exports into the workbook's common list, in one save.

Reads an export (CSV or text with any of ``;`` ``,`` tab, or an XLSX: every
cell as text), maps its columns (:mod:`maillon.engine.importing.mapping`,
with the mapping kept on the ``Import Mapping`` sheet), parses its cells
(:mod:`maillon.engine.importing.records`), finds the companies already listed
(:mod:`maillon.engine.importing.dedupe`) and plans the changes
(:mod:`maillon.engine.importing.plan`). Then, in ONE save:

- ``tblAccounts`` (or ``tblFeedback``) changes through the user-table writer
  (:mod:`maillon.addin.ooxml.table_patch`): filled blanks, appended rows, new
  extra columns; nothing else in the sheet changes;
- ``tblImportMapping`` gets the rows of columns it did not know (a new
  ``Import Mapping`` sheet the first time; the user's rows are never changed);
- the ``Import Review`` sheet is rendered by the one renderer
  (:func:`maillon.addin.render.layout.import_review_sheet`) and grafted.

Every other part of the package stays byte-identical; the save is atomic with a
backup, as a recompute's. Bad input (an unreadable file, a file that is not a
table, a cell that cannot be read) raises one message and writes nothing.
"""
from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from maillon.engine import contract as C
from maillon.engine.errors import InputError, Problem
from maillon.addin.ooxml.safe_io import WorkbookError

__all__ = ["ImportSummary", "import_files", "read_export"]

TEXT_SUFFIXES = (".csv", ".txt", ".tsv")
BOOK_SUFFIXES = (".xlsx", ".xlsm")
MAX_TEXT_BYTES = 512 * 1024 ** 2
INTO = ("accounts", "feedback", "needs")


def _noop(message: str) -> None:
    pass


def read_export(path) -> object:
    """An export file as a :class:`~maillon.engine.importing.text.TextTable`; WorkbookError if not one."""
    from maillon.engine.importing.text import Guess, frame_rows, read_text_table

    path = Path(path)
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise WorkbookError(f"{path}: no such file; nothing was changed.") from None
    except OSError as exc:
        raise WorkbookError(f"{path}: cannot be read ({exc.strerror}); nothing was changed.") from None
    suffix = path.suffix.lower()
    if suffix in TEXT_SUFFIXES:
        if size > MAX_TEXT_BYTES:
            raise WorkbookError(f"{path.name}: {size:,} bytes is more than an import reads "
                                f"({MAX_TEXT_BYTES:,}); split the file. Nothing was changed.")
        data = path.read_bytes()
        if b"\x00" in data[:4096] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
            raise WorkbookError(f"{path.name}: not a text file (binary content); export it "
                                f"as CSV or XLSX. Nothing was changed.")
        table = read_text_table(data)
    elif suffix in BOOK_SUFFIXES or suffix == ".xls":
        from maillon.addin.ooxml.safe_io import check_package
        from python_calamine import CalamineWorkbook

        if suffix != ".xls":
            check_package(path, verify_data=False)
        try:
            book = CalamineWorkbook.from_path(str(path))
            sheets = [s for s in book.sheets_metadata if str(s.visible).endswith("Visible")
                      and "Hidden" not in str(s.visible)] or list(book.sheets_metadata)
            rows, name = [], None
            for meta in sheets:
                grid = book.get_sheet_by_name(meta.name).to_python(skip_empty_area=False)
                if any(any(_text(c) for c in r) for r in grid):
                    rows, name = grid, meta.name
                    break
        except WorkbookError:
            raise
        except Exception as exc:  # calamine's errors: one message
            raise WorkbookError(f"{path.name}: not a readable workbook ({exc}); nothing was "
                                f"changed.") from None
        text_rows = [[_text(c) for c in r] for r in rows]
        numbers = {(i, j): float(c) for i, r in enumerate(rows) for j, c in enumerate(r)
                   if isinstance(c, (int, float)) and not isinstance(c, bool)}
        table = frame_rows(text_rows, guesses=[Guess("sheet", repr(name or ""),
                                                      "the first visible sheet with data")],
                           numbers=numbers)
    else:
        raise WorkbookError(f"{path.name}: expected a CSV, TXT or XLSX export; nothing was "
                            f"changed.")
    if not table.headers or not table.rows:
        raise WorkbookError(f"{path.name}: no table found (a header row and at least one row "
                            f"of data are expected); nothing was changed.")
    return table


def _has_table(path: Path, name: str) -> bool:
    from maillon.addin.ooxml.package import list_tables

    return name.casefold() in {n.casefold() for n in list_tables(path)}


def _text(cell) -> str:
    """A workbook cell as the text a user sees (numbers without a spurious ``.0``)."""
    import datetime as dt

    if cell is None or cell == "":
        return ""
    if isinstance(cell, bool):
        return "TRUE" if cell else "FALSE"
    if isinstance(cell, float):
        return str(int(cell)) if cell.is_integer() and abs(cell) < 1e15 else repr(cell)
    if isinstance(cell, (dt.datetime, dt.date)):
        return cell.isoformat()[:10]
    return str(cell)


@dataclass
class ImportSummary:
    files: list[str]
    rows_read: int = 0
    new: int = 0
    matched: int = 0
    to_review: int = 0
    values_differ: int = 0
    unmapped: list[str] = field(default_factory=list)
    to_confirm: list[str] = field(default_factory=list)
    guesses: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    decisions: dict = field(default_factory=dict)
    mapping: list[tuple] = field(default_factory=list)
    backup: Path | None = None
    written: bool = False
    seconds: float = 0.0


def _saved_mapping(table, source: str) -> tuple[dict, set]:
    """``({header: target}, {known headers})`` of the source's rows on Import Mapping."""
    from maillon.engine.normalise import fold

    if table is None:
        return {}, set()
    df = table.data
    saved, known = {}, set()
    for _, r in df.iterrows():
        if str(r.get("Source", "")).strip().casefold() != source.casefold():
            continue
        header = str(r.get("Column in file", "")).strip()
        if not header:
            continue
        known.add(header)
        confirmed = fold(str(r.get("Confirmed", ""))) in ("yes", "oui", "y", "o", "true", "x",
                                                            "1", "vrai", "ok")
        if confirmed and str(r.get("Maps to", "")).strip():
            saved[header] = str(r.get("Maps to")).strip()
    return saved, known


def _check_targets(saved: dict, allowed: set, source: str) -> None:
    from maillon.engine.importing.mapping import KEEP, SKIP

    problems = [Problem("Import Mapping", "tblImportMapping", None, "Maps to", target,
                        f"a column of Accounts, {KEEP} or {SKIP} (source {source!r}, column "
                        f"{header!r})")
                for header, target in saved.items() if target not in allowed | {KEEP, SKIP}]
    if problems:
        raise InputError(problems)


def import_files(workbook, files, *, source: str | None = None, profile: str = "auto",
                 into: str = "accounts", dry_run: bool = False, accept: bool = False,
                 out=None, progress=_noop) -> ImportSummary:
    """Import ``files`` into ``workbook`` (see the module); returns what was done."""
    started = time.perf_counter()
    from maillon.engine.importing.mapping import FEEDBACK_FIELDS, FIELDS, PROFILES, map_columns

    if profile not in PROFILES:
        raise WorkbookError(f"--profile must be one of {', '.join(PROFILES)}; got {profile!r}")
    if into not in INTO:
        raise WorkbookError(f"--into must be one of {', '.join(INTO)}; got {into!r}")
    workbook = Path(workbook)
    from maillon.addin.filemode.recompute import _check_path

    _check_path(workbook)
    progress("Reading the exports")
    tables = [(Path(f), read_export(f)) for f in files]
    progress("Reading the workbook")
    from maillon.addin.filemode.read import read_tables
    from maillon.addin.render.layout import TBL_IMPORT_MAPPING, TBL_IMPORT_REVIEW

    wanted = [C.TBL_ACCOUNTS, TBL_IMPORT_MAPPING, TBL_IMPORT_REVIEW]
    if into == "needs":
        wanted.append(C.TBL_EXPECTATIONS)
    found = read_tables(workbook, wanted)
    if C.TBL_ACCOUNTS not in found:
        raise InputError([Problem(C.SHEET_ACCOUNTS, C.TBL_ACCOUNTS, None, None, None,
                                  "the Accounts table (tblAccounts) is missing: an import adds "
                                  "rows to it")])
    if into == "feedback" and not _has_table(workbook, C.TBL_FEEDBACK):
        raise InputError([Problem(C.SHEET_FEEDBACK, C.TBL_FEEDBACK, None, None, None,
                                  "the Field Feedback table (tblFeedback) is missing")])
    import pandas as pd

    from maillon.engine.importing.plan import (REVIEW_COLUMNS, Working, apply_decisions,
                                               plan_fill, plan_import)
    from maillon.engine.importing.records import parse_records

    accounts = found[C.TBL_ACCOUNTS]
    mapping_table = found.get(TBL_IMPORT_MAPPING)
    review_table = found.get(TBL_IMPORT_REVIEW)
    summary = ImportSummary([str(p) for p, _ in tables])
    from maillon.addin.ooxml.package import parse_ref

    r1, _, r2, _ = parse_ref(accounts.ref)
    work = Working(accounts.data, range(r1 + 1, r2 + 1))
    previous = review_table.data if review_table is not None else \
        pd.DataFrame(columns=REVIEW_COLUMNS)
    previous = previous.reindex(columns=REVIEW_COLUMNS)
    review, decided = (apply_decisions(work, previous) if into != "feedback"
                       else (previous, {}))
    summary.decisions = {k: v for k, v in decided.items() if v}
    new_mapping_rows = []
    feedback_rows = []
    expectations: tuple[str, ...] = ()
    if into == "needs":
        exp = found.get(C.TBL_EXPECTATIONS)
        if exp is not None and "Expectation" in exp.data.columns:
            expectations = tuple(str(e) for e in exp.data["Expectation"].dropna())
        if not expectations:
            raise InputError([Problem(C.SHEET_EXPECTATIONS, C.TBL_EXPECTATIONS, None,
                                      "Expectation", None,
                                      "at least one expectation: a survey's questions are "
                                      "matched to them by name")])
    if into == "feedback":
        allowed = set(FEEDBACK_FIELDS + ("CRM ID",))
    elif into == "needs":
        allowed = {"Account ID", "Account name", "City", "CRM ID", "SIREN", "SIRET",
                   "VAT number", "Website", "Email", "Postal code"}
        allowed |= {C.need_column(e) for e in expectations}
    else:
        allowed = set(FIELDS) | set(accounts.headers)
    for path, table in tables:
        progress(f"Mapping {path.name}")
        from maillon.engine.importing.mapping import detect_profile

        prof = detect_profile(table.headers) if profile == "auto" else profile
        src = source or (prof if prof != "generic" else path.stem)
        saved, known = _saved_mapping(mapping_table, src)
        _check_targets(saved, allowed, src)
        mapping = map_columns(table.headers, prof, saved, into=into,
                              allowed=tuple(allowed), expectations=expectations)
        summary.guesses += [f"{path.name}: {g}" for g in table.guesses]
        summary.guesses.append(f"{path.name}: export: {mapping.profile} (source {src!r})")
        for cm in mapping.columns:
            summary.mapping.append((path.name, cm.header, cm.target, cm.how, cm.confirmed))
            if cm.header not in known:
                new_mapping_rows.append({"Source": src, "Column in file": cm.header,
                                         "Maps to": cm.target,
                                         "Found by": cm.how if cm.how != "fuzzy"
                                         else f"fuzzy {cm.score:.0f}",
                                         "Confirmed": "Yes" if cm.confirmed else ""})
        if accept:
            for cm in mapping.columns:
                cm.confirmed = True
            for r in new_mapping_rows:
                r["Confirmed"] = "Yes"
        pending = mapping.to_confirm()
        summary.to_confirm += [f"{path.name}: {c.header!r} -> {c.target} ({c.how})"
                               for c in pending]
        summary.unmapped += [f"{path.name}: {c.header!r} ({c.target.lower()})"
                             for c in mapping.unmapped()]
        if into == "needs" and not any(f.startswith(C.NEED_PREFIX) for f in mapping.fields()) \
                and not mapping.to_confirm():
            raise WorkbookError(
                f"{path.name}: no question names an expectation of the Expectations sheet "
                f"({', '.join(expectations)}); map the questions on the Import Mapping sheet "
                f"(Maps to: {C.need_column(expectations[0])}, ...). Nothing was changed.")
        if into == "accounts" and "Account name" not in mapping.fields():
            raise WorkbookError(
                f"{path.name}: no column holds the company name (such as Account Name, Nom de "
                f"l'entreprise or Raison sociale) in the header row {table.first_line - 1}; "
                f"headers found: {', '.join(table.headers[:12])}. Nothing was changed.")
        records = parse_records(table, mapping, src, path.name, into=into)
        if records.problems:
            raise _file_problems(path, records.problems)
        summary.rows_read += len(records.frame)
        summary.guesses += [f"{path.name}: {g}" for g in records.guesses]
        summary.notes += [f"{path.name}: {f}" for f in records.flags[:20]]
        if len(records.flags) > 20:
            summary.notes.append(f"{path.name}: … and {len(records.flags) - 20} more")
        if pending:
            summary.notes.append(f"{path.name}: its {len(records.frame):,} rows wait for the "
                                 f"mapping to be confirmed (not counted as new or matched)")
            continue
        progress(f"Finding duplicates in {path.name}")
        if into == "accounts":
            plan = plan_import(work.original, records, work,
                               review_start=_next_number(review))
            review = pd.concat([review, plan.review], ignore_index=True) if len(plan.review) \
                else review
            summary.new += plan.counts["new"]
            summary.matched += plan.counts["matched"]
            summary.to_review += plan.counts["held"]
            summary.values_differ += plan.counts["values differ"]
        elif into == "needs":
            plan = plan_fill(work, records, review_start=_next_number(review))
            review = pd.concat([review, plan.review], ignore_index=True) if len(plan.review) \
                else review
            summary.matched += plan.counts["matched"]
            summary.notes += [f"{path.name}: {n}" for n in plan.notes[:20]]
            if len(plan.notes) > 20:
                summary.notes.append(f"{path.name}: … and {len(plan.notes) - 20} more not "
                                     f"imported")
        else:
            feedback_rows += _feedback_rows(records, work, summary, path.name)
    summary.to_review = int((review["Kind"] == "Probable duplicate").sum()) if len(review) else 0
    summary.values_differ = int((review["Kind"] == "Value differs").sum()) if len(review) else 0
    if dry_run:
        summary.seconds = time.perf_counter() - started
        return summary
    edits = []
    from maillon.addin.ooxml.table_patch import TableEdit

    if not summary.to_confirm:
        cells, new_rows, new_columns = work.edits()
        if cells or new_rows or new_columns:
            edits.append(TableEdit(C.TBL_ACCOUNTS, cells=cells, new_rows=new_rows,
                                   new_columns=new_columns))
        if feedback_rows:
            edits.append(TableEdit(C.TBL_FEEDBACK, new_rows=feedback_rows))
    mapping_spec = None
    if new_mapping_rows:
        if mapping_table is not None:
            edits.append(TableEdit(TBL_IMPORT_MAPPING, new_rows=new_mapping_rows))
        else:
            from maillon.addin.render.layout import IMPORT_MAPPING_COLUMNS, import_mapping_sheet

            mapping_spec = import_mapping_sheet(pd.DataFrame(new_mapping_rows,
                                                             columns=IMPORT_MAPPING_COLUMNS))
    review_spec = None
    if into != "feedback" and (len(review) or review_table is not None) and not summary.to_confirm:
        from maillon.addin.render.layout import import_review_sheet

        review_spec = import_review_sheet(review.reset_index(drop=True))
    progress("Saving")
    summary.backup = _save(workbook, out, edits, [s for s in (review_spec, mapping_spec) if s])
    summary.written = True
    summary.seconds = time.perf_counter() - started
    return summary


def _file_problems(path: Path, problems) -> WorkbookError:
    lines = [f"{len(problems)} problem(s) in {path.name}; nothing was changed."]
    for p in problems:
        value = "is blank" if p.value in (None, "") else f"has {p.value!r}"
        lines.append(f"- {path.name}, row {p.row}, column {p.column!r} {value}: expected "
                     f"{p.expected}")
    return WorkbookError("\n".join(lines))


def _next_number(review) -> int:
    from maillon.engine.importing.plan import _next_review_number

    return _next_review_number(review)


def _feedback_rows(records, work, summary, label: str) -> list[dict]:
    """Meetings as tblFeedback rows, each tied to an account by Account ID, CRM ID or name."""
    from maillon.engine.normalise import name_key

    df = work.df
    by_id = set(str(x) for x in df.get("Account ID", []))
    from maillon.engine.importing.records import crm_column

    crm = crm_column(records.source)
    by_crm: dict[str, str] = {}  # a meeting names its account by any CRM's ID
    for column in [c for c in df.columns if str(c).startswith("CRM ID")]:
        for a, c in zip(df.get("Account ID", []), df[column]):
            if isinstance(c, str) and c:
                by_crm.setdefault(c, str(a))
    by_name: dict[str, str] = {}
    for a, n in zip(df.get("Account ID", []), df.get("Account name", [])):
        if isinstance(n, str):
            by_name.setdefault(name_key(n), str(a))
    from maillon.engine.normalise import salesforce_18

    rows, problems = [], []
    for line, r in records.frame.iterrows():
        account = None
        for value in (r.get("Account ID"), r.get(crm), r.get("Account name")):
            if not isinstance(value, str) or not value:
                continue
            if value in by_id:
                account = value
            elif value in by_crm or salesforce_18(value) in by_crm:
                account = by_crm.get(value) or by_crm[salesforce_18(value)]
            elif name_key(value) in by_name:
                account = by_name[name_key(value)]
            if account is not None:
                break
        if account is None:
            if len(problems) < 20:
                problems.append(Problem(records.source, "feedback", line, "Account",
                                        r.get("Account name") or r.get("Account ID")
                                        or r.get(crm),
                                        "an account of tblAccounts (by Account ID, CRM ID or "
                                        "name): import the accounts first"))
            continue
        row = {c: r[c] for c in C.FEEDBACK_COLUMNS if c in r and r[c] is not None}
        row["Account ID"] = account
        rows.append(row)
    if problems:
        raise _file_problems(Path(label), problems)
    summary.new += len(rows)
    return rows


def _write_edited(source: Path, edits, specs, dest: Path, tmp: Path) -> None:
    """``source`` with ``edits`` (the user-table writer) and ``specs`` grafted, as ``dest``."""
    from maillon.addin.filemode.write import render_skeleton
    from maillon.addin.ooxml.graft import graft
    from maillon.addin.ooxml.package import Package
    from maillon.addin.ooxml.table_patch import patch_parts, write_package

    edited = tmp / f"edited{source.suffix.lower()}"
    with Package(source) as pkg:
        write_package(pkg, edited if specs else dest, patch_parts(pkg, edits))
    if specs:
        rendered = tmp / "rendered.xlsx"
        bodies = render_skeleton(specs, rendered)
        graft(edited, rendered, dest, [s.name for s in specs], bodies=bodies)


def _save(workbook: Path, out, edits, specs) -> Path | None:
    """The edits and the rendered sheets in one guarded, atomic save."""
    from maillon.addin.filemode.recompute import guarded_save

    with guarded_save(workbook, out) as save:
        with tempfile.TemporaryDirectory(prefix="maillon-") as tmp, save.writing() as written:
            _write_edited(save.path, edits, specs, written, Path(tmp))
            return save.commit(written)


def has_decisions(path) -> bool:
    """Whether the workbook's Import Review has a Decision typed (cheap when it has none)."""
    from maillon.addin.ooxml.package import list_tables

    path = Path(path)
    if path.suffix.lower() not in BOOK_SUFFIXES or not path.is_file():
        return False  # the recompute says what is wrong
    try:
        names = list_tables(path)
    except (WorkbookError, OSError, ValueError):
        return False
    if C.TBL_IMPORT_REVIEW.casefold() not in {n.casefold() for n in names}:
        return False
    from maillon.addin.filemode.read import read_tables

    review = read_tables(path, [C.TBL_IMPORT_REVIEW]).get(C.TBL_IMPORT_REVIEW)
    return review is not None and "Decision" in review.data.columns and \
        bool(review.data["Decision"].dropna().astype(str).str.strip().ne("").any())


def recompute_applying_decisions(path, out=None, progress=_noop):
    """A recompute that first applies the decisions typed on Import Review, in one save.

    The decided rows change ``tblAccounts`` through the user-table writer and
    leave the review; the engine then recomputes the result.
    """
    import pandas as pd

    from maillon.addin.filemode.read import read_tables
    from maillon.addin.filemode.recompute import Outcome, guarded_save, recompute_into
    from maillon.addin.ooxml.package import parse_ref
    from maillon.addin.ooxml.table_patch import TableEdit
    from maillon.addin.render.layout import import_review_sheet
    from maillon.engine.importing.plan import REVIEW_COLUMNS, Working, apply_decisions

    started = time.perf_counter()
    path = Path(path)
    with guarded_save(path, out) as save:
        progress("Applying the decisions of Import Review")
        found = read_tables(save.path, [C.TBL_ACCOUNTS, C.TBL_IMPORT_REVIEW])
        edits, specs = [], []
        if C.TBL_ACCOUNTS in found and C.TBL_IMPORT_REVIEW in found:
            accounts = found[C.TBL_ACCOUNTS]
            r1, _, r2, _ = parse_ref(accounts.ref)
            work = Working(accounts.data, range(r1 + 1, r2 + 1))
            previous = found[C.TBL_IMPORT_REVIEW].data.reindex(columns=REVIEW_COLUMNS)
            review, _ = apply_decisions(work, previous)
            cells, new_rows, new_columns = work.edits()
            if cells or new_rows or new_columns:
                edits.append(TableEdit(C.TBL_ACCOUNTS, cells=cells, new_rows=new_rows,
                                       new_columns=new_columns))
            specs.append(import_review_sheet(pd.DataFrame(review).reset_index(drop=True)))
        with tempfile.TemporaryDirectory(prefix="maillon-") as tmp:
            edited = Path(tmp) / f"decided{path.suffix.lower()}"
            _write_edited(save.path, edits, specs, edited, Path(tmp))
            result, backup = recompute_into(edited, save, progress)
    return Outcome(result, save.out, backup, time.perf_counter() - started)
