"""Every user-facing word that is not a submission header: column labels of reports, sheet names,
statuses, decisions, segments and the reasons behind a grade.

The column dictionary (``columns.py``) spells the submission headers; this module spells the
rest. Code compares and stores these words through the names defined here, never through
literals, so a word is changed in one place and every workbook, message and test follows.
"""
from __future__ import annotations

from .columns import DATA_SHEETS, SHEETS_BY_KEY

# -- value kinds of report columns (how excel.write_frame formats a body cell) ------------------
TEXT, CODE, INTEGER, COUNT, MONEY, PERCENT, DATE, DATETIME, SCORE, DECIMAL, FINE = (
    "text", "code", "integer", "count", "money", "percent", "date", "datetime", "score", "decimal", "fine")

# -- report columns: key → (label, kind) ----------------------------------------------------------
# Keys that are submission columns take their header from the column dictionary instead.
COLUMNS: dict[str, tuple[str, str]] = {
    # archive and identity
    "customer_id": ("客户编号", INTEGER),
    "archive_no": ("档案编号", CODE),
    "project_id": ("项目编号", TEXT),
    "branch": ("报送单位", TEXT),
    "branches": ("报送单位", TEXT),
    "first_period": ("首次报送月份", TEXT),
    "last_period": ("最近报送月份", TEXT),
    "period": ("月份", TEXT),
    "entity": ("对象", TEXT),
    "field": ("字段", TEXT),
    "old_value": ("原值", TEXT),
    "new_value": ("新值", TEXT),
    "source_file": ("来源文件", TEXT),
    # distribution by e-mail
    "recipient": ("收件人", TEXT),
    "address": ("邮箱地址", TEXT),
    "role": ("角色", TEXT),
    "mail_kind": ("邮件类别", TEXT),
    "subject": ("主题", TEXT),
    "attachments": ("附件", TEXT),
    "size_kib": ("大小（KB）", COUNT),
    "mail_state": ("发送状态", TEXT),
    "mail_reason": ("说明（服务器答复或未发送原因）", TEXT),
    "eml_file": ("邮件文件", TEXT),
    # submissions and their status
    "state": ("状态", TEXT),
    "received_at": ("收件时间", DATETIME),
    "deadline": ("截止时间", DATETIME),
    "file_name": ("文件", TEXT),
    "submission_id": ("报送编号", INTEGER),
    "withdrawn_reason": ("撤销原因", TEXT),
    "rows": ("行数", TEXT),
    "files": ("文件数", INTEGER),
    "errors": ("错误数", INTEGER),
    "warnings": ("提示数", INTEGER),
    "top": ("主要问题", TEXT),
    "stands": ("是否采用", TEXT),
    "filled_on": ("填报日期", DATE),
    "verdict": ("结果", TEXT),
    "outcome": ("处理结果", TEXT),
    "note": ("说明", TEXT),
    # a finding (the feedback workbook's 校验结果 table)
    "severity": ("严重程度", TEXT),
    "sheet": ("工作表", TEXT),
    "cell": ("单元格", TEXT),
    "row": ("行号", INTEGER),
    "column": ("列名", TEXT),
    "value": ("当前值", TEXT),
    "message": ("问题说明", TEXT),
    "required": ("是否必填", TEXT),
    "format": ("可选值 / 格式", TEXT),
    # duplicate review
    "conflict_id": ("冲突编号", INTEGER),
    "kind": ("冲突类型", TEXT),
    "left_id": ("客户编号（甲）", INTEGER),
    "left_name": ("客户名称（甲）", TEXT),
    "left_uscc": ("信用代码（甲）", CODE),
    "right_id": ("客户编号（乙）", INTEGER),
    "right_name": ("客户名称（乙）", TEXT),
    "right_uscc": ("信用代码（乙）", CODE),
    "score": ("相似度", SCORE),
    "detail": ("说明", TEXT),
    "decision": ("处理决定", TEXT),
    "keep": ("保留记录", TEXT),
    "seq": ("序号", INTEGER),
    # grades
    "official_grade": ("正式等级", TEXT),
    "official_source": ("等级来源", TEXT),
    "rule_grade": ("规则等级", TEXT),
    "reasons": ("评级依据", TEXT),
    "proposed_grade": ("分公司建议等级", TEXT),
    "grade_before": ("原等级", TEXT),
    "grade_after": ("新等级", TEXT),
    "direction": ("变动", TEXT),
    "reasons_before": ("原评级依据", TEXT),
    "reasons_after": ("现评级依据", TEXT),
    "project_count": ("已中标项目数", COUNT),
    "margin": ("规模利润比", PERCENT),
    "suggestion": ("建议", TEXT),
    "remark": ("备注", TEXT),
    "effective_period": ("生效月份", TEXT),
    "decided_by": ("决定人", TEXT),
    "decided_at": ("决定时间", DATETIME),
    # ranking
    "A": ("A类", COUNT),
    "B": ("B类", COUNT),
    "C": ("C类", COUNT),
    "total": ("合计", COUNT),
    "rank": ("排名", INTEGER),
    "A_change": ("A类增减", COUNT),
    "B_change": ("B类增减", COUNT),
    "C_change": ("C类增减", COUNT),
    "prev_rank": ("上期排名", INTEGER),
    "rank_change": ("名次变化", INTEGER),
    # loyalty
    "tenure_years": ("合作年数", INTEGER),
    "projects": ("项目数", COUNT),
    "projects_12m": ("近12个月项目", COUNT),
    "projects_36m": ("近36个月项目", COUNT),
    "months_since_last": ("距最近签约（月）", INTEGER),
    "continuity": ("连续性", PERCENT),
    "trend": ("趋势", MONEY),
    "stability": ("等级稳定性", PERCENT),
    "grade_changes": ("等级变动次数", INTEGER),
    "loyalty_score": ("忠诚度得分", DECIMAL),
    "segment": ("忠诚度分群", TEXT),
    "customers": ("客户数", INTEGER),
    # profit and product
    "cost": ("成本（万元）", MONEY),
    "net_profit": ("净利润（万元）", MONEY),
    "scale_profit_ratio": ("规模利润比", PERCENT),
    "cost_profit_ratio": ("成本利润比", PERCENT),
    "quadrant": ("象限", TEXT),
    "hint": ("维护建议", TEXT),
    # performance and future
    "pay_normal": ("付款正常项目", COUNT),
    "pay_delayed": ("付款延迟项目", COUNT),
    "pay_arrears": ("付款拖欠项目", COUNT),
    "complaints": ("投诉次数", COUNT),
    "unreasonable_count": ("无理投诉", COUNT),
    "pipeline_projects": ("跟踪/投标/中标项目", COUNT),
    "pipeline_amount": ("其中已报金额（万元）", MONEY),
    "pipeline_change": ("较上期增减", COUNT),
    # report sources, trend and the half-yearly adjustment
    "months": ("覆盖月份", TEXT),
    "last": ("最近收件时间", DATETIME),
    "month": ("月份", TEXT),
    "new_customers": ("新增客户", INTEGER),
    "first_filed": ("首次报送建档", INTEGER),
    "half": ("半年度", TEXT),
    "adopted": ("采纳", INTEGER),
    "kept": ("保持", INTEGER),
    "overridden": ("另行确定", INTEGER),
    "upgraded": ("升级", INTEGER),
    "downgraded": ("降级", INTEGER),
    "to_A": ("调整后A类", INTEGER),
    "to_B": ("调整后B类", INTEGER),
    "to_C": ("调整后C类", INTEGER),
    # satisfaction
    "surveys": ("调查次数", COUNT),
    "items": ("回答项数", COUNT),
    "satisfied_items": ("满意项数", COUNT),
    "dissatisfied_items": ("不满意项数", COUNT),
    "satisfaction_rate": ("满意率", PERCENT),
    "gap_to_goal": ("与目标差距", PERCENT),
    "goal": ("目标", PERCENT),
    "dimension": ("调查项目", TEXT),
    "answer": ("回答", TEXT),
    # complaints
    "received": ("收到投诉", COUNT),
    "responded_in_time": ("按时响应", COUNT),
    "response_rate": ("按时响应率", PERCENT),
    "fed_back_in_time": ("按时反馈", COUNT),
    "feedback_rate": ("按时反馈率", PERCENT),
    "handling_satisfaction": ("处理满意率", PERCENT),
    "median_response_hours": ("响应用时中位数（小时）", DECIMAL),
    "median_feedback_hours": ("反馈用时中位数（小时）", DECIMAL),
    "complaint_state": ("处理状态", TEXT),
    "age_days": ("已过天数", DECIMAL),
    "waited_hours": ("已等待（小时）", COUNT),
    "overdue": ("是否超时", TEXT),
    "overdue_hours": ("超时（小时）", COUNT),
    "overdue_for": ("超时", TEXT),  # the same, as a reader counts it (periods.hours_text: "233 天")
    # strategic customers and visits
    "contacts": ("本年联系次数", COUNT),
    "last_contact": ("最近联系", DATE),
    "duty": ("维护职责", TEXT),
    "required_count": ("应完成", COUNT),
    "done": ("已完成", COUNT),
    "duty_state": ("完成情况", TEXT),
    "duties": ("职责项数", COUNT),
    "met_duties": ("已完成项", COUNT),
    "due_duties": ("待完成项", COUNT),
    "overdue_duties": ("逾期项", COUNT),
    "met_share": ("完成率", PERCENT),
    "frequency": ("拜访频率", TEXT),
    "last_visit": ("最近拜访", DATE),
    "days_since": ("未拜访天数", COUNT),  # since the last visit, or since it was archived (never visited)
    "next_due": ("下次应拜访", DATE),
    "reminder": ("提醒事项", TEXT),
    "owner": ("负责人", TEXT),
    # the half-yearly assessment
    "months_on_time": ("按时月数", COUNT),
    "months_late": ("逾期月数", COUNT),
    "months_missing": ("未报月数", COUNT),
    "months_returned": ("被退回月数", COUNT),
    "months_no_change": ("无变化月数", COUNT),
    "files_rejected": ("退回文件数", COUNT),
    "rows_submitted": ("报送行数", COUNT),
    "error_cells": ("错误单元格", COUNT),
    "errors_per_row": ("每行错误数", FINE),  # (two errors in 500 rows: 0.004)
    "customers_held": ("累计客户数", COUNT),
    "customer_standard": ("客户数标准", COUNT),
    "score_reporting": ("上报得分", DECIMAL),
    "overdue_open": ("期末超时未结", COUNT),
    "score_complaints": ("投诉得分", DECIMAL),
    "score_satisfaction": ("满意度得分", DECIMAL),
    "report_status": ("分析报告", TEXT),
    "report_received_at": ("提交时间", DATETIME),
    "report_quality": ("报告质量（%）", DECIMAL),
    "score_analysis_report": ("报告得分", DECIMAL),
    "conflicts": ("冲突数", COUNT),
    "late_corrections": ("逾期更正", COUNT),
    "spot_check_deduction": ("抽查扣分", DECIMAL),
    "score_authenticity": ("真实性得分", DECIMAL),
    "proposed": ("建议结果", TEXT),
    "result": ("最终结果", TEXT),
    "notified_on": ("通报日期", DATE),
    "summary_due": ("工作总结截止", DATE),
    "suspended_from": ("暂停查询起", DATE),
    "suspended_until": ("暂停查询至", DATE),
    "document": ("文件", TEXT),
    "document_state": ("提交情况", TEXT),
    "reasons_access": ("原因", TEXT),
    "approved_by": ("批准人", TEXT),
    "scope": ("范围", TEXT),
    "on_date": ("查询日期", DATE),
    "at": ("记录时间", DATETIME),
    "file": ("文件", TEXT),
}

