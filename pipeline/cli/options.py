"""What every command shares: the context (workspace, configuration loaded once), options, callbacks."""
from __future__ import annotations

import datetime as dt
from contextlib import contextmanager
from pathlib import Path

import click

from ..config import Config, load_config
from ..errors import PeriodError


class Context:
    """The global options, and the configuration read once per command."""

    def __init__(self, workspace: Path, config_path: Path | None):
        self.workspace = workspace
        self.config_path = config_path or workspace / "crm.toml"
        self._config: Config | None = None

    @property
    def config(self) -> Config:
        if self._config is None:
            self._config = load_config(self.config_path)
        return self._config


@contextmanager
def open_workspace(obj: Context, *, lock: bool = True, create: bool = False):
    """The workspace (created only when ``create``), its lock and its archive."""
    from ..archive.store import Archive
    from ..archive.workspace import Workspace
    ws = Workspace(obj.workspace)
    if create:
        ws.init()
    else:
        ws.require()
    config = obj.config  # checked before any file is touched
    threshold = config.get("review", "similarity_threshold")
    if lock:
        with ws.lock(), Archive(ws.archive_path, similarity_threshold=threshold) as archive:
            yield ws, archive
    else:
        with Archive(ws.archive_path, similarity_threshold=threshold) as archive:
            yield ws, archive


def check_month(ctx, param, value):
    """Click callback: a month in any accepted form → 'YYYY-MM'."""
    if value is None:
        return None
    from ..periods import parse_month
    month = parse_month(value)
    if month is None:
        raise click.BadParameter(f"“{value}”不是有效月份，请写成 2026-10。")
    return month


def check_half(ctx, param, value):
    """Click callback: '2026-H1' / '2026h2' → '2026-H1'."""
    if value is None:
        return None
    from ..periods import Period
    try:
        return str(Period.parse_half(value))
    except PeriodError as exc:
        raise click.BadParameter(str(exc)) from None


def check_period(ctx, param, value):
    """Click callback: any reporting period (month, quarter, half, year) → its canonical text."""
    if value is None:
        return None
    from ..periods import Period
    try:
        return str(Period.parse(value))
    except PeriodError as exc:
        raise click.BadParameter(str(exc)) from None


def check_received(ctx, param, value):
    if value is None:
        return None
    try:
        return dt.datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"“{value}”不是有效时间，请写成 2026-10-24T15:30。") from None


received_option = click.option(
    "--received-at", callback=check_received,
    help="指定本次所有文件的收件时间（默认取文件修改时间），如 2026-10-24T15:30。")
inbox_option = click.option("--inbox", type=click.Path(file_okay=False, path_type=Path),
                            help="收件箱文件夹（默认为工作目录下的 inbox/）。")


def out_option(help_text: str):
    return click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help=help_text)


def output_path(out: Path | None, default: Path) -> Path:
    """The file a command writes: ``--out`` or its default, with its folder created."""
    path = out or default
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def progress(files):
    """A progress bar on a terminal, nothing when output is piped."""
    from tqdm import tqdm
    return tqdm(files, desc="处理报送文件", unit="个", leave=False, disable=None)
