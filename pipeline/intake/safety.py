"""Opening untrusted files: type sniffing, encryption, zip and XML entity bombs, size limits.

Every inbox file is inspected here before any parser touches it. The zip
check reads the central directory first (declared sizes and ratios) and then
stream-decompresses the XML parts with a running byte count, because a zip's
headers can lie: a 1 GiB sheet in a 1 MB file is refused after at most the
configured number of bytes, in constant memory. While a worksheet streams by,
the extent of its cells with values is measured: a 2 KB file with one value at
XFD1 and one at A50000 would make a reader allocate rows × columns cells, so a
sheet whose extent exceeds the configured cell budget is refused before any
reader sees it.
"""
from __future__ import annotations

import functools
import re
import struct
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from schemas.columns import PREFILL_MARK

from ..config import Config
from ..cells import column_letter
from ..filenames import display_name, ignore_reason
from ..findings import Finding, make_finding

OLE_MAGIC = bytes.fromhex("D0CF11E0A1B11AE1")
ZIP_MAGIC = b"PK\x03\x04"
ODS_MIMETYPE = b"application/vnd.oasis.opendocument.spreadsheet"
READABLE = ("xlsx", "xlsm", "xls")
_CHUNK = 1 << 20


@dataclass
class Inspection:
    """What the safety check made of a file before any parser saw it."""

    path: Path
    kind: str                      # xlsx / xlsm / xls / ignored / rejected
    findings: list[Finding] = field(default_factory=list)
    inflated: int = 0              # bytes of XML once decompressed (what an in-memory copy costs)
    prefill_of: tuple[str, str] | None = None  # a pre-filled workbook's (month it is for, month it shows)
    formulas: dict[str, list[tuple[int, int, str | None]]] = field(default_factory=dict)
    #                                sheet title → (row, column, error text or None: no result saved), 0-based, of
    #                                the formula cells a reader would take for blanks (``_Formulas``)

    @property
    def readable(self) -> bool:
        return self.kind in READABLE


def list_inbox(paths: Iterable[Path]) -> tuple[list[Path], list[Inspection]]:
    """Candidate files (stable order) and the ignored ones (lock files, hidden files)."""
    files: list[Path] = []
    ignored: list[Inspection] = []
    for root in map(Path, paths):
        found = [root] if root.is_file() else sorted(
            (p for p in root.rglob("*") if p.is_file()), key=lambda p: _order(p.relative_to(root)))
        if root.is_dir():  # dangling links are not files: say so instead of losing them silently
            found += sorted(p for p in root.rglob("*") if p.is_symlink() and not p.exists())
        for path in found:
            rel_parts = path.relative_to(root).parts if root.is_dir() else (path.name,)
            why = ignore_reason(path.name, rel_parts)
            if why is None and path.is_symlink() and not path.exists():
                why = "指向的文件不存在的快捷方式（链接）"
            if why:
                ignored.append(Inspection(path, "ignored", [
                    make_finding("ignored-file", display_name(path.name), detail=why)]))
            else:
                files.append(path)
    return files, ignored


_COPY_MARK = re.compile(r"(\s*[(（]\d+[)）]|\s*-?\s*副本(\s*[(（]?\d*[)）]?)?|\s+copy(\s*\d*)?)$", re.I)


def _order(rel: Path) -> tuple:
    """Files in name order, a saved copy (“… (1).xlsx”, “… - 副本.xlsx”) after its original."""
    stem = rel.stem
    original = _COPY_MARK.sub("", stem)
    return (str(rel.parent), original, stem != original, str(rel))


