"""An exported file's bytes as rows of text: encoding, delimiter, header and footer.

Every choice made is a :class:`Guess`, reported to the user. Pure: bytes in,
rows out; the shell (:mod:`maillon.addin.filemode.importing`) reads the file.

- encoding: a byte-order mark (UTF-8, UTF-16) wins; else strict UTF-8; else
  Windows-1252 (what Excel's "CSV (separator: ;)" writes on a French PC). No
  general detector: left free, detectors take French 1252 text for 1250.
- delimiter: ``;``, ``,`` or tab, whichever splits the first lines into the same,
  largest number of fields (quotes respected).
- header: the first row, among the first 30, that is as wide as the data
  below it and holds only text; rows above it (a report title, "Exported on
  …") are skipped. Footer: trailing rows much narrower than the data
  (``Total``, ``Confidential``, a row count) are skipped.

Example
-------
>>> data = "Rapport des comptes\\n\\nNom;Ville;CA\\nDupont;Lyon;1 234\\nTotal;;1 234\\n".encode("cp1252")
>>> t = read_text_table(data)
>>> t.headers, t.rows, t.first_line
(['Nom', 'Ville', 'CA'], [['Dupont', 'Lyon', '1 234']], 4)
>>> [g.what for g in t.guesses]
['encoding', 'delimiter', 'title rows', 'footer rows']
"""
from __future__ import annotations

import codecs
import csv
import io
from dataclasses import dataclass, field

__all__ = ["Guess", "TextTable", "decode", "sniff_delimiter", "read_text_table", "frame_rows"]

DELIMITERS = (";", ",", "\t")
_NAMES = {";": "semicolon (;)", ",": "comma (,)", "\t": "tab"}


@dataclass(frozen=True)
class Guess:
    """One choice the reader made, and why, in words."""

    what: str
    value: str
    why: str

    def __str__(self) -> str:
        return f"{self.what}: {self.value} ({self.why})"


@dataclass
class TextTable:
    """A file's table as text: ``headers``, ``rows`` (each as long as the headers),
    ``first_line`` (the 1-based line/row of the first data row in the file), and
    the guesses made."""

    headers: list[str]
    rows: list[list[str]]
    first_line: int
    guesses: list[Guess] = field(default_factory=list)
    line_numbers: list[int] = field(default_factory=list)  # file line of each row
    # cells that held a number in a workbook, by (row, column) of ``rows``: their value
    # is used as it is, never read again from text
    numbers: dict = field(default_factory=dict)


_BOMS = [(codecs.BOM_UTF8, "utf-8-sig", "UTF-8"), (codecs.BOM_UTF16_LE, "utf-16", "UTF-16"),
         (codecs.BOM_UTF16_BE, "utf-16", "UTF-16")]


def decode(data: bytes) -> tuple[str, Guess]:
    """``data`` as text and how it was decoded (see the module).

    >>> decode("Société".encode("utf-8-sig"))[1].value, decode("Société".encode("cp1252"))
    ('UTF-8', ('Société', Guess(what='encoding', value='Windows-1252', why='not valid UTF-8')))
    """
    for bom, codec, name in _BOMS:
        if data.startswith(bom):
            return data.decode(codec), Guess("encoding", name, "byte-order mark")
    try:
        return data.decode("utf-8"), Guess("encoding", "UTF-8", "valid UTF-8, no byte-order mark")
    except UnicodeDecodeError:
        pass
    # cp1252 leaves five bytes undefined: keep them readable rather than fail
    return data.decode("cp1252", errors="replace"), Guess("encoding", "Windows-1252",
                                                          "not valid UTF-8")


def sniff_delimiter(text: str, sample_lines: int = 50) -> Guess:
    """The delimiter that splits the first lines into the most, equal, fields.

    >>> sniff_delimiter("a;b;c\\n1,5;2;3\\n").value, sniff_delimiter("a,b\\n1,2\\n").value
    (';', ',')
    """
    lines = text.splitlines()[:sample_lines]
    best, best_score = None, (0, 0)
    for d in DELIMITERS:
        widths = [len(r) for r in csv.reader(lines, delimiter=d) if any(c.strip() for c in r)]
        if not widths:
            continue
        common = max(set(widths), key=lambda w: (widths.count(w), w))
        score = (common if common > 1 else 0, widths.count(common))
        if score > best_score:
            best, best_score = d, score
    if best is None:
        return Guess("delimiter", ",", "no delimiter found: one column")
    return Guess("delimiter", best, f"{_NAMES[best]} splits {best_score[1]} of the first "
                                    f"lines into {best_score[0]} fields")


