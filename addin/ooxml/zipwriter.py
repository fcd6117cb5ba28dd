"""The one zip writer of the file mode: raw member copies, deflated bytes, deflated streams.

Every zip package the file mode writes goes through :class:`ZipWriter`
(XlsxWriter writes the rendered skeleton itself; that file is only read):

* :meth:`ZipWriter.copy_raw` copies a member of a source package as it is
  stored (compressed bytes, CRC, dates, attributes, comment), so a part the
  engine does not own stays byte-identical, and is never decompressed;
* :meth:`ZipWriter.write_bytes` deflates a new member held in memory;
* :meth:`ZipWriter.write_chunks` deflates a new member from an iterable of
  byte chunks (the big worksheet bodies): the chunks are compressed and
  written in a worker thread (zlib and file writes release the GIL) while the
  next chunk is built, and the CRC and sizes are filled into the local header
  afterwards (the output is a seekable file).

Members are plain zip (no zip64): a part or a package over 4 GB is refused
with a :class:`~maillon.addin.ooxml.safe_io.WorkbookError`.

Example
-------
>>> import io, zipfile
>>> buffer = io.BytesIO()
>>> with ZipWriter(buffer) as z:
...     z.write_bytes("a.xml", b"<a/>")
...     z.write_chunks("b.xml", iter([b"<b>", b"text", b"</b>"]))
>>> zipfile.ZipFile(buffer).read("b.xml")
b'<b>text</b>'
"""
from __future__ import annotations

import struct
import zipfile
import zlib
from concurrent.futures import ThreadPoolExecutor

from maillon.addin.ooxml.safe_io import WorkbookError

__all__ = ["ZipWriter", "BIG_PART", "run_pipelined"]

BIG_PART = 4 * 1024 ** 2  # members larger than this are deflated at level 1 (3-4x faster)
_DEFAULT_TIME = (1980, 1, 1, 0, 0, 0)
_LIMIT = 0xFFFFFFFF


def run_pipelined(chunks, sink) -> None:
    """``sink(chunk)`` for each chunk of ``chunks``, in order, in a worker thread.

    Building chunk *n + 1* overlaps the sink of chunk *n* (on two cores, about
    the time of the sink saved). At most one chunk waits while the next is
    built, so memory stays at two chunks. An exception in ``sink`` is raised
    here.
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


def _dos_time(date_time) -> tuple[int, int]:
    y, mo, d, h, mi, s = date_time
    y = max(y, 1980)
    return (h << 11) | (mi << 5) | (s // 2), ((y - 1980) << 9) | (mo << 5) | d


def _without_zip64(extra: bytes) -> bytes:
    """A member's extra field without its zip64 record (sizes fit in 32 bits here)."""
    out, i = b"", 0
    while i + 4 <= len(extra):
        hid, size = struct.unpack("<HH", extra[i:i + 4])
        if hid != 0x0001:
            out += extra[i:i + 4 + size]
        i += 4 + size
    return out


def _stored_name(filename: str) -> tuple[bytes, int]:
    """A member name as zip stores it, and its flag bits (0x800: the name is UTF-8)."""
    try:
        return filename.encode("ascii"), 0
    except UnicodeEncodeError:
        return filename.encode("utf-8"), 0x800


