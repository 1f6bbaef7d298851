"""A/B/C grades by the group's rules, with the reasons; official grades and the half-yearly adjustment.

The rules (seed 001 三(一)3), every threshold in crm.toml [grading]:
- C: a stranger (no cooperation history); or a history with a bad integrity
  record; demanding terms; unreasonable complaints (the 无理投诉记录 flag, or a
  complaint marked unreasonable within the last N years); low profit (the
  margin of the customer's awarded projects below x %); poor credit (资信 差);
  problems of its own; arrears (付款 拖欠) on a project.
- A: a history, integrity 良好, credit 良好, social value 高, a near-term need.
- B: everyone else.
C conditions win over A. A customer has a history when 首次合作年份 is filled
(and not after the as-of year) or it has a project in 中标 or a later state.
"""
from __future__ import annotations

import pandas as pd

from .config import Config
from .findings import Finding, make_finding

GRADES = ("A", "B", "C")
DECISIONS = ("采纳", "保持", "改为A", "改为B", "改为C")


def _year(as_of: str) -> int:
    return int(as_of[:4])


def customer_evidence(snapshot: dict[str, pd.DataFrame], config: Config, as_of: str) -> pd.DataFrame:
    """Per customer, the facts the rules look at."""
    customers = snapshot["customers"]
    projects = snapshot["projects"]
    complaints = snapshot["complaints"]
    history_statuses = config.get("grading", "history_statuses", list)
    awarded = projects[projects["status"].isin(history_statuses)]
    money = awarded.groupby("customer_id").agg(project_count=("project_id", "size"),
                                               amount=("amount", "sum"), profit=("profit", "sum"))
    arrears = projects[projects["payment"] == "拖欠"].groupby("customer_id").size().rename("arrears")
    years = int(config.number("grading", "complaint_years", minimum=0))
    since = pd.Timestamp(_year(as_of) - years + 1, 1, 1)
    unreasonable = complaints[(complaints["unreasonable"] == "是") & (complaints["complained_at"] >= since)]
    by_year = unreasonable.assign(year=unreasonable["complained_at"].dt.year).groupby(
        ["customer_id", "year"]).size()
    out = customers[["customer_id", "name", "uscc", "branches", "first_year", "integrity", "credit",
                     "social_value", "near_term_need", "demanding", "unreasonable_complaints",
                     "own_problems", "official_grade"]].copy()
    out = out.merge(money, on="customer_id", how="left").merge(arrears, on="customer_id", how="left")
    out["project_count"] = out["project_count"].fillna(0).astype(int)
    out["arrears"] = out["arrears"].fillna(0).astype(int)
    out["margin"] = [p / a if pd.notna(a) and a > 0 else float("nan")
                     for a, p in zip(out["amount"], out["profit"])]
    first_ok = out["first_year"].notna() & (out["first_year"].fillna(9999) <= _year(as_of))
    out["has_history"] = first_ok | (out["project_count"] > 0)
    out["complaint_years"] = out["customer_id"].map(
        lambda cid: {int(y): int(n) for (c, y), n in by_year.items() if c == cid})
    return out


