"""crm commands of reporting: report."""
from __future__ import annotations

from pathlib import Path

import click

from ..reports import names
from .options import Context, check_period, open_workspace


@click.command()
@click.option("--period", required=True, callback=check_period,
              help="报告期：季度 2026-Q3、半年度 2026-H1、年度 2026 或月份 2026-10。")
@click.option("--for", "branch", metavar="单位",
              help="出具某分子公司的版本：全集团排名 + 本单位客户（不含其他单位的客户和联系人）。")
@click.option("--editions", is_flag=True,
              help="同时出具花名册中每个分子公司的版本（写入 output/<报告期>/分子公司版/，邮件分发时附给各单位）。")
@click.pass_obj
def report(obj: Context, period: str, branch: str | None, editions: bool):
    """出具报告期的客户分级报告（按报告期末的档案状态），写入 output/<报告期>/。

    报告期尚未结束时按本月末的档案出具，并在“说明”页注明是中期数据。
    """
    from ..reports.period import period_report
    with open_workspace(obj, lock=False) as (ws, archive):
        if branch is not None:
            click.echo(f"已生成：{period_report(archive, obj.config, period, ws.output, branch=branch)}")
            return
        click.echo(f"已生成：{period_report(archive, obj.config, period, ws.output)}")
        if editions:
            for name in obj.config.branches:
                path = period_report(archive, obj.config, period, ws.output, branch=name)
            click.echo(f"已生成 {len(obj.config.branches)} 个分子公司版：{path.parent}")


@click.group("strategic")
def strategic_group():
    """战略客户：名单与维护职责。"""


@strategic_group.command("list")
@click.option("--year", type=click.IntRange(2000, 2100), required=True, metavar="年份", help="年度，如 2026。")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="输出文件（默认 output/<年>/战略客户名单_<年>.xlsx）。")
@click.option("--date", "on", type=click.DateTime(formats=["%Y-%m-%d"]), metavar="日期",
              help="按哪一天的情况看（默认今天）：年底前未完成的领导拜访为“待完成”，过了年底为“逾期”。")
@click.pass_obj
def strategic_list(obj: Context, year: int, out: Path | None, on):
    """写出战略客户名单_<年>.xlsx：营销专员、联点领导、等级、本年联系次数，以及各项维护职责的完成情况。"""
    from ..reports.strategic_list import write_strategic_list
    with open_workspace(obj, lock=False) as (ws, archive):
        path, count = write_strategic_list(archive, obj.config, year,
                                           out or names.strategic_list(ws.output, year), on.date() if on else None)
    click.echo(f"{year} 年战略客户 {count} 家。\n已生成：{path}")


COMMANDS = [report, strategic_group]
