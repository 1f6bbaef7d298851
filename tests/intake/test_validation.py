"""Validation rules: each rule on a workbook built in code, findings located by cell."""
from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from builders import example_row, full_example, write_grid, write_submission
from pipeline.config import load_config
from schemas.columns import IGNORED, SHEETS_BY_KEY
from pipeline.intake.validation import validate_file

CONFIG = load_config(None)


def check(path):
    return validate_file(path, CONFIG)


def located(result, severity=None):
    return {(f.cell, f.code) for f in result.findings if severity in (None, f.severity)}


def test_example_rows_are_accepted_with_typed_frames(tmp_path):
    result = check(full_example(tmp_path / "华东分公司_2026-10_客户信息统计表.xlsx"))
    assert result.status == "accepted", result.findings
    assert result.findings == []
    assert (result.branch, result.period) == ("华东分公司", "2026-10")
    assert result.counts == {"客户信息": 1, "合作项目": 1, "满意度调查": 1, "投诉记录": 1, "拜访记录": 1}
    customers = result.frames["customers"]
    assert customers.loc[0, "uscc"] == "9131011552CL12THXQ"
    assert customers.loc[0, "first_year"] == 2019 and str(customers["first_year"].dtype) == "Int64"
    assert customers.loc[0, "_row"] == 2
    projects = result.frames["projects"]
    assert projects.loc[0, "amount"] == pytest.approx(12800.5)
    assert str(projects["signed_on"].dtype) == "datetime64[ns]"
    complaints = result.frames["complaints"]
    assert complaints.loc[0, "complained_at"] == dt.datetime(2026, 10, 8, 9, 30)
    assert "seq" not in customers.columns


@pytest.mark.parametrize("key, value, code", [
    ("nature", "民营", "not-allowed"),
    ("name", None, "required"),
    ("contact", "/", "required"),
    ("phone", "1391234567", "bad-phone"),
    ("phone", "68881234", "bad-phone"),
    ("email", "lihua.pjct.com", "bad-email"),
    ("first_year", 1930, "bad-year"),
    ("first_year", "去年", "bad-year"),
    ("uscc", "9131011552CL12THXA", "bad-uscc"),
    ("name", "很长" * 60, "too-long"),
])
def test_customer_cell_rules(tmp_path, key, value, code):
    path = write_submission(tmp_path / "华东分公司_2026-10.xlsx",
                            customers=[example_row("customers", **{key: value})])
    result = check(path)
    assert result.status == "rejected"
    letters = {"nature": "D", "name": "B", "contact": "J", "phone": "L", "email": "M",
               "first_year": "P", "uscc": "C"}
    assert (f"客户信息!{letters[key]}2", code) in located(result)


@pytest.mark.parametrize("phone, ok", [
    ("13912345678", True), ("021-12345678", True), ("(021)12345678", True), ("021-12345678转123", True),
    ("13912345678/021-12345678", True), ("13912345678、13812345678；", True), ("+86-13912345678", True),
    ("13912345678/1391234567", False), ("139123456789", False), ("12912345678", False), ("/", False),
    ("138-0013-8000", True), ("1380013800-0", False),
])
def test_phone_numbers_one_or_several(phone, ok):
    import pandas as pd
    from schemas.models import phones_ok
    assert phones_ok(pd.Series([phone], dtype=object)).tolist() == [ok]


def test_allowed_values_are_named_in_the_message(tmp_path):
    path = write_submission(tmp_path / "x_2026-10.xlsx",
                            customers=[example_row("customers", nature="民营")])
    [finding] = [f for f in check(path).findings if f.code == "not-allowed"]
    assert "政府类、社会类、外资类、系统内" in finding.message and "民营" in finding.message
    assert finding.column == "客户性质" and finding.row == 2 and finding.value == "民营"


def test_org_code_check_is_separate_from_uscc_check(tmp_path):
    from pipeline.identity import uscc_check_char
    good = "9131011552CL12THXQ"
    body = good[:16] + ("0" if good[16] != "0" else "1")  # break the organisation check
    code = body + uscc_check_char(body)
    path = write_submission(tmp_path / "x_2026-10.xlsx",
                            customers=[example_row("customers", uscc=code)])
    [finding] = [f for f in check(path).findings if f.code == "bad-uscc"]
    assert "GB 11714" in finding.message


