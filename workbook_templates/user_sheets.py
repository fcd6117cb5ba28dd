"""Write the six user-owned sheets of a Maillon workbook with XlsxWriter.

The user-owned sheets are ``Read Me``, ``Settings``, ``Expectations``,
``Accounts``, ``Field Feedback`` and ``Playbook`` (contract order). Every table
is a real Excel table with the exact contract name and headers; input cells are
painted light yellow, numbers, money, percents and dates carry their formats,
and data validations guide what people type.

Text that comes from data is always written with ``write_string``: a company
called ``=cmd`` stays the text ``=cmd``, never a formula.

Speed: cells are written column by column with typed calls in tight loops;
blanks are not written (the column format paints them). Tables need
XlsxWriter's normal mode, so the workbook must not be opened with
``{"constant_memory": True}``.

Example
-------
>>> import io, xlsxwriter
>>> from maillon.workbook_templates.defaults import default_expectations
>>> from maillon.workbook_templates.user_sheets import write_user_sheets
>>> buf = io.BytesIO()
>>> wb = xlsxwriter.Workbook(buf)
>>> sheets = write_user_sheets(wb, default_expectations(), accounts=None, feedback=None)
>>> list(sheets)
['Read Me', 'Settings', 'Expectations', 'Accounts', 'Field Feedback', 'Playbook']
>>> wb.close()
"""
from __future__ import annotations

import datetime as dt
import math
import numbers

import numpy as np
import pandas as pd

from maillon.engine import contract as c
from maillon.engine.cells import EXCEL_EPOCH  # one epoch for every sheet
from maillon.workbook_templates.look import COLOURS, money_format  # one look for every sheet
from maillon.xlsxwriter_private import add_table_unchecked, number_writer

from maillon.workbook_templates import readme_text
from maillon.workbook_templates.defaults import default_playbook, default_settings

__all__ = ["write_user_sheets", "money_format", "account_columns", "INPUT_FILL",
           "HEADER_STYLE", "DATE_FORMAT", "TABLE_STYLE", "MAX_DATA_ROWS"]

INPUT_FILL = COLOURS["input"][0]
HEADER_STYLE = {"bold": True, "font_color": COLOURS["header"][1],
                "bg_color": COLOURS["header"][0], "text_wrap": True,
                "valign": "top", "border": 1, "border_color": "#BFBFBF"}
DATE_FORMAT = "dd mmm yyyy"
TABLE_STYLE = "Table Style Light 1"
USER_TAB_COLOR = "#FFC000"
MAX_DATA_ROWS = 1_048_575  # Excel's last row, under a header row
_LAST_ROW = 1_048_575  # 0-based index of Excel's last row
_EXCEL_EPOCH = np.datetime64(EXCEL_EPOCH, "ns")
_DAY_NS = 86_400_000_000_000

# Column widths (characters) by header; other columns get a width from their header.
_WIDTHS = {
    "Setting": 22, "Value": 16, "Description": 70,
    "Expectation": 24, "Market importance": 12, "Our strength": 11, "Source": 36,
    "Account ID": 13, "Account name": 34, "Status": 11, "Industry": 18, "Region": 26,
    "City": 18, "Employees": 11, "Sales owner": 18, "Revenue 12m": 15, "Potential": 15,
    "Last contact": 13,
    "Date": 13, "Sales rep": 18, "Main need": 22, "Relationship": 13, "Buying intent": 13,
    "Competitor": 20, "Note": 50,
    "Priority": 9, "Segment": 16, "ABC cell": 9, "Action": 50, "Function": 12,
    "Start week": 10, "Duration weeks": 10, "Repeat every weeks": 11,
}
_NEED_WIDTH = 13

def account_columns(expectations: pd.DataFrame) -> list[str]:
    """The contract headers of ``tblAccounts`` for these expectations, in order."""
    return list(c.ACCOUNT_COLUMNS) + [c.need_column(e) for e in _expectation_names(expectations)]


