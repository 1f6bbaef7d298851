"""The feedback workbook: the submitter's own workbook with every bad cell marked.

A copy of the original (never the original itself) gets each flagged cell
filled — red for errors, yellow for warnings — and a comment carrying the
message; a first sheet 校验结果 lists every finding with a link to its cell.
Files that cannot or must not be opened get a workbook with 校验结果 only.
"""
from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import openpyxl
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

from .findings import ERROR, Finding

FILLS = {ERROR: PatternFill("solid", fgColor="FFC7CE"), "warning": PatternFill("solid", fgColor="FFEB9C")}
SEVERITY_NAMES = {ERROR: "错误", "warning": "警告"}
RESULT_SHEET = "校验结果"
_FONT = "等线"
_HEADERS = ["序号", "严重程度", "工作表", "单元格", "行号", "列名", "当前值", "问题说明"]
_WIDTHS = [6, 9, 14, 12, 7, 18, 22, 70]
_CELL = re.compile(r"^([A-Z]{1,3})(\d+)$")


def write_feedback(original: Path, findings: list[Finding], out_dir: Path, *,
                   readable: bool = True) -> Path:
    """Write ``<stem>_校验结果.xlsx`` into ``out_dir`` and return its path."""
    original = Path(original)
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / f"{original.stem}_校验结果.xlsx"
    book = None
    if readable and original.suffix.lower() in (".xlsx", ".xlsm"):
        try:
            book = openpyxl.load_workbook(original, keep_vba=False, rich_text=False)
        except Exception:  # an unreadable copy still gets a findings-only workbook
            book = None
    linked = book is not None
    if book is None:
        book = openpyxl.Workbook()
        book.remove(book.active)
    else:
        _mark_cells(book, findings)
    _result_sheet(book, original.name, findings, linked)
    book.save(target)
    return target


def _target(book, finding: Finding) -> tuple[str, str] | None:
    """(sheet title, cell ref) a finding points at, if that sheet exists."""
    if finding.cell and "!" in finding.cell:
        sheet, ref = finding.cell.rsplit("!", 1)
        if sheet in book.sheetnames and _CELL.match(ref):
            return sheet, ref
    if finding.sheet in book.sheetnames and finding.row:
        return finding.sheet, f"A{finding.row}"
    return None


def _mark_cells(book, findings: list[Finding]) -> None:
    by_cell: dict[tuple[str, str], list[Finding]] = {}
    for f in findings:
        where = _target(book, f)
        if where:
            by_cell.setdefault(where, []).append(f)
    for (sheet, ref), items in by_cell.items():
        cell = book[sheet][ref]
        worst = ERROR if any(f.severity == ERROR for f in items) else "warning"
        cell.fill = FILLS[worst]
        lines = [f.message for f in items]
        text = lines[0] if len(lines) == 1 else "\n".join(f"{i}. {m}" for i, m in enumerate(lines, 1))
        if cell.comment is not None:
            text += f"\n（原批注：{cell.comment.text}）"
        comment = Comment(text, "市场营销部")
        comment.width = 320
        comment.height = max(90, 22 * (_display_width(text) // 24 + text.count("\n") + 2))
        cell.comment = comment


def _display_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in str(text))


def _result_sheet(book, file_name: str, findings: list[Finding], linked: bool) -> None:
    ws = book.create_sheet(RESULT_SHEET, 0)
    book.active = 0
    for other in book.worksheets[1:]:
        other.sheet_view.tabSelected = False
    errors = sum(f.severity == ERROR for f in findings)
    warnings = len(findings) - errors
    verdict = "退回，请修改后重新报送" if errors else "通过"
    ws["A1"] = f"《{file_name}》校验结果：{verdict}（错误 {errors} 个，警告 {warnings} 个）"
    ws["A1"].font = Font(name=_FONT, size=14, bold=True, color="C00000" if errors else "006100")
    ws["A2"] = "红色单元格为错误，黄色为警告；点击“单元格”列可跳转到对应位置，批注中有修改说明。"
    ws["A2"].font = Font(name=_FONT, size=10, color="595959")
    thin = Side(style="thin", color="BFBFBF")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    header_fill = PatternFill("solid", fgColor="1F4E78")
    for c, (title, width) in enumerate(zip(_HEADERS, _WIDTHS), 1):
        cell = ws.cell(row=4, column=c, value=title)
        cell.font = Font(name=_FONT, bold=True, color="FFFFFF")
        cell.fill = header_fill
        cell.alignment = Alignment(horizontal="center", vertical="center")
        cell.border = border
        ws.column_dimensions[get_column_letter(c)].width = width
    ordered = sorted(findings, key=lambda f: (f.severity != ERROR, f.sheet, f.row or 0, f.cell))
    for i, f in enumerate(ordered, 1):
        r = 4 + i
        values = [i, SEVERITY_NAMES.get(f.severity, f.severity), f.sheet or "—",
                  f.cell.rsplit("!", 1)[-1] if f.cell else "—", f.row, f.column, f.value, f.message]
        for c, value in enumerate(values, 1):
            cell = ws.cell(row=r, column=c)
            cell.value = value
            if isinstance(value, str):
                cell.data_type = "s"  # a value such as "=1+1" stays text, never a formula
            cell.font = Font(name=_FONT, size=10)
            cell.border = border
            cell.alignment = Alignment(vertical="top", wrap_text=c in (7, 8))
        ws.cell(row=r, column=2).fill = FILLS.get(f.severity, FILLS[ERROR])
        where = _target(book, f) if linked else None
        if where:
            link = ws.cell(row=r, column=4)
            quoted = where[0].replace("'", "''")
            link.hyperlink = f"#'{quoted}'!{where[1]}"
            link.font = Font(name=_FONT, size=10, color="0563C1", underline="single")
    ws.freeze_panes = "A5"
    if findings:
        ws.auto_filter.ref = f"A4:H{4 + len(findings)}"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = "4:4"
