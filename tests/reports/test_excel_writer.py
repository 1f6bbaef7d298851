"""The fast column writer (`excel.Sheet.put_column`) writes what xlsxwriter writes cell by cell."""
from __future__ import annotations

import datetime as dt
import re
import warnings
import zipfile
import zlib

import numpy as np
import openpyxl
import pandas as pd
import pytest

from pipeline import excel


def _frame() -> pd.DataFrame:
    return pd.DataFrame({
        "name": ["甲&<b>公司", None, "很长的单位名称" * 8, "=SUM(A1)"],
        "amount": [1.5, np.nan, np.inf, 2.0],
        "count": [1, 2, 3, 4],
        "when": pd.to_datetime(["2026-01-02", None, "2026-03-04 10:30", "2026-05-06"], format="mixed"),
        "mixed": [True, 1, "a", dt.date(2026, 1, 1)],
    })


def _write(path, *, fast: bool, monkeypatch) -> None:
    if not fast:
        monkeypatch.setattr(excel.Sheet, "put_column", lambda *args, **kwargs: False)
    book = excel.new_workbook(path)
    styles = excel.Styles(book)
    ws = book.add_worksheet("表")
    df = _frame()
    excel.write_frame(ws, df, styles=styles, fills=[None, excel.ERROR_FILL, None, excel.OK_FILL], max_width=20)
    excel.write_frame(ws, df, styles=styles, start_row=8, start_col=2)  # a second table, overlapping columns
    excel.write_frame(ws, df[["name"]], styles=styles, start_row=1, start_col=8)  # beside the first
    ws.write_string(10, 3, "后写的格")  # a cell written afterwards wins
    book.close()
    monkeypatch.undo()


def _cells(path) -> dict:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        book = openpyxl.load_workbook(path)
    ws = book["表"]
    return {cell.coordinate: (cell.value, cell.data_type, cell.number_format, cell.font.b, cell.fill.fgColor.rgb,
                              cell.alignment.wrap_text, cell.border.left.style)
            for row in ws.iter_rows() for cell in row if cell.has_style or cell.value is not None}


def _rows(path) -> list[str]:
    with zipfile.ZipFile(path) as z:
        return re.findall(r"<row [^>]*>", z.read("xl/worksheets/sheet1.xml").decode())


@pytest.mark.parametrize("in_line", [excel.Sheet.IN_LINE_FROM, 1])  # texts in the shared table, or in line
@pytest.mark.parametrize("window", [excel.Sheet.WINDOW, 2, 3])  # rows made at a time: whole tables, or pieces
def test_put_columns_write_the_same_cells_as_xlsxwriter(tmp_path, monkeypatch, window, in_line):
    monkeypatch.setattr(excel.Sheet, "WINDOW", window)
    monkeypatch.setattr(excel.Sheet, "IN_LINE_FROM", in_line)
    _write(tmp_path / "fast.xlsx", fast=True, monkeypatch=monkeypatch)
    _write(tmp_path / "slow.xlsx", fast=False, monkeypatch=monkeypatch)
    fast, slow = _cells(tmp_path / "fast.xlsx"), _cells(tmp_path / "slow.xlsx")
    assert fast == slow
    assert fast["A2"][0] == "甲&<b>公司" and fast["A5"][0] == "=SUM(A1)" and fast["A5"][1] == "s"
    assert fast["B4"][0] == "—" and fast["B3"][0] is None and fast["B3"][4] == "FF" + excel.ERROR_FILL[1:]
    assert fast["D4"][0] == dt.datetime(2026, 3, 4, 10, 30)
    assert fast["A4"][5] is True  # the long name wraps
    assert fast["D11"][0] == "后写的格"
    assert _rows(tmp_path / "fast.xlsx") == _rows(tmp_path / "slow.xlsx")  # row spans and heights too


def _sheet_xml(path) -> str:
    with zipfile.ZipFile(path) as archive:
        return archive.read("xl/worksheets/sheet1.xml").decode()


