"""Every setting of ``tblSettings``, declared once: name, type, default, bounds, words.

:data:`SETTINGS` is the one table that the rest of Maillon reads:

* validation (:func:`maillon.engine.validate.parse_settings`) parses each
  ``Value`` cell with :meth:`Setting.parse` and, when it fails, quotes
  :meth:`Setting.expected`, which names the setting;
* the :class:`maillon.engine.model.Settings` model takes its defaults from
  :func:`default` (the parsed ``default`` cell of each declaration);
* the template writes ``name``, ``default`` and :attr:`Setting.description`
  as the rows of a new workbook's ``tblSettings``, and checks cells with
  ``lo``/``hi``;
* the Read Me quotes the defaults.

The bounds are those the consumers accept: ``Segment seed`` is a
scikit-learn ``random_state`` (0 to 2**32 − 1); ``Plan start`` is a date that
Excel can show (1900-01-01 to 9999-12-31).

This module imports nothing heavier than the standard library.

Example
-------
>>> from maillon.engine.settings import BY_NAME, default
>>> BY_NAME["Segments"].parse("7"), BY_NAME["Segments"].parse("auto")
(7, None)
>>> BY_NAME["Segments"].expected()
'Segments to be auto or a whole number from 2 to 12'
>>> BY_NAME["Segment seed"].hi == 2**32 - 1, default("p1_share")
(True, 0.1)
>>> BY_NAME["Plan start"].parse("2027-01-04")
datetime.date(2027, 1, 4)
"""
from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass

from .cells import EXCEL_EPOCH, is_blank

__all__ = ["Setting", "SETTINGS", "BY_NAME", "BY_FIELD", "SETTING_NAMES", "default",
           "next_monday", "EXCEL_FIRST_DATE", "EXCEL_LAST_DATE", "excel_serial_to_date"]

# Excel's calendar (1900 date system): serial 1 is 1900-01-01, 2958465 is 9999-12-31.
EXCEL_FIRST_DATE = dt.date(1900, 1, 1)
EXCEL_LAST_DATE = dt.date(9999, 12, 31)
_EXCEL_EPOCH = EXCEL_EPOCH.date()
_EXCEL_LAST_SERIAL = (EXCEL_LAST_DATE - _EXCEL_EPOCH).days  # 2958465

# The kinds of value a setting holds.
COUNT_OR_AUTO = "count or auto"  # a whole number in [lo, hi], or the word ``auto`` (None)
WHOLE = "whole"                  # a whole number in [lo, hi]
SHARE = "share"                  # a fraction in [lo, hi]: 0.8, 80% or '80 %'
DATE_OR_AUTO = "date or auto"    # a date in [lo, hi], or the words ``next Monday``
TEXT = "text"                    # free text, at most ``hi`` characters

_ISO_DATE = re.compile(r"\s*(\d{4}-\d{2}-\d{2})([ T]\d{2}:\d{2}(:\d{2})?)?\s*")


def next_monday(day: dt.date) -> dt.date:
    """The Monday strictly after ``day`` (a Monday gives the following one).

    >>> next_monday(dt.date(2026, 12, 1)), next_monday(dt.date(2026, 12, 7))
    (datetime.date(2026, 12, 7), datetime.date(2026, 12, 14))
    """
    return day + dt.timedelta(days=7 - day.weekday())


def excel_serial_to_date(serial: float) -> dt.date:
    """The day of an Excel serial number (time of day dropped); ValueError outside
    Excel's calendar.

    Excel counts a 29 February 1900 that never was (serial 60): serials before
    it are one day later than the epoch 1899-12-30 says, and 60 is refused.

    >>> excel_serial_to_date(46363), excel_serial_to_date(2958465.5)
    (datetime.date(2026, 12, 7), datetime.date(9999, 12, 31))
    >>> excel_serial_to_date(1), excel_serial_to_date(61)
    (datetime.date(1900, 1, 1), datetime.date(1900, 3, 1))
    """
    serial = float(serial)
    if not 1 <= serial < _EXCEL_LAST_SERIAL + 1 or 60 <= serial < 61:
        raise ValueError(f"{serial!r} is not an Excel date serial number")
    days = math.floor(serial)
    return _EXCEL_EPOCH + dt.timedelta(days=days if days > 60 else days + 1)


def _whole(value) -> int:
    if isinstance(value, bool):
        raise ValueError("a boolean is not a number")
    number = float(value.strip()) if isinstance(value, str) else float(value)
    if not number.is_integer():  # also rejects nan and inf
        raise ValueError(f"{value!r} is not a whole number")
    return int(number)


def _fraction(value) -> float:
    """A share from a cell: 0.8, '0,8', '80%' or '80 %' (80 alone is out of bounds)."""
    if isinstance(value, bool):
        raise ValueError("a boolean is not a share")
    if isinstance(value, str):
        v = value.strip().replace(" ", "").replace("\u00a0", "")
        if v.endswith("%"):
            return float(v[:-1].replace(",", ".")) / 100
        return float(v.replace(",", "."))
    return float(value)


