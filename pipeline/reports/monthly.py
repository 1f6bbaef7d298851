"""The monthly summary workbook: submission status, validation, new and changed customers, conflicts,
complaint deadlines and the contacts due (strategic customers, A-class visit plan).

Everything here is read from the archive (never from one run's memory), so
running the month twice gives the same report.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from schemas.columns import YES
from schemas.labels import (COMPLAINT_STATES, EMPTY, NOT_DUE, REPLACED, REMINDERS, SHEETS, STANDS, SUBMISSION_STATES,
                            VERDICTS, WHOLE_FILE)

from ..analysis.grading import a_requirements, official_grades, rule_grades
from ..analysis.service import most_urgent_first, open_complaints
from ..analysis.strategic import a_visit_plan, contacts_due, visit_duties
from ..archive.store import EVERY_ID, Archive
from ..archive.tracking import submission_status
from ..config import Config
from ..excel import ERROR_FILL
from ..periods import month_end


@dataclass
class MonthlyData:
    period: str
    status: pd.DataFrame
    files: pd.DataFrame
    new_customers: pd.DataFrame
    changes: pd.DataFrame
    conflicts: pd.DataFrame
    complaints: pd.DataFrame = None      # open complaints at the month's end, overdue first
    contacts: pd.DataFrame = None        # contacts due: strategic duties and the A-class plan
    unwritten: str | None = None         # why the month's workbook could not be written (the run went on)
    time_limits: tuple[float, float] = (24, 48)  # the complaint time limits in force: first response, feedback (hours)

    @property
    def overdue_complaints(self) -> dict[str, int]:
        """Overdue open complaints by state (未响应, 未反馈), and those still being handled."""
        c = self.complaints
        out = {state: int(((c["complaint_state"] == state) & c["overdue"]).sum()) for state in COMPLAINT_STATES[:2]}
        out[COMPLAINT_STATES[2]] = int((c["complaint_state"] == COMPLAINT_STATES[2]).sum())
        return out

    @property
    def contact_counts(self) -> dict[str, int]:
        c = self.contacts
        return {key: int(c.loc[c["reminder"] == text, ["branch", "name"]].drop_duplicates().shape[0])
                for key, text in REMINDERS.items()}

    @property
    def new_customer_count(self) -> int:
        """New customers, each counted once (the table has a row per reporting branch)."""
        return int(self.new_customers["customer_id"].nunique()) if len(self.new_customers) else 0

    @property
    def file_counts(self) -> dict[str, int]:
        """Files received for the month by verdict (they add up to all files received)."""
        return {state: int((self.files["state"] == state).sum()) for state in VERDICTS.values()
                if (self.files["state"] == state).any()}


def monthly_summary(archive: Archive, config: Config, period: str, workers=None) -> MonthlyData:
    """Gather the month's figures from the archive.

    Every figure here looks at one customer at a time (its grade, duties, visits, complaints), so the
    archive is read in parts of customers: memory stays flat however large the archive grows. ``workers``
    (the run's validation workers, ``intake.worker.Workers``) each work out a share of the customers meanwhile
    (``share_figures``); this process's share is a little smaller, as it also reads the month's submissions,
    changes and conflicts.
    """
    from ..intake import worker
    pool = workers.pool if workers is not None else None
    shares = archive.share_bounds(period, [MAIN_SHARE] + [1.0] * workers.count, least=worker.SHARED_FROM) \
        if pool is not None else [EVERY_ID]
    asked = [_ask(pool, worker.summary_share, str(archive.path), config, period, share) for share in shares[1:]]
    subs = archive.submissions(period)
    status = submission_status(subs, config, period)
    files = _files(subs)
    changes, conflicts = archive.history(period=period), archive.conflicts(open_only=True)
    with archive.reading():
        parts = share_figures(archive, config, period, shares[0])
        for share, future in zip(shares[1:], asked):  # a share a worker failed on is done here
            answer = _answer(future)
            parts += answer if answer is not None else share_figures(archive, config, period, share)
    new, duties, plans, complaints = zip(*parts)
    new_customers = _joined(new).sort_values(["branch", "name"], kind="stable", ignore_index=True)
    contacts = contacts_due(_joined(duties), _joined(plans), period)
    limits = (config.get("complaints", "response_hours"), config.get("complaints", "feedback_hours"))
    return MonthlyData(period, status, files, new_customers, changes, conflicts,
                       most_urgent_first(_joined(complaints)), contacts, time_limits=limits)


MAIN_SHARE = 0.9  # this process's share of the summary's customers, to a worker's 1


def share_figures(archive: Archive, config: Config, period: str, share: tuple[int, int]) -> list[tuple]:
    """``part_figures`` of every part of the customers with ids within ``share``, in order: the customers graded
    in full are found there (``summary_customers``), and each part holds at most ``Archive.SNAPSHOT_PART`` of
    them and of the month's new customers."""
    wanted = archive.customers_where(period, summary_customers(config), within=share)
    counted = sorted(set(wanted).union(archive.first_archived(period, within=share)))
    return [part_figures(archive, config, period, bounds, wanted)
            for bounds in archive.snapshot_bounds(period, among=counted, within=share)]


def part_figures(archive: Archive, config: Config, period: str, bounds: tuple[int, int], wanted: list[int]) -> tuple:
    """The figures of the part of the archive within ``bounds``: its new customers (only the fields shown are
    read, ``Archive.new_customers``) and ``summary_part`` of the ``wanted`` customers (``read_part``)."""
    return (archive.new_customers(period, bounds),
            *summary_part(read_part(archive, period, bounds, wanted), config, period))


def summary_customers(config: Config) -> list[dict[str, list]]:
    """Whom the summary's parts grade and name (``Archive.customers_where``): the strategic customers (visit
    duties) and those that may be A (the A-class visit plan). Open complaints are every customer's: their
    records are read for all (``read_part``); of the month's new customers only the fields shown are read
    (``part_figures``)."""
    return [{"strategic": [YES]}, {"official_grade": ["A"]}, a_requirements(config)]


def read_part(archive: Archive, period: str, bounds: tuple[int, int], wanted: list[int]) -> dict[str, pd.DataFrame]:
    """The part of the archive within ``bounds`` that ``summary_part`` looks at: the ``wanted`` customers
    with their projects (grades) and visits, and every customer's complaints (no figure here looks at
    surveys)."""
    return archive.snapshot_part(period, bounds, wanted, entities=("projects", "complaints", "visits"),
                                 whole=("complaints",))


def _ask(pool, fn, *args):
    try:
        return pool.submit(fn, *args)
    except Exception:  # noqa: BLE001 — the workers are gone: the part is done here
        return None


def _answer(future):
    try:
        return future.result() if future is not None else None
    except Exception:  # noqa: BLE001 — the worker failed: the part is done here
        return None


def summary_part(snap: dict[str, pd.DataFrame], config: Config, period: str) -> tuple:
    """The figures of one part of the archive: its strategic visit duties, A-class visit plans and open
    complaints."""
    as_of = month_end(period)
    grades = official_grades(rule_grades(snap, config, period))
    return (visit_duties(snap, config, period), a_visit_plan(snap, grades, config, as_of),
            open_complaints(snap, config, as_of))


def _joined(parts: list[pd.DataFrame]) -> pd.DataFrame:
    """One frame of the parts' rows (the empty parts left out: their columns carry no types)."""
    return pd.concat([p for p in parts if len(p)] or parts[:1], ignore_index=True)


TOP_FINDINGS = 3  # a file's findings quoted in the summary's list of files


CELLS_PER_FINDING = 5  # cells named for one message in that list


def _top_findings(findings: list[dict]) -> str:
    """A file's first TOP_FINDINGS messages, each once with the cells it is about (“客户信息!C5、C7、C19：未填写统一社会
    信用代码…”: the same message on three cells made a cell of three long repeated lines)."""
    by_message: dict[str, list[str]] = {}
    for f in findings:
        by_message.setdefault(f["message"].rstrip("。"), []).append(f.get("cell") or f.get("sheet") or WHOLE_FILE)
    parts, listed = [], 0
    for message, cells in list(by_message.items())[:TOP_FINDINGS]:
        sheet = cells[0].rpartition("!")[0]
        shown = [cells[0]] + [c.rpartition("!")[2] if sheet and c.startswith(f"{sheet}!") else c
                              for c in cells[1:CELLS_PER_FINDING]]
        more = f" 等 {len(cells)} 处" if len(cells) > CELLS_PER_FINDING else ""
        parts.append(f"{'、'.join(shown)}{more}：{message}")
        listed += len(cells)
    top = "；".join(parts)
    if len(findings) > listed:  # the rest are in the file's feedback workbook
        top += f"（共 {len(findings)} 处，只列前 {listed} 处）"
    return top


def _files(subs: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for s in subs.sort_values(["branch", "received_at"], kind="stable").itertuples():
        top = _top_findings(s.findings)
        if s.status == "withdrawn":
            top = "已由市场营销部撤销" + (f"：{s.withdrawn_reason}" if s.withdrawn_reason else "")
        stands = {"accepted": STANDS, "superseded": REPLACED}.get(s.status, EMPTY)
        rows.append({"branch": s.branch or EMPTY, "file_name": s.file_name,
                     "received_at": s.received_at, "filled_on": s.filled_on,
                     "state": VERDICTS.get(s.status, s.status), "stands": stands,
                     "errors": s.errors, "warnings": s.warnings, "top": top})
    return pd.DataFrame(rows, columns=["branch", "file_name", "received_at", "filled_on", "state",
                                       "stands", "errors", "warnings", "top"])


def write_monthly_report(data: MonthlyData, path: Path) -> Path:
    """月度汇总_<YYYY-MM>.xlsx."""
    from ..excel import Styles, new_workbook, set_print_landscape, write_frame
    path.parent.mkdir(parents=True, exist_ok=True)
    book = new_workbook(path)
    styles = Styles(book)
    as_of = month_end(data.period)
    sheets = [
        (SHEETS["status"], data.status.drop(columns=["deadline", "counts"]), None),
        (SHEETS["files"], data.files, None),
        (SHEETS["new_customers"], data.new_customers.drop(columns=["customer_id"]), "customers"),
        (SHEETS["changes"], data.changes, None),
        (SHEETS["conflicts"], data.conflicts.drop(columns=["conflict_id", "left_id", "right_id"]), None),
        (SHEETS["complaint_deadlines"], data.complaints, "complaints"),
        (SHEETS["contact_reminders"], data.contacts, None),
    ]
    notes = {
        SHEETS["status"]: _status_note(data.status),
        SHEETS["files"]: "本月收到 {} 份：{}。同一单位同月有多份时，最晚收到的一份“采用”，其余“已被替换”。".format(
            len(data.files), "，".join(f"{k} {v}" for k, v in data.file_counts.items()) or "无"),
        SHEETS["new_customers"]: (f"本月新增客户 {data.new_customer_count} 家（按客户去重）；"
                                  "同一客户由几个单位报送时，每个单位各占一行。"),
        SHEETS["complaint_deadlines"]: _complaint_note(data, as_of),
        SHEETS["contact_reminders"]: (
            f"截至 {as_of:%Y-%m-%d}：战略客户{REMINDERS['specialist']} {data.contact_counts['specialist']} 家次，"
            f"{REMINDERS['a_plan']} {data.contact_counts['a_plan']} 家次（几个单位维护的客户每个单位各计一次）；"
            "另列战略客户本年尚未完成的领导拜访。营销专员每月联系只计营销专员本人的拜访或电话。"),
    }
    for title, frame, context in sheets:
        ws = book.add_worksheet(title)
        ws.write_string(0, 0, f"{data.period} 月度汇总 — {title}", styles.title)
        if title in notes:
            ws.write_string(1, 0, notes[title], styles.note)
        fills = None
        if title == SHEETS["complaint_deadlines"]:
            fills = [ERROR_FILL if overdue else None for overdue in frame["overdue"]]
        write_frame(ws, frame, start_row=2, styles=styles, context=context, fills=fills)
        set_print_landscape(ws, repeat_rows=(2, 2), title=f"{data.period} {title}")
    book.close()
    return path


def _status_note(status: pd.DataFrame) -> str:
    """截止日期 and how many branches are in each state (those with none left out; the roster has at least one)."""
    counts = status["state"].value_counts()
    states = [s for s in (*SUBMISSION_STATES, NOT_DUE) if s in counts.index]
    return (f"截止 {status['deadline'].iloc[0]:%Y-%m-%d}，共 {len(status)} 个单位："
            + "，".join(f"{state} {int(counts[state])}" for state in states) + "。")


def _complaint_note(data: MonthlyData, as_of) -> str:
    counts = data.overdue_complaints
    unanswered, not_fed, handling = COMPLAINT_STATES
    return (f"截至 {as_of:%Y-%m-%d} 24:00 未结束的投诉：超时{unanswered} {counts[unanswered]} 件、"
            f"超时{not_fed} {counts[not_fed]} 件（红色，排在前面），{handling} {counts[handling]} 件。"
            f"时限：收到投诉后 {data.time_limits[0]:g} 小时内首次响应，处理完成后 {data.time_limits[1]:g} 小时内反馈结果"
            "（集团《客户投诉管理办法》5.3）。")