def test_landline_with_extension_and_mobile_list_are_valid(tmp_path):
    rows = [example_row("customers", phone="021-68881234-806"),
            example_row("customers", name="乙公司", uscc=None, phone="13912345678/0571-8888123")]
    result = check(write_submission(tmp_path / "x_2026-10.xlsx", customers=rows))
    assert result.status == "accepted", result.findings
    assert located(result) == {("客户信息!C3", "missing-uscc")}


def test_strategic_customer_needs_specialist_and_leader(tmp_path):
    row = example_row("customers", strategic="是", specialist=None, liaison_leader="")
    result = check(write_submission(tmp_path / "x_2026-10.xlsx", customers=[row]))
    assert {("客户信息!Y2", "conditional-required"), ("客户信息!Z2", "conditional-required")} <= located(result)
    row = example_row("customers", strategic=None, specialist=None, liaison_leader=None)
    result = check(write_submission(tmp_path / "y_2026-10.xlsx", customers=[row]))
    assert result.status == "accepted"
    assert result.frames["customers"].loc[0, "strategic"] == "否"


def test_duplicate_customers_by_code_and_by_name(tmp_path):
    rows = [example_row("customers"),
            example_row("customers", name="另一家公司"),                       # same code
            example_row("customers", name="上海浦江城市建设投资有限公司 ", uscc=None)]  # same name
    result = check(write_submission(tmp_path / "x_2026-10.xlsx", customers=rows))
    found = located(result)
    assert ("客户信息!C3", "duplicate-row") in found
    assert ("客户信息!B4", "duplicate-row") in found
    dup = next(f for f in result.findings if f.cell == "客户信息!C3")
    assert "第 2 行" in dup.message
    copied = check(write_submission(tmp_path / "y_2026-10.xlsx", customers=[example_row("customers")] * 2))
    assert [f.cell for f in copied.findings if f.code == "duplicate-row"] == ["客户信息!C3"]  # one row copied: once


def test_project_rules(tmp_path):
    rows = [example_row("projects", status="中标", amount=None),
            example_row("projects", contract_no="HD-2024-0015", started_on="2024-05-06",
                        completed_on="2024-01-01"),
            example_row("projects", contract_no="HD-9", amount=-5, project_type="别墅"),
            example_row("projects", contract_no="HD-10", status="跟踪", amount=None)]
    result = check(write_submission(tmp_path / "x_2026-10.xlsx",
                                    customers=[example_row("customers")], projects=rows))
    found = located(result)
    assert ("合作项目!H2", "conditional-required") in found
    assert ("合作项目!E3", "duplicate-row") in found
    assert ("合作项目!N3", "date-order") in found
    assert ("合作项目!H4", "negative-number") in found
    assert ("合作项目!F4", "not-allowed") in found
    assert not any(cell.endswith("5") for cell, _ in found)


def test_bad_number_does_not_hide_other_failures_in_the_row(tmp_path):
    row = example_row("projects", amount="一千万", project_type="别墅", signed_on="去年")
    result = check(write_submission(tmp_path / "x_2026-10.xlsx",
                                    customers=[example_row("customers")], projects=[row]))
    assert {("合作项目!H2", "bad-number"), ("合作项目!F2", "not-allowed"),
            ("合作项目!L2", "bad-date")} <= located(result)


def test_an_unreadable_amount_is_one_error_not_also_a_missing_one(tmp_path):
    """“1.2亿” in the amount of an awarded project: the cell is not a number; it is not also “请补充”."""
    row = example_row("projects", status="中标", amount="约3000")
    found = located(check(write_submission(tmp_path / "x_2026-10.xlsx", customers=[example_row("customers")],
                                           projects=[row])))
    assert ("合作项目!H2", "bad-number") in found and ("合作项目!H2", "conditional-required") not in found