def _date(value) -> dt.date:
    """A day from a cell: a date or datetime, an Excel serial number or ISO text.

    Computed with ``datetime.date`` (days, years 1–9999), never with pandas'
    nanosecond timestamps, which wrap around after 2262.
    """
    if isinstance(value, dt.datetime):  # pandas.Timestamp is a datetime too
        return value.date()
    if isinstance(value, dt.date):
        return value
    if type(value).__name__ == "datetime64":  # numpy, without importing it
        day = value.astype("datetime64[D]").item()
        if not isinstance(day, dt.date):
            raise ValueError(f"{value!r} is outside the calendar")
        return day
    if isinstance(value, bool):
        raise ValueError("a boolean is not a date")
    if isinstance(value, str):
        m = _ISO_DATE.fullmatch(value)
        if not m:
            raise ValueError(f"{value!r} is not a date")
        return dt.date.fromisoformat(m.group(1))
    return excel_serial_to_date(value)  # int, float and numpy numbers


@dataclass(frozen=True)
class Setting:
    """One setting: its row in ``tblSettings`` and the field of ``Settings`` it fills.

    ``default`` is the cell value a new workbook shows; the model's default is
    that cell parsed (see :func:`default`). ``lo`` and ``hi`` bound the value
    (for text, ``hi`` is the longest text kept). ``auto`` is the word that
    means "computed" (blank means the same). ``about`` is the description
    shown in the template, with ``{lo}`` and ``{hi}`` filled in.
    """

    name: str
    field: str
    kind: str
    default: object
    about: str
    lo: object = None
    hi: object = None
    auto: str | None = None
    unit: str = ""

    @property
    def description(self) -> str:
        """The ``Description`` cell of the setting's row in a new workbook."""
        return self.about.format(lo=self.lo, hi=self.hi)

    def allowed(self) -> str:
        """The values the setting accepts, in words."""
        if self.kind == SHARE:
            return f"a percentage from {self.lo:.0%} to {self.hi:.0%}"
        if self.kind == TEXT:
            return f"a currency code such as {self.default}"
        if self.kind == DATE_OR_AUTO:
            return f"a date from {self.lo.isoformat()} to {self.hi.isoformat()}, or {self.auto}"
        unit = f" {self.unit}" if self.unit else ""
        whole = f"a whole number{unit} from {self.lo} to {self.hi}"
        return f"{self.auto} or {whole}" if self.kind == COUNT_OR_AUTO else whole

    def expected(self) -> str:
        """What a validation message says is expected: it names the setting."""
        return f"{self.name} to be {self.allowed()}"

    def parse(self, value, today: dt.date | None = None):
        """The model value of a ``Value`` cell; ValueError (or TypeError) when invalid.

        A blank cell gives the default, parsed; ``today`` resolves
        ``next Monday`` (the system date when omitted).
        """
        if is_blank(value):
            value = self.default
        if self.auto is not None and isinstance(value, str) and \
                value.strip().lower() == self.auto.lower():
            return next_monday(today or dt.date.today()) if self.kind == DATE_OR_AUTO else None
        if self.kind == TEXT:
            return str(value).strip()[:self.hi]
        if self.kind == SHARE:
            out = _fraction(value)
        elif self.kind == DATE_OR_AUTO:
            out = _date(value)
        else:
            out = _whole(value)
        if not self.lo <= out <= self.hi:  # False for nan: rejected as well
            raise ValueError(f"{self.name} {value!r} is out of bounds")
        return out


_SHARE = dict(kind=SHARE, lo=0.0, hi=1.0)

SETTINGS: tuple[Setting, ...] = (
    Setting("Segments", "segments", COUNT_OR_AUTO, "auto",
            "auto, or a whole number from {lo} to {hi}: how many marketing segments",
            lo=2, hi=12, auto="auto"),
    # scikit-learn accepts a random_state from 0 to 2**32 - 1.
    Setting("Segment seed", "segment_seed", WHOLE, 42, "Makes segmentation repeatable",
            lo=0, hi=2**32 - 1),
    Setting("Revenue A share", "revenue_a_share", default=0.80,
            about="Cumulative share of Revenue 12m covered by class A", **_SHARE),
    Setting("Revenue B share", "revenue_b_share", default=0.95,
            about="Cumulative share of Revenue 12m covered by classes A and B", **_SHARE),
    Setting("Potential A share", "potential_a_share", default=0.80,
            about="Same as Revenue A share, on Potential, over customers and prospects",
            **_SHARE),
    Setting("Potential B share", "potential_b_share", default=0.95,
            about="Same as Revenue B share, on Potential, over customers and prospects",
            **_SHARE),
    Setting("Marketing weight", "marketing_weight", default=0.50,
            about="Weight of the marketing view in the joint score; sales gets the rest",
            **_SHARE),
    Setting("P1 share", "p1_share", default=0.10,
            about="Share of accounts ranked P1 (rounded to the nearest account)", **_SHARE),
    Setting("P2 share", "p2_share", default=0.30,
            about="Share of accounts ranked P2; the rest is P3", **_SHARE),
    Setting("Plan start", "plan_start", DATE_OR_AUTO, "next Monday",
            "First day of the joint plan (a date, or next Monday)",
            lo=EXCEL_FIRST_DATE, hi=EXCEL_LAST_DATE, auto="next Monday"),
    Setting("Plan weeks", "plan_weeks", WHOLE, 26, "Horizon of the joint plan, in weeks",
            lo=1, hi=156, unit="of weeks"),
    Setting("Currency", "currency", TEXT, "EUR", "Shown in money formats", hi=12),
)

SETTING_NAMES = tuple(s.name for s in SETTINGS)
BY_NAME = {s.name: s for s in SETTINGS}
BY_FIELD = {s.field: s for s in SETTINGS}


def default(field: str, today: dt.date | None = None):
    """The model's default for the field ``field``: the default cell, parsed."""
    return BY_FIELD[field].parse(BY_FIELD[field].default, today)
