"""Turn raw cell values into typed values: numbers, dates, years, codes, enums.

Cleaning runs before pandera so that one unparseable cell is reported on its
own and never hides the rest of its row (pandera's failed coercion would).
"""
from __future__ import annotations

import datetime as dt
import functools
import math
import re
import unicodedata

import pandas as pd

from schemas.columns import (CODE, DATE, DATETIME, EMAIL, ENUM, NUMBER, PHONE, TEXT, YEAR,
                             Column)

from ..cells import FormulaError
from ..identity import normalize_uscc

# What submitters write for "nothing".
EMPTY_MARKS = {"", "/", "-", "—", "——", "－", "--", "无", "n/a", "N/A", "NA", "#N/A", "null",
               "NULL", "\\", "／"}
_EXCEL_EPOCH = dt.datetime(1899, 12, 30)
_NUMBER = re.compile(r"^\(?[+-]?\d+(\.\d+)?\)?$")
_DATE_TEXT = re.compile(
    r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?"
    r"(?:\s*[T ]?\s*(\d{1,2})\s*[:：时]\s*(\d{1,2})(?:\s*[:：分]\s*(\d{1,2}))?\s*秒?)?$")
_DATE_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")


class Unparseable(ValueError):
    """A cell value that cannot be read as its column's type."""


def is_empty(value, column: Column) -> bool:
    """Blank cells and the usual 'nothing' marks; 无 is a value where the list allows it."""
    if value is None:
        return True
    if isinstance(value, float) and pd.isna(value):
        return True
    if isinstance(value, str):
        text = value.strip()
        if len(text) > 4:  # every empty mark is short: skip the normalisation (hot path)
            return False
        text = unicodedata.normalize("NFKC", text)
        if text == "无" and "无" in column.allowed:
            return False
        return text in EMPTY_MARKS
    return False


def _text(value) -> str:
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M") if value.time() != dt.time() else value.strftime("%Y-%m-%d")
    if isinstance(value, dt.date):
        return value.strftime("%Y-%m-%d")
    return str(value).strip()


# Amounts are in 万元: 6 decimals are a hundredth of a yuan. Rounded to them, a figure a spreadsheet recalculated
# (LibreOffice saves 1000.5 − 10.13 as 990.370000000001) is the figure typed (990.37), and is no change.
MONEY_DECIMALS = 6


def parse_number(value) -> float:
    """1234.5, '1,234.5', '１２３', '12万', '12万元', '¥1,000', '(5)' → float in 万元 ('1.2亿' is 12000,
    '3000000元' is 300), to MONEY_DECIMALS."""
    if isinstance(value, bool):
        raise Unparseable(value)
    if isinstance(value, (int, float)):
        number = float(value)
    else:
        text = unicodedata.normalize("NFKC", str(value)).strip()
        text = re.sub(r"[\s,，]", "", text).lstrip("¥")
        unit = _UNIT.search(text)
        scale = _SCALES[unit[1]] if unit else 1
        text = text[:unit.start()] if unit else text
        if len(text) > 40 or not _NUMBER.match(text):  # 400 digits would overflow to infinity
            raise Unparseable(value)
        negative = text.startswith("(") and text.endswith(")")
        number = float(text.strip("()")) * scale
        number = -number if negative else number
    if not math.isfinite(number):
        raise Unparseable(value)
    return round(number, MONEY_DECIMALS)


_UNIT = re.compile(r"(亿元?|万元?|元)$")
_SCALES = {"亿": 10_000, "亿元": 10_000, "万": 1, "万元": 1, "元": 1e-4}  # → 万元


def parse_datetime(value, *, with_time: bool) -> pd.Timestamp:
    """Dates as Excel dates, serials or text in the forms TEMPLATE.md lists."""
    if isinstance(value, bool):
        raise Unparseable(value)
    if isinstance(value, dt.datetime):
        stamp = pd.Timestamp(value)
    elif isinstance(value, dt.date):
        stamp = pd.Timestamp(value)
    elif isinstance(value, dt.time):
        # calamine reads the serial 1 (Excel's 1900-01-01) of a date cell as the time 00:00
        if value != dt.time(0, 0):
            raise Unparseable(value)
        stamp = pd.Timestamp(1900, 1, 1)
    elif isinstance(value, (int, float)):
        stamp = excel_serial(value)
    else:
        text = unicodedata.normalize("NFKC", str(value)).strip()
        m = _DATE_TEXT.match(text) or _DATE_COMPACT.match(text)
        if not m:
            raise Unparseable(value)
        parts = [int(p) if p else 0 for p in m.groups()]
        parts += [0] * (6 - len(parts))
        try:
            stamp = pd.Timestamp(dt.datetime(*parts))
        except ValueError:
            raise Unparseable(value) from None
    if not 1900 <= stamp.year <= 2100:
        raise Unparseable(value)
    return stamp if with_time else stamp.normalize()


