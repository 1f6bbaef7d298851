"""Read a submission workbook into raw frames: sheets, header rows, aliases, merged cells.

The reader is tolerant: it finds each sheet by name or alias (or by its
headers), finds the header row below title lines, maps header variants to the
dictionary's keys, fills merged cells downward and drops blank and footer rows.
It does not judge values; cleaning and validation do. Every kept row carries
its Excel row number so that every finding can name its cell.
"""
from __future__ import annotations

import functools
import hashlib
import io
import operator
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import python_calamine as calamine

from schemas.columns import COVER, DATA_SHEETS, IGNORED, Column, Sheet, cover_note

from ..config import Config
from ..cells import FormulaError, column_letter
from ..filenames import display_name
from ..findings import Finding, make_finding
from ..periods import parse_month
from .cleaning import compact, one_line

HEADER_SEARCH_ROWS = 15
_FOOTER = re.compile(r"^(填表人|制表人|填报人|审核人|负责人|审核|制表|单位负责人|联系人)\s*[:：]")
_UNIT_IN_BRACKETS = re.compile(r"[(\[【][^)\]】]*[)\]】]")
_BRANCH_LINE = re.compile(r"填报单位\s*[:：]\s*([^\s:：]+)")
_MONTH_LINE = re.compile(r"填报月份\s*[:：]\s*(\d{4}\s*[年./\-]\s*\d{1,2})")
_FILLED_LINE = re.compile(r"填报日期\s*[:：]\s*(\d{4}\s*[年./\-]\s*\d{1,2})")
_FILE_PERIOD = re.compile(r"(20\d{2})\s*[-年._]?\s*(\d{1,2})(?!\d)")


@functools.lru_cache(maxsize=4096, typed=True)
def normalize_label(text: object) -> str:
    """Canonical form of a header or sheet name for matching (remembered: every workbook repeats the template's
    headers, and the header search looks at every cell of the rows above the data)."""
    text = unicodedata.normalize("NFKC", str(text or ""))
    text = text.replace("*", "").replace("＊", "")
    text = _UNIT_IN_BRACKETS.sub("", text)
    text = re.sub(r"\s+", "", text)
    return text.rstrip(":：").lower()


def _lookup(sheet: Sheet) -> dict[str, Column]:
    table: dict[str, Column] = {}
    for col in sheet.read_columns:
        for label in (col.header, *col.aliases):
            table.setdefault(normalize_label(label), col)
    return table


_LOOKUPS = {s.key: _lookup(s) for s in (COVER, *DATA_SHEETS)}
_SHEET_NAMES = {normalize_label(n): s for s in (COVER, *DATA_SHEETS) for n in (s.name, *s.aliases)}


@dataclass
class SheetData:
    """One data sheet as found in the workbook, values still raw."""

    sheet: Sheet                      # the dictionary's sheet
    title: str                        # the sheet's name in the workbook
    frame: pd.DataFrame               # columns: keys found + "_row" (Excel row number)
    letters: dict[str, str]           # key → column letter
    headers: dict[str, str]           # key → header text as written
    header_row: int                   # Excel row number of the (last) header row
    hashes: np.ndarray                # a hash of each row of ``frame``, of its raw values (``row_hashes``)
    merged_into: dict[str, str] = field(default_factory=dict)  # a cell a merged range filled → its top-left cell


@dataclass
class Submission:
    """What the reader made of one workbook."""

    path: Path
    branch: str | None = None
    period: str | None = None
    cover: dict = field(default_factory=dict)
    sheets: dict[str, SheetData] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    ignored_sheets: list[str] = field(default_factory=list)
    months: tuple[str, ...] = ()  # every month the cover, the header lines and the file name name (they may differ)

    @property
    def no_change(self) -> bool:
        return self.cover.get("changed") == "无"


