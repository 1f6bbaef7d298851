"""Ingest and the monthly routine on a real workspace: where files go, status, lock, crashes."""
from __future__ import annotations

import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner

from builders import at, example_row, full_example, write_submission
from builders import crm as run_crm
from pipeline.archive import Archive
from pipeline.cli import main
from pipeline.archive.workspace import Workspace

CRM = str(Path(sys.executable).parent / "crm")


def crm(ws: Path, *args):
    return run_crm(ws, *args, catch=False)


def test_monthly_files_each_kind_where_it_belongs(ws):
    good = at(full_example(ws.inbox / "华东分公司_2026-10_客户信息统计表.xlsx"), "2026-10-24T10:00")
    bad = at(write_submission(ws.inbox / "华南分公司_2026-10_客户信息统计表.xlsx", branch="华南分公司",
                              customers=[example_row("customers", nature="民营")]),
             "2026-10-24T11:00")
    lock = ws.inbox / "~$华东分公司_2026-10_客户信息统计表.xlsx"
    lock.write_bytes(b"x")
    dup = ws.inbox / "华东分公司_2026-10_客户信息统计表(1).xlsx"
    shutil.copy2(good, dup)
    result = crm(ws.root, "monthly", "--period", "2026-10")
    assert result.exit_code == 0, result.output
    filed = list((ws.received / "2026-10" / "华东分公司").glob("*.xlsx"))
    assert len(filed) == 1 and filed[0].name.startswith("华东分公司_2026-10_客户信息统计表")
    assert len(list((ws.received / "重复文件").glob("*.xlsx"))) == 1
    rejected = sorted(p.name for p in (ws.rejected / "2026-10").iterdir())
    assert len(rejected) == 2 and any(n.endswith("_校验结果.xlsx") for n in rejected)
    assert lock.exists() and not good.exists() and not bad.exists() and not dup.exists()
    assert "已跳过" in result.output and "已退回" in result.output and "已归档" in result.output
    report = ws.output / "2026-10" / "月度汇总_2026-10.xlsx"
    book = openpyxl.load_workbook(report)
    status = {row[0].value: row[1].value for row in book["报送情况"].iter_rows(min_row=4)}
    assert status["华东分公司"] == "按时" and status["华南分公司"] == "被退回待重报"
    assert status["华北分公司"] == "未报"
    new_rows = [row for row in book["新增客户"].iter_rows(min_row=4, values_only=True) if any(row)]
    assert len(new_rows) == 1 and new_rows[0][0] == "上海浦江城市建设投资有限公司"


def test_ingest_twice_changes_nothing(ws):
    full_example(ws.inbox / "华东分公司_2026-10_客户信息统计表.xlsx")
    crm(ws.root, "ingest")
    with Archive(ws.archive_path) as archive:
        first = archive.submissions()
        snap = archive.snapshot()
    crm(ws.root, "ingest")
    with Archive(ws.archive_path) as archive:
        assert len(archive.submissions()) == len(first)
        pd.testing.assert_frame_equal(archive.snapshot()["customers"], snap["customers"])


def test_resubmission_supersedes(ws):
    at(full_example(ws.inbox / "华东分公司_2026-10_客户信息统计表.xlsx"), "2026-10-20T10:00")
    crm(ws.root, "ingest")
    at(write_submission(ws.inbox / "华东分公司_2026-10_客户信息统计表_更正.xlsx",
                        customers=[example_row("customers", contact="王五")]), "2026-10-21T10:00")
    crm(ws.root, "ingest")
    with Archive(ws.archive_path) as archive:
        subs = archive.submissions()
        assert sorted(subs["status"]) == ["accepted", "superseded"]
        links = archive.snapshot()["customer_branches"]
        assert links["contact"].tolist() == ["王五"]
        assert len(archive.snapshot()["projects"]) == 0  # only the earlier file had a project


