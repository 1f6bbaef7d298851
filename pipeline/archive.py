"""The master customer archive (客户档案) in SQLite: merge, history, as-of, conflicts.

Why stdlib sqlite3: one file, real transactions (a killed run leaves the
archive as it was), no server, no ORM needed for a dozen tables.

Design: every accepted submission's clean rows are stored verbatim
(``sub_rows``). The archive proper — customers, their per-branch views,
projects, surveys, complaints, visits and the field history — is derived by
applying the live (not superseded) submissions in order of (period,
received_at, id). The common case, a submission newer than everything
applied, is applied incrementally; a resubmission for a month or a file for an
older month triggers a rebuild, so the archive always equals what it would be
had only the live files been sent, in month order.

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
import hashlib
import json
import sqlite3
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from schemas.columns import (CUSTOMERS, DATA_SHEETS, DATE, DATETIME, IGNORED, NUMBER,
                             SHEETS_BY_KEY, YEAR)

from .identity import normalize_name

SCHEMA_VERSION = 1
BRANCH_FIELDS = ("stage", "proposed_grade", "contact", "title", "phone", "email", "department")
CUSTOMER_FIELDS = tuple(k for k in CUSTOMERS.keys if k not in BRANCH_FIELDS)
RECORD_ENTITIES = ("projects", "surveys", "complaints", "visits")
ENTITY_NAMES = {"customer": "客户", "customer_branch": "客户（分公司视图）", "projects": "合作项目",
                "surveys": "满意度调查", "complaints": "投诉记录", "visits": "拜访记录"}

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS submissions (
    id INTEGER PRIMARY KEY, sha256 TEXT UNIQUE NOT NULL, file_name TEXT, branch TEXT,
    period TEXT, received_at TEXT, status TEXT, no_change INTEGER, counts TEXT,
    warnings INTEGER, errors INTEGER, findings TEXT, stored_path TEXT, ingested_at TEXT);
CREATE TABLE IF NOT EXISTS sub_rows (
    submission_id INTEGER REFERENCES submissions(id), entity TEXT, seq INTEGER, data TEXT);
CREATE INDEX IF NOT EXISTS sub_rows_by_submission ON sub_rows(submission_id);
CREATE TABLE IF NOT EXISTS customer_ids (key TEXT PRIMARY KEY, customer_id INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS customers (
    id INTEGER PRIMARY KEY, uscc TEXT, name_key TEXT, data TEXT, row_hash TEXT,
    first_period TEXT, first_submission INTEGER);
CREATE INDEX IF NOT EXISTS customers_by_uscc ON customers(uscc);
CREATE INDEX IF NOT EXISTS customers_by_name ON customers(name_key);
CREATE TABLE IF NOT EXISTS customer_branches (
    customer_id INTEGER, branch TEXT, data TEXT, row_hash TEXT, first_period TEXT,
    sent_hash TEXT, sent_data TEXT, PRIMARY KEY (customer_id, branch));
CREATE TABLE IF NOT EXISTS reports (customer_id INTEGER, branch TEXT, period TEXT,
    PRIMARY KEY (customer_id, branch, period));
CREATE TABLE IF NOT EXISTS records (
    entity TEXT, key TEXT, customer_id INTEGER, branch TEXT, data TEXT, row_hash TEXT,
    first_period TEXT, PRIMARY KEY (entity, key));
CREATE TABLE IF NOT EXISTS history (
    id INTEGER PRIMARY KEY, entity TEXT, entity_key TEXT, customer_id INTEGER, branch TEXT,
    field TEXT, old TEXT, new TEXT, period TEXT, submission_id INTEGER);
CREATE INDEX IF NOT EXISTS history_by_period ON history(period);
CREATE TABLE IF NOT EXISTS conflicts (
    id INTEGER PRIMARY KEY, kind TEXT, left_id INTEGER, right_id INTEGER, detail TEXT,
    score REAL, period TEXT, submission_id INTEGER, other_name TEXT NOT NULL DEFAULT '',
    UNIQUE (kind, left_id, right_id, other_name));
CREATE TABLE IF NOT EXISTS name_decisions (
    customer_id INTEGER, name_key TEXT, name TEXT, adopt INTEGER, decided_by TEXT, decided_at TEXT,
    PRIMARY KEY (customer_id, name_key));
CREATE TABLE IF NOT EXISTS review_decisions (
    left_id INTEGER, right_id INTEGER, decision TEXT, keep_id INTEGER, remark TEXT,
    decided_by TEXT, decided_at TEXT, PRIMARY KEY (left_id, right_id));
CREATE TABLE IF NOT EXISTS grade_adjustments (
    id INTEGER PRIMARY KEY, customer_id INTEGER, period TEXT, effective_period TEXT,
    old_grade TEXT, new_grade TEXT, decision TEXT, remark TEXT, decided_by TEXT, decided_at TEXT);
"""
DERIVED = ("customers", "customer_branches", "reports", "records", "history", "conflicts")


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