# Labels that differ by table (the same key means something else there).
CONTEXTS: dict[str, dict[str, str]] = {
    "grades": {"amount": "累计合同额（万元）", "profit": "累计利润（万元）"},
    "adjustment": {"official_grade": "现正式等级", "amount": "累计合同额（万元）",
                   "profit": "累计利润（万元）"},
    "ranking": {"score": "加权得分"},
    "profit": {"amount": "合同额（万元）", "profit": "利润（万元）"},
    "loyalty": {"segment": "分群", "score": "平均得分"},
    "sources": {"files": "归档文件数"},
    "assessment": {"total": "总分", "remark": "说明", "received": "收到投诉"},
    # the period report's summary of both halves: a half not yet notified shows its proposed results
    "assessment_summary": {"total": "总分", "result": "结果"},
    "mail": {"branch": "单位名称", "score": "得分", "rank": "名次", "total": "总分", "rank_change": "较上期",
             "received": "本期投诉", "overdue": "超时未结", "result": "结果"},
}
CONTEXT_KINDS: dict[str, dict[str, str]] = {
    "ranking": {"score": COUNT},
    "loyalty": {"score": DECIMAL},
    "assessment": {"total": DECIMAL},
    "assessment_summary": {"total": DECIMAL},
    "grades": {"amount": MONEY, "profit": MONEY},
    "adjustment": {"amount": MONEY, "profit": MONEY},
    "profit": {"amount": MONEY, "profit": MONEY},
}


