"""The half-yearly grade adjustment as an Excel round trip: propose, let the department decide, apply.

`crm grades adjust` writes 等级调整建议_<半年度>.xlsx (official → rule grade, with
the reasons, the decision prefilled with 采纳, or with the decisions already recorded for the half);
the department edits the decision column; `crm grades apply` reads back the customer numbers,
decisions and remarks only, checks them against the archive (whose grades count, not the cells'),
and records the decisions. Mirrors the duplicate review (archive/review.py).
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
from ..intake.cleaning import compact
from ..periods import half_end
from .grading import official_grades, rule_grades

SHEET = labels.SHEETS["adjustment"]
DECISIONS = ADJUST_DECISIONS
COLUMNS = ["customer_id", "name", "uscc", "branches", "official_grade", "official_source", "rule_grade",
           "reasons", "project_count", "amount", "profit", "margin", "suggestion", "decision", "remark"]
HEADER_ROW = 3  # 0-based row of the header


def propose_adjustment(snapshot: dict[str, pd.DataFrame], config: Config, period: str,
                       recorded: pd.DataFrame | None = None) -> pd.DataFrame:
    """For each customer: official → rule grade, with reasons; the decision prefilled with 采纳.

    ``recorded``: the decisions already recorded for this half (``Archive.grade_adjustments``): a customer's
    official grade is then the one before them, and its decision and remark the recorded ones, so that the
    workbook made again and applied again changes nothing."""
    rules = official_grades(rule_grades(snapshot, config, half_end(period)))
    out = rules[["customer_id", "name", "uscc", "branches", "official_grade", "official_source",
                 "rule_grade", "reasons", "project_count", "amount", "profit", "margin"]].copy()
    out["decision"] = ADOPT
    out["remark"] = None
    if recorded is not None and len(recorded):
        before = recorded.drop_duplicates("customer_id", keep="last").set_index("customer_id")
        known = out["customer_id"].isin(before.index)
        ids = out.loc[known, "customer_id"]
        out.loc[known, "official_grade"] = ids.map(before["old_grade"]).fillna(out.loc[known, "official_grade"])
        out.loc[known, "decision"] = ids.map(before["decision"]).fillna(ADOPT)
        out.loc[known, "remark"] = ids.map(before["remark"])
    out["suggestion"] = [KEEP if o == r else ADOPT for o, r in zip(out["official_grade"], out["rule_grade"])]
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
    set_print_landscape(ws, repeat_rows=(HEADER_ROW, HEADER_ROW), repeat_cols=(0, COLUMNS.index("name")),
                        title=f"{period} {labels.TITLES['adjustment']}")
    book.close()
    return path


def archive_proposal(archive: Archive, config: Config, period: str) -> pd.DataFrame:
    """The half year's proposal from the archive as of its end, with the decisions recorded for it."""
    return propose_adjustment(archive.snapshot(half_end(period)), config, period, archive.grade_adjustments([period]))


def write_adjustment_proposal(archive: Archive, config: Config, period: str, out: Path):
    """Propose the adjustment of a half year from the archive as of its end; returns (path, proposal)."""
    proposal = archive_proposal(archive, config, period)
    return write_adjustment_workbook(proposal, out, period), proposal


def read_adjustment_decisions(path: Path, period: str, proposal: pd.DataFrame
                              ) -> tuple[list[dict], list[Finding], list[str]]:
    """Rows for the archive's grade_adjustments, findings for cells that are wrong (then nothing is to be recorded)
    and notes for the user, from a filled-in workbook checked against ``proposal`` (``archive_proposal``: the
    archive's grades). Only a row's customer number, decision and remark are taken from the workbook; its grade
    cells must still be the archive's (an edited or out-of-date workbook is refused, not recorded)."""
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
    archived = proposal.set_index("customer_id")
    out, findings, seen, blank = [], [], {}, 0

    def finding(code: str, r: int, key: str, value, **kw) -> None:
        findings.append(make_finding(code, path.name, sheet=SHEET, row=r + 1,
                                     col_letter=column_letter(col[label(key, "adjustment")]),
                                     column=label(key, "adjustment"), value=value, **kw))

    for r in range(HEADER_ROW + 1, len(rows)):
        row = {keys[t]: rows[r][i] for t, i in col.items() if t in keys and i < len(rows[r])}
        if row.get("customer_id") in ("", None):
            continue
        customer_id = _customer_id(row["customer_id"])
        if customer_id is None or customer_id not in archived.index:
            finding("unknown-customer-id", r, "customer_id", row["customer_id"])
            continue
        if customer_id in seen:
            finding("duplicate-customer-row", r, "customer_id", row["customer_id"], detail=seen[customer_id])
            continue
        seen[customer_id] = r + 1
        official, rule = archived.loc[customer_id, "official_grade"], archived.loc[customer_id, "rule_grade"]
        for key, grade in (("official_grade", official), ("rule_grade", rule)):
            shown = str(row.get(key) or "").strip()
            if key in row and shown != grade:
                finding("grade-not-archived", r, key, shown, detail=grade)
        blank += row.get("decision") in ("", None)
        decision = compact(str(row.get("decision") or ADOPT)).upper()  # (改为Ｃ, 改为 c)
        if decision == ADOPT:
            new = rule
        elif decision == KEEP:
            new = official
        elif decision in DECISIONS and decision.startswith(CHANGE_TO):
            new = decision[-1]
        else:
            finding("not-allowed", r, "decision", row.get("decision"), allowed=DECISIONS)
            continue
        out.append({"customer_id": customer_id, "period": period,
                    "effective_period": half_end(period), "old_grade": official, "new_grade": new,
                    "decision": decision, "remark": row.get("remark") or None})
    notes = []
    if blank:
        notes.append(f"{blank} 行的“{label('decision')}”为空，按“{ADOPT}”处理。")
    absent = archived.index.difference(list(seen))
    if len(absent):
        names = "、".join(archived.loc[absent[:3], "name"])
        notes.append(f"调整表中没有 {len(absent)} 家客户的行（{names}{'等' if len(absent) > 3 else ''}）："
                     f"本半年度不为它们记录决定，正式等级不变。")
    return out, findings, notes


def _customer_id(value) -> int | None:
    """A 客户编号 cell: 127, 127.0, “127” or the archive number “K000127”; None for anything else."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return int(value) if float(value).is_integer() else None
    match = re.fullmatch(r"[Kk]?0*(\d{1,9})", str(value).strip())
    return int(match[1]) if match else None
