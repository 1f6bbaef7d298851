"""crm commands of intake: template, validate."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from schemas.labels import EMPTY, SEVERITIES, VERDICTS, WHOLE_FILE, label

from .console import table
from .options import Context, check_month, open_workspace


@click.command()
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path),
              help="空白模板的保存路径（默认工作目录下的 output/集团公司客户信息统计表（模板）.xlsx）。")
@click.option("--for", "branch", metavar="单位", help="为该分子公司生成预填好的下月报送表（带档案编号）。")
@click.option("--all", "every", is_flag=True, help="为花名册中的每个分子公司生成预填表。")
@click.option("--period", callback=check_month, help="预填表的报送月份（默认为档案中最新月份的下一个月）。")
@click.pass_obj
def template(obj: Context, out: Path | None, branch: str | None, every: bool, period: str | None):
    """生成空白报送模板（含填报说明、下拉选项与格式）；带 --for 或 --all 时生成预填表。

    预填表已填好该单位截至上月的客户、未竣工项目和未结束的投诉，每行带系统的“档案编号”（锁定，
    请勿修改），并附“本月提醒”。分子公司直接修改后报送，改名、修改都记在同一档案上，未改的行按“无变化”处理。
    预填表写入 output/<月份>/预填模板/。
    """
    from ..intake.template import write_template
    if not branch and not every:
        if period:
            raise click.UsageError("--period 只用于预填表：请同时写 --for 单位 或 --all。")
        path = out or Path(obj.workspace) / "output" / "集团公司客户信息统计表（模板）.xlsx"
        path.parent.mkdir(parents=True, exist_ok=True)
        click.echo(f"已生成模板：{write_template(path, obj.config)}")
        return
    if out is not None:
        raise click.UsageError("预填表按单位写入 output/<月份>/预填模板/，不能用 --out。")
    from ..periods import add_months
    from ..reports.prefill import counts, write_prefilled
    with open_workspace(obj) as (ws, archive):
        if period is None:
            subs = archive.submissions(findings=False)
            accepted = subs[subs["status"] == "accepted"]
            if accepted.empty:
                raise click.UsageError("档案中还没有报送，无法预填；请先用空白模板（crm template）。")
            period = add_months(accepted["period"].max(), 1)
        branches = obj.config.branches if every else [branch]
        for name in branches:
            path, prefill = write_prefilled(archive, obj.config, name, period, ws.output)
            click.echo(f"{name}：{counts(prefill)}（截至 {prefill.as_of}）→ {path}")
@click.command()
@click.argument("paths", nargs=-1, required=True, metavar="文件或文件夹...",
                type=click.Path(exists=True, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table",
              show_default=True, help="输出格式：table 为中文汇总表，json 为机器可读。")
@click.option("--feedback-dir", type=click.Path(file_okay=False, path_type=Path),
              help="为每个文件生成标注问题单元格的反馈工作簿，保存到此目录。")
@click.pass_obj
def validate(obj: Context, paths: tuple[Path, ...], fmt: str, feedback_dir: Path | None):
    """校验报送文件（可传入文件或文件夹）；有错误时退出码为 1。"""
    from ..intake.validation import validate_paths
    results = validate_paths(list(paths), obj.config)
    if feedback_dir:
        _write_feedback(results, feedback_dir)
    if fmt == "json":
        click.echo(json.dumps({"files": [r.as_dict() for r in results]},
                              ensure_ascii=False, indent=2, default=str))
    else:
        click.echo(_results_table(results))
    sys.exit(1 if any(r.status == "rejected" for r in results) else 0)


def _write_feedback(results, feedback_dir: Path) -> None:
    from ..intake.feedback import write_feedback
    from ..intake.validation import readable
    feedback_dir.mkdir(parents=True, exist_ok=True)
    for r in results:
        if r.status == "ignored":
            continue
        write_feedback(r.file, r.findings, feedback_dir, readable=readable(r))


def _results_table(results) -> str:
    rows = [[r.file.name, r.branch or EMPTY, r.period or EMPTY, VERDICTS[r.status],
             len(r.errors), len(r.warnings)] for r in results]
    out = [table([label(k) for k in ("file_name", "branch", "period", "verdict", "errors", "warnings")],
                 rows)]
    for r in results:
        errors, warnings = r.errors[:10], r.warnings[:5]
        if not errors and not warnings:
            continue
        out.append(f"\n{r.file.name}（{VERDICTS[r.status]}）：")
        out += [f"  {f.cell or f.sheet or WHOLE_FILE}  {f.message}" for f in errors]
        if len(r.errors) > len(errors):
            out.append(f"  …… 另有 {len(r.errors) - len(errors)} 个错误，详见反馈工作簿。")
        out += [f"  {SEVERITIES['warning']}  {f.cell or f.sheet or WHOLE_FILE}  {f.message}" for f in warnings]
        if len(r.warnings) > len(warnings):
            out.append(f"  …… 另有 {len(r.warnings) - len(warnings)} 条提示，详见反馈工作簿。")
    accepted = sum(r.status == "accepted" for r in results)
    rejected = sum(r.status == "rejected" for r in results)
    out.append(f"\n共 {len(results)} 个文件：通过 {accepted}，退回 {rejected}，"
               f"忽略 {len(results) - accepted - rejected}。")
    return "\n".join(out)


COMMANDS = [template, validate]