def inspect_file(path: Path, config: Config) -> Inspection:
    """Sniff the file's real type and refuse what is unsafe to parse."""
    path = Path(path)
    name = display_name(path.name)

    def refuse(code: str, detail: str = "") -> Inspection:
        return Inspection(path, "rejected", [make_finding(code, name, detail=detail)])

    why = ignore_reason(name, (name,))
    if why:
        return Inspection(path, "ignored", [make_finding("ignored-file", name, detail=why)])
    max_file = config.get("limits", "max_file_mib") * 2**20
    size = path.stat().st_size
    if size == 0:
        return refuse("empty-file")
    if size > max_file:
        return refuse("unsafe-workbook", f"文件有 {size / 2**20:.0f} MiB，超过上限 "
                                          f"{max_file / 2**20:.0f} MiB（正常的统计表只有几 MiB）")
    with open(path, "rb") as handle:
        head = handle.read(8)
    suffix = path.suffix.lower()
    if head.startswith(ZIP_MAGIC):
        return _inspect_zip(path, config, refuse)
    if head == OLE_MAGIC:
        data = path.read_bytes()  # (its size checked above; read once for both)
        if _ole_has_stream(data, ("EncryptionInfo", "EncryptedPackage")):
            return refuse("encrypted-workbook")
        return Inspection(path, "xls", formulas=xls_formula_errors(data))
    if suffix in (".csv", ".txt") or _looks_like_text(path):
        if suffix == ".csv" or _looks_like_csv(path):
            return refuse("csv-not-accepted")
        return refuse("not-a-workbook", "文件内容是文字，不是 Excel 表格")
    return refuse("not-a-workbook", "文件内容不是 Excel 表格")


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


def _is_ods(archive: zipfile.ZipFile, names: set[str]) -> bool:
    """An OpenDocument spreadsheet (LibreOffice's, or WPS's "ods"): its first part names its type."""
    if "mimetype" not in names or archive.getinfo("mimetype").file_size > 256:
        return False
    try:
        return archive.read("mimetype").strip() == ODS_MIMETYPE
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError, NotImplementedError):
        return False


def _inspect_zip(path: Path, config: Config, refuse) -> Inspection:
    max_total = config.get("limits", "max_uncompressed_mib") * 2**20
    max_ratio = config.get("limits", "max_compression_ratio")
    max_cells = config.get("limits", "max_cells")
    too_big = (f"内容异常庞大（解压后超过 {max_total / 2**20:.0f} MiB），可能已损坏，"
               "也可能是专门构造的“压缩炸弹”")
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError):
        return refuse("not-a-workbook", "文件结构已损坏")
    with archive:
        infos = archive.infolist()
        names = {i.filename for i in infos}
        if "[Content_Types].xml" not in names or "xl/workbook.xml" not in names:
            if "word/document.xml" in names:
                return refuse("not-a-workbook", "这是 Word 文档，不是 Excel 表格")
            if _is_ods(archive, names):
                return refuse("ods-not-accepted")
            return refuse("not-a-workbook", "这是一个压缩包，不是 Excel 表格")
        declared = sum(i.file_size for i in infos)
        if declared > max_total:
            return refuse("unsafe-workbook", too_big)
        for info in infos:
            if info.file_size > 2**20 and info.file_size > max_ratio * max(info.compress_size, 1):
                return refuse("unsafe-workbook", too_big)
        # Headers can lie: decompress the XML parts with a running count.
        budget = max_total
        titles = None
        formulas: dict[str, list] = {}
        for info in infos:
            if not info.filename.endswith((".xml", ".rels", ".vml")):
                continue
            sheet = info.filename.startswith("xl/worksheets/") and info.filename.endswith(".xml")
            extent = _Bound() if sheet else None
            found = _Formulas() if sheet else None
            try:
                used, entity = _stream_check(archive, info, budget, extent, found)
                if found is not None and found.cells:
                    formulas[info.filename] = found.cells
                if extent is not None and extent.cells > max_cells:  # possibly too big: measure exactly
                    extent = _Extent()
                    _stream_check(archive, info, budget, extent)
            except _TooBig:
                return refuse("unsafe-workbook", too_big)
            except (zipfile.BadZipFile, zlib.error, OSError, EOFError, NotImplementedError):
                return refuse("not-a-workbook", "文件内容已损坏")
            if entity:
                return refuse("unsafe-workbook", "文件内部含有 Excel 不会写入的结构（XML 实体声明），"
                                                 "可能不是用 Excel/WPS 保存的")
            if extent is not None and extent.cells > max_cells:  # measured cell by cell: too big
                titles = titles if titles is not None else _sheet_titles(archive)
                title = titles.get(info.filename, info.filename.rsplit("/", 1)[-1])
                corner = f"{column_letter(extent.columns - 1)}{extent.rows}"
                return Inspection(path, "rejected", [make_finding(
                    "too-many-cells", display_name(path.name), sheet=title,
                    detail=f"{corner}（{extent.rows:,} 行 × {extent.columns:,} 列）")])
            budget -= used
        is_macro = "xl/vbaProject.bin" in names or path.suffix.lower() == ".xlsm"
        prefill_of = prefill_mark(archive)
        if formulas:
            titles = titles if titles is not None else _sheet_titles(archive)
            formulas = {titles.get(part, part): cells for part, cells in formulas.items()}
    inflated = max_total - budget
    if is_macro:
        return Inspection(path, "xlsm", [make_finding("macro-workbook", display_name(path.name))], inflated,
                          prefill_of, formulas)
    return Inspection(path, "xlsx", inflated=inflated, prefill_of=prefill_of, formulas=formulas)


