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
