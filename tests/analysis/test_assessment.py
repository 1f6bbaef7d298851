"""The half-yearly branch assessment, its consequences, and who may see what (issue 12)."""
from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import openpyxl
import pytest
from python_calamine import CalamineWorkbook

from builders import at, crm, example_row, write_submission
from pipeline.analysis.assessment import assess, consequences
from pipeline.archive import Archive
from pipeline.archive.access import branch_secrets, mask_phone, standing
from pipeline.archive.workspace import Workspace
from pipeline.config import load_config

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def ws(tmp_path) -> Workspace:
    space = Workspace(tmp_path / "ws")
    space.init()
    space.config_path.write_text('[roster]\nbranches = ["甲分公司", "乙分公司"]\n'
                                 '[assessment]\ncustomer_standard = 2\n', encoding="utf-8")
    return space


def month_file(ws: Workspace, branch: str, month: int, when: str, **sheets) -> Path:
    sheets.setdefault("customers", [example_row("customers", name=f"{branch}客户有限公司", uscc=None)])
    path = write_submission(ws.inbox / f"{branch}_2026-{month:02d}_x.xlsx", branch=branch,
                            period=f"2026-{month:02d}", **sheets)
    return at(path, when)


def document(ws: Workspace, name: str, when: str) -> Path:
    path = ws.inbox / name
    path.write_bytes(b"%PDF-1.4 " + name.encode())
    return at(path, when)


def test_each_indicator_by_hand(ws):
    # 甲: Jan–Jun, four on time, one late (March), one missing (May); 2 customers against a standard of 2.
    for month, when in ((1, "2026-01-20"), (2, "2026-02-20"), (3, "2026-03-28"), (4, "2026-04-20"), (6, "2026-06-20")):
        rows = [example_row("customers", name="甲客户有限公司", uscc=None),
                example_row("customers", name="甲二客户有限公司", uscc=None)]
        extra = {}
        if month == 2:  # one late answer, one in time; one 不满意 item
            extra["complaints"] = [example_row("complaints", customer_name="甲客户有限公司", customer_uscc=None,
                                               complaint_no="C1", complained_at="2026-02-02 09:00",
                                               first_response_at="2026-02-03 12:00", resolved_at="2026-02-05 09:00",
                                               feedback_at="2026-02-06 09:00", customer_satisfied="是"),
                                   example_row("complaints", customer_name="甲客户有限公司", customer_uscc=None,
                                               complaint_no="C2", complained_at="2026-02-10 09:00",
                                               first_response_at="2026-02-10 10:00", resolved_at="2026-02-12 09:00",
                                               feedback_at="2026-02-15 09:00", customer_satisfied="否")]
            extra["surveys"] = [example_row("surveys", customer_name="甲客户有限公司", surveyed_on="2026-02-10",
                                            engineering_quality="不满意", dissatisfaction_note="渗水")]
        month_file(ws, "甲分公司", month, f"{when}T10:00", customers=rows, **extra)
    document(ws, "甲分公司_2026-H1_客户分析报告.pdf", "2026-06-05T10:00")   # late
    assert crm(ws.root, "ingest").exit_code == 0
    with Archive(ws.archive_path) as archive:
        row = assess(archive, load_config(ws.config_path), "2026-H1").set_index("branch").loc["甲分公司"]
    assert (row.months_on_time, row.months_late, row.months_missing) == (4, 1, 1)
    # reporting: 100 × (0.5 × (4 + 0.5)/6 + 0.25 × 1 + 0.25 × min(1, 2/2))
    assert row.score_reporting == pytest.approx(round(100 * (0.5 * 4.5 / 6 + 0.25 + 0.25), 1))
    # complaints: response 1/2, feedback 1/2 (C2 fed back after 72 h), satisfaction 1/2, none overdue
    assert row.score_complaints == pytest.approx(50.0)
    assert row.score_satisfaction == 95 and row.dissatisfied_items == 1
    assert (row.report_status, row.score_analysis_report) == ("逾期", 60.0)
    assert row.score_authenticity == 100
    expected = round((30 * row.score_reporting + 20 * 50 + 20 * 95 + 15 * 60 + 15 * 100) / 100, 1)
    assert row.total == pytest.approx(expected) and row.proposed == "合格"


