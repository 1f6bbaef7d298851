"""Withdrawing an accepted file (crm archive withdraw) and undoing it (crm archive reinstate)."""
from __future__ import annotations

import shutil
import sqlite3
import tempfile
from pathlib import Path

import python_calamine as calamine

from builders import crm, example_row, write_submission

CODE_B = "9133020078UXQEEG5Y"  # a valid code (make_uscc), not the dictionary example's


def _send(ws, tmp_path: Path, name: str, when: str, **kw) -> None:
    """One workbook through ``crm ingest``, received at ``when``."""
    inbox = Path(tempfile.mkdtemp(prefix="inbox-", dir=tmp_path))
    write_submission(inbox / name, **kw)
    result = crm(ws.root, "ingest", "--inbox", inbox, "--received-at", when)
    assert result.exit_code == 0, result.output


def _customer(**kw) -> dict:
    return example_row("customers", **kw)


def _other() -> dict:
    return _customer(name="宁波港城置业有限公司", uscc=CODE_B)


def _export(ws, name: str) -> dict[str, list[list]]:
    """Every sheet of ``crm archive export``, as read back."""
    out = ws.root / f"{name}.xlsx"
    assert crm(ws.root, "archive", "export", "--out", out).exit_code == 0
    book = calamine.CalamineWorkbook.from_path(str(out))
    return {title: book.get_sheet_by_name(title).to_python() for title in book.sheet_names}


def _statuses(ws) -> dict[str, str]:
    conn = sqlite3.connect(ws.archive_path)
    try:
        return dict(conn.execute("SELECT file_name, status FROM submissions"))
    finally:
        conn.close()


def test_withdrawing_a_file_gives_the_archive_it_would_be_without_it(ws, tmp_path):
    from pipeline.archive.workspace import Workspace
    _send(ws, tmp_path, "华东分公司_2026-10.xlsx", "2026-10-20T10:00", customers=[_customer()])
    _send(ws, tmp_path, "华南分公司_2026-10.xlsx", "2026-10-21T10:00", branch="华南分公司",
          customers=[_customer(contact="王五"), _other()])
    without = Workspace(tmp_path / "without")
    without.init()
    _send(without, tmp_path, "华东分公司_2026-10.xlsx", "2026-10-20T10:00", customers=[_customer()])

    before = _export(ws, "before")
    preview = crm(ws.root, "archive", "withdraw", "华南分公司_2026-10.xlsx", "--reason", "单位记错")
    assert preview.exit_code == 0 and "确认无误后加 --yes" in preview.output
    assert "华南分公司 2026-10 将没有通过的报送，档案中的客户由 2 家变为 1 家" in preview.output  # what it would do
    assert _statuses(ws)["华南分公司_2026-10.xlsx"] == "accepted" and _export(ws, "previewed") == before  # not done

    done = crm(ws.root, "archive", "withdraw", "华南分公司_2026-10.xlsx", "--reason", "单位记错", "--yes")
    assert done.exit_code == 0, done.output
    assert "已撤销" in done.output and "档案中的客户由 2 家变为 1 家" in done.output and "现没有通过的报送" in done.output
    assert _statuses(ws)["华南分公司_2026-10.xlsx"] == "withdrawn"
    assert (ws.received / "2026-10" / "华南分公司").is_dir()  # the file itself is kept
    mine, theirs = _export(ws, "after"), _export(without, "without")
    assert mine.keys() == theirs.keys()
    for title in mine:
        assert mine[title] == theirs[title], title


def test_withdrawing_a_correction_brings_back_the_file_it_replaced_and_reinstating_undoes_it(ws, tmp_path):
    _send(ws, tmp_path, "华东分公司_2026-10.xlsx", "2026-10-20T10:00", customers=[_customer(phone="13800138000")])
    _send(ws, tmp_path, "华东分公司_2026-10_更正.xlsx", "2026-10-22T10:00",
          customers=[_customer(phone="13900139000")])
    assert "13900139000" in str(_export(ws, "corrected"))

    done = crm(ws.root, "archive", "withdraw", "华东分公司_2026-10_更正.xlsx", "--reason", "更正件发错了", "--yes")
    assert done.exit_code == 0, done.output
    assert "现采用《华东分公司_2026-10.xlsx》" in done.output
    exported = str(_export(ws, "withdrawn"))
    assert "13800138000" in exported and "13900139000" not in exported
    assert _statuses(ws) == {"华东分公司_2026-10.xlsx": "accepted", "华东分公司_2026-10_更正.xlsx": "withdrawn"}
    status = crm(ws.root, "status", "--period", "2026-10", "--date", "2026-10-30")
    line = next(line for line in status.output.splitlines() if line.startswith("华东分公司"))
    assert "按时" in line and "华东分公司_2026-10.xlsx" in line
    assert "已撤销的报送：华东分公司_2026-10_更正.xlsx（更正件发错了）" in status.output
    listed = crm(ws.root, "archive", "files", "--period", "2026-10")
    assert "已撤销：更正件发错了" in listed.output

    again = crm(ws.root, "archive", "reinstate", "华东分公司_2026-10_更正.xlsx")
    assert again.exit_code == 0, again.output
    assert "现采用《华东分公司_2026-10_更正.xlsx》" in again.output
    assert "13900139000" in str(_export(ws, "reinstated"))
    assert _statuses(ws) == {"华东分公司_2026-10.xlsx": "superseded", "华东分公司_2026-10_更正.xlsx": "accepted"}