def test_a_formula_s_error_is_an_error_on_its_cell_not_a_blank(tmp_path):
    """A broken VLOOKUP shows #N/A in Excel; a reader takes it for a blank cell: it was archived as blank, or told
    “必填，请补充” about a cell the clerk sees filled."""
    customer = example_row("customers", contact="=VLOOKUP(1,Z:Z,2,0)|#N/A", uscc="=1/0|#DIV/0!")
    project = example_row("projects", status="中标", amount="=1/0|#DIV/0!", cost="=A1*2|42")
    result = check(write_submission(tmp_path / "x_2026-10.xlsx", customers=[customer], projects=[project]))
    found = located(result)
    contact = next(c for c in SHEETS_BY_KEY["customers"].columns if c.key == "contact")
    letter = chr(ord("A") + SHEETS_BY_KEY["customers"].columns.index(contact))
    assert {(f"客户信息!{letter}2", "formula-error"), ("客户信息!C2", "formula-error"),
            ("合作项目!H2", "formula-error")} <= found
    assert not [f for f in result.findings if f.cell in (f"客户信息!{letter}2", "客户信息!C2", "合作项目!H2")
                and f.code != "formula-error"]  # not also “必填” or “未填写信用代码”
    assert "#N/A" in next(f.message for f in result.findings if f.cell == f"客户信息!{letter}2")
    assert not any(f.cell == "合作项目!I2" for f in result.findings)  # a formula with its result is its value


def test_a_formula_s_error_in_an_old_xls_workbook_is_an_error_on_its_cell_too(tmp_path):
    """A .xls saved by Excel, WPS or LibreOffice: its error cells were read as blanks (a bad optional cell passed)."""
    import shutil
    import subprocess
    customer = example_row("customers", contact="=1/0|#DIV/0!")
    project = example_row("projects", status="中标", cost="=NA()|#N/A")
    source = write_submission(tmp_path / "华东分公司_2026-10.xlsx", customers=[customer], projects=[project])
    office = shutil.which("soffice") or shutil.which("libreoffice")
    subprocess.run([office, "--headless", "--norestore", f"-env:UserInstallation=file://{tmp_path}/profile",
                    "--convert-to", "xls", "--outdir", str(tmp_path / "old"), str(source)],
                   capture_output=True, timeout=180)
    old = tmp_path / "old" / "华东分公司_2026-10.xls"
    assert old.exists()
    contact = next(c for c in SHEETS_BY_KEY["customers"].columns if c.key == "contact")
    letter = chr(ord("A") + SHEETS_BY_KEY["customers"].columns.index(contact))
    result = check(old)
    errors = {f.cell: f for f in result.findings if f.code == "formula-error"}
    assert set(errors) == {f"客户信息!{letter}2", "合作项目!I2"} and result.status == "rejected"
    assert "#DIV/0!" in errors[f"客户信息!{letter}2"].message and "#N/A" in errors["合作项目!I2"].message
    assert not [f for f in result.findings if f.cell == f"客户信息!{letter}2" and f.code != "formula-error"]


def test_a_formula_without_a_saved_result_is_named(tmp_path):
    import openpyxl
    path = write_submission(tmp_path / "x_2026-10.xlsx", customers=[example_row("customers")],
                            projects=[example_row("projects", status="中标")])
    book = openpyxl.load_workbook(path)
    book["合作项目"]["H2"] = "=1000*2"  # openpyxl saves no result for it
    book.save(path)
    [finding] = [f for f in check(path).findings if f.cell == "合作项目!H2"]
    assert finding.code == "formula-no-result" and "Excel 或 WPS 打开、保存" in finding.message


def test_survey_dissatisfaction_needs_a_note(tmp_path):
    rows = [example_row("surveys", engineering_quality="不满意", dissatisfaction_note=None),
            example_row("surveys", after_service="不满意", dissatisfaction_note="保修响应慢")]
    result = check(write_submission(tmp_path / "x_2026-10.xlsx",
                                    customers=[example_row("customers")], surveys=rows))
    assert located(result) == {("满意度调查!I2", "conditional-required")}