def test_the_same_returned_file_saved_twice_counts_once(ws):
    import shutil
    bad = example_row("customers", name="甲客户有限公司", uscc="123")
    first = month_file(ws, "甲分公司", 1, "2026-01-20T10:00", customers=[bad])
    shutil.copy(first, ws.inbox / "甲分公司_2026-01_x (1).xlsx")  # (the mail's attachment saved twice)
    assert crm(ws.root, "ingest").exit_code == 0
    with Archive(ws.archive_path) as archive:
        assert (archive.submissions()["status"] == "rejected").sum() == 2
        row = assess(archive, load_config(ws.config_path), "2026-H1").set_index("branch").loc["甲分公司"]
    assert (row.files_rejected, row.error_cells, row.rows_submitted) == (1, 1, 1)


def test_a_branch_that_never_submitted_is_poor_whatever_its_score(ws):
    month_file(ws, "甲分公司", 1, "2026-01-20T10:00")
    document(ws, "乙分公司_2026-H1_客户分析报告.pdf", "2026-05-20T10:00")
    crm(ws.root, "ingest")
    with Archive(ws.archive_path) as archive:
        results = assess(archive, load_config(ws.config_path), "2026-H1").set_index("branch")
    never = results.loc["乙分公司"]
    assert never.never_submitted and never.proposed == "差" and "从未报送" in never.remark
    assert never.total > 0  # it still has a score: the rule, not the score, makes it 差


def test_the_work_summary_deadline_on_its_edge():
    config = load_config(None)
    due = consequences("合格", dt.date(2026, 7, 5), config)
    assert due["summary_due"] == "2026-07-12" and due["suspended_from"] is None
    poor = consequences("差", dt.date(2026, 7, 5), config)
    assert (poor["suspended_from"], poor["suspended_until"]) == ("2026-07-05", "2026-08-04")
    assert consequences("差", dt.date(2026, 1, 31), config)["suspended_until"] == "2026-02-27"  # short February
    assert consequences("优良", dt.date(2026, 7, 5), config)["summary_due"] is None


def _assessed(ws: Workspace, branches: tuple[str, ...], cells: dict[str, dict]) -> Path:
    """A first half ingested for ``branches`` (with their analysis reports when both report), its assessment
    workbook written, and the given cells filled in (branch → header → value)."""
    for branch in branches:
        for month in range(1, 7):
            month_file(ws, branch, month, f"2026-{month:02d}-20T10:00")
        if len(branches) > 1:
            document(ws, f"{branch}_2026-H1_客户分析报告.pdf", "2026-05-20T09:00")
    crm(ws.root, "ingest")
    assert crm(ws.root, "assess", "--period", "2026-H1").exit_code == 0
    path = ws.output / "2026-H1" / "客户关系维护成效考核_2026-H1.xlsx"
    book = openpyxl.load_workbook(path)
    sheet = book["考核"]
    header = [c.value for c in sheet[5]]
    for row in sheet.iter_rows(min_row=6):
        for key, value in cells.get(row[header.index("报送单位")].value, {}).items():
            row[header.index(key)].value = value
    book.save(path)
    return path


def _applied(ws: Workspace, results: dict[str, str]):
    """Ingest a first half for both branches and apply the given results, notified 2026-07-05."""
    path = _assessed(ws, ("甲分公司", "乙分公司"),
                     {branch: {"最终结果": result, "抽查扣分": 10} for branch, result in results.items()})
    result = crm(ws.root, "assess", "apply", path, "--notified", "2026-07-05", "--by", "张总")
    assert result.exit_code == 0, result.output
    return result


