"""An export's rows of text, mapped, as typed records: numbers, dates, statuses, identifiers.

Every cell arrives as text (:mod:`maillon.engine.importing.text`) and is read
here by :mod:`maillon.engine.normalise`, per column: the decimal mark and the
date order of a column are decided once from all its cells (and reported);
identifiers stay text. A cell that cannot be read as what its column holds is
a :class:`~maillon.engine.errors.Problem` naming the file, row and column.

The result's frame has one row per record (index: the file's row number), a
column per mapped field and per kept column, and the matching keys the
duplicate search uses: ``_name``, ``_city``, ``_dept``, ``_siren``, ``_domain``,
``_crm``, ``_id`` (blank when absent or invalid).

Example
-------
>>> from maillon.engine.importing.mapping import map_columns
>>> from maillon.engine.importing.text import TextTable
>>> t = TextTable(["Nom du compte", "Effectif", "SIRET", "Date de dernière activité"],
...               [["Dupont SARL", "1\\u00a0200", "73282932000074", "01/12/2026"]], 2)
>>> r = parse_records(t, map_columns(t.headers), source="crm")
>>> row = r.frame.iloc[0]
>>> row["Account name"], row["Employees"], row["_siren"], str(row["Last contact"])
('Dupont SARL', 1200, '732829320', '2026-12-01')
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import pandas as pd

from maillon.engine import contract as C
from maillon.engine.errors import Problem
from maillon.engine.importing.mapping import KEEP, SKIP, Mapping
from maillon.engine.importing.text import Guess, TextTable
from maillon.engine.normalise import (city_key, clean_text, date_order, fold, name_key,
                                      parse_date, parse_number, postcode_departement,
                                      salesforce_18, siren_from, siret_valid, web_domain)

__all__ = ["Records", "parse_records", "add_keys", "crm_column", "status_of", "KEY_COLUMNS", "NUMBER_FIELDS"]

NUMBER_FIELDS = ("Employees", "Revenue 12m", "Potential", "Annual revenue")
WHOLE_FIELDS = ("Employees",)
DATE_FIELDS = ("Last contact", "Date")
KEY_COLUMNS = ("_name", "_city", "_dept", "_siren", "_domain", "_crm", "_id")
MAX_PROBLEMS = 20

# SIRENE's "tranche d'effectif" codes -> the band's lower bound
_TRANCHES = {"NN": None, "00": 0, "01": 1, "02": 3, "03": 6, "11": 10, "12": 20, "21": 50,
             "22": 100, "31": 200, "32": 250, "41": 500, "42": 1000, "51": 2000, "52": 5000,
             "53": 10000}
_BAND = re.compile(r"^(?:de\s+)?(\d[\d\s]*)\s*(?:-|–|à|a|to)\s*(\d[\d\s]*)(?:\s*\w+)?$")
_PLUS = re.compile(r"^(?:plus de\s+|more than\s+|>\s*)?(\d[\d\s]*)\s*(?:\+|et plus|or more)?(?:\s*\w+)?$")

_CUSTOMER = ("customer", "client", "customer - direct", "customer - channel", "cliente",
             "compte client", "existing customer", "active customer", "client actif", "won")
_PROSPECT = ("prospect", "lead", "subscriber", "abonne", "opportunity", "opportunite",
             "marketing qualified lead", "sales qualified lead", "piste", "suspect",
             "prospect chaud", "prospect froid", "other", "autre", "partner", "partenaire",
             "evangelist", "evangeliste")


def crm_column(source: str) -> str:
    """The column of ``tblAccounts`` that keeps one source's CRM IDs: IDs of two CRMs are
    never compared (HubSpot's 9001 is not Pipedrive's 9001).

    >>> crm_column("hubspot")
    'CRM ID (hubspot)'
    """
    return f"CRM ID ({source})"


def status_of(text) -> str | None:
    """``Customer``, ``Prospect`` or None (blank or unknown) from the words exports use.

    >>> status_of("Customer - Direct"), status_of("Client"), status_of("Lead"), status_of("")
    ('Customer', 'Customer', 'Prospect', None)
    """
    s = fold(text)
    if not s:
        return None
    if s in _CUSTOMER or s.startswith(("customer", "client")):
        return "Customer"
    if s in _PROSPECT or s.startswith(("prospect", "lead")):
        return "Prospect"
    return None


_NEED_WORDS = [  # folded; the longest that the answer starts with wins
    ("pas du tout important", 1), ("pas important", 1), ("not at all important", 1),
    ("not important", 1), ("sans importance", 1), ("aucune importance", 1),
    ("peu important", 2), ("faiblement important", 2), ("slightly important", 2),
    ("not very important", 2), ("low", 2), ("faible", 2),
    ("moyennement important", 3), ("assez important", 3), ("moderately important", 3),
    ("somewhat important", 3), ("neutre", 3), ("neutral", 3), ("moyen", 3), ("medium", 3),
    ("important", 4), ("plutot important", 4), ("high", 4), ("eleve", 4),
    ("tres important", 5), ("very important", 5), ("extremement important", 5),
    ("extremely important", 5), ("essentiel", 5), ("indispensable", 5), ("critique", 5),
    ("critical", 5), ("primordial", 5),
]
_NEED_NUMBER = re.compile(r"^([1-5])(?:[.,]0+)?(?:\s*(?:/\s*5|sur\s*5))?(?:\s*[-:–].*)?$")


def need_of(text) -> int | None:
    """A survey answer as a need from 1 to 5 (None when blank or unreadable).

    >>> need_of("Très important"), need_of("4/5"), need_of("2 - Peu important"), need_of("Pas du tout important")
    (5, 4, 2, 1)
    >>> need_of("7"), need_of("")
    (None, None)
    """
    s = fold(text)
    if not s:
        return None
    m = _NEED_NUMBER.match(s)
    if m:
        return int(m.group(1))
    best = None
    for words, value in _NEED_WORDS:
        if s == words or s.startswith(words + " ") or s.rstrip(" .!") == words:
            if best is None or len(words) > len(best[0]):
                best = (words, value)
    return best[1] if best else None


_INTENTS = {"low": "Low", "faible": "Low", "bas": "Low", "basse": "Low", "medium": "Medium",
            "moyen": "Medium", "moyenne": "Medium", "high": "High", "fort": "High",
            "forte": "High", "eleve": "High", "elevee": "High", "haut": "High", "haute": "High"}


def intent_of(text) -> str | None:
    """``Low``/``Medium``/``High`` from English or French words.

    >>> intent_of("Forte"), intent_of("medium"), intent_of("??")
    ('High', 'Medium', None)
    """
    return _INTENTS.get(fold(text))


def employees_of(text, tranche: bool = False) -> int | None:
    """A headcount from a number, a band (``20 à 49 salariés``: 20) or a SIRENE code (``12``: 20).

    >>> employees_of("1 250"), employees_of("50-99"), employees_of("12", tranche=True), employees_of("500+")
    (1250, 50, 20, 500)
    """
    s = clean_text(text)
    if tranche and s.upper() in _TRANCHES:
        return _TRANCHES[s.upper()]
    n = parse_number(s)
    if n is not None:
        return int(round(n)) if n >= 0 else None
    m = _BAND.match(fold(s)) or _PLUS.match(fold(s))
    if m:
        return int(m.group(1).replace(" ", ""))
    return None


@dataclass
class Records:
    """Typed records of one file (see the module)."""

    source: str
    frame: pd.DataFrame
    fields: list[str]             # mapped fields present, in the file's order
    extras: list[str]             # columns kept as they are (``Keep``)
    skipped: list[str]            # columns not imported (``Skip``)
    guesses: list[Guess] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)  # invalid identifiers, defaults used


def _decimal_of(cells: list[str]) -> str | None:
    comma = sum(1 for c in cells if re.search(r"\d,\d{1,2}$|\d,\d{4,}$", c))
    point = sum(1 for c in cells if re.search(r"\d\.\d{1,2}$|\d\.\d{4,}$", c))
    if comma and not point:
        return ","
    if point and not comma:
        return "."
    return None


def parse_records(table: TextTable, mapping: Mapping, source: str, file_label: str = "file",
                  into: str = "accounts") -> Records:
    """Typed records of ``table`` under ``mapping`` (see the module)."""
    rows = table.rows
    lines = table.line_numbers or list(range(table.first_line, table.first_line + len(rows)))
    guesses: list[Guess] = []
    problems: list[Problem] = []
    flags: list[str] = []
    data: dict[str, list] = {}
    fields, extras, skipped = [], [], []
    sirene = mapping.profile == "sirene"
    for cm in mapping.columns:
        cells = [r[cm.index] if cm.index < len(r) else "" for r in rows]
        if cm.target == SKIP:
            skipped.append(cm.header)
            continue
        if cm.target == KEEP:
            extras.append(cm.header)
            data[cm.header] = [clean_text(c) or None for c in cells]
            continue
        target = cm.target
        if target in data:  # a second column of the same field: keep it as it is
            extras.append(cm.header)
            data[cm.header] = [clean_text(c) or None for c in cells]
            continue
        fields.append(target)

        def bad(i, cell, expected, header=cm.header):
            if len(problems) < MAX_PROBLEMS:
                problems.append(Problem(file_label, source, lines[i], header, cell, expected))

        values: list = []
        if target in NUMBER_FIELDS:
            if target in WHOLE_FIELDS:
                tranche = sirene or "tranche" in fold(cm.header)
                for i, c in enumerate(cells):
                    v = employees_of(c, tranche) if clean_text(c) else None
                    if v is None and clean_text(c) and clean_text(c).upper() != "NN":
                        bad(i, c, "a whole number of employees (such as 1 200 or 20-49)")
                    values.append(v)
            else:
                typed = {i: v for (i, col), v in table.numbers.items() if col == cm.index}
                dec = _decimal_of([clean_text(c) for i, c in enumerate(cells)
                                   if c and i not in typed])
                if dec:
                    guesses.append(Guess(f"decimal mark of {cm.header!r}",
                                         "comma" if dec == "," else "point",
                                         "seen in its cells"))
                for i, c in enumerate(cells):
                    v = typed[i] if i in typed else (parse_number(c, dec) if clean_text(c)
                                                    else None)
                    if v is None and clean_text(c):
                        bad(i, c, "a number (such as 1 234,50, 12 k€ or 1,5 M€)")
                    elif v is not None and v < 0 and target in ("Revenue 12m", "Potential"):
                        bad(i, c, "a number ≥ 0")
                    values.append(v)
        elif target in DATE_FIELDS:
            order = date_order(cells)
            guesses.append(Guess(f"dates of {cm.header!r}", order or "day first",
                                 "seen in its cells" if order else
                                 "French usage; no day above 12 to tell"))
            dayfirst = order != "month first"
            for i, c in enumerate(cells):
                v = parse_date(c, dayfirst) if clean_text(c) else None
                if v is None and clean_text(c):
                    bad(i, c, "a date (such as 01/12/2026, day first)")
                values.append(v)
        elif target == "Buying intent":
            for i, c in enumerate(cells):
                v = intent_of(c)
                if v is None and clean_text(c):
                    bad(i, c, "Low, Medium or High (or Faible, Moyen, Fort)")
                values.append(v)
        elif target.startswith(C.NEED_PREFIX) or target == "Relationship":
            for i, c in enumerate(cells):
                v = need_of(c)
                if v is None and clean_text(c):
                    bad(i, c, "an answer from 1 to 5, or words such as Très important or "
                              "Peu important")
                values.append(v)
        elif target == "Status":
            for i, c in enumerate(cells):
                v = status_of(c)
                if v is None and clean_text(c):
                    v = "Prospect"
                    flags.append(f"row {lines[i]}: {cm.header} {clean_text(c)!r} read as Prospect")
                values.append(v)
        elif target == "CRM ID":
            sf = mapping.profile == "salesforce"
            values = [(salesforce_18(c) if sf else clean_text(c)) or None for c in cells]
            if sf and any(len(clean_text(c)) == 15 for c in cells):
                guesses.append(Guess(f"identifiers of {cm.header!r}",
                                     "15-character Salesforce IDs made 18-character",
                                     "the case-safe form"))
        elif target == "Postal code":
            values = []
            for c in cells:
                s = clean_text(c)
                values.append((s.zfill(5) if s.isdigit() and len(s) == 4 else s) or None)
        else:
            values = [clean_text(c) or None for c in cells]
        data[target] = values
    n = len(rows)
    if "CRM ID" in data:  # kept per source
        data[crm_column(source)] = data.pop("CRM ID")
        fields = [crm_column(source) if f == "CRM ID" else f for f in fields]
    frame = pd.DataFrame(data, index=pd.Index(lines[:n], name="File row"), dtype=object)
    for f in fields + extras:
        if f not in frame.columns:
            frame[f] = None
    flags += _key_flags(frame)
    frame = add_keys(frame, crm_column(source))
    if into == "accounts" and "Account name" in fields:
        for i, x in enumerate(frame["Account name"]):
            if not _present(x):
                if len(problems) < MAX_PROBLEMS:
                    problems.append(Problem(file_label, source, lines[i],
                                            mapping.target_of("Account name").header, x,
                                            "a company name (every account needs one)"))
    return Records(source, frame, fields, extras, skipped, guesses, problems, flags)


def _key_flags(frame: pd.DataFrame) -> list[str]:
    """Invalid identifiers, in words: flagged, never used to match."""
    out = []
    for f in ("SIREN", "SIRET", "VAT number"):
        if f not in frame:
            continue
        for row, raw in frame[f].items():
            if _present(raw):
                ok = siret_valid(raw) if f == "SIRET" else siren_from(raw)[1]
                if not ok:
                    out.append(f"row {row}: {f} {raw!r} is not a valid {f} (check digit): "
                               f"flagged, not used to match")
    return out


def _present(v) -> bool:
    return v is not None and not (isinstance(v, float) and v != v) and str(v).strip() != ""


def add_keys(frame: pd.DataFrame, crm: str = "CRM ID") -> pd.DataFrame:
    """``frame`` with the matching keys (see the module) from whichever columns it has.

    Works on incoming records and on ``tblAccounts`` alike (its extra columns
    ``CRM ID (source)``, ``SIREN``, ``Website``, ``Postal code`` if an import added
    them); ``crm`` names the column of CRM IDs to match on.
    """
    frame = frame.copy()

    def col(name):
        if name in frame.columns:
            return [x if _present(x) else None for x in frame[name]]
        return [None] * len(frame)

    frame["_name"] = [name_key(x) if x else "" for x in col("Account name")]
    frame["_city"] = [city_key(x) if x else "" for x in col("City")]
    frame["_dept"] = [postcode_departement(x) if x else "" for x in col("Postal code")]
    sirens = [""] * len(frame)
    for f in ("VAT number", "SIRET", "SIREN"):  # the most specific last: it wins
        for i, raw in enumerate(col(f)):
            if raw:
                s, ok = siren_from(raw)
                if ok and (f != "SIRET" or siret_valid(raw)):
                    sirens[i] = s
    frame["_siren"] = sirens
    domains = [""] * len(frame)
    for f in ("Email", "Website"):
        domains = [(web_domain(x) if x else "") or d for d, x in zip(domains, col(f))]
    frame["_domain"] = domains
    frame["_crm"] = [str(x) if x else "" for x in col(crm)]
    frame["_id"] = [str(x) if x else "" for x in col("Account ID")]
    return frame
