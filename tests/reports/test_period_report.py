"""The period report: correctness of counts, comparison with the previous period, and its layout."""
from __future__ import annotations

import datetime as dt

import openpyxl
import pytest
from click.testing import CliRunner

from builders import example_row, ingest
from golden import check_golden
from pipeline.archive import Archive
from pipeline.cli import main
from pipeline.config import load_config
from pipeline.reports.period import ReportError, period_report

TODAY = dt.date(2026, 11, 22)


def small_archive(tmp_path) -> Archive:
    archive = Archive(tmp_path / "a.sqlite")
    shared = example_row("customers")
    ingest(archive, tmp_path, "q2", period="2026-06", when="2026-06-20T10:00",
           customers=[shared, example_row("customers", name="乙公司", uscc=None, near_term_need="无")],
           projects=[example_row("projects")])
    ingest(archive, tmp_path, "q3", period="2026-08", when="2026-08-20T10:00",
           customers=[shared, example_row("customers", name="乙公司", uscc=None, near_term_need="无"),
                      example_row("customers", name="丙公司", uscc=None, first_year=None)],
           projects=[example_row("projects")])
    ingest(archive, tmp_path, "hn", branch="华南分公司", period="2026-09", when="2026-09-20T10:00",
           customers=[example_row("customers", contact="陈红")])
    return archive


def rows_of(ws, first_row: int):
    return [r for r in ws.iter_rows(min_row=first_row, values_only=True) if r[0] not in (None, "")]


def test_counts_match_the_lists_and_the_group_total_is_distinct(tmp_path):
    with small_archive(tmp_path) as archive:
        path = period_report(archive, load_config(None), "2026-Q3", tmp_path / "out", today=TODAY)
    book = openpyxl.load_workbook(path)
    ranking = book["等级排名"]
    header = [c.value for c in ranking[4]]
    body = rows_of(ranking, 5)
    branches = {r[0]: dict(zip(header, r)) for r in body if r[0] != "集团合计（去重）"}
    total = next(r for r in body if r[0] == "集团合计（去重）")
    lists = {g: len(rows_of(book[f"{g}类客户"], 5)) for g in "ABC"}
    assert lists == {"A": 1, "B": 1, "C": 1}
    assert total[1:5] == (1, 1, 1, 3)                       # distinct customers
    assert branches["华东分公司"]["合计"] == 3 and branches["华南分公司"]["合计"] == 1
    assert sum(b["A类"] for b in branches.values()) == 2     # the shared A customer counts once per branch
    # previous quarter (as of 2026-06): 华东 had A and B → A change 0, B change 0, C change +1
    assert (branches["华东分公司"]["A类增减"], branches["华东分公司"]["C类增减"]) == (0, 1)
    assert branches["华南分公司"]["A类增减"] == 1
    assert branches["华东分公司"]["排名"] == 1 and branches["华南分公司"]["排名"] == 2


def test_future_and_empty_periods_are_clear_messages(tmp_path):
    with small_archive(tmp_path) as archive:
        with pytest.raises(ReportError, match="尚未开始"):
            period_report(archive, load_config(None), "2027-Q1", tmp_path, today=TODAY)
        with pytest.raises(ReportError, match="没有"):
            period_report(archive, load_config(None), "2025", tmp_path, today=TODAY)
    result = CliRunner().invoke(main, ["--workspace", str(tmp_path / "ws"), "report", "--period", "2026-Q9"])
    assert result.exit_code != 0 and "不是有效的报告期" in result.output


def test_layout_matches_the_golden_file(tmp_path):
    with small_archive(tmp_path) as archive:
        path = period_report(archive, load_config(None), "2026-Q3", tmp_path / "out", today=TODAY)
    check_golden(path, "period_report_2026-Q3")


def test_ranking_is_in_rank_order_with_the_group_total_last(tmp_path):
    with small_archive(tmp_path) as archive:
        path = period_report(archive, load_config(None), "2026-Q3", tmp_path / "out", today=TODAY)
    body = rows_of(openpyxl.load_workbook(path)["等级排名"], 5)
    ranks = [(r[6], r[0]) for r in body[:-1]]
    assert ranks == sorted(ranks) and body[-1][0] == "集团合计（去重）"
    assert body[0][0] == "华东分公司"


