"""crm commands of the archive: init, ingest, status, monthly, archive export, review."""
from __future__ import annotations

import datetime as dt
from contextlib import contextmanager
from pathlib import Path

import click

from .cli import Context, main
from .console import table


def check_period(ctx, param, value):
    """Click callback: a month in any accepted form → 'YYYY-MM'."""
    if value is None:
        return None
    from .reading import parse_period
    period = parse_period(value)
    if period is None:
        raise click.BadParameter(f"“{value}”不是有效月份，请写成 2026-10。")
    return period


def _parse_received(ctx, param, value):
    if value is None:
        return None
    try:
        return dt.datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"“{value}”不是有效时间，请写成 2026-10-24T15:30。") from None


@contextmanager
def open_workspace(obj: Context, *, lock: bool = True):
    """The workspace (created on first use), its lock and its archive."""
    from .archive import Archive
    from .config import ConfigError
    from .workspace import Workspace, WorkspaceBusy
    ws = Workspace(obj.workspace)
    ws.init()
    try:
        ws.config()
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    try:
        if lock:
            with ws.lock(), Archive(ws.archive_path) as archive:
                yield ws, archive
        else:
            with Archive(ws.archive_path) as archive:
                yield ws, archive
    except WorkspaceBusy as exc:
        raise click.ClickException(str(exc)) from None


@main.command()
@click.pass_obj
def init(obj: Context):
    """创建工作目录：inbox/、received/、rejected/、output/、档案库与带注释的 crm.toml。"""
    from .archive import Archive
    from .workspace import Workspace
    ws = Workspace(obj.workspace)
    made = ws.init()
    with Archive(ws.archive_path):
        pass
    click.echo(f"工作目录：{ws.root}")
    for path in made:
        click.echo(f"  已创建 {path.relative_to(ws.root)}")
    if not made:
        click.echo("  已存在，未作改动。")


received_option = click.option(
    "--received-at", callback=_parse_received,
    help="指定本次所有文件的收件时间（默认取文件修改时间），如 2026-10-24T15:30。")
inbox_option = click.option("--inbox", type=click.Path(file_okay=False, path_type=Path),
                            help="收件箱文件夹（默认为工作目录下的 inbox/）。")


@main.command()
@inbox_option
@received_option
@click.pass_obj
def ingest(obj: Context, inbox: Path | None, received_at):
    """处理收件箱：校验、归档通过的文件，退回有错误的文件并生成反馈工作簿。"""
    with open_workspace(obj) as (ws, archive):
        outcomes = _run_ingest(ws, archive, inbox, received_at)
    click.echo(_outcome_table(outcomes))


def _progress(files):
    from tqdm import tqdm
    return tqdm(files, desc="处理报送文件", unit="个", leave=False, disable=None)


def _run_ingest(ws, archive, inbox, received_at):
    from .ingest import ingest_inbox
    return ingest_inbox(ws, archive, inbox=inbox, received_at=received_at, progress=_progress)


OUTCOME_NAMES = {"accepted": "已归档", "rejected": "已退回", "ignored": "已忽略",
                 "skipped": "已跳过"}


def _outcome_table(outcomes) -> str:
    if not outcomes:
        return "收件箱中没有待处理的文件。"
    rows = []
    for o in outcomes:
        errors = sum(f.severity == "error" for f in o.findings)
        note = o.note or (o.findings[0].message if errors else "")
        if o.merge is not None and getattr(o.merge, "superseded", None):
            note = "更正重报，已替换本单位本月先前的报送"
        rows.append([o.file, o.branch or "—", o.period or "—", OUTCOME_NAMES[o.status],
                     errors, note])
    return table(["文件", "填报单位", "月份", "处理结果", "错误", "说明"], rows)


@main.command()
@click.option("--period", callback=check_period, help="月份，如 2026-10（默认为本月）。")
@click.pass_obj
def status(obj: Context, period: str | None):
    """各分子公司某月的报送情况：按时 / 逾期 / 未报 / 被退回待重报 / 无变化。"""
    from .tracking import submission_status
    period = period or dt.date.today().strftime("%Y-%m")
    with open_workspace(obj, lock=False) as (ws, archive):
        frame = submission_status(archive.submissions(), ws.config(), period)
    click.echo(_status_text(frame, period))


