"""The column dictionary: the single source of every sheet, header, alias and rule.

The template writer, the reader's header matching, the pandera models and the
report headers all read this module; no other module spells a Chinese header.
The words reports add beyond these headers live beside it, in ``labels.py``.
"""
from __future__ import annotations

from dataclasses import dataclass, field

# Value kinds a column may have.
TEXT = "text"          # free text
CODE = "code"          # text identifier; leading zeros kept (credit codes, contract numbers)
ENUM = "enum"          # closed list of allowed values
YEAR = "year"          # integer year, 1949 … this year
NUMBER = "number"      # decimal number (amounts in 万元)
DATE = "date"          # calendar date
DATETIME = "datetime"  # date and time
PHONE = "phone"        # mainland mobile or landline
EMAIL = "email"        # e-mail address
IGNORED = "ignored"    # read but not kept (序号)

# Values the rules compare against, named once (the allowed lists below are built from them).
YES, NO = "是", "否"
HAS, HAS_NOT = "有", "无"
SATISFIED, FAIRLY_SATISFIED, DISSATISFIED = "满意", "基本满意", "不满意"
GOOD, FAIR, BAD, POOR = "良好", "一般", "不良", "差"
ARREARS = "拖欠"
COMPLETED = "竣工"
STRATEGIC_LEVELS = ("公司主要领导", "联点领导", "营销专员")  # the visit duties of seed 004
MAIN_LEADER, LIAISON_LEADER, SPECIALIST = STRATEGIC_LEVELS
YES_NO = (YES, NO)
HAVE = (HAS, HAS_NOT)
SATISFACTION = (SATISFIED, FAIRLY_SATISFIED, DISSATISFIED)


@dataclass(frozen=True)
class Column:
    """One column of a submission sheet."""

    key: str                      # English identifier used in frames and the archive
    header: str                   # canonical Chinese header written by the template
    kind: str = TEXT
    aliases: tuple[str, ...] = ()
    required: bool = False
    allowed: tuple[str, ...] = ()
    default: str | None = None    # value a blank cell stands for (e.g. 否)
    max_length: int | None = None
    minimum: float | None = None  # lower bound for numbers
    hint: str = ""                # input hint shown in the template
    example: object = None        # value of the example row in 填报说明
    width: float | None = None    # column width in the template (characters)
    multiline: bool = False       # text whose line breaks are kept (notes); elsewhere a break is a slip, removed

    @property
    def number_format(self) -> str | None:
        """Excel number format for this column's cells."""
        return {NUMBER: "#,##0.00", YEAR: "0", DATE: "yyyy-mm-dd",
                DATETIME: "yyyy-mm-dd hh:mm", CODE: "@", PHONE: "@"}.get(self.kind)


def cover_note(column: Column) -> str:
    """What the template writes beside a cover field (its hint, 必填, the choices): never a value of the field
    (a reader that takes the next filled cell to a label must not take it for one)."""
    note = column.hint or ("必填" if column.required else "")
    if column.kind == ENUM:
        note = f"{note}（可选：{'、'.join(column.allowed)}）" if note else f"可选：{'、'.join(column.allowed)}"
    return note


@dataclass(frozen=True)
class Sheet:
    """One sheet of the submission workbook."""

    key: str
    name: str
    columns: tuple[Column, ...]
    aliases: tuple[str, ...] = ()
    description: str = ""
    required: bool = False
    # Conditional requirements: (column key, condition description) pairs are
    # expressed as rules in the validation module, referenced here by code.
    rules: tuple[str, ...] = field(default=())
    # The archive number prefix of a sheet whose rows a pre-filled workbook numbers ("" = not numbered).
    numbered: str = ""

    def column(self, key: str) -> Column:
        for col in self.read_columns:
            if col.key == key:
                return col
        raise KeyError(key)

    @property
    def keys(self) -> list[str]:
        return [c.key for c in self.columns if c.kind != IGNORED]

    @property
    def read_columns(self) -> tuple[Column, ...]:
        """The columns a submission may have: the template's, and 档案编号 in a pre-filled workbook."""
        return (*self.columns, ARCHIVE_NO) if self.numbered else self.columns

    @property
    def read_keys(self) -> list[str]:
        return [c.key for c in self.read_columns if c.kind != IGNORED]


# 档案编号: written by the pre-filled workbook (locked), never by the blank template; a row that carries
# one is that archive row exactly (a customer K000123, a project P000045, a complaint T000012).
ARCHIVE_NO = Column("archive_no", "档案编号", kind=CODE, aliases=("档案号",), width=11,
                    hint="系统填写的档案编号，请勿修改；新增的行留空", example="K000123")


