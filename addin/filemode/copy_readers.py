"""The copies of a merge read in forked processes, while the team workbook is read.

Reading a copy is mostly Python holding the GIL (the Target List's cells found
by regular expressions, python-calamine's grids turned into objects, frames
built), so threads read three copies no faster than one after the other.

On Linux, :class:`CopyReaders` forks worker processes (one fewer than the
cores, at least one) before the team workbook's read starts any thread: each
worker takes the next copy, reads it exactly as
:func:`~maillon.addin.filemode.merge.read_side` does in the parent, and sends
the result back pickled through a pipe, which a thread of the parent drains at
once (a worker never waits for the parent to finish the team workbook). Once
the team workbook is read, the parent reads the copies no worker has taken yet
itself: they need no pickling (about 1.2 s of CPU per 100k-account copy).

Workers are forked only when the machine has some core to spare (its load
average at least ``SPARE`` below its core count): on a machine already busy, a
worker reads no sooner and its pickling is spent for nothing.
``MAILLON_MERGE_PROCESSES=1`` forks whatever the load, ``0`` never.

What the caller sees does not change: :meth:`CopyReaders.results` gives the
copies in the order named, or raises the refusal of the first copy refused in
that order (the same :class:`WorkbookError` a read in the parent raises). A
worker that dies (killed, out of memory) is named as the copy it was reading.
:meth:`CopyReaders.close` (also on any error of the caller: a refused team
workbook comes first) kills the workers still running and waits for them: no
process is left behind, and the workers write no file.

Where fork is not offered or not safe (Windows, macOS, a process that already
runs other threads: the live add-in's), with one copy, or without a spare core,
the copies are read in the parent by ``fallback`` as before.

Standard library only (the parent imports pandas before forking, so that the
workers share it instead of importing it each).
"""
from __future__ import annotations

import os
import pickle
import signal
import sys
import threading
import traceback
from pathlib import Path

from maillon.addin.ooxml.safe_io import WorkbookError

__all__ = ["CopyReaders", "can_fork"]

MAX_WORKERS = 4
#: cores the load average must leave idle for workers to be forked. Measured at 100k
#: accounts on 2 cores: load 1.2-1.5, workers 35.9 s against threads 46.5 s; load 2-3,
#: workers 56.6 s against threads 49.0 s (benchmarks/bench_merge.py)
SPARE = 0.5


def can_fork() -> bool:
    """Fork is safe here: Linux, and no other thread runs in this process
    (``MAILLON_MERGE_PROCESSES=0`` in the environment: never, the copies are read in threads)."""
    import multiprocessing

    return (os.environ.get("MAILLON_MERGE_PROCESSES", "") != "0"
            and sys.platform.startswith("linux")
            and "fork" in multiprocessing.get_all_start_methods()
            and threading.active_count() == 1)


def _cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def spare_cores() -> float:
    """Cores left idle by the rest of the machine (by its load average over the last
    minute)."""
    try:
        return _cpus() - os.getloadavg()[0]
    except (AttributeError, OSError):
        return 0.0


def use_workers(n_copies: int) -> bool:
    """Fork readers for ``n_copies``: fork is safe, and a core is spare (or
    ``MAILLON_MERGE_PROCESSES=1``: whatever the load)."""
    if n_copies < 2 or not can_fork():
        return False
    return os.environ.get("MAILLON_MERGE_PROCESSES", "") == "1" or spare_cores() >= SPARE


def _workers(n: int) -> int:
    """Workers beside this process, which reads the copies no worker has taken yet."""
    return max(1, min(n - 1, _cpus() - 1, MAX_WORKERS))


def _portable(exc: BaseException) -> BaseException:
    """``exc`` if it survives pickling as itself, else a RuntimeError with its traceback."""
    try:
        back = pickle.loads(pickle.dumps(exc))
        if type(back) is type(exc) and str(back) == str(exc):
            return exc
    except Exception:
        pass
    text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    return RuntimeError(f"reading a copy failed: {text}")


