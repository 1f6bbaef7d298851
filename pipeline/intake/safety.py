"""Opening untrusted files: type sniffing, encryption, zip and XML entity bombs, size limits.

Every inbox file is inspected here before any parser touches it. The zip
check reads the central directory first (declared sizes and ratios) and then
stream-decompresses the XML parts with a running byte count, because a zip's
headers can lie: a 1 GiB sheet in a 1 MB file is refused after at most the
configured number of bytes, in constant memory.
"""
from __future__ import annotations

import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from ..config import Config
from ..findings import Finding, make_finding

OLE_MAGIC = bytes.fromhex("D0CF11E0A1B11AE1")
ZIP_MAGIC = b"PK\x03\x04"
READABLE = ("xlsx", "xlsm", "xls")
_IGNORED_NAMES = {"thumbs.db", "desktop.ini"}
_CHUNK = 1 << 20


@dataclass
class Inspection:
    """What the safety check made of a file before any parser saw it."""

    path: Path
    kind: str                      # xlsx / xlsm / xls / ignored / rejected
    findings: list[Finding] = field(default_factory=list)

    @property
    def readable(self) -> bool:
        return self.kind in READABLE


def list_inbox(paths: Iterable[Path]) -> tuple[list[Path], list[Inspection]]:
    """Candidate files (stable order) and the ignored ones (lock files, hidden files)."""
    files: list[Path] = []
    ignored: list[Inspection] = []
    for root in map(Path, paths):
        found = [root] if root.is_file() else sorted(
            (p for p in root.rglob("*") if p.is_file()), key=lambda p: str(p.relative_to(root)))
        for path in found:
            rel_parts = path.relative_to(root).parts if root.is_dir() else (path.name,)
            why = _ignore_reason(path.name, rel_parts)
            if why:
                ignored.append(Inspection(path, "ignored", [
                    make_finding("ignored-file", path.name, detail=why)]))
            else:
                files.append(path)
    return files, ignored


def _ignore_reason(name: str, parts: tuple[str, ...]) -> str | None:
    if name.startswith("~$"):
        return "Excel 打开文件时留下的临时锁定文件"
    if any(p.startswith(".") for p in parts):
        return "隐藏文件"
    if name.lower() in _IGNORED_NAMES:
        return "系统文件"
    return None


def inspect_file(path: Path, config: Config) -> Inspection:
    """Sniff the file's real type and refuse what is unsafe to parse."""
    path = Path(path)
    name = path.name

    def refuse(code: str, detail: str = "") -> Inspection:
        return Inspection(path, "rejected", [make_finding(code, name, detail=detail)])

    why = _ignore_reason(name, (name,))
    if why:
        return Inspection(path, "ignored", [make_finding("ignored-file", name, detail=why)])
    max_file = config.number("limits", "max_file_mib", minimum=1) * 2**20
    size = path.stat().st_size
    if size > max_file:
        return refuse("unsafe-workbook", f"文件大小 {size / 2**20:.0f} MiB 超过上限 "
                                          f"{max_file / 2**20:.0f} MiB")
    with open(path, "rb") as handle:
        head = handle.read(8)
    suffix = path.suffix.lower()
    if head.startswith(ZIP_MAGIC):
        return _inspect_zip(path, config, refuse)
    if head == OLE_MAGIC:
        if _ole_has_stream(path, ("EncryptionInfo", "EncryptedPackage")):
            return refuse("encrypted-workbook")
        return Inspection(path, "xls")
    if suffix in (".csv", ".txt") or _looks_like_text(path):
        if suffix == ".csv" or _looks_like_csv(path):
            return refuse("csv-not-accepted")
        return refuse("not-a-workbook", "文件内容是文本，不是 Excel 格式")
    return refuse("not-a-workbook", f"无法识别的文件类型（{suffix or '无扩展名'}）")


def _looks_like_text(path: Path) -> bool:
    with open(path, "rb") as handle:
        sample = handle.read(4096)
    if not sample or b"\x00" in sample:
        return False
    for encoding in ("utf-8", "gb18030"):
        try:
            sample.decode(encoding)
            return True
        except UnicodeDecodeError:
            continue
    return False


