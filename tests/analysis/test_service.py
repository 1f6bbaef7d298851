"""Service quality (issue 11): satisfaction, complaint deadlines, strategic-customer duties, the A-class plan.

Hand-computed figures on small archives, then the sample year's designed outcomes in the reports.
"""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from builders import example_row, ingest, write_submission
from pipeline.analysis import service, strategic
from pipeline.analysis.grading import grades_as_of
from pipeline.archive import Archive
from pipeline.config import load_config
from pipeline.intake.validation import validate_file
from pipeline.periods import hours_text, month_end

ROOT = Path(__file__).resolve().parents[2]
NAME = "上海浦江城市建设投资有限公司"


@pytest.fixture
def archive(tmp_path):
    with Archive(tmp_path / "a.sqlite") as arch:
        yield arch


def survey(day: str, *answers, note="需要整改"):
    dims = dict(zip(("customer_service", "engineering_quality", "service_quality", "after_service"), answers))
    return example_row("surveys", surveyed_on=day, **dims,
                       dissatisfaction_note=note if "不满意" in answers else None)


def complaint(number: str, at: str, response: str | None = None, resolved: str | None = None,
              feedback: str | None = None, **kw):
    return example_row("complaints", complaint_no=number, complained_at=at, first_response_at=response,
                       resolved_at=resolved, feedback_at=feedback, **kw)


# -- satisfaction -----------------------------------------------------------------------------

def test_satisfaction_rate_with_and_without_fairly_satisfied(archive, tmp_path):
    ingest(archive, tmp_path, "s", customers=[example_row("customers")], surveys=[
        survey("2026-10-05", "满意", "基本满意", "不满意", None),
        survey("2026-10-06", "满意", "满意", "基本满意", "满意")])
    snap = archive.snapshot("2026-10")
    config = load_config(None)
    group = service.satisfaction(snap, config, "2026-10", "2026-10").iloc[-1]
    assert (group["surveys"], group["items"], group["satisfied_items"], group["dissatisfied_items"]) == (2, 7, 6, 1)
    assert group["satisfaction_rate"] == pytest.approx(6 / 7)
    assert group["gap_to_goal"] == pytest.approx(6 / 7 - 0.9)
    config.data["satisfaction"]["satisfied_answers"] = ["满意"]
    strict = service.satisfaction(snap, config, "2026-10", "2026-10").iloc[-1]
    assert strict["satisfaction_rate"] == pytest.approx(4 / 7)
    [item] = service.dissatisfied_items(snap, "2026-10", "2026-10").itertuples()
    assert (item.dimension, item.dissatisfaction_note, item.customer_name) == ("服务质量", "需要整改", NAME)
    by_dim = service.satisfaction_by_dimension(snap, config, "2026-10", "2026-10")
    quality = by_dim[(by_dim["branch"] == "华东分公司") & (by_dim["dimension"] == "工程质量")].iloc[0]
    assert (quality["answer|满意"], quality["answer|基本满意"], quality["answer|不满意"]) == (1, 1, 0)


def test_completed_but_not_surveyed(archive, tmp_path):
    ingest(archive, tmp_path, "p", period="2026-09", customers=[example_row("customers"),
                                               example_row("customers", name="乙公司", uscc=None)],
           projects=[example_row("projects", status="竣工", started_on="2025-01-01", completed_on="2026-08-10"),
                     example_row("projects", contract_no="P2", customer_name="乙公司", customer_uscc=None,
                                 status="竣工", started_on="2025-01-01", completed_on="2026-08-20")],
           surveys=[example_row("surveys", customer_name="乙公司", surveyed_on="2026-09-01")])
    left = service.completed_not_surveyed(archive.snapshot("2026-09"), "2026-07", "2026-09")
    assert left["customer_name"].tolist() == [NAME]


# -- complaints -------------------------------------------------------------------------------