# -- 封面 (cover): label in column A, value in column B -----------------------
COVER = Sheet(
    key="cover",
    name="封面",
    description="填报单位、月份与填报人；A 列为项目，B 列为内容。",
    columns=(
        Column("branch", "填报单位", required=True, aliases=("单位名称", "报送单位"),
               hint="填写集团花名册中的分子公司全称", example="华东分公司"),
        Column("period", "填报月份", required=True, aliases=("报送月份", "月份"),
               hint="如 2026-10、2026年10月", example="2026-10"),
        Column("filler", "填报人", required=True, aliases=("填表人",), example="张明"),
        Column("phone", "联系电话", kind=PHONE, aliases=("电话",), example="021-68881234"),
        Column("filled_on", "填报日期", kind=DATE, aliases=("报送日期",), example="2026-10-24"),
        Column("changed", "本月有无变化", kind=ENUM, allowed=HAVE, default="有",
               aliases=("有无变化", "本月是否有变化"),
               hint="选“无”表示本月无变化，各数据表可为空", example="有"),
    ),
)

# -- 客户信息 (customers) ----------------------------------------------------
CUSTOMERS = Sheet(
    key="customers",
    name="客户信息",
    aliases=("客户信息表", "客户基本信息", "客户名单"),
    required=True,
    description="每个客户一行。",
    rules=("strategic-needs-owners",),
    numbered="K",
    columns=(
        Column("seq", "序号", kind=IGNORED, aliases=("编号",), width=6, example=1),
        Column("name", "客户单位名称", required=True, aliases=("客户名称", "单位名称"),
               max_length=100, width=30, hint="填写营业执照上的全称",
               example="上海浦江城市建设投资有限公司"),
        Column("uscc", "统一社会信用代码", kind=CODE, aliases=("信用代码", "社会信用代码"),
               width=22, hint="18 位，可在国家企业信用信息公示系统查询",
               example="9131011552CL12THXQ"),
        Column("nature", "客户性质", kind=ENUM, required=True, aliases=("客户类型",),
               allowed=("政府类", "社会类", "外资类", "系统内"), example="社会类"),
        Column("industry", "行业类别", aliases=("行业",), example="房地产开发"),
        Column("stage", "客户阶段", kind=ENUM, required=True, aliases=("客户状态",),
               allowed=("潜在客户", "意向客户", "准客户", "签约客户", "已开发客户",
                        "合作伙伴", "投标客户", "跟踪客户"), example="签约客户"),
        Column("strategic", "是否战略客户", kind=ENUM, aliases=("战略客户",),
               allowed=YES_NO, default="否", example="是"),
        Column("address", "单位地址", aliases=("地址",), width=30,
               example="上海市浦东新区世纪大道100号"),
        Column("region", "所在地区", aliases=("地区", "省市"), example="上海市"),
        Column("contact", "联系人", required=True, aliases=("联系人姓名",), example="李华"),
        Column("title", "职务", aliases=("职位",), example="工程部经理"),
        Column("phone", "联系电话", kind=PHONE, required=True, aliases=("电话", "联系方式"),
               width=16, hint="手机 11 位，或带区号的座机（可带分机）", example="13912345678"),
        Column("email", "电子邮箱", kind=EMAIL, aliases=("邮箱", "Email", "E-mail"),
               width=24, example="lihua@pjct.com.cn"),
        Column("relations", "社会关系", multiline=True, width=20, example="市住建委推荐"),
        Column("needs", "客户需求", multiline=True, aliases=("需求",), width=24, example="住宅项目总承包"),
        Column("first_year", "首次合作年份", kind=YEAR, aliases=("合作起始年份",),
               hint="未合作过留空", example=2019),
        Column("integrity", "诚信记录", kind=ENUM, required=True, aliases=("诚信状况",),
               allowed=(GOOD, FAIR, BAD), example=GOOD),
        Column("credit", "资信状况", kind=ENUM, required=True, aliases=("信用状况",),
               allowed=(GOOD, FAIR, POOR), example=GOOD),
        Column("social_value", "社会价值", kind=ENUM, required=True,
               allowed=("高", "中", "低"), example="高"),
        Column("near_term_need", "近期合作需求", kind=ENUM, required=True,
               aliases=("近期需求",), allowed=HAVE, example="有"),
        Column("demanding", "要求苛刻", kind=ENUM, allowed=YES_NO, default="否", example="否"),
        Column("unreasonable_complaints", "无理投诉记录", kind=ENUM, aliases=("无理投诉",),
               allowed=HAVE, default="无", example="无"),
        Column("own_problems", "企业自身问题", kind=ENUM, aliases=("经营风险",),
               allowed=HAVE, default="无", example="无"),
        Column("proposed_grade", "客户等级", kind=ENUM, aliases=("等级", "分类"),
               allowed=("A", "B", "C"), hint="本单位建议的等级", example="A"),
        Column("specialist", "营销专员", hint="战略客户必填", example="王强"),
        Column("liaison_leader", "联点领导", hint="战略客户必填", example="赵总"),
        Column("department", "所属项目部", aliases=("项目部",), width=18,
               example="第一项目经理部"),
        Column("remark", "备注", multiline=True, width=20, example=""),
    ),
)