def test_a_filling_date_not_yet_come_does_not_decide_which_file_stands(ws):
    """Two files of a month received at once: the one whose cover says 2027-10-20 (for 2026-10-20) stood, though
    the other is the correction."""
    from builders import cover_grid, sheet_grid, write_grid
    typo = {"封面": cover_grid(filled_on="2027-10-20"),
            "客户信息": sheet_grid("customers", [example_row("customers", contact="旧联系人")])}
    write_grid(ws.inbox / "华东分公司_2026-10_客户信息统计表.xlsx", typo)
    write_submission(ws.inbox / "华东分公司_2026-10_客户信息统计表（更正）.xlsx",
                     customers=[example_row("customers", contact="王五")])
    result = crm(ws.root, "ingest", "--received-at", "2026-10-24T15:00")
    assert "封面“填报日期”为 2027-10-20，晚于收到本文件的日期（2026-10-24）" in result.output, result.output
    with Archive(ws.archive_path) as archive:
        assert archive.snapshot()["customer_branches"]["contact"].tolist() == ["王五"]
        subs = archive.submissions(findings=False).set_index("file_name")
    assert subs.loc["华东分公司_2026-10_客户信息统计表（更正）.xlsx", "status"] == "accepted"
    assert pd.isna(subs.loc["华东分公司_2026-10_客户信息统计表.xlsx", "filled_on"])
    ws.archive_path.unlink()
    assert crm(ws.root, "archive", "rebuild").exit_code == 0  # the same verdict and notes again
    with Archive(ws.archive_path) as archive:
        again = archive.submissions().set_index("file_name")
        assert archive.snapshot()["customer_branches"]["contact"].tolist() == ["王五"]
    typo_file = again.loc["华东分公司_2026-10_客户信息统计表.xlsx"]
    assert pd.isna(typo_file["filled_on"]) and typo_file["warnings"] == subs.loc[
        "华东分公司_2026-10_客户信息统计表.xlsx", "warnings"]


def test_a_rebuild_without_the_journal_keeps_the_cover_s_filling_date(ws):
    """A filed file the journal does not know is restored with its cover's 填报日期 (it orders a month's files)."""
    full_example(ws.inbox / "华东分公司_2026-10_客户信息统计表.xlsx")  # (its cover: 填报日期 2026-10-24)
    assert crm(ws.root, "ingest", "--received-at", "2026-10-24T15:00").exit_code == 0
    ws.journal.path.unlink()
    ws.archive_path.unlink()
    assert crm(ws.root, "archive", "rebuild").exit_code == 0
    with Archive(ws.archive_path) as archive:
        assert archive.submissions(findings=False)["filled_on"].tolist() == ["2026-10-24"]


@pytest.mark.parametrize("when, state", [("2026-10-25T23:30", "按时"), ("2026-10-26T08:00", "逾期")])
def test_status_on_the_deadline_edge(ws, when, state):
    full_example(ws.inbox / "华东分公司_2026-10_客户信息统计表.xlsx")
    crm(ws.root, "ingest", "--received-at", when)
    result = crm(ws.root, "status", "--period", "2026-10")
    line = next(l for l in result.output.splitlines() if l.startswith("华东分公司"))
    assert state in line
    assert "未报" in next(l for l in result.output.splitlines() if l.startswith("华北分公司"))


def test_no_change_submission(ws):
    write_submission(ws.inbox / "华北分公司_2026-10_客户信息统计表.xlsx", branch="华北分公司",
                     changed="无", customers=[])
    crm(ws.root, "ingest", "--received-at", "2026-10-20T09:00")
    result = crm(ws.root, "status", "--period", "2026-10")
    assert "无变化" in next(l for l in result.output.splitlines() if l.startswith("华北分公司"))


def test_unknown_branch_is_rejected_naming_the_roster(ws):
    ws.config_path.write_text('[roster]\nbranches = ["华东分公司"]\n', encoding="utf-8")
    full_example(ws.inbox / "华南分公司_2026-10_客户信息统计表.xlsx", branch="华南分公司")
    result = crm(ws.root, "ingest")
    assert "已退回" in result.output
    assert list((ws.rejected / "2026-10").glob("*_校验结果.xlsx"))


