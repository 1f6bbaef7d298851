"""crm commands for developers and first users: samples, demo."""
from __future__ import annotations

from pathlib import Path

import click


@click.command()
@click.option("--out", type=click.Path(file_okay=False, path_type=Path),
              default=Path("input_samples"), show_default=True, help="样例输出目录。")
def samples(out: Path):
    """生成一年的样例报送文件（确定性，可重复生成）。"""
    from ..dev.samples import generate_samples
    files = generate_samples(out)
    click.echo(f"已生成 {len(files)} 个样例文件于 {out}")


@click.command()
@click.option("--samples", type=click.Path(exists=True, file_okay=False, path_type=Path),
              default=Path("input_samples"), show_default=True, help="样例文件目录。")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path),
              default=Path("output/demo"), show_default=True, help="演示输出目录（每次清空重建）。")
def demo(samples: Path, out: Path):
    """演示：把样例逐月复制到临时工作目录的收件箱，跑完全年并生成全部报表（样例本身不动）。"""
    from ..dev.demo import run_demo
    reports = run_demo(samples, out, echo=click.echo)
    click.echo("\n报表位置：")
    for kind, paths in reports.items():
        for path in paths:
            click.echo(f"  {path}")


COMMANDS = [samples, demo]
