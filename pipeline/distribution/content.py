"""What each mail says: the leadership brief, a branch's own figures, the assessment notice, the feedback.

Every figure comes from the archive through the same analyses as the reports (``reports.period.gather``),
as of the same period end, so the brief and the attached workbooks agree. A branch's document
shows the group ranking (counts per branch) and its own rows only: never another branch's
customers, codes or contacts.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd

from schemas import labels
from schemas.columns import COVER
from schemas.labels import (ASSESSMENT_RESULTS, COMPLAINT_STATES, EXCELLENT, GRADES, LATE, MISSING, NO_CHANGE,
                            NOT_DUE, ON_TIME, POOR_RESULT, RETURNED, SHEETS, WHOLE_FILE, label)

from ..archive.access import Standing
from ..periods import Period, hours_text
from ..reports.period import PeriodData
from .document import (BAD, GOOD, MUTED, NORMAL, STRONG, WARN, Bullets, Cell, Document, Paragraph, Table, arrow,
                       number, percent, signed, unit)

UNANSWERED, NOT_FED_BACK, IN_HANDLING = COMPLAINT_STATES
_STATE_TONES = {ON_TIME: GOOD, NO_CHANGE: GOOD, LATE: WARN, MISSING: BAD, RETURNED: BAD, NOT_DUE: MUTED}
_RESULT_TONES = {EXCELLENT: GOOD, POOR_RESULT: BAD}
MAX_LISTED = 15   # rows of a list shown in a mail body (the workbook has them all)


def _h(key: str) -> str:
    return label(key, "mail")


@dataclass
class Figures:
    """One period's figures for every message of a distribution."""

    period: Period
    data: PeriodData
    on: dt.date
    standings: dict[str, Standing]
    monthly: object | None = None           # reports.monthly.MonthlyData for a month
    official: pd.DataFrame | None = None    # recorded assessment results of the half
    summaries: dict | None = None           # branch → when its work summary of the half arrived (by the day)

    @property
    def as_of_text(self) -> str:
        end = self.data.as_of
        text = f"数据截至 {end[:4]} 年 {int(end[5:7])} 月末"
        return text + ("（报告期尚未结束，为中期数据）" if end < self.period.end else "")


def _footer(attachments: list[str], sender: str) -> list[str]:
    lines = [f"附件：{'；'.join(attachments)}。" if attachments else "本邮件无附件。"]
    lines += [f"本邮件由客户档案流水线根据集团客户档案自动生成，由{sender}发出；数据或分发有疑问请回复本邮件。",
              "客户信息属集团公司所有，仅限本单位工作使用，请勿转发。"]
    return lines


# -- tables shared by several documents ------------------------------------------------------------

def _branch_rows(frame: pd.DataFrame, cells, marked_branch: str | None) -> tuple[list[list], set[int]]:
    """One table row per row of ``frame`` (``cells`` builds it), and the positions of ``marked_branch``'s
    rows (the group total, or the recipient's own line), shown highlighted."""
    rows = [cells(row) for row in frame.itertuples()]
    return rows, {i for i, branch in enumerate(frame["branch"]) if branch == marked_branch}


def ranking_table(data: PeriodData, highlight: str | None = None) -> Table:
    r, weights = data.ranking, data.settings["ranking"]
    top = max(float(r["score"].max()), 1.0) if len(r) else 1.0
    rows, marked = _branch_rows(r, lambda row: [
        Cell(str(row.rank), STRONG, align="center"), unit(row.branch),
        *(Cell(number(getattr(row, g)), align="right") for g in GRADES),
        Cell(number(row.score, 0), bar=row.score / top), arrow(row.rank_change)], highlight)
    return Table([_h("rank"), _h("branch"), *(label(g) for g in GRADES), _h("score"), _h("rank_change")], rows,
                 marked, note="得分 = " + " + ".join(f"{g} 类数 × {weights[g]:g}" for g in GRADES)
                 + (f"；名次变化与{data.previous.title}相比。" if data.previous_total else
                    f"；{data.previous.title}没有数据，不比较名次。"))