def test_lock_prevents_a_second_run(ws):
    with ws.lock():
        result = CliRunner().invoke(main, ["--workspace", str(ws.root), "ingest"])
    assert result.exit_code == 1 and "正被另一个 crm 进程使用" in result.output


def _inbox_of_six(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for i, branch in enumerate(["华东分公司", "华南分公司", "华北分公司", "华中分公司", "西南分公司",
                                "西北分公司"]):
        rows = [example_row("customers", name=f"{branch}客户{j}有限公司", uscc=None,
                            contact=f"联系人{j}") for j in range(40)]
        projects = [example_row("projects", customer_name=f"{branch}客户{j}有限公司",
                                customer_uscc=None, contract_no=f"{i}-{j}") for j in range(40)]
        if i == 2:
            rows[0]["nature"] = "民营"  # one rejected file
        write_submission(folder / f"{branch}_2026-10_客户信息统计表.xlsx", branch=branch,
                         customers=rows, projects=projects)


def _state(ws: Workspace) -> tuple:
    with Archive(ws.archive_path) as archive:
        subs = archive.submissions().drop(columns=["id", "ingested_at"], errors="ignore")
        snap = archive.snapshot()
        frames = {k: v.reset_index(drop=True) for k, v in snap.items()}
    files = sorted(str(p.relative_to(ws.root)) for p in ws.root.rglob("*.xlsx"))
    return subs.sort_values("sha256").reset_index(drop=True), frames, files


def test_killed_ingest_converges_to_the_uninterrupted_archive(tmp_path):
    reference = Workspace(tmp_path / "ref")
    reference.init()
    _inbox_of_six(reference.inbox)
    started = time.monotonic()
    subprocess.run([CRM, "--workspace", str(reference.root), "ingest", "--received-at",
                    "2026-10-20T10:00"], check=True, capture_output=True)
    took = time.monotonic() - started  # the kills fall within a run, however fast the ingest has become
    expected = _state(reference)

    rng = random.Random(7)
    victim = Workspace(tmp_path / "victim")
    victim.init()
    _inbox_of_six(victim.inbox)
    kills = attempts = 0
    while kills < 20:
        attempts += 1
        assert attempts < 200, "the ingest kept finishing before it could be killed"
        proc = subprocess.Popen([CRM, "--workspace", str(victim.root), "ingest", "--received-at",
                                 "2026-10-20T10:00"], stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.1, 1.2 * took))
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            kills += 1
        else:
            # It finished before the kill: start over with a fresh inbox to keep killing.
            if kills < 20:
                shutil.rmtree(victim.root)
                victim.init()
                _inbox_of_six(victim.inbox)
    subprocess.run([CRM, "--workspace", str(victim.root), "ingest", "--received-at",
                    "2026-10-20T10:00"], check=True, capture_output=True)
    subs, frames, files = _state(victim)
    pd.testing.assert_frame_equal(subs, expected[0])
    for key in expected[1]:
        pd.testing.assert_frame_equal(frames[key], expected[1][key], check_dtype=False)
    assert [f.replace("victim", "") for f in files] == [f.replace("ref", "") for f in expected[2]]


def _cells(path: Path) -> dict:
    book = openpyxl.load_workbook(path)
    return {ws.title: [row for row in ws.iter_rows(values_only=True)] for ws in book.worksheets}


