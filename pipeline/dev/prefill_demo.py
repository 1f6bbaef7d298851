"""The demo's last month with pre-filled workbooks: every branch's is written, one comes back edited.

Before December is delivered, each roster branch's pre-filled workbook for December is written
(as of November). The designed branch sends its pre-filled workbook back instead of its usual
file: its clerk renamed one customer, changed one contact phone and added one new customer, and
typed this month's surveys, visits, new complaints and projects into the sheets (copied here from
the branch's sample file). The archive must record exactly the designed changes.
"""
from __future__ import annotations

import datetime as dt
import os
import warnings
from dataclasses import dataclass
from pathlib import Path

import openpyxl

from ..archive.store import Archive
from ..archive.workspace import Workspace
from ..config import Config
from ..identity import normalize_name
from ..reports.prefill import write_prefilled

BRANCH = "华东分公司"
NEW_PHONE = "13800009999"
NEW_CUSTOMER = "上海浦江新元置业有限公司"


@dataclass
class Design:
    """What the clerk changed, to check against what the archive recorded."""

    renamed: tuple[str, str, str]      # archive number, old name, new name
    phone: tuple[str, str]             # archive number, new phone
    new_customer: str


def write_all(ws: Workspace, archive: Archive, config: Config, period: str, echo) -> list[Path]:
    paths = [write_prefilled(archive, config, branch, period, ws.output)[0] for branch in config.branches]
    from .demo import shown_path
    echo(f"{period}：已为 {len(paths)} 个分子公司生成预填表（{shown_path(paths[0].parent) if paths else ''}）")
    return paths


def _load(path: Path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return openpyxl.load_workbook(path)


def _headers(ws) -> dict[str, int]:
    return {c.value: c.column for c in ws[1] if c.value}


def _copy_rows(source, target, sheet: str, skip_key: str | None = None) -> int:
    """Append the source sheet's rows to the pre-filled sheet, by header, except rows whose ``skip_key``
    value is already there (the pre-filled rows)."""
    if sheet not in source.sheetnames:
        return 0
    src, dst = source[sheet], target[sheet]
    src_headers, dst_headers = _headers(src), _headers(dst)
    present = set()
    if skip_key and skip_key in dst_headers:
        present = {dst.cell(r, dst_headers[skip_key]).value for r in range(2, dst.max_row + 1)}
    row = dst.max_row + 1
    copied = 0
    for r in range(2, src.max_row + 1):
        values = {h: src.cell(r, c).value for h, c in src_headers.items()}
        if not any(v not in (None, "") for v in values.values()):
            continue
        if skip_key and normalize_name(str(values.get(skip_key) or "")) in {normalize_name(str(p or "")) for p in present}:
            continue
        for header, value in values.items():
            if header in dst_headers and header != "档案编号":
                dst.cell(row, dst_headers[header]).value = value
        row += 1
        copied += 1
    return copied


def edited_return(prefilled: Path, sample: Path, inbox: Path, received: dt.datetime | None) -> Design:
    """The designed branch's pre-filled workbook, edited as its clerk would, into the inbox."""
    book = _load(prefilled)
    customers = book["客户信息"]
    h = _headers(customers)
    number, old = customers.cell(2, h["档案编号"]).value, customers.cell(2, h["客户单位名称"]).value
    new_name = old.replace("有限公司", "集团有限公司") if "集团" not in old else old.replace("集团", "控股集团")
    customers.cell(2, h["客户单位名称"]).value = new_name
    phone_no = customers.cell(3, h["档案编号"]).value
    customers.cell(3, h["联系电话"]).value = NEW_PHONE
    new_row = customers.max_row + 1
    for header, column in h.items():
        if header not in ("档案编号", "序号"):
            customers.cell(new_row, column).value = customers.cell(4, column).value
    customers.cell(new_row, h["客户单位名称"]).value = NEW_CUSTOMER
    customers.cell(new_row, h["统一社会信用代码"]).value = None
    source = _load(sample)
    for sheet in ("满意度调查", "拜访记录"):
        _copy_rows(source, book, sheet)
    _copy_rows(source, book, "投诉记录", "投诉编号")
    _copy_rows(source, book, "合作项目", "合同编号")
    target = inbox / prefilled.name
    book.save(target)
    if received is not None:
        os.utime(target, (received.timestamp(), received.timestamp()))
    return Design((number, old, new_name), (phone_no, NEW_PHONE), NEW_CUSTOMER)


def check(archive: Archive, period: str, design: Design) -> list[str]:
    """What the archive recorded against the design: an empty list when it matches exactly."""
    problems = []
    rows = [r for r in archive.field_changes(period, BRANCH) if r[0] in ("customer", "customer_branch")]
    renamed = int(design.renamed[0][1:])
    phone = int(design.phone[0][1:])
    expected = {("customer", renamed, "name"), ("customer_branch", phone, "phone")}
    found = set(rows)
    if found != expected:
        problems.append(f"客户变更应为 {sorted(expected)}，实际为 {sorted(found)}")
    customers = archive.snapshot()["customers"].set_index("customer_id")
    if customers.loc[renamed, "name"] != design.renamed[2]:
        problems.append("改名后的客户不是原来的档案")
    if (customers["name"] == design.new_customer).sum() != 1:
        problems.append("新增客户没有建档")
    return problems
