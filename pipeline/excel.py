"""Shared xlsxwriter conventions: safe workbooks, one set of styles, CJK-aware widths, tables.

Every workbook the pipeline writes goes through `new_workbook`, so no data
string ever becomes a formula or a link, and every report looks alike.
"""
from __future__ import annotations

import datetime as dt
import math
import unicodedata
from pathlib import Path

import pandas as pd
import xlsxwriter

from schemas.columns import CODE, DATE, DATETIME, NUMBER, PHONE, YEAR, Column

FONT = "等线"
FIXED_CREATED = dt.datetime(2026, 1, 1)
HEADER_BLUE = "#1F4E78"


def new_workbook(path: Path, created: dt.datetime | None = None) -> xlsxwriter.Workbook:
    """A workbook that writes every data string as a string, with fixed properties."""
    book = xlsxwriter.Workbook(str(path), {
        "strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False,
        "nan_inf_to_errors": True})
    book.set_properties({"created": created or FIXED_CREATED, "author": "集团公司市场营销部"})
    return book


def display_width(text: object) -> int:
    """Width in narrow characters: East Asian wide and full-width characters count 2."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in str(text))


class Styles:
    """The formats every report shares, created once per workbook."""

    def __init__(self, book: xlsxwriter.Workbook):
        self.book = book
        self._cache: dict[str, object] = {}

    def get(self, name: str, **props):
        if name not in self._cache:
            base = {"font_name": FONT, "font_size": 10, "valign": "vcenter"}
            self._cache[name] = self.book.add_format({**base, **props})
        return self._cache[name]

    @property
    def title(self):
        return self.get("title", font_size=14, bold=True, font_color=HEADER_BLUE)

    @property
    def note(self):
        return self.get("note", font_color="#595959", text_wrap=False)

    @property
    def wrap(self):
        return self.get("wrap", text_wrap=True, valign="top", border=1, border_color="#BFBFBF")

    @property
    def header(self):
        return self.get("header", bold=True, font_color="#FFFFFF", bg_color=HEADER_BLUE,
                        border=1, border_color="#BFBFBF", text_wrap=True, align="center")

    @property
    def required_header(self):
        return self.get("required_header", bold=True, font_color="#FFFFFF", bg_color="#C00000",
                        border=1, border_color="#BFBFBF", text_wrap=True, align="center")

    def body(self, kind: str = "text"):
        """Body cell format by value kind."""
        formats = {"text": {}, "code": {"num_format": "@"}, "integer": {"num_format": "0"},
                   "count": {"num_format": "#,##0"}, "money": {"num_format": "#,##0.00"},
                   "percent": {"num_format": "0.0%"}, "date": {"num_format": "yyyy-mm-dd"},
                   "datetime": {"num_format": "yyyy-mm-dd hh:mm"}}
        return self.get(f"body_{kind}", border=1, border_color="#D9D9D9", **formats[kind])

    def for_column(self, column: Column):
        return self.body(column_kind(column))


def column_kind(column: Column) -> str:
    """The body kind of a dictionary column."""
    return {NUMBER: "money", YEAR: "integer", DATE: "date", DATETIME: "datetime",
            CODE: "code", PHONE: "code"}.get(column.kind, "text")


def _kind_of(series: pd.Series) -> str:
    if pd.api.types.is_datetime64_any_dtype(series):
        has_time = series.dropna().map(lambda v: v.hour or v.minute).any() if len(series.dropna()) else False
        return "datetime" if has_time else "date"
    if pd.api.types.is_bool_dtype(series):
        return "text"
    if pd.api.types.is_integer_dtype(series):
        return "count"
    if pd.api.types.is_float_dtype(series):
        return "money"
    return "text"


def write_cell(ws, row: int, col: int, value, fmt=None) -> None:
    """Write one value with the method its type needs; blanks stay blank, strings stay strings."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NaT \
            or (not isinstance(value, (str, list, dict)) and pd.isna(value)):
        ws.write_blank(row, col, None, fmt)
    elif isinstance(value, str):
        ws.write_string(row, col, value, fmt)
    elif isinstance(value, bool):
        ws.write_string(row, col, "是" if value else "否", fmt)
    elif isinstance(value, (pd.Timestamp, dt.datetime, dt.date)):
        ws.write_datetime(row, col, pd.Timestamp(value).to_pydatetime(), fmt)
    elif isinstance(value, (int, float)) or hasattr(value, "__float__"):
        number = float(value)
        if math.isinf(number):
            ws.write_string(row, col, "—", fmt)
        else:
            ws.write_number(row, col, number, fmt)
    else:
        ws.write_string(row, col, str(value), fmt)


