"""The half-yearly grade adjustment as an Excel round trip: propose, let the department decide, apply.

`crm grades adjust` writes 等级调整建议_<半年度>.xlsx (official → rule grade, with
the reasons, the decision prefilled with 采纳); the department edits the
decision column; `crm grades apply` reads it back and records the decisions.
Mirrors the duplicate review (archive/review.py).
"""
from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from schemas import labels
from schemas.labels import ADJUST_DECISIONS, ADOPT, CHANGE_TO, KEEP, label

from ..archive.store import Archive
from ..config import Config
from ..errors import WrongWorkbook
from ..excel import (Styles, column_letter, new_workbook, read_sheet, set_print_landscape,
                     write_frame)
from ..findings import Finding, make_finding
from ..periods import half_end
from .grading import official_grades, rule_grades

SHEET = labels.SHEETS["adjustment"]
DECISIONS = ADJUST_DECISIONS
COLUMNS = ["customer_id", "name", "uscc", "branches", "official_grade", "official_source", "rule_grade",
           "reasons", "project_count", "amount", "profit", "margin", "suggestion", "decision", "remark"]
HEADER_ROW = 3  # 0-based row of the header


def propose_adjustment(snapshot: dict[str, pd.DataFrame], config: Config, period: str) -> pd.DataFrame:
    """For each customer: official → rule grade, with reasons; the decision prefilled with 采纳."""
    rules = official_grades(rule_grades(snapshot, config, half_end(period)))
    out = rules[["customer_id", "name", "uscc", "branches", "official_grade", "official_source",
                 "rule_grade", "reasons", "project_count", "amount", "profit", "margin"]].copy()
    out["suggestion"] = [KEEP if o == r else ADOPT for o, r in zip(out["official_grade"], out["rule_grade"])]
    out["decision"] = ADOPT
    out["remark"] = None
    order = out["official_grade"] != out["rule_grade"]
    return out.assign(_changed=order).sort_values(["_changed", "name"], ascending=[False, True],
                                                  kind="stable").drop(columns="_changed")


def write_adjustment_workbook(proposal: pd.DataFrame, path: Path, period: str) -> Path:
    """等级调整建议_<period>.xlsx with a drop-down decision column."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    book = new_workbook(path)
    styles = Styles(book)
    ws = book.add_worksheet(SHEET)
    ws.write_string(0, 0, f"{period} {labels.TITLES['adjustment']}", styles.title)
    changed = int((proposal["official_grade"] != proposal["rule_grade"]).sum())
    ws.write_string(1, 0, f"共 {len(proposal)} 家客户，其中 {changed} 家规则等级与现正式等级不同。"
                          f"“{label('decision')}”可选：{'、'.join(DECISIONS)}；改动后运行 crm grades apply 本文件。",
                    styles.note)
    frame = proposal[COLUMNS]
    write_frame(ws, frame, styles=styles, start_row=HEADER_ROW, context="adjustment", required={"decision"})
    decision_col = COLUMNS.index("decision")
    ws.data_validation(HEADER_ROW + 1, decision_col, HEADER_ROW + 1 + max(len(frame), 1) + 50, decision_col,
                       {"validate": "list", "source": list(DECISIONS)})
    ws.set_column(COLUMNS.index("reasons"), COLUMNS.index("reasons"), 50)
    set_print_landscape(ws, repeat_rows=(HEADER_ROW, HEADER_ROW),
                        title=f"{period} {labels.TITLES['adjustment']}")
    book.close()
    return path


def write_adjustment_proposal(archive: Archive, config: Config, period: str, out: Path):
    """Propose the adjustment of a half year from the archive as of its end; returns (path, proposal)."""
    proposal = propose_adjustment(archive.snapshot(half_end(period)), config, period)
    return write_adjustment_workbook(proposal, out, period), proposal


def read_adjustment_decisions(path: Path, period: str) -> tuple[list[dict], list[Finding]]:
    """Rows for the archive's grade_adjustments, and findings for bad decision cells."""
    path = Path(path)
    rows = read_sheet(path, SHEET, labels.TITLES["adjustment"])
    header = rows[HEADER_ROW] if len(rows) > HEADER_ROW else []
    col = {title: i for i, title in enumerate(header)}
    keys = {label(key, "adjustment"): key for key in COLUMNS}
    if label("decision") not in col or label("customer_id") not in col:
        raise WrongWorkbook(f"{path.name} 的工作表“{SHEET}”第 {HEADER_ROW + 1} 行不是调整表的表头"
                            f"（应有“{label('customer_id')}”“{label('decision')}”列）。"
                            "请使用 crm grades adjust 生成的文件，不要删除或移动表头。")
    title = str(rows[0][0]) if rows and rows[0] else ""
    if (written := re.match(r"\d{4}-H[12]", title)) and written[0] != period:
        raise WrongWorkbook(f"{path.name} 是 {written[0]} 的调整表，不是 {period} 的。请用该半年度的调整表，"
                            f"或把 --period 写成 {written[0]}。未作任何改动。")
    out, findings = [], []
    for r in range(HEADER_ROW + 1, len(rows)):
        row = {keys[t]: rows[r][i] for t, i in col.items() if t in keys and i < len(rows[r])}
        if row.get("customer_id") in ("", None):
            continue
        decision = str(row.get("decision") or ADOPT).replace(" ", "").upper()
        official, rule = row.get("official_grade"), row.get("rule_grade")
        if decision == ADOPT:
            new = rule
        elif decision == KEEP:
            new = official
        elif decision in DECISIONS and decision.startswith(CHANGE_TO):
            new = decision[-1]
        else:
            findings.append(make_finding("not-allowed", path.name, sheet=SHEET, row=r + 1,
                                         col_letter=column_letter(col[label("decision")]),
                                         column=label("decision"), value=row.get("decision"),
                                         allowed=DECISIONS))
            continue
        try:
            customer_id = int(row["customer_id"])
        except (TypeError, ValueError):
            findings.append(make_finding("bad-number", path.name, sheet=SHEET, row=r + 1,
                                         col_letter=column_letter(col[label("customer_id")]),
                                         column=label("customer_id"), value=row.get("customer_id")))
            continue
        out.append({"customer_id": customer_id, "period": period,
                    "effective_period": half_end(period), "old_grade": official, "new_grade": new,
                    "decision": decision, "remark": row.get("remark") or None})
    return out, findings
