"""The workspace: inbox, received and rejected folders, the archive file, the run lock."""
from __future__ import annotations

import hashlib
import os
import shutil
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from filelock import FileLock, Timeout

from ..config import DEFAULT_TOML
from ..errors import WorkspaceError

ARCHIVE_FILE = "archive.sqlite"
CONFIG_FILE = "crm.toml"
LOCK_FILE = ".crm.lock"


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
    def output(self) -> Path:
        return self.root / "output"

    @property
    def archive_path(self) -> Path:
        return self.root / ARCHIVE_FILE

    @property
    def config_path(self) -> Path:
        return self.root / CONFIG_FILE

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

    @contextmanager
    def lock(self, wait: float = 0):
        """Hold the workspace lock for one run; the OS releases it even if the process dies.

        ``wait`` seconds are waited for another run to finish before giving up.
        """
        self.root.mkdir(parents=True, exist_ok=True)
        lock = FileLock(str(self.root / LOCK_FILE))
        try:
            lock.acquire(timeout=wait)
        except Timeout:
            raise WorkspaceBusy(f"工作目录 {self.root} 正被另一个 crm 进程使用，请等它结束后再运行。") from None
        try:
            yield
        finally:
            lock.release()

    def received_path(self, period: str, branch: str, original: Path, sha256: str) -> Path:
        """Where an accepted file is filed: its name keeps the start of its SHA-256."""
        return self.received / period / branch / f"{original.stem}__{sha256[:12]}{original.suffix}"

    def rejected_path(self, period: str | None, original: Path, sha256: str) -> Path:
        return (self.rejected / (period or "未识别月份")
                / f"{original.stem}__{sha256[:12]}{original.suffix}")


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def move_into_place(source: Path, target: Path) -> Path:
    """Move a file, creating folders; atomic within one file system."""
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.replace(source, target)
    except OSError:
        shutil.copy2(source, target)
        os.unlink(source)
    return target
