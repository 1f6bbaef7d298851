"""Findings: what is wrong with a submission, as records with a fixed set of codes."""
from __future__ import annotations

from dataclasses import asdict, dataclass

ERROR = "error"
WARNING = "warning"

# code -> (severity, Chinese message template). Each template says how to fix it.
# Placeholders: {column} header, {value} cell value, {allowed} allowed values,
# {detail} code-specific detail.
CODES: dict[str, tuple[str, str]] = {
    # files
    "not-a-workbook": (ERROR, "文件已损坏或不是用 Excel/WPS 保存的工作簿（{detail}）。请用《集团公司客户信息统计表》模板重新填写，另存为 .xlsx 后重新报送。"),
    "empty-file": (ERROR, "文件是空的（0 字节），可能是邮件附件没有下载完整。请重新发送该文件。"),
    "encrypted-workbook": (ERROR, "工作簿设置了打开密码，无法读取。请取消密码（文件→信息→保护工作簿）后重新报送。"),
    "csv-not-accepted": (ERROR, "收到的是 CSV 文本文件。请使用《集团公司客户信息统计表》模板（.xlsx）填报。"),
    "ods-not-accepted": (ERROR, "收到的是 OpenDocument 表格（.ods），不是 Excel 工作簿。请在 WPS 或 LibreOffice 中用“另存为”保存成 Excel 工作簿（.xlsx），再重新报送。"),
    "macro-workbook": (WARNING, "工作簿含宏（.xlsm），已只读取数据、忽略宏。今后请另存为 .xlsx 报送。"),
    "unsafe-workbook": (ERROR, "文件无法安全打开：{detail}。请用 Excel 或 WPS 打开后“另存为”一个新的 .xlsx 文件再报送；仍不行时请用模板重新填写。"),
    "too-many-cells": (ERROR, "工作表“{sheet}”的使用范围达到 {detail}，远超正常表格，多半是在远处的单元格误留了内容。请选中数据下方和右侧多余的行、列删除后保存，再重新报送。"),
    "too-many-rows": (ERROR, "工作表“{sheet}”超过 {detail} 行上限。请检查是否有大量空行或误粘贴的数据，删除后重新报送。"),
    "no-known-sheet": (ERROR, "工作簿中没有可识别的工作表（应有“客户信息”等工作表）。请使用《集团公司客户信息统计表》模板填报。"),
    "duplicate-sheet": (WARNING, "工作簿中有两个“{value}”工作表，已读取{detail}，忽略“{sheet}”。请删除多余的一个，以免填错位置。"),
    "missing-sheet": (ERROR, "缺少必需的工作表“{sheet}”。请按模板补上该工作表。"),
    "ignored-file": (WARNING, "已忽略：{detail}。"),
    "document-name": (ERROR, "文件名{detail}。请按“单位名称_年份-H1或H2_文件名称”命名，如“华东分公司_2026-H1_客户分析报告.docx”，然后重新发送。"),
    "read-failed": (ERROR, "读取工作簿时出错（{detail}）。请用 Excel 打开并另存为 .xlsx 后重新报送。"),
    "internal-error": (ERROR, "处理该文件时出现意外错误（{detail}）。文件已退回：请用 Excel 或 WPS 打开后另存为新的 .xlsx 再报送；仍出现此提示时请联系市场营销部。"),
    "no-rows": (WARNING, "封面“本月有无变化”为“有”，但各数据表中没有读到任何数据行。本月确无变化时请在封面选“无”；否则请检查数据是否填在表头下方。"),
    # headers
    "header-not-found": (ERROR, "工作表“{sheet}”中找不到表头行。请保留模板的表头（如“{detail}”）。"),
    "missing-column": (ERROR, "工作表“{sheet}”缺少必填列“{column}”。请按模板补上该列。"),
    "unknown-column": (WARNING, "列“{value}”不是模板中的列，已忽略。如需报送该信息，请填在“备注”列。"),
    "duplicate-column": (ERROR, "列“{column}”出现了两次。请删除多余的一列。"),
    # cover / identity
    "cover-said-no-change": (WARNING, "封面“本月有无变化”选了“无”，但表中有变化（{detail}），已按实际内容入库，"
                                      "报送状态不记为“无变化”。请提醒填报人如实选择。"),
    "filled-ahead": (WARNING, "封面“{column}”为 {value}，晚于收到本文件的日期（{detail}），应是笔误：已不按它判断"
                              "本月几份文件的先后。请核对后下次改正。"),
    "cover-no-filler": (WARNING, "封面没有“填报人”一栏。请使用模板的封面，填写填报人和联系电话，以便市场营销部核对数据时联系。"),
    "cover-bad-phone": (WARNING, "封面联系电话“{value}”格式不正确{detail}，市场营销部需要时联系不上填报人。"
                                 "请填写 11 位手机号，或带区号的座机号（如 021-68881234）。"),
    "no-cover": (WARNING, "文件中没有“封面”工作表，填报单位和月份取自{detail}。请下次使用模板的封面，并填写填报人。"),
    "missing-cover": (ERROR, "文件中没有“封面”工作表，看不出是哪个单位、哪个月的报送。请从模板复制“封面”表，填写填报单位、"
                             "填报月份和填报人后重报。"),
    "missing-branch": (ERROR, "无法确定填报单位。请在“封面”表填写“填报单位”。"),
    "missing-period": (ERROR, "无法确定填报月份。请在“封面”表填写“填报月份”（如 2026-10）。"),
    "bad-period": (ERROR, "填报月份“{value}”无法识别。请填写如 2026-10 或 2026年10月。"),
    "source-conflict": (ERROR, "{detail}不一致：{value}。请统一后重新报送。"),
    "period-ahead": (ERROR, "填报月份 {value} 还没有开始，文件却在 {detail} 就已收到。请把封面“填报月份”改为本次报送的月份后重报。"),
    "unknown-branch": (ERROR, "填报单位“{value}”不在集团分子公司名单中（{allowed}）。请填写名单中的全称。"),
    # cells
    "required": (ERROR, "“{column}”为必填项，不能为空。请补充。"),
    "not-allowed": (ERROR, "“{column}”的值“{value}”不在可选范围内。可选：{allowed}。"),
    "bad-number": (ERROR, "“{column}”的值“{value}”不是有效数字。请填写数字（单位：万元），如 1234.5。"),
    "amount-too-large": (ERROR, "“{column}”的值“{value}”超出合理范围（上限 {detail} 万元）。请核对金额和单位（万元）。"),
    "negative-number": (ERROR, "“{column}”不能为负数（当前为 {value}）。请核对。"),
    "unknown-customer-id": (ERROR, "“{column}”的值“{value}”不是档案中的客户编号。请不要修改这一列（复制出来的行请删除），或重新运行 crm grades adjust 生成调整表。"),
    "duplicate-customer-row": (ERROR, "客户编号 {value} 有两行（另见第 {detail} 行）。请删除多余的一行。"),
    "grade-not-archived": (ERROR, "“{column}”为“{value}”，档案中该客户的这一等级是“{detail}”：表中的等级被改动过，或调整表生成后档案又有变化。请重新运行 crm grades adjust 生成调整表，在“处理决定”列作出决定。"),
    "review-merged": (ERROR, "这一对客户已于 {detail} 合并为一家，合并后不能再更改（本行为“{value}”）。"
                             "如确属不同客户，请联系系统维护人员拆分；否则请把本行改回原来的决定或“待定”。"),
    "review-unknown-pair": (ERROR, "客户编号“{value}”不是导出的一对疑似重复客户。请不要修改客户编号；"
                                   "如行被改乱了，请重新运行 crm review export 导出后再填写。"),
    "review-twice": (ERROR, "这一对客户在第 {detail} 行已有不同的决定。同一对客户只能有一个决定：请删除或改正其中一行。"),
    "bad-score": (ERROR, "“{column}”的值“{value}”不是 0 到 100 之间的数。请填写 0–100 的数，如 85 或 92.5。"),
    "formula-error": (ERROR, "“{column}”的公式计算出错（{value}），读不出值。请改正公式，或直接填写数值。"),
    "formula-no-result": (ERROR, "“{column}”是公式，但文件中没有保存计算结果（可能不是用 Excel/WPS 保存的）。"
                                 "请用 Excel 或 WPS 打开、保存后再报送，或直接填写数值。"),
    "bad-date": (ERROR, "“{column}”的值“{value}”不是有效日期。请填写如 2026-03-05 或 2026年3月5日。"),
    "bad-year": (ERROR, "“{column}”的值“{value}”不是有效年份。请填写 1949 年至今年之间的四位年份。"),
    "too-long": (ERROR, "“{column}”超过 {detail} 个字符。请精简。"),
    "bad-uscc": (ERROR, "统一社会信用代码“{value}”{detail}。请核对营业执照上的 18 位代码。"),
    "uscc-as-number": (ERROR, "统一社会信用代码被存成了数字（读出为“{value}”）：数字格式的单元格只保留 15 位有效数字，"
                              "后几位已经变了。请把该单元格设为文本格式，再照营业执照重新输入 18 位代码。"),
    "missing-uscc": (WARNING, "未填写统一社会信用代码，将按名称匹配客户。建议补充 18 位代码。"),
    "phone-lost-zero": (ERROR, "联系电话“{value}”像是丢了区号开头 0 的座机号（单元格是数字格式时 Excel 会去掉它）。"
                               "请把该单元格设为文本格式，再填写带区号的号码，如 021-68881234。"),
    "bad-phone": (ERROR, "联系电话“{value}”格式不正确。请填写 11 位手机号，或带区号的座机号（如 021-68881234，可带分机）。"),
    "bad-email": (ERROR, "电子邮箱“{value}”格式不正确。请填写如 name@example.com。"),
    "date-order": (ERROR, "“{column}”（{value}）早于“{detail}”。请核对日期。"),
    "conditional-required": (ERROR, "“{column}”为必填项：{detail}。请补充。"),
    "duplicate-row": (ERROR, "“{column}”为“{value}”的记录重复出现（另见第 {detail} 行）。请合并或删除重复行。"),
    "customer-code-name-mismatch": (WARNING, "本行客户名称为“{detail[0]}”，但信用代码 {value} 是本表“客户信息”第 "
                                             "{detail[1]} 行“{detail[2]}”的。档案按信用代码归类，本行将记在“{detail[2]}”名下；"
                                             "如不对，请改正本行的信用代码或客户名称。"),
    "date-after-report": (ERROR, "“{column}”为 {value}，晚于本次报送（{detail}）。请核对年份和月份。"),
    "date-after-report-planned": (WARNING, "“{column}”为 {value}，晚于本次报送（{detail}）。请核对年份和月份；"
                                           "如为计划日期可忽略。"),
    "unknown-customers": (WARNING, "本表有 {value} 行的客户不在客户档案中，而“客户信息”表没有填写（从这一行起）。"
                                   "请在“客户信息”表填写这些客户；若本月确实没有客户信息变化，可忽略。"),
    "unknown-customer": (WARNING, "客户“{value}”不在本表“客户信息”中。若为已建档客户可忽略，否则请在“客户信息”表补充该客户。"),
    "unknown-department": (WARNING, "项目部“{value}”不在本单位的项目经理部名单中（{allowed}）。请核对名称，或请市场营销部更新 crm.toml。"),
    "no-response": (WARNING, "投诉一直没有“{column}”，已超过规定时限 {detail}。请尽快答复客户，并在下次报送时补填响应时间。"),
    "late-response": (WARNING, "“{column}”超过规定时限（{detail}）。请核实处理情况。"),
    # archive numbers of a pre-filled workbook
    "bad-archive-no": (ERROR, "档案编号“{value}”格式不正确（应为 {detail}）。档案编号由系统填写，请勿修改；"
                              "新增的行请留空。"),
    "duplicate-archive-no": (ERROR, "档案编号“{value}”出现了两次（另见第 {detail} 行）。每个编号只对应一行："
                                    "可能是把某一行的编号复制到了另一行，请把新增行的编号清空。"),
    "unknown-archive-no": (ERROR, "档案编号“{value}”在客户档案中不存在。请不要自行填写或修改档案编号；"
                                  "新增的行请留空。"),
    "foreign-archive-no": (ERROR, "档案编号“{value}”不属于本单位（是其他单位的档案）。可能是从别的表格复制来的："
                                  "请清空该编号后重报，系统会按信用代码和名称匹配。"),
}


