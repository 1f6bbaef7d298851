"""The crm command line: parse arguments, call the library, print, set the exit code."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from .config import ConfigError, load_config

STATUS_NAMES = {"accepted": "通过", "rejected": "退回", "ignored": "已忽略"}


class Context:
    """Options shared by every command."""

    def __init__(self, workspace: Path, config_path: Path | None):
        self.workspace = workspace
        self.config_path = config_path or workspace / "crm.toml"

    def config(self):
        try:
            return load_config(self.config_path)
        except ConfigError as exc:
            raise click.ClickException(str(exc)) from None


class CrmGroup(click.Group):
    """Turns the library's configuration errors into one-line messages, never tracebacks."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except ConfigError as exc:
            raise click.ClickException(str(exc)) from None


@click.group(cls=CrmGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--workspace", type=click.Path(file_okay=False, path_type=Path),
              envvar="CRM_WORKSPACE", default=".", show_default=True,
              help="工作目录（收件箱、档案库与 crm.toml 所在处），也可用环境变量 CRM_WORKSPACE。")
@click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path),
              help="配置文件路径（默认为工作目录下的 crm.toml）。")
@click.pass_context
def main(ctx, workspace: Path, config_path: Path | None):
    """客户档案流水线：校验各分子公司报送的《集团公司客户信息统计表》，归档、评级并出具报表。"""
    ctx.obj = Context(workspace.resolve(), config_path)


@main.command()
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path),
              default=Path("output/集团公司客户信息统计表（模板）.xlsx"), show_default=True,
              help="模板保存路径。")
def template(out: Path):
    """生成空白报送模板（含填报说明、下拉选项与格式）。"""
    from .template import write_template
    out.parent.mkdir(parents=True, exist_ok=True)
    click.echo(f"已生成模板：{write_template(out)}")


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table",
              show_default=True, help="输出格式：table 为中文汇总表，json 为机器可读。")
@click.option("--feedback-dir", type=click.Path(file_okay=False, path_type=Path),
              help="为每个文件生成标注问题单元格的反馈工作簿，保存到此目录。")
@click.pass_obj
def validate(obj: Context, paths: tuple[Path, ...], fmt: str, feedback_dir: Path | None):
    """校验报送文件（可传入文件或文件夹）；有错误时退出码为 1。"""
    from .validation import validate_paths
    results = validate_paths(list(paths), obj.config())
    if feedback_dir:
        _write_feedback(results, feedback_dir)
    if fmt == "json":
        click.echo(json.dumps({"files": [r.as_dict() for r in results]},
                              ensure_ascii=False, indent=2, default=str))
    else:
        click.echo(_results_table(results))
    sys.exit(1 if any(r.status == "rejected" for r in results) else 0)


def _write_feedback(results, feedback_dir: Path) -> None:
    from .feedback import write_feedback
    feedback_dir.mkdir(parents=True, exist_ok=True)
    for r in results:
        if r.status == "ignored":
            continue
        readable = not any(f.code in _UNREADABLE for f in r.findings)
        write_feedback(r.file, r.findings, feedback_dir, readable=readable)


_UNREADABLE = {"not-a-workbook", "encrypted-workbook", "csv-not-accepted", "unsafe-workbook",
               "read-failed"}


def _results_table(results) -> str:
    from .console import table
    rows = [[r.file.name, r.branch or "—", r.period or "—", STATUS_NAMES[r.status],
             len(r.errors), len(r.warnings)] for r in results]
    out = [table(["文件", "填报单位", "月份", "结果", "错误", "警告"], rows)]
    for r in results:
        shown = r.errors[:10] or (r.warnings[:5] if r.status == "ignored" else [])
        if not shown:
            continue
        out.append(f"\n{r.file.name}（{STATUS_NAMES[r.status]}）：")
        out += [f"  {f.cell or f.sheet or '文件'}  {f.message}" for f in shown]
        if len(r.errors) > len(shown):
            out.append(f"  …… 另有 {len(r.errors) - len(shown)} 个错误，详见反馈工作簿。")
    accepted = sum(r.status == "accepted" for r in results)
    rejected = sum(r.status == "rejected" for r in results)
    out.append(f"\n共 {len(results)} 个文件：通过 {accepted}，退回 {rejected}，"
               f"忽略 {len(results) - accepted - rejected}。")
    return "\n".join(out)


@main.command()
@click.option("--out", type=click.Path(file_okay=False, path_type=Path),
              default=Path("input_samples"), show_default=True, help="样例输出目录。")
def samples(out: Path):
    """生成一年的样例报送文件（确定性，可重复生成）。"""
    from .samples import generate_samples
    files = generate_samples(out)
    click.echo(f"已生成 {len(files)} 个样例文件于 {out}")


@main.command()
@click.option("--samples", type=click.Path(exists=True, file_okay=False, path_type=Path),
              default=Path("input_samples"), show_default=True, help="样例文件目录。")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path),
              default=Path("output/demo"), show_default=True, help="演示输出目录（每次清空重建）。")
def demo(samples: Path, out: Path):
    """演示：把样例逐月放入临时工作目录的收件箱，跑完全年并生成全部报表。"""
    from .demo import run_demo
    reports = run_demo(samples, out, echo=click.echo)
    click.echo("\n报表位置：")
    for kind, paths in reports.items():
        for path in paths:
            click.echo(f"  {path}")


# Command groups live in their own modules; importing them registers them on `main`.
from . import cli_archive  # noqa: E402,F401

from . import cli_scoring  # noqa: E402,F401
