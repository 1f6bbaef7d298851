"""Performance (seed 001 三(三)4) and future (三(三)3): integrity, payment and complaints; the pipeline."""
from __future__ import annotations

import pandas as pd

from schemas.columns import PROJECTS, YES

PIPELINE = PROJECTS.column("status").allowed[:3]   # 跟踪, 投标, 中标
PAYMENTS = PROJECTS.column("payment").allowed      # 正常, 延迟, 拖欠


def performance(snapshot: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Per customer: integrity, credit, payment behaviour and complaints."""
    customers = snapshot["customers"][["customer_id", "name", "branches", "integrity", "credit"]]
    projects = snapshot["projects"]
    pay = projects.pivot_table(index="customer_id", columns="payment", values="project_id",
                               aggfunc="count", fill_value=0)
    pay = pay.reindex(columns=list(PAYMENTS), fill_value=0).reset_index()
    pay = pay.rename(columns=dict(zip(PAYMENTS, ("pay_normal", "pay_delayed", "pay_arrears"))))
    complaints = snapshot["complaints"].groupby("customer_id").agg(
        complaints=("complaint_type", "size"),
        unreasonable_count=("unreasonable", lambda s: int((s == YES).sum()))).reset_index()
    out = customers.merge(pay, on="customer_id", how="left").merge(complaints, on="customer_id", how="left")
    for col in ("pay_normal", "pay_delayed", "pay_arrears", "complaints", "unreasonable_count"):
        out[col] = out[col].fillna(0).astype(int)
    return out


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
