"""Strategic customers and visit duties (seed 004 2.1–2.2, 3.1–3.2) and the A-class visit plan (001 三(二)Ⅱ1①).

Duties of a branch towards each strategic customer it serves, over the year to date:
- 公司主要领导 visits at least [visits] main_leader_per_year times a year (default 1);
- 联点领导 at least liaison_per_year times a year (default 2);
- the 营销专员 is in contact every month (any 沟通方式).
A yearly duty is 已完成 once done, 待完成 while the year still has time, 逾期 after
December. The monthly duty is 已完成 when every month so far had a contact and 逾期
otherwise, naming the months missed.

A customers are visited at the frequency their social value calls for ([visits]
a_frequency: 半年 / 每季 / 每月 / 每旬); one whose last visit by the branch is older
than that, or who was never visited, is overdue.
"""
from __future__ import annotations

import datetime as dt

import pandas as pd

from schemas import labels
from schemas.columns import LIAISON_LEADER, MAIN_LEADER, SPECIALIST, YES

from ..config import Config
from ..periods import current_month, month_end, month_start

FREQUENCY_DAYS = {"每旬": 10, "每月": 31, "每季": 92, "半年": 183}
DONE, DUE, OVERDUE = labels.DUTY_STATES


def strategic_links(snapshot: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Strategic customers × the branches that serve them, with specialist, liaison leader and grade."""
    customers = snapshot["customers"]
    strategic = customers[customers["strategic"] == YES]
    links = snapshot["customer_branches"][["customer_id", "branch", "contact", "first_period"]]
    return strategic[["customer_id", "name", "specialist", "liaison_leader", "official_grade"]].merge(
        links, on="customer_id").rename(columns={"first_period": "since"})


def strategic_list(snapshot: dict[str, pd.DataFrame], grades: pd.DataFrame, year: int, as_of: str) -> pd.DataFrame:
    """战略客户名单: every strategic customer with its people, branch, grade and the year's contacts."""
    links = strategic_links(snapshot).drop(columns=["official_grade"])
    links = links.merge(grades[["customer_id", "official_grade"]], on="customer_id", how="left")
    visits = snapshot["visits"]
    visits = visits[visits["visited_on"].between(month_start(f"{year}-01"), month_end(as_of))]
    counts = visits.groupby(["customer_id", "branch"]).agg(contacts=("visit_id", "size"),
                                                           last_contact=("visited_on", "max")).reset_index()
    out = links.merge(counts, on=["customer_id", "branch"], how="left")
    out["contacts"] = out["contacts"].fillna(0).astype(int)
    return out[["name", "branch", "specialist", "liaison_leader", "official_grade", "contacts", "last_contact"]
               ].sort_values(["branch", "name"], kind="stable").reset_index(drop=True)


def _months(year: int, since: str | None, as_of: str) -> list[str]:
    first = max(f"{year}-01", since or f"{year}-01")
    return [f"{year}-{m:02d}" for m in range(1, 13) if first <= f"{year}-{m:02d}" <= as_of]


def visit_duties(snapshot: dict[str, pd.DataFrame], config: Config, as_of: str,
                 today: dt.date | None = None) -> pd.DataFrame:
    """One row per strategic customer × branch × duty, as of the end of month ``as_of``.

    While ``as_of`` is the current month (``today``), a month without a contact yet is still 待完成.
    """
    open_month = as_of if as_of >= current_month(today) else None
    year = int(as_of[:4])
    year_over = as_of.endswith("-12") and open_month is None  # (in December itself the year's visits are still due)
    needs = {MAIN_LEADER: config.get("visits", "main_leader_per_year"),
             LIAISON_LEADER: config.get("visits", "liaison_per_year")}
    visits = snapshot["visits"]
    visits = visits[visits["visited_on"].between(month_start(f"{year}-01"), month_end(as_of))]
    rows = []
    for link in strategic_links(snapshot).itertuples():
        mine = visits[(visits["customer_id"] == link.customer_id) & (visits["branch"] == link.branch)]
        base = {"customer_id": link.customer_id, "name": link.name, "branch": link.branch,
                "specialist": link.specialist, "liaison_leader": link.liaison_leader}
        for level, need in needs.items():
            done = int((mine["visitor_level"] == level).sum())
            state = DONE if done >= need else (OVERDUE if year_over else DUE)
            detail = "" if state == DONE else f"本年还需 {need - done} 次"
            rows.append({**base, "duty": labels.DUTIES[level], "required_count": need, "done": done,
                         "duty_state": state, "detail": detail})
        months = _months(year, link.since, as_of)
        contacted = set(mine.loc[mine["visitor_level"] == SPECIALIST, "visited_on"].dt.strftime("%Y-%m"))
        missed = [m for m in months if m not in contacted]
        pending = [m for m in missed if m == open_month]
        missed = [m for m in missed if m != open_month]
        detail = "未联系：" + "、".join(f"{int(m[5:])}月" for m in missed) if missed else ""
        if pending:
            detail = "；".join(filter(None, [detail, labels.THIS_MONTH_PENDING]))
        rows.append({**base, "duty": labels.DUTIES[SPECIALIST], "required_count": len(months),
                     "done": len(months) - len(missed) - len(pending),
                     "duty_state": OVERDUE if missed else (DUE if pending else DONE), "detail": detail})
    out = pd.DataFrame(rows, columns=["customer_id", "branch", "name", "specialist", "liaison_leader", "duty",
                                      "required_count", "done", "duty_state", "detail"])
    return out.sort_values(["branch", "name"], kind="stable").reset_index(drop=True)


def duty_shares(duties: pd.DataFrame, branches: list[str]) -> pd.DataFrame:
    """Per branch (and the group): duties evaluated, met, due, overdue and the share met."""
    def row(part: pd.DataFrame) -> dict:
        n = len(part)
        met = int((part["duty_state"] == DONE).sum())
        return {"customers": part["customer_id"].nunique(), "duties": n, "met_duties": met,
                "due_duties": int((part["duty_state"] == DUE).sum()),
                "overdue_duties": int((part["duty_state"] == OVERDUE).sum()),
                "met_share": met / n if n else float("nan")}
    rows = [{"branch": b, **row(duties[duties["branch"] == b])} for b in branches]
    rows.append({"branch": labels.GROUP, **row(duties)})
    return pd.DataFrame(rows)


def a_visit_plan(snapshot: dict[str, pd.DataFrame], grades: pd.DataFrame, config: Config,
                 as_of: dt.datetime) -> pd.DataFrame:
    """A customers (official grade) × branch: who visits (the customer's 营销专员), visit frequency, last visit,
    days since, overdue first."""
    frequencies = config.get("visits", "a_frequency")
    values = snapshot["customers"][["customer_id", "social_value", "specialist"]]
    a_ids = grades.loc[grades["official_grade"] == "A", ["customer_id", "name"]].merge(values, on="customer_id")
    links = snapshot["customer_branches"][["customer_id", "branch", "first_period"]]
    plan = a_ids.merge(links, on="customer_id")
    visits = snapshot["visits"]
    visits = visits[visits["visited_on"] <= pd.Timestamp(as_of)]
    last = visits.groupby(["customer_id", "branch"])["visited_on"].max().rename("last_visit").reset_index()
    plan = plan.merge(last, on=["customer_id", "branch"], how="left")
    stamp = pd.Timestamp(as_of)
    plan["frequency"] = plan["social_value"].map(frequencies).fillna("半年")
    plan["interval_days"] = plan["frequency"].map(FREQUENCY_DAYS)
    since = plan["last_visit"].fillna(plan["first_period"].map(lambda p: month_start(p) if isinstance(p, str) else stamp))
    plan["days_since"] = (stamp - pd.to_datetime(since)).dt.days
    # Due one interval after the last visit, or, never visited, after the month it was first archived: overdue once
    # that has passed (a customer archived this month is not overdue at once, its first visit is due next month).
    plan["overdue"] = plan["days_since"] > plan["interval_days"]
    plan["next_due"] = pd.to_datetime(since) + pd.to_timedelta(plan["interval_days"], unit="D")
    plan["owner"] = plan["specialist"].where(plan["specialist"].notna() & (plan["specialist"] != ""),
                                             labels.NO_SPECIALIST)
    out = plan[["name", "branch", "owner", "social_value", "frequency", "last_visit", "days_since", "next_due",
                "overdue"]]
    return out.sort_values(["overdue", "days_since"], ascending=[False, False], kind="stable").reset_index(drop=True)


def contacts_due(duties: pd.DataFrame, plan: pd.DataFrame, month: str) -> pd.DataFrame:
    """本月应联系而未联系 and what is still owed this year: one list for the monthly summary."""
    rows = []
    month_label = f"{int(month[5:])}月"
    for d in duties.itertuples():
        missed = (d.detail or "").split("；")[0].split("：")[-1].split("、")
        if d.duty == labels.DUTIES[SPECIALIST] and (month_label in missed or labels.THIS_MONTH_PENDING in (d.detail or "")):
            rows.append({"branch": d.branch, "name": d.name, "reminder": labels.REMINDERS["specialist"],
                         "owner": d.specialist, "detail": d.detail})
        elif d.duty != labels.DUTIES[SPECIALIST] and d.duty_state != DONE:
            owner = d.liaison_leader if d.duty == labels.DUTIES[LIAISON_LEADER] else MAIN_LEADER
            rows.append({"branch": d.branch, "name": d.name, "reminder": d.duty, "owner": owner,
                         "detail": f"{d.duty_state}：{d.detail}"})
    columns = ["branch", "name", "reminder", "owner", "detail"]
    due = plan[plan["overdue"]]  # a first month's A customers are all still to visit: tens of thousands of rows
    texts: dict[tuple, str] = {}  # one text object for each frequency and last visit
    details = [texts.setdefault((frequency, last), f"应{frequency}拜访一次；最近拜访：{last}") for frequency, last in
               zip(due["frequency"], [v.strftime("%Y-%m-%d") if pd.notna(v) else "从未拜访" for v in due["last_visit"]])]
    planned = {"branch": due["branch"].tolist(), "name": due["name"].tolist(),
               "reminder": [labels.REMINDERS["a_plan"]] * len(due), "owner": due["owner"].tolist(), "detail": details}
    out = pd.DataFrame({c: [r[c] for r in rows] + planned[c] for c in columns}, columns=columns)
    order = {text: i for i, text in enumerate([labels.REMINDERS["specialist"], *labels.DUTIES.values(),
                                               labels.REMINDERS["a_plan"]])}
    return (out.assign(_order=out["reminder"].map(order)).sort_values(["_order", "branch", "name"], kind="stable")
            .drop(columns="_order").reset_index(drop=True))