def excel_serial(value: float) -> pd.Timestamp:
    """An Excel date serial → its date. Excel counts 1900 as a leap year: serials 1–59 are one day
    later than the usual epoch gives, and 60 (1900-02-29) does not exist."""
    if not math.isfinite(value) or not 1 <= value < 2958466 or 60 <= value < 61:
        raise Unparseable(value)
    epoch = _EXCEL_EPOCH + dt.timedelta(days=1) if value < 60 else _EXCEL_EPOCH
    return pd.Timestamp(epoch + dt.timedelta(days=float(value))).round("min")


def parse_year(value) -> int:
    if isinstance(value, (dt.date, dt.datetime)):
        return value.year
    number = parse_number(re.sub(r"年$", "", str(value).strip()) if isinstance(value, str) else value)
    if not number.is_integer() or not 1000 <= number <= 9999:  # 1e20 would overflow the column
        raise Unparseable(value)
    return int(number)


def clean_value(value, column: Column):
    """One cell → its typed value (None for empty); raises Unparseable (a formula's error, in any column)."""
    if value.__class__ is FormulaError:
        raise Unparseable(value)
    if is_empty(value, column):
        return column.default
    kind = column.kind
    if kind == TEXT and isinstance(value, str):
        return value.strip() if column.multiline else one_line(value.strip())
    if kind == NUMBER:
        return parse_number(value)
    if kind == YEAR:
        return parse_year(value)
    if kind in (DATE, DATETIME):
        return parse_datetime(value, with_time=kind == DATETIME)
    text = _text(value)
    if kind == CODE:
        text = unicodedata.normalize("NFKC", text).strip()
        return normalize_uscc(text) if column.key.endswith("uscc") else text
    if kind == ENUM:
        text = compact(text)
        return text.upper() if text.upper() in column.allowed else text
    if kind in (PHONE, EMAIL):
        return compact(text)
    return text if kind != TEXT or column.multiline else one_line(text)


def compact(text: str) -> str:
    """``text`` as a listed value, a code or a number is compared: NFKC (full-width letters and digits as ASCII)
    and without any space (“合 并”, “改为Ｃ”, “８０ ％”, “138 0013 8000”)."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


def one_line(text: str) -> str:
    """A one-line text (a name, a department, a header) without the line breaks Alt+Enter or a pasted cell left in
    it: the line ends are joined as they are (Chinese has no space between words), a space between two Latin
    letters."""
    if "\n" not in text and "\r" not in text:
        return text
    out = ""
    for line in filter(None, (part.strip() for part in re.split(r"[\r\n]+", text))):
        latin = out[-1:].isascii() and out[-1:].isalnum() and line[0].isascii() and line[0].isalnum()
        out += (" " if latin else "") + line
    return out


_FAILED = object()


def _clean_or_failed(value, column: Column):
    """``clean_value``, with _FAILED for a cell that cannot be read as its column's type."""
    try:
        return clean_value(value, column)
    except Unparseable:
        return _FAILED


def clean_frame(raw: pd.DataFrame, columns: list[Column]):
    """Typed frame with every dictionary column present, and the cells that failed to parse.

    Returns (frame, failures) where failures is a list of (index, column, raw value).
    """
    if not len(raw):  # no rows (a sheet the branch sent again unchanged): the typed empty frame, made once
        row = raw["_row"].dtype if "_row" in raw else None
        frame = _empty(tuple(columns), row).copy()
        frame.index = raw.index
        return frame, []
    return _cleaned(raw, columns)


@functools.lru_cache(maxsize=64)
def _empty(columns: tuple[Column, ...], row_dtype) -> pd.DataFrame:
    """``clean_frame`` of no rows, ``_row`` of ``row_dtype`` (None: no ``_row`` column)."""
    raw = pd.DataFrame({"_row": pd.Series([], dtype=row_dtype)}) if row_dtype is not None else pd.DataFrame()
    return _cleaned(raw, list(columns))[0]


