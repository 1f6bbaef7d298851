"""Pre-filled workbooks: generated from the archive, edited by a clerk, saved by Excel-like tools, sent back."""
from __future__ import annotations

import re
import shutil
import subprocess
import warnings
from pathlib import Path

import openpyxl
import pytest

from builders import crm
from pipeline.archive import Archive
from pipeline.reports import names

BRANCH = "华东分公司"
PERIOD = "2027-01"


def prefill_for(root: Path, period: str) -> Path:
    """华东分公司's pre-filled workbook for ``period``, written by crm template."""
    result = crm(root, "template", "--for", BRANCH, "--period", period)
    assert result.exit_code == 0, result.output
    path = names.prefilled(root / "output", period, BRANCH)
    assert path.exists()
    return path


@pytest.fixture
def prefilled(sample_year, tmp_path):
    """A copy of the sample year and 华东分公司's pre-filled workbook for 2027-01."""
    root = tmp_path / "ws"
    shutil.copytree(sample_year.root, root)
    return root, prefill_for(root, PERIOD)


def load(path: Path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return openpyxl.load_workbook(path)


def column(ws, header: str) -> int:
    return next(c.column for c in ws[1] if c.value == header)


def send(root: Path, path: Path, name: str | None = None):
    """Put the workbook in the inbox and run the month; returns the CLI result."""
    target = root / "inbox" / (name or path.name)
    shutil.copy2(path, target)
    return crm(root, "ingest", "--received-at", f"{PERIOD}-20T10:00")


def archive_of(root: Path) -> Archive:
    return Archive(root / "archive.sqlite")


def test_the_workbook_is_filled_numbered_and_protected(prefilled):
    root, path = prefilled
    book = load(path)
    assert book["封面"]["B1"].value == BRANCH and book["封面"]["B2"].value == PERIOD
    # who filled in the branch's last file, and how to reach them: usually the same clerk
    assert (book["封面"]["B3"].value, book["封面"]["B4"].value) == ("经营部 张明", "021-68881234")
    customers = book["客户信息"]
    assert customers["A1"].value == "档案编号" and customers.protection.sheet
    numbers = [customers.cell(r, 1).value for r in range(2, customers.max_row + 1)]
    assert numbers and all(n and n.startswith("K") for n in numbers)
    assert customers.cell(2, 1).protection.locked and not customers.cell(2, 2).protection.locked
    # new rows can be typed in: the columns are open, 档案编号 is not
    assert not customers.column_dimensions["C"].protection.locked and customers.column_dimensions["A"].protection.locked
    with archive_of(root) as archive:
        own = archive.snapshot("2026-12")["customer_branches"]
        assert len(numbers) == int((own["branch"] == BRANCH).sum())
    projects = book["合作项目"]
    assert all(str(projects.cell(r, 1).value).startswith("P") for r in range(2, projects.max_row + 1))
    assert "本月提醒" in book.sheetnames


def test_sent_back_untouched_it_changes_nothing(prefilled):
    root, path = prefilled
    book = load(path)
    book.save(path)  # saved once by a spreadsheet tool, nothing edited
    result = send(root, path)
    assert result.exit_code == 0 and "已归档" in result.output, result.output
    with archive_of(root) as archive:
        assert archive.history(period=PERIOD).empty
        sub = archive.submissions(PERIOD).iloc[-1]
        assert sub["status"] == "accepted" and bool(sub["no_change"])
        # A complaint filed before its customer was renamed names it by the former name: a known customer.
        assert [f for f in sub["findings"] if f["code"] == "unknown-customer"] == []
    status = crm(root, "status", "--period", PERIOD)
    assert "无变化" in status.output


def test_a_cover_whose_filler_was_cleared_is_returned_at_that_cell(prefilled):
    """The template's note beside a blank field (“必填”) was read as its value: a blank 填报人 passed."""
    root, path = prefilled
    book = load(path)
    book["封面"]["B3"].value = None
    book.save(path)
    result = send(root, path)
    assert "封面 B3：“填报人”为必填项" in result.output, result.output


@pytest.mark.skipif(shutil.which("soffice") is None and shutil.which("libreoffice") is None,
                    reason="LibreOffice is not installed")
def test_a_libreoffice_round_trip_keeps_the_numbers(prefilled, tmp_path):
    root, path = prefilled
    office = shutil.which("soffice") or shutil.which("libreoffice")
    out = tmp_path / "lo"
    out.mkdir()
    copy = tmp_path / "in.xlsx"
    shutil.copy2(path, copy)
    done = subprocess.run([office, "--headless", "--norestore", f"-env:UserInstallation=file://{tmp_path}/profile",
                           "--convert-to", "xlsx:Calc MS Excel 2007 XML", "--outdir", str(out), str(copy)],
                          capture_output=True, text=True, timeout=180)
    saved = out / "in.xlsx"
    assert saved.exists(), done.stderr
    book = load(saved)
    assert book["客户信息"]["A2"].value.startswith("K")
    result = send(root, saved, path.name)
    assert result.exit_code == 0 and "已归档" in result.output, result.output
    with archive_of(root) as archive:
        assert archive.history(period=PERIOD).empty


def test_one_edited_cell_is_one_change_on_that_customer(prefilled):
    root, path = prefilled
    book = load(path)
    ws = book["客户信息"]
    number = ws.cell(3, 1).value
    ws.cell(3, column(ws, "联系电话")).value = "13700001111"
    book.save(path)
    assert send(root, path).exit_code == 0
    with archive_of(root) as archive:
        changes = archive.history(period=PERIOD)
        assert len(changes) == 1 and str(changes["new_value"].iloc[0]) == "13700001111"
        cid = archive.conn.execute("SELECT customer_id FROM history WHERE period = ?", (PERIOD,)).fetchone()[0]
    assert f"K{cid:06d}" == number


def test_a_renamed_customer_stays_the_same_customer(prefilled):
    root, path = prefilled
    book = load(path)
    ws = book["客户信息"]
    number, old = ws.cell(2, 1).value, ws.cell(2, column(ws, "客户单位名称")).value
    ws.cell(2, column(ws, "客户单位名称")).value = "上海新名称置业有限公司"
    book.save(path)
    with archive_of(root) as archive:
        customers, conflicts = archive.conn.execute("SELECT COUNT(*) FROM customers").fetchone()[0], len(archive.conflicts())
    assert send(root, path).exit_code == 0
    with archive_of(root) as archive:
        changes = archive.history(period=PERIOD)
        assert len(changes) == 1 and changes["old_value"].iloc[0] == old
        assert changes["new_value"].iloc[0] == "上海新名称置业有限公司"
        assert archive.conn.execute("SELECT COUNT(*) FROM customers").fetchone()[0] == customers
        assert len(archive.conflicts()) == conflicts  # no look-alike or same-code conflict
        name = archive.snapshot()["customers"].set_index("customer_id").loc[int(number[1:]), "name"]
    assert name == "上海新名称置业有限公司"


def test_a_number_pasted_onto_another_row_is_an_error_at_that_cell(prefilled):
    root, path = prefilled
    book = load(path)
    ws = book["客户信息"]
    ws.protection.sheet = False  # what a clerk who unprotects the sheet could do
    ws.cell(4, 1).value = ws.cell(2, 1).value
    book.save(path)
    result = send(root, path)
    assert "已退回" in result.output
    with archive_of(root) as archive:
        findings = archive.submissions(PERIOD).iloc[-1]["findings"]
    assert [(f["code"], f["cell"]) for f in findings if f["severity"] == "error"] == [
        ("duplicate-archive-no", "客户信息!A4")]


@pytest.mark.parametrize("workers", [False, True])
def test_a_number_of_another_branch_is_an_error(prefilled, workers, monkeypatch):
    """``workers``: two files ahead of it in the inbox, and the validation workers started for three files, so
    that it is validated by a worker, which reads the archive numbers from the archive file itself."""
    root, path = prefilled
    if workers:
        from pipeline.intake import worker
        monkeypatch.setattr(worker, "PARALLEL_FROM", 3)
        for n in (1, 2):
            shutil.copy2(path, root / "inbox" / f"{n}_{path.name}")
    with archive_of(root) as archive:
        links = archive.snapshot()["customer_branches"]
    foreign = set(links.loc[links["branch"] == "华南分公司", "customer_id"]) - set(
        links.loc[links["branch"] == BRANCH, "customer_id"])
    book = load(path)
    ws = book["客户信息"]
    ws.protection.sheet = False
    ws.cell(2, 1).value = f"K{min(foreign):06d}"
    ws.cell(3, 1).value = "K999999"
    book.save(path)
    send(root, path)
    with archive_of(root) as archive:
        findings = archive.submissions(PERIOD).iloc[-1]["findings"]
        assert archive.submissions(PERIOD)["file_name"].iloc[-1] == path.name
    errors = {(f["code"], f["cell"]) for f in findings if f["severity"] == "error"}
    assert errors == {("foreign-archive-no", "客户信息!A2"), ("unknown-archive-no", "客户信息!A3")}
    message = next(f["message"] for f in findings if f["code"] == "foreign-archive-no")
    assert "不属于本单位" in message


def test_a_new_row_without_a_number_is_a_new_customer(prefilled):
    root, path = prefilled
    book = load(path)
    ws = book["客户信息"]
    template = {ws.cell(1, c).value: ws.cell(2, c).value for c in range(1, ws.max_column + 1)}
    row = ws.max_row + 1
    for c in range(2, ws.max_column + 1):
        header = ws.cell(1, c).value
        ws.cell(row, c).value = template[header]
    ws.cell(row, column(ws, "客户单位名称")).value = "杭州全新客户发展有限公司"
    ws.cell(row, column(ws, "统一社会信用代码")).value = None
    book.save(path)
    assert send(root, path).exit_code == 0
    with archive_of(root) as archive:
        new = archive.snapshot()["customers"]
        assert (new["name"] == "杭州全新客户发展有限公司").sum() == 1
        assert (new["first_period"] == PERIOD).sum() == 1


def test_its_reminders_point_at_this_workbook_s_cells(prefilled):
    """A customer still without a credit code is named, and its cell is the blank code of that customer's row in
    this workbook (not a cell of last month's file, whose rows stood elsewhere)."""
    root, path = prefilled
    book = load(path)
    customers = book["客户信息"]
    name_col, code_col = column(customers, "客户单位名称"), column(customers, "统一社会信用代码")
    blank = {customers.cell(r, name_col).value: f"客户信息 {customers.cell(r, code_col).column_letter}{r}"
             for r in range(2, customers.max_row + 1) if not customers.cell(r, code_col).value}
    rows = [[c.value for c in row] for row in book["本月提醒"].iter_rows()]
    header = next(i for i, row in enumerate(rows) if "提醒事项" in row)
    at = {key: rows[header].index(text) for key, text in (("reminder", "提醒事项"), ("name", "客户单位名称"),
                                                           ("detail", "说明"))}
    missing = {row[at["name"]]: row[at["detail"]].split("：")[0] for row in rows[header + 1:]
               if row[at["reminder"]] == "待补统一社会信用代码"}
    assert blank and missing == blank
    overdue = [row[at["detail"]] for row in rows[header + 1:] if "已超时" in str(row[at["reminder"]])]
    assert overdue and all(re.search(r"已超过时限 \d+ (天|小时)", text) for text in overdue), overdue
    assert not [text for text in overdue if re.search(r"\d{3,} 小时", text)]  # long waits in days, not 5607 hours


def test_a_project_department_outside_the_branch_s_list_is_pointed_at(prefilled):
    """With the branch's project departments listed in crm.toml, a pre-filled project under another one is named,
    at its 项目部 cell in this workbook."""
    root, _ = prefilled
    book = load(next((root / "output" / PERIOD / "预填模板").glob("*.xlsx")))
    projects = book["合作项目"]
    at = column(projects, "所属项目部")
    listed = sorted({projects.cell(r, at).value for r in range(2, projects.max_row + 1)} - {None})
    assert len(listed) >= 2
    config = root / "crm.toml"
    config.write_text(config.read_text(encoding="utf-8").replace(
        "[roster]", f'[roster]\ndepartments = {{ "{BRANCH}" = ["{listed[0]}"] }}', 1), encoding="utf-8")
    result = crm(root, "template", "--for", BRANCH, "--period", PERIOD)
    assert result.exit_code == 0, result.output
    book = load(next((root / "output" / PERIOD / "预填模板").glob("*.xlsx")))
    projects = book["合作项目"]
    outside = sorted(f"合作项目 {projects.cell(r, at).column_letter}{r}" for r in range(2, projects.max_row + 1)
                     if projects.cell(r, at).value not in (None, listed[0]))
    rows = [[c.value for c in row] for row in book["本月提醒"].iter_rows()]
    pointed = sorted(row[2].split("：")[0] for row in rows if row[0] == "项目部待核对")
    assert outside and pointed == outside


def test_a_name_adopted_in_review_is_not_undone_by_a_pre_filled_workbook_sent_before_it(tmp_path):
    """华东 reported a new name under the customer's code in November (the archive keeps the old one until review);
    its pre-filled December workbook, sent back untouched, names the customer as the archive did. The department
    then adopts the new name: the archive, replayed, keeps it (the untouched row renamed it back, and the pair came
    back to the review reversed)."""
    from builders import example_row, write_submission
    from pipeline.archive.workspace import Workspace
    ws = Workspace(tmp_path / "ws")
    ws.init()
    old, new = example_row("customers")["name"], "上海浦江新城建设集团有限公司"
    write_submission(ws.inbox / "华东分公司_2026-10_x.xlsx", period="2026-10", customers=[example_row("customers")])
    assert crm(ws.root, "ingest", "--received-at", "2026-10-20T10:00").exit_code == 0
    write_submission(ws.inbox / "华东分公司_2026-11_x.xlsx", period="2026-11",
                     customers=[example_row("customers", name=new)])
    assert crm(ws.root, "ingest", "--received-at", "2026-11-20T10:00").exit_code == 0
    prefilled = prefill_for(ws.root, "2026-12")
    customers = load(prefilled)["客户信息"]
    assert customers.cell(2, column(customers, "客户单位名称")).value == old  # the archive's name, before review
    shutil.copy2(prefilled, ws.inbox / prefilled.name)
    assert crm(ws.root, "ingest", "--received-at", "2026-12-20T10:00").exit_code == 0
    review = ws.output / "疑似重复客户.xlsx"
    assert crm(ws.root, "review", "export").exit_code == 0
    book = load(review)
    sheet = book["疑似重复客户"]
    header = [c.value for c in sheet[3]]
    sheet.cell(4, header.index("处理决定") + 1, "合并")
    sheet.cell(4, header.index("保留记录") + 1, "右")
    book.save(review)
    result = crm(ws.root, "review", "apply", review)
    assert result.exit_code == 0 and "采用新名称 1 家" in result.output, result.output
    with archive_of(ws.root) as archive:
        assert archive.snapshot()["customers"]["name"].tolist() == [new]
        assert archive.conflicts().empty


def _shared_customer_workspace(tmp_path):
    """华东 reports a strategic customer in July; 华南, reporting it too, says it is not strategic."""
    from builders import example_row, write_submission
    from pipeline.archive.workspace import Workspace
    ws = Workspace(tmp_path / "ws")
    ws.init()
    write_submission(ws.inbox / "华东分公司_2026-07_x.xlsx", period="2026-07", customers=[example_row(
        "customers", strategic="是", specialist="HD专员", liaison_leader="HD领导")])
    assert crm(ws.root, "ingest", "--received-at", "2026-07-20T10:00").exit_code == 0
    write_submission(ws.inbox / "华南分公司_2026-07_x.xlsx", branch="华南分公司", period="2026-07",
                     customers=[example_row("customers", strategic="否", specialist=None, liaison_leader=None)])
    assert crm(ws.root, "ingest", "--received-at", "2026-07-21T10:00").exit_code == 0
    with archive_of(ws.root) as archive:
        assert archive.snapshot()["customers"]["strategic"].tolist() == ["否"]
    return ws


def _strategic_cell(book):
    customers = book["客户信息"]
    return customers.cell(2, column(customers, "是否战略客户"))


def _type_strategic_back(ws, period: str, received: str) -> None:
    """华东's workbook for ``period`` shows 否 (华南's word); 华东 types 是 back and sends it."""
    prefilled = prefill_for(ws.root, period)
    book = load(prefilled)
    assert _strategic_cell(book).value == "否"
    _strategic_cell(book).value = "是"
    book.save(ws.inbox / prefilled.name)
    assert "已归档" in crm(ws.root, "ingest", "--received-at", received).output


def test_a_value_typed_back_over_another_branch_s_change_in_the_pre_filled_workbook_counts(tmp_path):
    """华东's August workbook shows 否 (华南's word); 华东 types 是 back: a change of its own, applied and recorded
    (compared with its own July row, 是 again looked like nothing new, and the customer stayed 否 for good)."""
    ws = _shared_customer_workspace(tmp_path)
    _type_strategic_back(ws, "2026-08", "2026-08-20T10:00")
    with archive_of(ws.root) as archive:
        assert archive.snapshot()["customers"]["strategic"].tolist() == ["是"]
        changes = archive.history(period="2026-08")
        assert [(c.branch, c.field, c.new_value) for c in changes.itertuples() if c.field == "是否战略客户"] == [
            (BRANCH, "是否战略客户", "是")]
    assert crm(ws.root, "archive", "rebuild").exit_code == 0  # a rebuild reads the mark again: the same archive
    with archive_of(ws.root) as archive:
        assert archive.snapshot()["customers"]["strategic"].tolist() == ["是"]


def test_an_old_pre_filled_workbook_sent_again_does_not_undo_another_branch_s_change(tmp_path):
    """华东 sends its August workbook again as September's, untouched: it was made for August, so its rows are
    compared with 华东's own last rows, and 华南's September change stands."""
    from builders import example_row, write_submission
    ws = _shared_customer_workspace(tmp_path)
    prefilled = prefill_for(ws.root, "2026-08")
    book = load(prefilled)
    book.save(ws.inbox / prefilled.name)
    assert "已归档" in crm(ws.root, "ingest", "--received-at", "2026-08-20T10:00").output
    write_submission(ws.inbox / "华南分公司_2026-09_x.xlsx", branch="华南分公司", period="2026-09",
                     customers=[example_row("customers", strategic="否", integrity="一般")])
    assert crm(ws.root, "ingest", "--received-at", "2026-09-10T10:00").exit_code == 0
    book = load(prefilled)
    book["封面"]["B2"].value = "2026-09"
    book.save(ws.inbox / "华东分公司_2026-09_客户信息统计表.xlsx")
    assert "已归档" in crm(ws.root, "ingest", "--received-at", "2026-09-20T10:00").output
    with archive_of(ws.root) as archive:
        assert archive.snapshot()["customers"]["integrity"].tolist() == ["一般"]


def test_typed_back_in_a_second_pre_filled_workbook_whose_row_repeats_the_first(tmp_path):
    """华东 sent July's pre-filled workbook as it was (是); 华南 then said 否; in August's workbook (showing 否) 华东
    types 是 back, so the row is exactly its July row: the row is not skipped as a repeat, and 是 counts."""
    from builders import example_row, write_submission
    from pipeline.archive.workspace import Workspace
    ws = Workspace(tmp_path / "ws")
    ws.init()
    write_submission(ws.inbox / "华东分公司_2026-06_x.xlsx", period="2026-06", customers=[example_row(
        "customers", strategic="是", specialist="HD专员", liaison_leader="HD领导")])
    assert crm(ws.root, "ingest", "--received-at", "2026-06-20T10:00").exit_code == 0
    july = prefill_for(ws.root, "2026-07")
    shutil.copy2(july, ws.inbox / july.name)
    assert "已归档" in crm(ws.root, "ingest", "--received-at", "2026-07-20T10:00").output
    write_submission(ws.inbox / "华南分公司_2026-07_x.xlsx", branch="华南分公司", period="2026-07",
                     customers=[example_row("customers", strategic="否", specialist=None, liaison_leader=None)])
    assert crm(ws.root, "ingest", "--received-at", "2026-07-21T10:00").exit_code == 0
    _type_strategic_back(ws, "2026-08", "2026-08-20T10:00")
    with archive_of(ws.root) as archive:
        assert archive.snapshot()["customers"]["strategic"].tolist() == ["是"]


def test_a_project_another_branch_reported_first_is_in_the_pre_filled_workbook_of_each_that_reports_it(tmp_path):
    """One contract number sent by 华南 first and by 华东 too: both pre-filled workbooks list it (华东's had none of
    the projects another branch had sent first, and its clerk could no longer see or update them)."""
    from builders import example_row, write_submission
    from pipeline.archive.workspace import Workspace
    ws = Workspace(tmp_path / "ws")
    ws.init()
    project = example_row("projects", status="在建", completed_on=None)
    for n, branch in enumerate(("华南分公司", BRANCH)):
        write_submission(ws.inbox / f"{branch}_2026-07_x.xlsx", branch=branch, period="2026-07",
                         customers=[example_row("customers")], projects=[project])
        assert crm(ws.root, "ingest", "--received-at", f"2026-07-2{n}T10:00").exit_code == 0
    for branch in ("华南分公司", BRANCH):
        assert crm(ws.root, "template", "--for", branch, "--period", "2026-08").exit_code == 0
        sheet = load(names.prefilled(ws.root / "output", "2026-08", branch))["合作项目"]
        contracts = [row[column(sheet, "合同编号") - 1] for row in sheet.iter_rows(min_row=2, values_only=True)
                     if row[column(sheet, "合同编号") - 1]]
        assert contracts == [project["contract_no"]], branch
        uscc = sheet.cell(2, column(sheet, "统一社会信用代码")).value
        assert uscc == example_row("customers")["uscc"], branch
    # sent back as it was, each is accepted: the project's number is each reporting branch's
    for n, branch in enumerate(("华南分公司", BRANCH)):
        path = names.prefilled(ws.root / "output", "2026-08", branch)
        shutil.copy2(path, ws.inbox / path.name)
        result = crm(ws.root, "ingest", "--received-at", f"2026-08-2{n}T10:00")
        assert "已归档" in result.output and "档案编号" not in result.output, result.output
