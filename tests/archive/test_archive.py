"""Merge semantics, history, as-of snapshots, conflicts, review and export of the archive."""
from __future__ import annotations

from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from builders import example_row, ingest
from pipeline.archive import Archive
from pipeline.reports.archive_workbook import export_archive
from pipeline.archive.review import apply_review, export_review

CODE_A = "9131011552CL12THXQ"
CODE_B = "9131011515J1XG611T"
CODE_C = "9131011516D272HD32"


@pytest.fixture
def archive(tmp_path):
    with Archive(tmp_path / "archive.sqlite") as arch:
        yield arch


def customer(**kw):
    return example_row("customers", **kw)


def test_new_then_changed_field_keeps_history(archive, tmp_path):
    first = ingest(archive, tmp_path, "a", period="2026-09", customers=[customer()])
    assert first.new_customers == 1
    second = ingest(archive, tmp_path, "b", period="2026-10",
                    customers=[customer(integrity="不良", contact="王五")])
    assert second.new_customers == 0 and second.changed_fields == 2
    history = archive.history()
    assert set(zip(history["field"], history["old_value"], history["new_value"], history["period"])) == {
        ("诚信记录", "良好", "不良", "2026-10"), ("联系人", "李华", "王五", "2026-10")}
    assert history["source_file"].str.contains("华东分公司_2026-10_b").all()
    now = archive.snapshot()
    assert now["customers"].loc[0, "integrity"] == "不良"
    past = archive.snapshot("2026-09")
    assert past["customers"].loc[0, "integrity"] == "良好"
    assert past["customer_branches"].loc[0, "contact"] == "李华"
    assert len(archive.snapshot("2026-08")["customers"]) == 0


def test_a_kept_snapshot_follows_every_write_and_is_never_shared(archive, tmp_path):
    import sqlite3
    ingest(archive, tmp_path, "a", period="2026-09", customers=[customer()])
    first = archive.snapshot("2026-12")
    first["customers"].loc[0, "integrity"] = "改坏了"          # a caller changing its copy
    assert archive.snapshot("2026-12")["customers"].loc[0, "integrity"] == "良好"
    assert archive.snapshot_key("2026-10") == archive.snapshot_key("2026-12")  # no data after 2026-09
    ingest(archive, tmp_path, "b", period="2026-10", customers=[customer(integrity="不良")])
    assert archive.snapshot("2026-12")["customers"].loc[0, "integrity"] == "不良"   # this connection wrote
    assert archive.snapshot("2026-09")["customers"].loc[0, "integrity"] == "良好"
    other = sqlite3.connect(archive.path)                    # another process writes
    other.execute("UPDATE customers SET data = json_set(data, '$.integrity', '一般')")
    other.commit()
    other.close()
    assert archive.snapshot("2026-12")["customers"].loc[0, "integrity"] == "一般"


def test_a_snapshot_holds_a_repeated_text_once_and_keeps_blanks_and_numbers(archive, tmp_path):
    rows = [customer(name=f"重复测试{i:02d}建设有限公司", uscc=None, address=None if i % 3 else "同一地址",
                     remark="12" if i == 0 else None) for i in range(12)]
    ingest(archive, tmp_path, "a", period="2026-09", customers=rows)
    customers = archive.snapshot("2026-09")["customers"]
    integrity = customers["integrity"].tolist()
    assert integrity == ["良好"] * 12 and all(value is integrity[0] for value in integrity)  # one object
    assert customers["address"].tolist() == ["同一地址" if i % 3 == 0 else None for i in range(12)]
    assert customers["remark"].tolist() == ["12"] + [None] * 11  # a text of digits stays a text
    names = customers["name"].tolist()
    assert len(set(map(id, names))) == 12  # distinct names are left as they are


def test_same_content_again_changes_nothing(archive, tmp_path):
    ingest(archive, tmp_path, "a", period="2026-09", customers=[customer()],
           projects=[example_row("projects")])
    again = ingest(archive, tmp_path, "b", period="2026-10", customers=[customer()],
                   projects=[example_row("projects")])
    assert (again.new_customers, again.changed_fields, again.new_records, again.changed_records) == (0, 0, 0, 0)
    assert len(archive.history()) == 0


