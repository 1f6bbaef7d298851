"""crm commands of the archive: init, ingest, status, monthly, archive export, review."""
from __future__ import annotations

from pathlib import Path

import click

from schemas.labels import EMPTY, OUTCOMES, label

from .console import table
from .options import (Context, check_month, inbox_option, open_workspace, out_option, output_path,
                      progress, received_option)


@click.command()
@click.pass_obj
def init(obj: Context):
    """创建工作目录：inbox/、received/、rejected/、output/、档案库与带注释的 crm.toml。"""
    from ..archive.store import Archive
    from ..archive.workspace import Workspace
    ws = Workspace(obj.workspace)
    made = ws.init()
    with Archive(ws.archive_path):
        pass
    click.echo(f"工作目录：{ws.root}")
    for path in made:
        click.echo(f"  已创建 {path.relative_to(ws.root)}")
    if not made:
        click.echo("  已存在，未作改动。")


@click.command()
@inbox_option
@received_option
@click.pass_obj
def ingest(obj: Context, inbox: Path | None, received_at):
    """处理收件箱：校验、归档通过的文件，退回有错误的文件并生成反馈工作簿。"""
    from ..archive.ingest import ingest_inbox
    with open_workspace(obj) as (ws, archive):
        outcomes = ingest_inbox(ws, archive, obj.config, inbox=inbox, received_at=received_at,
                                progress=progress)
    click.echo(outcome_table(outcomes))


def outcome_table(outcomes) -> str:
    if not outcomes:
        return "收件箱中没有待处理的文件。"
    rows = []
    for o in outcomes:
        errors = sum(f.severity == "error" for f in o.findings)
        note = o.note or (o.findings[0].message if errors else "")
        if o.merge is not None and o.merge.superseded:
            note = "更正重报，已替换本单位本月先前的报送"
        rows.append([o.file, o.branch or EMPTY, o.period or EMPTY, OUTCOMES[o.status], errors, note])
    return table([label(k) for k in ("file_name", "branch", "period", "outcome", "errors", "note")], rows)


@click.command()
@click.option("--period", callback=check_month, help="月份，如 2026-10（默认为本月）。")
@click.pass_obj
def status(obj: Context, period: str | None):
    """各分子公司某月的报送情况：按时 / 逾期 / 未报 / 被退回待重报 / 无变化。"""
    from ..archive.tracking import submission_status
    from ..periods import current_month
    period = period or current_month()
    with open_workspace(obj, lock=False) as (ws, archive):
        frame = submission_status(archive.submissions(), obj.config, period)
    click.echo(status_text(frame, period))


def status_text(frame, period: str) -> str:
    rows = [[r.branch, r.state, _when(r.received_at), r.file_name or EMPTY, r.rows or EMPTY]
            for r in frame.itertuples()]
    due = frame["deadline"].iloc[0].strftime("%Y-%m-%d") if len(frame) else ""
    head = f"{period} 报送情况（截止 {due}）"
    return head + "\n" + table([label(k) for k in ("branch", "state", "received_at", "file_name", "rows")],
                               rows)


def _when(value) -> str:
    return EMPTY if value is None or str(value) == "NaT" else value.strftime("%m-%d %H:%M")


@click.command()
@click.option("--period", callback=check_month,
              help="汇总的月份（默认为本次收到文件中最新的月份，没有文件时为本月）。")
@inbox_option
@received_option
@click.pass_obj
def monthly(obj: Context, period: str | None, inbox: Path | None, received_at):
    """月度例行：处理收件箱，再生成 output/<月份>/月度汇总_<月份>.xlsx 并打印摘要。"""
    from ..routine import run_monthly
    with open_workspace(obj, create=True) as (ws, archive):
        outcomes, data, path = run_monthly(ws, archive, obj.config, period=period, inbox=inbox,
                                           received_at=received_at, progress=progress)
    click.echo(outcome_table(outcomes))
    click.echo("")
    click.echo(status_text(data.status, data.period))
    click.echo(f"\n本月新增客户 {len(data.new_customers)} 家，信息变更 {len(data.changes)} 项，"
               f"待审核疑似重复 {len(data.conflicts)} 对。")
    click.echo(f"月度汇总：{path}")


@click.group("archive")
def archive_group():
    """客户档案：导出。"""


@archive_group.command("export")
@click.option("--as-of", "as_of", callback=check_month,
              help="导出截至某月末的档案状态（默认为当前）。")
@out_option("输出文件（默认 output/客户档案总表.xlsx）。")
@click.pass_obj
def archive_export(obj: Context, as_of: str | None, out: Path | None):
    """导出客户档案总表.xlsx（客户、合作项目、满意度调查、投诉记录、拜访记录、变更记录）。"""
    from ..reports.archive_workbook import export_archive
    with open_workspace(obj, lock=False) as (ws, arch):
        suffix = f"_{as_of}" if as_of else ""
        out = output_path(out, ws.output / f"客户档案总表{suffix}.xlsx")
        export_archive(arch, out, as_of=as_of)
    click.echo(f"已导出：{out}")


@click.group()
def review():
    """疑似重复客户的人工审核。"""


@review.command("export")
@out_option("输出文件（默认 output/疑似重复客户.xlsx）。")
@click.pass_obj
def review_export(obj: Context, out: Path | None):
    """导出疑似重复客户.xlsx，在“处理决定”列选择 合并 / 不同客户 / 待定。"""
    from ..archive.review import export_review
    with open_workspace(obj, lock=False) as (ws, arch):
        out = output_path(out, ws.output / "疑似重复客户.xlsx")
        export_review(arch, out)
    click.echo(f"已导出：{out}")


@review.command("apply")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--by", "decided_by", default="市场营销部", show_default=True, help="审核人。")
@click.pass_obj
def review_apply(obj: Context, file: Path, decided_by: str):
    """应用疑似重复客户.xlsx 中的处理决定（一个事务内完成）。"""
    from ..archive.review import apply_review
    with open_workspace(obj) as (ws, arch):
        outcome = apply_review(arch, file, decided_by=decided_by)
    if outcome.findings:
        for f in outcome.findings:
            click.echo(f"  {f.cell}  {f.message}", err=True)
        raise click.ClickException("审核文件有错误，未作任何改动。")
    click.echo(str(outcome))


COMMANDS = [init, ingest, status, monthly, archive_group, review]
