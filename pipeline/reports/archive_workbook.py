"""客户档案总表.xlsx: the archive (now or as of a past month) as a formatted workbook."""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from schemas import labels
from schemas.columns import CUSTOMERS, SHEETS_BY_KEY

from ..archive.schema import BRANCH_FIELDS
from ..archive.store import Archive
from ..config import Config
from ..excel import Styles, new_workbook, set_print_landscape, write_frame

ENTITY_SHEETS = ("projects", "surveys", "complaints", "visits")


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


def export_archive(archive: Archive, path: Path, as_of: str | None = None, *, branch: str | None = None,
                   scope: str = "own", config: Config | None = None) -> tuple[Path, int]:
    """Write the archive workbook: 客户, 合作项目, 满意度调查, 投诉记录, 拜访记录, 变更记录.

    With ``branch`` it is that branch's extract: its own customers (``scope="own"``), or every
    customer with other branches' contacts masked (``scope="all"``). With ``config`` 正式等级 is every customer's
    official grade as of the month (the half-yearly decision, else the rules', graded over the whole group); without
    it only the decisions. Returns (path, customer rows).
    """
    from ..archive.access import edition, mask
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    snap = archive.snapshot(as_of)
    if config is not None:
        from ..analysis.grading import official_grades, rule_grades
        from ..periods import current_month
        official = official_grades(rule_grades(snap, config, as_of or current_month()))
        customers = snap["customers"].copy()  # (the archive keeps the snapshot it read: never changed in place)
        customers["official_grade"] = customers["customer_id"].map(
            dict(zip(official["customer_id"], official["official_grade"])))
        snap = {**snap, "customers": customers}
    masked: set = set()  # customers the branch does not report: the people other branches named are masked
    if branch is not None:
        links = snap["customer_branches"]
        masked = set(snap["customers"]["customer_id"]) - set(links.loc[links["branch"] == branch, "customer_id"])
        snap = edition(snap, branch) if scope == "own" else mask(snap, branch)
    book = new_workbook(path)
    styles = Styles(book)
    title_suffix = f"（截至 {as_of} 月末）" if as_of else ""
    if branch is not None:
        title_suffix += f"（{branch}，{labels.SCOPES[scope]}）"
    names = snap["customers"].set_index("customer_id")["name"]
    sheets = [(labels.SHEETS["customers"], customer_table(snap), "customers")]
    for key in ENTITY_SHEETS:
        frame = snap[key].copy()
        frame = frame.drop(columns=["customer_name"], errors="ignore")
        frame.insert(1, "customer_name", frame.pop("customer_id").map(names))
        frame = frame.drop(columns=[c for c in frame.columns if c.endswith("_id")])
        sheets.append((SHEETS_BY_KEY[key].name, frame, key))
    history = archive.history(branch=branch, customer_ids=set(snap["customers"]["customer_id"]), masked=masked) \
        if branch is not None else archive.history()
    if as_of:
        history = history[history["period"] <= as_of]
    sheets.append((labels.SHEETS["history"], history, None))
    for title, frame, key in sheets:
        ws = book.add_worksheet(title)
        ws.write_string(0, 0, f"客户档案总表 — {title}{title_suffix}", styles.title)
        if key == "customers":
            count = frame["customer_id"].nunique() if len(frame) else 0
            note = f"共 {count} 家客户；同一客户由几个单位报送时每个单位各占一行，共 {len(frame)} 行"
        else:
            note = f"共 {len(frame)} 条"
        ws.write_string(1, 0, note, styles.note)
        write_frame(ws, frame, styles=styles, start_row=2, context=key)
        set_print_landscape(ws, repeat_rows=(2, 2), repeat_cols=(0, 1), title=f"客户档案总表 {title}")  # (编号, 名称)
    book.close()
    return path, len(sheets[0][1])
