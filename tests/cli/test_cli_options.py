"""What every command shares: --config is honoured, a workspace is made only on purpose, errors are one line."""
from __future__ import annotations

from click.testing import CliRunner

from builders import example_row, write_submission
from pipeline.archive import Archive
from pipeline.archive.workspace import Workspace
from pipeline.cli import main


def crm(*args):
    return CliRunner().invoke(main, [*map(str, args)])


def test_config_option_is_honoured_by_workspace_commands(tmp_path):
    ws = Workspace(tmp_path / "ws")
    ws.init()
    alt = tmp_path / "alt.toml"
    alt.write_text('[roster]\nbranches = ["甲分公司", "乙分公司"]\n', encoding="utf-8")
    result = crm("--workspace", ws.root, "--config", alt, "status", "--period", "2026-10")
    assert result.exit_code == 0, result.output
    assert "甲分公司" in result.output and "华东分公司" not in result.output


def test_a_bad_configuration_stops_before_any_file_is_touched(tmp_path):
    ws = Workspace(tmp_path / "ws")
    ws.init()
    ws.config_path.write_text('[limits]\nmax_rows = "50000"\n', encoding="utf-8")
    inbox_file = write_submission(ws.inbox / "华东分公司_2026-10_客户信息统计表.xlsx",
                                  customers=[example_row("customers")])
    result = crm("--workspace", ws.root, "ingest")
    assert result.exit_code == 1 and "第 2 行 [limits] max_rows" in result.output
    assert "Traceback" not in result.output and inbox_file.exists()


def test_commands_other_than_init_and_monthly_do_not_create_a_workspace(tmp_path):
    missing = tmp_path / "nowhere"
    for args in (["status"], ["ingest"], ["archive", "export"], ["review", "export"],
                 ["grades", "lists", "--as-of", "2026-10"], ["report", "--period", "2026-Q3"]):
        result = crm("--workspace", missing, *args)
        assert result.exit_code == 1, (args, result.output)
        assert "不是工作目录" in result.output and "init" in result.output
        assert not missing.exists(), args
    assert crm("--workspace", missing, "init").exit_code == 0
    assert (missing / "crm.toml").exists()


def test_review_apply_uses_the_configured_similarity_threshold(tmp_path):
    ws = Workspace(tmp_path / "ws")
    ws.init()
    ws.config_path.write_text("[review]\nsimilarity_threshold = 99\n", encoding="utf-8")
    for branch, name in (("华东分公司", "上海浦江城市建设投资有限公司"), ("华南分公司", "上海浦江城建投资有限公司")):
        write_submission(ws.inbox / f"{branch}_2026-10_客户信息统计表.xlsx", branch=branch,
                         customers=[example_row("customers", name=name, uscc=None)])
    assert crm("--workspace", ws.root, "ingest").exit_code == 0
    with Archive(ws.archive_path) as archive:
        assert archive.conflicts().empty  # 85 would flag the pair; 99 does not
    review = ws.output / "疑似重复客户.xlsx"
    assert crm("--workspace", ws.root, "review", "export", "--out", review).exit_code == 0
    assert crm("--workspace", ws.root, "review", "apply", review).exit_code == 0
    with Archive(ws.archive_path) as archive:
        assert archive.conflicts().empty  # the rebuild used 99 too


def test_review_and_grades_apply_on_the_wrong_workbook_say_what_they_expected(tmp_path):
    ws = Workspace(tmp_path / "ws")
    ws.init()
    other = write_submission(tmp_path / "华东分公司_2026-10_客户信息统计表.xlsx",
                             customers=[example_row("customers")])
    result = crm("--workspace", ws.root, "review", "apply", other)
    assert result.exit_code == 1 and "没有工作表“疑似重复客户”" in result.output
    text = tmp_path / "等级调整建议_2026-H1.xlsx"
    text.write_text("not a workbook", encoding="utf-8")
    result = crm("--workspace", ws.root, "grades", "apply", text)
    assert result.exit_code == 1 and "不是 Excel 工作簿" in result.output
    assert "Traceback" not in result.output
