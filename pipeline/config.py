"""crm.toml: the department's editable settings, every key defaulted and checked at load.

The commented default file (``DEFAULT_TOML``) is both what `crm init` writes and
the defaults; ``SCHEMA`` says what each key may hold. ``load_config`` reads the
file once per command, checks every key (type, range, list items, unknown keys
with the nearest known one) and reports every problem at once with its line,
before any file is touched.
"""
from __future__ import annotations

import difflib
import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from schemas.columns import CUSTOMERS, PROJECTS, SATISFACTION, VISITS

from .errors import ConfigError

DEFAULT_TOML = """\
# 客户档案流水线配置文件（crm.toml）
# 未写出的项目一律使用默认值；只写花名册也是有效的配置。修改后运行任一命令即会检查，
# 写错的项目会逐条指出（含行号），不会处理任何文件。

[roster]
# 集团分子公司花名册：只接受名单内单位的报送。名称也用作文件夹名，不能含 / \\ : * ? " < > |。
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
# 单个工作表的最大单元格数（行数 × 列数，按工作表声明的范围计），防止稀疏的超大工作表耗尽内存。
max_cells = 5000000
# 工作簿文件大小上限（MiB）。
max_file_mib = 50
# 解压后总大小上限（MiB）与最大压缩比，用于拦截“压缩炸弹”。
max_uncompressed_mib = 300
max_compression_ratio = 200
# 金额上限（万元）：超过即视为填写错误。
max_amount = 100000000
# 文字单元格的最大字数。
max_text_length = 2000
# 退回文件的反馈工作簿会复制原表并标注问题单元格；原表解压后超过此大小（MiB）时只列出问题清单，
# 不复制原表（否则一个几十万行的文件会占用数 GB 内存）。
feedback_copy_mib = 40

[projects]
# 视为“已中标”的项目状态：这些状态的项目须填写合同额，并计入利润分析。
awarded_statuses = ["中标", "在建", "竣工", "结算完成"]

[complaints]
# 集团《客户投诉管理办法》5.3：收到投诉后首次响应、处理完成后反馈结果的时限（小时）。
response_hours = 24
feedback_hours = 48

[satisfaction]
# 满意度调查中计为“满意”的回答（集团目标：满意率 ≥ 90%）。只算“满意”时改为 ["满意"]。
satisfied_answers = ["满意", "基本满意"]
goal_percent = 90

[visits]
# 战略客户维护职责（集团《战略客户管理办法》3.2）：公司主要领导每年至少拜访次数、联点领导每年至少拜访次数；
# 营销专员每月至少联系一次。
main_leader_per_year = 1
liaison_per_year = 2
# A 类客户按社会价值确定拜访频率（可选：每旬、每月、每季、半年）。
a_frequency = { "高" = "每月", "中" = "每季", "低" = "半年" }

[assessment]
# 分子公司客户关系维护成效半年度考核（集团《客户关系管理办法》三(二)Ⅱ4）。五项指标各按 0–100 分计，
# 总分 = Σ 权重 × 指标得分 ÷ 100；权重之和应为 100。
weight_reporting = 30          # 一、信息上报与档案整理
weight_complaints = 20         # 二、投诉及处理
weight_satisfaction = 20       # 三、满意度调查中的不满意项
weight_analysis_report = 15    # 四、半年度客户分析报告
weight_authenticity = 15       # 五、档案信息真实性
# 结果：总分 ≥ excellent_score 为优良，≥ qualified_score 为合格，其余为差；半年内从未报送的单位一律为差。
excellent_score = 90
qualified_score = 70
# 一、信息上报 = 100 ×（及时 × reporting_timeliness + 质量 × reporting_quality + 规模 × reporting_scale）。
# 及时 =（按时月数 + 无变化月数 + 逾期月数 × late_month_credit）÷ 6；未报、被退回未重报的月份计 0。
# 质量 = 1 − 每个数据行的平均错误单元格数 ÷ errors_per_row_zero（最低 0）；规模 = 累计客户数 ÷ 标准（最高 1）。
reporting_timeliness = 0.5
reporting_quality = 0.25
reporting_scale = 0.25
late_month_credit = 0.5
errors_per_row_zero = 0.1
customer_standard = 30
# 各单位的累计客户数标准（可选，未列出的单位用 customer_standard），例如：
# [assessment.customer_standards]
# "基础设施分公司" = 20
# 二、投诉 = 100 ×（按时响应率 × complaint_response + 按时反馈率 × complaint_feedback
#          + 处理满意率 × complaint_satisfaction）− 期末超时未结投诉数 × overdue_complaint_points（最低 0）。
# 没有投诉时各比率按 1 计。
complaint_response = 0.4
complaint_feedback = 0.3
complaint_satisfaction = 0.3
overdue_complaint_points = 10
# 三、满意度 = 100 − 不满意项数 × dissatisfied_item_points（最低 0）。
dissatisfied_item_points = 5
# 四、分析报告 = 100 × 按期提交（按时 1、逾期 late_report_credit、未交 0）× 报告质量（考核表中填写，默认 100%）。
report_due_h1 = "06-01"
report_due_h2 = "12-31"
late_report_credit = 0.6
# 五、真实性 = 100 − 冲突数 × conflict_points − 截止日后的更正重报次数 × late_correction_points − 抽查扣分（考核表中填写）。
# 冲突：同一信用代码名称不同、同名不同代码，以及经审核“合并”的疑似重复客户。
conflict_points = 5
late_correction_points = 5
# 后果：合格、差的单位在通报后 summary_days 天内提交《客户关系维护工作总结》；差的单位暂停查询档案 suspension_months 个月。
summary_days = 7
suspension_months = 1

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
# 项目付款拖欠是否作为 C 类条件。集团规则中没有这一条，默认不启用；需要时改为 true。
arrears_is_c = false
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

[mail]
# 邮件分发（crm distribute）。未填 host 时只能演练：邮件写成 .eml 文件放在 output/<期间>/outbox/，不发出。
# 密码不写在任何文件里：发送前在环境变量 CRM_SMTP_PASSWORD 中设置（Windows 命令提示符：set CRM_SMTP_PASSWORD=密码；
# PowerShell：$env:CRM_SMTP_PASSWORD="密码"）。
host = ""
port = 587
# 加密方式：starttls（587 端口）、ssl（465 端口）、none（不加密，只用于单位内网的邮件中继）。
security = "starttls"
# 登录邮箱的用户名（多为邮箱地址）；留空表示服务器不需要登录。
username = ""
# 发件人地址与显示名称。
from = ""
from_name = "集团公司市场营销部"
# 单封邮件（含附件）的大小上限（MB）；超过的邮件不发送，并在发送清单中说明。
max_message_mib = 20
# 连接邮件服务器的超时（秒）。
timeout_seconds = 60
# 单位内部邮件服务器使用自签名证书时，填写其 CA 证书文件（.pem）的路径（相对路径从本文件所在的文件夹算起；
# Windows 路径用单引号，如 'D:\证书\内部CA.pem'）；留空则使用系统信任的证书。
ca_file = ""

# 收件人：每人写一节 [[mail.recipients]]。
#   name    姓名或称呼；address 邮箱地址；
#   role    领导 / 市场营销部 / 分子公司；分子公司的收件人须写 branch（花名册中的单位名称）；
#   kinds   收哪些邮件（可不写，按角色默认）：monthly 月度报送情况、quarterly 季度报告、halfyear 半年度报告、
#           annual 年度报告、assessment 考核通报、feedback 退回反馈。
#           默认：领导 季度/半年度/年度报告与考核通报；市场营销部 除退回反馈外全部；分子公司 全部。
# 例如：
# [[mail.recipients]]
# name = "集团公司分管领导"
# address = "leader@example.com"
# role = "领导"
#
# [[mail.recipients]]
# name = "华东分公司经营部"
# address = "huadong@example.com"
# role = "分子公司"
# branch = "华东分公司"
"""