def _dictionary_column(key: str, sheet_key: str | None):
    sheets = [SHEETS_BY_KEY[sheet_key]] if sheet_key in SHEETS_BY_KEY else list(DATA_SHEETS)
    for sheet in sheets:
        for col in sheet.columns:
            if col.key == key:
                return col
    return None


def label(key: str, context: str | None = None) -> str:
    """The Chinese label of a column key in a table (``context`` is a sheet key or a table name).

    In a submission sheet's context the dictionary header comes first; elsewhere the report
    label does, then the header of the first data sheet that has the key.
    """
    override = CONTEXTS.get(context or "", {}).get(key)
    if override:
        return override
    if "|" in key:  # a breakdown column: “客户服务|满意” → “客户服务·满意”
        prefix, value = key.split("|", 1)
        return f"{label(prefix, context)}·{value}"
    col = _dictionary_column(key, context) if context in SHEETS_BY_KEY else None
    if col is not None:
        return col.header
    if key in COLUMNS:
        return COLUMNS[key][0]
    col = _dictionary_column(key, None)
    return col.header if col is not None else key


def kind(key: str, context: str | None = None) -> str | None:
    """How a column's values are formatted (see the kinds above), or None to infer it from them."""
    override = CONTEXT_KINDS.get(context or "", {}).get(key)
    if override:
        return override
    if "|" in key:
        return COUNT
    col = _dictionary_column(key, context) if context in SHEETS_BY_KEY else None
    if col is None and key in COLUMNS:
        return COLUMNS[key][1]
    col = col or _dictionary_column(key, None)
    if col is None:
        return None
    return {"number": MONEY, "year": INTEGER, "date": DATE, "datetime": DATETIME,
            "code": CODE, "phone": CODE}.get(col.kind, TEXT)