def read_workbook(path: Path, config: Config, formulas: dict | None = None) -> Submission:
    """Read every recognisable sheet of a workbook (.xlsx, .xlsm, .xls); ``formulas``: by sheet title, the
    formula cells the reader would take for blanks (``safety.Inspection.formulas``), read as ``FormulaError``."""
    sub = Submission(path=Path(path))
    name = display_name(sub.path.name)
    try:
        book = _open(Path(path))
    except calamine.PasswordError:
        sub.findings.append(make_finding("encrypted-workbook", name))
        return sub
    except Exception as exc:  # calamine raises several error types for corrupt files
        sub.findings.append(make_finding("read-failed", name, detail=_short(exc)))
        return sub
    try:
        _read_sheets(book, sub, config, formulas or {})
    except Exception as exc:
        sub.findings.append(make_finding("read-failed", name, detail=_short(exc)))
    finally:
        book.close()
    return sub


def _open(path: Path):
    """calamine's workbook; a name that is not valid UTF-8 (GBK bytes) is opened by handle."""
    try:
        str(path).encode("utf-8")
    except UnicodeEncodeError:
        with open(path, "rb") as handle:
            return calamine.CalamineWorkbook.from_filelike(io.BytesIO(handle.read()))
    return calamine.CalamineWorkbook.from_path(str(path))


def _short(exc: Exception) -> str:
    return (str(exc) or type(exc).__name__).splitlines()[0][:120]


def _read_sheets(book, sub: Submission, config: Config, formulas: dict) -> None:
    name = display_name(sub.path.name)
    max_rows = int(config.number("limits", "max_rows", minimum=1))
    grids: dict[str, tuple[list[list], list]] = {}
    assigned: dict[str, str] = {}  # sheet key → workbook sheet title
    unmatched: list[str] = []
    candidates: dict[str, list[str]] = {}
    sheets: dict[str, object] = {}

    def sheet_of(title: str):
        """Each sheet is parsed once (calamine parses a sheet on every request)."""
        if title not in sheets:
            sheets[title] = book.get_sheet_by_name(title)
        return sheets[title]

    for title in book.sheet_names:
        target = _SHEET_NAMES.get(normalize_label(title))
        if target is not None:
            candidates.setdefault(target.key, []).append(title)
        else:
            unmatched.append(title)
    for key, titles in candidates.items():
        sheet = next(s for s in (COVER, *DATA_SHEETS) if s.key == key)
        # Two sheets for one (e.g. an empty 客户信息表 beside 客户信息): the template's name wins,
        # else the first that has something in it; the other is ignored, and the clerk told.
        chosen = titles[0]
        if len(titles) > 1:
            exact = [t for t in titles if normalize_label(t) == normalize_label(sheet.name)]
            filled = [t for t in titles if sheet_of(t).total_height > 1]
            chosen = (exact + filled + titles)[0]
        assigned[key] = chosen
        for other in titles:
            if other != chosen:
                sub.ignored_sheets.append(other)
                sub.findings.append(make_finding("duplicate-sheet", display_name(sub.path.name), sheet=other,
                                                 detail=f"“{chosen}”", value=sheet.name))

    def grid(title: str):
        if title not in grids:
            sheet = sheet_of(title)
            if sheet.total_height > max_rows + HEADER_SEARCH_ROWS:
                grids[title] = None
                sub.findings.append(make_finding("too-many-rows", name, sheet=title,
                                                 detail=max_rows))
            else:
                rows = sheet.to_python(skip_empty_area=False)
                for row, column, text in formulas.get(title, ()):
                    if row < len(rows) and column < len(rows[row]):
                        rows[row][column] = FormulaError(text or FormulaError.NO_RESULT)
                grids[title] = (rows, sheet.merged_cell_ranges or [])
        return grids[title]

    # Sheets whose names are not the template's may still hold a data sheet
    # (e.g. "Sheet1" holding the customer table): recognise them by headers.
    for title in unmatched:
        data = grid(title)
        if data is None:
            continue
        for sheet in DATA_SHEETS:
            if sheet.key in assigned:
                continue
            if _find_header(data[0], sheet, strict=True) is not None:
                assigned[sheet.key] = title
                break
        else:
            sub.ignored_sheets.append(title)

    if not any(k in assigned for k in ("cover", *[s.key for s in DATA_SHEETS])):
        sub.findings.append(make_finding("no-known-sheet", name))
        return

    lines: dict[str, set[str]] = {"branch": set(), "period": set(), "filled": set()}
    if "cover" in assigned and grid(assigned["cover"]) is not None:
        _read_cover(grid(assigned["cover"])[0], assigned["cover"], sub)
        _check_cover(sub, assigned["cover"])
    for sheet in DATA_SHEETS:
        title = assigned.get(sheet.key)
        if title is None or grid(title) is None:
            continue
        rows, merged = grid(title)
        data = _read_data_sheet(rows, merged, sheet, title, sub)
        if data is not None:
            sub.sheets[sheet.key] = data
            if len(data.frame) > max_rows:
                sub.findings.append(make_finding("too-many-rows", name, sheet=title,
                                                 detail=max_rows))
        _scan_lines(rows[:HEADER_SEARCH_ROWS], lines)
    if "customers" not in assigned:
        sub.findings.append(make_finding("missing-sheet", name,
                                         sheet=DATA_SHEETS[0].name))
    _identify(sub, lines, config)


