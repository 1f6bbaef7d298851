"""The template and the feedback workbook, pinned by golden layouts (values and formats, not bytes)."""
from __future__ import annotations

from builders import example_row, write_submission
from golden import check_golden
from pipeline.config import load_config
from pipeline.intake.feedback import write_feedback
from pipeline.intake.template import write_template
from pipeline.intake.validation import validate_file


def test_template(tmp_path):
    check_golden(write_template(tmp_path / "模板.xlsx"), "template", rows=40)


def test_feedback_workbook(tmp_path):
    path = write_submission(tmp_path / "华东分公司_2026-10_客户信息统计表.xlsx",
                            customers=[example_row("customers", phone="12345", nature="民营"),
                                       example_row("customers", name="乙公司", uscc=None)],
                            projects=[example_row("projects", status="中标", amount=None)])
    result = validate_file(path, load_config(None))
    assert result.status == "rejected"
    check_golden(write_feedback(path, result.findings, tmp_path / "out"), "feedback_workbook")


def test_the_instructions_show_every_allowed_value(tmp_path):
    """A list of allowed values (客户阶段's eight stages) wraps in its cell: the row is made tall enough for all of
    it, since neither Excel nor LibreOffice grows a row of a written file (it was cut after "投")."""
    import openpyxl
    from pipeline.excel import LINE_HEIGHT, WRAP_FILL
    from pipeline.widths import display_width
    from schemas.columns import INSTRUCTIONS_SHEET
    ws = openpyxl.load_workbook(write_template(tmp_path / "t.xlsx", load_config(None)))[INSTRUCTIONS_SHEET]
    width = ws.column_dimensions["C"].width
    long = [cell for cell in ws["C"] if isinstance(cell.value, str) and display_width(cell.value) > width * WRAP_FILL]
    assert any("投标客户" in cell.value for cell in long)
    for cell in long:
        lines = -(-display_width(cell.value) // (width * WRAP_FILL))
        assert (ws.row_dimensions[cell.row].height or 0) >= lines * LINE_HEIGHT, (cell.coordinate, cell.value)