def test_monthly_twice_gives_the_same_archive_and_report(ws):
    at(full_example(ws.inbox / "华东分公司_2026-10_客户信息统计表.xlsx"), "2026-10-24T10:00")
    at(write_submission(ws.inbox / "华南分公司_2026-10_客户信息统计表.xlsx", branch="华南分公司",
                        customers=[example_row("customers", nature="民营")]), "2026-10-24T11:00")
    crm(ws.root, "monthly", "--period", "2026-10")
    report = ws.output / "2026-10" / "月度汇总_2026-10.xlsx"
    first_report, first_state = _cells(report), _state(ws)
    crm(ws.root, "monthly", "--period", "2026-10")
    second_state = _state(ws)
    assert _cells(report) == first_report
    pd.testing.assert_frame_equal(second_state[0], first_state[0])
    for key in first_state[1]:
        pd.testing.assert_frame_equal(second_state[1][key], first_state[1][key])


def test_monthly_report_headers_are_chinese(ws):
    import re
    full_example(ws.inbox / "华东分公司_2026-10_客户信息统计表.xlsx")
    write_submission(ws.inbox / "华南分公司_2026-10_客户信息统计表.xlsx", branch="华南分公司",
                     customers=[example_row("customers", name="上海浦江城建投资有限公司", uscc=None)])
    crm(ws.root, "monthly", "--period", "2026-10")
    book = openpyxl.load_workbook(ws.output / "2026-10" / "月度汇总_2026-10.xlsx")
    assert book.sheetnames == ["报送情况", "校验结果", "新增客户", "信息变更", "待审核疑似重复", "投诉时限", "联系提醒"]
    assert book["待审核疑似重复"].max_row >= 4  # the look-alike pair is listed
    for sheet in book.worksheets:
        headers = [c.value for c in sheet[3] if c.value]
        assert headers and not [h for h in headers if re.fullmatch(r"[A-Za-z_]+", str(h))], sheet.title


def _views(path: Path) -> dict[str, list]:
    with Archive(path) as archive:
        return {table: sorted(map(repr, archive.conn.execute(query))) for table, query in {
            "customers": "SELECT id, uscc, name_key, data, first_period FROM customers",
            "history": "SELECT entity, entity_key, customer_id, branch, field, old, new FROM history",
            "conflicts": "SELECT kind, left_id, right_id, detail, other_name FROM conflicts"}.items()}


@pytest.mark.parametrize("runs", [1, 2])
def test_files_are_merged_in_the_order_they_were_received_whatever_their_names(ws, runs):
    """Two branches report one customer under two names; 华南's file reached the inbox first though its name
    sorts last, in the same run or in a later one. The archive is the one a rebuild derives: 华南's name first."""
    shared = example_row("customers")
    east = ws.inbox / "华东分公司_2026-10_客户信息统计表.xlsx"
    south = ws.inbox / "华南分公司_2026-10_客户信息统计表.xlsx"
    at(write_submission(east, customers=[dict(shared, address="建设路98号")]), "2026-10-24T10:00")
    if runs == 2:
        assert crm(ws.root, "ingest").exit_code == 0
    at(write_submission(south, branch="华南分公司", customers=[dict(shared, name="上海申城实业发展有限公司",
                                                                     address="建设路84号")]), "2026-10-20T10:00")
    assert crm(ws.root, "ingest").exit_code == 0
    merged = _views(ws.archive_path)
    with Archive(ws.archive_path) as archive:
        assert archive.snapshot()["customers"].loc[0, "name"] == "上海申城实业发展有限公司"
        archive.rebuild()
    assert _views(ws.archive_path) == merged


def test_a_customer_merged_earlier_in_the_run_is_not_reported_unknown(ws, monkeypatch):
    from pipeline.intake import worker
    monkeypatch.setattr(worker, "PARALLEL_FROM", 2)  # both validated ahead, before either is merged
    full_example(ws.inbox / "华东分公司_2026-10_客户信息统计表.xlsx")  # merged first (files go in name order)
    known = example_row("customers")["name"]
    write_submission(ws.inbox / "华北分公司_2026-10_客户信息统计表.xlsx", branch="华北分公司",
                     customers=[example_row("customers", name="北方重工建设有限公司", uscc=None)],
                     visits=[example_row("visits", customer_name=known),
                             example_row("visits", customer_name="从未建档有限公司")])
    result = crm(ws.root, "ingest")
    assert result.exit_code == 0, result.output
    with Archive(ws.archive_path) as archive:
        found = archive.conn.execute("SELECT findings FROM submissions WHERE branch = '华北分公司'").fetchone()[0]
    assert "从未建档有限公司" in found and known not in found