def test_complaint_date_order_and_deadlines(tmp_path):
    rows = [example_row("complaints", first_response_at="2026-10-07 09:00"),
            example_row("complaints", complaint_no="TS-2", first_response_at="2026-10-10 09:30"),
            example_row("complaints", complaint_no="TS-2")]
    result = check(write_submission(tmp_path / "x_2026-10.xlsx",
                                    customers=[example_row("customers")], complaints=rows))
    found = located(result)
    assert ("投诉记录!H2", "date-order") in found
    assert ("投诉记录!H3", "late-response") in found
    assert ("投诉记录!D4", "duplicate-row") in found
    late = next(f for f in result.findings if f.code == "late-response")
    assert late.severity == "warning"


def test_blank_codes_and_times_are_never_duplicates_late_or_out_of_order(tmp_path):
    """The sheet rules compare rows and times as arrays: a blank is never equal to another blank, never late
    and never before or after anything; only a complaint never answered is, once its 24 hours have passed."""
    def complaint(number, at, response=None, resolved=None, feedback=None):
        return example_row("complaints", complaint_no=number, complained_at=at, first_response_at=response,
                           resolved_at=resolved, feedback_at=feedback)

    customers = [example_row("customers"), example_row("customers", name="甲建设有限公司", uscc=None),
                 example_row("customers", name="乙建设有限公司", uscc=None)]
    complaints = [complaint(None, "2026-10-01 09:00", "2026-10-01 10:00"),
                  complaint(None, "2026-10-02 09:00", "2026-10-02 10:00", None, "2026-10-02 11:00"),
                  complaint("TS-3", "2026-10-03 09:00", None, "2026-10-04 09:00", "2026-10-09 09:00"),
                  complaint("TS-4", "2026-10-24 09:00")]  # 14 h 59 min before the file's 填报日期 ends: not late
    result = check(write_submission(tmp_path / "华东分公司_2026-10_x.xlsx", customers=customers,
                                    complaints=complaints))
    assert {finding for finding in located(result) if finding[1] != "missing-uscc"} == {
        ("投诉记录!H4", "no-response"), ("投诉记录!J4", "late-response")}
    [waited] = [f for f in result.findings if f.code == "no-response"]
    assert "（至 2026-10-24 已 22 天）" in waited.message, waited.message


def test_unknown_customer_in_dependent_sheet_is_a_warning(tmp_path):
    rows = [example_row("visits", customer_name="不存在的公司")]
    result = check(write_submission(tmp_path / "x_2026-10.xlsx",
                                    customers=[example_row("customers")], visits=rows))
    assert result.status == "accepted"
    assert located(result) == {("拜访记录!B2", "unknown-customer")}
    archive_known = validate_file(result.file, CONFIG, known_customers={"不存在的公司"})
    assert archive_known.findings == []


def test_unknown_branch_names_the_roster(tmp_path):
    result = check(full_example(tmp_path / "海外分公司_2026-10.xlsx", branch="海外分公司"))
    [finding] = [f for f in result.findings if f.code == "unknown-branch"]
    assert finding.cell == "封面!B1" and "华东分公司" in finding.message


def test_cover_and_file_name_disagree(tmp_path):
    result = check(full_example(tmp_path / "华东分公司_2026-06_客户信息统计表.xlsx", period="2026-05"))
    assert result.status == "rejected"
    [finding] = [f for f in result.findings if f.code == "source-conflict"]
    assert finding.cell == "封面!B2" and "2026-05" in finding.message and "2026-06" in finding.message


def test_branch_and_period_fall_back_to_file_name(tmp_path):
    path = write_submission(tmp_path / "华南分公司_2026年7月_客户信息统计表.xlsx", cover=False,
                            customers=[example_row("customers")])
    result = check(path)
    assert (result.branch, result.period, result.status) == ("华南分公司", "2026-07", "accepted")
    [told] = result.warnings
    assert told.code == "no-cover" and "取自文件名" in told.message  # the cover is the contract: said once


