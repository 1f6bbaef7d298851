"""Grades, reasons, the half-yearly adjustment and the analyses, against hand-computed figures."""
from __future__ import annotations

import math

import openpyxl
import pandas as pd
import pytest

from builders import example_row, ingest
from pipeline.analysis import loyalty, outlook, profit
from pipeline.analysis.adjustment import (propose_adjustment, read_adjustment_decisions,
                                          write_adjustment_workbook)
from pipeline.analysis.grading import grades_as_of, rule_grades
from pipeline.archive import Archive
from pipeline.config import load_config
from pipeline.errors import ConfigError

A_REASON = "A：有合作历史（2019年起）；诚信良好；资信良好；社会价值高；近期有合作需求"


@pytest.fixture
def archive(tmp_path):
    with Archive(tmp_path / "a.sqlite") as arch:
        yield arch


def grade_of(archive, tmp_path, customer=None, projects=None, complaints=None, config=None,
             as_of="2026-10"):
    ingest(archive, tmp_path, "x", customers=[example_row("customers", **(customer or {}))],
           projects=projects if projects is not None else [example_row("projects")],
           complaints=complaints or [])
    rules = rule_grades(archive.snapshot(as_of), config or load_config(None), as_of)
    return rules.iloc[0]


def test_a_customer_with_every_condition(archive, tmp_path):
    row = grade_of(archive, tmp_path)
    assert (row.rule_grade, row.reasons) == ("A", A_REASON)
    assert row.margin == pytest.approx(1600.5 / 12800.5)


@pytest.mark.parametrize("customer, projects, complaints, reason", [
    ({"first_year": None}, [], None, "C：陌生客户（无合作历史）"),
    ({"integrity": "不良"}, None, None, "C：诚信记录为不良"),
    ({"demanding": "是"}, None, None, "C：要求苛刻"),
    ({"unreasonable_complaints": "有"}, None, None, "C：有无理投诉记录"),
    ({}, None, [example_row("complaints", complained_at="2025-05-06 10:00", first_response_at=None,
                            resolved_at=None, feedback_at=None, unreasonable="是")],
     "C：2025年有无理投诉1次"),
    ({}, [example_row("projects", profit=100, cost=12700.5)], None, "C：利润低（毛利率0.8%，低于3%）"),
    ({"credit": "差"}, None, None, "C：资信状况为差"),
    ({"own_problems": "有"}, None, None, "C：企业自身存在问题"),
    ({"integrity": "不良", "demanding": "是"}, None, None, "C：诚信记录为不良；要求苛刻"),
    ({"near_term_need": "无"}, None, None, "B：不满足A类条件：近期无合作需求"),
    ({"social_value": "中", "near_term_need": "无"}, None, None,
     "B：不满足A类条件：社会价值为中；近期无合作需求"),
    ({"integrity": "一般"}, None, None, "B：不满足A类条件：诚信记录为一般"),
])
def test_each_rule_alone_and_in_combination(archive, tmp_path, customer, projects, complaints, reason):
    row = grade_of(archive, tmp_path, customer, projects, complaints)
    assert (row.rule_grade, row.reasons) == (reason[0], reason)


def test_a_blank_profit_is_unknown_not_a_margin_of_zero(archive, tmp_path):
    # Cost, profit and net profit are optional in the submission: a project without them says nothing of the
    # margin (it used to sum to 0 and make a strategic customer C, "毛利率0.0%").
    row = grade_of(archive, tmp_path, projects=[example_row("projects", cost=None, profit=None, net_profit=None)])
    assert (row.rule_grade, row.reasons) == ("A", A_REASON)
    assert math.isnan(row.margin) and math.isnan(row.profit) and row.amount == 12800.5


def test_a_margin_counts_only_the_projects_whose_profit_is_filled_in(archive, tmp_path):
    projects = [example_row("projects"),
                example_row("projects", project_name="浦江华庭二期", contract_no="HD-2024-0016", amount=90000.0,
                            cost=None, profit=None, net_profit=None)]
    row = grade_of(archive, tmp_path, projects=projects)
    assert row.rule_grade == "A" and row.margin == pytest.approx(1600.5 / 12800.5)
    assert (row.project_count, row.amount, row.profit) == (2, 102800.5, 1600.5)
    sums = profit.profit(archive.snapshot("2026-10"), load_config(None)).iloc[0]
    assert (sums.amount, sums.cost, sums.profit, sums.net_profit) == (102800.5, 11200.0, 1600.5, 980.25)
    assert sums.scale_profit_ratio == pytest.approx(1600.5 / 12800.5)
    assert sums.cost_profit_ratio == pytest.approx(1600.5 / 11200.0)


