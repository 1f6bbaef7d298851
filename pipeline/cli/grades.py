"""crm commands of grading: grades adjust/apply/changes/lists."""
from __future__ import annotations

import re
from pathlib import Path

import click

from schemas.labels import DOWNGRADE, UPGRADE, label

from .console import table
from ..reports import names
from .options import (Context, check_half, check_month, open_workspace, out_option, output_path,
                      unfinished_half)


@click.group()
def grades():
    """客户分级：规则等级、半年度调整、等级变动与三类客户清单。"""


@grades.command("adjust")
@click.option("--period", required=True, callback=check_half, help="半年度，如 2026-H1。")
@click.option("--force", is_flag=True, help="半年度尚未结束时也生成（按目前的数据）。")
@out_option("输出文件。")
@click.pass_obj
def grades_adjust(obj: Context, period: str, force: bool, out: Path | None):
    """生成等级调整建议_<半年度>.xlsx：现正式等级 → 规则等级，附评级依据。"""
    from ..analysis.adjustment import write_adjustment_proposal
    unfinished_half(period, force, "调整等级")
    with open_workspace(obj, lock=False) as (ws, archive):
        out = output_path(out, ws.output / period / f"等级调整建议_{period}.xlsx")
        path, proposal = write_adjustment_proposal(archive, obj.config, period, out)
    changed = int((proposal["official_grade"] != proposal["rule_grade"]).sum())
    click.echo(f"{period}：{len(proposal)} 家客户，其中 {changed} 家建议调整。\n已生成：{path}")


@grades.command("apply")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path), metavar="调整表")
@click.option("--period", callback=check_half, help="半年度（默认从文件名读取）。")
@click.pass_obj
def grades_apply(obj: Context, file: Path, period: str | None):
    """应用等级调整建议表中的处理决定（一个事务内完成）。"""
    from ..analysis.adjustment import archive_proposal, read_adjustment_decisions
    period = period or (re.search(r"\d{4}-H[12]", file.name) or [None])[0]
    if not period:
        raise click.UsageError("无法从文件名确定半年度，请用 --period 指定，如 2026-H1。")
    with open_workspace(obj) as (ws, archive):
        rows, findings, notes = read_adjustment_decisions(file, period, archive_proposal(archive, obj.config, period))
        if findings:
            for f in findings:
                click.echo(f"  {f.cell}  {f.message}", err=True)
            raise click.ClickException("调整表有错误，未作任何改动。")
        replaced = len(archive.grade_adjustments([period]))
        archive.record_grade_adjustments(rows, replacing=period)
    for note in notes:
        click.echo(note)
    changed = sum(r["old_grade"] != r["new_grade"] for r in rows)
    click.echo(f"{period}：已记录 {len(rows)} 家客户的正式等级，其中 {changed} 家等级变动"
               + (f"（取代此前记录的本半年度 {replaced} 条决定）。" if replaced else "。"))


@grades.command("changes")
@click.option("--from", "start", required=True, callback=check_month, help="起始月份，如 2026-06。")
@click.option("--to", "end", required=True, callback=check_month, help="截止月份，如 2026-12。")
@out_option("另存为 Excel。")
@click.pass_obj
def grades_changes(obj: Context, start: str, end: str, out: Path | None):
    """两个月末之间正式等级的升级与降级，附前后评级依据。"""
    if start > end:
        raise click.UsageError(f"起始月份 {start} 晚于截止月份 {end}：请把较早的月份写在 --from。")
    from ..analysis.grading import grade_changes, grades_as_of
    from ..reports.grade_lists import write_grade_changes
    with open_workspace(obj, lock=False) as (ws, archive):
        changes = grade_changes(grades_as_of(archive, obj.config, start),
                                grades_as_of(archive, obj.config, end))
        if out:
            write_grade_changes(changes, out, f"{start} → {end}")
    rows = [[r.name, r.grade_before, r.grade_after, r.direction, r.reasons_after] for r in changes.itertuples()]
    click.echo(table([label(k) for k in ("name", "grade_before", "grade_after", "direction", "reasons_after")],
                     rows))
    click.echo(f"共 {len(changes)} 家：升级 {(changes['direction'] == UPGRADE).sum()}，"
               f"降级 {(changes['direction'] == DOWNGRADE).sum()}。")


@grades.command("lists")
@click.option("--as-of", "as_of", required=True, callback=check_month, help="月末，如 2026-12。")
@click.option("--for", "branch", metavar="单位", help="某分子公司的版本：只含本单位的客户。")
@out_option("输出文件。")
@click.pass_obj
def grades_lists(obj: Context, as_of: str, branch: str | None, out: Path | None):
    """A / B / C 三类客户清单（正式等级），另列分公司建议等级与规则等级不一致者。"""
    from ..reports.grade_lists import write_grade_lists
    if branch is not None and branch not in obj.config.branches:
        raise click.UsageError(f"“{branch}”不在花名册中（{'、'.join(obj.config.branches)}）。")
    suffix = f"_{branch}" if branch else ""
    with open_workspace(obj, lock=False) as (ws, archive):
        out = output_path(out, names.grade_lists(ws.output, as_of, suffix))
        path, counts = write_grade_lists(archive, obj.config, as_of, out, branch=branch)
    click.echo(f"{as_of}：A 类 {counts['A']} 家，B 类 {counts['B']} 家，C 类 {counts['C']} 家。\n已生成：{path}")


COMMANDS = [grades]