def rule_grades(snapshot: dict[str, pd.DataFrame], config: Config, as_of: str) -> pd.DataFrame:
    """The rule grade of every customer as of a month end, with every deciding reason."""
    evidence = customer_evidence(snapshot, config, as_of)
    low = config.number("grading", "low_margin_percent", minimum=-100, maximum=100) / 100
    a_values = config.get("grading", "a_social_values", list)
    arrears_c = config.get("grading", "arrears_is_c", bool)
    credit_c = config.get("grading", "poor_credit_is_c", bool)
    grades, reasons = [], []
    for e in evidence.itertuples():
        c = []
        if not e.has_history:
            c.append("陌生客户（无合作历史）")
        if e.has_history and e.integrity == "不良":
            c.append("诚信记录为不良")
        if e.demanding == "是":
            c.append("要求苛刻")
        if e.unreasonable_complaints == "有":
            c.append("有无理投诉记录")
        for year, count in sorted(e.complaint_years.items()):
            c.append(f"{year}年有无理投诉{count}次")
        if pd.notna(e.margin) and e.margin < low:
            c.append(f"利润低（毛利率{e.margin:.1%}，低于{low:.0%}）" if low * 100 == int(low * 100)
                     else f"利润低（毛利率{e.margin:.1%}，低于{low:.1%}）")
        if credit_c and e.credit == "差":
            c.append("资信状况为差")
        if e.own_problems == "有":
            c.append("企业自身存在问题")
        if arrears_c and e.arrears:
            c.append(f"{e.arrears}个项目付款拖欠")
        if c:
            grades.append("C")
            reasons.append("C：" + "；".join(c))
            continue
        missing = []
        if not e.has_history:
            missing.append("无合作历史")
        if e.integrity != "良好":
            missing.append(f"诚信记录为{e.integrity}")
        if e.credit != "良好":
            missing.append(f"资信状况为{e.credit}")
        if e.social_value not in a_values:
            missing.append(f"社会价值为{e.social_value}")
        if e.near_term_need != "有":
            missing.append("近期无合作需求")
        if missing:
            grades.append("B")
            reasons.append("B：不满足A类条件：" + "；".join(missing))
        else:
            since = f"{int(e.first_year)}年起" if pd.notna(e.first_year) else f"{e.project_count}个项目"
            grades.append("A")
            reasons.append(f"A：有合作历史（{since}）；诚信良好；资信良好；社会价值{e.social_value}；近期有合作需求")
    evidence["rule_grade"] = grades
    evidence["reasons"] = reasons
    return evidence.drop(columns=["complaint_years"])


def official_grades(rules: pd.DataFrame) -> pd.DataFrame:
    """The official grade: the last half-yearly decision, else the rule grade (new customers)."""
    out = rules.copy()
    adjusted = out["official_grade"].notna()
    out["official_source"] = ["半年度调整" if a else "规则（尚未调整）" for a in adjusted]
    out["official_grade"] = out["official_grade"].where(adjusted, out["rule_grade"])
    return out


def branch_proposals(snapshot: dict[str, pd.DataFrame], rules: pd.DataFrame) -> pd.DataFrame:
    """Each branch's proposed grade beside the rule grade; `differs` marks the conversations to have."""
    links = snapshot["customer_branches"][["customer_id", "branch", "proposed_grade"]]
    out = links.merge(rules[["customer_id", "name", "rule_grade", "reasons"]], on="customer_id")
    out["differs"] = out["proposed_grade"].notna() & (out["proposed_grade"] != out["rule_grade"])
    return out


