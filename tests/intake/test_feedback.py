"""The feedback workbook: marked cells, comments, the 校验结果 sheet, unreadable inputs."""
from __future__ import annotations

import os
import re
import time
import zipfile

import openpyxl
import pytest
import xlsxwriter
from builders import OPTIONS, cover_grid, write_grid
from openpyxl.comments import Comment
from openpyxl.formatting.rule import CellIsRule
from openpyxl.styles import PatternFill
from openpyxl.worksheet.datavalidation import DataValidation

from pipeline.intake.feedback import RESULT_SHEET, write_feedback
from pipeline.findings import make_finding
from schemas.columns import COVER, CUSTOMERS

NAME, NATURE = CUSTOMERS.column("name").header, CUSTOMERS.column("nature").header
USCC, INDUSTRY = CUSTOMERS.column("uscc").header, CUSTOMERS.column("industry").header
FILE = "华东分公司_2026-10.xlsx"
HEADERS = [c.header for c in CUSTOMERS.columns]


def customer_rows(n: int = 4) -> list[list]:
    return [HEADERS] + [[i, f"客户{i}有限公司", "", "社会类", "建筑", "签约客户"]
                        for i in range(1, n + 1)]


@pytest.fixture
def submission(tmp_path):
    return write_grid(tmp_path / FILE, {COVER.name: cover_grid(), CUSTOMERS.name: customer_rows(),
                                        "附表 说明-1": [["说明"], ["无"]]})


def colour(cell) -> str:
    return (cell.fill.fgColor.rgb or "")[-6:] if cell.fill.fill_type == "solid" else ""


def table(ws) -> list[list]:
    """The 校验结果 rows below the header, as values."""
    header = [c.value for c in ws[4]]
    assert header == ["序号", "严重程度", "工作表", "单元格", "行号", "列名", "当前值", "问题说明"]
    return [[c.value for c in row] for row in ws.iter_rows(min_row=5)]


def test_marks_cells_comments_and_lists_every_finding(submission, tmp_path):
    before, mtime = submission.read_bytes(), os.stat(submission).st_mtime_ns
    sheet = CUSTOMERS.name
    findings = [
        make_finding("missing-uscc", FILE, sheet=sheet, row=3, col_letter="C"),
        make_finding("not-allowed", FILE, sheet=sheet, row=5, col_letter="D", column=NATURE,
                     value="民营", allowed=CUSTOMERS.column("nature").allowed),
        make_finding("required", FILE, sheet=sheet, row=5, col_letter="C", column=USCC),
        make_finding("missing-uscc", FILE, sheet=sheet, row=5, col_letter="C"),  # same cell
        make_finding("duplicate-row", FILE, sheet=sheet, row=4, column=NAME, value="客户3有限公司",
                     detail=2),  # a row, no cell
        make_finding("missing-branch", FILE),  # the file as a whole
    ]
    out = write_feedback(submission, findings, tmp_path / "out")

    assert out == tmp_path / "out" / "华东分公司_2026-10_校验结果.xlsx"
    assert submission.read_bytes() == before and os.stat(submission).st_mtime_ns == mtime
    book = openpyxl.load_workbook(out)
    assert book.sheetnames == [RESULT_SHEET, COVER.name, sheet, "附表 说明-1"]
    assert book.active.title == RESULT_SHEET
    ws = book[sheet]
    # the data survives, the flagged cells carry colour and comment
    assert ws["B2"].value == "客户1有限公司" and ws["D5"].value == "社会类"
    assert colour(ws["C3"]) == "FFEB9C" and colour(ws["D5"]) == "FFC7CE"
    assert colour(ws["C5"]) == "FFC7CE"  # an error wins over a warning
    assert colour(ws["A4"]) == "FFC7CE"  # the row's first cell
    assert colour(ws["B2"]) == "" and ws["B2"].comment is None
    assert ws["D5"].comment.author == "市场营销部" and "民营" in ws["D5"].comment.text
    both = ws["C5"].comment.text
    assert both.startswith("1. ") and "\n2. " in both and "必填" in both and "信用代码" in both
    with zipfile.ZipFile(out) as z:  # openpyxl does not read comment sizes back: check the VML
        vml = "".join(z.read(n).decode() for n in z.namelist() if n.endswith(".vml"))
    sizes = [(int(w), int(h)) for w, h in re.findall(r"width:(\d+)px;height:(\d+)px", vml)]
    assert len(sizes) == 4 and all(w >= 300 for w, _ in sizes)
    assert max(h for _, h in sizes) > min(h for _, h in sizes)  # two messages need more room

    result = book[RESULT_SHEET]
    title = result["A1"].value
    assert FILE in title and "退回" in title and "错误 4 个" in title and "提示 2 个" in title
    rows = table(result)
    assert [r[1] for r in rows] == ["错误"] * 4 + ["提示"] * 2
    assert [(r[2], r[3], r[4]) for r in rows] == [
        ("—", "—", None), (sheet, "A4", 4), (sheet, "C5", 5), (sheet, "D5", 5),
        (sheet, "C3", 3), (sheet, "C5", 5)]
    assert [r[0] for r in rows] == [1, 2, 3, 4, 5, 6]
    assert rows[3][5:7] == [NATURE, "民营"] and "政府类" in rows[3][7]
    links = {row[3].value: row[3].hyperlink.location for row in result.iter_rows(min_row=5)
             if row[3].hyperlink}
    assert links == {"A4": f"'{sheet}'!A4", "C5": f"'{sheet}'!C5", "D5": f"'{sheet}'!D5",
                     "C3": f"'{sheet}'!C3"}
    assert result.freeze_panes == "A5" and result.auto_filter.ref == "A4:H10"
    assert result.page_setup.orientation == "landscape" and result.page_setup.fitToWidth == 1
    assert result["H5"].alignment.wrap_text
    assert result.column_dimensions["H"].width > result.column_dimensions["A"].width


