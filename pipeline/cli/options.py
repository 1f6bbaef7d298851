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
        self.explicit_config = config_path is not None
        self.config_path = config_path or workspace / "crm.toml"
        self._config: Config | None = None

    @property
    def config(self) -> Config:
        if self._config is None:
            if self.explicit_config and not Path(self.config_path).is_file():
                from ..errors import ConfigError
                raise ConfigError(f"找不到配置文件 {self.config_path}。请检查 --config 的路径，"
                                  "或去掉 --config 使用工作目录下的 crm.toml。")
            self._config = load_config(self.config_path)
        return self._config


READ_WAIT_SECONDS = 600  # how long a reading command waits for a running ingest


@contextmanager
def open_workspace(obj: Context, *, lock: bool = True, create: bool = False, check_later: bool = False):
    """The workspace (created only when ``create``), its lock and its checked archive (``check_later``: checked
    on a thread of its own, and refused, if damaged, before anything is written or read in a transaction; for the
    ingest, which reads the branches' last rows and validates its first files meanwhile).

    Writing commands (``lock=True``) refuse to wait for another run; reading commands wait
    for it (with a message) and then read one consistent state in a single read transaction,
    so a report never mixes files of a run that is still going.
    """
    from ..archive.store import Archive
    from ..archive.workspace import Workspace
    from ..errors import ArchiveError
    ws = Workspace(obj.workspace)
    if create:
        if not ws.exists():
            click.echo(f"已新建工作目录 {ws.root}（inbox/、received/、rejected/、output/ 与 crm.toml）；"
                       "请在 crm.toml 的 [roster] 中核对分子公司花名册。", err=True)
        ws.init()
    else:
        ws.require()
    config = obj.config  # checked before any file is touched
    threshold = config.get("review", "similarity_threshold")

    def waiting():
        click.echo("工作目录正被另一个 crm 进程使用（可能正在导入），等待其结束后再读取……", err=True)

    with ws.lock(wait=0 if lock else READ_WAIT_SECONDS, on_wait=waiting):
        # Filed submissions but no archive: never start an empty one over them. (The filed files are counted only
        # then: after years they are thousands.)
        missing = not ws.archive_path.exists() or ws.archive_path.stat().st_size == 0
        if missing and (filed := len(ws.filed_files())):
            raise ArchiveError(_missing_archive(ws, filed))
        with Archive(ws.archive_path, similarity_threshold=threshold, journal=ws.journal,
                     check="before-writing" if check_later else True, upgrading=upgrading) as archive:
            if archive.count_filed() == 0 and (filed := len(ws.filed_files())):
                raise ArchiveError(_missing_archive(ws, filed))
            if lock:
                yield ws, archive
            else:
                with archive.reading():
                    yield ws, archive


def upgrading(old: int, new: int) -> None:
    """Tell the user an archive of an older version is being upgraded (it may take minutes on a large archive)."""
    click.echo(f"档案库是旧版本（第 {old} 版）的格式，正在升级到第 {new} 版；档案较大时需要几分钟，请等待完成。"
               "升级中途被打断不会损坏档案，下次运行会接着升级。", err=True)


def _missing_archive(ws, filed: int) -> str:
    return (f"档案库 {ws.archive_path.name} 不存在或是空的，但 received/ 和 rejected/ 中有 {filed} 份已处理的报送文件。"
            "为免把它们当作从未报送，已停止。请运行 crm archive rebuild 按这些文件和归档日志重建档案库。")


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
    """Click callback: a time as a clerk writes it (2026-10-24T15:30, 2026-10-24 15:30, 2026/10/24, 2026年10月24日),
    read as a date cell of a submission is (``cleaning.parse_datetime``), and 15时30分 with its 分."""
    if value is None:
        return None
    try:
        return dt.datetime.fromisoformat(value.strip())
    except ValueError:
        pass
    from ..intake.cleaning import Unparseable, parse_datetime
    try:
        return parse_datetime(value.strip().removesuffix("分"), with_time=True).to_pydatetime()
    except Unparseable:
        raise click.BadParameter(f"“{value}”不是有效时间，请写成 2026-10-24T15:30 或 2026-10-24"
                                 "（带时间又用空格分隔时，整个值加引号：\"2026-10-24 15:30\"）。") from None


def check_inbox(ctx, param, value: Path | None):
    """Click callback: the inbox folder must exist (a mistyped path is not an empty inbox)."""
    if value is not None and not value.is_dir():
        raise click.BadParameter(f"文件夹“{value}”{'不是文件夹' if value.exists() else '不存在'}。请检查路径"
                                 "（路径中有空格时整个路径加引号）。")
    return value


received_option = click.option(
    "--received-at", callback=check_received,
    help="指定本次所有文件的收件时间（默认取文件修改时间），如 2026-10-24T15:30。")
inbox_option = click.option("--inbox", type=click.Path(path_type=Path), callback=check_inbox,
                            help="收件箱文件夹（默认为工作目录下的 inbox/）。")


def out_option(help_text: str):
    return click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help=help_text)


def output_path(out: Path | None, default: Path) -> Path:
    """The file a command writes: ``--out`` or its default, with its folder created."""
    path = out or default
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def progress(files):
    """A progress bar on a terminal, nothing when output is piped (then tqdm, 35 ms to import, is not imported)."""
    import sys
    if sys.stderr is None or not sys.stderr.isatty():  # where tqdm's bar goes; it shows none there either
        return files
    from tqdm import tqdm
    return tqdm(files, desc="处理报送文件", unit="个", leave=False, disable=None)


def unfinished_half(half: str, force: bool, action: str) -> None:
    """Refuse (or, with --force, warn about) an action on a half year that has not ended yet."""
    from ..periods import Period, current_month
    period = Period.parse_half(half)
    if period.end < current_month():
        return
    text = f"{half} 尚未结束（到 {period.end} 月末），现在{action}只能用到目前的数据。"
    if not force:
        raise click.UsageError(text + "请在半年度结束后再做；确需提前，加 --force。")
    click.echo("注意：" + text, err=True)
