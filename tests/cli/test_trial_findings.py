"""What a new user ran into on unseen files (the trial after issue 11), each pinned by a test."""
from __future__ import annotations

import datetime as dt
import os
import shutil
import stat

import pytest
from click.testing import CliRunner

from builders import example_row, sheet_grid, write_grid, write_submission, cover_grid
from pipeline.archive.workspace import Workspace
from pipeline.cli import main
from pipeline.config import load_config
from pipeline.intake.validation import validate_file


def crm(*args):
    return CliRunner().invoke(main, [*map(str, args)])


def test_a_missing_config_file_is_an_error(tmp_path):
    ws = Workspace(tmp_path / "ws")
    ws.init()
    result = crm("--workspace", ws.root, "--config", tmp_path / "nope.toml", "status")
    assert result.exit_code == 1 and "找不到配置文件" in result.output


def test_monthly_says_when_it_creates_a_workspace(tmp_path):
    result = crm("--workspace", tmp_path / "new", "monthly", "--period", "2026-10")
    assert result.exit_code == 0 and "已新建工作目录" in result.output


def test_an_unfinished_half_is_not_adjusted_or_assessed_without_force(tmp_path):
    ws = Workspace(tmp_path / "ws")
    ws.init()
    write_submission(ws.inbox / "华东分公司_2026-01_x.xlsx", period="2026-01", customers=[example_row("customers")])
    crm("--workspace", ws.root, "ingest")
    half = f"{dt.date.today().year + 1}-H1"
    for args in (["grades", "adjust", "--period", half], ["assess", "--period", half]):
        result = crm("--workspace", ws.root, *args)
        assert result.exit_code == 2 and "尚未结束" in result.output and "--force" in result.output, args


def test_an_empty_alias_sheet_beside_the_real_one_is_ignored_with_a_warning(tmp_path):
    path = write_grid(tmp_path / "华东分公司_2026-10_x.xlsx", {
        "封面": cover_grid(), "客户信息表": [], "客户信息": sheet_grid("customers", [example_row("customers")])})
    result = validate_file(path, load_config(None))
    assert result.status == "accepted", [f.message for f in result.errors]
    [warning] = [f for f in result.warnings if f.code == "duplicate-sheet"]
    assert "已读取“客户信息”" in warning.message and warning.sheet == "客户信息表"


def test_a_saved_copy_is_the_duplicate_not_the_original(tmp_path):
    ws = Workspace(tmp_path / "ws")
    ws.init()
    original = write_submission(ws.inbox / "华东分公司_2026-10_客户信息统计表.xlsx", customers=[example_row("customers")])
    shutil.copy(original, ws.inbox / "华东分公司_2026-10_客户信息统计表 (1).xlsx")
    output = crm("--workspace", ws.root, "ingest").output
    lines = {line.split()[0]: line for line in output.splitlines() if line.startswith("华东")}
    assert "已归档" in lines["华东分公司_2026-10_客户信息统计表.xlsx"]
    assert "已跳过" in next(v for k, v in lines.items() if "(1)" in v)


def test_a_month_whose_deadline_has_not_passed_is_not_missing(tmp_path):
    ws = Workspace(tmp_path / "ws")
    ws.init()
    future = f"{dt.date.today().year + 1}-01"
    output = crm("--workspace", ws.root, "status", "--period", future).output
    assert "未到截止日" in output and "未报" not in output


