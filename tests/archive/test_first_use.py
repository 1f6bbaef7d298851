"""What a new user with unseen files ran into (issue 9): order, duplicates, status, first use, Windows."""
from __future__ import annotations

import json
import os
import re
import shutil
import zipfile
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from builders import at, crm, example_row, write_submission
from pipeline.archive import Archive
from pipeline.archive.workspace import Workspace
from pipeline.cli import main
from pipeline.config import load_config
from pipeline.intake.contract import contract_markdown
from pipeline.intake.validation import validate_file

ROOT = Path(__file__).resolve().parents[2]


def customers(**kw):
    return [example_row("customers", **kw)]


def summary_rows(ws: Workspace, period: str, sheet: str) -> list[dict]:
    book = openpyxl.load_workbook(ws.output / period / f"月度汇总_{period}.xlsx")
    rows = list(book[sheet].iter_rows(min_row=3, values_only=True))
    header = rows[0]
    return [dict(zip(header, r)) for r in rows[1:] if any(v is not None for v in r)]


# -- losing or mis-filing a submission --------------------------------------------------------

@pytest.mark.parametrize("runs", ["one run", "correction first, original later"])
def test_the_correction_stands_whatever_the_processing_order(ws, runs):
    original = ws.inbox / "西南分公司_2026-10_客户信息统计表.xlsx"
    correction = ws.inbox / "更正-西南分公司_2026-10_客户信息统计表.xlsx"
    if runs == "one run":
        at(write_submission(original, branch="西南分公司", customers=customers(stage="意向客户")), "2026-10-20T09:00")
        at(write_submission(correction, branch="西南分公司", customers=customers(stage="签约客户")), "2026-10-22T09:00")
        assert crm(ws.root, "monthly", "--period", "2026-10").exit_code == 0
    else:  # the correction is processed first, the (earlier received) original turns up in a later run
        at(write_submission(correction, branch="西南分公司", customers=customers(stage="签约客户")), "2026-10-22T09:00")
        assert crm(ws.root, "monthly", "--period", "2026-10").exit_code == 0
        at(write_submission(original, branch="西南分公司", customers=customers(stage="意向客户")), "2026-10-20T09:00")
        said = crm(ws.root, "monthly", "--period", "2026-10").output.replace("\n    ", "")
        assert f"本单位本月采用的是 {correction.name}（它收到得更晚），本文件已存档、不采用" in said
    with Archive(ws.archive_path) as archive:
        assert archive.snapshot()["customer_branches"]["stage"].tolist() == ["签约客户"]
    files = {r["文件"]: r["是否采用"] for r in summary_rows(ws, "2026-10", "校验结果")}
    assert files == {correction.name: "采用", original.name: "已被替换"}


def test_same_received_time_falls_back_to_the_cover_date_then_a_correction_name(ws):
    first = write_submission(ws.inbox / "西南分公司_2026-10_b.xlsx", branch="西南分公司",
                             customers=customers(stage="意向客户"))
    second = write_submission(ws.inbox / "西南分公司_2026-10_a.xlsx", branch="西南分公司",
                              customers=customers(stage="签约客户"))
    book = openpyxl.load_workbook(second)
    book["封面"]["B5"] = "2026-10-25"  # filled in a day later than the other (2026-10-24)
    book.save(second)
    result = crm(ws.root, "ingest", "--received-at", "2026-10-25T10:00")
    assert result.exit_code == 0
    with Archive(ws.archive_path) as archive:
        assert archive.snapshot()["customer_branches"]["stage"].tolist() == ["签约客户"]
    assert first.name != second.name
    # on screen: the file processed first (…_a) stands, and both say which one the month takes and why
    said = result.output.replace("\n    ", "")  # a note's lines, joined
    assert f"本单位本月另有一份报送 {first.name}，采用本文件" in said
    assert f"本单位本月采用的是 {second.name}（两份收件时间相同，它的封面填报日期更晚），本文件已存档、不采用" in said