class ZipWriter:
    """Write a zip package member by member into ``fh`` (a binary file, seekable).

    Use it as a context manager, or call :meth:`close` to write the central
    directory. ``fh`` stays open.
    """

    def __init__(self, fh):
        self.fh = fh
        self._central: list[bytes] = []

    def __enter__(self) -> ZipWriter:
        return self

    def __exit__(self, kind, value, tb) -> None:
        if kind is None:
            self.close()

    # -- records ----------------------------------------------------------------
    def _local_header(self, name: bytes, flags, method, date_time, crc, csize, usize):
        t, d = _dos_time(date_time)
        if csize > _LIMIT or usize > _LIMIT:
            raise WorkbookError("the workbook is too large to save (a part exceeds 4 GB).")
        offset = self.fh.tell()
        self.fh.write(struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, flags, method, t, d,
                                  crc, csize, usize, len(name), 0) + name)
        return offset, t, d

    def _central_record(self, name, flags, method, t, d, crc, csize, usize, offset,
                        extra=b"", comment=b"", create=(20, 0), external=0, internal=0):
        if offset > _LIMIT:
            raise WorkbookError("the workbook is too large to save (over 4 GB).")
        version, system = create
        self._central.append(struct.pack(
            "<IBBHHHHHIIIHHHHHII", 0x02014B50, version, system, 20, flags, method, t, d, crc,
            csize, usize, len(name), len(extra), len(comment), 0, internal, external,
            offset) + name + extra + comment)

    # -- members ----------------------------------------------------------------
    def copy_raw(self, src, info: zipfile.ZipInfo) -> None:
        """Copy member ``info`` of the zip file open as ``src`` (binary), compressed bytes as is."""
        src.seek(info.header_offset)
        fixed = src.read(30)
        if fixed[:4] != b"PK\x03\x04":
            raise WorkbookError(f"part {info.filename} has a damaged zip header.")
        nlen, elen = struct.unpack("<HH", fixed[26:30])
        src.seek(info.header_offset + 30 + nlen + elen)
        flags = info.flag_bits & ~0x8  # sizes are in the local header: no data descriptor
        name = info.filename.encode("utf-8" if info.flag_bits & 0x800 else "cp437")
        offset, t, d = self._local_header(name, flags, info.compress_type, info.date_time,
                                          info.CRC, info.compress_size, info.file_size)
        left = info.compress_size
        while left:
            chunk = src.read(min(left, 1 << 20))
            if not chunk:
                raise WorkbookError(f"part {info.filename} is truncated.")
            self.fh.write(chunk)
            left -= len(chunk)
        self._central_record(name, flags, info.compress_type, t, d, info.CRC,
                             info.compress_size, info.file_size, offset,
                             _without_zip64(info.extra), info.comment,
                             (info.create_version, info.create_system), info.external_attr,
                             info.internal_attr)

    def write_bytes(self, filename: str, data: bytes, level: int | None = None,
                    date_time=_DEFAULT_TIME) -> None:
        """Deflate ``data`` as member ``filename`` (``level``: 1 above :data:`BIG_PART`, else 6)."""
        if level is None:
            level = 1 if len(data) > BIG_PART else 6
        comp = zlib.compressobj(level, zlib.DEFLATED, -15)
        packed = comp.compress(data) + comp.flush()
        name, flags = _stored_name(filename)
        crc = zlib.crc32(data)
        offset, t, d = self._local_header(name, flags, zipfile.ZIP_DEFLATED, date_time, crc,
                                          len(packed), len(data))
        self.fh.write(packed)
        self._central_record(name, flags, zipfile.ZIP_DEFLATED, t, d, crc, len(packed),
                             len(data), offset)

    def write_chunks(self, filename: str, chunks, level: int = 1,
                     date_time=_DEFAULT_TIME) -> None:
        """Deflate the byte chunks of the iterable ``chunks`` as member ``filename``.

        Compression runs in a worker thread while the next chunk is produced
        (:func:`run_pipelined`).
        """
        name, flags = _stored_name(filename)
        offset, t, d = self._local_header(name, flags, zipfile.ZIP_DEFLATED, date_time, 0, 0, 0)
        comp = zlib.compressobj(level, zlib.DEFLATED, -15)
        state = [0, 0, 0]  # crc, compressed size, uncompressed size

        def sink(data: bytes) -> None:
            state[0] = zlib.crc32(data, state[0])
            state[2] += len(data)
            packed = comp.compress(data)
            state[1] += len(packed)
            self.fh.write(packed)

        run_pipelined(chunks, sink)
        tail = comp.flush()
        self.fh.write(tail)
        crc, csize, usize = state[0], state[1] + len(tail), state[2]
        if csize > _LIMIT or usize > _LIMIT:
            raise WorkbookError("the workbook is too large to save (a part exceeds 4 GB).")
        end = self.fh.tell()
        self.fh.seek(offset + 14)
        self.fh.write(struct.pack("<III", crc, csize, usize))
        self.fh.seek(end)
        self._central_record(name, flags, zipfile.ZIP_DEFLATED, t, d, crc, csize, usize,
                             offset)

    def close(self) -> None:
        """Write the central directory and its end record."""
        start = self.fh.tell()
        for record in self._central:
            self.fh.write(record)
        size = self.fh.tell() - start
        if len(self._central) > 0xFFFF or start > _LIMIT:
            raise WorkbookError("the workbook is too large to save (too many parts).")
        self.fh.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(self._central),
                                  len(self._central), size, start, 0))