def _grade_line(data: PeriodData) -> str:
    total, prev = data.group_total, data.previous_total
    parts = []
    for g in GRADES:
        change = f"（{signed(total[g] - prev[g])}）" if prev else ""
        parts.append(f"{g} 类 {total[g]}{change}")
    change = f"，较{data.previous.title} {signed(total['total'] - prev['total'])}" if prev else ""
    return f"全集团客户 {total['total']} 家{change}：" + "、".join(parts)


def satisfaction_table(data: PeriodData, branch: str | None = None) -> Table | Paragraph:
    sv = data.service
    frame = sv.satisfaction
    if branch:
        frame = frame[frame["branch"] == branch]
    if not int(frame["items"].sum()):
        return Paragraph("本期没有满意度调查记录。", MUTED)
    def cells(row) -> list:
        rate = row.satisfaction_rate
        low = rate == rate and rate < sv.goal
        return [unit(row.branch), Cell(number(row.items), align="right"),
                Cell(percent(rate), BAD if low else NORMAL, bar=rate if rate == rate else 0,
                     bar_tone=BAD if low else NORMAL),
                Cell(number(row.dissatisfied_items), BAD if row.dissatisfied_items else NORMAL, align="right")]

    rows, marked = _branch_rows(frame, cells, labels.GROUP)
    return Table([_h("branch"), label("items"), label("satisfaction_rate"), label("dissatisfied_items")], rows, marked,
                 note=f"目标满意率 ≥ {sv.goal:.0%}（计为满意的回答：{'、'.join(sv.satisfied_answers)}）。")


def _overdue_counts(open_complaints: pd.DataFrame) -> pd.DataFrame:
    overdue = open_complaints[open_complaints["overdue"]]
    return overdue.groupby("branch").size()


def complaints_table(data: PeriodData) -> Table:
    sv = data.service
    overdue = _overdue_counts(sv.open_complaints)
    def cells(row) -> list:
        late = int(overdue.sum()) if row.branch == labels.GROUP else int(overdue.get(row.branch, 0))
        return [unit(row.branch), Cell(number(row.received), align="right"),
                Cell(percent(row.response_rate), align="right"),
                Cell(percent(row.feedback_rate), align="right"),
                Cell(number(late), BAD if late else NORMAL, align="right")]

    rows, marked = _branch_rows(sv.complaints, cells, labels.GROUP)
    return Table([_h("branch"), _h("received"), label("response_rate"), label("feedback_rate"), _h("overdue")],
                 rows, marked, note=f"超时未结：截至 {sv.as_of:%Y-%m-%d} 超过 24 小时未响应或处理完成后超过 48 小时未反馈的投诉。")


def overdue_list(data: PeriodData, branch: str | None = None) -> Table | None:
    c = data.service.open_complaints
    c = c[c["overdue"]]
    if branch:
        c = c[c["branch"] == branch]
    if c.empty:
        return None
    shown = c.head(MAX_LISTED)
    rows = [[*([] if branch else [unit(r.branch)]), r.complaint_no, r.customer_name,
             Cell(r.complaint_state, BAD), Cell(hours_text(r.overdue_hours), BAD, align="right")]
            for r in shown.itertuples()]
    more = f"另有 {len(c) - len(shown)} 件，见附件。" if len(c) > len(shown) else ""
    return Table([*([] if branch else [_h("branch")]), label("complaint_no"), label("customer_name"),
                  label("complaint_state"), label("overdue_for")], rows, note=more)


def duties_table(data: PeriodData, branch: str | None = None) -> Table | Paragraph:
    frame = data.service.duty_shares
    if branch:
        frame = frame[frame["branch"] == branch]
    if not int(frame["duties"].sum()):
        return Paragraph("本期没有需要履行的战略客户维护职责。", MUTED)
    rows, marked = _branch_rows(frame, lambda row: [
        unit(row.branch), Cell(number(row.duties), align="right"), Cell(number(row.met_duties), align="right"),
        Cell(number(row.due_duties), align="right"),
        Cell(number(row.overdue_duties), BAD if row.overdue_duties else NORMAL, align="right"),
        Cell(percent(row.met_share), bar=row.met_share if row.met_share == row.met_share else 0)], labels.GROUP)
    return Table([_h("branch"), label("duties"), label("met_duties"), label("due_duties"), label("overdue_duties"),
                  label("met_share")],
                 rows, marked, note="职责：公司主要领导、联点领导每年拜访次数与营销专员每月联系（集团《战略客户管理办法》）。")


