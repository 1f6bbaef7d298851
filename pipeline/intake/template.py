"""The blank submission workbook 《集团公司客户信息统计表》, written from the column dictionary."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from schemas.columns import (ARCHIVE_NO, COVER, DATA_SHEETS, ENUM, IGNORED, INSTRUCTIONS_SHEET, LISTS_SHEET,
                             NUMBER, PREFILL_MARK, WORKBOOK_TITLE, YEAR, Column, Sheet, cover_note)

from schemas.labels import label

from ..config import Config, load_config
from ..excel import (Styles, column_kind, column_letter, display_width, new_workbook, row_height,
                    set_print_landscape, wrapped_lines, write_cell)

DATA_ROWS = 5000          # rows prepared with validation and formats
LIST_LIMIT = 255          # Excel's limit for an inline drop-down list
KIND_NAMES = {"text": "文本", "code": "文本（保留前导零）", "enum": "下拉选择", "year": "四位年份",
              "number": "数字（万元）", "date": "日期，如 2026-03-05", "datetime": "日期时间，如 2026-03-05 09:30",
              "phone": "电话号码", "email": "电子邮箱地址，如 name@example.com", "ignored": "序号，可不填"}

INSTRUCTIONS = [
    "一、每月 {deadline_day} 日（含）前，将本表发送至集团公司市场营销部邮箱；文件名请用“单位名称_年-月_客户信息统计表.xlsx”，"
    "如“华东分公司_2026-10_客户信息统计表.xlsx”。",
    "二、先填“封面”：填报单位（分子公司全称）、填报月份、填报人为必填。本月客户信息没有变化时，"
    "“本月有无变化”选“无”，各数据表可以不填，仍需按时报送。",
    "三、各数据表第一行为表头，请勿修改表头文字、勿删除或重命名工作表；没有内容的工作表可以留空。",
    "四、红色表头为必填列；有下拉箭头的列请从下拉列表中选择；金额单位为万元；日期写成 2026-03-05。",
    "五、统一社会信用代码为 18 位（可在国家企业信用信息公示系统查询），请勿填写旧的组织机构代码。",
    "六、“合作项目”“满意度调查”“投诉记录”“拜访记录”中的客户单位名称须与“客户信息”表一致。",
    "七、战略客户须填写营销专员和联点领导；满意度调查任一项“不满意”须填写不满意说明；"
    "项目进入中标及以后阶段须填写合同额。",
    "八、收到退回的反馈工作簿后，按红色（错误）单元格的批注修改，再整份重新报送。",
    "九、市场营销部发来的预填表已填好本单位的现有客户、未竣工项目和未结束的投诉：直接修改有变化的单元格，"
    "新增的客户或项目写在下方空行。灰色的“档案编号”列由系统填写，请勿修改或复制到其他行；新增的行该列留空。",
]
REMINDERS_SHEET = "本月提醒"
LOCKED_FILL = "#F2F2F2"


@dataclass
class Prefill:
    """A branch's rows for next month's workbook, as the archive holds them."""

    branch: str
    period: str                                   # the month the workbook is for
    as_of: str                                    # the last archived month the rows come from
    rows: dict[str, list[dict]] = field(default_factory=dict)   # sheet key → rows by column key
    reminders: pd.DataFrame | None = None         # what is due: key columns reminder, name, detail
    cover: dict[str, str] = field(default_factory=dict)  # who filled the last file in: filler, phone


def write_template(path: Path, config: Config | None = None, prefill: Prefill | None = None) -> Path:
    """Write the template workbook to ``path`` (the deadline day from ``config``).

    With ``prefill`` it is a branch's pre-filled workbook: the cover filled, its rows in every sheet
    with their 档案编号 in a locked first column, headers locked, everything else editable, and a
    sheet 本月提醒 with what is due.
    """
    path = Path(path)
    deadline_day = (config or load_config(None)).get("submission", "deadline_day")
    book = new_workbook(path)
    if prefill is not None:  # which month's pre-filled workbook this is, and as of which month (see PREFILL_MARK)
        book.define_name(PREFILL_MARK, f'="{prefill.period}|{prefill.as_of}"')
    styles = Styles(book)
    instructions = book.add_worksheet(INSTRUCTIONS_SHEET)
    cover = book.add_worksheet(COVER.name)
    reminders = book.add_worksheet(REMINDERS_SHEET) if prefill is not None else None
    data_sheets = [(sheet, book.add_worksheet(sheet.name)) for sheet in DATA_SHEETS]
    lists = book.add_worksheet(LISTS_SHEET)
    lists.hide()
    list_ranges = _write_lists(lists)

    _write_instructions(instructions, styles, deadline_day)
    _write_cover(cover, styles, list_ranges, prefill)
    for sheet, ws in data_sheets:
        _write_data_sheet(ws, sheet, styles, list_ranges, prefill)
    if reminders is not None:
        _write_reminders(reminders, styles, prefill)
    cover.activate()
    book.close()
    return path


def _column_kind_text(column: Column) -> str:
    if column.kind == ENUM:
        return "、".join(column.allowed)
    return KIND_NAMES.get(column.kind, "文本")


def _write_lists(ws) -> dict[tuple[str, str], str]:
    """Long drop-down lists go to the hidden sheet; returns (sheet, key) → range formula."""
    ranges = {}
    col = 0
    for sheet in (COVER, *DATA_SHEETS):
        for column in sheet.columns:
            if column.kind == ENUM and len(",".join(column.allowed)) > LIST_LIMIT:
                for r, value in enumerate(column.allowed):
                    ws.write_string(r, col, value)
                letter = column_letter(col)
                ranges[(sheet.key, column.key)] = (
                    f"='{LISTS_SHEET}'!${letter}$1:${letter}${len(column.allowed)}")
                col += 1
    return ranges


def _validation(column: Column, sheet_key: str, list_ranges: dict) -> dict | None:
    hint = column.hint or ""
    if column.kind == ENUM:
        source = list_ranges.get((sheet_key, column.key), list(column.allowed))
        return {"validate": "list", "source": source,
                "input_title": column.header[:32], "input_message": (hint or "请从下拉列表中选择")[:255],
                "error_title": "不在可选范围内",
                "error_message": f"可选：{'、'.join(column.allowed)}"[:255]}
    if column.kind == YEAR:
        return {"validate": "integer", "criteria": "between", "minimum": 1949, "maximum": 2100,
                "input_title": column.header[:32], "input_message": (hint or "四位年份，如 2019")[:255],
                "error_title": "年份不正确", "error_message": "请填写 1949 年以来的四位年份"}
    if column.kind == NUMBER and column.minimum is not None:
        return {"validate": "decimal", "criteria": ">=", "value": column.minimum,
                "input_title": column.header[:32], "input_message": (hint or "单位：万元")[:255],
                "error_title": "金额不正确", "error_message": "请填写不小于 0 的数字（万元）"}
    if hint:
        return {"validate": "any", "input_title": column.header[:32], "input_message": hint[:255]}
    return None


def _width(column: Column) -> float:
    if column.width:
        return column.width
    texts = [column.header, str(column.example or "")]
    return max(8, min(40, max(display_width(t) for t in texts) + 3))


def _column_format(styles: Styles, column: Column):
    """A whole-column number format without borders, so blank rows don't print as pages."""
    number_format = column.number_format
    if not number_format:
        return None
    return styles.get(f"column_{column.kind}", num_format=number_format)


