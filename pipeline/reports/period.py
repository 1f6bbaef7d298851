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

from schemas.columns import label

from .. import analysis
from ..archive import Archive
from ..config import Config
from ..excel import Styles, display_width, new_workbook, set_print_landscape, write_frame
from ..grading import GRADES, grade_changes, official_grades, rule_grades
from ..periods import Period


class ReportError(Exception):
    """The period cannot be reported (in the future, or no data)."""


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


def _grades(archive: Archive, config: Config, as_of: str):
    snap = archive.snapshot(as_of)
    return snap, official_grades(rule_grades(snap, config, as_of))


def ranking(snapshot: dict, grades: pd.DataFrame, config: Config) -> pd.DataFrame:
    """Per branch counts of official A/B/C grades, weighted score and rank."""
    weights = {g: config.number("ranking", f"weight_{g.lower()}") for g in GRADES}
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
    return counts.reset_index().rename(columns={"index": "branch"})


def gather(archive: Archive, config: Config, text: str, today: dt.date | None = None) -> PeriodData:
    """All figures of one period report."""
    period = Period.parse(text)
    subs = archive.submissions()
    live = subs[subs["status"] == "accepted"]
    today = today or dt.date.today()
    if period.start > today.strftime("%Y-%m"):
        raise ReportError(f"{period.title}尚未开始，无法出具报告。")
    if live.empty or live["period"].min() > period.end:
        raise ReportError(f"档案中没有 {period.end} 月末及以前的数据，无法出具{period.title}报告。")
    as_of = period.end
    snap, grades = _grades(archive, config, as_of)
    prev = period.previous()
    prev_snap, prev_grades = _grades(archive, config, prev.end)
    rank_now = ranking(snap, grades, config)
    rank_prev = ranking(prev_snap, prev_grades, config).set_index("branch")
    if len(prev_grades):
        for g in GRADES:
            rank_now[f"{g}_change"] = rank_now[g] - rank_now["branch"].map(rank_prev[g]).fillna(0)
        rank_now["prev_rank"] = rank_now["branch"].map(rank_prev["rank"]).astype("float64")
        rank_now["rank_change"] = rank_now["prev_rank"] - rank_now["rank"]
    else:  # nothing archived for the previous period: no comparison rather than a false one
        for key in ("A_change", "B_change", "C_change", "prev_rank", "rank_change"):
            rank_now[key] = float("nan")
    total = {g: int((grades["official_grade"] == g).sum()) for g in GRADES}
    total["total"] = len(grades)
    loyalty = analysis.loyalty(snap, config, as_of)
    profit = analysis.profit(snap)
    b_ids = set(grades.loc[grades["official_grade"] == "B", "customer_id"])
    quadrants, thresholds = analysis.scale_profit(profit[profit["customer_id"].isin(b_ids)], config)
    trend = []
    latest = live["period"].max()
    for month in period.months:
        if month > latest:
            break
        m_snap, m_grades = _grades(archive, config, month)
        row = {"month": month, **{g: int((m_grades["official_grade"] == g).sum()) for g in GRADES}}
        row["new_customers"] = int((m_snap["customers"]["first_period"] == month).sum())
        trend.append(row)
    used = live[(live["period"] >= period.start) & (live["period"] <= period.end)]
    sources = used.groupby("branch").agg(files=("file_name", "size"),
                                         months=("period", lambda s: _month_span(sorted(set(s)))),
                                         last=("received_at", "max")).reset_index()
    adjustments = None
    if period.kind in ("half", "year"):
        adjustments = _adjustments(archive, period)
    churned = analysis.churn(analysis.active_customers(prev_snap, prev.start, prev.end),
                             analysis.active_customers(snap, period.start, period.end), snap["customers"])
    return PeriodData(period, as_of, prev, grades, rank_now, total, grade_changes(prev_grades, grades),
                      loyalty, profit, analysis.profit(snap, by="branch"),
                      analysis.profit(snap, by="branch", start=period.start, end=period.end),
                      quadrants, thresholds, analysis.product(snap), pd.DataFrame(trend), sources,
                      adjustments, dt.datetime.now().replace(microsecond=0), churned,
                      analysis.performance(snap), analysis.future(snap, prev_snap))


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


