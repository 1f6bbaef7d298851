"""The half-yearly assessment of every branch's customer-relationship work (seed 001 三(二)Ⅱ4).

Five indicators, each with its raw figures and a score from 0 to 100, weighted
into a total (every weight and rule in crm.toml [assessment]; the formulas are
in its comments and the workbook's 说明 sheet):
1. 信息上报与档案整理: months on time / late / missing / no change; rejected
   files and error cells per submitted row; customers held against a standard.
2. 投诉: shares answered and fed back in time, the customers' satisfaction with
   the handling, complaints still overdue at the half's end.
3. 满意度: the number of 不满意 items (the rate beside it, for context).
4. 客户分析报告: whether it arrived by its due date, and its quality (scored by
   the department in the workbook).
5. 信息真实性: conflicts raised by the branch's submissions, corrections sent
   after the deadline, and a deduction the department makes after spot checks.
A branch that submitted nothing in the half is 差 whatever its score.
"""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from schemas import labels
from schemas.labels import (DOC_LATE, DOC_MISSING, DOC_ON_TIME, EXCELLENT, LATE, MISSING, NO_CHANGE, ON_TIME,
                            POOR_RESULT, QUALIFIED, RETURNED, SAME_CODE_OTHER_NAME, SAME_NAME_OTHER_CODE,
                            SIMILAR_NAME)

from ..archive.store import Archive
from ..archive.tracking import deadline, submission_status
from ..config import Config
from ..periods import Period, month_end
from . import service

INDICATORS = ("reporting", "complaints", "satisfaction", "analysis_report", "authenticity")
EDITABLE = ("report_quality", "spot_check_deduction", "result", "remark")


def report_due(half: str, config: Config) -> dt.datetime:
    """The end of the day the half's customer analysis report is due (1 June, 31 December by default)."""
    period = Period.parse_half(half)
    month_day = config.get("assessment", f"report_due_h{period.number}")
    return dt.datetime.fromisoformat(f"{period.year}-{month_day}T23:59:59")


def _months(subs: pd.DataFrame, config: Config, months: list[str]) -> pd.DataFrame:
    """Per branch: how many months of the half were on time, late, missing, returned or no change."""
    states = pd.concat([submission_status(subs, config, m)[["branch", "state"]] for m in months])
    counts = states.groupby(["branch", "state"]).size().unstack(fill_value=0)
    keys = {ON_TIME: "months_on_time", LATE: "months_late", MISSING: "months_missing",
            RETURNED: "months_returned", NO_CHANGE: "months_no_change"}
    return counts.reindex(columns=list(keys), fill_value=0).rename(columns=keys)


def _late_corrections(subs: pd.DataFrame, config: Config, months: list[str]) -> pd.Series:
    """Accepted files that replaced an earlier one of the same month and arrived after the deadline."""
    out: dict[str, int] = {}
    live = subs[subs["status"].isin(["accepted", "superseded"]) & subs["period"].isin(months)]
    for (branch, month), part in live.groupby(["branch", "period"]):
        later = part.sort_values("received_at").iloc[1:]
        out[branch] = out.get(branch, 0) + int((later["received_at"] > pd.Timestamp(deadline(month, config))).sum())
    return pd.Series(out, dtype="int64")