def test_same_time_and_cover_date_a_correction_processed_first_says_it_stands(ws):
    """Received together, the same cover date: the file named as a correction stands, even when it is processed
    first; the original's note says so, not that something was received later."""
    original = write_submission(ws.inbox / "华东分公司_2026-10_客户信息统计表.xlsx", customers=customers(stage="意向客户"))
    correction = write_submission(ws.inbox / "华东分公司 2026年10月 客户信息（更正）.xlsx",
                                  customers=customers(stage="签约客户"))
    assert sorted([original.name, correction.name])[0] == correction.name  # processed first
    output = crm(ws.root, "ingest", "--received-at", "2026-10-20T10:00").output.replace("\n    ", "")
    assert f"本单位本月另有一份报送 {original.name}，采用本文件" in output
    assert (f"本单位本月采用的是 {correction.name}（两份收件时间与封面填报日期都相同，它的文件名注明了更正），"
            "本文件已存档、不采用") in output
    assert "更晚收到" not in output


def test_a_file_identical_to_a_rejected_one_is_judged_again(ws):
    # The cover says 西南分公司, the name says 西北分公司: rejected for the name alone.
    wrong = write_submission(ws.inbox / "西北分公司_2026-10_客户信息统计表.xlsx", branch="西南分公司",
                             customers=customers())
    content = wrong.read_bytes()
    assert "被退回待重报" in crm(ws.root, "monthly", "--period", "2026-10").output
    renamed = ws.inbox / "西南分公司_2026-10_客户信息统计表.xlsx"
    renamed.write_bytes(content)  # the same bytes, renamed and sent again
    result = crm(ws.root, "monthly", "--period", "2026-10")
    assert "已归档" in result.output, result.output
    status = crm(ws.root, "status", "--period", "2026-10").output
    assert re.search(r"西南分公司\s+(按时|逾期)", status), status


def test_a_second_rejection_keeps_the_first_feedback(ws):
    bad = write_submission(ws.inbox / "华东分公司_2026-10_客户信息统计表.xlsx",
                           customers=customers(nature="民营"))
    content = bad.read_bytes()
    crm(ws.root, "ingest")
    (ws.inbox / bad.name).write_bytes(content)  # the clerk sends the same file again
    result = crm(ws.root, "ingest")
    assert "已退回" in result.output and "已跳过" not in result.output
    feedback = sorted((ws.rejected / "2026-10").glob("*_校验结果.xlsx"))
    originals = [p for p in (ws.rejected / "2026-10").glob("*.xlsx") if p not in feedback]
    assert len(feedback) == 2 and len(originals) == 2


@pytest.mark.parametrize("content", [b"", b"plain text, not a workbook", b"PK\x03\x04broken zip"])
def test_unreadable_files_keep_the_branch_and_month_of_their_name(ws, content):
    (ws.inbox / "华北分公司_2026-10_客户信息统计表.xlsx").write_bytes(content)
    result = crm(ws.root, "monthly", "--period", "2026-10")
    assert result.exit_code == 0, result.output
    assert list((ws.rejected / "2026-10").glob("华北分公司*__*.xlsx"))
    assert not (ws.rejected / "未识别月份").exists()
    assert re.search(r"华北分公司\s+被退回待重报", result.output)
    files = summary_rows(ws, "2026-10", "校验结果")
    assert [r["报送单位"] for r in files] == ["华北分公司"]


def test_a_zero_byte_file_gets_a_message_a_clerk_can_act_on(tmp_path):
    empty = tmp_path / "华北分公司_2026-10.xlsx"
    empty.write_bytes(b"")
    [finding] = validate_file(empty, load_config(None)).findings
    assert "0 字节" in finding.message and "重新发送" in finding.message
    assert ".xlsx）" not in finding.message


# -- wrong numbers ------------------------------------------------------------------------------

