"""The monthly routine: ingest the inbox, then write the month's summary workbook."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

from .ingest import FileOutcome, ingest_inbox
from .reports.monthly import MonthlyData, monthly_summary, write_monthly_report
from .workspace import Workspace


def run_monthly(ws: Workspace, archive, *, period: str | None = None, inbox: Path | None = None,
                received_at: dt.datetime | None = None,
                progress=None) -> tuple[list[FileOutcome], MonthlyData, Path]:
    """Ingest, then summarise ``period`` (default: the newest month among this run's files)."""
    outcomes = ingest_inbox(ws, archive, inbox=inbox, received_at=received_at, progress=progress)
    periods = sorted(o.period for o in outcomes if o.period and o.status != "ignored")
    period = period or (periods[-1] if periods else dt.date.today().strftime("%Y-%m"))
    data = monthly_summary(archive, ws.config(), period)
    path = write_monthly_report(data, ws.output / period / f"月度汇总_{period}.xlsx")
    return outcomes, data, path
