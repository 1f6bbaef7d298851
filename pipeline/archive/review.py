"""Duplicate review in Excel: export candidate pairs, read the department's decisions back."""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from schemas import labels
from schemas.labels import DISTINCT, KEEP_SIDES, LEFT, MERGE, PENDING, REVIEW_DECISIONS, RIGHT, label

from ..excel import Styles, column_letter, new_workbook, read_sheet, set_print_landscape, write_cell
from ..findings import Finding, make_finding
from ..identity import normalize_name
from ..intake.cleaning import compact
from .store import Archive

SHEET = labels.SHEETS["review"]
DECISIONS = REVIEW_DECISIONS
KEEP = KEEP_SIDES


def _side(side: str, prefix: str) -> list[tuple[str, str, int]]:
    return [(f"{prefix}：{label('customer_id')}", f"{side}_id", 10),
            (f"{prefix}：{label('name', 'customers')}", f"{side}_name", 30),
            (f"{prefix}：{label('uscc', 'customers')}", f"{side}_uscc", 22),
            (f"{prefix}：{label('branches')}", f"{side}_branches", 16),
            (f"{prefix}：{label('region', 'customers')}", f"{side}_region", 10),
            (f"{prefix}：{label('contact', 'customers')}", f"{side}_contact", 10),
            (f"{prefix}：{label('projects')}", f"{side}_projects", 8),
            (f"{prefix}：{label('first_period')}", f"{side}_first", 12)]


# (header, source key, width)
LAYOUT = [(label("seq"), "seq", 6), (label("kind"), "kind", 16), (label("score"), "score", 8),
          (label("detail"), "detail", 36), *_side("left", LEFT), *_side("right", RIGHT),
          (label("decision"), "decision", 10), (label("keep"), "keep", 9), (label("remark"), "remark", 24)]
DATA_START = 3  # Excel row index (0-based) of the first pair
_REQUIRED = {label("decision"), label("keep")}


@dataclass
class ReviewResult:
    merged: int = 0
    distinct: int = 0
    pending: int = 0
    renamed: int = 0
    kept_names: int = 0
    repeated: int = 0      # decisions recorded before, exactly so: not applied again
    changed: int = 0       # decisions that replace a different one recorded before
    missing: int = 0       # pairs waiting for review that the file has no row for
    findings: list[Finding] = field(default_factory=list)

    def __str__(self) -> str:
        text = (f"已合并 {self.merged} 对，确认为不同客户 {self.distinct} 对，采用新名称 {self.renamed} 家，"
                f"维持原名称 {self.kept_names} 家，待定 {self.pending} 对。")
        if self.changed:
            text += f"其中 {self.changed} 条改变了此前记录的决定，以本次为准。"
        if self.repeated:
            text += f"另有 {self.repeated} 条与此前记录的决定相同，未重复处理。"
        if self.missing:
            text += (f"另有 {self.missing} 对待审核的客户不在本文件中（行被删除，或是导出之后才出现的），仍待审核："
                     "可重新运行 crm review export 导出。")
        return text


def _pairs(archive: Archive) -> pd.DataFrame:
    conflicts = archive.conflicts(open_only=True)
    snap = archive.snapshot()
    customers = snap["customers"].set_index("customer_id")
    links = snap["customer_branches"]
    contacts = links.groupby("customer_id")["contact"].agg(lambda s: "、".join(dict.fromkeys(x for x in s if x)))
    projects = snap["projects"].groupby("customer_id").size()
    rows = []
    for i, c in enumerate(conflicts.itertuples(), 1):
        row = {"seq": i, "kind": c.kind, "score": c.score, "detail": c.detail,
               "decision": None, "keep": None, "remark": None}
        if c.left_id == c.right_id:
            row["detail"] = f"{c.detail}。同一客户：选“合并”并保留“右”即采用新名称，保留“左”或选“不同客户”即维持原名称"
        for side, cid in (("left", c.left_id), ("right", c.right_id)):
            info = customers.loc[cid] if cid in customers.index else None
            row.update({f"{side}_id": cid,
                        f"{side}_name": None if info is None else info["name"],
                        f"{side}_uscc": None if info is None else info["uscc"],
                        f"{side}_branches": None if info is None else info["branches"],
                        f"{side}_region": None if info is None else info["region"],
                        f"{side}_contact": contacts.get(cid),
                        f"{side}_projects": int(projects.get(cid, 0)),
                        f"{side}_first": None if info is None else info["first_period"]})
        if c.left_id == c.right_id:
            row["right_name"] = c.right_name  # the name the other submission used
        rows.append(row)
    return pd.DataFrame(rows)


