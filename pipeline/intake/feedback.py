"""The feedback workbook: the submitter's own workbook with every bad cell marked.

A copy of the original (never the original itself) gets each flagged cell
filled — red for errors, yellow for warnings — and a comment carrying the
message; a first sheet 校验结果 lists every finding with a link to its cell.
Files that cannot or must not be opened get a workbook with 校验结果 only.
"""
from __future__ import annotations

import math
import os
import re
import secrets
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import Path

import openpyxl
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, MergedCell
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import column_index_from_string, get_column_letter
from openpyxl.worksheet.hyperlink import Hyperlink

from schemas import labels

from ..excel import (ERROR_FILL, FONT, GRID_GREY, HEADER_BLUE, LINK_BLUE, NOTE_GREY, OK_GREEN,
                     REQUIRED_RED, WARNING_FILL, argb, row_height, wrapped_lines)
from ..filenames import PARTIAL, display_name, safe_name, unique_path
from ..findings import ERROR, WARNING, Finding
from ..widths import display_width

RESULT_SHEET = labels.SHEETS["feedback"]
COMMENT_AUTHOR = labels.DEPARTMENT
FILL_COLOURS = {ERROR: argb(ERROR_FILL), WARNING: argb(WARNING_FILL)}
SEVERITY_NAMES = labels.SEVERITIES

_FONT = FONT
_HEADER_ROW = 4
# (header, minimum width, maximum width, wrap) of the 校验结果 table, in narrow characters.
_COLUMNS = [(labels.label(key), low, high, wrap) for key, low, high, wrap in (
    ("seq", 6, 8, False), ("severity", 10, 10, False), ("sheet", 10, 18, False), ("cell", 8, 10, False),
    ("row", 6, 8, False), ("column", 10, 24, True), ("value", 10, 30, True), ("message", 30, 70, True))]
_REF = re.compile(r"^\$?([A-Z]{1,3})\$?([1-9][0-9]{0,6})$")
_MAX_ROW, _MAX_COL = 1_048_576, 16_384
_MAX_TEXT = 32_767
# Comment box: pixels per narrow character and per line at the default 9 pt comment font.
_COMMENT_WIDTH_PX, _PX_PER_CHAR, _PX_PER_LINE = 330, 6.5, 16


@dataclass(frozen=True)
class _Place:
    """Where a finding lands in the copy: the sheet title and a cell, or the sheet alone."""

    sheet: str
    ref: str = ""


def write_feedback(original: Path, findings: list[Finding], out_dir: Path, *,
                   file_label: str | None = None, readable: bool = True, stem: str | None = None) -> Path:
    """Write ``<stem>_校验结果.xlsx`` into ``out_dir`` and return its path.

    ``readable=False`` (the safety check refused the file, or it is too large to
    copy) means the original is not opened at all; the result then holds the
    校验结果 sheet only. ``file_label`` is the name shown in the title line
    (default: the file name); ``stem`` names the result (default: the file's), made safe: a filed copy's
    keeps its hash, by which the distribution finds the result; an existing result is never overwritten.
    """
    original, out_dir = Path(original), Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    target = unique_path(out_dir / f"{safe_name(stem or original.stem)}_校验结果.xlsx")
    label = file_label or display_name(original.name)
    book = _open_copy(original) if readable else None
    if book is not None and _save_annotated(book, label, findings, target):
        return target
    book = openpyxl.Workbook()
    book.remove(book.active)
    _result_sheet(book, label, findings, {}, order={})
    _save(book, target)
    return target


def _save_annotated(book, label: str, findings: list[Finding], target: Path) -> bool:
    """Mark the copy, add 校验结果 and save; False if openpyxl cannot rewrite this workbook."""
    try:
        _escape_cells(book)
        places = _mark_cells(book, findings)
        _result_sheet(book, label, findings, places, order=_sheet_order(book))
        _save(book, target)
    except Exception:  # noqa: BLE001 — any failure here falls back to the list-only workbook
        return False
    return True