def _expectation_names(expectations: pd.DataFrame | None) -> list[str]:
    if expectations is None or c.EXPECTATION_COLUMNS[0] not in expectations.columns:
        return []
    names = []
    for v in expectations[c.EXPECTATION_COLUMNS[0]].tolist():
        if _is_blank(v):
            continue
        name = str(v).strip()
        if name and name not in names:
            names.append(name)
    return names


def _is_blank(v) -> bool:
    if v is None or v is pd.NA or v is pd.NaT:
        return True
    if isinstance(v, float) and math.isnan(v):
        return True
    return isinstance(v, str) and v == ""


# --------------------------------------------------------------------------- formats
class _Formats:
    """The formats of the user-owned sheets, created once per workbook."""

    def __init__(self, workbook, currency: str):
        self._wb = workbook
        self._cache: dict = {}
        self.money = money_format(currency)
        self.header = self.get(**HEADER_STYLE)

    def get(self, **props):
        key = tuple(sorted(props.items()))
        fmt = self._cache.get(key)
        if fmt is None:
            fmt = self._cache[key] = self._wb.add_format(dict(props))
        return fmt

    def input(self, num_format: str | None = None, **extra):
        props = {"bg_color": INPUT_FILL, "valign": "top", **extra}
        if num_format:
            props["num_format"] = num_format
        return self.get(**props)

    def fixed(self, num_format: str | None = None, **extra):
        """A read-only-looking cell (no yellow): labels users should not rename."""
        props = {"valign": "top", "font_color": "#404040", **extra}
        if num_format:
            props["num_format"] = num_format
        return self.get(**props)


# --------------------------------------------------------------------------- writing cells
# XlsxWriter's public write_string/write_number accept "A1" addresses through a
# decorator that costs about a third of the time per cell. The undecorated
# methods do exactly the same with (row, col); fall back on the public ones if
# a future XlsxWriter renames them.
def _string_writer(ws):
    return getattr(ws, "_write_string", ws.write_string)


def _excel_serials(series: pd.Series) -> np.ndarray:
    """datetime64 values as Excel serial day numbers (float, NaN for NaT)."""
    values = series
    if getattr(values.dt, "tz", None) is not None:
        values = values.dt.tz_localize(None)
    ns = values.to_numpy(dtype="datetime64[ns]")
    nat = np.isnat(ns)
    out = (ns - _EXCEL_EPOCH).astype("int64").astype("float64") / _DAY_NS
    out[nat] = np.nan
    return out


def _write_number_block(ws, first_row: int, col: int, values: np.ndarray) -> None:
    values = np.asarray(values, dtype="float64")
    keep = np.isfinite(values)
    rows = (np.flatnonzero(keep) + first_row).tolist()
    write = number_writer(ws)
    for r, v in zip(rows, values[keep].tolist()):
        write(r, col, v)


def _write_any(ws, row: int, col: int, v, date_fmt) -> None:
    """One cell of unknown type, written by its Python type (text stays text)."""
    if _is_blank(v):
        return
    if isinstance(v, str):
        ws.write_string(row, col, v)
    elif isinstance(v, (bool, np.bool_)):
        ws.write_boolean(row, col, bool(v))
    elif isinstance(v, numbers.Real):
        f = float(v)
        if math.isfinite(f):
            ws.write_number(row, col, f)
    elif isinstance(v, (dt.datetime, dt.date, pd.Timestamp, np.datetime64)):
        ts = pd.Timestamp(v)
        if ts.tzinfo is not None:
            ts = ts.tz_localize(None)
        ws.write_datetime(row, col, ts.to_pydatetime(), date_fmt)
    else:
        ws.write_string(row, col, str(v))