def test_resubmission_replaces_even_after_a_later_month(archive, tmp_path):
    ingest(archive, tmp_path, "a", period="2026-09", when="2026-09-20T10:00",
           customers=[customer(stage="意向客户")], projects=[example_row("projects")])
    ingest(archive, tmp_path, "b", period="2026-10", customers=[customer(stage="签约客户")])
    fixed = ingest(archive, tmp_path, "a2", period="2026-09", when="2026-09-28T10:00",
                   customers=[customer(stage="准客户")])
    assert fixed.superseded is not None and fixed.rebuilt
    snap = archive.snapshot()
    assert len(snap["projects"]) == 0           # only the superseded file had the project
    assert snap["customer_branches"].loc[0, "stage"] == "签约客户"
    assert archive.snapshot("2026-09")["customer_branches"].loc[0, "stage"] == "准客户"
    statuses = archive.submissions().set_index("file_name")["status"]
    assert statuses.str.contains("superseded").sum() == 1


def test_no_change_submission_changes_no_customer(archive, tmp_path):
    ingest(archive, tmp_path, "a", period="2026-09", customers=[customer()])
    result = ingest(archive, tmp_path, "b", period="2026-10", changed="无", customers=[])
    assert (result.new_customers, result.changed_fields) == (0, 0)
    assert archive.submissions()["no_change"].tolist() == [False, True]


def test_cross_branch_customer_is_one_customer_with_two_views(archive, tmp_path):
    ingest(archive, tmp_path, "a", customers=[customer(contact="李华", stage="签约客户")])
    ingest(archive, tmp_path, "b", branch="华南分公司",
           customers=[customer(name="上海浦江城市建设投资有限公司", contact="陈红", stage="合作伙伴")])
    snap = archive.snapshot()
    assert len(snap["customers"]) == 1
    assert snap["customers"].loc[0, "branches"] == "华东分公司、华南分公司"
    views = snap["customer_branches"].set_index("branch")
    assert views.loc["华东分公司", "contact"] == "李华" and views.loc["华南分公司", "stage"] == "合作伙伴"


def test_name_only_row_matches_a_coded_customer(archive, tmp_path):
    ingest(archive, tmp_path, "a", customers=[customer()])
    ingest(archive, tmp_path, "b", branch="华南分公司",
           customers=[customer(uscc=None, name="上海浦江城市建设投资有限公司")],
           visits=[example_row("visits")])
    snap = archive.snapshot()
    assert len(snap["customers"]) == 1
    assert snap["visits"]["customer_id"].tolist() == [snap["customers"].loc[0, "customer_id"]]


def test_conflicts_of_each_kind_and_similarity_threshold(archive, tmp_path):
    ingest(archive, tmp_path, "a", customers=[
        customer(),
        customer(name="华东建材有限公司", uscc=CODE_B),
        customer(name="上海浦江城建投资有限公司", uscc=None)])
    ingest(archive, tmp_path, "b", branch="华南分公司", customers=[
        customer(name="浦江城投（改名）有限公司"),                     # same code, other name
        customer(name="华东建材有限公司", uscc=CODE_C),               # same name, other code
        customer(name="华南建材有限公司", uscc=None)])               # similar but different
    conflicts = archive.conflicts()
    kinds = conflicts.groupby("kind").size().to_dict()
    assert kinds == {"同一信用代码名称不同": 1, "同名不同代码": 1, "名称相似": 1}
    similar = conflicts[conflicts["kind"] == "名称相似"].iloc[0]
    assert {similar["left_name"], similar["right_name"]} == {
        "上海浦江城市建设投资有限公司", "上海浦江城建投资有限公司"}
    # the archive keeps the first name under the code: no silent overwrite
    names = archive.snapshot()["customers"]["name"].tolist()
    assert "浦江城投（改名）有限公司" not in names


