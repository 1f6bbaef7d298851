"""Shared Excel conventions: safe workbooks, one set of styles and colours, CJK-aware widths, tables.

Every workbook the pipeline writes goes through `new_workbook`, so no data
string ever becomes a formula or a link, and every report looks alike. The
colours here are the only ones the pipeline uses (openpyxl takes them without
the leading '#').
"""
from __future__ import annotations

import datetime as dt
import functools
import math
import sys
from pathlib import Path

import pandas as pd
import xlsxwriter
from xlsxwriter import packager
from xlsxwriter.sharedstrings import SharedStrings
from xlsxwriter.worksheet import Worksheet
from xlsxwriter.xmlwriter import re_control_chars_1, re_control_chars_2  # what xlsxwriter escapes as _xHHHH_

from schemas import labels
from schemas.columns import CODE, DATE, DATETIME, NUMBER, PHONE, YEAR, Column

from .cells import column_letter  # noqa: F401 — the reports take it from here
from .widths import display_width

FONT = "等线"
AUTHOR = labels.GROUP_DEPARTMENT
FIXED_CREATED = dt.datetime(2026, 1, 1)

# The palette.
HEADER_BLUE = "#1F4E78"      # header fill, titles
REQUIRED_RED = "#C00000"     # required headers, errors in text
GRID_GREY = "#BFBFBF"        # header and wrapped-cell borders
BODY_GREY = "#D9D9D9"        # body borders
NOTE_GREY = "#595959"        # notes under titles
TOTAL_FILL = "#F2F2F2"       # total rows
BAR_BLUE = "#5B9BD5"         # data bars
LINK_BLUE = "#0563C1"        # hyperlinks
OK_GREEN = "#006100"         # a passing verdict
ERROR_FILL = "#FFC7CE"       # a cell with an error
WARNING_FILL = "#FFEB9C"     # a cell with a warning
OK_FILL = "#C6EFCE"          # a met duty, a passing figure
GRADE_COLOURS = {"A": "#2E75B6", "B": "#9DC3E6", "C": "#BFBFBF"}
SERIES_COLOURS = ("#2E75B6", "#ED7D31", "#70AD47", "#A5A5A5", "#FFC000", "#5B9BD5")

LINE_HEIGHT = 13.5  # points: one line of the 10-point body font
WRAP_FILL = 1.1     # narrow characters a line holds per unit of column width (measured in LibreOffice)


def wrapped_lines(text_width: int, column_width: float) -> int:
    """The lines a wrapped text of ``text_width`` narrow characters takes in a column ``column_width`` wide."""
    return math.ceil(text_width / (column_width * WRAP_FILL))


def row_height(lines: int) -> float:
    """The height (points) of a row that shows ``lines`` lines of body text: neither Excel nor LibreOffice grows a
    row of a written file to fit its wrapped text."""
    return LINE_HEIGHT * lines + 3


def write_paragraph(ws, row: int, first_col: int, last_col: int, text: str, fmt, font_size: float = 10) -> None:
    """A line of text across a table's columns (``write_frame`` set their widths), wrapped within them and its row
    made tall enough: a long line written in one cell runs on beyond the table, under what stands beside it
    (a chart), and off the printed page."""
    widths = ws.__dict__.get("_crm_widths", {})
    across = sum(widths.get(col, 8.43) for col in range(first_col, last_col + 1))
    count = wrapped_lines(display_width(text) * font_size / 10, across)
    ws.merge_range(row, first_col, row, last_col, text, fmt)
    ws.set_row(row, max(row_height(count) * font_size / 10, 16))


XLSX_OPTIONS = {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False,
                "nan_inf_to_errors": True}


def argb(colour: str) -> str:
    """'#1F4E78' → '1F4E78' (openpyxl's form)."""
    return colour.lstrip("#")


