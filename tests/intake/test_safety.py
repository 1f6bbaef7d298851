"""Bad files: each gives one clear finding and never stops the other files."""
from __future__ import annotations

import os
import time
import zipfile

import psutil
import pytest

from builders import full_example
from pipeline.config import load_config
from pipeline.intake.safety import inspect_file, list_inbox
from pipeline.intake.validation import validate_paths

CONFIG = load_config(None)


def codes(inspection):
    return [f.code for f in inspection.findings]


def test_good_workbook_passes(tmp_path):
    result = inspect_file(full_example(tmp_path / "a.xlsx"), CONFIG)
    assert result.kind == "xlsx" and result.findings == []


def test_text_renamed_xlsx(tmp_path):
    path = tmp_path / "华东分公司_2026-10.xlsx"
    path.write_text("这不是工作簿", encoding="utf-8")
    result = inspect_file(path, CONFIG)
    assert (result.kind, codes(result)) == ("rejected", ["not-a-workbook"])
    assert "文字" in result.findings[0].message


def test_csv_is_told_to_use_the_template(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text("客户单位名称,统一社会信用代码,客户性质\n", encoding="utf-8")
    assert codes(inspect_file(path, CONFIG)) == ["csv-not-accepted"]


@pytest.mark.parametrize("name", ["华北分公司_2026-01_客户信息统计表.ods", "华北分公司_2026-01_客户信息统计表.xlsx"])
def test_an_opendocument_spreadsheet_is_told_to_be_saved_as_xlsx(tmp_path, name):
    # As LibreOffice and WPS write .ods: the uncompressed "mimetype" part first, then content.xml.
    path = tmp_path / name
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet", compress_type=zipfile.ZIP_STORED)
        z.writestr("content.xml", "<office:document-content/>", compress_type=zipfile.ZIP_DEFLATED)
        z.writestr("META-INF/manifest.xml", "<manifest:manifest/>")
    result = inspect_file(path, CONFIG)
    assert (result.kind, codes(result)) == ("rejected", ["ods-not-accepted"])
    assert "另存为" in result.findings[0].message and ".xlsx" in result.findings[0].message


def test_another_zip_is_still_a_zip_not_a_workbook(tmp_path):
    path = tmp_path / "a.xlsx"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("mimetype", "application/vnd.oasis.opendocument.text")
        z.writestr("content.xml", "<x/>")
    assert codes(inspect_file(path, CONFIG)) == ["not-a-workbook"]


def _ole(path, stream_names):
    """A minimal compound-file container whose directory names the given streams."""
    header = bytes.fromhex("D0CF11E0A1B11AE1") + b"\x00" * 504
    entries = b"".join(name.encode("utf-16-le").ljust(64, b"\x00") + b"\x00" * 64 for name in stream_names)
    path.write_bytes(header + entries.ljust(4096, b"\x00"))
    return path


def test_encrypted_workbook(tmp_path):
    path = _ole(tmp_path / "加密.xlsx", ["Root Entry", "EncryptionInfo", "EncryptedPackage"])
    assert codes(inspect_file(path, CONFIG)) == ["encrypted-workbook"]


def test_legacy_xls_is_readable(tmp_path):
    path = _ole(tmp_path / "旧版.xls", ["Root Entry", "Workbook"])
    assert inspect_file(path, CONFIG).kind == "xls"


def test_the_error_cells_of_a_small_xls_are_found_in_its_mini_stream(tmp_path):
    """A .xls whose workbook stream is under 4 KiB keeps it in the compound file's mini stream."""
    import shutil
    import subprocess

    from builders import write_grid
    from pipeline.intake.safety import _ole_stream, xls_formula_errors
    source = write_grid(tmp_path / "小.xlsx", {"表": [["a"], ["=1/0|#DIV/0!"], ["=NA()|#N/A"], [5]]})
    office = shutil.which("soffice") or shutil.which("libreoffice")
    subprocess.run([office, "--headless", "--norestore", f"-env:UserInstallation=file://{tmp_path}/profile",
                    "--convert-to", "xls", "--outdir", str(tmp_path / "old"), str(source)],
                   capture_output=True, timeout=180)
    path = tmp_path / "old" / "小.xls"
    assert len(_ole_stream(path.read_bytes(), ("Workbook",))) < 4096
    assert xls_formula_errors(path.read_bytes()) == {"表": [(1, 0, "#DIV/0!"), (2, 0, "#N/A")]}


def test_corrupt_xls_is_reported_not_raised(tmp_path):
    path = _ole(tmp_path / "华东分公司_2026-10.xls", ["Root Entry", "Workbook"])
    [result] = validate_paths([path], CONFIG)
    assert result.status == "rejected" and [f.code for f in result.errors] == ["read-failed"]


def test_xlsm_is_read_with_a_warning(tmp_path):
    source = full_example(tmp_path / "华东分公司_2026-10_客户信息统计表.xlsx")
    path = tmp_path / "华东分公司_2026-10_客户信息统计表.xlsm"
    with zipfile.ZipFile(source) as src, zipfile.ZipFile(path, "w") as dst:
        for item in src.infolist():
            dst.writestr(item, src.read(item.filename))
        dst.writestr("xl/vbaProject.bin", b"\x00" * 64)
    [result] = validate_paths([path], CONFIG)
    assert result.status == "accepted"
    assert [f.code for f in result.findings] == ["macro-workbook"]


def test_workbook_without_workbook_part(tmp_path):
    path = tmp_path / "x.xlsx"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("word/document.xml", "<w/>")
    result = inspect_file(path, CONFIG)
    assert codes(result) == ["not-a-workbook"] and "Word" in result.findings[0].message


def test_xml_entity_bomb(tmp_path):
    source = full_example(tmp_path / "a.xlsx")
    path = tmp_path / "bomb.xlsx"
    laughs = ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
              + "".join(f'<!ENTITY lol{i} "{"&lol%s;" % ("" if i == 1 else i - 1) * 10}">' for i in range(1, 10))
              + ']><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>&lol9;</t></si></sst>')
    with zipfile.ZipFile(source) as src, zipfile.ZipFile(path, "w") as dst:
        for item in src.infolist():
            data = laughs.encode() if item.filename == "xl/sharedStrings.xml" else src.read(item.filename)
            dst.writestr(item, data)
    result = inspect_file(path, CONFIG)
    assert codes(result) == ["unsafe-workbook"] and "实体" in result.findings[0].message