def _write_column(ws, first_row: int, col: int, series: pd.Series, date_fmt) -> None:
    """Write one DataFrame column below ``first_row`` with the fastest typed calls."""
    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype):
        for r, v in enumerate(series.tolist(), start=first_row):
            if not _is_blank(v):
                ws.write_boolean(r, col, bool(v))
        return
    if pd.api.types.is_numeric_dtype(dtype):
        _write_number_block(ws, first_row, col, series.to_numpy(dtype="float64", na_value=np.nan))
        return
    if pd.api.types.is_datetime64_any_dtype(dtype):
        _write_number_block(ws, first_row, col, _excel_serials(series))  # column has a date format
        return
    values = series.tolist()
    if pd.api.types.is_string_dtype(dtype) and not pd.api.types.is_object_dtype(dtype):
        write = _string_writer(ws)
        notna = series.notna().to_numpy()
        for r in np.flatnonzero(notna).tolist():
            v = values[r]
            if v != "":
                write(r + first_row, col, v)
        return
    # object column: mostly text in practice; fall back per cell on other types
    write = _string_writer(ws)
    for r, v in enumerate(values, start=first_row):
        if v.__class__ is str:
            if v != "":
                write(r, col, v)
        else:
            _write_any(ws, r, col, v, date_fmt)


def _ordered(frame: pd.DataFrame | None, headers: list[str]) -> pd.DataFrame:
    """``frame`` with the contract headers first (blank when missing), extra columns after."""
    if frame is None:
        return pd.DataFrame({h: pd.Series([], dtype=object) for h in headers})
    extra = [col for col in frame.columns if col not in headers]
    cols = {}
    for h in headers:
        cols[h] = frame[h] if h in frame.columns else pd.Series([None] * len(frame), dtype=object,
                                                                   index=frame.index)
    for h in extra:
        cols[str(h)] = frame[h]
    out = pd.DataFrame(cols, index=frame.index)
    return out.reset_index(drop=True)


def _header_lines(headers, widths) -> int:
    lines = 1
    for h, w in zip(headers, widths):
        lines = max(lines, math.ceil(len(str(h)) / max(w - 1, 1)))
    return min(lines, 4)


def _write_table(ws, fm: _Formats, name: str, frame: pd.DataFrame, col_formats: dict,
                 widths: dict, validations: dict, freeze_cols: int = 0) -> None:
    """Write ``frame`` as table ``name`` at A1, with formats, widths and validations.

    ``col_formats`` maps header -> Format (default: plain yellow input).
    ``validations`` maps header -> XlsxWriter data_validation options, applied
    from the first data row to the bottom of the sheet.
    """
    headers = [str(h) for h in frame.columns]
    n = len(frame)
    if n > MAX_DATA_ROWS:
        raise ValueError(f"{name}: {n} rows do not fit in one sheet (at most {MAX_DATA_ROWS}).")
    date_fmt = fm.input(DATE_FORMAT)
    col_widths = []
    formats = []
    for j, h in enumerate(headers):
        fmt = col_formats.get(h) or fm.input()
        width = widths.get(h) or max(10, min(40, len(h) + 2))
        ws.set_column(j, j, width, fmt)
        col_widths.append(width)
        formats.append(fmt)
    for j in range(len(headers)):
        _write_column(ws, 1, j, frame.iloc[:, j], date_fmt)
    add_table_unchecked(ws, 0, 0, max(n, 1), len(headers) - 1, {
        "name": name,
        "style": TABLE_STYLE,
        "columns": [{"header": h, "header_format": fm.header, "format": f}
                    for h, f in zip(headers, formats)],
    })
    ws.set_row(0, 15 * _header_lines(headers, col_widths) + 3)
    for h, options in validations.items():
        if h in headers:
            j = headers.index(h)
            ws.data_validation(1, j, _LAST_ROW, j, dict(options))
    ws.freeze_panes(1, freeze_cols)
    ws.set_tab_color(USER_TAB_COLOR)
    ws.set_landscape()
    ws.set_paper(9)
    ws.fit_to_pages(1, 0)
    ws.repeat_rows(0)
    ws.set_header(f"&L{_escape_header(ws.name)}&RMaillon")
    ws.set_footer("&LPrinted &D&RPage &P of &N")


def _escape_header(text: str) -> str:
    return text.replace("&", "&&")