def test_new_customers_are_counted_once(ws):
    shared = example_row("customers")
    write_submission(ws.inbox / "华东分公司_2026-10_x.xlsx", customers=[shared])
    write_submission(ws.inbox / "华南分公司_2026-10_x.xlsx", branch="华南分公司",
                     customers=[dict(shared, contact="陈红")])
    result = crm(ws.root, "monthly", "--period", "2026-10")
    assert "新增客户 1 家" in result.output
    book = openpyxl.load_workbook(ws.output / "2026-10" / "月度汇总_2026-10.xlsx")
    assert "新增客户 1 家（按客户去重）" in book["新增客户"]["A2"].value
    rows = [r for r in book["新增客户"].iter_rows(min_row=4, values_only=True) if any(r)]
    assert len(rows) == 2  # one row per reporting branch, said so in the note


def test_status_never_shows_nan(ws):
    write_submission(ws.inbox / "华东分公司_2026-10_x.xlsx", customers=customers())
    result = crm(ws.root, "monthly", "--period", "2026-10")
    status = crm(ws.root, "status", "--period", "2026-10").output
    for text in (result.output, status):
        assert not re.search(r"\bnan\b|NaT", text), text
    assert re.search(r"华北分公司\s+未报\s+-\s+-\s+-", status)  # (an empty cell is an ASCII dash on screen)


def test_late_file_with_an_early_cover_date_is_flagged_for_checking(ws):
    at(write_submission(ws.inbox / "华东分公司_2026-10_x.xlsx", customers=customers()), "2026-11-02T09:00")
    crm(ws.root, "monthly", "--period", "2026-10")
    [row] = [r for r in summary_rows(ws, "2026-10", "报送情况") if r["报送单位"] == "华东分公司"]
    assert row["状态"] == "逾期" and "但封面填报日期为 2026-10-24" in row["说明"]
    # a correction later still: the row shows it, and the note says whose cover date decides
    fixed = customers()
    fixed[0] = dict(fixed[0], contact="陈红")
    at(write_submission(ws.inbox / "华东分公司_2026-10_x_更正.xlsx", customers=fixed), "2026-11-03T09:00")
    crm(ws.root, "monthly", "--period", "2026-10")
    [row] = [r for r in summary_rows(ws, "2026-10", "报送情况") if r["报送单位"] == "华东分公司"]
    assert row["文件"].endswith("_更正.xlsx") and "但本月第一份文件的封面填报日期为 2026-10-24" in row["说明"]
    again = crm(ws.root, "monthly", "--period", "2026-10").output
    assert "是空的" in again and "--period" not in again.splitlines()[0]
    assert "可用 --period 指定其他月份" in crm(ws.root, "monthly").output


def test_header_only_workbook_with_changes_warns_that_no_rows_were_found(tmp_path):
    path = write_submission(tmp_path / "华东分公司_2026-10_x.xlsx", customers=[])
    result = validate_file(path, load_config(None))
    assert result.status == "accepted" and [f.code for f in result.warnings] == ["no-rows"]
    quiet = write_submission(tmp_path / "华东分公司_2026-10_y.xlsx", changed="无", customers=[])
    assert validate_file(quiet, load_config(None)).findings == []


def test_run_counts_add_up(ws):
    write_submission(ws.inbox / "华东分公司_2026-10_x.xlsx", customers=customers())
    shutil.copy(ws.inbox / "华东分公司_2026-10_x.xlsx", ws.inbox / "华东分公司_2026-10_x(1).xlsx")
    write_submission(ws.inbox / "华南分公司_2026-10_x.xlsx", branch="华南分公司", customers=customers(phone="1"))
    (ws.inbox / "~$lock.xlsx").write_bytes(b"x")
    output = crm(ws.root, "monthly", "--period", "2026-10").output
    line = re.search(r"本次收件 (\d+) 个：(.+)。", output)
    counts = [int(n) for n in re.findall(r"(\d+)", line[2])]
    assert int(line[1]) == sum(counts) == 4
    book = openpyxl.load_workbook(ws.output / "2026-10" / "月度汇总_2026-10.xlsx")
    assert book["校验结果"]["A2"].value.startswith("本月收到 2 份：通过 1，退回 1")