def test_exactly_24_hours_is_on_time_and_a_minute_more_is_late(archive, tmp_path):
    ingest(archive, tmp_path, "c", customers=[example_row("customers")], complaints=[
        complaint("T1", "2026-10-01 09:00", "2026-10-02 09:00", "2026-10-03 09:00", "2026-10-05 09:00"),
        complaint("T2", "2026-10-01 09:00", "2026-10-02 09:01", "2026-10-03 09:00", "2026-10-05 09:01",
                  customer_satisfied="否")])
    stats = service.complaint_stats(archive.snapshot("2026-10"), load_config(None), "2026-10", "2026-10").iloc[-1]
    assert (stats["received"], stats["responded_in_time"], stats["fed_back_in_time"]) == (2, 1, 1)
    assert stats["response_rate"] == 0.5 and stats["feedback_rate"] == 0.5
    assert stats["median_response_hours"] == pytest.approx((24 + 24 + 1 / 60) / 2)
    assert stats["handling_satisfaction"] == 0.5


def test_an_unanswered_complaint_ages_across_the_report_date(archive, tmp_path):
    ingest(archive, tmp_path, "c", customers=[example_row("customers")], complaints=[
        complaint("T9", "2026-10-30 10:00"),
        complaint("T8", "2026-10-10 10:00", "2026-10-10 12:00", "2026-10-20 12:00"),
        complaint("T7", "2026-10-28 10:00", "2026-10-28 11:00")])
    snap, config = archive.snapshot("2026-10"), load_config(None)
    early = service.open_complaints(snap, config, dt.datetime(2026, 10, 31, 9, 0)).set_index("complaint_no")
    assert early.loc["T9", "complaint_state"] == "未响应" and not early.loc["T9", "overdue"]  # 23 h so far
    late = service.open_complaints(snap, config, dt.datetime(2026, 10, 31, 10, 1)).set_index("complaint_no")
    assert early.loc["T9", "waited_hours"] == 23
    assert late.loc["T9", "overdue"] and late.loc["T9", "overdue_hours"] == 1  # a minute past: the hour begun counts
    assert late.loc["T9", "waited_hours"] == 24
    assert late.loc["T8", "complaint_state"] == "未反馈" and late.loc["T8", "overdue"]
    assert late.loc["T7", "complaint_state"] == "处理中" and not late.loc["T7", "overdue"]
    assert list(late.index[:2]) in (["T8", "T9"], ["T9", "T8"])  # overdue first


def test_a_never_answered_complaint_is_flagged_when_the_file_is_checked(tmp_path):
    path = write_submission(tmp_path / "华东分公司_2026-10_x.xlsx", customers=[example_row("customers")],
                            complaints=[complaint("T1", "2026-10-01 09:00")])
    warnings = validate_file(path, load_config(None)).warnings
    assert [w.code for w in warnings] == ["no-response"] and "24 小时" in warnings[0].message


# -- strategic customers and the A-class plan -------------------------------------------------

def _strategic(archive, tmp_path, visits):
    # reported since January: every month of the year is owed a specialist contact
    ingest(archive, tmp_path, "v", period="2026-01", when="2026-01-20T10:00",
           customers=[example_row("customers", strategic="是")], visits=visits)


def visit(day: str, level: str, who: str = "王强"):
    return example_row("visits", visited_on=day, visitor_level=level, visitor=who)


def test_leader_visits_due_then_met_and_a_month_without_the_specialist(archive, tmp_path):
    months = [visit(f"2026-{m:02d}-05", "营销专员") for m in range(1, 11) if m != 7]
    _strategic(archive, tmp_path, months + [visit("2026-04-10", "联点领导", "赵总")])
    duties = strategic.visit_duties(archive.snapshot("2026-10"), load_config(None), "2026-10").set_index("duty")
    assert (duties.loc["联点领导拜访", "duty_state"], duties.loc["联点领导拜访", "detail"]) == ("待完成", "本年还需 1 次")
    assert duties.loc["公司主要领导拜访", "duty_state"] == "待完成"
    specialist = duties.loc["营销专员每月联系"]
    assert (specialist["required_count"], specialist["done"], specialist["duty_state"]) == (10, 9, "逾期")
    assert specialist["detail"] == "未联系：7月"
    due = strategic.contacts_due(strategic.visit_duties(archive.snapshot("2026-07"), load_config(None), "2026-07"),
                                 strategic.a_visit_plan(archive.snapshot("2026-07"), grades_as_of(
                                     archive, load_config(None), "2026-07"), load_config(None), month_end("2026-07")),
                                 "2026-07")
    assert "营销专员本月未联系" in due["reminder"].tolist()