def test_a_long_column_of_different_texts_is_written_in_line_as_xlsxwriter_writes_it(tmp_path, monkeypatch):
    """Texts that do not repeat are written in the cell, not into the shared-string table, in the XML xlsxwriter
    writes in its constant-memory mode; a column that repeats its texts, or holds one only xlsxwriter escapes,
    keeps the table."""
    monkeypatch.setattr(excel.Sheet, "IN_LINE_FROM", 4)
    names = ["甲&<b>公司", " 前有空格", "后有空格 ", "全角　", "=SUM(A1)", "普通客户名称有限公司"]
    columns = {0: names, 1: ["华东分公司"] * 3 + ["华北分公司"] * 3, 2: [*names[:5], "控制\x07字符"]}

    book = excel.new_workbook(tmp_path / "fast.xlsx")
    fmt = book.add_format({"border": 1})
    ws = book.add_worksheet("表")
    for col, values in columns.items():
        assert ws.put_column(0, col, values, fmt)
    book.close()
    slow = excel.new_workbook(tmp_path / "slow.xlsx", constant_memory=True)  # xlsxwriter writes every text in line
    fmt = slow.add_format({"border": 1})
    ws = slow.add_worksheet("表")
    for row, text in enumerate(names):
        ws.write_string(row, 0, text, fmt)
    slow.close()

    def first_column(xml: str) -> list[str]:
        return re.findall(r'<c r="A\d+"[^>]*>.*?</c>', xml)

    fast_xml = _sheet_xml(tmp_path / "fast.xlsx")
    assert first_column(fast_xml) == first_column(_sheet_xml(tmp_path / "slow.xlsx"))
    assert '<c r="A2" s="1" t="inlineStr"><is><t xml:space="preserve"> 前有空格</t></is></c>' in fast_xml
    shared = _shared_strings(tmp_path / "fast.xlsx")
    assert "普通客户名称有限公司" not in shared and "华东分公司" in shared and "控制_x0007_字符" in shared
    values = list(openpyxl.load_workbook(tmp_path / "fast.xlsx")["表"].iter_rows(values_only=True))
    assert [row[:2] for row in values] == list(zip(columns[0], columns[1]))


def test_a_row_with_wrapped_text_is_tall_enough_for_its_lines(tmp_path, monkeypatch):
    _write(tmp_path / "x.xlsx", fast=True, monkeypatch=monkeypatch)
    ws = openpyxl.load_workbook(tmp_path / "x.xlsx")["表"]
    # 56 Chinese characters (112 narrow) in a column capped at 20 take 6 lines, kept when the
    # table beside it wraps the same text in 3 lines of a wider column.
    assert ws.row_dimensions[4].height == excel.LINE_HEIGHT * 6 + 3
    assert ws.row_dimensions[2].height is None  # short texts: the default height
    # the wrapped cells sit in the middle of the tall row, as the row's other cells do
    cells = [cell for cell in ws[4] if cell.value is not None]
    assert any(cell.alignment.wrap_text for cell in cells) and any(not cell.alignment.wrap_text for cell in cells)
    assert {cell.alignment.vertical for cell in cells} == {"center"}


def test_a_column_put_twice_over_the_same_rows_is_refused(tmp_path):
    book = excel.new_workbook(tmp_path / "x.xlsx")
    fmt = book.add_format()
    ws = book.add_worksheet()
    assert ws.put_column(1, 0, ["a", "b"], fmt)
    assert not ws.put_column(2, 0, ["c"], fmt)  # the caller then writes cell by cell
    assert ws.put_column(3, 0, ["d"], fmt)  # below: fine
    ws.write_string(2, 0, "c", fmt)
    book.close()
    values = [row[0] for row in openpyxl.load_workbook(tmp_path / "x.xlsx").active.iter_rows(values_only=True)]
    assert values == [None, "a", "c", "d"]


def test_a_column_past_the_last_row_is_left_to_xlsxwriter(tmp_path):
    book = excel.new_workbook(tmp_path / "x.xlsx")
    ws = book.add_worksheet()
    assert not ws.put_column(1_048_575, 0, ["a", "b"], book.add_format())  # Excel's last row is 1,048,576
    book.close()


def test_a_book_is_deflated_fast_and_leaves_xlsxwriter_as_it_was(tmp_path):
    path = tmp_path / "快.xlsx"
    book = excel.new_workbook(path)
    ws = book.add_worksheet("表")
    for r in range(2000):
        ws.write_string(r, 0, f"第 {r % 7} 类客户")
        ws.write_number(r, 1, r)
    book.close()
    import xlsxwriter.workbook
    assert xlsxwriter.workbook.ZipFile is zipfile.ZipFile  # swapped for that book's close only
    with zipfile.ZipFile(path) as archive:
        sheet = archive.getinfo("xl/worksheets/sheet1.xml")
        assert sheet.compress_type == zipfile.ZIP_DEFLATED
        slow = len(zlib.compress(archive.read(sheet.filename), 6))
        assert sheet.compress_size > slow  # level 1: larger than the default level would make it
    assert openpyxl.load_workbook(path)["表"]["A2"].value == "第 1 类客户"