def grade_lists(grades: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The three lists, by official grade."""
    return {g: grades[grades["official_grade"] == g].sort_values("name", kind="stable")
            for g in GRADES}


def grade_changes(before: pd.DataFrame, after: pd.DataFrame) -> pd.DataFrame:
    """Upgrades and downgrades of the official grade between two period ends, with both reasons."""
    merged = after[["customer_id", "name", "branches", "official_grade", "reasons"]].merge(
        before[["customer_id", "official_grade", "reasons"]], on="customer_id", how="inner",
        suffixes=("", "_before"))
    changed = merged[merged["official_grade"] != merged["official_grade_before"]].copy()
    rank = {"A": 3, "B": 2, "C": 1}
    changed["direction"] = ["升级" if rank[n] > rank[o] else "降级" for o, n in
                            zip(changed["official_grade_before"], changed["official_grade"])]
    return changed.rename(columns={"official_grade_before": "grade_before",
                                   "official_grade": "grade_after",
                                   "reasons_before": "reasons_before", "reasons": "reasons_after"})[
        ["customer_id", "name", "branches", "grade_before", "grade_after", "direction",
         "reasons_before", "reasons_after"]].sort_values(["direction", "name"], kind="stable")


# -- the half-yearly adjustment -------------------------------------------------

def half_end(period: str) -> str:
    """'2026-H1' → '2026-06'; '2026-H2' → '2026-12'."""
    year, half = period.split("-H")
    return f"{year}-{'06' if half == '1' else '12'}"


def propose_adjustment(snapshot: dict[str, pd.DataFrame], config: Config, period: str) -> pd.DataFrame:
    """For each customer: official → rule grade, with reasons; the decision prefilled with 采纳."""
    rules = official_grades(rule_grades(snapshot, config, half_end(period)))
    out = rules[["customer_id", "name", "uscc", "branches", "official_grade", "official_source",
                 "rule_grade", "reasons", "project_count", "amount", "profit", "margin"]].copy()
    out["suggestion"] = ["保持" if o == r else "采纳" for o, r in zip(out["official_grade"], out["rule_grade"])]
    out["decision"] = "采纳"
    out["remark"] = None
    order = out["official_grade"] != out["rule_grade"]
    return out.assign(_changed=order).sort_values(["_changed", "name"], ascending=[False, True],
                                                  kind="stable").drop(columns="_changed")


ADJUST_COLUMNS = [("客户编号", "customer_id", "integer"), ("客户单位名称", "name", "text"),
                  ("统一社会信用代码", "uscc", "code"), ("报送单位", "branches", "text"),
                  ("现正式等级", "official_grade", "text"), ("等级来源", "official_source", "text"),
                  ("规则等级", "rule_grade", "text"), ("评级依据", "reasons", "text"),
                  ("已中标项目数", "project_count", "count"), ("累计合同额（万元）", "amount", "money"),
                  ("累计利润（万元）", "profit", "money"), ("规模利润比", "margin", "percent"),
                  ("建议", "suggestion", "text"), ("处理决定", "decision", "text"), ("备注", "remark", "text")]
ADJUST_SHEET = "等级调整建议"


def write_adjustment_workbook(proposal: pd.DataFrame, path, period: str):
    """等级调整建议_<period>.xlsx with a drop-down decision column."""
    from .excel import Styles, new_workbook, set_print_landscape, write_frame
    book = new_workbook(path)
    styles = Styles(book)
    ws = book.add_worksheet(ADJUST_SHEET)
    ws.write_string(0, 0, f"{period} 客户等级调整建议", styles.title)
    changed = int((proposal["official_grade"] != proposal["rule_grade"]).sum())
    ws.write_string(1, 0, f"共 {len(proposal)} 家客户，其中 {changed} 家规则等级与现正式等级不同。"
                          f"“处理决定”可选：{'、'.join(DECISIONS)}；改动后运行 crm grades apply 本文件。",
                    styles.note)
    frame = proposal[[key for _, key, _ in ADJUST_COLUMNS]].rename(
        columns={key: title for title, key, _ in ADJUST_COLUMNS})
    kinds = {title: kind for title, _, kind in ADJUST_COLUMNS}
    write_frame(ws, frame, styles=styles, start_row=3, kinds=kinds, required={"处理决定"})
    decision_col = [key for _, key, _ in ADJUST_COLUMNS].index("decision")
    ws.data_validation(4, decision_col, 4 + max(len(frame), 1) + 50, decision_col,
                       {"validate": "list", "source": list(DECISIONS)})
    ws.set_column(7, 7, 50)
    set_print_landscape(ws, repeat_rows=(3, 3), title=f"{period} 客户等级调整建议")
    book.close()
    return path


def read_adjustment_decisions(path, period: str) -> tuple[list[dict], list[Finding]]:
    """Rows for the archive's grade_adjustments, and findings for bad decision cells."""
    from python_calamine import CalamineWorkbook

    from .reading import column_letter
    rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_name(ADJUST_SHEET).to_python(
        skip_empty_area=False)
    header = rows[3]
    col = {title: i for i, title in enumerate(header)}
    keys = {title: key for title, key, _ in ADJUST_COLUMNS}
    out, findings = [], []
    for r in range(4, len(rows)):
        row = {keys[t]: rows[r][i] for t, i in col.items() if t in keys and i < len(rows[r])}
        if row.get("customer_id") in ("", None):
            continue
        decision = str(row.get("decision") or "采纳").replace(" ", "").upper()
        official, rule = row.get("official_grade"), row.get("rule_grade")
        if decision == "采纳":
            new = rule
        elif decision == "保持":
            new = official
        elif decision in ("改为A", "改为B", "改为C"):
            new = decision[-1]
        else:
            findings.append(make_finding("not-allowed", str(path), sheet=ADJUST_SHEET, row=r + 1,
                                         col_letter=column_letter(col["处理决定"]), column="处理决定",
                                         value=row.get("decision"), allowed=DECISIONS))
            continue
        out.append({"customer_id": int(row["customer_id"]), "period": period,
                    "effective_period": half_end(period), "old_grade": official, "new_grade": new,
                    "decision": decision, "remark": row.get("remark") or None})
    return out, findings