def test_in_december_the_year_s_leader_visits_are_still_due_and_after_it_overdue(archive, tmp_path):
    from pipeline.reports.strategic_list import write_strategic_list
    _strategic(archive, tmp_path, [visit("2026-04-10", "联点领导", "赵总")])

    def liaison(today: dt.date) -> tuple:
        path, _ = write_strategic_list(archive, load_config(None), 2026, tmp_path / f"{today}.xlsx", today)
        ws = openpyxl.load_workbook(path)["战略客户维护"]
        header = [c.value for c in ws[4]]
        row = next(r for r in ws.iter_rows(min_row=5, values_only=True) if r[header.index("维护职责")] == "联点领导拜访")
        return ws["A1"].value, row[header.index("完成情况")]

    assert liaison(dt.date(2026, 12, 5)) == ("2026年战略客户维护职责（截至 2026-12-05）", "待完成")
    assert liaison(dt.date(2027, 1, 10)) == ("2026年战略客户维护职责（截至 2026-12 月末）", "逾期")


def test_two_liaison_visits_meet_the_duty(archive, tmp_path):
    _strategic(archive, tmp_path, [visit("2026-04-10", "联点领导"), visit("2026-10-10", "联点领导"),
                                   visit("2026-07-01", "公司主要领导")])
    duties = strategic.visit_duties(archive.snapshot("2026-12"), load_config(None), "2026-12").set_index("duty")
    assert duties.loc["联点领导拜访", "duty_state"] == "已完成"
    assert duties.loc["公司主要领导拜访", "duty_state"] == "已完成"
    assert duties.loc["营销专员每月联系", "duty_state"] == "逾期"  # no specialist contact at all


def test_an_a_customer_visited_quarterly_100_days_ago_is_overdue(archive, tmp_path):
    config = load_config(None)
    config.data["visits"]["a_frequency"] = {"高": "每季", "中": "每季", "低": "半年"}
    ingest(archive, tmp_path, "a", customers=[example_row("customers")], projects=[example_row("projects")],
           visits=[visit("2026-07-23", "项目经理")])
    snap = archive.snapshot("2026-10")
    plan = strategic.a_visit_plan(snap, grades_as_of(archive, config, "2026-10"), config,
                                  dt.datetime(2026, 10, 31))
    [row] = plan.itertuples()
    assert (row.frequency, row.days_since, row.overdue) == ("每季", 100, True)
    recent = strategic.a_visit_plan(snap, grades_as_of(archive, config, "2026-10"), config, dt.datetime(2026, 9, 1))
    assert not recent.iloc[0]["overdue"]


def test_an_a_customer_never_visited_is_due_one_interval_after_it_was_archived(archive, tmp_path):
    """Not overdue in the month it was first archived (its first visit is due a month later, as 下次应拜访 says),
    overdue once that date has passed; overdue exactly when 下次应拜访 lies before the day."""
    config = load_config(None)
    ingest(archive, tmp_path, "a", period="2026-10", customers=[example_row("customers")],
           projects=[example_row("projects")])
    grades = grades_as_of(archive, config, "2026-10")
    assert grades.iloc[0]["official_grade"] == "A"
    for day, overdue in ((dt.datetime(2026, 10, 31), False), (dt.datetime(2026, 11, 30), True)):
        [row] = strategic.a_visit_plan(archive.snapshot("2026-10"), grades, config, day).itertuples()
        assert (row.frequency, pd.isna(row.last_visit), row.overdue) == ("每月", True, overdue), day
        assert row.overdue == (row.next_due < pd.Timestamp(day))


# -- the sample year's designed outcomes ----------------------------------------------------

@pytest.fixture(scope="module")
def designed():
    return json.loads((ROOT / "input_samples" / ".manifest.json").read_text(encoding="utf-8"))["designed"]