def test_cjk_widths_count_double(submission, tmp_path):
    long_message = make_finding("not-allowed", FILE, sheet=CUSTOMERS.name, row=2, col_letter="D",
                                column=NATURE, value="一二三四五六七八九十一二三", allowed=("甲",))
    book = openpyxl.load_workbook(write_feedback(submission, [long_message], tmp_path))
    widths = book[RESULT_SHEET].column_dimensions
    assert widths["G"].width >= 26  # 13 Chinese characters → at least 26 narrow ones
    assert widths["H"].width <= 70


def test_a_message_longer_than_its_column_gets_the_lines_it_needs(submission, tmp_path):
    """A wrapped 问题说明 wider than the column's 70 characters: its row is made tall enough to show every line (a
    renderer does not grow a row openpyxl wrote; the second line was cut off)."""
    from pipeline.widths import display_width
    long = make_finding("bad-uscc", FILE, sheet=CUSTOMERS.name, row=2, col_letter="C", column="统一社会信用代码",
                        value="9151010784F67ARE0X", detail="中的组织机构代码（第 9–17 位）校验码不正确（GB 11714-1997）")
    short = make_finding("missing-uscc", FILE, sheet=CUSTOMERS.name, row=3, col_letter="C", column="统一社会信用代码")
    result = openpyxl.load_workbook(write_feedback(submission, [long, short], tmp_path))[RESULT_SHEET]
    assert display_width(result["H5"].value) > result.column_dimensions["H"].width
    assert result.row_dimensions[5].height >= 2 * 13.5 and result.row_dimensions[6].height is None


def test_sheet_titles_needing_quotes_link_correctly(submission, tmp_path):
    odd = "附表 说明-1"
    findings = [make_finding("required", FILE, sheet=odd, row=2, col_letter="A", column="说明"),
                make_finding("missing-column", FILE, sheet=CUSTOMERS.name, column=NAME)]
    book = openpyxl.load_workbook(write_feedback(submission, findings, tmp_path))
    result = book[RESULT_SHEET]
    assert result["D6"].hyperlink.location == f"'{odd}'!A2"
    assert colour(book[odd]["A2"]) == "FFC7CE"
    # a sheet-level finding (sheets in workbook order) links the sheet itself, from 工作表
    assert result["C5"].value == CUSTOMERS.name and result["D5"].value == "—"
    assert result["C5"].hyperlink.location == f"'{CUSTOMERS.name}'!A1"