def _whole(minimum: int, maximum: int | None, title: str, message: str) -> dict:
    opts = {"validate": "integer", "input_title": title[:32], "input_message": message[:255],
            "error_title": title[:32],
            "error_message": (f"Type a whole number from {minimum} to {maximum}."
                              if maximum is not None else
                              f"Type a whole number of at least {minimum}.")}
    if maximum is None:
        opts.update(criteria=">=", value=minimum)
    else:
        opts.update(criteria="between", minimum=minimum, maximum=maximum)
    return opts


def _decimal_at_least(minimum: float, title: str, message: str) -> dict:
    return {"validate": "decimal", "criteria": ">=", "value": minimum,
            "input_title": title[:32], "input_message": message[:255],
            "error_title": title[:32], "error_message": f"Type a number of at least {minimum:g}."}


def _choice(values, title: str, message: str, strict: bool = True) -> dict:
    return {"validate": "list", "source": list(values), "input_title": title[:32],
            "input_message": message[:255], "error_title": title[:32],
            "error_message": "Pick one of: " + ", ".join(values) + ".",
            "error_type": "stop" if strict else "warning"}


def _hint(title: str, message: str) -> dict:
    return {"validate": "any", "input_title": title[:32], "input_message": message[:255]}


# --------------------------------------------------------------------------- sheets
def _write_readme(ws, fm: _Formats) -> None:
    ws.hide_gridlines(2)
    ws.set_column(0, 0, 2)
    ws.set_column(1, 1, 24)
    ws.set_column(2, 2, 88)
    text_w = 24 + 88
    title = fm.get(bold=True, font_size=18, font_color=COLOURS["header"][0])
    subtitle = fm.get(italic=True, font_color="#595959", text_wrap=True, valign="top")
    heading = fm.get(bold=True, font_size=13, font_color=COLOURS["header"][0],
                     bottom=2, bottom_color=COLOURS["header"][0])
    para = fm.get(text_wrap=True, valign="top")
    term = fm.get(bold=True, text_wrap=True, valign="top")
    row = 1

    def height(text: str, width: float) -> float:
        per_line = max(width * 1.05, 1)
        lines = sum(max(1, math.ceil(len(part) / per_line)) for part in text.split("\n"))
        return 15.0 * lines + 3

    for block in readme_text.BLOCKS:
        kind = block[0]
        if kind == "title":
            ws.set_row(row, 28)
            ws.write_string(row, 1, block[1], title)
            row += 1
        elif kind == "subtitle":
            ws.merge_range(row, 1, row, 2, "", subtitle)
            ws.write_string(row, 1, block[1], subtitle)
            ws.set_row(row, height(block[1], text_w))
            row += 1
        elif kind == "h":
            row += 1
            ws.set_row(row, 21)
            ws.write_string(row, 1, block[1], heading)
            ws.write_blank(row, 2, None, heading)
            row += 1
        elif kind == "p":
            ws.merge_range(row, 1, row, 2, "", para)
            ws.write_string(row, 1, block[1], para)
            ws.set_row(row, height(block[1], text_w))
            row += 1
        elif kind == "dl":
            ws.write_string(row, 1, block[1], term)
            ws.write_string(row, 2, block[2], para)
            ws.set_row(row, max(height(block[2], 88), height(block[1], 24)))
            row += 1
        elif kind == "swatch":
            fill, font = COLOURS[block[1]]
            swatch = fm.get(bold=True, bg_color=fill, font_color=font, align="center",
                            valign="top", border=1, border_color="#BFBFBF")
            ws.write_string(row, 1, block[2], swatch)
            ws.write_string(row, 2, block[3], para)
            ws.set_row(row, height(block[3], 88))
            row += 1
        else:  # pragma: no cover - guarded by tests of readme_text
            raise ValueError(f"Unknown Read Me block kind {kind!r}")
    ws.set_portrait()
    ws.set_paper(9)
    ws.fit_to_pages(1, 0)
    ws.set_margins(left=0.5, right=0.5, top=0.6, bottom=0.6)
    ws.print_area(0, 0, row, 2)
    ws.set_footer("&LMaillon&RPage &P of &N")
    ws.set_tab_color(USER_TAB_COLOR)
    ws.activate()