def _adjustments(archive: Archive, period: Period) -> pd.DataFrame:
    halves = [f"{period.year}-H1", f"{period.year}-H2"] if period.kind == "year" else [str(period)]
    frame = pd.read_sql_query(
        "SELECT period, old_grade, new_grade, decision FROM grade_adjustments WHERE period IN (%s)"
        % ",".join("?" * len(halves)), archive.conn, params=halves)
    rank = {"A": 3, "B": 2, "C": 1}
    rows = []
    for half in halves:
        part = frame[frame["period"] == half]
        up = sum(rank.get(n, 0) > rank.get(o, 0) for o, n in zip(part["old_grade"], part["new_grade"]))
        down = sum(rank.get(n, 0) < rank.get(o, 0) for o, n in zip(part["old_grade"], part["new_grade"]))
        rows.append({"half": half, "customers": len(part), "adopted": int((part["decision"] == "采纳").sum()),
                     "kept": int((part["decision"] == "保持").sum()),
                     "overridden": int(part["decision"].str.startswith("改为").sum()),
                     "upgraded": int(up), "downgraded": int(down),
                     **{f"to_{g}": int((part["new_grade"] == g).sum()) for g in GRADES}})
    return pd.DataFrame(rows)


# -- writing -------------------------------------------------------------------

RANK_LABELS = {"branch": "单位", "A": "A类", "B": "B类", "C": "C类", "total": "合计", "score": "加权得分",
               "rank": "排名", "A_change": "A类增减", "B_change": "B类增减", "C_change": "C类增减",
               "prev_rank": "上期排名", "rank_change": "名次变化"}
LIST_LABELS = {"name": label("name", "customers"), "uscc": label("uscc", "customers"), "branches": "报送单位",
               "official_grade": "正式等级", "rule_grade": "规则等级", "reasons": "评级依据",
               "loyalty_score": "忠诚度得分", "segment": "忠诚度分群", "amount": "累计合同额（万元）",
               "profit": "累计利润（万元）", "scale_profit_ratio": "规模利润比"}
PROFIT_LABELS = {"name": label("name", "customers"), "branch": "单位", "branches": "报送单位",
                 "projects": "项目数", "amount": "合同额（万元）", "cost": "成本（万元）",
                 "profit": "利润（万元）", "net_profit": "净利润（万元）",
                 "scale_profit_ratio": "规模利润比", "cost_profit_ratio": "成本利润比",
                 "quadrant": "象限", "hint": "维护建议", "project_type": "工程类型", "customers": "客户数"}
LOYALTY_LABELS = {"name": label("name", "customers"), "branches": "报送单位", "tenure_years": "合作年数",
                  "projects": "项目数", "projects_12m": "近12个月项目", "projects_36m": "近36个月项目",
                  "months_since_last": "距最近签约（月）", "continuity": "连续性", "trend": "趋势",
                  "stability": "等级稳定性", "loyalty_score": "忠诚度得分", "segment": "分群"}
KINDS = {"规模利润比": "percent", "成本利润比": "percent", "连续性": "percent", "等级稳定性": "percent",
         "加权得分": "count", "排名": "integer", "上期排名": "integer", "名次变化": "integer",
         "忠诚度得分": "money", "合作年数": "integer", "项目数": "integer", "客户数": "integer",
         "距最近签约（月）": "integer", "趋势": "money"}


def _table(ws, frame: pd.DataFrame, styles: Styles, row: int, labels: dict, **kw):
    shown = frame.rename(columns=labels)
    return write_frame(ws, shown, styles=styles, start_row=row, kinds=KINDS, **kw)