@dataclass
class Finding:
    """One thing wrong with a submission, located as precisely as it can be."""

    file: str
    code: str
    sheet: str = ""
    cell: str = ""          # e.g. 客户信息!C5
    row: int | None = None  # Excel row number, 1-based
    column: str = ""        # header as the user sees it
    value: str = ""
    severity: str = ERROR
    message: str = ""

    def as_dict(self) -> dict:
        return asdict(self)


def make_finding(code: str, file: str, *, sheet: str = "", row: int | None = None,
                 col_letter: str = "", column: str = "", value: object = "",
                 allowed: tuple | list = (), detail: object = "") -> Finding:
    """Build a finding from its code, filling the message template."""
    severity, template = CODES[code]
    text_value = "" if value is None else _show(value)
    message = template.format(column=column, value=text_value, sheet=sheet,
                              allowed="、".join(map(str, allowed)), detail=detail)
    cell = f"{sheet}!{col_letter}{row}" if sheet and col_letter and row else ""
    return Finding(file=file, code=code, sheet=sheet, cell=cell, row=row, column=column,
                   value=text_value, severity=severity, message=message)


def _show(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if hasattr(value, "strftime"):
        text = value.strftime("%Y-%m-%d %H:%M")
        return text[:-6] if text.endswith(" 00:00") else text
    return str(value)


def has_errors(findings: list[Finding]) -> bool:
    return any(f.severity == ERROR for f in findings)


def has_finding(findings: list[Finding], code: str, column: str) -> bool:
    """Whether one of ``findings`` is a ``code`` about the column headed ``column`` (one slip is told once)."""
    return any(f.code == code and f.column == column for f in findings)
