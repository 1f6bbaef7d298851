"""crm commands of intake: template, validate."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from schemas.labels import EMPTY, VERDICTS, WHOLE_FILE, label

from .console import table
from .options import Context


@click.command()
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path),
              default=Path("output/集团公司客户信息统计表（模板）.xlsx"), show_default=True,
              help="模板保存路径。")
@click.pass_obj
def template(obj: Context, out: Path):
    """生成空白报送模板（含填报说明、下拉选项与格式）。"""
    from ..intake.template import write_template
    out.parent.mkdir(parents=True, exist_ok=True)
    click.echo(f"已生成模板：{write_template(out, obj.config)}")


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
        shown = r.errors[:10] or (r.warnings[:5] if r.status == "ignored" else [])
        if not shown:
            continue
        out.append(f"\n{r.file.name}（{VERDICTS[r.status]}）：")
        out += [f"  {f.cell or f.sheet or WHOLE_FILE}  {f.message}" for f in shown]
        if len(r.errors) > len(shown):
            out.append(f"  …… 另有 {len(r.errors) - len(shown)} 个错误，详见反馈工作簿。")
    accepted = sum(r.status == "accepted" for r in results)
    rejected = sum(r.status == "rejected" for r in results)
    out.append(f"\n共 {len(results)} 个文件：通过 {accepted}，退回 {rejected}，"
               f"忽略 {len(results) - accepted - rejected}。")
    return "\n".join(out)


COMMANDS = [template, validate]