_SHARE_HINT = "A share from 0 % to 100 %. Type 80% or 0.8."


def _write_settings(ws, fm: _Formats, settings: pd.DataFrame) -> None:
    frame = _ordered(settings, list(c.SETTINGS_COLUMNS))
    name_col, value_col, desc_col = c.SETTINGS_COLUMNS
    col_formats = {name_col: fm.fixed(bold=True),
                   value_col: fm.input(align="left"),
                   desc_col: fm.fixed(text_wrap=True)}
    # Value: the per-setting format is applied cell by cell below (12 rows).
    _write_table(ws, fm, c.TBL_SETTINGS, frame, col_formats, _WIDTHS, {})
    specs = {s.name: s for s in c.SETTINGS}
    percent = fm.input("0%", align="left")
    whole = fm.input("0", align="left")
    date = fm.input(DATE_FORMAT, align="left")
    text = fm.input(align="left")
    names = frame[name_col].tolist()
    values = frame[value_col].tolist()
    for i, (name, value) in enumerate(zip(names, values)):
        r = i + 1
        spec = specs.get(name)
        if spec is None:
            continue
        if isinstance(spec.default, float):
            fmt = percent
            dv = {"validate": "decimal", "criteria": "between", "minimum": 0, "maximum": 1,
                  "input_title": name[:32], "input_message": _SHARE_HINT,
                  "error_title": name[:32], "error_message": "Type a share from 0% to 100%."}
        elif name == "Plan start":
            fmt = date
            ref = f"B{r + 1}"
            dv = {"validate": "custom", "value": f'=OR({ref}="next Monday",ISNUMBER({ref}))',
                  "input_title": name, "input_message": "A date (the Monday the plan starts), "
                                                        "or the words next Monday.",
                  "error_title": name, "error_message": "Type a date or next Monday."}
        elif name == "Segments":
            fmt = text
            ref = f"B{r + 1}"
            lo, hi = spec.lo, spec.hi
            dv = {"validate": "custom",
                  "value": f'=OR({ref}="{spec.auto}",AND(ISNUMBER({ref}),{ref}>={lo},'
                           f'{ref}<={hi},{ref}=INT({ref})))',
                  "input_title": name,
                  "input_message": f"{spec.auto}, or a whole number from {lo} to {hi}.",
                  "error_title": name,
                  "error_message": f"Type {spec.auto} or a whole number from {lo} to {hi}."}
        elif isinstance(spec.default, int):
            fmt = whole
            dv = _whole(spec.lo, spec.hi, name, spec.description)
        else:
            fmt = text
            dv = _hint(name, spec.description)
        if _is_blank(value):
            ws.write_blank(r, 1, None, fmt)
        elif isinstance(value, str):
            ws.write_string(r, 1, value, fmt)
        elif isinstance(value, (dt.date, pd.Timestamp, np.datetime64)):
            ws.write_datetime(r, 1, pd.Timestamp(value).to_pydatetime(), fmt)
        elif isinstance(value, numbers.Real):
            ws.write_number(r, 1, float(value), fmt)
        else:
            ws.write_string(r, 1, str(value), fmt)
        ws.data_validation(r, 1, r, 1, dv)
    ws.set_landscape()
    ws.freeze_panes(1, 0)


def _write_expectations(ws, fm: _Formats, expectations: pd.DataFrame) -> None:
    frame = _ordered(expectations, list(c.EXPECTATION_COLUMNS))
    name, desc, importance, strength, source = c.EXPECTATION_COLUMNS
    col_formats = {desc: fm.input(text_wrap=True),
                   importance: fm.input("0", align="center"),
                   strength: fm.input("0", align="center")}
    validations = {
        name: _hint(name, "A short, unique name. Accounts get a column "
                          f"'{c.NEED_PREFIX}<name>' for it."),
        importance: _whole(1, 5, importance, "How much the market cares: 1 (little) to 5 (a lot)."),
        strength: _whole(1, 5, strength, "How well our offer answers it: 1 (poorly) to 5 (best "
                                         "in class)."),
    }
    _write_table(ws, fm, c.TBL_EXPECTATIONS, frame, col_formats, _WIDTHS, validations)


