"""The master customer archive (客户档案) in SQLite: the store — transactions, submissions, queries.

Why stdlib sqlite3: one file, real transactions (a killed run leaves the
archive as it was), no server, no ORM needed for a dozen tables.

Design: every accepted submission's clean rows are stored verbatim
(``sub_rows``; a row sent again unchanged shares its text in ``row_texts``).
The archive proper — customers, their per-branch views, projects, surveys,
complaints, visits and the field history — is derived by applying the live
(not superseded) submissions in order of (period, received_at, id). The common
case, a submission newer than everything applied, is applied incrementally; a
resubmission for a month or a file for an older month triggers a rebuild, so
the archive always equals what it would be had only the live files been sent,
in month order.

Natural keys (one row per key; a resubmission replaces, never appends):
- customer: 统一社会信用代码, else the normalised name (identity.normalize_name);
  a row without a code whose name matches a coded customer is that customer.
- customer × branch: the per-branch view (stage, proposed grade, contact, title,
  phone, e-mail, project department).
- project: 合同编号 (group-wide), else customer + normalised project name.
- survey: customer + branch + 调查日期 + project name.
- complaint: branch + 投诉编号, else customer + branch + 投诉时间.
- visit: customer + branch + 拜访日期 + 拜访人 + 沟通方式.

Customer ids are stable: a registry maps every identity key (``uscc:…`` /
``name:…``) to an id and is never rebuilt; review merges add aliases to it.
"""
from __future__ import annotations

import datetime as dt
import json
import sqlite3
import threading
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import groupby, repeat
from operator import itemgetter
from pathlib import Path

import numpy as np
import pandas as pd

from schemas import labels
from schemas.columns import COVER, CUSTOMERS, DATA_SHEETS, SHEETS_BY_KEY

from ..errors import ArchiveError
from ..findings import Finding, make_finding
from ..identity import normalize_name
from ..periods import add_months
from . import merge
from .journal import Journal
from .merge import MergeResult
from .schema import (BRANCH_FIELDS, CUSTOMER_FIELDS, MIGRATIONS, RECORD_ENTITIES, SCHEMA, SCHEMA_OBJECTS,
                     SCHEMA_VERSION, as_stored, loads, rows_in, rows_outside_texts, typed)
from .workspace import read_only_uri

# Words in a file name that mark a correction (更正重报): with the same received time and cover
# date, such a file is taken as the later one.
CORRECTION_WORDS = ("更正", "修正", "修订", "补报", "重报", "更新", "修改")
LIVE = ("accepted", "superseded")

__all__ = ["Archive", "MergeResult", "SubmissionMeta", "BRANCH_FIELDS", "CUSTOMER_FIELDS"]


@dataclass
class SubmissionMeta:
    """What the archive records about one submitted file."""

    sha256: str
    file_name: str
    branch: str
    period: str
    received_at: dt.datetime
    no_change: bool = False
    counts: dict = field(default_factory=dict)
    warnings: int = 0
    stored_path: str = ""
    filled_on: str | None = None       # the cover's 填报日期, orders files received at the same time
    ingested_at: str | None = None     # set when a rebuild restores a submission
    id: int | None = None              # set when a rebuild restores a submission
    compared_with: int | None = None   # the branch's file whose unchanged rows were not validated again
    prefilled: bool = False            # a pre-filled workbook: when it changes nothing, it is 无变化
    notes: list = field(default_factory=list)  # an accepted file's warnings (as findings' dicts)
    filler: str | None = None          # the cover's 填报人 and 联系电话 (the next pre-filled cover shows them)
    filler_phone: str | None = None
    prefill_as_of: str | None = None   # this month's pre-filled workbook: the month its rows show (merge.Merger)


def said_no_change(meta: SubmissionMeta, result) -> Finding:
    """The 提示 of a file whose cover says 无变化 over rows that changed the archive (``result``: its merge)."""
    changes = "，".join(f"{what} {n} 项" for what, n in (
        (labels.label("new_customers"), result.new_customers), ("客户信息变更", result.changed_fields),
        ("新增记录", result.new_records), ("记录变更", result.changed_records)) if n)
    return make_finding("cover-said-no-change", meta.file_name, sheet=COVER.name, detail=changes)


@dataclass
class Standing:
    """A branch-month after one of its files was withdrawn or reinstated: the file that stands now (None: none
    does) and the customers in the archive before and after."""

    submission_id: int | None
    file_name: str | None
    customers_before: int
    customers_after: int


class _Previewed(Exception):
    """Ends a transaction made only to see what it would do (``Archive.withdraw(preview=True)``): it is rolled back."""

    def __init__(self, standing: Standing):
        super().__init__()
        self.standing = standing


def _now() -> str:
    """The time a decision or a file is recorded at, as the archive writes it (2026-10-24 15:30:00)."""
    return dt.datetime.now().isoformat(sep=" ", timespec="seconds")


def _standing_key(received_at: str, filled_on: str | None, file_name: str, sid: int) -> tuple:
    """Which of a branch-month's accepted files stands: the last received, then the last filled in,
    then a name marked as a correction, then the name, then the last filed."""
    correction = any(word in (file_name or "") for word in CORRECTION_WORDS)
    return (received_at or "", filled_on or "", correction, file_name or "", sid)


def standing_reason(this: tuple, other: tuple) -> str:
    """Why ``other`` stands over ``this`` (both ``_standing_key``s), as a clerk would say it."""
    if other[0] != this[0]:
        return "它收到得更晚"
    if other[1] != this[1]:
        return "两份收件时间相同，它的封面填报日期更晚"
    if other[2] != this[2]:
        return "两份收件时间与封面填报日期都相同，它的文件名注明了更正"
    return "两份收件时间与封面填报日期都相同，按文件名的顺序"


WAL_AUTOCHECKPOINT = 1000  # pages: SQLite's default
EVERY_ID = (-2**63, 2**63 - 1)  # customer-id bounds that hold every customer


def _ranges(starts: list[int], within: tuple[int, int] = EVERY_ID) -> list[tuple[int, int]]:
    """Consecutive id bounds (first, last) covering ``within``, a new one beginning at each of ``starts``."""
    lows = [within[0], *starts]
    return [(low, high - 1) for low, high in zip(lows, starts)] + [(lows[-1], within[1])]


