"""A/B/C grades by the group's rules, with the reasons; official grades and the half-yearly adjustment.

The rules (seed 001 三(一)3), every threshold in crm.toml [grading]:
- C: a stranger (no cooperation history); or a history with a bad integrity
  record; demanding terms; unreasonable complaints (the 无理投诉记录 flag, or a
  complaint marked unreasonable within the last N years); low profit (the
  margin of the customer's awarded projects below x %, over the projects whose profit is filled in: a blank
  profit is unknown, not 0); poor credit (资信 差);
  problems of its own; arrears (付款 拖欠) on a project.
- A: a history, integrity 良好, credit 良好, social value 高, a near-term need.
- B: everyone else.
C conditions win over A. A customer has a history when 首次合作年份 is filled
(and not after the as-of year) or it has a project in 中标 or a later state.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from schemas.columns import ARREARS, BAD, GOOD, HAS, POOR, YES
from schemas.labels import (DOWNGRADE, GRADE_RANK, GRADES, REASONS, SOURCE_ADJUSTED, SOURCE_RULES,
                            UPGRADE)

from ..config import Config
from .profit import money_sums


def _year(as_of: str) -> int:
    return int(as_of[:4])


def customer_evidence(snapshot: dict[str, pd.DataFrame], config: Config, as_of: str) -> pd.DataFrame:
    """Per customer, the facts the rules look at."""
    customers = snapshot["customers"]
    projects = snapshot["projects"]
    complaints = snapshot["complaints"]
    arrears = projects[projects["payment"] == ARREARS].groupby("customer_id").size().rename("arrears")
    years = int(config.get("grading", "complaint_years"))
    since = pd.Timestamp(_year(as_of) - years + 1, 1, 1)
    unreasonable = complaints[(complaints["unreasonable"] == YES) & (complaints["complained_at"] >= since)]
    by_year = unreasonable.assign(year=unreasonable["complained_at"].dt.year).groupby(
        ["customer_id", "year"]).size()
    out = customers[["customer_id", "name", "uscc", "branches", "first_year", "integrity", "credit",
                     "social_value", "near_term_need", "demanding", "unreasonable_complaints",
                     "own_problems", "official_grade"]].copy()
    out = out.merge(_money(projects, config), on="customer_id", how="left")
    out = out.merge(arrears, on="customer_id", how="left")
    out["project_count"] = out["project_count"].fillna(0).astype(int)
    out["arrears"] = out["arrears"].fillna(0).astype(int)
    first_ok = out["first_year"].notna() & (out["first_year"].fillna(9999) <= _year(as_of))
    out["has_history"] = first_ok | (out["project_count"] > 0)
    years_of: dict = {}
    for (cid, year), count in by_year.items():
        years_of.setdefault(cid, {})[int(year)] = int(count)
    out["complaint_years"] = [years_of.get(cid, {}) for cid in out["customer_id"]]
    return out


# The fields an A customer needs particular values of, and the reason given when one has another value.
_UNMET = {"integrity": "integrity_is", "credit": "credit_is", "social_value": "social_value_is",
          "near_term_need": "no_need"}


def a_requirements(config: Config) -> dict[str, list[str]]:
    """The values an A customer's fields must have (besides a cooperation history and no C condition):
    a customer whose fields miss any of them is not A by the rules, whatever its projects and complaints."""
    return {"integrity": [GOOD], "credit": [GOOD],
            "social_value": list(config.get("grading", "a_social_values")), "near_term_need": [HAS]}


def rule_grades(snapshot: dict[str, pd.DataFrame], config: Config, as_of: str) -> pd.DataFrame:
    """The rule grade of every customer as of a month end, with every deciding reason.

    Each condition is checked on the whole column at once; its reason is noted only on the
    customers it holds for, in the order the rules list them.
    """
    evidence = customer_evidence(snapshot, config, as_of)
    low = config.get("grading", "low_margin_percent") / 100
    arrears_c = config.get("grading", "arrears_is_c")
    credit_c = config.get("grading", "poor_credit_is_c")
    r = REASONS
    limit = f"{low:.0%}" if low * 100 == int(low * 100) else f"{low:.1%}"
    n = len(evidence)
    value = {k: evidence[k].tolist() for k in (*_UNMET, "first_year", "project_count", "arrears")}
    history = evidence["has_history"].to_numpy(dtype=bool)
    margin = evidence["margin"].to_numpy(dtype="float64")
    arrears = evidence["arrears"].to_numpy()

    def where(mask) -> np.ndarray:
        return np.flatnonzero(np.asarray(mask, dtype=bool))

    c: list[list[str]] = [[] for _ in range(n)]
    for i in where(~history):
        c[i].append(r["stranger"])
    for i in where(history & (evidence["integrity"] == BAD).to_numpy()):
        c[i].append(r["bad_integrity"])
    for i in where(evidence["demanding"] == YES):
        c[i].append(r["demanding"])
    for i in where(evidence["unreasonable_complaints"] == HAS):
        c[i].append(r["unreasonable_flag"])
    for i, years in enumerate(evidence["complaint_years"].tolist()):
        for year, count in sorted(years.items()):
            c[i].append(r["unreasonable_year"].format(year=year, count=count))
    for i in where(~np.isnan(margin) & (margin < low)):
        c[i].append(r["low_margin"].format(margin=f"{float(margin[i]):.1%}", limit=limit))
    if credit_c:
        for i in where(evidence["credit"] == POOR):
            c[i].append(r["poor_credit"])
    for i in where(evidence["own_problems"] == HAS):
        c[i].append(r["own_problems"])
    if arrears_c:
        for i in where(arrears != 0):
            c[i].append(r["arrears"].format(count=value["arrears"][i]))

    missing: list[list[str]] = [[] for _ in range(n)]
    for i in where(~history):
        missing[i].append(r["no_history"])
    for field, allowed in a_requirements(config).items():
        for i in where(~evidence[field].isin(allowed)):
            missing[i].append(r[_UNMET[field]].format(value=value[field][i]))

    grades, reasons = [], []
    for i in range(n):
        if c[i]:
            grades.append("C")
            reasons.append(r["c_prefix"] + r["separator"].join(c[i]))
        elif missing[i]:
            grades.append("B")
            reasons.append(r["b_prefix"] + r["separator"].join(missing[i]))
        else:
            first_year = value["first_year"][i]
            since = (r["since_year"].format(year=int(first_year)) if pd.notna(first_year)
                     else r["since_projects"].format(count=value["project_count"][i]))
            grades.append("A")
            reasons.append(r["a"].format(since=since, social_value=value["social_value"][i]))
    evidence["rule_grade"] = grades
    evidence["reasons"] = reasons
    return evidence.drop(columns=["complaint_years"])


MONEY = ("project_count", "amount", "profit", "margin")


def _money(projects: pd.DataFrame, config: Config) -> pd.DataFrame:
    """Per customer, the count, amount, profit and margin of the projects the rules count (history_statuses)."""
    awarded = projects[projects["status"].isin(config.get("grading", "history_statuses"))]
    money = money_sums(awarded, "customer_id").rename(columns={"projects": "project_count",
                                                               "scale_profit_ratio": "margin"})
    return money[["customer_id", *MONEY]]


def edition_grades(grades: pd.DataFrame, snapshot: dict[str, pd.DataFrame], branch: str) -> pd.DataFrame:
    """The group's grades of the customers in a branch's edition (``snapshot``: the edition's; who else serves
    them is not shown)."""
    ids = set(snapshot["customers"]["customer_id"])
    return grades[grades["customer_id"].isin(ids)].assign(branches=branch).reset_index(drop=True)


def own_money(grades: pd.DataFrame, snapshot: dict[str, pd.DataFrame], config: Config) -> pd.DataFrame:
    """A branch edition's grades with the money of the branch's own projects beside them (``snapshot``: the
    edition's). The grade is the group's, every branch's projects count towards it; the figures shown are the
    branch's own: another branch's contracts with a customer they share are that branch's business."""
    out = grades.drop(columns=[c for c in MONEY if c in grades.columns]).merge(
        _money(snapshot["projects"], config), on="customer_id", how="left")
    out["project_count"] = out["project_count"].fillna(0).astype(int)
    return out


def official_grades(rules: pd.DataFrame) -> pd.DataFrame:
    """The official grade: the last half-yearly decision, else the rule grade (new customers)."""
    out = rules.copy()
    adjusted = out["official_grade"].notna()
    out["official_source"] = [SOURCE_ADJUSTED if a else SOURCE_RULES for a in adjusted]
    out["official_grade"] = out["official_grade"].where(adjusted, out["rule_grade"])
    return out


def branch_proposals(snapshot: dict[str, pd.DataFrame], rules: pd.DataFrame) -> pd.DataFrame:
    """Each branch's proposed grade beside the rule grade; `differs` marks the conversations to have."""
    links = snapshot["customer_branches"][["customer_id", "branch", "proposed_grade"]]
    out = links.merge(rules[["customer_id", "name", "rule_grade", "reasons"]], on="customer_id")
    out["differs"] = out["proposed_grade"].notna() & (out["proposed_grade"] != out["rule_grade"])
    return out


def grade_lists(grades: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The three lists, by official grade."""
    return {g: grades[grades["official_grade"] == g].sort_values("name", kind="stable")
            for g in GRADES}


def grade_changes(before: pd.DataFrame, after: pd.DataFrame) -> pd.DataFrame:
    """Upgrades and downgrades of the official grade between two period ends, with both reasons (the rules'; where
    the new grade is the department's decision, 等级来源 says so: the rules' reasons may then be another grade's)."""
    merged = after[["customer_id", "name", "branches", "official_grade", "official_source", "reasons"]].merge(
        before[["customer_id", "official_grade", "reasons"]], on="customer_id", how="inner",
        suffixes=("", "_before"))
    changed = merged[merged["official_grade"] != merged["official_grade_before"]].copy()
    changed["direction"] = [UPGRADE if GRADE_RANK[n] > GRADE_RANK[o] else DOWNGRADE for o, n in
                            zip(changed["official_grade_before"], changed["official_grade"])]
    return changed.rename(columns={"official_grade_before": "grade_before",
                                   "official_grade": "grade_after",
                                   "reasons_before": "reasons_before", "reasons": "reasons_after"})[
        ["customer_id", "name", "branches", "grade_before", "grade_after", "direction", "official_source",
         "reasons_before", "reasons_after"]].sort_values(["direction", "name"], kind="stable")




def adjustment_changes(archive, config: Config, months: list[str]) -> pd.DataFrame:
    """Every official-grade change decided by a half-yearly adjustment effective in ``months``.

    One row per change (a customer adjusted in both halves of a year has two rows),
    with the rule reasons as of that adjustment's half-year end.
    """
    columns = ["customer_id", "name", "branches", "half", "grade_before", "grade_after", "direction",
               "decision", "reasons"]
    adjustments = archive.grade_adjustments()
    adjustments = adjustments[adjustments["effective_period"].isin(months)
                              & (adjustments["old_grade"] != adjustments["new_grade"])]
    if adjustments.empty:
        return pd.DataFrame(columns=columns)
    parts = []
    for effective, part in adjustments.groupby("effective_period"):
        rules = rule_grades(archive.snapshot(effective), config, effective)
        part = part.merge(rules[["customer_id", "name", "branches", "reasons"]], on="customer_id", how="left")
        parts.append(part)
    out = pd.concat(parts, ignore_index=True).rename(
        columns={"period": "half", "old_grade": "grade_before", "new_grade": "grade_after"})
    out["direction"] = [UPGRADE if GRADE_RANK.get(n, 0) > GRADE_RANK.get(o, 0) else DOWNGRADE
                        for o, n in zip(out["grade_before"], out["grade_after"])]
    return out[columns].sort_values(["half", "direction", "name"], kind="stable").reset_index(drop=True)


def grade_history(archive, as_of: str) -> pd.DataFrame:
    """Each customer's official grade after every half-yearly adjustment up to ``as_of``.

    The first row of a customer is its grade before its first adjustment; loyalty's
    grade stability counts the changes along this sequence.
    """
    adjustments = archive.grade_adjustments()
    adjustments = adjustments[adjustments["effective_period"] <= as_of]
    rows = []
    for customer_id, part in adjustments.groupby("customer_id", sort=False):
        part = part.sort_values("effective_period", kind="stable")
        first = part.iloc[0]
        rows.append({"customer_id": customer_id, "period": "", "grade": first["old_grade"]})
        rows += [{"customer_id": customer_id, "period": r.effective_period, "grade": r.new_grade}
                 for r in part.itertuples()]
    return pd.DataFrame(rows, columns=["customer_id", "period", "grade"])


def grades_as_of(archive, config: Config, as_of: str) -> pd.DataFrame:
    """Rule and official grade of every customer in the archive as of a month end."""
    return official_grades(rule_grades(archive.snapshot(as_of), config, as_of))