class _Pool:
    """A stand-in for the validation pool: ``works`` files are taken, then it breaks; ``dies_on``: the
    file whose result is a worker's death (the files given to the workers after it die with it);
    ``slow``: a result is never ready before it is asked for."""

    def __init__(self, works: int, dies_on: str | None = None, slow: bool = False):
        self.works, self.dies_on, self.slow, self.asked = works, dies_on, slow, []

    def submit(self, path):
        from concurrent.futures import Future
        from concurrent.futures.process import BrokenProcessPool
        if len(self.asked) >= self.works:
            raise BrokenProcessPool("a worker died")
        self.asked.append(path)
        future = _Slow() if self.slow else Future()
        if self.dies_on is not None and path >= self.dies_on:
            future.set_exception(BrokenProcessPool("a worker died"))
        else:
            future.set_result(f"checked {path}")
        return future


class _Slow(__import__("concurrent.futures").futures.Future):
    def done(self):
        return False


@pytest.mark.parametrize("pool, expected", [
    (_Pool(works=99), ["here f0", "checked f1", "checked f2", "checked f3", "checked f4", "checked f5", "checked f6"]),
    (_Pool(works=4), ["here f0", "checked f1", "checked f2", "checked f3", "checked f4", None, None]),  # asking fails
    (_Pool(works=99, dies_on="f2"), ["here f0", "checked f1", None, None, None, None, None]),  # a result fails
    # the worker is slower than the merge: this process validates the next files itself while it waits
    (_Pool(works=99, slow=True), ["here f0", "checked f1", "checked f2", "here f3", "here f4", "checked f5",
                                  "checked f6"]),
])
def test_files_are_shared_with_the_workers_and_a_broken_pool_leaves_them_to_be_validated_here(pool, expected):
    """None: the file is validated in the main process (under the guard that keeps one file from stopping
    the others); the results stay in file order either way."""
    from pipeline.archive.ingest import _shared
    files = [f"f{i}" for i in range(7)]
    assert list(_shared(files, lambda path: f"here {path}", pool.submit)) == expected
    assert not set(pool.asked) & {result[5:] for result in expected if result and result.startswith("here")}


def test_workers_start_early_only_for_files_the_inbox_will_take(tmp_path, monkeypatch):
    """`crm monthly` starts its workers before it lists the inbox: it counts the files as the listing does
    (an Excel lock file, a hidden file or folder, Thumbs.db are not submissions)."""
    from pipeline.intake.worker import PARALLEL_FROM, Workers
    started = []
    monkeypatch.setattr(Workers, "start", lambda self, files: started.append(files))
    inbox = tmp_path / "inbox"
    (inbox / ".trash").mkdir(parents=True)
    (inbox / "分批").mkdir()
    for name in ("~$华东分公司.xlsx", "Thumbs.db", ".DS_Store", ".trash/华南分公司.xlsx", "分批/desktop.ini"):
        (inbox / name).write_bytes(b"x")
    for i in range(PARALLEL_FROM - 1):
        (inbox / ("分批" if i else ".") / f"分公司{i}.xlsx").write_bytes(b"x")
    Workers().start_for(inbox)
    assert started == []
    (inbox / "分批" / "分公司9.xlsx").write_bytes(b"x")
    Workers().start_for(inbox)
    assert started == [PARALLEL_FROM]


