"""crm commands of scoring and reporting: grades adjust/apply/changes/lists, report."""
from __future__ import annotations

from pathlib import Path

import click

from .cli import Context, main
from .cli_archive import check_period, open_workspace
from .console import table


def _half(ctx, param, value):
    import re
    if value is None:
        return None
    text = str(value).strip().upper()
    if not re.fullmatch(r"\d{4}-H[12]", text):
        raise click.BadParameter(f"“{value}”不是有效的半年度，请写成 2026-H1 或 2026-H2。")
    return text


@main.group()
def grades():
    """客户分级：规则等级、半年度调整、等级变动与三类客户清单。"""


@grades.command("adjust")
@click.option("--period", required=True, callback=_half, help="半年度，如 2026-H1。")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="输出文件。")
@click.pass_obj
def grades_adjust(obj: Context, period: str, out: Path | None):
    """生成等级调整建议_<半年度>.xlsx：现正式等级 → 规则等级，附评级依据。"""
    from .scoring import write_adjustment_proposal
    with open_workspace(obj, lock=False) as (ws, archive):
        out = out or ws.output / period / f"等级调整建议_{period}.xlsx"
        path, proposal = write_adjustment_proposal(archive, ws.config(), period, out)
    changed = int((proposal["official_grade"] != proposal["rule_grade"]).sum())
    click.echo(f"{period}：{len(proposal)} 家客户，其中 {changed} 家建议调整。\n已生成：{path}")


@grades.command("apply")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--period", callback=_half, help="半年度（默认从文件名读取）。")
@click.pass_obj
def grades_apply(obj: Context, file: Path, period: str | None):
    """应用等级调整建议表中的处理决定（一个事务内完成）。"""
    import re

    from .grading import read_adjustment_decisions
    period = period or (re.search(r"\d{4}-H[12]", file.name) or [None])[0]
    if not period:
        raise click.UsageError("无法从文件名确定半年度，请用 --period 指定，如 2026-H1。")
    rows, findings = read_adjustment_decisions(file, period)
    if findings:
        for f in findings:
            click.echo(f"  {f.cell}  {f.message}", err=True)
        raise click.ClickException("调整表有错误，未作任何改动。")
    with open_workspace(obj) as (ws, archive):
        archive.record_grade_adjustments(rows)
    changed = sum(r["old_grade"] != r["new_grade"] for r in rows)
    click.echo(f"{period}：已记录 {len(rows)} 家客户的正式等级，其中 {changed} 家等级变动。")


@grades.command("changes")
@click.option("--from", "start", required=True, callback=check_period, help="起始月份，如 2026-06。")
@click.option("--to", "end", required=True, callback=check_period, help="截止月份，如 2026-12。")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="另存为 Excel。")
@click.pass_obj
def grades_changes(obj: Context, start: str, end: str, out: Path | None):
    """两个月末之间正式等级的升级与降级，附前后评级依据。"""
    from .scoring import grades_as_of, write_grade_changes
    from .grading import grade_changes
    with open_workspace(obj, lock=False) as (ws, archive):
        config = ws.config()
        changes = grade_changes(grades_as_of(archive, config, start), grades_as_of(archive, config, end))
        if out:
            write_grade_changes(changes, out, f"{start} → {end}")
    rows = [[r.name, r.grade_before, r.grade_after, r.direction, r.reasons_after] for r in changes.itertuples()]
    click.echo(table(["客户", "原等级", "新等级", "变动", "现评级依据"], rows))
    click.echo(f"共 {len(changes)} 家：升级 {(changes['direction'] == '升级').sum()}，"
               f"降级 {(changes['direction'] == '降级').sum()}。")


@grades.command("lists")
@click.option("--as-of", "as_of", required=True, callback=check_period, help="月末，如 2026-12。")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="输出文件。")
@click.pass_obj
def grades_lists(obj: Context, as_of: str, out: Path | None):
    """A / B / C 三类客户清单（正式等级），另列分公司建议等级与规则等级不一致者。"""
    from .scoring import write_grade_lists
    with open_workspace(obj, lock=False) as (ws, archive):
        out = out or ws.output / as_of / f"客户分级清单_{as_of}.xlsx"
        path, counts = write_grade_lists(archive, ws.config(), as_of, out)
    click.echo(f"{as_of}：A 类 {counts['A']} 家，B 类 {counts['B']} 家，C 类 {counts['C']} 家。\n已生成：{path}")


@main.command()
@click.option("--period", required=True,
              help="报告期：季度 2026-Q3、半年度 2026-H1、年度 2026 或月份 2026-10。")
@click.pass_obj
def report(obj: Context, period: str):
    """出具报告期的客户分级报告（按报告期末的档案状态），写入 output/<报告期>/。"""
    from .periods import PeriodError
    from .reports.period import ReportError, period_report
    with open_workspace(obj, lock=False) as (ws, archive):
        try:
            path = period_report(archive, ws.config(), period, ws.output)
        except (PeriodError, ReportError) as exc:
            raise click.ClickException(str(exc)) from None
    click.echo(f"已生成：{path}")