def test_missing_branch_and_period(tmp_path):
    path = write_submission(tmp_path / "客户信息.xlsx", cover=False,
                            customers=[example_row("customers")])
    result = check(path)
    assert {f.code for f in result.errors} == {"missing-cover"}  # the cover is missing, said once
    assert "请从模板复制“封面”表" in result.errors[0].message
    from builders import cover_grid, sheet_grid
    grids = {"封面": [row for row in cover_grid() if row[0] not in ("填报单位", "填报月份")],
             "客户信息": sheet_grid("customers", [example_row("customers")])}
    result = check(write_grid(tmp_path / "客户信息2.xlsx", grids))  # a cover, without the two
    assert {f.code for f in result.errors} == {"missing-branch", "missing-period"}


def test_no_change_submission_is_accepted_empty(tmp_path):
    path = write_submission(tmp_path / "华东分公司_2026-10.xlsx", changed="无", customers=[])
    result = check(path)
    assert result.status == "accepted" and result.no_change
    assert result.counts == {"客户信息": 0} and len(result.frames["projects"]) == 0


def test_project_department_outside_the_roster_is_a_warning(tmp_path):
    config = load_config(None)
    config.data["roster"]["departments"] = {"华东分公司": ["第一项目经理部", "第二项目经理部"]}
    path = write_submission(tmp_path / "华东分公司_2026-10.xlsx",
                            customers=[example_row("customers", department="第九项目经理部")],
                            projects=[example_row("projects")])
    result = validate_file(path, config)
    assert result.status == "accepted"
    [finding] = [f for f in result.findings if f.code == "unknown-department"]
    assert finding.cell == "客户信息!AA2" and "第一项目经理部、第二项目经理部" in finding.message


def test_the_column_check_of_credit_codes_agrees_with_the_message_for_each_code():
    """pandera checks a whole column of codes at once (identity.valid_usccs); each failing code's message comes
    from uscc_problem: the two must agree on every code, odd ones included."""
    import random

    from pipeline.identity import make_uscc, uscc_problem, valid_usccs
    rng = random.Random(5)
    codes = [make_uscc(rng, region=str(rng.randint(110000, 659999)), kind=rng.choice(["91", "12", "Y1"]))
             for _ in range(3000)]
    typos = [c[:i] + rng.choice("0123456789ABHXYIOSVZa -٣３") + c[i + 1:]
             for c in codes[:1500] for i in [rng.randrange(18)]]
    odd = [c[:17] for c in codes[:20]] + [c + "\n" for c in codes[:20]] + ["", None, 5]
    values = codes + typos + odd
    valid = valid_usccs(values)
    assert list(valid) == [isinstance(v, str) and uscc_problem(v) is None for v in values]
    assert valid[:3000].all() and not valid[3000 + 1500:].any() and 0 < valid[3000:4500].sum() < 1500


def _same_result(alone, together):
    assert together.as_dict() == alone.as_dict()
    assert (together.rows, together.reused_from, together.prefilled) == (alone.rows, alone.reused_from,
                                                                          alone.prefilled)
    assert together.frames.keys() == alone.frames.keys()
    for key, frame in alone.frames.items():
        pd.testing.assert_frame_equal(together.frames[key], frame)


