"""Applying submissions to the archive: one at a time, or all of them again (replay).

The archive proper is derived: applying the live (not superseded) submissions
in order of (period, received_at, id) to an empty state gives it, a correction
in the place of the file it replaces (``LIVE_IN_ORDER``). ``apply``
merges one stored submission into the current state; ``replay`` clears the
derived tables and applies every live submission again (when a new one does not
come last in that order, and for ``crm archive rebuild``).
"""
from __future__ import annotations

import json
import re
import sqlite3
from dataclasses import dataclass
from itertools import repeat

from schemas import labels

from ..identity import normalize_name
from .schema import BRANCH_FIELDS, CUSTOMER_FIELDS, DERIVED, RECORD_ENTITIES, loads, rows_in, stored, text_hash


@dataclass
class MergeResult:
    """What one accepted submission changed."""

    submission_id: int = 0
    new_customers: int = 0
    said_no_change: str = ""  # the cover said 无变化, yet the rows changed the archive: the 提示 saying so
    changed_fields: int = 0
    new_records: int = 0
    changed_records: int = 0
    conflicts: int = 0
    superseded: int | None = None
    rebuilt: bool = False
    stands: bool = True                 # False: a later-received file of the same branch-month stands
    superseded_by: int | None = None


def stored_rows(conn: sqlite3.Connection, sid: int, texts: dict | None = None) -> dict[str, list[dict]]:
    """A stored submission's clean rows by entity, in their original order; ``texts`` receives the rows
    as stored, by entity (text id, text, its hash when kept: customers')."""
    data: dict[str, list[dict]] = {}
    for entity, text_id, text, digest in conn.execute(
            "SELECT s.entity, s.text_id, t.data, s.row_hash FROM sub_rows s JOIN row_texts t ON t.id = s.text_id "
            "WHERE s.submission_id = ? ORDER BY s.entity, s.seq", (sid,)):
        data.setdefault(entity, []).append(loads(text))
        if texts is not None:
            texts.setdefault(entity, []).append((text_id, text, digest))
    return data


def apply(conn: sqlite3.Connection, sid: int, similarity_threshold: float,
          data: dict[str, list[dict]] | None = None, names: "NameIndex | None" = None,
          repeated: list[tuple[int, str]] | None = None, texts: dict | None = None) -> MergeResult:
    """Merge one stored submission into the current state (inside the caller's transaction).

    ``repeated`` lists (position, row hash) of customer rows the file repeats unchanged from the
    branch's last file (``data`` then holds only the new and changed rows): they are only noted as
    reported. Repeated rows of the other sheets carry nothing new and are not touched.
    ``texts`` are the rows of ``data`` as stored, by entity: (row_texts id, ``dumps`` text, its ``text_hash``
    for customers, else None).
    """
    branch, period, received, prefill_as_of = conn.execute(
        "SELECT branch, period, received_at, prefill_as_of FROM submissions WHERE id = ?", (sid,)).fetchone()
    if data is None:
        texts = {}
        data = stored_rows(conn, sid, texts)
    texts = texts or {}
    merger = Merger(conn, sid, branch, period, similarity_threshold,
                    _corrected_rows(conn, sid, branch, period, received), prefill_as_of)
    merger.names = names
    merger.prefetch(data)
    for seq in merger.repeated(repeated or []):  # a repeated row the archive does not know as sent: in full
        stored_row = conn.execute("SELECT s.text_id, t.data, s.row_hash FROM sub_rows s JOIN row_texts t ON "
                                  "t.id = s.text_id WHERE s.submission_id = ? AND s.entity = 'customers' AND s.seq = ?",
                                  (sid, seq)).fetchone()
        merger.customer(loads(stored_row[1]), stored_row)
    for row, text in zip(data.get("customers", []), texts.get("customers") or repeat(None)):
        merger.customer(row, text)
    for entity in RECORD_ENTITIES:
        for row, text in zip(data.get(entity, []), texts.get(entity) or repeat(None)):
            merger.record(entity, row, text)
    merger.flush()
    merger.similar_names()
    return merger.result