@pytest.fixture(scope="session")
def zip_bomb(tmp_path_factory):
    """A real workbook whose sheet1.xml inflates to 1 GiB, in about 1 MB."""
    source = full_example(tmp_path_factory.mktemp("bomb") / "a.xlsx")
    path = source.with_name("bomb.xlsx")
    row = b"<row><c><v>1</v></c></row>" * 4096
    with zipfile.ZipFile(source) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED,
                                                          compresslevel=9) as dst:
        for item in src.infolist():
            if item.filename == "xl/worksheets/sheet2.xml":
                info = zipfile.ZipInfo(item.filename)
                info.compress_type = zipfile.ZIP_DEFLATED
                with dst.open(info, "w", force_zip64=True) as out:
                    out.write(b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>')
                    for _ in range(2**30 // len(row)):
                        out.write(row)
                    out.write(b"</sheetData></worksheet>")
            else:
                dst.writestr(item, src.read(item.filename))
    return path


def test_zip_bomb_is_refused_quickly_in_little_memory(zip_bomb):
    assert zip_bomb.stat().st_size < 8 * 2**20
    process = psutil.Process()
    before = process.memory_info().rss
    started = time.perf_counter()
    result = inspect_file(zip_bomb, CONFIG)
    elapsed = time.perf_counter() - started
    assert codes(result) == ["unsafe-workbook"]
    assert elapsed < 10  # a loose sanity bound; the benchmark holds the real targets
    assert process.memory_info().rss - before < 300 * 2**20


def test_lying_zip_header_is_caught(tmp_path):
    """A member that declares a small size but inflates far beyond the limit."""
    source = full_example(tmp_path / "a.xlsx")
    path = tmp_path / "liar.xlsx"
    big = b"<x/>" * (2**20)  # 4 MiB real
    with zipfile.ZipFile(source) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            dst.writestr(item, src.read(item.filename))
        dst.writestr("xl/media/padding.xml", big)
    # Rewrite the declared size of the last member to something tiny, in both headers.
    data = bytearray(path.read_bytes())
    size = len(big).to_bytes(4, "little")
    for offset in [i for i in range(len(data) - 4) if data[i:i + 4] == size]:
        data[offset:offset + 4] = (1000).to_bytes(4, "little")
    path.write_bytes(bytes(data))
    config = load_config(None)
    config.data["limits"]["max_uncompressed_mib"] = 2
    result = inspect_file(path, config)
    assert result.kind == "rejected"


def test_lock_and_hidden_files_are_ignored_and_listed(tmp_path):
    full_example(tmp_path / "a.xlsx")
    (tmp_path / "~$a.xlsx").write_bytes(b"lock")
    (tmp_path / ".DS_Store").write_bytes(b"x")
    files, ignored = list_inbox([tmp_path])
    assert [p.name for p in files] == ["a.xlsx"]
    assert sorted(i.path.name for i in ignored) == [".DS_Store", "~$a.xlsx"]
    assert all(i.findings[0].code == "ignored-file" for i in ignored)


def test_bad_files_do_not_stop_the_others(tmp_path):
    full_example(tmp_path / "华东分公司_2026-10_客户信息统计表.xlsx")
    (tmp_path / "坏文件.xlsx").write_bytes(os.urandom(2000))
    (tmp_path / "空文件.xlsx").write_bytes(b"")
    results = {r.file.name: r for r in validate_paths([tmp_path], CONFIG)}
    assert results["华东分公司_2026-10_客户信息统计表.xlsx"].status == "accepted"
    assert results["坏文件.xlsx"].status == "rejected"
    assert results["空文件.xlsx"].status == "rejected"


@pytest.mark.parametrize("rows, refused", [(30, False), (40, True)])
def test_a_wide_sheet_near_the_cell_budget_is_measured_exactly(tmp_path, rows, refused):
    """The quick bound (99 rows × column AB) exceeds a 1,000-cell budget, so the cells are counted:
    30 rows × 28 columns fit, 40 rows do not, and the finding names the real corner."""
    import xlsxwriter
    config_path = tmp_path / "crm.toml"
    config_path.write_text("[limits]\nmax_cells = 1000\n", encoding="utf-8")
    path = tmp_path / "wide.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("客户信息")
    for r in range(rows):
        sheet.write_string(r, 0, f"客户{r}")
        sheet.write_string(r, 27, "x")  # column AB
    book.close()
    result = inspect_file(path, load_config(config_path))
    if refused:
        assert codes(result) == ["too-many-cells"] and "AB40" in result.findings[0].message
    else:
        assert result.kind == "xlsx" and result.findings == []


def _forged(tmp_path, old: bytes, new: bytes):
    """A small workbook whose second cell's tag is rewritten by hand."""
    import xlsxwriter
    plain = tmp_path / "plain.xlsx"
    book = xlsxwriter.Workbook(str(plain))
    sheet = book.add_worksheet("客户信息")
    sheet.write_string(0, 0, "客户单位名称")
    sheet.write_string(1, 0, "某公司")
    book.close()
    forged = tmp_path / "华东分公司_2026-10.xlsx"
    with zipfile.ZipFile(plain) as src, zipfile.ZipFile(forged, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                assert old in data
                data = data.replace(old, new)
            dst.writestr(info, data)
    return forged


@pytest.mark.parametrize("tag", [b'<c t="s" r="XFD50000">', b'<c\tt="s"\tr="XFD50000">', b'<c t="s"\nr="XFD50000">',
                                 b'<c t="s"\r\nr="XFD50000">', b'<c t="s"\rr="XFD50000">'])
def test_a_far_cell_is_found_whatever_the_order_of_its_attributes(tmp_path, tag):
    result = inspect_file(_forged(tmp_path, b'<c r="A2" t="s">', tag), CONFIG)
    assert codes(result) == ["too-many-cells"] and "XFD50000" in result.findings[0].message


def test_a_row_number_beyond_excel_is_refused_before_it_is_read(tmp_path):
    """A cell claiming row 99,999,999 (Excel stops at 1,048,576) would make the reader allocate that many rows."""
    result = inspect_file(_forged(tmp_path, b'<c r="A2" t="s">', b'<c r="A99999999" t="s">'), CONFIG)
    assert codes(result) == ["too-many-cells"] and "A99999999" in result.findings[0].message
