"""Reliability (issue 10): no file jams the inbox, no traceback reaches a user, the archive guards itself."""
from __future__ import annotations

import datetime as dt
import json
import os
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import openpyxl
import pytest
import xlsxwriter
from click.testing import CliRunner

from builders import crm, example_row, full_example, write_submission
from pipeline.archive.schema import SCHEMA_VERSION
from pipeline.archive import Archive
from pipeline.archive.ingest import ingest_inbox
from pipeline.archive.workspace import Workspace
from pipeline.cli import main
from pipeline.config import load_config
from pipeline.intake.validation import validate_file

ROOT = Path(__file__).resolve().parents[2]
CRM = str(Path(sys.executable).parent / "crm")


def good(ws: Workspace, branch: str, **kw) -> Path:
    return write_submission(ws.inbox / f"{branch}_2026-10_客户信息统计表.xlsx", branch=branch,
                            customers=[example_row("customers", name=f"{branch}客户有限公司", uscc=None, **kw)])


def sparse_bomb(path: Path) -> Path:
    book = xlsxwriter.Workbook(str(path))
    ws = book.add_worksheet("客户信息")
    ws.write_string(0, 16383, "x")
    ws.write_string(49999, 0, "y")
    book.close()
    return path


def gbk_named(folder: Path, branch: str) -> Path:
    """A file whose name is GBK bytes, as a zip unpacked from a Windows machine leaves it."""
    name = f"{branch}_2026-10_客户信息统计表.xlsx".encode("gbk")
    raw = os.path.join(os.fsencode(folder), name)
    source = write_submission(folder.parent / "gbk-source.xlsx", branch=branch,
                              customers=[example_row("customers", name="国标编码客户有限公司", uscc=None)])
    with open(raw, "wb") as handle:
        handle.write(source.read_bytes())
    source.unlink()
    return Path(os.fsdecode(raw))


def poison(ws: Workspace) -> list[Path]:
    """The five files that each crashed ingest on every run before (issue 10, items 1–5)."""
    control = write_submission(ws.inbox / "华北分公司_2026-10_客户信息统计表.xlsx", branch="华北分公司",
                               customers=[example_row("customers", phone="139\x01")])
    long_name = ws.inbox / ("华中分公司_2026-10_" + "很长的名字" * 14 + "_.xlsx")
    write_submission(long_name, branch="华中分公司", customers=[example_row("customers", name="长名客户有限公司",
                                                                          uscc=None)])
    gbk = gbk_named(ws.inbox, "西北分公司")
    overflow = write_submission(ws.inbox / "东北分公司_2026-10_客户信息统计表.xlsx", branch="东北分公司",
                                customers=[example_row("customers", first_year=1e20)])
    bomb = sparse_bomb(ws.inbox / "基础设施分公司_2026-10_客户信息统计表.xlsx")
    return [control, long_name, gbk, overflow, bomb]


def test_poison_files_never_stop_the_good_ones(ws):
    bad = poison(ws)
    fine = [good(ws, b) for b in ("华东分公司", "华南分公司", "西南分公司")]
    first = crm(ws.root, "ingest")
    assert first.exit_code == 0, first.output
    assert "Traceback" not in first.output
    assert not any(p.exists() for p in fine + bad), list(ws.inbox.iterdir())
    with Archive(ws.archive_path) as archive:
        subs = archive.submissions().set_index("branch")
    for branch in ("华东分公司", "华南分公司", "西南分公司", "华中分公司", "西北分公司"):
        assert subs.loc[branch, "status"] == "accepted", branch   # long and GBK names are fine files
    for branch in ("华北分公司", "东北分公司", "基础设施分公司"):
        assert subs.loc[branch, "status"] == "rejected", branch
        assert subs.loc[branch, "errors"] >= 1
    codes = {f["code"] for row in subs["findings"] for f in row}
    assert {"bad-phone", "bad-year", "too-many-cells"} <= codes
    assert "西北分公司_2026-10_客户信息统计表.xlsx" in set(subs["file_name"])  # decoded, not mojibake
    feedback = list(ws.rejected.rglob("*_校验结果.xlsx"))
    assert len(feedback) == 3
    second = crm(ws.root, "ingest")
    assert second.exit_code == 0 and "没有待处理的文件" in second.output
    with Archive(ws.archive_path) as archive:
        assert archive.count_submissions() == 8


