"""crm.toml: every key defaulted, every value checked at load, every problem named with its line."""
from __future__ import annotations

import pytest

from pipeline.config import DEFAULT_TOML, check, defaults, load_config
from pipeline.errors import ConfigError


def write(tmp_path, text: str):
    path = tmp_path / "crm.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_default_file_is_valid_and_complete(tmp_path):
    assert check(defaults(), DEFAULT_TOML) == []
    config = load_config(write(tmp_path, DEFAULT_TOML))
    assert config.get("complaints", "response_hours") == 24
    assert config.get("grading", "arrears_is_c") is False


def test_a_roster_only_file_takes_every_other_default(tmp_path):
    config = load_config(write(tmp_path, '[roster]\nbranches = ["甲分公司"]\n'))
    assert config.branches == ["甲分公司"]
    assert config.get("submission", "deadline_day") == 25


@pytest.mark.parametrize("text, expected", [
    ('[limits]\nmax_rows = "50000"\n', "第 2 行 [limits] max_rows：值 “50000” 应为整数"),
    ('[roster]\nbranches = [1, 2]\n', "第 2 行 [roster] branches：值 [1, 2] 应为文字列表"),
    ('[review]\nsimilarity_threshold = true\n', "第 2 行 [review] similarity_threshold：值 True 应为数字"),
    ('[roster.departments]\n"华东分公司" = "第一项目经理部"\n', "“华东分公司”的值应为文字列表"),
    ('limits = 5\n', "第 1 行 [limits]：应为一节"),
    ('[grading]\nlow_margin_percnt = 3\n', "没有这一项，是否应为“low_margin_percent”？"),
    ('[gradng]\n', "没有这一节，是否应为“grading”？"),
    ('[submission]\ndeadline_day = 40\n', "值 40 超出范围（1 ~ 31）"),
    ('[roster]\nbranches = ["../../x分公司"]\n', "“../../x分公司”不能用作单位名称"),
    ('[grading]\nhistory_statuses = ["签约"]\n', "“签约”不是可选值"),
    ('[loyalty]\nloyal_score = 40\nstable_score = 60\n', "不能大于 loyal_score"),
])
def test_bad_values_are_refused_naming_key_and_line(tmp_path, text, expected):
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, text))
    assert expected in str(caught.value)
    assert "请改正后再运行（本次没有做任何处理）" in str(caught.value)


def test_a_suggestion_looks_past_the_ending_names_share():
    from pipeline.config import _nearest
    roster = ["华东分公司", "华南分公司", "西南分公司"]
    assert _nearest("海外分公司", roster) == "。"  # only 分公司 in common: no suggestion
    assert _nearest("华东公司", roster) == "，是否应为“华东分公司”？"
    assert _nearest("华南分司", roster) == "，是否应为“华南分公司”？"
    assert _nearest("deadlin_day", ["deadline_day", "grace_days"]) == "，是否应为“deadline_day”？"


def test_every_problem_is_reported_at_once(tmp_path):
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, '[limits]\nmax_rows = "x"\nmax_cells = -1\n[review]\nthreshold = 9\n'))
    assert "有 3 处错误" in str(caught.value)


def test_broken_toml_says_where_in_chinese(tmp_path):
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, '[roster]\nbranches = [华东分公司]\n'))
    message = str(caught.value)
    assert "第 2 行" in message and "格式错误" in message and "Invalid" not in message


def test_a_windows_path_in_double_quotes_gets_a_hint_to_use_single_quotes(tmp_path):
    from click.testing import CliRunner
    from pipeline.cli import main
    (tmp_path / "crm.toml").write_text('[mail]\nca_file = "D:\\证书\\内部CA.pem"\n', encoding="utf-8")
    result = CliRunner().invoke(main, ["--workspace", str(tmp_path), "status"])
    assert result.exit_code == 1 and "第 2 行" in result.output
    assert "Windows 路径请改用单引号（写成 'D:\\证书\\内部CA.pem'）" in result.output  # as written, not “…”
    (tmp_path / "crm.toml").write_text('[mail]\nca_file = "D:\\temp\\new.pem"\n', encoding="utf-8")  # valid TOML
    from pipeline.config import load_config
    from pipeline.distribution.settings import mail_settings
    try:
        mail_settings(load_config(tmp_path / "crm.toml"))
    except Exception as exc:  # noqa: BLE001
        told = str(exc)
    assert "ca_file = 'D:\\temp\\new.pem'" in told


def test_a_relative_ca_file_is_beside_crm_toml(tmp_path, monkeypatch):
    from pipeline.config import load_config
    from pipeline.distribution.settings import mail_settings
    (tmp_path / "crm.toml").write_text("[mail]\nca_file = '内部CA.pem'\n", encoding="utf-8")
    monkeypatch.chdir("/")
    assert mail_settings(load_config(tmp_path / "crm.toml")).ca_file == str(tmp_path / "内部CA.pem")