def test_apply_records_results_summaries_and_a_suspension(ws):
    output = _applied(ws, {"甲分公司": "合格", "乙分公司": "差"}).output
    assert "须在 2026-07-12 前提交工作总结：甲分公司、乙分公司" in output
    assert "乙分公司 暂停查询客户档案：2026-07-05 至 2026-08-04" in output
    with Archive(ws.archive_path) as archive:
        recorded = archive.assessments("2026-H1").set_index("branch")
    assert recorded.loc["乙分公司", "result"] == "差" and recorded.loc["乙分公司", "decided_by"] == "张总"
    assert recorded.loc["甲分公司", "figures"]["spot_check_deduction"] == 10.0
    # the work summary: due on the 12th, late on the 13th, 停用 until it arrives
    status = crm(ws.root, "status", "--period", "2026-H1").output
    assert "客户关系维护工作总结" in status
    for day, allowed in (("2026-07-12", True), ("2026-07-13", False)):
        with Archive(ws.archive_path) as archive:
            state = standing(archive, load_config(ws.config_path), "甲分公司", dt.date.fromisoformat(day))
        assert state.allowed is allowed, (day, state.reason())
    document(ws, "甲分公司_2026年上半年_客户关系维护工作总结.docx", "2026-07-13T09:00")
    crm(ws.root, "ingest")
    with Archive(ws.archive_path) as archive:
        assert standing(archive, load_config(ws.config_path), "甲分公司", dt.date(2026, 7, 14)).allowed
    assert "逾期" in crm(ws.root, "status", "--period", "2026-H1").output


def test_a_score_out_of_range_is_named_as_such(ws):
    """120 in 报告质量（%）is a number out of range, not “不是有效数字…（单位：万元）”. (乙分公司 never submits: the
    workbook of a half where one branch has a remark and another none was an internal error.)"""
    path = _assessed(ws, ("甲分公司",), {"甲分公司": {"报告质量（%）": 120, "抽查扣分": "五分"}})
    result = crm(ws.root, "assess", "apply", path, "--notified", "2026-07-05")
    assert result.exit_code == 1 and "未作任何改动" in result.output
    assert "“报告质量（%）”的值“120”不是 0 到 100 之间的数" in result.output
    assert "“抽查扣分”的值“五分”不是 0 到 100 之间的数" in result.output and "万元" not in result.output


@pytest.mark.parametrize("typed, read", [("80%", 80.0), ("８０％", 80.0), (" 80 % ", 80.0), ("0.8%", 0.8),
                                         (0.8, 80.0), ("0.8", 80.0), (85, 85.0), ("92.5", 92.5)])
def test_a_report_quality_is_read_as_typed(ws, typed, read):
    from pipeline.reports.assessment import read_assessment_decisions
    path = _assessed(ws, ("甲分公司",), {"甲分公司": {"报告质量（%）": typed}})
    decisions, findings = read_assessment_decisions(path)
    assert findings == [] and decisions["甲分公司"]["report_quality"] == read


def test_a_suspended_branch_is_refused_on_the_last_day_and_allowed_the_day_after(ws):
    _applied(ws, {"甲分公司": "优良", "乙分公司": "差"})
    document(ws, "乙分公司_2026-H1_客户关系维护工作总结.pdf", "2026-07-10T09:00")
    month_file(ws, "乙分公司", 7, "2026-07-20T10:00")  # its July workbook: nothing owed on 5 August
    crm(ws.root, "ingest")
    refused = crm(ws.root, "archive", "export", "--for", "乙分公司", "--approved-by", "张总", "--date", "2026-08-04")
    assert refused.exit_code == 1 and "暂停查询至 2026-08-04" in refused.output
    assert "乙分公司 2026-08-04 不能查询客户档案" in refused.output  # the day asked about, not “当前”
    allowed = crm(ws.root, "archive", "export", "--for", "乙分公司", "--approved-by", "张总", "--date", "2026-08-05",
                  "--scope", "all")
    assert allowed.exit_code == 0, allowed.output
    log = crm(ws.root, "access", "log").output
    assert "乙分公司" in log and "张总" in log and "2026-08-05" in log
    assert "乙分公司" in crm(ws.root, "access", "--date", "2026-07-20").output
    no_approval = crm(ws.root, "archive", "export", "--for", "甲分公司")
    assert no_approval.exit_code == 2 and "--approved-by" in no_approval.output


