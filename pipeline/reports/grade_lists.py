"""The grade workbooks: the three A/B/C lists (客户分级清单) and grade changes between two month ends."""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from schemas import labels
from schemas.labels import GRADES, grade_sheet

from ..archive.store import Archive
from ..config import Config
from ..excel import Styles, new_workbook, set_print_landscape, write_frame
from ..analysis.grading import (branch_proposals, edition_grades, grade_lists, official_grades, own_money,
                                rule_grades)

LIST_COLUMNS = ["name", "uscc", "branches", "official_grade", "official_source", "rule_grade", "reasons",
                "project_count", "amount", "profit", "margin"]


def _sheet(book, styles, title: str, heading: str, frame: pd.DataFrame, note: str = "") -> None:
    ws = book.add_worksheet(title)
    ws.write_string(0, 0, heading, styles.title)
    if note:
        ws.write_string(1, 0, note, styles.note)
    write_frame(ws, frame, styles=styles, start_row=3, context="grades")
    set_print_landscape(ws, repeat_rows=(3, 3), title=heading)


def write_grade_changes(changes: pd.DataFrame, out: Path, span: str) -> Path:
    """等级变动: upgrades and downgrades with the reasons before and after."""
    out.parent.mkdir(parents=True, exist_ok=True)
    book = new_workbook(out)
    styles = Styles(book)
    _sheet(book, styles, labels.SHEETS["grade_changes"], f"客户等级变动（{span}）",
           changes.drop(columns=["customer_id"]))
    book.close()
    return out


def write_grade_lists(archive: Archive, config: Config, as_of: str, out: Path, branch: str | None = None):
    """客户分级清单: the three lists, and where branch proposals differ from the rules.

    With ``branch`` it is that branch's edition: its own customers only (graded as the group grades them).
    """
    from ..archive.access import edition
    snapshot = archive.snapshot(as_of)
    grades = official_grades(rule_grades(snapshot, config, as_of))
    if branch is not None:
        snapshot = edition(snapshot, branch)
        grades = own_money(edition_grades(grades, snapshot, branch), snapshot, config)
    lists = grade_lists(grades)
    out.parent.mkdir(parents=True, exist_ok=True)
    book = new_workbook(out)
    styles = Styles(book)
    for grade in GRADES:
        _sheet(book, styles, grade_sheet(grade), f"{as_of} 月末 {grade} 类客户（{len(lists[grade])} 家）",
               lists[grade][LIST_COLUMNS])
    proposals = branch_proposals(snapshot, grades)
    differs = proposals[proposals["differs"]][["branch", "name", "proposed_grade", "rule_grade", "reasons"]]
    _sheet(book, styles, labels.SHEETS["differs"], "分公司建议等级与规则等级不一致的客户", differs,
           "这些客户需要与报送单位沟通核实（集团《客户关系管理办法》三(一)3）。")
    book.close()
    return out, {g: len(lists[g]) for g in GRADES}