def test_arrears_make_c_only_when_configured(archive, tmp_path):
    arrears = [example_row("projects", payment="拖欠")]
    assert grade_of(archive, tmp_path, projects=arrears).rule_grade == "A"  # the rules as written
    config = load_config(None)
    config.data["grading"]["arrears_is_c"] = True
    rules = rule_grades(archive.snapshot("2026-10"), config, "2026-10")
    assert (rules.iloc[0].rule_grade, rules.iloc[0].reasons) == ("C", "C：1个项目付款拖欠")


def test_old_unreasonable_complaint_falls_out_of_the_window(archive, tmp_path):
    old = example_row("complaints", complained_at="2022-05-06 10:00", first_response_at=None,
                      resolved_at=None, feedback_at=None, unreasonable="是")
    assert grade_of(archive, tmp_path, complaints=[old]).rule_grade == "A"


def test_configuration_changes_the_grade(archive, tmp_path):
    config = load_config(None)
    config.data["grading"]["a_social_values"] = ["高", "中"]
    assert grade_of(archive, tmp_path, {"social_value": "中"}, config=config).rule_grade == "A"
    config.data["grading"]["low_margin_percent"] = 15.0
    rules = rule_grades(archive.snapshot("2026-10"), config, "2026-10")
    assert rules.iloc[0].reasons == "C：利润低（毛利率12.5%，低于15%）"


