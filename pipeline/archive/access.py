"""Who may see what (seed 001 principles 8–9, 二Ⅱ1(3)(4); 004 §4).

Customer information belongs to the group. A branch sees the group's figures
and its own customers — never another branch's customer names, codes or
contacts — and queries the archive only with a leader's approval, unless its
access is suspended:
- for one month after a 差 assessment (from the day it is notified);
- flagged 停用 while it owes something the rules require: a monthly workbook
  whose deadline has passed, the half-yearly analysis report after its due
  date, the work summary after the week its assessment gave it. The flag
  clears by itself when the item arrives.

``edition`` cuts an archive snapshot down to what one branch may see; ``mask``
hides other branches' contacts in a group-wide extract. Reports, the archive
extract and the mail all go through these two.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd

from schemas import labels
from schemas.labels import DOC_DUE, DOC_LATE, DOC_MISSING, DOC_NOT_REQUIRED, DOC_ON_TIME, MISSING, RETURNED

from ..config import Config
from ..periods import Period, add_months, current_month
from .store import Archive
from .tracking import deadline, submission_status

PERSONAL = ("contact", "title", "phone", "email")


def edition(snapshot: dict[str, pd.DataFrame], branch: str) -> dict[str, pd.DataFrame]:
    """The snapshot as one branch may see it: its customers (with its own view of each) and its records."""
    links = snapshot["customer_branches"]
    own = links[links["branch"] == branch]
    ids = set(own["customer_id"])
    customers = snapshot["customers"][snapshot["customers"]["customer_id"].isin(ids)].copy()
    customers["branches"] = branch  # who else serves a customer is not the branch's business
    out = {"customers": customers.reset_index(drop=True), "customer_branches": own.reset_index(drop=True)}
    for entity in ("projects", "surveys", "complaints", "visits"):
        frame = snapshot[entity]
        out[entity] = frame[frame["branch"] == branch].reset_index(drop=True)
    return out


def mask_phone(value) -> str | None:
    """'13812341234' → '138****1234'; a landline keeps its area code and last four digits."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    text = str(value)
    digits = [i for i, ch in enumerate(text) if ch.isdigit()]
    if len(digits) <= 7:
        return "*" * len(text)
    hidden = set(digits[3:-4])
    return "".join("*" if i in hidden else ch for i, ch in enumerate(text))


def mask_name(value) -> str | None:
    """'王小明' → '王**'."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    text = str(value)
    return text[:1] + "*" * max(len(text) - 1, 1)


PEOPLE = ("specialist", "liaison_leader")  # the group's people a customer row names (masked for other branches')


def mask(snapshot: dict[str, pd.DataFrame], branch: str) -> dict[str, pd.DataFrame]:
    """The whole snapshot with other branches' contacts hidden (names, titles, phones, e-mails)."""
    out = dict(snapshot)
    links = snapshot["customer_branches"].copy()
    others = links["branch"] != branch
    links.loc[others, "contact"] = links.loc[others, "contact"].map(mask_name)
    links.loc[others, "phone"] = links.loc[others, "phone"].map(mask_phone)
    links.loc[others, "email"] = None
    links.loc[others, "title"] = None
    out["customer_branches"] = links
    customers = snapshot["customers"].copy()
    strangers = ~customers["customer_id"].isin(set(links.loc[~others, "customer_id"]))
    for key in PEOPLE:  # people of the group, but named by other branches
        customers.loc[strangers, key] = customers.loc[strangers, key].map(mask_name)
    out["customers"] = customers
    return out


def branch_secrets(snapshot: dict[str, pd.DataFrame], branch: str) -> set[str]:
    """Names, credit codes and phones that belong only to other branches (what an edition must not show)."""
    links = snapshot["customer_branches"]
    own_ids = set(links.loc[links["branch"] == branch, "customer_id"])
    customers = snapshot["customers"]
    foreign = customers[~customers["customer_id"].isin(own_ids)]
    secrets = {str(v) for v in foreign["name"].dropna()} | {str(v) for v in foreign["uscc"].dropna()}
    own_phones = set(links.loc[links["branch"] == branch, "phone"].dropna())
    secrets |= {str(p) for p in links.loc[links["branch"] != branch, "phone"].dropna() if p not in own_phones}
    own_contacts = set(links.loc[links["branch"] == branch, "contact"].dropna())
    secrets |= {str(c) for c in links.loc[links["branch"] != branch, "contact"].dropna()
                if c not in own_contacts and len(str(c)) >= 2}
    return {s for s in secrets if s.strip()}


# -- documents the rules require ---------------------------------------------------------------