def test_status_on_a_given_date(tmp_path):
    """--date: before the deadline a branch that sent nothing is not yet due, after it is missing; without
    --period the month is that date's."""
    ws = Workspace(tmp_path / "ws")
    ws.init()
    before = crm("--workspace", ws.root, "status", "--date", "2026-10-25").output
    after = crm("--workspace", ws.root, "status", "--date", "2026-10-26").output
    assert "2026-10 报送情况" in before and "未到截止日" in before and "未报" not in before
    assert "2026-10 报送情况" in after and "未报" in after and "未到截止日" not in after
    write_submission(ws.inbox / "华东分公司_2026-10_客户信息统计表.xlsx", customers=[example_row("customers")])
    crm("--workspace", ws.root, "ingest", "--received-at", "2026-10-20T10:00")
    earlier = crm("--workspace", ws.root, "status", "--date", "2026-10-19").output
    assert "未到截止日" in next(line for line in earlier.splitlines() if line.startswith("华东分公司"))  # not yet there
    later = crm("--workspace", ws.root, "status", "--date", "2026-10-21").output
    assert "按时" in next(line for line in later.splitlines() if line.startswith("华东分公司"))


def test_every_roster_problem_at_once(tmp_path):
    path = tmp_path / "crm.toml"
    path.write_text('[roster]\nbranches = ["华南/分公司", "甲分公司", "甲分公司"]\n', encoding="utf-8")
    try:
        load_config(path)
    except Exception as exc:  # noqa: BLE001
        message = str(exc)
    assert "重复出现" in message and "不能用作单位名称" in message


def test_the_status_on_screen_fits_a_console_window(tmp_path):
    """Each sheet's rows as numbers in the template's order, the sheets named once below: the line of a branch
    that sent a file stays within a console window (the workbook's wording made it some 160 columns)."""
    from pipeline.widths import display_width
    ws = Workspace(tmp_path / "ws")
    ws.init()
    write_submission(ws.inbox / "华东分公司_2026-10_客户信息统计表.xlsx",
                     customers=[example_row("customers"), example_row("customers", uscc=None, name="另一家客户有限公司")],
                     projects=[example_row("projects")])
    crm("--workspace", ws.root, "ingest", "--received-at", "2026-10-20T10:00")
    output = crm("--workspace", ws.root, "status", "--period", "2026-10").output
    [line] = [line for line in output.splitlines() if line.startswith("华东分公司")]
    counts = line.split("  ")[-1].strip()
    assert counts.split(" / ")[:2] == ["2", "1"] and len(counts.split(" / ")) == 5, line
    assert "行数依次为：客户信息 / 合作项目 / 满意度调查 / 投诉记录 / 拜访记录" in output
    assert max(display_width(line) for line in output.splitlines()) <= 110
    # a Chinese Windows console draws ─ two columns wide: the rule is ASCII
    assert "─" not in output and output.splitlines()[2].startswith("-----")


def test_a_returned_file_s_first_error_and_feedback_are_under_its_line(tmp_path):
    """The file's own line stays short; under it the first error (not a warning before it) and its cell, how many
    errors there are, and where the feedback workbook is, from the workspace (the department sends it back): the
    path whole, though the name is long and holds a “）”."""
    import re
    from pipeline.widths import display_width
    ws = Workspace(tmp_path / "ws")
    ws.init()
    name = "华东分公司_2026-10_客户信息统计表（第二次修改，以此为准）（经营部张明）.xlsx"
    write_submission(ws.inbox / name,
                     customers=[example_row("customers", uscc=None, name="没有代码的客户有限公司"),
                                example_row("customers", uscc="123"),
                                example_row("customers", uscc="456", name="另一家客户有限公司")])
    lines = crm("--workspace", ws.root, "ingest", "--received-at", "2026-10-20T10:00").output.splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("华东分公司_2026-10"))
    assert "已退回" in lines[at]
    assert re.match(r"  └ 客户信息 [A-Z]+\d+：统一社会信用代码“123”", lines[at + 1]), lines[at + 1]
    note = [line[4:] for line in lines[at + 2:] if line.startswith("    ")]
    more, where = "".join(note).split("反馈表：")
    assert more == "共 2 处错误，都已在反馈表中标出。" and (ws.root / where).is_file() and where.startswith("rejected")
    assert note[-1] == f"反馈表：{where}"  # on one line, to be copied
    assert max(display_width(line) for line in note[:-1]) <= 104


