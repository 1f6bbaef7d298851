"""Customer analyses of seed 001 三(三): loyalty, profit, the B-class scale–profit split, product,
performance and future. Functions over archive snapshots, returning DataFrames.

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

import numpy as np
import pandas as pd

from .config import Config

AWARDED = ("中标", "在建", "竣工", "结算完成")
PIPELINE = ("跟踪", "投标", "中标")


def _month_index(period: str) -> int:
    return int(period[:4]) * 12 + int(period[5:7]) - 1


def _ratio(num, den):
    """num ÷ den, NaN (shown as —) where the denominator is zero or missing."""
    num = pd.Series(num, dtype="float64")
    den = pd.Series(den, dtype="float64")
    return (num / den.where(den != 0)).astype("float64").replace([np.inf, -np.inf], np.nan)


def loyalty(snapshot: dict[str, pd.DataFrame], config: Config, as_of: str,
            grade_history: pd.DataFrame | None = None) -> pd.DataFrame:
    """Loyalty components, score and segment per customer."""
    w = {k: config.number("loyalty", f"weight_{k}", minimum=0)
         for k in ("tenure", "volume", "recency", "continuity", "trend", "stability")}
    tenure_cap = config.number("loyalty", "tenure_cap_years", minimum=1)
    volume_cap = config.number("loyalty", "volume_cap", minimum=1)
    now_year = int(as_of[:4])
    now_month = _month_index(as_of)
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
        first_seen = _month_index(c.first_period) if isinstance(c.first_period, str) else now_month
        if not has_history and now_month - first_seen < config.number("loyalty", "new_months"):
            segment = "新客户"
        elif has_history and (months_since is None or months_since > config.number("loyalty", "churn_months")):
            segment = "流失风险"
        elif score >= config.number("loyalty", "loyal_score"):
            segment = "忠诚"
        elif score >= config.number("loyalty", "stable_score"):
            segment = "稳定"
        else:
            segment = "波动" if has_history else "新客户"
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
    lo, hi = pd.Timestamp(start + "-01"), pd.Timestamp(end + "-01") + pd.offsets.MonthEnd(1)
    projects = snapshot["projects"]
    visits = snapshot["visits"]
    signed = projects["signed_on"].between(lo, hi)
    running = projects["status"].isin(("中标", "在建"))
    visited = visits["visited_on"].between(lo, hi)
    return set(projects.loc[signed | running, "customer_id"]) | set(visits.loc[visited, "customer_id"])


def churn(previous: set[int], current: set[int], customers: pd.DataFrame) -> pd.DataFrame:
    """Customers active in the previous period and not in this one, and the churn rate."""
    lost = sorted(previous - current)
    out = customers[customers["customer_id"].isin(lost)][["customer_id", "name", "branches"]].copy()
    out.attrs["churn_rate"] = len(lost) / len(previous) if previous else float("nan")
    return out


def profit(snapshot: dict[str, pd.DataFrame], by: str = "customer", start: str | None = None,
           end: str | None = None) -> pd.DataFrame:
    """Amount, cost, profit, net profit and the two ratios, per customer or branch.

    Awarded projects only; with start/end, those signed in that window, else cumulative.
    """
    projects = snapshot["projects"]
    projects = projects[projects["status"].isin(AWARDED)]
    if start and end:
        lo, hi = pd.Timestamp(start + "-01"), pd.Timestamp(end + "-01") + pd.offsets.MonthEnd(1)
        projects = projects[projects["signed_on"].between(lo, hi)]
    key = "customer_id" if by == "customer" else "branch"
    sums = projects.groupby(key).agg(projects=("project_id", "size"), amount=("amount", "sum"),
                                     cost=("cost", "sum"), profit=("profit", "sum"),
                                     net_profit=("net_profit", "sum")).reset_index()
    sums["scale_profit_ratio"] = _ratio(sums["profit"], sums["amount"]).values
    sums["cost_profit_ratio"] = _ratio(sums["profit"], sums["cost"]).values
    if by == "customer":
        names = snapshot["customers"][["customer_id", "name", "branches"]]
        sums = names.merge(sums, on="customer_id", how="inner")
    return sums.sort_values("amount", ascending=False, kind="stable").reset_index(drop=True)


QUADRANT_HINTS = {
    "规模大利润高": "重点维护，提高拜访层级，争取培养为A类",
    "规模大利润低": "控制成本、改善回款，提升项目利润率",
    "规模小利润高": "扩大合作规模，争取更多项目",
    "规模小利润低": "观察评估，不合格者调回C类",
}


def scale_profit(b_profit: pd.DataFrame, config: Config) -> tuple[pd.DataFrame, dict]:
    """B customers into four quadrants by amount and margin (≥ threshold = 大 / 高)."""
    data = b_profit[b_profit["amount"] > 0].copy()
    section = config.data.get("quadrant", {})
    amount_t = section.get("amount_threshold")
    margin_t = section.get("margin_threshold")
    if amount_t is None:
        amount_t = float(data["amount"].median()) if len(data) else 0.0
    else:
        amount_t = config.number("quadrant", "amount_threshold", minimum=0)
    if margin_t is None:
        margin_t = float(data["scale_profit_ratio"].median()) if len(data) else 0.0
    else:
        margin_t = config.number("quadrant", "margin_threshold", minimum=-1, maximum=1)
    big = data["amount"] >= amount_t
    high = data["scale_profit_ratio"] >= margin_t
    data["quadrant"] = np.select([big & high, big & ~high, ~big & high],
                                 ["规模大利润高", "规模大利润低", "规模小利润高"], "规模小利润低")
    data["hint"] = data["quadrant"].map(QUADRANT_HINTS)
    return data.reset_index(drop=True), {"amount_threshold": amount_t, "margin_threshold": margin_t}


def product(snapshot: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Per project type: projects, customers, amounts, profit and margin (group-wide)."""
    projects = snapshot["projects"]
    awarded = projects[projects["status"].isin(AWARDED)]
    out = projects.groupby("project_type").agg(projects=("project_id", "size"),
                                               customers=("customer_id", "nunique")).reset_index()
    money = awarded.groupby("project_type").agg(amount=("amount", "sum"), profit=("profit", "sum")).reset_index()
    out = out.merge(money, on="project_type", how="left")
    out["scale_profit_ratio"] = _ratio(out["profit"], out["amount"]).values
    return out.sort_values("amount", ascending=False, kind="stable").reset_index(drop=True)