def test_a_cell_reference_splits_on_the_last_bang(tmp_path):
    title = "客户!信息"
    path = write_grid(tmp_path / "奇怪.xlsx", {title: customer_rows(2)})
    finding = make_finding("required", "奇怪.xlsx", sheet=title, row=3, col_letter="B", column=NAME)
    assert finding.cell == "客户!信息!B3"
    book = openpyxl.load_workbook(write_feedback(path, [finding], tmp_path / "out"))
    assert colour(book[title]["B3"]) == "FFC7CE"
    assert book[RESULT_SHEET]["D5"].hyperlink.location == f"'{title}'!B3"


def test_existing_validations_formats_and_comments_survive(tmp_path):
    path = tmp_path / "带批注.xlsx"
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = CUSTOMERS.name
    for row in customer_rows(3):
        ws.append(row)
    rule = DataValidation(type="list", formula1='"政府类,社会类"', allow_blank=True)
    ws.add_data_validation(rule)
    rule.add("D2:D100")
    green = PatternFill("solid", fgColor="00FF00")
    ws.conditional_formatting.add("E2:E100",
                                  CellIsRule(operator="equal", formula=['"建筑"'], fill=green))
    ws["D3"].comment = Comment("请选择下拉值", "张明")
    ws["B2"].comment = Comment("旧的校验提示", "市场营销部")  # from an earlier feedback file
    book.save(path)

    findings = [make_finding("not-allowed", path.name, sheet=CUSTOMERS.name, row=3, col_letter="D",
                             column=NATURE, value="民营", allowed=("政府类",)),
                make_finding("required", path.name, sheet=CUSTOMERS.name, row=2, col_letter="B",
                             column=NAME)]
    out = write_feedback(path, findings, tmp_path / "out")
    ws = openpyxl.load_workbook(out)[CUSTOMERS.name]
    text = ws["D3"].comment.text
    assert text.index("民营") < text.index("请选择下拉值")  # ours first, theirs kept below
    assert "旧的校验提示" not in ws["B2"].comment.text  # our own old note is replaced
    assert ws.data_validations.dataValidation and ws.conditional_formatting


def test_a_merged_cell_is_marked_on_its_top_left(tmp_path):
    path = write_grid(tmp_path / "合并.xlsx", {CUSTOMERS.name: customer_rows(3)},
                      merges={CUSTOMERS.name: [(2, 4, 3, 4, "行业合并")]})  # E3:E4
    finding = make_finding("required", path.name, sheet=CUSTOMERS.name, row=4, col_letter="E",
                           column=INDUSTRY)
    ws = openpyxl.load_workbook(write_feedback(path, [finding], tmp_path / "out"))[CUSTOMERS.name]
    assert colour(ws["E3"]) == "FFC7CE" and "必填" in ws["E3"].comment.text


def test_values_that_look_like_formulas_stay_text(submission, tmp_path):
    finding = make_finding("bad-number", FILE, sheet=CUSTOMERS.name, row=2, col_letter="B",
                           column=NAME, value="=HYPERLINK(\"http://x\")\x07")
    out = write_feedback(submission, [finding], tmp_path / "out")
    with zipfile.ZipFile(out) as z:
        sheet_xml = z.read("xl/worksheets/sheet1.xml").decode()  # 校验结果 is saved first
    assert "<f>" not in sheet_xml
    result = openpyxl.load_workbook(out)[RESULT_SHEET]
    assert result["G5"].value == "=HYPERLINK(\"http://x\")\\x07"  # the control character marked, not lost