# -- cover ------------------------------------------------------------------

def _read_cover(rows: list[list], title: str, sub: Submission) -> None:
    """Label/value pairs: label in one cell, value in the next non-empty cell to its right."""
    lookup = _LOOKUPS["cover"]
    for r, row in enumerate(rows[:40]):
        for c, cell in enumerate(row):
            if cell in ("", None):
                continue
            text = str(cell)
            inline = re.match(r"^\s*([^:：]+?)\s*[:：]\s*(.+)$", text)
            label, value, vc = text, None, None
            if inline and normalize_label(inline.group(1)) in lookup:
                label, value, vc = inline.group(1), inline.group(2).strip(), c
            col = lookup.get(normalize_label(label))
            if col is None:
                continue
            if value is None:
                for vc in range(c + 1, len(row)):
                    if row[vc] not in ("", None):
                        # the template's note beside a field left blank is not its value
                        value = None if str(row[vc]).strip() == cover_note(col) else row[vc]
                        break
            # where the value belongs, filled or not (a blank 填报人 is reported on its cell)
            sub.cover.setdefault("_labels", {}).setdefault(col.key, (title, r + 1, column_letter(c + 1)))
            if isinstance(value, FormulaError):  # a formula's error is no value: told on its cell, left blank
                sub.findings.append(make_finding(value.code, display_name(sub.path.name), sheet=title, row=r + 1,
                                                 col_letter=column_letter(vc if vc is not None else c + 1),
                                                 column=col.header, value=value))
                sub.cover.setdefault("_unread", set()).add(col.key)
                break
            if isinstance(value, str):
                value = one_line(value)  # (Alt+Enter in 华东⏎分公司)
            if col.key not in sub.cover and value not in (None, ""):
                sub.cover[col.key] = value
                sub.cover.setdefault("_cells", {})[col.key] = (
                    title, r + 1, column_letter(vc if vc is not None else c + 1))
            break


def _check_cover(sub: Submission, title: str) -> None:
    """The cover's own rules: the 填报人 it asks for is required (the branch and month are checked with their other
    sources, ``_identify``), and 本月有无变化 is 有 or 无 (any other answer was taken for 有, silently)."""
    name = display_name(sub.path.name)
    labels = sub.cover.get("_labels", {})
    cells = sub.cover.get("_cells", {})
    filler = COVER.column("filler")
    unread = sub.cover.get("_unread", set())  # (a formula's error there: told already)
    blank = not str(sub.cover.get("filler") or "").strip()
    if "filler" not in labels:  # a cover of the branch's own that does not ask for it: asked for, not required
        sub.findings.append(make_finding("cover-no-filler", name, sheet=title))
    elif "filler" not in unread and blank:
        where = labels["filler"]
        sub.findings.append(make_finding("required", name, sheet=where[0], row=where[1], col_letter=where[2],
                                         column=filler.header))
    changed = COVER.column("changed")
    if "changed" in sub.cover:
        answer = compact(str(sub.cover["changed"]))
        if answer in changed.allowed:
            sub.cover["changed"] = answer
        else:
            where = cells["changed"]
            sub.findings.append(make_finding("not-allowed", name, sheet=where[0], row=where[1], col_letter=where[2],
                                             column=changed.header, value=sub.cover["changed"],
                                             allowed=changed.allowed))


