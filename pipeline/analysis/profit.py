"""Profit (seed 001 三(三)2), the B-class scale–profit split (三(二)Ⅱ1②) and product analysis (三(三)5).

Amounts are in 万元 and only projects in an awarded state (crm.toml [projects]
awarded_statuses) count. Cost, profit and net profit are optional in the submission: a sum is blank
where none of its projects has the figure (not 0), and a ratio counts only the projects that have both
of its figures. A ratio whose denominator is zero or unknown is NaN, shown as —.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from schemas.labels import BIG_HIGH, BIG_LOW, NO_AMOUNT, QUADRANT_HINTS, SMALL_HIGH, SMALL_LOW

from ..config import Config
from ..periods import month_end, month_start


def _ratio(num, den):
    """num ÷ den, NaN (shown as —) where the denominator is zero or missing."""
    num = pd.Series(num, dtype="float64")
    den = pd.Series(den, dtype="float64")
    return (num / den.where(den != 0)).astype("float64").replace([np.inf, -np.inf], np.nan)


def money_sums(projects: pd.DataFrame, key: str) -> pd.DataFrame:
    """Per ``key``: projects, the money columns' sums (blank where no project has that figure) and the
    scale–profit and cost–profit ratios, each over the projects that have both of its figures (a project
    whose profit is not filled in neither lowers nor raises a margin)."""
    amount, cost, gain = (projects[c].astype("float64") for c in ("amount", "cost", "profit"))
    with_amount = gain.notna() & amount.notna()
    with_cost = gain.notna() & cost.notna()
    parts = pd.DataFrame({key: projects[key], "projects": 1, "amount": amount, "cost": cost, "profit": gain,
                          "net_profit": projects["net_profit"].astype("float64"),
                          "_ratio_profit": gain.where(with_amount), "_ratio_amount": amount.where(with_amount),
                          "_cost_profit": gain.where(with_cost), "_ratio_cost": cost.where(with_cost)})
    sums = parts.groupby(key).sum(min_count=1)
    sums["amount"] = sums["amount"].fillna(0.0)  # (as before: no amount reported is an amount of 0)
    sums["projects"] = sums["projects"].astype(int)
    sums["scale_profit_ratio"] = _ratio(sums["_ratio_profit"], sums["_ratio_amount"]).values
    sums["cost_profit_ratio"] = _ratio(sums["_cost_profit"], sums["_ratio_cost"]).values
    return sums.drop(columns=["_ratio_profit", "_ratio_amount", "_cost_profit", "_ratio_cost"]).reset_index()


def profit(snapshot: dict[str, pd.DataFrame], config: Config, by: str = "customer",
           start: str | None = None, end: str | None = None) -> pd.DataFrame:
    """Amount, cost, profit, net profit and the two ratios, per customer or branch.

    Awarded projects only; with start/end, those signed in that window, else cumulative.
    """
    projects = snapshot["projects"]
    projects = projects[projects["status"].isin(config.awarded)]
    if start and end:
        lo, hi = month_start(start), month_end(end)
        projects = projects[projects["signed_on"].between(lo, hi)]
    key = "customer_id" if by == "customer" else "branch"
    sums = money_sums(projects, key)
    if by == "customer":
        names = snapshot["customers"][["customer_id", "name", "branches"]]
        sums = names.merge(sums, on="customer_id", how="inner")
    return sums.sort_values("amount", ascending=False, kind="stable").reset_index(drop=True)


def scale_profit(b_customers: pd.DataFrame, config: Config) -> tuple[pd.DataFrame, dict]:
    """B customers into four quadrants by amount and margin (≥ threshold = 大 / 高).

    ``b_customers`` holds every B customer with its profit figures (NaN where it has no
    awarded project). Those without a contract amount or without a known margin (no profit filled in)
    are their own group, NO_AMOUNT, so the groups add up to all B customers; the median thresholds
    come from the others.
    """
    data = b_customers.copy()
    has_amount = (data["amount"].fillna(0) > 0) & data["scale_profit_ratio"].notna()
    priced = data[has_amount]
    amount_t = config.optional("quadrant", "amount_threshold")
    margin_t = config.optional("quadrant", "margin_threshold")
    if amount_t is None:
        amount_t = float(priced["amount"].median()) if len(priced) else 0.0
    if margin_t is None:
        margin_t = float(priced["scale_profit_ratio"].median()) if len(priced) else 0.0
    big = data["amount"] >= amount_t
    high = data["scale_profit_ratio"] >= margin_t
    data["quadrant"] = np.select([~has_amount, big & high, big & ~high, ~big & high],
                                 [NO_AMOUNT, BIG_HIGH, BIG_LOW, SMALL_HIGH], SMALL_LOW)
    data["hint"] = data["quadrant"].map(QUADRANT_HINTS)
    return data.reset_index(drop=True), {"amount_threshold": amount_t, "margin_threshold": margin_t}


def product(snapshot: dict[str, pd.DataFrame], config: Config) -> pd.DataFrame:
    """Per project type: projects, customers, amounts, profit and margin (group-wide)."""
    projects = snapshot["projects"]
    awarded = projects[projects["status"].isin(config.awarded)]
    out = projects.groupby("project_type").agg(projects=("project_id", "size"),
                                               customers=("customer_id", "nunique")).reset_index()
    money = money_sums(awarded, "project_type")[["project_type", "amount", "profit", "scale_profit_ratio"]]
    out = out.merge(money, on="project_type", how="left")
    return out.sort_values("amount", ascending=False, kind="stable").reset_index(drop=True)