def test_review_round_trip_merges_and_remembers(archive, tmp_path):
    ingest(archive, tmp_path, "a", customers=[customer(), customer(name="上海浦江城建投资有限公司",
                                                                     uscc=None)],
           projects=[example_row("projects", customer_name="上海浦江城建投资有限公司",
                                 customer_uscc=None)])
    ingest(archive, tmp_path, "b", branch="华南分公司",
           customers=[customer(name="华东建材有限公司", uscc=None),
                      customer(name="华东建材股份公司", uscc=None)])
    path = export_review(archive, tmp_path / "疑似重复客户.xlsx")
    book = openpyxl.load_workbook(path)
    ws = book["疑似重复客户"]
    headers = [c.value for c in ws[3]]
    col = {h: i + 1 for i, h in enumerate(headers)}
    rows = {ws.cell(r, col["左：客户单位名称"]).value + ws.cell(r, col["右：客户单位名称"]).value: r
            for r in range(4, ws.max_row + 1) if ws.cell(r, col["左：客户编号"]).value}
    assert len(rows) == 2
    merge_row = next(r for k, r in rows.items() if "浦江" in k)
    other_row = next(r for k, r in rows.items() if "建材" in k)
    keep_side = "左" if ws.cell(merge_row, col["左：统一社会信用代码"]).value else "右"
    ws.cell(merge_row, col["处理决定"], "合并")
    ws.cell(merge_row, col["保留记录"], keep_side)
    ws.cell(other_row, col["处理决定"], "不同客户")
    book.save(path)
    result = apply_review(archive, path, decided_by="张三")
    assert (result.merged, result.distinct, result.findings) == (1, 1, [])
    snap = archive.snapshot()
    assert len(snap["customers"]) == 3
    coded = snap["customers"][snap["customers"]["uscc"] == CODE_A]["customer_id"].iloc[0]
    assert snap["projects"]["customer_id"].tolist() == [coded]
    assert archive.conflicts().empty
    # a later submission does not raise the 不同客户 pair again
    ingest(archive, tmp_path, "c", branch="华南分公司", period="2026-11",
           customers=[customer(name="华东建材有限公司", uscc=None)])
    assert archive.conflicts().empty
    # the same file applied again changes nothing; a file that says 不同客户 for the merged pair is refused
    decided = archive.review_decided()
    again = apply_review(archive, path, decided_by="张三")
    assert (again.merged, again.distinct, again.repeated, again.findings) == (0, 0, 2, [])
    assert archive.review_decided() == decided and "未重复处理" in str(again)
    ws.cell(merge_row, col["处理决定"], "不同客户")
    book.save(path)
    late = apply_review(archive, path, decided_by="李四")
    assert [f.code for f in late.findings] == ["review-merged"] and "已于" in late.findings[0].message
    assert archive.review_decided() == decided and len(archive.snapshot()["customers"]) == 3


def _one_pair_decided(archive, tmp_path, rows: list[dict] | None = None, period: str = "2026-10", **cells) -> Path:
    """Two look-alike customers (``rows``) sent in ``period``, and the review file with its one pair's cells filled
    (by header)."""
    ingest(archive, tmp_path, "a", period=period, customers=rows or [
        customer(name="华东建材有限公司", uscc=None), customer(name="华东建材股份公司", uscc=None)])
    path = export_review(archive, tmp_path / "r.xlsx")
    book = openpyxl.load_workbook(path)
    ws = book["疑似重复客户"]
    headers = [c.value for c in ws[3]]
    for header, value in cells.items():
        ws.cell(4, headers.index(header) + 1, value)
    book.save(path)
    return path


def test_a_kept_side_that_is_neither_left_nor_right_is_named_as_such(archive, tmp_path):
    path = _one_pair_decided(archive, tmp_path, 处理决定="合并", 保留记录="中")
    [finding] = apply_review(archive, path, decided_by="张三").findings
    assert finding.code == "not-allowed" and "“中”" in finding.message and "必填" not in finding.message