def _mixed_month(tmp_path):
    """Files of one month as branches send them: valid, with errors of every kind, with fewer columns
    (one required column missing), unreadable, and one repeating most of a branch's last file."""
    good = full_example(tmp_path / "华东分公司_2026-10_客户信息统计表.xlsx")
    bad = write_submission(
        tmp_path / "华南分公司_2026-10_客户信息统计表.xlsx", branch="华南分公司",
        customers=[example_row("customers", uscc="91310115ABC", phone="电话待定"),
                   example_row("customers", uscc=None, name="乙公司", strategic="是", specialist=None,
                               phone="待定"),
                   example_row("customers", uscc=None, name="丙公司", first_year="去年", nature="外企")],
        projects=[example_row("projects", amount="一百万", customer_name="乙公司"),
                  example_row("projects", contract_no="HT-2", amount=-5, customer_name="丁公司",
                              started_on=dt.datetime(2026, 9, 1), completed_on=dt.datetime(2026, 1, 1))],
        complaints=[example_row("complaints", complained_at="昨天")])
    narrow = {}
    for key, dropped in (("customers", {"contact"}), ("projects", {"cost", "profit", "net_profit"})):
        columns = [c for c in SHEETS_BY_KEY[key].columns if c.key not in dropped]
        narrow[SHEETS_BY_KEY[key].name] = [[c.header for c in columns],
                                           [1 if c.kind == IGNORED else example_row(key).get(c.key)
                                            for c in columns]]
    cover = [["填报单位", "华北分公司"], ["填报月份", "2026-10"], ["填报人", "张明"]]
    fewer = write_grid(tmp_path / "华北分公司_2026-10_客户信息统计表.xlsx", {"封面": cover, **narrow})
    broken = tmp_path / "西南分公司_2026-10_客户信息统计表.xlsx"
    broken.write_bytes(b"not a workbook")
    last = validate_file(good, CONFIG)
    known = {"华东分公司": (7, {key: rows.hashes for key, rows in last.rows.items()})}
    again = write_submission(tmp_path / "华东分公司_2026-11_客户信息统计表.xlsx", period="2026-11",
                             customers=[example_row("customers"), example_row("customers", name="新客户公司",
                                                                               uscc=None)],
                             projects=[example_row("projects")], surveys=[example_row("surveys")],
                             complaints=[example_row("complaints")], visits=[example_row("visits")])
    wrong = write_submission(tmp_path / "华东分公司_2026-11_客户信息统计表（更正）.xlsx", period="2026-11",
                             customers=[example_row("customers"), example_row("customers", name="新客户公司",
                                                                               uscc=None, phone="12345")])
    return [good, bad, fewer, broken, again, wrong], known


def test_files_validated_together_give_each_what_it_gets_alone(tmp_path, monkeypatch):
    """Validated as a group (the changed rows of all cleaned and given to pandera together), every file gets
    exactly the findings, frames and row hashes it gets alone: the rows go back to their own file and cells."""
    from pandera.api.pandas.container import DataFrameSchema

    from pipeline.intake.validation import validate_files
    files, known = _mixed_month(tmp_path)
    alone = [validate_file(path, CONFIG, known_rows=known) for path in files]
    assert [r.status for r in alone] == ["accepted", "rejected", "rejected", "rejected", "accepted", "rejected"]
    assert alone[4].rows["customers"].reused == [0]  # the repeated row is taken from the last file
    assert [(f.code, f.cell) for f in alone[5].errors] == [("bad-phone", "客户信息!L3")]  # in a changed row
    assert {"bad-uscc", "bad-phone", "conditional-required", "bad-year", "not-allowed", "bad-number",
            "negative-number", "date-order", "bad-date"} <= {f.code for f in alone[1].findings}
    assert any(f.code == "missing-column" for f in alone[2].findings)
    checked = []
    original = DataFrameSchema.validate
    monkeypatch.setattr(DataFrameSchema, "validate",
                        lambda self, frame, **kw: checked.append(self.name) or original(self, frame, **kw))
    together = validate_files(files, CONFIG, known_rows=known)
    assert sorted(checked) == sorted(set(checked))  # each sheet once for the whole group
    for one, both in zip(alone, together):
        _same_result(one, both)


def test_a_file_that_breaks_validation_leaves_the_others_of_its_group_their_results(tmp_path, monkeypatch):
    from pipeline.intake import validation
    files, known = _mixed_month(tmp_path)
    alone = [validate_file(path, CONFIG, known_rows=known) for path in files]
    reading = validation.read_workbook

    def read(path, config, formulas=None):
        if "华南" in str(path):
            raise RuntimeError("reader bug")
        return reading(path, config, formulas)
    monkeypatch.setattr(validation, "read_workbook", read)
    results = validation.validate_each(files, CONFIG, known_rows=known)
    assert isinstance(results[1], RuntimeError)
    for index in (0, 2, 3, 4, 5):
        _same_result(alone[index], results[index])
    assert isinstance(validation.validate_each(files[1:2], CONFIG)[0], RuntimeError)  # alone, too: not raised


@pytest.mark.parametrize("typed, read", [("1.2亿", 12000.0), ("¥1,000", 1000.0), ("￥48420.01", 48420.01),
                                         ("152662600元", 15266.26), ("12万元", 12.0), ("（5）", -5.0)])
