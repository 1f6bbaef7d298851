"""Service quality: satisfaction (seed 001 三(二)Ⅱ2, goal ≥ 90 % from 003) and complaints (002 5.3).

Satisfaction rate = satisfied answers ÷ answered items, over the four survey
dimensions (客户服务, 工程质量, 服务质量, 竣工后服务; a blank item is not an
answer). Which answers count as satisfied is [satisfaction] satisfied_answers
(default 满意 and 基本满意). The number of 不满意 items is the branch
assessment's indicator.

Complaints: first response within [complaints] response_hours (24) of the
complaint; the result fed back within feedback_hours (48) of the end of
handling. “Within” includes the limit itself: exactly 24 h is on time. An
open complaint is aged at a reference time (the report's date): not yet
answered (overdue once the response limit has passed), handled but not fed
back (overdue once the feedback limit has passed), or still being handled.
Every function reads an archive snapshot and returns a DataFrame.
"""
from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd

from schemas import labels
from schemas.columns import COMPLAINTS, COMPLETED, DISSATISFIED, SURVEYS, YES

from ..config import Config
from ..periods import month_end, month_start

DIMENSIONS = ("customer_service", "engineering_quality", "service_quality", "after_service")
ANSWERS = SURVEYS.column("customer_service").allowed     # 满意, 基本满意, 不满意
DONE_STATUSES = (COMPLETED, "结算完成")
UNANSWERED, NOT_FED_BACK, IN_HANDLING = labels.COMPLAINT_STATES


def _between(series: pd.Series, start: str, end: str) -> pd.Series:
    return series.between(month_start(start), month_end(end))


def _with_group(frame: pd.DataFrame, total: dict) -> pd.DataFrame:
    """The per-branch table with the group row (labels.GROUP) last."""
    return pd.concat([frame, pd.DataFrame([total])], ignore_index=True)


# -- satisfaction ----------------------------------------------------------------------------------

def answers(snapshot: dict[str, pd.DataFrame], start: str, end: str) -> pd.DataFrame:
    """One row per answered survey item in [start, end]: branch, customer, dimension, answer, note."""
    surveys = snapshot["surveys"]
    surveys = surveys[_between(surveys["surveyed_on"], start, end)]
    long = surveys.melt(id_vars=["survey_id", "customer_id", "branch", "customer_name", "project_name",
                                 "surveyed_on", "dissatisfaction_note"], value_vars=list(DIMENSIONS),
                        var_name="dimension", value_name="answer")
    return long[long["answer"].isin(ANSWERS)].reset_index(drop=True)


def _satisfaction_row(part: pd.DataFrame, satisfied: list[str], goal: float) -> dict:
    items = len(part)
    row = {"surveys": part["survey_id"].nunique(), "items": items}
    counts = part.groupby(["dimension", "answer"]).size().to_dict() if items else {}
    for dim in DIMENSIONS:
        for answer in ANSWERS:
            row[f"{dim}|{answer}"] = int(counts.get((dim, answer), 0))
    row["satisfied_items"] = int(part["answer"].isin(satisfied).sum())
    row["dissatisfied_items"] = int((part["answer"] == DISSATISFIED).sum())
    row["satisfaction_rate"] = row["satisfied_items"] / items if items else np.nan
    row["gap_to_goal"] = row["satisfaction_rate"] - goal if items else np.nan
    return row


def satisfaction(snapshot: dict[str, pd.DataFrame], config: Config, start: str, end: str,
                 branches: list[str] | None = None) -> pd.DataFrame:
    """Per branch (every roster branch) and for the group: surveys, items, answers per dimension,
    satisfaction rate, its gap to the goal, and the number of 不满意 items."""
    satisfied = config.get("satisfaction", "satisfied_answers")
    goal = config.get("satisfaction", "goal_percent") / 100
    data = answers(snapshot, start, end)
    parts = dict(tuple(data.groupby("branch")))
    rows = [{"branch": b, **_satisfaction_row(parts.get(b, data.iloc[:0]), satisfied, goal)}
            for b in (branches or config.branches)]
    return _with_group(pd.DataFrame(rows), {"branch": labels.GROUP,
                                            **_satisfaction_row(data, satisfied, goal)})