def test_two_rows_the_review_merged_do_not_undo_each_other_every_month(archive, tmp_path):
    """The branch still lists both look-alikes after they were merged: each month its file held the two rows of one
    customer, the second undid the first field by field, and the history filled with changes nobody made."""
    rows = [customer(name="华东建材有限公司", uscc=None, contact="朱超芳"),
            customer(name="华东建材股份公司", uscc=None, contact="何明洋")]
    path = _one_pair_decided(archive, tmp_path, rows, "2026-09", 处理决定="合并", 保留记录="左")
    assert apply_review(archive, path, decided_by="张三").merged == 1
    for n, month in enumerate(("2026-10", "2026-11", "2026-12")):
        ingest(archive, tmp_path, f"m{n}", period=month, customers=rows)
    snap = archive.snapshot()
    assert len(snap["customers"]) == 1
    history = archive.history()
    assert history[history["period"] > "2026-09"].empty, history
    assert snap["customer_branches"]["contact"].tolist() == ["朱超芳"]  # the first row speaks for it


def test_review_with_a_bad_decision_applies_nothing(archive, tmp_path):
    path = _one_pair_decided(archive, tmp_path, 处理决定="删除")
    result = apply_review(archive, path, decided_by="张三")
    assert [f.code for f in result.findings] == ["not-allowed"]
    assert result.findings[0].cell.startswith("疑似重复客户!") and "合并、不同客户、待定" in result.findings[0].message
    assert len(archive.conflicts()) == 1


def test_review_refuses_an_edited_id_and_two_different_decisions_for_one_pair(archive, tmp_path):
    path = _one_pair_decided(archive, tmp_path, 处理决定="不同客户")
    book = openpyxl.load_workbook(path)
    ws = book["疑似重复客户"]
    headers = [c.value for c in ws[3]]
    ws.cell(4, headers.index("右：客户编号") + 1, 999)
    book.save(path)
    [finding] = apply_review(archive, path, decided_by="张三").findings
    assert finding.code == "review-unknown-pair" and finding.cell == "疑似重复客户!E4" and "999" in finding.message
    assert archive.review_decided() == {} and len(archive.conflicts()) == 1
    # the pair twice, once merged and once not: neither is applied
    right = int(ws.cell(4, headers.index("左：客户编号") + 1).value) + 1
    ws.cell(4, headers.index("右：客户编号") + 1, right)
    ws.cell(4, headers.index("处理决定") + 1, "合并")
    ws.cell(4, headers.index("保留记录") + 1, "左")
    for c in range(1, len(headers) + 1):
        ws.cell(5, c, ws.cell(4, c).value)
    ws.cell(5, headers.index("处理决定") + 1, "不同客户")
    book.save(path)
    [twice] = apply_review(archive, path, decided_by="张三").findings
    assert twice.code == "review-twice" and twice.cell.endswith("5") and "第 4 行" in twice.message
    assert archive.review_decided() == {} and len(archive.snapshot()["customers"]) == 2
    # the same decision copied to a second row is one decision
    ws.cell(5, headers.index("处理决定") + 1, "合并")
    book.save(path)
    once = apply_review(archive, path, decided_by="张三")
    assert (once.merged, once.findings) == (1, []) and len(archive.snapshot()["customers"]) == 1


def test_review_counts_only_what_is_still_pending_and_says_what_the_file_lacks_or_changes(archive, tmp_path):
    path = _one_pair_decided(archive, tmp_path, 处理决定="不同客户")
    assert apply_review(archive, path, decided_by="张三").distinct == 1
    book = openpyxl.load_workbook(path)
    ws = book["疑似重复客户"]
    headers = [c.value for c in ws[3]]
    ws.cell(4, headers.index("处理决定") + 1, "待定")
    book.save(path)
    stale = apply_review(archive, path, decided_by="张三")
    assert stale.pending == 0 and "待定 0 对" in str(stale)  # decided already: not waiting
    ws.cell(4, headers.index("处理决定") + 1, "合并")
    ws.cell(4, headers.index("保留记录") + 1, "右")
    book.save(path)
    changed = apply_review(archive, path, decided_by="张三")
    assert (changed.merged, changed.changed) == (1, 1) and "改变了此前记录的决定" in str(changed)
    ingest(archive, tmp_path, "b", period="2026-11", customers=[customer(name="华南建材有限公司", uscc=None),
                                                                 customer(name="华南建材股份公司", uscc=None)])
    ws.delete_rows(4)
    book.save(path)
    lacking = apply_review(archive, path, decided_by="张三")
    assert lacking.missing == 1 and "1 对待审核的客户不在本文件中" in str(lacking)