def assessment_table(results: pd.DataFrame, highlight: str | None = None) -> Table:
    ordered = results.sort_values(["total", "branch"], ascending=[False, True], kind="stable").reset_index(drop=True)
    ordered["rank"] = ordered["total"].rank(method="min", ascending=False).astype(int)
    rows, marked = _branch_rows(ordered, lambda row: [
        Cell(str(row.rank), STRONG, align="center"), unit(row.branch),
        Cell(number(row.total, 1), bar=max(0.0, row.total) / 100),
        Cell(row.result, _RESULT_TONES.get(row.result, NORMAL), align="center")], highlight)
    return Table([_h("rank"), _h("branch"), _h("total"), _h("result")], rows, marked)


def status_table(status: pd.DataFrame, highlight: str | None = None) -> Table:
    rows, marked = _branch_rows(status, lambda row: [
        unit(row.branch), Cell(row.state, _STATE_TONES.get(row.state, NORMAL)),
        "" if pd.isna(row.received_at) else f"{row.received_at:%m-%d %H:%M}",
        row.note if isinstance(row.note, str) else ""], highlight)
    return Table([_h("branch"), label("state"), label("received_at"), label("note")], rows, marked)


# -- the leadership brief (also the department's, and 简报.html) -----------------------------------

def _assessment_results(fig: Figures) -> list[tuple[str, pd.DataFrame, bool]]:
    """(half, results, official) of the half years in the period."""
    a = fig.data.assessment
    if a is None or a.empty:
        return []
    return [(half, part, bool(part["official"].iloc[0])) for half, part in a.groupby("half", sort=True)]


def leadership_brief(fig: Figures, attachments: list[str], sender: str) -> Document:
    data, period = fig.data, fig.period
    doc = Document(f"{period.title}客户工作简报", f"{fig.as_of_text} · 集团公司市场营销部 · {fig.on:%Y-%m-%d}")
    points = [(_grade_line(data), NORMAL)]
    if len(data.ranking):
        first = data.ranking.iloc[0]
        points.append((f"等级排名第一：{first['branch']}（得分 {number(first['score'])}）。", NORMAL))
    sat = data.service.satisfaction
    group = sat[sat["branch"] == labels.GROUP].iloc[0]
    if group["items"]:
        below = group["satisfaction_rate"] < data.service.goal
        points.append((f"全集团满意率 {percent(group['satisfaction_rate'])}（目标 {data.service.goal:.0%}"
                       f"{'，未达标' if below else '，已达标'}），不满意项 {int(group['dissatisfied_items'])} 项。",
                       BAD if below else GOOD))
    overdue = data.service.open_complaints
    overdue = overdue[overdue["overdue"]]
    if len(overdue):
        by_state = "、".join(f"{s} {int((overdue['complaint_state'] == s).sum())}" for s in COMPLAINT_STATES
                             if (overdue["complaint_state"] == s).any())
        points.append((f"超时未结投诉 {len(overdue)} 件（{by_state}），涉及 {overdue['branch'].nunique()} 个单位。", BAD))
    else:
        points.append(("没有超时未结的投诉。", GOOD))
    duty = data.service.duty_shares
    duty = duty[duty["branch"] == labels.GROUP].iloc[0]
    if duty["duties"]:
        points.append((f"战略客户维护职责完成 {int(duty['met_duties'])}/{int(duty['duties'])} 项"
                       f"（{percent(duty['met_share'])}），逾期 {int(duty['overdue_duties'])} 项。",
                       BAD if duty["overdue_duties"] else NORMAL))
    for half, results, official in _assessment_results(fig):
        counts = "、".join(f"{r} {int((results['result'] == r).sum())}" for r in ASSESSMENT_RESULTS)
        poor = "、".join(results.loc[results["result"] == POOR_RESULT, "branch"])
        state = "" if official else "（建议结果，尚待确定）"
        points.append((f"{Period.parse(half).title}{labels.SHEETS['branch_assessment']}{state}：{counts}" + (f"；评为差：{poor}" if poor else "")
                       + "。", BAD if poor else NORMAL))
    if fig.monthly is not None:
        status = fig.monthly.status
        counts = "、".join(f"{s} {int((status['state'] == s).sum())}" for s in
                          (ON_TIME, NO_CHANGE, LATE, RETURNED, MISSING, NOT_DUE) if (status["state"] == s).any())
        files = "、".join(f"{state} {n}" for state, n in fig.monthly.file_counts.items())
        points.insert(0, (f"{period.title}报送：{counts}" + (f"；收到文件 {files}" if files else "") + "。",
                          BAD if status["state"].isin([MISSING, RETURNED]).any() else NORMAL))
    doc.add("要点", Bullets(points))
    if fig.monthly is not None:
        doc.add(f"{period.title}{SHEETS['status']}", status_table(fig.monthly.status))
    doc.add(SHEETS["ranking"], ranking_table(data))
    doc.add("满意度", satisfaction_table(data))
    doc.add(SHEETS["complaints"], complaints_table(data), overdue_list(data))
    doc.add("战略客户维护职责", duties_table(data))
    for half, results, official in _assessment_results(fig):
        note = "正式结果（已通报）。" if official else "以下为按考核办法计算的建议结果，市场营销部确定后另行通报。"
        doc.add(f"{Period.parse(half).title}{SHEETS['branch_assessment']}", Paragraph(note, MUTED),
                assessment_table(results))
    doc.footer = _footer(attachments, sender)
    return doc