def _looks_like_csv(path: Path) -> bool:
    with open(path, "rb") as handle:
        first = handle.readline(4096)
    return first.count(b",") >= 2 and path.suffix.lower() not in (".xlsx", ".xlsm", ".xls")


def _inspect_zip(path: Path, config: Config, refuse) -> Inspection:
    max_total = config.number("limits", "max_uncompressed_mib", minimum=1) * 2**20
    max_ratio = config.number("limits", "max_compression_ratio", minimum=1)
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError):
        return refuse("not-a-workbook", "压缩结构损坏")
    with archive:
        infos = archive.infolist()
        names = {i.filename for i in infos}
        if "[Content_Types].xml" not in names or "xl/workbook.xml" not in names:
            if "word/document.xml" in names:
                return refuse("not-a-workbook", "这是 Word 文档")
            return refuse("not-a-workbook", "不是 Excel 工作簿的压缩包")
        declared = sum(i.file_size for i in infos)
        if declared > max_total:
            return refuse("unsafe-workbook", f"解压后超过 {max_total / 2**20:.0f} MiB")
        for info in infos:
            if info.file_size > 2**20 and info.file_size > max_ratio * max(info.compress_size, 1):
                return refuse("unsafe-workbook", "压缩比异常")
        # Headers can lie: decompress the XML parts with a running count.
        budget = max_total
        for info in infos:
            if not info.filename.endswith((".xml", ".rels", ".vml")):
                continue
            try:
                used, entity = _stream_check(archive, info, budget)
            except _TooBig:
                return refuse("unsafe-workbook", f"解压后超过 {max_total / 2**20:.0f} MiB")
            except (zipfile.BadZipFile, zlib.error, OSError, EOFError, NotImplementedError):
                return refuse("not-a-workbook", "压缩内容损坏")
            if entity:
                return refuse("unsafe-workbook", "含有 XML 实体声明")
            budget -= used
        is_macro = "xl/vbaProject.bin" in names or path.suffix.lower() == ".xlsm"
    if is_macro:
        return Inspection(path, "xlsm", [make_finding("macro-workbook", path.name)])
    return Inspection(path, "xlsx")


class _TooBig(Exception):
    pass


def _stream_check(archive: zipfile.ZipFile, info: zipfile.ZipInfo, budget: int):
    """Bytes this member really inflates to (stopping past ``budget``) and whether it declares entities.

    The raw deflate stream is inflated with zlib and counted, not read through
    zipfile (which stops at the declared size and so believes a lying header).
    """
    with archive.open(info) as member:
        upper = member.read(4096).upper()
    if b"<!DOCTYPE" in upper or b"<!ENTITY" in upper:
        return 0, True
    if info.compress_type == zipfile.ZIP_STORED:
        return info.compress_size, False
    if info.compress_type != zipfile.ZIP_DEFLATED:
        raise NotImplementedError(info.compress_type)
    fp = archive.fp
    fp.seek(info.header_offset)
    local = fp.read(30)
    start = info.header_offset + 30 + int.from_bytes(local[26:28], "little") + int.from_bytes(
        local[28:30], "little")
    fp.seek(start)
    inflater = zlib.decompressobj(-15)
    used, left = 0, info.compress_size
    while left > 0 and not inflater.eof:
        chunk = fp.read(min(_CHUNK, left))
        if not chunk:
            break
        left -= len(chunk)
        while chunk:
            used += len(inflater.decompress(chunk, _CHUNK))
            if used > budget:
                raise _TooBig
            chunk = inflater.unconsumed_tail
    return used, False


def _ole_has_stream(path: Path, names: tuple[str, ...]) -> bool:
    """Whether an OLE compound file's directory names one of ``names`` (how encrypted OOXML is stored)."""
    data = path.read_bytes()[: 8 * 2**20]
    return any(n.encode("utf-16-le") in data for n in names)