def test_extracts_mask_other_branches_contacts(ws):
    shared = example_row("customers", phone="13812341234", contact="王大明")
    month_file(ws, "甲分公司", 1, "2026-01-20T10:00", customers=[shared])
    month_file(ws, "乙分公司", 1, "2026-01-21T10:00",
               customers=[dict(shared, phone="13912345678", contact="李小红"),
                          example_row("customers", name="乙独有客户有限公司", uscc=None, phone="13700001111",
                                      specialist="孙立新")])
    crm(ws.root, "ingest")
    month_file(ws, "乙分公司", 2, "2026-02-21T10:00",  # its 营销专员 changes: in the change history too
               customers=[example_row("customers", name="乙独有客户有限公司", uscc=None, phone="13700001111",
                                      specialist="周海涛")])
    crm(ws.root, "ingest")
    assert mask_phone("13812341234") == "138****1234" and mask_phone("021-68881234") == "021-****1234"
    for scope in ("all", "own"):
        done = crm(ws.root, "archive", "export", "--for", "甲分公司", "--approved-by", "张总", "--scope", scope,
                   "--date", "2026-02-25", "--out", ws.output / f"{scope}.xlsx")
        assert done.exit_code == 0, done.output
    everything = _cells(ws.output / "all.xlsx")
    assert "13812341234" in everything and "王大明" in everything          # its own contact, in full
    assert "13912345678" not in everything and "139****5678" in everything  # the other branch's, masked
    assert "李小红" not in everything and "13700001111" not in everything
    assert "孙立新" not in everything and "周海涛" not in everything and "周**" in everything  # customer and history
    own = _cells(ws.output / "own.xlsx")
    assert "乙独有客户有限公司" not in own and "李小红" not in own


def test_two_extracts_the_same_day_are_two_files_each_in_the_query_log(ws):
    month_file(ws, "甲分公司", 1, "2026-01-20T10:00")
    crm(ws.root, "ingest")
    for scope in ("own", "all", "own"):
        done = crm(ws.root, "archive", "export", "--for", "甲分公司", "--approved-by", "张总", "--scope", scope,
                   "--date", "2026-02-10")
        assert done.exit_code == 0, done.output
    made = sorted(p.name for p in (ws.output / "查询").iterdir())
    assert made == ["甲分公司_客户档案_全部_20260210.xlsx", "甲分公司_客户档案_本单位_20260210(2).xlsx",
                    "甲分公司_客户档案_本单位_20260210.xlsx"]
    log = crm(ws.root, "access", "log").output
    assert all(name in log for name in made)


def _cells(path: Path) -> str:
    book = CalamineWorkbook.from_path(str(path))
    return "\n".join(str(v) for name in book.sheet_names for row in book.get_sheet_by_name(name).to_python()
                     for v in row)


def test_a_badly_named_document_is_returned_with_what_to_do(ws):
    document(ws, "客户分析报告.docx", "2026-05-20T09:00")
    result = crm(ws.root, "ingest")
    assert "已退回" in result.output and "没有写明是哪个单位" in result.output
    assert list(ws.rejected.rglob("*_校验结果.xlsx"))


# -- the sample year: designed outcomes and editions without leaks -------------------------------

@pytest.fixture(scope="module")
def designed():
    return json.loads((ROOT / "input_samples" / ".manifest.json").read_text(encoding="utf-8"))["designed"]["assessment"]


def test_the_sample_first_half_has_the_designed_results(sample_year, designed):
    with Archive(sample_year.archive_path) as archive:
        results = assess(archive, load_config(None), designed["period"]).set_index("branch")["proposed"]
    assert results[designed["excellent"]] == "优良"
    assert results[designed["poor"]] == "差"
    assert all(results[b] == "合格" for b in designed["qualified"])