def test_amounts_are_read_in_ten_thousand_yuan_whatever_the_unit_written(typed, read):
    from pipeline.intake.cleaning import parse_number
    assert parse_number(typed) == read


def test_a_credit_code_typed_into_a_number_cell_says_so(tmp_path):
    # 913100006001583898 typed into a number cell: Excel keeps 15 digits (913100006001583000)
    result = check(write_submission(tmp_path / "x_2026-10.xlsx",
                                    customers=[example_row("customers", uscc=913100006001583000)]))
    [finding] = [f for f in result.findings if f.cell == "客户信息!C2"]
    assert finding.code == "uscc-as-number" and "设为文本格式" in finding.message and "营业执照" in finding.message
    typed = check(write_submission(tmp_path / "y_2026-10.xlsx", customers=[example_row("customers", uscc="123")]))
    assert [f.code for f in typed.findings if f.cell == "客户信息!C2"] == ["bad-uscc"]  # (text: as it was)


def test_a_landline_that_lost_its_leading_zero_says_so(tmp_path):
    result = check(write_submission(tmp_path / "x_2026-10.xlsx", customers=[example_row("customers", phone=2168881234)]))
    [finding] = [f for f in result.findings if f.cell == "客户信息!L2"]
    assert finding.code == "phone-lost-zero" and "021-68881234" in finding.message


def test_the_cover_s_filler_is_required_and_its_change_answer_is_yes_or_no(tmp_path):
    from builders import cover_grid, sheet_grid
    grids = {"封面": cover_grid(filler=None, changed="没有"), "客户信息": sheet_grid("customers", [example_row("customers")])}
    found = located(check(write_grid(tmp_path / "华东分公司_2026-10.xlsx", grids)))
    assert {("封面!B3", "required"), ("封面!B6", "not-allowed")} <= found
    grids["封面"] = cover_grid(changed=" 无 ")
    result = check(write_grid(tmp_path / "华东分公司_2026-10_b.xlsx", grids))
    assert result.status == "accepted" and result.no_change


def test_a_cover_without_a_filler_row_or_with_a_bad_phone_is_told_without_returning_the_file(tmp_path):
    from builders import cover_grid, sheet_grid
    customers = sheet_grid("customers", [example_row("customers")])
    cover = [row for row in cover_grid(phone=2168881234) if row[0] != "填报人"]
    result = check(write_grid(tmp_path / "华东分公司_2026-10.xlsx", {"封面": cover, "客户信息": customers}))
    assert result.status == "accepted"
    by_code = {f.code: f for f in result.findings}
    assert by_code["cover-no-filler"].sheet == "封面" and by_code["cover-no-filler"].severity == "warning"
    lost = by_code["cover-bad-phone"]
    assert lost.cell == "封面!B3" and lost.severity == "warning" and "丢了区号开头的 0" in lost.message
    for i, phone in enumerate(("021-6888 1234", "13800138000", 13800138000, "138-0013-8000", "0571-87654321转123")):
        ok = check(write_grid(tmp_path / f"华东分公司_2026-10_{i}.xlsx",
                              {"封面": cover_grid(phone=phone), "客户信息": customers}))
        assert {f.code for f in ok.findings} & {"cover-bad-phone", "cover-no-filler"} == set(), phone
    typo = check(write_grid(tmp_path / "华东分公司_2026-10_typo.xlsx",
                            {"封面": cover_grid(phone="1380013800"), "客户信息": customers}))
    [bad] = [f for f in typo.findings if f.code == "cover-bad-phone"]
    assert "“1380013800”格式不正确，" in bad.message and typo.status == "accepted"


def test_without_customer_rows_the_other_sheets_say_so_once_not_on_every_row(tmp_path):
    projects = [example_row("projects", contract_no=f"HD-{i}", customer_name=f"客户{i}有限公司", customer_uscc=None)
                for i in range(5)]
    empty = check(write_submission(tmp_path / "x_2026-10.xlsx", customers=[], projects=projects))
    [once] = [f for f in empty.findings if f.sheet == "合作项目" and "客户" in f.message]
    assert once.code == "unknown-customers" and "5 行" in once.message and once.cell == "合作项目!B2"
    missing = check(write_submission(tmp_path / "y_2026-10.xlsx", projects=projects))
    assert {f.code for f in missing.findings} & {"unknown-customer", "unknown-customers"} == set()
    assert "missing-sheet" in {f.code for f in missing.findings}