_PROJECT_STATUSES = PROJECTS.column("status").allowed
_SOCIAL_VALUES = CUSTOMERS.column("social_value").allowed
_VISITOR_LEVELS = VISITS.column("visitor_level").allowed
_SATISFACTION = SATISFACTION
_FREQUENCIES = ("每旬", "每月", "每季", "半年")
# A name that is a plain file name on Windows and POSIX alike.
_PLAIN_NAME = re.compile(r'^[^/\\:*?"<>|\x00-\x1f]+$')


@dataclass(frozen=True)
class Spec:
    """What one key may hold: kind is int / number / bool / str / strings / table."""

    kind: str
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()
    optional: bool = False     # may be absent (no default)
    plain_names: bool = False  # strings used as folder names
    keys: tuple[str, ...] = ()  # the keys a mapping may have


SCHEMA: dict[str, dict[str, Spec]] = {
    "roster": {"branches": Spec("strings", minimum=1, plain_names=True),
               "departments": Spec("table", optional=True)},
    "submission": {"deadline_day": Spec("int", 1, 31)},
    "limits": {"max_rows": Spec("int", 1, 1_048_575), "max_cells": Spec("int", 1000),
               "max_file_mib": Spec("number", 0.01), "max_uncompressed_mib": Spec("number", 1),
               "max_compression_ratio": Spec("number", 1), "max_amount": Spec("number", 1),
               "max_text_length": Spec("int", 10, 32_767), "feedback_copy_mib": Spec("number", 0.01, 1000)},
    "projects": {"awarded_statuses": Spec("strings", minimum=1, choices=_PROJECT_STATUSES)},
    "complaints": {"response_hours": Spec("number", 1, 24 * 30),
                   "feedback_hours": Spec("number", 1, 24 * 30)},
    "review": {"similarity_threshold": Spec("number", 50, 100)},
    "assessment": {**{f"weight_{k}": Spec("number", 0, 100) for k in
                      ("reporting", "complaints", "satisfaction", "analysis_report", "authenticity")},
                   "excellent_score": Spec("number", 0, 100), "qualified_score": Spec("number", 0, 100),
                   **{k: Spec("number", 0, 1) for k in (
                       "reporting_timeliness", "reporting_quality", "reporting_scale", "late_month_credit",
                       "complaint_response", "complaint_feedback", "complaint_satisfaction", "late_report_credit")},
                   "errors_per_row_zero": Spec("number", 0.001, 100), "customer_standard": Spec("number", 1, 100000),
                   "customer_standards": Spec("numbers", optional=True),
                   **{k: Spec("number", 0, 100) for k in ("overdue_complaint_points", "dissatisfied_item_points",
                                                          "conflict_points", "late_correction_points")},
                   "report_due_h1": Spec("monthday"), "report_due_h2": Spec("monthday"),
                   "summary_days": Spec("int", 1, 90), "suspension_months": Spec("int", 0, 24)},
    "satisfaction": {"satisfied_answers": Spec("strings", minimum=1, choices=_SATISFACTION),
                     "goal_percent": Spec("number", 1, 100)},
    "visits": {"main_leader_per_year": Spec("int", 0, 52), "liaison_per_year": Spec("int", 0, 52),
               "a_frequency": Spec("mapping", keys=_SOCIAL_VALUES, choices=_FREQUENCIES)},
    "grading": {"history_statuses": Spec("strings", minimum=1, choices=_PROJECT_STATUSES),
                "a_social_values": Spec("strings", minimum=1, choices=_SOCIAL_VALUES),
                "low_margin_percent": Spec("number", -100, 100),
                "complaint_years": Spec("int", 0, 50), "arrears_is_c": Spec("bool"),
                "poor_credit_is_c": Spec("bool")},
    "loyalty": {**{f"weight_{k}": Spec("number", 0, 100) for k in
                   ("tenure", "volume", "recency", "continuity", "trend", "stability")},
                "tenure_cap_years": Spec("number", 1, 100), "volume_cap": Spec("number", 1, 1000),
                "loyal_score": Spec("number", 0, 100), "stable_score": Spec("number", 0, 100),
                "churn_months": Spec("int", 1, 600), "new_months": Spec("int", 0, 600)},
    "quadrant": {"amount_threshold": Spec("number", 0, optional=True),
                 "margin_threshold": Spec("number", -1, 1, optional=True)},
    "ranking": {"weight_a": Spec("number", -100, 100), "weight_b": Spec("number", -100, 100),
                "weight_c": Spec("number", -100, 100)},
    "mail": {"host": Spec("text"), "port": Spec("int", 1, 65535),
             "security": Spec("choice", choices=("starttls", "ssl", "none")),
             "username": Spec("text"), "from": Spec("address"), "from_name": Spec("text"),
             "max_message_mib": Spec("number", 0.01, 1000), "timeout_seconds": Spec("number", 1, 3600),
             "ca_file": Spec("text"),
             "recipients": Spec("recipients", optional=True)},
}
# An e-mail address as a clerk would write it, in ASCII (the server has the last word).
ADDRESS = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
_RECIPIENT_KEYS = ("name", "address", "role", "branch", "kinds")