def labelled(frame, context: str | None = None):
    """A DataFrame with its column keys replaced by their labels."""
    return frame.rename(columns={c: label(c, context) for c in frame.columns})


# -- grades and the half-yearly adjustment ----------------------------------------------------------
GRADES = ("A", "B", "C")
GRADE_RANK = {"A": 3, "B": 2, "C": 1}
UPGRADE, DOWNGRADE = "升级", "降级"
ADOPT, KEEP = "采纳", "保持"
ADJUST_DECISIONS = (ADOPT, KEEP, "改为A", "改为B", "改为C")
CHANGE_TO = "改为"
SOURCE_ADJUSTED, SOURCE_RULES = "半年度调整", "规则（尚未调整）"


def grade_label(grade: str) -> str:
    """'A' → 'A类'."""
    return f"{grade}类"


# The reasons shown beside a rule grade, one template per rule.
REASONS = {
    "stranger": "陌生客户（无合作历史）",
    "bad_integrity": "诚信记录为不良",
    "demanding": "要求苛刻",
    "unreasonable_flag": "有无理投诉记录",
    "unreasonable_year": "{year}年有无理投诉{count}次",
    "low_margin": "利润低（毛利率{margin}，低于{limit}）",
    "poor_credit": "资信状况为差",
    "own_problems": "企业自身存在问题",
    "arrears": "{count}个项目付款拖欠",
    "c_prefix": "C：",
    "b_prefix": "B：不满足A类条件：",
    "no_history": "无合作历史",
    "integrity_is": "诚信记录为{value}",
    "credit_is": "资信状况为{value}",
    "social_value_is": "社会价值为{value}",
    "no_need": "近期无合作需求",
    "since_year": "{year}年起",
    "since_projects": "{count}个项目",
    "a": "A：有合作历史（{since}）；诚信良好；资信良好；社会价值{social_value}；近期有合作需求",
    "separator": "；",
}

# -- duplicate review --------------------------------------------------------------------------
MERGE, DISTINCT, PENDING = "合并", "不同客户", "待定"
REVIEW_DECISIONS = (MERGE, DISTINCT, PENDING)
LEFT, RIGHT = "左", "右"
KEEP_SIDES = (LEFT, RIGHT)
REVIEWED = "已审核"
SAME_CODE_OTHER_NAME, SAME_NAME_OTHER_CODE, SIMILAR_NAME = "同一信用代码名称不同", "同名不同代码", "名称相似"