def test_a_bad_value_in_a_merged_range_is_one_error_at_its_top_left_cell(tmp_path):
    from builders import cover_grid, sheet_grid
    rows = [example_row("customers", name=f"客户{i}有限公司", uscc=None) for i in range(4)]
    grid = sheet_grid("customers", rows)
    nature = next(i for i, c in enumerate(SHEETS_BY_KEY["customers"].columns) if c.key == "nature")
    for r in (3, 4):
        grid[r][nature] = None
    path = write_grid(tmp_path / "华东分公司_2026-10.xlsx", {"封面": cover_grid(), "客户信息": grid},
                      merges={"客户信息": [(2, nature, 4, nature, "民营企业")]})
    found = [cell for cell, code in located(check(path)) if code == "not-allowed"]
    assert found == ["客户信息!D3"]


def test_a_short_branch_name_on_the_cover_is_one_error(tmp_path):
    result = check(full_example(tmp_path / "华东分公司_2026-10_客户信息统计表.xlsx", branch="华东公司"))
    codes = [f.code for f in result.errors]
    assert codes == ["source-conflict"] and "华东公司" in result.errors[0].message


def test_a_project_whose_code_is_another_customer_s_is_pointed_at(tmp_path):
    other = example_row("customers", name="上海天元置业有限公司", uscc="9131011515J1XG611T")
    project = example_row("projects", customer_name="上海浦江城市建设投资有限公司", customer_uscc="9131011515J1XG611T")
    result = check(write_submission(tmp_path / "x_2026-10.xlsx", customers=[example_row("customers"), other],
                                    projects=[project]))
    [finding] = [f for f in result.findings if f.code == "customer-code-name-mismatch"]
    assert finding.cell == "合作项目!C2" and "第 3 行“上海天元置业有限公司”" in finding.message
    assert result.status == "accepted"


def test_dates_after_the_report_are_pointed_at(tmp_path):
    """A 2026-01 report with a visit in 2027 and a contract signed in 2099: a slip of the year."""
    import datetime as dt
    result = check(write_submission(
        tmp_path / "x_2026-01.xlsx", period="2026-01", customers=[example_row("customers")],
        projects=[example_row("projects", signed_on=dt.datetime(2099, 1, 1))],
        visits=[example_row("visits", visited_on=dt.datetime(2027, 6, 1))]))
    found = {(f.code, f.severity) for f in result.findings if f.code.startswith("date-after-report")}
    assert found == {("date-after-report", "error"), ("date-after-report-planned", "warning")}
    visit = next(f for f in result.findings if f.code == "date-after-report")
    assert visit.sheet == "拜访记录" and "2027-06-01" in visit.message


def test_the_cover_s_formula_errors_and_line_breaks(tmp_path):
    from builders import cover_grid, sheet_grid
    grids = {"封面": cover_grid(branch="华东\n分公司", filler="=NA()|#N/A"),
             "客户信息": sheet_grid("customers", [example_row("customers")])}
    result = check(write_grid(tmp_path / "华东分公司_2026-10.xlsx", grids))
    assert result.branch == "华东分公司" and not [f for f in result.findings if f.code == "source-conflict"]
    assert [(f.cell, f.code) for f in result.errors] == [("封面!B3", "formula-error")]
    assert "filler" not in result.cover  # never kept as the person's name


def test_a_complaint_year_typed_wrong_is_one_error(tmp_path):
    import datetime as dt
    complaint = example_row("complaints", complained_at=dt.datetime(2027, 10, 9, 9, 0))
    result = check(write_submission(tmp_path / "x_2026-10.xlsx", customers=[example_row("customers")],
                                    complaints=[complaint]))
    assert [f.code for f in result.errors] == ["date-after-report"]