def _scan_lines(rows: list[list], lines: dict[str, set[str]]) -> None:
    """Collect `填报单位：…` / `填报日期：…` lines written above a header."""
    for row in rows:
        for cell in row:
            if isinstance(cell, str) and "填报" in cell:
                text = unicodedata.normalize("NFKC", cell)
                if m := _BRANCH_LINE.search(text):
                    lines["branch"].add(m.group(1))
                if m := _MONTH_LINE.search(text):
                    lines["period"].add(m.group(1))
                if m := _FILLED_LINE.search(text):
                    lines["filled"].add(m.group(1))


# -- data sheets -------------------------------------------------------------

def _match_row(row: list, lookup: dict[str, Column]) -> dict[int, Column]:
    return {c: col for c, v in enumerate(row) if isinstance(v, str) and (col := lookup.get(normalize_label(v)))}


def _find_header(rows: list[list], sheet: Sheet, strict: bool = False):
    """(first header row index, last header row index, {col index: Column}) or None."""
    lookup = _LOOKUPS[sheet.key]
    required = [c for c in sheet.columns if c.required]
    best = None
    for r in range(min(HEADER_SEARCH_ROWS, len(rows))):
        found = _match_row(rows[r], lookup)
        last = r
        if not found:
            if best is not None and best[4] and r > best[2] + 1:
                break  # past a header with every required column, in the data: no better header follows
            continue
        # A header merged across two rows: take matches from the row below
        # for columns where this row holds a group label or nothing.
        if r + 1 < len(rows):
            below = _match_row(rows[r + 1], lookup)
            extra = {c: col for c, col in below.items() if c not in found}
            if extra and len(extra) >= 2:
                found = {**found, **extra}
                last = r + 1
        keys = {col.key for col in found.values()}
        score = len(keys) + sum(2 for col in required if col.key in keys)
        if best is None or score > best[0]:
            best = (score, r, last, found, len(keys) >= 3 and all(col.key in keys for col in required))
    if best is None:
        return None
    score, first, last, found, _ = best
    keys = {col.key for col in found.values()}
    need = 3 if strict else 2
    if len(keys) < need or (strict and not any(c.key in keys for c in required)):
        return None
    return first, last, found