# -- archive entities (the 对象 column of the change history) ---------------------------------
ENTITIES = {"customer": "客户", "customer_branch": "客户（分公司视图）", "projects": "合作项目",
            "surveys": "满意度调查", "complaints": "投诉记录", "visits": "拜访记录"}

# -- submissions: a branch's state for a month, a file's verdict, what became of an inbox file ---
ON_TIME, LATE, MISSING, RETURNED, NO_CHANGE = "按时", "逾期", "未报", "被退回待重报", "无变化"
SUBMISSION_STATES = (ON_TIME, LATE, MISSING, RETURNED, NO_CHANGE)
VERDICTS = {"accepted": "通过", "rejected": "退回", "ignored": "已忽略", "superseded": "已被更正替换",
            "withdrawn": "已撤销"}
OUTCOMES = {"accepted": "已归档", "rejected": "已退回", "ignored": "已忽略", "skipped": "已跳过",
            "quarantined": "已隔离", "left": "留在收件箱"}
SEVERITIES = {"error": "错误", "warning": "提示"}
STANDS, REPLACED = "采用", "已被替换"
EMPTY = "—"  # what an empty or missing figure shows
WHOLE_FILE = "整个文件"  # where a finding is about the file, not a cell

# -- service quality ---------------------------------------------------------------------------
COMPLAINT_STATES = ("未响应", "未反馈", "处理中")
DUTY_STATES = ("已完成", "待完成", "逾期")
DUTIES = {"公司主要领导": "公司主要领导拜访", "联点领导": "联点领导拜访", "营销专员": "营销专员每月联系"}
REMINDERS = {"specialist": "营销专员本月未联系", "a_plan": "A类客户拜访逾期"}
# What a pre-filled workbook's rows still lack (its 本月提醒 sheet points at their cells).
PREFILL_REMINDERS = {"missing_uscc": "待补统一社会信用代码", "unknown_department": "项目部待核对"}
NO_SPECIALIST = "未填营销专员"  # who visits an A customer whose 营销专员 the branch left blank
THIS_MONTH_PENDING = "本月尚未联系"
NOT_DUE = "未到截止日"

# -- branch documents and the half-yearly assessment -------------------------------------------
DOCUMENT_KINDS = {"analysis_report": "客户分析报告", "work_summary": "客户关系维护工作总结"}
# Words in a file name that say which document it is (the first match wins).
DOCUMENT_NAME_WORDS = {
    "work_summary": ("客户关系维护工作总结", "维护工作总结", "工作总结", "维护总结"),
    "analysis_report": ("客户分析报告", "半年度分析报告", "分析报告", "客户分析"),
}
EXCELLENT, QUALIFIED, POOR_RESULT = "优良", "合格", "差"
ASSESSMENT_RESULTS = (EXCELLENT, QUALIFIED, POOR_RESULT)
DOC_ON_TIME, DOC_LATE, DOC_MISSING, DOC_DUE, DOC_NOT_REQUIRED = "按时", "逾期", "未交", "待交", "无需提交"
SUSPENDED = "停用"
ASSESSMENT_GROUPS = {"reporting": "一、信息上报与档案整理（权重 {weight:g}）", "complaints": "二、投诉（权重 {weight:g}）",
                     "satisfaction": "三、满意度（权重 {weight:g}）", "analysis_report": "四、客户分析报告（权重 {weight:g}）",
                     "authenticity": "五、信息真实性（权重 {weight:g}）", "summary": "结果"}
SCOPES = {"own": "本单位客户", "all": "全部客户（他单位联系人已遮蔽）"}
NEVER_SUBMITTED = "本半年度从未报送，按规定评为差"

# -- loyalty segments, B-class quadrants ---------------------------------------------------------
NEW_CUSTOMER, CHURN_RISK, LOYAL, STABLE, VOLATILE = "新客户", "流失风险", "忠诚", "稳定", "波动"
SEGMENTS = (LOYAL, STABLE, VOLATILE, CHURN_RISK, NEW_CUSTOMER)
BIG_HIGH, BIG_LOW, SMALL_HIGH, SMALL_LOW, NO_AMOUNT = (
    "规模大利润高", "规模大利润低", "规模小利润高", "规模小利润低", "未报合同额或利润")
