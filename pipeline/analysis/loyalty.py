"""Loyalty (seed 001 三(三)1) and churn: how long, how steadily and how faithfully customers stay.

Loyalty score (0–100), weights in crm.toml [loyalty]:
    score = w_tenure·min(合作年数 / tenure_cap_years, 1)
          + w_volume·min(项目数 / volume_cap, 1)
          + w_recency·max(0, 1 − 距最近签约月数 / 36)
          + w_continuity·(有项目的年份数 / 首次合作以来的年数)
          + w_trend·(近两年合同额上升 1 / 持平或无法判断 0.5 / 下降 0)
          + w_stability·(1 − 等级变动次数 / 观察期数)
Segments: 新客户 (first reported within new_months, no history), 流失风险 (last
contract more than churn_months ago, or none in a customer with history),
then 忠诚 / 稳定 / 波动 by score.
A customer is *active* in a period when it signed a contract, had a project
in 中标/在建, or was visited in it; churn = active before, not active now.
"""
from __future__ import annotations

import pandas as pd

from schemas.columns import PROJECTS
from schemas.labels import CHURN_RISK, LOYAL, NEW_CUSTOMER, STABLE, VOLATILE

from ..config import Config
from ..periods import month_end, month_index, month_start

RUNNING = PROJECTS.column("status").allowed[2:4]   # 中标, 在建


def loyalty(snapshot: dict[str, pd.DataFrame], config: Config, as_of: str,
            grade_history: pd.DataFrame | None = None) -> pd.DataFrame:
    """Loyalty components, score and segment per customer."""
    w = {k: config.get("loyalty", f"weight_{k}")
         for k in ("tenure", "volume", "recency", "continuity", "trend", "stability")}
    tenure_cap = config.get("loyalty", "tenure_cap_years")
    volume_cap = config.get("loyalty", "volume_cap")
    now_year = int(as_of[:4])
    now_month = month_index(as_of)
    customers = snapshot["customers"]
    projects = snapshot["projects"]
    signed = projects[projects["signed_on"].notna()].copy()
    signed["month"] = signed["signed_on"].dt.year * 12 + signed["signed_on"].dt.month - 1
    rows = []
    for c in customers.itertuples():
        mine = signed[signed["customer_id"] == c.customer_id]
        years = sorted(set(mine["signed_on"].dt.year))
        candidates = ([int(c.first_year)] if pd.notna(c.first_year) else []) + years[:1]
        first = min(candidates) if candidates else None
        tenure_years = max(0, now_year - first + 1) if first and first <= now_year else 0
        last_month = mine["month"].max() if len(mine) else None
        months_since = now_month - last_month if last_month is not None else None
        p12 = int((mine["month"] > now_month - 12).sum())
        p36 = int((mine["month"] > now_month - 36).sum())
        span = tenure_years or 0
        continuity = len([y for y in years if first and y >= first]) / span if span else 0.0
        by_year = mine.groupby(mine["signed_on"].dt.year)["amount"].sum()
        last2 = [by_year.get(now_year - 1, 0.0), by_year.get(now_year, 0.0)]
        trend = 0.5 if not len(by_year) or last2[0] == last2[1] else (1.0 if last2[1] > last2[0] else 0.0)
        stability = 1.0
        if grade_history is not None and len(grade_history):
            grades = grade_history[grade_history["customer_id"] == c.customer_id].sort_values("period")
            if len(grades) > 1:
                changes = int((grades["grade"] != grades["grade"].shift()).iloc[1:].sum())
                stability = 1 - changes / (len(grades) - 1)
        parts = {"tenure": min(tenure_years / tenure_cap, 1), "volume": min(len(mine) / volume_cap, 1),
                 "recency": max(0.0, 1 - months_since / 36) if months_since is not None else 0.0,
                 "continuity": min(continuity, 1.0), "trend": trend, "stability": stability}
        score = round(sum(w[k] * parts[k] for k in w), 1)
        has_history = bool(tenure_years or len(mine))
        first_seen = month_index(c.first_period) if isinstance(c.first_period, str) else now_month
        if not has_history and now_month - first_seen < config.get("loyalty", "new_months"):
            segment = NEW_CUSTOMER
        elif has_history and (months_since is None or months_since > config.get("loyalty", "churn_months")):
            segment = CHURN_RISK
        elif score >= config.get("loyalty", "loyal_score"):
            segment = LOYAL
        elif score >= config.get("loyalty", "stable_score"):
            segment = STABLE
        else:
            segment = VOLATILE if has_history else NEW_CUSTOMER
        rows.append({"customer_id": c.customer_id, "name": c.name, "branches": c.branches,
                     "tenure_years": tenure_years, "projects": len(mine), "projects_12m": p12,
                     "projects_36m": p36, "months_since_last": months_since,
                     "continuity": round(continuity, 4), "trend": trend, "stability": round(stability, 4),
                     "loyalty_score": score, "segment": segment})
    return pd.DataFrame(rows, columns=["customer_id", "name", "branches", "tenure_years", "projects",
                                       "projects_12m", "projects_36m", "months_since_last",
                                       "continuity", "trend", "stability", "loyalty_score", "segment"])


def active_customers(snapshot: dict[str, pd.DataFrame], start: str, end: str) -> set[int]:
    """Customers with a signed contract, a 中标/在建 project, or a visit in [start, end]."""
    lo, hi = month_start(start), month_end(end)
    projects = snapshot["projects"]
    visits = snapshot["visits"]
    signed = projects["signed_on"].between(lo, hi)
    running = projects["status"].isin(RUNNING)
    visited = visits["visited_on"].between(lo, hi)
    return set(projects.loc[signed | running, "customer_id"]) | set(visits.loc[visited, "customer_id"])


def churn(previous: set[int], current: set[int], customers: pd.DataFrame) -> pd.DataFrame:
    """Customers active in the previous period and not in this one, and the churn rate."""
    lost = sorted(previous - current)
    out = customers[customers["customer_id"].isin(lost)][["customer_id", "name", "branches"]].copy()
    out.attrs["churn_rate"] = len(lost) / len(previous) if previous else float("nan")
    return out
