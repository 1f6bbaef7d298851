"""The assessment workbooks: 客户关系维护成效考核_<半年度>.xlsx (the department's working sheet) and
考核通报_<半年度>.xlsx (one page for leadership).

In the working sheet the department fills in the report quality and the spot-check deduction and
may decide a final result other than the proposal (left blank, the result is the proposal as the total
then stands); scores, total and proposed result are live formulas over those cells (with their values
written too), so the sheet recomputes as it is edited. `crm assess apply` reads the department's cells
back and recomputes everything itself, never trusting the formulas. A half already recorded is written
with its recorded inputs and results, so that the sheet made again and applied again changes nothing.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd

from schemas import labels
from schemas.labels import ASSESSMENT_RESULTS, DOC_LATE, DOC_ON_TIME, EXCELLENT, POOR_RESULT, QUALIFIED, label

from ..analysis.assessment import INDICATORS
from ..config import Config
from ..excel import (ERROR_FILL, FONT, GRADE_COLOURS, OK_FILL, WARNING_FILL, Styles, column_letter, new_workbook,
                     set_print_landscape, write_frame, write_paragraph)
from ..intake.cleaning import compact

SHEET = labels.SHEETS["assessment"]
HEADER_ROW = 4  # 0-based: group labels on row 3, column labels on row 4
GROUPS = [
    ("reporting", ["months_on_time", "months_late", "months_missing", "months_returned", "months_no_change",
                   "files_rejected", "rows_submitted", "error_cells", "errors_per_row", "customers_held",
                   "customer_standard", "score_reporting"]),
    ("complaints", ["received", "response_rate", "feedback_rate", "handling_satisfaction", "overdue_open",
                    "score_complaints"]),
    ("satisfaction", ["dissatisfied_items", "satisfaction_rate", "score_satisfaction"]),
    ("analysis_report", ["report_status", "report_received_at", "report_quality", "score_analysis_report"]),
    ("authenticity", ["conflicts", "late_corrections", "spot_check_deduction", "score_authenticity"]),
    ("summary", ["total", "proposed", "result", "remark"]),
]
COLUMNS = ["branch"] + [key for _, keys in GROUPS for key in keys]
EDITABLE = ("report_quality", "spot_check_deduction", "result", "remark")


def _cell(key: str, row: int) -> str:
    return f"{column_letter(COLUMNS.index(key))}{row + 1}"


def write_assessment_workbook(results: pd.DataFrame, config: Config, half: str, path: Path) -> Path:
    """客户关系维护成效考核_<half>.xlsx: one row per branch, editable where the department decides."""
    a = config.section("assessment")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    book = new_workbook(path)
    styles = Styles(book)
    ws = book.add_worksheet(SHEET)
    title = f"{half} {labels.TITLES['assessment']}"
    ws.write_string(0, 0, title, styles.title)
    ws.write_string(1, 0, f"黄底的单元格由市场营销部填写（报告质量填百分数如 80、抽查扣分、最终结果、说明，表头为红色），"
                          f"得分与总分随之重算；总分 ≥ {a['excellent_score']:g} 为{EXCELLENT}，≥ {a['qualified_score']:g} 为"
                          f"{QUALIFIED}，其余为{POOR_RESULT}；半年内从未报送的单位一律为{POOR_RESULT}。“最终结果”留空即采用"
                          f"建议结果，只在要改变结果时填写。填好后运行 crm assess apply 本文件 --notified 通报日期。", styles.note)
    frame = results[COLUMNS]
    first, _, last, _ = write_frame(ws, frame, styles=styles, start_row=HEADER_ROW, context="assessment",
                                    required=set(EDITABLE), freeze=False, autofilter=False)
    # Group labels above the columns of each indicator.
    col = 1
    for group, keys in GROUPS:
        text = labels.ASSESSMENT_GROUPS[group].format(weight=a.get(f"weight_{group}", 0))
        if len(keys) > 1:
            ws.merge_range(HEADER_ROW - 1, col, HEADER_ROW - 1, col + len(keys) - 1, text, styles.header)
        else:
            ws.write_string(HEADER_ROW - 1, col, text, styles.header)
        col += len(keys)
    ws.write_string(HEADER_ROW - 1, 0, "", styles.header)
    editable = styles.get("editable", border=1, border_color="#D9D9D9", bg_color=WARNING_FILL, num_format="0.0")
    editable_text = styles.get("editable_text", border=1, border_color="#D9D9D9", bg_color=WARNING_FILL)
    score_format = styles.body("decimal")
    for n, r in enumerate(results.itertuples(index=False)):
        row = first + 1 + n
        arrival = {DOC_ON_TIME: 1.0, DOC_LATE: a["late_report_credit"]}.get(r.report_status, 0.0)
        ws.write_number(row, COLUMNS.index("report_quality"), float(r.report_quality), editable)
        ws.write_number(row, COLUMNS.index("spot_check_deduction"), float(r.spot_check_deduction), editable)
        if getattr(r, "official", False):  # recorded: the result decided; else blank, i.e. the proposal
            ws.write_string(row, COLUMNS.index("result"), r.result, editable_text)
        else:
            ws.write_blank(row, COLUMNS.index("result"), None, editable_text)
        if isinstance(r.remark, str) and r.remark:  # (a column of texts and blanks holds NaN for a blank)
            ws.write_string(row, COLUMNS.index("remark"), r.remark, editable_text)
        else:
            ws.write_blank(row, COLUMNS.index("remark"), None, editable_text)
        base = 100 - a["conflict_points"] * r.conflicts - a["late_correction_points"] * r.late_corrections
        ws.write_formula(row, COLUMNS.index("score_analysis_report"),
                         f"=ROUND({100 * arrival:g}*{_cell('report_quality', row)}/100,1)", score_format,
                         r.score_analysis_report)
        ws.write_formula(row, COLUMNS.index("score_authenticity"),
                         f"=MAX(0,ROUND({base:g}-{_cell('spot_check_deduction', row)},1))", score_format,
                         r.score_authenticity)
        weighted = "+".join(f"{a[f'weight_{k}']:g}*{_cell(f'score_{k}', row)}" for k in INDICATORS)
        ws.write_formula(row, COLUMNS.index("total"), f"=ROUND(({weighted})/100,1)", score_format, r.total)
        total = _cell("total", row)
        proposal = (f'=IF({"TRUE" if r.never_submitted else "FALSE"},"{POOR_RESULT}",'
                    f'IF({total}>={a["excellent_score"]:g},"{EXCELLENT}",'
                    f'IF({total}>={a["qualified_score"]:g},"{QUALIFIED}","{POOR_RESULT}")))')
        ws.write_formula(row, COLUMNS.index("proposed"), proposal, styles.body(), r.proposed)
    result_col = COLUMNS.index("result")
    ws.data_validation(first + 1, result_col, last, result_col,
                       {"validate": "list", "source": list(ASSESSMENT_RESULTS)})
    for key in ("report_quality", "spot_check_deduction"):
        c = COLUMNS.index(key)
        ws.data_validation(first + 1, c, last, c, {"validate": "decimal", "criteria": "between", "minimum": 0,
                                                   "maximum": 100, "error_message": "请填写 0–100 的数字"})
    fills = {EXCELLENT: OK_FILL, POOR_RESULT: ERROR_FILL}
    for result, colour in fills.items():
        ws.conditional_format(first + 1, COLUMNS.index("proposed"), last, COLUMNS.index("proposed"),
                              {"type": "cell", "criteria": "==", "value": f'"{result}"',
                               "format": styles.get(f"result_{result}", bg_color=colour)})
    ws.freeze_panes(HEADER_ROW + 1, 1)
    set_print_landscape(ws, repeat_rows=(HEADER_ROW - 1, HEADER_ROW), title=title)
    _rules_sheet(book, styles, config, half)
    book.close()
    return path


def _rules_sheet(book, styles: Styles, config: Config, half: str) -> None:
    """说明: every indicator's formula with this configuration's numbers."""
    a = config.section("assessment")
    ws = book.add_worksheet(labels.SHEETS["about"])
    ws.write_string(0, 0, f"{half} 分子公司客户关系维护成效考核：计分方法", styles.title)
    lines = [
        ("依据", "集团《客户关系管理办法》三(二)Ⅱ4：每半年对各分子公司考核一次，评定优良、合格、差；合格、差的单位一周内"
                 "提交工作总结，差的单位暂停查询档案一个月。各项权重与计分规则如下。"),
        (labels.ASSESSMENT_GROUPS["reporting"].format(weight=a["weight_reporting"]),
         f"100 ×（及时 × {a['reporting_timeliness']:g} + 质量 × {a['reporting_quality']:g} + 规模 × "
         f"{a['reporting_scale']:g}）。及时 =（按时月数 + 无变化月数 + 逾期月数 × {a['late_month_credit']:g}）÷ 6，"
         f"未报与被退回未重报的月份计 0；质量 = 1 − 每行平均错误单元格数 ÷ {a['errors_per_row_zero']:g}（最低 0）；"
         f"规模 = 累计客户数 ÷ 标准（{a['customer_standard']:g} 家，可按单位设置；最高 1）。"),
        (labels.ASSESSMENT_GROUPS["complaints"].format(weight=a["weight_complaints"]),
         f"100 ×（24 小时内响应率 × {a['complaint_response']:g} + 48 小时内反馈率 × {a['complaint_feedback']:g} + "
         f"处理满意率 × {a['complaint_satisfaction']:g}）− 半年末仍超时未结的投诉 × {a['overdue_complaint_points']:g}"
         "（最低 0）；没有投诉时各比率按 1 计。"),
        (labels.ASSESSMENT_GROUPS["satisfaction"].format(weight=a["weight_satisfaction"]),
         f"100 − 不满意项数 × {a['dissatisfied_item_points']:g}（最低 0）；满意率仅作参考。"),
        (labels.ASSESSMENT_GROUPS["analysis_report"].format(weight=a["weight_analysis_report"]),
         f"100 × 按期提交（{a['report_due_h1']}、{a['report_due_h2']} 前为按时计 1，逾期计 {a['late_report_credit']:g}，"
         "未交计 0）× 报告质量（市场营销部按“避免虚、假、空”评定，默认 100%）。"),
        (labels.ASSESSMENT_GROUPS["authenticity"].format(weight=a["weight_authenticity"]),
         f"100 − 冲突数 × {a['conflict_points']:g} − 截止日后的更正重报 × {a['late_correction_points']:g} − 抽查扣分。"
         "冲突：同一信用代码名称不同、同名不同代码、经审核合并的疑似重复客户。"),
        (label("total", "assessment"), "五项得分按权重加权：Σ 权重 × 得分 ÷ 100。"),
        (label("result", "assessment"), f"默认为建议结果，可由市场营销部改定。{EXCELLENT}：通报表扬，计入绩效考核；"
                                       f"{QUALIFIED}：{a['summary_days']} 天内提交《客户关系维护工作总结》；"
                                       f"{POOR_RESULT}：同上，并暂停查询客户档案 {a['suspension_months']} 个月。"),
    ]
    for r, (key, value) in enumerate(lines, 2):
        ws.write_string(r, 0, key, styles.get("about_key", bold=True, valign="top"))
        ws.merge_range(r, 1, r, 8, value, styles.get("about_value", text_wrap=True, valign="top"))
        ws.set_row(r, 32)
    ws.set_column(0, 0, 26)
    ws.set_column(1, 8, 14)
    set_print_landscape(ws, title=f"{half} 考核计分方法")


def write_bulletin(results: pd.DataFrame, half: str, path: Path, official: bool) -> Path:
    """考核通报_<half>.xlsx: one landscape page — ranking with scores, results, praise, duties, suspensions."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    book = new_workbook(path)
    styles = Styles(book)
    ws = book.add_worksheet(labels.SHEETS["bulletin"])
    title = f"{half} 分子公司客户关系维护成效考核通报"
    ws.write_string(0, 0, title, styles.title)
    state = "正式结果" if official else "建议结果（尚未通报）"
    ws.write_string(1, 0, f"{state}。得分满分 100，排名按总分。", styles.note)
    ranking = results.sort_values(["total", "branch"], ascending=[False, True], kind="stable")
    shown = ranking[["rank", "branch", "total", "result", *(f"score_{k}" for k in INDICATORS)]]
    fills = [OK_FILL if r == EXCELLENT else (ERROR_FILL if r == POOR_RESULT else None) for r in shown["result"]]
    first, _, last, _ = write_frame(ws, shown, styles=styles, start_row=3, context="assessment", freeze=False,
                                    autofilter=False, fills=fills)
    chart = book.add_chart({"type": "bar"})
    chart.add_series({"name": label("total", "assessment"), "categories": [ws.name, first + 1, 1, last, 1],
                      "values": [ws.name, first + 1, 2, last, 2], "fill": {"color": GRADE_COLOURS["A"]},
                      "data_labels": {"value": True, "font": {"size": 8}}})
    chart.set_title({"name": "各单位考核总分", "name_font": {"size": 11, "name": FONT}})
    chart.set_y_axis({"reverse": True})
    chart.set_x_axis({"min": 0, "max": 100})
    chart.set_legend({"none": True})
    chart.set_size({"width": 480, "height": 300})
    ws.insert_chart(3, len(shown.columns) + 1, chart)
    row = last + 2
    praise = ranking[ranking["result"] == EXCELLENT]["branch"].tolist()
    lines = [f"表扬（{EXCELLENT}）：" + ("、".join(praise) or "无")]
    owed = ranking[ranking["result"].isin([QUALIFIED, POOR_RESULT])]
    due = owed["summary_due"].iloc[0] if "summary_due" in owed and len(owed) and owed["summary_due"].notna().any() else None
    lines.append(f"须提交《客户关系维护工作总结》（{'截止 ' + str(due) if due else '通报后一周内'}）："
                 + ("、".join(owed["branch"]) or "无"))
    poor = ranking[ranking["result"] == POOR_RESULT]
    if len(poor):
        until = poor["suspended_until"].iloc[0] if "suspended_until" in poor and poor["suspended_until"].notna().any() \
            else None
        lines.append(f"暂停查询客户档案（{POOR_RESULT}）：" + "、".join(poor["branch"])
                     + (f"，至 {until}" if until else "，自通报之日起一个月"))
    for line in lines:  # within the table's width: the chart stands beside it
        write_paragraph(ws, row, 0, len(shown.columns) - 1, line, styles.section_wrapped, font_size=12)
        row += 1
    set_print_landscape(ws, title=title)
    ws.fit_to_pages(1, 1)
    book.close()
    return path