_MARK_NAME = re.compile(rb'<(?:\w+:)?definedName\b[^>]*\bname="' + re.escape(PREFILL_MARK.encode())
                        + rb'"[^>]*>(?:"|&quot;)'
                        rb'(\d{4}-\d{2})\|(\d{4}-\d{2})(?:"|&quot;)</')


def prefill_mark(archive: zipfile.ZipFile) -> tuple[str, str] | None:
    """The pre-filled workbook's mark (PREFILL_MARK): (the month it is for, the month its rows show)."""
    try:
        found = _MARK_NAME.search(archive.read("xl/workbook.xml"))
    except (KeyError, zipfile.BadZipFile, zlib.error, OSError):
        return None
    return (found[1].decode(), found[2].decode()) if found else None


class _TooBig(Exception):
    pass


# A cell that holds something (a self-closing <c …/> is a formatted, empty cell): its column letters and row.
_CELL = re.compile(rb'<(?:\w+:)?c\s(?:[^>]*?\s)?r="([A-Z]{1,3})([0-9]+)"[^>]*?(?<!/)>')  # any attribute order


class _Streamed:
    """Something read from a worksheet's XML as it streams by, chunk by chunk: what a chunk ends in the middle of
    (``_cut``) is read with the next one, unless it is longer than KEEP bytes (then it is read as it is)."""

    KEEP = 200

    def __init__(self):
        self._tail = b""

    def feed(self, chunk: bytes) -> None:
        data = self._tail + chunk
        cut = self._cut(data)
        if cut < 0 or len(data) - cut > self.KEEP:
            cut = len(data)
        body, self._tail = data[:cut], data[cut:]
        self._scan(body)

    def close(self) -> None:
        data, self._tail = self._tail, b""
        self._scan(data)

    def _cut(self, data: bytes) -> int:
        """Where the unfinished part of ``data`` starts (-1: nothing is unfinished)."""
        raise NotImplementedError

    def _scan(self, body: bytes) -> None:
        raise NotImplementedError


class _Extent(_Streamed):
    """The bottom-right corner of the cells that hold something, measured as a worksheet streams by."""

    def __init__(self):
        super().__init__()
        self.rows = 0
        self.columns = 0

    def _cut(self, data: bytes) -> int:
        return data.rfind(b"<")  # a tag split across chunks is read with the next one

    def _scan(self, body: bytes) -> None:
        found = _CELL.findall(body)
        if not found:
            return
        columns = {letters for letters, _ in found}  # a sheet has few distinct columns
        self.columns = max(self.columns, *map(_column_number, columns))
        self.rows = max(self.rows, max(int(row) for _, row in found))

    @property
    def cells(self) -> int:
        """The cells a reader would allocate for the sheet."""
        return self.rows * self.columns


class _Bound(_Extent):
    """An upper bound of the extent, found without reading every cell: rows are bounded by the longest
    row number any cell reference has (a value in row 12,345 bounds them by 99,999); columns past Z are
    read from those cells only, otherwise there are at most 26. Only a sheet whose bound exceeds the
    budget is measured cell by cell."""

    def __init__(self):
        super().__init__()
        self.digits = 0

    @property
    def cells(self) -> int:
        """At least as many cells as a reader would allocate."""
        return (10 ** self.digits - 1) * max(self.columns, 26)

    def _scan(self, body: bytes) -> None:
        if _odd_spacing(body):  # not Excel's or WPS's way: measure exactly
            self.digits = 99
            return
        while _rows_of_digits(self.digits + 1).search(body):  # longer row numbers than those seen so far
            self.digits += 1
        refs = set(_WIDE_REFS.findall(body))  # cells past column Z (usually none: one quick search)
        if refs:
            self.columns = max(self.columns, *map(_column_number, refs))