@pytest.mark.parametrize("name, content", [
    ("报表.csv", "客户单位名称,客户性质\n甲,乙\n".encode()),
    ("伪装.xlsx", "这不是工作簿".encode()),
    ("旧格式.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 504),
])
def test_unopenable_files_get_the_list_only(tmp_path, name, content):
    path = tmp_path / name
    path.write_bytes(content)
    findings = [make_finding("not-a-workbook", name, detail="无法识别")]
    out = write_feedback(path, findings, tmp_path / "out", file_label="原始名称.xlsx")
    assert out.name == f"{path.stem}_校验结果.xlsx"
    book = openpyxl.load_workbook(out)
    assert book.sheetnames == [RESULT_SHEET]
    assert "原始名称.xlsx" in book[RESULT_SHEET]["A1"].value
    assert table(book[RESULT_SHEET])[0][1] == "错误"
    assert path.read_bytes() == content


def test_a_refused_file_is_never_opened(submission, tmp_path, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("the original must not be opened")
    monkeypatch.setattr(openpyxl, "load_workbook", refuse)
    monkeypatch.setattr(zipfile, "is_zipfile", refuse)
    findings = [make_finding("unsafe-workbook", FILE, detail="压缩比异常")]
    out = write_feedback(submission, findings, tmp_path / "out", readable=False)
    monkeypatch.undo()
    book = openpyxl.load_workbook(out)
    assert book.sheetnames == [RESULT_SHEET]
    assert "退回" in book[RESULT_SHEET]["A1"].value


def test_xlsm_becomes_a_plain_xlsx(tmp_path):
    path = tmp_path / "带宏.xlsm"
    book = xlsxwriter.Workbook(str(path), OPTIONS)
    ws = book.add_worksheet(CUSTOMERS.name)
    for r, row in enumerate(customer_rows(2)):
        ws.write_row(r, 0, row)
    book.add_vba_project(_fake_vba(tmp_path))
    book.close()
    with zipfile.ZipFile(path) as z:
        assert "xl/vbaProject.bin" in z.namelist()
    finding = make_finding("macro-workbook", path.name)
    out = write_feedback(path, [finding], tmp_path / "out")
    assert out.suffix == ".xlsx"
    with zipfile.ZipFile(out) as z:
        assert not any("vba" in n.lower() for n in z.namelist())
        assert b"macroEnabled" not in z.read("[Content_Types].xml")
    book = openpyxl.load_workbook(out)
    assert book.sheetnames == [RESULT_SHEET, CUSTOMERS.name]
    title = book[RESULT_SHEET]["A1"].value
    assert "通过" in title and "提示 1 个" in title


def _fake_vba(tmp_path):
    """xlsxwriter only copies the file in; any bytes do for a package-level test."""
    vba = tmp_path / "vbaProject.bin"
    vba.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 1024)
    return str(vba)


def test_a_resubmitted_feedback_file_gets_one_result_sheet(submission, tmp_path):
    finding = make_finding("required", FILE, sheet=CUSTOMERS.name, row=2, col_letter="B",
                           column=NAME)
    first = write_feedback(submission, [finding], tmp_path / "a")
    second = write_feedback(first, [finding], tmp_path / "b")
    assert openpyxl.load_workbook(second).sheetnames.count(RESULT_SHEET) == 1


def test_no_findings_says_passed(submission, tmp_path):
    book = openpyxl.load_workbook(write_feedback(submission, [], tmp_path))
    title = book[RESULT_SHEET]["A1"].value
    assert "通过" in title and "错误 0 个" in title
    assert table(book[RESULT_SHEET]) == []


def test_five_thousand_rows_are_quick(tmp_path):
    path = tmp_path / "大表.xlsx"
    book = xlsxwriter.Workbook(str(path), OPTIONS)
    ws = book.add_worksheet(CUSTOMERS.name)
    ws.write_row(0, 0, HEADERS)
    for r in range(1, 5001):
        ws.write_row(r, 0, [r, f"客户{r}有限公司", f"91310000MA1FL{r:05d}", "社会类", "建筑",
                            "签约客户", "否", "上海市浦东新区世纪大道100号", "华东", "良好"])
    book.close()
    findings = [make_finding("missing-uscc", path.name, sheet=CUSTOMERS.name, row=r, col_letter="C")
                for r in range(2, 5002, 2)]
    start = time.perf_counter()
    out = write_feedback(path, findings, tmp_path / "out")
    elapsed = time.perf_counter() - start
    assert elapsed < 15, elapsed
    ws = openpyxl.load_workbook(out, read_only=True)[RESULT_SHEET]
    assert ws.max_row == 4 + len(findings)