def _write_cover(ws, styles: Styles, list_ranges: dict, prefill: Prefill | None = None) -> None:
    ws.set_column(0, 0, 16)
    ws.set_column(1, 1, 36)
    ws.set_column(2, 2, 50)
    filled = {"branch": prefill.branch, "period": prefill.period, **prefill.cover} if prefill is not None else {}
    for r, column in enumerate(COVER.columns):
        ws.write_string(r, 0, column.header, styles.required_header if column.required else styles.header)
        if column.key in filled:
            ws.write_string(r, 1, filled[column.key], styles.body(column_kind(column)))
        else:
            ws.write_blank(r, 1, None, styles.body(column_kind(column)))
        note = cover_note(column)
        if note:
            ws.write_string(r, 2, note, styles.note)
        rule = _validation(column, COVER.key, list_ranges)
        if rule:
            ws.data_validation(r, 1, r, 1, rule)
    set_print_landscape(ws, title=f"{WORKBOOK_TITLE} {COVER.name}")  # the hints beside the fields, on one page


def prefilled_columns(sheet: Sheet) -> tuple[Column, ...]:
    """A pre-filled workbook's columns of ``sheet``: 档案编号 first where the sheet's rows are numbered."""
    return (ARCHIVE_NO, *sheet.columns) if sheet.numbered else tuple(sheet.columns)