class _Formulas(_Streamed):
    """The formula cells of a worksheet, as it streams by, whose value a reader takes for a blank: an error
    (#DIV/0!, #N/A: a broken VLOOKUP would pass as a cell left empty) or no saved result at all (a file written
    by a program, never opened in a spreadsheet). A typed #N/A, without a formula, is what the clerk wrote: a blank.
    Most sheets have no formula: one quick search per chunk finds that (a sheet with formulas has a closing
    ``</f>`` or an opening ``<f …`` in the chunk of its first formula; after it, every chunk is read)."""

    KEEP = 1 << 20  # bytes of an unfinished cell kept for the next chunk (a formula cell is far shorter)

    def __init__(self):
        super().__init__()
        self.cells: list[tuple[int, int, str | None]] = []
        self._seen = False  # a formula (or what looks like one) was met: read every chunk from here on

    def _cut(self, data: bytes) -> int:
        return _cell_end(data)  # a cell split across chunks is read whole with the next one

    def _scan(self, body: bytes) -> None:
        if not self._seen and _MARK.search(body) is None:  # (one regular expression search: several times
            return                                         # faster than two “in” tests)
        self._seen = True
        for attrs, value in _FORMULA_CELL.findall(body):
            ref = _REF.search(attrs)
            kind = _TYPE.search(attrs)
            kind = kind[1] if kind else b"n"
            if ref is None:
                continue
            if kind == b"e" and value:
                text = value.decode("utf-8", "replace")
            elif not value and kind != b"str":  # an empty text result is a result
                text = None
            else:
                continue
            self.cells.append((int(ref[2]) - 1, _column_number(ref[1]) - 1, text))


def _cell_end(data: bytes) -> int:
    """Where the last whole cell (``</c>``, or ``</x:c>`` with a namespace prefix) in ``data`` ends; 0 if none."""
    end = data.rfind(b"c>")
    while end >= 0 and not (data[end - 2:end] == b"</" or data[end - 1:end] == b":"):
        end = data.rfind(b"c>", 0, end)
    return 0 if end < 0 else end + 2


_MARK = re.compile(rb"f[ >/]")  # <f>, <f …, </f>, <x:f>: any formula element (and, rarely, some text)
_FORMULA_CELL = re.compile(
    rb"<(?:\w+:)?c\b([^>]*?)(?<!/)>\s*<(?:\w+:)?f\b[^>]*?(?:/>|>[^<]*</(?:\w+:)?f>)\s*"
    rb"(?:<(?:\w+:)?v>([^<]*)</(?:\w+:)?v>|<(?:\w+:)?v\s*/>)?\s*</(?:\w+:)?c>")
_REF = re.compile(rb'\br="([A-Z]{1,3})([0-9]+)"')
_TYPE = re.compile(rb'\bt="(\w+)"')


def _column_number(letters: bytes) -> int:
    """b"A" → 1, b"AB" → 28."""
    column = 0
    for ch in letters:
        column = column * 26 + ch - 64
    return column


# A cell reference attribute wherever it stands in its tag (a literal start lets the search skip ahead);
# a tab or line break before it is legal XML too, but then the sheet is measured cell by cell.
_ODD_SPACING = tuple((odd[:1], odd) for odd in (b'\tr="', b'\nr="', b'\rr="'))


def _odd_spacing(body: bytes) -> bool:
    """Whether a tab or line break stands before a cell reference in ``body`` (part of a worksheet's XML). Each is
    looked for only where its first character occurs at all, past the XML declaration (Excel and WPS break the
    line after it and nowhere else): a one-byte search is several times faster, and finds none in their files."""
    start = 0
    if body.startswith(b"<?xml") and (end := body.find(b"?>")) >= 0:
        start = body.find(b"<", end)  # the first tag after it (none: nothing in this part to look at)
        if start < 0:
            return False
    return any(body.find(char, start) >= 0 and odd in body for char, odd in _ODD_SPACING)


@functools.lru_cache(maxsize=None)
def _rows_of_digits(n: int) -> re.Pattern:
    """A cell reference whose row number has at least ``n`` digits."""
    return re.compile(rb' r="[A-Z]{1,3}[0-9]{%d,}"' % n)