# -- a branch's own edition --------------------------------------------------------------------------

def _own_line(data: PeriodData, branch: str) -> tuple[str, str]:
    r = data.ranking[data.ranking["branch"] == branch]
    if r.empty:
        return f"贵单位在档案中没有{data.period.title}末的客户。", WARN
    row = r.iloc[0]
    change = row["rank_change"]
    move = "" if change != change else (f"，较{data.previous.title}上升 {int(change)} 名" if change > 0 else
                                       (f"，较{data.previous.title}下降 {int(-change)} 名" if change < 0 else "，名次不变"))
    counts = "、".join(f"{g} 类 {int(row[g])}" for g in GRADES)
    return (f"贵单位客户 {int(row['total'])} 家（{counts}），得分 {number(row['score'])}，"
            f"在 {len(data.ranking)} 个单位中排名第 {int(row['rank'])}{move}。", STRONG)


def _standing_block(standing: Standing | None, withheld: str | None) -> Paragraph | None:
    """Why the branch cannot query the archive, when it cannot; ``withheld``: what this mail leaves out for it."""
    if standing is None or standing.allowed:
        return None
    text = f"贵单位目前不能查询客户档案（{standing.reason()}）。"
    owing = "、".join(standing.owing)
    until = f"{standing.suspended_until:%Y-%m-%d}" if standing.suspended_until else None
    if owing and until:  # both must be over
        text += f"须提交 {owing}，并且暂停期（至 {until}）结束后，才能恢复。"
    elif owing:
        text += f"提交 {owing}后即恢复。"
    else:
        text += f"暂停期（至 {until}）结束后恢复。"
    if withheld:
        text += f"因此本邮件不附{withheld}，恢复后可向市场营销部申请补发。"
    return Paragraph(text, BAD)


def branch_report(fig: Figures, branch: str, attachments: list[str], standing: Standing | None,
                  sender: str) -> Document:
    data, period = fig.data, fig.period
    withheld = standing is not None and not standing.allowed
    doc = Document(f"{branch} · {period.title}客户分级报告", f"{fig.as_of_text} · 分子公司版 · {fig.on:%Y-%m-%d}")
    doc.add("本单位", _standing_block(standing, "本单位客户明细（分子公司版报表）" if withheld else None),
            Paragraph(*_own_line(data, branch)))
    doc.add("全集团等级排名", ranking_table(data, highlight=branch))
    doc.add("本单位满意度", satisfaction_table(data, branch))
    own = overdue_list(data, branch)
    doc.add("本单位超时未结投诉", own if own is not None else Paragraph("没有超时未结的投诉。", GOOD))
    doc.add("本单位战略客户维护职责", duties_table(data, branch))
    for half, results, official in _assessment_results(fig):
        if not official:
            continue
        mine = results[results["branch"] == branch]
        if len(mine):
            doc.add(f"{Period.parse(half).title}考核结果", Paragraph(f"贵单位考核结果：{mine.iloc[0]['result']}"
                                                               f"（总分 {number(mine.iloc[0]['total'], 1)}）。"))
    doc.footer = _footer(attachments, sender)
    return doc


