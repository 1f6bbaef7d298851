"""Next month's workbook, pre-filled for one branch with what the archive holds for it.

Every pre-filled row carries its 档案编号 (a customer K000123, a project P000045, a complaint
T000012) so that, when the workbook comes back, each row is matched to its archive row exactly.
The rows are the branch's own view as of the last archived month: its customers with its own
contacts, its projects not yet completed, its complaints not yet closed.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from schemas import labels
from schemas.columns import COMPLAINTS, CUSTOMERS, IGNORED, PROJECTS, SHEETS_BY_KEY

from ..analysis.grading import official_grades, rule_grades
from ..analysis.service import open_complaints
from ..analysis.strategic import a_visit_plan, contacts_due, visit_duties
from ..archive.access import edition
from ..archive.store import Archive, archive_number
from ..config import Config
from ..errors import ReportError
from ..findings import make_finding
from ..intake.template import Prefill, prefilled_cell, write_template
from ..periods import add_months, hours_text, month_end
from . import names

FINISHED_PROJECTS = ("竣工", "结算完成", "终止")


def prefill_path(out: Path, period: str, branch: str) -> Path:
    return names.prefilled(out, period, branch)


def gather_prefill(archive: Archive, config: Config, branch: str, period: str) -> Prefill:
    """The branch's rows for ``period``'s workbook, as of the last archived month before it."""
    if branch not in config.branches:
        raise ReportError(f"“{branch}”不在花名册中（{'、'.join(config.branches)}）。")
    subs = archive.submissions(findings=False)
    accepted = subs[(subs["status"] == "accepted") & (subs["period"] < period)]
    if accepted.empty:
        raise ReportError(f"档案中还没有 {period} 以前的报送，无法预填；请用空白模板（crm template）。")
    as_of = min(accepted["period"].max(), add_months(period, -1))
    full = archive.snapshot(as_of)
    snap = edition(full, branch)
    rows = {"customers": _customers(snap), "projects": _projects(archive, full, branch, archive.record_keys(branch)),
            "complaints": _complaints(archive, snap)}
    filler, phone = archive.last_filler(branch, period)  # usually the same clerk: one cell less to fill in
    cover = {key: value for key, value in (("filler", filler), ("phone", phone)) if value}
    return Prefill(branch, period, as_of, rows, _reminders(config, snap, branch, as_of, rows), cover)


def _clean(value):
    if value is None or (not isinstance(value, (str, list, dict)) and pd.isna(value)):
        return None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if hasattr(value, "item"):
        return value.item()
    return value


def _row(record: dict, keys: list[str]) -> dict:
    return {k: _clean(record.get(k)) for k in keys}


def _keys(sheet) -> list[str]:
    return [c.key for c in sheet.columns if c.kind != IGNORED]


def _customers(snap: dict) -> list[dict]:
    """Each customer the branch serves: the group's customer fields with the branch's own contacts."""
    links = snap["customer_branches"].drop(columns=["first_period"], errors="ignore")
    customers = snap["customers"].drop(columns=[c for c in links.columns if c != "customer_id"], errors="ignore")
    merged = customers.merge(links, on="customer_id").sort_values("name", kind="stable")
    out = []
    for record in merged.to_dict("records"):
        row = _row(record, _keys(CUSTOMERS))
        row["archive_no"] = archive_number("customers", record["customer_id"])
        out.append(row)
    return out


def _uscc(snap: dict) -> dict[int, str]:
    return dict(zip(snap["customers"]["customer_id"], snap["customers"]["uscc"]))


def _projects(archive: Archive, full: dict, branch: str, sent: set[str]) -> list[dict]:
    """The branch's projects not yet completed (no completion date, status before 竣工): those it reported first, and
    those another branch did that it reports too (one contract number sent by both: ``sent``, the keys it sent)."""
    frame = full["projects"]
    frame = frame[(frame["branch"] == branch) | frame["project_id"].isin(sent)]
    frame = frame[~frame["status"].isin(FINISHED_PROJECTS) & frame["completed_on"].isna()]
    return _numbered(archive, "projects", frame, PROJECTS, _uscc(full))


def _complaints(archive: Archive, snap: dict) -> list[dict]:
    """Complaints not closed: not yet handled, or handled but the result not fed back."""
    frame = snap["complaints"]
    frame = frame[frame["resolved_at"].isna() | frame["feedback_at"].isna()]
    return _numbered(archive, "complaints", frame, COMPLAINTS, _uscc(snap))


def _numbered(archive: Archive, entity: str, frame: pd.DataFrame, sheet, uscc: dict[int, str]) -> list[dict]:
    if frame.empty:
        return []
    key_column = f"{entity[:-1]}_id"
    numbers = archive.number_records(entity, list(frame[key_column]))
    out = []
    for record in frame.to_dict("records"):
        row = _row(record, _keys(sheet))
        row["customer_uscc"] = _clean(uscc.get(record["customer_id"])) if "customer_uscc" in row else None
        row["archive_no"] = archive_number(entity, numbers[record[key_column]])
        out.append(row)
    return out


def _reminders(config: Config, snap: dict, branch: str, as_of: str, rows: dict[str, list[dict]]) -> pd.DataFrame:
    """What is due: strategic-customer contacts, A customers' visits, overdue complaint replies, and what the
    pre-filled ``rows`` still lack (a credit code, a project department outside the branch's list), at their
    cells in this workbook."""
    grades = official_grades(rule_grades(snap, config, as_of))
    end = month_end(as_of)
    due = contacts_due(visit_duties(snap, config, as_of), a_visit_plan(snap, grades, config, end), as_of)
    out = [{"reminder": r.reminder, "name": r.name, "detail": r.detail or ""} for r in due.itertuples()]
    complaints = open_complaints(snap, config, end)
    for r in complaints[complaints["overdue"]].itertuples():
        out.append({"reminder": f"投诉{r.complaint_state}（已超时）", "name": r.customer_name,
                    "detail": f"{labels.label('complaint_no')}：{r.complaint_no}，投诉于 {r.complained_at:%Y-%m-%d}，"
                              f"已超过时限 {hours_text(r.overdue_hours)}；答复或反馈后请在本表中填写时间"})
    for i, row in enumerate(rows.get("customers", [])):
        if not row.get("uscc"):
            out.append({"reminder": labels.PREFILL_REMINDERS["missing_uscc"], "name": row.get("name"),
                        "detail": f"{prefilled_cell(CUSTOMERS, 'uscc', i)}：{make_finding('missing-uscc', '').message}"})
    if known := config.departments(branch):
        for i, row in enumerate(rows.get("projects", [])):
            if (department := row.get("department")) and department not in known:
                found = make_finding("unknown-department", "", value=department, allowed=known)
                out.append({"reminder": labels.PREFILL_REMINDERS["unknown_department"],
                            "name": row.get("customer_name"),
                            "detail": f"{prefilled_cell(PROJECTS, 'department', i)}：{found.message}"})
    return pd.DataFrame(out, columns=["reminder", "name", "detail"])


def write_prefilled(archive: Archive, config: Config, branch: str, period: str, out_root: Path) -> tuple[Path, Prefill]:
    """Write one branch's pre-filled workbook under ``out_root/<period>/预填模板/``."""
    prefill = gather_prefill(archive, config, branch, period)
    path = prefill_path(out_root, period, branch)
    path.parent.mkdir(parents=True, exist_ok=True)
    return write_template(path, config, prefill), prefill


def counts(prefill: Prefill) -> str:
    return "，".join(f"{SHEETS_BY_KEY[k].name} {len(v)} 行" for k, v in prefill.rows.items())