_KIND_NAMES = {"int": "整数", "number": "数字", "bool": "true 或 false", "str": "文字（加引号）",
               "strings": "文字列表，如 [\"甲\", \"乙\"]", "table": "表（[节名] 下的 键 = 值）",
               "tables": "表的列表（[[节名]]）"}


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
    """Checked settings with defaults merged in."""

    data: dict = field(default_factory=dict)
    path: Path | None = None

    def get(self, section: str, key: str, kind: type | tuple = object):
        """The value of ``[section] key`` (checked at load; ``kind`` is kept for readability)."""
        try:
            return self.data[section][key]
        except KeyError:
            raise ConfigError(f"配置项 [{section}] {key} 缺失（{self.where}）") from None

    def number(self, section: str, key: str, **_bounds) -> float:
        """A numeric setting (its range was checked at load)."""
        return self.get(section, key)

    def optional(self, section: str, key: str):
        return self.data.get(section, {}).get(key)

    def section(self, name: str) -> dict:
        return dict(self.data.get(name, {}))

    @property
    def where(self) -> str:
        return str(self.path) if self.path else "默认配置"

    @property
    def branches(self) -> list[str]:
        return list(self.get("roster", "branches"))

    def departments(self, branch: str) -> list[str]:
        return list(self.data.get("roster", {}).get("departments", {}).get(branch, []))

    @property
    def awarded(self) -> tuple[str, ...]:
        return tuple(self.get("projects", "awarded_statuses"))