def bulletin_frame(results: pd.DataFrame, recorded: pd.DataFrame | None) -> pd.DataFrame:
    """Results with the official decision (when recorded) in place of the proposal, and its dates."""
    out = results.copy()
    for key in ("summary_due", "suspended_until", "notified_on"):
        out[key] = None
    if recorded is not None and len(recorded):
        decided = recorded.set_index("branch")
        out["result"] = out["branch"].map(decided["result"]).fillna(out["result"])
        for key in ("summary_due", "suspended_until", "notified_on"):
            out[key] = out["branch"].map(decided[key])
    return out


def notified_today() -> str:
    return dt.date.today().isoformat()


def read_assessment_decisions(path: Path) -> tuple[dict[str, dict], list]:
    """The department's cells per branch (report quality, deduction, final result, remark) and findings."""
    from ..excel import read_sheet
    from ..findings import make_finding
    rows = read_sheet(path, SHEET, labels.TITLES["assessment"])
    header = rows[HEADER_ROW] if len(rows) > HEADER_ROW else []
    col = {str(title).strip(): i for i, title in enumerate(header) if title not in (None, "")}
    wanted = {key: label(key, "assessment") for key in ("branch", *EDITABLE)}
    missing = [text for text in wanted.values() if text not in col]
    if missing:
        from ..errors import WrongWorkbook
        raise WrongWorkbook(f"{Path(path).name} 的工作表“{SHEET}”第 {HEADER_ROW + 1} 行缺少列："
                            f"{'、'.join(missing)}。请使用 crm assess 生成的文件，不要删除或移动表头。")
    decisions, findings = {}, []
    for r in range(HEADER_ROW + 1, len(rows)):
        row = rows[r]

        def get(key):
            i = col[wanted[key]]
            value = row[i] if i < len(row) else None
            return value.strip() if isinstance(value, str) else value

        branch = get("branch")
        if branch in (None, ""):
            continue
        entry = {"remark": get("remark") or None}
        for key in ("report_quality", "spot_check_deduction"):
            value = get(key)
            try:
                entry[key] = _score(value, key)
            except (TypeError, ValueError):
                findings.append(make_finding("bad-score", Path(path).name, sheet=SHEET, row=r + 1,
                                             col_letter=column_letter(col[wanted[key]]), column=wanted[key],
                                             value=value))
        result = get("result")
        if result not in (None, "") and result not in ASSESSMENT_RESULTS:
            findings.append(make_finding("not-allowed", Path(path).name, sheet=SHEET, row=r + 1,
                                         col_letter=column_letter(col[wanted["result"]]), column=wanted["result"],
                                         value=result, allowed=ASSESSMENT_RESULTS))
        entry["result"] = result or None
        decisions[str(branch)] = entry
    return decisions, findings


def _score(value, key: str) -> float:
    """A score as typed: 85, 92.5, 80% (a percent cell: Excel keeps 0.8), “80%” or “８０％” as text; a blank
    deduction is 0. Raises ValueError for anything else, or a number outside 0–100."""
    if value in (None, "") and key == "spot_check_deduction":
        return 0.0
    text = compact(value) if isinstance(value, str) else None
    percent = bool(text) and text.endswith("%")  # (“80%” is 80, not 0.8 × 100)
    number = float(text[:-1] if percent else text) if text is not None else float(value)
    if key == "report_quality" and not percent and 0 < number <= 1:  # 80% typed into a number cell: Excel keeps 0.8
        number *= 100
    if not 0 <= number <= 100:
        raise ValueError(value)
    return number