def test_one_code_two_names_merged_without_a_side_is_asked_which(archive, tmp_path):
    ingest(archive, tmp_path, "a", period="2026-09", customers=[customer()])
    ingest(archive, tmp_path, "b", branch="华南分公司", customers=[customer(name="上海浦江城投集团有限公司")])
    path = export_review(archive, tmp_path / "r.xlsx")
    book = openpyxl.load_workbook(path)
    ws = book["疑似重复客户"]
    headers = [c.value for c in ws[3]]
    ws.cell(4, headers.index("处理决定") + 1, "合并")
    book.save(path)
    [finding] = apply_review(archive, path, decided_by="张三").findings
    assert finding.code == "conditional-required" and "右为采用新名称" in finding.message
    assert archive.names_decided() == {}


def test_export_has_text_codes_and_never_a_formula(archive, tmp_path):
    ingest(archive, tmp_path, "a", customers=[customer(name="=1+1公司", remark="=HYPERLINK(\"x\")",
                                                        uscc=CODE_A)],
           projects=[example_row("projects", customer_name="=1+1公司", contract_no="007")])
    path, _ = export_archive(archive, tmp_path / "客户档案总表.xlsx")
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["客户", "合作项目", "满意度调查", "投诉记录", "拜访记录", "变更记录"]
    for ws in book.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (ws.title, cell.coordinate, cell.value)
    ws = book["客户"]
    headers = [c.value for c in ws[3]]
    assert ws.cell(4, headers.index("客户单位名称") + 1).value == "=1+1公司"
    # printed across pages, every page names its rows: 客户编号 and 客户单位名称 repeat, pages in row order
    assert ws.print_title_cols == "$A:$B" and ws.page_setup.pageOrder == "overThenDown"
    assert ws.cell(4, headers.index("统一社会信用代码") + 1).value == CODE_A
    projects = book["合作项目"]
    p_headers = [c.value for c in projects[3]]
    assert projects.cell(4, p_headers.index("合同编号") + 1).value == "007"


def test_export_as_of_a_past_month(archive, tmp_path):
    ingest(archive, tmp_path, "a", period="2026-09", customers=[customer()])
    ingest(archive, tmp_path, "b", period="2026-10", customers=[customer(name="新客户有限公司", uscc=CODE_B)])
    path, _ = export_archive(archive, tmp_path / "x.xlsx", as_of="2026-09")
    book = openpyxl.load_workbook(path)
    names = [r[1] for r in book["客户"].iter_rows(min_row=4, values_only=True) if r[0]]
    assert names == ["上海浦江城市建设投资有限公司"]


def test_export_gives_every_customer_its_official_grade(archive, tmp_path):
    """正式等级 is the half-yearly decision where there is one, else the rules' grade (it was blank but for the few
    customers a decision had regraded)."""
    from pipeline.analysis.grading import official_grades, rule_grades
    from pipeline.config import load_config
    ingest(archive, tmp_path, "a", period="2026-09", customers=[customer(), customer(name="乙公司", uscc=None,
                                                                                    near_term_need="无")])
    config = load_config(None)
    path, _ = export_archive(archive, tmp_path / "x.xlsx", as_of="2026-09", config=config)
    ws = openpyxl.load_workbook(path)["客户"]
    headers = [c.value for c in ws[3]]
    shown = {r[headers.index("客户单位名称")]: r[headers.index("正式等级")]
             for r in ws.iter_rows(min_row=4, values_only=True) if r[0]}
    graded = official_grades(rule_grades(archive.snapshot("2026-09"), config, "2026-09"))
    assert shown == dict(zip(graded["name"], graded["official_grade"])) and set(shown.values()) <= {"A", "B", "C"}


