"""Sheets parsed into grids of cell values, in background threads.

Most of the time spent reading a big workbook goes to python-calamine parsing
sheet XML, which it does without holding the GIL. :class:`GridReader` starts
that work at once and hands the sheets over as they are ready, so the caller
can do something else meanwhile: the file mode imports pandas and
scikit-learn (1.5 to 2 s) while the sheets parse. For that reason this module
uses only the standard library and python-calamine.

Before python-calamine sees a part, it is checked
(:func:`~maillon.addin.ooxml.safe_io.check_package`: a corrupt package, a zip bomb
or an XML entity attack stops there; with ``check_sheets_except``, a sheet
that is not well-formed XML too), and its cells' references are looked for
beyond the tables (:mod:`~maillon.addin.filemode.sheet_scan`), whatever its size. The package is checked first, except
the data of the sheets to parse: each thread checks its sheet just before
parsing it, so the checks of the big sheets run in parallel too. When
:meth:`GridReader.sheets` has given every sheet, every part has been checked.

Example
-------
::

    from maillon.addin.filemode.grids import GridReader
    with GridReader("team.xlsx", ["tblAccounts", "tblSettings"]) as reader:
        import pandas  # runs while the sheets are parsed
        for sheet in reader.sheets():
            print(sheet.name, [asked for asked, _ in sheet.tables], len(sheet.grid))
"""
from __future__ import annotations

import gc
import os
import queue
import threading
from dataclasses import dataclass, field
from pathlib import Path

import python_calamine

from maillon.addin.filemode.sheet_scan import ExtentWatch, Region, needs_trim, trimmed_workbook
from maillon.addin.ooxml.package import (Package, TableInfo, WellFormed, check_sheets, find_table,
                                         tables_in)
from maillon.addin.ooxml.safe_io import WorkbookError, check_package, check_part

__all__ = ["GridReader", "ParsedSheet", "MAX_THREADS"]

MAX_THREADS = 4  # sheets parsed at once (python-calamine frees the GIL while it parses)


@dataclass
class ParsedSheet:
    """One sheet that holds wanted tables, with its cells.

    ``grid`` is python-calamine's grid from row 1 and column A: a list of rows,
    each a list of values (``""`` for a blank cell), all rows the same length.
    """

    name: str
    tables: list[tuple[str, TableInfo]]  # (the name asked for, the table found)
    grid: list[list]
    #: cells python-calamine reads as blank that are not: reference -> error value shown
    errors: dict[str, str] = field(default_factory=dict)
    #: formulas stored without their value (reference)
    uncached: set[str] = field(default_factory=set)


@dataclass
class _Job:
    weight: int  # size of the sheet's XML: big sheets are dealt out first
    sheet: str
    part: str | None  # the sheet's zip member
    tables: list[tuple[str, TableInfo]]
    nrows: int | None  # rows to parse; None: the whole sheet