def prefilled_cell(sheet: Sheet, key: str, position: int) -> str:
    """Where a pre-filled workbook holds column ``key`` of its ``position``-th row (from 0) of ``sheet``: 客户信息 D5."""
    keys = [column.key for column in prefilled_columns(sheet)]
    return f"{sheet.name} {column_letter(keys.index(key))}{position + 2}"


def _write_data_sheet(ws, sheet: Sheet, styles: Styles, list_ranges: dict, prefill: Prefill | None = None) -> None:
    numbered = prefill is not None and bool(sheet.numbered)
    columns = prefilled_columns(sheet) if prefill is not None else sheet.columns
    for c, column in enumerate(columns):
        fmt = styles.required_header if column.required else styles.header
        ws.write_string(0, c, column.header, fmt)
        if prefill is None:
            ws.set_column(c, c, _width(column), _column_format(styles, column))
        else:  # headers and 档案编号 locked, the rest open for the clerk
            ws.set_column(c, c, _width(column), _open_format(styles, column, column is ARCHIVE_NO))
        if column.kind == IGNORED or column is ARCHIVE_NO:
            continue
        rule = _validation(column, sheet.key, list_ranges)
        if rule:
            ws.data_validation(1, c, DATA_ROWS, c, rule)
        tip = column.hint or (f"可选：{'、'.join(column.allowed)}" if column.allowed else "")
        if column.required:
            tip = f"必填。{tip}" if tip else "必填。"
        if tip:
            ws.write_comment(0, c, f"{column.header}：{tip}", {"x_scale": 1.6, "y_scale": 0.9,
                                                                  "font_name": "等线"})
    ws.set_row(0, 30)
    ws.freeze_panes(1, 0)
    set_print_landscape(ws, repeat_rows=(0, 0), title=f"{WORKBOOK_TITLE} {sheet.name}")
    if prefill is not None:
        for r, row in enumerate(prefill.rows.get(sheet.key, []), 1):
            for c, column in enumerate(columns):
                value = r if column.kind == IGNORED else row.get(column.key)
                write_cell(ws, r, c, value, _open_format(styles, column, column is ARCHIVE_NO))
        if numbered:
            ws.write_comment(0, 0, f"{ARCHIVE_NO.header}：{ARCHIVE_NO.hint}。", {"x_scale": 1.6, "font_name": "等线"})
        ws.protect("", {"insert_rows": True, "delete_rows": True, "sort": True, "autofilter": True,
                        "format_cells": True, "format_columns": True, "format_rows": True})


def _open_format(styles: Styles, column: Column, locked: bool):
    """A pre-filled workbook's cell format: editable unless ``locked`` (档案编号, greyed)."""
    number_format = column.number_format
    props = {"num_format": number_format} if number_format else {}
    if locked:
        return styles.get("archive_no", locked=True, bg_color=LOCKED_FILL, font_color="#595959", **props)
    return styles.get(f"open_{column.kind}", locked=False, **props)


