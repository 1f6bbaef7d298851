"""The archive's tables and how rows are stored in them (JSON, hashed, typed back on reading).

Shared by the store (queries, transactions) and the merge (applying submissions).
"""
from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator

import numpy as np
import orjson
import pandas as pd

from schemas.columns import CUSTOMERS, DATA_SHEETS, DATE, DATETIME, IGNORED, NUMBER, YEAR

SCHEMA_VERSION = 9
BRANCH_FIELDS = ("stage", "proposed_grade", "contact", "title", "phone", "email", "department")
CUSTOMER_FIELDS = tuple(k for k in CUSTOMERS.keys if k not in BRANCH_FIELDS)
RECORD_ENTITIES = ("projects", "surveys", "complaints", "visits")

# A submission's rows: where each stands in its sheet, its clean values (a row of row_texts, shared with the
# branch's earlier files that sent the same row), the hash of its raw cells and, for customers, of its values.
SUB_ROWS = ("submission_id INTEGER REFERENCES submissions(id), entity TEXT, seq INTEGER, "
            "text_id INTEGER REFERENCES row_texts(id), raw_hash INTEGER, row_hash TEXT")
# A customer as one branch sees it: its own fields (contact, stage…), and the row it last sent (the hash of the
# row's values, and the values themselves in row_texts), to tell what it changes next time.
CUSTOMER_BRANCHES = ("customer_id INTEGER, branch TEXT, data TEXT, row_hash TEXT, first_period TEXT, sent_hash TEXT, "
                     "sent_text_id INTEGER REFERENCES row_texts(id), PRIMARY KEY (customer_id, branch)")

# The row each branch last sent of a record other branches may report too (a project under its contract number):
# what that branch changes next time is what differs from it, and sent again unchanged it carries nothing new.
RECORD_BRANCHES = ("entity TEXT, branch TEXT, key TEXT, sent_hash TEXT, sent_text_id INTEGER REFERENCES row_texts(id), "
                   "PRIMARY KEY (entity, branch, key)")

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS submissions (
    id INTEGER PRIMARY KEY, sha256 TEXT NOT NULL, file_name TEXT, branch TEXT,
    period TEXT, received_at TEXT, status TEXT, no_change INTEGER, counts TEXT,
    warnings INTEGER, errors INTEGER, findings TEXT, stored_path TEXT, ingested_at TEXT,
    filled_on TEXT, compared_with INTEGER, filler TEXT, filler_phone TEXT, prefill_as_of TEXT);
