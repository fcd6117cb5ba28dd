"""Text as exports really write it, read by meaning: numbers, dates, names, identifiers.

Pure functions over ``str`` (no pandas, no files), used by the import
(:mod:`maillon.engine.importing`) and meant to be shared with any other part
that compares values "by meaning" (the merge's normalisers may be unified here).

- numbers: decimal comma or point, thousands grouped by a space, U+00A0 or
  U+202F (what French software writes), ``.`` or ``,``; ``k€``/``M€``/``K``/``M``
  multipliers; a currency sign or ``%`` is dropped. pandas' C parser is not
  used: with ``thousands="\\u202f"`` it turns ``03/04/2024`` into ``3042024``.
- dates: day first (``01/12/2026`` is 1 December 2026) unless told otherwise;
  ISO ``2026-12-01``; an optional time after it is ignored.
- names: accents folded, ``&`` -> ``et``, punctuation removed, legal forms
  (SARL, S.A.R.L., SAS, SA, GmbH, Ltd, ...) removed at either end.
- identifiers stay text: leading zeros are kept; a Salesforce 15-character
  ID becomes its 18-character case-safe form; SIREN/SIRET/FR VAT are checked
  with python-stdnum (La Poste's SIRET exception included).

Examples
--------
>>> parse_number("1\\u202f234,50 €"), parse_number("12 k€"), parse_number("1,5 M€")
(1234.5, 12000.0, 1500000.0)
>>> parse_date("01/12/2026")
datetime.date(2026, 12, 1)
>>> name_key("S.A.R.L. Dupont & Fils"), name_key("Dupont et fils SAS")
('dupont et fils', 'dupont et fils')
>>> salesforce_18("001A0000006Vm9r")
'001A0000006Vm9rIAC'
>>> siren_from("732 829 320 00074")
('732829320', True)
"""
from __future__ import annotations

import datetime as dt
import re
import unicodedata
from functools import lru_cache

from stdnum.fr import siren, siret, tva

__all__ = ["fold", "name_key", "city_key", "parse_number", "parse_date", "salesforce_18",
           "siren_from", "web_domain", "postcode_departement", "clean_text",
           "LEGAL_FORMS", "FREE_MAIL_DOMAINS"]

# spaces that French software writes inside numbers and names
_SPACES = "\u00a0\u202f\u2007\u2009\u200a\u3000\t"
_SPACE_TABLE = str.maketrans({c: " " for c in _SPACES})


def clean_text(value) -> str:
    """A cell's text with odd spaces made plain, trimmed; ``None`` -> ``""``.

    >>> clean_text("\\u00a0 Lyon\\u202f ")
    'Lyon'
    """
    if value is None:
        return ""
    return str(value).translate(_SPACE_TABLE).strip()


def fold(text: str) -> str:
    """Lower case without accents (``é`` -> ``e``, ``ß`` -> ``ss``, ``œ`` -> ``oe``).

    >>> fold("Société Générale ŒUVRES")
    'societe generale oeuvres'
    """
    text = clean_text(text).casefold()
    if text.isascii():
        return text
    text = text.replace("œ", "oe").replace("æ", "ae")
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


# Legal forms, written as they are after folding and punctuation removal
# ("S.A.R.L." -> "s a r l", kept here as the joined "sarl" too).
LEGAL_FORMS = frozenset("""
sarl sas sasu sa eurl sci snc scop scic selarl selas sca gie eirl ei ets etablissements cie
gmbh ag kg ohg ug ltd limited llc llp inc incorporated corp corporation plc co bv nv
srl spa sl sau oy ab as aps
""".split())
# joined forms of dotted abbreviations: "s a r l" -> "sarl"
_DOTTED = re.compile(r"\b((?:[a-z] ){1,4}[a-z])\b")
_NON_WORD = re.compile(r"[^0-9a-z]+")
_SINGLE = re.compile(r"\b[a-z] [a-z]\b")


def _words(text: str) -> list[str]:
    text = fold(text).replace("&", " et ").replace("+", " et ")
    text = _NON_WORD.sub(" ", text)
    if _SINGLE.search(text):  # only then can there be a dotted abbreviation
        text = _DOTTED.sub(lambda m: m.group(1).replace(" ", ""), text)
    return text.split()


