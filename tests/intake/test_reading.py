"""The tolerant reader and cleaning: the messy variants real submitters send."""
from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from builders import example_row, sheet_grid, write_grid, write_submission
from pipeline.intake.cleaning import Unparseable, parse_datetime, parse_number
from pipeline.config import load_config
from pipeline.intake.reading import normalize_label, read_workbook
from pipeline.periods import parse_month as parse_period
from pipeline.intake.validation import validate_file

CONFIG = load_config(None)


@pytest.mark.parametrize("text, expected", [
    ("合同额（万元）", "合同额"), ("合同额(万元)", "合同额"), ("合同额", "合同额"),
    (" 客户单位\n名称 ", "客户单位名称"), ("*客户性质", "客户性质"), ("Ｅｍａｉｌ", "email"),
])
def test_header_variants_normalise_alike(text, expected):
    assert normalize_label(text) == expected


@pytest.mark.parametrize("raw, value", [
    (1234.5, 1234.5), ("1,234.5", 1234.5), ("１２３", 123.0), ("12万", 12.0),
    ("12万元", 12.0), (" 8 000 ", 8000.0), ("(5)", -5.0),
])
def test_numbers_typed_as_text(raw, value):
    assert parse_number(raw) == value


@pytest.mark.parametrize("raw", ["一千", "12.3.4", "abc", True])
def test_unparseable_numbers(raw):
    with pytest.raises(Unparseable):
        parse_number(raw)


@pytest.mark.parametrize("raw", ["2026年3月5日", "2026/3/5", "2026.3.5", "2026-03-05", 46086,
                                 dt.date(2026, 3, 5), "20260305"])
def test_date_forms(raw):
    assert parse_datetime(raw, with_time=False) == pd.Timestamp(2026, 3, 5)


def test_datetime_forms():
    assert parse_datetime("2026年3月5日 9:30", with_time=True) == pd.Timestamp(2026, 3, 5, 9, 30)
    assert parse_datetime(46086.5, with_time=True) == pd.Timestamp(2026, 3, 5, 12, 0)


@pytest.mark.parametrize("raw, period", [("2026-10", "2026-10"), ("2026年10月", "2026-10"),
                                         ("2026.10", "2026-10"), (dt.date(2026, 10, 1), "2026-10"),
                                         (46296, "2026-10"), ("十月", None)])
def test_period_forms(raw, period):
    assert parse_period(raw) == period


def messy_workbook(path):
    """A workbook laid out as TEMPLATE.md's last section describes."""
    cust_cols = ["序号", "客户名称", "信用代码", "客户类型", "客户状态", "联系人姓名", "电话",
                 "诚信状况", "信用状况", "社会价值", "近期需求", "首次合作年份", "项目部"]
    customers = [
        ["集团公司客户信息统计表"],
        ["填报单位：华东分公司  填报日期：2026年3月24日"],
        cust_cols,
        [1, "上海浦江城市建设投资有限公司", "9131011552CL12THXQ", "社会类", "签约客户", "李华",
         13912345678, "良好", "良好", "高", "有", "2019年", "第一项目经理部"],
        [],
        [2, "宁波港城置业有限公司", "/", "社会类", "意向客户", "周敏", "0574-87654321",
         "一般", "良好", "中", "无", "—", None],
        [3, "杭州湾新区管理委员会", "", "政府类", "潜在客户", "吴刚", "13800001111",
         "良好", "良好", "高", "有", "-", None],
        ["填表人：张三"],
    ]
    projects = [
        ["集团公司客户信息统计表"],
        ["序号", "客户单位\n名称", "项目信息", None, "合同额(万元)", "签约日期", "开工日期",
         "项目状态", "工程类型"],
        [None, None, "工程名称", "合同号", None, None, None, None, None],
        [1, "上海浦江城市建设投资有限公司", "浦江华庭一期", "HD-001", "1,234.5", "2026年3月5日",
         46086, "在建", "住宅"],
        [2, "上海浦江城市建设投资有限公司", "浦江华庭二期", "001", "１２３", "2026/3/5", "2026.3.6",
         "中标", "住宅"],
        [3, "宁波港城置业有限公司", "港城广场", "HD-003", "=E4*2|2469", "2026-03-05", None,
         "在建", "商业"],
    ]
    visits = [["客户单位名称", "拜访日期", "拜访人", "拜访人级别", "沟通方式", "所属项目部"]]
    return write_grid(path, {
        "封面": [["填报单位", "华东分公司"], ["填报月份", "2026年3月"], ["本月有无变化", "有"]],
        "Sheet1": customers,
        "合作项目": projects,
        "我们的备注": [["这是分公司自己的说明"]],
        "拜访记录": visits + [["杭州湾新区管理委员会", "2026.3.9", "王强", "营销专员", "电话沟通", "x"]],
    }, merges={"合作项目": [(1, 2, 1, 3, "项目信息")], "Sheet1": [(5, 12, 6, 12, "第二项目经理部")]})


