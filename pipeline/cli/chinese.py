"""click's own words (usage, errors, help) in Chinese.

click looks its messages up through ``gettext``; ``install`` replaces that
lookup in click's modules with this table, so “Error:”, “Usage:” and “Show
this message and exit.” never reach a user in English. A message missing here
falls back to click's English text.
"""
from __future__ import annotations

import importlib
import re

MESSAGES = {
    "Error: {message}": "错误：{message}",
    "Usage:": "用法：",
    "Options": "选项",
    "Commands": "命令",
    "Positional arguments": "参数",
    "Show this message and exit.": "显示本帮助并退出。",
    "Show the version and exit.": "显示版本并退出。",
    "Try '{command} {option}' for help.": "运行 “{command} {option}” 查看帮助。",
    "Missing argument": "缺少参数",
    "Missing option": "缺少选项",
    "Missing parameter": "缺少参数",
    "Missing parameter: {param_name}": "缺少参数：{param_name}",
    "Missing {param_type}": "缺少{param_type}",
    "Missing command.": "缺少命令。",
    "No such command {name!r}.": "没有命令 {name!r}。",
    "No such option {name!r}.": "没有选项 {name!r}。",
    "No such option: {name}": "没有选项：{name}",
    "Option {name!r} does not take a value.": "选项 {name!r} 不需要值。",
    "Invalid value for {param_hint}: {message}": "{param_hint} 的值无效：{message}",
    "Invalid value: {message}": "值无效：{message}",
    "Argument {name!r} takes {nargs} values.": "参数 {name!r} 需要 {nargs} 个值。",
    "Invalid start character for option ({option})": "选项的起始字符无效（{option}）",
    "Aborted!": "已中止。",
    "{name} {filename!r} does not exist.": "{name} {filename!r} 不存在。",
    "{name} {filename!r} is a file.": "{name} {filename!r} 是文件，应为文件夹。",
    "{name} {filename!r} is a directory.": "{name} {filename!r} 是文件夹，应为文件。",
    "{name} {filename!r} is not readable.": "{name} {filename!r} 不可读取。",
    "{name} {filename!r} is not writable.": "{name} {filename!r} 不可写入。",
    "{name} {filename!r} is not executable.": "{name} {filename!r} 不可执行。",
    "file": "文件",
    "directory": "文件夹",
    "path": "路径",
    "Choose from:\n\t{choices}": "可选：\n\t{choices}",
    "{value!r} is not a valid {number_type}.": "{value!r} 不是有效的{number_type}。",
    "{value} is not in the range {range}.": "{value} 不在范围 {range} 内。",
    "integer": "整数",
    "float": "数字",
    "default: {default}": "默认：{default}",
    "env var: {var}": "环境变量：{var}",
    "required": "必填",
    "(deprecated)": "（已停用）",
    "Could not open file {filename!r}: {message}": "无法打开文件 {filename!r}：{message}",
}
PLURALS = {
    "Got unexpected extra argument ({args})": "多余的参数（{args}）",
    "Got unexpected extra arguments ({args})": "多余的参数（{args}）",
    "Did you mean {possibility}?": "是否应为 {possibility}？",
    "(Did you mean one of: {possibilities}?)": "（是否应为以下之一：{possibilities}？）",
    "Option {name!r} requires an argument.": "选项 {name!r} 需要一个值。",
    "Option {name!r} requires {nargs} arguments.": "选项 {name!r} 需要 {nargs} 个值。",
    "Takes {nargs} values but 1 was given.": "需要 {nargs} 个值，但只给了 1 个。",
    "Takes {nargs} values but {len} were given.": "需要 {nargs} 个值，但给了 {len} 个。",
    "{value!r} is not one of {choices}.": "{value!r} 不是可选值（可选：{choices}）。",
    "{value!r} is not {choice}.": "{value!r} 不是可选值（只能是 {choice}）。",
    # click.DateTime: every date option here takes YYYY-MM-DD
    "{value!r} does not match the format {format}.": "{value!r} 不是有效日期，请写成 2026-07-05 这样的年-月-日。",
    "{value!r} does not match the formats {formats}.": "{value!r} 不是有效日期，请写成 2026-07-05 这样的年-月-日。",
}
_MODULES = ("core", "exceptions", "decorators", "types", "formatting", "parser", "termui", "utils")


def gettext(message: str) -> str:
    return MESSAGES.get(message, message)


def ngettext(singular: str, plural: str, count: int) -> str:
    text = singular if count == 1 else plural
    return PLURALS.get(text, text)


OPTIONS_METAVAR = "[选项]"
SUBCOMMAND_METAVAR = "命令 [参数…]"


def localise(command) -> None:
    """The usage line's placeholders in Chinese, for a command and all its subcommands."""
    import click

    from . import options
    names = {options.check_month: "月份", options.check_half: "半年度", options.check_period: "报告期",
             options.check_received: "时间"}
    command.options_metavar = OPTIONS_METAVAR
    for param in command.params:
        if isinstance(param, click.Option) and param.metavar is None and param.type is click.STRING:
            param.metavar = names.get(param.callback, "文字")
    if hasattr(command, "commands"):
        command.subcommand_metavar = SUBCOMMAND_METAVAR
        for sub in command.commands.values():
            localise(sub)


def _formatter():
    """click's help formatter with Chinese punctuation: “选项：” and “用法：crm …” (click adds an ASCII colon to
    headings and a space after “Usage:”)."""
    import click

    class Formatter(click.HelpFormatter):
        def write_heading(self, heading: str) -> None:
            self.write(f"{'':>{self.current_indent}}{heading}：\n")

        def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
            super().write_usage(prog, args, MESSAGES["Usage:"] if prefix is None else prefix)

    return Formatter


def _punctuated(format_message):
    """An error message with Chinese punctuation: click quotes names as '--period' and ends a missing option's
    message with an ASCII full stop; here they are “--period” and “。”, with no space after a “。”."""
    def chinese(self) -> str:
        text = _QUOTED.sub(r"“\1”", format_message(self))
        if text.startswith(MESSAGES["Missing option"][:2]):
            text = text.replace(".", "。", 1)
        return _SPACE.sub("", text.replace("。 ", "。"))
    chinese.original = format_message
    return chinese


_QUOTED = re.compile(r"'([^'\s][^']*)'")
_SPACE = re.compile(r"(?<=[\u4e00-\u9fff]) (?=“)|(?<=”) (?=[\u4e00-\u9fff])")  # none between Chinese and “…”


def install() -> None:
    """Make click speak Chinese (idempotent); run before any command is defined."""
    import click
    click.Context.formatter_class = _formatter()
    for error in vars(click.exceptions).values():
        if isinstance(error, type) and issubclass(error, click.ClickException) and "format_message" in vars(error):
            error.format_message = _punctuated(getattr(error.format_message, "original", error.format_message))
    for name in _MODULES:
        try:
            module = importlib.import_module(f"click.{name}")
        except ImportError:
            continue
        if hasattr(module, "_"):
            module._ = gettext
        if hasattr(module, "ngettext"):
            module.ngettext = ngettext