@dataclass
class MergeResult:
    """What one accepted submission changed."""

    submission_id: int = 0
    new_customers: int = 0
    changed_fields: int = 0
    new_records: int = 0
    changed_records: int = 0
    conflicts: int = 0
    superseded: int | None = None
    rebuilt: bool = False


def _json_value(value):
    """A clean-frame value as JSON: blanks → None, timestamps → ISO text, numpy → Python."""
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp):
        return value.isoformat(sep=" ")
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and value != value:
        return None
    if not isinstance(value, (str, int, float, bool)):
        return None if pd.isna(value) else str(value)
    return value


def _frame_rows(frame: pd.DataFrame, keys: list[str]) -> list[dict]:
    return [{k: _json_value(v) for k, v in record.items()}
            for record in frame[keys].to_dict("records")]


def _hash(data: dict) -> str:
    return hashlib.sha1(json.dumps(data, ensure_ascii=False, sort_keys=True).encode()).hexdigest()


def _dumps(data: dict) -> str:
    return json.dumps(data, ensure_ascii=False, sort_keys=True)


class Archive:
    """The archive database; use as a context manager."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.conn = sqlite3.connect(str(self.path), isolation_level=None, timeout=30)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=NORMAL")
        self.conn.executescript(SCHEMA)
        self.conn.execute("INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)",
                          (str(SCHEMA_VERSION),))
        self.similarity_threshold = 85.0

    def __enter__(self) -> "Archive":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self.conn.close()

    # -- transactions -------------------------------------------------------

    @contextmanager
    def transaction(self):
        """One write transaction: all of it is committed, or none of it."""
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    # -- submissions --------------------------------------------------------

    def submission_by_sha256(self, sha: str) -> dict | None:
        row = self.conn.execute("SELECT id, sha256, file_name, branch, period, status, stored_path "
                                "FROM submissions WHERE sha256 = ?", (sha,)).fetchone()
        if row is None:
            return None
        return dict(zip(("id", "sha256", "file_name", "branch", "period", "status", "stored_path"), row))

    def has_sha256(self, sha: str) -> bool:
        return self.submission_by_sha256(sha) is not None

    def submissions(self, period: str | None = None) -> pd.DataFrame:
        query = ("SELECT id, sha256, file_name, branch, period, received_at, status, no_change, "
                 "counts, warnings, errors, findings, stored_path, ingested_at FROM submissions")
        args: tuple = ()
        if period:
            query += " WHERE period = ?"
            args = (period,)
        frame = pd.read_sql_query(query + " ORDER BY id", self.conn, params=args)
        frame["received_at"] = pd.to_datetime(frame["received_at"])
        frame["no_change"] = frame["no_change"].astype(bool)
        return frame

    def _insert_submission(self, meta: SubmissionMeta, status: str, errors: int = 0,
                           findings: list | None = None) -> int:
        cur = self.conn.execute(
            "INSERT INTO submissions (sha256, file_name, branch, period, received_at, status, "
            "no_change, counts, warnings, errors, findings, stored_path, ingested_at) "
            "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (meta.sha256, meta.file_name, meta.branch, meta.period,
             meta.received_at.isoformat(sep=" "), status, int(meta.no_change),
             json.dumps(meta.counts, ensure_ascii=False), meta.warnings, errors,
             json.dumps(findings or [], ensure_ascii=False), meta.stored_path,
             dt.datetime.now().isoformat(sep=" ", timespec="seconds")))
        return cur.lastrowid

    def record_rejected(self, meta: SubmissionMeta, findings: list) -> int:
        """Record a rejected file (its errors first), in one transaction."""
        top = [f.as_dict() for f in sorted(findings, key=lambda f: f.severity != "error")[:20]]
        errors = sum(f.severity == "error" for f in findings)
        with self.transaction():
            sid = self._insert_submission(meta, "rejected", errors, top)
        return sid

    def record_submission(self, meta: SubmissionMeta, frames: dict[str, pd.DataFrame]) -> MergeResult:
        """Store and merge an accepted submission, in one transaction."""
        with self.transaction():
            result = self._record(meta, frames)
        return result

    def _record(self, meta: SubmissionMeta, frames: dict[str, pd.DataFrame]) -> MergeResult:
        sid = self._insert_submission(meta, "accepted")
        rows = []
        data: dict[str, list[dict]] = {}
        for sheet in DATA_SHEETS:
            frame = frames.get(sheet.key)
            if frame is None or not len(frame):
                continue
            keys = sorted(k for k in sheet.keys if k in frame.columns)  # as stored: sorted keys
            data[sheet.key] = _frame_rows(frame, keys)
            for seq, row in enumerate(data[sheet.key]):
                rows.append((sid, sheet.key, seq, _dumps(row)))
        self.conn.executemany("INSERT INTO sub_rows VALUES (?,?,?,?)", rows)
        earlier = self.conn.execute(
            "SELECT id FROM submissions WHERE branch = ? AND period = ? AND status = 'accepted' "
            "AND id <> ? ORDER BY id", (meta.branch, meta.period, sid)).fetchall()
        latest = self.conn.execute(
            "SELECT MAX(period) FROM submissions WHERE status = 'accepted' AND id <> ?",
            (sid,)).fetchone()[0]
        if earlier:
            self.conn.executemany("UPDATE submissions SET status = 'superseded' WHERE id = ?", earlier)
        if earlier or (latest and meta.period < latest):
            result = self._rebuild(target=sid)
            result.superseded = earlier[-1][0] if earlier else None
            result.rebuilt = True
        else:
            result = self._apply(sid, data)  # the rows in hand: no need to read them back
        result.submission_id = sid
        return result

    # -- replay -------------------------------------------------------------

    def rebuild(self) -> None:
        """Re-derive the archive from the live submissions, in one transaction."""
        with self.transaction():
            self._rebuild()

    def _rebuild(self, target: int | None = None) -> MergeResult:
        for table in DERIVED:
            self.conn.execute(f"DELETE FROM {table}")
        result = MergeResult()
        live = self.conn.execute(
            "SELECT id FROM submissions WHERE status = 'accepted' "
            "ORDER BY period, received_at, id").fetchall()
        for (sid,) in live:
            applied = self._apply(sid)
            if sid == target:
                result = applied
        return result

    def _apply(self, sid: int, data: dict[str, list[dict]] | None = None) -> MergeResult:
        """Merge one stored submission into the current state."""
        branch, period = self.conn.execute(
            "SELECT branch, period FROM submissions WHERE id = ?", (sid,)).fetchone()
        if data is None:
            data = {}
            for entity, text in self.conn.execute(
                    "SELECT entity, data FROM sub_rows WHERE submission_id = ? ORDER BY entity, seq",
                    (sid,)):
                data.setdefault(entity, []).append(json.loads(text))
        merger = _Merger(self, sid, branch, period)
        for row in data.get("customers", []):
            merger.customer(row)
        for entity in RECORD_ENTITIES:
            for row in data.get(entity, []):
                merger.record(entity, row)
        merger.flush()
        merger.similar_names()
        return merger.result

    # -- identity -----------------------------------------------------------

    def customer_id_for(self, key: str) -> int | None:
        row = self.conn.execute("SELECT customer_id FROM customer_ids WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def known_identities(self) -> set[str]:
        """Credit codes and normalised names of archived customers (for reference checks)."""
        out: set[str] = set()
        for uscc, name_key in self.conn.execute("SELECT uscc, name_key FROM customers"):
            if uscc:
                out.add(uscc)
            if name_key:
                out.add(name_key)
        return out

    # -- reading ------------------------------------------------------------

    def snapshot(self, as_of: str | None = None) -> dict[str, pd.DataFrame]:
        """The archive as it stood at the end of month ``as_of`` (default: now)."""
        limit = as_of or "9999-12"
        undo = self._undo_map(limit)
        customers = []
        for cid, uscc, name_key, text, first in self.conn.execute(
                "SELECT id, uscc, name_key, data, first_period FROM customers WHERE first_period <= ? "
                "ORDER BY id", (limit,)):
            data = json.loads(text)
            data.update(undo.get(("customer", str(cid)), {}))
            customers.append({**data, "customer_id": cid, "uscc": data.get("uscc") or uscc,
                              "name_key": name_key, "first_period": first})
        links = []
        for cid, branch, text, first in self.conn.execute(
                "SELECT customer_id, branch, data, first_period FROM customer_branches "
                "WHERE first_period <= ? ORDER BY customer_id, branch", (limit,)):
            data = json.loads(text)
            data.update(undo.get(("customer_branch", f"{cid}|{branch}"), {}))
            links.append({"customer_id": cid, "branch": branch, **data, "first_period": first})
        last = dict(((c, b), p) for c, b, p in self.conn.execute(
            "SELECT customer_id, branch, MAX(period) FROM reports WHERE period <= ? "
            "GROUP BY customer_id, branch", (limit,)))
        for link in links:
            link["last_period"] = last.get((link["customer_id"], link["branch"]))
        out = {"customers": _typed(pd.DataFrame(customers), CUSTOMERS.columns,
                                   ["customer_id", "name", "uscc", "name_key",
                                    *[f for f in CUSTOMER_FIELDS if f not in ("name", "uscc")],
                                    "first_period"]),
               "customer_branches": _typed(pd.DataFrame(links), CUSTOMERS.columns,
                                           ["customer_id", "branch", *BRANCH_FIELDS,
                                            "first_period", "last_period"])}
        branches = out["customer_branches"].groupby("customer_id")["branch"].agg(
            lambda s: "、".join(sorted(s))) if len(links) else pd.Series(dtype=object)
        out["customers"]["branches"] = out["customers"]["customer_id"].map(branches)
        grades = dict(self.conn.execute(
            "SELECT customer_id, new_grade FROM grade_adjustments WHERE effective_period <= ? "
            "ORDER BY effective_period, id", (limit,)).fetchall())
        out["customers"]["official_grade"] = out["customers"]["customer_id"].map(grades)
        for entity in RECORD_ENTITIES:
            sheet = SHEETS_BY_KEY[entity]
            rows = []
            for key, cid, branch, text in self.conn.execute(
                    "SELECT key, customer_id, branch, data FROM records WHERE entity = ? AND "
                    "first_period <= ? ORDER BY rowid", (entity, limit)):
                data = json.loads(text)
                data.update(undo.get((entity, key), {}))
                rows.append({f"{entity[:-1]}_id": key, "customer_id": cid, "branch": branch, **data})
            keys = [k for k in sheet.keys if k not in ("customer_uscc",)]
            out[entity] = _typed(pd.DataFrame(rows), sheet.columns,
                                 [f"{entity[:-1]}_id", "customer_id", "branch", *keys])
        return out

    def _undo_map(self, limit: str) -> dict[tuple[str, str], dict]:
        """Field values to restore for an as-of view: the oldest change after ``limit`` wins."""
        undo: dict[tuple[str, str], dict] = {}
        for entity, key, fld, old in self.conn.execute(
                "SELECT entity, entity_key, field, old FROM history WHERE period > ? "
                "ORDER BY id DESC", (limit,)):
            undo.setdefault((entity, key), {})[fld] = json.loads(old) if old is not None else None
        return undo

    def history(self, period: str | None = None) -> pd.DataFrame:
        """Field changes (entity, customer, branch, field, old, new, period, source file)."""
        query = ("SELECT h.entity, h.customer_id, c.data AS cdata, h.branch, h.field, h.old, h.new, "
                 "h.period, s.file_name FROM history h LEFT JOIN customers c ON c.id = h.customer_id "
                 "LEFT JOIN submissions s ON s.id = h.submission_id")
        args: tuple = ()
        if period:
            query += " WHERE h.period = ?"
            args = (period,)
        rows = []
        for entity, cid, cdata, branch, fld, old, new, per, file_name in self.conn.execute(
                query + " ORDER BY h.id", args):
            name = json.loads(cdata).get("name") if cdata else None
            sheet = "customers" if entity.startswith("customer") else entity
            rows.append({"entity": ENTITY_NAMES.get(entity, entity), "name": name, "branch": branch,
                         "field": _label(fld, sheet), "old_value": _show(old),
                         "new_value": _show(new), "period": per, "source_file": file_name})
        return pd.DataFrame(rows, columns=["entity", "name", "branch", "field", "old_value",
                                           "new_value", "period", "source_file"])

    def conflicts(self, open_only: bool = True) -> pd.DataFrame:
        """Conflict pairs for review, with both customers' names and codes."""
        rows = []
        decided = {(l, r): d for l, r, d in self.conn.execute(
            "SELECT left_id, right_id, decision FROM review_decisions")}
        names = {cid: (json.loads(d).get("name"), u) for cid, d, u in
                 self.conn.execute("SELECT id, data, uscc FROM customers")}
        named = {(c, k) for c, k in self.conn.execute("SELECT customer_id, name_key FROM name_decisions")}
        for cid, kind, left, right, detail, score, period, other in self.conn.execute(
                "SELECT id, kind, left_id, right_id, detail, score, period, other_name FROM conflicts "
                "ORDER BY id"):
            decision = decided.get((left, right)) if left != right else None
            if other and (left, normalize_name(other)) in named:
                decision = "已审核"
                if open_only:
                    continue
            if open_only and decision in ("合并", "不同客户"):
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

    def record_review(self, decisions: list[dict], decided_by: str) -> None:
        """Store review decisions; merges become aliases; then rebuild. One transaction."""
        now = dt.datetime.now().isoformat(sep=" ", timespec="seconds")
        with self.transaction():
            for d in decisions:
                if d.get("other_name"):  # one code, two names: adopt the new name or keep the old
                    self.conn.execute(
                        "INSERT OR REPLACE INTO name_decisions VALUES (?,?,?,?,?,?)",
                        (d["left_id"], normalize_name(d["other_name"]), d["other_name"],
                         int(d["decision"] == "合并" and d.get("keep_side") == "右"), decided_by, now))
                    continue
                self.conn.execute(
                    "INSERT OR REPLACE INTO review_decisions VALUES (?,?,?,?,?,?,?)",
                    (d["left_id"], d["right_id"], d["decision"], d.get("keep_id"), d.get("remark"),
                     decided_by, now))
                if d["decision"] == "合并":
                    keep = d["keep_id"]
                    drop = d["right_id"] if keep == d["left_id"] else d["left_id"]
                    self.conn.execute("UPDATE customer_ids SET customer_id = ? WHERE customer_id = ?",
                                      (keep, drop))
                    self.conn.execute("UPDATE grade_adjustments SET customer_id = ? "
                                      "WHERE customer_id = ?", (keep, drop))
            self._rebuild()

    def record_grade_adjustments(self, rows: list[dict]) -> int:
        """Store half-yearly grade decisions in one transaction."""
        now = dt.datetime.now().isoformat(sep=" ", timespec="seconds")
        with self.transaction():
            for r in rows:
                self.conn.execute(
                    "INSERT INTO grade_adjustments (customer_id, period, effective_period, old_grade, "
                    "new_grade, decision, remark, decided_by, decided_at) VALUES (?,?,?,?,?,?,?,?,?)",
                    (r["customer_id"], r["period"], r["effective_period"], r.get("old_grade"),
                     r["new_grade"], r.get("decision"), r.get("remark"), r.get("decided_by", "市场营销部"),
                     now))
        return len(rows)