def test_messy_workbook_reads_with_right_counts(tmp_path):
    path = messy_workbook(tmp_path / "华东分公司_2026-03_客户信息统计表.xlsx")
    result = validate_file(path, CONFIG)
    assert result.status == "accepted", [f.message for f in result.errors]
    assert (result.branch, result.period) == ("华东分公司", "2026-03")
    assert result.counts == {"客户信息": 3, "合作项目": 3, "拜访记录": 1}  # the template's names, not "Sheet1"
    customers = result.frames["customers"]
    assert list(customers["_row"]) == [4, 6, 7]
    assert customers.loc[0, "phone"] == "13912345678"
    assert customers.loc[0, "first_year"] == 2019
    assert customers["uscc"].isna().tolist() == [False, True, True]
    assert customers["department"].tolist() == ["第一项目经理部", "第二项目经理部", "第二项目经理部"]
    projects = result.frames["projects"]
    assert projects["amount"].tolist() == [1234.5, 123.0, 2469.0]
    assert projects["contract_no"].tolist() == ["HD-001", "001", "HD-003"]
    assert projects["signed_on"].tolist() == [pd.Timestamp(2026, 3, 5)] * 3
    assert projects.loc[1, "started_on"] == pd.Timestamp(2026, 3, 6)
    assert list(projects["_row"]) == [4, 5, 6]
    codes = {(f.cell, f.code) for f in result.findings}
    assert ("拜访记录!F1", "unknown-column") in codes
    assert ("Sheet1!C6", "missing-uscc") in codes


def test_extra_sheet_is_ignored_and_missing_sheets_are_empty(tmp_path):
    path = messy_workbook(tmp_path / "华东分公司_2026-03.xlsx")
    sub = read_workbook(path, CONFIG)
    assert "我们的备注" in sub.ignored_sheets
    assert set(sub.sheets) == {"customers", "projects", "visits"}


def test_text_code_keeps_leading_zeros(tmp_path):
    row = example_row("projects", contract_no="007")
    path = write_submission(tmp_path / "华东分公司_2026-10.xlsx",
                            customers=[example_row("customers")], projects=[row])
    assert validate_file(path, CONFIG).frames["projects"].loc[0, "contract_no"] == "007"


def test_have_none_is_a_value_but_slash_is_empty(tmp_path):
    rows = [example_row("customers", near_term_need="无", needs="无", demanding="/")]
    path = write_submission(tmp_path / "华东分公司_2026-10.xlsx", customers=rows)
    frame = validate_file(path, CONFIG).frames["customers"]
    assert frame.loc[0, "near_term_need"] == "无"
    assert frame.loc[0, "needs"] is None
    assert frame.loc[0, "demanding"] == "否"


def test_missing_and_duplicate_columns(tmp_path):
    grid = sheet_grid("customers", [example_row("customers")])
    drop = grid[0].index("客户性质")
    grid = [row[:drop] + row[drop + 1:] for row in grid]
    grid[0].append("联系人")
    grid[1].append("重复")
    path = write_grid(tmp_path / "华东分公司_2026-10.xlsx", {"客户信息": grid})
    found = {(f.code, f.column) for f in validate_file(path, CONFIG).findings}
    assert ("missing-column", "客户性质") in found
    assert ("duplicate-column", "联系人") in found


def test_row_limit(tmp_path):
    rows = [example_row("customers", name=f"公司{i}", uscc=None) for i in range(30)]
    path = write_submission(tmp_path / "华东分公司_2026-10.xlsx", customers=rows)
    config = load_config(None)
    config.data["limits"]["max_rows"] = 10
    result = validate_file(path, config)
    assert result.status == "rejected"
    assert [f.code for f in result.errors] == ["too-many-rows"]


def test_workbook_without_known_sheet(tmp_path):
    path = write_grid(tmp_path / "华东分公司_2026-10.xlsx", {"随便": [["a", "b"], [1, 2]]})
    result = validate_file(path, CONFIG)
    assert [f.code for f in result.findings] == ["no-known-sheet"]
