"""Rows a branch sends again unchanged are skipped; the archive is the same as after checking every row."""
from __future__ import annotations

import random
import shutil
import sqlite3
from pathlib import Path

import pytest

from builders import example_row, write_submission
from pipeline.archive import Archive
from pipeline.archive.ingest import ingest_inbox
from pipeline.archive.schema import SCHEMA_VERSION
from pipeline.archive.workspace import Workspace
from pipeline.config import load_config
from pipeline.dev.bench import _branch_rows, _next_month, _write

BRANCHES = ["华东分公司", "华南分公司", "华北分公司"]
SIZES = {"customers": 60, "projects": 40, "surveys": 10, "complaints": 8, "visits": 15}
# Tables compared row by row (ids, data, history), and submissions without the clock.
TABLES = ("customers", "customer_branches", "customer_ids", "reports", "records", "record_branches", "history",
          "conflicts", "sub_rows")
# Each row with its values, wherever they are kept.
QUERIES = {"sub_rows": "SELECT s.submission_id, s.entity, s.seq, t.data, s.raw_hash, s.row_hash FROM sub_rows s "
                       "JOIN row_texts t ON t.id = s.text_id",
           "customer_branches": "SELECT c.customer_id, c.branch, c.data, c.row_hash, c.first_period, c.sent_hash, "
                                "t.data FROM customer_branches c LEFT JOIN row_texts t ON t.id = c.sent_text_id",
           "record_branches": "SELECT r.entity, r.branch, r.key, r.sent_hash, t.data FROM record_branches r "
                              "LEFT JOIN row_texts t ON t.id = r.sent_text_id"}


@pytest.fixture(scope="module")
def months(tmp_path_factory) -> tuple[Path, Path]:
    """Two months of three branches in the bench's shape: about 5 % of rows changed, 1 % new."""
    root = tmp_path_factory.mktemp("months")
    rng = random.Random(11)
    first, second = root / "2026-09", root / "2026-10"
    first.mkdir()
    second.mkdir()
    for b, branch in enumerate(BRANCHES):
        tables = _branch_rows(rng, b, SIZES)
        _write(first / f"{branch}_2026-09_客户信息统计表.xlsx", branch, "2026-09", tables)
        _next_month(rng, tables, b)
        _write(second / f"{branch}_2026-10_客户信息统计表.xlsx", branch, "2026-10", tables)
    return first, second


def run(root: Path, months, recheck: bool) -> Path:
    ws = Workspace(root)
    ws.init()
    config = load_config(ws.config_path)
    with Archive(ws.archive_path, journal=ws.journal) as archive:
        for folder in months:
            for path in sorted(folder.iterdir()):
                shutil.copy2(path, ws.inbox / path.name)
            stamp = __import__("datetime").datetime.fromisoformat(f"{folder.name}-20T10:00")
            ingest_inbox(ws, archive, config, received_at=stamp, recheck=recheck)
    return ws.archive_path


def dump(path: Path) -> dict[str, list]:
    conn = sqlite3.connect(path)
    out = {table: sorted(map(repr, conn.execute(QUERIES.get(table, f"SELECT * FROM {table}")))) for table in TABLES}
    out["submissions"] = sorted(map(repr, conn.execute(
        "SELECT id, sha256, file_name, branch, period, received_at, status, no_change, counts, warnings, errors, "
        "findings, stored_path FROM submissions")))
    conn.close()
    return out


def test_the_incremental_path_gives_the_archive_of_a_full_check(months, tmp_path):
    incremental = dump(run(tmp_path / "incremental", months, recheck=False))
    full = dump(run(tmp_path / "full", months, recheck=True))
    assert incremental["history"], "the second month changes something"
    for table in (*TABLES, "submissions"):
        assert incremental[table] == full[table], table


def test_rows_prepared_by_the_workers_give_the_archive_of_rows_merged_from_frames(months, tmp_path, monkeypatch):
    """A validation worker hands the archive the rows as stored (texts), not the frames: the same archive."""
    from pipeline.archive import store
    from pipeline.intake import worker
    from_frames = dump(run(tmp_path / "frames", months, recheck=False))
    monkeypatch.setattr(worker, "PARALLEL_FROM", 1)  # workers for three files
    handed = []
    record = store.Archive.record_submission
    monkeypatch.setattr(store.Archive, "record_submission", lambda self, meta, frames, rows=None, stored=None: (
        handed.append((bool(frames), bool(stored))), record(self, meta, frames, rows, stored))[1])
    from_texts = dump(run(tmp_path / "texts", months, recheck=False))
    assert (False, True) in handed  # a worker's file: texts, no frames
    for table in (*TABLES, "submissions"):
        assert from_texts[table] == from_frames[table], table


