"""Defensive opening of workbook packages: the checks before anything reads them.

Only package-format knowledge lives here: what makes a zip an acceptable
Excel package (:func:`check_package`, :func:`check_part`) and how its XML is
parsed (:func:`parse_xml`). Locks, fingerprints and atomic saves, which know
files and folders but not packages, are in :mod:`maillon.addin.filemode.files`.

Every problem is raised as :class:`WorkbookError` with one sentence that names
the file, so the command line can print it as is and exit with code 1.

Example
-------
::

    from maillon.addin.ooxml.safe_io import WorkbookError, check_package
    try:
        check_package("notes.txt")
    except WorkbookError as exc:
        print(exc)   # notes.txt is not an Excel workbook (.xlsx): it is not a zip package ...
"""
from __future__ import annotations

import re
import struct
import zipfile
import zlib
from contextlib import contextmanager
from pathlib import Path

import defusedxml.ElementTree as DET
from defusedxml import DefusedXmlException

__all__ = [
    "WorkbookError", "check_package", "check_part", "parse_xml",
    "MAX_MEMBERS", "MAX_TOTAL_SIZE", "MAX_MEMBER_SIZE", "MAX_RATIO", "RATIO_MIN_SIZE",
]

# --- limits (a real 1,048,575-row workbook stays far below them) -------------
MAX_MEMBERS = 20_000                 # parts in the zip package
MAX_TOTAL_SIZE = 2 * 1024 ** 3       # declared uncompressed bytes, all parts
MAX_MEMBER_SIZE = 2 * 1024 ** 3 - 1  # one part (also keeps us out of ZIP64)
MAX_RATIO = 200                      # uncompressed / compressed, per part ...
RATIO_MIN_SIZE = 16 * 1024 ** 2      # ... checked on parts larger than this
MAX_PROLOG = 1024 ** 2               # bytes before the root element of an XML part

XML_SUFFIXES = (".xml", ".rels", ".vml")
# bytes decompressed per read when checking a part: each read hands the GIL
# over a few times, and waits for it when another thread is busy (the imports)
CHECK_CHUNK = 4 * 1024 ** 2
PROLOG_CHUNK = 64 * 1024  # when only the prolog is looked at


class WorkbookError(Exception):
    """A workbook that cannot be read or written safely; the message names the file."""


def _name(path) -> str:
    return Path(path).name


# --- XML ----------------------------------------------------------------------
def parse_xml(data: bytes, part: str, path=None):
    """Parse one XML part with defusedxml (no DTD, no entities, no external access).

    Returns the root :class:`xml.etree.ElementTree.Element`. Any problem becomes a
    :class:`WorkbookError` naming the file and the part.
    """
    where = f"{_name(path)} ({part})" if path is not None else part
    try:
        return DET.fromstring(data, forbid_dtd=True, forbid_entities=True,
                              forbid_external=True)
    except DefusedXmlException as exc:
        raise WorkbookError(
            f"{where} is refused: it declares a DTD or XML entities, which a workbook "
            f"never needs ({type(exc).__name__}).") from None
    except DET.ParseError as exc:
        raise WorkbookError(f"{where} is damaged: its XML cannot be read ({exc}).") from None


_PROLOG_TOKEN = re.compile(rb"\s*(<\?.*?\?>|<!--.*?-->)", re.S)


def _prolog_problem(head: bytes, complete: bool) -> str | None:
    """Look at the start of an XML part, up to its root element.

    Returns None when the prolog is clean, "dtd" when it declares a DOCTYPE,
    "more" when more bytes are needed to decide, "long" when the prolog is
    suspiciously long.
    """
    if head.startswith(b"\xef\xbb\xbf"):
        head = head[3:]
    elif head[:2] in (b"\xff\xfe", b"\xfe\xff"):
        try:
            head = head.decode("utf-16", "ignore").encode("utf-8")
        except UnicodeError:  # pragma: no cover - decode with "ignore" never fails
            return "dtd"
    pos = 0
    while True:
        m = _PROLOG_TOKEN.match(head, pos)
        if m:
            pos = m.end()
            continue
        rest = head[pos:].lstrip()
        if not rest:
            return None if complete else "more"
        if rest.startswith(b"<!"):
            if rest[:9].upper().startswith(b"<!DOCTYPE") or rest.startswith(b"<!ENTITY"):
                return "dtd"
            if len(rest) < 9 and not complete:
                return "more"
            return None if rest.startswith(b"<![CDATA[") else "dtd"
        if rest.startswith(b"<?") or rest.startswith(b"<!--"):
            # an unterminated PI or comment: need more bytes
            return "more" if not complete else None
        return None  # the root element (or text, which the XML parser rejects)