def test_the_annual_changes_are_every_adjustment_in_the_year(tmp_path):
    with small_archive(tmp_path) as archive:
        rows = [{"customer_id": 1, "period": "2026-H1", "effective_period": "2026-06", "old_grade": "A",
                 "new_grade": "B", "decision": "采纳"},
                {"customer_id": 2, "period": "2026-H1", "effective_period": "2026-06", "old_grade": "B",
                 "new_grade": "B", "decision": "保持"},
                {"customer_id": 1, "period": "2026-H2", "effective_period": "2026-12", "old_grade": "B",
                 "new_grade": "A", "decision": "采纳"}]
        archive.record_grade_adjustments(rows)
        year = period_report(archive, load_config(None), "2026", tmp_path / "out", today=dt.date(2026, 12, 31))
        q3 = period_report(archive, load_config(None), "2026-Q3", tmp_path / "out", today=TODAY)
    changes = rows_of(openpyxl.load_workbook(year)["等级变动"], 5)
    assert [(r[2], r[3], r[4], r[5]) for r in changes] == [("2026-H1", "A", "B", "降级"), ("2026-H2", "B", "A", "升级")]
    assert "共 2 次" in openpyxl.load_workbook(year)["等级变动"]["A2"].value
    assert openpyxl.load_workbook(q3)["等级变动"]["A4"].value.startswith("本期没有等级变动")


def test_about_sheet_says_arrears_are_not_a_c_rule(tmp_path):
    with small_archive(tmp_path) as archive:
        path = period_report(archive, load_config(None), "2026-Q3", tmp_path / "out", today=TODAY)
    about = " ".join(str(c.value) for row in openpyxl.load_workbook(path)["说明"].iter_rows() for c in row if c.value)
    assert "付款拖欠不计入" in about


def test_the_report_states_the_department_s_settings_as_figures_not_configuration_keys(tmp_path):
    """Leaders and branches read the report: the weights and time limits in force, not crm.toml sections, keys or
    crm commands they cannot run."""
    config = load_config(None)
    config.data["ranking"]["weight_a"] = 5
    config.data["complaints"]["response_hours"] = 12
    config.data["satisfaction"]["satisfied_answers"] = ["满意"]
    with small_archive(tmp_path) as archive:
        path = period_report(archive, config, "2026-Q3", tmp_path / "out", today=TODAY)
    book = openpyxl.load_workbook(path)
    every = " ".join(str(c.value) for ws in book.worksheets for row in ws.iter_rows(max_row=3) for c in row if c.value)
    about = " ".join(str(c.value) for row in book["说明"].iter_rows() for c in row if c.value)
    for text in (every, about):
        assert "crm.toml" not in text and "crm " not in text and "arrears_is_c" not in text and "[" not in text
    assert "A 类数 × 5 + B 类数 × 1 + C 类数 × 0" in about and "投诉后 12 小时内（含）" in about
    assert "“满意”的项数" in about and "合作年限 20" in about
    assert "投诉后 12 小时内首次响应" in every


def test_an_edition_s_grade_list_shows_the_branch_s_own_money_beside_the_group_s_grade(tmp_path):
    """In 华南's edition a B customer it shares with 华东 shows 华南's own projects' amount and profit (none), as its
    profit analysis does: 华东's contract with the customer is 华东's business. 华东's edition shows its project,
    with the ratio of the amount and profit beside it."""
    b_customer = example_row("customers", near_term_need="无")
    with Archive(tmp_path / "a.sqlite") as archive:
        ingest(archive, tmp_path, "hd", period="2026-08", when="2026-08-20T10:00", customers=[b_customer],
               projects=[example_row("projects")])
        ingest(archive, tmp_path, "hn", branch="华南分公司", period="2026-08", when="2026-08-21T10:00",
               customers=[b_customer])
        shown = {}
        for branch in ("华南分公司", "华东分公司"):
            path = period_report(archive, load_config(None), "2026-Q3", tmp_path / branch, today=TODAY, branch=branch)
            ws = openpyxl.load_workbook(path)["B类客户"]
            header = next(r for r in ws.iter_rows(values_only=True) if r and "客户单位名称" in r)
            [row] = [r for r in ws.iter_rows(values_only=True) if r and r[0] == b_customer["name"]]
            values = dict(zip(header, row))
            shown[branch] = tuple(next(v for k, v in values.items() if k and k.startswith(key))
                                  for key in ("累计合同额", "累计利润", "规模利润比"))
            assert "合同额、利润和忠诚度只计本单位的项目" in ws["A2"].value
            if branch == "华南分公司":  # nothing for it to file about a customer whose projects are 华东's
                sheet = openpyxl.load_workbook(path)["B类规模利润"]
                texts = [c for row in sheet.iter_rows(values_only=True) for c in row if isinstance(c, str)]
                assert "本单位没有该客户的中标项目（其他单位的项目不在本版中）" in texts
                assert "合同额或利润尚未填报：补报后再分析" not in texts
    assert all(v in (None, "—", 0) for v in shown["华南分公司"]), shown
    assert shown["华东分公司"][:2] == (12800.5, 1600.5) and shown["华东分公司"][2] == pytest.approx(1600.5 / 12800.5)


