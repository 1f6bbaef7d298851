"""战略客户名单_<年>.xlsx: every strategic customer, its people, grade and the year's contacts (seed 004 3.1).

The list is reported to the department in mid-December and issued by 31 January; it
carries the visit duties of the year beside it, so the same file is the year's check.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

from schemas import labels

from ..analysis import strategic
from ..analysis.grading import official_grades, rule_grades
from ..archive.store import Archive
from ..config import Config
from ..excel import ERROR_FILL, OK_FILL, Styles, new_workbook, set_print_landscape, write_frame
from ..periods import current_month


def write_strategic_list(archive: Archive, config: Config, year: int, out: Path,
                         today: dt.date | None = None) -> tuple[Path, int]:
    """Write the list as of the end of ``year`` (or of ``today``, in the current year)."""
    today = today or dt.date.today()
    as_of = min(f"{year}-12", current_month(today))
    until = f"{today:%Y-%m-%d}" if as_of == current_month(today) else f"{as_of} 月末"
    snap = archive.snapshot(as_of)
    grades = official_grades(rule_grades(snap, config, as_of))
    listing = strategic.strategic_list(snap, grades, year, as_of)
    duties = strategic.visit_duties(snap, config, as_of, today)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    book = new_workbook(out)
    styles = Styles(book)
    title = f"{year}年{labels.TITLES['strategic_list']}"
    ws = book.add_worksheet(labels.SHEETS["strategic_list"])
    ws.write_string(0, 0, title, styles.title)
    ws.write_string(1, 0, f"截至 {until}，共 {listing['name'].nunique()} 家战略客户（按维护单位各列一行）。"
                          "每年 12 月中旬上报、次年 1 月 31 日前下发（集团《战略客户管理办法》3.1）。", styles.note)
    write_frame(ws, listing, styles=styles, start_row=3, context="customers")
    set_print_landscape(ws, repeat_rows=(3, 3), title=title)
    ws = book.add_worksheet(labels.SHEETS["strategic"])
    ws.write_string(0, 0, f"{year}年战略客户维护职责（截至 {until}）", styles.title)
    ws.write_string(1, 0, "公司主要领导、联点领导的拜访次数到年底前为待完成，过了年底仍不足为逾期；营销专员每月联系，"
                          "缺一个已结束的月份即逾期。", styles.note)
    shown = duties.drop(columns=["customer_id"])
    fills = [ERROR_FILL if s == labels.DUTY_STATES[2] else (OK_FILL if s == labels.DUTY_STATES[0] else None)
             for s in shown["duty_state"]]
    write_frame(ws, shown, styles=styles, start_row=3, context="customers", fills=fills)
    set_print_landscape(ws, repeat_rows=(3, 3), title=title)
    book.close()
    return out, int(listing["name"].nunique())