def _read_data_sheet(rows: list[list], merged: list, sheet: Sheet, title: str,
                     sub: Submission) -> SheetData | None:
    name = display_name(sub.path.name)
    header = _find_header(rows, sheet)
    if header is None:
        example = "、".join(c.header for c in sheet.columns if c.required)
        sub.findings.append(make_finding("header-not-found", name, sheet=title, detail=example))
        return None
    first, last, found = header
    merged_into = _fill_merged(rows, merged, last + 1)

    # Columns: dictionary matches, duplicates, unknown headers.
    positions: dict[str, int] = {}
    headers: dict[str, str] = {}
    for c, col in sorted(found.items()):
        text = str(rows[last][c] if normalize_label(rows[last][c]) in _LOOKUPS[sheet.key]
                   else rows[first][c]).strip()
        if col.key in positions:
            sub.findings.append(make_finding(
                "duplicate-column", name, sheet=title, row=last + 1,
                col_letter=column_letter(c), column=col.header, value=text))
            continue
        positions[col.key] = c
        headers[col.key] = one_line(text)  # as written, on one line of a message
    for c in range(max((len(rows[i]) for i in range(first, last + 1)), default=0)):
        texts = [(r, rows[r][c]) for r in range(first, last + 1)
                 if c < len(rows[r]) and not _blank(rows[r][c])]
        if c not in found and texts:
            r, v = texts[-1]
            sub.findings.append(make_finding(
                "unknown-column", name, sheet=title, row=r + 1,
                col_letter=column_letter(c), value=str(v).strip()))
    for col in sheet.columns:
        if col.required and col.key not in positions:
            sub.findings.append(make_finding("missing-column", name, sheet=title,
                                             column=col.header))

    # Data rows: drop blank and footer rows.
    keys = [k for k in positions if sheet.column(k).kind != IGNORED]
    columns = [positions[k] for k in keys]
    pick = operator.itemgetter(*columns) if len(columns) > 1 else None  # (one column: not a tuple)
    width = max(columns, default=-1) + 1
    records, row_numbers = [], []
    for r in range(last + 1, len(rows)):
        row = rows[r]
        for first in row:  # the row's first cell with something in it
            if first != "" and first is not None:
                break
        else:
            continue
        if first.__class__ is str:  # (a number, date or TRUE/FALSE is never empty, nor a footer line)
            text = first.strip()
            if not text or _FOOTER.match(unicodedata.normalize("NFKC", text)):
                continue
        if pick is not None and len(row) >= width:
            values = list(pick(row))
        else:
            values = [row[c] if c < len(row) else "" for c in columns]
        for value in values:  # any cell of the sheet's columns not blank (``_blank``)
            if value is not None and (value.__class__ is not str or value.strip()):
                break
        else:
            continue
        records.append(values)
        row_numbers.append(r + 1)
    frame = pd.DataFrame(records, columns=keys, dtype=object)
    frame.insert(len(keys), "_row", np.array(row_numbers, dtype="int64"))  # (a third of the time of frame["_row"] = …)
    return SheetData(sheet=sheet, title=title, frame=frame,
                     letters={k: column_letter(positions[k]) for k in keys},
                     headers={k: headers[k] for k in keys}, header_row=last + 1,
                     hashes=row_hashes(keys, records), merged_into=merged_into)


def row_hashes(keys: list[str], records: list[list]) -> np.ndarray:
    """A 64-bit hash of each row's raw values (as read, before cleaning), the same in every process: of the
    repr of the tuple of its values by column key in sorted order (what the archive holds for each row, to find
    the rows a branch sends again unchanged). Hashed here, from the values the frame is built of, not from
    the frame's columns (a third of the time)."""
    order = sorted(range(len(keys)), key=keys.__getitem__)
    seed = hashlib.blake2b(digest_size=8, key="|".join(sorted(keys)).encode()[:64])
    if len(order) > 1:
        rows = map(operator.itemgetter(*order), records)
    else:  # (itemgetter of one index gives the value, not a tuple)
        rows = ((values[order[0]],) for values in records) if order else (() for _ in records)
    digests = bytearray()
    for row in rows:
        h = seed.copy()
        h.update(repr(row).encode())
        digests += h.digest()
    return np.frombuffer(bytes(digests), dtype="<i8").astype(np.int64)


def _blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _fill_merged(rows: list[list], merged: list, data_start: int) -> dict[str, str]:
    """Copy each merged range's top-left value into every cell it covers (data area); returns the cells filled so
    (their addresses, as D7) → the top-left cell they took it from (D6)."""
    filled: dict[str, str] = {}
    for (r0, c0), (r1, c1) in merged:
        if r1 < data_start:
            continue
        value = rows[r0][c0] if r0 < len(rows) and c0 < len(rows[r0]) else ""
        corner = f"{column_letter(c0)}{r0 + 1}"
        for r in range(max(r0, data_start), min(r1, len(rows) - 1) + 1):
            for c in range(c0, min(c1, len(rows[r]) - 1) + 1):
                if _blank(rows[r][c]):
                    rows[r][c] = value
                    if (r, c) != (r0, c0):
                        filled[f"{column_letter(c)}{r + 1}"] = corner
    return filled


# -- branch and period -------------------------------------------------------