def _write_reminders(ws, styles: Styles, prefill: Prefill) -> None:
    """本月提醒: what is due for the branch this month, as a reading aid (not read back)."""
    ws.set_column(0, 0, 26)
    ws.set_column(1, 1, 34)
    ws.set_column(2, 2, 70)
    ws.write_string(0, 0, f"{prefill.branch} {prefill.period} 本月提醒", styles.title)
    ws.write_string(1, 0, f"根据截至 {prefill.as_of} 的客户档案整理；本页只供参考，报送时不读取。", styles.note)
    set_print_landscape(ws, repeat_rows=(3, 3), title=f"{prefill.branch} {REMINDERS_SHEET}")
    frame = prefill.reminders
    if frame is None or frame.empty:
        ws.write_string(3, 0, "本月没有需要提醒的事项。", styles.body())
        return
    for c, key in enumerate(frame.columns):
        ws.write_string(3, c, label(key), styles.header)
    for r, values in enumerate(frame.itertuples(index=False, name=None), 4):
        for c, value in enumerate(values):
            write_cell(ws, r, c, "" if value is None else str(value), styles.wrap)


# The 填报说明 columns: a column's header, required, its format (with its allowed values) and its hint.
INSTRUCTION_WIDTHS = (22, 12, 44, 50)
KIND_WIDTH, HINT_WIDTH = INSTRUCTION_WIDTHS[2:]


def _write_instructions(ws, styles: Styles, deadline_day: int) -> None:
    for col, width in enumerate(INSTRUCTION_WIDTHS):
        ws.set_column(col, col, width)
    ws.write_string(0, 0, f"《{WORKBOOK_TITLE}》填报说明", styles.title)
    row = 2
    for line in INSTRUCTIONS:
        line = line.format(deadline_day=deadline_day)
        ws.merge_range(row, 0, row, 3, line, styles.get("instruction", text_wrap=True, valign="top"))
        ws.set_row(row, max(18, row_height(wrapped_lines(display_width(line), sum(INSTRUCTION_WIDTHS)))))
        row += 1
    row += 1
    for sheet in DATA_SHEETS:
        ws.write_string(row, 0, f"工作表“{sheet.name}”：{sheet.description}",
                        styles.get("section", bold=True, font_size=12, font_color="#1F4E78"))
        row += 1
        for c, title in enumerate(label(k) for k in ("column", "required", "format", "detail")):
            ws.write_string(row, c, title, styles.header)
        row += 1
        for column in sheet.columns:
            ws.write_string(row, 0, column.header, styles.body())
            ws.write_string(row, 1, "必填" if column.required else "", styles.body())
            kind_text = _column_kind_text(column)
            ws.write_string(row, 2, kind_text, styles.wrap)
            ws.write_string(row, 3, column.hint, styles.wrap)
            # Tall enough for the wrapped list of allowed values: a row of a written file is not grown to fit.
            count = max(wrapped_lines(display_width(kind_text), KIND_WIDTH),
                        wrapped_lines(display_width(column.hint or ""), HINT_WIDTH))
            if count > 1:
                ws.set_row(row, row_height(count))
            row += 1
        ws.write_string(row, 0, "示例：", styles.get("example_label", italic=True, font_color="#595959"))
        row += 1
        row = _example_block(ws, sheet, row, styles) + 1
    ws.hide_gridlines(2)
    ws.set_landscape()
    ws.set_paper(9)
    ws.fit_to_pages(1, 0)
    ws.set_footer('&C&"等线"&9第 &P 页 共 &N 页')


def _example_block(ws, sheet: Sheet, row: int, styles: Styles) -> int:
    """One example row under its headers, laid out as two columns (header, value) to stay readable."""
    for column in sheet.columns:
        if column.kind == IGNORED:
            continue
        ws.write_string(row, 0, column.header, styles.get("example_key", font_color="#595959"))
        value = column.example
        write_cell(ws, row, 2, "" if value is None else value,
                   styles.get("example_value", font_color="#1F4E78", align="left"))
        row += 1
    return row
