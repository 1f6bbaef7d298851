"""The workspace: inbox, received and rejected folders, the archive file, the journal, the run lock.

Filed names are made safe by ``pipeline.filenames``. ``move_into_place`` never
leaves half a file: across file systems it copies to a temporary name, fsyncs,
checks the hash and renames.
"""
from __future__ import annotations

import hashlib
import os
import re
import shutil
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from filelock import FileLock, Timeout

from ..config import DEFAULT_TOML
from ..errors import WorkspaceError
from ..filenames import PARTIAL, display_name, hashed_name, safe_name, unique_path
from .journal import JOURNAL_FILE, Journal

__all__ = ["Workspace", "WorkspaceBusy", "display_name", "ensure_writable", "move_into_place", "read_only_uri",
           "sha256_of", "unique_path"]

ARCHIVE_FILE = "archive.sqlite"
CONFIG_FILE = "crm.toml"
LOCK_FILE = ".crm.lock"
UNKNOWN_MONTH = "未识别月份"
DUPLICATES = "重复文件"


_FILED = re.compile(r"__[0-9a-f]{12}(\(\d+\))?(\.[A-Za-z0-9]{1,5})?$")


class WorkspaceBusy(WorkspaceError):
    """Another crm process holds the workspace lock."""


@dataclass(frozen=True)
class Workspace:
    """Folders and files of one workspace, rooted at ``root``."""

    root: Path

    @property
    def inbox(self) -> Path:
        return self.root / "inbox"

    @property
    def received(self) -> Path:
        return self.root / "received"

    @property
    def rejected(self) -> Path:
        return self.root / "rejected"

    @property
    def quarantine(self) -> Path:
        """Files that could be neither archived nor rejected (even moving them failed)."""
        return self.root / "quarantine"

    @property
    def output(self) -> Path:
        return self.root / "output"

    @property
    def archive_path(self) -> Path:
        return self.root / ARCHIVE_FILE

    @property
    def config_path(self) -> Path:
        return self.root / CONFIG_FILE

    @property
    def journal(self) -> Journal:
        return Journal(self.received / JOURNAL_FILE)

    def init(self) -> list[Path]:
        """Create the folders and a commented crm.toml; existing files are kept."""
        made = []
        for folder in (self.inbox, self.received, self.rejected, self.output):
            if not folder.exists():
                folder.mkdir(parents=True)
                made.append(folder)
        if not self.config_path.exists():
            self.config_path.write_text(DEFAULT_TOML, encoding="utf-8")
            made.append(self.config_path)
        return made

    def exists(self) -> bool:
        """Whether `crm init` (or a first `crm monthly`) has made this workspace."""
        return self.config_path.exists() or self.archive_path.exists() or self.received.is_dir()

    def require(self) -> "Workspace":
        """This workspace, or a WorkspaceError that says how to create one."""
        if not self.exists():
            raise WorkspaceError(f"{self.root} 不是工作目录（没有 crm.toml 和档案库）。请先运行 "
                                 f"crm --workspace \"{self.root}\" init 创建，或用 --workspace 指定已有的工作目录。")
        return self

    def check_inbox(self, folder: Path) -> Path:
        """``folder`` as an inbox, or a WorkspaceError: never one holding the workspace's own files (its archive, the
        filed and returned submissions, the reports), which an inbox's files are moved away from."""
        def real(path: Path) -> Path:  # (Windows: one path in any letter case)
            return Path(os.path.normcase(Path(path).resolve()))

        inbox, root = real(folder), real(self.root)
        if inbox.is_relative_to(real(self.inbox)):
            return Path(folder)
        if root.is_relative_to(inbox):
            raise WorkspaceError(f"收件箱文件夹 {folder} 包含了工作目录 {self.root} 本身（档案库、已归档和退回的文件）。"
                                 "请指定只放本次报送文件的文件夹，或把文件放进工作目录的 inbox/。")
        for kept in (self.received, self.rejected, self.output, self.quarantine):
            if inbox.is_relative_to(real(kept)):
                raise WorkspaceError(f"收件箱文件夹 {folder} 在工作目录的 {kept.name}/ 中，那里存放的是已处理的文件。"
                                     "请把报送文件放进工作目录的 inbox/，或放在别的文件夹中。")
        return Path(folder)

    def sweep_partial(self) -> list[Path]:
        """Remove what a killed run was writing (hidden ``.….part`` files under received/ and rejected/):
        the run that follows redoes that file. Call with the lock held."""
        removed = []
        for folder in (self.received, self.rejected):
            if folder.is_dir():
                for path in folder.rglob(f".*{PARTIAL}"):
                    try:
                        path.unlink()
                        removed.append(path)
                    except OSError:
                        pass
        return removed

    def customers_archived(self) -> int | None:
        """How many customers the archive holds, read before the run opens it (None when it cannot be read: not
        there yet, or not an archive, which the run itself then reports)."""
        import sqlite3
        from contextlib import closing
        try:
            with closing(sqlite3.connect(read_only_uri(self.archive_path), uri=True)) as conn:
                return conn.execute("SELECT COUNT(*) FROM customers").fetchone()[0]
        except (sqlite3.Error, OSError, ValueError):
            return None

    def filed_files(self) -> list[Path]:
        """Every submission filed under received/ and rejected/ (named …__<hash>; not the duplicates)."""
        out = []
        for folder in (self.received, self.rejected):
            if folder.is_dir():
                out += [p for p in folder.rglob("*") if p.is_file() and _FILED.search(p.name)
                        and DUPLICATES not in p.relative_to(folder).parts]
        return sorted(out)

    @contextmanager
    def lock(self, wait: float = 0, on_wait=None):
        """Hold the workspace lock for one run; the OS releases it even if the process dies.

        ``wait`` seconds are waited for another run to finish (``on_wait`` is called once first).
        """
        self.root.mkdir(parents=True, exist_ok=True)
        lock = FileLock(str(self.root / LOCK_FILE))
        try:
            lock.acquire(timeout=0)
        except Timeout:
            if wait <= 0:
                raise WorkspaceBusy(f"工作目录 {self.root} 正被另一个 crm 进程使用，请等它结束后再运行。") from None
            if on_wait:
                on_wait()
            try:
                lock.acquire(timeout=wait)
            except Timeout:
                raise WorkspaceBusy(f"工作目录 {self.root} 被另一个 crm 进程占用超过 {wait:.0f} 秒，"
                                    "请等它结束后再运行。") from None
        try:
            yield
        finally:
            lock.release()

    def received_path(self, period: str, branch: str, name: str, sha256: str) -> Path:
        """Where an accepted file is filed: its (safe) name keeps the start of its SHA-256."""
        return self.received / period / safe_name(branch) / hashed_name(name, sha256)

    def rejected_path(self, period: str | None, name: str, sha256: str) -> Path:
        return unique_path(self.rejected / (period or UNKNOWN_MONTH) / hashed_name(name, sha256))

    def duplicate_path(self, name: str, sha256: str, keep: bool = False) -> Path:
        """Where a copy of a filed file goes. A kept copy (``--keep``, the samples) that is there already, same
        name and same content hash, is that copy: a folder re-run month after month adds nothing."""
        plain = self.received / DUPLICATES / hashed_name(name, sha256)
        return plain if keep and plain.is_file() else unique_path(plain)

    def quarantine_path(self, name: str, sha256: str) -> Path:
        return unique_path(self.quarantine / hashed_name(name, sha256 or "0" * 12))