# The customer reference columns shared by the four dependent sheets.
_CUSTOMER_REF = Column("customer_name", "客户单位名称", required=True,
                       aliases=("客户名称", "单位名称"), max_length=100, width=30,
                       hint="与“客户信息”表中的名称一致",
                       example="上海浦江城市建设投资有限公司")
_CUSTOMER_USCC = Column("customer_uscc", "统一社会信用代码", kind=CODE,
                        aliases=("信用代码", "社会信用代码"), width=22,
                        example="9131011552CL12THXQ")

PROJECTS = Sheet(
    key="projects",
    name="合作项目",
    aliases=("项目信息", "合作项目表", "项目"),
    description="每个项目一行。",
    rules=("amount-from-award", "completion-after-start"),
    numbered="P",
    columns=(
        Column("seq", "序号", kind=IGNORED, aliases=("编号",), width=6, example=1),
        _CUSTOMER_REF,
        _CUSTOMER_USCC,
        Column("project_name", "项目名称", required=True, aliases=("工程名称",), width=30,
               example="浦江华庭住宅小区一期"),
        Column("contract_no", "合同编号", kind=CODE, aliases=("合同号",), width=18,
               hint="集团内唯一", example="HD-2024-0015"),
        Column("project_type", "工程类型", kind=ENUM, required=True, aliases=("项目类型",),
               allowed=("商业", "住宅", "民用", "公共建筑", "工业", "基础设施", "其他"),
               example="住宅"),
        Column("status", "项目状态", kind=ENUM, required=True, aliases=("状态",),
               allowed=("跟踪", "投标", "中标", "在建", "竣工", "结算完成", "终止"),
               example="在建"),
        Column("amount", "合同额（万元）", kind=NUMBER, minimum=0,
               aliases=("合同额", "合同金额", "中标金额"), hint="中标及以后必填",
               example=12800.5),
        Column("cost", "成本（万元）", kind=NUMBER, minimum=0, aliases=("成本", "投入成本"),
               example=11200.0),
        Column("profit", "利润（万元）", kind=NUMBER, aliases=("利润", "毛利"), example=1600.5),
        Column("net_profit", "净利润（万元）", kind=NUMBER, aliases=("净利润", "净利"),
               example=980.25),
        Column("signed_on", "签约日期", kind=DATE, aliases=("中标日期",), example="2024-03-18"),
        Column("started_on", "开工日期", kind=DATE, example="2024-05-06"),
        Column("completed_on", "竣工日期", kind=DATE, hint="不早于开工日期", example=None),
        Column("payment", "付款情况", kind=ENUM, aliases=("回款情况",),
               allowed=("正常", "延迟", "拖欠"), example="正常"),
        Column("department", "所属项目部", aliases=("项目部",), width=18,
               example="第一项目经理部"),
    ),
)

SURVEYS = Sheet(
    key="surveys",
    name="满意度调查",
    aliases=("客户满意度调查", "满意度调查表", "满意度"),
    description="每次调查一行。",
    rules=("dissatisfied-needs-note",),
    columns=(
        Column("seq", "序号", kind=IGNORED, aliases=("编号",), width=6, example=1),
        _CUSTOMER_REF,
        Column("project_name", "项目名称", aliases=("工程名称",), width=30,
               example="浦江华庭住宅小区一期"),
        Column("surveyed_on", "调查日期", kind=DATE, required=True, example="2026-10-12"),
        Column("customer_service", "客户服务", kind=ENUM, required=True,
               allowed=SATISFACTION, example="满意"),
        Column("engineering_quality", "工程质量", kind=ENUM, required=True,
               allowed=SATISFACTION, example="满意"),
        Column("service_quality", "服务质量", kind=ENUM, required=True,
               allowed=SATISFACTION, example="基本满意"),
        Column("after_service", "竣工后服务", kind=ENUM, allowed=SATISFACTION,
               hint="未竣工可留空", example=None),
        Column("dissatisfaction_note", "不满意说明", multiline=True, width=30, hint="任一项不满意时必填",
               example=""),
        Column("surveyor", "调查人", example="陈静"),
    ),
)

