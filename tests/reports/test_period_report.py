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
    check_golden(path, "period_report_2026-Q3", skip={"说明": {"B6"}})  # B6: the generation time
