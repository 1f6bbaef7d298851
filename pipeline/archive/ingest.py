"""Ingest the inbox: validate each workbook, merge the accepted, file every one away.

Crash safety: for each file the archive transaction commits first (recording
where the file is to go), then the journal line is written, then the file is
moved. A run killed between these finds the file still in the inbox with its
hash already recorded and only finishes the journal and the move. A run killed
inside the transaction leaves the archive as it was before that file; the next
run redoes it.

No file stops the others: every per-file step runs under a guard that turns an
unexpected failure into a finding on that file, files it under rejected/ (or
quarantine/ when even that fails) and goes on. Only a failing archive (disk
full, damaged, not writable) stops the run, leaving the file in the inbox.
"""
from __future__ import annotations

import datetime as dt
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path

from schemas.columns import COVER

from ..config import Config
from ..errors import ArchiveError, WorkspaceError
from ..findings import Finding, has_finding, make_finding
from ..identity import normalize_name
from ..filenames import hashed_name, safe_name
from ..intake.documents import Document, classify
from ..intake.documents import problems as document_problems
from ..intake.safety import list_inbox
from ..intake.validation import (ACCEPTED, GROUP, REJECTED, Result, meta_fields, readable, validate_each,
                                 validate_file)
from ..intake import worker
from .store import LIVE, Archive, MergeResult, RepeatedRowsMissing, SubmissionMeta
from .workspace import (Workspace, display_name, ensure_writable, move_into_place, sha256_of,
                        unique_path)

SKIPPED = "skipped"
QUARANTINED = "quarantined"
LEFT = "left"          # left in the inbox: the archive could not be written; the run stopped


@dataclass
class FileOutcome:
    """What became of one inbox file."""

    file: str
    status: str                 # accepted / rejected / ignored / skipped / quarantined / left
    branch: str | None = None
    period: str | None = None
    received_at: dt.datetime | None = None
    moved_to: Path | None = None
    feedback: Path | None = None
    findings: list[Finding] = field(default_factory=list)
    counts: dict = field(default_factory=dict)
    note: str = ""
    merge: MergeResult | None = None

    @property
    def errors(self) -> int:
        return sum(f.severity == "error" for f in self.findings)


def received_time(path: Path, override: dt.datetime | None) -> dt.datetime:
    """When the file reached the inbox: its modification time unless overridden."""
    if override is not None:
        return override
    return dt.datetime.fromtimestamp(path.stat().st_mtime).replace(microsecond=0)


def _received_or_last(path: Path, override: dt.datetime | None) -> dt.datetime:
    """The order files are merged in: as received (the order the archive is derived in), a file that cannot
    be looked at last (the guard reports it)."""
    try:
        return received_time(path, override)
    except OSError:
        return dt.datetime.max


def ingest_inbox(ws: Workspace, archive: Archive, config: Config, *, inbox: Path | None = None,
                 received_at: dt.datetime | None = None, progress=None,
                 keep: bool = False, recheck: bool = False, workers: worker.Workers | None = None) -> list[FileOutcome]:
    """Process every workbook in the inbox; ``keep`` copies instead of moving (a samples folder).
    ``workers``: the run's (kept running after the ingest), else the ingest starts its own.

    Rows a branch sends again exactly as in its last accepted file are not cleaned or validated
    again (``recheck`` turns that off, e.g. after the rules in crm.toml changed).
    """
    folder = ws.check_inbox(inbox or ws.inbox)  # never the workspace's own files
    ws.sweep_partial()  # what a killed run left half-written
    files, ignored = list_inbox([folder])
    files.sort(key=lambda path: _received_or_last(path, received_at))  # name order among files received together
    outcomes = [FileOutcome(file=display_name(i.path.name), status="ignored", findings=i.findings,
                            note=i.findings[0].message if i.findings else "")
                for i in ignored]
    documents = [(path, doc) for path in files if (doc := classify(path, config)) is not None]
    files = [path for path in files if path not in {d[0] for d in documents}]
    with worker.Workers() if workers is None else nullcontext(workers) as running:  # the caller's: kept running
        running.start(len(files))  # its workers start up while this process reads the archive
        try:
            return outcomes + _ingest(ws, archive, config, files, documents, running, received_at, progress, keep,
                                      recheck)
        finally:
            archive.forget_names()  # what comes next (the summary) reuses the memory


