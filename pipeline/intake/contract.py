"""The submission contract as text: what each sheet and column of the workbook means, from the dictionary.

The README's section 《报送格式》 is this text (a test keeps them equal; after
changing the column dictionary run ``python -m pipeline.intake.contract`` and
paste its output between the README's markers).
"""
from __future__ import annotations

from schemas.columns import COVER, DATA_SHEETS, ENUM, IGNORED, WORKBOOK_TITLE, Column, Sheet

from .template import INSTRUCTIONS, KIND_NAMES

BEGIN, END = "<!-- 报送格式：以下由 python -m pipeline.intake.contract 生成 -->", "<!-- 报送格式：生成内容结束 -->"


def _format(column: Column) -> str:
    if column.kind == ENUM:
        text = "、".join(column.allowed)
        return text + (f"（空白视为“{column.default}”）" if column.default else "")
    return KIND_NAMES.get(column.kind, "文本")


def _table(sheet: Sheet) -> list[str]:
    lines = ["| 列名 | 也可写作 | 必填 | 可选值 / 格式 | 说明 |", "|---|---|---|---|---|"]
    for column in sheet.columns:
        if column.kind == IGNORED and sheet.key != "customers":
            continue
        aliases = "、".join(column.aliases) or ""
        hint = column.hint or ""
        if column.max_length:
            hint = f"{hint}；不超过 {column.max_length} 字".lstrip("；")
        lines.append(f"| {column.header} | {aliases} | {'是' if column.required else ''} | "
                     f"{_format(column)} | {hint} |")
    return lines


def contract_markdown(deadline_day: int = 25) -> str:
    """The whole contract: the rules of the instructions sheet, then every sheet's columns."""
    out = [BEGIN, "", f"每月报送一份《{WORKBOOK_TITLE}》（`crm template` 生成空白模板）。填报规则：", ""]
    out += [f"- {line.format(deadline_day=deadline_day)}" for line in INSTRUCTIONS]
    out += ["", f"### 工作表“{COVER.name}”", "", COVER.description, ""] + _table(COVER)
    for sheet in DATA_SHEETS:
        names = f"（也可命名为：{'、'.join(sheet.aliases)}）" if sheet.aliases else ""
        required = "必需的工作表。" if sheet.required else "没有内容时可以删除或留空。"
        out += ["", f"### 工作表“{sheet.name}”{names}", "", f"{sheet.description}{required}", ""]
        out += _table(sheet)
    out += ["", END]
    return "\n".join(out)


if __name__ == "__main__":
    print(contract_markdown())
