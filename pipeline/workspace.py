"""The workspace: inbox, received and rejected folders, the archive file, the run lock."""
from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from .config import DEFAULT_TOML, Config, load_config

ARCHIVE_FILE = "archive.sqlite"
CONFIG_FILE = "crm.toml"
LOCK_FILE = ".crm.lock"


class WorkspaceBusy(Exception):
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

    def config(self) -> Config:
        return load_config(self.config_path)

    @contextmanager
    def lock(self):
        """Hold the workspace lock for one run; released even if the process dies."""
        self.root.mkdir(parents=True, exist_ok=True)
        handle = open(self.root / LOCK_FILE, "a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            raise WorkspaceBusy(f"工作目录 {self.root} 正被另一个 crm 进程使用，请等它结束后再运行。") from None
        try:
            handle.seek(0)
            handle.truncate()
            handle.write(str(os.getpid()))
            handle.flush()
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
            handle.close()

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