def test_a_long_note_is_broken_after_punctuation_to_fit_the_window(tmp_path):
    from pipeline.widths import display_width
    ws = Workspace(tmp_path / "ws")
    ws.init()
    (ws.inbox / "坏文件.xlsx").write_text("hello", encoding="utf-8")
    output = crm("--workspace", ws.root, "ingest", "--received-at", "2026-10-20T10:00").output
    lines = output.splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("坏文件.xlsx"))
    note = []
    for line in lines[at + 1:]:
        if not line.startswith("  "):
            break
        note.append(line[4:])
    assert len(note) >= 3 and max(display_width(line) for line in lines) <= 110, output
    assert note[0].endswith("。") and "".join(note[:-1]).startswith("文件已损坏或不是用 Excel/WPS 保存的工作簿")
    assert note[-1].startswith("反馈表：rejected")
    assert "其中 1 个看不出是哪个月的报送，不计入任何月份的月度汇总" in output  # the month's sheet counts one fewer


@pytest.mark.parametrize("text", ["2026-10-24T15:30", "2026-10-24 15:30", "2026/10/24 15:30", "2026年10月24日15:30",
                                  "2026年10月24日 15时30分", "２０２６/10/24 15：30"])
def test_a_received_time_is_read_as_a_clerk_writes_it(text):
    from pipeline.cli.options import check_received
    assert check_received(None, None, text) == dt.datetime(2026, 10, 24, 15, 30)
    assert check_received(None, None, "2026/9/5") == dt.datetime(2026, 9, 5)


def test_a_mistyped_inbox_or_time_is_an_error_not_an_empty_month(tmp_path):
    ws = Workspace(tmp_path / "ws")
    ws.init()
    for args, expected in ((["--inbox", str(tmp_path / "收件箱（打错）")], "不存在"),
                           (["--received-at", "2026-13-01"], "不是有效时间")):
        result = crm("--workspace", ws.root, "monthly", "--period", "2026-10", *args)
        assert result.exit_code == 2 and expected in result.output, result.output
        assert not (ws.root / "output" / "2026-10").exists()


@pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")
def test_a_feedback_workbook_can_be_read_by_whoever_reads_the_other_files(tmp_path):
    """Written through a temporary file: it has the permissions every written file has, not the owner's only."""
    ws = Workspace(tmp_path / "ws")
    ws.init()
    write_submission(ws.inbox / "华东分公司_2026-10_客户信息统计表.xlsx", customers=[example_row("customers", uscc="123")])
    crm("--workspace", ws.root, "ingest", "--received-at", "2026-10-20T10:00")
    [feedback] = ws.rejected.rglob("*校验结果.xlsx")
    probe = feedback.parent / "probe.txt"
    probe.write_text("")
    assert stat.S_IMODE(feedback.stat().st_mode) == stat.S_IMODE(probe.stat().st_mode)


@pytest.mark.parametrize("text, period", [("2026/Q3", "2026-Q3"), ("2026 q3", "2026-Q3"), ("2026Q3", "2026-Q3"),
                                          ("2026/H1", "2026-H1"), ("2026.H2", "2026-H2")])
def test_a_quarter_or_half_is_read_with_any_separator(text, period):
    from pipeline.periods import Period
    assert str(Period.parse(text)) == period