_WIDE_REFS = re.compile(rb' r="([A-Z]{2,3})[0-9]')


def _sheet_titles(archive: zipfile.ZipFile) -> dict[str, str]:
    """Worksheet part → sheet title, read from workbook.xml and its relationships."""
    try:
        book = archive.read("xl/workbook.xml").decode("utf-8", "replace")
        rels = archive.read("xl/_rels/workbook.xml.rels").decode("utf-8", "replace")
    except KeyError:
        return {}
    targets = {rid: target for rid, target in re.findall(r'Id="([^"]+)"[^>]*?Target="([^"]+)"', rels)}
    targets.update({rid: target for target, rid in re.findall(r'Target="([^"]+)"[^>]*?Id="([^"]+)"', rels)})
    out = {}
    for attrs in re.findall(r"<(?:\w+:)?sheet\b([^>]*)/?>", book):
        name = re.search(r'name="([^"]*)"', attrs)
        rid = re.search(r'r:id="([^"]*)"', attrs)
        if name and rid and rid[1] in targets:
            target = targets[rid[1]].lstrip("/")
            out[target if target.startswith("xl/") else f"xl/{target}"] = _unescape(name[1])
    return out


def _unescape(text: str) -> str:
    return (text.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"')
            .replace("&apos;", "'").replace("&amp;", "&"))


def _stream_check(archive: zipfile.ZipFile, info: zipfile.ZipInfo, budget: int, extent: _Extent | None = None,
                  formulas: _Formulas | None = None):
    """Bytes this member really inflates to (stopping past ``budget``) and whether it declares entities; a
    worksheet's ``extent`` is measured and its ``formulas`` found on the way.

    The raw deflate stream is inflated with zlib and counted, not read through
    zipfile (which stops at the declared size and so believes a lying header).
    """
    with archive.open(info) as member:
        upper = member.read(4096).upper()
    if b"<!DOCTYPE" in upper or b"<!ENTITY" in upper:
        return 0, True
    fp = archive.fp
    fp.seek(info.header_offset)
    local = fp.read(30)
    start = info.header_offset + 30 + int.from_bytes(local[26:28], "little") + int.from_bytes(
        local[28:30], "little")
    fp.seek(start)
    readers = [r for r in (extent, formulas) if r is not None]  # what reads the worksheet as it streams by
    if info.compress_type == zipfile.ZIP_STORED:
        left = info.compress_size
        while left > 0 and readers:
            chunk = fp.read(min(_CHUNK, left))
            if not chunk:
                break
            left -= len(chunk)
            for reader in readers:
                reader.feed(chunk)
        for reader in readers:
            reader.close()
        return info.compress_size, False
    if info.compress_type != zipfile.ZIP_DEFLATED:
        raise NotImplementedError(info.compress_type)
    inflater = zlib.decompressobj(-15)
    used, left = 0, info.compress_size
    while left > 0 and not inflater.eof:
        chunk = fp.read(min(_CHUNK, left))
        if not chunk:
            break
        left -= len(chunk)
        while chunk:
            out = inflater.decompress(chunk, _CHUNK)
            used += len(out)
            if used > budget:
                raise _TooBig
            for reader in readers:
                reader.feed(out)
            chunk = inflater.unconsumed_tail
    for reader in readers:
        reader.close()
    return used, False


def _ole_has_stream(data: bytes, names: tuple[str, ...]) -> bool:
    """Whether an OLE compound file's directory names one of ``names`` (how encrypted OOXML is stored)."""
    head = data[: 8 * 2**20]
    return any(n.encode("utf-16-le") in head for n in names)


# -- .xls (BIFF8 in an OLE compound file): the formula cells whose saved result is an error ----------------------
# calamine reads such a cell of a .xls as a blank, as it does in a .xlsx (whose XML ``_Formulas`` reads); here the
# workbook stream is walked for FORMULA records whose result is an error ([MS-XLS] 2.4.127, 2.5.133).

_BIFF_ERRORS = {0x00: "#NULL!", 0x07: "#DIV/0!", 0x0F: "#VALUE!", 0x17: "#REF!", 0x1D: "#NAME?", 0x24: "#NUM!",
                0x2A: "#N/A"}
_FREE, _END = 0xFFFFFFFF, 0xFFFFFFFE