def _corrected_rows(conn: sqlite3.Connection, sid: int, branch: str, period: str, received: str) -> dict:
    """The customer rows of the file a correction replaces (its baseline), by identity; {} for a first file.

    What a correction changes is what differs from the file it corrects, not from the branch's
    previous month: a field it re-sends unchanged must not undo another branch's update.
    """
    row = conn.execute("SELECT id FROM submissions WHERE branch = ? AND period = ? AND status = 'superseded' "
                       "AND id <> ? AND received_at <= ? ORDER BY received_at DESC, id DESC LIMIT 1",
                       (branch, period, sid, received)).fetchone()
    if row is None:
        return {}
    return {identity(r): r for r in stored_rows(conn, row[0]).get("customers", [])}


# Records other branches may report too: a project is keyed by its contract number (or customer and name), not by
# the branch; a survey, complaint or visit is its branch's own.
SHARED_RECORDS = ("projects",)


def identity(row: dict) -> tuple:
    """How a customer row is recognised across files: its credit code, else its normalised name."""
    return ("uscc", row["uscc"]) if row.get("uscc") else ("name", normalize_name(row.get("name")))


# The live submissions in the order they are applied: by month, then by when the branch first sent that month's
# file. A correction takes the place of the file it replaces (its first-received file's time and id), so a correction
# that repeats its file changes nothing, whoever else reported the same customers in between.
LIVE_IN_ORDER = """
SELECT id FROM (
    SELECT id, status, period, received_at, FIRST_VALUE(received_at) OVER month AS first_at,
           FIRST_VALUE(id) OVER month AS first_id
    FROM submissions WHERE status IN ('accepted', 'superseded') AND period >= :since
    WINDOW month AS (PARTITION BY branch, period ORDER BY received_at, id))
WHERE status = 'accepted' ORDER BY period, first_at, first_id, received_at, id"""


def applies_last(conn: sqlite3.Connection, sid: int, period: str) -> bool:
    """Whether submission ``sid`` (of month ``period``) comes last in LIVE_IN_ORDER: applied on top of the
    archive, it gives what a replay would."""
    order = conn.execute(LIVE_IN_ORDER, {"since": period}).fetchall()
    return bool(order) and order[-1][0] == sid


def replay(conn: sqlite3.Connection, similarity_threshold: float, target: int | None = None) -> MergeResult:
    """Re-derive the archive from the live submissions; returns what ``target`` changed."""
    for table in DERIVED:
        conn.execute(f"DELETE FROM {table}")
    result = MergeResult()
    live = conn.execute(LIVE_IN_ORDER, {"since": ""}).fetchall()
    names = NameIndex()
    for (sid,) in live:
        applied = apply(conn, sid, similarity_threshold, names=names)
        if sid == target:
            result = applied
    return result