@pytest.mark.parametrize("branch", ["华东分公司", "华南分公司", "西南分公司", "基础设施分公司"])
def test_editions_never_show_another_branchs_customers_or_contacts(sample_year, tmp_path, branch):
    from pipeline.reports.grade_lists import write_grade_lists
    from pipeline.reports.period import period_report
    config = load_config(None)
    with Archive(sample_year.archive_path) as archive:
        report = period_report(archive, config, "2026-Q3", tmp_path, today=dt.date(2026, 11, 23), branch=branch)
        lists, _ = write_grade_lists(archive, config, "2026-09", tmp_path / "lists.xlsx", branch=branch)
        secrets = branch_secrets(archive.snapshot(), branch)
        own = set(archive.snapshot()["customer_branches"].query("branch == @branch")["customer_id"])
    assert len(secrets) > 100 and own
    for path in (report, lists):
        text = _cells(path)
        leaks = sorted(s for s in secrets if s in text)
        assert leaks == [], (path.name, leaks[:5])
    assert "集团合计（去重）" in _cells(report)  # the group ranking is still there


def test_demo_like_workspace_copy_keeps_its_journal(sample_year, tmp_path):
    copy = tmp_path / "ws"
    shutil.copytree(sample_year.root, copy)
    events = Workspace(copy).journal.events()
    assert any(e["type"] == "document" and e["kind"] == "analysis_report" for e in events)


def test_an_edition_says_which_figures_are_its_own_and_which_the_group_s(sample_year, tmp_path):
    """The complaint and strategic-customer sheets of a branch's edition head their tables with the branch's own
    figures beside the group's (they read the group's as the branch's), as the tables show them."""
    from pipeline.reports.period import period_report
    import openpyxl
    with Archive(sample_year.archive_path) as archive:
        report = period_report(archive, load_config(None), "2026-Q3", tmp_path, today=dt.date(2026, 11, 23),
                               branch="华东分公司")
    book = openpyxl.load_workbook(report)
    complaints = book["投诉处理"]
    own = next(r for r in complaints.iter_rows(min_row=5, values_only=True) if r[0] == "华东分公司")
    total = next(r for r in complaints.iter_rows(min_row=5, values_only=True) if r[0] and "集团" in r[0])
    assert complaints["A2"].value.startswith(f"本单位本期收到投诉 {own[1]} 件（全集团 {total[1]} 件）")
    duties = book["战略客户维护"]
    header = [c.value for c in duties[4]]
    own = next(r for r in duties.iter_rows(min_row=5, values_only=True) if r[0] == "华东分公司")
    share = own[header.index("完成率")]
    assert f"本单位战略客户 {own[1]} 家次，维护职责完成率 {share:.1%}" in duties["A2"].value
    # the group's row is the whole group's, as in the group's own report (it was the branch's row again)
    with Archive(sample_year.archive_path) as archive:
        group_report = period_report(archive, load_config(None), "2026-Q3", tmp_path / "group",
                                     today=dt.date(2026, 11, 23))
    group_sheet = openpyxl.load_workbook(group_report)["战略客户维护"]
    group_total = next(r for r in group_sheet.iter_rows(min_row=5, values_only=True) if r[0] and "集团" in r[0])
    group_own = next(r for r in group_sheet.iter_rows(min_row=5, values_only=True) if r[0] == "华东分公司")
    edition_total = next(r for r in duties.iter_rows(min_row=5, values_only=True) if r[0] and "集团" in r[0])
    assert edition_total == group_total and own == group_own and edition_total[2] > own[2]
    assert f"（全集团 {group_total[header.index('完成率')]:.1%}）" in duties["A2"].value


def test_a_long_table_on_a_sheet_of_several_repeats_its_header_on_the_pages_it_runs_over(sample_year, tmp_path):
    from pipeline.reports.period import period_report
    import openpyxl
    with Archive(sample_year.archive_path) as archive:
        report = period_report(archive, load_config(None), "2026-Q3", tmp_path, today=dt.date(2026, 11, 23))
    sheet = openpyxl.load_workbook(report)["战略客户维护"]
    repeated = sheet.print_title_rows
    assert repeated, "the duties list runs over pages: its header repeats"
    row = int(repeated.split(":")[0].lstrip("$"))
    assert "维护职责" in [c.value for c in sheet[row]]  # the long list's header, not the summary table's
    assert "战略客户" in str(sheet.cell(row - 1, 1).value)  # (its section heading above it)