@pytest.mark.parametrize("keep, expected", [("右", "上海浦江城投集团有限公司"), ("左", "上海浦江城市建设投资有限公司")])
def test_one_code_two_names_is_decided_in_review(archive, tmp_path, keep, expected):
    ingest(archive, tmp_path, "a", period="2026-09", customers=[customer()])
    ingest(archive, tmp_path, "b", branch="华南分公司", customers=[customer(name="上海浦江城投集团有限公司")])
    raised = archive.conflicts_raised()[["kind", "branch", "period"]].values.tolist()
    assert raised == [["同一信用代码名称不同", "华南分公司", "2026-10"]]
    path = export_review(archive, tmp_path / "r.xlsx")
    book = openpyxl.load_workbook(path)
    ws = book["疑似重复客户"]
    headers = [c.value for c in ws[3]]
    col = {h: i + 1 for i, h in enumerate(headers)}
    assert ws.cell(4, col["右：客户单位名称"]).value == "上海浦江城投集团有限公司"
    assert ws.cell(4, col["左：客户编号"]).value == ws.cell(4, col["右：客户编号"]).value
    ws.cell(4, col["处理决定"], "合并")
    ws.cell(4, col["保留记录"], keep)
    book.save(path)
    result = apply_review(archive, path, decided_by="张三")
    assert result.findings == [] and (result.renamed, result.kept_names) == (keep == "右", keep == "左")
    assert archive.snapshot()["customers"]["name"].tolist() == [expected]
    assert archive.conflicts().empty
    # decided, the pair still counts as a conflict 华南 raised in October (the branch assessment counts it)
    assert archive.conflicts_raised()[["kind", "branch", "period"]].values.tolist() == raised
    # the decision holds for later months too
    ingest(archive, tmp_path, "c", branch="华南分公司", period="2026-11",
           customers=[customer(name="上海浦江城投集团有限公司", contact="陈红")])
    assert archive.conflicts().empty
    assert archive.snapshot()["customers"]["name"].tolist() == [expected]
    assert archive.conflicts_raised()[["kind", "branch", "period"]].values.tolist() == raised


def test_a_branch_resending_an_old_value_does_not_undo_another_branchs_update(archive, tmp_path):
    ingest(archive, tmp_path, "a", period="2026-09", customers=[customer(integrity="良好")])
    ingest(archive, tmp_path, "b", branch="华南分公司", period="2026-10",
           customers=[customer(integrity="不良")])
    # 华东 re-sends its row unchanged, then with only its contact changed
    ingest(archive, tmp_path, "c", period="2026-11", customers=[customer(integrity="良好")])
    assert archive.snapshot()["customers"].loc[0, "integrity"] == "不良"
    ingest(archive, tmp_path, "d", period="2026-12", customers=[customer(integrity="良好", contact="王五")])
    snap = archive.snapshot()
    assert snap["customers"].loc[0, "integrity"] == "不良"
    assert snap["customer_branches"].set_index("branch").loc["华东分公司", "contact"] == "王五"
    # when 华东 itself reports a change, it counts
    ingest(archive, tmp_path, "e", period="2027-01", customers=[customer(integrity="一般", contact="王五")])
    assert archive.snapshot()["customers"].loc[0, "integrity"] == "一般"


def test_a_branch_s_first_row_for_a_shared_customer_does_not_blank_what_another_reported(archive, tmp_path):
    """Cells a branch leaves blank the first time it reports a customer another branch reports are unknown to it,
    not cleared: 华南's blank 营销专员 and 联点领导 erased 华东's (and a strategic customer lost its owners)."""
    ingest(archive, tmp_path, "a", period="2026-07", when="2026-07-20T10:00", customers=[customer(
        strategic="是", specialist="HD专员", liaison_leader="HD领导", integrity="良好")])
    ingest(archive, tmp_path, "b", branch="华南分公司", period="2026-07", when="2026-07-21T10:00",
           customers=[customer(strategic="否", specialist=None, liaison_leader=None, integrity="一般", remark="华南")])
    row = archive.snapshot()["customers"].iloc[0]
    assert (row["specialist"], row["liaison_leader"]) == ("HD专员", "HD领导")
    assert (row["strategic"], row["integrity"], row["remark"]) == ("否", "一般", "华南")  # what it reports counts
    # once it has reported the customer, a value it had and now blanks is cleared
    ingest(archive, tmp_path, "c", branch="华南分公司", period="2026-08", when="2026-08-21T10:00",
           customers=[customer(strategic="否", specialist=None, liaison_leader=None, integrity="一般", remark=None)])
    assert pd.isna(archive.snapshot()["customers"].iloc[0]["remark"])


