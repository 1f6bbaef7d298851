"""Golden layout files: what a workbook looks like (values, number formats, bold, panes, print set-up).

Not bytes and not the clock: a layout summary of the first rows of every sheet
is compared with a JSON file in tests/reports/golden/. After a deliberate
layout change run the tests with UPDATE_GOLDEN=1, review the diff, commit.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import warnings
from pathlib import Path

import openpyxl

GOLDEN_DIR = Path(__file__).parent / "reports" / "golden"
CLOCK_LABELS = {"生成时间"}


def layout(path: Path, rows: int = 12, skip: dict[str, set[str]] | None = None) -> dict:
    """Cell values and formats that pin a workbook's layout; ``skip`` lists cells (per sheet) to ignore."""
    skip = skip or {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # openpyxl does not know conditional-format extensions
        book = openpyxl.load_workbook(path)
    out = {"sheets": book.sheetnames}
    for ws in book.worksheets:
        cells = {}
        for row in ws.iter_rows(min_row=1, max_row=min(ws.max_row, rows)):
            for cell in row:
                if cell.value is None or cell.coordinate in skip.get(ws.title, ()):
                    continue
                left = ws.cell(cell.row, cell.column - 1).value if cell.column > 1 else None
                if left in CLOCK_LABELS:  # the generation time: a label's neighbour, never compared
                    continue
                value = cell.value.isoformat() if isinstance(cell.value, dt.datetime) else cell.value
                cells[cell.coordinate] = [value if not isinstance(value, float) else round(value, 6),
                                          cell.number_format, bool(cell.font and cell.font.b)]
        out[ws.title] = {"cells": cells, "freeze": ws.freeze_panes, "hidden": ws.sheet_state,
                         "landscape": ws.page_setup.orientation, "footer": ws.oddFooter.center.text}
    return out


def check_golden(path: Path, name: str, **kw) -> None:
    """Assert that ``path`` has the layout stored as ``name`` (rewrite it with UPDATE_GOLDEN=1)."""
    actual = layout(path, **kw)
    golden = GOLDEN_DIR / f"{name}.json"
    if os.environ.get("UPDATE_GOLDEN") or not golden.exists() and os.environ.get("CREATE_GOLDEN"):
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(json.dumps(actual, ensure_ascii=False, indent=1), encoding="utf-8")
    expected = json.loads(golden.read_text(encoding="utf-8"))
    assert actual["sheets"] == expected["sheets"]
    for sheet in expected["sheets"]:
        assert actual[sheet] == expected[sheet], f"{name}: sheet {sheet} differs from its golden layout"