def _work(read, paths, claim, conn) -> None:
    """A worker: read the copies it claims, send each result (or refusal) back."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C, then kills us
    try:
        while True:
            with claim.get_lock():
                i = claim.value
                claim.value += 1
            if i >= len(paths):
                break
            conn.send(("start", i, None))
            try:
                out = ("done", i, read(paths[i]))
            except BaseException as exc:  # handed to the parent, which raises it in order
                out = ("error", i, _portable(exc))
            try:
                conn.send(out)
            except Exception as exc:  # a result that cannot be pickled: said, not lost
                conn.send(("error", i, _portable(exc)))
    finally:
        conn.close()


class CopyReaders:
    """Read ``paths`` with ``read(path) -> result`` in forked workers (see the module).

    ``fallback(paths) -> [result, ...]`` reads them in this process when forking
    is not used. Use as a context manager, or call :meth:`close`.
    """

    def __init__(self, paths, read, fallback, *, workers: int | None = None):
        self.paths = [Path(p) for p in paths]
        self.fallback = fallback
        self.forked = use_workers(len(self.paths))
        self._read = read
        self._done: dict[int, tuple] = {}
        self._started: dict[int, int] = {}  # copy -> worker reading it
        self._dead: dict[int, int | None] = {}  # worker -> exit code once its pipe closed
        self._cond = threading.Condition()
        self._procs: list = []
        self._threads: list[threading.Thread] = []
        if not self.forked:
            return
        import multiprocessing

        import numpy  # noqa: F401 - imported once here, shared by the workers
        import pandas  # noqa: F401

        ctx = multiprocessing.get_context("fork")
        claim = self._claim = ctx.Value("i", 0)
        n = _workers(len(self.paths)) if workers is None else max(1, workers)
        pipes = []
        try:
            for k in range(n):  # every fork before any thread of ours starts
                recv, send = ctx.Pipe(duplex=False)
                pipes.append(recv)
                proc = ctx.Process(target=_work, args=(read, self.paths, claim, send),
                                   name=f"maillon-copy-{k}", daemon=True)
                try:
                    proc.start()
                finally:
                    send.close()  # the worker's end: EOF here once the worker is gone
                self._procs.append(proc)
        except BaseException:
            for recv in pipes:
                recv.close()
            self._kill()
            raise
        for k, (recv, proc) in enumerate(zip(pipes, self._procs)):
            t = threading.Thread(target=self._drain, args=(k, recv, proc), daemon=True,
                                 name=f"maillon-copy-pipe-{k}")
            t.start()
            self._threads.append(t)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _drain(self, k: int, conn, proc) -> None:
        try:
            while True:
                try:
                    kind, i, value = conn.recv()
                except (EOFError, OSError):
                    break
                except Exception as exc:  # a result that cannot be unpickled
                    kind, i, value = "error", self._reading(k), _portable(exc)
                    if i is None:
                        break
                with self._cond:
                    if kind == "start":
                        self._started[i] = k
                    else:
                        self._done[i] = (kind, value)
                    self._cond.notify_all()
        finally:
            conn.close()
            proc.join()
            with self._cond:
                self._dead[k] = proc.exitcode
                self._cond.notify_all()

    def _reading(self, k: int) -> int | None:
        with self._cond:
            return next((i for i, w in self._started.items()
                         if w == k and i not in self._done), None)

    def _claim_next(self) -> int | None:
        with self._claim.get_lock():
            i = self._claim.value
            if i >= len(self.paths):
                return None
            self._claim.value += 1
        return i

    def results(self, progress=None) -> list:
        """The results in the order of ``paths``; the first refusal in that order is raised.

        The copies no worker has taken yet are read here first (nothing to pickle), then
        the workers' results are waited for."""
        if not self.forked:
            return self.fallback(self.paths)
        here = set()
        while (j := self._claim_next()) is not None:
            here.add(j)
            with self._cond:
                self._started[j] = -1
            if progress is not None:
                progress(f"Reading {self.paths[j].name}")
            try:
                result = ("done", self._read(self.paths[j]))
            except Exception as exc:  # raised in the order of the copies, below
                result = ("error", exc)
            with self._cond:
                self._done[j] = result
        out = []
        for i, path in enumerate(self.paths):
            if progress is not None and i not in here:
                progress(f"Reading {path.name}")
            with self._cond:
                while True:
                    if i in self._done:
                        kind, value = self._done.pop(i)
                        break
                    k = self._started.get(i)
                    everyone_gone = len(self._dead) == len(self._procs)
                    if (k is not None and k in self._dead) or (k is None and everyone_gone):
                        code = self._dead.get(k) if k is not None else None
                        kind, value = "error", WorkbookError(
                            f"{path.name} could not be read: the process reading it stopped "
                            f"(exit code {code}); nothing was merged.")
                        break
                    self._cond.wait()
            if kind == "error":
                raise value
            out.append(value)
        return out

    def close(self) -> None:
        """Kill the workers still running and wait for them (and the pipes' threads)."""
        for proc in self._procs:
            if proc.is_alive():
                proc.kill()
        for t in self._threads:
            t.join()
        self._kill()
        self._procs, self._threads = [], []

    def _kill(self) -> None:
        for proc in self._procs:
            if proc.is_alive():
                proc.kill()
            proc.join()
