"""The crm command line: parse arguments, call the library, print, set the exit code.

Commands live in one module per stage (intake, archive, grades, reports, dev);
none of them imports this module, which only builds ``main`` and adds them.
Every named library error (``pipeline.errors.CrmError``) becomes one Chinese
line here, in one place; no traceback reaches a user.
"""
from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import click

from ..errors import CrmError
from . import chinese

chinese.install()  # before the commands are defined: their types translate their names then

from . import archive, assess, dev, distribute, grades, intake, reports  # noqa: E402
from .options import Context  # noqa: E402

__all__ = ["main", "Context"]


class Said(click.ClickException):
    """A message of ours, shown as written: click's own messages get Chinese quotation marks (``chinese``), which
    would turn the single quotes of a Windows path we tell the clerk to write, or of a Python error, into “”."""

    def format_message(self) -> str:
        return self.message


class CrmGroup(click.Group):
    """Turns every named library error into a one-line message and its exit status.

    Anything unexpected is written with its traceback to a log file and reported in one
    line that says where the log is (set CRM_DEBUG=1 to see the traceback instead).
    """

    def main(self, *args, **kwargs):
        from ..intake.worker import collect_less
        collect_less()
        _printable_anywhere()
        return super().main(*args, **kwargs)

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except CrmError as exc:
            error = Said(str(exc))
            error.exit_code = exc.exit_code
            raise error from None
        except click.exceptions.NoSuchOption as exc:
            if exc.option_name in ("--workspace", "--config"):  # crm's own, written after the command
                exc.message = (f"选项“{exc.option_name}”属于 crm 本身，要写在命令名之前，例如："
                               f"crm {exc.option_name} … {ctx.invoked_subcommand or ''}".rstrip())
                exc.possibilities = None
            raise
        except (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort,
                KeyboardInterrupt, SystemExit):
            raise
        except BrokenPipeError:  # the reader of our output went away (crm … | head): end quietly
            import sys
            sys.stdout = open(os.devnull, "w")
            raise click.exceptions.Exit(0) from None
        except sqlite3.DatabaseError as exc:
            from ..archive.store import damaged
            obj = ctx.obj
            path = getattr(obj, "workspace", Path(".")) / "archive.sqlite"
            raise Said(str(damaged(path, exc))) from None
        except Exception as exc:  # noqa: BLE001 — the last resort: never a traceback on screen
            if os.environ.get("CRM_DEBUG"):
                raise
            from ..errors import file_in_use, os_error_of
            failed = os_error_of(exc)
            if failed is not None and failed.filename:  # a file of ours open in Excel (Windows locks it), a full
                raise Said(file_in_use(failed)  # disk: not a program error
                           + _STATE[ctx.invoked_subcommand in ("monthly", "ingest")]) from None
            raise _internal(ctx, exc) from None


_STATE = {True: "已处理完的文件都已完整入库（每个文件在一个事务内处理），未处理的仍在收件箱。",
          False: "档案没有被改坏（每次写入都在一个事务内完成，出错时整次撤销）。"}


def _internal(ctx, exc: Exception) -> click.ClickException:
    """An unexpected error: one line saying what it means for the archive, and where its traceback was logged."""
    if os.environ.get("CRM_DEBUG"):
        raise exc
    log = _log_traceback(ctx)
    state = _STATE[ctx.invoked_subcommand in ("monthly", "ingest")]
    return Said(f"程序内部错误（{str(exc)[:200] or type(exc).__name__}）。{state}"
                f"详细信息已写入 {log}，请把该文件发给系统维护人员。")


def _printable_anywhere() -> None:
    """Output redirected to a file or a pipe on Windows (``crm monthly > log.txt``) is written in the ANSI code
    page (GBK on a Chinese desktop), which has no 𠮷, emoji or ・: such a character in a file or customer name is
    shown as “?” there instead of ending the run with an encoding error (the console itself takes any character)."""
    import sys
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure") and getattr(stream, "errors", "strict") == "strict":
            try:
                stream.reconfigure(errors="replace")
            except (ValueError, OSError):  # a stream that cannot change now: left as it is
                pass


def _log_traceback(ctx) -> Path:
    """Write the current traceback to the workspace's output folder (or the temp folder)."""
    import datetime as dt
    import tempfile
    import traceback
    text = f"{dt.datetime.now().isoformat(timespec='seconds')}\n{traceback.format_exc()}\n"
    workspace = getattr(ctx.obj, "workspace", None)
    for folder in ([workspace / "output"] if workspace and (workspace / "output").is_dir() else []) + [
            Path(tempfile.gettempdir())]:
        try:
            log = folder / "crm-错误日志.txt"
            with open(log, "a", encoding="utf-8") as handle:
                handle.write(text)
            return log
        except OSError:
            continue
    return Path("（无法写入日志）")


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


for _module in (intake, archive, grades, assess, reports, distribute, dev):
    for _command in _module.COMMANDS:
        main.add_command(_command)
chinese.localise(main)