def test_a_control_character_is_shown_where_it_was_in_the_feedback(ws):
    write_submission(ws.inbox / "华北分公司_2026-10_客户信息统计表.xlsx", branch="华北分公司",
                     customers=[example_row("customers", phone="139\x01")])
    crm(ws.root, "ingest")
    [feedback] = ws.rejected.rglob("*_校验结果.xlsx")
    book = openpyxl.load_workbook(feedback)
    values = [c.value for row in book["校验结果"].iter_rows() for c in row]
    assert "139\\x01" in values
    assert "客户信息" in book.sheetnames  # the copy of the submission survived


def test_overflowing_year_is_a_finding_in_validate_too(tmp_path):
    path = write_submission(tmp_path / "东北分公司_2026-10_x.xlsx", branch="东北分公司",
                            customers=[example_row("customers", first_year=1e308)])
    result = CliRunner().invoke(main, ["validate", str(path)])
    assert result.exit_code == 1 and "不是有效年份" in result.output and "Traceback" not in result.output


def test_sparse_sheet_is_refused_before_it_is_read(tmp_path):
    result = validate_file(sparse_bomb(tmp_path / "华东分公司_2026-10.xlsx"), load_config(None))
    [finding] = result.findings
    assert finding.code == "too-many-cells" and "XFD50000" in finding.message
    assert finding.sheet == "客户信息"


# -- files and processes -------------------------------------------------------------------------