def test_bad_configuration_names_the_key_and_line(tmp_path):
    path = tmp_path / "crm.toml"
    path.write_text('[grading]\nlow_margin_percent = "三"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"第 2 行 \[grading\] low_margin_percent"):
        load_config(path)


def test_adjust_apply_round_trip_and_as_of(archive, tmp_path):
    config = load_config(None)
    ingest(archive, tmp_path, "x", period="2026-05", when="2026-05-20T10:00",
           customers=[example_row("customers"),
                      example_row("customers", name="乙公司", uscc=None, near_term_need="无")],
           projects=[example_row("projects")])
    proposal = propose_adjustment(archive.snapshot("2026-06"), config, "2026-H1")
    assert dict(zip(proposal["name"], proposal["rule_grade"])) == {"上海浦江城市建设投资有限公司": "A",
                                                                    "乙公司": "B"}
    path = write_adjustment_workbook(proposal, tmp_path / "等级调整建议_2026-H1.xlsx", "2026-H1")
    book = openpyxl.load_workbook(path)
    ws = book["等级调整建议"]
    headers = [c.value for c in ws[4]]
    for r in range(5, 7):
        name = ws.cell(r, headers.index("客户单位名称") + 1).value
        ws.cell(r, headers.index("处理决定") + 1, "保持" if name == "乙公司" else " 改为Ｂ ")  # (full-width, as typed)
    book.save(path)
    rows, findings, _ = read_adjustment_decisions(path, "2026-H1", proposal)
    assert findings == []
    archive.record_grade_adjustments(rows)
    after = grades_as_of(archive, config, "2026-06").set_index("name")
    assert after.loc["乙公司", "official_grade"] == "B"
    assert after.loc["上海浦江城市建设投资有限公司", "official_grade"] == "B"
    assert after.loc["上海浦江城市建设投资有限公司", "rule_grade"] == "A"
    before = grades_as_of(archive, config, "2026-05").set_index("name")
    assert before.loc["上海浦江城市建设投资有限公司", "official_grade"] == "A"   # rule grade until adjusted
    assert before.loc["上海浦江城市建设投资有限公司", "official_source"] == "规则（尚未调整）"
    # the change list says the new grade is the department's (its rules' reasons are still the A's)
    from pipeline.analysis.grading import grade_changes
    [change] = grade_changes(grades_as_of(archive, config, "2026-05"),
                             grades_as_of(archive, config, "2026-06")).to_dict("records")
    assert (change["grade_before"], change["grade_after"], change["official_source"]) == ("A", "B", "半年度调整")
    # a bad decision is reported with its cell and nothing is read
    ws.cell(5, headers.index("处理决定") + 1, "升为A")
    book.save(path)
    rows, findings, _ = read_adjustment_decisions(path, "2026-H1", proposal)
    assert [f.code for f in findings] == ["not-allowed"] and findings[0].cell.endswith(
        f"{openpyxl.utils.get_column_letter(headers.index('处理决定') + 1)}5")


def test_applying_the_proposal_unchanged_equals_the_rule_grades(archive, tmp_path):
    config = load_config(None)
    ingest(archive, tmp_path, "x", period="2026-05", customers=[
        example_row("customers"), example_row("customers", name="乙公司", uscc=None, demanding="是")])
    archive.record_grade_adjustments([
        {"customer_id": 1, "period": "2025-H2", "effective_period": "2025-12", "old_grade": "A",
         "new_grade": "B"}])
    proposal = propose_adjustment(archive.snapshot("2026-06"), config, "2026-H1")
    path = write_adjustment_workbook(proposal, tmp_path / "p.xlsx", "2026-H1")
    rows, _, _ = read_adjustment_decisions(path, "2026-H1", proposal)
    archive.record_grade_adjustments(rows)
    grades = grades_as_of(archive, config, "2026-06")
    assert (grades["official_grade"] == grades["rule_grade"]).all()


def test_loyalty_to_the_formula(archive, tmp_path):
    ingest(archive, tmp_path, "x", customers=[example_row("customers")],
           projects=[example_row("projects")])
    row = loyalty.loyalty(archive.snapshot("2026-10"), load_config(None), "2026-10").iloc[0]
    # tenure 8 years → 0.8; 1 project → 0.2; 31 months since 2024-03 → 1 − 31/36;
    # continuity 1 year of 8; trend unknown 0.5; stability 1.
    expected = 20 * 0.8 + 15 * 0.2 + 20 * (1 - 31 / 36) + 20 * (1 / 8) + 10 * 0.5 + 15 * 1
    assert (row.tenure_years, row.projects, row.months_since_last) == (8, 1, 31)
    assert row.loyalty_score == round(expected, 1)
    assert row.segment == "流失风险"


def test_grade_stability_comes_from_the_grade_history(archive, tmp_path):
    from pipeline.analysis.grading import grade_history
    ingest(archive, tmp_path, "x", period="2026-01", when="2026-01-20T10:00",
           customers=[example_row("customers"), example_row("customers", name="乙公司", uscc=None)],
           projects=[example_row("projects")])
    adjust = [("2025-H2", "2025-12", "A", "B"), ("2026-H1", "2026-06", "B", "A"), ("2026-H2", "2026-12", "A", "A")]
    archive.record_grade_adjustments([
        {"customer_id": 1, "period": half, "effective_period": end, "old_grade": old, "new_grade": new}
        for half, end, old, new in adjust])
    history = grade_history(archive, "2026-12")
    assert history[history["customer_id"] == 1]["grade"].tolist() == ["A", "B", "A", "A"]
    rows = loyalty.loyalty(archive.snapshot("2026-12"), load_config(None), "2026-12", history).set_index("name")
    assert rows.loc["上海浦江城市建设投资有限公司", "stability"] == round(1 - 2 / 3, 4)  # 2 changes in 3 periods
    assert rows.loc["乙公司", "stability"] == 1.0  # never adjusted: nothing moved
    only_first = grade_history(archive, "2026-06")
    assert only_first[only_first["customer_id"] == 1]["grade"].tolist() == ["A", "B", "A"]


def test_profit_to_the_cent_and_zero_denominators(archive, tmp_path):
    ingest(archive, tmp_path, "x", customers=[
        example_row("customers"),
        example_row("customers", name="零成本公司", uscc=None),
        example_row("customers", name="零金额公司", uscc=None)], projects=[
        example_row("projects", contract_no="P1", amount=100.10, cost=90.05, profit=10.05, net_profit=6.03),
        example_row("projects", contract_no="P2", amount=200.20, cost=180.10, profit=20.10, net_profit=12.06),
        example_row("projects", contract_no="P3", customer_name="零成本公司", customer_uscc=None,
                    amount=50, cost=0, profit=50, net_profit=30),
        example_row("projects", contract_no="P4", customer_name="零金额公司", customer_uscc=None,
                    amount=0, cost=0, profit=0, net_profit=0)])
    table = profit.profit(archive.snapshot("2026-10"), load_config(None)).set_index("name")
    first = table.loc["上海浦江城市建设投资有限公司"]
    assert round(first.amount, 2) == 300.30 and round(first.cost, 2) == 270.15
    assert round(first.profit, 2) == 30.15 and round(first.net_profit, 2) == 18.09
    assert first.scale_profit_ratio == pytest.approx(30.15 / 300.30)
    assert first.cost_profit_ratio == pytest.approx(30.15 / 270.15)
    assert math.isnan(table.loc["零成本公司", "cost_profit_ratio"])
    assert math.isnan(table.loc["零金额公司", "scale_profit_ratio"])
    assert not table.select_dtypes("number").isin([float("inf"), float("-inf")]).any().any()


def test_quadrants_at_the_thresholds():
    config = load_config(None)
    config.data["quadrant"] = {"amount_threshold": 1000.0, "margin_threshold": 0.1}
    frame = pd.DataFrame({"customer_id": [1, 2, 3, 4], "amount": [1000.0, 999.99, 1000.0, 10.0],
                          "scale_profit_ratio": [0.1, 0.1, 0.0999, 0.05]})
    quads, thresholds = profit.scale_profit(frame, config)
    assert quads["quadrant"].tolist() == ["规模大利润高", "规模小利润高", "规模大利润低", "规模小利润低"]
    assert thresholds == {"amount_threshold": 1000.0, "margin_threshold": 0.1}
    assert quads.loc[3, "hint"].startswith("观察评估")


def test_quadrant_default_is_the_median():
    frame = pd.DataFrame({"customer_id": [1, 2, 3], "amount": [1.0, 2.0, 3.0],
                          "scale_profit_ratio": [0.3, 0.2, 0.1]})
    quads, thresholds = profit.scale_profit(frame, load_config(None))
    assert thresholds == {"amount_threshold": 2.0, "margin_threshold": 0.2}
    assert quads["quadrant"].tolist() == ["规模小利润高", "规模大利润高", "规模大利润低"]


def test_b_customers_without_an_amount_or_a_profit_are_their_own_group():
    frame = pd.DataFrame({"customer_id": [1, 2, 3, 4, 5], "amount": [1.0, 3.0, float("nan"), 0.0, 5.0],
                          "scale_profit_ratio": [0.3, 0.1, float("nan"), float("nan"), float("nan")]})
    quads, thresholds = profit.scale_profit(frame, load_config(None))
    assert thresholds == {"amount_threshold": 2.0, "margin_threshold": 0.2}  # medians of the priced two
    assert quads["quadrant"].tolist() == ["规模小利润高", "规模大利润低", *["未报合同额或利润"] * 3]
    assert len(quads) == len(frame)


def test_churn():
    customers = pd.DataFrame({"customer_id": [1, 2, 3], "name": ["甲", "乙", "丙"], "branches": ["华东分公司"] * 3})
    lost = loyalty.churn({1, 2}, {2, 3}, customers)
    assert lost["name"].tolist() == ["甲"] and lost.attrs["churn_rate"] == 0.5


def test_performance_and_future(archive, tmp_path):
    ingest(archive, tmp_path, "x", period="2026-09", customers=[example_row("customers")],
           projects=[example_row("projects", payment="拖欠")])
    before = archive.snapshot("2026-09")
    ingest(archive, tmp_path, "y", period="2026-10", customers=[example_row("customers")],
           projects=[example_row("projects", payment="拖欠"),
                     example_row("projects", contract_no="HD-2", status="跟踪", amount=None),
                     example_row("projects", contract_no="HD-3", status="投标", amount=500.0)],
           complaints=[example_row("complaints")])
    now = archive.snapshot("2026-10")
    perf = outlook.performance(now).iloc[0]
    assert (perf.pay_arrears, perf.pay_normal, perf.complaints, perf.unreasonable_count) == (1, 2, 1, 0)
    fut = outlook.future(now, before).iloc[0]
    assert (fut.pipeline_projects, fut.pipeline_amount, fut.pipeline_change) == (2, 500.0, 2)


def _adjust_workbook(tmp_path):
    """A workspace with three customers in May 2026 and its 2026-H1 adjustment workbook: (root, path, sheet
    header, workbook)."""
    from builders import crm, write_submission
    from pipeline.archive.workspace import Workspace
    ws = Workspace(tmp_path / "ws")
    ws.init()
    write_submission(ws.inbox / "华东分公司_2026-05_x.xlsx", period="2026-05", customers=[
        example_row("customers"), example_row("customers", name="乙公司", uscc=None, near_term_need="无"),
        example_row("customers", name="丙公司", uscc=None, demanding="是")])
    assert crm(ws.root, "ingest", "--received-at", "2026-05-20T10:00").exit_code == 0
    assert crm(ws.root, "grades", "adjust", "--period", "2026-H1").exit_code == 0
    path = ws.output / "2026-H1" / "等级调整建议_2026-H1.xlsx"
    book = openpyxl.load_workbook(path)
    return ws.root, path, [c.value for c in book["等级调整建议"][4]], book


def _cell(sheet, header, name, column):
    row = next(r for r in range(5, sheet.max_row + 1) if sheet.cell(r, header.index("客户单位名称") + 1).value == name)
    return sheet.cell(row, header.index(column) + 1)


@pytest.mark.parametrize("edit, says", [
    (lambda s, h: setattr(_cell(s, h, "乙公司", "规则等级"), "value", "D"), "档案中该客户的这一等级是“B”"),
    (lambda s, h: setattr(_cell(s, h, "乙公司", "客户编号"), "value", 99999), "不是档案中的客户编号"),
    (lambda s, h: [setattr(s.cell(s.max_row + 1, c + 1), "value", s.cell(5, c + 1).value) for c in range(len(h))],
     "有两行（另见第 5 行）"),
])
def test_an_adjustment_workbook_whose_other_cells_were_changed_is_refused(tmp_path, edit, says):
    """Only a row's customer number, decision and remark are the department's: an edited grade (D, which no
    list holds), a number the archive does not have, or a row copied twice record nothing."""
    from builders import crm
    root, path, header, book = _adjust_workbook(tmp_path)
    edit(book["等级调整建议"], header)
    book.save(path)
    result = crm(root, "grades", "apply", path)
    assert result.exit_code == 1 and says in result.output and "未作任何改动" in result.output, result.output
    with Archive(root / "archive.sqlite") as archive:
        assert archive.grade_adjustments().empty


def test_an_adjustment_applied_made_again_and_applied_again_keeps_the_decisions(tmp_path):
    """The workbook made after an apply shows the half's recorded decisions (not 采纳 over grades that already
    include them): applied as it is, it records the same grades. A customer number may be typed K000002; a row
    deleted or a decision left blank is said."""
    from builders import crm
    root, path, header, book = _adjust_workbook(tmp_path)
    sheet = book["等级调整建议"]
    _cell(sheet, header, "上海浦江城市建设投资有限公司", "处理决定").value = "改为B"
    _cell(sheet, header, "乙公司", "处理决定").value = None
    _cell(sheet, header, "乙公司", "客户编号").value = "K000002"
    sheet.delete_rows(_cell(sheet, header, "丙公司", "客户编号").row)
    book.save(path)
    result = crm(root, "grades", "apply", path)
    assert result.exit_code == 0, result.output
    assert "1 行的“处理决定”为空，按“采纳”处理" in result.output and "调整表中没有 1 家客户的行（丙公司）" in result.output
    with Archive(root / "archive.sqlite") as archive:
        first = archive.grade_adjustments(["2026-H1"])[["customer_id", "old_grade", "new_grade", "decision"]]
    assert first.to_dict("records") == [{"customer_id": 1, "old_grade": "A", "new_grade": "B", "decision": "改为B"},
                                        {"customer_id": 2, "old_grade": "B", "new_grade": "B", "decision": "采纳"}]
    assert crm(root, "grades", "adjust", "--period", "2026-H1").exit_code == 0
    again = openpyxl.load_workbook(path)["等级调整建议"]
    assert _cell(again, header, "上海浦江城市建设投资有限公司", "现正式等级").value == "A"
    assert _cell(again, header, "上海浦江城市建设投资有限公司", "处理决定").value == "改为B"
    assert crm(root, "grades", "apply", path).exit_code == 0
    with Archive(root / "archive.sqlite") as archive:
        recorded = archive.grade_adjustments(["2026-H1"]).set_index("customer_id")
    assert recorded.loc[1, "new_grade"] == "B" and recorded.loc[1, "decision"] == "改为B"