def assessment_figures(archive: Archive, config: Config, half: str) -> pd.DataFrame:
    """The raw figures of every roster branch for the half year (no scores yet)."""
    period = Period.parse_half(half)
    months = period.months
    branches = config.branches
    subs = archive.submissions(findings=False)
    mine = subs[subs["period"].isin(months) & (subs["status"] != "withdrawn")]  # (a withdrawn file never counts)
    # the same bytes sent twice (…统计表.xlsx and …统计表 (1).xlsx) and returned twice are one file returned
    mine = mine.drop_duplicates(["branch", "period", "sha256"])
    out = pd.DataFrame(index=pd.Index(branches, name="branch"))
    out = out.join(_months(subs, config, months)).fillna(0).astype(int)
    rows = mine.assign(rows=[sum((c or {}).values()) for c in mine["counts"]]).groupby("branch").agg(
        rows_submitted=("rows", "sum"), error_cells=("errors", "sum"),
        files_rejected=("status", lambda s: int((s == "rejected").sum())),
        files_accepted=("status", lambda s: int(s.isin(["accepted", "superseded"]).sum())))
    out = out.join(rows).fillna(0)
    out["errors_per_row"] = out["error_cells"] / out["rows_submitted"].where(out["rows_submitted"] > 0)
    snap = archive.snapshot(period.end)
    held = snap["customer_branches"].groupby("branch")["customer_id"].nunique()
    out["customers_held"] = _by_branch(out, held, 0)
    standards = config.optional("assessment", "customer_standards") or {}
    out["customer_standard"] = [standards.get(b, config.get("assessment", "customer_standard")) for b in branches]
    complaints = service.complaint_stats(snap, config, period.start, period.end, branches).set_index("branch")
    for key in ("received", "response_rate", "feedback_rate", "handling_satisfaction"):
        out[key] = complaints[key].reindex(branches).values
    open_ = service.open_complaints(snap, config, month_end(period.end))
    out["overdue_open"] = _by_branch(out, open_[open_["overdue"]].groupby("branch").size(), 0)
    satisfaction = service.satisfaction(snap, config, period.start, period.end, branches).set_index("branch")
    out["dissatisfied_items"] = satisfaction["dissatisfied_items"].reindex(branches).fillna(0).astype(int).values
    out["satisfaction_rate"] = satisfaction["satisfaction_rate"].reindex(branches).values
    due = report_due(half, config)
    docs = archive.documents(half)
    reports = docs[(docs["kind"] == "analysis_report") & (docs["status"] == "accepted")]
    first = reports.groupby("branch")["received_at"].min()
    out["report_received_at"] = pd.to_datetime(pd.Series([first.get(b) for b in out.index], index=out.index))
    out["report_status"] = [DOC_MISSING if pd.isna(t) else (DOC_ON_TIME if t <= pd.Timestamp(due) else DOC_LATE)
                            for t in out["report_received_at"]]
    conflicts = archive.conflicts_raised()
    conflicts = conflicts[conflicts["period"].isin(months)]
    counted = conflicts["kind"].isin([SAME_CODE_OTHER_NAME, SAME_NAME_OTHER_CODE]) | (
        (conflicts["kind"] == SIMILAR_NAME) & (conflicts["decision"] == labels.MERGE))
    out["conflicts"] = _by_branch(out, conflicts[counted].groupby("branch").size(), 0)
    out["late_corrections"] = _by_branch(out, _late_corrections(subs, config, months), 0)
    out["never_submitted"] = out["files_accepted"] == 0
    out["report_quality"] = 100.0
    out["spot_check_deduction"] = 0.0
    return out.reset_index()


def _by_branch(frame: pd.DataFrame, values: pd.Series, default: int) -> list[int]:
    """A per-branch count aligned with the frame's branches (missing branches get ``default``)."""
    return [int(values.get(branch, default)) for branch in frame.index]


def score(figures: pd.DataFrame, config: Config, months: int = 6) -> pd.DataFrame:
    """Indicator scores, total and proposed result from the figures (and the department's inputs)."""
    a = config.section("assessment")
    f = figures.copy()
    timeliness = (f["months_on_time"] + f["months_no_change"] + a["late_month_credit"] * f["months_late"]) / months
    quality = (1 - f["errors_per_row"].fillna(0) / a["errors_per_row_zero"]).clip(lower=0)
    scale = (f["customers_held"] / f["customer_standard"]).clip(upper=1)
    f["score_reporting"] = 100 * (a["reporting_timeliness"] * timeliness + a["reporting_quality"] * quality
                                  + a["reporting_scale"] * scale)
    rates = [f[k].fillna(1.0) for k in ("response_rate", "feedback_rate", "handling_satisfaction")]
    f["score_complaints"] = (100 * (a["complaint_response"] * rates[0] + a["complaint_feedback"] * rates[1]
                                    + a["complaint_satisfaction"] * rates[2])
                             - a["overdue_complaint_points"] * f["overdue_open"]).clip(lower=0)
    f["score_satisfaction"] = (100 - a["dissatisfied_item_points"] * f["dissatisfied_items"]).clip(lower=0)
    arrival = f["report_status"].map({DOC_ON_TIME: 1.0, DOC_LATE: a["late_report_credit"], DOC_MISSING: 0.0})
    f["score_analysis_report"] = 100 * arrival * f["report_quality"].clip(0, 100) / 100
    f["score_authenticity"] = (100 - a["conflict_points"] * f["conflicts"]
                               - a["late_correction_points"] * f["late_corrections"]
                               - f["spot_check_deduction"]).clip(lower=0)
    for key in INDICATORS:
        f[f"score_{key}"] = f[f"score_{key}"].round(1)
    f["total"] = sum(a[f"weight_{k}"] * f[f"score_{k}"] for k in INDICATORS) / 100
    f["total"] = f["total"].round(1)
    f["proposed"] = np.select([f["never_submitted"], f["total"] >= a["excellent_score"],
                               f["total"] >= a["qualified_score"]], [POOR_RESULT, EXCELLENT, QUALIFIED], POOR_RESULT)
    f["rank"] = f["total"].rank(method="min", ascending=False).astype(int)
    return f