def _open_copy(original: Path):
    """The workbook loaded in memory (macros dropped), or None if openpyxl cannot read it."""
    try:
        if not zipfile.is_zipfile(original):  # CSV, .xls, encrypted (OLE) or plain text
            return None
        with warnings.catch_warnings(), open(original, "rb") as handle:
            # Unsupported extensions (data validation lists, slicers …) only warn.
            warnings.simplefilter("ignore")
            book = openpyxl.load_workbook(handle, keep_vba=False, rich_text=False)
    except Exception:  # noqa: BLE001 — whatever openpyxl cannot read gets the list only
        return None
    book.template = False  # .xltx/.xltm in, a plain .xlsx out
    if RESULT_SHEET in book.sheetnames:  # a resubmitted feedback file: replace the old list
        book.remove(book[RESULT_SHEET])
    return book if book.worksheets else None


def _save(book, target: Path) -> None:
    """Save through a temporary file so a failed save never leaves half a workbook."""
    # hidden and named *.part like every half-written file, so a killed run's leftover is swept; made by open(),
    # not mkstemp, so that it gets the permissions of every other file written (mkstemp's are the owner's only)
    while True:
        tmp = target.parent / f".{target.name}.{secrets.token_hex(4)}{PARTIAL}"
        try:
            open(tmp, "xb").close()
            break
        except FileExistsError:
            continue
    try:
        book.save(tmp)
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


# -- marking the copy ---------------------------------------------------------

def _escape_cells(book) -> None:
    """Control characters Excel cannot store, in any text cell of the copy, shown as “\\x01”."""
    for ws in book.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if isinstance(cell.value, str) and ILLEGAL_CHARACTERS_RE.search(cell.value):
                    cell.value = _clean(cell.value)


def _mark_cells(book, findings: list[Finding]) -> dict[int, _Place]:
    """Fill and comment every located cell; returns finding index → its place in the copy."""
    locate = _Locator(book)
    places: dict[int, _Place] = {}
    by_cell: dict[tuple[str, str], list[Finding]] = {}
    for i, f in enumerate(findings):
        place = locate(f)
        if place is None:
            continue
        places[i] = place
        if place.ref:
            by_cell.setdefault((place.sheet, place.ref), []).append(f)
    fills = {sev: PatternFill("solid", fgColor=colour) for sev, colour in FILL_COLOURS.items()}
    for (title, ref), items in by_cell.items():
        cell = book[title][ref]
        worst = ERROR if any(f.severity == ERROR for f in items) else WARNING
        cell.fill = fills[worst]
        cell.comment = _comment(items, cell.comment)
    return places


class _Locator:
    """Turns a finding's ``cell``/``sheet``+``row`` into a place in the loaded workbook."""

    def __init__(self, book):
        self.book = book
        self.titles = {ws.title: ws.title for ws in book.worksheets}
        for ws in book.worksheets:  # a reader may report a title stripped of stray spaces
            self.titles.setdefault(ws.title.strip(), ws.title)
        self.first_column: dict[str, str] = {}

    def title(self, name: str) -> str | None:
        return self.titles.get(name) or self.titles.get(name.strip()) if name else None

    def __call__(self, f: Finding) -> _Place | None:
        if f.cell and "!" in f.cell:
            name, ref = f.cell.rsplit("!", 1)
            title = self.title(name.strip("'").replace("''", "'"))
            ref = _valid_ref(ref)
            if title and ref:
                return _Place(title, self._anchor(title, ref))
        title = self.title(f.sheet)
        if title is None:
            return None
        if f.row and 0 < f.row <= _MAX_ROW:
            return _Place(title, self._anchor(title, f"{self._first_column(title)}{f.row}"))
        return _Place(title)

    def _first_column(self, title: str) -> str:
        """The leftmost used column of a sheet: a row's first cell (cached; min_column scans)."""
        if title not in self.first_column:
            self.first_column[title] = get_column_letter(self.book[title].min_column)
        return self.first_column[title]

    def _anchor(self, title: str, ref: str) -> str:
        """A cell inside a merged range is marked on the range's top-left cell."""
        ws = self.book[title]
        if isinstance(ws[ref], MergedCell):
            for merged in ws.merged_cells.ranges:
                if ref in merged:
                    return f"{get_column_letter(merged.min_col)}{merged.min_row}"
        return ref


