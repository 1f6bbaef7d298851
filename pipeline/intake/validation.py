"""Validate a submission: safety, reading, cleaning, pandera and the cross-field rules.

The outcome of one file is a Result: its verdict, the findings (each naming its
cell) and, when accepted, the clean typed frames that the archive merges.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pandera.pandas as pa

from schemas.columns import (CODE, COVER, DATA_SHEETS, DISSATISFIED, IGNORED, NUMBER, SHEETS_BY_KEY,
                             TEXT, YES, Column, Sheet)
from schemas.models import checked_schema, lost_leading_zero, phone_ok

from ..cells import FormulaError
from ..config import Config
from ..filenames import display_name
from ..findings import ERROR, WARNING, Finding, has_errors, has_finding, make_finding
from ..identity import normalize_name, uscc_problem
from . import safety
from .cleaning import clean_frame, compact
from .reading import SheetData, Submission, identify_from_name, read_workbook

ACCEPTED, REJECTED, IGNORED_FILE = "accepted", "rejected", "ignored"
GROUP = 8  # files validated together at most (``validate_files``): their raw rows are held at the same time
SURVEY_ITEMS = ("customer_service", "engineering_quality", "service_quality", "after_service")


# Findings that mean the file was never read as a workbook (or is too large to copy): its feedback
# holds the list of findings only, never a copy of the submission.
UNREADABLE = {"not-a-workbook", "encrypted-workbook", "csv-not-accepted", "unsafe-workbook",
              "read-failed", "empty-file", "too-many-cells", "too-many-rows", "internal-error"}


@dataclass
class Result:
    """The verdict on one file."""

    file: Path
    status: str
    branch: str | None = None
    period: str | None = None
    findings: list[Finding] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    no_change: bool = False
    cover: dict = field(default_factory=dict)
    frames: dict[str, pd.DataFrame] = field(default_factory=dict)
    filled_on: str | None = None    # the cover's 填报日期 as YYYY-MM-DD
    inflated: int = 0               # bytes of XML the workbook decompresses to
    copyable: bool = True           # small enough for a feedback copy of the whole workbook
    rows: dict[str, "SheetRows"] = field(default_factory=dict)  # per data sheet: row order and raw hashes
    reused_from: int | None = None  # the branch's submission whose unchanged rows this file repeats
    prefilled: bool = False         # a pre-filled workbook (its rows carry 档案编号)
    period_cell: tuple = ("", None, "")  # where the month was read: (sheet, row, column letters)
    months: tuple = ()              # every month the file names, when its sources disagree more than one
    prefill_as_of: str | None = None  # this month's pre-filled workbook: the month its rows show (PREFILL_MARK)
    stored: dict = field(default_factory=dict)  # the clean rows as the archive stores them, made by a worker in
    #                                             place of ``frames`` (archive.schema.stored_texts)

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == ERROR]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == WARNING]

    def as_dict(self) -> dict:
        return {"file": str(self.file), "branch": self.branch, "period": self.period,
                "status": self.status, "counts": self.counts,
                "findings": [f.as_dict() for f in self.findings]}


@dataclass
class SheetRows:
    """Where a sheet's rows come from: each row's raw hash, and which rows repeat the branch's last file.

    ``frames`` hold the clean rows that are new or changed (``seqs`` gives their place in the sheet);
    a repeated row (``reused``) was neither cleaned nor validated again: the archive copies the clean
    row it stored from the branch's last accepted file.
    """

    hashes: list[int]               # every row's raw hash (signed 64-bit), in sheet order
    reused: list[int]               # positions of the rows identical to the branch's last file
    seqs: list[int]                 # positions of the rows in the clean frame

    @property
    def total(self) -> int:
        return len(self.hashes)


# The columns the rules that look at every row need, repeated or not: duplicates, references between
# sheets, and the warnings a branch is given again each month (missing codes, complaint deadlines,
# unknown project departments).
KEY_COLUMNS = {"customers": ("uscc", "name", "department", "archive_no"),
               "projects": ("contract_no", "customer_name", "customer_uscc", "department", "archive_no"),
               "surveys": ("customer_name", "customer_uscc", "department"),
               "complaints": ("complaint_no", "customer_name", "customer_uscc", "complained_at", "first_response_at",
                              "resolved_at", "feedback_at", "department", "archive_no"),
               "visits": ("customer_name", "customer_uscc", "department")}


def meta_fields(result: "Result") -> dict[str, str | None]:
    """What the archive keeps of a result besides its rows and verdict (``SubmissionMeta``'s fields): the cover's
    填报人 and 联系电话 as text (next month's pre-filled cover shows them), and the month a pre-filled workbook's
    rows show (its rows are compared with that)."""
    out = {"prefill_as_of": result.prefill_as_of if result.prefilled else None}
    for key, field_name in (("filler", "filler"), ("phone", "filler_phone")):
        out[field_name] = _cover_text(result.cover.get(key))
    return out


def _cover_text(value) -> str | None:
    """A cover value as text (a number typed there, as a phone often is, without its “.0”); None when blank."""
    if value in (None, ""):
        return None
    return str(int(value) if isinstance(value, float) and value.is_integer() else value).strip()


def readable(result: "Result") -> bool:
    """Whether a feedback copy can be made of the file: it was read, and is small enough to copy."""
    return result.copyable and not any(f.code in UNREADABLE for f in result.findings)


def validate_paths(paths: list[Path], config: Config) -> list[Result]:
    """Validate files and folders; ignored files (lock files, hidden) are listed too."""
    files, ignored = safety.list_inbox(paths)
    results = [Result(file=i.path, status=IGNORED_FILE, findings=i.findings) for i in ignored]
    for start in range(0, len(files), GROUP):
        results += validate_files(files[start:start + GROUP], config)
    return results


def validate_file(path: Path, config: Config, *, known_customers: set[str] | None = None,
                  known_rows: dict | None = None, numbers: dict | None = None) -> Result:
    """Everything wrong with one workbook, and its clean frames when it is acceptable.

    ``known_customers`` holds archive identities (credit codes and normalised
    names) that rows in dependent sheets may refer to without a warning.
    ``known_rows`` maps a branch to (its last accepted submission, {sheet key: raw row hashes}):
    rows identical to that file are not cleaned or validated again (they were accepted as they
    are); whole-sheet rules (duplicates, references) still see every row.
    ``numbers`` maps a numbered sheet to {archive number: the branches it belongs to}, to check the
    档案编号 of a pre-filled workbook (without it only their form and uniqueness are checked).
    """
    return validate_files([path], config, known_customers=known_customers, known_rows=known_rows,
                          numbers=numbers)[0]


def validate_each(paths: list[Path], config: Config, **known) -> list:
    """``validate_files``, with each file's result or the exception its validation raised: one file that
    breaks validation does not take the others with it (they are validated again one by one)."""
    try:
        return validate_files(paths, config, **known)
    except Exception as exc:  # noqa: BLE001 — told apart below, file by file
        if len(paths) == 1:
            return [exc]
    out = []
    for path in paths:
        try:
            out.append(validate_file(path, config, **known))
        except Exception as exc:  # noqa: BLE001 — reported on that file by the caller
            out.append(exc)
    return out


def validate_files(paths: list[Path], config: Config, *, known_customers: set[str] | None = None,
                   known_rows: dict | None = None, numbers: dict | None = None) -> list[Result]:
    """``validate_file`` of several files, with the same results: the new and changed rows of all of them
    are cleaned and given to pandera together, one sheet at a time.

    A month's files each change a few rows, and cleaning and pandera cost about as much for a few rows as
    for a few hundred (some 0.15 ms per column and call): together, that cost is paid once for the group.
    """
    opened = [_open_file(Path(path), config, known_rows) for path in paths]
    pending = [o for o in opened if isinstance(o, _Opened)]
    for sheet in DATA_SHEETS:
        held = [(o, o.sheets[sheet.key]) for o in pending if sheet.key in o.sheets]
        checked = _clean_and_check(sheet, [_changed(data, same) for o, (data, same) in held])
        keys = _every_row_keys(sheet, [(data.frame, same) for o, (data, same) in held])
        for (o, (data, same)), (frame, failures, cases), every in zip(held, checked, keys):
            frame, o.keys[sheet.key], found = _sheet_findings(data, o.name, config, _reference_time(o.result),
                                                               frame, every, failures, cases, _latest_time(o.result))
            o.frames[sheet.key] = frame
            o.findings += found
    return [_close_file(o, known_customers, numbers, config) if isinstance(o, _Opened) else o for o in opened]


@dataclass
class _Opened:
    """A workbook read (its raw rows hashed and compared with the branch's last file), not yet checked."""

    result: Result
    sub: Submission
    name: str
    findings: list[Finding]
    sheets: dict[str, tuple[SheetData, np.ndarray]]  # sheet key → (its rows, which repeat the last file)
    frames: dict[str, pd.DataFrame] = field(default_factory=dict)
    keys: dict[str, pd.DataFrame] = field(default_factory=dict)


def _open_file(path: Path, config: Config, known_rows: dict | None) -> "Result | _Opened":
    """The file read, or its Result when there is nothing to check (a branch document, an unreadable file)."""
    from .documents import classify, problems
    document = classify(path, config)
    if document is not None:  # a branch document: filed by its name, its content is not checked
        return Result(file=path, status=REJECTED if (found := problems(document, path, config)) else ACCEPTED,
                      findings=found, branch=document.branch, period=document.period, copyable=False)
    inspection = safety.inspect_file(path, config)
    if not inspection.readable:
        status = IGNORED_FILE if inspection.kind == "ignored" else REJECTED
        branch, period = identify_from_name(path, config) if status == REJECTED else (None, None)
        return Result(file=path, status=status, findings=list(inspection.findings), branch=branch,
                      period=period, copyable=False)
    sub = read_workbook(path, config, inspection.formulas)
    findings = list(inspection.findings) + sub.findings
    result = Result(file=path, status=REJECTED, branch=sub.branch, period=sub.period,
                    no_change=sub.no_change, cover={k: v for k, v in sub.cover.items()
                                                    if not k.startswith("_")},
                    filled_on=_date_text(sub.cover.get("filled_on")), inflated=inspection.inflated,
                    copyable=inspection.inflated <= config.get("limits", "feedback_copy_mib") * 2**20,
                    period_cell=tuple(sub.cover.get("_cells", {}).get("period", ("", None, ""))), months=sub.months,
                    prefill_as_of=inspection.prefill_of[1] if inspection.prefill_of and
                    inspection.prefill_of[0] == sub.period else None)  # (last month's, reused: not this month's)
    if any(f.code in UNREADABLE for f in sub.findings):  # not read: the file name still tells
        from_name = identify_from_name(path, config)
        result.branch, result.period = result.branch or from_name[0], result.period or from_name[1]
    name = display_name(path.name)
    conflicting = has_finding(sub.findings, "source-conflict", COVER.column("branch").header)
    if sub.branch and sub.branch not in config.branches and not conflicting:  # (one message for one slip)
        cells = sub.cover.get("_cells", {})
        title, row, letter = cells.get("branch", ("", None, ""))
        findings.append(make_finding("unknown-branch", name, sheet=title, row=row,
                                     col_letter=letter, column=COVER.column("branch").header,
                                     value=sub.branch,
                                     allowed=config.branches))
    findings += _cover_phone(sub, name)
    opened = _Opened(result, sub, name, findings, {})
    previous = (known_rows or {}).get(sub.branch) if sub.branch else None
    if previous is not None:
        result.reused_from = previous[0]
    for sheet in DATA_SHEETS:
        data = sub.sheets.get(sheet.key)
        if data is None:
            opened.frames[sheet.key] = opened.keys[sheet.key] = _empty_frame(sheet)
            continue
        result.counts[sheet.name] = len(data.frame)  # by the template's name, whatever the branch called it
        hashes = data.hashes
        known = previous[1].get(sheet.key) if previous is not None else None
        same = np.isin(hashes, known) if known is not None and len(known) else np.zeros(len(hashes), dtype=bool)
        opened.sheets[sheet.key] = (data, same)
        result.rows[sheet.key] = SheetRows(hashes.tolist(), np.flatnonzero(same).tolist(),
                                           np.flatnonzero(~same).tolist())
    return opened


def _cover_phone(sub: Submission, name: str) -> list[Finding]:
    """The cover's 联系电话, when filled, is a phone number (a 提示: it is how the department reaches the filler)."""
    value = sub.cover.get("phone")
    if value in (None, "") or isinstance(value, FormulaError):
        return []
    text = compact(_cover_text(value) or "")
    if phone_ok(text):
        return []
    title, row, letter = sub.cover.get("_cells", {}).get("phone", ("", None, ""))
    detail = "（像是丢了区号开头的 0：单元格是数字格式时 Excel 会去掉它，请设为文本格式后重填）" if lost_leading_zero(text) else ""
    return [make_finding("cover-bad-phone", name, sheet=title, row=row, col_letter=letter,
                         column=COVER.column("phone").header, value=text, detail=detail)]


def _close_file(opened: _Opened, known_customers: set[str] | None, numbers: dict | None,
                config: Config) -> Result:
    """The verdict on a file whose sheets are checked: the rules between its sheets, then accepted or not."""
    sub, name, keys, result, findings = opened.sub, opened.name, opened.keys, opened.result, opened.findings
    if sub.sheets:
        findings += _cross_sheet(sub, keys, name, known_customers or set())
        findings += _archive_numbers(sub, keys, name, numbers)
        result.prefilled = any("archive_no" in data.letters for data in sub.sheets.values())
        findings += _departments(sub, keys, name, config.departments(sub.branch or ""))
        if not sub.no_change and not any(len(data.frame) for data in sub.sheets.values()):
            findings.append(make_finding("no-rows", name))
    result.findings = _ordered(findings)
    result.status = REJECTED if has_errors(result.findings) else ACCEPTED
    if result.status == ACCEPTED:
        result.frames = opened.frames
    return result


def _date_text(value) -> str | None:
    """The cover's 填报日期 as YYYY-MM-DD (None when blank or unreadable)."""
    from .cleaning import Unparseable, parse_datetime
    if value in (None, ""):
        return None
    try:
        return parse_datetime(value, with_time=False).strftime("%Y-%m-%d")
    except (Unparseable, ValueError, TypeError, OverflowError):
        return None


def _empty_frame(sheet: Sheet) -> pd.DataFrame:
    frame, _ = clean_frame(pd.DataFrame({"_row": pd.Series([], dtype="int64")}),
                           [c for c in sheet.read_columns if c.kind != IGNORED])
    return frame


def _ordered(findings: list[Finding]) -> list[Finding]:
    order = {s.name: i for i, s in enumerate(SHEETS_BY_KEY.values())}
    return sorted(findings, key=lambda f: (f.sheet != "", order.get(f.sheet, 99), f.sheet,
                                           f.row or 0, len(f.cell), f.cell))


class _Locator:
    """Builds findings that point at a cell of one sheet."""

    def __init__(self, data: SheetData, frame: pd.DataFrame, file: str):
        self.data, self.frame, self.file = data, frame, file

    def __call__(self, code: str, index, column: Column | None, value=None, **kw) -> Finding:
        key = column.key if column else ""
        letter = self.data.letters.get(key, "")
        if not letter and column is None:
            letter = "A"
        header = self.data.headers.get(key, column.header if column else "")
        return make_finding(code, self.file, sheet=self.data.title,
                            row=int(self.frame.at[index, "_row"]), col_letter=letter,
                            column=header, value=value, **kw)


def _reference_time(result: "Result") -> pd.Timestamp | None:
    """When the workbook speaks for: its cover's 填报日期 (end of day), else the end of its month. A 填报日期 not yet
    come (a typo: 2027 for 2026) is not taken: it would let the workbook's dates run as far."""
    if result.filled_on and result.filled_on <= dt.date.today().isoformat():
        return pd.Timestamp(result.filled_on) + pd.Timedelta(hours=23, minutes=59)
    if result.period:
        from ..periods import month_end
        return pd.Timestamp(month_end(result.period))
    return None


def _latest_time(result: "Result") -> pd.Timestamp | None:
    """The latest a date in the workbook can be: the end of its month, or of its 填报日期 when that is later."""
    if not result.period:
        return None
    from ..periods import month_end
    return max(pd.Timestamp(month_end(result.period)), _reference_time(result))


def _changed(data: SheetData, same: np.ndarray) -> pd.DataFrame:
    """The raw rows of a sheet that do not repeat the branch's last file (every row when none does)."""
    return data.frame[~same] if same.any() else data.frame


def _clean_together(raws: list[pd.DataFrame], columns: list[Column]):
    """``clean_frame`` of each raw frame, by its own index, the frames cleaned as one (the fixed cost of cleaning
    a column paid once): ([(clean frame, cells that failed to parse)] for each, the clean frame of all of them
    (None when they have no rows), and where each frame's rows are in it (row ``bounds[n]`` to ``bounds[n + 1]``,
    ``n`` counting the frames that have rows)).

    A column some frames lack is blank in theirs (NaN), which cleans to what a missing column gets."""
    filled = [raw for raw in raws if len(raw)]
    if not filled:
        return [(clean_frame(raw, columns)[0], []) for raw in raws], None, None
    batch = pd.concat(filled, ignore_index=True) if len(filled) > 1 else filled[0].reset_index(drop=True)
    frame, failures = clean_frame(batch, columns)
    bounds = np.cumsum([0] + [len(raw) for raw in filled])
    parts = []
    for n, raw in enumerate(filled):  # back to each file: its rows, by its own index
        low, high = bounds[n], bounds[n + 1]
        own = [(raw.index[i - low], column, value) for i, column, value in failures if low <= i < high]
        parts.append((frame.iloc[low:high].set_axis(raw.index), own))
    shared = iter(parts)
    return [next(shared) if len(raw) else (clean_frame(raw, columns)[0], []) for raw in raws], frame, bounds


def _clean_and_check(sheet: Sheet, raws: list[pd.DataFrame]) -> list[tuple[pd.DataFrame, list, pd.DataFrame | None]]:
    """Each raw frame of ``sheet`` cleaned and checked by its pandera schema, all in one go:
    (clean frame, cells that failed to parse, pandera's failure cases or None) for each, by its own index.

    The findings of a column a frame lacks are dropped later, as for one file (``_pandera_findings``)."""
    parts, frame, bounds = _clean_together(raws, [c for c in sheet.read_columns if c.kind != IGNORED])
    cases = None
    if frame is not None:
        try:
            checked_schema(sheet.key).validate(frame, lazy=True)
        except pa.errors.SchemaErrors as exc:
            cases = exc.failure_cases
    if cases is None:
        return [(part, failures, None) for part, failures in parts]
    at = pd.to_numeric(cases["index"], errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
    owner = np.searchsorted(bounds, at, side="right") - 1  # the frame (of those with rows) a case is in; NaN: none
    out, n = [], 0
    for raw, (part, failures) in zip(raws, parts):
        mine = None
        if len(raw):
            if (owner == n).any():
                mine = cases[owner == n].copy()
                mine["index"] = raw.index[(at[owner == n] - bounds[n]).astype(int)]
            n += 1
        out.append((part, failures, mine))
    return out


def _every_row_keys(sheet: Sheet, raws: list[tuple[pd.DataFrame, np.ndarray]]) -> list[pd.DataFrame | None]:
    """The key columns (``KEY_COLUMNS``) of every row of each sheet that repeats rows of the branch's last file,
    cleaned together (None for a sheet that repeats none: its clean frame holds every row)."""
    columns = [c for c in sheet.read_columns if c.kind != IGNORED and c.key in KEY_COLUMNS.get(sheet.key, ())]
    wanted = [c.key for c in columns] + ["_row"]
    repeating = [raw[[k for k in wanted if k in raw]] for raw, same in raws if same.any()]
    cleaned = iter(_clean_together(repeating, columns)[0])
    return [next(cleaned)[0] if same.any() else None for raw, same in raws]


def _sheet_findings(data: SheetData, file: str, config: Config, reference: pd.Timestamp | None,
                    frame: pd.DataFrame, keys: pd.DataFrame | None, failures: list, cases: pd.DataFrame | None,
                    latest: pd.Timestamp | None = None) -> tuple[pd.DataFrame, pd.DataFrame, list[Finding]]:
    """The clean frame of the new and changed rows, the key columns of every row, and the findings of a sheet
    whose changed rows ``frame`` are cleaned (``failures``) and checked by pandera (``cases``).

    ``keys``: the key columns of every row (None: ``frame`` holds every row), for the rules that compare rows
    (duplicates) and sheets (references); the rows that repeat the branch's last accepted file are not cleaned
    or checked otherwise.
    """
    sheet = data.sheet
    keys = frame if keys is None else keys
    at = _Locator(data, frame, file)
    findings: list[Finding] = []
    flagged: set[tuple] = set()
    for index, column, raw in failures:
        code = raw.code if isinstance(raw, FormulaError) else FAILED_CODES[column.kind]
        findings.append(at(code, index, column, raw))
        flagged.add((index, column.key))
    if cases is not None:
        findings += _pandera_findings(cases, sheet, data, at, flagged)
    unread = {f.cell for f in findings}  # a cell that could not be read is not also a blank one
    more = _row_rules(sheet, frame, data, at, config, reference, latest) if len(frame) else []
    # (every row repeats the last file: the rules of one row have nothing to look at)
    every_row = _Locator(data, keys, file)
    more += _row_warnings(sheet, keys, data, every_row, config, reference)
    more += _sheet_duplicates(sheet, keys, every_row)
    return frame, keys, _once_per_merged_range(data, findings + [f for f in more if not f.cell or f.cell not in unread])


def _once_per_merged_range(data: SheetData, findings: list[Finding]) -> list[Finding]:
    """A value a merged range repeats down its rows is reported once, at the range's top-left cell (the only one
    the clerk can edit), not again on each row it covers."""
    if not data.merged_into:
        return findings
    prefix = f"{data.title}!"
    at_corner = {(f.code, f.cell) for f in findings}
    return [f for f in findings if not (f.cell.startswith(prefix) and (f.code, prefix + data.merged_into.get(
        f.cell[len(prefix):], "")) in at_corner)]


FAILED_CODES = {"number": "bad-number", "year": "bad-year", "date": "bad-date", "datetime": "bad-date"}


def _sheet_duplicates(sheet: Sheet, keys: pd.DataFrame, at: "_Locator") -> list[Finding]:
    """The same credit code, name, contract or complaint number twice in one sheet (every row counts)."""
    col = sheet.column
    if sheet.key == "customers":
        names = [normalize_name(v) if v else None for v in keys["name"].tolist()]
        by_code = _duplicates(keys, "uscc", col("uscc"), at)
        coded = {f.row for f in by_code}  # a row copied whole repeats its code and its name: one error, the code's
        return by_code + [f for f in _duplicates(keys, "name", col("name"), at, values=names) if f.row not in coded]
    if sheet.key == "projects":
        return _duplicates(keys, "contract_no", col("contract_no"), at)
    if sheet.key == "complaints":
        return _duplicates(keys, "complaint_no", col("complaint_no"), at)
    return []


def _typed_as_number(raw: pd.DataFrame, index, key: str) -> bool:
    """Whether the cell was a number as read (an 18-digit code in a number cell keeps 15 significant digits)."""
    value = raw.at[index, key] if index in raw.index and key in raw.columns else None
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _pandera_findings(cases: pd.DataFrame, sheet: Sheet, data: SheetData, at: _Locator,
                      flagged: set) -> list[Finding]:
    findings = []
    for case in cases.itertuples(index=False):
        key, check, index = case.column, str(case.check), case.index
        if key not in data.letters and key in {c.key for c in sheet.columns}:
            continue  # column absent from the sheet: reported once as missing-column
        if index is None or pd.isna(index) or (index, key) in flagged:
            continue
        column = sheet.column(key)
        value = at.frame.at[index, key]
        if check == "not_nullable":
            findings.append(at("required", index, column))
        elif check == "not-allowed":
            findings.append(at("not-allowed", index, column, value, allowed=column.allowed))
        elif check == "bad-uscc" and _typed_as_number(data.frame, index, key):
            findings.append(at("uscc-as-number", index, column, value))
        elif check == "bad-uscc":
            findings.append(at("bad-uscc", index, column, value, detail=uscc_problem(value)))
        elif check == "too-long":
            findings.append(at("too-long", index, column, value, detail=column.max_length))
        elif check == "bad-phone" and lost_leading_zero(value):
            findings.append(at("phone-lost-zero", index, column, value))
        elif check in ("negative-number", "bad-year", "bad-phone", "bad-email"):
            findings.append(at(check, index, column, value))
        else:  # a check we did not name: still report it, never lose it
            findings.append(at("not-allowed", index, column, value, allowed=column.allowed))
    return findings


# Dates that cannot be later than the report (what was done by then); a project's may be planned, so only told.
DONE_BY_THEN = {"visits": ("visited_on",), "surveys": ("surveyed_on",),
                "complaints": ("complained_at", "first_response_at", "resolved_at", "feedback_at")}
PLANNED = {"projects": ("signed_on", "started_on")}


def _after_report(sheet: Sheet, frame: pd.DataFrame, at: _Locator, latest: pd.Timestamp | None) -> list[Finding]:
    """Dates after the month reported (and its 填报日期): a slip of the year or month (2062 for 2026) would put a
    visit, survey or complaint where no report has been yet."""
    if latest is None:
        return []
    out = []
    for keys, code in ((DONE_BY_THEN.get(sheet.key, ()), "date-after-report"),
                       (PLANNED.get(sheet.key, ()), "date-after-report-planned")):
        for key in keys:
            if key not in frame:
                continue
            stamps = frame[key]
            for i in frame.index[(stamps > latest).fillna(False).to_numpy(dtype=bool)]:
                out.append(at(code, i, sheet.column(key), stamps[i], detail=f"{latest:%Y-%m-%d}"))
    return out


def _has(frame: pd.DataFrame, key: str) -> pd.Series:
    return frame[key].notna()


def _row_rules(sheet: Sheet, frame: pd.DataFrame, data: SheetData, at: _Locator,
               config: Config, reference: pd.Timestamp | None = None,
               latest: pd.Timestamp | None = None) -> list[Finding]:
    """Conditional requirements, date order, dates later than the report and duplicates inside one sheet."""
    after = _after_report(sheet, frame, at, latest)
    out: list[Finding] = _caps(sheet, frame, data, at, config) + after
    slipped = {f.row for f in after if f.severity == ERROR}  # a year typed wrong: not also every date order after it
    col = sheet.column
    if sheet.key == "customers":
        strategic = frame["strategic"] == YES
        for key in ("specialist", "liaison_leader"):
            for i in frame.index[strategic & ~_has(frame, key)]:
                out.append(at("conditional-required", i, col(key),
                              detail="战略客户须指定营销专员和联点领导"))
    elif sheet.key == "projects":
        for i in frame.index[frame["status"].isin(config.awarded) & ~_has(frame, "amount")]:
            out.append(at("conditional-required", i, col("amount"),
                          detail=f"项目状态为“{frame.at[i, 'status']}”时须填写合同额"))
        out += _date_order(frame, "completed_on", "started_on", sheet, data, at)
    elif sheet.key == "surveys":
        unhappy = frame[list(SURVEY_ITEMS)].eq(DISSATISFIED).any(axis=1)
        for i in frame.index[unhappy & ~_has(frame, "dissatisfaction_note")]:
            out.append(at("conditional-required", i, col("dissatisfaction_note"),
                          detail="有“不满意”项时须说明原因"))
    elif sheet.key == "complaints":
        out += _date_order(frame, "first_response_at", "complained_at", sheet, data, at)
        out += _date_order(frame, "resolved_at", "complained_at", sheet, data, at)
        out += _date_order(frame, "feedback_at", "resolved_at", sheet, data, at)
    return [f for f in out if not (f.code == "date-order" and f.row in slipped)]


def _row_warnings(sheet: Sheet, keys: pd.DataFrame, data: SheetData, at: "_Locator", config: Config,
                  reference: pd.Timestamp | None) -> list[Finding]:
    """Warnings given on every row, repeated or not: a missing credit code, complaint deadlines."""
    out: list[Finding] = []
    col = sheet.column
    if sheet.key == "customers" and "uscc" in data.letters:
        out += [at("missing-uscc", i, col("uscc")) for i in keys.index[~_has(keys, "uscc")]]
    if sheet.key == "complaints":
        response, feedback = (config.get("complaints", "response_hours"),
                              config.get("complaints", "feedback_hours"))
        out += _late(keys, "first_response_at", "complained_at", response, col, at,
                     f"首次响应应在投诉后 {response:g} 小时内")
        if reference is not None:  # never answered, and the limit has passed by the time of the report
            waited = (reference.to_datetime64() - _stamps(keys, "complained_at")) / np.timedelta64(1, "h")  # NaT: NaN
            for n in np.flatnonzero(np.isnat(_stamps(keys, "first_response_at")) & (waited > response)):
                out.append(at("no-response", keys.index[n], col("first_response_at"), None,
                              detail=f"{response:g} 小时（至 {reference:%Y-%m-%d} 已 {waited[n] / 24:.0f} 天）"))
        out += _late(keys, "feedback_at", "resolved_at", feedback, col, at,
                     f"处理完成后 {feedback:g} 小时内应反馈结果")
    return out


def _caps(sheet: Sheet, frame: pd.DataFrame, data: SheetData, at, config: Config) -> list[Finding]:
    """Text no longer than [limits] max_text_length; amounts within [limits] max_amount (万元)."""
    out = []
    longest = config.get("limits", "max_text_length")
    biggest = config.get("limits", "max_amount")
    for column in sheet.columns:
        if column.key not in data.letters:
            continue
        values = frame[column.key]
        if column.kind in (TEXT, CODE) and (column.max_length is None or column.max_length > longest):
            for i, v in zip(frame.index, values.tolist()):
                if isinstance(v, str) and len(v) > longest:
                    out.append(at("too-long", i, column, f"{v[:20]}…（共 {len(v)} 字）", detail=longest))
        elif column.kind == NUMBER:
            for i in frame.index[np.abs(values.to_numpy(dtype="float64")) > biggest]:
                out.append(at("amount-too-large", i, column, values[i], detail=f"{biggest:,.0f}"))
    return out


def _date_order(frame, later: str, earlier: str, sheet: Sheet, data: SheetData, at) -> list[Finding]:
    """Rows whose ``later`` comes before their ``earlier`` (either blank: no order to check)."""
    bad = np.flatnonzero(_stamps(frame, later) < _stamps(frame, earlier))  # NaT is never less, nor more
    header = data.headers.get(earlier, sheet.column(earlier).header)
    return [at("date-order", i, sheet.column(later), frame.at[i, later], detail=header)
            for i in frame.index[bad]]


def _stamps(frame: pd.DataFrame, key: str) -> np.ndarray:
    """A date-and-time column as numpy's datetime64 (blank: NaT). Every row of a sheet is looked at in a few
    array operations: the complaint rules ran a dozen pandas operations on each workbook's few complaints."""
    return frame[key].to_numpy(dtype="datetime64[ns]")  # (as cleaning types every such column, blanks as NaT)


def _late(frame, later: str, earlier: str, hours: int, col, at, rule: str) -> list[Finding]:
    """Rows whose ``later`` is more than ``hours`` after their ``earlier`` (either blank: not late)."""
    delay = _stamps(frame, later) - _stamps(frame, earlier)  # NaT when either is blank, and NaT is never greater
    bad = np.flatnonzero(delay > pd.Timedelta(hours=hours).to_timedelta64())
    return [at("late-response", i, col(later), frame.at[i, later], detail=rule) for i in frame.index[bad]]


def _duplicates(frame: pd.DataFrame, key: str, column: Column, at, values: list | None = None):
    """A row whose ``key`` (or ``values``, one per row) is that of an earlier row of the sheet, blank ones aside:
    a finding on it naming the first row's number."""
    values = frame[key].tolist() if values is None else values
    first_row: dict = {}
    out = []
    for n, (v, blank) in enumerate(zip(values, pd.isna(values).tolist())):
        if blank:
            continue
        if v not in first_row:
            first_row[v] = n
            continue
        i = frame.index[n]
        out.append(at("duplicate-row", i, column, frame.at[i, key],
                      detail=int(frame["_row"].iat[first_row[v]])))
    return out


def _departments(sub, frames: dict[str, pd.DataFrame], file: str, known: list[str]) -> list[Finding]:
    """项目部 values outside the branch's configured project departments (when configured)."""
    if not known:
        return []
    out = []
    for key, data in sub.sheets.items():
        frame = frames[key]
        if "department" not in frame or "department" not in data.letters:
            continue
        at = _Locator(data, frame, file)
        bad = frame["department"].notna() & ~frame["department"].isin(known)
        out += [at("unknown-department", i, data.sheet.column("department"), frame.at[i, "department"],
                   allowed=known) for i in frame.index[bad]]
    return out


def _archive_numbers(sub, keys: dict[str, pd.DataFrame], file: str, numbers: dict | None) -> list[Finding]:
    """The 档案编号 of a pre-filled workbook: well formed, once each, existing, and the branch's own."""
    import re
    out = []
    for key, data in sub.sheets.items():
        sheet = data.sheet
        frame = keys[key]
        if not sheet.numbered or "archive_no" not in data.letters or "archive_no" not in frame:
            continue
        at = _Locator(data, frame, file)
        column = sheet.column("archive_no")
        form = re.compile(rf"^{sheet.numbered}\d{{6,}}$")
        known = (numbers or {}).get(key)
        values = frame["archive_no"].map(lambda v: str(v).strip().upper() if v else None)
        for i in frame.index[values.notna()]:
            value = values[i]
            if not form.match(value):
                out.append(at("bad-archive-no", i, column, value, detail=f"{sheet.numbered} 加 6 位数字，如 "
                                                                          f"{sheet.numbered}000123"))
            elif known is not None and value not in known:
                out.append(at("unknown-archive-no", i, column, value))
            elif known is not None and sub.branch not in known[value]:
                out.append(at("foreign-archive-no", i, column, value))
        dup = values.notna() & values.duplicated(keep=False)
        first: dict = {}
        for i in frame.index[dup]:
            if values[i] not in first:
                first[values[i]] = int(frame.at[i, "_row"])
                continue
            out.append(at("duplicate-archive-no", i, column, values[i], detail=first[values[i]]))
    return out


def _cross_sheet(sub, keys: dict[str, pd.DataFrame], file: str, known: set[str]) -> list[Finding]:
    """Rows in dependent sheets that name a customer not in this workbook (or the archive). Without a 客户信息
    sheet (an error of its own) there is nothing to compare with; with an empty one, each sheet says so once,
    not on every row."""
    if "customers" not in sub.sheets:
        return []
    customers = keys["customers"]
    codes = set(customers["uscc"].dropna())
    names = set()
    owner = {}  # code → the customer row that has it: (its name's key, name, row number)
    for code, name, row in zip(customers["uscc"].tolist(), customers["name"].tolist(), customers["_row"].tolist()):
        if isinstance(name, str):
            key = normalize_name(name)
            names.add(key)
            if isinstance(code, str):
                owner.setdefault(code, (key, name, int(row)))
    empty = not len(customers)
    out = []
    for key in ("projects", "surveys", "complaints", "visits"):
        data = sub.sheets.get(key)
        if data is None:
            continue
        frame = keys[key]
        at = _Locator(data, frame, file)
        column = data.sheet.column("customer_name")
        row_codes = frame["customer_uscc"].tolist() if "customer_uscc" in frame else [None] * len(frame)
        unknown: list[tuple] = []  # (row index, name) of the rows naming a customer neither here nor archived
        code_column = data.sheet.column("customer_uscc") if "customer_uscc" in frame else None
        for i, code, name in zip(frame.index, row_codes, frame["customer_name"].tolist()):
            if not name:
                continue
            if code in owner:
                if normalize_name(name) != owner[code][0]:  # the archive goes by the code: the row is that
                    out.append(at("customer-code-name-mismatch", i, code_column, code,  # customer's
                                  detail=(name, owner[code][2], owner[code][1])))
                continue
            if code and (code in codes or code in known):
                continue
            name_key = normalize_name(name)
            if name_key in names or name_key in known:
                continue
            unknown.append((i, name))
        # (a name merged down several rows: said once)
        told = _once_per_merged_range(data, [at("unknown-customer", i, column, name) for i, name in unknown])
        out += [at("unknown-customers", unknown[0][0], column, len(told))] if empty and len(told) > 1 else told
    return out