CREATE INDEX IF NOT EXISTS submissions_by_sha256 ON submissions(sha256);
CREATE INDEX IF NOT EXISTS submissions_by_branch_period ON submissions(branch, period);
CREATE TABLE IF NOT EXISTS row_texts (id INTEGER PRIMARY KEY, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sub_rows ({SUB_ROWS});
CREATE INDEX IF NOT EXISTS sub_rows_by_submission ON sub_rows(submission_id);
CREATE TABLE IF NOT EXISTS customer_ids (key TEXT PRIMARY KEY, customer_id INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS customer_ids_by_customer ON customer_ids(customer_id);
CREATE TABLE IF NOT EXISTS customers (
    id INTEGER PRIMARY KEY, uscc TEXT, name_key TEXT, data TEXT, row_hash TEXT,
    first_period TEXT, first_submission INTEGER);
CREATE INDEX IF NOT EXISTS customers_by_uscc ON customers(uscc);
CREATE INDEX IF NOT EXISTS customers_by_name ON customers(name_key);
CREATE INDEX IF NOT EXISTS customers_by_first_period ON customers(first_period);
CREATE TABLE IF NOT EXISTS customer_branches (
    {CUSTOMER_BRANCHES});
CREATE INDEX IF NOT EXISTS customer_branches_by_branch ON customer_branches(branch);
CREATE TABLE IF NOT EXISTS reports (customer_id INTEGER, branch TEXT, period TEXT,
    PRIMARY KEY (customer_id, branch, period));
CREATE TABLE IF NOT EXISTS records (
    entity TEXT, key TEXT, customer_id INTEGER, branch TEXT, data TEXT, row_hash TEXT,
    first_period TEXT, PRIMARY KEY (entity, key));
CREATE INDEX IF NOT EXISTS records_by_branch ON records(entity, branch);
CREATE TABLE IF NOT EXISTS record_branches ({RECORD_BRANCHES});
CREATE TABLE IF NOT EXISTS history (
    id INTEGER PRIMARY KEY, entity TEXT, entity_key TEXT, customer_id INTEGER, branch TEXT,
    field TEXT, old TEXT, new TEXT, period TEXT, submission_id INTEGER);
CREATE INDEX IF NOT EXISTS history_by_period ON history(period);
CREATE INDEX IF NOT EXISTS history_by_customer ON history(customer_id);
CREATE TABLE IF NOT EXISTS conflicts (
    id INTEGER PRIMARY KEY, kind TEXT, left_id INTEGER, right_id INTEGER, detail TEXT,
    score REAL, period TEXT, submission_id INTEGER, other_name TEXT NOT NULL DEFAULT '',
    UNIQUE (kind, left_id, right_id, other_name));
CREATE TABLE IF NOT EXISTS name_decisions (
    customer_id INTEGER, name_key TEXT, name TEXT, adopt INTEGER, decided_by TEXT, decided_at TEXT,
    branch TEXT, period TEXT, PRIMARY KEY (customer_id, name_key));
CREATE TABLE IF NOT EXISTS review_decisions (
    left_id INTEGER, right_id INTEGER, decision TEXT, keep_id INTEGER, remark TEXT,
    decided_by TEXT, decided_at TEXT, branch TEXT, period TEXT, kind TEXT, PRIMARY KEY (left_id, right_id));
CREATE TABLE IF NOT EXISTS documents (
    id INTEGER PRIMARY KEY, kind TEXT, branch TEXT, period TEXT, file_name TEXT, sha256 TEXT,
    received_at TEXT, status TEXT, findings TEXT, stored_path TEXT, ingested_at TEXT);
CREATE INDEX IF NOT EXISTS documents_by_sha256 ON documents(sha256);
CREATE TABLE IF NOT EXISTS assessments (
    id INTEGER PRIMARY KEY, period TEXT, branch TEXT, figures TEXT, total REAL, proposed TEXT,
    result TEXT, remark TEXT, decided_by TEXT, decided_at TEXT, notified_on TEXT, summary_due TEXT,
    suspended_from TEXT, suspended_until TEXT);
CREATE TABLE IF NOT EXISTS access_ledger (
    id INTEGER PRIMARY KEY, at TEXT, branch TEXT, approved_by TEXT, scope TEXT, rows INTEGER,
    file TEXT, on_date TEXT);
CREATE TABLE IF NOT EXISTS mail_ledger (
    id INTEGER PRIMARY KEY, period TEXT, kind TEXT, item TEXT, address TEXT, recipient TEXT, subject TEXT,
    message_id TEXT, size INTEGER, status TEXT, response TEXT, at TEXT);
CREATE INDEX IF NOT EXISTS mail_ledger_by_period ON mail_ledger(period);
CREATE TABLE IF NOT EXISTS record_numbers (
    number INTEGER PRIMARY KEY, entity TEXT NOT NULL, key TEXT NOT NULL, UNIQUE (entity, key));
CREATE TABLE IF NOT EXISTS withdrawals (
    submission_id INTEGER PRIMARY KEY, withdrawn_at TEXT, withdrawn_by TEXT, reason TEXT);
CREATE TABLE IF NOT EXISTS grade_adjustments (
    id INTEGER PRIMARY KEY, customer_id INTEGER, period TEXT, effective_period TEXT,
    old_grade TEXT, new_grade TEXT, decision TEXT, remark TEXT, decided_by TEXT, decided_at TEXT);
""".replace("{SUB_ROWS}", SUB_ROWS).replace("{CUSTOMER_BRANCHES}", CUSTOMER_BRANCHES).replace(
    "{RECORD_BRANCHES}", RECORD_BRANCHES)
# What SCHEMA creates: an archive holding all of it needs no statement of SCHEMA run (nothing written at open).
SCHEMA_OBJECTS = frozenset(re.findall(r"CREATE (?:TABLE|INDEX) IF NOT EXISTS (\w+)", SCHEMA))
# Upgrades of an older archive file, by the version they upgrade from. Each runs in one transaction.
MIGRATIONS = {
    # v1 → v2: a file identical to a rejected one may be sent again (sha256 no longer unique);
    # the cover's 填报日期 orders corrections received at the same time.
    1: """
CREATE TABLE submissions_v2 (
    id INTEGER PRIMARY KEY, sha256 TEXT NOT NULL, file_name TEXT, branch TEXT,
    period TEXT, received_at TEXT, status TEXT, no_change INTEGER, counts TEXT,
    warnings INTEGER, errors INTEGER, findings TEXT, stored_path TEXT, ingested_at TEXT,
    filled_on TEXT);
INSERT INTO submissions_v2 SELECT id, sha256, file_name, branch, period, received_at, status, no_change,
    counts, warnings, errors, findings, stored_path, ingested_at, NULL FROM submissions;
DROP TABLE submissions;
ALTER TABLE submissions_v2 RENAME TO submissions;
CREATE INDEX IF NOT EXISTS submissions_by_sha256 ON submissions(sha256);
CREATE INDEX IF NOT EXISTS submissions_by_branch_period ON submissions(branch, period);
""",
    # v2 → v3: a review decision remembers the branch and month whose submission raised the pair
    # (the branch assessment counts look-alikes decided 合并).
    2: lambda conn: add_columns(conn, "review_decisions", {"branch": "TEXT", "period": "TEXT", "kind": "TEXT"}),
    # v3 → v4: the mail ledger (created by SCHEMA; nothing to convert).
    3: lambda conn: None,
    # v4 → v5: each stored row keeps the hash of its raw cells and of its clean values, so a row a branch
    # sends again unchanged is neither cleaned nor validated nor merged again (older rows have none).
    # A submission remembers which file of its branch it was compared with (a rebuild compares the same).
    4: lambda conn: (add_columns(conn, "sub_rows", {"raw_hash": "INTEGER", "row_hash": "TEXT"}),
                     add_columns(conn, "submissions", {"compared_with": "INTEGER"})),
    # v5 → v6: a row a branch sends again unchanged, and the row each branch last sent, are stored once
    # (row_texts), not copied into every month's file and into customer_branches (which made the stored rows
    # most of the archive, about 0.7 GB a year for 100 branches).
    5: lambda conn: share_row_texts(conn),
    # v6 → v7: the row each branch last sent of a shared record (created by SCHEMA, filled as branches send
    # their next files, or at once by `crm archive rebuild`). A v6 archive of the first v6 layout (written before
    # the row each branch last sent moved from customer_branches.sent_data into row_texts) is converted as a v5's.
    6: lambda conn: share_row_texts(conn),
    # v7 → v8: stored rows are written compactly by orjson (a row is written about ten times and read about twice as
    # fast as with the json module, which put a space after every comma and colon); the rows stored before are
    # rewritten so, and their hashes with them.
    7: lambda conn: compact_rows(conn),
    # v8 → v9: a decision on a customer's other name remembers the branch and month whose submission raised it (the
    # pair is no conflict once decided: the branch assessment counted it only until the review); a submission, its
    # cover's 填报人 and 联系电话 (next month's pre-filled cover carries them) and, for a pre-filled workbook, the
    # month its rows show (they are compared with that).
    8: lambda conn: (add_columns(conn, "name_decisions", {"branch": "TEXT", "period": "TEXT"}),
                     add_columns(conn, "submissions", {"filler": "TEXT", "filler_phone": "TEXT",
                                                       "prefill_as_of": "TEXT"})),
}


def compact_rows(conn) -> None:
    """Rewrite every stored row as ``dumps`` now writes it, and every hash of a stored row to match."""
    conn.create_function("recoded", 1, lambda text: None if text is None else dumps(json.loads(text)),
                         deterministic=True)
    conn.create_function("text_hash", 1, lambda text: None if text is None else text_hash(text), deterministic=True)
    conn.execute("UPDATE row_texts SET data = recoded(data)")
    for table in ("customers", "customer_branches", "records"):
        conn.execute(f"UPDATE {table} SET data = recoded(data)")
        conn.execute(f"UPDATE {table} SET row_hash = text_hash(data) WHERE row_hash IS NOT NULL")
    sent = "(SELECT text_hash(t.data) FROM row_texts t WHERE t.id = {table}.{column})"
    for table, digest, column in (("customer_branches", "sent_hash", "sent_text_id"),
                                  ("record_branches", "sent_hash", "sent_text_id"),
                                  ("sub_rows", "row_hash", "text_id")):  # a customer row's hash is its text's
        conn.execute(f"UPDATE {table} SET {digest} = {sent.format(table=table, column=column)} "
                     f"WHERE {digest} IS NOT NULL AND {column} IS NOT NULL")


def share_row_texts(conn) -> None:
    """Move the clean rows of sub_rows and the rows each branch last sent (customer_branches.sent_data) into
    row_texts, each distinct text once (a v5 archive; tables created by this schema are left as they are)."""
    rows, links = "data" in _columns(conn, "sub_rows"), "sent_data" in _columns(conn, "customer_branches")
    if not (rows or links):
        return
    conn.execute("CREATE INDEX row_texts_by_data ON row_texts(data)")
    if rows:
        conn.execute("INSERT INTO row_texts (data) SELECT data FROM sub_rows WHERE data IS NOT NULL GROUP BY data")
        _replace(conn, "sub_rows", SUB_ROWS, "SELECT s.submission_id, s.entity, s.seq, t.id, s.raw_hash, s.row_hash "
                 "FROM sub_rows s LEFT JOIN row_texts t ON t.data = s.data ORDER BY s.rowid",
                 "CREATE INDEX IF NOT EXISTS sub_rows_by_submission ON sub_rows(submission_id)")
    if links:
        conn.execute("INSERT INTO row_texts (data) SELECT DISTINCT c.sent_data FROM customer_branches c WHERE "
                     "c.sent_data IS NOT NULL AND NOT EXISTS (SELECT 1 FROM row_texts t WHERE t.data = c.sent_data)")
        _replace(conn, "customer_branches", CUSTOMER_BRANCHES,
                 "SELECT c.customer_id, c.branch, c.data, c.row_hash, c.first_period, c.sent_hash, t.id FROM "
                 "customer_branches c LEFT JOIN row_texts t ON t.data = c.sent_data ORDER BY c.rowid",
                 "CREATE INDEX IF NOT EXISTS customer_branches_by_branch ON customer_branches(branch)")
    conn.execute("DROP INDEX row_texts_by_data")


def rows_outside_texts(conn) -> bool:
    """Whether stored rows are still copied into sub_rows or customer_branches (before v6, or the first v6 layout)."""
    return "data" in _columns(conn, "sub_rows") or "sent_data" in _columns(conn, "customer_branches")


def _columns(conn, table: str) -> set[str]:
    """The names of a table's columns."""
    return {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}


def _replace(conn, table: str, columns: str, rows: str, index: str) -> None:
    """Rebuild a table with new ``columns`` from the ``rows`` query over the old one, and its ``index``."""
    conn.execute(f"CREATE TABLE {table}_new ({columns})")
    conn.execute(f"INSERT INTO {table}_new {rows}")
    conn.execute(f"DROP TABLE {table}")
    conn.execute(f"ALTER TABLE {table}_new RENAME TO {table}")
    conn.execute(index)


def add_columns(conn, table: str, columns: dict[str, str]) -> None:
    """Add the columns a table lacks (a table created by a newer schema already has them)."""
    have = _columns(conn, table)
    for name, kind in columns.items():
        if name not in have:
            conn.execute(f"ALTER TABLE {table} ADD COLUMN {name} {kind}")
DERIVED = ("customers", "customer_branches", "reports", "records", "record_branches", "history", "conflicts")


def json_value(value):
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


def as_stored(sheet, frame: pd.DataFrame) -> tuple[list[dict], list[str], list[str] | None]:
    """A sheet's clean rows as the archive stores them: JSON-ready dicts, their texts (``dumps``, keys sorted) and,
    for customers, the texts' hashes (None for other sheets)."""
    rows = frame_rows(frame, sorted(k for k in sheet.read_keys if k in frame.columns))
    texts = [dumps(row) for row in rows]
    return rows, texts, [text_hash(text) for text in texts] if sheet.key == "customers" else None


def stored_texts(frames: dict[str, pd.DataFrame]) -> dict[str, tuple[list[str], list[str] | None]]:
    """Each sheet's texts and hashes of ``as_stored``: what a validation worker hands the archive instead of the
    frames, so the process that merges has less to do."""
    return {sheet.key: as_stored(sheet, frame)[1:] for sheet in DATA_SHEETS
            if (frame := frames.get(sheet.key)) is not None and len(frame)}


def frame_rows(frame: pd.DataFrame, keys: list[str]) -> list[dict]:
    """The rows of a clean frame as JSON-ready dicts (``json_value`` of every cell), converted by column."""
    columns = [_json_column(frame[k]) for k in keys]
    return [dict(zip(keys, values)) for values in zip(*columns)] if keys else [{} for _ in range(len(frame))]


def _json_column(series: pd.Series) -> list:
    values = series.tolist()
    if pd.api.types.is_float_dtype(series.dtype):
        return [None if v != v else v for v in values]
    if pd.api.types.is_object_dtype(series.dtype) and all(v is None or type(v) is str for v in values):
        return values
    return [json_value(v) for v in values]


def rows_in(conn, query: str, values, after: tuple = ()) -> Iterator[tuple]:
    """The rows of ``query`` for every value, its ``IN ({marks})`` asked 500 values at a time
    (SQLite limits how many parameters one statement takes); ``after``: the parameters after the marks."""
    values = list(values)
    for start in range(0, len(values), 500):
        chunk = values[start:start + 500]
        yield from conn.execute(query.format(marks=",".join("?" * len(chunk))), [*chunk, *after])


def row_hash(data: dict) -> str:
    return text_hash(dumps(data))


def text_hash(text: str) -> str:
    """The hash of a row already written as JSON (``dumps``): the same as ``row_hash`` of the row."""
    return hashlib.sha1(text.encode()).hexdigest()


def dumps(data: dict) -> str:
    """A row as stored: compact JSON with its keys sorted and Chinese kept as is (the hash depends on it)."""
    return orjson.dumps(data, option=orjson.OPT_SORT_KEYS).decode()


def loads(text: str):
    """A stored row (or a JSON array of them) back as Python values."""
    return orjson.loads(text)


def stored(data: dict) -> tuple[str, str]:
    """A row as stored and its hash (``dumps`` and ``row_hash``, written once)."""
    text = dumps(data)
    return text, text_hash(text)


def typed(frame: pd.DataFrame, columns, order: list[str]) -> pd.DataFrame:
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
            frame[name] = _text(frame[name])
    return frame


def _text(column: pd.Series) -> pd.Series:
    """A text column with blanks as None and its repeated values one object each: decoded JSON makes a
    new string for every cell, and a branch name in 100,000 rows would otherwise be held 100,000 times."""
    values = column.to_numpy(dtype=object)
    if len(set(values[:64].tolist())) <= 32:  # repeats at the top: worth sharing (names and codes are not)
        codes, uniques = pd.factorize(values)
        shared = np.asarray(uniques, dtype=object)
        if 2 * len(shared) <= len(values) and all(type(value) is str for value in shared):
            # Only texts: as keys 1, 1.0 and True are equal. A blank's code, -1, takes the None.
            return pd.Series(np.append(shared, None)[codes], index=column.index, name=column.name, dtype=object)
    return column.astype(object).where(column.notna(), None)