def assess(archive: Archive, config: Config, half: str) -> pd.DataFrame:
    """Figures, scores, total and proposed result of every roster branch; the result defaults to the proposal."""
    out = score(assessment_figures(archive, config, half), config, len(Period.parse_half(half).months))
    out["result"] = out["proposed"]
    out["remark"] = [labels.NEVER_SUBMITTED if never else None for never in out["never_submitted"]]
    return out


def decided(archive: Archive, config: Config, half: str) -> pd.DataFrame:
    """The half's assessment as every output shows it (``official`` says which): once ``crm assess apply`` has
    recorded it, the recorded figures, total, rank, result and dates, as the department decided them (its report
    quality and deductions count, and later submissions do not change an assessment already notified); before
    that, the proposal (``assess``)."""
    recorded = archive.assessments(half)
    if not len(recorded):
        return assess(archive, config, half).assign(official=False)
    dates = ("notified_on", "summary_due", "suspended_from", "suspended_until")
    rows = [{**r["figures"], "branch": r["branch"], "total": r["total"], "proposed": r["proposed"],
             "result": r["result"], "remark": r["remark"], **{key: r[key] for key in dates}}
            for r in recorded.to_dict("records")]
    out = pd.DataFrame(rows)  # (the rank is among the recorded figures)
    out["report_received_at"] = pd.to_datetime(out["report_received_at"])  # (stored as ISO text)
    return out.assign(official=True)


def consequences(result: str, notified: dt.date, config: Config) -> dict:
    """What a result entails from the day the branch is notified: the work summary due, the suspension."""
    out = {"notified_on": notified.isoformat(), "summary_due": None, "suspended_from": None, "suspended_until": None}
    if result in (QUALIFIED, POOR_RESULT):
        out["summary_due"] = (notified + dt.timedelta(days=config.get("assessment", "summary_days"))).isoformat()
    if result == POOR_RESULT and config.get("assessment", "suspension_months"):
        months = config.get("assessment", "suspension_months")
        year, month = divmod(notified.month - 1 + months, 12)
        end = _same_day(notified.year + year, month + 1, notified.day) - dt.timedelta(days=1)
        out["suspended_from"], out["suspended_until"] = notified.isoformat(), end.isoformat()
    return out


def _same_day(year: int, month: int, day: int) -> dt.date:
    """The same day of another month, or that month's last day when it is shorter."""
    import calendar
    return dt.date(year, month, min(day, calendar.monthrange(year, month)[1]))


def apply_decisions(archive: Archive, config: Config, half: str, decisions: dict[str, dict],
                    notified: dt.date) -> pd.DataFrame:
    """The official results: figures recomputed with the department's inputs, and each result's consequences.

    Returns one row per roster branch (what `Archive.record_assessment` stores). A branch missing from
    ``decisions`` keeps the defaults and the proposed result.
    """
    figures = assessment_figures(archive, config, half)
    for key in ("report_quality", "spot_check_deduction"):
        figures[key] = [decisions.get(b, {}).get(key, default) for b, default in zip(figures["branch"], figures[key])]
    out = score(figures, config, len(Period.parse_half(half).months))
    out["result"] = [decisions.get(b, {}).get("result") or proposed for b, proposed in zip(out["branch"], out["proposed"])]
    out["remark"] = [decisions.get(b, {}).get("remark") or (labels.NEVER_SUBMITTED if never else None)
                     for b, never in zip(out["branch"], out["never_submitted"])]
    dates = [consequences(result, notified, config) for result in out["result"]]
    for key in ("notified_on", "summary_due", "suspended_from", "suspended_until"):
        out[key] = [d[key] for d in dates]
    return out


def records(results: pd.DataFrame, half: str) -> list[dict]:
    """Rows for the archive: the figures as a dict, the total and the decided result with its dates."""
    keep = [c for c in results.columns if c not in ("branch", "total", "proposed", "result", "remark", "notified_on",
                                                     "summary_due", "suspended_from", "suspended_until")]
    rows = []
    for r in results.to_dict("records"):
        figures = {k: _plain(r[k]) for k in keep}
        rows.append({"period": half, "branch": r["branch"], "figures": figures, "total": float(r["total"]),
                     "proposed": r["proposed"], "result": r["result"], "remark": r["remark"],
                     "notified_on": r["notified_on"], "summary_due": r["summary_due"],
                     "suspended_from": r["suspended_from"], "suspended_until": r["suspended_until"]})
    return rows


def _plain(value):
    """A value JSON can hold: blanks as None, times as ISO text, numpy numbers as Python's."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value.item() if hasattr(value, "item") else value