class Archive:
    """The archive database; use as a context manager.

    ``journal`` (the workspace's received/归档日志.jsonl) receives every write that the filed
    workbooks cannot reproduce; ``check`` runs SQLite's quick check at open and refuses a
    damaged file (``check="before-writing"``: the check runs on a thread of its own from the open, and the
    first write or read transaction, or ``verified``, waits for it and refuses a damaged file then).
    ``read_only`` opens an archive this run already opened for writing, to read it in a
    helper process (no schema check or upgrade, no writes).
    """

    def __init__(self, path: Path, *, similarity_threshold: float = 85.0,
                 journal: Journal | None = None, check: bool | str = False, read_only: bool = False,
                 upgrading: Callable[[int, int], None] | None = None):
        self.path = Path(path)
        self.similarity_threshold = float(similarity_threshold)
        self.journal = journal
        self._names = None  # customer names for the look-alike search, kept between submissions of a run
        self._snapshots: dict[tuple, dict[str, pd.DataFrame]] = {}  # by snapshot_key, the last few
        self._checkpoint = None  # the thread copying the write-ahead log (checkpoints_later)
        self._checking = None  # the thread running the quick check (check="before-writing")
        self._damage = None  # what it found
        if read_only:  # a helper process reading what this run's main process committed: no schema work
            self.conn = sqlite3.connect(read_only_uri(self.path), uri=True, isolation_level=None, timeout=30)
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.conn = sqlite3.connect(str(self.path), isolation_level=None, timeout=30)
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute("PRAGMA synchronous=NORMAL")
            if check == "before-writing":
                self._check_in_background()
            elif check:
                self._quick_check()
            if not self._schema_complete():  # tables or indexes to create: never written onto a damaged file
                self.verified()
                self.conn.executescript(SCHEMA)
                self.conn.execute("INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)",
                                  (str(SCHEMA_VERSION),))
            self._migrate(upgrading)
        except sqlite3.DatabaseError as exc:
            raise damaged(self.path, exc) from None

    def _schema_complete(self) -> bool:
        """Whether every table and index of SCHEMA exists and the schema version is recorded."""
        present = {name for (name,) in self.conn.execute("SELECT name FROM sqlite_master")}
        if not SCHEMA_OBJECTS <= present:
            return False
        return self.conn.execute("SELECT 1 FROM meta WHERE key = 'schema_version'").fetchone() is not None

    def _quick_check(self) -> None:
        problem = _quick_check(self.conn)
        if problem:
            raise damaged(self.path, problem)

    def _check_in_background(self) -> None:
        """The quick check on a connection of its own (SQLite lets go of Python while it reads the whole file):
        a run reads what it needs and validates its first files meanwhile, and ``verified`` waits for it."""
        path = str(self.path)

        def check() -> None:
            try:
                conn = sqlite3.connect(path, isolation_level=None, timeout=30)
                try:
                    self._damage = _quick_check(conn)
                finally:
                    conn.close()
            except sqlite3.DatabaseError as exc:
                self._damage = str(exc) or type(exc).__name__

        self._checking = threading.Thread(target=check, name="crm-quick-check")
        self._checking.start()

    def verified(self) -> None:
        """Wait for the quick check started at open (if any) and refuse a damaged archive: nothing written yet."""
        if self._checking is not None:
            self._checking.join()
            self._checking = None
        if self._damage:
            raise damaged(self.path, self._damage)

    def _migrate(self, upgrading: Callable[[int, int], None] | None = None) -> None:
        """Upgrade an archive of an older schema, step by step (``upgrading`` is told first: from, to)."""
        version = int(self.conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0])
        if version < SCHEMA_VERSION and upgrading is not None:
            upgrading(version, SCHEMA_VERSION)
        compact = rows_outside_texts(self.conn)  # they move to row_texts: give the pages they held back to the disk
        while version < SCHEMA_VERSION:
            with self.transaction():
                step = MIGRATIONS[version]
                if callable(step):
                    step(self.conn)
                else:
                    for statement in filter(str.strip, step.split(";")):
                        self.conn.execute(statement)  # executescript would commit half-way
                version += 1
                self.conn.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(version),))
        if compact:
            self.verified()
            try:
                self.conn.execute("VACUUM")
            except sqlite3.OperationalError:
                pass  # another process is reading: the freed pages are reused by the next files instead

    def __enter__(self) -> "Archive":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        if self._checking is not None:
            self._checking.join()
            self._checking = None
        if self._checkpoint is not None:
            self._checkpoint.join()
            self._checkpoint = None
        self.conn.close()

    # -- the write-ahead log --------------------------------------------------

    @contextmanager
    def checkpoints_later(self):
        """Commit a run of files without copying the write-ahead log into the archive file at each commit
        (SQLite's automatic checkpoint): the copy is made once, by ``checkpoint_in_background`` or when the
        archive closes.

        Each file is still its own committed transaction, recovered from the log after a crash; the
        automatic checkpoints copied the same pages over and over, a tenth of a large month's merge."""
        self.conn.execute("PRAGMA wal_autocheckpoint=0")
        try:
            yield
        finally:
            self.conn.execute(f"PRAGMA wal_autocheckpoint={WAL_AUTOCHECKPOINT}")

    def checkpoint_in_background(self) -> None:
        """Copy the write-ahead log into the archive file on a thread of its own while this process goes on
        (``close`` waits for it): after a run of files, while the month's report is written."""
        if self._checkpoint is not None:
            self._checkpoint.join()
        path = str(self.path)

        def copy() -> None:
            try:  # a connection of its own: SQLite lets a checkpoint run beside this run's readers
                conn = sqlite3.connect(path, isolation_level=None, timeout=30)
                try:
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
                finally:
                    conn.close()
            except sqlite3.Error:
                pass  # the archive's own connection checkpoints when it closes

        self._checkpoint = threading.Thread(target=copy, name="crm-checkpoint")
        self._checkpoint.start()

    def forget_names(self) -> None:
        """Let go of the customer names kept for the look-alike search between the files of a run (read
        again when the next file needs them)."""
        self._names = None

    # -- transactions -------------------------------------------------------

    @contextmanager
    def transaction(self):
        """One write transaction: all of it is committed, or none of it."""
        self.verified()
        try:
            self.conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise _write_error(self.path, exc) from None
        try:
            yield
        except sqlite3.OperationalError as exc:
            self.conn.execute("ROLLBACK")
            self._names = None
            raise _write_error(self.path, exc) from None
        except BaseException:
            self.conn.execute("ROLLBACK")
            self._names = None
            raise
        try:
            self.conn.execute("COMMIT")
        except sqlite3.OperationalError as exc:
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            self._names = None
            raise _write_error(self.path, exc) from None

    @contextmanager
    def reading(self):
        """One read transaction: every query inside sees the same state, even while an ingest runs.
        Inside a transaction already (a command that reads the archive, calling code that reads in parts),
        it is that transaction."""
        if self.conn.in_transaction:
            yield
            return
        self.verified()
        self.conn.execute("BEGIN")
        try:
            yield
        finally:
            if self.conn.in_transaction:
                self.conn.execute("COMMIT")

    def _journal(self, event: dict) -> None:
        if self.journal is not None:
            self.journal.append(event)

    # -- submissions --------------------------------------------------------

    def _row(self, table: str, keys: tuple[str, ...], where: str, value) -> dict | None:
        """One row of a table as a dict of ``keys`` (the latest, when ``where`` matches several), or None."""
        row = self.conn.execute(f"SELECT {', '.join(keys)} FROM {table} WHERE {where} = ? "
                                "ORDER BY id DESC LIMIT 1", (value,)).fetchone()
        return None if row is None else dict(zip(keys, row))

    def submission_by_sha256(self, sha: str) -> dict | None:
        """The latest submission of these exact bytes, or None."""
        return self._row("submissions", ("id", "sha256", "file_name", "branch", "period", "status",
                                         "stored_path", "received_at"), "sha256", sha)

    def has_sha256(self, sha: str) -> bool:
        return self.submission_by_sha256(sha) is not None

    def submission(self, sid: int) -> dict | None:
        return self._row("submissions", ("id", "sha256", "file_name", "branch", "period", "received_at", "status",
                                         "no_change", "stored_path", "ingested_at", "filled_on", "compared_with"),
                         "id", sid)

    def _read(self, query: str, period: str | None, order: str = "id") -> pd.DataFrame:
        """A table's rows as a frame, all of them or one period's, in ``order``."""
        where, args = (" WHERE period = ?", (period,)) if period else ("", ())
        return pd.read_sql_query(f"{query}{where} ORDER BY {order}", self.conn, params=args)

    def count_submissions(self) -> int:
        return self.conn.execute("SELECT COUNT(*) FROM submissions").fetchone()[0]

    def count_filed(self) -> int:
        """The files recorded as filed under received/ and rejected/: workbooks and branch documents."""
        return self.conn.execute("SELECT (SELECT COUNT(*) FROM submissions) + (SELECT COUNT(*) FROM documents)"
                                 ).fetchone()[0]

    def stored_paths(self) -> set[str]:
        return {p for (p,) in self.conn.execute("SELECT stored_path FROM submissions") if p}

    def submissions(self, period: str | None = None, *, findings: bool = True) -> pd.DataFrame:
        """Every file received (or one month's), in the order received. ``findings=False`` leaves out each file's
        findings, the bulk of the table (some 5 KB a file: 60 MB after ten years of a hundred branches)."""
        return self._submissions("period = ?" if period else "1", (period,) if period else (), findings)

    def latest_period(self) -> str | None:
        """The latest month any file was received for (None: none yet)."""
        return self.conn.execute("SELECT MAX(period) FROM submissions WHERE period != ''").fetchone()[0]

    def returned_without_month(self, month: str) -> pd.DataFrame:
        """The files returned without a month to file them under (rejected/未识别月份/) that were received in calendar
        month ``month``, as ``submissions`` lists them."""
        return self._submissions("status = 'rejected' AND period = '' AND received_at >= ? AND received_at < ?",
                                 (f"{month}-01", f"{add_months(month, 1)}-01"), True)

    def _submissions(self, where: str, args: tuple, findings: bool) -> pd.DataFrame:
        """The submissions ``where`` holds, as ``submissions`` lists them."""
        frame = pd.read_sql_query(
            "SELECT id, sha256, file_name, branch, period, received_at, status, no_change, counts, warnings, errors, "
            f"{'findings, ' if findings else ''}stored_path, ingested_at, filled_on, w.reason AS withdrawn_reason "
            f"FROM submissions LEFT JOIN withdrawals w ON w.submission_id = id WHERE {where} ORDER BY id",
            self.conn, params=args)
        frame["received_at"] = pd.to_datetime(frame["received_at"])
        frame["withdrawn_reason"] = frame["withdrawn_reason"].fillna("")  # (text: "" when not withdrawn, or no reason)
        frame["no_change"] = frame["no_change"].astype(bool)
        frame["counts"] = [json.loads(text or "{}") for text in frame["counts"]]
        if findings:
            frame["findings"] = [json.loads(text or "[]") for text in frame["findings"]]
        return frame

    def findings_of(self, submission_id: int) -> list[dict]:
        """One file's findings, as ``submissions`` gives them."""
        row = self.conn.execute("SELECT findings FROM submissions WHERE id = ?", (submission_id,)).fetchone()
        return json.loads(row[0] or "[]") if row else []

    def _insert_submission(self, meta: SubmissionMeta, status: str, errors: int = 0,
                           findings: list | None = None) -> int:
        ingested = meta.ingested_at or _now()
        cur = self.conn.execute(
            "INSERT INTO submissions (id, sha256, file_name, branch, period, received_at, status, "
            "no_change, counts, warnings, errors, findings, stored_path, ingested_at, filled_on, compared_with, "
            "filler, filler_phone, prefill_as_of) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (meta.id, meta.sha256, meta.file_name, meta.branch, meta.period,
             meta.received_at.isoformat(sep=" "), status, int(meta.no_change),
             json.dumps(meta.counts, ensure_ascii=False), meta.warnings, errors,
             json.dumps(findings or [], ensure_ascii=False), meta.stored_path, ingested, meta.filled_on,
             meta.compared_with, meta.filler, meta.filler_phone, meta.prefill_as_of))
        meta.ingested_at = ingested
        return cur.lastrowid

    def _journal_submission(self, sid: int, meta: SubmissionMeta, status: str) -> None:
        self._journal({"type": "submission", "id": sid, "sha256": meta.sha256, "file_name": meta.file_name,
                       "branch": meta.branch, "period": meta.period,
                       "received_at": meta.received_at.isoformat(sep=" "), "status": status,
                       "stored_path": meta.stored_path, "filled_on": meta.filled_on,
                       "ingested_at": meta.ingested_at, "compared_with": meta.compared_with})

    def journal_submission(self, sid: int) -> None:
        """Append a committed submission the journal missed (a run killed between the two)."""
        if self.journal is None or sid in self.journal.submission_ids():
            return
        row = self.submission(sid)
        meta = SubmissionMeta(sha256=row["sha256"], file_name=row["file_name"], branch=row["branch"],
                              period=row["period"], received_at=dt.datetime.fromisoformat(row["received_at"]),
                              stored_path=row["stored_path"], filled_on=row["filled_on"],
                              ingested_at=row["ingested_at"], compared_with=row["compared_with"])
        self._journal_submission(sid, meta, "rejected" if row["status"] == "rejected" else "accepted")

    def record_rejected(self, meta: SubmissionMeta, findings: list) -> int:
        """Record a rejected file (its errors first), in one transaction."""
        top = [f.as_dict() for f in sorted(findings, key=lambda f: f.severity != "error")[:20]]
        errors = sum(f.severity == "error" for f in findings)
        with self.transaction():
            sid = self._insert_submission(meta, "rejected", errors, top)
        self._journal_submission(sid, meta, "rejected")
        return sid

    def record_submission(self, meta: SubmissionMeta, frames: dict[str, pd.DataFrame],
                          rows: dict | None = None, stored: dict | None = None) -> MergeResult:
        """Store and merge an accepted submission, in one transaction.

        ``rows`` (per sheet: raw hashes, positions of the clean rows and of the repeated ones) comes from
        validation; repeated rows are copied from ``meta.compared_with``, the branch's file validation
        compared this one with. ``stored`` (``schema.stored_texts``, made by a validation worker) stands for the
        clean rows of the sheets it has, instead of their ``frames``.
        """
        with self.transaction():
            result = self._record(meta, frames, rows or {}, meta.compared_with, stored or {})
            changed = (result.new_customers or result.changed_fields or result.new_records
                       or result.changed_records)
            if meta.prefilled and result.stands and not changed:
                # a pre-filled workbook sent back as it was: every row 无变化
                self.conn.execute("UPDATE submissions SET no_change = 1 WHERE id = ?", (result.submission_id,))
                meta.no_change = True
            elif meta.no_change and changed:
                # its cover says 无变化, its rows say otherwise: the rows count, its status is not 无变化, and the
                # file keeps a 提示 saying so (in the month's summary, as its other 提示)
                said = said_no_change(meta, result)
                meta.notes = [*meta.notes, said.as_dict()]
                self.conn.execute("UPDATE submissions SET no_change = 0, findings = ?, warnings = warnings + 1 "
                                  "WHERE id = ?", (json.dumps(meta.notes[:MAX_NOTES], ensure_ascii=False),
                                                   result.submission_id))
                meta.no_change, result.said_no_change = False, said.message
        self._journal_submission(result.submission_id, meta, "accepted")
        return result

    def _record(self, meta: SubmissionMeta, frames: dict[str, pd.DataFrame], rows: dict,
                reused_from: int | None, stored: dict) -> MergeResult:
        sid = self._insert_submission(meta, "accepted", findings=meta.notes[:MAX_NOTES])
        inserts, row_texts = [], []
        text_id = self.conn.execute("SELECT COALESCE(MAX(id), 0) FROM row_texts").fetchone()[0]
        texts: dict[str, list[tuple]] = {}  # the rows as stored (text id, text, hash), for the merge
        data: dict[str, list[dict]] = {}
        repeated: list[tuple[str, int, int]] = []
        for sheet in DATA_SHEETS:
            frame = frames.get(sheet.key)
            info = rows.get(sheet.key)
            if info is not None and info.reused:
                repeated += [(sheet.key, seq, info.hashes[seq]) for seq in info.reused]
            if sheet.key in stored:  # as stored already: the rows are read back from their texts
                sheet_texts, digests = stored[sheet.key]
                data[sheet.key] = loads("[" + ",".join(sheet_texts) + "]")
            elif frame is not None and len(frame):
                data[sheet.key], sheet_texts, digests = as_stored(sheet, frame)
            else:
                continue
            seqs = info.seqs if info is not None else range(len(data[sheet.key]))
            for seq, text, digest in zip(seqs, sheet_texts, digests or repeat(None)):
                text_id += 1
                texts.setdefault(sheet.key, []).append((text_id, text, digest))
                row_texts.append((text_id, text))
                inserts.append((sid, sheet.key, seq, text_id, info.hashes[seq] if info is not None else None, digest))
        self.conn.executemany("INSERT INTO row_texts (id, data) VALUES (?,?)", row_texts)
        self.conn.executemany("INSERT INTO sub_rows (submission_id, entity, seq, text_id, raw_hash, row_hash) "
                              "VALUES (?,?,?,?,?,?)", inserts)
        reused = self._copy_repeated(sid, reused_from, repeated) if repeated else []
        # Of a branch-month's accepted files the one received last stands (see _standing_key),
        # whatever order they were processed in.
        siblings, stands = self._live_files(meta.branch, meta.period)
        standing = stands[0]  # (this file is one of them)
        previous = [r[0] for r in siblings if r[4] == "accepted" and r[0] != sid]
        if standing != sid:
            self.conn.execute("UPDATE submissions SET status = 'superseded' WHERE id = ?", (sid,))
            return MergeResult(submission_id=sid, stands=False, superseded_by=standing)
        if previous:
            self.conn.executemany("UPDATE submissions SET status = 'superseded' WHERE id = ?",
                                  [(p,) for p in previous])
        # Applied on top only when it comes last in the order the archive is derived in; a correction, a file
        # of an older month or one received before files already merged is put in its place by a replay.
        if previous or not merge.applies_last(self.conn, sid, meta.period):
            self._names = None
            result = merge.replay(self.conn, self.similarity_threshold, target=sid)
            result.superseded = previous[-1] if previous else None
            result.rebuilt = True
        else:  # the rows in hand: no need to read them back
            if self._names is None:
                self._names = merge.NameIndex.load(self.conn)
            result = merge.apply(self.conn, sid, self.similarity_threshold, data, names=self._names,
                                 repeated=reused, texts=texts)
        result.submission_id = sid
        return result

    def _copy_repeated(self, sid: int, source: int | None, repeated: list[tuple[str, int, int]]) -> list[tuple]:
        """Note the rows a file repeats from the branch's last file (their stored values are shared, not
        copied); returns (seq, row hash) of the repeated customer rows. Raises RepeatedRowsMissing when a
        row is not there (validate the file again)."""
        first: dict[tuple[str, int], tuple] = {}  # (sheet, raw hash) → (text id, row hash) of its first row there
        for entity, digest, text_id, row_hash in self.conn.execute(
                "SELECT entity, raw_hash, text_id, row_hash FROM sub_rows WHERE submission_id = ?", (source,)):
            first.setdefault((entity, digest), (text_id, row_hash))
        found = [first.get((entity, digest)) for entity, _, digest in repeated]
        missing = found.count(None)
        if missing:
            raise RepeatedRowsMissing(f"{missing} 行在上次的报送中找不到")
        copies = [(sid, entity, seq, *stored, digest) for (entity, seq, digest), stored in zip(repeated, found)]
        self.conn.executemany("INSERT INTO sub_rows (submission_id, entity, seq, text_id, row_hash, raw_hash) "
                              "VALUES (?,?,?,?,?,?)", copies)
        return sorted((seq, row_hash) for _, entity, seq, _, row_hash, _ in copies if entity == "customers")

    # -- withdrawing an accepted file -----------------------------------------------------------

    def withdraw(self, sid: int, reason: str, by: str = labels.DEPARTMENT, at: str | None = None, *,
                 preview: bool = False) -> Standing:
        """Take an accepted file out of the archive (it was filed under the wrong branch or month, or should not
        have been sent): the archive becomes what it would be had the file never come, another file of its
        branch-month (if any) stands again, and the file stays where it was filed. One transaction;
        ``preview``: what it would do, nothing kept."""
        now = at or _now()
        try:
            with self.transaction():
                row = self.submission(sid)
                if row is None or row["status"] not in LIVE:
                    raise ArchiveError(f"编号为 {sid} 的报送不是已归档的文件，无法撤销。")
                self.conn.execute("UPDATE submissions SET status = 'withdrawn' WHERE id = ?", (sid,))
                self.conn.execute("INSERT OR REPLACE INTO withdrawals (submission_id, withdrawn_at, withdrawn_by, "
                                  "reason) VALUES (?,?,?,?)", (sid, now, by, reason))
                standing = self._stand_again(row["branch"], row["period"])
                if preview:
                    raise _Previewed(standing)
        except _Previewed as seen:  # (rolled back)
            return seen.standing
        self._journal({"type": "withdrawal", "id": sid, "reason": reason, "by": by, "at": now})
        return standing

    def reinstate(self, sid: int, by: str = labels.DEPARTMENT, at: str | None = None) -> Standing:
        """Undo ``withdraw``: the file counts again, in its place among its branch-month's files. One transaction."""
        now = at or _now()
        with self.transaction():
            row = self.submission(sid)
            if row is None or row["status"] != "withdrawn":
                raise ArchiveError(f"编号为 {sid} 的报送没有被撤销，无需恢复。")
            self.conn.execute("UPDATE submissions SET status = 'superseded' WHERE id = ?", (sid,))
            self.conn.execute("DELETE FROM withdrawals WHERE submission_id = ?", (sid,))
            standing = self._stand_again(row["branch"], row["period"])
        self._journal({"type": "reinstatement", "id": sid, "by": by, "at": now})
        return standing

    def _stand_again(self, branch: str, period: str) -> Standing:
        """After a file of ``branch``-``period`` left or came back: the file received last of those left stands,
        and the archive is derived again from the live files (inside the caller's transaction)."""
        before = self.conn.execute("SELECT COUNT(*) FROM customers").fetchone()[0]
        siblings, standing = self._live_files(branch, period)
        self.conn.executemany("UPDATE submissions SET status = ? WHERE id = ?",
                              [("accepted" if r is standing else "superseded", r[0]) for r in siblings])
        self._names = None
        merge.replay(self.conn, self.similarity_threshold)
        after = self.conn.execute("SELECT COUNT(*) FROM customers").fetchone()[0]
        return Standing(standing[0] if standing else None, standing[3] if standing else None, before, after)

    def _live_files(self, branch: str, period: str) -> tuple[list[tuple], tuple | None]:
        """A branch-month's live files, (id, received_at, filled_on, file_name, status) each, and the one of them
        that stands (``_standing_key``; None: there is none)."""
        files = self.conn.execute(
            "SELECT id, received_at, filled_on, file_name, status FROM submissions WHERE branch = ? AND period = ? "
            "AND status IN (?, ?)", (branch, period, *LIVE)).fetchall()
        return files, max(files, key=lambda r: _standing_key(r[1], r[2], r[3], r[0]), default=None)

    def withdrawal(self, sid: int) -> dict | None:
        """When, by whom and why a file was withdrawn (None: it is not)."""
        row = self.conn.execute("SELECT withdrawn_at, withdrawn_by, reason FROM withdrawals WHERE submission_id = ?",
                                (sid,)).fetchone()
        return None if row is None else dict(zip(("at", "by", "reason"), row))

    def record_keys(self, branch: str, entity: str = "projects") -> set[str]:
        """The keys of the records (projects) ``branch`` has sent, whichever branch sent them first."""
        return {key for (key,) in self.conn.execute("SELECT key FROM record_branches WHERE entity = ? AND branch = ?",
                                                    (entity, branch))}

    def standing_over(self, sid: int, other: int) -> tuple[str, str]:
        """The file name of submission ``other``, which stands over ``sid`` in their branch-month, and why."""
        keys = {i: (_standing_key(received, filled, name, i), name) for i, received, filled, name in self.conn.execute(
            "SELECT id, received_at, filled_on, file_name FROM submissions WHERE id IN (?, ?)", (sid, other))}
        return keys[other][1], standing_reason(keys[sid][0], keys[other][0])

    def last_filler(self, branch: str, before: str) -> tuple[str | None, str | None]:
        """The 填报人 and 联系电话 on the cover of the branch's last accepted file for a month before ``before``."""
        row = self.conn.execute(
            "SELECT filler, filler_phone FROM submissions WHERE branch = ? AND status = 'accepted' AND period < ? "
            "AND filler IS NOT NULL ORDER BY period DESC, received_at DESC, id DESC LIMIT 1",
            (branch, before)).fetchone()
        return (row[0], row[1]) if row else (None, None)

    def known_rows(self, only: int | None = None) -> dict[str, tuple[int, dict]]:
        """Per branch: its last accepted submission and the raw hashes of its rows, by sheet (for validation
        to skip the rows a branch sends again unchanged). ``only``: that submission's rows only."""
        latest: dict[str, int] = {}
        if only is not None:
            row = self.conn.execute("SELECT branch FROM submissions WHERE id = ?", (only,)).fetchone()
            latest = {row[0]: only} if row else {}
        else:
            for sid, branch in self.conn.execute("SELECT id, branch FROM submissions WHERE status = 'accepted' "
                                                 "ORDER BY period, received_at, id"):
                latest[branch] = sid
        out: dict[str, tuple[int, dict]] = {}
        for branch, sid in latest.items():  # a submission at a time: only its rows are held as Python objects
            hashes: dict[str, list[int]] = {}
            for entity, digest in self.conn.execute("SELECT entity, raw_hash FROM sub_rows WHERE submission_id = ? "
                                                    "AND raw_hash IS NOT NULL", (sid,)):
                hashes.setdefault(entity, []).append(digest)
            if hashes:
                out[branch] = (sid, {entity: np.array(values, dtype="int64") for entity, values in hashes.items()})
        return out

    # -- replay -------------------------------------------------------------

    def rebuild(self) -> None:
        """Re-derive the archive from the live submissions, in one transaction."""
        self._names = None
        with self.transaction():
            merge.replay(self.conn, self.similarity_threshold)

    # -- identity -----------------------------------------------------------

    def customer_id_for(self, key: str) -> int | None:
        row = self.conn.execute("SELECT customer_id FROM customer_ids WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def known_identities(self) -> set[str]:
        """Credit codes and normalised names archived customers are known by (for reference checks): what the
        merge finds a row's customer by, a customer's former names included (a complaint filed before the
        customer was renamed names it by the old name, and so does the pre-filled workbook)."""
        return {key.split(":", 1)[1] for (key,) in self.conn.execute("SELECT key FROM customer_ids")}

    def known_of(self, identities: set[str]) -> set[str]:
        """Which of these credit codes or normalised names archived customers are known by (indexed lookups)."""
        keys = sorted(f"{kind}:{value}" for value in identities for kind in ("uscc", "name"))
        return {key.split(":", 1)[1] for (key,) in rows_in(
            self.conn, "SELECT key FROM customer_ids WHERE key IN ({marks})", keys)}

    # -- reading ------------------------------------------------------------

    # Periods a snapshot compares with its month: which of them are at or before the month decides it.
    _SNAPSHOT_PERIODS = ("SELECT MAX(first_period) FROM customers WHERE first_period <= :m",
                         "SELECT MAX(first_period) FROM customer_branches WHERE first_period <= :m",
                         "SELECT MAX(first_period) FROM records WHERE first_period <= :m",
                         "SELECT MAX(period) FROM reports WHERE period <= :m",
                         "SELECT MAX(period) FROM history WHERE period <= :m",
                         "SELECT MAX(effective_period) FROM grade_adjustments WHERE effective_period <= :m",
                         "SELECT MIN(period) FROM history WHERE period > :m")
    SNAPSHOTS_KEPT = 3
    SNAPSHOT_CHUNK = 2_000   # rows decoded at a time: memory holds one chunk's dicts and text, not the archive's
    SNAPSHOT_PART = 10_000   # customers in each part of snapshot_parts

    def snapshot_key(self, as_of: str | None = None) -> tuple:
        """What a snapshot as of ``as_of`` depends on: two months with the same key have the same snapshot
        (e.g. every month after the last one with data), and any write to the archive changes the key."""
        limit = as_of or "9999-12"
        periods = tuple(self.conn.execute(q, {"m": limit}).fetchone()[0] for q in self._SNAPSHOT_PERIODS)
        version = self.conn.execute("PRAGMA data_version").fetchone()[0]
        return periods, self.conn.total_changes, version

    def snapshot(self, as_of: str | None = None, *, key: tuple | None = None) -> dict[str, pd.DataFrame]:
        """The archive as it stood at the end of month ``as_of`` (default: now).

        The last few snapshots are kept (reports ask for the same months several times); each
        caller gets its own copy. ``key``: ``snapshot_key(as_of)``, when the caller has just taken it.
        """
        key = key or self.snapshot_key(as_of)
        cache = self._snapshots
        if key not in cache:
            if len(cache) >= self.SNAPSHOTS_KEPT:
                cache.pop(next(iter(cache)))
            cache[key] = self._snapshot(as_of or "9999-12")
        return {name: frame.copy() for name, frame in cache[key].items()}

    def snapshot_parts(self, as_of: str | None = None, customers: int | None = None):
        """The snapshot as of month ``as_of`` in parts of at most ``customers`` customers each, with their
        per-branch views and records, in customer order: for figures that look at one customer at a time,
        so memory holds one part however large the archive. All parts are read in one transaction."""
        with self.reading():
            for bounds in self.snapshot_bounds(as_of, customers):
                yield self.snapshot_part(as_of, bounds)

    def snapshot_bounds(self, as_of: str | None = None, customers: int | None = None,
                        among: list[int] | None = None, within: tuple[int, int] = EVERY_ID) -> list[tuple[int, int]]:
        """The customer ids (first, last) of each part of ``snapshot_parts``: parts as even as can be (one
        customer apart), at most ``customers`` each. Together they cover every id ``within`` those bounds, the
        records' too. ``among``: only these customers are counted (those the parts are to read), in order."""
        ids = among if among is not None else self._archived_ids(as_of, within)
        count = max(1, -(-len(ids) // (customers or self.SNAPSHOT_PART)))
        count = min(count, max(len(ids), 1))
        return _ranges([ids[i * len(ids) // count] for i in range(1, count)], within)

    def share_bounds(self, as_of: str | None, weights: list[float], least: int = 1) -> list[tuple[int, int]]:
        """The customer ids (first, last) of each share of the customers archived by the end of month ``as_of``,
        in proportion to ``weights`` (one share per process working them out), when each would hold at least
        ``least`` customers; else one share of them all. Together they cover every id."""
        ids = self._archived_ids(as_of)
        if len(ids) < len(weights) * max(least, 1):
            return [EVERY_ID]
        total = sum(weights)
        ends = [sum(weights[:n + 1]) / total for n in range(len(weights) - 1)]
        return _ranges([ids[int(end * len(ids))] for end in ends])

    def _archived_ids(self, as_of: str | None, within: tuple[int, int] = EVERY_ID) -> list[int]:
        with self.reading():
            return [cid for (cid,) in self.conn.execute(
                "SELECT id FROM customers WHERE first_period <= ? AND id BETWEEN ? AND ? ORDER BY id",
                (as_of or "9999-12", *within))]

    def snapshot_part(self, as_of: str | None, bounds: tuple[int, int], wanted: list[int] | None = None,
                      entities: tuple[str, ...] = RECORD_ENTITIES, whole: tuple[str, ...] = ()
                      ) -> dict[str, pd.DataFrame]:
        """One part of ``snapshot_parts``: the customers with ids within ``bounds`` (``snapshot_bounds``).

        ``wanted`` (ids from ``customers_where``): only these customers, their views and their records are
        read, but for the record kinds in ``whole``, read for every customer within ``bounds``. ``entities``:
        the kinds of records read (the others are not in the part)."""
        with self.reading():
            return self._snapshot(as_of or "9999-12", bounds, wanted, entities, whole)

    def customers_where(self, as_of: str | None, any_of: list[dict[str, list]],
                        within: tuple[int, int] = EVERY_ID) -> list[int]:
        """The ids, in order, of the customers archived by the end of month ``as_of`` (with ids ``within`` those
        bounds) that may meet one of ``any_of`` then: each maps fields to the values they may have, and all of
        them must hold.

        One field is not the customer's data: ``official_grade``, a grade a half-yearly adjustment effective by
        then gave (perhaps changed since). A customer whose values changed after the month is among them whatever
        its values now (they were others then): a customer left out meets none of ``any_of``."""
        limit = as_of or "9999-12"
        terms, args = [], [limit, *within]
        for condition in any_of:
            parts = []
            for name, values in condition.items():
                values = json.dumps(list(values), ensure_ascii=False)
                if name == "official_grade":
                    parts.append("id IN (SELECT customer_id FROM grade_adjustments WHERE effective_period <= ? "
                                 "AND new_grade IN (SELECT value FROM json_each(?)))")
                    args += [limit, values]
                else:
                    parts.append("json_extract(data, ?) IN (SELECT value FROM json_each(?))")
                    args += [f"$.{name}", values]
            terms.append("(" + " AND ".join(parts or ["1"]) + ")")
        terms.append("id IN (SELECT customer_id FROM history WHERE period > ?)")
        args.append(limit)
        with self.reading():
            return [cid for (cid,) in self.conn.execute(
                f"SELECT id FROM customers WHERE first_period <= ? AND id BETWEEN ? AND ? AND ({' OR '.join(terms)}) "
                "ORDER BY id", args)]

    def first_archived(self, period: str, within: tuple[int, int] = EVERY_ID) -> list[int]:
        """The ids, in order, of the customers first archived in month ``period`` (with ids ``within`` those
        bounds)."""
        with self.reading():
            return [cid for (cid,) in self.conn.execute(
                "SELECT id FROM customers WHERE first_period = ? AND id BETWEEN ? AND ? ORDER BY id",
                (period, *within))]

    def new_customers(self, period: str, bounds: tuple[int, int] = EVERY_ID) -> pd.DataFrame:
        """The customers first archived in month ``period`` (with ids within ``bounds``), a row per branch that
        reported them that month, as they stood at the month's end: customer_id, name, uscc, branch, nature,
        stage, region (only these fields are read: a first month's tens of thousands of customers are not decoded
        whole)."""
        undo = self._undo_map(period)
        fields = ["name", "uscc", "nature", "region"]
        order = ["customer_id", "name", "uscc", "branch", "nature", "stage", "region"]
        parts = []
        with self.reading():
            cursor = self.conn.execute(
                "SELECT c.id, c.uscc, json_array(" + ", ".join(f"json_extract(c.data, '$.{f}')" for f in fields) +
                "), l.branch, json_extract(l.data, '$.stage') FROM customers c LEFT JOIN customer_branches l "
                "ON l.customer_id = c.id AND l.first_period = c.first_period WHERE c.first_period = ? "
                "AND c.id BETWEEN ? AND ? ORDER BY c.id, l.branch", (period, *bounds))
            while found := cursor.fetchmany(self.SNAPSHOT_CHUNK):  # as the snapshot: a chunk decoded at a time
                values = loads("[" + ",".join(r[2] for r in found) + "]")
                if undo:  # values changed after the month: as they were then
                    for (cid, _, _, branch, stage), row in zip(found, values):
                        then = undo.get(("customer", str(cid)), {})
                        row[:] = [then.get(f, v) for f, v in zip(fields, row)]
                    found = [(cid, uscc, data, branch, undo.get(("customer_branch", f"{cid}|{branch}"), {}).get(
                        "stage", stage)) for cid, uscc, data, branch, stage in found]
                frame = pd.DataFrame(values, columns=fields)
                frame["uscc"] = [code or uscc for code, (_, uscc, *_) in zip(frame["uscc"], found)]
                frame["customer_id"] = [r[0] for r in found]
                frame["branch"] = [r[3] for r in found]
                frame["stage"] = [r[4] for r in found]
                parts.append(typed(frame, CUSTOMERS.columns, order))
        if not parts:
            return typed(pd.DataFrame(columns=order), CUSTOMERS.columns, order)
        return parts[0] if len(parts) == 1 else pd.concat(parts, ignore_index=True)

    def _snapshot(self, limit: str, ids: tuple[int, int] = EVERY_ID, wanted: list[int] | None = None,
                  entities: tuple[str, ...] = RECORD_ENTITIES, whole: tuple[str, ...] = ()) -> dict[str, pd.DataFrame]:
        """The snapshot as of ``limit`` of the customers with ids in ``ids`` (both ends included); of these,
        only the ``wanted`` ones (``snapshot_part``) when given."""
        undo = self._undo_map(limit)
        among, only = "", ()
        if wanted is not None:  # one JSON list for SQLite to look the ids up in
            among, only = " IN (SELECT value FROM json_each(?))", (json.dumps(wanted),)

        def table(query: str, args: tuple, entity: str, key_of, extra, columns, order) -> pd.DataFrame:
            """The typed frame of a query's rows (JSON in the last column, ``extra`` columns from the
            others, which win over the JSON's), decoded chunk by chunk."""
            cursor = self.conn.execute(query, args)
            parts = []
            while found := cursor.fetchmany(self.SNAPSHOT_CHUNK):
                data = loads("[" + ",".join(r[-1] for r in found) + "]")  # one parse per chunk
                if undo:
                    for r, d in zip(found, data):
                        d.update(undo.get((entity, key_of(r)), {}))
                frame = pd.DataFrame(data, index=range(len(data)))
                for name, values in extra(found, data).items():
                    frame[name] = values
                parts.append(typed(frame, columns, order))
            if len(parts) == 1:
                return parts[0]
            return pd.concat(parts, ignore_index=True) if parts else typed(pd.DataFrame(), columns, order)

        customers = table(
            "SELECT id, uscc, name_key, first_period, data FROM customers WHERE first_period <= ? "
            f"AND id BETWEEN ? AND ? {among and 'AND id' + among} ORDER BY id", (limit, *ids, *only),
            "customer", lambda r: str(r[0]),
            lambda found, data: {"customer_id": [r[0] for r in found],
                                 "uscc": [d.get("uscc") or r[1] for r, d in zip(found, data)],
                                 "name_key": [r[2] for r in found], "first_period": [r[3] for r in found]},
            CUSTOMERS.columns, ["customer_id", "name", "uscc", "name_key",
                                *[f for f in CUSTOMER_FIELDS if f not in ("name", "uscc")], "first_period"])
        served: dict[int, list[str]] = {}

        def links(found, data):
            for cid, branch, *_ in found:  # ordered by branch within each customer
                served.setdefault(cid, []).append(branch)
            return {"customer_id": [r[0] for r in found], "branch": [r[1] for r in found],
                    "first_period": [r[2] for r in found]}

        out = {"customers": customers,
               "customer_branches": table(
                   "SELECT customer_id, branch, first_period, data FROM customer_branches "
                   f"WHERE first_period <= ? AND customer_id BETWEEN ? AND ? {among and 'AND customer_id' + among} "
                   "ORDER BY customer_id, branch", (limit, *ids, *only),
                   "customer_branch", lambda r: f"{r[0]}|{r[1]}", links,
                   CUSTOMERS.columns, ["customer_id", "branch", *BRANCH_FIELDS, "first_period"])}
        out["customers"]["branches"] = [("、".join(served[cid]) if cid in served else None)
                                        for cid in out["customers"]["customer_id"]]
        grades = dict(self.conn.execute(
            "SELECT customer_id, new_grade FROM grade_adjustments WHERE effective_period <= ? "
            "ORDER BY effective_period, id", (limit,)).fetchall())
        out["customers"]["official_grade"] = out["customers"]["customer_id"].map(grades)
        for entity in entities:
            sheet = SHEETS_BY_KEY[entity]
            mine = among if entity not in whole else ""
            out[entity] = table(
                "SELECT key, customer_id, branch, data FROM records WHERE entity = ? AND first_period <= ? "
                f"AND customer_id BETWEEN ? AND ? {mine and 'AND customer_id' + mine} ORDER BY rowid",
                (entity, limit, *ids, *(only if mine else ())), entity, lambda r: r[0],
                lambda found, data, e=entity: {f"{e[:-1]}_id": [r[0] for r in found],
                                               "customer_id": [r[1] for r in found],
                                               "branch": [r[2] for r in found]},
                sheet.columns, [f"{entity[:-1]}_id", "customer_id", "branch",
                                *[k for k in sheet.keys if k not in ("customer_uscc",)]])
        return out

    def _undo_map(self, limit: str) -> dict[tuple[str, str], dict]:
        """Field values to restore for an as-of view: the oldest change after ``limit`` wins."""
        undo: dict[tuple[str, str], dict] = {}
        for entity, key, fld, old in self.conn.execute(
                "SELECT entity, entity_key, field, old FROM history WHERE period > ? "
                "ORDER BY id DESC", (limit,)):
            undo.setdefault((entity, key), {})[fld] = json.loads(old) if old is not None else None
        return undo

    def history(self, period: str | None = None, *, branch: str | None = None,
                customer_ids: set[int] | None = None, masked: set[int] | None = None) -> pd.DataFrame:
        """Field changes (entity, customer, branch, field, old, new, period, source file).

        ``branch`` keeps what one branch may see: changes to customers in ``customer_ids`` and to
        its own views and records, never another branch's contacts or records. The people of the group
        that other branches named for the customers in ``masked`` (营销专员, 联点领导) are masked as
        ``access.mask`` masks them in the customer table.
        """
        from .access import PEOPLE, mask_name
        query = ("SELECT h.entity, h.customer_id, c.data AS cdata, h.branch, h.field, h.old, h.new, "
                 "h.period, s.file_name FROM history h LEFT JOIN customers c ON c.id = h.customer_id "
                 "LEFT JOIN submissions s ON s.id = h.submission_id")
        args: tuple = ()
        if period:
            query += " WHERE h.period = ?"
            args = (period,)
        rows = []
        for entity, cid, cdata, by, fld, old, new, per, file_name in self.conn.execute(
                query + " ORDER BY h.id", args):
            if branch is not None and (by != branch if entity != "customer"
                                       else customer_ids is not None and cid not in customer_ids):
                continue
            name = loads(cdata).get("name") if cdata else None
            sheet = "customers" if entity.startswith("customer") else entity
            if branch is not None and by != branch:
                file_name = None  # another branch's file name is not this branch's business
            if masked and entity == "customer" and fld in PEOPLE and cid in masked:
                old, new = (json.dumps(mask_name(loads(v))) if v is not None else v for v in (old, new))
            rows.append({"entity": labels.ENTITIES.get(entity, entity), "name": name, "branch": by,
                         "field": _label(fld, sheet), "old_value": _show(old),
                         "new_value": _show(new), "period": per, "source_file": file_name})
        return pd.DataFrame(rows, columns=["entity", "name", "branch", "field", "old_value",
                                           "new_value", "period", "source_file"])

    def conflicts(self, open_only: bool = True) -> pd.DataFrame:
        """Conflict pairs for review, with both customers' names and codes."""
        rows = []
        decided = {(l, r): d for l, r, d in self.conn.execute(
            "SELECT left_id, right_id, decision FROM review_decisions")}
        named = {(c, k) for c, k in self.conn.execute("SELECT customer_id, name_key FROM name_decisions")}
        pairs = self.conn.execute("SELECT id, kind, left_id, right_id, detail, score, period, other_name "
                                  "FROM conflicts ORDER BY id").fetchall()
        names = {}  # the names and codes of the customers in a pair (not of the whole archive)
        ids = sorted({p[2] for p in pairs} | {p[3] for p in pairs})
        names.update({cid: (loads(d).get("name"), u) for cid, d, u in rows_in(
            self.conn, "SELECT id, data, uscc FROM customers WHERE id IN ({marks})", ids)})
        for cid, kind, left, right, detail, score, period, other in pairs:
            decision = decided.get((left, right)) if left != right else None
            if other and (left, normalize_name(other)) in named:
                decision = labels.REVIEWED
                if open_only:
                    continue
            if open_only and decision in (labels.MERGE, labels.DISTINCT):
                continue
            ln, lu = names.get(left, (None, None))
            rn, ru = names.get(right, (None, None))
            if other:
                rn = other  # same customer, the name another submission used
            rows.append({"conflict_id": cid, "kind": kind, "left_id": left, "left_name": ln,
                         "left_uscc": lu, "right_id": right, "right_name": rn, "right_uscc": ru,
                         "score": score, "detail": detail, "period": period,
                         "decision": decision})
        return pd.DataFrame(rows, columns=["conflict_id", "kind", "left_id", "left_name", "left_uscc",
                                           "right_id", "right_name", "right_uscc", "score",
                                           "detail", "period", "decision"])

    # -- review and grades ----------------------------------------------------

    def review_decided(self) -> dict[tuple[int, int], tuple[str, int | None, str]]:
        """The review decisions recorded: (left id, right id) → (decision, kept id, when)."""
        return {(left, right): (decision, keep, at) for left, right, decision, keep, at in self.conn.execute(
            "SELECT left_id, right_id, decision, keep_id, decided_at FROM review_decisions")}

    def names_decided(self) -> dict[tuple[int, str], bool]:
        """The decisions on a customer's other name recorded: (customer id, normalised name) → adopted."""
        return {(cid, key): bool(adopt) for cid, key, adopt in self.conn.execute(
            "SELECT customer_id, name_key, adopt FROM name_decisions")}

    def record_review(self, decisions: list[dict], decided_by: str, decided_at: str | None = None) -> None:
        """Store review decisions; merges become aliases; then rebuild. One transaction."""
        now = decided_at or _now()
        self._names = None  # merges and renames change the names
        with self.transaction():
            # who raised a name decided before (the same decision again keeps it; its conflict is gone by now)
            named_by = {(cid, key): (branch, period) for cid, key, branch, period in self.conn.execute(
                "SELECT customer_id, name_key, branch, period FROM name_decisions WHERE branch IS NOT NULL")}
            for d in decisions:
                if d.get("other_name"):  # one code, two names: adopt the new name or keep the old
                    adopt = d["decision"] == labels.MERGE and d.get("keep_side") == labels.RIGHT
                    key = normalize_name(d["other_name"])
                    raised = next(((branch, period) for branch, period, other in self.conn.execute(
                        "SELECT s.branch, c.period, c.other_name FROM conflicts c LEFT JOIN submissions s ON "
                        "s.id = c.submission_id WHERE c.kind = ? AND c.left_id = ? ORDER BY c.id",
                        (labels.SAME_CODE_OTHER_NAME, d["left_id"])) if normalize_name(other) == key),
                        None) or named_by.get((d["left_id"], key), (None, None))
                    self.conn.execute(
                        "INSERT OR REPLACE INTO name_decisions (customer_id, name_key, name, adopt, decided_by, "
                        "decided_at, branch, period) VALUES (?,?,?,?,?,?,?,?)",
                        (d["left_id"], key, d["other_name"], int(adopt), decided_by, now, *raised))
                    current = self.conn.execute("SELECT name_key, data FROM customers WHERE id = ?",
                                                (d["left_id"],)).fetchone()
                    if adopt and current and current[0] != normalize_name(d["other_name"]):
                        # The name given up is decided too: a row still naming the customer so (a workbook
                        # pre-filled before the decision) neither renames it back nor raises the pair again.
                        self.conn.execute("INSERT OR REPLACE INTO name_decisions (customer_id, name_key, name, "
                                          "adopt, decided_by, decided_at) VALUES (?,?,?,?,?,?)",
                                          (d["left_id"], current[0], json.loads(current[1]).get("name") or current[0],
                                           0, decided_by, now))
                    continue
                raised = self.conn.execute(
                    "SELECT s.branch, c.period, c.kind FROM conflicts c LEFT JOIN submissions s ON s.id = c.submission_id "
                    "WHERE c.left_id = ? AND c.right_id = ?", (d["left_id"], d["right_id"])).fetchone() or (None,) * 3
                self.conn.execute(
                    "INSERT OR REPLACE INTO review_decisions VALUES (?,?,?,?,?,?,?,?,?,?)",
                    (d["left_id"], d["right_id"], d["decision"], d.get("keep_id"), d.get("remark"),
                     decided_by, now, *raised))
                if d["decision"] == labels.MERGE:
                    keep = d["keep_id"]
                    drop = d["right_id"] if keep == d["left_id"] else d["left_id"]
                    # The merged customer's names are known names of the kept one: never a conflict again.
                    for (key,) in self.conn.execute("SELECT key FROM customer_ids WHERE customer_id = ? AND "
                                                    "key LIKE 'name:%'", (drop,)).fetchall():
                        self.conn.execute("INSERT OR IGNORE INTO name_decisions (customer_id, name_key, name, "
                                          "adopt, decided_by, decided_at) VALUES (?,?,?,?,?,?)",
                                          (keep, key[5:], key[5:], 0, decided_by, now))
                    self.conn.execute("UPDATE customer_ids SET customer_id = ? WHERE customer_id = ?",
                                      (keep, drop))
                    self.conn.execute("UPDATE grade_adjustments SET customer_id = ? "
                                      "WHERE customer_id = ?", (keep, drop))
            merge.replay(self.conn, self.similarity_threshold)
        self._journal({"type": "review", "decisions": decisions, "decided_by": decided_by, "decided_at": now})

    def record_grade_adjustments(self, rows: list[dict], decided_at: str | None = None,
                                 replacing: str | None = None) -> int:
        """Store half-yearly grade decisions in one transaction; ``replacing``: a half year whose decisions these are,
        all of them (those recorded for it before are replaced: the same workbook applied twice is recorded once)."""
        now = decided_at or _now()
        with self.transaction():
            if replacing:
                self.conn.execute("DELETE FROM grade_adjustments WHERE period = ?", (replacing,))
            for r in rows:
                self.conn.execute(
                    "INSERT INTO grade_adjustments (customer_id, period, effective_period, old_grade, "
                    "new_grade, decision, remark, decided_by, decided_at) VALUES (?,?,?,?,?,?,?,?,?)",
                    (r["customer_id"], r["period"], r["effective_period"], r.get("old_grade"),
                     r["new_grade"], r.get("decision"), r.get("remark"), r.get("decided_by", labels.DEPARTMENT),
                     now))
        self._journal({"type": "grades", "rows": rows, "decided_at": now, "replacing": replacing})
        return len(rows)

    def replay_event(self, event: dict) -> int:
        """Apply a journaled event during a rebuild; returns 1 for a decision, 0 for a filed document."""
        kind = event.get("type")
        if kind == "document":
            self.record_document({k: v for k, v in event.items() if k != "type"})
            return 0
        if kind == "assessment":
            self.record_assessment(event["rows"], event["decided_by"], event["decided_at"])
            return 1
        if kind == "access":
            self.record_access({k: v for k, v in event.items() if k != "type"})
            return 1
        if kind == "mail":
            self.record_mail({k: v for k, v in event.items() if k != "type"})
            return 1
        if kind == "withdrawal":
            self.withdraw(event["id"], event.get("reason") or "", event.get("by") or labels.DEPARTMENT, event["at"])
            return 1
        if kind == "reinstatement":
            self.reinstate(event["id"], event.get("by") or labels.DEPARTMENT, event["at"])
            return 1
        if kind == "numbers":
            with self.transaction():
                self.conn.executemany("INSERT OR IGNORE INTO record_numbers (number, entity, key) VALUES (?,?,?)",
                                      [(n, event["entity"], k) for n, k in event["pairs"]])
            return 0
        return 0

    # -- branch documents ---------------------------------------------------------------------

    def document_by_sha256(self, sha: str) -> dict | None:
        return self._row("documents", ("id", "kind", "branch", "period", "file_name", "status", "stored_path",
                                       "received_at"), "sha256", sha)

    def record_document(self, doc: dict) -> int:
        """File a branch document (analysis report, work summary), accepted or rejected. One transaction."""
        doc = {**doc, "ingested_at": doc.get("ingested_at") or _now()}
        with self.transaction():
            cur = self.conn.execute(
                "INSERT INTO documents (id, kind, branch, period, file_name, sha256, received_at, status, findings, "
                "stored_path, ingested_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                (doc.get("id"), doc["kind"], doc.get("branch"), doc.get("period"), doc["file_name"], doc["sha256"],
                 doc["received_at"], doc["status"], json.dumps(doc.get("findings") or [], ensure_ascii=False),
                 doc["stored_path"], doc["ingested_at"]))
        doc["id"] = cur.lastrowid
        self._journal({"type": "document", **doc})
        return cur.lastrowid

    def documents(self, period: str | None = None) -> pd.DataFrame:
        frame = self._read("SELECT id, kind, branch, period, file_name, sha256, received_at, status, findings, "
                           "stored_path FROM documents", period)
        frame["received_at"] = pd.to_datetime(frame["received_at"])
        frame["findings"] = [json.loads(text or "[]") for text in frame["findings"]]
        return frame

    # -- the half-yearly assessment -------------------------------------------------------------

    def record_assessment(self, rows: list[dict], decided_by: str, decided_at: str | None = None) -> int:
        """Record official assessment results (replacing earlier ones of the same half), one transaction."""
        now = decided_at or _now()
        with self.transaction():
            for period in {r["period"] for r in rows}:
                self.conn.execute("DELETE FROM assessments WHERE period = ?", (period,))
            for r in rows:
                self.conn.execute(
                    "INSERT INTO assessments (period, branch, figures, total, proposed, result, remark, decided_by, "
                    "decided_at, notified_on, summary_due, suspended_from, suspended_until) "
                    "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    (r["period"], r["branch"], json.dumps(r.get("figures") or {}, ensure_ascii=False, default=str),
                     r.get("total"), r.get("proposed"), r["result"], r.get("remark"), decided_by, now,
                     r.get("notified_on"), r.get("summary_due"), r.get("suspended_from"), r.get("suspended_until")))
        self._journal({"type": "assessment", "rows": rows, "decided_by": decided_by, "decided_at": now})
        return len(rows)

    def assessments(self, period: str | None = None) -> pd.DataFrame:
        frame = self._read("SELECT period, branch, figures, total, proposed, result, remark, decided_by, decided_at, "
                           "notified_on, summary_due, suspended_from, suspended_until FROM assessments", period,
                           order="period, id")
        frame["figures"] = [json.loads(text or "{}") for text in frame["figures"]]
        return frame

    # -- the access ledger ----------------------------------------------------------------------

    def record_access(self, entry: dict) -> int:
        """Record one archive extract for a branch (when, for whom, approved by, scope, rows, file)."""
        entry = {**entry, "at": entry.get("at") or _now()}
        with self.transaction():
            cur = self.conn.execute(
                "INSERT INTO access_ledger (at, branch, approved_by, scope, rows, file, on_date) VALUES (?,?,?,?,?,?,?)",
                (entry["at"], entry["branch"], entry["approved_by"], entry["scope"], entry["rows"], entry["file"],
                 entry.get("on_date")))
        self._journal({"type": "access", **entry})
        return cur.lastrowid

    def access_log(self) -> pd.DataFrame:
        return pd.read_sql_query("SELECT at, on_date, branch, approved_by, scope, rows, file FROM access_ledger "
                                 "ORDER BY id", self.conn)

    # -- archive numbers of pre-filled workbooks -------------------------------------------------

    def number_records(self, entity: str, keys: list[str]) -> dict[str, int]:
        """The archive numbers of these records (entity, key), assigned once and journaled."""
        with self.transaction():
            before = {k: n for n, k in self.conn.execute("SELECT number, key FROM record_numbers WHERE entity = ?",
                                                         (entity,))}
            new = [k for k in dict.fromkeys(keys) if k not in before]
            self.conn.executemany("INSERT OR IGNORE INTO record_numbers (entity, key) VALUES (?, ?)",
                                  [(entity, k) for k in new])
            numbers = {k: n for n, k in self.conn.execute("SELECT number, key FROM record_numbers WHERE entity = ?",
                                                          (entity,))}
        if new:
            self._journal({"type": "numbers", "entity": entity, "pairs": [[numbers[k], k] for k in new]})
        return {k: numbers[k] for k in keys}

    def archive_numbers(self) -> dict[str, dict[str, frozenset]]:
        """Per numbered sheet: every archive number and the branches it belongs to (to check 档案编号)."""
        shared: dict[frozenset, frozenset] = {}  # one set object per combination of branches (most hold one)

        def branches(names) -> frozenset:
            found = frozenset(names)
            return shared.setdefault(found, found)

        rows = self.conn.execute("SELECT customer_id, branch FROM customer_branches ORDER BY customer_id")
        out = {"customers": {archive_number("customers", cid): branches(b for _, b in group)
                             for cid, group in groupby(rows, key=itemgetter(0))}}
        for entity in ("projects", "complaints"):  # a record belongs to each branch that sent it (one contract, two)
            rows = self.conn.execute(
                "SELECT n.number, r.branch, b.branch FROM record_numbers n JOIN records r ON r.entity = n.entity "
                "AND r.key = n.key LEFT JOIN record_branches b ON b.entity = n.entity AND b.key = n.key "
                "WHERE n.entity = ? ORDER BY n.number", (entity,))
            out[entity] = {archive_number(entity, n): branches({b for _, first, other in group for b in (first, other)
                                                                if b is not None})
                           for n, group in groupby(rows, key=itemgetter(0))}
        return out

    # -- the mail ledger ------------------------------------------------------------------------

    def record_mail(self, entry: dict) -> int:
        """Record one delivery attempt (sent or failed); a sent message is journaled so a rebuild keeps it."""
        entry = {**entry, "at": entry.get("at") or _now()}
        keys = ("period", "kind", "item", "address", "recipient", "subject", "message_id", "size", "status",
                "response", "at")
        with self.transaction():
            cur = self.conn.execute(f"INSERT INTO mail_ledger ({', '.join(keys)}) VALUES ({','.join('?' * len(keys))})",
                                    tuple(entry.get(k) for k in keys))
        if entry["status"] == "sent":
            self._journal({"type": "mail", **{k: entry.get(k) for k in keys}})
        return cur.lastrowid

    def mail_log(self, period: str | None = None) -> pd.DataFrame:
        return self._read("SELECT at, period, kind, item, recipient, address, subject, size, status, response, "
                          "message_id FROM mail_ledger", period)

    def mail_sent(self, period: str) -> dict[tuple[str, str, str], str]:
        """(kind, item, address) → when it was sent, for the period's messages that went out."""
        rows = self.conn.execute("SELECT kind, item, lower(address), max(at) FROM mail_ledger WHERE period = ? "
                                 "AND status = 'sent' GROUP BY kind, item, lower(address)", (period,))
        return {(kind, item or "", address): at for kind, item, address, at in rows}

    def field_changes(self, period: str, branch: str) -> list[tuple[str, int, str]]:
        """(entity, customer id, field) of every change a branch's files made in a month (raw keys)."""
        return self.conn.execute(
            "SELECT h.entity, h.customer_id, h.field FROM history h JOIN submissions s ON s.id = h.submission_id "
            "WHERE h.period = ? AND s.branch = ?", (period, branch)).fetchall()

    def last_ingested(self, through: str | None = None) -> str | None:
        """When the archive last took in a submission (of a month up to ``through``), as local time text."""
        if through is None:
            return self.conn.execute("SELECT max(ingested_at) FROM submissions").fetchone()[0]
        return self.conn.execute("SELECT max(ingested_at) FROM submissions WHERE period <= ?",
                                 (through,)).fetchone()[0]

    def conflicts_raised(self) -> pd.DataFrame:
        """Conflicts with the branch and month of the submission that raised them: the open ones, the pairs review
        decided 合并 (those disappear from the conflicts once merged), and the other names of a credit code decided
        in review (those too)."""
        rows = self.conn.execute(
            "SELECT c.kind, c.left_id, c.right_id, c.period, s.branch, d.decision FROM conflicts c "
            "LEFT JOIN submissions s ON s.id = c.submission_id "
            "LEFT JOIN review_decisions d ON d.left_id = c.left_id AND d.right_id = c.right_id").fetchall()
        seen = {(r[1], r[2]) for r in rows}
        rows += [(kind, left, right, period, branch, decision) for left, right, kind, period, branch, decision in
                 self.conn.execute("SELECT left_id, right_id, kind, period, branch, decision FROM review_decisions "
                                   "WHERE decision = ?", (labels.MERGE,)) if (left, right) not in seen]
        # A customer's other name, once decided, raises no conflict any more: its decision remembers who raised it.
        still = {(cid, normalize_name(other)) for cid, other in self.conn.execute(
            "SELECT left_id, other_name FROM conflicts WHERE kind = ?", (labels.SAME_CODE_OTHER_NAME,))}
        rows += [(labels.SAME_CODE_OTHER_NAME, cid, cid, period, branch, labels.REVIEWED)
                 for cid, key, period, branch in self.conn.execute(
                     "SELECT customer_id, name_key, period, branch FROM name_decisions WHERE branch IS NOT NULL")
                 if (cid, key) not in still]
        return pd.DataFrame(rows, columns=["kind", "left_id", "right_id", "period", "branch", "decision"])

    def grade_adjustments(self, periods: list[str] | None = None) -> pd.DataFrame:
        """Recorded half-yearly grade decisions (all, or those of the given half years), in order."""
        query = ("SELECT customer_id, period, effective_period, old_grade, new_grade, decision, remark, "
                 "decided_by, decided_at FROM grade_adjustments")
        args: tuple = ()
        if periods is not None:
            query += f" WHERE period IN ({','.join('?' * len(periods))})"
            args = tuple(periods)
        return pd.read_sql_query(query + " ORDER BY effective_period, id", self.conn, params=args)


def _show(text):
    value = json.loads(text) if text is not None else None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, str) and value.endswith(" 00:00:00"):
        value = value[:-9]  # a date stored as a timestamp
    return "" if value is None else str(value)


def _label(key: str, sheet: str) -> str:
    return labels.label(key, sheet if sheet in SHEETS_BY_KEY else None)




MAX_NOTES = 200  # warnings kept with an accepted file (the branch sees them again in its next pre-filled workbook)


def archive_number(entity: str, number: int) -> str:
    """The 档案编号 of a customer (K000123) or a record (P000045 for a project, T000012 for a complaint)."""
    return f"{SHEETS_BY_KEY[entity].numbered}{int(number):06d}"


class RepeatedRowsMissing(ArchiveError):
    """A file repeats rows that are not in the branch's last file after all: validate it in full."""


def _quick_check(conn: sqlite3.Connection) -> str | None:
    """What SQLite's quick check finds wrong with an archive (None: nothing)."""
    rows = conn.execute("PRAGMA quick_check(5)").fetchall()
    return None if rows == [("ok",)] else "; ".join(str(r[0]) for r in rows)


def damaged(path: Path, detail) -> ArchiveError:
    return ArchiveError(f"档案库 {path.name} 已损坏（{str(detail)[:120]}），为保护数据已停止，未写入任何内容。"
                        f"请运行 crm archive rebuild：它把损坏的文件改名保留，并按 received/ 中的报送文件和"
                        f"归档日志重建档案库。")


def _write_error(path: Path, exc: sqlite3.OperationalError) -> ArchiveError:
    text = str(exc)
    if "full" in text:
        return ArchiveError(f"磁盘空间已满，无法写入档案库 {path.name}。档案库保持原样，本文件仍留在收件箱；"
                            "请清理磁盘后重新运行。")
    if "locked" in text or "busy" in text:
        return ArchiveError(f"档案库 {path.name} 正被其他程序占用。请关闭正在打开它的程序后重新运行。")
    if "readonly" in text or "read-only" in text:
        return ArchiveError(f"档案库 {path.name} 是只读的，无法写入。请检查文件和文件夹的写入权限。")
    return ArchiveError(f"写入档案库 {path.name} 失败（{text}）。档案库保持原样，请检查磁盘后重新运行。")