def identify_from_name(path: Path, config: Config) -> tuple[str | None, str | None]:
    """(branch, month) as the file name gives them, for files whose content cannot be read.

    Only a roster branch counts here: a guess from a name that cannot be checked against
    the content must not file the workbook under a branch that does not exist.
    """
    branch = _branch_from_filename(Path(display_name(Path(path).name)).stem, config)
    month = None
    if m := _FILE_PERIOD.search(unicodedata.normalize("NFKC", Path(display_name(Path(path).name)).stem)):
        if 1 <= int(m.group(2)) <= 12:
            month = f"{m.group(1)}-{int(m.group(2)):02d}"
    return (branch if branch in config.branches else None), month


def _branch_from_filename(stem: str, config: Config) -> str | None:
    text = unicodedata.normalize("NFKC", stem)
    for branch in sorted(config.branches, key=len, reverse=True):
        if branch in text:
            return branch
    head = re.split(r"[_\-\s]", text)[0]
    return head if head.endswith("公司") else None


def _identify(sub: Submission, lines: dict[str, set[str]], config: Config) -> None:
    """Branch and month: cover, else the 填报单位 line, else the file name; disagreement is an error."""
    name = display_name(sub.path.name)
    cells = sub.cover.get("_cells", {})

    def cover_finding(code, key, value, **kw):
        title, row, letter = cells.get(key, ("", None, ""))
        return make_finding(code, name, sheet=title, row=row, col_letter=letter,
                            column=COVER.column(key).header, value=value, **kw)

    branches: list[tuple[str, str]] = []
    if sub.cover.get("branch"):
        branches.append((COVER.name, unicodedata.normalize("NFKC", str(sub.cover["branch"])).strip()))
    branches += [("表头“填报单位”行", b) for b in sorted(lines["branch"])]
    if b := _branch_from_filename(Path(display_name(sub.path.name)).stem, config):
        branches.append(("文件名", b))

    periods: list[tuple[str, str]] = []
    if "period" in sub.cover:
        p = parse_month(sub.cover["period"])
        if p is None:
            sub.findings.append(cover_finding("bad-period", "period", sub.cover["period"]))
        else:
            periods.append((COVER.name, p))
    periods += [("表头“填报日期”行", p) for p in map(parse_month, sorted(lines["period"])) if p]
    if m := _FILE_PERIOD.search(unicodedata.normalize("NFKC", Path(display_name(sub.path.name)).stem)):
        if 1 <= int(m.group(2)) <= 12:
            periods.append(("文件名", f"{m.group(1)}-{int(m.group(2)):02d}"))
    if not periods:
        # The fill date is only a last resort: a March report may be filled in April.
        periods += [("表头“填报日期”行", p) for p in map(parse_month, sorted(lines["filled"])) if p][:1]

    for label, found, attr, missing in ((COVER.column("branch").header, branches, "branch", "missing-branch"),
                                        (COVER.column("period").header, periods, "period", "missing-period")):
        distinct = dict.fromkeys(v for _, v in found)
        if not found:
            if not sub.cover.get("_labels"):  # no cover to fill in: it is the cover that is missing (said once)
                if not any(f.code == "missing-cover" for f in sub.findings):
                    sub.findings.append(make_finding("missing-cover", name, sheet=COVER.name))
            elif not any(f.code == "bad-period" for f in sub.findings) or attr == "branch":
                sub.findings.append(make_finding(missing, name))
            continue
        setattr(sub, attr, found[0][1])
        if attr == "period":
            sub.months = tuple(distinct)
            if not sub.cover.get("_labels") and sub.branch:  # found elsewhere, but the cover is the contract
                sub.findings.append(make_finding("no-cover", name, sheet=COVER.name,
                                                 detail="、".join(dict.fromkeys(src for src, _ in found))))
        if len(distinct) > 1:
            shown = "；".join(f"{src}为“{v}”" for src, v in found)
            key = attr
            if key in cells:
                sub.findings.append(cover_finding("source-conflict", key, shown, detail=label))
            else:
                sub.findings.append(make_finding("source-conflict", name, value=shown,
                                                 detail=label))