DERIVED_VIEW = {  # the derived tables without the ids of the file a row came from (a correction replaces them)
    "customers": "SELECT id, uscc, name_key, data, row_hash, first_period FROM customers",
    "customer_branches": "SELECT customer_id, branch, data, row_hash, first_period, sent_hash FROM customer_branches",
    "history": "SELECT entity, entity_key, customer_id, branch, field, old, new, period FROM history",
    "conflicts": "SELECT kind, left_id, right_id, detail, score, period, other_name FROM conflicts",
    "records": "SELECT * FROM records",
    "reports": "SELECT * FROM reports",
}


def derived(archive) -> dict[str, list]:
    return {table: sorted(map(repr, archive.conn.execute(query))) for table, query in DERIVED_VIEW.items()}


def test_a_correction_sent_as_it_was_changes_nothing(archive, tmp_path):
    """A correction takes the place of the file it corrects. Sent again with the same rows (saved anew, so
    other bytes) after another branch reported the same customer under another name and address, the
    archive stays as it was: the same name, the same change record."""
    ingest(archive, tmp_path, "a", branch="华东分公司", when="2026-10-24T15:30",
           customers=[customer(address="建设路98号")])
    ingest(archive, tmp_path, "b", branch="基础设施分公司", when="2026-10-24T15:30",
           customers=[customer(name="上海申城实业发展有限公司", address="建设路84号")])
    before = derived(archive)
    assert any("建设路84号" in row for row in before["history"])
    fixed = ingest(archive, tmp_path, "a（更正）", branch="华东分公司", when="2026-10-24T18:00",
                   customers=[customer(address="建设路98号")])
    assert fixed.superseded is not None and fixed.rebuilt
    assert derived(archive) == before
    archive.rebuild()
    assert derived(archive) == before


def test_a_correction_does_not_undo_another_branchs_change(archive, tmp_path):
    # 西北 files October (10-18); 华北 changes the shared customer's credit (10-24); 西北 then corrects
    # only a contact (10-26). The credit must stay 差, and no change record undoes it.
    ingest(archive, tmp_path, "a", branch="西北分公司", when="2026-10-18T10:00",
           customers=[customer(credit="良好", contact="赵一")])
    ingest(archive, tmp_path, "b", branch="华北分公司", when="2026-10-24T10:00",
           customers=[customer(credit="差")])
    fixed = ingest(archive, tmp_path, "a2", branch="西北分公司", when="2026-10-26T10:00",
                   customers=[customer(credit="良好", contact="钱二")])
    assert fixed.superseded is not None
    snap = archive.snapshot()
    assert snap["customers"].loc[0, "credit"] == "差"
    assert snap["customer_branches"].set_index("branch").loc["西北分公司", "contact"] == "钱二"
    history = archive.history()
    credit = history[history["field"] == "资信状况"]
    assert ("差", "良好") not in set(zip(credit["old_value"], credit["new_value"]))