def _heading(ws, styles: Styles, title: str, note: str = "") -> None:
    ws.write_string(0, 0, title, styles.title)
    if note:
        ws.write_string(1, 0, note, styles.note)


def write_period_report(data: PeriodData, out_dir: Path) -> Path:
    """客户分级报告_<P>.xlsx in ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"客户分级报告_{data.period}.xlsx"
    book = new_workbook(path)
    styles = Styles(book)
    p = data.period
    title = f"{p.title}客户分级报告"
    _about(book, styles, data, title)
    _ranking_sheet(book, styles, data, title)
    sheets = [("等级变动", data.changes.drop(columns=["customer_id"]).rename(columns={
        "name": LIST_LABELS["name"], "branches": "报送单位", "grade_before": f"{data.previous}末等级",
        "grade_after": f"{p}末等级", "direction": "变动", "reasons_before": "原评级依据",
        "reasons_after": "现评级依据"}), f"{data.previous} → {p} 正式等级升降（等级仅在半年度调整时变动）")]
    for title_, frame, note in sheets:
        ws = book.add_worksheet(title_)
        _heading(ws, styles, f"{p.title} {title_}", note)
        if frame.empty:
            ws.write_string(3, 0, "本期没有等级变动。", styles.note)
        else:
            write_frame(ws, frame, styles=styles, start_row=3)
        set_print_landscape(ws, repeat_rows=(3, 3), title=f"{title} {title_}")
    _grade_lists(book, styles, data, title)
    _loyalty(book, styles, data, title)
    _profit(book, styles, data, title)
    _quadrants(book, styles, data, title)
    ws = book.add_worksheet("产品分析")
    _heading(ws, styles, f"{p.title} 产品分析（按工程类型，累计）", "金额与利润只计中标及以后阶段的项目。")
    _table(ws, data.product, styles, 3, PROFIT_LABELS)
    set_print_landscape(ws, repeat_rows=(3, 3), title=f"{title} 产品分析")
    _performance_future(book, styles, data, title)
    _trend(book, styles, data, title)
    if data.adjustments is not None:
        ws = book.add_worksheet("半年度调整")
        _heading(ws, styles, f"{p.title} 半年度等级调整结果",
                 "采纳 = 按规则等级调整；保持 = 维持原正式等级；改为 = 市场营销部另行确定。")
        frame = data.adjustments.rename(columns={
            "half": "半年度", "customers": "客户数", "adopted": "采纳", "kept": "保持", "overridden": "另行确定",
            "upgraded": "升级", "downgraded": "降级", "to_A": "调整后A类", "to_B": "调整后B类",
            "to_C": "调整后C类"})
        if data.adjustments["customers"].sum() == 0:
            ws.write_string(3, 0, "本期尚未进行半年度等级调整。", styles.note)
        else:
            write_frame(ws, frame, styles=styles, start_row=3)
        set_print_landscape(ws, repeat_rows=(3, 3), title=f"{title} 半年度调整")
    book.close()
    return path


def _about(book, styles: Styles, data: PeriodData, title: str) -> None:
    ws = book.add_worksheet("说明")
    ws.write_string(0, 0, title, styles.title)
    total = data.group_total
    lines = [
        ("报告期", f"{data.period.title}（{data.period.start} 至 {data.period.end}）"),
        ("数据截至", f"{data.as_of} 月末的档案状态（按变更历史还原，不是当前状态）"),
        ("对比期", f"{data.previous.title}（截至 {data.previous.end} 月末）"),
        ("生成时间", data.generated.strftime("%Y-%m-%d %H:%M")),
        ("集团客户总数", f"{total['total']} 家：A 类 {total['A']}、B 类 {total['B']}、C 类 {total['C']}"),
        ("数据来源", f"报告期内归档的报送文件 {int(data.sources['files'].sum()) if len(data.sources) else 0} 份"
                     "（各单位明细见下表；被更正替换或退回的文件不计）"),
        ("正式等级", "半年度等级调整确定的等级；尚未经过调整的新客户暂按规则等级计。"),
        ("规则等级", "按集团《客户关系管理办法》三(一)3 与 crm.toml [grading] 计算，理由见“评级依据”。"),
        ("分公司计数", "同一客户由两个分公司报送时，在两个分公司各计一次；集团合计按客户去重，只计一次。"),
        ("加权得分", "A 类数 × A 权重 + B 类数 × B 权重 + C 类数 × C 权重（crm.toml [ranking]），得分相同名次并列。"),
        ("名次变化", "上期排名 − 本期排名，正数为上升（↑），负数为下降（↓）。"),
        ("忠诚度", "合作年限、项目数量、近期性、连续性、合同额趋势、等级稳定性的加权得分（0–100），权重见 crm.toml [loyalty]。"),
        ("利润指标", "规模利润比 = 利润 ÷ 合同额；成本利润比 = 利润 ÷ 成本；分母为 0 时显示“—”。金额单位：万元。"),
        ("B类规模利润", f"分界：合同额 {data.thresholds['amount_threshold']:,.2f} 万元、规模利润比 "
                       f"{data.thresholds['margin_threshold']:.1%}（默认为 B 类客户中位数），达到分界即为“大/高”。"),
    ]
    for r, (key, value) in enumerate(lines, 2):
        ws.write_string(r, 0, key, styles.get("about_key", bold=True, valign="top"))
        ws.merge_range(r, 1, r, 7, value, styles.get("about_value", text_wrap=True, valign="top"))
        ws.set_row(r, 30 if display_width(value) > 120 else 16)
    start = len(lines) + 4
    ws.write_string(start - 1, 0, "数据来源清单", styles.get("section", bold=True, font_size=12,
                                                      font_color="#1F4E78"))
    sources = data.sources.rename(columns={"branch": "单位", "files": "归档文件数", "months": "覆盖月份",
                                           "last": "最近收件时间"})
    write_frame(ws, sources, styles=styles, start_row=start, freeze=False, autofilter=False,
                kinds={"归档文件数": "integer"})
    ws.set_column(0, 0, 16)
    ws.set_column(1, 1, 12)
    ws.set_column(2, 2, 24)
    ws.set_column(3, 7, 18)
    set_print_landscape(ws, title=title)


def _ranking_sheet(book, styles: Styles, data: PeriodData, title: str) -> None:
    ws = book.add_worksheet("等级排名")
    _heading(ws, styles, f"{data.period.title} 各单位 A/B/C 类客户排名",
             f"截至 {data.as_of} 月末；对比 {data.previous.title}。同一客户由多个单位报送时各计一次。")
    frame = data.ranking[["branch", "A", "B", "C", "total", "score", "rank", "A_change", "B_change",
                          "C_change", "prev_rank", "rank_change"]]
    first, _, last, last_col = _table(ws, frame, styles, 3, RANK_LABELS)
    total = data.group_total
    total_row = last + 1
    bold = styles.get("total", bold=True, border=1, border_color="#D9D9D9", bg_color="#F2F2F2")
    ws.write_string(total_row, 0, "集团合计（去重）", bold)
    for c, g in enumerate(GRADES, 1):
        ws.write_number(total_row, c, total[g], bold)
    ws.write_number(total_row, 4, total["total"], bold)
    for c in range(5, last_col + 1):
        ws.write_blank(total_row, c, None, bold)
    n = len(frame)
    ws.conditional_format(first + 1, 11, last, 11, {"type": "icon_set", "icon_style": "3_arrows",
                                                    "icons": [{"criteria": ">", "type": "number", "value": 0},
                                                              {"criteria": ">=", "type": "number", "value": 0}]})
    ws.conditional_format(first + 1, 5, last, 5, {"type": "data_bar", "bar_color": "#5B9BD5",
                                                  "bar_solid": True})
    chart = book.add_chart({"type": "bar", "subtype": "stacked"})
    colors = {"A": "#2E75B6", "B": "#9DC3E6", "C": "#BFBFBF"}
    for c, g in enumerate(GRADES, 1):
        chart.add_series({"name": f"{g}类", "categories": ["等级排名", first + 1, 0, last, 0],
                          "values": ["等级排名", first + 1, c, last, c], "fill": {"color": colors[g]},
                          "data_labels": {"value": True, "font": {"size": 8}}})
    chart.set_title({"name": "各单位 A/B/C 类客户数", "name_font": {"size": 11, "name": "等线"}})
    chart.set_y_axis({"reverse": True, "num_font": {"name": "等线"}})
    chart.set_legend({"position": "bottom", "font": {"name": "等线"}})
    chart.set_size({"width": 760, "height": 60 + 34 * max(n, 3)})
    ws.insert_chart(total_row + 3, 0, chart)
    set_print_landscape(ws, repeat_rows=(3, 3), title=f"{title} 等级排名")


def _grade_lists(book, styles: Styles, data: PeriodData, title: str) -> None:
    frame = data.grades.merge(data.loyalty[["customer_id", "loyalty_score", "segment"]], on="customer_id",
                              how="left").merge(data.profit[["customer_id", "scale_profit_ratio"]],
                                                on="customer_id", how="left")
    columns = ["name", "uscc", "branches", "official_grade", "rule_grade", "reasons", "loyalty_score",
               "segment", "amount", "profit", "scale_profit_ratio"]
    for g in GRADES:
        part = frame[frame["official_grade"] == g].sort_values("amount", ascending=False, kind="stable")
        ws = book.add_worksheet(f"{g}类客户")
        _heading(ws, styles, f"{data.period.title} {g}类客户（{len(part)} 家）",
                 f"截至 {data.as_of} 月末的正式等级，按累计合同额排序。")
        _table(ws, part[columns], styles, 3, LIST_LABELS)
        ws.set_column(5, 5, 48)
        set_print_landscape(ws, repeat_rows=(3, 3), title=f"{title} {g}类客户")


def _loyalty(book, styles: Styles, data: PeriodData, title: str) -> None:
    ws = book.add_worksheet("忠诚度分析")
    _heading(ws, styles, f"{data.period.title} 客户忠诚度分析", "分群规则与权重见“说明”页及 crm.toml [loyalty]。")
    summary = data.loyalty.groupby("segment").agg(customers=("customer_id", "size"),
                                                  score=("loyalty_score", "mean")).reset_index()
    summary = summary.rename(columns={"segment": "分群", "customers": "客户数", "score": "平均得分"})
    _, _, last, _ = write_frame(ws, summary, styles=styles, start_row=3, kinds={"客户数": "integer"},
                                freeze=False, autofilter=False)
    rate = data.churned.attrs.get("churn_rate", float("nan"))
    shown = "—" if rate != rate else f"{rate:.1%}"
    row = last + 2
    ws.write_string(row, 0, f"客户流失：上期活跃、本期不活跃的客户 {len(data.churned)} 家，流失率 {shown}"
                            "（活跃 = 期内签约、有中标/在建项目或有拜访记录）",
                    styles.get("section", bold=True, font_size=12, font_color="#1F4E78"))
    if len(data.churned):
        _, _, row, _ = _table(ws, data.churned.drop(columns=["customer_id"]), styles, row + 1,
                              LOYALTY_LABELS, freeze=False, autofilter=False)
    detail = data.loyalty.drop(columns=["customer_id"]).sort_values("loyalty_score", ascending=False,
                                                                    kind="stable")
    ws.write_string(row + 2, 0, "各客户忠诚度", styles.get("section", bold=True, font_size=12,
                                                      font_color="#1F4E78"))
    _table(ws, detail, styles, row + 3, LOYALTY_LABELS, freeze=False)
    set_print_landscape(ws, title=f"{title} 忠诚度分析")


def _profit(book, styles: Styles, data: PeriodData, title: str) -> None:
    ws = book.add_worksheet("利润分析")
    _heading(ws, styles, f"{data.period.title} 客户利润分析", "只计中标及以后阶段的项目；金额单位：万元。")
    row = 3
    blocks = [("各单位（报告期内签约）", data.period_branch_profit.drop(columns=[], errors="ignore")),
              ("各单位（累计）", data.branch_profit),
              ("合同额前 20 名客户（累计）", data.profit.head(20).drop(columns=["customer_id"])),
              ("利润前 20 名客户（累计）", data.profit.sort_values("profit", ascending=False,
                                                         kind="stable").head(20).drop(columns=["customer_id"]))]
    for heading, frame in blocks:
        ws.write_string(row, 0, heading, styles.get("section", bold=True, font_size=12, font_color="#1F4E78"))
        if frame.empty:
            ws.write_string(row + 1, 0, "无数据", styles.note)
            row += 3
            continue
        _, _, last, _ = _table(ws, frame, styles, row + 1, PROFIT_LABELS, freeze=False, autofilter=False)
        row = last + 3
    set_print_landscape(ws, title=f"{title} 利润分析")


def _quadrants(book, styles: Styles, data: PeriodData, title: str) -> None:
    ws = book.add_worksheet("B类规模利润")
    t = data.thresholds
    _heading(ws, styles, f"{data.period.title} B类客户规模—利润分析",
             f"分界：合同额 {t['amount_threshold']:,.2f} 万元，规模利润比 {t['margin_threshold']:.1%}；"
             "达到分界即为“大/高”。")
    q = data.quadrants
    summary = q.groupby("quadrant").agg(customers=("customer_id", "size"), amount=("amount", "sum"),
                                        profit=("profit", "sum")).reindex(list(analysis.QUADRANT_HINTS)).fillna(0)
    summary = summary.reset_index().rename(columns={"index": "quadrant"})
    summary["hint"] = summary["quadrant"].map(analysis.QUADRANT_HINTS)
    summary["customers"] = summary["customers"].astype(int)
    _, _, last, _ = _table(ws, summary, styles, 3, PROFIT_LABELS, freeze=False, autofilter=False)
    order = {name: i for i, name in enumerate(analysis.QUADRANT_HINTS)}
    detail = q[["name", "branches", "amount", "profit", "scale_profit_ratio", "quadrant", "hint"]]
    # Sorted by quadrant so each quadrant's rows are one contiguous range for the chart.
    detail = detail.assign(_q=detail["quadrant"].map(order)).sort_values(
        ["_q", "amount"], ascending=[True, False], kind="stable").drop(columns="_q")
    chart_row = last + 2
    detail_row = chart_row + 22  # below the chart (about 20 rows high)
    first, _, end, _ = _table(ws, detail, styles, detail_row, PROFIT_LABELS, freeze=False, autofilter=False)
    if len(detail):
        chart = book.add_chart({"type": "scatter"})
        colors = ("#2E75B6", "#ED7D31", "#70AD47", "#A5A5A5")
        quadrants = detail["quadrant"].tolist()
        for name, color in zip(analysis.QUADRANT_HINTS, colors):
            rows = [i for i, v in enumerate(quadrants) if v == name]
            if not rows:
                continue
            top, bottom = first + 1 + rows[0], first + 1 + rows[-1]
            chart.add_series({"name": name, "categories": ["B类规模利润", top, 2, bottom, 2],
                              "values": ["B类规模利润", top, 4, bottom, 4],
                              "marker": {"type": "circle", "size": 6, "fill": {"color": color},
                                         "border": {"color": color}}})
        chart.set_title({"name": "B类客户：合同额与规模利润比", "name_font": {"size": 11, "name": "等线"}})
        chart.set_x_axis({"name": "累计合同额（万元）", "num_format": "#,##0"})
        chart.set_y_axis({"name": "规模利润比", "num_format": "0%"})
        chart.set_legend({"position": "bottom"})
        chart.set_size({"width": 760, "height": 400})
        ws.insert_chart(chart_row, 0, chart)
    set_print_landscape(ws, title=f"{title} B类规模利润")


PERF_LABELS = {"name": label("name", "customers"), "branches": "报送单位",
               "integrity": label("integrity", "customers"), "credit": label("credit", "customers"),
               "pay_normal": "付款正常项目", "pay_delayed": "付款延迟项目", "pay_arrears": "付款拖欠项目",
               "complaints": "投诉次数", "unreasonable": "无理投诉", "near_term_need": label("near_term_need", "customers"),
               "needs": label("needs", "customers"), "pipeline_projects": "跟踪/投标/中标项目",
               "pipeline_amount": "其中已报金额（万元）", "pipeline_change": "较上期增减"}


def _performance_future(book, styles: Styles, data: PeriodData, title: str) -> None:
    ws = book.add_worksheet("性能与未来")
    _heading(ws, styles, f"{data.period.title} 客户性能与未来分析",
             "性能：诚信、资信、付款与投诉；未来：在跟踪、投标、中标阶段的项目（与上期比较）。")
    ws.write_string(3, 0, "未来：在手商机", styles.get("section", bold=True, font_size=12, font_color="#1F4E78"))
    future = data.future.drop(columns=["customer_id"])
    if future.empty:
        ws.write_string(4, 0, "无数据", styles.note)
        row = 5
    else:
        _, _, row, _ = _table(ws, future, styles, 4, PERF_LABELS, freeze=False, autofilter=False)
    ws.write_string(row + 2, 0, "性能：付款与投诉（有拖欠、延迟或投诉的客户在前）",
                    styles.get("section", bold=True, font_size=12, font_color="#1F4E78"))
    perf = data.performance.assign(_risk=data.performance["pay_arrears"] * 100 + data.performance["pay_delayed"] * 10
                                   + data.performance["complaints"]).sort_values("_risk", ascending=False,
                                                                                  kind="stable")
    _table(ws, perf.drop(columns=["customer_id", "_risk"]), styles, row + 3, PERF_LABELS, freeze=False,
           autofilter=False)
    set_print_landscape(ws, title=f"{title} 性能与未来")


def _trend(book, styles: Styles, data: PeriodData, title: str) -> None:
    ws = book.add_worksheet("趋势")
    _heading(ws, styles, f"{data.period.title} 逐月趋势", "各月末的正式等级客户数与当月新增客户数。")
    frame = data.trend.rename(columns={"month": "月份", "A": "A类", "B": "B类", "C": "C类",
                                       "new_customers": "新增客户"})
    first, _, last, _ = write_frame(ws, frame, styles=styles, start_row=3,
                                    kinds={k: "integer" for k in ("A类", "B类", "C类", "新增客户")})
    chart = book.add_chart({"type": "line"})
    for c, name in enumerate(("A类", "B类", "C类", "新增客户"), 1):
        chart.add_series({"name": name, "categories": ["趋势", first + 1, 0, last, 0],
                          "values": ["趋势", first + 1, c, last, c], "marker": {"type": "circle"}})
    chart.set_title({"name": "A/B/C 类客户数与新增客户", "name_font": {"size": 11, "name": "等线"}})
    chart.set_legend({"position": "bottom"})
    chart.set_size({"width": 620, "height": 330})
    ws.insert_chart(3, 6, chart)  # beside the table: the sheet stays one page
    set_print_landscape(ws, repeat_rows=(3, 3), title=f"{title} 趋势")


def period_report(archive: Archive, config: Config, text: str, out_root: Path,
                  today: dt.date | None = None) -> Path:
    """Gather and write one period's report under ``out_root/<P>/``."""
    data = gather(archive, config, text, today)
    return write_period_report(data, out_root / str(data.period))