def _write_accounts(ws, fm: _Formats, accounts: pd.DataFrame | None, expectations) -> None:
    headers = account_columns(expectations)
    frame = _ordered(accounts, headers)
    money = fm.input(fm.money)
    need_fmt = fm.input("0", align="center")
    col_formats = {"Employees": fm.input("#,##0"), "Revenue 12m": money, "Potential": money,
                   "Last contact": fm.input(DATE_FORMAT, align="left"),
                   "Status": fm.input(), "Account ID": fm.input()}
    widths = dict(_WIDTHS)
    validations = {
        "Account ID": _hint("Account ID", "Required and unique: the key that links every "
                                          "sheet to this account."),
        "Status": _choice(c.STATUSES, "Status", "Customer or Prospect (required)."),
        "Employees": _whole(0, None, "Employees", "Head count, a whole number."),
        "Revenue 12m": _decimal_at_least(0, "Revenue 12m", "Our sales to this account over the "
                                                           "last 12 months (0 for a prospect)."),
        "Potential": _decimal_at_least(0, "Potential", "Estimated yearly potential for our "
                                                       "offer. Blank leaves the account not "
                                                       "fully qualified."),
        "Last contact": {"validate": "date", "criteria": ">=", "value": dt.date(1990, 1, 1),
                         "input_title": "Last contact", "input_message": "A date.",
                         "error_title": "Last contact", "error_message": "Type a date.",
                         "error_type": "warning"},
    }
    for h in headers[len(c.ACCOUNT_COLUMNS):]:
        col_formats[h] = need_fmt
        widths[h] = _NEED_WIDTH
        validations[h] = _whole(1, 5, "Need", "1 (low) to 5 (high), or blank when unknown.")
    _write_table(ws, fm, c.TBL_ACCOUNTS, frame, col_formats, widths, validations, freeze_cols=2)


def _write_feedback(ws, fm: _Formats, feedback: pd.DataFrame | None, expectations) -> None:
    frame = _ordered(feedback, list(c.FEEDBACK_COLUMNS))
    names = _expectation_names(expectations)
    col_formats = {"Date": fm.input(DATE_FORMAT, align="left"),
                   "Relationship": fm.input("0", align="center"),
                   "Note": fm.input(text_wrap=False)}
    validations = {
        "Account ID": _hint("Account ID", f"An Account ID of the {c.SHEET_ACCOUNTS} sheet."),
        "Date": {"validate": "date", "criteria": ">=", "value": dt.date(1990, 1, 1),
                 "input_title": "Date", "input_message": "Date of the meeting; the latest "
                                                         "row of an account counts.",
                 "error_title": "Date", "error_message": "Type a date.", "error_type": "warning"},
        "Relationship": _whole(1, 5, "Relationship", "1 (cold) to 5 (excellent)."),
        "Buying intent": _choice(c.BUYING_INTENTS, "Buying intent", "Low, Medium or High."),
    }
    if names and sum(len(n) + 1 for n in names) <= 255:
        validations["Main need"] = _choice(names, "Main need", "The expectation the account "
                                                               "cares most about.", strict=False)
    else:
        validations["Main need"] = _hint("Main need", "An expectation of the "
                                                      f"{c.SHEET_EXPECTATIONS} sheet.")
    _write_table(ws, fm, c.TBL_FEEDBACK, frame, col_formats, _WIDTHS, validations)