def test_name_index_kept_between_files_finds_what_a_new_index_finds():
    """The look-alike index a run keeps between files is updated, not rebuilt, as names arrive and change:
    every search gives the pairs, in the order, that an index read afresh from the archive gives."""
    import random
    import sqlite3

    from pipeline.archive.merge import NameIndex

    rng = random.Random(7)
    words = ["华南", "华东", "建材", "建工", "城建", "路桥", "水利", "装饰", "钢构", "市政", "安装", "机电"]
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, uscc TEXT, name_key TEXT)")

    def name():
        return "".join(rng.choice(words) for _ in range(rng.randint(1, 4))) + rng.choice(["有限公司", "公司", ""])

    def add(ids):
        for cid in ids:
            conn.execute("INSERT OR REPLACE INTO customers VALUES (?,?,?)",
                         (cid, rng.choice([None, f"C{cid}"]), name()))

    add(range(1, 3001))
    kept = NameIndex.load(conn)
    next_id, found = 3001, 0
    for _ in range(12):  # a file: some new customers, some renamed (an old name changes length)
        new = list(range(next_id, next_id + rng.randint(1, 300)))
        next_id = new[-1] + 1
        renamed = rng.sample(range(1, next_id - len(new)), 20)
        add(new + renamed)
        kept.add_from(conn, new + renamed)
        pairs = list(kept.similar(new + renamed, 80.0))
        assert pairs == list(NameIndex.load(conn).similar(new + renamed, 80.0))
        found += len(pairs)
    assert kept._fresh and found > 100  # the kept index was searched with fresh names, and found pairs


def test_a_customer_is_known_by_its_former_name_after_a_rename(tmp_path):
    # A complaint filed before the rename names the customer by its old name, in the archive and in the branch's
    # pre-filled workbook: that reference is to a known customer, not an unknown one.
    from schemas.labels import MERGE, RIGHT
    from pipeline.identity import normalize_name
    old, new = example_row("customers")["name"], "上海浦江新城建设集团有限公司"
    with Archive(tmp_path / "a.sqlite") as archive:
        ingest(archive, tmp_path, "x", customers=[example_row("customers")])
        ingest(archive, tmp_path, "y", period="2026-11", when="2026-11-20T10:00",
               customers=[example_row("customers", name=new)])
        archive.record_review([{"left_id": 1, "right_id": 1, "other_name": new, "decision": MERGE,
                                "keep_side": RIGHT}], "市场营销部")
        assert archive.snapshot()["customers"]["name"].tolist() == [new]
        known = archive.known_identities()
        assert {normalize_name(old), normalize_name(new), example_row("customers")["uscc"]} <= known
        assert archive.known_of({normalize_name(old), "上海别的公司"}) == {normalize_name(old)}


@pytest.mark.parametrize("keep, renamed", [("右", 1), ("左", 0)])
def test_a_name_decision_applied_again_is_a_repeat_not_a_new_decision(archive, tmp_path, keep, renamed):
    """One code, two names: the review file applied a second time reports the choice as made before."""
    ingest(archive, tmp_path, "a", customers=[customer()])
    path = _one_pair_decided(archive, tmp_path, [customer(name="浦江城投（改名）有限公司")], period="2026-11",
                             处理决定="合并", 保留记录=keep)
    first = apply_review(archive, path, decided_by="张三")
    assert (first.renamed, first.kept_names, first.repeated, first.findings) == (renamed, 1 - renamed, 0, [])
    again = apply_review(archive, path, decided_by="张三")
    assert (again.renamed, again.kept_names, again.repeated) == (0, 0, 1) and "未重复处理" in str(again)


def test_a_name_with_a_stray_line_break_is_read_on_one_line_and_a_tidied_name_replaces_the_untidy_one(archive, tmp_path):
    ingest(archive, tmp_path, "a", period="2026-09", when="2026-09-20T10:00",
           customers=[customer(name="上海浦江城市建设\n投资有限公司", contact="李\n华")])
    snap = archive.snapshot()
    assert snap["customers"]["name"].tolist() == ["上海浦江城市建设投资有限公司"]
    assert snap["customer_branches"]["contact"].tolist() == ["李华"]
    ingest(archive, tmp_path, "b", period="2026-10", when="2026-10-20T10:00",
           customers=[customer(name="上海浦江 城市建设投资有限公司")])  # a stray space: the same name
    ingest(archive, tmp_path, "c", period="2026-11", when="2026-11-20T10:00",
           customers=[customer(name="上海浦江城市建设投资有限公司")])   # tidied again: the archive follows
    assert archive.snapshot()["customers"]["name"].tolist() == ["上海浦江城市建设投资有限公司"]
    assert archive.conflicts().empty