def defaults() -> dict:
    return tomllib.loads(DEFAULT_TOML)


def load_config(path: Path | None) -> Config:
    """Read crm.toml (if it exists) over the defaults and check every key; raises ConfigError."""
    data = defaults()
    text = ""
    if path is not None and Path(path).exists():
        try:
            text = Path(path).read_text(encoding="utf-8-sig")
        except UnicodeDecodeError:
            raise ConfigError(f"配置文件 {path} 不是 UTF-8 编码。请用记事本“另存为”UTF-8 后再试。") from None
        except OSError as exc:
            raise ConfigError(f"无法读取配置文件 {path}：{exc.strerror or exc}") from None
        try:
            user = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"配置文件 {path} 格式错误：{_toml_message(exc)}。"
                              f"请检查该行的引号、方括号和等号。{_backslash_hint(text, exc)}") from None
        problems = check(user, text)
        if problems:
            shown = "\n".join(f"  - {p}" for p in problems)
            raise ConfigError(f"配置文件 {path} 有 {len(problems)} 处错误，请改正后再运行（本次没有做任何处理）：\n{shown}")
        data = _merge(data, user)
    return Config(data=data, path=Path(path) if path else None)


_TOML_WORDS = [("Expected '=' after a key in a key/value pair", "键后面应为“=”"),
               ("Invalid value", "值无效（文字须加引号）"), ("Invalid statement", "无法识别的写法"),
               ("Cannot overwrite a value", "同一项写了两次"), ("Cannot declare", "同一节写了两次"),
               ("Unterminated string", "引号没有闭合"), ("Illegal character", "含有不允许的字符"),
               ("Expected newline or end of document after a statement", "一行只能写一项")]


def _backslash_hint(text: str, exc: tomllib.TOMLDecodeError) -> str:
    """A Windows path in double quotes ("D:\证书\a.pem") is the usual cause of an error on a line with a backslash."""
    where = _toml_position(exc)
    lines = text.splitlines()
    line = lines[where[0] - 1] if where and where[0] <= len(lines) else ""
    if "\\" not in line:
        return ""
    written = re.search(r'=\s*"([^"]*)"', line)
    example = f"'{written[1]}'" if written else "'D:\\证书\\内部CA.pem'"
    return f"该行的反斜杠 \\ 在双引号中有特殊含义：Windows 路径请改用单引号（写成 {example}），或把 \\ 写成 /。"