def satisfaction_by_dimension(snapshot: dict[str, pd.DataFrame], config: Config, start: str, end: str,
                              branches: list[str] | None = None) -> pd.DataFrame:
    """Per branch and dimension (and the group): 满意 / 基本满意 / 不满意 counts and the rate."""
    satisfied = config.get("satisfaction", "satisfied_answers")
    data = answers(snapshot, start, end)
    rows = []
    for branch in [*(branches or config.branches), labels.GROUP]:
        part = data if branch == labels.GROUP else data[data["branch"] == branch]
        for dim in DIMENSIONS:
            items = part[part["dimension"] == dim]
            if items.empty:
                continue
            row = {"branch": branch, "dimension": SURVEYS.column(dim).header}
            row.update({f"answer|{answer}": int((items["answer"] == answer).sum()) for answer in ANSWERS})
            row["satisfaction_rate"] = items["answer"].isin(satisfied).mean()
            rows.append(row)
    return pd.DataFrame(rows, columns=["branch", "dimension", *(f"answer|{a}" for a in ANSWERS), "satisfaction_rate"])


def dissatisfied_items(snapshot: dict[str, pd.DataFrame], start: str, end: str) -> pd.DataFrame:
    """Every 不满意 answer of the period, with its customer, project, dimension and note."""
    data = answers(snapshot, start, end)
    data = data[data["answer"] == DISSATISFIED].copy()
    data["dimension"] = data["dimension"].map(lambda d: SURVEYS.column(d).header)
    out = data[["branch", "customer_name", "project_name", "surveyed_on", "dimension", "dissatisfaction_note"]]
    return out.sort_values(["branch", "surveyed_on", "customer_name"], kind="stable").reset_index(drop=True)


def completed_not_surveyed(snapshot: dict[str, pd.DataFrame], start: str, end: str) -> pd.DataFrame:
    """Projects completed in the period whose customer has had no survey (by that branch) since (002 4.3)."""
    projects = snapshot["projects"]
    done = projects[projects["status"].isin(DONE_STATUSES) & _between(projects["completed_on"], start, end)]
    surveys = snapshot["surveys"]
    rows = []
    for p in done.itertuples():
        later = surveys[(surveys["customer_id"] == p.customer_id) & (surveys["branch"] == p.branch)
                        & (surveys["surveyed_on"] >= p.completed_on)]
        if later.empty:
            rows.append({"branch": p.branch, "customer_name": p.customer_name, "project_name": p.project_name,
                         "completed_on": p.completed_on})
    return pd.DataFrame(rows, columns=["branch", "customer_name", "project_name", "completed_on"])


def satisfaction_trend(snapshot: dict[str, pd.DataFrame], config: Config, months: list[str]) -> pd.DataFrame:
    """The group's satisfaction rate month by month, beside the goal."""
    satisfied = config.get("satisfaction", "satisfied_answers")
    goal = config.get("satisfaction", "goal_percent") / 100
    rows = []
    for month in months:
        data = answers(snapshot, month, month)
        rows.append({"month": month, "items": len(data),
                     "satisfaction_rate": data["answer"].isin(satisfied).mean() if len(data) else np.nan,
                     "goal": goal})
    return pd.DataFrame(rows, columns=["month", "items", "satisfaction_rate", "goal"])


# -- complaints -----------------------------------------------------------------------------------

def _hours(later: pd.Series, earlier: pd.Series) -> pd.Series:
    return (later - earlier).dt.total_seconds() / 3600


def _complaint_row(part: pd.DataFrame, response: float, feedback: float) -> dict:
    response_hours = _hours(part["first_response_at"], part["complained_at"])
    feedback_hours = _hours(part["feedback_at"], part["resolved_at"])
    resolved = part["resolved_at"].notna()
    judged = part["customer_satisfied"].notna()
    return {
        "received": len(part),
        "responded_in_time": int((response_hours <= response).sum()),
        "response_rate": (response_hours <= response).sum() / len(part) if len(part) else np.nan,
        "fed_back_in_time": int((feedback_hours <= feedback).sum()),
        "feedback_rate": (feedback_hours <= feedback).sum() / resolved.sum() if resolved.sum() else np.nan,
        "unreasonable_count": int((part["unreasonable"] == YES).sum()),
        "handling_satisfaction": ((part["customer_satisfied"] == YES) & judged).sum() / judged.sum()
        if judged.sum() else np.nan,
        "median_response_hours": float(response_hours.median()) if response_hours.notna().any() else np.nan,
        "median_feedback_hours": float(feedback_hours.median()) if feedback_hours.notna().any() else np.nan,
    }


def complaints_in(snapshot: dict[str, pd.DataFrame], start: str, end: str) -> pd.DataFrame:
    complaints = snapshot["complaints"]
    return complaints[_between(complaints["complained_at"], start, end)]