def test_the_files_can_be_listed_without_their_findings(ws):
    """Commands that only count or date the files read them without the findings (the bulk of the list after
    years); a file's own findings are read on their own, the same as in the full list."""
    at(write_submission(ws.inbox / "华东分公司_2026-10_客户信息统计表.xlsx",
                        customers=[example_row("customers", uscc=None, name=f"无代码{i}有限公司") for i in range(3)]),
       "2026-10-24T10:00")
    at(write_submission(ws.inbox / "华南分公司_2026-10_客户信息统计表.xlsx", branch="华南分公司",
                        customers=[example_row("customers", nature="民营")]), "2026-10-24T11:00")
    assert crm(ws.root, "ingest").exit_code == 0
    with Archive(ws.archive_path) as archive:
        full, light = archive.submissions(), archive.submissions(findings=False)
        assert list(light.columns) == [c for c in full.columns if c != "findings"]
        pd.testing.assert_frame_equal(light, full.drop(columns=["findings"]))
        assert all(len(f) for f in full["findings"])  # a warning each (no credit code), an error (not listed)
        assert [archive.findings_of(int(i)) for i in full["id"]] == full["findings"].tolist()
        assert archive.findings_of(999) == []
        month = archive.submissions("2026-10", findings=False)
        assert len(month) == 2 and archive.submissions("2026-09").empty


def test_workers_start_early_for_the_summary_of_a_large_archive(tmp_path, monkeypatch):
    """A month of a few files over a large archive: the workers start at once to share the summary; never for a
    small archive, a missing one, or a file that is not an archive (the run itself reports on that)."""
    from pipeline.intake import worker
    launched = []
    monkeypatch.setattr(worker.Workers, "_launch", lambda self: launched.append(True))
    monkeypatch.setattr(worker, "SHARED_FROM", 2)
    monkeypatch.setattr(worker, "processes", lambda: 1)
    ws = Workspace(tmp_path / "ws")
    assert ws.customers_archived() is None  # not there yet
    ws.root.mkdir()
    ws.archive_path.write_bytes(b"not a database" * 100)
    assert ws.customers_archived() is None
    ws.archive_path.unlink()
    with Archive(ws.archive_path) as archive:
        for i in range(3):
            archive.conn.execute("INSERT INTO customers (id, name_key) VALUES (?, ?)", (i + 1, f"客户{i}"))
    assert ws.customers_archived() == 3
    for customers in (None, 3):
        worker.Workers().start_for_summary(customers)
    assert launched == []
    worker.Workers().start_for_summary(4)
    assert launched == [True]


@pytest.mark.parametrize("files, processes", [(60, 2), (240, 2), (7, 3), (1, 2), (0, 2)])
def test_files_are_validated_in_groups_largest_first_and_single_files_at_the_end(files, processes):
    from pipeline.archive.ingest import groups
    from pipeline.intake.validation import GROUP
    made = groups(list(range(files)), processes)
    assert [f for group in made for f in group] == list(range(files))  # every file once, in order
    sizes = [len(group) for group in made]
    assert sizes == sorted(sizes, reverse=True) and all(1 <= size <= GROUP for size in sizes)
    assert files < 8 or (sizes[0] == GROUP and sizes[-processes:] == [1] * processes)


def test_what_validation_looks_up_in_the_archive_is_read_when_first_asked_and_a_worker_reads_the_file(tmp_path):
    """The archive's identities and numbers are read only when a file refers to them; sent to a worker, the
    lookup reads the archive file there, not through the main process's reader."""
    import pickle

    from builders import ingest
    from pipeline.intake.worker import FromArchive
    with Archive(tmp_path / "archive.sqlite") as archive:
        ingest(archive, tmp_path, "a", customers=[example_row("customers")])
        read = []
        known = FromArchive(archive.path, "known_identities", lambda: read.append(1) or archive.known_identities())
        numbers = FromArchive(archive.path, "archive_numbers", lambda: read.append(2) or archive.archive_numbers())
        assert read == []
        code = example_row("customers")["uscc"]
        assert code in known and "9131000000000000XX" not in known and read == [1]
        assert "K000001" in numbers.get("customers") and read == [1, 2]
        sent = pickle.loads(pickle.dumps(known))
        assert code in sent and read == [1, 2]