def _toml_position(exc: tomllib.TOMLDecodeError) -> tuple[int, int] | None:
    """(line, column) of a TOML error, 1-based, as its message gives them."""
    where = re.search(r"\(at line (\d+), column (\d+)\)", str(exc))
    return (int(where[1]), int(where[2])) if where else None


def _toml_message(exc: tomllib.TOMLDecodeError) -> str:
    where = _toml_position(exc)
    reason = next((zh for en, zh in _TOML_WORDS if en in str(exc)), "写法不正确")
    return f"第 {where[0]} 行第 {where[1]} 列：{reason}" if where else reason


def _line_of(text: str, section: str, key: str | None) -> int | None:
    """The line where ``[section] key`` (or the section itself) is written, 1-based, for messages."""
    current = ""
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if header := re.match(r"^\[\[?\s*([^\]]+?)\s*\]\]?", stripped):
            current = header[1].strip().strip('"')
            if key is None and current == section:
                return number
            continue
        name = key if key is not None else section
        wanted = section if key is not None else ""
        if current == wanted and re.match(rf'^"?{re.escape(name)}"?\s*=', stripped):
            return number
    return None


def _where(text: str, section: str, key: str | None) -> str:
    line = _line_of(text, section, key)
    name = f"[{section}] {key}" if key else f"[{section}]"
    return f"第 {line} 行 {name}" if line else name


def _nearest(word: str, options) -> str:
    """A suggestion of the option closest to ``word``, judged on what they do not share at the end: a common
    分公司 does not make 海外分公司 look like 西南分公司."""
    def likeness(option: str) -> float:
        shared = len(os.path.commonprefix([word[::-1], option[::-1]]))
        return difflib.SequenceMatcher(None, word[:len(word) - shared], option[:len(option) - shared]).ratio()
    scored = [(likeness(str(option)), str(option)) for option in options]
    best = max(scored, key=lambda pair: pair[0], default=(0.0, ""))
    return f"，是否应为“{best[1]}”？" if best[0] >= 0.5 else "。"


def check(user: dict, text: str = "") -> list[str]:
    """Every problem of a parsed crm.toml, as Chinese lines naming the key and its line."""
    problems = []
    for section, values in user.items():
        if section not in SCHEMA and section not in _EXTRA_SECTIONS:
            problems.append(f"{_where(text, section, None)}：没有这一节{_nearest(section, SCHEMA)}")
            continue
        if section in _EXTRA_SECTIONS:
            problems += _EXTRA_SECTIONS[section](values, text)
            continue
        if not isinstance(values, dict):
            problems.append(f"{_where(text, section, None)}：应为一节（[{section}]），不是单个值")
            continue
        specs = SCHEMA[section]
        for key, value in values.items():
            spec = specs.get(key)
            if spec is None:
                problems.append(f"{_where(text, section, key)}：没有这一项{_nearest(key, specs)}")
                continue
            problem = _check_value(value, spec, section, key)
            if problem:
                problems.append(f"{_where(text, section, key)}：{problem}")
    problems += _cross_checks(user, text)
    return problems