def _valid_ref(ref: str) -> str | None:
    match = _REF.match(ref.strip().upper())
    if not match:
        return None
    letters, row = match.groups()
    if column_index_from_string(letters) > _MAX_COL or int(row) > _MAX_ROW:
        return None
    return f"{letters}{row}"


def _comment(items: list[Finding], old: Comment | None) -> Comment:
    """One comment for all findings on a cell, numbered when several; an old note kept below."""
    messages = list(dict.fromkeys(_clean(f.message) for f in items))
    if len(messages) == 1:
        text = messages[0]
    else:
        text = "\n".join(f"{i}. {m}" for i, m in enumerate(messages, 1))
    if old is not None and old.text and old.author != COMMENT_AUTHOR:
        text += f"\n——\n原批注：{_clean(old.text)}"  # our own stale note is simply replaced
    comment = Comment(text[:_MAX_TEXT], COMMENT_AUTHOR)
    per_line = (_COMMENT_WIDTH_PX - 12) / _PX_PER_CHAR
    lines = sum(max(1, math.ceil(display_width(part) / per_line)) for part in text.split("\n"))
    comment.width = _COMMENT_WIDTH_PX
    comment.height = min(600, max(48, 16 + _PX_PER_LINE * lines))
    return comment


def _clean(text: object) -> str:
    """Text openpyxl can store: a control character becomes a visible “\\x01” where it was."""
    text = ILLEGAL_CHARACTERS_RE.sub(lambda m: f"\\x{ord(m.group()):02x}", str(text))
    return text[:_MAX_TEXT]


# -- the 校验结果 sheet --------------------------------------------------------

def _sheet_order(book) -> dict[str, int]:
    return {ws.title: i for i, ws in enumerate(book.worksheets)}


def _sort_key(f: Finding, place: _Place | None, order: dict[str, int]) -> tuple:
    """Errors first, then file-level findings, then by sheet (workbook order), row and column."""
    sheet = place.sheet if place else f.sheet
    sheet_rank = -1 if not sheet else order.get(sheet, len(order))
    ref = place.ref if place and place.ref else (f.cell.rsplit("!", 1)[-1] if f.cell else "")
    match = _REF.match(ref.upper()) if ref else None
    column = column_index_from_string(match.group(1)) if match else 0
    return (f.severity != ERROR, sheet_rank, sheet, f.row or 0, column)