def test_a_grade_adjustment_applied_twice_is_recorded_once_and_never_to_another_half(tmp_path):
    """Each apply added every customer's decision again (a report then listed a change twice); a workbook of one
    half applied with --period of another wrote its grades into that half."""
    from pipeline.archive import Archive
    ws = Workspace(tmp_path / "ws")
    ws.init()
    write_submission(ws.inbox / "华东分公司_2026-05_客户信息统计表.xlsx", period="2026-05",
                     customers=[example_row("customers"), example_row("customers", name="乙公司", uscc=None)])
    assert crm("--workspace", ws.root, "ingest", "--received-at", "2026-05-20T10:00").exit_code == 0
    assert crm("--workspace", ws.root, "grades", "adjust", "--period", "2026-H1").exit_code == 0
    [workbook] = (ws.output / "2026-H1").glob("等级调整建议_2026-H1.xlsx")
    outputs = [crm("--workspace", ws.root, "grades", "apply", workbook).output for _ in range(2)]
    assert "取代此前记录的本半年度 2 条决定" in outputs[1]
    with Archive(ws.archive_path) as archive:
        assert len(archive.grade_adjustments()) == 2
    wrong = crm("--workspace", ws.root, "grades", "apply", workbook, "--period", "2026-H2")
    assert wrong.exit_code == 1 and "是 2026-H1 的调整表，不是 2026-H2 的" in wrong.output
    with Archive(ws.archive_path) as archive:
        assert archive.grade_adjustments()["period"].tolist() == ["2026-H1", "2026-H1"]


def test_a_half_year_or_a_month_range_given_wrong_says_what_is_expected(tmp_path):
    ws = Workspace(tmp_path / "ws")
    ws.init()
    result = crm("--workspace", ws.root, "assess", "--period", "2026-H3")
    assert result.exit_code == 2 and "请写成 2026-H1 或 2026-H2" in result.output and "2026-Q3" not in result.output
    result = crm("--workspace", ws.root, "grades", "changes", "--from", "2026-12", "--to", "2026-01")
    assert result.exit_code == 2 and "晚于截止月份" in result.output


def test_a_review_decision_is_read_as_typed(tmp_path):
    """“合 并” with a space inside and “ 左 ” with spaces around are the listed values (as 调整表 reads 采 纳)."""
    from pipeline.archive import Archive
    from pipeline.archive.review import export_review, read_decisions
    import openpyxl
    ws = Workspace(tmp_path / "ws")
    ws.init()
    write_submission(ws.inbox / "华东分公司_2026-10_客户信息统计表.xlsx",
                     customers=[example_row("customers", name="华东建材有限公司", uscc=None),
                                example_row("customers", name="华东建材股份公司", uscc=None)])
    crm("--workspace", ws.root, "ingest", "--received-at", "2026-10-20T10:00")
    with Archive(ws.archive_path) as archive:
        path = export_review(archive, tmp_path / "r.xlsx")
    book = openpyxl.load_workbook(path)
    sheet = book["疑似重复客户"]
    headers = [c.value for c in sheet[3]]
    sheet.cell(4, headers.index("处理决定") + 1, "合 并")
    sheet.cell(4, headers.index("保留记录") + 1, " 左 ")
    book.save(path)
    decisions, findings, _ = read_decisions(path)
    assert findings == [] and [d["decision"] for d in decisions] == ["合并"] and decisions[0]["keep_id"]


def test_monthly_with_half_year_documents_summarises_the_workbooks_month(tmp_path):
    # December's inbox holds the month's workbooks and the second half's analysis reports: the summary is of
    # 2026-12 (a half is not a month; it used to be taken as the newest "month" and the run stopped).
    ws = Workspace(tmp_path / "ws")
    ws.init()
    write_submission(ws.inbox / "华东分公司_2026-12_客户信息统计表.xlsx", period="2026-12",
                     customers=[example_row("customers")])
    (ws.inbox / "华东分公司_2026-H2_客户分析报告.pdf").write_bytes(b"%PDF-1.4 report")
    result = crm("--workspace", ws.root, "monthly")
    assert result.exit_code == 0, result.output
    assert "客户分析报告" in result.output and "程序内部错误" not in result.output
    from pipeline.reports import names
    assert names.monthly_summary(ws.output, "2026-12").exists()
    assert not list(ws.inbox.iterdir())