def test_a_move_across_file_systems_never_leaves_half_a_file(ws, monkeypatch):
    from pipeline.archive import workspace as workspace_module
    path = good(ws, "华东分公司")
    size = path.stat().st_size

    def no_rename(src, dst):
        if Path(src).parent == ws.inbox:
            raise OSError(18, "Invalid cross-device link")  # another file system
        return real_replace(src, dst)

    def dying_copy(src, dst, length):
        dst.write(src.read(size // 2))
        raise KeyboardInterrupt  # killed mid-copy

    real_replace = os.replace
    monkeypatch.setattr(workspace_module.os, "replace", no_rename)
    monkeypatch.setattr(workspace_module.shutil, "copyfileobj", dying_copy)
    with pytest.raises(KeyboardInterrupt):
        with Archive(ws.archive_path, journal=ws.journal) as archive:
            ingest_inbox(ws, archive, load_config(None))
    assert path.exists() and path.stat().st_size == size   # the original is intact in the inbox
    assert not [p for p in ws.received.rglob("*.xlsx")]     # no truncated copy in received/
    monkeypatch.undo()
    result = crm(ws.root, "ingest")                          # the next run finishes the filing
    assert "上次运行中断，已补完归档" in result.output, result.output
    [filed] = ws.received.rglob("*.xlsx")
    assert filed.stat().st_size == size and not path.exists()
    assert not list((ws.received / "重复文件").glob("*")) if (ws.received / "重复文件").exists() else True


def test_a_feedback_workbook_killed_while_saved_leaves_nothing_behind(ws, monkeypatch):
    from pipeline.intake import feedback
    bad = good(ws, "华东分公司", nature="民营")  # rejected: a feedback workbook is saved beside it

    def killed_save(book, filename):
        Path(filename).write_bytes(b"PK half a workbook")
        raise KeyboardInterrupt  # the process dies here; the finally clause never runs

    monkeypatch.setattr(feedback.openpyxl.Workbook, "save", killed_save)
    monkeypatch.setattr(feedback.os, "remove", lambda path: None)
    with pytest.raises(KeyboardInterrupt):
        with Archive(ws.archive_path, journal=ws.journal) as archive:
            ingest_inbox(ws, archive, load_config(None))
    leftovers = [p for p in ws.rejected.rglob("*") if p.is_file()]
    assert leftovers and all(p.name.startswith(".") and p.name.endswith(".part") for p in leftovers)
    monkeypatch.undo()
    crm(ws.root, "ingest")                                   # the next run sweeps it and redoes the file
    files = sorted(p.name for p in ws.rejected.rglob("*") if p.is_file())
    assert len(files) == 2 and all(not f.startswith(".") for f in files), files
    assert any(f.endswith("_校验结果.xlsx") for f in files) and not bad.exists()


def test_workers_die_with_their_parent(ws):
    psutil = pytest.importorskip("psutil")
    for i in range(8):
        rows = [example_row("customers", name=f"客户{i}-{j}有限公司", uscc=None) for j in range(400)]
        write_submission(ws.inbox / f"华东分公司_2026-{i + 1:02d}_x.xlsx", period=f"2026-{i + 1:02d}",
                         customers=rows)
    process = subprocess.Popen([CRM, "--workspace", str(ws.root), "ingest"], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE)
    parent = psutil.Process(process.pid)
    children: list = []
    deadline = time.time() + 60
    while time.time() < deadline and not children:
        try:
            children = [c for c in parent.children(recursive=True) if "resource_tracker" not in " ".join(c.cmdline())]
        except psutil.Error:
            break
        time.sleep(0.05)
    assert children, "no worker started"
    process.kill()
    process.wait()
    gone, alive = psutil.wait_procs(children, timeout=15)
    assert not alive, [c.pid for c in alive]


def test_a_reader_waits_for_a_running_ingest(ws):
    good(ws, "华东分公司")
    assert crm(ws.root, "ingest").exit_code == 0
    released = threading.Event()

    def hold():
        with ws.lock():
            released.wait(10)

    holder = threading.Thread(target=hold)
    holder.start()
    time.sleep(0.2)
    reader = subprocess.Popen([CRM, "--workspace", str(ws.root), "status", "--period", "2026-10"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(2)
    assert reader.poll() is None  # still waiting
    released.set()
    holder.join()
    out, err = reader.communicate(timeout=60)
    assert reader.returncode == 0 and "等待其结束" in err and "华东分公司" in out


def test_a_file_that_vanishes_is_skipped_with_a_line(ws):
    first, second = good(ws, "华东分公司"), good(ws, "华南分公司")

    def thief(files):
        for path in files:
            if path == second:
                path.unlink()  # another workspace sharing this inbox took it
            yield path

    with Archive(ws.archive_path, journal=ws.journal) as archive:
        outcomes = ingest_inbox(ws, archive, load_config(None), progress=thief)
    by_file = {o.file: o for o in outcomes}
    assert by_file[first.name].status == "accepted"
    assert by_file[second.name].status == "skipped" and "已不在收件箱" in by_file[second.name].note


def test_a_symlink_is_filed_as_the_bytes_it_points_to(ws, tmp_path):
    target = write_submission(tmp_path / "elsewhere.xlsx", customers=[example_row("customers")])
    link = ws.inbox / "华东分公司_2026-10_客户信息统计表.xlsx"
    link.symlink_to(target)
    (ws.inbox / "华南分公司_2026-10_dangling.xlsx").symlink_to(tmp_path / "gone.xlsx")
    result = crm(ws.root, "ingest")
    assert result.exit_code == 0, result.output
    [filed] = ws.received.rglob("*.xlsx")
    assert not filed.is_symlink() and filed.read_bytes() == target.read_bytes()
    assert target.exists() and not link.exists()
    assert "快捷方式" in result.output


@pytest.mark.parametrize("inbox", ["the folder holding the workspace", "the workspace", "its received/"])
def test_an_inbox_holding_or_inside_the_workspace_is_refused_and_nothing_moves(ws, inbox):
    """An inbox's files are moved away: pointed at the workspace's parent, it took the archive itself, crm.toml and
    every filed submission as new files and moved them."""
    good(ws, "华东分公司")
    assert crm(ws.root, "ingest").exit_code == 0
    before = sorted(p.relative_to(ws.root) for p in ws.root.rglob("*") if p.is_file() and p.suffix != ".lock")
    folder = {"the folder holding the workspace": ws.root.parent, "the workspace": ws.root,
              "its received/": ws.received}[inbox]
    for command in ("ingest", "monthly"):
        result = crm(ws.root, command, "--inbox", str(folder))
        assert result.exit_code == 1 and "工作目录" in result.output and "inbox/" in result.output, result.output
    after = sorted(p.relative_to(ws.root) for p in ws.root.rglob("*") if p.is_file() and p.suffix != ".lock")
    assert after == before and ws.archive_path.exists()


# -- the archive guards itself -------------------------------------------------------------------

@pytest.mark.parametrize("damage", ["truncate", "garbage", "random-page"])
def test_a_damaged_archive_is_refused_with_what_to_do(ws, damage):
    good(ws, "华东分公司")
    crm(ws.root, "ingest")
    data = ws.archive_path.read_bytes()
    for extra in ("-wal", "-shm"):
        side = ws.archive_path.with_name(ws.archive_path.name + extra)
        if side.exists():
            side.unlink()
    if damage == "truncate":
        ws.archive_path.write_bytes(data[: len(data) // 2])
    elif damage == "garbage":
        ws.archive_path.write_bytes(os.urandom(len(data)))
    else:
        middle = (len(data) // 4096 // 2) * 4096
        ws.archive_path.write_bytes(data[:middle] + os.urandom(4096) + data[middle + 4096:])
    good(ws, "华南分公司")
    empty = ws.root / "空收件箱"
    empty.mkdir()
    # (ingest and monthly check the archive while they validate the first files: still refused before any write)
    for args in (["ingest"], ["monthly"], ["monthly", "--inbox", str(empty), "--period", "2026-10"],
                 ["status", "--period", "2026-10"]):
        result = crm(ws.root, *args)
        assert result.exit_code == 1, (damage, args, result.output)
        assert "损坏" in result.output and "crm archive rebuild" in result.output
        assert "Traceback" not in result.output
    assert (ws.inbox / "华南分公司_2026-10_客户信息统计表.xlsx").exists()
    assert not list(ws.received.rglob("华南*")) and not list(ws.root.rglob("月度汇总*"))


@pytest.mark.parametrize("empty", [False, True])
def test_a_deleted_archive_is_refused_not_silently_replaced(ws, empty):
    """Deleted, or replaced by an empty one, while the filed submissions are still there: refused, not started over."""
    good(ws, "华东分公司")
    crm(ws.root, "ingest")
    ws.archive_path.unlink()
    if empty:
        Archive(ws.archive_path).close()
    result = crm(ws.root, "status", "--period", "2026-10")
    assert result.exit_code == 1 and "crm archive rebuild" in result.output and "1 份已处理的报送文件" in result.output
    assert ws.archive_path.exists() == empty


def test_an_archive_whose_only_file_is_a_branch_document_is_used_and_its_loss_refused(ws):
    """A branch's analysis report may be the first file ever filed: the archive that records it is not "empty"."""
    (ws.inbox / "华东分公司_2026-H2_客户分析报告.pdf").write_bytes(b"%PDF-1.4 report")
    assert crm(ws.root, "ingest").exit_code == 0
    result = crm(ws.root, "status", "--period", "2026-10")
    assert result.exit_code == 0 and "华东分公司" in result.output, result.output
    ws.archive_path.unlink()
    result = crm(ws.root, "status", "--period", "2026-10")
    assert result.exit_code == 1 and "1 份已处理的报送文件" in result.output
    assert crm(ws.root, "archive", "rebuild").exit_code == 0
    assert crm(ws.root, "status", "--period", "2026-10").exit_code == 0
    with Archive(ws.archive_path) as archive:
        assert archive.documents()["file_name"].tolist() == ["华东分公司_2026-H2_客户分析报告.pdf"]


def _tables(path: Path) -> dict[str, list]:
    conn = sqlite3.connect(path)
    names = [n for (n,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    out = {name: sorted(map(repr, conn.execute(f"SELECT * FROM {name}"))) for name in names}
    conn.close()
    return out


def test_rebuild_after_the_sample_year_restores_every_table(sample_year, tmp_path):
    import shutil

    from pipeline.analysis.adjustment import read_adjustment_decisions, write_adjustment_proposal
    from pipeline.archive.review import export_review, read_decisions
    ws = Workspace(tmp_path / "ws")
    shutil.copytree(sample_year.root, ws.root)
    config = load_config(ws.config_path)
    with Archive(ws.archive_path, journal=ws.journal) as archive:
        path, proposal = write_adjustment_proposal(archive, config, "2026-H1", ws.output / "adj.xlsx")
        archive.record_grade_adjustments(read_adjustment_decisions(path, "2026-H1", proposal)[0])
        review = export_review(archive, ws.output / "review.xlsx")
        decisions, _, _ = read_decisions(review)
        if decisions:
            archive.record_review(decisions[:1], "测试")
    before = _tables(ws.archive_path)
    assert len(before["submissions"]) > 100
    ws.archive_path.unlink()
    result = crm(ws.root, "archive", "rebuild")
    assert result.exit_code == 0, result.output
    assert "已恢复报送" in result.output
    after = _tables(ws.archive_path)
    assert after.keys() == before.keys()
    for table in before:
        assert after[table] == before[table], table


def _locked_in_inbox(ws, monkeypatch, *, copyable: bool = True):
    """Files in the inbox behave as on Windows while Excel has them open: they can be read, not renamed or
    deleted; unless ``copyable``, a copy cannot be made either (the disk is full)."""
    from pipeline.archive import workspace as workspace_module
    real_replace, real_unlink, real_copy = os.replace, os.unlink, workspace_module.shutil.copyfileobj

    def locked(path) -> bool:
        return Path(path).parent == ws.inbox

    def replace(src, dst):
        if locked(src):
            raise PermissionError(13, "另一个程序正在使用此文件，进程无法访问。")
        return real_replace(src, dst)

    def unlink(path, *args, **kwargs):
        if locked(path):
            raise PermissionError(13, "另一个程序正在使用此文件，进程无法访问。")
        return real_unlink(path, *args, **kwargs)

    def copy(src, dst, length):
        if not copyable:
            raise OSError(28, "磁盘空间不足。")
        return real_copy(src, dst, length)

    monkeypatch.setattr(workspace_module.os, "replace", replace)
    monkeypatch.setattr(workspace_module.os, "unlink", unlink)
    monkeypatch.setattr(workspace_module.shutil, "copyfileobj", copy)


def _filed_files(ws) -> list[str]:
    return sorted(p.relative_to(ws.root).as_posix() for p in ws.root.rglob("*.xlsx"))


@pytest.mark.parametrize("copied", [True, False], ids=["copied-not-deleted", "not-copied"])
def test_a_file_open_in_excel_is_archived_once_and_filed_on_the_next_run(ws, monkeypatch, copied):
    """On Windows a workbook open in Excel cannot be moved. Once the archive holds it, that is a note on an
    accepted file, not an internal error that also recorded it as rejected (and then archived it again, as a
    correction of itself, on the next run)."""
    path = good(ws, "华东分公司")
    _locked_in_inbox(ws, monkeypatch, copyable=copied)
    result = crm(ws.root, "ingest")
    assert result.exit_code == 0, result.output
    why = "可能正在 Excel/WPS 中打开" if copied else "磁盘空间不足。"
    assert "已归档" in result.output and f"原文件未能移出收件箱（{why}）" in result.output, result.output
    assert ("关闭该文件后" if copied else "处理好上述问题后") + "再运行一次即可补完" in result.output  # what to do
    assert "退回" not in result.output and "隔离" not in result.output and "Traceback" not in result.output
    assert path.exists()
    with Archive(ws.archive_path) as archive:
        assert archive.conn.execute("SELECT status FROM submissions").fetchall() == [("accepted",)]
    assert [name for name in _filed_files(ws) if not name.startswith("inbox/")] == (
        [f"received/2026-10/华东分公司/{path.stem}__{archive_sha(ws)}.xlsx"] if copied else [])
    monkeypatch.undo()  # Excel closed
    result = crm(ws.root, "ingest")
    assert result.exit_code == 0 and not path.exists(), result.output
    assert ("已跳过" if copied else "上次运行中断，已补完归档") in result.output, result.output
    with Archive(ws.archive_path) as archive:
        assert archive.conn.execute("SELECT status FROM submissions").fetchall() == [("accepted",)]
    assert [name for name in _filed_files(ws) if "/重复文件/" not in name] == [
        f"received/2026-10/华东分公司/{path.stem}__{archive_sha(ws)}.xlsx"]


def test_with_keep_a_copy_that_fails_is_made_on_the_next_run(ws, monkeypatch):
    """``--keep`` copies instead of moving: a copy that fails once the archive holds the file is a note too."""
    import shutil
    path = good(ws, "华东分公司")
    real_copy = shutil.copy2

    def full_disk(src, dst, *args, **kwargs):
        if Path(src) == path:
            raise OSError(28, "磁盘空间不足。")
        return real_copy(src, dst, *args, **kwargs)

    monkeypatch.setattr(shutil, "copy2", full_disk)
    result = crm(ws.root, "ingest", "--keep")
    assert result.exit_code == 0 and "未能复制到归档文件夹（磁盘空间不足。）" in result.output, result.output
    assert "已归档" in result.output and not list(ws.received.rglob("*.xlsx"))
    monkeypatch.undo()
    result = crm(ws.root, "ingest", "--keep")
    assert "上次运行中断，已补完归档" in result.output, result.output
    assert path.exists() and [p.name for p in ws.received.rglob("*.xlsx")] == [f"{path.stem}__{archive_sha(ws)}.xlsx"]
    with Archive(ws.archive_path) as archive:
        assert archive.conn.execute("SELECT status FROM submissions").fetchall() == [("accepted",)]


def test_a_kept_folder_run_again_and_again_keeps_one_copy_of_each_duplicate(ws):
    """``--keep`` (and the samples) leave the inbox as it is: each run finds the same files again, skips them as
    copies of what is filed, and the copy it keeps of each in 重复文件/ is the one kept the first time."""
    path = good(ws, "华东分公司")
    (ws.inbox / "华东分公司_2026-H2_客户分析报告.pdf").write_bytes(b"%PDF-1.4 report")
    assert crm(ws.root, "ingest", "--keep").exit_code == 0
    for _ in range(3):
        result = crm(ws.root, "ingest", "--keep")
        assert result.exit_code == 0 and "本次收件 2 个：已跳过 2。" in result.output, result.output
    duplicates = sorted(p.name for p in (ws.received / "重复文件").iterdir())
    assert len(duplicates) == 2 and f"{path.stem}__{archive_sha(ws)}.xlsx" in duplicates, duplicates
    assert not [name for name in duplicates if "(" in name]  # no “(2)” copies
    assert path.exists() and len(list(ws.inbox.iterdir())) == 2


def archive_sha(ws) -> str:
    """The hash part of the name the archive's one submission is filed under."""
    with Archive(ws.archive_path) as archive:
        [(stored,)] = archive.conn.execute("SELECT stored_path FROM submissions").fetchall()
    return stored.rsplit("__", 1)[1].removesuffix(".xlsx")


def test_disk_full_keeps_the_archive_and_the_file(ws, monkeypatch):
    from pipeline.archive import store
    path = good(ws, "华东分公司")

    def full(self, meta, frames, *rest):
        self.conn.execute("INSERT INTO meta VALUES ('half-written', 'x')")
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(store.Archive, "_record", full)
    result = crm(ws.root, "ingest")
    assert result.exit_code == 1 and "磁盘空间已满" in result.output and "Traceback" not in result.output
    assert path.exists()
    with Archive(ws.archive_path) as archive:
        assert archive.count_submissions() == 0
        assert archive.conn.execute("SELECT COUNT(*) FROM meta WHERE key = 'half-written'").fetchone()[0] == 0


def test_an_unwritable_received_folder_keeps_the_archive_and_the_file(ws):
    path = good(ws, "华东分公司")
    (ws.received / "2026-10").write_text("a file where a folder should be", encoding="utf-8")
    result = crm(ws.root, "ingest")
    assert result.exit_code == 1 and "无法写入文件夹" in result.output and "Traceback" not in result.output
    assert path.exists()
    with Archive(ws.archive_path) as archive:
        assert archive.count_submissions() == 0


def _version_1_archive(path):
    conn = sqlite3.connect(path)
    conn.executescript("""
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT);
        INSERT INTO meta VALUES ('schema_version', '1');
        CREATE TABLE submissions (
            id INTEGER PRIMARY KEY, sha256 TEXT UNIQUE NOT NULL, file_name TEXT, branch TEXT,
            period TEXT, received_at TEXT, status TEXT, no_change INTEGER, counts TEXT,
            warnings INTEGER, errors INTEGER, findings TEXT, stored_path TEXT, ingested_at TEXT);
        INSERT INTO submissions VALUES (1, 'abc', 'f.xlsx', '华东分公司', '2026-10', '2026-10-20 10:00:00',
            'rejected', 0, '{}', 0, 1, '[]', 'rejected/2026-10/f.xlsx', '2026-10-20 10:00:00');
    """)
    conn.commit()
    conn.close()


def test_an_old_archive_is_upgraded_in_place(tmp_path):
    path = tmp_path / "old.sqlite"
    _version_1_archive(path)
    told = []
    with Archive(path, upgrading=lambda old, new: told.append((old, new))) as archive:
        assert told == [(1, SCHEMA_VERSION)]
        archive.conn.execute("INSERT INTO submissions (sha256, status) VALUES ('abc', 'rejected')")  # no longer unique
        assert archive.count_submissions() == 2
        version = archive.conn.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()[0]
        assert version == str(SCHEMA_VERSION)
        columns = {row[1] for row in archive.conn.execute("PRAGMA table_info(review_decisions)")}
        assert {"branch", "period", "kind"} <= columns
        assert archive.mail_sent("2026-10") == {}  # the mail ledger exists
    with Archive(path, upgrading=lambda old, new: told.append((old, new))):
        assert told == [(1, SCHEMA_VERSION)]  # upgraded once


def test_the_user_is_told_an_old_archive_is_being_upgraded(ws):
    ws.archive_path.unlink(missing_ok=True)
    _version_1_archive(ws.archive_path)
    first, second = crm(ws.root, "status", "--period", "2026-10"), crm(ws.root, "status", "--period", "2026-10")
    assert first.exit_code == 0 and f"正在升级到第 {SCHEMA_VERSION} 版" in first.output
    assert second.exit_code == 0 and "升级" not in second.output


# -- values --------------------------------------------------------------------------------------

@pytest.mark.parametrize("value, code", [("9" * 400, "bad-number"), (1.797e308, "amount-too-large"),
                                          (2e8, "amount-too-large")])
def test_absurd_amounts_are_refused(tmp_path, value, code):
    path = write_submission(tmp_path / "华东分公司_2026-10_x.xlsx", customers=[example_row("customers")],
                            projects=[example_row("projects", amount=value)])
    result = validate_file(path, load_config(None))
    assert code in {f.code for f in result.errors}


def test_text_is_capped_with_a_finding_never_cut_silently(tmp_path):
    path = write_submission(tmp_path / "华东分公司_2026-10_x.xlsx",
                            customers=[example_row("customers", remark="很" * 5000)])
    result = validate_file(path, load_config(None))
    [finding] = result.errors
    assert finding.code == "too-long" and "2000" in finding.message and "5000 字" in finding.value


def test_the_excel_date_1900_01_01_is_accepted(tmp_path):
    path = write_submission(tmp_path / "华东分公司_2026-10_x.xlsx", customers=[example_row("customers")],
                            visits=[example_row("visits", visited_on=dt.datetime(1900, 1, 1))])
    result = validate_file(path, load_config(None))
    assert result.status == "accepted", [f.message for f in result.errors]
    assert str(result.frames["visits"]["visited_on"].iloc[0].date()) == "1900-01-01"


def test_a_file_refused_before_parsing_gets_a_short_feedback(ws):
    ws.config_path.write_text("[limits]\nmax_rows = 100\n", encoding="utf-8")
    rows = [example_row("customers", name=f"客户{i}有限公司", uscc=None) for i in range(300)]
    write_submission(ws.inbox / "华东分公司_2026-10_x.xlsx", customers=rows)
    crm(ws.root, "ingest")
    [feedback] = ws.rejected.rglob("*_校验结果.xlsx")
    assert openpyxl.load_workbook(feedback, read_only=True).sheetnames == ["校验结果"]


def test_a_large_rejected_file_gets_the_list_without_a_copy(ws):
    ws.config_path.write_text("[limits]\nfeedback_copy_mib = 0.1\n", encoding="utf-8")
    rows = [example_row("customers", name=f"客户{i}有限公司", uscc=None) for i in range(600)]
    rows[5]["phone"] = "12345"
    write_submission(ws.inbox / "华东分公司_2026-10_x.xlsx", customers=rows)
    crm(ws.root, "ingest")
    [feedback] = ws.rejected.rglob("*_校验结果.xlsx")
    book = openpyxl.load_workbook(feedback, read_only=True)
    assert book.sheetnames == ["校验结果"]


# -- no traceback reaches a user -----------------------------------------------------------------

def _wrong_inputs(tmp_path: Path) -> dict[str, Path]:
    folder = tmp_path / "folder"
    folder.mkdir()
    empty = tmp_path / "empty.xlsx"
    empty.write_bytes(b"")
    workbook = full_example(tmp_path / "华东分公司_2026-10_客户信息统计表.xlsx")
    text = tmp_path / "note.xlsx"
    text.write_text("not a workbook", encoding="utf-8")
    return {"missing": tmp_path / "missing.xlsx", "directory": folder, "empty": empty,
            "wrong workbook": workbook, "text": text}


@pytest.mark.parametrize("command", [
    ["validate", "{}"], ["review", "apply", "{}"], ["grades", "apply", "{}", "--period", "2026-H1"],
    ["ingest", "--inbox", "{}"], ["monthly", "--inbox", "{}", "--period", "2026-10"],
    ["template", "--out", "{}"], ["archive", "export", "--out", "{}"], ["review", "export", "--out", "{}"],
    ["--config", "{}", "status"], ["samples", "--out", "{}"],
])
def test_every_command_on_wrong_inputs_exits_cleanly(ws, tmp_path, command):
    good(ws, "华东分公司")
    crm(ws.root, "ingest")
    for what, path in _wrong_inputs(tmp_path).items():
        args = [str(path) if part == "{}" else part for part in command]
        result = CliRunner().invoke(main, ["--workspace", str(ws.root), *args])
        assert "Traceback" not in result.output, (command, what, result.output)
        assert result.exception is None or isinstance(result.exception, SystemExit), (
            command, what, repr(result.exception))
        assert result.exit_code in (0, 1, 2), (command, what, result.exit_code, result.output)


def test_the_journal_records_every_filed_file(ws):
    good(ws, "华东分公司")
    write_submission(ws.inbox / "华南分公司_2026-10_x.xlsx", branch="华南分公司",
                     customers=[example_row("customers", phone="1")])
    crm(ws.root, "ingest")
    events = [json.loads(line) for line in ws.journal.path.read_text(encoding="utf-8").splitlines()]
    assert [(e["branch"], e["status"]) for e in events] == [("华东分公司", "accepted"), ("华南分公司", "rejected")]
    assert all((ws.root / e["stored_path"]).exists() for e in events)


def test_the_journal_is_json_every_reader_takes(tmp_path):
    """A blank read by pandas (NaN) is written as null: a bare NaN is not JSON (other tools refused the lines)."""
    from pipeline.archive.journal import Journal
    journal = Journal(tmp_path / "log.jsonl")
    journal.append({"type": "assessment", "rows": [{"remark": float("nan"), "score": 80.5,
                                                     "figures": {"due": float("inf")}}]})
    line = journal.path.read_text(encoding="utf-8")
    assert "NaN" not in line and "Infinity" not in line
    assert json.loads(line, parse_constant=lambda name: pytest.fail(name))["rows"] == [
        {"remark": None, "score": 80.5, "figures": {"due": None}}]


def test_after_a_month_the_archive_file_alone_holds_everything(ws, tmp_path):
    """The files of a run are committed without checkpoints and copied into the archive file afterwards (in the
    background while the report is written): when crm ends there is no write-ahead log left to lose, and a
    copy of archive.sqlite alone has every submission and customer."""
    for branch in ("华东分公司", "华南分公司", "华北分公司", "华中分公司", "西南分公司"):
        good(ws, branch)
    assert crm(ws.root, "monthly", "--period", "2026-10").exit_code == 0
    wal = ws.archive_path.with_name(ws.archive_path.name + "-wal")
    assert not wal.exists() or wal.stat().st_size == 0
    copy = tmp_path / "copy.sqlite"
    copy.write_bytes(ws.archive_path.read_bytes())
    conn = sqlite3.connect(copy)
    try:
        assert conn.execute("SELECT COUNT(*) FROM submissions WHERE status = 'accepted'").fetchone()[0] == 5
        assert conn.execute("SELECT COUNT(*) FROM customers").fetchone()[0] == 5
    finally:
        conn.close()


def test_checkpoints_wait_for_the_end_of_a_run_and_are_then_restored(ws):
    config = load_config(ws.config_path)
    for branch in ("华东分公司", "华南分公司"):
        good(ws, branch)
    with Archive(ws.archive_path, journal=ws.journal) as archive:
        seen = []
        record = archive.record_submission

        def recording(*args, **kwargs):
            seen.append(archive.conn.execute("PRAGMA wal_autocheckpoint").fetchone()[0])
            return record(*args, **kwargs)

        archive.record_submission = recording
        ingest_inbox(ws, archive, config)
        assert seen == [0, 0]
        assert archive.conn.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 1000
        wal = ws.archive_path.with_name(ws.archive_path.name + "-wal")
        assert wal.stat().st_size > 0  # the files' pages wait in the log
        archive.checkpoint_in_background()
    assert not wal.exists() or wal.stat().st_size == 0  # copied in when the archive closed