class Merger:
    """Applies one submission's rows to the current state."""

    def __init__(self, conn: sqlite3.Connection, sid: int, branch: str, period: str,
                 similarity_threshold: float, baseline: dict | None = None, prefill_as_of: str | None = None):
        self.conn, self.sid, self.branch, self.period = conn, sid, branch, period
        self.similarity_threshold = similarity_threshold
        self.baseline = baseline or {}  # the corrected file's rows, when this file is a correction
        # This month's pre-filled workbook: its numbered rows showed the archive as of that month, and what the
        # branch changed is what differs from that (``_prefill_view``), not from its own last rows.
        self.prefill_as_of = prefill_as_of
        self._undo: dict[str, dict] | None = None  # customer id → fields as of that month, where changed since
        self._others: set[int] | None = None  # customers other branches changed (their rows are never skipped)
        self.result = MergeResult()
        self.local_names: dict[str, int] = {}
        self.new_ids: list[int] = []
        self.history: list[tuple] = []
        self.reported: list[int] = []  # customers of the rows merged and repeated (written to reports by ``flush``;
        #                                nothing reads them during the merge)
        self.next_id: int | None = None
        self.record_links: dict[str, dict[str, tuple[str, int]]] = {}
        self.sent: dict[str, int] | None = None
        self.names: NameIndex | None = None  # the run's name index, kept by the archive
        self.touched: list[int] = []          # customers whose code or name key this submission changed
        self.registry: dict[str, int | None] = {}  # identity keys looked up in this submission
        self.identities: dict[int, tuple] = {}  # customer id → (code, name key), as the archive holds them
        self.merged_here: set[int] = set()  # customers a row of this submission stood for already

    def prefetch(self, data: dict[str, list[dict]]) -> None:
        """Look up the identity keys of all these rows at once, instead of one query per row."""
        wanted = set()
        for entity, rows in data.items():
            code, name = ("uscc", "name") if entity == "customers" else ("customer_uscc", "customer_name")
            for row in rows:
                if row.get(code):
                    wanted.add(f"uscc:{row[code]}")
                if row.get(name):
                    wanted.add(f"name:{normalize_name(row[name])}")
        wanted -= self.registry.keys()
        self.registry.update(dict.fromkeys(wanted))  # absent unless found
        self.registry.update(rows_in(self.conn, "SELECT key, customer_id FROM customer_ids WHERE key IN ({marks})",
                                     sorted(wanted)))

    # identity
    def _registry(self, key: str) -> int | None:
        if key not in self.registry:  # a row looks its keys up more than once
            row = self.conn.execute("SELECT customer_id FROM customer_ids WHERE key = ?", (key,)).fetchone()
            self.registry[key] = row[0] if row else None
        return self.registry[key]

    def _register(self, key: str, cid: int) -> None:
        self.conn.execute("INSERT OR IGNORE INTO customer_ids VALUES (?, ?)", (key, cid))
        if key in self.registry and self.registry[key] is None:  # known absent, so the insert took
            self.registry[key] = cid  # (an existing entry is kept, as the registry keeps it)

    def _new_id(self) -> int:
        if self.next_id is None:
            row = self.conn.execute("SELECT MAX(customer_id) FROM customer_ids").fetchone()
            self.next_id = (row[0] or 0) + 1
        self.next_id += 1
        return self.next_id - 1

    def _existing(self, cid: int):
        return self.conn.execute("SELECT uscc, name_key, data, row_hash FROM customers WHERE id = ?",
                                 (cid,)).fetchone()

    def _identity(self, cid: int) -> tuple | None:
        """A customer's (code, name key), or None when there is no such customer."""
        if cid not in self.identities:
            found = self.conn.execute("SELECT uscc, name_key FROM customers WHERE id = ?", (cid,)).fetchone()
            if found is None:
                return None
            self.identities[cid] = tuple(found)
        return self.identities[cid]

    def _set_identity(self, cid: int, column: str, value: str) -> None:
        self.conn.execute(f"UPDATE customers SET {column} = ? WHERE id = ?", (value, cid))
        self.identities.pop(cid, None)

    def _conflict(self, kind: str, a: int, b: int, detail: str, score: float | None = None,
                  other_name: str | None = None) -> None:
        left, right = min(a, b), max(a, b)
        decided = self.conn.execute("SELECT decision FROM review_decisions WHERE left_id = ? AND "
                                    "right_id = ?", (left, right)).fetchone()
        if decided and decided[0] == labels.DISTINCT:
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
            existing = self._identity(cid) if cid is not None else None
            if existing is not None:
                # Another name under this code is a conflict until review decided it (a name
                # decision, or a merge, which records the merged customer's names as decided).
                # Registry aliases do not count: a replay registers every name it sees.
                if name_key and existing[1] != name_key and self._name_decision(cid, name_key) is None:
                    self._conflict(labels.SAME_CODE_OTHER_NAME, cid, cid,
                                   f"信用代码 {uscc}：档案中为“{loads(self._existing(cid)[2]).get('name')}”，"
                                   f"本次报送为“{name}”", other_name=name)
                return cid
            if name_key:
                by_name = self._registry(f"name:{name_key}")
                other = self._identity(by_name) if by_name is not None else None
                if other is not None:
                    if not other[0]:
                        self._register(f"uscc:{uscc}", by_name)
                        self._set_identity(by_name, "uscc", uscc)
                        self.touched.append(by_name)
                        return by_name
                    if create is not None:
                        cid = self._create(uscc, name_key, create, registry_name=False)
                        self._conflict(labels.SAME_NAME_OTHER_CODE, by_name, cid,
                                       f"名称“{name}”对应两个信用代码：{other[0]} 与 {uscc}")
                        return cid
                    return by_name
        elif name_key:
            if name_key in self.local_names:
                return self.local_names[name_key]
            cid = self._registry(f"name:{name_key}")
            if cid is not None and self._identity(cid) is not None:
                return cid
        if create is None:
            create = {"name": name}
        return self._create(uscc, name_key, create)

    def _create(self, uscc, name_key, data, registry_name: bool = True) -> int:
        keys = ([f"uscc:{uscc}"] if uscc else []) + ([f"name:{name_key}"] if name_key else [])
        cid = next((c for c in (self._registry(k) for k in keys) if c is not None), None)
        if cid is None or self._identity(cid) is not None:
            cid = self._new_id()
        for key in keys:
            if key.startswith("name:") and not registry_name:
                continue
            self._register(key, cid)
        fields = {k: data.get(k) for k in CUSTOMER_FIELDS}
        self.conn.execute("INSERT INTO customers (id, uscc, name_key, data, row_hash, first_period, "
                          "first_submission) VALUES (?,?,?,?,?,?,?)",
                          (cid, uscc, name_key, *stored(fields), self.period, self.sid))
        self.identities[cid] = (uscc, name_key)
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

    def repeated(self, rows: list[tuple[int, str]]) -> list[int]:
        """Note the customers of repeated rows as reported; returns the positions of rows this branch's
        last rows do not match (they go through ``customer`` like any other), and, in a pre-filled workbook,
        of rows of customers another branch changed (what the branch was shown may differ from what it sent)."""
        sent = self._sent()
        others = self._changed_by_others() if self.prefill_as_of else set()
        known = [sent[digest] for _, digest in rows if digest in sent and sent[digest] not in others]
        self.reported += known
        self.merged_here.update(known)
        return [seq for seq, digest in rows if digest not in sent or sent[digest] in others]

    def _changed_by_others(self) -> set[int]:
        """This branch's customers whose customer fields another branch has changed (read once, by customer: the
        history of a large archive is not read whole for each file)."""
        if self._others is None:
            mine = sorted(set(self._sent().values()))
            self._others = {cid for (cid,) in rows_in(
                self.conn, "SELECT DISTINCT customer_id FROM history WHERE customer_id IN ({marks}) "
                           "AND entity = 'customer' AND branch <> ?", mine, (self.branch,))}
        return self._others

    def _prefill_view(self, cid: int, current: dict) -> dict:
        """The customer's fields as this month's pre-filled workbook showed them: the archive's, with every change
        made after the month its rows were taken from undone (as ``Archive.snapshot`` does)."""
        if self._undo is None:
            self._undo = {}
            for key, fld, old in self.conn.execute(
                    "SELECT entity_key, field, old FROM history WHERE entity = 'customer' AND period > ? "
                    "ORDER BY id DESC", (self.prefill_as_of,)):
                self._undo.setdefault(key, {})[fld] = loads(old) if old is not None else None  # the oldest wins
        return {**current, **self._undo.get(str(cid), {})}

    def customer(self, row: dict, text: tuple | None = None) -> None:
        """Merge one customer row (``text``: the row as stored, (row_texts id, text, its hash), when the caller
        has it; rows stored before hashes were kept have none)."""
        sent_id, _, sent = self._text(row, text)
        if sent in self._sent() and not (self.prefill_as_of and row.get("archive_no")
                                         and self.sent[sent] in self._changed_by_others()):
            # The branch re-sent this row unchanged: it carries nothing new ("若无变化,则不用重复上报"),
            # so it neither rewrites the archive nor undoes another branch's later update.
            cid = self.sent[sent]
            if row.get("name"):
                self.local_names[normalize_name(row["name"])] = cid
            self.reported.append(cid)
            self.merged_here.add(cid)
            return
        numbered = self._numbered_customer(row.get("archive_no"))
        created = self.result.new_customers
        cid = numbered or self.resolve(row.get("uscc"), row.get("name"), create=row)
        if row.get("name"):
            self.local_names[normalize_name(row["name"])] = cid
        if cid in self.merged_here:
            # Another row of this file stood for this customer already: two look-alikes the review merged into one
            # (the branch still lists both). The first row speaks for it; the second would undo it field by field,
            # every month, and the history would hold changes nobody made.
            self.reported.append(cid)
            return
        self.merged_here.add(cid)
        # A customer this row created holds the row's own values: nothing to compare, no view of it yet.
        link = self._update_customer(cid, row, numbered) if self.result.new_customers == created else None
        per_branch = {f: row.get(f) for f in BRANCH_FIELDS}
        if link is None:
            self.conn.execute("INSERT INTO customer_branches VALUES (?,?,?,?,?,?,?)",
                              (cid, self.branch, *stored(per_branch), self.period, sent, sent_id))
        else:
            old_link = loads(link[0])
            merged = self._changes("customer_branch", f"{cid}|{self.branch}", cid, old_link,
                                   per_branch, BRANCH_FIELDS)
            if merged != old_link:
                self.conn.execute("UPDATE customer_branches SET data = ?, row_hash = ? WHERE "
                                  "customer_id = ? AND branch = ?",
                                  (*stored(merged), cid, self.branch))
            self.conn.execute("UPDATE customer_branches SET sent_hash = ?, sent_text_id = ? WHERE customer_id = ? "
                              "AND branch = ?", (sent, sent_id, cid, self.branch))
        self.sent[sent] = cid
        self.reported.append(cid)

    def _update_customer(self, cid: int, row: dict, numbered: int | None) -> tuple | None:
        """Apply what a row changes in an existing customer; returns this branch's view of it (data,
        the row it last sent), or None when the branch has none yet."""
        uscc, name_key, text, _ = self._existing(cid)
        old = loads(text)
        link = self.conn.execute("SELECT c.data, t.data FROM customer_branches c LEFT JOIN row_texts t ON "
                                 "t.id = c.sent_text_id WHERE c.customer_id = ? AND c.branch = ?",
                                 (cid, self.branch)).fetchone()
        before = self.baseline.get(identity(row))
        if before is None and numbered and self.prefill_as_of:
            before = self._prefill_view(cid, old)  # what this month's pre-filled workbook showed
        elif before is None and link is not None and link[1]:
            before = loads(link[1])
        # The name of a coded customer changes only through review, never silently; a row with the
        # customer's archive number (a pre-filled workbook) renames it: same customer, a recorded change
        # (when the branch changed the name: a name it sends again as it sent it before is no renaming), unless
        # the department decided the name in review (one it gave up is not taken back from a workbook
        # pre-filled before the decision).
        new_key = normalize_name(row.get("name")) if row.get("name") else None
        renamed = numbered and (before is None or row.get("name") != before.get("name"))
        decided = self._name_decision(cid, new_key) if new_key and new_key != name_key else None
        adopt = bool(new_key and new_key != name_key and (renamed if decided is None else decided))
        if numbered and row.get("uscc") and row["uscc"] != uscc and self._registry(f"uscc:{row['uscc']}") is None:
            self._set_identity(cid, "uscc", row["uscc"])
            self._register(f"uscc:{row['uscc']}", cid)
            self.touched.append(cid)
        # (a name written again without the line break or spaces the archived one has is the same name, tidied)
        tidied = bool(row.get("name") and old.get("name") and row["name"] != old["name"]
                      and _SPACE.sub("", row["name"]) == _SPACE.sub("", old["name"]))
        fields = [f for f in CUSTOMER_FIELDS if not (f == "name" and old.get("name") and not (adopt or tidied))]
        if adopt:
            self._set_identity(cid, "name_key", new_key)
            self.touched.append(cid)
            self._register(f"name:{new_key}", cid)
        if not row.get("uscc"):
            fields = [f for f in fields if f != "uscc"]
        if before is not None:
            # Only what this branch changed since its own last row (or, in a correction, since the
            # file it corrects) counts: an unchanged field it re-sends does not undo another
            # branch's newer value.
            fields = [f for f in fields if row.get(f) != before.get(f)]
        elif link is None:
            # The branch's first row for a customer another branch reports: a cell it leaves blank is one it does
            # not know, not one it clears (its blank 营销专员 or 联点领导 erased the other branch's).
            fields = [f for f in fields if not _blank(row.get(f))]
        new = self._changes("customer", str(cid), cid, old, row, fields)
        if new != old:
            self.conn.execute("UPDATE customers SET data = ?, row_hash = ? WHERE id = ?",
                              (*stored(new), cid))
        return link

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

    def _numbered_customer(self, number) -> int | None:
        """The customer an archive number (K000123) names, when it exists."""
        if not number or not str(number).upper().startswith("K") or not str(number)[1:].isdigit():
            return None
        cid = int(str(number)[1:])
        return cid if self._identity(cid) is not None else None

    def _numbered_key(self, entity: str, number) -> str | None:
        """The record key an archive number (P000045, T000012) names."""
        if not number or not str(number)[1:].isdigit():
            return None
        row = self.conn.execute("SELECT key FROM record_numbers WHERE number = ? AND entity = ?",
                                (int(str(number)[1:]), entity)).fetchone()
        return row[0] if row else None

    def _text(self, row: dict, text: tuple | None) -> tuple:
        """A row as stored (row_texts id, text, its hash): ``text`` with its hash, else stored now (rows of
        files stored before their texts were kept with them)."""
        if text is None:
            sent_text, digest = stored(row)
            return (self.conn.execute("INSERT INTO row_texts (data) VALUES (?)", (sent_text,)).lastrowid, sent_text,
                    digest)
        return text if text[2] else (text[0], text[1], text_hash(text[1]))

    def record(self, entity: str, row: dict, text: tuple | None = None) -> None:
        """Merge one record row (``text``: the row as stored, as for ``customer``)."""
        cid = self.resolve(row.get("customer_uscc"), row.get("customer_name"))
        key = self._numbered_key(entity, row.get("archive_no")) or self._record_key(entity, cid, row)
        sent = link = None
        if entity in SHARED_RECORDS:
            sent = self._text(row, text)
            link = self._record_links(entity).get(key)
            if link is not None and link[0] == sent[2]:
                return  # this branch sent the row before, unchanged: it carries nothing new
        self._merge_record(entity, key, cid, {k: v for k, v in row.items() if k not in ("customer_uscc", "archive_no")},
                           link)
        if sent is not None:
            self.conn.execute("INSERT OR REPLACE INTO record_branches VALUES (?,?,?,?,?)",
                              (entity, self.branch, key, sent[2], sent[0]))
            self._record_links(entity)[key] = (sent[2], sent[0])

    def _merge_record(self, entity: str, key: str, cid: int, data: dict, link: tuple | None) -> None:
        """Create a record, or apply what ``data`` changes in it: all that differs, or, when this branch sent
        the record before (``link``: that row's hash and text id), only what it changed since."""
        text, digest = stored(data)
        # One index seek: loading all the branch's records of the entity instead grew with every month it reported.
        existing = self.conn.execute("SELECT data, row_hash FROM records WHERE entity = ? AND key = ?",
                                     (entity, key)).fetchone()
        if existing is None:
            self.conn.execute("INSERT INTO records VALUES (?,?,?,?,?,?,?)",
                              (entity, key, cid, self.branch, text, digest, self.period))
            self.result.new_records += 1
            return
        if existing[1] == digest:
            return  # unchanged: nothing rewritten
        fields = list(data)
        if link is not None:
            before = loads(self.conn.execute("SELECT data FROM row_texts WHERE id = ?", (link[1],)).fetchone()[0])
            fields = [f for f in fields if data.get(f) != before.get(f)]
        old = loads(existing[0])
        merged = self._changes(entity, key, cid, old, data, fields)
        if merged == old:
            return
        text, digest = stored(merged)
        self.conn.execute("UPDATE records SET data = ?, row_hash = ?, customer_id = ? WHERE entity = ? "
                          "AND key = ?", (text, digest, cid, entity, key))
        self.result.changed_records += 1

    def _record_links(self, entity: str) -> dict[str, tuple[str, int]]:
        """This branch's last sent rows of shared records (key → hash, text id)."""
        return self._branch_rows(self.record_links, entity, "SELECT key, sent_hash, sent_text_id FROM record_branches "
                                 "WHERE entity = ? AND branch = ?")

    def _branch_rows(self, cache: dict, entity: str, query: str) -> dict[str, tuple]:
        """This branch's rows of ``query`` for an entity (key → the other columns), loaded once per submission."""
        if entity not in cache:
            cache[entity] = {key: tuple(rest) for key, *rest in self.conn.execute(query, (entity, self.branch))}
        return cache[entity]

    def flush(self) -> None:
        """Write what was gathered while the rows were merged: the field changes, and who reported whom."""
        self.conn.executemany(
            "INSERT INTO history (entity, entity_key, customer_id, branch, field, old, new, period, "
            "submission_id) VALUES (?,?,?,?,?,?,?,?,?)", self.history)
        self.conn.executemany("INSERT OR IGNORE INTO reports VALUES (?,?,?)",
                              [(cid, self.branch, self.period) for cid in self.reported])
        self.history, self.reported = [], []

    def similar_names(self) -> None:
        """Probable duplicates among this submission's new customers and the archive."""
        if self.names is not None and self.touched:
            self.names.add_from(self.conn, self.touched)
        if not self.new_ids:
            return
        names = self.names if self.names is not None else NameIndex.load(self.conn)
        names.add_from(self.conn, self.new_ids)
        for cid, other, score in names.similar(self.new_ids, self.similarity_threshold):
            self._conflict(labels.SIMILAR_NAME, cid, other, f"名称相似度 {score:.0f}", score)