def _ingest(ws: Workspace, archive: Archive, config: Config, files: list[Path], documents: list,
            workers: worker.Workers, received_at: dt.datetime | None, progress, keep: bool,
            recheck: bool) -> list[FileOutcome]:
    outcomes: list[FileOutcome] = []
    if documents:
        archive.verified()  # (the archive's quick check, when still running: nothing is written before it passed)
    for path, doc in documents:  # analysis reports and work summaries: filed, not parsed
        try:
            outcomes.append(ingest_document(ws, archive, path, doc, config, received_at, keep=keep))
        except (ArchiveError, WorkspaceError) as exc:
            outcomes.append(FileOutcome(file=display_name(path.name), status=LEFT, note=str(exc)))
            return outcomes + [FileOutcome(file=display_name(p.name), status=LEFT, note=f"未处理：{exc}")
                               for p in files]
        except FileNotFoundError:
            outcomes.append(_vanished(path))
    known_rows = None if recheck else archive.known_rows()
    numbers = worker.FromArchive(archive.path, "archive_numbers", archive.archive_numbers) if files else None
    known = worker.FromArchive(archive.path, "known_identities", archive.known_identities)
    results = _validated_ahead(workers, files, config, known, known_rows, numbers)
    with archive.checkpoints_later():
        return outcomes + _ingest_files(ws, archive, config, files, results, received_at, progress, keep, known_rows,
                                        numbers)


def _ingest_files(ws: Workspace, archive: Archive, config: Config, files: list[Path], results, received_at, progress,
                  keep: bool, known_rows, numbers) -> list[FileOutcome]:
    outcomes: list[FileOutcome] = []
    iterator = progress(files) if progress else files
    stopped: str | None = None
    for path, result in zip(iterator, results):
        if stopped:
            outcomes.append(FileOutcome(file=display_name(path.name), status=LEFT, note=stopped))
            continue
        archive.verified()  # the quick check ran while the first files were validated: a damaged archive stops the run
        try:
            outcome = ingest_file(ws, archive, path, config, received_at, result, keep=keep, known_rows=known_rows,
                                  numbers=numbers)
        except (ArchiveError, WorkspaceError) as exc:
            stopped = f"未处理：{exc}"
            outcome = FileOutcome(file=display_name(path.name), status=LEFT, note=str(exc))
        except FileNotFoundError:
            outcome = _vanished(path)
        except Exception as exc:  # noqa: BLE001 — the guard: one file never stops the others
            outcome = _guard_failure(ws, archive, path, received_at, exc, keep)
        outcomes.append(outcome)
    archive.verified()  # (no file to merge: what follows, the month's summary, still reads a checked archive)
    _note_standing(outcomes)
    return outcomes


def _note_standing(outcomes: list[FileOutcome]) -> None:
    """A file that stands over another of its branch-month processed after it in this run says so too (one
    processed before it says “更正重报” already)."""
    by_id = {o.merge.submission_id: o for o in outcomes if o.merge is not None}
    for outcome in outcomes:
        standing = by_id.get(outcome.merge.superseded_by) if outcome.merge is not None else None
        if standing is not None and standing.merge.stands and not standing.note:
            standing.note = f"本单位本月另有一份报送 {outcome.file}，采用本文件"


def _vanished(path: Path) -> FileOutcome:
    return FileOutcome(file=display_name(path.name), status=SKIPPED,
                       note="处理前文件已不在收件箱（可能已被另一个工作目录取走），已跳过")


WORKER_QUEUE = 2    # groups of files given to each worker at a time: one it works on, one waiting
HELD = 2            # groups this process validates ahead while it waits for a worker


