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
    """Loyalty components, score and segment per customer.

    The per-customer figures come from one grouping of the signed projects (and of the grade
    history), then a plain loop applies the formula: linear in customers plus projects.
    """
    w = {k: config.get("loyalty", f"weight_{k}")
         for k in ("tenure", "volume", "recency", "continuity", "trend", "stability")}
    tenure_cap = config.get("loyalty", "tenure_cap_years")
    volume_cap = config.get("loyalty", "volume_cap")
    new_months = config.get("loyalty", "new_months")
    churn_months = config.get("loyalty", "churn_months")
    loyal_score, stable_score = config.get("loyalty", "loyal_score"), config.get("loyalty", "stable_score")
    now_year = int(as_of[:4])
    now_month = month_index(as_of)
    customers = snapshot["customers"]
    signed = _signed_figures(snapshot["projects"], now_year, now_month)
    stability_of = _stability(grade_history)
    rows = []
    for c in customers.itertuples():
        s = signed.get(c.customer_id)
        count = s["count"] if s else 0
        candidates = ([int(c.first_year)] if pd.notna(c.first_year) else []) + ([s["first_year"]] if s else [])
        first = min(candidates) if candidates else None
        tenure_years = max(0, now_year - first + 1) if first and first <= now_year else 0
        months_since = now_month - s["last_month"] if s else None
        span = tenure_years or 0
        # every signing year is at or after ``first`` (the earliest of them or an earlier 首次合作年份)
        continuity = (s["years"] if s else 0) / span if span else 0.0
        if not s or s["last_year"] == s["this_year"]:
            trend = 0.5
        else:
            trend = 1.0 if s["this_year"] > s["last_year"] else 0.0
        stability = stability_of.get(c.customer_id, 1.0)
        parts = {"tenure": min(tenure_years / tenure_cap, 1), "volume": min(count / volume_cap, 1),
                 "recency": max(0.0, 1 - months_since / 36) if months_since is not None else 0.0,
                 "continuity": min(continuity, 1.0), "trend": trend, "stability": stability}
        score = round(sum(w[k] * parts[k] for k in w), 1)
        has_history = bool(tenure_years or count)
        first_seen = month_index(c.first_period) if isinstance(c.first_period, str) else now_month
        if not has_history and now_month - first_seen < new_months:
            segment = NEW_CUSTOMER
        elif has_history and (months_since is None or months_since > churn_months):
            segment = CHURN_RISK
        elif score >= loyal_score:
            segment = LOYAL
        elif score >= stable_score:
            segment = STABLE
        else:
            segment = VOLATILE if has_history else NEW_CUSTOMER
        rows.append({"customer_id": c.customer_id, "name": c.name, "branches": c.branches,
                     "tenure_years": tenure_years, "projects": count,
                     "projects_12m": s["p12"] if s else 0, "projects_36m": s["p36"] if s else 0,
                     "months_since_last": months_since,
                     "continuity": round(continuity, 4), "trend": trend, "stability": round(stability, 4),
                     "loyalty_score": score, "segment": segment})
    return pd.DataFrame(rows, columns=["customer_id", "name", "branches", "tenure_years", "projects",
                                       "projects_12m", "projects_36m", "months_since_last",
                                       "continuity", "trend", "stability", "loyalty_score", "segment"])


def _signed_figures(projects: pd.DataFrame, now_year: int, now_month: int) -> dict[int, dict]:
    """Per customer with a signed project: count, first signing year and number of signing years, last
    signing month, counts in the last 12 and 36 months, and the signed amounts of last year and this year."""
    signed = projects.loc[projects["signed_on"].notna(), ["customer_id", "signed_on", "amount"]]
    if signed.empty:
        return {}
    year = signed["signed_on"].dt.year
    frame = pd.DataFrame({"customer_id": signed["customer_id"], "year": year,
                          "month": year * 12 + signed["signed_on"].dt.month - 1,
                          "amount": signed["amount"]})
    frame["in12"] = frame["month"] > now_month - 12
    frame["in36"] = frame["month"] > now_month - 36
    by = frame.groupby("customer_id", sort=False)
    last_year = frame["amount"].where(frame["year"] == now_year - 1, 0.0).groupby(frame["customer_id"], sort=False)
    this_year = frame["amount"].where(frame["year"] == now_year, 0.0).groupby(frame["customer_id"], sort=False)
    figures = pd.DataFrame({"count": by.size(), "first_year": by["year"].min(), "last_month": by["month"].max(),
                            "p12": by["in12"].sum(), "p36": by["in36"].sum(), "years": by["year"].nunique(),
                            "last_year": last_year.sum(), "this_year": this_year.sum()})
    return {int(cid): {"count": int(f.count), "first_year": int(f.first_year), "last_month": int(f.last_month),
                       "p12": int(f.p12), "p36": int(f.p36), "years": int(f.years),
                       "last_year": float(f.last_year), "this_year": float(f.this_year)}
            for cid, f in zip(figures.index, figures.itertuples(index=False))}


def _stability(grade_history: pd.DataFrame | None) -> dict[int, float]:
    """Per customer with more than one official grade: 1 − changes / steps along its grade sequence."""
    if grade_history is None or not len(grade_history):
        return {}
    ordered = grade_history.sort_values(["customer_id", "period"], kind="stable")
    same_customer = ordered["customer_id"].eq(ordered["customer_id"].shift())
    changed = same_customer & ordered["grade"].ne(ordered["grade"].shift())
    steps = same_customer.groupby(ordered["customer_id"]).sum()
    changes = changed.groupby(ordered["customer_id"]).sum()
    return {cid: 1 - int(changes[cid]) / int(n) for cid, n in steps.items() if n > 0}


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