def export_review(archive: Archive, path: Path) -> Path:
    """Write 疑似重复客户.xlsx with a drop-down decision per pair."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    pairs = _pairs(archive)
    book = new_workbook(path)
    styles = Styles(book)
    ws = book.add_worksheet(SHEET)
    ws.write_string(0, 0, labels.TITLES["review"], styles.title)
    ws.write_string(1, 0, "请在“处理决定”列选择：合并 / 不同客户 / 待定；选“合并”时在“保留记录”列选择保留左或右。"
                          "审核后运行 crm review apply 本文件。", styles.note)
    header_row = DATA_START - 1
    for c, (title, _, width) in enumerate(LAYOUT):
        fmt = styles.required_header if title in _REQUIRED else styles.header
        ws.write_string(header_row, c, title, fmt)
        ws.set_column(c, c, width)
    text = styles.wrap
    for r, pair in enumerate(pairs.to_dict("records"), DATA_START):
        for c, (_, key, _) in enumerate(LAYOUT):
            write_cell(ws, r, c, pair.get(key), text)
    last = DATA_START + max(len(pairs), 1) + 200
    col = {key: c for c, (_, key, _) in enumerate(LAYOUT)}
    ws.data_validation(DATA_START, col["decision"], last, col["decision"],
                       {"validate": "list", "source": list(DECISIONS)})
    ws.data_validation(DATA_START, col["keep"], last, col["keep"],
                       {"validate": "list", "source": list(KEEP)})
    ws.freeze_panes(DATA_START, 2)
    if len(pairs):
        ws.autofilter(header_row, 0, DATA_START + len(pairs) - 1, len(LAYOUT) - 1)
    else:
        ws.write_string(DATA_START, 0, "目前没有待审核的疑似重复客户。", styles.note)
    set_print_landscape(ws, repeat_rows=(header_row, header_row), title=labels.TITLES["review"])
    book.close()
    return path


def read_decisions(path: Path) -> tuple[list[dict], list[Finding], list[tuple]]:
    """(decisions, findings for bad cells, the pairs left 待定) from a filled review file. A pair is (left id,
    right id), or (customer id, its other name normalised) for one code under two names."""
    rows = read_sheet(path, SHEET, labels.TITLES["review"])
    header = rows[DATA_START - 1] if len(rows) >= DATA_START else []
    index = {title: i for i, title in enumerate(header)}
    findings: list[Finding] = []
    decisions: list[dict] = []
    pending: list[tuple] = []
    key_of = {title: key for title, key, _ in LAYOUT}
    col = {key_of[t]: i for t, i in index.items() if t in key_of}
    for r in range(DATA_START, len(rows)):
        row = rows[r]

        def get(key):
            i = col.get(key)
            value = row[i] if i is not None and i < len(row) else ""
            return value.strip() if isinstance(value, str) else value

        def choice(key):  # a listed value as typed: “合 并”, full-width letters
            value = get(key)
            return compact(value) if isinstance(value, str) else value

        if get("left_id") in ("", None):
            continue
        where = {"sheet": SHEET, "row": r + 1}
        ids = _ids(get("left_id"), get("right_id"))
        if ids is None:
            findings.append(_not_exported(path, r + 1, column_letter(col["left_id"]), get("left_id"), get("right_id")))
            continue
        left, right = ids
        decision = choice("decision") or PENDING
        if decision not in DECISIONS:
            findings.append(make_finding("not-allowed", path.name, col_letter=column_letter(col["decision"]),
                                         column=label("decision"), value=decision, allowed=DECISIONS,
                                         **where))
            continue
        same = left == right
        pair = _pair(left, right, get("right_name"))
        if decision == PENDING:
            pending.append(pair)
            continue
        keep = None
        if decision == MERGE:
            side = choice("keep")
            if side not in KEEP:
                findings.append(make_finding("conditional-required", path.name,
                                             col_letter=column_letter(col["keep"]), column=label("keep"),
                                             detail="选择“合并”时须选择保留左或右"
                                             + ("（右为采用新名称，左为维持原名称）" if same else ""), **where)
                                if side in ("", None)
                                else make_finding("not-allowed", path.name, col_letter=column_letter(col["keep"]),
                                                  column=label("keep"), value=side, allowed=KEEP, **where))
                continue
            keep = side if same else (left if side == LEFT else right)
        decision_of = {"decision": decision, "remark": get("remark") or None, "pair": pair, "row": r + 1,
                       "letter": column_letter(col["decision"]), "id_letter": column_letter(col["left_id"])}
        if same:
            decisions.append({"left_id": left, "right_id": right, "keep_side": keep or LEFT,
                              "other_name": get("right_name"), **decision_of})
        else:
            decisions.append({"left_id": pair[0], "right_id": pair[1], "keep_id": keep, **decision_of})
    return decisions, findings, pending


def _ids(left, right) -> tuple[int, int] | None:
    """The two customer ids of a row as numbers (None: a cell that holds no id)."""
    try:
        values = [float(unicodedata.normalize("NFKC", v)) if isinstance(v, str) else float(v) for v in (left, right)]
    except (TypeError, ValueError):
        return None
    return (int(values[0]), int(values[1])) if all(v.is_integer() for v in values) else None


def _pair(left: int, right: int, other_name) -> tuple:
    """What a row decides on: two customers (their ids, smaller first), or one customer's other name."""
    return (left, normalize_name(other_name)) if left == right else (min(left, right), max(left, right))