def test_a_rebuild_replays_the_withdrawal(ws, tmp_path):
    _send(ws, tmp_path, "华东分公司_2026-10.xlsx", "2026-10-20T10:00", customers=[_customer()])
    _send(ws, tmp_path, "华南分公司_2026-10.xlsx", "2026-10-21T10:00", branch="华南分公司", customers=[_other()])
    assert crm(ws.root, "archive", "withdraw", "华南分公司_2026-10.xlsx", "--reason", "误发", "--yes").exit_code == 0
    before = _export(ws, "before")
    shutil.move(ws.archive_path, tmp_path / "lost.sqlite")
    rebuilt = crm(ws.root, "archive", "rebuild")
    assert rebuilt.exit_code == 0, rebuilt.output
    assert _export(ws, "rebuilt") == before
    assert _statuses(ws)["华南分公司_2026-10.xlsx"] == "withdrawn"
    assert "已撤销：误发" in crm(ws.root, "archive", "files").output


def test_a_rebuild_goes_past_a_withdrawal_whose_file_is_gone_and_says_so(ws, tmp_path):
    _send(ws, tmp_path, "华东分公司_2026-10.xlsx", "2026-10-20T10:00", customers=[_customer()])
    _send(ws, tmp_path, "华南分公司_2026-10.xlsx", "2026-10-21T10:00", branch="华南分公司", customers=[_other()])
    assert crm(ws.root, "archive", "withdraw", "2", "--reason", "误发", "--yes").exit_code == 0
    _send(ws, tmp_path, "华东分公司_2026-11.xlsx", "2026-11-20T10:00", period="2026-11",
          customers=[_customer(contact="王五")])
    for copy in (ws.received / "2026-10" / "华南分公司").iterdir():
        copy.unlink()
    shutil.move(ws.archive_path, tmp_path / "lost.sqlite")
    rebuilt = crm(ws.root, "archive", "rebuild")
    assert rebuilt.exit_code == 0, rebuilt.output
    assert "未能重放（该文件没有恢复为已归档）：撤销 华南分公司_2026-10.xlsx" in rebuilt.output
    assert _statuses(ws)["华东分公司_2026-11.xlsx"] == "accepted" and "王五" in str(_export(ws, "rebuilt"))


def test_a_withdrawn_file_whose_copy_was_deleted_is_processed_again_when_sent(ws, tmp_path):
    _send(ws, tmp_path, "华东分公司_2026-10.xlsx", "2026-10-20T10:00", customers=[_customer()])
    assert crm(ws.root, "archive", "withdraw", "1", "--reason", "先撤下", "--yes").exit_code == 0
    for copy in (ws.received / "2026-10" / "华东分公司").iterdir():
        copy.unlink()
    _send(ws, tmp_path, "华东分公司_2026-10.xlsx", "2026-10-23T10:00", customers=[_customer()])
    conn = sqlite3.connect(ws.archive_path)
    assert conn.execute("SELECT id, status FROM submissions ORDER BY id").fetchall() == [(1, "withdrawn"),
                                                                                        (2, "accepted")]
    conn.close()
    assert list((ws.received / "2026-10" / "华东分公司").iterdir()) and not list(ws.inbox.iterdir())


def test_what_cannot_be_withdrawn_is_said_and_nothing_changes(ws, tmp_path):
    _send(ws, tmp_path, "华东分公司_2026-10.xlsx", "2026-10-20T10:00", customers=[_customer(uscc="123")])
    _send(ws, tmp_path, "华东分公司_2026-11.xlsx", "2026-11-20T10:00", period="2026-11", customers=[_customer()])
    rejected = crm(ws.root, "archive", "withdraw", "华东分公司_2026-10.xlsx", "--reason", "x", "--yes")
    assert rejected.exit_code == 1 and "被退回，没有进入档案，无需撤销" in rejected.output
    unknown = crm(ws.root, "archive", "withdraw", "999", "--reason", "x")
    assert unknown.exit_code == 1 and "没有报送编号为 999 的文件" in unknown.output
    not_withdrawn = crm(ws.root, "archive", "reinstate", "华东分公司_2026-11.xlsx")
    assert not_withdrawn.exit_code == 1 and "没有被撤销，无需恢复" in not_withdrawn.output
    blank = crm(ws.root, "archive", "withdraw", "华东分公司_2026-11.xlsx", "--reason", "  ")
    assert blank.exit_code == 2 and "撤销原因" in blank.output
    assert "Traceback" not in rejected.output + unknown.output + not_withdrawn.output + blank.output
    assert _statuses(ws) == {"华东分公司_2026-10.xlsx": "rejected", "华东分公司_2026-11.xlsx": "accepted"}