def complaint_stats(snapshot: dict[str, pd.DataFrame], config: Config, start: str, end: str,
                    branches: list[str] | None = None) -> pd.DataFrame:
    """Per branch and group: received, by type, shares answered ≤ 24 h and fed back ≤ 48 h,
    unreasonable complaints, the customer's satisfaction with the handling, median hours.

    The feedback share is over complaints whose handling has ended (there is nothing to feed
    back before); the satisfaction share over complaints where the customer said 是 or 否.
    """
    response = config.get("complaints", "response_hours")
    feedback = config.get("complaints", "feedback_hours")
    data = complaints_in(snapshot, start, end)
    types = list(COMPLAINTS.column("complaint_type").allowed)
    rows = []
    for branch in (branches or config.branches):
        part = data[data["branch"] == branch]
        row = {"branch": branch, **_complaint_row(part, response, feedback)}
        row.update({f"complaint_type|{t}": int((part["complaint_type"] == t).sum()) for t in types})
        rows.append(row)
    total = {"branch": labels.GROUP, **_complaint_row(data, response, feedback)}
    total.update({f"complaint_type|{t}": int((data["complaint_type"] == t).sum()) for t in types})
    return _with_group(pd.DataFrame(rows), total)


def open_complaints(snapshot: dict[str, pd.DataFrame], config: Config, as_of: dt.datetime) -> pd.DataFrame:
    """Complaints not closed at ``as_of``, aged: overdue ones first, then by age.

    state: 未响应 (no first response), 未反馈 (handled, result not fed back), 处理中 (answered,
    handling not finished). A complaint is overdue when its response or feedback limit has passed.
    """
    response = config.get("complaints", "response_hours")
    feedback = config.get("complaints", "feedback_hours")
    c = snapshot["complaints"]
    c = c[c["complained_at"] <= as_of]
    stamp = pd.Timestamp(as_of)
    unanswered = c["first_response_at"].isna() | (c["first_response_at"] > stamp)
    not_fed = ~unanswered & c["resolved_at"].notna() & (c["resolved_at"] <= stamp) & (
        c["feedback_at"].isna() | (c["feedback_at"] > stamp))
    handling = ~unanswered & (c["resolved_at"].isna() | (c["resolved_at"] > stamp))
    rows = []
    for mask, state, since, limit in ((unanswered, UNANSWERED, "complained_at", response),
                                      (not_fed, NOT_FED_BACK, "resolved_at", feedback),
                                      (handling, IN_HANDLING, "complained_at", None)):
        part = c[mask]
        for r in part.itertuples():
            waited = (stamp - getattr(r, since)).total_seconds() / 3600
            rows.append({"branch": r.branch, "complaint_no": r.complaint_no, "customer_name": r.customer_name,
                         "complaint_type": r.complaint_type, "content": r.content,
                         "complained_at": r.complained_at, "complaint_state": state,
                         "age_days": round((stamp - r.complained_at).total_seconds() / 86400, 1),
                         "waited_hours": math.floor(waited),  # whole hours; an hour begun past the limit counts
                         "overdue": bool(limit is not None and waited > limit),
                         "overdue_hours": (math.ceil(waited - limit) if waited > limit else 0) if limit is not None
                         else np.nan})
    out = pd.DataFrame(rows, columns=["branch", "complaint_no", "customer_name", "complaint_type", "content",
                                      "complained_at", "complaint_state", "age_days", "waited_hours", "overdue",
                                      "overdue_hours"])
    out["overdue"] = out["overdue"].astype(bool)
    return most_urgent_first(out)


def most_urgent_first(complaints: pd.DataFrame) -> pd.DataFrame:
    """Open complaints (``open_complaints``), overdue first, then the oldest first."""
    return complaints.sort_values(["overdue", "age_days"], ascending=[False, False], kind="stable").reset_index(drop=True)


def complaint_causes(snapshot: dict[str, pd.DataFrame], start: str, end: str) -> dict[str, pd.DataFrame]:
    """Root causes: by type, by project department, the customers complained about most, and
    repeated complaints (same customer, same type, more than once in the period)."""
    data = complaints_in(snapshot, start, end)
    departments = snapshot["customer_branches"][["customer_id", "branch", "department"]]
    data = data.merge(departments, on=["customer_id", "branch"], how="left")
    by_type = data.groupby("complaint_type").size().rename("complaints").reset_index()
    by_department = (data.assign(department=data["department"].fillna(labels.EMPTY))
                     .groupby(["branch", "department"]).size().rename("complaints").reset_index())
    top = (data.groupby(["customer_name", "branch"]).size().rename("complaints").reset_index()
           .sort_values(["complaints", "customer_name"], ascending=[False, True], kind="stable").head(10))
    repeated = (data.groupby(["customer_name", "branch", "complaint_type"]).size().rename("complaints")
                .reset_index())
    repeated = repeated[repeated["complaints"] > 1]
    return {"by_type": by_type.sort_values("complaints", ascending=False, kind="stable"),
            "by_department": by_department.sort_values("complaints", ascending=False, kind="stable"),
            "top_customers": top, "repeated": repeated.reset_index(drop=True)}
