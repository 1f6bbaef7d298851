"""`crm archive rebuild`: a new archive from the filed workbooks and the journal.

The workspace keeps every submitted file (received/, rejected/) and the journal
of what happened to each and of every decision since (journal.py). Replaying
the journal in order — re-validating each filed workbook and recording it with
its original id, received time and verdict, then each decision with its
original time — gives the archive back exactly. Files the journal does not
know (it was lost, or a run died before writing it) are added afterwards in
the order they were received (their modification time is their received
time). The damaged or emptied archive is kept beside the new one.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from ..config import Config
from ..intake.validation import ACCEPTED, meta_fields, validate_file
from ..periods import parse_month
from .ingest import filled_ahead
from .store import LIVE, Archive, SubmissionMeta
from .workspace import UNKNOWN_MONTH, Workspace, display_name, sha256_of


@dataclass
class RebuildReport:
    """What a rebuild restored, and what it could not."""

    accepted: int = 0
    rejected: int = 0
    decisions: int = 0
    unjournaled: int = 0
    missing: list[str] = field(default_factory=list)       # journaled files no longer on disk
    not_replayed: list[str] = field(default_factory=list)  # withdrawals of files not restored as archived
    changed: list[str] = field(default_factory=list)       # files whose verdict differs today
    kept_as: Path | None = None

    def lines(self) -> list[str]:
        out = [f"已恢复报送 {self.accepted + self.rejected} 份（归档 {self.accepted}，退回 {self.rejected}），"
               f"部门决定 {self.decisions} 次。"]
        if self.unjournaled:
            out.append(f"其中 {self.unjournaled} 份不在归档日志中，已按收件时间补入。")
        if self.kept_as:
            out.append(f"原档案库已改名保留为 {self.kept_as.name}。")
        for name in self.missing:
            out.append(f"找不到文件，未能恢复：{name}")
        for name in self.changed:
            out.append(f"按现行规则校验结论与当初不同，以现行结论为准：{name}")
        for what in self.not_replayed:
            out.append(f"未能重放（该文件没有恢复为已归档）：{what}")
        return out


def rebuild_archive(ws: Workspace, config: Config, progress=None) -> RebuildReport:
    """Move the current archive file aside and rebuild it from the journal and the filed workbooks."""
    report = RebuildReport()
    if ws.archive_path.exists():
        stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        report.kept_as = ws.archive_path.with_name(f"{ws.archive_path.name}.旧-{stamp}")
        ws.archive_path.rename(report.kept_as)
        for extra in ("-wal", "-shm"):
            side = ws.archive_path.with_name(ws.archive_path.name + extra)
            if side.exists():
                side.rename(report.kept_as.with_name(report.kept_as.name + extra))
    events = ws.journal.events()
    threshold = config.get("review", "similarity_threshold")
    with Archive(ws.archive_path, similarity_threshold=threshold) as archive:  # no journal: it is replayed
        seen: set[str] = set()
        sent_as: dict = {}  # submission id → the name its file was sent under
        steps = progress(events) if progress else events
        for event in steps:
            kind = event.get("type")
            if kind == "submission":
                seen.add(event["stored_path"])
                sent_as[event.get("id")] = event["file_name"]
                _restore(ws, archive, config, event, report)
            elif kind == "review":
                archive.record_review(event["decisions"], event["decided_by"], decided_at=event["decided_at"])
                report.decisions += 1
            elif kind in ("withdrawal", "reinstatement"):
                row = archive.submission(event["id"])
                wanted = LIVE if kind == "withdrawal" else ("withdrawn",)
                if row is None or row["status"] not in wanted:  # its file is missing, or is returned today
                    name = sent_as.get(event["id"]) or f"编号 {event['id']}"
                    report.not_replayed.append(f"{'撤销' if kind == 'withdrawal' else '恢复'} {name}")
                    continue
                report.decisions += archive.replay_event(event)
            elif kind == "grades":
                archive.record_grade_adjustments(event["rows"], decided_at=event["decided_at"],
                                                 replacing=event.get("replacing"))
                report.decisions += 1
            else:
                if kind == "document":
                    seen.add(event["stored_path"])
                report.decisions += archive.replay_event(event)
        for path in _unjournaled(ws, seen):
            report.unjournaled += 1
            _restore(ws, archive, config, _event_for(ws, path), report)
    return report


def _unjournaled(ws: Workspace, seen: set[str]) -> list[Path]:
    """Filed workbooks the journal does not mention, in received (modification time) order."""
    extra = [p for p in ws.filed_files() if p.relative_to(ws.root).as_posix() not in seen]
    return sorted(extra, key=lambda p: (p.stat().st_mtime, p.name))


def _event_for(ws: Workspace, path: Path) -> dict:
    rel = path.relative_to(ws.root)
    period = parse_month(rel.parts[1]) if len(rel.parts) > 2 and rel.parts[1] != UNKNOWN_MONTH else None
    name = display_name(path.name)
    original = name.rsplit("__", 1)[0] + path.suffix if "__" in name else name
    return {"type": "submission", "id": None, "sha256": sha256_of(path), "file_name": original,
            "branch": None, "period": period, "stored_path": rel.as_posix(),
            "received_at": dt.datetime.fromtimestamp(path.stat().st_mtime).isoformat(sep=" "),
            "status": "accepted" if rel.parts[0] == ws.received.name else "rejected",
            "filled_on": None, "ingested_at": None}


def _restore(ws: Workspace, archive: Archive, config: Config, event: dict, report: RebuildReport) -> None:
    path = ws.root / event["stored_path"]
    if not path.exists():
        report.missing.append(event["stored_path"])
        return
    # As in the original run: rows repeating the file it was compared with are taken from that file.
    compared = event.get("compared_with")
    result = validate_file(path, config, known_customers=archive.known_identities(),
                           known_rows=archive.known_rows(only=compared) if compared else None,
                           numbers=archive.archive_numbers())
    received = dt.datetime.fromisoformat(event["received_at"])
    ahead = filled_ahead(result, received, event["file_name"])  # (as the run that filed it said)
    for finding in result.findings:
        finding.file = event["file_name"]  # the name it was sent under, not the filed copy's
    meta = SubmissionMeta(sha256=event["sha256"], file_name=event["file_name"],
                          branch=event.get("branch") or result.branch or "",
                          period=event.get("period") or result.period or "",
                          received_at=received,
                          no_change=result.no_change, counts=result.counts,
                          warnings=len(result.warnings), stored_path=event["stored_path"],
                          filled_on=event.get("filled_on") or (None if ahead else result.filled_on),
                          ingested_at=event.get("ingested_at"), id=event.get("id"),
                          compared_with=result.reused_from, prefilled=result.prefilled, **meta_fields(result),
                          notes=[f.as_dict() for f in result.warnings])
    if (result.status == ACCEPTED) != (event["status"] == "accepted"):
        report.changed.append(event["stored_path"])
    if result.status == ACCEPTED:
        archive.record_submission(meta, result.frames, result.rows)
        report.accepted += 1
    else:
        archive.record_rejected(meta, result.findings)
        report.rejected += 1


def archive_missing_but_files_filed(ws: Workspace) -> int:
    """How many filed workbooks exist while the archive is missing or empty (0 when all is well)."""
    filed = len(ws.filed_files())
    if not filed:
        return 0
    if not ws.archive_path.exists() or ws.archive_path.stat().st_size == 0:
        return filed
    return 0