def _is_text_label(cell: str) -> bool:
    from maillon.engine.normalise import parse_date, parse_number

    c = cell.strip()
    return bool(c) and parse_number(c) is None and parse_date(c) is None


_FOOTER_WORDS = ("total", "sous-total", "sous total", "grand total", "somme", "sum", "count",
                 "nombre de", "confidential", "confidentiel", "exported", "exporte", "genere",
                 "generated", "copyright", "©")


def _is_total(row: list[str]) -> bool:
    """A footer's first cell: ``Total``, ``Confidentiel``, ``Exported by …``."""
    from maillon.engine.normalise import fold

    first = next((c for c in row if c), "")
    return fold(first).startswith(_FOOTER_WORDS)


def frame_rows(rows: list[list[str]], line_numbers: list[int] | None = None,
               guesses: list[Guess] | None = None, numbers: dict | None = None) -> TextTable:
    """Find the header and the footer in rows of text; rows are padded to the header's width.

    >>> t = frame_rows([["Export"], ["Name", "City", "Size"], ["A", "Lyon", "2"], ["B", "", "3"],
    ...                 ["C", "Nice", "1"], ["3 rows"]])
    >>> t.headers, t.rows[1], t.first_line, len(t.rows)
    (['Name', 'City', 'Size'], ['B', '', '3'], 3, 3)
    >>> for g in t.guesses: print(g)
    title rows: 1 skipped (above the header on row 2)
    footer rows: 1 skipped (row 6: a total or much narrower than the data)
    """
    guesses = list(guesses or [])
    typed = numbers
    numbers = line_numbers or list(range(1, len(rows) + 1))
    rows = [[c.strip() for c in r] for r in rows]
    filled = [sum(1 for c in r if c) for r in rows]
    # the data's width: what most of the non-blank rows fill, at most
    body = sorted(f for f in filled if f)
    if not body:
        return TextTable([], [], 1, guesses)
    typical = body[(3 * len(body)) // 4]
    header_at = None
    for i, (r, f) in enumerate(zip(rows[:30], filled[:30])):
        if f and f >= max(2, 0.6 * typical) or (typical == 1 and f == 1):
            if all(_is_text_label(c) for c in r if c):
                header_at = i
                break
    if header_at is None:
        header_at = next(i for i, f in enumerate(filled) if f)
    width = max(i for i, c in enumerate(rows[header_at]) if c) + 1
    headers = rows[header_at][:width]
    if header_at:
        skipped = sum(1 for f in filled[:header_at] if f)
        guesses.append(Guess("title rows", f"{skipped} skipped" if skipped else "none",
                             f"above the header on row {numbers[header_at]}"))
    data = list(range(header_at + 1, len(rows)))
    end = len(data)
    while end and not filled[data[end - 1]]:
        end -= 1
    footer = 0
    while end and footer < 5 and (_is_total(rows[data[end - 1]]) or width >= 3
                                  and filled[data[end - 1]] <= max(1, width // 4)):
        end -= 1
        footer += 1
        while end and not filled[data[end - 1]]:
            end -= 1
    guesses.append(Guess("footer rows", f"{footer} skipped" if footer else "none",
                         f"row {numbers[data[end]]}: a total or much narrower than the data" if footer
                         else "the last rows are as wide as the data"))
    kept = [i for i in data[:end] if filled[i]]
    out = []
    for i in kept:
        r = rows[i][:width]
        out.append(r + [""] * (width - len(r)))
    first = numbers[kept[0]] if kept else numbers[header_at] + 1
    values = {}
    if typed:
        position = {row: i for i, row in enumerate(kept)}
        values = {(position[r], c): v for (r, c), v in typed.items()
                  if r in position and c < width}
    return TextTable(headers, out, first, guesses, [numbers[i] for i in kept], values)


def read_text_table(data: bytes) -> TextTable:
    """A CSV or text export's bytes as a :class:`TextTable` (see the module)."""
    text, enc = decode(data)
    delim = sniff_delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delim.value)
    rows, numbers = [], []
    line = 1
    for row in reader:
        rows.append(row)
        numbers.append(line)
        line = reader.line_num + 1
    return frame_rows(rows, numbers, [enc, delim])
