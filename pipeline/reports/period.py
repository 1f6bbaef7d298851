"""The period report: ranked quarterly, half-year and annual workbooks of A/B/C customers.

Everything is computed from the archive *as of the period end* (history, not
today's state); the comparison uses the previous period of the same kind as
of its own end.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from schemas import labels
from schemas.labels import (CHURN_RISK, GRADE_RANK, GRADES, LOYAL, NEW_CUSTOMER, QUADRANT_HINTS, SHEETS,
                            STABLE, VOLATILE, grade_label, grade_sheet, label)

from ..analysis import loyalty as loyalty_analysis
from ..analysis import outlook, profit as profit_analysis, service, strategic
from ..analysis.grading import (adjustment_changes, edition_grades, grade_history, official_grades, own_money,
                                rule_grades)
from ..archive.store import Archive
from ..config import Config
from ..errors import ReportError
from ..excel import (BAR_BLUE, ERROR_FILL, FONT, GRADE_COLOURS, OK_FILL, REQUIRED_RED, SERIES_COLOURS, Styles,
                     new_workbook, set_print_landscape, write_frame)
from ..periods import Period, current_month, month_end
from ..widths import display_width
from . import names


@dataclass
class PeriodData:
    period: Period
    as_of: str
    previous: Period
    grades: pd.DataFrame
    ranking: pd.DataFrame
    group_total: dict
    changes: pd.DataFrame
    loyalty: pd.DataFrame
    profit: pd.DataFrame
    branch_profit: pd.DataFrame
    period_branch_profit: pd.DataFrame
    quadrants: pd.DataFrame
    thresholds: dict
    product: pd.DataFrame
    trend: pd.DataFrame
    sources: pd.DataFrame
    adjustments: pd.DataFrame | None
    generated: dt.datetime
    churned: pd.DataFrame
    performance: pd.DataFrame
    future: pd.DataFrame
    arrears_is_c: bool = False
    service: "ServiceData | None" = None
    branch: str | None = None                    # the edition of this branch, or the group's report
    assessment: pd.DataFrame | None = None       # the half-yearly branch assessment (half and year reports)
    extracts: pd.DataFrame | None = None         # archive extracts made for branches in the period
    previous_total: dict | None = None           # the group's counts at the previous period's end
    settings: dict | None = None                 # the department's settings the 说明 page states (``_settings``)


@dataclass
class ServiceData:
    """The service-quality figures of a period: satisfaction, complaints, strategic-customer duties."""

    satisfaction: pd.DataFrame
    by_dimension: pd.DataFrame
    dissatisfied: pd.DataFrame
    not_surveyed: pd.DataFrame
    satisfaction_trend: pd.DataFrame
    complaints: pd.DataFrame
    open_complaints: pd.DataFrame
    causes: dict
    duties: pd.DataFrame
    duty_shares: pd.DataFrame
    a_plan: pd.DataFrame
    as_of: dt.datetime
    goal: float
    satisfied_answers: list


def service_data(full: dict, snap: dict, grades: pd.DataFrame, config: Config, period: Period, as_of_month: str,
                 branches: list[str]) -> ServiceData:
    """Every service-quality figure of ``period`` as of ``as_of_month``: per-branch figures from the whole
    archive (``full``), lists of customers and complaints from ``snap`` (the edition, in a branch's report)."""
    as_of = month_end(as_of_month)
    duties = strategic.visit_duties(snap, config, as_of_month)
    shares = strategic.duty_shares(duties, branches)
    if snap is not full:  # an edition: its branch's row beside the whole group's (not the branch's again)
        group = strategic.duty_shares(strategic.visit_duties(full, config, as_of_month), [])
        shares = pd.concat([shares.iloc[:-1], group], ignore_index=True)
    return ServiceData(
        service.satisfaction(full, config, period.start, as_of_month, branches),
        service.satisfaction_by_dimension(full, config, period.start, as_of_month, branches),
        service.dissatisfied_items(snap, period.start, as_of_month),
        service.completed_not_surveyed(snap, period.start, as_of_month),
        service.satisfaction_trend(full, config, [m for m in period.months if m <= as_of_month]),
        service.complaint_stats(full, config, period.start, as_of_month, branches),
        service.open_complaints(snap, config, as_of),
        service.complaint_causes(snap, period.start, as_of_month),
        duties, shares,
        strategic.a_visit_plan(snap, grades, config, as_of), as_of,
        config.get("satisfaction", "goal_percent") / 100, config.get("satisfaction", "satisfied_answers"))


def _grades(archive: Archive, config: Config, as_of: str, seen: dict | None = None):
    """The snapshot and official grades as of a month; ``seen`` keeps them for months that share a
    snapshot (the rules look at the as-of year only), so a report grades each state of the archive once.
    Callers treat what they get as read-only."""
    state = archive.snapshot_key(as_of)
    key = (state, as_of[:4])
    if seen is not None and key in seen:
        return seen[key]
    snap = archive.snapshot(as_of, key=state)
    out = snap, official_grades(rule_grades(snap, config, as_of))
    if seen is not None:
        seen[key] = out
    return out


def _first_filed(snap: dict, month: str) -> int:
    """Customers first archived in ``month`` because a branch reported for the first time then (its whole
    customer book, not customers it newly won): counted apart from the month's new customers, or the first
    month of the archive dwarfs every other in the trend."""
    links = snap["customer_branches"]
    if not len(links):
        return 0
    started = links.groupby("branch")["first_period"].transform("min")  # each branch's first month
    firsts = links.loc[(links["first_period"] == month) & (started == month), "customer_id"]
    customers = snap["customers"]
    new = customers.loc[customers["first_period"] == month, "customer_id"]
    return int(new.isin(set(firsts)).sum())


def ranking_weights(config: Config) -> dict[str, float]:
    """The weights of A, B and C in a branch's ranking score (crm.toml [ranking])."""
    return {g: config.get("ranking", f"weight_{g.lower()}") for g in GRADES}


def ranking(snapshot: dict, grades: pd.DataFrame, config: Config) -> pd.DataFrame:
    """Per branch counts of official A/B/C grades, weighted score and rank."""
    weights = ranking_weights(config)
    links = snapshot["customer_branches"][["customer_id", "branch"]].merge(
        grades[["customer_id", "official_grade"]], on="customer_id")
    counts = links.pivot_table(index="branch", columns="official_grade", values="customer_id",
                               aggfunc="count", fill_value=0).reindex(columns=list(GRADES), fill_value=0)
    branches = config.branches
    counts = counts.reindex(sorted(set(branches) | set(counts.index),
                                   key=lambda b: branches.index(b) if b in branches else 99), fill_value=0)
    counts["total"] = counts[list(GRADES)].sum(axis=1)
    counts["score"] = sum(counts[g] * weights[g] for g in GRADES)
    counts["rank"] = counts["score"].rank(method="min", ascending=False).astype(int)
    out = counts.reset_index().rename(columns={"index": "branch"})
    # In rank order; equal ranks by name (the group total is written below the table).
    return out.sort_values(["rank", "branch"], kind="stable").reset_index(drop=True)


def gather(archive: Archive, config: Config, text: str, today: dt.date | None = None,
           branch: str | None = None) -> PeriodData:
    """All figures of one period report; with ``branch``, that branch's edition.

    An edition keeps the group's ranking (counts per branch) and shows the branch's own customers
    only, each with its own view (contacts) — never another branch's customers or contacts.
    A period that has not ended yet is reported as of the current month, and says so.
    """
    from ..archive.access import edition
    period = Period.parse(text)
    subs = archive.submissions(findings=False)
    live = subs[subs["status"] == "accepted"]
    today = today or dt.date.today()
    if period.start > current_month(today):
        raise ReportError(f"{period.title}尚未开始，无法出具报告。")
    if live.empty or live["period"].min() > period.end:
        raise ReportError(f"档案中没有 {period.end} 月末及以前的数据，无法出具{period.title}报告。")
    if branch is not None and branch not in config.branches:
        raise ReportError(f"“{branch}”不在花名册中（{'、'.join(config.branches)}）。")
    as_of = min(period.end, current_month(today))
    seen: dict = {}
    full_snap, full_grades = _grades(archive, config, as_of, seen)
    prev = period.previous()
    prev_full, prev_full_grades = _grades(archive, config, prev.end, seen)
    rank_now = ranking(full_snap, full_grades, config)
    rank_prev = ranking(prev_full, prev_full_grades, config).set_index("branch")
    if len(prev_full_grades):
        for g in GRADES:
            rank_now[f"{g}_change"] = rank_now[g] - rank_now["branch"].map(rank_prev[g]).fillna(0)
        rank_now["prev_rank"] = rank_now["branch"].map(rank_prev["rank"]).astype("float64")
        rank_now["rank_change"] = rank_now["prev_rank"] - rank_now["rank"]
    else:  # nothing archived for the previous period: no comparison rather than a false one
        for key in ("A_change", "B_change", "C_change", "prev_rank", "rank_change"):
            rank_now[key] = float("nan")
    total = {g: int((full_grades["official_grade"] == g).sum()) for g in GRADES}
    total["total"] = len(full_grades)
    previous_total = None
    if len(prev_full_grades):
        previous_total = {g: int((prev_full_grades["official_grade"] == g).sum()) for g in GRADES}
        previous_total["total"] = len(prev_full_grades)
    snap, grades, prev_snap = full_snap, full_grades, prev_full
    if branch is not None:  # the edition: own customers only, graded as the group grades them
        snap, prev_snap = edition(full_snap, branch), edition(prev_full, branch)
        grades = own_money(edition_grades(full_grades, snap, branch), snap, config)
    loyalty = loyalty_analysis.loyalty(snap, config, as_of, grade_history(archive, as_of))
    profit = profit_analysis.profit(snap, config)
    b_customers = grades.loc[grades["official_grade"] == "B", ["customer_id", "name", "branches"]]
    quadrants, thresholds = profit_analysis.scale_profit(
        b_customers.merge(profit.drop(columns=["name", "branches"]), on="customer_id", how="left"), config)
    if branch is not None:  # a customer the branch shares, with no project of its own: nothing for it to file
        own = set(profit["customer_id"])
        quadrants.loc[~quadrants["customer_id"].isin(own), "hint"] = labels.NOT_OWN_PROJECTS
    trend = []
    latest = live["period"].max()
    for month in period.months:
        if month > min(latest, as_of):
            break
        m_snap, m_grades = _grades(archive, config, month, seen)
        if branch is not None:
            m_snap = edition(m_snap, branch)
            m_grades = edition_grades(m_grades, m_snap, branch)
        row = {"month": month, **{g: int((m_grades["official_grade"] == g).sum()) for g in GRADES}}
        first_filed = _first_filed(m_snap, month)
        row["new_customers"] = int((m_snap["customers"]["first_period"] == month).sum()) - first_filed
        row["first_filed"] = first_filed
        trend.append(row)
    used = live[(live["period"] >= period.start) & (live["period"] <= period.end)]
    if branch is not None:
        used = used[used["branch"] == branch]
    sources = used.groupby("branch").agg(files=("file_name", "size"),
                                         months=("period", lambda s: _month_span(sorted(set(s)))),
                                         last=("received_at", "max")).reset_index()
    adjustments = (_adjustments(archive, period, set(grades["customer_id"]) if branch is not None else None)
                   if period.kind in ("half", "year") else None)
    changes = adjustment_changes(archive, config, period.months)
    if branch is not None:
        changes = changes[changes["customer_id"].isin(set(grades["customer_id"]))].assign(branches=branch)
    churned = loyalty_analysis.churn(
        loyalty_analysis.active_customers(prev_snap, prev.start, prev.end),
        loyalty_analysis.active_customers(snap, period.start, period.end), snap["customers"])
    branches = [branch] if branch else config.branches
    return PeriodData(period, as_of, prev, grades, rank_now, total, changes,
                      loyalty, profit, profit_analysis.profit(snap, config, by="branch"),
                      profit_analysis.profit(snap, config, by="branch", start=period.start, end=period.end),
                      quadrants, thresholds, profit_analysis.product(snap, config), pd.DataFrame(trend),
                      sources, adjustments, dt.datetime.now().replace(microsecond=0), churned,
                      outlook.performance(snap), outlook.future(snap, prev_snap),
                      config.get("grading", "arrears_is_c"),
                      service_data(full_snap, snap, grades, config, period, as_of, branches),
                      branch, _assessment(archive, config, period, branch), _extracts(archive, period, branch),
                      previous_total, _settings(config))


LOYALTY_PARTS = {"tenure": "合作年限", "volume": "项目数量", "recency": "近期性", "continuity": labels.label("continuity"),
                 "trend": "合同额趋势", "stability": labels.label("stability")}


def number_text(value) -> str:
    """A setting as a reader writes it: 3, 0.5 (not 3.0)."""
    return f"{value:g}"


def _settings(config: Config) -> dict:
    """The figures of crm.toml a report's reader is told as figures (never as configuration keys)."""
    return {"ranking": ranking_weights(config),
            "loyalty": {name: config.get("loyalty", f"weight_{key}") for key, name in LOYALTY_PARTS.items()},
            "response_hours": config.get("complaints", "response_hours"),
            "feedback_hours": config.get("complaints", "feedback_hours")}


def _extracts(archive: Archive, period: Period, branch: str | None) -> pd.DataFrame:
    """Archive extracts made for branches on days inside the period (the access ledger)."""
    log = archive.access_log()
    log = log[log["on_date"].fillna("").str[:7].isin(period.months)]
    return log[log["branch"] == branch] if branch else log


def _assessment(archive: Archive, config: Config, period: Period, branch: str | None) -> pd.DataFrame | None:
    """The branch assessment of the half years in the period: official results where recorded, else proposed."""
    if period.kind not in ("half", "year"):
        return None
    from ..analysis.assessment import decided
    frames = []
    for half in period.halves:
        if half.start > current_month():
            continue
        frames.append(decided(archive, config, str(half)).assign(half=str(half)))
    if not frames:
        return None
    out = pd.concat(frames, ignore_index=True)
    return out[out["branch"] == branch].reset_index(drop=True) if branch else out


def _month_span(periods: list[str]) -> str:
    """['2026-01', '2026-02', '2026-04'] → '1–2、4月'."""
    months = [int(p[5:7]) for p in periods]
    runs: list[list[int]] = []
    for m in months:
        if runs and m == runs[-1][-1] + 1:
            runs[-1].append(m)
        else:
            runs.append([m])
    return "、".join(f"{r[0]}–{r[-1]}" if len(r) > 1 else f"{r[0]}" for r in runs) + "月"


def _adjustments(archive: Archive, period: Period, customers: set | None = None) -> pd.DataFrame:
    """The half-yearly decisions of the period's halves, counted (of ``customers`` only: an edition's)."""
    halves = [str(h) for h in period.halves]
    frame = archive.grade_adjustments(halves)
    if customers is not None:
        frame = frame[frame["customer_id"].isin(customers)]
    rank = GRADE_RANK
    rows = []
    for half in halves:
        # one customer, one decision: the one in force (two merged customers' decisions are both the kept one's)
        part = frame[frame["period"] == half].drop_duplicates("customer_id", keep="last")
        up = sum(rank.get(n, 0) > rank.get(o, 0) for o, n in zip(part["old_grade"], part["new_grade"]))
        down = sum(rank.get(n, 0) < rank.get(o, 0) for o, n in zip(part["old_grade"], part["new_grade"]))
        rows.append({"half": half, "customers": len(part),
                     "adopted": int((part["decision"] == labels.ADOPT).sum()),
                     "kept": int((part["decision"] == labels.KEEP).sum()),
                     "overridden": int(part["decision"].str.startswith(labels.CHANGE_TO).sum()),
                     "upgraded": int(up), "downgraded": int(down),
                     **{f"to_{g}": int((part["new_grade"] == g).sum()) for g in GRADES}})
    return pd.DataFrame(rows)


# -- writing -------------------------------------------------------------------

def _table(ws, frame: pd.DataFrame, styles: Styles, row: int, context: str | None = None, **kw):
    return write_frame(ws, frame, styles=styles, start_row=row, context=context, **kw)


def _heading(ws, styles: Styles, title: str, note: str = "") -> None:
    ws.write_string(0, 0, title, styles.title)
    if note:
        ws.write_string(1, 0, note, styles.note)


def write_period_report(data: PeriodData, out_dir: Path) -> Path:
    """客户分级报告_<P>.xlsx in ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / names.period_report(Path(), str(data.period), data.branch).name
    book = new_workbook(path)
    styles = Styles(book)
    p = data.period
    title = f"{p.title}客户分级报告" + (f"（{data.branch}）" if data.branch else "")
    _about(book, styles, data, title)
    _ranking_sheet(book, styles, data, title)
    _changes(book, styles, data, title)
    _grade_lists(book, styles, data, title)
    _loyalty(book, styles, data, title)
    _profit(book, styles, data, title)
    _quadrants(book, styles, data, title)
    ws = book.add_worksheet(SHEETS["product"])
    _heading(ws, styles, f"{p.title} 产品分析（按工程类型，累计）", "金额与利润只计中标及以后阶段的项目。")
    _table(ws, data.product, styles, 3, "profit")
    set_print_landscape(ws, repeat_rows=(3, 3), title=f"{title} {SHEETS['product']}")
    _performance_future(book, styles, data, title)
    _trend(book, styles, data, title)
    if data.service is not None:
        _satisfaction_sheet(book, styles, data, title)
        _complaints_sheet(book, styles, data, title)
        _strategic_sheet(book, styles, data, title)
    if data.assessment is not None:
        _assessment_sheet(book, styles, data, title)
    if data.adjustments is not None:
        _adjustment_sheet(book, styles, data, title)
    book.close()
    return path


def _changes(book, styles: Styles, data: PeriodData, title: str) -> None:
    name = SHEETS["grade_changes"]
    ws = book.add_worksheet(name)
    changes = data.changes
    ups = int((changes["direction"] == labels.UPGRADE).sum())
    _heading(ws, styles, f"{data.period.title} {name}",
             f"报告期内每一次半年度调整带来的正式等级升降：共 {len(changes)} 次（{labels.UPGRADE} {ups}，"
             f"{labels.DOWNGRADE} {len(changes) - ups}）。正式等级只在半年度调整时变动；"
             "评级依据为调整时的规则依据。")
    if changes.empty:
        ws.write_string(3, 0, "本期没有等级变动（本期内没有生效的半年度调整，或调整未改变任何客户的等级）。",
                        styles.note)
    else:
        write_frame(ws, changes.drop(columns=["customer_id"]), styles=styles, start_row=3,
                    widths={"reasons": 60})
    set_print_landscape(ws, repeat_rows=(3, 3), title=f"{title} {name}")


def _adjustment_sheet(book, styles: Styles, data: PeriodData, title: str) -> None:
    name = SHEETS["adjustments"]
    ws = book.add_worksheet(name)
    whose = f"本单位客户（{data.branch}）的" if data.branch else ""
    _heading(ws, styles, f"{data.period.title} 半年度等级调整结果",
             f"{whose}半年度调整决定：{label('adopted')} = 按规则等级调整；{label('kept')} = 维持原正式等级；"
             f"{label('overridden')} = 市场营销部另行确定（调整表中的“{labels.CHANGE_TO}A/B/C”）。")
    if data.adjustments["customers"].sum() == 0:
        ws.write_string(3, 0, "本期尚未进行半年度等级调整。", styles.note)
    else:
        write_frame(ws, data.adjustments, styles=styles, start_row=3)
    set_print_landscape(ws, repeat_rows=(3, 3), title=f"{title} {name}")


def _about(book, styles: Styles, data: PeriodData, title: str) -> None:
    ws = book.add_worksheet(SHEETS["about"])
    ws.write_string(0, 0, title, styles.title)
    total, settings = data.group_total, data.settings
    lines = [
        ("报告期", f"{data.period.title}（{data.period.start} 至 {data.period.end}）"),
        ("数据截至", f"{data.as_of} 月末的档案状态（按变更历史还原，不是当前状态）"
                     + ("。报告期尚未结束，本报告为截至本月的中期数据" if data.as_of < data.period.end else "")),
        ("报告范围", f"{data.branch}分子公司版：等级排名为全集团各单位的客户数；其余各表只含本单位的客户，"
                     "联系人为本单位所填" if data.branch else "全集团（市场营销部用，含各单位客户明细）"),
        ("对比期", f"{data.previous.title}（截至 {data.previous.end} 月末）"),
        ("生成时间", data.generated.strftime("%Y-%m-%d %H:%M")),
        ("集团客户总数", f"{total['total']} 家：A 类 {total['A']}、B 类 {total['B']}、C 类 {total['C']}"),
        ("数据来源", f"报告期内归档的报送文件 {int(data.sources['files'].sum()) if len(data.sources) else 0} 份"
                     "（各单位明细见下表；被更正替换或退回的文件不计）"),
        (labels.label("official_grade"), "半年度等级调整确定的等级；尚未经过调整的新客户暂按规则等级计。"),
        (labels.label("rule_grade"), "按集团《客户关系管理办法》三(一)3 计算，理由见“评级依据”。"
                                     + ("项目付款拖欠也计为 C 类条件（市场营销部的设置；集团规则原文没有这一条）。"
                                        if data.arrears_is_c else "项目付款拖欠不计入（集团规则原文没有这一条）。")),
        ("分公司计数", "同一客户由两个分公司报送时，在两个分公司各计一次；集团合计按客户去重，只计一次。"),
        (labels.label("score", "ranking"), " + ".join(f"{g} 类数 × {number_text(w)}" for g, w in settings["ranking"].items())
                                           + "，得分相同名次并列。"),
        (labels.label("rank_change"), "上期排名 − 本期排名，正数为上升（↑），负数为下降（↓）。"),
        ("忠诚度", "加权得分（0–100），权重："
                 + "、".join(f"{name} {number_text(w)}" for name, w in settings["loyalty"].items()) + "。"),
        ("利润指标", "规模利润比 = 利润 ÷ 合同额；成本利润比 = 利润 ÷ 成本；分母为 0 时显示“—”。金额单位：万元。"),
        (labels.label("satisfaction_rate"), "满意度调查四个项目（客户服务、工程质量、服务质量、竣工后服务）中回答"
                                            f"“{'”或“'.join(data.service.satisfied_answers)}”的项数 ÷ 已回答项数；"
                                            f"目标 ≥ {data.service.goal:.0%}。不满意项数是分子公司考核指标。"),
        (labels.label("response_rate"), f"投诉后 {settings['response_hours']} 小时内（含）首次响应的投诉 ÷ 收到的投诉；"
                                        f"按时反馈率 = 处理完成后 {settings['feedback_hours']} 小时内（含）"
                                        "反馈结果的投诉 ÷ 已处理完成的投诉；超时未响应、超时未反馈按报告期末计。"),
        (SHEETS["strategic"], "战略客户 × 维护单位的三项职责（公司主要领导年度拜访、联点领导年度拜访、营销专员每月联系）；"
                              "完成率 = 已完成项 ÷ 职责项数。A类客户的拜访频率按其社会价值确定。"),
        ("档案查询", _extracts_line(data)),
        (SHEETS["quadrants"], f"分界：合同额 {data.thresholds['amount_threshold']:,.2f} 万元、规模利润比 "
                       f"{data.thresholds['margin_threshold']:.1%}（默认为 B 类客户中位数），达到分界即为“大/高”。"),
    ]
    for r, (key, value) in enumerate(lines, 2):
        ws.write_string(r, 0, key, styles.get("about_key", bold=True, valign="top"))
        ws.merge_range(r, 1, r, 7, value, styles.get("about_value", text_wrap=True, valign="top"))
        ws.set_row(r, 30 if display_width(value) > 120 else 16)
    start = len(lines) + 4
    ws.write_string(start - 1, 0, "数据来源清单", styles.section)
    write_frame(ws, data.sources, styles=styles, start_row=start, context="sources", freeze=False,
                autofilter=False)
    ws.set_column(0, 0, 16)
    ws.set_column(1, 1, 12)
    ws.set_column(2, 2, 24)
    ws.set_column(3, 7, 18)
    set_print_landscape(ws, title=title)


def _extracts_line(data: PeriodData) -> str:
    log = data.extracts
    if log is None or log.empty:
        return "本期没有为分子公司导出客户档案（全部记录见市场营销部的档案查询台账）。"
    per_branch = "，".join(f"{b} {n} 次" for b, n in log.groupby("branch").size().items())
    return (f"本期经批准为分子公司导出客户档案 {len(log)} 次（{per_branch}），共 {int(log['rows'].sum())} 行；"
            "明细见市场营销部的档案查询台账。")


def _ranking_sheet(book, styles: Styles, data: PeriodData, title: str) -> None:
    name = SHEETS["ranking"]
    ws = book.add_worksheet(name)
    compared = (f"对比 {data.previous.title}" if data.previous_total is not None else
                f"档案中没有 {data.previous.title}末的客户，增减、上期排名与名次变化空缺")
    _heading(ws, styles, f"{data.period.title} 各单位 A/B/C 类客户排名",
             f"截至 {data.as_of} 月末；{compared}。同一客户由多个单位报送时各计一次。")
    frame = data.ranking[["branch", "A", "B", "C", "total", "score", "rank", "A_change", "B_change",
                          "C_change", "prev_rank", "rank_change"]]
    first, _, last, last_col = _table(ws, frame, styles, 3, "ranking")
    total = data.group_total
    total_row = last + 1
    ws.write_string(total_row, 0, labels.GROUP_TOTAL, styles.total)
    for c, g in enumerate(GRADES, 1):
        ws.write_number(total_row, c, total[g], styles.total)
    ws.write_number(total_row, 4, total["total"], styles.total)
    for c in range(5, last_col + 1):
        ws.write_blank(total_row, c, None, styles.total)
    n = len(frame)
    ws.conditional_format(first + 1, 11, last, 11, {"type": "icon_set", "icon_style": "3_arrows",
                                                    "icons": [{"criteria": ">", "type": "number", "value": 0},
                                                              {"criteria": ">=", "type": "number", "value": 0}]})
    ws.conditional_format(first + 1, 5, last, 5, {"type": "data_bar", "bar_color": BAR_BLUE,
                                                  "bar_solid": True})
    chart = book.add_chart({"type": "bar", "subtype": "stacked"})
    for c, g in enumerate(GRADES, 1):
        chart.add_series({"name": grade_label(g), "categories": [name, first + 1, 0, last, 0],
                          "values": [name, first + 1, c, last, c], "fill": {"color": GRADE_COLOURS[g]},
                          "data_labels": {"value": True, "font": {"size": 8}}})
    chart.set_title({"name": "各单位 A/B/C 类客户数", "name_font": {"size": 11, "name": FONT}})
    chart.set_y_axis({"reverse": True, "num_font": {"name": FONT}})
    chart.set_legend({"position": "bottom", "font": {"name": FONT}})
    chart.set_size({"width": 760, "height": 60 + 34 * max(n, 3)})
    ws.insert_chart(total_row + 3, 0, chart)
    set_print_landscape(ws, repeat_rows=(3, 3), title=f"{title} {name}")


def _grade_lists(book, styles: Styles, data: PeriodData, title: str) -> None:
    # The ratio of the amount and profit shown beside it: the grading's, over every branch's projects of the customer;
    # in a branch's edition, over its own projects, as its own profit analysis counts them (own_money).
    frame = data.grades.merge(data.loyalty[["customer_id", "loyalty_score", "segment"]], on="customer_id",
                              how="left").rename(columns={"margin": "scale_profit_ratio"})
    columns = ["name", "uscc", "branches", "official_grade", "rule_grade", "reasons", "loyalty_score",
               "segment", "amount", "profit", "scale_profit_ratio"]
    for g in GRADES:
        part = frame[frame["official_grade"] == g].sort_values("amount", ascending=False, kind="stable")
        ws = book.add_worksheet(grade_sheet(g))
        own = ("；等级按集团各单位的全部项目评定，合同额、利润和忠诚度只计本单位的项目与拜访" if data.branch
               else "")
        _heading(ws, styles, f"{data.period.title} {grade_label(g)}客户（{len(part)} 家）",
                 f"截至 {data.as_of} 月末的正式等级，按累计合同额排序{own}。")
        _table(ws, part[columns], styles, 3, "grades", widths={"reasons": 48})
        set_print_landscape(ws, repeat_rows=(3, 3), title=f"{title} {grade_sheet(g)}")


SEGMENTS = (LOYAL, STABLE, VOLATILE, CHURN_RISK, NEW_CUSTOMER)


def _loyalty(book, styles: Styles, data: PeriodData, title: str) -> None:
    name = SHEETS["loyalty"]
    ws = book.add_worksheet(name)
    _heading(ws, styles, f"{data.period.title} 客户忠诚度分析", "分群规则与权重见“说明”页。")
    summary = data.loyalty.groupby("segment").agg(customers=("customer_id", "size"),
                                                  score=("loyalty_score", "mean")).reset_index()
    order = {segment: i for i, segment in enumerate(SEGMENTS)}  # from the most loyal down, new customers last
    summary = summary.sort_values("segment", key=lambda s: s.map(order).fillna(len(order)), kind="stable")
    _, _, last, _ = write_frame(ws, summary, styles=styles, start_row=3, context="loyalty",
                                freeze=False, autofilter=False)
    rate = data.churned.attrs.get("churn_rate", float("nan"))
    shown = labels.EMPTY if rate != rate else f"{rate:.1%}"
    row = last + 2
    ws.write_string(row, 0, f"客户流失：上期活跃、本期不活跃的客户 {len(data.churned)} 家，流失率 {shown}"
                            "（活跃 = 期内签约、有中标/在建项目或有拜访记录）", styles.section)
    if len(data.churned):
        _, _, row, _ = _table(ws, data.churned.drop(columns=["customer_id"]), styles, row + 1,
                              "loyalty", freeze=False, autofilter=False)
    detail = data.loyalty.drop(columns=["customer_id"]).sort_values("loyalty_score", ascending=False,
                                                                    kind="stable")
    ws.write_string(row + 2, 0, "各客户忠诚度", styles.section)
    header, _, _, _ = _table(ws, detail, styles, row + 3, "loyalty", freeze=False)
    # The list of every customer runs over pages: its header repeats on those after the one it starts on.
    set_print_landscape(ws, repeat_rows=(header, header), title=f"{title} {name}")


def _profit(book, styles: Styles, data: PeriodData, title: str) -> None:
    name = SHEETS["profit"]
    ws = book.add_worksheet(name)
    _heading(ws, styles, f"{data.period.title} 客户利润分析", "只计中标及以后阶段的项目；金额单位：万元。")
    row = 3
    blocks = [("各单位（报告期内签约）", data.period_branch_profit),
              ("各单位（累计）", data.branch_profit),
              ("合同额前 20 名客户（累计）", data.profit.head(20).drop(columns=["customer_id"])),
              ("利润前 20 名客户（累计）", data.profit.sort_values("profit", ascending=False,
                                                         kind="stable").head(20).drop(columns=["customer_id"]))]
    for heading, frame in blocks:
        ws.write_string(row, 0, heading, styles.section)
        if frame.empty:
            ws.write_string(row + 1, 0, "无数据", styles.note)
            row += 3
            continue
        _, _, last, _ = _table(ws, frame, styles, row + 1, "profit", freeze=False, autofilter=False)
        row = last + 3
    set_print_landscape(ws, title=f"{title} {name}")


def _quadrants(book, styles: Styles, data: PeriodData, title: str) -> None:
    name = SHEETS["quadrants"]
    ws = book.add_worksheet(name)
    t = data.thresholds
    _heading(ws, styles, f"{data.period.title} B类客户规模—利润分析",
             f"分界：合同额 {t['amount_threshold']:,.2f} 万元，规模利润比 {t['margin_threshold']:.1%}；"
             "达到分界即为“大/高”。")
    q = data.quadrants
    order = [k for k in QUADRANT_HINTS]
    summary = q.groupby("quadrant").agg(customers=("customer_id", "size"), amount=("amount", "sum"),
                                        profit=("profit", "sum")).reindex(order).fillna(0)
    summary = summary.reset_index().rename(columns={"index": "quadrant"})
    summary["hint"] = summary["quadrant"].map({**QUADRANT_HINTS, **(
        {labels.NO_AMOUNT: labels.NO_AMOUNT_EDITION} if data.branch else {})})
    summary["customers"] = summary["customers"].astype(int)
    unreported = summary["quadrant"] == labels.NO_AMOUNT  # what they lack shows “—”, not a sum of 0.00
    for key in ("amount", "profit"):
        summary.loc[unreported & (summary[key] == 0), key] = float("nan")
    _, _, last, _ = _table(ws, summary, styles, 3, "profit", freeze=False, autofilter=False)
    rank = {q_name: i for i, q_name in enumerate(order)}
    detail = q[["name", "branches", "amount", "profit", "scale_profit_ratio", "quadrant", "hint"]]
    # Sorted by quadrant so each quadrant's rows are one contiguous range for the chart.
    detail = detail.assign(_q=detail["quadrant"].map(rank)).sort_values(
        ["_q", "amount"], ascending=[True, False], kind="stable").drop(columns="_q")
    chart_row = last + 2
    detail_row = chart_row + 22  # below the chart (about 20 rows high)
    first, _, end, _ = _table(ws, detail, styles, detail_row, "profit", freeze=False, autofilter=False)
    plotted = [k for k in order if k != labels.NO_AMOUNT]
    if len(detail[detail["quadrant"].isin(plotted)]):
        chart = book.add_chart({"type": "scatter"})
        quadrants = detail["quadrant"].tolist()
        for q_name, colour in zip(plotted, SERIES_COLOURS):
            rows = [i for i, v in enumerate(quadrants) if v == q_name]
            if not rows:
                continue
            top, bottom = first + 1 + rows[0], first + 1 + rows[-1]
            chart.add_series({"name": q_name, "categories": [name, top, 2, bottom, 2],
                              "values": [name, top, 4, bottom, 4],
                              "marker": {"type": "circle", "size": 6, "fill": {"color": colour},
                                         "border": {"color": colour}}})
        chart.set_title({"name": "B类客户：合同额与规模利润比", "name_font": {"size": 11, "name": FONT}})
        chart.set_x_axis({"name": labels.CONTEXTS["grades"]["amount"], "num_format": "#,##0"})
        chart.set_y_axis({"name": labels.label("scale_profit_ratio"), "num_format": "0%"})
        chart.set_legend({"position": "bottom"})
        chart.set_size({"width": 760, "height": 400})
        ws.insert_chart(chart_row, 0, chart)
    set_print_landscape(ws, repeat_rows=(first, first), title=f"{title} {name}")  # (the long list of B customers)


def _performance_future(book, styles: Styles, data: PeriodData, title: str) -> None:
    name = SHEETS["outlook"]
    ws = book.add_worksheet(name)
    _heading(ws, styles, f"{data.period.title} 客户性能与未来分析",
             "性能：诚信、资信、付款与投诉；未来：在跟踪、投标、中标阶段的项目（与上期比较）。")
    ws.write_string(3, 0, "未来：在手商机", styles.section)
    future = data.future.drop(columns=["customer_id"])
    if future.empty:
        ws.write_string(4, 0, "无数据", styles.note)
        row = 5
    else:
        _, _, row, _ = _table(ws, future, styles, 4, freeze=False, autofilter=False)
    ws.write_string(row + 2, 0, "性能：付款与投诉（有拖欠、延迟或投诉的客户在前）", styles.section)
    perf = data.performance.assign(_risk=data.performance["pay_arrears"] * 100 + data.performance["pay_delayed"] * 10
                                   + data.performance["complaints"]).sort_values("_risk", ascending=False,
                                                                                  kind="stable")
    header, _, _, _ = _table(ws, perf.drop(columns=["customer_id", "_risk"]), styles, row + 3, freeze=False,
                             autofilter=False)
    set_print_landscape(ws, repeat_rows=(header, header), title=f"{title} {name}")  # (every customer's row)


def _trend(book, styles: Styles, data: PeriodData, title: str) -> None:
    name = SHEETS["trend"]
    ws = book.add_worksheet(name)
    trend = data.trend
    note = "各月末的正式等级客户数与当月新增客户数。"
    if len(trend) and trend["first_filed"].any():
        note += "新增客户不含分子公司第一次报送时建档的客户（它当时的全部客户，另列为“首次报送建档”，不画入图中）。"
    else:
        trend = trend.drop(columns=["first_filed"], errors="ignore")
    _heading(ws, styles, f"{data.period.title} 逐月趋势", note)
    first, _, last, _ = write_frame(ws, trend, styles=styles, start_row=3,
                                    kinds={g: "integer" for g in GRADES})
    chart = book.add_chart({"type": "line"})
    for c, series in enumerate((*GRADES, "new_customers"), 1):
        chart.add_series({"name": labels.label(series), "categories": [name, first + 1, 0, last, 0],
                          "values": [name, first + 1, c, last, c], "marker": {"type": "circle"}})
    chart.set_title({"name": "A/B/C 类客户数与新增客户", "name_font": {"size": 11, "name": FONT}})
    chart.set_legend({"position": "bottom"})
    chart.set_size({"width": 620, "height": 330})
    ws.insert_chart(3, trend.shape[1] + 1, chart)  # beside the table, a column apart: the sheet stays one page
    set_print_landscape(ws, repeat_rows=(3, 3), title=f"{title} {name}")


def _assessment_sheet(book, styles: Styles, data: PeriodData, title: str) -> None:
    name = SHEETS["branch_assessment"]
    ws = book.add_worksheet(name)
    results = data.assessment
    state = "；".join(f"{half}：{'正式结果' if part['official'].iloc[0] else '建议结果（尚未通报）'}"
                     for half, part in results.groupby("half"))
    _heading(ws, styles, f"{data.period.title} 分子公司客户关系维护成效考核", f"{state}。五项指标（上报、投诉、满意度、"
             "分析报告、真实性）合计满分 100，计分细则见市场营销部的考核表；优良、合格、差的后果见集团《客户关系管理办法》"
             "三(二)Ⅱ4。")
    shown = results[["half", "rank", "branch", "total", "result", *(f"score_{k}" for k in
                                                                 ("reporting", "complaints", "satisfaction",
                                                                  "analysis_report", "authenticity"))]]
    shown = shown.sort_values(["half", "rank", "branch"], kind="stable")
    fills = [OK_FILL if r == labels.EXCELLENT else (ERROR_FILL if r == labels.POOR_RESULT else None)
             for r in shown["result"]]
    first, _, last, _ = write_frame(ws, shown, styles=styles, start_row=3, context="assessment_summary",
                                    freeze=False, autofilter=False, fills=fills)
    if data.branch is None and len(shown):
        latest = shown["half"].max()
        rows = [i for i, h in enumerate(shown["half"]) if h == latest]
        chart = book.add_chart({"type": "bar"})
        chart.add_series({"name": f"{latest} {labels.label('total', 'assessment')}",
                          "categories": [name, first + 1 + rows[0], 2, first + 1 + rows[-1], 2],
                          "values": [name, first + 1 + rows[0], 3, first + 1 + rows[-1], 3],
                          "fill": {"color": GRADE_COLOURS["A"]}, "data_labels": {"value": True}})
        chart.set_title({"name": f"{latest} 各单位考核总分", "name_font": {"size": 11, "name": FONT}})
        chart.set_y_axis({"reverse": True})
        chart.set_x_axis({"min": 0, "max": 100})
        chart.set_legend({"none": True})
        chart.set_size({"width": 560, "height": 320})
        ws.insert_chart(last + 2, 0, chart)
    set_print_landscape(ws, title=f"{title} {name}")


def _section(ws, styles: Styles, row: int, text: str) -> int:
    ws.write_string(row, 0, text, styles.section)
    return row + 1


def _block(ws, styles: Styles, row: int, heading: str, frame: pd.DataFrame, context: str | None = None,
           empty: str = "无", fills=None) -> int:
    """A heading and a table (or a line saying there is nothing); returns the next free row."""
    row = _section(ws, styles, row, heading)
    if frame is None or frame.empty:
        ws.write_string(row, 0, empty, styles.note)
        return row + 2
    header, _, last, _ = write_frame(ws, frame, styles=styles, start_row=row, context=context, freeze=False,
                                     autofilter=False, fills=fills)
    ws.__dict__.setdefault("_crm_blocks", []).append((len(frame), header))
    return last + 2


LONG_BLOCK = 25  # rows of a sheet's table that run over a printed page: its header repeats on the pages after


def _long_block_header(ws) -> tuple[int, int] | None:
    """The header row of the longest table ``_block`` wrote on a sheet of several, to repeat on the printed pages
    its rows run over (one range of rows can repeat on a sheet: the table most likely to run over pages)."""
    blocks = ws.__dict__.get("_crm_blocks", [])
    rows, header = max(blocks, default=(0, None))
    return (header, header) if rows > LONG_BLOCK else None


def _satisfaction_sheet(book, styles: Styles, data: PeriodData, title: str) -> None:
    name = SHEETS["satisfaction"]
    sv = data.service
    ws = book.add_worksheet(name)
    group = sv.satisfaction.iloc[-1]
    rate = group["satisfaction_rate"]
    shown = labels.EMPTY if rate != rate else f"{rate:.1%}"
    _heading(ws, styles, f"{data.period.title} 客户满意度分析",
             f"集团满意率 {shown}（目标 {sv.goal:.0%}）；不满意 {int(group['dissatisfied_items'])} 项。"
             f"满意率 = （{'、'.join(sv.satisfied_answers)}）项数 ÷ 已回答项数，四个调查项目合计。")
    main = ["branch", "surveys", "items", "satisfied_items", "dissatisfied_items", "satisfaction_rate", "gap_to_goal"]
    first, _, last, _ = write_frame(ws, sv.satisfaction[main], styles=styles, start_row=3, freeze=False,
                                    autofilter=False)
    ws.conditional_format(first + 1, 5, last, 5, {"type": "cell", "criteria": "<", "value": sv.goal,
                                                  "format": styles.get("below_goal", font_color=REQUIRED_RED)})
    row = last + 2
    trend_row = row
    row = _block(ws, styles, row, "逐月满意率（集团）", sv.satisfaction_trend)
    if sv.satisfaction_trend["items"].sum():
        chart = book.add_chart({"type": "line"})
        n = len(sv.satisfaction_trend)
        first, last_row = trend_row + 2, trend_row + 1 + n  # below the block's heading and header
        for col, series, colour in ((2, "satisfaction_rate", GRADE_COLOURS["A"]), (3, "goal", REQUIRED_RED)):
            chart.add_series({"name": labels.label(series), "categories": [name, first, 0, last_row, 0],
                              "values": [name, first, col, last_row, col],
                              "line": {"color": colour, "dash_type": "dash" if series == "goal" else "solid"},
                              "marker": {"type": "circle" if series != "goal" else "none"}})
        chart.set_title({"name": "满意率与目标", "name_font": {"size": 11, "name": FONT}})
        chart.set_y_axis({"num_format": "0%", "min": 0, "max": 1})
        chart.set_legend({"position": "bottom"})
        chart.set_size({"width": 560, "height": 280})
        ws.insert_chart(trend_row, 5, chart)
        row = max(row, trend_row + 16)
    row = _block(ws, styles, row, "各调查项目的回答（满意 / 基本满意 / 不满意）", sv.by_dimension, "surveys")
    row = _block(ws, styles, row, f"不满意项清单（{len(sv.dissatisfied)} 项，请督促整改）", sv.dissatisfied, "surveys",
                 empty="本期没有不满意项。")
    _block(ws, styles, row, f"已竣工未回访（{len(sv.not_surveyed)} 个项目：报告期内竣工，之后没有满意度调查）",
           sv.not_surveyed, "projects", empty="报告期内竣工的项目都已做满意度调查。")
    set_print_landscape(ws, repeat_rows=_long_block_header(ws), title=f"{title} {name}")


def _complaints_sheet(book, styles: Styles, data: PeriodData, title: str) -> None:
    name = SHEETS["complaints"]
    sv = data.service
    ws = book.add_worksheet(name)
    group = sv.complaints.iloc[-1]
    overdue = int(sv.open_complaints["overdue"].sum())
    received = f"本期共收到投诉 {int(group['received'])} 件"
    if data.branch:  # an edition: the branch's own, beside the group's total row
        own = sv.complaints.loc[sv.complaints["branch"] == data.branch, "received"]
        received = f"本单位本期收到投诉 {int(own.sum())} 件（全集团 {int(group['received'])} 件）"
    _heading(ws, styles, f"{data.period.title} 客户投诉处理",
             f"{received}；截至 {sv.as_of:%Y-%m-%d} 未结束 {len(sv.open_complaints)} 件，"
             f"其中超时 {overdue} 件（红色）。按时响应 = 投诉后 {data.settings['response_hours']} 小时内首次响应；"
             f"按时反馈 = 处理完成后 {data.settings['feedback_hours']} 小时内反馈结果（集团《客户投诉管理办法》5.3）。")
    main = ["branch", "received", "responded_in_time", "response_rate", "fed_back_in_time", "feedback_rate",
            "unreasonable_count", "handling_satisfaction", "median_response_hours", "median_feedback_hours"]
    _, _, last, _ = write_frame(ws, sv.complaints[main], styles=styles, start_row=3, freeze=False,
                                autofilter=False)
    row = last + 2
    by_type = sv.complaints[["branch"] + [c for c in sv.complaints.columns if c.startswith("complaint_type|")]]
    row = _block(ws, styles, row, "按投诉类型", by_type, "complaints")
    fills = [ERROR_FILL if o else None for o in sv.open_complaints["overdue"]]
    row = _block(ws, styles, row, f"未结束的投诉（截至 {sv.as_of:%Y-%m-%d}，超时的在前）", sv.open_complaints,
                 "complaints", empty="没有未结束的投诉。", fills=fills)
    causes = sv.causes
    row = _block(ws, styles, row, "原因分析：按项目部", causes["by_department"], "complaints")
    row = _block(ws, styles, row, "被投诉最多的客户", causes["top_customers"], "complaints")
    _block(ws, styles, row, "重复投诉（同一客户、同一类型，本期两次及以上）", causes["repeated"], "complaints",
           empty="本期没有重复投诉。")
    set_print_landscape(ws, repeat_rows=_long_block_header(ws), title=f"{title} {name}")


def _strategic_sheet(book, styles: Styles, data: PeriodData, title: str) -> None:
    name = SHEETS["strategic"]
    sv = data.service
    ws = book.add_worksheet(name)
    shares = sv.duty_shares
    group = shares.iloc[-1]

    def share(row) -> str:  # as the table shows it
        return labels.EMPTY if row["met_share"] != row["met_share"] else f"{row['met_share']:.1%}"

    figures = f"战略客户 {int(group['customers'])} 家次，维护职责完成率 {share(group)}"
    if data.branch:  # an edition: the branch's own, beside the group's total row
        own = shares[shares["branch"] == data.branch]
        if len(own):
            figures = (f"本单位战略客户 {int(own.iloc[0]['customers'])} 家次，维护职责完成率 {share(own.iloc[0])}"
                       f"（全集团 {share(group)}）")
    _heading(ws, styles, f"{data.period.title} {name}",
             f"截至 {data.period.end} 月末：{figures}。职责：公司主要领导每年至少拜访 1 次、联点领导每年至少 2 次"
             "（年底前为待完成，过年底为逾期），营销专员每月联系（缺月即逾期）。")
    _, _, last, _ = write_frame(ws, shares, styles=styles, start_row=3, freeze=False, autofilter=False)
    row = last + 2
    duties = sv.duties.drop(columns=["customer_id"])
    fills = [ERROR_FILL if s == labels.DUTY_STATES[2] else (OK_FILL if s == labels.DUTY_STATES[0] else None)
             for s in duties["duty_state"]]
    row = _block(ws, styles, row, "各战略客户的维护职责", duties, "customers", empty="没有战略客户。", fills=fills)
    plan = sv.a_plan
    _block(ws, styles, row, f"A类客户拜访计划（按社会价值确定频率；逾期 {int(plan['overdue'].sum())} 家）", plan,
           "customers", empty="没有A类客户。",
           fills=[ERROR_FILL if o else None for o in plan["overdue"]])
    set_print_landscape(ws, repeat_rows=_long_block_header(ws), title=f"{title} {name}")


def period_report(archive: Archive, config: Config, text: str, out_root: Path,
                  today: dt.date | None = None, branch: str | None = None) -> Path:
    """Gather and write one period's report (a branch's edition under ``<P>/分子公司版/``)."""
    data = gather(archive, config, text, today, branch)
    return write_period_report(data, names.period_report(out_root, str(data.period), branch).parent)