def test_the_total_score_keeps_its_decimal_and_the_error_rate_its_thousandths(sample_year, tmp_path):
    """91.7 and 91.5 are not both shown as 92 (ranks that look tied); two errors in 500 rows are not 0.0."""
    import openpyxl
    from pipeline.reports.assessment import bulletin_frame, write_assessment_workbook, write_bulletin
    config = load_config(None)
    with Archive(sample_year.archive_path) as archive:
        results = assess(archive, config, "2026-H1")
        sheet = write_assessment_workbook(results, config, "2026-H1", tmp_path / "考核.xlsx")
        notice = write_bulletin(bulletin_frame(results, archive.assessments("2026-H1")), "2026-H1",
                                tmp_path / "通报.xlsx", official=False)
    formats = {}
    for path in (sheet, notice):
        ws = openpyxl.load_workbook(path).worksheets[0]
        header = next(r for r in ws.iter_rows(max_row=8) if any(c.value == "总分" for c in r))
        for cell in header:
            if cell.value in ("总分", "每行错误数"):
                formats[(path.name, cell.value)] = ws.cell(cell.row + 1, cell.column).number_format
    assert formats[("考核.xlsx", "每行错误数")].startswith("0.000")
    assert formats[("通报.xlsx", "总分")].startswith("0.0") and "0.0" in formats[("考核.xlsx", "总分")]


def test_the_bulletin_s_consequences_wrap_within_the_table_beside_the_chart(sample_year, tmp_path):
    """Who owes a work summary is a long line: it wraps within the table's columns, its row tall enough, and never
    runs on under the chart beside the table (where it was cut off when printed)."""
    import openpyxl
    from pipeline.reports.assessment import bulletin_frame, write_bulletin
    with Archive(sample_year.archive_path) as archive:
        results = assess(archive, load_config(None), "2026-H1")
        notice = write_bulletin(bulletin_frame(results, archive.assessments("2026-H1")), "2026-H1",
                                tmp_path / "通报.xlsx", official=False)
    ws = openpyxl.load_workbook(notice).worksheets[0]
    header = next(r for r in ws.iter_rows(max_row=8) if any(c.value == "总分" for c in r))
    table_end = max(c.column for c in header if c.value)
    owed = next(c for row in ws.iter_rows() for c in row if str(c.value or "").startswith("须提交《客户关系维护工作总结》"))
    [merged] = [m for m in ws.merged_cells.ranges if m.min_row == owed.row]
    assert (merged.min_col, merged.max_col) == (1, table_end)
    assert owed.alignment.wrap_text and ws.row_dimensions[owed.row].height >= 2 * 13.5
    assert owed.value.count("分公司") >= 6  # long enough to need two lines in the sample half


def test_the_period_report_s_assessment_heads_proposals_and_results_alike(sample_year, tmp_path):
    """The year's sheet shows both halves: the second, not yet notified, holds proposals, so its column is
    结果 (the heading says which half is official), never 最终结果."""
    from pipeline.reports.period import period_report
    import openpyxl
    with Archive(sample_year.archive_path) as archive:
        report = period_report(archive, load_config(None), "2026", tmp_path, today=dt.date(2027, 1, 20))
    ws = openpyxl.load_workbook(report)["分子公司考核"]
    header = [c.value for c in ws[4]]
    assert "结果" in header and "最终结果" not in header
    assert "建议结果（尚未通报）" in ws["A2"].value


