"""客户档案总表.xlsx: the archive (now or as of a past month) as a formatted workbook."""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from schemas.columns import CUSTOMERS, SHEETS_BY_KEY, label

from .archive import BRANCH_FIELDS, Archive
from .excel import Styles, column_kind, new_workbook, set_print_landscape, write_frame

ENTITY_SHEETS = (("projects", "合作项目"), ("surveys", "满意度调查"), ("complaints", "投诉记录"),
                 ("visits", "拜访记录"))


def _kinds(frame: pd.DataFrame, sheet_key: str) -> dict[str, str]:
    """Body formats by the dictionary's column kinds (codes as text, amounts, dates)."""
    sheet = SHEETS_BY_KEY[sheet_key]
    kinds = {}
    for col in sheet.columns:
        if label(col.key, sheet_key) in frame.columns:
            kinds[label(col.key, sheet_key)] = column_kind(col)
    kinds[label("customer_id")] = "integer"
    return kinds


def _labelled(frame: pd.DataFrame, sheet_key: str) -> pd.DataFrame:
    return frame.rename(columns={c: label(c, sheet_key) for c in frame.columns})


def customer_table(snap: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """One row per customer and reporting branch: the customer fields and the branch's view."""
    customers = snap["customers"]
    links = snap["customer_branches"]
    table = customers.merge(links[["customer_id", "branch", *BRANCH_FIELDS]], on="customer_id",
                            how="left")
    order = ["customer_id", "name", "uscc", "branch", *[k for k in CUSTOMERS.keys
                                                        if k not in ("name", "uscc")],
             "official_grade", "first_period"]
    return table[[c for c in order if c in table.columns]].sort_values(
        ["customer_id", "branch"], kind="stable")


def export_archive(archive: Archive, path: Path, as_of: str | None = None) -> Path:
    """Write the archive workbook: 客户, 合作项目, 满意度调查, 投诉记录, 拜访记录, 变更记录."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    snap = archive.snapshot(as_of)
    book = new_workbook(path)
    styles = Styles(book)
    title_suffix = f"（截至 {as_of} 月末）" if as_of else ""
    names = snap["customers"].set_index("customer_id")["name"]
    sheets = [("客户", _labelled(customer_table(snap), "customers"), "customers")]
    for key, title in ENTITY_SHEETS:
        frame = snap[key].copy()
        frame = frame.drop(columns=["customer_name"], errors="ignore")
        frame.insert(1, "customer_name", frame.pop("customer_id").map(names))
        frame = frame.drop(columns=[c for c in frame.columns if c.endswith("_id")])
        sheets.append((title, _labelled(frame, key), key))
    history = archive.history()
    if as_of:
        history = history[history["period"] <= as_of]
    sheets.append(("变更记录", history.rename(columns={c: label(c) for c in history.columns}), None))
    for title, frame, key in sheets:
        ws = book.add_worksheet(title)
        ws.write_string(0, 0, f"客户档案总表 — {title}{title_suffix}", styles.title)
        ws.write_string(1, 0, f"共 {len(frame)} 条", styles.note)
        write_frame(ws, frame, styles=styles, start_row=2,
                    kinds=_kinds(frame, key) if key else None)
        set_print_landscape(ws, repeat_rows=(2, 2), title=f"客户档案总表 {title}")
    book.close()
    return path