def write_frame(ws, df: pd.DataFrame, *, styles: Styles, start_row: int = 0, start_col: int = 0,
                kinds: dict[str, str] | None = None, required: set[str] = frozenset(),
                min_width: int = 6, max_width: int = 40, autofilter: bool = True,
                freeze: bool = True) -> tuple[int, int, int, int]:
    """A DataFrame as a styled table; returns (first_row, first_col, last_row, last_col)."""
    kinds = kinds or {}
    columns = list(df.columns)
    for c, name in enumerate(columns):
        fmt = styles.required_header if name in required else styles.header
        ws.write_string(start_row, start_col + c, str(name), fmt)
    widths = [display_width(name) + 2 for name in columns]
    column_kinds = [kinds.get(name) or _kind_of(df[name]) for name in columns]
    formats = [styles.body(k) for k in column_kinds]
    for r, values in enumerate(df.itertuples(index=False, name=None), start_row + 1):
        for c, value in enumerate(values):
            write_cell(ws, r, start_col + c, value, formats[c])
            if isinstance(value, str):
                widths[c] = max(widths[c], display_width(value) + 2)
            elif column_kinds[c] in ("date", "datetime"):
                widths[c] = max(widths[c], 12 if column_kinds[c] == "date" else 17)
            elif value is not None and not (isinstance(value, float) and math.isnan(value)):
                widths[c] = max(widths[c], len(f"{value:,.2f}" if isinstance(value, float) else str(value)) + 2)
    for c, width in enumerate(widths):
        ws.set_column(start_col + c, start_col + c, max(min_width, min(width, max_width)))
        if width > max_width and column_kinds[c] == "text":
            # Long text wraps inside a capped column instead of widening the page.
            wrap = styles.get("body_wrap", border=1, border_color="#D9D9D9", text_wrap=True,
                              valign="top")
            for r, value in enumerate(df.iloc[:, c], start_row + 1):
                if isinstance(value, str) and display_width(value) > max_width:
                    ws.write_string(r, start_col + c, value, wrap)
    last_row = start_row + max(len(df), 0)
    last_col = start_col + max(len(columns) - 1, 0)
    if freeze:
        ws.freeze_panes(start_row + 1, start_col)
    if autofilter and columns:
        ws.autofilter(start_row, start_col, last_row, last_col)
    return start_row, start_col, last_row, last_col


def set_print_landscape(ws, *, repeat_rows: tuple[int, int] | None = None, title: str = "") -> None:
    """A4 landscape, one page wide, header rows repeated, page numbers in the footer."""
    ws.set_landscape()
    ws.set_paper(9)
    ws.fit_to_pages(1, 0)
    ws.set_margins(left=0.4, right=0.4, top=0.6, bottom=0.6)
    if repeat_rows:
        ws.repeat_rows(*repeat_rows)
    if title:
        ws.set_header(f"&L&\"{FONT}\"&9 {_escape(title)}&R&\"{FONT}\"&9 集团公司市场营销部")
    ws.set_footer(f"&C&\"{FONT}\"&9 第 &P 页 共 &N 页")


def _escape(text: str) -> str:
    return text.replace("&", "&&")