class GridReader:
    """Parse the sheets holding the tables ``names`` in background threads.

    ``whole`` names tables whose sheet is parsed to its end rather than to the
    table's last row (to see rows a user typed below the table). Tables that
    are not in the workbook are left out; the caller names them in its message.

    ``threads`` caps the parsing threads: each opens its own python-calamine
    workbook, which parses the shared strings again (a caller that reads several
    workbooks at once asks for one).

    ``checked`` names parts whose data the caller checked already in this run
    (:func:`~maillon.addin.ooxml.safe_io.check_part`): the package check skips them.

    ``check_sheets_except``, if given (names of sheets that will be replaced),
    also refuses a package whose other sheets are damaged
    (:func:`~maillon.addin.ooxml.package.check_sheets`): a sheet part missing, or
    not well-formed XML, at any size. The sheets parsed here are checked in the
    pass that inflates them for the package check, the others on their own.

    The cyclic garbage collector is paused from the start until :meth:`close`:
    turning a grid into frames creates millions of containers, and each batch
    would otherwise set off a collection that walks all those already built.
    Nothing read here makes reference cycles.
    """

    def __init__(self, path, names, whole=(), check_sheets_except=None, checked=(),
                 threads: int | None = None):
        self.path = Path(path)
        self.threads = threads  # at most this many parsing threads (None: MAX_THREADS)
        self.checked = list(checked)  # parts whose data the caller has checked already
        self.names = list(names)
        self.whole = list(whole)
        self.replaced = (None if check_sheets_except is None
                         else {n.casefold() for n in check_sheets_except})
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._gc_was_enabled = gc.isenabled()
        gc.disable()
        self._thread = threading.Thread(target=self._run, name="maillon-read", daemon=True)
        self._thread.start()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self) -> None:
        """Wait for the threads to finish and resume the garbage collector."""
        self._thread.join()
        if self._gc_was_enabled:
            self._gc_was_enabled = False
            gc.enable()

    def sheets(self):
        """Yield each :class:`ParsedSheet` as soon as it is parsed.

        Raises the first error met in a thread (:class:`WorkbookError` for a
        damaged or refused file).
        """
        expected = None
        got = 0
        while expected is None or got < expected:
            kind, value = self._queue.get()
            if kind == "error":
                raise value
            if kind == "plan":
                expected = value
                continue
            got += 1
            yield value

    # --- the background work ----------------------------------------------------
    def _run(self) -> None:
        try:
            check_package(self.path, verify_data=False)  # structure, sizes, XML prologs
            jobs = self._jobs()
            if self.replaced is not None:
                with Package(self.path) as pkg:  # the parsed sheets: in _parse
                    check_sheets(pkg, skip=self.replaced, deferred=[j.sheet for j in jobs])
            check_package(self.path, defer=[j.part for j in jobs if j.part] + self.checked)
            self._queue.put(("plan", len(jobs)))
            buckets = _deal(jobs, min(_workers(len(jobs)), self.threads or MAX_THREADS))
            if len(buckets) == 1:
                self._parse(buckets[0])
                return
            threads = [threading.Thread(target=self._parse, args=(b,), daemon=True,
                                        name=f"maillon-read-{i}")
                       for i, b in enumerate(buckets)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
        except Exception as exc:  # handed over to the caller's thread by sheets()
            self._queue.put(("error", exc))

    def _jobs(self) -> list[_Job]:
        with Package(self.path) as pkg:
            catalog = tables_in(pkg)
            sizes, parts = {}, {}
            for s in pkg.sheets:
                info = pkg.info(s.part) if s.part else None
                sizes[s.name] = info.file_size if info is not None else 0
                parts[s.name] = info.filename if info is not None else None
        by_sheet: dict[str, list[tuple[str, TableInfo]]] = {}
        whole = {n.lower() for n in self.whole}
        for asked in self.names:
            info = find_table(catalog, asked)
            if info is not None:
                by_sheet.setdefault(info.sheet, []).append((asked, info))
        jobs = []
        for sheet, items in by_sheet.items():
            to_end = any(asked.lower() in whole for asked, _ in items)
            nrows = None if to_end else max(info.bounds[2] for _, info in items)
            jobs.append(_Job(sizes.get(sheet, 0), sheet, parts.get(sheet), items, nrows))
        return jobs

    def _parse(self, bucket: list[_Job]) -> None:
        """Parse the jobs of one thread, with its own workbook object.

        A CalamineWorkbook cannot be shared between threads ("Already
        borrowed"); opening one costs the shared strings, a few tens of ms.
        """
        try:
            with _open(self.path) as wb:
                for job in bucket:
                    region = Region(job.nrows, max(info.bounds[3] for _, info in job.tables))
                    # references beyond the region that a lying <dimension> or rows out
                    # of order would hide are looked for at any size (see sheet_scan)
                    watch = ExtentWatch(expect=region)
                    if job.part:
                        xml = None
                        if self.replaced is not None and job.sheet.casefold() not in self.replaced:
                            xml = WellFormed(self.path.name, job.sheet, job.part)
                        check_part(self.path, job.part,
                                   on_chunk=watch if xml is None else _each(watch, xml))
                        if xml is not None:
                            xml.close()
                    if job.part and needs_trim(watch, region):
                        # cells far outside the tables: python-calamine would
                        # allocate the sheet's whole bounding box
                        with _open(self.path, trimmed_workbook(self.path, job.part, region)) as small:
                            grid = _read_grid(small, job.sheet, job.nrows, self.path)
                    else:
                        grid = _read_grid(wb, job.sheet, job.nrows, self.path)
                    self._queue.put(("sheet", ParsedSheet(job.sheet, job.tables, grid,
                                                          watch.errors, watch.uncached)))
        except Exception as exc:
            self._queue.put(("error", exc))


def _each(*feeds):
    """One chunk callback that hands each chunk to every one of ``feeds``."""
    def feed(chunk: bytes) -> None:
        for f in feeds:
            f(chunk)
    return feed


def _workers(n_jobs: int) -> int:
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cpus = os.cpu_count() or 1
    return max(1, min(n_jobs, cpus, MAX_THREADS))


def _deal(jobs: list[_Job], n: int) -> list[list[_Job]]:
    """Jobs dealt largest first to the least loaded of ``n`` threads."""
    buckets: list[list[_Job]] = [[] for _ in range(n)]
    load = [0] * n
    for job in sorted(jobs, key=lambda j: -j.weight):
        k = load.index(min(load))
        buckets[k].append(job)
        load[k] += max(job.weight, 1)
    return [b for b in buckets if b]


def _open(path: Path, package=None):
    """A CalamineWorkbook of the file at ``path``, or of ``package`` (a file-like
    copy of part of it)."""
    try:
        if package is None:
            return python_calamine.CalamineWorkbook.from_path(str(path))
        return python_calamine.CalamineWorkbook.from_filelike(package)
    except python_calamine.CalamineError as exc:
        raise WorkbookError(f"{path.name} cannot be read ({exc}).") from None


def _read_grid(wb, sheet: str, nrows: int | None, path: Path) -> list[list]:
    try:
        sh = wb.get_sheet_by_name(sheet)  # the XML parse: python-calamine frees the GIL
        return sh.to_python(skip_empty_area=False, nrows=nrows)
    except python_calamine.CalamineError as exc:
        raise WorkbookError(f"{path.name}: sheet {sheet!r} cannot be read ({exc}).") from None
