"""crm commands of the half-yearly branch assessment: assess, assess apply."""
from __future__ import annotations

from pathlib import Path

import click

from schemas.labels import ASSESSMENT_RESULTS, DEPARTMENT, label

from .console import table
from ..reports import names
from .options import Context, check_half, open_workspace, output_path, unfinished_half


@click.group("assess", invoke_without_command=True)
@click.option("--period", callback=check_half, help="半年度，如 2026-H1。")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path),
              help="输出文件（默认 output/<半年度>/客户关系维护成效考核_<半年度>.xlsx）。")
@click.option("--force", is_flag=True, help="半年度尚未结束时也考核（按目前的数据）。")
@click.pass_context
def assess(ctx, period: str | None, out: Path | None, force: bool):
    """分子公司客户关系维护成效考核：生成考核表（五项指标、得分、建议结果），由市场营销部核定后 crm assess apply。"""
    if ctx.invoked_subcommand is not None:
        return
    if not period:
        raise click.UsageError("请用 --period 指定半年度，如 crm assess --period 2026-H1。")
    unfinished_half(period, force, "对各单位打分")
    from ..analysis.assessment import decided
    from ..reports.assessment import bulletin_frame, write_assessment_workbook, write_bulletin
    obj: Context = ctx.obj
    with open_workspace(obj, lock=False) as (ws, archive):
        results = decided(archive, obj.config, period)  # once recorded, as decided: made again, it changes nothing
        recorded = archive.assessments(period)
        path = write_assessment_workbook(results, obj.config, period, output_path(
            out, names.assessment_workbook(ws.output, period)))
        bulletin = write_bulletin(bulletin_frame(results, recorded), period,
                                  names.bulletin(ws.output, period), official=len(recorded) > 0)
    official = len(recorded) > 0
    click.echo(_summary(results, period, official=official))
    if official:
        click.echo(f"{period} 的考核结果已于 {str(recorded['decided_at'].max())[:10]} 记录：考核表与通报按记录的结果生成；"
                   "要改变结果，改好考核表后再运行 crm assess apply。")
    state = "正式结果" if official else label("proposed", "assessment")
    click.echo(f"考核表：{path}\n考核通报（{state}）：{bulletin}")


@assess.command("apply")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path), metavar="考核表")
@click.option("--notified", required=True, type=click.DateTime(formats=["%Y-%m-%d"]), metavar="日期",
              help="向各单位通报结果的日期，如 2026-07-05（工作总结与暂停查询从这一天起算）。")
@click.option("--by", "decided_by", default=DEPARTMENT, show_default=True, help="核定人。")
@click.option("--period", callback=check_half, help="半年度（默认从文件名读取）。")
@click.option("--force", is_flag=True, help="半年度尚未结束时也记录结果。")
@click.pass_obj
def assess_apply(obj: Context, file: Path, notified, decided_by: str, period: str | None, force: bool):
    """记录考核表中的最终结果及其后果：合格、差须一周内交工作总结，差的单位暂停查询档案一个月。"""
    import re

    from ..analysis.assessment import apply_decisions, records
    from ..reports.assessment import bulletin_frame, read_assessment_decisions, write_bulletin
    period = period or (re.search(r"\d{4}-H[12]", file.name) or [None])[0]
    if not period:
        raise click.UsageError("无法从文件名确定半年度，请用 --period 指定，如 2026-H1。")
    unfinished_half(period, force, "记录考核结果")
    decisions, findings = read_assessment_decisions(file)
    if findings:
        for f in findings:
            click.echo(f"  {f.cell}  {f.message}", err=True)
        raise click.ClickException("考核表有错误，未作任何改动。")
    unknown = sorted(set(decisions) - set(obj.config.branches))
    if unknown:
        raise click.ClickException(f"考核表中的“{'、'.join(unknown)}”不在花名册中，未作任何改动。")
    with open_workspace(obj) as (ws, archive):
        earlier = archive.assessments(period)
        results = apply_decisions(archive, obj.config, period, decisions, notified.date())
        archive.record_assessment(records(results, period), decided_by)
        bulletin = write_bulletin(bulletin_frame(results, archive.assessments(period)), period,
                                  names.bulletin(ws.output, period), official=True)
    click.echo(_summary(results, period, official=True))
    if len(earlier):
        click.echo(f"已替换 {str(earlier['decided_at'].max())[:10]} 记录的 {period} 考核结果。")
    absent = [b for b in results["branch"] if b not in decisions]
    if absent:
        click.echo(f"考核表中没有{'、'.join(absent)}的行：按建议结果记录。")
    differ = results[results["result"] != results["proposed"]]
    if len(differ):  # decided against the total: said once more, in case a stale cell decided it
        click.echo("以下单位的最终结果不是按总分得出的建议结果（以考核表中填写的为准）：" + "；".join(
            f"{r.branch}：{label('total', 'assessment')} {r.total:.1f}，建议“{r.proposed}”，填写“{r.result}”"
            for r in differ.itertuples()) + "。")
    owed = results[results["summary_due"].notna()]
    if len(owed):
        click.echo(f"须在 {owed['summary_due'].iloc[0]} 前提交工作总结：{'、'.join(owed['branch'])}")
    poor = results[results["suspended_until"].notna()]
    for r in poor.itertuples():
        click.echo(f"{r.branch} 暂停查询客户档案：{r.suspended_from} 至 {r.suspended_until}")
    click.echo(f"考核通报：{bulletin}")


def _summary(results, period: str, official: bool = False) -> str:
    rows = [[r.rank, r.branch, f"{r.total:.1f}", r.proposed, r.result] for r in
            results.sort_values(["total", "branch"], ascending=[False, True]).itertuples()]
    counts = "，".join(f"{k} {(results['result'] == k).sum()}" for k in ASSESSMENT_RESULTS)
    state = "已通报的正式结果" if official else "尚未通报的建议结果"
    head = f"{period} 分子公司考核，{state}：{counts}"
    return head + "\n" + table([label(k, "assessment") for k in ("rank", "branch", "total", "proposed", "result")], rows)


COMMANDS = [assess]