class Sheet(Worksheet):
    """An xlsxwriter worksheet that also takes a table's body a column at a time.

    xlsxwriter keeps every cell as an object and writes it out through several
    calls; a report holds over a million cells, and that alone took most of its
    time. `put_column` keeps a column as its values, and when the workbook closes
    each row's run of such cells becomes its XML in one join. The XML is the same
    as xlsxwriter writes cell by cell (a test compares the two). A cell written
    the ordinary way afterwards wins over the column's, as a later write does in
    xlsxwriter.

    A long column of texts that are nearly all different (names, codes) is written
    in line, as xlsxwriter writes texts in its constant-memory mode, not into the
    workbook's shared-string table: the table gains nothing from texts that do not
    repeat, and held 240,000 names and codes in some 16 MiB (the largest part of a
    first month's summary at its peak).
    """

    WINDOW = 4096  # rows whose XML is made at a time
    IN_LINE_FROM = 10_000  # texts in a column, nearly all different, from which they are written in line

    def __init__(self):
        super().__init__()
        self._blocks: dict[tuple[int, int], dict[int, _Column]] = {}  # (first row, rows) → col → column
        self._put_rows: dict[int, list[tuple[int, int]]] = {}  # col → row ranges put

    def put_column(self, first_row: int, col: int, values: list, formats) -> bool:
        """Cells from ``first_row`` down: str → text, float → number (finite: a blank or a text stands for
        NaN and infinities, as in `_cells`), datetime → date, None → blank.

        ``formats`` is one format or one per row (never None: a body cell always
        has its borders). Returns False, writing nothing, where the fast way does
        not apply (rows already put in this column, past Excel's last row, a text
        xlsxwriter would truncate, constant-memory mode); the caller then writes
        cell by cell.
        """
        last_row = first_row + len(values) - 1
        if not values or self.constant_memory \
                or any(a <= last_row and first_row <= b for a, b in self._put_rows.get(col, ())) \
                or self._check_dimensions(last_row, col, ignore_row=True, ignore_col=True) \
                or max([len(value) for value in values if value.__class__ is str], default=0) * 2 > self.xls_strmax:
            return False
        self._check_dimensions(first_row, col)
        self._check_dimensions(last_row, col)
        index = self.str_table._get_shared_string_index
        if len(values) >= self.IN_LINE_FROM and self._in_line([value for value in values if value.__class__ is str]):
            index = str  # the text itself (``_Column.xml`` writes it in line)
        stored = [None if value is None else index(value) if value.__class__ is str
                  else float(self._convert_date_time(value)) if isinstance(value, dt.date)
                  else float(value) for value in values]
        for row in range(first_row, last_row + 1):  # an earlier cell here is overwritten
            cells = self.table.get(row)
            if cells:
                cells.pop(col, None)
        self._put_rows.setdefault(col, []).append((first_row, last_row))
        self._blocks.setdefault((first_row, len(values)), {})[col] = _Column(stored, formats)
        return True

    def _in_line(self, texts: list[str]) -> bool:
        """Whether a put column's ``texts`` are written in line: many, nine in ten of them different, and none
        that only xlsxwriter escapes (``_plain``)."""
        return len(texts) >= self.IN_LINE_FROM and 10 * len(set(texts)) >= 9 * len(texts) and _plain(texts)

    def _write_rows(self) -> None:
        """xlsxwriter's row loop, with each row's runs of put cells written as one string."""
        if not self._blocks:
            super()._write_rows()
            return
        spans = self._row_spans()
        table, info, write = self.table, self.row_info, self.fh.write
        runs: dict = {}
        for row in range(self.dim_rowmin, self.dim_rowmax + 1):
            if (row - self.dim_rowmin) % self.WINDOW == 0:  # the next rows' XML: never the whole sheet's at once
                runs = self._runs(row, row + self.WINDOW)
            pieces, cells = runs.get(row), table.get(row)
            span = spans.get(row // 16)
            if pieces is None and not cells:
                if row in info or row in self.comments:
                    self._write_empty_row(row, span, info.get(row))
                continue
            self._write_row(row, span, info.get(row))
            if pieces is not None and not cells and len(pieces) == 1:
                write(pieces[0][2])
            else:
                for col, cell in self._row_cells(pieces or [], cells or {}):
                    if cell.__class__ is str:
                        write(cell)
                    else:
                        self._write_cell(row, col, cell)
            self._xml_end_tag("row")
        self._blocks = {}

    def _runs(self, start: int, stop: int) -> dict[int, list[tuple[int, int, str, list[str], int]]]:
        """Row → its runs of adjacent put columns, for rows ``start`` to ``stop`` - 1: (first col, last col,
        XML, each cell's XML, offset)."""
        runs: dict[int, list] = {}
        for (first_row, rows), columns in self._blocks.items():
            low, high = max(first_row, start), min(first_row + rows, stop)
            if low >= high:
                continue
            cols = sorted(columns)
            breaks = [n for n in range(1, len(cols)) if cols[n] != cols[n - 1] + 1]
            for begin, end in zip([0, *breaks], [*breaks, len(cols)]):
                run = cols[begin:end]
                xml = [columns[col].xml(first_row, col, low - first_row, high - first_row) for col in run]
                for n, joined in enumerate(map("".join, zip(*xml))):
                    runs.setdefault(low + n, []).append((run[0], run[-1], joined, xml, n))
        return runs

    @staticmethod
    def _row_cells(pieces: list, cells: dict) -> list:
        """A row's cells in column order, XML strings for put cells; a cell written since wins."""
        items = list(cells.items())
        for first, last, joined, xml, n in pieces:
            if any(first <= col <= last for col in cells):
                items += [(first + k, column[n]) for k, column in enumerate(xml) if first + k not in cells]
            else:
                items.append((first, joined))
        return sorted(items, key=lambda item: item[0])

    def _row_spans(self) -> dict[int, str]:
        """xlsxwriter's optional "spans" of each block of 16 rows, over written and put cells (a put
        column has a cell in each of its rows)."""
        bounds: dict[int, list[int]] = {}

        def cover(block: int, first: int, last: int) -> None:
            bound = bounds.setdefault(block, [first, last])
            bound[0], bound[1] = min(bound[0], first), max(bound[1], last)

        for row, cells in [*self.table.items(), *self.comments.items()]:
            if cells:
                cover(row // 16, min(cells), max(cells))
        for (first_row, rows), columns in self._blocks.items():
            for block in range(first_row // 16, (first_row + rows - 1) // 16 + 1):
                cover(block, min(columns), max(columns))
        return {block: f"{first + 1}:{last + 1}" for block, (first, last) in bounds.items()}


def _plain(texts: list[str]) -> bool:
    """Whether the XML of every one of ``texts`` is only the text with ``&<>`` escaped: none holds a control
    character, an ``_xHHHH_`` literal, a non-character or rich text (which xlsxwriter escapes its own way)."""
    lines = "\n".join(texts)
    return not (re_control_chars_1.search(lines) or re_control_chars_2.search(lines) or "\ufffe" in lines
                or "\uffff" in lines or any(s.startswith("<r>") and s.endswith("</r>") for s in texts))


def _escaped(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class _Column:
    """A put column: shared-string indexes (int), texts written in line (str), numbers (float) and blanks
    (None), and formats."""
    __slots__ = ("values", "formats")

    def __init__(self, values: list, formats):
        self.values, self.formats = values, formats

    def xml(self, first_row: int, col: int, start: int, stop: int) -> list[str]:
        """The XML of cells ``start`` to ``stop`` - 1 of the column, as xlsxwriter's _write_cell writes it."""
        letter = column_letter(col)
        values = self.values[start:stop]
        if isinstance(self.formats, list):
            formats = self.formats[start:stop]
            style = {id(fmt): f' s="{fmt._get_xf_index()}"' for fmt in formats}
            styles = [style[id(fmt)] for fmt in formats]
        else:
            styles = [f' s="{self.formats._get_xf_index()}"'] * len(values)
        first = first_row + start + 1
        return [f'<c r="{letter}{row}"{s}/>' if value is None
                else f'<c r="{letter}{row}"{s} t="s"><v>{value}</v></c>' if value.__class__ is int
                else f'<c r="{letter}{row}"{s} t="inlineStr"><is>{_inline_text(value)}</is></c>'
                if value.__class__ is str
                else f'<c r="{letter}{row}"{s}><v>{value:.16G}</v></c>'
                for row, value, s in zip(range(first, first + len(values)), values, styles)]


def _inline_text(text: str) -> str:
    """A text's ``<t>`` element, as xlsxwriter writes it in line."""
    return _text_element(text, _escaped(text))


def _text_element(text: str, escaped: str) -> str:
    """The ``<t>`` element of ``text`` (``escaped`` is its XML), as xlsxwriter writes it in a cell and in the
    shared-string table: with ``xml:space`` where it starts or ends with a space."""
    if text[:1].isspace() or text[-1:].isspace():
        return f'<t xml:space="preserve">{escaped}</t>'
    return f"<t>{escaped}</t>"


class _SharedStrings(SharedStrings):
    """xlsxwriter's shared-string table, written in one piece when no string needs more than XML's escapes.

    xlsxwriter runs three regular expressions and a few calls on every distinct string; a report of
    30,000 customers has some 60,000 of them (names, codes), which took most of the time its workbook
    took to close. When none of them holds a control character, an ``_xHHHH_`` literal, a non-character
    or rich text, each string's XML is only its ``&<>`` escaped (and ``xml:space`` where it starts or
    ends with a space): that is made for a few thousand strings at once. Otherwise xlsxwriter writes them. The
    XML is the same either way (a test compares the two)."""

    CHUNK = 4096  # strings made at a time (the XML of 240,000 strings at once took 55 MiB more)

    def _write_sst_strings(self) -> None:
        strings = self.string_table.string_array
        for start in range(0, len(strings), self.CHUNK):
            chunk = strings[start:start + self.CHUNK]
            if not _plain(chunk):
                for string in chunk:
                    self._write_si(string)
                continue
            escaped = _escaped("\x01".join(chunk))
            self.fh.write("".join(f"<si>{_text_element(original, text)}</si>"
                                  for original, text in zip(chunk, escaped.split("\x01"))))


class Book(xlsxwriter.Workbook):
    """A workbook whose sheets are ``Sheet``s, deflated at zlib level 1."""

    worksheet_class = Sheet

    def _store_workbook(self) -> None:
        # xlsxwriter zips its parts at zlib's default level (6); level 1 deflates report XML about
        # three times faster, for files about a fifth larger. Its ZipFile is swapped for this call only
        # (xlsxwriter is pinned below 3.4, whose _store_workbook opens the zip file this way), and so is
        # its shared-string writer (``_SharedStrings``).
        module = sys.modules[xlsxwriter.Workbook.__module__]
        original = module.ZipFile
        module.ZipFile = functools.partial(original, compresslevel=1)
        packager.SharedStrings = _SharedStrings
        try:
            super()._store_workbook()
        finally:
            module.ZipFile = original
            packager.SharedStrings = SharedStrings


def new_workbook(path: Path, created: dt.datetime | None = None, **options) -> xlsxwriter.Workbook:
    """A workbook that writes every data string as a string, with fixed properties."""
    book = Book(str(path), {**XLSX_OPTIONS, **options})
    book.set_properties({"created": created or FIXED_CREATED, "author": AUTHOR})
    return book


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
        return self.get("note", font_color=NOTE_GREY, text_wrap=False)

    @property
    def wrap(self):
        return self.get("wrap", text_wrap=True, valign="top", border=1, border_color=GRID_GREY)

    @property
    def header(self):
        return self.get("header", bold=True, font_color="#FFFFFF", bg_color=HEADER_BLUE,
                        border=1, border_color=GRID_GREY, text_wrap=True, align="center")

    @property
    def required_header(self):
        return self.get("required_header", bold=True, font_color="#FFFFFF", bg_color=REQUIRED_RED,
                        border=1, border_color=GRID_GREY, text_wrap=True, align="center")

    @property
    def section(self):
        return self.get("section", bold=True, font_size=12, font_color=HEADER_BLUE)

    @property
    def section_wrapped(self):
        """A section line that wraps within the columns it is merged across (``write_paragraph``)."""
        return self.get("section_wrapped", bold=True, font_size=12, font_color=HEADER_BLUE, text_wrap=True,
                        valign="top")

    @property
    def total(self):
        return self.get("total", bold=True, border=1, border_color=BODY_GREY, bg_color=TOTAL_FILL)

    def wrapped(self, colour: str | None = None):
        """A body text cell that wraps inside its capped column, on an optional fill (centred in its row's height, as
        the row's other cells are)."""
        return self.get(f"body_wrap_{colour}" if colour else "body_wrap", border=1, border_color=BODY_GREY,
                        text_wrap=True, **({"bg_color": colour} if colour else {}))

    def fill(self, kind: str, colour: str):
        """A body format of ``kind`` on a coloured fill (overdue rows, met duties)."""
        return self.get(f"body_{kind}_{colour}", border=1, border_color=BODY_GREY, bg_color=colour,
                        **_NUMBER_FORMATS[kind])

    def body(self, kind: str = "text"):
        """Body cell format by value kind."""
        return self.get(f"body_{kind}", border=1, border_color=BODY_GREY, **_NUMBER_FORMATS[kind])

    def for_column(self, column: Column):
        return self.body(column_kind(column))


# Numbers and dates stand right in their cells; "_ " keeps a space's width after them, so that a value is not
# read together with the text of the next cell ("2026-10-20 10:00华东分公司", "543.0是").
_NUMBER_FORMATS = {"text": {}, "code": {"num_format": "@"}, "integer": {"num_format": "0_ "},
                   "count": {"num_format": "#,##0_ "}, "money": {"num_format": "#,##0.00_ "},
                   "score": {"num_format": "0_ "}, "decimal": {"num_format": "0.0_ "},
                   "fine": {"num_format": "0.000_ "},
                   "percent": {"num_format": "0.0%_ "}, "date": {"num_format": "yyyy-mm-dd_ "},
                   "datetime": {"num_format": "yyyy-mm-dd hh:mm_ "}}


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


def write_cell(ws, row: int, col: int, value, fmt=None, *, date_fmt=None, datetime_fmt=None) -> None:
    """Write one value with the method its type needs; blanks stay blank, strings stay strings.

    A date without ``fmt`` takes ``date_fmt`` (midnight) or ``datetime_fmt`` (a time of day).
    """
    value = _cell(value)
    if value is None:
        ws.write_blank(row, col, None, fmt)
    elif isinstance(value, str):
        ws.write_string(row, col, value, fmt)
    elif isinstance(value, dt.datetime):
        if fmt is None:
            stamp = pd.Timestamp(value)
            fmt = date_fmt if stamp == stamp.normalize() else (datetime_fmt or date_fmt)
        ws.write_datetime(row, col, value, fmt)
    else:
        ws.write_number(row, col, value, fmt)


def write_frame(ws, df: pd.DataFrame, *, styles: Styles, start_row: int = 0, start_col: int = 0,
                context: str | None = None, kinds: dict[str, str] | None = None,
                required: set[str] = frozenset(), min_width: int = 6, max_width: int = 40,
                widths: dict[str, int] | None = None,
                autofilter: bool = True, freeze: bool = True,
                fills: list[str | None] | None = None) -> tuple[int, int, int, int]:
    """A DataFrame as a styled table; returns (first_row, first_col, last_row, last_col).

    Column keys become their labels (``schemas.labels.label`` in ``context``) and take their
    kind from there; ``kinds`` (by key) overrides, and unknown columns are inferred from values.
    ``fills`` gives each row a background colour (None = none), e.g. overdue rows in red.
    A column is as wide as its widest value, at most ``max_width`` (``widths`` by key: another cap for a long
    text column); a longer text wraps in it, its row made tall enough. Written column by column, each with the
    one write method its values need (reports have hundreds of thousands of cells).
    """
    kinds = kinds or {}
    keys = list(df.columns)
    columns = [labels.label(str(key), context) for key in keys]
    for c, name in enumerate(columns):
        fmt = styles.required_header if keys[c] in required or name in required else styles.header
        ws.write_string(start_row, start_col + c, str(name), fmt)
    column_kinds = [kinds.get(key) or labels.kind(str(key), context) or _kind_of(df[key])
                    for key in keys]
    colours = [fills[n] if n < len(fills) else None for n in range(len(df))] if fills else []
    used = ws.__dict__.setdefault("_crm_widths", {})  # tables on one sheet share its columns
    lines = ws.__dict__.setdefault("_crm_lines", {})  # row → lines of its tallest wrapped text, on the sheet
    for c, kind in enumerate(column_kinds):
        col = start_col + c
        values, width = _cells(df.iloc[:, c])
        width = max(display_width(columns[c]) + 2, width)
        if kind in ("date", "datetime") and values:
            width = max(width, 13 if kind == "date" else 18)  # with the space after the value
        cap = (widths or {}).get(keys[c], max_width)
        shown = max(min_width, min(width, cap), used.get(col, 0))
        used[col] = shown
        ws.set_column(col, col, shown)
        base = styles.body(kind)
        formats = [styles.fill(kind, colour) if colour else base for colour in colours] if fills else None
        if width > cap and kind == "text":
            # Long text wraps inside a capped column instead of widening the page, and its row is made
            # tall enough for its lines (neither Excel nor LibreOffice grows a row of a written file).
            long = {n: wide for n, value in enumerate(values) if isinstance(value, str)
                    and 2 * len(value) > cap and (wide := display_width(value)) > cap}
            formats = [styles.wrapped(colours[n] if fills else None) if n in long
                       else (formats[n] if formats else base) for n in range(len(values))]
            for n, text_width in long.items():
                row, count = start_row + 1 + n, wrapped_lines(text_width, shown)
                if count > lines.get(row, 1):
                    lines[row] = count
                    ws.set_row(row, row_height(count))
        _put(ws, start_row + 1, col, values, formats if formats is not None else base)
    last_row = start_row + max(len(df), 0)
    last_col = start_col + max(len(columns) - 1, 0)
    if freeze:
        ws.freeze_panes(start_row + 1, start_col)
    if autofilter and columns:
        ws.autofilter(start_row, start_col, last_row, last_col)
    return start_row, start_col, last_row, last_col


def _put(ws: Sheet, first_row: int, col: int, values: list, formats) -> None:
    """A column of `_cells` from ``first_row`` down, in one piece where the sheet can take it."""
    if not ws.put_column(first_row, col, values, formats):
        for n, value in enumerate(values):
            write_cell(ws, first_row + n, col, value, formats[n] if isinstance(formats, list) else formats)


def _cells(series: pd.Series) -> tuple[list, int]:
    """A column's cells as `write_cell` writes them (text, number, datetime or None) and their width."""
    dtype = series.dtype
    if (pd.api.types.is_float_dtype(dtype) or pd.api.types.is_integer_dtype(dtype)) \
            and not pd.api.types.is_bool_dtype(dtype):
        values = [None if value != value else labels.EMPTY if math.isinf(value) else value
                  for value in series.astype("float64").tolist()]
        return values, _number_width(series)
    values = series.tolist()
    if (pd.api.types.is_object_dtype(dtype) or isinstance(dtype, pd.StringDtype)) and all(
            v is None or isinstance(v, str) or (isinstance(v, float) and v != v) for v in values):
        values = [value if isinstance(value, str) else None for value in values]
        return values, _text_width(values)
    cells, width = [], 0
    for value in values:  # mixed or other values: one at a time
        cell = _cell(value)
        cells.append(cell)
        if isinstance(cell, str):
            width = max(width, display_width(cell) + 2)
        elif isinstance(cell, float):
            width = max(width, len(f"{value:,.2f}" if isinstance(value, float) else str(value)) + 2)
    return cells, width


def _cell(value):
    """One value as `write_cell` writes it: None (blank), text, a number (float) or a datetime."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NaT \
            or (not isinstance(value, (str, list, dict)) and pd.isna(value)):
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, (pd.Timestamp, dt.datetime, dt.date)):
        return pd.Timestamp(value).to_pydatetime()
    if isinstance(value, (int, float)) or hasattr(value, "__float__"):
        number = float(value)
        return labels.EMPTY if math.isinf(number) else number
    return str(value)


def _number_width(series: pd.Series) -> int:
    """The widest of a numeric column's values as shown (floats with thousands separators, 2 places)."""
    shown = series.dropna()
    if shown.empty:
        return 0
    ends = (shown.min(), shown.max())  # the longest text is at either end
    if pd.api.types.is_float_dtype(series.dtype):
        return max(len(f"{float(v):,.2f}") for v in ends) + 2
    return max(len(str(v)) for v in ends) + 2


def _text_width(values: list) -> int:
    """The widest text's display width + 2; only texts that could be the widest are measured."""
    texts = sorted({v for v in values if isinstance(v, str) and v}, key=len, reverse=True)
    best = 0
    for text in texts:
        if 2 * len(text) <= best:  # a text is at most twice as wide as it is long
            break
        best = max(best, display_width(text))
    return best + 2 if texts else 0


PAGE_WIDTH_UNITS = 140  # column-width units across an A4 landscape page at 100 % (0.4-inch margins)
MIN_PRINT_SCALE = 0.6   # smaller, a printed table's 10-point text is under 6 points: unreadable on paper


def print_pages_wide(widths: list[float], kept: float = 0.0) -> int:
    """How many pages wide a table of column ``widths`` prints so that it is at least MIN_PRINT_SCALE of its size,
    each page repeating ``kept`` units of columns on its left (the column that names the row)."""
    per_page = PAGE_WIDTH_UNITS / MIN_PRINT_SCALE
    total = sum(widths)
    if total <= per_page:
        return 1
    return math.ceil((total - kept) / max(per_page - kept, per_page / 2))


def set_print_landscape(ws, *, repeat_rows: tuple[int, int] | None = None, title: str = "",
                        repeat_cols: tuple[int, int] = (0, 0)) -> None:
    """A4 landscape, page numbers in the footer, header rows repeated; one page wide, or, for a table too wide to be
    read on one page (``print_pages_wide`` of the widths ``write_frame`` set), as many pages wide as it takes, each
    repeating the columns ``repeat_cols`` that name the row."""
    ws.set_landscape()
    ws.set_paper(9)
    widths = ws.__dict__.get("_crm_widths", {})
    kept = sum(widths.get(col, 0) for col in range(repeat_cols[0], repeat_cols[1] + 1))
    pages = print_pages_wide(list(widths.values()), kept)
    ws.fit_to_pages(pages, 0)
    if pages > 1:
        ws.repeat_columns(*repeat_cols)
        ws.print_across()  # a row's halves on pages printed one after the other, not all left halves first
    ws.set_margins(left=0.4, right=0.4, top=0.6, bottom=0.6)
    if repeat_rows:
        ws.repeat_rows(*repeat_rows)
    if title:
        ws.set_header(f"&L&\"{FONT}\"&9 {_escape(title)}&R&\"{FONT}\"&9 {AUTHOR}")
    ws.set_footer(f"&C&\"{FONT}\"&9 第 &P 页 共 &N 页")


def _escape(text: str) -> str:
    return text.replace("&", "&&")


def read_sheet(path: Path, sheet: str, what: str, *, max_mib: float = 50) -> list[list]:
    """The cells of one sheet of a workbook the department filled in (review, adjustment, assessment).

    ``what`` names the workbook for messages (e.g. “疑似重复客户审核表”); anything that is not
    such a workbook raises WrongWorkbook saying which sheet was expected.
    """
    import zipfile

    from python_calamine import CalamineWorkbook

    from .errors import WrongWorkbook
    path = Path(path)
    hint = f"请使用 crm 生成的《{what}》（.xlsx，含工作表“{sheet}”）。"
    if not path.is_file():
        raise WrongWorkbook(f"找不到文件 {path}。{hint}")
    if path.stat().st_size > max_mib * 2**20 or not zipfile.is_zipfile(path):
        raise WrongWorkbook(f"{path.name} 不是 Excel 工作簿（.xlsx）。{hint}")
    try:
        book = CalamineWorkbook.from_path(str(path))
    except Exception:  # noqa: BLE001 — calamine raises several types for unreadable files
        raise WrongWorkbook(f"{path.name} 无法读取（文件损坏或已加密）。{hint}") from None
    try:
        if sheet not in book.sheet_names:
            found = "、".join(book.sheet_names[:5]) or "无"
            raise WrongWorkbook(f"{path.name} 中没有工作表“{sheet}”（现有：{found}）。{hint}")
        return book.get_sheet_by_name(sheet).to_python(skip_empty_area=False)
    finally:
        book.close()
