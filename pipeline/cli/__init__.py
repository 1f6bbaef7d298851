"""The crm command line: parse arguments, call the library, print, set the exit code.

Commands live in one module per stage (intake, archive, grades, reports, dev);
none of them imports this module, which only builds ``main`` and adds them.
Every named library error (``pipeline.errors.CrmError``) becomes one Chinese
line here, in one place; no traceback reaches a user.
"""
from __future__ import annotations

from pathlib import Path

import click

from ..errors import CrmError
from . import chinese

chinese.install()  # before the commands are defined: their types translate their names then

from . import archive, dev, grades, intake, reports  # noqa: E402
from .options import Context  # noqa: E402

__all__ = ["main", "Context"]


class CrmGroup(click.Group):
    """Turns every named library error into a one-line message and its exit status."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except CrmError as exc:
            error = click.ClickException(str(exc))
            error.exit_code = exc.exit_code
            raise error from None


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


for _module in (intake, archive, grades, reports, dev):
    for _command in _module.COMMANDS:
        main.add_command(_command)
chinese.localise(main)
