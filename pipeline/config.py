"""crm.toml: the department's editable settings, with a default for every key."""
from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

# The commented default crm.toml. Every key here is a default; a crm.toml that
# sets only some keys (e.g. only the roster) is valid. Sections are appended by
# the modules that own them, each commented in Chinese.
DEFAULT_TOML = """\
# 客户档案流水线配置文件（crm.toml）
# 未写出的项目一律使用默认值；只写花名册也是有效的配置。

[roster]
# 集团分子公司花名册：只接受名单内单位的报送。
branches = [
    "华东分公司", "华南分公司", "华北分公司", "华中分公司",
    "西南分公司", "西北分公司", "东北分公司", "基础设施分公司",
]

# 各分公司下属项目经理部（可选），例如：
# [roster.departments]
# "华东分公司" = ["第一项目经理部", "第二项目经理部"]

[submission]
# 每月报送截止日（当月几号，含当天）。
deadline_day = 25

[limits]
# 单个工作表的最大数据行数，超过即拒收。
max_rows = 50000
# 工作簿文件大小上限（MiB）。
max_file_mib = 50
# 解压后总大小上限（MiB）与最大压缩比，用于拦截“压缩炸弹”。
max_uncompressed_mib = 300
max_compression_ratio = 200

[review]
# 名称相似度阈值（0–100）：超过即列入“疑似重复客户”。
similarity_threshold = 85

[grading]
# A/B/C 分类规则（集团《客户关系管理办法》三(一)3）。C 类条件优先于 A 类。
# 视为“有合作历史”的项目状态；此外填写了首次合作年份也视为有合作历史。
history_statuses = ["中标", "在建", "竣工", "结算完成"]
# A 类要求的社会价值（可改为 ["高", "中"]）。
a_social_values = ["高"]
# 低利润：客户已中标项目累计毛利率低于该百分比即为 C 类条件（利润低程序复杂）。
low_margin_percent = 3.0
# 近 N 年内有无理投诉（投诉记录中“是否无理投诉”为是）即为 C 类条件。
complaint_years = 3
# 项目付款拖欠是否作为 C 类条件。
arrears_is_c = true
# 资信状况为“差”（信誉差）是否作为 C 类条件。
poor_credit_is_c = true

[loyalty]
# 忠诚度得分 = Σ 权重 × 分项得分（分项 0–1），权重之和应为 100。
weight_tenure = 20       # 合作年限：合作年数 ÷ tenure_cap_years，封顶 1
weight_volume = 15       # 项目数量：项目数 ÷ volume_cap，封顶 1
weight_recency = 20      # 近期性：1 − 距最近签约月数 ÷ 36，最低 0
weight_continuity = 20   # 连续性：有项目的年份 ÷ 首次合作以来的年数
weight_trend = 10        # 趋势：近两年合同额上升 1，持平或无法判断 0.5，下降 0
weight_stability = 15    # 等级稳定性：1 − 等级变动次数 ÷ 观察期数
tenure_cap_years = 10
volume_cap = 5
# 分群：得分 ≥ loyal_score 为“忠诚”，≥ stable_score 为“稳定”，其余为“波动”；
# 距最近签约超过 churn_months 个月为“流失风险”；首次报送不满 new_months 个月且无合作历史为“新客户”。
loyal_score = 70
stable_score = 50
churn_months = 24
new_months = 12

[quadrant]
# B 类客户规模—利润分析的分界：留空（注释掉）则取 B 类客户的中位数。
# amount_threshold = 5000.0   # 累计合同额（万元），≥ 为“规模大”
# margin_threshold = 0.08     # 规模利润比（利润 ÷ 合同额），≥ 为“利润高”

[ranking]
# 等级排名的加权得分 = A 类数 × a + B 类数 × b + C 类数 × c。
weight_a = 3
weight_b = 1
weight_c = 0
"""


class ConfigError(Exception):
    """A crm.toml value is missing, of the wrong type or out of range."""


def _merge(base: dict, override: dict) -> dict:
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


@dataclass
class Config:
    """Settings with defaults merged in; look values up with ``get``."""

    data: dict = field(default_factory=dict)
    path: Path | None = None

    def get(self, section: str, key: str, kind: type | tuple = object):
        """The value of ``[section] key``, checked against ``kind``."""
        try:
            value = self.data[section][key]
        except KeyError:
            raise ConfigError(f"配置项 [{section}] {key} 缺失") from None
        if kind is not object and not isinstance(value, kind) or (
                kind in (int, float) and isinstance(value, bool)):
            raise ConfigError(f"配置项 [{section}] {key} 的值 {value!r} 类型不对，"
                              f"应为{_KIND_NAMES.get(kind, '正确类型')}（{self.where}）")
        return value

    def number(self, section: str, key: str, *, minimum: float | None = None,
               maximum: float | None = None) -> float:
        """A numeric setting within bounds."""
        value = self.get(section, key, (int, float))
        if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
            raise ConfigError(f"配置项 [{section}] {key} = {value} 超出范围"
                              f"（{minimum} ~ {maximum}）（{self.where}）")
        return value

    @property
    def where(self) -> str:
        return str(self.path) if self.path else "默认配置"

    @property
    def branches(self) -> list[str]:
        return list(self.get("roster", "branches", list))

    def departments(self, branch: str) -> list[str]:
        return list(self.data.get("roster", {}).get("departments", {}).get(branch, []))


_KIND_NAMES = {int: "整数", float: "数字", (int, float): "数字", str: "文字",
               list: "列表", bool: "true/false", dict: "表"}


def defaults() -> dict:
    return tomllib.loads(DEFAULT_TOML)


def load_config(path: Path | None) -> Config:
    """Read crm.toml (if it exists) over the defaults."""
    data = defaults()
    if path is not None and Path(path).exists():
        try:
            user = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"配置文件 {path} 格式错误：{exc}") from None
        data = _merge(data, user)
    return Config(data=data, path=Path(path) if path else None)