def test_a_ranking_with_nothing_to_compare_with_says_so(tmp_path):
    with small_archive(tmp_path) as archive:
        first = period_report(archive, load_config(None), "2026-Q2", tmp_path / "out", today=TODAY)
        later = period_report(archive, load_config(None), "2026-Q3", tmp_path / "out", today=TODAY)
    notes = {path: openpyxl.load_workbook(path)["等级排名"]["A2"].value for path in (first, later)}
    assert "档案中没有 2026年第一季度末的客户，增减、上期排名与名次变化空缺" in notes[first]
    assert "对比 2026年第二季度" in notes[later] and "空缺" not in notes[later]


def test_the_long_list_under_a_sheet_s_summaries_repeats_its_header_when_printed(tmp_path):
    """Every customer's loyalty, the B customers' scale–profit and every customer's performance are the last and
    longest table of their sheets: their header row is the sheet's print title (printed from the page after the
    one it starts on)."""
    with small_archive(tmp_path) as archive:
        path = period_report(archive, load_config(None), "2026-Q3", tmp_path / "out", today=TODAY)
    book = openpyxl.load_workbook(path)
    for sheet, first_header in (("忠诚度分析", "客户单位名称"), ("B类规模利润", "客户单位名称"), ("性能与未来", "客户单位名称")):
        ws = book[sheet]
        title = ws.print_title_rows
        assert title, sheet
        row = int(title.split(":")[0].lstrip("$"))
        last_header = max(r for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value == first_header)
        assert row == last_header, (sheet, title, last_header)


def test_the_adjustment_counts_a_customer_once_after_two_were_merged(tmp_path):
    """Two customers adjusted in the half and merged by the review since: their decisions are both the kept
    customer's; the half's summary counts that customer once, as the lists and the ranking do."""
    from pipeline.reports.period import _adjustments
    from pipeline.periods import Period
    with small_archive(tmp_path) as archive:
        archive.record_grade_adjustments([
            {"customer_id": 1, "period": "2026-H1", "effective_period": "2026-06", "old_grade": "A", "new_grade": "B",
             "decision": "改为B"},
            {"customer_id": 1, "period": "2026-H1", "effective_period": "2026-06", "old_grade": "B", "new_grade": "A",
             "decision": "采纳"}])  # (as the review's merge leaves the dropped customer's decision)
        [row] = _adjustments(archive, Period.parse("2026-H1")).to_dict("records")
    assert (row["customers"], row["to_A"], row["to_B"], row["adopted"], row["overridden"]) == (1, 1, 0, 1, 0)


def test_an_edition_counts_the_adjustments_of_its_own_customers(tmp_path):
    with small_archive(tmp_path) as archive:
        archive.record_grade_adjustments([
            {"customer_id": 1, "period": "2026-H2", "effective_period": "2026-12", "old_grade": "A", "new_grade": "B",
             "decision": "采纳"},
            {"customer_id": 2, "period": "2026-H2", "effective_period": "2026-12", "old_grade": "B", "new_grade": "B",
             "decision": "保持"}])
        today = dt.date(2026, 12, 31)
        group = period_report(archive, load_config(None), "2026-H2", tmp_path / "out", today=today)
        edition = period_report(archive, load_config(None), "2026-H2", tmp_path / "out", today=today,
                                branch="华南分公司")  # (华南 reports customer 1 only)

    def counts(path):
        ws = openpyxl.load_workbook(path)["半年度调整"]
        header = [c.value for c in ws[4]]
        row = rows_of(ws, 5)[0]
        return ws["A2"].value, {key: row[header.index(key)] for key in ("客户数", "采纳", "保持", "降级")}

    assert counts(group)[1] == {"客户数": 2, "采纳": 1, "保持": 1, "降级": 1}
    note, own = counts(edition)
    assert own == {"客户数": 1, "采纳": 1, "保持": 0, "降级": 1} and "本单位客户（华南分公司）" in note


def test_the_trend_counts_a_branch_s_first_filing_apart_from_new_customers(tmp_path):
    """A branch's first submission archives its whole book: those customers are listed apart, not as the month's
    new customers (the archive's first month dwarfed every later one in the chart)."""
    with small_archive(tmp_path) as archive:
        ingest(archive, tmp_path, "hb", branch="华北分公司", period="2026-09", when="2026-09-21T10:00",
               customers=[example_row("customers", name="丁公司", uscc=None)])
        path = period_report(archive, load_config(None), "2026", tmp_path / "out", today=TODAY)
    sheet = openpyxl.load_workbook(path)["趋势"]
    header = [c.value for c in sheet[4]]
    rows = {r[0]: dict(zip(header, r)) for r in rows_of(sheet, 5)}
    assert (rows["2026-06"]["新增客户"], rows["2026-06"]["首次报送建档"]) == (0, 2)  # 华东's first file
    assert (rows["2026-08"]["新增客户"], rows["2026-08"]["首次报送建档"]) == (1, 0)  # 丙公司, newly won
    assert (rows["2026-09"]["新增客户"], rows["2026-09"]["首次报送建档"]) == (0, 1)  # 华北's first file
    assert "首次报送建档" in sheet["A2"].value