def test_the_second_month_reuses_the_unchanged_rows(months, tmp_path):
    path = run(tmp_path / "ws", months, recheck=False)
    with Archive(path) as archive:
        first = {archive.submission(int(i))["branch"]: int(i) for i in archive.submissions("2026-09")["id"]}
        for sid in archive.submissions("2026-10")["id"]:
            second = archive.submission(int(sid))
            assert second["compared_with"] == first[second["branch"]]  # compared with the branch's last file
            stored = archive.conn.execute("SELECT COUNT(*) FROM sub_rows WHERE submission_id = ?",
                                          (second["id"],)).fetchone()[0]
            assert stored == sum(SIZES.values()) + 1  # every row kept, and one new customer
            shared = archive.conn.execute(
                "SELECT COUNT(*) FROM sub_rows s JOIN sub_rows e ON e.text_id = s.text_id "
                "WHERE s.submission_id = ? AND e.submission_id = ?", (second["id"], second["compared_with"])).fetchone()[0]
            assert shared >= 0.8 * stored  # a repeated row's values are stored once, for both months
        texts = archive.conn.execute("SELECT COUNT(*) FROM row_texts").fetchone()[0]
        rows = archive.conn.execute("SELECT COUNT(*) FROM sub_rows").fetchone()[0]
        assert texts < 0.6 * rows


def test_one_changed_cell_in_an_unchanged_row_is_found_and_validated(tmp_path):
    ws = Workspace(tmp_path / "ws")
    ws.init()
    config = load_config(ws.config_path)
    rows = [example_row("customers", name=f"上海{n}号置业有限公司", uscc=None, phone="13812345678")
            for n in range(1, 6)]
    write_submission(ws.inbox / "华东分公司_2026-09_客户信息统计表.xlsx", period="2026-09", customers=rows)
    with Archive(ws.archive_path, journal=ws.journal) as archive:
        first = ingest_inbox(ws, archive, config)
        assert first[0].status == "accepted", [f.message for f in first[0].findings]
        # next month: the same rows, but one phone is now wrong
        bad = [dict(r) for r in rows]
        bad[2]["phone"] = "1381234"
        write_submission(ws.inbox / "华东分公司_2026-10_客户信息统计表.xlsx", period="2026-10", customers=bad)
        second = ingest_inbox(ws, archive, config)
        assert second[0].status == "rejected"
        assert [(f.code, f.cell) for f in second[0].findings if f.severity == "error"] == [("bad-phone", "客户信息!L4")]
        # corrected: one valid change, recorded as exactly one change of that customer
        good = [dict(r) for r in rows]
        good[2]["phone"] = "13900001111"
        write_submission(ws.inbox / "华东分公司_2026-10_客户信息统计表_更正.xlsx", period="2026-10", customers=good)
        third = ingest_inbox(ws, archive, config)
        assert third[0].status == "accepted"
        changes = archive.history(period="2026-10")
        assert len(changes) == 1 and str(changes["new_value"].iloc[0]) == "13900001111"
        assert changes["name"].iloc[0] == "上海3号置业有限公司"


V5_ROWS = """
        CREATE TABLE old_rows (submission_id INTEGER REFERENCES submissions(id), entity TEXT, seq INTEGER,
                               data TEXT, raw_hash INTEGER, row_hash TEXT);
        INSERT INTO old_rows SELECT s.submission_id, s.entity, s.seq, t.data, s.raw_hash, s.row_hash
            FROM sub_rows s JOIN row_texts t ON t.id = s.text_id ORDER BY s.rowid;
        DROP TABLE sub_rows;
        ALTER TABLE old_rows RENAME TO sub_rows;
        CREATE INDEX sub_rows_by_submission ON sub_rows(submission_id);
"""
V5_LINKS = """
        CREATE TABLE old_links (customer_id INTEGER, branch TEXT, data TEXT, row_hash TEXT, first_period TEXT,
                                sent_hash TEXT, sent_data TEXT, PRIMARY KEY (customer_id, branch));
        INSERT INTO old_links SELECT c.customer_id, c.branch, c.data, c.row_hash, c.first_period, c.sent_hash, t.data
            FROM customer_branches c LEFT JOIN row_texts t ON t.id = c.sent_text_id;
        DROP TABLE customer_branches;
        ALTER TABLE old_links RENAME TO customer_branches;
"""


@pytest.mark.parametrize("version, layout", [
    (5, V5_ROWS + V5_LINKS + "DROP TABLE row_texts;"),
    (6, V5_LINKS)])  # the first v6 layout: rows in row_texts, each branch's last row still in customer_branches