def _status_text(frame, period: str) -> str:
    rows = [[r.branch, r.state, _when(r.received_at), r.file_name or "—", r.rows or "—"]
            for r in frame.itertuples()]
    due = frame["deadline"].iloc[0].strftime("%Y-%m-%d") if len(frame) else ""
    head = f"{period} 报送情况（截止 {due}）"
    return head + "\n" + table(["单位", "状态", "收件时间", "文件", "行数"], rows)


def _when(value) -> str:
    return "—" if value is None or str(value) == "NaT" else value.strftime("%m-%d %H:%M")


@main.command()
@click.option("--period", callback=check_period,
              help="汇总的月份（默认为本次收到文件中最新的月份，没有文件时为本月）。")
@inbox_option
@received_option
@click.pass_obj
def monthly(obj: Context, period: str | None, inbox: Path | None, received_at):
    """月度例行：处理收件箱，再生成 output/<月份>/月度汇总_<月份>.xlsx 并打印摘要。"""
    from .monthly import run_monthly
    with open_workspace(obj) as (ws, archive):
        outcomes, data, path = run_monthly(ws, archive, period=period, inbox=inbox,
                                           received_at=received_at, progress=_progress)
    click.echo(_outcome_table(outcomes))
    click.echo("")
    click.echo(_status_text(data.status, data.period))
    click.echo(f"\n新增客户 {len(data.new_customers)} 家，信息变更 {len(data.changes)} 项，"
               f"待审核疑似重复 {len(data.conflicts)} 对。")
    click.echo(f"月度汇总：{path}")


@main.group()
def archive():
    """客户档案：导出。"""


@archive.command("export")
@click.option("--as-of", "as_of", callback=check_period,
              help="导出截至某月末的档案状态（默认为当前）。")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path),
              help="输出文件（默认 output/客户档案总表.xlsx）。")
@click.pass_obj
def archive_export(obj: Context, as_of: str | None, out: Path | None):
    """导出客户档案总表.xlsx（客户、合作项目、满意度调查、投诉记录、拜访记录、变更记录）。"""
    from .export import export_archive
    with open_workspace(obj, lock=False) as (ws, arch):
        suffix = f"_{as_of}" if as_of else ""
        out = out or ws.output / f"客户档案总表{suffix}.xlsx"
        out.parent.mkdir(parents=True, exist_ok=True)
        export_archive(arch, out, as_of=as_of)
    click.echo(f"已导出：{out}")


@main.group()
def review():
    """疑似重复客户的人工审核。"""


@review.command("export")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path),
              help="输出文件（默认 output/疑似重复客户.xlsx）。")
@click.pass_obj
def review_export(obj: Context, out: Path | None):
    """导出疑似重复客户.xlsx，在“处理决定”列选择 合并 / 不同客户 / 待定。"""
    from .review import export_review
    with open_workspace(obj, lock=False) as (ws, arch):
        out = out or ws.output / "疑似重复客户.xlsx"
        out.parent.mkdir(parents=True, exist_ok=True)
        export_review(arch, out)
    click.echo(f"已导出：{out}")


@review.command("apply")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--by", "decided_by", default="市场营销部", show_default=True, help="审核人。")
@click.pass_obj
def review_apply(obj: Context, file: Path, decided_by: str):
    """应用疑似重复客户.xlsx 中的处理决定（一个事务内完成）。"""
    from .review import apply_review
    with open_workspace(obj) as (ws, arch):
        outcome = apply_review(arch, file, decided_by=decided_by)
    problems = getattr(outcome, "findings", [])
    if problems:
        for f in problems:
            click.echo(f"  {f.cell}  {f.message}", err=True)
        raise click.ClickException("审核文件有错误，未作任何改动。")
    click.echo(str(outcome))
