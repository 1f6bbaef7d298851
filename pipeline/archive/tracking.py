"""Submission tracking: who reported for a month, on time or not."""
from __future__ import annotations

import calendar
import datetime as dt

import pandas as pd

from schemas.labels import EMPTY, LATE, MISSING, NO_CHANGE, NOT_DUE, ON_TIME, RETURNED

from ..config import Config


def deadline(period: str, config: Config) -> dt.datetime:
    """The end of the deadline day of the period's month (default the 25th)."""
    year, month = map(int, period.split("-"))
    day = int(config.get("submission", "deadline_day"))
    day = min(day, calendar.monthrange(year, month)[1])
    return dt.datetime(year, month, day, 23, 59, 59)


def submission_status(submissions: pd.DataFrame, config: Config, period: str,
                      now: dt.datetime | None = None) -> pd.DataFrame:
    """One row per roster branch: state, received time, file and row counts.

    ``submissions`` is the archive's submission list (any periods); the state
    of a branch comes from its latest accepted file for the period, else its
    latest rejected one, else nothing at all.
    """
    due = deadline(period, config)
    waiting = (now or dt.datetime.now()) <= due  # nothing yet, but the deadline has not passed
    subs = submissions[submissions["period"] == period] if len(submissions) else submissions
    by_branch: dict[str, list[dict]] = {}  # the month's files of each branch, in the archive's order
    for sub in subs.to_dict("records"):
        by_branch.setdefault(sub["branch"], []).append(sub)
    rows = []
    for branch in config.branches:
        mine = by_branch.get(branch, [])
        accepted = sorted((s for s in mine if s["status"] in ("accepted", "superseded")), key=_received)
        rejected = sorted((s for s in mine if s["status"] == "rejected"), key=_received)
        if accepted:
            first = accepted[0]
            latest = [s for s in accepted if s["status"] == "accepted"]
            latest = latest[-1] if latest else first
            on_time = pd.Timestamp(first["received_at"]) <= pd.Timestamp(due)
            state = (NO_CHANGE if latest["no_change"] else ON_TIME) if on_time else LATE
            row = _row(branch, state, latest, len(mine))
            if latest["received_at"] > pd.Timestamp(due) and latest is not first and on_time:
                row["note"] = f"采用的是截止日后收到的更正（{pd.Timestamp(latest['received_at']):%m-%d %H:%M}）"
            filled = first.get("filled_on")
            if not on_time and isinstance(filled, str) and filled <= due.strftime("%Y-%m-%d"):
                # The received time is the file's time; the cover date is the submitter's word.
                first_of = "本月第一份文件的" if len(accepted) > 1 else ""  # it decides on time or late
                row["note"] = (f"收件时间晚于截止日，但{first_of}封面填报日期为 {filled}。若邮件按时到达、"
                               "只是晚些才放进收件箱，请核实（可用 --received-at 指定收件时间）")
            rows.append(row)
        elif rejected:
            rows.append(_row(branch, RETURNED, rejected[-1], len(mine)))
        else:
            rows.append({"branch": branch, "state": NOT_DUE if waiting else MISSING, "received_at": pd.NaT,
                         "file_name": None, "rows": None, "files": 0, "counts": None})
        withdrawn = [s for s in mine if s["status"] == "withdrawn"]
        if withdrawn:  # (its rows are out of the archive: the state is what the other files make it)
            said = "；".join(s["file_name"] + (f"（{s['withdrawn_reason']}）" if s["withdrawn_reason"] else "")
                            for s in withdrawn)
            note = rows[-1].get("note")
            rows[-1]["note"] = "；".join(filter(None, (note, f"已撤销的报送：{said}")))
    out = pd.DataFrame(rows, columns=["branch", "state", "received_at", "file_name", "rows", "files",
                                      "note", "counts"])
    out["deadline"] = pd.Timestamp(due)
    return out


def _received(sub: dict) -> pd.Timestamp:
    return pd.Timestamp(sub["received_at"])


def _row(branch: str, state: str, sub: dict, files: int) -> dict:
    text = "，".join(f"{k} {v} 行" for k, v in (sub["counts"] or {}).items()) or EMPTY
    return {"branch": branch, "state": state, "received_at": pd.Timestamp(sub["received_at"]),
            "file_name": sub["file_name"], "rows": text, "files": files, "counts": dict(sub["counts"] or {})}