@lru_cache(maxsize=1 << 16)
def _name_key(name: str) -> str:
    words = _words(name)
    if not words:
        return ""
    start, end = 0, len(words)
    while start < end and words[start] in LEGAL_FORMS:
        start += 1
    while end > start and (words[end - 1] in LEGAL_FORMS
                           or words[end - 1] in ("et", "and") and end < len(words)):
        end -= 1  # "Dupont SAS et Cie": the "et" before a removed form goes too
    kept = words[start:end] or words
    return " ".join(kept)


def name_key(name) -> str:
    """A company name reduced to what identifies it, for comparison.

    Accents folded, ``&`` -> ``et``, punctuation removed, legal forms removed at
    either end (however many: ``SAS Dupont SARL`` -> ``dupont``); a legal form
    in the middle stays (``Les Ateliers SA de Lyon`` keeps its ``sa``). A name
    that is only a legal form keeps it.

    >>> name_key("DUPONT S.A.R.L."), name_key("Müller GmbH"), name_key("Ateliers d'Élise, Ltd.")
    ('dupont', 'muller', 'ateliers d elise')
    >>> name_key("Perrin SAS et Cie"), name_key("Cie des Eaux et Forêts")
    ('perrin', 'des eaux et forets')
    """
    return _name_key(str(name))


_CITY_ARRONDISSEMENT = re.compile(r"\b(\d{1,2})\s*(e|er|eme|ieme)?\s*(arrondissement|arr)?$")
_SAINT = re.compile(r"\b(st|ste)\b")


def city_key(city) -> str:
    """A city for comparison: folded, hyphens as spaces, ``St`` -> ``saint``, a trailing
    arrondissement (``Paris 8e``) and CEDEX removed.

    >>> city_key("PARIS 8E"), city_key("St-Étienne Cedex 2"), city_key("Lyon")
    ('paris', 'saint etienne', 'lyon')
    """
    return _city_key(str(city))


@lru_cache(maxsize=1 << 14)
def _city_key(city: str) -> str:
    text = fold(city)
    text = re.sub(r"\bcedex\b.*$", "", text)
    text = _NON_WORD.sub(" ", text).strip()
    text = _CITY_ARRONDISSEMENT.sub("", text).strip()
    text = _SAINT.sub(lambda m: "saint" if m.group(1) == "st" else "sainte", text)
    return " ".join(text.split())


# --------------------------------------------------------------------- numbers
_MULTIPLIERS = {"k": 1e3, "m": 1e6, "md": 1e9, "mds": 1e9, "mrd": 1e9, "bn": 1e9, "b": 1e9}
_NUMBER = re.compile(
    r"^(?P<sign>[-+−])?\s*(?P<cur1>[€$£])?\s*(?P<num>[0-9][0-9 .,']*)\s*"
    r"(?P<mult>k|m|md|mds|mrd|bn|b)?\s*(?P<cur2>€|eur|euros?|\$|usd|£|gbp|%)?$")


def _split_decimal(num: str, decimal: str | None) -> tuple[str, str] | None:
    """Integer and fraction digits of ``num`` (digits with separators), or None if unreadable."""
    num = num.replace(" ", "").replace("'", "")
    if not num:
        return None
    dots, commas = num.count("."), num.count(",")
    if dots and commas:  # both: the last one written is the decimal mark
        dec = "." if num.rfind(".") > num.rfind(",") else ","
    elif dots + commas == 0:
        return num, ""
    else:
        mark = "." if dots else ","
        count = dots or commas
        tail = num.rsplit(mark, 1)[1]
        if count > 1:
            dec = "," if mark == "." else "."  # 1.234.567: grouping only
        elif decimal is not None:
            dec = decimal
        else:  # one mark: a decimal unless it groups exactly three digits (1,234 / 1.234)
            dec = mark if len(tail) != 3 else ("," if mark == "." else ".")
    thousands = "," if dec == "." else "."
    whole, _, frac = num.partition(dec) if dec in num else (num, "", "")
    groups = whole.split(thousands)
    if len(groups) > 1 and (not groups[0] or any(len(g) != 3 for g in groups[1:])):
        return None  # 12.34.5: not a grouping
    whole = "".join(groups)
    if not whole.isdigit() or (frac and not frac.isdigit()) or dec in frac:
        return None
    return whole, frac