# -- presentation and first use -----------------------------------------------------------------

def test_feedback_links_are_internal(ws):
    write_submission(ws.inbox / "华东分公司_2026-10_x.xlsx", customers=customers(nature="民营"))
    crm(ws.root, "ingest")
    [feedback] = (ws.rejected / "2026-10").glob("*_校验结果.xlsx")
    with zipfile.ZipFile(feedback) as z:
        rels = "".join(z.read(n).decode() for n in z.namelist() if n.endswith(".rels"))
        sheet = z.read("xl/worksheets/sheet1.xml").decode()
    assert "TargetMode=\"External\"" not in rels
    assert 'location="' in sheet


def test_readme_holds_the_submission_contract_from_the_dictionary():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert contract_markdown() in readme, "README 《报送格式》与列字典不一致：运行 python -m pipeline.intake.contract"
    assert "../" not in readme  # nothing a user reads points outside the repository


def test_the_samples_folder_is_copied_not_moved(tmp_path):
    samples = tmp_path / "input_samples"
    shutil.copytree(ROOT / "input_samples" / "2026-02", samples / "2026-02")
    shutil.copy(ROOT / "input_samples" / ".manifest.json", samples / ".manifest.json")
    before = sorted(p.name for p in (samples / "2026-02").iterdir())
    result = crm(tmp_path / "ws", "monthly", "--inbox", samples / "2026-02", "--period", "2026-02")
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (samples / "2026-02").iterdir()) == before
    assert list((tmp_path / "ws" / "received" / "2026-02").rglob("*.xlsx"))


def test_an_empty_inbox_says_so_and_which_month_it_reports(ws):
    result = crm(ws.root, "monthly", "--period", "2026-10")
    assert result.exit_code == 0
    assert "是空的" in result.output and "2026-10 的报送情况" in result.output


@pytest.mark.parametrize("args", [["--help"], ["report"], ["status", "--bogus"], ["nosuch"],
                                  ["validate", "/no/such/file.xlsx"], ["report", "--period", "x"]])
def test_click_speaks_chinese(args):
    result = CliRunner().invoke(main, args)
    for english in ("Error:", "Usage:", "Show this message", "Missing option", "No such", "Try '",
                    "does not exist", "Options:", "[OPTIONS]"):
        assert english not in result.output, (args, result.output)


# -- Windows --------------------------------------------------------------------------------------

def test_every_filed_name_is_valid_on_windows(ws):
    names = ["华东分公司_2026-10_客户信息统计表:v2?.xlsx", "华南分公司_2026-10_" + "很长的名字" * 14 + "_.xlsx",  # 245 bytes
             "CON.xlsx", "华北分公司 2026-10 .xlsx"]
    for name in names:
        safe = name.replace(":", "").replace("?", "") if os.name == "nt" else name
        write_submission(ws.inbox / safe, branch=name[:5] if name[:5].endswith("公司") else "华东分公司",
                         customers=customers())
    result = crm(ws.root, "monthly", "--period", "2026-10")
    assert result.exit_code == 0, result.output
    for path in ws.root.rglob("*"):
        if path.parent == ws.inbox:
            continue
        part = path.name
        assert not re.search(r'[<>:"\\|?*]', part), part
        assert len(part.encode("utf-8")) <= 255 and part.split(".")[0].upper() not in ("CON", "PRN", "NUL")


def test_the_manifest_received_times_are_in_the_samples():
    manifest = json.loads((ROOT / "input_samples" / ".manifest.json").read_text(encoding="utf-8"))
    assert all("received_at" in entry for entry in manifest["files"].values())