def _show(text):
    value = json.loads(text) if text is not None else None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, str) and value.endswith(" 00:00:00"):
        value = value[:-9]  # a date stored as a timestamp
    return "" if value is None else str(value)


def _label(key: str, sheet: str) -> str:
    from schemas.columns import label
    return label(key, sheet if sheet in SHEETS_BY_KEY else None)


def _typed(frame: pd.DataFrame, columns, order: list[str]) -> pd.DataFrame:
    """Restore the clean-frame types of stored JSON values."""
    for name in order:
        if name not in frame.columns:
            frame[name] = None
    frame = frame[order].copy()
    kinds = {c.key: c.kind for c in columns if c.kind != IGNORED}
    for name in order:
        kind = kinds.get(name)
        if kind == NUMBER:
            frame[name] = pd.to_numeric(frame[name], errors="coerce").astype("float64")
        elif kind == YEAR:
            frame[name] = pd.to_numeric(frame[name], errors="coerce").astype("Int64")
        elif kind in (DATE, DATETIME):
            frame[name] = pd.to_datetime(frame[name], errors="coerce").astype("datetime64[ns]")
        elif name == "customer_id":
            frame[name] = frame[name].astype("int64") if len(frame) else frame[name].astype("int64")
        else:
            frame[name] = frame[name].astype(object).where(frame[name].notna(), None)
    return frame