def test_the_sample_year_shows_the_designed_service_outcomes(sample_year, designed):
    config = load_config(None)
    as_of = designed["as_of"]
    with Archive(sample_year.archive_path) as archive:
        snap = archive.snapshot(as_of)
        grades = grades_as_of(archive, config, as_of)
    open_ = service.open_complaints(snap, config, month_end(as_of)).set_index("complaint_no")
    for number, state in designed["overdue_complaints"].items():
        assert open_.loc[number, "complaint_state"] == state and open_.loc[number, "overdue"], number
    for number, state in designed["open_complaints"].items():
        assert open_.loc[number, "complaint_state"] == state and not open_.loc[number, "overdue"], number
    unhappy = service.dissatisfied_items(snap, as_of, as_of)
    d = designed["dissatisfied"]
    assert ((unhappy["branch"] == d["branch"]) & (unhappy["customer_name"] == d["customer"])
            & (unhappy["dimension"] == d["dimension"]) & (unhappy["dissatisfaction_note"] == d["note"])).any()
    left = service.completed_not_surveyed(snap, "2026-07", "2026-09")
    c = designed["completed_not_surveyed"]
    assert ((left["branch"] == c["branch"]) & (left["customer_name"] == c["customer"])).any()
    duties = strategic.visit_duties(snap, config, as_of)
    for branch, (customer, months) in designed["strategic_specialist_missed"].items():
        row = duties[(duties["branch"] == branch) & (duties["name"] == customer) & (duties["duty"] == "营销专员每月联系")]
        assert row.iloc[0]["detail"] == "未联系：" + "、".join(months)
    for branch, customer in designed["strategic_all_met"].items():
        mine = duties[(duties["branch"] == branch) & (duties["name"] == customer)]
        assert len(mine) == 3 and (mine["duty_state"] == "已完成").all(), (branch, customer)
    plan = strategic.a_visit_plan(snap, grades, config, month_end(as_of))
    overdue = set(zip(plan.loc[plan["overdue"], "branch"], plan.loc[plan["overdue"], "name"]))
    assert set(designed["a_visit_overdue"].items()) <= overdue


def test_the_october_summary_and_the_period_reports_show_them(sample_year, designed, tmp_path):
    from pipeline.reports.monthly import monthly_summary, write_monthly_report
    from pipeline.reports.period import period_report
    config = load_config(None)
    with Archive(sample_year.archive_path) as archive:
        data = monthly_summary(archive, config, "2026-10")
        path = write_monthly_report(data, tmp_path / "月度汇总_2026-10.xlsx")
        specialists = dict(archive.snapshot("2026-10")["customers"][["name", "specialist"]].itertuples(index=False))
        reports = {p: period_report(archive, config, p, tmp_path, today=dt.date(2026, 12, 31))
                   for p in ("2026-Q1", "2026-Q2", "2026-Q3", "2026-Q4", "2026-H1", "2026-H2", "2026")}
    book = openpyxl.load_workbook(path)
    deadlines = [[c.value for c in row] for row in book["投诉时限"].iter_rows(min_row=4)]
    overdue = list(designed["overdue_complaints"])
    assert {r[1] for r in deadlines[:len(overdue)]} == set(overdue)            # overdue first
    assert book["投诉时限"]["A4"].fill.fgColor.rgb.endswith("FFC7CE")           # in red
    reminders = [[c.value for c in row] for row in book["联系提醒"].iter_rows(min_row=4)]
    for branch, (customer, _) in designed["strategic_specialist_missed"].items():
        assert [branch, customer, "营销专员本月未联系"] in [r[:3] for r in reminders]
    for branch, customer in designed["a_visit_overdue"].items():
        assert [branch, customer, "A类客户拜访逾期"] in [r[:3] for r in reminders]
    planned = [r for r in reminders if r[2] == "A类客户拜访逾期"]
    assert planned and all(r[3] == (specialists[r[1]] or "未填营销专员") for r in planned)  # who is to visit
    for period, report in reports.items():
        names = openpyxl.load_workbook(report, read_only=True).sheetnames
        assert {"满意度分析", "投诉处理", "战略客户维护"} <= set(names), period
    q4 = openpyxl.load_workbook(reports["2026-Q4"])
    texts = {c.value for row in q4["满意度分析"].iter_rows() for c in row if isinstance(c.value, str)}
    assert designed["dissatisfied"]["note"] in texts
    about = " ".join(str(c.value) for row in q4["说明"].iter_rows() for c in row if c.value)
    assert "满意率" in about and "按时响应率" in about and "战略客户维护" in about


@pytest.mark.parametrize("hours, text", [(0, "0 小时"), (23.6, "24 小时"), (47, "47 小时"), (48, "2 天"),
                                         (50, "2 天 2 小时"), (239, "9 天 23 小时"), (240, "10 天"), (5607, "233 天")])
def test_a_wait_past_the_limit_reads_in_hours_then_days(hours, text):
    assert hours_text(hours) == text