def read_only_uri(path: Path) -> str:
    """The SQLite URI that opens a database file for reading only (a connection made with ``uri=True``)."""
    return Path(path).resolve().as_uri() + "?mode=ro"


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def ensure_writable(folder: Path) -> None:
    """Create ``folder`` and prove a file can be written there (before anything is committed)."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / f".crm-probe-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise WorkspaceError(f"无法写入文件夹 {folder}（{exc.strerror or exc}）。请检查磁盘空间和写入权限后重新运行；"
                             "本文件仍留在收件箱，档案库未作改动。") from None


def move_into_place(source: Path, target: Path, *, sha256: str | None = None,
                    stamp: float | None = None) -> Path:
    """Move a file, never leaving half of it behind; a symlink is replaced by the bytes it points to.

    Within one file system the move is a rename. Across file systems (or for a
    symlink) the bytes are copied to a temporary name beside the target,
    fsynced, checked against ``sha256``, renamed into place, and only then is
    the source removed. ``stamp`` sets the filed copy's modification time (the
    received time), which a rebuild uses to order files the journal lacks.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    moved = False
    if not source.is_symlink():
        try:
            os.replace(source, target)
            moved = True
        except OSError:
            moved = False
    if not moved:
        temporary = target.with_name(f".{target.name}{PARTIAL}")
        try:
            with open(source, "rb") as src, open(temporary, "wb") as dst:
                shutil.copyfileobj(src, dst, 1 << 20)
                dst.flush()
                os.fsync(dst.fileno())
            if sha256 and sha256_of(temporary) != sha256:
                raise OSError(f"复制后内容校验不一致：{source}")
            os.replace(temporary, target)
        finally:
            if temporary.exists():
                temporary.unlink()
        os.unlink(source)
    if stamp is not None:
        try:
            os.utime(target, (stamp, stamp))
        except OSError:
            pass
    return target
