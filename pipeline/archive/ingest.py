"""Ingest the inbox: validate each workbook, merge the accepted, file every one away.

Crash safety: for each file the archive transaction commits first (recording
where the file is to go), then the file is moved. A run killed between the two
finds the file still in the inbox with its hash already recorded and only
finishes the move. A run killed inside the transaction leaves the archive as
it was before that file; the next run redoes it.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from ..config import Config
from ..findings import Finding
from ..identity import normalize_name
from ..intake.safety import list_inbox
from ..intake.validation import ACCEPTED, REJECTED, Result, readable, validate_file
from .store import Archive, MergeResult, SubmissionMeta
from .workspace import Workspace, move_into_place, sha256_of

SKIPPED = "skipped"


@dataclass
class FileOutcome:
    """What became of one inbox file."""

    file: str
    status: str                 # accepted / rejected / ignored / skipped
    branch: str | None = None
    period: str | None = None
    received_at: dt.datetime | None = None
    moved_to: Path | None = None
    feedback: Path | None = None
    findings: list[Finding] = field(default_factory=list)
    counts: dict = field(default_factory=dict)
    note: str = ""
    merge: MergeResult | None = None


def received_time(path: Path, override: dt.datetime | None) -> dt.datetime:
    """When the file reached the inbox: its modification time unless overridden."""
    if override is not None:
        return override
    return dt.datetime.fromtimestamp(path.stat().st_mtime).replace(microsecond=0)


def ingest_inbox(ws: Workspace, archive: Archive, config: Config, *, inbox: Path | None = None,
                 received_at: dt.datetime | None = None, progress=None) -> list[FileOutcome]:
    """Process every workbook in the inbox in a stable order."""
    files, ignored = list_inbox([inbox or ws.inbox])
    outcomes = [FileOutcome(file=i.path.name, status="ignored", findings=i.findings,
                            note=i.findings[0].message if i.findings else "")
                for i in ignored]
    results = _validated_ahead(files, config, archive.known_identities())
    iterator = progress(files) if progress else files
    for path, result in zip(iterator, results):
        outcomes.append(ingest_file(ws, archive, path, config, received_at, result))
    return outcomes


PARALLEL_FROM = 4   # files; below this the second process costs more than it saves
LOOKAHEAD = 3       # results held at once: memory stays flat however many files arrive


def _validated_ahead(files: list[Path], config, known: set[str]):
    """Validation results in file order, parsed on a second core while the archive merges.

    Workers are spawned, not forked, so they never inherit the workspace lock.
    """
    if len(files) < PARALLEL_FROM:
        yield from (None for _ in files)
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor
    with ProcessPoolExecutor(max_workers=2, mp_context=multiprocessing.get_context("spawn")) as pool:
        pending = [pool.submit(validate_file, path, config, known_customers=known)
                   for path in files[:LOOKAHEAD]]
        for i in range(len(files)):
            result = pending.pop(0).result()
            if i + LOOKAHEAD < len(files):
                pending.append(pool.submit(validate_file, files[i + LOOKAHEAD], config,
                                           known_customers=known))
            yield result


def _refresh_references(result: Result, archive: Archive) -> Result:
    """Drop unknown-customer warnings for customers merged since the file was validated."""
    known = archive.known_identities()
    result.findings = [f for f in result.findings
                       if not (f.code == "unknown-customer" and normalize_name(f.value) in known)]
    return result


def ingest_file(ws: Workspace, archive: Archive, path: Path, config: Config,
                received_override: dt.datetime | None = None,
                result: Result | None = None) -> FileOutcome:
    """Validate (unless done ahead), then merge or reject one file, and file it away."""
    sha = sha256_of(path)
    received = received_time(path, received_override)
    earlier = archive.submission_by_sha256(sha)
    if earlier is not None:
        return _finish_or_skip(ws, path, earlier, config)

    if result is None:
        result = validate_file(path, config, known_customers=archive.known_identities())
    else:
        result = _refresh_references(result, archive)
    meta = SubmissionMeta(sha256=sha, file_name=path.name, branch=result.branch or "",
                          period=result.period or "", received_at=received,
                          no_change=result.no_change, counts=result.counts,
                          warnings=len(result.warnings), stored_path="")
    outcome = FileOutcome(file=path.name, status=result.status, branch=result.branch,
                          period=result.period, received_at=received,
                          findings=result.findings, counts=result.counts)
    if result.status == ACCEPTED:
        target = ws.received_path(result.period, result.branch, path, sha)
        meta.stored_path = str(target.relative_to(ws.root))
        outcome.merge = archive.record_submission(meta, result.frames)
        outcome.moved_to = move_into_place(path, target)
    else:
        target = ws.rejected_path(result.period, path, sha)
        meta.stored_path = str(target.relative_to(ws.root))
        archive.record_rejected(meta, result.findings)
        outcome.feedback = _feedback(result, target.parent)
        outcome.moved_to = move_into_place(path, target)
    return outcome


def _feedback(result: Result, folder: Path) -> Path | None:
    from ..intake.feedback import write_feedback
    folder.mkdir(parents=True, exist_ok=True)
    return write_feedback(result.file, result.findings, folder, readable=readable(result))


def sha256_of_name(record: dict) -> str:
    return str(record.get("sha256", ""))[:12]


def _finish_or_skip(ws: Workspace, path: Path, earlier: dict, config: Config) -> FileOutcome:
    """The hash is known: either a run died before moving this file, or it is a duplicate."""
    stored = ws.root / earlier["stored_path"] if earlier.get("stored_path") else None
    outcome = FileOutcome(file=path.name, status=SKIPPED, branch=earlier.get("branch"),
                          period=earlier.get("period"))
    if stored is not None and not stored.exists():
        if earlier["status"] == REJECTED:
            result = validate_file(path, config)
            outcome.feedback = _feedback(result, stored.parent)
        outcome.moved_to = move_into_place(path, stored)
        outcome.status = earlier["status"] if earlier["status"] != "superseded" else ACCEPTED
        outcome.note = "上次运行中断，已补完归档"
        return outcome
    outcome.moved_to = move_into_place(
        path, ws.received / "重复文件" / f"{path.stem}__{sha256_of_name(earlier)}{path.suffix}")
    outcome.note = f"与已处理的文件“{earlier['file_name']}”内容完全相同，已跳过"
    return outcome
