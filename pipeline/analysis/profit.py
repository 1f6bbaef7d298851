"""Profit (seed 001 三(三)2), the B-class scale–profit split (三(二)Ⅱ1②) and product analysis (三(三)5).

Amounts are in 万元 and only projects in an awarded state (crm.toml [projects]
awarded_statuses) count. A ratio whose denominator is zero is NaN, shown as —.
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
    sums = projects.groupby(key).agg(projects=("project_id", "size"), amount=("amount", "sum"),
                                     cost=("cost", "sum"), profit=("profit", "sum"),
                                     net_profit=("net_profit", "sum")).reset_index()
    sums["scale_profit_ratio"] = _ratio(sums["profit"], sums["amount"]).values
    sums["cost_profit_ratio"] = _ratio(sums["profit"], sums["cost"]).values
    if by == "customer":
        names = snapshot["customers"][["customer_id", "name", "branches"]]
        sums = names.merge(sums, on="customer_id", how="inner")
    return sums.sort_values("amount", ascending=False, kind="stable").reset_index(drop=True)


def scale_profit(b_customers: pd.DataFrame, config: Config) -> tuple[pd.DataFrame, dict]:
    """B customers into four quadrants by amount and margin (≥ threshold = 大 / 高).

    ``b_customers`` holds every B customer with its profit figures (NaN where it has no
    awarded project). Those without a contract amount are their own group, 无合同额, so
    the groups add up to all B customers; the median thresholds come from the others.
    """
    data = b_customers.copy()
    has_amount = data["amount"].fillna(0) > 0
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
    money = awarded.groupby("project_type").agg(amount=("amount", "sum"), profit=("profit", "sum")).reset_index()
    out = out.merge(money, on="project_type", how="left")
    out["scale_profit_ratio"] = _ratio(out["profit"], out["amount"]).values
    return out.sort_values("amount", ascending=False, kind="stable").reset_index(drop=True)