# --- the package -------------------------------------------------------------
def check_package(path, *, verify_data: bool = True, defer=()) -> None:
    """Check that ``path`` is a sane Excel zip package before anything reads it.

    - not a file / not a zip / truncated or corrupt zip -> :class:`WorkbookError`;
    - too many parts, too large once uncompressed (declared sizes), a large part
      compressed more than ``MAX_RATIO``:1 (zip bomb), encrypted parts;
    - an XML part that declares a DTD (``<!DOCTYPE``, hence entities);
    - ``verify_data=True`` (default) also decompresses every part once, in
      chunks, and checks its CRC and that it is exactly as long as declared (a
      part that lies about its size is a zip bomb for other readers). Costs
      about 0.5 s per 100 MB of XML.

    ``defer`` names parts whose data is not looked at here (their declared
    sizes are): the caller checks each with :func:`check_part` before it
    reads it, e.g. in the thread that parses it.

    Every error is one sentence naming the file.
    """
    path = Path(path)
    name = path.name
    if not path.is_file():
        raise WorkbookError(f"{name} does not exist or is not a file.")
    if not zipfile.is_zipfile(path):
        raise WorkbookError(_not_a_zip(path))
    deferred = {p.lower() for p in defer}
    with _zip_errors(name), zipfile.ZipFile(path) as zf:
        infos = zf.infolist()
        _check_infos(infos, name)
        if "[Content_Types].xml" not in {i.filename for i in infos}:
            raise WorkbookError(f"{name} is not an Excel workbook: the zip has no "
                                f"[Content_Types].xml part.")
        for info in infos:
            if info.filename.lower() in deferred:
                continue
            if verify_data or info.filename.lower().endswith(XML_SUFFIXES):
                _check_member(zf, info, name, full=verify_data)


def check_part(path, part: str, on_chunk=None) -> None:
    """The data checks of :func:`check_package` (CRC, true size, no DTD) on one part.

    ``on_chunk``, if given, is called with each decompressed chunk of the part,
    in order: a caller that needs to look at the part's bytes does it in the
    same pass.
    """
    path = Path(path)
    with _zip_errors(path.name), zipfile.ZipFile(path) as zf:
        by_lower = {i.filename.lower(): i for i in zf.infolist()}
        info = by_lower.get(part.lower())
        if info is None:
            raise WorkbookError(f"{path.name} is damaged: part {part} is missing.")
        _check_member(zf, info, path.name, full=True, on_chunk=on_chunk)


CFB_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # OLE2 compound file: .xls, encrypted .xlsx