QUADRANT_HINTS = {
    BIG_HIGH: "重点维护，提高拜访层级，争取培养为A类",
    BIG_LOW: "控制成本、改善回款，提升项目利润率",
    SMALL_HIGH: "扩大合作规模，争取更多项目",
    SMALL_LOW: "观察评估，不合格者调回C类",
    NO_AMOUNT: "合同额或利润尚未填报：补报后再分析",
}
NOT_OWN_PROJECTS = "本单位没有该客户的中标项目（其他单位的项目不在本版中）"  # a branch edition's shared customer
NO_AMOUNT_EDITION = "本单位没有中标项目，或合同额、利润尚未填报（见下表各客户）"  # that group in a branch edition

# -- sheet names of the workbooks the pipeline writes --------------------------------------------
SHEETS = {
    # feedback
    "feedback": "校验结果",
    # monthly summary
    "status": "报送情况",
    "files": "校验结果",
    "new_customers": "新增客户",
    "changes": "信息变更",
    "conflicts": "待审核疑似重复",
    # archive workbook
    "customers": "客户",
    "history": "变更记录",
    # duplicate review, grades
    "review": "疑似重复客户",
    "adjustment": "等级调整建议",
    "grade_changes": "等级变动",
    "differs": "建议与规则不一致",
    # period report
    "about": "说明",
    "ranking": "等级排名",
    "loyalty": "忠诚度分析",
    "profit": "利润分析",
    "quadrants": "B类规模利润",
    "product": "产品分析",
    "outlook": "性能与未来",
    "trend": "趋势",
    "adjustments": "半年度调整",
    "satisfaction": "满意度分析",
    "complaints": "投诉处理",
    "strategic": "战略客户维护",
    "complaint_deadlines": "投诉时限",
    "contact_reminders": "联系提醒",
    "strategic_list": "战略客户名单",
    "assessment": "考核",
    "bulletin": "考核通报",
    "branch_assessment": "分子公司考核",
    "access": "查询记录",
}


def grade_sheet(grade: str) -> str:
    """'A' → 'A类客户' (the sheet of one grade list)."""
    return f"{grade}类客户"


# -- titles of the workbooks the department edits and sends back --------------------------------
TITLES = {"review": "疑似重复客户审核表", "adjustment": "客户等级调整建议", "strategic_list": "战略客户名单",
          "assessment": "分子公司客户关系维护成效考核表"}

GROUP_TOTAL = "集团合计（去重）"
GROUP = "集团合计"

# -- who decides ---------------------------------------------------------------------------------
DEPARTMENT = "市场营销部"
GROUP_DEPARTMENT = "集团公司市场营销部"

# -- distribution by e-mail ----------------------------------------------------------------------
LEADER, BRANCH_ROLE = "领导", "分子公司"
MAIL_ROLES = (LEADER, DEPARTMENT, BRANCH_ROLE)
MAIL_ROLE_ALIASES = {"营销部": DEPARTMENT, "集团领导": LEADER, "公司领导": LEADER, "分公司": BRANCH_ROLE}
# What a recipient may receive: key (as written in crm.toml) → what the department calls it.
MAIL_KINDS = {"monthly": "月度报送情况", "quarterly": "季度报告", "halfyear": "半年度报告", "annual": "年度报告",
              "assessment": "考核通报", "feedback": "退回反馈"}
# Chinese words accepted for the kinds in crm.toml.
MAIL_KIND_ALIASES = {"月报": "monthly", "月度": "monthly", "季报": "quarterly", "季度": "quarterly",
                     "半年报": "halfyear", "半年度": "halfyear", "年报": "annual", "年度": "annual",
                     "考核": "assessment", "反馈": "feedback", "退回反馈": "feedback"}
MAIL_DEFAULT_KINDS = {LEADER: ("quarterly", "halfyear", "annual", "assessment"),
                      DEPARTMENT: ("monthly", "quarterly", "halfyear", "annual", "assessment"),
                      BRANCH_ROLE: ("monthly", "quarterly", "halfyear", "annual", "assessment", "feedback")}
# The state of one message in the send list.
MAIL_DRAFT, MAIL_SENT, MAIL_ALREADY_SENT, MAIL_FAILED, MAIL_SKIPPED, MAIL_TOO_LARGE = (
    "待发送（演练）", "已发送", "此前已发送", "发送失败", "未发送", "超过大小上限")
MAIL_STATES = (MAIL_DRAFT, MAIL_SENT, MAIL_ALREADY_SENT, MAIL_FAILED, MAIL_SKIPPED, MAIL_TOO_LARGE)
SEND_LIST = "发送清单"