def xls_formula_errors(data: bytes) -> dict[str, list[tuple[int, int, str]]]:
    """By sheet title, the (row, column, error text) of a .xls workbook's (``data``) formula cells that hold an
    error; empty when the file cannot be walked so (calamine then reads it, or says why it cannot)."""
    try:
        stream = _ole_stream(data, ("Workbook", "Book"))
        return _biff_errors(stream) if stream else {}
    except (IndexError, ValueError, struct.error):
        return {}


def _ole_stream(data: bytes, names: tuple[str, ...]) -> bytes | None:
    """A stream of an OLE compound file, by name ([MS-CFB]); None when there is none."""
    size = 1 << struct.unpack_from("<H", data, 0x1E)[0]
    mini_size = 1 << struct.unpack_from("<H", data, 0x20)[0]
    first_dir, cutoff, first_mini_fat, mini_fat_count, first_difat, difat_count = struct.unpack_from(
        "<I4xIIIII", data, 0x30)

    def sector(n: int) -> bytes:
        return data[(n + 1) * size:(n + 2) * size]

    fat_sectors = list(struct.unpack_from("<109I", data, 0x4C))
    n, seen = first_difat, 0
    while n not in (_FREE, _END) and seen < difat_count:
        block = struct.unpack(f"<{size // 4}I", sector(n))
        fat_sectors += block[:-1]
        n, seen = block[-1], seen + 1
    fat: list[int] = []
    for n in fat_sectors:
        if n not in (_FREE, _END):
            fat += struct.unpack(f"<{size // 4}I", sector(n))

    def chain(start: int, table: list[int]) -> list[int]:
        out = []
        while start not in (_FREE, _END) and start < len(table) and len(out) <= len(table):
            out.append(start)
            start = table[start]
        return out

    directory = b"".join(sector(n) for n in chain(first_dir, fat))
    entries = [directory[i:i + 128] for i in range(0, len(directory), 128)]
    root = entries[0]
    for entry in entries:
        length = struct.unpack_from("<H", entry, 0x40)[0]
        name = entry[:max(length - 2, 0)].decode("utf-16-le", "replace")
        if entry[0x42] != 2 or name not in names:  # (2: a stream)
            continue
        start, length = struct.unpack_from("<II", entry, 0x74)
        if length >= cutoff:
            return b"".join(sector(n) for n in chain(start, fat))[:length]
        mini_stream = b"".join(sector(n) for n in chain(struct.unpack_from("<I", root, 0x74)[0], fat))
        raw = b"".join(sector(n) for n in chain(first_mini_fat, fat)[:mini_fat_count])
        mini_fat = list(struct.unpack(f"<{len(raw) // 4}I", raw))
        return b"".join(mini_stream[n * mini_size:(n + 1) * mini_size] for n in chain(start, mini_fat))[:length]
    return None


def _biff_errors(stream: bytes) -> dict[str, list[tuple[int, int, str]]]:
    """The error-valued FORMULA records of a BIFF8 workbook stream, by the title of the sheet they are in."""
    titles: dict[int, str] = {}  # a sheet's BOF offset → its title (BOUNDSHEET8 records of the globals)
    out: dict[str, list[tuple[int, int, str]]] = {}
    title, at = None, 0
    while at + 4 <= len(stream):
        kind, length = struct.unpack_from("<HH", stream, at)
        body = stream[at + 4:at + 4 + length]
        if kind == 0x0085 and len(body) >= 8:  # BOUNDSHEET8: the sheet's offset, state, type, name
            count, high = body[6], body[7] & 1
            titles[struct.unpack_from("<I", body, 0)[0]] = (
                body[8:8 + 2 * count].decode("utf-16-le", "replace") if high else body[8:8 + count].decode("latin-1"))
        elif kind == 0x0809:  # BOF: a sheet starts here (or the globals)
            title = titles.get(at)
        elif kind == 0x0006 and title is not None and len(body) >= 14:  # FORMULA: row, column, xf, result
            row, column = struct.unpack_from("<HH", body, 0)
            if body[12:14] == b"\xff\xff" and body[6] == 0x02:  # the result is an error, its code in byte 2
                out.setdefault(title, []).append((row, column, _BIFF_ERRORS.get(body[8], "#VALUE!")))
        at += 4 + length
    return out