def parse_number(text, decimal: str | None = None) -> float | None:
    """A number written as people write it, or None when the text is not one.

    ``decimal`` is the decimal mark when known (``","`` or ``"."``); by default
    a lone mark followed by exactly three digits is read as grouping
    (``1,234`` = 1234) and any other lone mark as decimal (``1,5`` = 1.5).
    A number already read as a number (an XLSX cell) is returned as it is.

    >>> parse_number("1 234 567"), parse_number("1.234.567,8"), parse_number("-3,5 %")
    (1234567.0, 1234567.8, -3.5)
    >>> parse_number("1,234", decimal=","), parse_number("n/a"), parse_number("03/04/2024")
    (1.234, None, None)
    """
    if isinstance(text, bool):
        return None
    if isinstance(text, (int, float)):
        return float(text)
    s = clean_text(text).lower()
    if not s:
        return None
    if s.startswith("(") and s.endswith(")"):  # accounting negative
        s = "-" + s[1:-1].strip()
    m = _NUMBER.match(s)
    if not m:
        return None
    parts = _split_decimal(m.group("num").strip(), decimal)
    if parts is None:
        return None
    whole, frac = parts
    value = float(f"{whole}.{frac}" if frac else whole)
    if m.group("mult"):
        value *= _MULTIPLIERS[m.group("mult")]
    if m.group("sign") in ("-", "−"):
        value = -value
    return value


# ----------------------------------------------------------------------- dates
_DMY = re.compile(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{2}|\d{4})(?:[ T].*)?$")
_YMD = re.compile(r"^(\d{4})[/.\-](\d{1,2})[/.\-](\d{1,2})(?:[ T].*)?$")
_MONTHS = {}
for _i, _names in enumerate([
        "jan janv janvier january", "feb fev fevr fevrier february", "mar mars march",
        "apr avr avril april", "may mai", "jun juin june", "jul juil juillet july",
        "aug aou aout august", "sep sept septembre september", "oct octobre october",
        "nov novembre november", "dec decembre december"], start=1):
    for _n in _names.split():
        _MONTHS[_n] = _i
_WORDY = re.compile(r"^(\d{1,2})(?:er)?\s+([a-z]+)\.?\s+(\d{4})$")


def _year(text: str) -> int:
    y = int(text)
    return y + (2000 if y < 70 else 1900) if len(text) == 2 else y


def parse_date(text, dayfirst: bool = True) -> dt.date | None:
    """A date as exports write it, or None when the text is not one.

    Day first by default (``01/12/2026`` is 1 December); ``dayfirst=False``
    reads ``12/01/2026`` as 1 December (US exports). ISO dates and French or
    English month names are read either way; a time after the date is ignored.
    A ``date``/``datetime`` already read as one is returned as a ``date``.

    >>> parse_date("1er décembre 2026"), parse_date("2026-12-01 09:30"), parse_date("31/02/2026")
    (datetime.date(2026, 12, 1), datetime.date(2026, 12, 1), None)
    >>> parse_date("12/31/2026", dayfirst=False)
    datetime.date(2026, 12, 31)
    """
    if isinstance(text, dt.datetime):
        return text.date()
    if isinstance(text, dt.date):
        return text
    s = clean_text(text)
    if not s:
        return None
    try:
        m = _YMD.match(s)
        if m:
            return dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        m = _DMY.match(s)
        if m:
            a, b, y = int(m.group(1)), int(m.group(2)), _year(m.group(3))
            day, month = (a, b) if dayfirst else (b, a)
            return dt.date(y, month, day)
        m = _WORDY.match(fold(s))
        if m and m.group(2) in _MONTHS:
            return dt.date(int(m.group(3)), _MONTHS[m.group(2)], int(m.group(1)))
    except ValueError:  # 31/02
        return None
    return None


def date_order(texts) -> str | None:
    """``"day first"`` or ``"month first"`` when some of ``texts`` (``a/b/yyyy``) settle it.

    >>> date_order(["03/04/2024", "25/04/2024"]), date_order(["04/25/2024"]), date_order(["03/04/2024"])
    ('day first', 'month first', None)
    """
    day_first = month_first = False
    for t in texts:
        m = _DMY.match(clean_text(t))
        if m:
            a, b = int(m.group(1)), int(m.group(2))
            day_first |= a > 12 >= b
            month_first |= b > 12 >= a
    if day_first == month_first:
        return None
    return "day first" if day_first else "month first"