def test_an_archive_of_schema_5_or_6_keeps_every_stored_row(months, tmp_path, version, layout):
    """A v5 archive (each file's rows copied whole into sub_rows, each branch's last row in customer_branches),
    or a v6 of the first layout, is upgraded: the same rows, each distinct text kept once, and a rebuild from
    them gives the same archive."""
    path = run(tmp_path / "ws", months, recheck=False)
    before = dump(path)
    conn = sqlite3.connect(path)
    conn.executescript(layout + f"DROP TABLE record_branches; UPDATE meta SET value = '{version}' "
                                "WHERE key = 'schema_version';")
    conn.close()
    with Archive(path) as archive:
        assert archive.conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0] == \
            str(SCHEMA_VERSION)
        texts, distinct = archive.conn.execute("SELECT COUNT(*), COUNT(DISTINCT data) FROM row_texts").fetchone()
        assert texts == distinct
        assert texts < archive.conn.execute("SELECT COUNT(*) FROM sub_rows").fetchone()[0]
        unsent = "SELECT COUNT(*) FROM customer_branches WHERE sent_text_id IS NULL"
        assert archive.conn.execute(unsent).fetchone()[0] == 0  # every last-sent row found among the texts
        upgraded = dump(path)
        assert not upgraded.pop("record_branches")  # v7: filled as branches send again, or by a rebuild
        assert upgraded == {table: rows for table, rows in before.items() if table != "record_branches"}
        archive.rebuild()
    assert dump(path) == before


def test_an_archive_of_schema_7_has_its_rows_rewritten_compactly(months, tmp_path):
    """A v7 archive wrote its rows with the json module (a space after each comma and colon) and hashed that
    text: upgraded, every row and every hash is what this version writes, so the next month's unchanged rows
    are still recognised as unchanged."""
    import hashlib
    import json
    path = run(tmp_path / "ws", months, recheck=False)
    before = dump(path)
    conn = sqlite3.connect(path)
    conn.create_function("spaced", 1, lambda text: None if text is None else json.dumps(
        json.loads(text), ensure_ascii=False, sort_keys=True))
    conn.create_function("sha1", 1, lambda text: hashlib.sha1(text.encode()).hexdigest())
    spaced = conn.execute("SELECT spaced(data) FROM customers LIMIT 1").fetchone()[0]
    assert '", "' in spaced and '": ' in spaced
    conn.executescript("""
        UPDATE row_texts SET data = spaced(data);
        UPDATE customers SET data = spaced(data), row_hash = sha1(spaced(data));
        UPDATE customer_branches SET data = spaced(data), row_hash = sha1(spaced(data)),
            sent_hash = (SELECT sha1(t.data) FROM row_texts t WHERE t.id = sent_text_id);
        UPDATE records SET data = spaced(data), row_hash = sha1(spaced(data));
        UPDATE record_branches SET sent_hash = (SELECT sha1(t.data) FROM row_texts t WHERE t.id = sent_text_id);
        UPDATE sub_rows SET row_hash = (SELECT sha1(t.data) FROM row_texts t WHERE t.id = text_id)
            WHERE row_hash IS NOT NULL;
        UPDATE meta SET value = '7' WHERE key = 'schema_version';
    """)
    conn.commit()
    assert dump(path) != before
    conn.close()
    with Archive(path):
        pass
    assert dump(path) == before


def test_a_project_two_branches_report_is_not_undone_by_an_unchanged_resend(tmp_path):
    """Two branches report the same contract. When one updates it and the other sends its row again
    unchanged, the update stands (the unchanged row carries nothing new), checked row by row or not; a
    changed row takes only the fields its branch changed since its own last row."""
    root = tmp_path / "months"
    customer = example_row("customers")
    east = example_row("projects")
    south = dict(east, amount=13000.0)
    for period, east_row, south_row in [
            ("2026-09", east, south),
            ("2026-10", dict(east, amount=15000.0), south),                   # east updates, south resends
            ("2026-11", dict(east, amount=15000.0), dict(south, status="竣工", completed_on="2026-11-02"))]:
        folder = root / period
        folder.mkdir(parents=True)
        for branch, row in (("华东分公司", east_row), ("华南分公司", south_row)):
            write_submission(folder / f"{branch}_{period}_客户信息统计表.xlsx", branch=branch, period=period,
                             customers=[customer], projects=[row])
    folders = sorted(root.iterdir())
    incremental = run(tmp_path / "incremental", folders, recheck=False)
    assert dump(incremental) == dump(run(tmp_path / "full", folders, recheck=True))
    with Archive(incremental) as archive:
        project = archive.snapshot()["projects"].iloc[0]
        assert (project["amount"], project["status"]) == (15000.0, "竣工")  # south's 13000 never comes back
        archive.rebuild()
    assert dump(incremental) == dump(run(tmp_path / "again", folders, recheck=False))
