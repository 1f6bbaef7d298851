"""The monthly routine across the stages: ingest the inbox, then write the month's summary workbook."""
from __future__ import annotations

import datetime as dt
from contextlib import nullcontext
from pathlib import Path

from .archive.ingest import FileOutcome, ingest_inbox
from .archive.store import Archive
from .archive.workspace import Workspace
from .config import Config
from .errors import file_in_use, os_error_of
from .intake.worker import Workers
from .periods import current_month, parse_month
from .reports import names
from .reports.monthly import MonthlyData, monthly_summary, write_monthly_report


def run_monthly(ws: Workspace, archive: Archive, config: Config, *, period: str | None = None,
                inbox: Path | None = None, received_at: dt.datetime | None = None,
                progress=None, keep: bool = False, recheck: bool = False,
                workers: Workers | None = None) -> tuple[list[FileOutcome], MonthlyData, Path]:
    """Ingest, then summarise ``period`` (default: the newest month among this run's workbooks; a branch's
    half-yearly documents name a half, not a month). The validation workers (the caller's, or those the
    ingest starts) also work out a share of the summary."""
    with Workers() if workers is None else nullcontext(workers) as workers:
        outcomes = ingest_inbox(ws, archive, config, inbox=inbox, received_at=received_at,
                                progress=progress, keep=keep, recheck=recheck, workers=workers)
        months = sorted(o.period for o in outcomes
                        if o.status != "ignored" and o.period and parse_month(o.period) == o.period)
        period = period or (months[-1] if months else current_month())
        data = monthly_summary(archive, config, period, workers)
        workers.stop()  # (they exit while the report is written)
    archive.checkpoint_in_background()  # the files' log goes into the archive file while the report is written
    path = names.monthly_summary(ws.output, period)
    try:
        path = write_monthly_report(data, path)
    except Exception as exc:  # (open in Excel): the files are archived all the same, and said so
        failed = os_error_of(exc)
        if failed is None:
            raise
        data.unwritten = (f"{file_in_use(failed)}收件箱已处理完；之后运行 crm monthly --period {period} 即可重新生成"
                          "月度汇总（不会重复入库）。")
    return outcomes, data, path