def test_a_final_result_left_blank_is_the_proposal_of_the_total_as_the_department_changed_it(ws):
    """The sheet's 最终结果 starts blank: the department's report quality and deduction move the total, and the
    result recorded is the proposal of that total (it was a value copied from the first proposal, so a branch
    scoring 53.7 was notified 合格). A result typed against the total is recorded, and said so."""
    path = _assessed(ws, ("甲分公司", "乙分公司"), {})
    sheet = openpyxl.load_workbook(path)["考核"]
    header = [c.value for c in sheet[5]]
    assert [row[header.index("最终结果")].value for row in sheet.iter_rows(min_row=6)] == [None, None]
    book = openpyxl.load_workbook(path)
    for row in book["考核"].iter_rows(min_row=6):
        branch = row[header.index("报送单位")].value
        row[header.index("报告质量（%）")].value = 0 if branch == "乙分公司" else 0.8  # 80% typed: Excel keeps 0.8
        row[header.index("抽查扣分")].value = 100 if branch == "乙分公司" else 0
        if branch == "甲分公司":
            row[header.index("最终结果")].value = "差"
    book.save(path)
    result = crm(ws.root, "assess", "apply", path, "--notified", "2026-07-05")
    assert result.exit_code == 0, result.output
    with Archive(ws.archive_path) as archive:
        recorded = archive.assessments("2026-H1").set_index("branch")
    assert recorded.loc["甲分公司", "figures"]["report_quality"] == 80.0
    poor = recorded.loc["乙分公司"]
    assert poor["figures"]["score_analysis_report"] == 0 and poor["figures"]["score_authenticity"] == 0
    assert poor["result"] == poor["proposed"] == "差"
    typed = recorded.loc["甲分公司"]
    assert typed["result"] == "差" and typed["proposed"] != "差"
    assert f"甲分公司：总分 {typed['total']:.1f}，建议“{typed['proposed']}”，填写“差”" in result.output


def test_every_output_shows_the_recorded_assessment_and_making_the_sheet_again_changes_nothing(ws):
    """After apply: the half's period report, its bulletin made again by crm assess, and the sheet made again show
    the department's figures (its deduction counts), not a proposal computed afresh."""
    from pipeline.reports.period import period_report
    _applied(ws, {"甲分公司": "合格", "乙分公司": "差"})
    with Archive(ws.archive_path) as archive:
        recorded = archive.assessments("2026-H1").set_index("branch")
    assert crm(ws.root, "assess", "--period", "2026-H1").exit_code == 0
    sheet = openpyxl.load_workbook(ws.output / "2026-H1" / "客户关系维护成效考核_2026-H1.xlsx", data_only=True)["考核"]
    header = [c.value for c in sheet[5]]
    again = {row[header.index("报送单位")].value: row for row in sheet.iter_rows(min_row=6)}
    for branch in ("甲分公司", "乙分公司"):
        assert again[branch][header.index("抽查扣分")].value == 10
        assert isinstance(again[branch][header.index("提交时间")].value, dt.datetime)  # a time, as first written
        assert again[branch][header.index("最终结果")].value == recorded.loc[branch, "result"]
        assert again[branch][header.index("总分")].value == pytest.approx(recorded.loc[branch, "total"])
    bulletin = openpyxl.load_workbook(ws.output / "2026-H1" / "考核通报_2026-H1.xlsx").worksheets[0]
    assert bulletin["A2"].value.startswith("正式结果")
    totals = {r[1]: r[2] for r in bulletin.iter_rows(min_row=5, values_only=True) if r[1] in recorded.index}
    assert totals == pytest.approx(recorded["total"].to_dict())
    with Archive(ws.archive_path) as archive:
        report = period_report(archive, load_config(ws.config_path), "2026-H1", ws.output, today=dt.date(2026, 7, 20))
    summary = openpyxl.load_workbook(report)["分子公司考核"]
    shown = {r[2]: (r[3], r[4]) for r in summary.iter_rows(min_row=5, values_only=True) if r[2] in recorded.index}
    assert shown == {b: (pytest.approx(recorded.loc[b, "total"]), recorded.loc[b, "result"]) for b in recorded.index}
    # applied again as made again: the same record
    result = crm(ws.root, "assess", "apply", ws.output / "2026-H1" / "客户关系维护成效考核_2026-H1.xlsx",
                 "--notified", "2026-07-05")
    assert result.exit_code == 0 and "已替换" in result.output
    with Archive(ws.archive_path) as archive:
        again = archive.assessments("2026-H1").set_index("branch")
    assert again[["total", "result"]].equals(recorded[["total", "result"]])