def _cleaned(raw: pd.DataFrame, columns: list[Column]):
    """``clean_frame`` of a frame."""
    out: dict[str, list] = {}
    failures: list[tuple[int, Column, object]] = []
    for column in columns:
        if column.key not in raw.columns:
            out[column.key] = [column.default] * len(raw)
            continue
        raw_values = raw[column.key].tolist()
        if column.kind == TEXT and all(v.__class__ is str and len(v.strip()) > 4 for v in raw_values):
            stripped = [v.strip() for v in raw_values]  # plain text, none of it an empty mark
            joined = "".join(stripped)  # (one search of the column for a line break, not one per cell)
            broken = not column.multiline and ("\n" in joined or "\r" in joined)
            out[column.key] = [one_line(v) for v in stripped] if broken else stripped
            continue
        if column.kind == CODE and all(v.__class__ is str and len(v) > 4 and v.isascii()
                                       and v.replace("-", "").isalnum() for v in raw_values):
            # plain ASCII codes (the usual case): nothing for NFKC or stripping to change
            uscc = column.key.endswith("uscc")
            out[column.key] = [v.upper().replace("-", "") for v in raw_values] if uscc else raw_values
            continue
        fast = _whole_column(raw_values, column, raw.index)
        if fast is not None:
            out[column.key] = fast
            continue
        values = []
        seen: dict = {}  # raw value → clean value (or _FAILED): lists and years repeat a few values
        for index, value in zip(raw.index, raw_values):
            key = (type(value), value)  # 1, 1.0 and True are equal keys, not equal cells
            try:
                clean = seen[key]
            except KeyError:
                clean = seen[key] = _clean_or_failed(value, column)
            except TypeError:  # an unhashable value: cleaned on its own
                clean = _clean_or_failed(value, column)
            if clean is _FAILED:
                failures.append((index, column, value))
                clean = None
            values.append(clean)
        out[column.key] = values
    typed = {column.key: _typed_series(out[column.key], column, raw.index) for column in columns}
    typed["_row"] = raw["_row"] if "_row" in raw else pd.Series(range(len(raw)), index=raw.index)
    return pd.DataFrame(typed, index=raw.index), failures


def _whole_column(raw_values: list, column: Column, index):
    """The clean values of a column whose every cell is of the usual kind, made for the whole column at once
    (a list, or a typed Series for dates); None when a cell needs cleaning on its own (``clean_value``).

    The usual kinds: a number cell in a number column, a date cell in a date column, a listed value in a list
    column, or a blank. Each gives exactly what ``clean_value`` gives it (a test compares the two ways)."""
    kind, blank = column.kind, column.default
    if kind == NUMBER:
        if not all(v.__class__ is float or v.__class__ is int or v == "" for v in raw_values):
            return None
        values = [blank if v == "" else round(float(v), MONEY_DECIMALS) for v in raw_values]
        return values if all(v is blank or math.isfinite(v) for v in values) else None
    if kind in (DATE, DATETIME):
        if blank is not None or not all(v == "" or (v.__class__ is dt.datetime and v.tzinfo is None)
                                        for v in raw_values):
            return None
        stamps = pd.DatetimeIndex([pd.NaT if v == "" else v for v in raw_values]).astype("datetime64[ns]")
        years = stamps.year
        if not ((stamps.isna()) | ((years >= 1900) & (years <= 2100))).all():
            return None
        return pd.Series(stamps if kind == DATETIME else stamps.normalize(), index=index)
    if kind == ENUM:
        same = _unchanged_values(column)
        if not all(v.__class__ is str and (v in same or v == "") for v in raw_values):
            return None
        return [blank if v == "" else v for v in raw_values]
    return None


@functools.lru_cache(maxsize=None)
def _unchanged_values(column: Column) -> frozenset:
    """The listed values of a list column that cleaning leaves as they are."""
    return frozenset(v for v in column.allowed if v and clean_value(v, column) == v)


def _typed_series(values, column: Column, index) -> pd.Series:
    if isinstance(values, pd.Series):  # typed already (``_whole_column``)
        return values
    if column.kind == NUMBER:
        return pd.Series([float("nan") if v is None else v for v in values], index=index,
                         dtype="float64")
    if column.kind == YEAR:
        return pd.Series(values, index=index, dtype="Int64")
    if column.kind in (DATE, DATETIME):
        return pd.Series(pd.to_datetime(pd.Series(values, index=index, dtype=object)),
                         index=index).astype("datetime64[ns]")
    return pd.Series(values, index=index, dtype=object)