def performance(snapshot: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Per customer: integrity, credit, payment behaviour and complaints."""
    customers = snapshot["customers"][["customer_id", "name", "branches", "integrity", "credit"]]
    projects = snapshot["projects"]
    pay = projects.pivot_table(index="customer_id", columns="payment", values="project_id",
                               aggfunc="count", fill_value=0)
    pay = pay.reindex(columns=["正常", "延迟", "拖欠"], fill_value=0).reset_index()
    complaints = snapshot["complaints"].groupby("customer_id").agg(
        complaints=("complaint_type", "size"),
        unreasonable=("unreasonable", lambda s: int((s == "是").sum()))).reset_index()
    out = customers.merge(pay, on="customer_id", how="left").merge(complaints, on="customer_id", how="left")
    for col in ("正常", "延迟", "拖欠", "complaints", "unreasonable"):
        out[col] = out[col].fillna(0).astype(int)
    return out.rename(columns={"正常": "pay_normal", "延迟": "pay_delayed", "拖欠": "pay_arrears"})


def future(snapshot: dict[str, pd.DataFrame], previous: dict[str, pd.DataFrame] | None = None) -> pd.DataFrame:
    """Per customer: the pipeline of projects in 跟踪/投标/中标 and its change since ``previous``."""
    def pipeline(snap):
        p = snap["projects"]
        p = p[p["status"].isin(PIPELINE)]
        return p.groupby("customer_id").agg(pipeline_projects=("project_id", "size"),
                                            pipeline_amount=("amount", "sum"))
    now = pipeline(snapshot)
    customers = snapshot["customers"][["customer_id", "name", "branches", "near_term_need", "needs"]]
    out = customers.merge(now, on="customer_id", how="inner")
    if previous is not None:
        before = pipeline(previous)["pipeline_projects"]
        out["pipeline_change"] = out["pipeline_projects"] - out["customer_id"].map(before).fillna(0).astype(int)
    return out.sort_values("pipeline_projects", ascending=False, kind="stable").reset_index(drop=True)