# ----------------------------------------------------------------- identifiers
_SF_ID = re.compile(r"^[a-zA-Z0-9]{15}$")
_SF_SUFFIX = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"


def salesforce_18(value: str) -> str:
    """A Salesforce 15-character (case-sensitive) ID as its 18-character case-safe form.

    Any other text is returned as it is (trimmed). The suffix encodes which of
    each five characters are upper case, as Salesforce computes it.

    >>> salesforce_18("001A0000006Vm9r"), salesforce_18("001A0000006Vm9rIAC"), salesforce_18("ACC-01")
    ('001A0000006Vm9rIAC', '001A0000006Vm9rIAC', 'ACC-01')
    """
    s = clean_text(value)
    if not _SF_ID.match(s) or not any(c.isdigit() for c in s[:3]):
        return s
    suffix = ""
    for i in range(3):
        chunk = s[5 * i:5 * i + 5]
        bits = sum(1 << j for j, c in enumerate(chunk) if "A" <= c <= "Z")
        suffix += _SF_SUFFIX[bits]
    return s + suffix


def _digits(value) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return re.sub(r"[\s.\-/]", "", clean_text(value)).upper()


def siren_from(value) -> tuple[str, bool]:
    """The SIREN of a SIREN, a SIRET or a French VAT number, and whether it is valid.

    Returns ``("", False)`` for a blank; an invalid identifier comes back as
    written (compacted) with ``False``: it is flagged, never used to match.
    La Poste's SIRETs (SIREN 356 000 000) follow their own check, as
    python-stdnum knows.

    >>> siren_from("FR 40 303 265 045"), siren_from("356000000 49837"), siren_from("123456789")
    (('303265045', True), ('356000000', True), ('123456789', False))
    """
    s = _digits(value)
    if not s:
        return "", False
    if s.startswith("FR") and len(s) == 13:
        if tva.is_valid(s):
            tail = s[4:]
            return tail, siren.is_valid(tail)
        return s, False
    if s.isdigit() and len(s) == 14:
        return (siret.to_siren(s), True) if siret.is_valid(s) else (s, False)
    if s.isdigit() and len(s) in (8, 9):  # a leading zero lost by a spreadsheet
        s = s.zfill(9)
        return s, siren.is_valid(s)
    return s, False


def siret_valid(value) -> bool:
    """Whether ``value`` is a valid SIRET (14 digits, Luhn or La Poste's rule).

    >>> siret_valid("73282932000074"), siret_valid("73282932000075")
    (True, False)
    """
    return siret.is_valid(_digits(value))


# web mail providers: a shared domain says nothing about the company
FREE_MAIL_DOMAINS = frozenset("""
gmail.com googlemail.com hotmail.com hotmail.fr outlook.com outlook.fr live.com live.fr msn.com
yahoo.com yahoo.fr orange.fr wanadoo.fr free.fr sfr.fr laposte.net neuf.fr bbox.fr icloud.com
me.com gmx.fr gmx.com aol.com protonmail.com proton.me
""".split())
_DOMAIN = re.compile(r"^(?:[a-z][a-z0-9+.\-]*://)?(?:[^@/\s]+@)?(?:www\d?\.)?([a-z0-9\-]+(?:\.[a-z0-9\-]+)+)")


def web_domain(value) -> str:
    """The web domain of a web address or e-mail (``""`` when none or a web-mail domain).

    >>> web_domain("https://www.Dupont-SA.fr/contact"), web_domain("j.martin@dupont-sa.fr")
    ('dupont-sa.fr', 'dupont-sa.fr')
    >>> web_domain("jean@gmail.com"), web_domain("n/a")
    ('', '')
    """
    s = fold(value)
    m = _DOMAIN.match(s)
    if not m:
        return ""
    domain = m.group(1).strip(".")
    return "" if domain in FREE_MAIL_DOMAINS else domain


def postcode_departement(value) -> str:
    """The département of a French postcode (``2A``/``2B`` for Corsica, ``971``… overseas).

    >>> postcode_departement("69003"), postcode_departement("1000"), postcode_departement("20090")
    ('69', '01', '2A')
    """
    s = _digits(value)
    if not s.isdigit() or len(s) not in (4, 5):
        return ""
    s = s.zfill(5)
    if s.startswith("97") or s.startswith("98"):
        return s[:3]
    if s.startswith("20"):
        return "2A" if s < "20200" else "2B"
    return s[:2]