def test_the_blank_template_goes_to_the_workspace_s_output(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = crm("--workspace", tmp_path / "档案", "template")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "档案" / "output" / "集团公司客户信息统计表（模板）.xlsx").exists()
    assert not (tmp_path / "output").exists()


def test_a_report_of_a_month_not_yet_begun_is_returned_in_the_month_it_came(tmp_path):
    """A cover saying 2026-12 on a file received in October is a typo: archived, it took December's place and was
    replaced by the real December file, October's data lost. It is returned, in October, naming the cover cell."""
    ws = Workspace(tmp_path / "ws")
    ws.init()
    write_submission(ws.inbox / "华东分公司_客户信息统计表.xlsx", period="2026-12",
                     customers=[example_row("customers")])
    write_submission(ws.inbox / "华南分公司_2026-10_客户信息统计表.xlsx", branch="华南分公司", period="2026-10",
                     customers=[example_row("customers", name="华南客户有限公司", uscc=None)])
    result = crm("--workspace", ws.root, "ingest", "--received-at", "2026-10-20T10:00")
    assert result.exit_code == 0 and "已归档 1" in result.output and "已退回 1" in result.output, result.output
    from pipeline.archive import Archive
    with Archive(ws.archive_path) as archive:
        subs = archive.submissions().set_index("branch")
    assert (subs.loc["华东分公司", "status"], subs.loc["华东分公司", "period"]) == ("rejected", "2026-10")
    ahead = [f for f in subs.loc["华东分公司", "findings"] if f["code"] == "period-ahead"]
    assert len(ahead) == 1 and "填报月份 2026-12 还没有开始，文件却在 2026-10-20 就已收到" in ahead[0]["message"]
    assert ahead[0]["cell"] == "封面!B2"
    assert not [f for f in subs.loc["华南分公司", "findings"] if f["code"] == "period-ahead"]
    status = crm("--workspace", ws.root, "status", "--period", "2026-10").output
    assert "被退回" in next(line for line in status.splitlines() if line.startswith("华东分公司"))


@pytest.mark.parametrize("received, booked", [("2026-08-26T10:00", "2026-08"), ("2026-07-20T10:00", "2026-07")])
def test_a_file_whose_cover_and_name_disagree_on_the_month_is_returned_in_the_one_it_came(tmp_path, received,
                                                                                          booked):
    """July's cover left in August's file: returned with August's (it came then, and its name says so), where the
    branch is told and its August status is “returned”, not “missing”; in July it goes with July."""
    ws = Workspace(tmp_path / "ws")
    ws.init()
    write_submission(ws.inbox / "华东分公司_2026-08_客户信息统计表.xlsx", period="2026-07",
                     customers=[example_row("customers")])
    assert "已退回" in crm("--workspace", ws.root, "ingest", "--received-at", received).output
    from pipeline.archive import Archive
    with Archive(ws.archive_path) as archive:
        [period] = archive.submissions()["period"].tolist()
    assert period == booked and list((ws.rejected / booked).glob("*_校验结果.xlsx"))
    status = crm("--workspace", ws.root, "status", "--period", booked, "--date", "2026-12-01").output
    assert "被退回" in next(line for line in status.splitlines() if line.startswith("华东分公司"))


@pytest.mark.parametrize("command, says", [(("status", "--period", "2026-10"), "档案没有被改坏"),
                                           (("ingest",), "未处理的仍在收件箱")])
def test_an_unexpected_error_says_what_it_means_for_that_command(tmp_path, monkeypatch, command, says):
    """No traceback; a log named; and the inbox is spoken of only by the commands that read it."""
    from pipeline.archive import store
    ws = Workspace(tmp_path / "ws")
    ws.init()

    def broken(*args, **kwargs):
        raise RuntimeError("测试用的意外")
    monkeypatch.setattr(store.Archive, "submissions", broken)
    monkeypatch.setattr(store.Archive, "count_filed", broken)
    result = crm("--workspace", ws.root, *command)
    assert result.exit_code == 1 and "程序内部错误（测试用的意外）" in result.output and says in result.output
    assert "Traceback" not in result.output and "crm-错误日志" in result.output


