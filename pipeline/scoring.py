"""Scoring against the archive: grades as of a month end, and the grade workbooks."""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from schemas.columns import label

from .archive import Archive
from .config import Config
from .excel import Styles, new_workbook, set_print_landscape, write_frame
from .grading import (GRADES, branch_proposals, grade_lists, half_end, official_grades,
                      propose_adjustment, rule_grades, write_adjustment_workbook)

GRADE_LABELS = {"official_grade": "正式等级", "official_source": "等级来源", "rule_grade": "规则等级",
                "reasons": "评级依据", "project_count": "已中标项目数", "amount": "累计合同额（万元）",
                "profit": "累计利润（万元）", "margin": "规模利润比", "grade_before": "原等级",
                "grade_after": "新等级", "direction": "变动", "reasons_before": "原评级依据",
                "reasons_after": "现评级依据", "proposed_grade": "分公司建议等级"}
KINDS = {"规模利润比": "percent", "累计合同额（万元）": "money", "累计利润（万元）": "money",
         "已中标项目数": "count", "客户编号": "integer"}


def labelled(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.rename(columns={c: GRADE_LABELS.get(c) or label(c, "customers") for c in frame.columns})


def grades_as_of(archive: Archive, config: Config, as_of: str) -> pd.DataFrame:
    """Rule and official grade of every customer in the archive as of a month end."""
    return official_grades(rule_grades(archive.snapshot(as_of), config, as_of))


def write_adjustment_proposal(archive: Archive, config: Config, period: str, out: Path):
    proposal = propose_adjustment(archive.snapshot(half_end(period)), config, period)
    out.parent.mkdir(parents=True, exist_ok=True)
    return write_adjustment_workbook(proposal, out, period), proposal


def _sheet(book, styles, title: str, heading: str, frame: pd.DataFrame, note: str = "") -> None:
    ws = book.add_worksheet(title)
    ws.write_string(0, 0, heading, styles.title)
    if note:
        ws.write_string(1, 0, note, styles.note)
    write_frame(ws, labelled(frame), styles=styles, start_row=3, kinds=KINDS)
    set_print_landscape(ws, repeat_rows=(3, 3), title=heading)


def write_grade_changes(changes: pd.DataFrame, out: Path, span: str) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    book = new_workbook(out)
    styles = Styles(book)
    _sheet(book, styles, "等级变动", f"客户等级变动（{span}）", changes.drop(columns=["customer_id"]))
    book.close()
    return out


LIST_COLUMNS = ["name", "uscc", "branches", "official_grade", "official_source", "rule_grade", "reasons",
                "project_count", "amount", "profit", "margin"]


def write_grade_lists(archive: Archive, config: Config, as_of: str, out: Path):
    """客户分级清单: the three lists, and where branch proposals differ from the rules."""
    snapshot = archive.snapshot(as_of)
    grades = official_grades(rule_grades(snapshot, config, as_of))
    lists = grade_lists(grades)
    out.parent.mkdir(parents=True, exist_ok=True)
    book = new_workbook(out)
    styles = Styles(book)
    for grade in GRADES:
        _sheet(book, styles, f"{grade}类客户", f"{as_of} 月末 {grade} 类客户（{len(lists[grade])} 家）",
               lists[grade][LIST_COLUMNS])
    proposals = branch_proposals(snapshot, grades)
    differs = proposals[proposals["differs"]][["branch", "name", "proposed_grade", "rule_grade", "reasons"]]
    _sheet(book, styles, "建议与规则不一致", "分公司建议等级与规则等级不一致的客户",
           differs.rename(columns={"branch": "branch"}),
           "这些客户需要与报送单位沟通核实（集团《客户关系管理办法》三(一)3）。")
    book.close()
    return out, {g: len(lists[g]) for g in GRADES}
