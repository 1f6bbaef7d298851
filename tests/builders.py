"""Build submission workbooks in code for the tests."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import xlsxwriter

from pipeline.excel import XLSX_OPTIONS, write_cell
from schemas.columns import COVER, DATA_SHEETS, IGNORED, SHEETS_BY_KEY

OPTIONS = XLSX_OPTIONS


def example_row(sheet_key: str, **overrides) -> dict:
    """The dictionary's example row of a sheet (valid), with overrides by key."""
    row = {c.key: c.example for c in SHEETS_BY_KEY[sheet_key].columns if c.kind != IGNORED}
    row.update(overrides)
    return row


def write_grid(path: Path, sheets: dict[str, list[list]], merges: dict | None = None) -> Path:
    """A workbook from raw grids: {sheet title: [[cell, ...], ...]} (row 0 = Excel row 1)."""
    book = xlsxwriter.Workbook(str(path), OPTIONS)
    book.set_properties({"created": dt.datetime(2026, 1, 1)})  # same content → same bytes
    date_fmt = book.add_format({"num_format": "yyyy-mm-dd"})
    for title, grid in sheets.items():
        ws = book.add_worksheet(title)
        for r, row in enumerate(grid):
            for c, value in enumerate(row):
                if isinstance(value, str) and value.startswith("=") and "|" in value:
                    formula, cached = value.split("|", 1)  # "=A1*2|42": formula with cached value; "=1/0|#DIV/0!"
                    ws.write_formula(r, c, formula, None, cached if cached.startswith("#") else float(cached))
                elif isinstance(value, bool):
                    ws.write_boolean(r, c, value)  # a real TRUE/FALSE cell, as Excel saves it
                else:
                    write_cell(ws, r, c, value, date_fmt=date_fmt)
        for (r0, c0, r1, c1, value) in (merges or {}).get(title, []):
            ws.merge_range(r0, c0, r1, c1, value)
    book.close()
    return Path(path)


def cover_grid(branch="华东分公司", period="2026-10", changed="有", **extra) -> list[list]:
    values = {"branch": branch, "period": period, "filler": "张明", "phone": "021-68881234",
              "filled_on": "2026-10-24", "changed": changed, **extra}
    return [[c.header, values.get(c.key)] for c in COVER.columns]


def sheet_grid(sheet_key: str, rows: list[dict]) -> list[list]:
    sheet = SHEETS_BY_KEY[sheet_key]
    headers = [c.header for c in sheet.columns]
    grid = [headers]
    for i, row in enumerate(rows, 1):
        grid.append([i if c.kind == IGNORED else _cell(row.get(c.key)) for c in sheet.columns])
    return grid


def _cell(value):
    if isinstance(value, dt.datetime) and value.time() == dt.time():
        return value
    return value


def write_submission(path: Path, *, branch="华东分公司", period="2026-10", changed="有",
                     cover=True, **sheets: list[dict]) -> Path:
    """A template-shaped submission; keyword args are sheet keys → rows (dicts by column key)."""
    grids: dict[str, list[list]] = {}
    if cover:
        grids[COVER.name] = cover_grid(branch, period, changed)
    for sheet in DATA_SHEETS:
        if sheet.key in sheets:
            grids[sheet.name] = sheet_grid(sheet.key, sheets[sheet.key])
    return write_grid(path, grids)


def full_example(path: Path, **kw) -> Path:
    """One valid row in every data sheet."""
    return write_submission(path, customers=[example_row("customers")],
                            projects=[example_row("projects")],
                            surveys=[example_row("surveys")],
                            complaints=[example_row("complaints")],
                            visits=[example_row("visits")], **kw)


def ingest(archive, tmp_path: Path, name: str, *, branch="华东分公司", period="2026-10",
           when="2026-10-20T10:00", changed="有", **sheets):
    """Build a submission, validate it and merge it into ``archive``; returns the MergeResult."""
    from pipeline.archive import SubmissionMeta
    from pipeline.config import load_config
    from pipeline.intake.validation import validate_file
    path = write_submission(tmp_path / f"{branch}_{period}_{name}.xlsx", branch=branch,
                            period=period, changed=changed, **sheets)
    result = validate_file(path, load_config(None))
    assert result.status == "accepted", [f.message for f in result.errors]
    meta = SubmissionMeta(sha256=f"{branch}{period}{name}", file_name=path.name, branch=branch,
                          period=period, received_at=dt.datetime.fromisoformat(when),
                          no_change=result.no_change, counts=result.counts)
    return archive.record_submission(meta, result.frames)


def crm(workspace: Path, *args, catch: bool = True):
    """Run the crm command line in-process on a workspace; click's result (output, exit code)."""
    from click.testing import CliRunner

    from pipeline.cli import main
    return CliRunner().invoke(main, ["--workspace", str(workspace), *map(str, args)], catch_exceptions=catch)


def at(path: Path, when: str) -> Path:
    """Give a file the modification time ``when`` (its received time in the inbox)."""
    import os
    stamp = dt.datetime.fromisoformat(when).timestamp()
    os.utime(path, (stamp, stamp))
    return path