def _write_playbook(ws, fm: _Formats, playbook: pd.DataFrame) -> None:
    frame = _ordered(playbook, list(c.PLAYBOOK_COLUMNS))
    center = fm.input("0", align="center")
    col_formats = {"Priority": fm.input(align="center"), "ABC cell": fm.input(align="center"),
                   "Start week": center, "Duration weeks": center, "Repeat every weeks": center}
    validations = {
        "Priority": _choice(c.PLAYBOOK_PRIORITIES, "Priority", "P1, P2, P3 or All."),
        "Segment": _hint("Segment", "A Segment ID (S01…), a segment name, or All."),
        "ABC cell": _hint("ABC cell", "A cell such as AB, a pattern such as A* or *A, or All."),
        "Function": _choice(c.FUNCTIONS, "Function", "Who runs it: Marketing, Sales or Joint."),
        "Start week": _whole(0, None, "Start week", "Weeks after Plan start (0 = first week)."),
        "Duration weeks": _whole(1, None, "Duration weeks", "How many weeks the action lasts."),
        "Repeat every weeks": _whole(1, None, "Repeat every weeks",
                                     "Repeat every N weeks; blank runs it once."),
    }
    _write_table(ws, fm, c.TBL_PLAYBOOK, frame, col_formats, _WIDTHS, validations)


def _currency(settings: pd.DataFrame) -> str:
    name_col, value_col = c.SETTINGS_COLUMNS[:2]
    try:
        match = settings.loc[settings[name_col] == "Currency", value_col]
    except KeyError:
        return "EUR"
    if len(match) and not _is_blank(match.iloc[0]):
        return str(match.iloc[0])
    return "EUR"


def write_user_sheets(workbook, expectations: pd.DataFrame, accounts: pd.DataFrame | None,
                      feedback: pd.DataFrame | None, settings: pd.DataFrame | None = None,
                      playbook: pd.DataFrame | None = None) -> dict:
    """Add the six user-owned sheets, in contract order, to an XlsxWriter workbook.

    Parameters
    ----------
    workbook : xlsxwriter.Workbook
        Opened in normal mode (tables are not available with ``constant_memory``).
    expectations : DataFrame
        ``tblExpectations`` (contract headers). Its ``Expectation`` names decide
        the ``Need: <Expectation>`` columns of ``tblAccounts``.
    accounts, feedback : DataFrame or None
        ``tblAccounts`` and ``tblFeedback``. ``None`` or an empty frame writes
        an empty table (one blank row, as Excel requires). Missing contract
        columns are written blank; extra columns are kept after them.
    settings, playbook : DataFrame or None
        ``tblSettings`` and ``tblPlaybook``; ``None`` writes the defaults.

    Returns
    -------
    dict
        Sheet name -> XlsxWriter worksheet, in contract order.
    """
    if getattr(workbook, "constant_memory", False):
        raise ValueError("workbook: open it without {'constant_memory': True}; "
                         "Excel tables need XlsxWriter's normal mode.")
    if expectations is None:
        raise ValueError("expectations: a DataFrame with the tblExpectations headers is required.")
    for arg, frame in (("expectations", expectations), ("accounts", accounts),
                       ("feedback", feedback), ("settings", settings), ("playbook", playbook)):
        if frame is not None and not isinstance(frame, pd.DataFrame):
            raise TypeError(f"{arg}: expected a pandas DataFrame or None, got {type(frame).__name__}.")
    settings = default_settings() if settings is None else settings
    playbook = default_playbook() if playbook is None else playbook
    fm = _Formats(workbook, _currency(settings))
    sheets = {name: workbook.add_worksheet(name) for name in c.USER_SHEETS}
    _write_readme(sheets[c.SHEET_README], fm)
    _write_settings(sheets[c.SHEET_SETTINGS], fm, settings)
    _write_expectations(sheets[c.SHEET_EXPECTATIONS], fm, expectations)
    _write_accounts(sheets[c.SHEET_ACCOUNTS], fm, accounts, expectations)
    _write_feedback(sheets[c.SHEET_FEEDBACK], fm, feedback, expectations)
    _write_playbook(sheets[c.SHEET_PLAYBOOK], fm, playbook)
    return sheets