def branch_monthly(fig: Figures, branch: str, standing: Standing | None, rejected: list[str], sender: str,
                   attachments: list[str] | None = None, withheld: bool = False) -> Document:
    """A branch's mail of the month; ``withheld``: next month's pre-filled workbook is written but not attached (the
    branch cannot query the archive)."""
    m, period = fig.monthly, fig.period
    doc = Document(f"{branch} · {period.title}客户信息报送情况", f"集团公司市场营销部 · {fig.on:%Y-%m-%d}")
    row = m.status[m.status["branch"] == branch].iloc[0]
    state = row["state"]
    lines = [(f"本月报送状态：{state}。", _STATE_TONES.get(state, NORMAL))]
    if isinstance(row["file_name"], str) and state != RETURNED:
        lines.append((f"采用的文件：{row['file_name']}（收件时间 {row['received_at']:%Y-%m-%d %H:%M}），"
                      f"已归档：{row['rows']}。", NORMAL))
    if isinstance(row.get("note"), str):
        lines.append((row["note"], WARN))
    if state == MISSING:
        lines.append((f"本月截止时间 {row['deadline']:%Y-%m-%d %H:%M} 已过，尚未收到贵单位本月的报送，请尽快报送。", BAD))
    if rejected:
        lines.append((f"本月有 {len(rejected)} 个文件被退回（{'、'.join(rejected)}），退回原因与标注好的工作簿另函发送。",
                      BAD))
    doc.add(SHEETS["status"], _standing_block(standing, "下月预填表" if withheld else None), Bullets(lines))
    c = m.complaints
    mine = c[(c["branch"] == branch) & c["overdue"]]
    if len(mine):
        doc.add("超时未结投诉", Table([label("complaint_no"), label("customer_name"), label("complaint_state"),
                                      label("overdue_for")],
                                     [[r.complaint_no, r.customer_name, Cell(r.complaint_state, BAD),
                                       Cell(hours_text(r.overdue_hours), BAD, align="right")]
                                      for r in mine.head(MAX_LISTED).itertuples()]))
    contacts = m.contacts
    mine = contacts[contacts["branch"] == branch] if len(contacts) else contacts
    if len(mine):
        shown = mine.head(MAX_LISTED)
        doc.add("需要联系的客户", Table(
            [label(k) for k in ("name", "reminder", "owner", "detail")],
            [[r.name, Cell(r.reminder, WARN), r.owner if isinstance(r.owner, str) else "", r.detail or ""]
             for r in shown.itertuples()],
            note=f"另有 {len(mine) - len(shown)} 项。" if len(mine) > len(shown) else ""))
    if attachments:
        doc.add("下月预填表", Paragraph(f"附件中的 {attachments[0]} 已填好贵单位的现有客户、未竣工项目和未结束的投诉："
                                      "下月直接在上面修改后报送；灰色的“档案编号”列请勿修改，新增的行该列留空。"))
    doc.footer = _footer(attachments or [], sender)
    return doc


# -- the assessment notice ------------------------------------------------------------------------------