def _not_exported(path: Path, row: int, letter: str, left, right) -> Finding:
    return make_finding("review-unknown-pair", path.name, sheet=SHEET, row=row, col_letter=letter,
                        column=label("customer_id"), value=f"{left} / {right}")


def _choice(decision: dict) -> tuple:
    """What a row decides for its pair: the decision and the side kept."""
    return decision["decision"], decision.get("keep_id"), decision.get("keep_side")


def _adopts(decision: dict) -> bool:
    """A decision on a customer's other name adopts it (as ``Archive.record_review`` records it)."""
    return decision["decision"] == MERGE and decision.get("keep_side") == RIGHT


def apply_review(archive: Archive, path: Path, decided_by: str) -> ReviewResult:
    """Apply the decisions in one transaction; nothing is applied if any cell is wrong.

    Each row must be a pair the archive raised (the ids are not to be edited), once: two rows of one pair with
    different decisions are an error, not the last one winning."""
    path = Path(path)
    decisions, findings, pending = read_decisions(path)
    result = ReviewResult(findings=findings)
    recorded, named = archive.review_decided(), archive.names_decided()
    raised = [_pair(c.left_id, c.right_id, c.right_name) for c in archive.conflicts(open_only=False).itertuples()]
    known = set(raised) | set(recorded) | set(named)
    seen: dict[tuple, dict] = {}
    new = []
    for d in decisions:
        if d["pair"] not in known:
            result.findings.append(_not_exported(path, d["row"], d["id_letter"], d["left_id"], d["right_id"]))
            continue
        if d["pair"] in seen:
            first = seen[d["pair"]]
            if _choice(first) != _choice(d):
                result.findings.append(make_finding(
                    "review-twice", path.name, sheet=SHEET, row=d["row"], col_letter=d["letter"],
                    column=label("decision"), value=d["decision"], detail=first["row"]))
            continue  # (the same decision on a copied row: once)
        seen[d["pair"]] = d
        if d.get("other_name"):  # one code, two names: the same choice recorded before is not made again
            earlier = named.get(d["pair"])
            if earlier == _adopts(d):
                result.repeated += 1
                continue
            result.changed += earlier is not None
            new.append(d)
            continue
        before = recorded.get(d["pair"])
        if before is not None and before[:2] == (d["decision"], d.get("keep_id")):
            result.repeated += 1  # (applied again it would only lose where the pair was raised)
            continue
        if before is not None and before[0] == MERGE:  # merged already: the two are one customer now
            result.findings.append(make_finding(
                "review-merged", path.name, sheet=SHEET, row=d["row"], col_letter=d["letter"],
                column=label("decision"), value=d["decision"], detail=str(before[2])[:10]))
            continue
        result.changed += before is not None
        new.append(d)
    if result.findings:
        return result
    decided = set(seen) | set(recorded) | set(named)
    result.pending = sum(pair not in decided for pair in dict.fromkeys(pending))
    in_file = set(seen) | set(pending)
    result.missing = sum(pair not in in_file for pair in raised if pair not in decided)
    if new:  # (where in the file a decision came from is not part of it)
        archive.record_review([{k: v for k, v in d.items() if k not in ("row", "letter", "id_letter", "pair")}
                               for d in new], decided_by)
    result.merged = sum(d["decision"] == MERGE and not d.get("other_name") for d in new)
    result.distinct = sum(d["decision"] == DISTINCT and not d.get("other_name") for d in new)
    renames = [d for d in new if d.get("other_name")]
    result.renamed = sum(_adopts(d) for d in renames)
    result.kept_names = len(renames) - result.renamed
    return result

