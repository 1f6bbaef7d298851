"""Every workbook the pipeline writes, pinned by a golden layout (values and formats, not bytes).

The period report has its own test (test_period_report.py); the template and the
feedback workbook are pinned in tests/intake/test_intake_layouts.py.
"""
from __future__ import annotations

import datetime as dt

import pytest

from builders import example_row, ingest, write_submission
from golden import check_golden
from pipeline.analysis.adjustment import write_adjustment_proposal
from pipeline.archive import Archive
from pipeline.archive.review import export_review
from pipeline.archive.workspace import Workspace
from pipeline.config import load_config
from pipeline.reports.archive_workbook import export_archive
from pipeline.reports.grade_lists import write_grade_lists
from pipeline.routine import run_monthly

CODE_B = "9131011515J1XG611T"


@pytest.fixture
def archive(tmp_path):
    with Archive(tmp_path / "a.sqlite") as arch:
        ingest(arch, tmp_path, "a", period="2026-09", when="2026-09-20T10:00",
               customers=[example_row("customers"),
                          example_row("customers", name="华东建材有限公司", uscc=CODE_B, social_value="中"),
                          example_row("customers", name="上海浦江城建投资有限公司", uscc=None,
                                      first_year=None)],
               projects=[example_row("projects")], surveys=[example_row("surveys")],
               complaints=[example_row("complaints")], visits=[example_row("visits")])
        ingest(arch, tmp_path, "b", period="2026-10", when="2026-10-21T09:00",
               customers=[example_row("customers", integrity="一般", contact="王五")])
        yield arch


def test_monthly_summary(tmp_path):
    ws = Workspace(tmp_path / "ws")
    ws.init()
    config = load_config(ws.config_path)
    write_submission(ws.inbox / "华东分公司_2026-10_客户信息统计表.xlsx",
                     customers=[example_row("customers")], projects=[example_row("projects")])
    write_submission(ws.inbox / "华南分公司_2026-10_客户信息统计表.xlsx", branch="华南分公司",
                     customers=[example_row("customers", phone="12345")])
    with Archive(ws.archive_path) as archive:
        _, _, path = run_monthly(ws, archive, config, period="2026-10",
                                 received_at=dt.datetime(2026, 10, 24, 15, 30))
    check_golden(path, "monthly_summary")


def test_archive_workbook(archive, tmp_path):
    check_golden(export_archive(archive, tmp_path / "客户档案总表.xlsx")[0], "archive_workbook")


def test_grade_adjustment_workbook(archive, tmp_path):
    path, _ = write_adjustment_proposal(archive, load_config(None), "2026-H2",
                                        tmp_path / "等级调整建议_2026-H2.xlsx")
    check_golden(path, "grade_adjustment")


def test_grade_lists_workbook(archive, tmp_path):
    path, _ = write_grade_lists(archive, load_config(None), "2026-10", tmp_path / "客户分级清单.xlsx")
    check_golden(path, "grade_lists")


def test_review_workbook(archive, tmp_path):
    assert len(archive.conflicts()) == 1  # the look-alike names
    check_golden(export_review(archive, tmp_path / "疑似重复客户.xlsx"), "review")
