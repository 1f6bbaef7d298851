"""crm commands of reporting: report."""
from __future__ import annotations

import click

from .options import Context, check_period, open_workspace


@click.command()
@click.option("--period", required=True, callback=check_period,
              help="报告期：季度 2026-Q3、半年度 2026-H1、年度 2026 或月份 2026-10。")
@click.pass_obj
def report(obj: Context, period: str):
    """出具报告期的客户分级报告（按报告期末的档案状态），写入 output/<报告期>/。"""
    from ..reports.period import period_report
    with open_workspace(obj, lock=False) as (ws, archive):
        path = period_report(archive, obj.config, period, ws.output)
    click.echo(f"已生成：{path}")


COMMANDS = [report]