def _shared_strings(path) -> str:
    with zipfile.ZipFile(path) as archive:
        return archive.read("xl/sharedStrings.xml").decode()


@pytest.mark.parametrize("chunk", [4096, 3])  # all strings at once, or pieces, some of them written by xlsxwriter
@pytest.mark.parametrize("extra, rich", [([], False), ([], True), (["控制\x07字符"], False), (["_x0041_ 字面"], False),
                                         (["非字符\uffff"], False)])
def test_shared_strings_are_written_as_xlsxwriter_writes_them(tmp_path, monkeypatch, extra, rich, chunk):
    """The shared strings written at once (or, with a string only xlsxwriter escapes, by xlsxwriter) are the
    XML xlsxwriter writes string by string."""
    monkeypatch.setattr(excel._SharedStrings, "CHUNK", chunk)
    strings = ["甲&<b>公司", " 前有空格", "后有空格 ", "换行\n", "中间\n换行", "\t制表", 'A"B', "全角　", "",
               "=SUM(A1)", "普通客户名称有限公司", *extra]

    def write(path):
        book = excel.new_workbook(path)
        ws = book.add_worksheet("表")
        for r, text in enumerate(strings):
            ws.write_string(r, 0, text)
        if rich:
            ws.write_rich_string(len(strings), 0, "富", book.add_format({"bold": True}), "文本")
        book.close()

    write(tmp_path / "fast.xlsx")
    monkeypatch.setattr(excel._SharedStrings, "_write_sst_strings", excel.SharedStrings._write_sst_strings)
    write(tmp_path / "slow.xlsx")
    assert _shared_strings(tmp_path / "fast.xlsx") == _shared_strings(tmp_path / "slow.xlsx")
    assert "<si><t>甲&amp;&lt;b&gt;公司</t></si>" in _shared_strings(tmp_path / "fast.xlsx")
    import xlsxwriter.packager
    assert xlsxwriter.packager.SharedStrings is excel.SharedStrings  # swapped for that book's close only


def test_plain_shared_strings_take_the_fast_way(tmp_path, monkeypatch):
    monkeypatch.setattr(excel.SharedStrings, "_write_si", lambda *args: pytest.fail("written string by string"))
    book = excel.new_workbook(tmp_path / "x.xlsx")
    ws = book.add_worksheet("表")
    for r in range(100):
        ws.write_string(r, 0, f" 客户{r} & <公司>")
    book.close()
    assert openpyxl.load_workbook(tmp_path / "x.xlsx")["表"]["A3"].value == " 客户2 & <公司>"


@pytest.mark.parametrize("columns, across", [(6, False), (12, False), (40, True)])
def test_a_table_too_wide_to_read_on_one_page_prints_across_pages_naming_its_rows(tmp_path, columns, across):
    """Fitted to one page, a 40-column table printed at a third of its size (2.5-point text); across pages, each
    repeats the first column (the name of the row) so that a page can be read on its own."""
    frame = pd.DataFrame({f"第{c}列": [f"单位{r}" if c == 0 else r * 1.5 for r in range(30)] for c in range(columns)})
    path = tmp_path / "w.xlsx"
    book = excel.new_workbook(path)
    ws = book.add_worksheet("表")
    excel.write_frame(ws, frame, styles=excel.Styles(book))
    excel.set_print_landscape(ws, repeat_rows=(0, 0))
    widths = list(ws._crm_widths.values())
    book.close()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sheet = openpyxl.load_workbook(path)["表"]
    pages = sheet.page_setup.fitToWidth or 1
    assert (pages > 1) == across and pages == excel.print_pages_wide(widths, widths[0])
    assert sheet.print_title_cols == ("$A:$A" if across else None)
    # across pages, a row's pages print one after the other (not every left half first)
    assert sheet.page_setup.pageOrder == ("overThenDown" if across else None)
    # each page at no less than the smallest readable scale, and no more pages than that takes
    per_page = excel.PAGE_WIDTH_UNITS / excel.MIN_PRINT_SCALE
    assert (sum(widths) - widths[0]) / pages + widths[0] <= per_page
    assert pages == 1 or (sum(widths) - widths[0]) / (pages - 1) + widths[0] > per_page