def assessment_notice(fig: Figures, half: str, results: pd.DataFrame, branch: str | None,
                      attachments: list[str], sender: str) -> Document:
    title = f"{Period.parse(half).title}分子公司客户关系维护成效考核通报"
    doc = Document(title if branch is None else f"{branch} · {title}", f"集团公司市场营销部 · {fig.on:%Y-%m-%d}")
    if branch is not None:
        mine = results[results["branch"] == branch]
        if len(mine):
            r = mine.iloc[0]
            lines = [(f"贵单位考核结果：{r['result']}（总分 {number(r['total'], 1)}）。", _RESULT_TONES.get(r["result"], STRONG))]
            received = (fig.summaries or {}).get(branch)
            if isinstance(r.get("summary_due"), str) and received:
                lines.append((f"已于 {received:%Y-%m-%d} 收到贵单位的《{labels.DOCUMENT_KINDS['work_summary']}》。", GOOD))
            elif isinstance(r.get("summary_due"), str):
                lines.append((f"请于 {r['summary_due']} 前向市场营销部提交《{labels.DOCUMENT_KINDS['work_summary']}》"
                              f"（文件名如 {branch}_{half}_{labels.DOCUMENT_KINDS['work_summary']}.docx）。", WARN))
            if isinstance(r.get("suspended_from"), str):
                lines.append((f"按规定，自 {r['suspended_from']} 起至 {r['suspended_until']}（含）暂停贵单位查询客户档案的权限。",
                              BAD))
            doc.add("本单位", Bullets(lines))
    else:
        lines = []
        owing = results[results["summary_due"].map(lambda v: isinstance(v, str))]
        received = [b for b in owing["branch"] if b in (fig.summaries or {})]
        for due, part in owing[~owing["branch"].isin(received)].groupby("summary_due"):
            lines.append((f"{'、'.join(part['branch'])}须于 {due} 前提交《{labels.DOCUMENT_KINDS['work_summary']}》。", NORMAL))
        if received:
            lines.append((f"已收到《{labels.DOCUMENT_KINDS['work_summary']}》：{'、'.join(received)}。", GOOD))
        for r in results[results["suspended_from"].map(lambda v: isinstance(v, str))].itertuples():
            lines.append((f"{r.branch}考核为差，自 {r.suspended_from} 起至 {r.suspended_until}（含）暂停查询客户档案。", BAD))
        if lines:
            doc.add("考核后果", Bullets(lines))
    doc.add("考核结果", assessment_table(results, highlight=branch))
    doc.footer = _footer(attachments, sender)
    return doc


# -- feedback on a rejected file ----------------------------------------------------------------------

def feedback_notice(sub: dict, replaced_by: str | None, deadline: dt.datetime, on: dt.date, attachments: list[str],
                    sender: str, month: str | None = None) -> Document:
    """The mail that returns a file; ``month``: the month it is fed back in (a file that showed none is named after
    it in the example of a file name)."""
    errors = [f for f in sub["findings"] if f.get("severity") == "error"]
    doc = Document(f"{sub['branch']} · 报送文件被退回：{sub['file_name']}",
                   f"{pd.Timestamp(sub['received_at']):%Y-%m-%d %H:%M} 收到 · 集团公司市场营销部")
    steps = [("打开附件中的校验结果工作簿：首页“校验结果”逐条列出问题，点击单元格位置可跳到标红的单元格。", NORMAL),
             ("在贵单位的原表上逐一改正（不要在校验结果工作簿上改），保存后重新发送。", NORMAL),
             (f"文件名请保持“单位_月份_客户信息统计表”的格式，如 {sub['branch']}_{sub['period'] or month}_客户信息统计表.xlsx。",
              NORMAL)]
    if deadline.date() >= on:
        steps.append((f"本月截止时间 {deadline:%Y-%m-%d %H:%M}，请在此之前重报。", WARN))
    elif not replaced_by:
        steps.append((f"本月截止时间 {deadline:%Y-%m-%d %H:%M} 已过，请尽快改正重报（将计为逾期报送）。", BAD))
    lines = [(f"该文件有 {len(errors)} 处错误，未能归档。", BAD)]
    if not sub["period"]:
        lines.append((f"从文件中看不出是哪个月的报送，因此也未计入任何月份；请在模板封面填写“{COVER.column('period').header}”。",
                      NORMAL))
    if replaced_by:
        lines.append((f"贵单位本月已有通过的报送（{replaced_by}），档案按那份文件记录；如本文件是补充内容，请改正后重报。",
                      NORMAL))
    doc.add("结论", Bullets(lines))
    shown = errors[:MAX_LISTED * 2]
    doc.add("问题清单", Table([label("sheet"), label("cell"), label("message")],
                            [[Cell(f.get("sheet") or WHOLE_FILE, nowrap=True),
                              Cell((f.get("cell") or "").split("!")[-1], BAD, nowrap=True), f["message"]]
                             for f in shown],
                            note=f"另有 {len(errors) - len(shown)} 处，见附件。" if len(errors) > len(shown) else ""))
    doc.add("如何处理", Bullets(steps))
    doc.footer = _footer(attachments, sender)
    return doc

