"""pandera schemas built from the column dictionary, one per data sheet.

Each check is named after the finding code it produces, so a failure case maps
straight to a finding. Values arrive already cleaned and typed (see
pipeline/cleaning.py): the schemas never coerce, so one bad cell cannot hide
the rest of its row.
"""
from __future__ import annotations

import datetime as dt
import re
from functools import lru_cache

import pandas as pd
import pandera.pandas as pa

from pipeline.identity import valid_usccs

from .columns import DATA_SHEETS, EMAIL, ENUM, IGNORED, NUMBER, PHONE, YEAR, Column, Sheet

FIRST_YEAR = 1949
_MOBILE = re.compile(r"^(\+?86-?)?1[3-9]\d(-?\d{4}){2}$")  # 13800138000, 138-0013-8000
_LANDLINE = re.compile(r"^(\(0\d{2,3}\)|0\d{2,3})-?\d{7,8}((-|转|ext\.?)\d{1,6})?$")
_EMAIL = re.compile(r"^[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}$")
_SEPARATORS = re.compile(r"[/、,，;；]")


# One or more phone numbers (mainland mobile, 11 digits, or a landline with its area code), with
# separators between and around them; checked a whole column at a time, not cell by cell.
_ONE_PHONE = f"(?:{_MOBILE.pattern[1:-1]}|{_LANDLINE.pattern[1:-1]})"
_PHONES = f"{_SEPARATORS.pattern}*{_ONE_PHONE}(?:{_SEPARATORS.pattern}+{_ONE_PHONE})*{_SEPARATORS.pattern}*"


def lost_leading_zero(value) -> bool:
    """A landline typed into a number cell, which drops its area code's 0 (021-68881234 → 2168881234)."""
    text = str(value)
    area = text[:1] in "23456789" or text.startswith("10")  # area codes are 010, 02x–09xx; a mobile starts 13–19
    return text.isdigit() and area and bool(_LANDLINE.fullmatch("0" + text))


def phones_ok(values):
    """Whether each value of a column is a phone number or a list of them."""
    return values.astype(str).str.fullmatch(_PHONES)


def phone_ok(text: str) -> bool:
    """``phones_ok`` of one value (the cover's)."""
    return re.fullmatch(_PHONES, text) is not None


def emails_ok(values):
    """Whether each value of a column is an e-mail address."""
    return values.astype(str).str.fullmatch(_EMAIL.pattern[1:-1])


def usccs_ok(values):
    """Whether each value of a column is a valid credit code (``uscc_problem`` tells why not)."""
    return pd.Series(valid_usccs(values.tolist()), index=values.index)


def _checks(column: Column) -> list[pa.Check]:
    checks = []
    if column.kind == ENUM:
        checks.append(pa.Check.isin(list(column.allowed), name="not-allowed", error="not-allowed"))
    if column.kind == NUMBER and column.minimum is not None:
        checks.append(pa.Check.ge(column.minimum, name="negative-number", error="negative-number"))
    if column.kind == YEAR:
        checks.append(pa.Check.in_range(FIRST_YEAR, dt.date.today().year, name="bad-year", error="bad-year"))
    if column.kind == PHONE:
        checks.append(pa.Check(phones_ok, name="bad-phone", error="bad-phone"))
    if column.kind == EMAIL:
        checks.append(pa.Check(emails_ok, name="bad-email", error="bad-email"))
    if column.key.endswith("uscc"):
        checks.append(pa.Check(usccs_ok, name="bad-uscc", error="bad-uscc"))
    if column.max_length:
        checks.append(pa.Check.str_length(max_value=column.max_length, name="too-long", error="too-long"))
    return checks


@lru_cache(maxsize=None)
def schema_for(sheet_key: str) -> pa.DataFrameSchema:
    """The pandera schema of one data sheet."""
    sheet: Sheet = next(s for s in DATA_SHEETS if s.key == sheet_key)
    columns = {
        c.key: pa.Column(checks=_checks(c), nullable=not c.required, required=True,
                         coerce=False, title=c.header)
        for c in sheet.columns if c.kind != IGNORED
    }
    return pa.DataFrameSchema(columns, name=sheet.name, strict=False, coerce=False)


@lru_cache(maxsize=None)
def checked_schema(sheet_key: str) -> pa.DataFrameSchema:
    """``schema_for`` without the columns it has nothing to check (optional, no rule): what validation runs.

    Cleaning gives every dictionary column to the frame, so such a column can never fail; pandera's fixed
    cost per column is most of its time on a month's few changed rows."""
    schema = schema_for(sheet_key)
    return schema.select_columns([key for key, column in schema.columns.items()
                                  if column.checks or not column.nullable])