class _Merger:
    """Applies one submission's rows to the current state."""

    def __init__(self, archive: Archive, sid: int, branch: str, period: str):
        self.a, self.conn, self.sid, self.branch, self.period = archive, archive.conn, sid, branch, period
        self.result = MergeResult()
        self.local_names: dict[str, int] = {}
        self.new_ids: list[int] = []
        self.history: list[tuple] = []
        self.next_id: int | None = None
        self.record_cache: dict[str, dict[str, tuple[str, str]]] = {}
        self.sent: dict[str, int] | None = None

    # identity
    def _registry(self, key: str) -> int | None:
        return self.a.customer_id_for(key)

    def _register(self, key: str, cid: int) -> None:
        self.conn.execute("INSERT OR IGNORE INTO customer_ids VALUES (?, ?)", (key, cid))

    def _new_id(self) -> int:
        if self.next_id is None:
            row = self.conn.execute("SELECT MAX(customer_id) FROM customer_ids").fetchone()
            self.next_id = (row[0] or 0) + 1
        self.next_id += 1
        return self.next_id - 1

    def _existing(self, cid: int):
        return self.conn.execute("SELECT uscc, name_key, data, row_hash FROM customers WHERE id = ?",
                                 (cid,)).fetchone()

    def _conflict(self, kind: str, a: int, b: int, detail: str, score: float | None = None,
                  other_name: str | None = None) -> None:
        left, right = min(a, b), max(a, b)
        decided = self.conn.execute("SELECT decision FROM review_decisions WHERE left_id = ? AND "
                                    "right_id = ?", (left, right)).fetchone()
        if decided and decided[0] == "不同客户":
            return
        cur = self.conn.execute("INSERT OR IGNORE INTO conflicts (kind, left_id, right_id, detail, "
                                "score, period, submission_id, other_name) VALUES (?,?,?,?,?,?,?,?)",
                                (kind, left, right, detail, score, self.period, self.sid, other_name or ""))
        self.result.conflicts += cur.rowcount

    def resolve(self, uscc: str | None, name: str | None, create: dict | None = None) -> int:
        """The customer id for a code and/or name; creates the customer when ``create`` is given."""
        name_key = normalize_name(name) if name else None
        if uscc:
            cid = self._registry(f"uscc:{uscc}")
            if cid is not None and self._existing(cid) is not None:
                existing = self._existing(cid)
                if name_key and existing[1] != name_key and self._registry(f"name:{name_key}") != cid \
                        and self._name_decision(cid, name_key) is None:
                    self._conflict("同一信用代码名称不同", cid, cid,
                                   f"信用代码 {uscc}：档案中为“{json.loads(existing[2]).get('name')}”，"
                                   f"本次报送为“{name}”", other_name=name)
                return cid
            if name_key:
                by_name = self._registry(f"name:{name_key}")
                if by_name is not None and self._existing(by_name) is not None:
                    other = self._existing(by_name)
                    if not other[0]:
                        self._register(f"uscc:{uscc}", by_name)
                        self.conn.execute("UPDATE customers SET uscc = ? WHERE id = ?", (uscc, by_name))
                        return by_name
                    if create is not None:
                        cid = self._create(uscc, name_key, create, registry_name=False)
                        self._conflict("同名不同代码", by_name, cid,
                                       f"名称“{name}”对应两个信用代码：{other[0]} 与 {uscc}")
                        return cid
                    return by_name
        elif name_key:
            if name_key in self.local_names:
                return self.local_names[name_key]
            cid = self._registry(f"name:{name_key}")
            if cid is not None and self._existing(cid) is not None:
                return cid
        if create is None:
            create = {"name": name}
        return self._create(uscc, name_key, create)

    def _create(self, uscc, name_key, data, registry_name: bool = True) -> int:
        keys = ([f"uscc:{uscc}"] if uscc else []) + ([f"name:{name_key}"] if name_key else [])
        cid = next((c for c in (self._registry(k) for k in keys) if c is not None), None)
        if cid is None or self._existing(cid) is not None:
            cid = self._new_id()
        for key in keys:
            if key.startswith("name:") and not registry_name:
                continue
            self._register(key, cid)
        fields = {k: data.get(k) for k in CUSTOMER_FIELDS}
        self.conn.execute("INSERT INTO customers (id, uscc, name_key, data, row_hash, first_period, "
                          "first_submission) VALUES (?,?,?,?,?,?,?)",
                          (cid, uscc, name_key, _dumps(fields), _hash(fields), self.period, self.sid))
        self.result.new_customers += 1
        self.new_ids.append(cid)
        return cid

    def _changes(self, entity: str, key: str, cid: int, old: dict, new: dict, fields) -> dict:
        merged = dict(old)
        for f in fields:
            if f not in new:
                continue
            if old.get(f) != new.get(f):
                self.history.append((entity, key, cid, self.branch, f,
                                     json.dumps(old.get(f), ensure_ascii=False),
                                     json.dumps(new.get(f), ensure_ascii=False), self.period, self.sid))
                merged[f] = new.get(f)
                self.result.changed_fields += 1
        return merged

    def _name_decision(self, cid: int, name_key: str) -> bool | None:
        """A reviewed name under a credit code: True = adopt it, False = keep the archive's."""
        row = self.conn.execute("SELECT adopt FROM name_decisions WHERE customer_id = ? AND name_key = ?",
                                (cid, name_key)).fetchone()
        return None if row is None else bool(row[0])

    def _sent(self) -> dict[str, int]:
        """Hashes of the customer rows this branch sent last time → customer id (loaded once)."""
        if self.sent is None:
            self.sent = {digest: cid for cid, digest in self.conn.execute(
                "SELECT customer_id, sent_hash FROM customer_branches WHERE branch = ?", (self.branch,))
                if digest}
        return self.sent

    def customer(self, row: dict) -> None:
        sent = _hash(row)
        if sent in self._sent():
            # The branch re-sent this row unchanged: it carries nothing new ("若无变化,则不用重复上报"),
            # so it neither rewrites the archive nor undoes another branch's later update.
            cid = self.sent[sent]
            if row.get("name"):
                self.local_names[normalize_name(row["name"])] = cid
            self.conn.execute("INSERT OR IGNORE INTO reports VALUES (?,?,?)", (cid, self.branch, self.period))
            return
        cid = self.resolve(row.get("uscc"), row.get("name"), create=row)
        if row.get("name"):
            self.local_names[normalize_name(row["name"])] = cid
        uscc, name_key, text, _ = self._existing(cid)
        old = json.loads(text)
        # The name of a coded customer changes only through review, never silently.
        new_key = normalize_name(row.get("name")) if row.get("name") else None
        adopt = bool(new_key and new_key != name_key and self._name_decision(cid, new_key))
        fields = [f for f in CUSTOMER_FIELDS if not (f == "name" and old.get("name") and not adopt)]
        if adopt:
            self.conn.execute("UPDATE customers SET name_key = ? WHERE id = ?", (new_key, cid))
            self._register(f"name:{new_key}", cid)
        if not row.get("uscc"):
            fields = [f for f in fields if f != "uscc"]
        link = self.conn.execute("SELECT data, sent_data FROM customer_branches WHERE customer_id = ? "
                                 "AND branch = ?", (cid, self.branch)).fetchone()
        if link is not None and link[1]:
            # Only what this branch changed since its own last row counts: an unchanged field
            # it re-sends does not undo another branch's newer value.
            before = json.loads(link[1])
            fields = [f for f in fields if row.get(f) != before.get(f)]
        new = self._changes("customer", str(cid), cid, old, row, fields)
        if new != old:
            self.conn.execute("UPDATE customers SET data = ?, row_hash = ? WHERE id = ?",
                              (_dumps(new), _hash(new), cid))
        per_branch = {f: row.get(f) for f in BRANCH_FIELDS}
        if link is None:
            self.conn.execute("INSERT INTO customer_branches VALUES (?,?,?,?,?,?,?)",
                              (cid, self.branch, _dumps(per_branch), _hash(per_branch), self.period, sent,
                               _dumps(row)))
        else:
            old_link = json.loads(link[0])
            merged = self._changes("customer_branch", f"{cid}|{self.branch}", cid, old_link,
                                   per_branch, BRANCH_FIELDS)
            if merged != old_link:
                self.conn.execute("UPDATE customer_branches SET data = ?, row_hash = ? WHERE "
                                  "customer_id = ? AND branch = ?",
                                  (_dumps(merged), _hash(merged), cid, self.branch))
        self.conn.execute("UPDATE customer_branches SET sent_hash = ?, sent_data = ? WHERE customer_id = ? "
                          "AND branch = ?", (sent, _dumps(row), cid, self.branch))
        self.sent[sent] = cid
        self.conn.execute("INSERT OR IGNORE INTO reports VALUES (?,?,?)", (cid, self.branch, self.period))

    def _record_key(self, entity: str, cid: int, row: dict) -> str:
        if entity == "projects":
            if row.get("contract_no"):
                return f"合同:{row['contract_no']}"
            return f"{cid}|{normalize_name(row.get('project_name'))}"
        if entity == "surveys":
            return f"{cid}|{self.branch}|{row.get('surveyed_on')}|{normalize_name(row.get('project_name'))}"
        if entity == "complaints":
            if row.get("complaint_no"):
                return f"{self.branch}|{row['complaint_no']}"
            return f"{cid}|{self.branch}|{row.get('complained_at')}"
        return (f"{cid}|{self.branch}|{row.get('visited_on')}|{row.get('visitor')}|"
                f"{row.get('channel')}")

    def record(self, entity: str, row: dict) -> None:
        cid = self.resolve(row.get("customer_uscc"), row.get("customer_name"))
        key = self._record_key(entity, cid, row)
        data = {k: v for k, v in row.items() if k != "customer_uscc"}
        digest = _hash(data)
        known = self._records(entity)
        existing = known.get(key) or self.conn.execute(
            "SELECT data, row_hash FROM records WHERE entity = ? AND key = ?", (entity, key)).fetchone()
        if existing is None:
            self.conn.execute("INSERT INTO records VALUES (?,?,?,?,?,?,?)",
                              (entity, key, cid, self.branch, _dumps(data), digest, self.period))
            known[key] = (_dumps(data), digest)
            self.result.new_records += 1
            return
        if existing[1] == digest:
            return  # unchanged: nothing rewritten
        old = json.loads(existing[0])
        merged = self._changes(entity, key, cid, old, data, list(data))
        self.conn.execute("UPDATE records SET data = ?, row_hash = ?, customer_id = ? WHERE entity = ? "
                          "AND key = ?", (_dumps(merged), _hash(merged), cid, entity, key))
        known[key] = (_dumps(merged), _hash(merged))
        self.result.changed_records += 1

    def _records(self, entity: str) -> dict[str, tuple[str, str]]:
        """This branch's stored records of an entity, loaded once per submission (key → data, hash)."""
        if entity not in self.record_cache:
            self.record_cache[entity] = {key: (text, digest) for key, text, digest in self.conn.execute(
                "SELECT key, data, row_hash FROM records WHERE entity = ? AND branch = ?",
                (entity, self.branch))}
        return self.record_cache[entity]

    def flush(self) -> None:
        self.conn.executemany(
            "INSERT INTO history (entity, entity_key, customer_id, branch, field, old, new, period, "
            "submission_id) VALUES (?,?,?,?,?,?,?,?,?)", self.history)
        self.history = []

    def similar_names(self) -> None:
        """Probable duplicates among this submission's new customers and the archive."""
        if not self.new_ids:
            return
        import numpy as np
        from rapidfuzz import fuzz, process
        rows = self.conn.execute("SELECT id, uscc, name_key FROM customers").fetchall()
        ids = [r[0] for r in rows]
        codes = {r[0]: r[1] for r in rows}
        stems = [_stem(r[2] or "") for r in rows]
        position = {cid: i for i, cid in enumerate(ids)}
        new = [cid for cid in self.new_ids if cid in position]
        # One vectorised pass (all cores) over new × all names; pairs below the threshold score 0.
        scores = process.cdist([stems[position[c]] for c in new], stems, scorer=fuzz.ratio,
                               score_cutoff=self.a.similarity_threshold, dtype=np.uint8, workers=-1)
        for i, j in zip(*np.nonzero(scores)):
            cid, other = new[i], ids[j]
            if other == cid or (codes[cid] and codes[other]):
                continue
            score = float(scores[i, j])
            self._conflict("名称相似", cid, other, f"名称相似度 {score:.0f}", score)


_LEGAL_SUFFIXES = ("股份有限公司", "有限责任公司", "有限公司", "股份公司", "集团公司", "公司")


def _stem(name_key: str) -> str:
    for suffix in _LEGAL_SUFFIXES:
        if name_key.endswith(suffix):
            return name_key[: -len(suffix)]
    return name_key