def _check_value(value, spec: Spec, section: str, key: str) -> str | None:
    shown = repr(value) if not isinstance(value, str) else f"“{value}”"
    if spec.kind == "bool":
        return None if isinstance(value, bool) else f"值 {shown} 应为 true 或 false"
    if spec.kind in ("int", "number"):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or (
                spec.kind == "int" and not isinstance(value, int)):
            return f"值 {shown} 应为{_KIND_NAMES[spec.kind]}（不加引号）"
        if value != value or value in (float("inf"), float("-inf")):
            return f"值 {shown} 应为有限的数字"
        if (spec.minimum is not None and value < spec.minimum) or (
                spec.maximum is not None and value > spec.maximum):
            low = "" if spec.minimum is None else f"{spec.minimum:g}"
            high = "" if spec.maximum is None else f"{spec.maximum:g}"
            return f"值 {value} 超出范围（{low} ~ {high}）"
        return None
    if spec.kind == "str":
        return None if isinstance(value, str) and value.strip() else f"值 {shown} 应为非空文字（加引号）"
    if spec.kind == "text":
        return None if isinstance(value, str) else f"值 {shown} 应为文字（加引号，可为空 \"\"）"
    if spec.kind == "choice":
        return None if value in spec.choices else f"值 {shown} 不是可选值（可选：{'、'.join(spec.choices)}）"
    if spec.kind == "address":
        ok = isinstance(value, str) and (not value or ADDRESS.match(value.strip()))
        return None if ok else f"值 {shown} 不是有效的邮箱地址"
    if spec.kind == "recipients":
        return None if isinstance(value, list) and all(isinstance(v, dict) for v in value) else (
            "收件人应写成一节一人的 [[mail.recipients]]")
    if spec.kind == "strings":
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            return f"值 {shown} 应为{_KIND_NAMES['strings']}"
        if spec.minimum and len(value) < spec.minimum:
            return "列表不能为空"
        problems = []
        if spec.choices:
            bad = [v for v in value if v not in spec.choices]
            if bad:
                problems.append(f"“{'”“'.join(bad)}”不是可选值（可选：{'、'.join(spec.choices)}）")
        twice = sorted({v for v in value if value.count(v) > 1})
        if twice:
            problems.append(f"“{'”“'.join(twice)}”重复出现")
        if spec.plain_names:
            bad = [v for v in value if not _PLAIN_NAME.match(v) or v.strip() in (".", "..") or v != v.strip()]
            if bad:
                problems.append(f"“{'”“'.join(bad)}”不能用作单位名称：名称会用作文件夹名，不能含 / \\ : * ? \" < > | "
                                "或首尾空格")
        return "；".join(problems) or None
    if spec.kind == "monthday":
        ok = isinstance(value, str) and re.fullmatch(r"(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])", value)
        return None if ok else f"值 {shown} 应写成“月-日”，如 \"06-01\""
    if spec.kind == "numbers":
        if not isinstance(value, dict) or not all(
                isinstance(v, (int, float)) and not isinstance(v, bool) and v > 0 for v in value.values()):
            return f"值 {shown} 应为“单位名称 = 数字”的表"
        return None
    if spec.kind == "mapping":
        if not isinstance(value, dict):
            return f"值 {shown} 应为表，如 {{ \"高\" = \"每月\" }}"
        for name, item in value.items():
            if spec.keys and name not in spec.keys:
                return f"“{name}”不是可选的键（可选：{'、'.join(spec.keys)}）"
            if not isinstance(item, str) or (spec.choices and item not in spec.choices):
                return f"“{name}”的值 {item!r} 不是可选值（可选：{'、'.join(spec.choices)}）"
        return None
    if spec.kind == "table":
        if not isinstance(value, dict):
            return f"值 {shown} 应为{_KIND_NAMES['table']}"
        for name, items in value.items():
            if not isinstance(items, list) or not all(isinstance(v, str) for v in items):
                return f"“{name}”的值应为{_KIND_NAMES['strings']}"
        return None
    return None


def _cross_checks(user: dict, text: str) -> list[str]:
    problems = []
    roster = user.get("roster", {})
    branches = roster.get("branches") if isinstance(roster, dict) else None
    departments = roster.get("departments") if isinstance(roster, dict) else None
    if isinstance(departments, dict) and isinstance(branches, list):
        for name in departments:
            if name not in branches:
                problems.append(f"{_where(text, 'roster.departments', name)}：“{name}”不在花名册"
                                f" branches 中{_nearest(name, branches)}")
    assessment = user.get("assessment", {})
    if isinstance(assessment, dict) and isinstance(branches, list):
        for name in (assessment.get("customer_standards") or {}):
            if name not in branches:
                problems.append(f"{_where(text, 'assessment.customer_standards', name)}：“{name}”不在花名册"
                                f" branches 中{_nearest(name, branches)}")
    mail = user.get("mail", {})
    if isinstance(mail, dict) and isinstance(mail.get("recipients"), list):
        roster = branches if isinstance(branches, list) else defaults()["roster"]["branches"]
        problems += recipient_problems(mail["recipients"], roster, text)
    loyalty = user.get("loyalty", {})
    if isinstance(loyalty, dict):
        loyal, stable = loyalty.get("loyal_score"), loyalty.get("stable_score")
        if isinstance(loyal, (int, float)) and isinstance(stable, (int, float)) and stable > loyal:
            problems.append(f"{_where(text, 'loyalty', 'stable_score')}：不能大于 loyal_score（{loyal}）")
    return problems


