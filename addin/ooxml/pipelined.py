"""Overlap producing a stream of bytes with consuming it, on two cores."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor


def pipelined(chunks, sink) -> None:
    """``sink(chunk)`` for each chunk of ``chunks``, in order, in a worker thread.

    zlib and file writes release the GIL: compressing or writing chunk *n*
    overlaps building chunk *n + 1* (on two cores, about the time of the sink
    saved). At most one chunk waits while the next is built, so memory stays
    at two chunks. An exception in ``sink`` is raised here.
    """
    with ThreadPoolExecutor(1, thread_name_prefix="maillon-zip") as pool:
        pending = None
        for chunk in chunks:
            job = pool.submit(sink, chunk)
            if pending is not None:
                pending.result()
            pending = job
        if pending is not None:
            pending.result()
