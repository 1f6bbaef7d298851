"""File names from outside: decoded, made safe for every file system, kept short, never overwritten.

File names that arrive by e-mail or in a zip from a Windows machine are
untrusted: ``display_name`` decodes GBK bytes that Linux hands over as
surrogates, ``safe_name`` makes a name that every file system (Windows
included) accepts and that stays short enough for the suffixes the pipeline
adds, ``unique_path`` never overwrites an earlier file.
"""
from __future__ import annotations

import re
import unicodedata
from pathlib import Path

PARTIAL = ".part"             # a file still being written: hidden (".name.part"), swept after a killed run
MAX_STEM_BYTES = 150          # leaves room for "__<hash>", "(n)", "_校验结果" and the suffix under 255
MAX_STEM_CHARS = 60           # and keeps a filed copy's whole path well within Windows' 260 characters (Excel
#                               opens none longer than 218) under a workspace deep in a user's folders
_FORBIDDEN = re.compile(r'[<>:"/\\|?*\x00-\x1f\x7f]')
_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)), *(f"LPT{i}" for i in range(1, 10))}


_IGNORED_NAMES = {"thumbs.db", "desktop.ini"}


def ignore_reason(name: str, parts: tuple[str, ...]) -> str | None:
    """Why an inbox file is not a submission (an Excel lock file, hidden, a system file), else None; ``parts``:
    its path below the inbox."""
    if name.startswith("~$"):
        return "Excel 打开文件时留下的临时锁定文件"
    if any(p.startswith(".") for p in parts):
        return "隐藏文件"
    if name.lower() in _IGNORED_NAMES:
        return "系统文件"
    return None


def display_name(name: str) -> str:
    """A file name as the user wrote it: GBK bytes from a Windows zip decoded, never a surrogate."""
    if not any("\udc80" <= ch <= "\udcff" for ch in name):
        return name
    raw = name.encode("utf-8", "surrogateescape")
    for encoding in ("gb18030", "big5"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return raw.decode("utf-8", "replace")


def safe_name(name: str, max_bytes: int = MAX_STEM_BYTES, max_chars: int = MAX_STEM_CHARS) -> str:
    """A file or folder name every file system accepts: no reserved characters or names, bounded length (in
    bytes for Linux and macOS, in characters for Windows' paths)."""
    text = unicodedata.normalize("NFC", display_name(name))
    text = _FORBIDDEN.sub("_", text).strip().rstrip(". ") or "_"
    if text.split(".")[0].upper() in _RESERVED:
        text = "_" + text
    hashed = _HASHED.fullmatch(text)  # a filed copy's name (hashed_name) keeps its hash whole
    tail = hashed[2] if hashed else ""
    text = hashed[1] if hashed else text
    if len(text) > max_chars or len(text.encode("utf-8")) > max_bytes:
        cut = text[:max_chars].encode("utf-8")[:max_bytes].decode("utf-8", "ignore")
        text = cut.rstrip(". ") + "…"
    return text + tail


_HASHED = re.compile(r"(.+)(__[0-9a-f]{12})")


def hashed_name(name: str, sha256: str) -> str:
    """'华东分公司_2026-10.xlsx' → '华东分公司_2026-10__<12 hex>.xlsx', safe and bounded."""
    path = Path(display_name(name))
    suffix = path.suffix if re.fullmatch(r"\.[A-Za-z0-9]{1,5}", path.suffix or "") else ""
    stem = path.name[: len(path.name) - len(suffix)] if suffix else path.name
    return f"{safe_name(stem)}__{sha256[:12]}{suffix.lower()}"


def unique_path(path: Path) -> Path:
    """``path``, or ``name(2).ext``, ``name(3).ext``… when it is taken."""
    if not path.exists():
        return path
    for n in range(2, 10_000):
        candidate = path.with_name(f"{path.stem}({n}){path.suffix}")
        if not candidate.exists():
            return candidate
    raise OSError(f"{path.parent} 中同名文件过多，请清理后再试。")