def test_a_name_sent_in_two_months_is_asked_for_by_number(ws, tmp_path):
    for month in ("2026-10", "2026-11"):
        _send(ws, tmp_path, "客户信息统计表.xlsx", f"{month}-20T10:00", period=month, customers=[_customer()])
    both = crm(ws.root, "archive", "withdraw", "客户信息统计表.xlsx", "--reason", "x")
    assert both.exit_code == 1 and "有 2 个，请用报送编号指明" in both.output and "编号 1" in both.output
    one = crm(ws.root, "archive", "withdraw", "客户信息统计表.xlsx", "--period", "2026-11", "--reason", "x")
    assert one.exit_code == 0 and "2026-11" in one.output
    assert crm(ws.root, "archive", "withdraw", "1", "--reason", "x", "--yes").exit_code == 0
    # the one of that name that was withdrawn is the one to reinstate (and the live one the one to withdraw)
    back = crm(ws.root, "archive", "reinstate", "客户信息统计表.xlsx")
    assert back.exit_code == 0 and "已恢复 报送编号 1" in back.output
    wrong_month = crm(ws.root, "archive", "withdraw", "1", "--period", "2026-11", "--reason", "x")
    assert wrong_month.exit_code == 1 and "报送编号 1 是 2026-10 的文件，不是 2026-11 的" in wrong_month.output
    unknown = crm(ws.root, "archive", "files", "--branch", "华东")
    assert unknown.exit_code == 2 and "不在花名册中" in unknown.output


def test_a_withdrawn_file_sent_again_is_processed_again(ws, tmp_path):
    _send(ws, tmp_path, "华东分公司_2026-10.xlsx", "2026-10-20T10:00", customers=[_customer()])
    assert crm(ws.root, "archive", "withdraw", "1", "--reason", "先撤下", "--yes").exit_code == 0
    inbox = tmp_path / "again"
    inbox.mkdir()
    shutil.copy(next((ws.received / "2026-10" / "华东分公司").iterdir()), inbox / "华东分公司_2026-10.xlsx")
    result = crm(ws.root, "ingest", "--inbox", inbox, "--received-at", "2026-10-23T10:00")
    assert result.exit_code == 0 and "已归档" in result.output and "已跳过" not in result.output
    assert "宁波" not in str(_export(ws, "again")) and "客户数" not in result.output
    conn = sqlite3.connect(ws.archive_path)
    assert conn.execute("SELECT id, status FROM submissions ORDER BY id").fetchall() == [(1, "withdrawn"),
                                                                                        (2, "accepted")]
    conn.close()


def test_the_month_summary_lists_a_withdrawn_file_with_why(ws, tmp_path):
    _send(ws, tmp_path, "华东分公司_2026-10.xlsx", "2026-10-20T10:00", customers=[_customer()])
    assert crm(ws.root, "archive", "withdraw", "1", "--reason", "填错月份", "--yes").exit_code == 0
    result = crm(ws.root, "monthly", "--period", "2026-10")
    assert result.exit_code == 0, result.output
    book = calamine.CalamineWorkbook.from_path(str(ws.output / "2026-10" / "月度汇总_2026-10.xlsx"))
    files = [row for row in book.get_sheet_by_name("校验结果").to_python() if "华东分公司_2026-10.xlsx" in row]
    assert files and "已撤销" in files[0] and any("已由市场营销部撤销：填错月份" in str(c) for c in files[0])
    status = [row for row in book.get_sheet_by_name("报送情况").to_python() if "华东分公司" in row]
    assert "华东分公司" in status[0] and any("已撤销的报送" in str(c) for c in status[0])


def test_the_assessment_leaves_a_withdrawn_file_out(ws, tmp_path):
    from pipeline.analysis.assessment import assessment_figures
    from pipeline.archive import Archive
    from pipeline.config import load_config
    for month, rows in (("2026-05", 1), ("2026-06", 2)):
        customers = [_customer()] + [_other()] * (rows - 1)
        _send(ws, tmp_path, f"华东分公司_{month}.xlsx", f"{month}-20T10:00", period=month, customers=customers)

    def figures() -> dict:
        with Archive(ws.archive_path) as archive:
            frame = assessment_figures(archive, load_config(ws.config_path), "2026-H1")
        return frame.set_index("branch").loc["华东分公司"].to_dict()

    assert (figures()["rows_submitted"], figures()["months_missing"]) == (3, 4)
    assert crm(ws.root, "archive", "withdraw", "2", "--reason", "x", "--yes").exit_code == 0
    after = figures()
    assert (after["rows_submitted"], after["months_missing"], after["months_on_time"]) == (1, 5, 1)