def mail_kinds(value) -> list[str] | None:
    """A recipient's kinds in crm.toml (English keys or Chinese words) → the keys; None if one is unknown."""
    from schemas.labels import MAIL_KIND_ALIASES, MAIL_KINDS
    out = []
    for item in value:
        key = item if item in MAIL_KINDS else MAIL_KIND_ALIASES.get(str(item).strip())
        if key is None:
            return None
        out.append(key)
    return out


def recipient_problems(recipients: list, roster: list[str], text: str = "") -> list[str]:
    """Every problem of the [[mail.recipients]] entries, each naming the entry and its line."""
    from schemas.labels import BRANCH_ROLE, MAIL_KIND_ALIASES, MAIL_KINDS, MAIL_ROLE_ALIASES, MAIL_ROLES
    headers = [n for n, line in enumerate(text.splitlines(), 1)
               if re.match(r"^\[\[\s*mail\.recipients\s*\]\]", line.strip())]
    problems, seen = [], {}
    for index, entry in enumerate(recipients):
        if not isinstance(entry, dict):
            continue
        where = (f"第 {headers[index]} 行起的" if index < len(headers) else "") + f"第 {index + 1} 个收件人"
        who = f"{where}（{entry.get('name') or entry.get('address') or '未写姓名'}）"
        for key in entry:
            if key not in _RECIPIENT_KEYS:
                problems.append(f"{who}：没有“{key}”这一项{_nearest(key, _RECIPIENT_KEYS)}")
        for key in ("name", "address", "role"):
            if not isinstance(entry.get(key), str) or not entry[key].strip():
                problems.append(f"{who}：缺少 {key}")
        address = entry.get("address")
        if isinstance(address, str) and address.strip():
            if not ADDRESS.match(address.strip()):
                problems.append(f"{who}：“{address}”不是有效的邮箱地址（只能用英文字母、数字和 . _ - 等符号）")
            elif address.strip().lower() in seen:
                problems.append(f"{who}：地址 {address} 与{seen[address.strip().lower()]}重复")
            else:
                seen[address.strip().lower()] = who
        role = entry.get("role")
        role = MAIL_ROLE_ALIASES.get(role, role) if isinstance(role, str) else role
        if isinstance(role, str) and role.strip() and role not in MAIL_ROLES:
            problems.append(f"{who}：role “{role}”不是可选值（可选：{'、'.join(MAIL_ROLES)}）")
        branch = entry.get("branch")
        if role == BRANCH_ROLE and not branch:
            problems.append(f"{who}：分子公司的收件人须写 branch（单位名称）")
        if branch is not None and branch not in roster:
            problems.append(f"{who}：branch “{branch}”不在花名册中{_nearest(str(branch), roster)}")
        if branch and role != BRANCH_ROLE:
            problems.append(f"{who}：只有分子公司的收件人写 branch（其 role 是“{role}”）")
        kinds = entry.get("kinds")
        if kinds is not None:
            if not isinstance(kinds, list) or not all(isinstance(k, str) for k in kinds):
                problems.append(f"{who}：kinds 应为{_KIND_NAMES['strings']}")
            elif mail_kinds(kinds) is None:
                bad = [k for k in kinds if k not in MAIL_KINDS and k.strip() not in MAIL_KIND_ALIASES]
                problems.append(f"{who}：kinds 中的“{'”“'.join(bad)}”不是可选值（可选：{'、'.join(MAIL_KINDS)}）")
    return problems


# Sections whose shape is not key → scalar (added by later stages: mail recipients, assessment).
_EXTRA_SECTIONS: dict = {}