def _result_sheet(book, label: str, findings: list[Finding], places: dict[int, _Place],
                  order: dict[str, int]) -> None:
    """Insert 校验结果 as the first, active sheet: verdict line, then one row per finding."""
    ws = book.create_sheet(RESULT_SHEET, 0)
    for other in book.worksheets[1:]:
        other.sheet_view.tabSelected = False
    book.active = 0
    for view in book.views:
        view.firstSheet = 0
    ws.sheet_view.tabSelected = True

    errors = sum(f.severity == ERROR for f in findings)
    warnings_ = len(findings) - errors
    verdict = labels.VERDICTS["rejected" if errors else "accepted"]
    ws["A1"] = _clean(f"{label}　校验结论：{verdict}（错误 {errors} 个，提示 {warnings_} 个）")
    ws["A1"].font = Font(name=_FONT, size=14, bold=True, color=argb(REQUIRED_RED if errors else OK_GREEN))
    ws["A2"] = ("请修改全部“错误”后重新报送；“提示”请核实。" if errors else
                "本文件校验通过。" + ("“提示”请核实。" if warnings_ else ""))
    ws["A2"].font = Font(name=_FONT, size=10, color=argb(NOTE_GREY))
    if places:
        ws["A3"] = ("原表中红色单元格为错误、黄色为提示，批注中有修改说明；"
                    "点击“单元格”列可跳转到对应位置。")
    elif findings:
        ws["A3"] = "该文件无法按工作簿打开，以下问题未能在原表中标注。"
    ws["A3"].font = Font(name=_FONT, size=10, color=argb(NOTE_GREY))

    thin = Side(style="thin", color=argb(GRID_GREY))
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    header_font = Font(name=_FONT, size=10, bold=True, color="FFFFFF")
    header_fill = PatternFill("solid", fgColor=argb(HEADER_BLUE))
    for c, (title, *_rest) in enumerate(_COLUMNS, 1):
        cell = ws.cell(row=_HEADER_ROW, column=c, value=title)
        cell.font, cell.fill, cell.border = header_font, header_fill, border
        cell.alignment = Alignment(horizontal="center", vertical="center")

    body_font = Font(name=_FONT, size=10)
    link_font = Font(name=_FONT, size=10, color=argb(LINK_BLUE), underline="single")
    plain, wrapped = Alignment(vertical="top"), Alignment(vertical="top", wrap_text=True)
    fills = {sev: PatternFill("solid", fgColor=colour) for sev, colour in FILL_COLOURS.items()}
    widths = [display_width(title) for title, *_ in _COLUMNS]
    ordered = sorted(range(len(findings)),
                     key=lambda i: _sort_key(findings[i], places.get(i), order))
    for n, i in enumerate(ordered, 1):
        f, place = findings[i], places.get(i)
        r = _HEADER_ROW + n
        shown_ref = place.ref if place and place.ref else (
            f.cell.rsplit("!", 1)[-1] if f.cell else "")
        values = [n, SEVERITY_NAMES.get(f.severity, f.severity), _clean(f.sheet) or "—",
                  _clean(shown_ref) or "—", f.row, _clean(f.column), _clean(f.value),
                  _clean(f.message)]
        for c, value in enumerate(values, 1):
            cell = ws.cell(row=r, column=c, value=value)
            if isinstance(value, str):
                cell.data_type = "s"  # "=1+1" as a value stays text, never a formula
            cell.font, cell.border = body_font, border
            cell.alignment = wrapped if _COLUMNS[c - 1][3] else plain
            if value is not None:
                widths[c - 1] = max(widths[c - 1], display_width(value))
        ws.cell(row=r, column=2).fill = fills.get(f.severity, fills[ERROR])
        if place is not None:  # a cell link on 单元格, or a sheet link on 工作表
            column = 4 if place.ref else 3
            link = ws.cell(row=r, column=column)
            link.hyperlink = Hyperlink(ref=link.coordinate, location=_location(place))
            link.font = link_font

    shown = [min(high, max(low, width + 2)) for (_title, low, high, _wrap), width in zip(_COLUMNS, widths)]
    for c, width in enumerate(shown, 1):
        ws.column_dimensions[get_column_letter(c)].width = width
    for r in range(_HEADER_ROW + 1, _HEADER_ROW + len(findings) + 1):  # a wrapped text's lines all shown
        lines = max((wrapped_lines(display_width(value), shown[c - 1]) for c, (*_, wrap) in enumerate(_COLUMNS, 1)
                     if wrap and isinstance(value := ws.cell(row=r, column=c).value, str)), default=1)
        if lines > 1:
            ws.row_dimensions[r].height = row_height(lines)
    last = _HEADER_ROW + len(findings)
    ws.freeze_panes = f"A{_HEADER_ROW + 1}"
    ws.auto_filter.ref = f"A{_HEADER_ROW}:H{last}"
    ws.print_title_rows = f"{_HEADER_ROW}:{_HEADER_ROW}"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_margins.left = ws.page_margins.right = 0.4
    ws.oddFooter.center.text = "第 &P 页，共 &N 页"


def _location(place: _Place) -> str:
    """An internal link target: the sheet title always quoted, quotes doubled."""
    quoted = place.sheet.replace("'", "''")
    return f"'{quoted}'!{place.ref or 'A1'}"