def test_a_month_s_summary_open_in_excel_is_named_after_the_files_are_reported(tmp_path, monkeypatch):
    """On Windows a workbook open in Excel cannot be overwritten: the files were archived all the same, and the
    clerk sees what became of them, which file to close, and how to write the summary again."""
    from pipeline import routine
    ws = Workspace(tmp_path / "ws")
    ws.init()
    write_submission(ws.inbox / "华东分公司_2026-10_客户信息统计表.xlsx", customers=[example_row("customers")])

    def locked(data, path):  # as xlsxwriter reports a file it cannot write
        from xlsxwriter.exceptions import FileCreateError
        raise FileCreateError(PermissionError(13, "Permission denied", str(path)))
    monkeypatch.setattr(routine, "write_monthly_report", locked)
    result = crm("--workspace", ws.root, "monthly", "--received-at", "2026-10-20T10:00")
    assert result.exit_code == 1 and "已归档" in result.output, result.output
    assert "月度汇总_2026-10.xlsx：它可能正在 Excel 或 WPS 中打开" in result.output
    assert "crm monthly --period 2026-10" in result.output and "内部错误" not in result.output


def test_an_inbox_file_open_in_another_program_is_left_for_the_next_run(tmp_path, monkeypatch):
    """On Windows a workbook open in Excel may not even be read: it stays in the inbox, not returned, and the clerk
    is told to close it; the other files go on."""
    from pipeline.archive import ingest
    ws = Workspace(tmp_path / "ws")
    ws.init()
    busy = write_submission(ws.inbox / "华东分公司_2026-10_客户信息统计表.xlsx", customers=[example_row("customers")])
    write_submission(ws.inbox / "华南分公司_2026-10_客户信息统计表.xlsx", branch="华南分公司",
                     customers=[example_row("customers", name="华南客户有限公司", uscc=None)])
    reading = ingest.sha256_of

    def locked(path):
        if path.name == busy.name:
            raise PermissionError(13, "Permission denied", str(path))
        return reading(path)
    monkeypatch.setattr(ingest, "sha256_of", locked)
    result = crm("--workspace", ws.root, "ingest", "--received-at", "2026-10-20T10:00")
    assert result.exit_code == 1 and "正被其他程序（如 Excel、WPS）打开" in result.output, result.output
    assert busy.exists() and "已归档 1" in result.output and not list(ws.rejected.rglob("*.xlsx"))
    monkeypatch.setattr(ingest, "sha256_of", reading)  # closed: the next run takes it
    assert "已归档 1" in crm("--workspace", ws.root, "ingest", "--received-at", "2026-10-20T10:00").output


def test_a_cover_that_says_no_change_over_rows_that_changed_is_not_no_change(tmp_path):
    ws = Workspace(tmp_path / "ws")
    ws.init()
    write_submission(ws.inbox / "华东分公司_2026-09_客户信息统计表.xlsx", period="2026-09",
                     customers=[example_row("customers")])
    crm("--workspace", ws.root, "ingest", "--received-at", "2026-09-20T10:00")
    write_submission(ws.inbox / "华东分公司_2026-10_客户信息统计表.xlsx", changed="无",
                     customers=[example_row("customers"), example_row("customers", name="新客户有限公司", uscc=None)])
    output = crm("--workspace", ws.root, "ingest", "--received-at", "2026-10-20T10:00").output
    assert "封面“本月有无变化”选了“无”，但表中有变化（新增客户 1 项）" in output, output
    status = crm("--workspace", ws.root, "status", "--period", "2026-10").output
    assert "按时" in next(line for line in status.splitlines() if line.startswith("华东分公司"))
    from pipeline.archive import Archive
    with Archive(ws.archive_path) as archive:  # kept with the file: the month's summary lists it with its 提示
        [sub] = archive.submissions("2026-10").to_dict("records")
    assert [f["code"] for f in sub["findings"]][-1] == "cover-said-no-change" and sub["warnings"] == 2  # (and the uscc)