def _validated_ahead(workers: worker.Workers, files: list[Path], config: Config, known: set[str],
                     known_rows: dict | None, numbers: dict | None):
    """Validation results in file order, the work shared between this process and the workers while
    the archive merges (see ``_shared``), a group of files at a time (``groups``).

    Yields a Result, None (validate inline) or the exception validation raised.
    """
    pool, count = workers.pool, workers.count
    if pool is None:
        yield from (None for _ in files)
        return
    import tempfile

    def here(group: list[Path]) -> list:
        return validate_each(group, config, known_customers=known, known_rows=known_rows, numbers=numbers)

    with tempfile.TemporaryDirectory(prefix="crm-") as tmp:
        saved = Path(tmp) / "known.pickle"
        worker.save_known(saved, known, known_rows, numbers)
        grouped = groups(files, count + 1)
        done = _shared(grouped, here, lambda group: pool.submit(worker.validate, group, config, str(saved)),
                       WORKER_QUEUE * count)
        for group, results in zip(grouped, done):
            if isinstance(results, Exception):  # the worker's answer was lost (e.g. it could not be sent back)
                results = None
            yield from (results if results is not None else [None] * len(group))


def groups(files: list, processes: int) -> list[list]:
    """``files`` in groups to validate together (``validate_files``), largest first: big enough that the
    fixed cost of cleaning and checking is shared, small towards the end so that no process is left with a
    large group while the other waits (each group is at most half of what is left per process)."""
    out, start = [], 0
    while start < len(files):
        size = max(1, min(GROUP, -(-(len(files) - start) // (2 * processes))))
        out.append(files[start:start + size])
        start += size
    return out


def _shared(files: list, here, ask, queue: int = WORKER_QUEUE):
    """Results for ``files`` in their order, validated by the workers and by this process (a "file" here may
    be a group of files validated together: ``groups``).

    The workers are given the next files as they take them (``queue`` at a time). The first file is
    validated here while they start up; after that, whenever the result needed next is not ready yet,
    this process validates the next file nobody has taken instead of waiting (at most HELD ahead).
    ``here(path)`` validates in this process (its result, or the exception it raised); ``ask(path)`` gives a
    file to a worker: a future, or BrokenProcessPool when the workers are gone. A file a dead worker had,
    or nobody took, yields None: it is validated inline, under the guard.
    """
    from concurrent.futures.process import BrokenProcessPool
    asked: dict = {}   # file position → future
    held: dict = {}    # file position → result validated here ahead
    taken, broken = 1, False

    def give() -> None:
        nonlocal taken, broken
        while not broken and taken < len(files) and len(asked) < queue:
            try:
                asked[taken] = ask(files[taken])
            except BrokenProcessPool:
                broken = True
                return
            taken += 1

    give()
    if files:
        yield here(files[0])
    for i in range(1, len(files)):
        if i in held:
            result = held.pop(i)
        elif i in asked:
            future = asked.pop(i)
            while not future.done() and taken < len(files) and len(held) < HELD:
                held[taken] = here(files[taken])
                taken += 1
            try:
                result = future.result()
            except BrokenProcessPool:
                broken, result = True, None
            except Exception as exc:  # noqa: BLE001 — reported on that file by the guard
                result = exc
        else:
            taken, result = max(taken, i + 1), None
        give()
        yield result


def _refresh_references(result: Result, archive: Archive) -> Result:
    """Drop unknown-customer warnings for customers merged since the file was validated."""
    unknown = {normalize_name(f.value) for f in result.findings if f.code == "unknown-customer"}
    if not unknown:
        return result
    known = archive.known_of(unknown)
    result.findings = [f for f in result.findings
                       if not (f.code == "unknown-customer" and normalize_name(f.value) in known)]
    return result


FILLED_SLACK_DAYS = 7  # a cover's 填报日期 later than the received day by more than this is a typo (2027 for 2026)


def filled_ahead(result: Result, received: dt.datetime, name: str):
    """The 提示 (added to ``result``'s findings) when the cover's 填报日期 is later than the day the file came by more
    than FILLED_SLACK_DAYS, which is then not taken; None when it is taken."""
    filled = result.filled_on  # (as YYYY-MM-DD, however the cover wrote it)
    if not filled or dt.date.fromisoformat(filled) <= received.date() + dt.timedelta(days=FILLED_SLACK_DAYS):
        return None
    finding = make_finding("filled-ahead", name, sheet=COVER.name, value=filled,
                           column=COVER.column("filled_on").header, detail=f"{received:%Y-%m-%d}")
    result.findings.append(finding)
    return finding


def ingest_file(ws: Workspace, archive: Archive, path: Path, config: Config,
                received_override: dt.datetime | None = None,
                result: Result | Exception | None = None, *, keep: bool = False,
                known_rows: dict | None = None, numbers: dict | None = None) -> FileOutcome:
    """Validate (unless done ahead), then merge or reject one file, and file it away."""
    if isinstance(result, Exception):
        raise result
    name = display_name(path.name)
    path = Path(path)
    sha = sha256_of(path)
    received = received_time(path, received_override)
    earlier = archive.submission_by_sha256(sha)
    if earlier is not None:
        stored = ws.root / earlier["stored_path"] if earlier.get("stored_path") else None
        if stored is not None and not stored.exists() and earlier["status"] != "withdrawn":
            return _finish(ws, archive, path, earlier, config, keep)  # (a withdrawn file sent again is judged again)
        if earlier["status"] in LIVE:
            return _duplicate(ws, path, name, sha, earlier, keep)
        # identical to a rejected file: its verdict may depend on its name, so it is judged again

    if result is None:
        result = validate_file(path, config, known_customers=archive.known_identities(), known_rows=known_rows,
                               numbers=numbers if numbers is not None else archive.archive_numbers())
    else:
        result = _refresh_references(result, archive)
    told = has_finding(result.findings, "source-conflict", COVER.column("period").header)
    if result.period and result.period > f"{received:%Y-%m}" and not told:  # a month not yet begun: a typo
        sheet, row, letter = result.period_cell
        result.findings.append(make_finding("period-ahead", name, sheet=sheet or COVER.name, row=row, col_letter=letter,
                                            value=result.period, column=COVER.column("period").header,
                                            detail=f"{received:%Y-%m-%d}"))
        # Rejected (its month would be taken, and that month's real file would replace it), in the month it came:
        # the branch still owes that month's report, and hears of this file with that month's mail.
        result.status, result.period = REJECTED, f"{received:%Y-%m}"
    if result.status == REJECTED and f"{received:%Y-%m}" in result.months[1:]:
        # The cover says one month, the file name another (July's cover left in August's file): returned in the
        # month it came, which it names too, where the branch is told and still owes its report.
        result.period = f"{received:%Y-%m}"
    ahead = filled_ahead(result, received, name)
    filled = result.filled_on if ahead is None else None  # (a typo would decide which of a month's files stands)
    meta = SubmissionMeta(sha256=sha, file_name=name, branch=result.branch or "",
                          period=result.period or "", received_at=received,
                          no_change=result.no_change, counts=result.counts,
                          warnings=len(result.warnings), stored_path="",
                          filled_on=filled, compared_with=result.reused_from,
                          prefilled=result.prefilled, notes=[f.as_dict() for f in result.warnings],
                          **meta_fields(result))
    outcome = FileOutcome(file=name, status=result.status, branch=result.branch,
                          period=result.period, received_at=received,
                          findings=result.findings, counts=result.counts)
    stamp = received.timestamp()
    if result.status == ACCEPTED:
        target = unique_path(ws.received_path(result.period, result.branch, name, sha))
        ensure_writable(target.parent)
        meta.stored_path = target.relative_to(ws.root).as_posix()
        try:
            outcome.merge = archive.record_submission(meta, result.frames, result.rows, result.stored)
        except RepeatedRowsMissing:  # the branch's last file is not what validation saw: check in full
            result = validate_file(path, config, known_customers=archive.known_identities(),
                                   numbers=archive.archive_numbers())
            meta.compared_with = None
            outcome.merge = archive.record_submission(meta, result.frames, result.rows)
        merged = outcome.merge
        if not merged.stands:
            name, why = archive.standing_over(merged.submission_id, merged.superseded_by)
            outcome.note = f"本单位本月采用的是 {display_name(name)}（{why}），本文件已存档、不采用"
        elif merged.superseded:
            outcome.note = "更正重报，已替换本单位本月先前的报送"
        if merged.said_no_change:
            outcome.note = "；".join(filter(None, [outcome.note, merged.said_no_change.rstrip("。")]))
        if ahead is not None:  # (a 提示, but one the department wants to see: it is why another file may stand)
            outcome.note = "；".join(filter(None, [outcome.note, ahead.message.rstrip("。")]))
    else:
        target = ws.rejected_path(result.period, name, sha)
        ensure_writable(target.parent)
        meta.stored_path = target.relative_to(ws.root).as_posix()
        archive.record_rejected(meta, result.findings)
        outcome.feedback = _feedback(result, target)
    return _filed(outcome, path, target, sha, stamp, keep)


def ingest_document(ws: Workspace, archive: Archive, path: Path, doc: Document, config: Config,
                    received_override: dt.datetime | None = None, *, keep: bool = False) -> FileOutcome:
    """File a branch document under received/<半年度>/<单位>/ (or reject a badly named one)."""
    name = display_name(path.name)
    sha = sha256_of(path)
    received = received_time(path, received_override)
    outcome = FileOutcome(file=name, status=ACCEPTED, branch=doc.branch, period=doc.period, received_at=received,
                          note=doc.label)
    earlier = archive.document_by_sha256(sha)
    same = earlier is not None and (earlier["kind"], earlier["branch"], earlier["period"]) == (
        doc.kind, doc.branch, doc.period)  # the same bytes sent for another branch or half are filed again
    if same and earlier["status"] == ACCEPTED:
        stored = ws.root / earlier["stored_path"]
        if not stored.exists():
            outcome.note = "上次运行中断，已补完归档"
            return _filed(outcome, path, stored, sha, received.timestamp(), keep)
        outcome.status = SKIPPED
        outcome.note = f"与已归档的{doc.label}“{earlier['file_name']}”内容完全相同，已跳过"
        return _filed(outcome, path, ws.duplicate_path(name, sha, keep), sha, None, keep)
    findings = document_problems(doc, path, config)
    if findings:
        target = ws.rejected_path(doc.period, name, sha)
        outcome.status, outcome.findings, outcome.note = REJECTED, findings, findings[0].message
    else:
        target = unique_path(ws.received / doc.period / safe_name(doc.branch) / hashed_name(name, sha))
    ensure_writable(target.parent)
    archive.record_document({"kind": doc.kind, "branch": doc.branch, "period": doc.period, "file_name": name,
                             "sha256": sha, "received_at": received.isoformat(sep=" "), "status": outcome.status,
                             "findings": [f.as_dict() for f in findings],
                             "stored_path": target.relative_to(ws.root).as_posix()})
    if findings:
        from ..intake.feedback import write_feedback
        outcome.feedback = write_feedback(path, findings, target.parent, readable=False, stem=target.stem,
                                          file_label=name)
    return _filed(outcome, path, target, sha, received.timestamp(), keep)


def _file_away(path: Path, target: Path, sha: str, stamp: float, keep: bool) -> Path:
    if keep:  # a samples folder: copy, leave the original where it is
        import shutil
        if target.is_file() and target.stat().st_size == path.stat().st_size:  # kept before (duplicate_path)
            return target
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)
        return target
    return move_into_place(path, target, sha256=sha, stamp=stamp)


def _filed(outcome: FileOutcome, path: Path, target: Path, sha: str, stamp: float | None,
           keep: bool) -> FileOutcome:
    """``outcome`` once the file is filed away: the archive already holds what the outcome says, so a file
    that cannot be moved now (on Windows: open in Excel or WPS) stays in the inbox with a note, and is not
    judged again as a failure (which recorded it a second time, as rejected). The next run finishes the
    filing (``_finish``), or skips the leftover as a copy of what is filed (``_duplicate``)."""
    try:
        outcome.moved_to = _file_away(path, target, sha, stamp, keep)
    except OSError as exc:
        opened = isinstance(exc, PermissionError)
        why = "可能正在 Excel/WPS 中打开" if opened else exc.strerror or str(exc)
        what = "未能复制到归档文件夹" if keep else "原文件未能移出收件箱"
        then = "关闭该文件后" if opened else "处理好上述问题后"
        told = f"{what}（{why}），结果已记入档案：{then}再运行一次即可补完"
        outcome.note = "；".join(filter(None, [outcome.note, told]))
    return outcome


def _feedback(result: Result, target: Path) -> Path | None:
    """The feedback workbook beside the filed copy, named after it (a second rejection keeps the first)."""
    from ..intake.feedback import write_feedback
    return write_feedback(result.file, result.findings, target.parent, readable=readable(result),
                          stem=target.stem, file_label=target.name.split("__")[0] + target.suffix)


def _finish(ws: Workspace, archive: Archive, path: Path, earlier: dict, config: Config,
            keep: bool) -> FileOutcome:
    """A run died after committing this file: finish the journal, the feedback and the move."""
    stored = ws.root / earlier["stored_path"]
    archive.journal_submission(earlier["id"])
    outcome = FileOutcome(file=display_name(path.name), status=earlier["status"], branch=earlier.get("branch"),
                          period=earlier.get("period"), note="上次运行中断，已补完归档")
    if earlier["status"] == REJECTED:
        result = validate_file(path, config)
        outcome.findings = result.findings
        outcome.feedback = _feedback(result, stored)
    if earlier["status"] == "superseded":
        outcome.status = ACCEPTED
    received = dt.datetime.fromisoformat(earlier["received_at"]) if earlier.get("received_at") else None
    return _filed(outcome, path, stored, earlier["sha256"], received.timestamp() if received else None, keep)


def _duplicate(ws: Workspace, path: Path, name: str, sha: str, earlier: dict, keep: bool) -> FileOutcome:
    outcome = FileOutcome(file=name, status=SKIPPED, branch=earlier.get("branch"),
                          period=earlier.get("period"))
    outcome.note = f"与已归档的文件“{earlier['file_name']}”内容完全相同，已跳过"
    return _filed(outcome, path, ws.duplicate_path(name, sha, keep), sha, None, keep)


def _in_use(name: str) -> FileOutcome:
    """A file another program holds (on Windows, one open in Excel or WPS cannot be read or moved): left in the
    inbox, not judged, to be processed by the next run."""
    outcome = FileOutcome(file=name, status=LEFT)
    outcome.note = ("文件正被其他程序（如 Excel、WPS）打开，无法读取，仍留在收件箱："
                    "关闭该文件后再运行一次即可处理")
    return outcome


def _guard_failure(ws: Workspace, archive: Archive, path: Path, override, exc: Exception,
                   keep: bool = False) -> FileOutcome:
    """An unexpected failure on one file: a finding, the file under rejected/ (or quarantine/), go on."""
    name = display_name(path.name)
    if isinstance(exc, PermissionError) and path.exists():
        return _in_use(name)
    detail = f"{type(exc).__name__}: {str(exc)[:160]}"
    finding = make_finding("internal-error", name, detail=detail)
    outcome = FileOutcome(file=name, status=REJECTED, findings=[finding])
    try:
        sha = sha256_of(path)
    except OSError as failed:
        if not path.exists():
            return _vanished(path)
        if isinstance(failed, PermissionError):
            return _in_use(name)
        sha = ""
    try:
        received = received_time(path, override)
        target = ws.rejected_path(None, name, sha or "0" * 12)
        if sha:
            archive.record_rejected(SubmissionMeta(
                sha256=sha, file_name=name, branch="", period="", received_at=received,
                stored_path=target.relative_to(ws.root).as_posix()), [finding])
        from ..intake.feedback import write_feedback
        try:
            outcome.feedback = write_feedback(path, [finding], target.parent, readable=False,
                                              stem=target.stem, file_label=name)
        except Exception:  # noqa: BLE001 — the file is filed even without its feedback
            outcome.note = "反馈工作簿未能生成"
        if keep:  # a samples folder (or --keep): the original stays where it is
            outcome.moved_to = _file_away(path, target, sha, received.timestamp(), keep)
        else:
            outcome.moved_to = move_into_place(path, target, sha256=sha or None)
        return outcome
    except Exception:  # noqa: BLE001 — even filing failed: quarantine under a sanitised name
        if keep:
            outcome.status, outcome.note = LEFT, "无法归入 rejected/，文件留在原处，请人工查看"
            return outcome
        try:
            outcome.moved_to = move_into_place(path, ws.quarantine_path(name, sha))
            outcome.status = QUARANTINED
            outcome.note = "无法归入 rejected/，已移入 quarantine/ 隔离，请人工查看"
        except Exception:  # noqa: BLE001
            outcome.status = LEFT
            outcome.note = "无法移动该文件，已留在收件箱，请人工查看"
        return outcome