class NameIndex:
    """The archive's customer names (stems without the legal suffix), sorted by length for blocking.

    Kept by the archive between submissions of a run, so a month of 60 files reads the names
    once; ``similar`` compares new names in chunks against the names whose length can reach
    the threshold at all, never a dense all × all matrix.
    """

    CHUNK = 256

    def __init__(self):
        self.ids: list[int] = []
        self.stems: list[str] = []
        self.lengths: list[int] = []
        self.coded: list[bool] = []
        self.position: dict[int, int] = {}
        self._by_length = None  # (order, sorted lengths, coded) of the names when it was built
        self._fresh: set[int] = set()  # positions added or renamed since: looked at one by one

    @classmethod
    def load(cls, conn: sqlite3.Connection) -> "NameIndex":
        index = cls()
        for cid, uscc, name_key in conn.execute("SELECT id, uscc, name_key FROM customers ORDER BY id"):
            index._put(cid, bool(uscc), name_key)
        return index

    def _put(self, cid: int, coded: bool, name_key: str | None) -> None:
        stem = _stem(name_key or "")
        if self._by_length is not None:
            self._fresh.add(self.position.get(cid, len(self.ids)))
        if cid in self.position:
            i = self.position[cid]
            self.stems[i], self.lengths[i], self.coded[i] = stem, len(stem), coded
            return
        self.position[cid] = len(self.ids)
        self.ids.append(cid)
        self.stems.append(stem)
        self.lengths.append(len(stem))
        self.coded.append(coded)

    def add_from(self, conn: sqlite3.Connection, ids: list[int]) -> None:
        """Take in (or refresh) these customers' names and codes from the archive."""
        for cid, uscc, name_key in rows_in(conn, "SELECT id, uscc, name_key FROM customers WHERE id IN ({marks})",
                                           ids):
            self._put(cid, bool(uscc), name_key)

    def similar(self, new_ids: list[int], threshold: float):
        """(new id, other id, score) for pairs at or above ``threshold``; pairs of two coded customers
        are not look-alikes (their codes tell them apart)."""
        import numpy as np
        from rapidfuzz import fuzz, process
        order, sorted_lengths, coded = self._sorted()
        share = threshold / 200.0  # ratio ≥ t needs min(l1, l2) / (l1 + l2) ≥ t / 200
        new = [c for c in new_ids if c in self.position]
        # A coded customer is compared with uncoded names only (two codes tell two customers apart).
        groups = [sorted((c for c in new if self.coded[self.position[c]] == flag),
                         key=lambda c: len(self.stems[self.position[c]])) for flag in (True, False)]
        chunks = [(flag, group[i:i + self.CHUNK]) for flag, group in zip((True, False), groups)
                  for i in range(0, len(group), self.CHUNK)]
        for coded_chunk, chunk in chunks:
            short = len(self.stems[self.position[chunk[0]]])
            long = len(self.stems[self.position[chunk[-1]]])
            low = int(np.floor(short * share / (1 - share))) if share < 1 else short
            high = int(np.ceil(long * (1 - share) / share)) if share > 0 else max(self.lengths)
            first, last = np.searchsorted(sorted_lengths, [low, high + 1])
            candidates = self._with_fresh(order, sorted_lengths, first, last, low, high)
            if coded_chunk:
                candidates = candidates[~coded[candidates]]
            if not len(candidates):
                continue
            scores = process.cdist([self.stems[self.position[c]] for c in chunk],
                                   [self.stems[j] for j in candidates], scorer=fuzz.ratio,
                                   score_cutoff=threshold, dtype=np.uint8, workers=-1)
            for i, j in zip(*np.nonzero(scores)):
                cid, other = chunk[i], self.ids[candidates[j]]
                if other == cid or (self.coded[self.position[cid]] and self.coded[candidates[j]]):
                    continue
                yield cid, other, float(scores[i, j])

    def _sorted(self):
        """(order, sorted lengths, coded) of the names by length; rebuilt only when many names changed
        since (a month adds a few names per file: sorting 30,000 lengths after each cost 2 ms a file)."""
        import numpy as np
        if self._by_length is None or len(self._fresh) > max(1024, len(self.ids) // 16):
            lengths = np.array(self.lengths, dtype=np.int32)
            order = np.argsort(lengths, kind="stable")
            self._by_length, self._fresh = (order, lengths[order], np.array(self.coded, dtype=bool)), set()
        order, sorted_lengths, coded = self._by_length
        if self._fresh:  # the coded flags of the positions added or changed since
            coded = np.append(coded, np.zeros(len(self.ids) - len(coded), dtype=bool))
            for i in self._fresh:
                coded[i] = self.coded[i]
        return order, sorted_lengths, coded

    def _with_fresh(self, order, sorted_lengths, first: int, last: int, low: int, high: int):
        """The positions whose names are ``low``–``high`` long (``order[first:last]`` in the sorted
        index): those that have not changed since the index was built, and the fresh ones, in the order
        a new index would give them (by length, then position), so the look-alikes come out the same."""
        import numpy as np
        candidates = order[first:last]
        if not self._fresh:
            return candidates
        fresh = np.fromiter(self._fresh, dtype=candidates.dtype, count=len(self._fresh))
        stale = np.zeros(len(order), dtype=bool)
        stale[fresh[fresh < len(order)]] = True
        kept = ~stale[candidates]
        candidates, lengths = candidates[kept], sorted_lengths[first:last][kept].astype(np.int64)
        fresh_lengths = np.array([self.lengths[i] for i in fresh.tolist()], dtype=np.int64)
        reach = (fresh_lengths >= low) & (fresh_lengths <= high)
        fresh, fresh_lengths = fresh[reach], fresh_lengths[reach]
        # Each position's place by (length, position), as one number: insert the few fresh ones in order.
        span = len(self.ids) + 1
        fresh_keys = fresh_lengths * span + fresh
        arranged = np.argsort(fresh_keys)
        at = np.searchsorted(lengths * span + candidates, fresh_keys[arranged])
        return np.insert(candidates, at, fresh[arranged])


_LEGAL_SUFFIXES = ("股份有限公司", "有限责任公司", "有限公司", "股份公司", "集团公司", "公司")


_SPACE = re.compile(r"\s+")


def _blank(value) -> bool:
    return value is None or value == "" or (isinstance(value, float) and value != value)


def _stem(name_key: str) -> str:
    for suffix in _LEGAL_SUFFIXES:
        if name_key.endswith(suffix):
            return name_key[: -len(suffix)]
    return name_key