def test_a_report_that_cannot_be_written_is_named_not_an_internal_error(tmp_path):
    """A real unwritable file (a folder in its place stands for one Excel holds open): xlsxwriter's own error."""
    from pipeline.archive import Archive
    ws = Workspace(tmp_path / "ws")
    ws.init()
    write_submission(ws.inbox / "华东分公司_2026-10_客户信息统计表.xlsx", customers=[example_row("customers")])
    assert crm("--workspace", ws.root, "ingest", "--received-at", "2026-10-20T10:00").exit_code == 0
    (ws.output / "客户档案总表.xlsx").mkdir(parents=True)
    result = crm("--workspace", ws.root, "archive", "export")
    assert result.exit_code == 1 and "内部错误" not in result.output, result.output
    assert "无法打开或写入文件" in result.output and "客户档案总表.xlsx" in result.output
    with Archive(ws.archive_path) as archive:
        assert len(archive.submissions()) == 1


def test_a_report_open_in_excel_is_named_not_an_internal_error(tmp_path, monkeypatch):
    from pipeline.archive import store
    ws = Workspace(tmp_path / "ws")
    ws.init()

    def locked(*args, **kwargs):
        raise PermissionError(13, "Permission denied", str(ws.output / "客户档案总表.xlsx"))
    monkeypatch.setattr(store.Archive, "submissions", locked)
    result = crm("--workspace", ws.root, "status", "--period", "2026-10")
    assert result.exit_code == 1 and "客户档案总表.xlsx：它可能正在 Excel 或 WPS 中打开" in result.output
    assert "内部错误" not in result.output and "档案没有被改坏" in result.output


def test_output_redirected_in_a_code_page_without_the_characters_still_finishes(tmp_path):
    """On a Chinese Windows desktop, output redirected to a file is GBK: a file name with an emoji (or a customer
    named with 𠮷) is shown with “?” there, the run is not ended by an encoding error."""
    import subprocess
    import sys
    ws = Workspace(tmp_path / "ws")
    ws.init()
    write_submission(ws.inbox / "华东分公司_2026-10_客户信息统计表😀.xlsx",
                     customers=[example_row("customers", name="上海𠮷祥城市建设投资有限公司", uscc=None, phone="139𠮷")])
    run = subprocess.run([sys.executable, "-c", "from pipeline.cli import main; main()", "--workspace", str(ws.root),
                          "ingest", "--received-at", "2026-10-20T10:00"],
                         capture_output=True, env={**os.environ, "PYTHONIOENCODING": "gbk"})
    out, err = run.stdout.decode("gbk"), run.stderr.decode("gbk")
    assert run.returncode == 0 and "内部错误" not in err, err
    assert "客户信息统计表?.xlsx" in out and "已退回" in out and "139?" in out
    from pipeline.widths import display_width
    header = next(line for line in out.splitlines() if line.startswith("文件"))
    row = next(line for line in out.splitlines() if "客户信息统计表?.xlsx" in line)
    # the columns line up as printed: the “?” is one column wide, not the two the emoji would take
    assert display_width(row[:row.index("  华东分公司")]) == display_width(header[:header.index("  报送单位")])
    # an ASCII output (a POSIX “C” locale) is written in UTF-8 by click: the cells are not turned into “?”
    run = subprocess.run([sys.executable, "-c", "from pipeline.cli import main; main()", "--workspace", str(ws.root),
                          "status", "--period", "2026-10"],
                         capture_output=True, env={**os.environ, "PYTHONIOENCODING": "ascii"})
    assert run.returncode == 0 and "华东分公司" in run.stdout.decode("utf-8"), run.stdout