COMPLAINTS = Sheet(
    key="complaints",
    name="投诉记录",
    aliases=("客户投诉", "投诉记录表", "投诉"),
    description="每次投诉一行。",
    rules=("response-after-complaint",),
    numbered="T",
    columns=(
        Column("seq", "序号", kind=IGNORED, aliases=("编号",), width=6, example=1),
        _CUSTOMER_REF,
        Column("project_name", "项目名称", aliases=("工程名称",), width=30,
               example="浦江华庭住宅小区一期"),
        Column("complaint_no", "投诉编号", kind=CODE, width=16, hint="本单位内唯一",
               example="TS-2026-007"),
        Column("complained_at", "投诉时间", kind=DATETIME, required=True,
               example="2026-10-08 09:30"),
        Column("complaint_type", "投诉类型", kind=ENUM, required=True,
               allowed=("质量", "进度", "安全", "服务", "其他"), example="质量"),
        Column("content", "投诉内容", multiline=True, required=True, width=30, example="地下室局部渗水"),
        Column("first_response_at", "首次响应时间", kind=DATETIME, hint="应在投诉后 24 小时内",
               example="2026-10-08 15:00"),
        Column("resolved_at", "处理完成时间", kind=DATETIME, hint="未处理完留空",
               example="2026-10-15 17:00"),
        Column("feedback_at", "结果反馈时间", kind=DATETIME, hint="应在处理完成后 48 小时内",
               example="2026-10-16 10:00"),
        Column("unreasonable", "是否无理投诉", kind=ENUM, allowed=YES_NO, example="否"),
        Column("result", "处理结果", multiline=True, width=24, example="已完成防水修补"),
        Column("customer_satisfied", "客户是否满意", kind=ENUM, allowed=YES_NO, example="是"),
    ),
)

VISITS = Sheet(
    key="visits",
    name="拜访记录",
    aliases=("客户拜访", "拜访记录表", "拜访"),
    description="每次拜访或沟通一行。",
    columns=(
        Column("seq", "序号", kind=IGNORED, aliases=("编号",), width=6, example=1),
        _CUSTOMER_REF,
        Column("visited_on", "拜访日期", kind=DATE, required=True, example="2026-10-20"),
        Column("visitor", "拜访人", required=True, example="王强"),
        Column("visitor_level", "拜访人级别", kind=ENUM, required=True,
               allowed=(*STRATEGIC_LEVELS, "项目经理", "其他"),
               example="营销专员"),
        Column("channel", "沟通方式", kind=ENUM, required=True,
               allowed=("上门拜访", "电话沟通", "现场沟通", "技术交流", "客户会议",
                        "客户考察", "其他"), example="上门拜访"),
        Column("summary", "内容摘要", multiline=True, width=36, example="了解二期开发计划"),
    ),
)

COVER_SHEET = COVER
DATA_SHEETS: tuple[Sheet, ...] = (CUSTOMERS, PROJECTS, SURVEYS, COMPLAINTS, VISITS)
ALL_SHEETS: tuple[Sheet, ...] = (COVER, *DATA_SHEETS)
SHEETS_BY_KEY = {s.key: s for s in ALL_SHEETS}

# Names of the template's own auxiliary sheets.
INSTRUCTIONS_SHEET = "填报说明"
LISTS_SHEET = "_lists"

# Title written above the header rows of the template and recognised by the reader.
WORKBOOK_TITLE = "集团公司客户信息统计表"

# A hidden workbook name in a pre-filled workbook: "2027-01|2026-12", the month it is for and the month its rows were
# taken from. Excel, WPS, LibreOffice and openpyxl keep it when they save. Returned for that month, its rows are
# compared with what it showed (the archive as of that month), not with the branch's own last rows: a value the
# branch types back over another branch's change is a change of its own (written by intake.template, read by
# intake.safety.prefill_mark).
PREFILL_MARK = "_crm_prefill"
