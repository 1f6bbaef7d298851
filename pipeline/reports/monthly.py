"""The monthly summary workbook: submission status, validation, new and changed customers, conflicts.

Everything here is read from the archive (never from one run's memory), so
running the month twice gives the same report.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from schemas.labels import SHEETS, VERDICTS, WHOLE_FILE

from ..archive.store import Archive
from ..archive.tracking import submission_status
from ..config import Config


@dataclass
class MonthlyData:
    period: str
    status: pd.DataFrame
    files: pd.DataFrame
    new_customers: pd.DataFrame
    changes: pd.DataFrame
    conflicts: pd.DataFrame


def monthly_summary(archive: Archive, config: Config, period: str) -> MonthlyData:
    """Gather the month's figures from the archive."""
    subs = archive.submissions()
    status = submission_status(subs, config, period)
    files = _files(subs[subs["period"] == period] if len(subs) else subs)
    snap = archive.snapshot(period)
    customers = snap["customers"]
    new = customers[customers["first_period"] == period]
    links = snap["customer_branches"]
    new = new.merge(links[links["first_period"] == period][["customer_id", "branch", "stage"]],
                    on="customer_id", how="left")
    new = new[["name", "uscc", "branch", "nature", "stage", "region"]].sort_values(
        ["branch", "name"], kind="stable")
    changes = archive.history(period=period)
    conflicts = archive.conflicts(open_only=True)
    return MonthlyData(period, status, files, new.reset_index(drop=True), changes, conflicts)


def _files(subs: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for s in subs.sort_values(["branch", "received_at"], kind="stable").itertuples():
        top = "；".join(f"{f.get('cell') or f.get('sheet') or WHOLE_FILE}：{f['message']}"
                       for f in s.findings[:3])
        rows.append({"branch": s.branch, "file_name": s.file_name,
                     "received_at": s.received_at, "state": VERDICTS.get(s.status, s.status),
                     "errors": s.errors, "warnings": s.warnings, "top": top})
    return pd.DataFrame(rows, columns=["branch", "file_name", "received_at", "state", "errors",
                                       "warnings", "top"])


def write_monthly_report(data: MonthlyData, path: Path) -> Path:
    """月度汇总_<YYYY-MM>.xlsx."""
    from ..excel import Styles, new_workbook, set_print_landscape, write_frame
    path.parent.mkdir(parents=True, exist_ok=True)
    book = new_workbook(path)
    styles = Styles(book)
    sheets = [
        (SHEETS["status"], data.status.drop(columns=["deadline"]), None),
        (SHEETS["files"], data.files, None),
        (SHEETS["new_customers"], data.new_customers, "customers"),
        (SHEETS["changes"], data.changes, None),
        (SHEETS["conflicts"], data.conflicts, None),
    ]
    for title, frame, context in sheets:
        ws = book.add_worksheet(title)
        ws.write_string(0, 0, f"{data.period} 月度汇总 — {title}", styles.title)
        write_frame(ws, frame, start_row=2, styles=styles, context=context)
        set_print_landscape(ws, repeat_rows=(2, 2), title=f"{data.period} {title}")
    book.close()
    return path
