"""crm validate and crm template, driven through the command line."""
from __future__ import annotations

import json

import click
import openpyxl
from click.testing import CliRunner

from builders import example_row, full_example, write_submission
from pipeline.cli import main


def run(*args):
    return CliRunner().invoke(main, list(map(str, args)), catch_exceptions=False)


def test_every_command_has_help():
    def walk(group, prefix=()):
        for name, cmd in group.commands.items():
            assert cmd.help, f"crm {' '.join(prefix + (name,))} has no help text"
            for param in cmd.params:  # an argument's name is shown in usage and errors: “FILE” is not for a clerk
                if isinstance(param, click.Argument):
                    assert param.metavar and not param.metavar.isascii(), (prefix + (name,), param.name)
            if hasattr(cmd, "commands"):
                walk(cmd, prefix + (name,))
    walk(main)


def test_click_speaks_chinese_with_chinese_punctuation():
    help_text = CliRunner().invoke(main, ["--help"], prog_name="crm").output
    assert help_text.startswith("用法：crm [选项] 命令 [参数…]") and "\n选项：\n" in help_text and "\n命令：\n" in help_text
    missing = CliRunner().invoke(main, ["report"])
    assert missing.exit_code == 2 and "错误：缺少选项“--period”。" in missing.output
    typo = CliRunner().invoke(main, ["report", "--perod", "2026"]).output
    assert "错误：没有选项“--perod”。是否应为“--period”？" in typo
    late = CliRunner().invoke(main, ["init", "--workspace", "ws"]).output
    assert "选项“--workspace”属于 crm 本身，要写在命令名之前，例如：crm --workspace … init" in late
    assert not [line for line in missing.output.splitlines() + help_text.splitlines() if line.rstrip().endswith(":")]


def test_validate_clean_file_exits_zero_with_chinese_table(tmp_path):
    good = full_example(tmp_path / "华东分公司_2026-10_客户信息统计表.xlsx")
    result = run("validate", good)
    assert result.exit_code == 0, result.output
    assert "华东分公司_2026-10_客户信息统计表.xlsx" in result.output
    assert "通过" in result.output and "共 1 个文件：通过 1，退回 0" in result.output


def test_validate_lists_an_accepted_file_s_warnings_too(tmp_path):
    """A clerk checking a file before sending it sees what the department will be warned of, not just a count."""
    path = write_submission(tmp_path / "华东分公司_2026-10_客户信息统计表.xlsx",
                            customers=[example_row("customers", uscc=None, name="没有代码的客户有限公司")])
    result = run("validate", path)
    assert result.exit_code == 0, result.output
    [line] = [line for line in result.output.splitlines() if line.startswith("  提示")]
    assert "客户信息!C2" in line and "未填写统一社会信用代码" in line


def test_validate_folder_json_and_exit_one(tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    full_example(inbox / "华东分公司_2026-10_客户信息统计表.xlsx")
    write_submission(inbox / "华南分公司_2026-10_客户信息统计表.xlsx", branch="华南分公司",
                     customers=[example_row("customers", nature="民营")])
    (inbox / "~$华东分公司_2026-10_客户信息统计表.xlsx").write_bytes(b"lock")
    (inbox / "华北分公司_2026-10.csv").write_text("客户单位名称,统一社会信用代码\n", encoding="utf-8")
    result = run("validate", inbox, "--format", "json")
    assert result.exit_code == 1
    files = {f["file"].split("/")[-1]: f for f in json.loads(result.output)["files"]}
    assert files["华东分公司_2026-10_客户信息统计表.xlsx"]["status"] == "accepted"
    bad = files["华南分公司_2026-10_客户信息统计表.xlsx"]
    assert bad["status"] == "rejected" and bad["branch"] == "华南分公司" and bad["period"] == "2026-10"
    assert bad["counts"] == {"客户信息": 1}
    [finding] = bad["findings"]
    assert set(finding) == {"file", "sheet", "cell", "row", "column", "value", "code", "severity",
                            "message"}
    assert (finding["cell"], finding["code"], finding["severity"]) == ("客户信息!D2", "not-allowed", "error")
    assert files["~$华东分公司_2026-10_客户信息统计表.xlsx"]["status"] == "ignored"
    assert files["华北分公司_2026-10.csv"]["status"] == "rejected"
    assert files["华北分公司_2026-10.csv"]["findings"][0]["code"] == "csv-not-accepted"


def test_validate_usage_error_exits_two(tmp_path):
    result = CliRunner().invoke(main, ["validate", str(tmp_path / "nope.xlsx")])
    assert result.exit_code == 2
    result = CliRunner().invoke(main, ["validate", str(tmp_path), "--format", "xml"])
    assert result.exit_code == 2


def test_feedback_dir_marks_the_bad_cell(tmp_path):
    path = write_submission(tmp_path / "华南分公司_2026-10_客户信息统计表.xlsx", branch="华南分公司",
                            customers=[example_row("customers", nature="民营")])
    before = path.read_bytes()
    result = run("validate", path, "--feedback-dir", tmp_path / "fb")
    assert result.exit_code == 1
    [feedback] = list((tmp_path / "fb").glob("*.xlsx"))
    book = openpyxl.load_workbook(feedback)
    assert book.sheetnames[0] == "校验结果"
    cell = book["客户信息"]["D2"]
    assert cell.comment is not None and "政府类" in cell.comment.text
    assert path.read_bytes() == before


def test_filled_template_validates_clean(tmp_path):
    template = tmp_path / "模板.xlsx"
    assert run("template", "--out", template).exit_code == 0
    book = openpyxl.load_workbook(template)
    from schemas.columns import COVER, DATA_SHEETS
    cover = book[COVER.name]
    values = {"branch": "华东分公司", "period": "2026-10", "filler": "张明", "changed": "有"}
    for row in cover.iter_rows(min_row=1, max_row=cover.max_row):
        for col in COVER.columns:
            if row[0].value == col.header and col.key in values:
                row[1].value = values[col.key]
    for sheet in DATA_SHEETS:
        ws = book[sheet.name]
        headers = [c.value for c in ws[1]]
        example = example_row(sheet.key, seq=1)
        for col in sheet.columns:
            if col.header in headers and example.get(col.key) is not None:
                ws.cell(row=2, column=headers.index(col.header) + 1, value=example[col.key])
    filled = tmp_path / "华东分公司_2026-10_客户信息统计表.xlsx"
    book.save(filled)
    result = run("validate", filled, "--format", "json")
    report = json.loads(result.output)["files"][0]
    assert report["status"] == "accepted", report["findings"]
    assert report["findings"] == []
    assert report["counts"] == {s.name: 1 for s in DATA_SHEETS}


def test_bad_configuration_value_is_a_message_naming_the_key(tmp_path):
    (tmp_path / "crm.toml").write_text('[limits]\nmax_rows = "很多"\n', encoding="utf-8")
    good = full_example(tmp_path / "华东分公司_2026-10_客户信息统计表.xlsx")
    result = CliRunner().invoke(main, ["--workspace", str(tmp_path), "validate", str(good)])
    assert result.exit_code == 1
    assert "[limits] max_rows" in result.output and "Traceback" not in result.output