def document_status(archive: Archive, config: Config, half: str, on: dt.date) -> pd.DataFrame:
    """Per roster branch: the half's analysis report and, after an assessment, the work summary owed."""
    from ..analysis.assessment import report_due
    due = report_due(half, config)
    docs = archive.documents(half)
    end_of_day = pd.Timestamp(on) + pd.Timedelta(days=1)
    docs = docs[(docs["status"] == "accepted") & (docs["received_at"] < end_of_day)]  # what had arrived by then
    decided = archive.assessments(half).set_index("branch") if len(archive.assessments(half)) else None
    rows = []
    for branch in config.branches:
        mine = docs[docs["branch"] == branch]
        for kind, deadline_at in (("analysis_report", due), ("work_summary", None)):
            if kind == "work_summary":
                owed = decided.loc[branch, "summary_due"] if decided is not None and branch in decided.index else None
                if not isinstance(owed, str):
                    rows.append(_doc_row(branch, kind, None, None, DOC_NOT_REQUIRED))
                    continue
                deadline_at = dt.datetime.fromisoformat(owed) + dt.timedelta(
                    hours=23, minutes=59, seconds=59)
            got = mine[mine["kind"] == kind]
            received = got["received_at"].min() if len(got) else None
            if received is not None:
                state = DOC_ON_TIME if received <= pd.Timestamp(deadline_at) else DOC_LATE
            else:
                state = DOC_MISSING if dt.datetime.combine(on, dt.time()) > deadline_at else DOC_DUE
            rows.append(_doc_row(branch, kind, deadline_at, received, state))
    return pd.DataFrame(rows, columns=["branch", "document", "deadline", "received_at", "document_state"])


def _doc_row(branch, kind, deadline_at, received, state) -> dict:
    return {"branch": branch, "document": labels.DOCUMENT_KINDS[kind], "deadline": deadline_at,
            "received_at": received, "document_state": state}


# -- suspensions -------------------------------------------------------------------------------

@dataclass
class Standing:
    """A branch's right to query the archive on a day."""

    branch: str
    suspended_until: dt.date | None      # a 差 assessment's suspension that covers the day
    owing: list[str]                    # what it owes (停用 until it arrives)

    @property
    def allowed(self) -> bool:
        return self.suspended_until is None and not self.owing

    def reason(self) -> str:
        parts = []
        if self.suspended_until:
            parts.append(f"考核为差，暂停查询至 {self.suspended_until:%Y-%m-%d}（含当天）")
        if self.owing:
            parts.append(f"{labels.SUSPENDED}：尚未提交 " + "、".join(self.owing))
        return "；".join(parts)


def standings(archive: Archive, config: Config, on: dt.date) -> list[Standing]:
    """Every roster branch's standing on ``on``: suspended after a 差, flagged 停用 while it owes something."""
    assessments = archive.assessments()
    subs = archive.submissions(findings=False)
    subs = subs[subs["received_at"] < pd.Timestamp(on) + pd.Timedelta(days=1)]  # what had arrived by then
    out = []
    # the latest month whose deadline has passed by ``on``
    month = current_month(on)
    while deadline(month, config).date() >= on:
        month = add_months(month, -1)
    status = submission_status(subs, config, month, now=dt.datetime.combine(on, dt.time(23, 59, 59))
                               ).set_index("branch")["state"]
    active = {f"{m[:4]}-H{1 if int(m[5:7]) <= 6 else 2}" for m in subs["period"].dropna().unique() if len(str(m)) == 7}
    halves = sorted(set(assessments["period"]) | (_halves_due(config, on) & active))
    docs = {half: document_status(archive, config, half, on) for half in halves}
    for branch in config.branches:
        until = None
        mine = assessments[(assessments["branch"] == branch) & assessments["suspended_from"].notna()]
        for r in mine.itertuples():
            start, end = dt.date.fromisoformat(r.suspended_from), dt.date.fromisoformat(r.suspended_until)
            if start <= on <= end:
                until = max(until or end, end)
        owing = []
        if status.get(branch) in (MISSING, RETURNED):
            owing.append(f"{month} 月报")
        for half, frame in docs.items():
            late = frame[(frame["branch"] == branch) & (frame["document_state"] == DOC_MISSING)]
            owing += [f"{half} {d}" for d in late["document"]]
        out.append(Standing(branch, until, owing))
    return out


def _halves_due(config: Config, on: dt.date) -> set[str]:
    """Half years whose analysis report was due before ``on`` (this year and last)."""
    from ..analysis.assessment import report_due
    out = set()
    for year in (on.year - 1, on.year):
        for half in (f"{year}-H1", f"{year}-H2"):
            if report_due(half, config).date() < on:
                out.add(half)
    return out


def standing(archive: Archive, config: Config, branch: str, on: dt.date) -> Standing:
    return next(s for s in standings(archive, config, on) if s.branch == branch)


def assessment_period(text: str) -> str:
    return str(Period.parse_half(text))