def cfb_stream_names(path, max_entries: int = 4096) -> set[str]:
    """Names in the directory of an OLE2 compound file (empty when it cannot be read).

    Reads the header, follows the directory's sector chain through the FAT, and
    decodes each 128-byte entry's UTF-16 name. Bounded: at most ``max_entries``
    entries, every sector number checked against the file's size.
    """
    names: set[str] = set()
    try:
        with open(path, "rb") as fh:
            head = fh.read(512)
            fh.seek(0, 2)
            size = fh.tell()
            if len(head) < 512 or not head.startswith(CFB_MAGIC):
                return names
            shift = struct.unpack_from("<H", head, 0x1E)[0]
            if shift not in (9, 12):
                return names
            sector = 1 << shift
            n_sectors = max(0, (size - sector) // sector + 1)
            first_dir = struct.unpack_from("<I", head, 0x30)[0]
            difat = [x for x in struct.unpack_from("<109I", head, 0x4C) if x < n_sectors]

            def read_sector(n: int) -> bytes:
                fh.seek((n + 1) * sector)
                return fh.read(sector)

            fat: list[int] = []
            for fs in difat[:64]:  # enough FAT for a directory near the start
                data = read_sector(fs)
                fat.extend(struct.unpack(f"<{len(data) // 4}I", data[:len(data) // 4 * 4]))
            cur, seen = first_dir, set()
            while cur < n_sectors and cur not in seen and len(names) < max_entries:
                seen.add(cur)
                data = read_sector(cur)
                for off in range(0, len(data) - 127, 128):
                    length = struct.unpack_from("<H", data, off + 0x40)[0]
                    if 2 <= length <= 64:
                        names.add(data[off:off + length - 2].decode("utf-16-le", "replace"))
                cur = fat[cur] if cur < len(fat) else n_sectors
    except (OSError, struct.error):
        pass
    return names


def _not_a_zip(path: Path) -> str:
    """Why ``path`` is not a zip package, in the words a user can act on."""
    name = path.name
    try:
        with open(path, "rb") as fh:
            magic = fh.read(8)
    except OSError:
        magic = b""
    if magic == CFB_MAGIC:
        streams = {s.lower() for s in cfb_stream_names(path)}
        if "encryptedpackage" in streams:
            return (f"{name} is protected by a password (it is encrypted), so Maillon cannot "
                    f"read it: open it in Excel and remove the password (File › Info › "
                    f"Protect Workbook › Encrypt with Password, clear it, save), then try "
                    f"again.")
        if "workbook" in streams or "book" in streams:
            return (f"{name} is in the old Excel 97-2003 format (.xls), which Maillon does not "
                    f"read: open it in Excel and save it as an Excel Workbook (.xlsx), then "
                    f"try again.")
        return (f"{name} is an old-style Office file (OLE2), not an Excel workbook (.xlsx): "
                f"open it in Excel and save it as an Excel Workbook (.xlsx).")
    return (f"{name} is not an Excel workbook (.xlsx): it is not a zip package"
            f" (or it is truncated).")


@contextmanager
def _zip_errors(name: str):
    """What the zip and zlib modules raise on a damaged package, as one WorkbookError."""
    try:
        yield
    except WorkbookError:
        raise
    except (zipfile.BadZipFile, zlib.error, EOFError, struct.error, OSError,
            NotImplementedError, ValueError) as exc:
        raise WorkbookError(f"{name} is damaged: its zip package cannot be read ({exc}).") from None


def _check_infos(infos, name: str) -> None:
    if len(infos) > MAX_MEMBERS:
        raise WorkbookError(f"{name} is refused: its package has {len(infos)} parts "
                            f"(limit {MAX_MEMBERS}).")
    total = 0
    for info in infos:
        if info.flag_bits & 0x1:
            raise WorkbookError(f"{name} is encrypted (password protected); remove the "
                                f"password in Excel and try again.")
        if info.file_size > MAX_MEMBER_SIZE:
            raise WorkbookError(f"{name} is refused: part {info.filename} is "
                                f"{info.file_size} bytes once uncompressed (zip bomb?).")
        total += info.file_size
        if info.file_size > RATIO_MIN_SIZE and \
                info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise WorkbookError(
                f"{name} is refused: part {info.filename} expands "
                f"{info.file_size // max(info.compress_size, 1)} times when uncompressed "
                f"(limit {MAX_RATIO}:1), a zip bomb.")
    if total > MAX_TOTAL_SIZE:
        raise WorkbookError(f"{name} is refused: it would take {total / 1024 ** 3:.1f} GB "
                            f"once uncompressed (limit {MAX_TOTAL_SIZE / 1024 ** 3:.0f} GB).")


def _check_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, name: str, full: bool,
                  on_chunk=None) -> None:
    is_xml = info.filename.lower().endswith(XML_SUFFIXES)
    seen = 0
    head = b""
    decided = not is_xml
    # ZipExtFile never returns more than the declared size and checks the CRC at
    # the end; we count the bytes to catch a part shorter than declared.
    with zf.open(info) as fh:
        while True:
            chunk = fh.read(CHECK_CHUNK if full else PROLOG_CHUNK)
            if not chunk:
                break
            seen += len(chunk)
            if on_chunk is not None:
                on_chunk(chunk)
            if not decided:
                head += chunk
                verdict = _prolog_problem(head, complete=False)
                if verdict == "dtd":
                    raise WorkbookError(
                        f"{name} is refused: part {info.filename} declares a DTD or XML "
                        f"entities, which a workbook never needs.")
                if verdict == "more" and len(head) > MAX_PROLOG:
                    raise WorkbookError(f"{name} is refused: part {info.filename} has an "
                                        f"abnormally long XML prolog.")
                decided = verdict != "more"
                if decided:
                    head = b""
            if decided and not full:
                break
    if not decided and _prolog_problem(head, complete=True) == "dtd":
        raise WorkbookError(f"{name} is refused: part {info.filename} declares a DTD or XML "
                            f"entities, which a workbook never needs.")
    if full and seen != info.file_size:
        raise WorkbookError(f"{name} is damaged: part {info.filename} is {seen} bytes, "
                            f"not the {info.file_size} its zip entry declares.")
