"""The sample generator: deterministic, and every file gets the verdict it was designed for."""
from __future__ import annotations

import datetime as dt
import json
import random
from pathlib import Path

import pandas as pd
import pytest
from python_calamine import CalamineWorkbook

from pipeline.config import load_config
from pipeline.identity import uscc_problem
from pipeline.dev.samples import (
    MANIFEST,
    Branch,
    _designed_customers,
    generate_samples,
    write_messy,
    write_standard,
)
from pipeline.intake.validation import validate_file, validate_paths
from schemas.columns import COVER, DATA_SHEETS

SHIPPED = Path(__file__).resolve().parents[2] / "input_samples"


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    out = tmp_path_factory.mktemp("samples")
    generate_samples(out)
    return out


def test_generation_is_deterministic(generated, tmp_path):
    generate_samples(tmp_path)
    first = {p.relative_to(generated): p.read_bytes() for p in generated.rglob("*") if p.is_file()}
    second = {p.relative_to(tmp_path): p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    assert first.keys() == second.keys() and first == second


def test_shipped_samples_are_the_generated_ones(generated):
    shipped = {p.relative_to(SHIPPED): p.read_bytes() for p in SHIPPED.rglob("*") if p.is_file()}
    fresh = {p.relative_to(generated): p.read_bytes() for p in generated.rglob("*") if p.is_file()}
    assert shipped == fresh, "input_samples/ is stale: run `make samples`"


def test_every_file_gets_its_designed_verdict(generated):
    manifest = json.loads((generated / MANIFEST).read_text(encoding="utf-8"))["files"]
    results = {str(r.file.relative_to(generated)): r
               for r in validate_paths([generated], load_config(None))}
    assert set(results) - {MANIFEST} == set(manifest)
    for name, expected in manifest.items():
        result = results[name]
        assert result.status == expected["expected_status"], (name, [f.message for f in result.errors])
        assert set(expected["expected_codes"]) <= {f.code for f in result.errors}, name
    assert sum(r.status == "rejected" for r in results.values()) >= 7
    assert results[MANIFEST].status == "ignored"


def test_accepted_files_carry_valid_credit_codes(generated):
    results = validate_paths([generated / "2026-12"], load_config(None))
    codes = [c for r in results if r.status == "accepted" and r.frames  # documents have no frames
             for c in r.frames["customers"]["uscc"].dropna()]
    assert len(codes) > 100 and all(uscc_problem(c) is None for c in codes)


def test_manifest_lists_existing_files_with_what_the_demo_needs(generated):
    manifest = json.loads((generated / MANIFEST).read_text(encoding="utf-8"))
    assert manifest["notes"]
    for name, entry in manifest["files"].items():
        assert (generated / name).is_file(), name
        assert dt.datetime.fromisoformat(entry["received_at"]).year == 2026
        assert entry["expected_status"] in ("accepted", "rejected", "ignored") and entry["note"]
    lock = [n for n in manifest["files"] if Path(n).name.startswith("~$")]
    assert len(lock) == 1 and (generated / lock[0]).stat().st_size < 1024
    total = sum(p.stat().st_size for p in generated.rglob("*") if p.is_file())
    assert total < 8 * 1024 * 1024


def test_a_standard_file_has_the_dictionary_sheets_and_headers(generated):
    path = generated / "2026-01" / "华东分公司_2026-01_客户信息统计表.xlsx"
    book = CalamineWorkbook.from_path(str(path))
    assert book.sheet_names == [COVER.name] + [s.name for s in DATA_SHEETS]
    cover = book.get_sheet_by_name(COVER.name).to_python()
    assert [row[0] for row in cover] == [c.header for c in COVER.columns]
    assert cover[0][1] == "华东分公司" and cover[1][1] == "2026-01"
    for sheet in DATA_SHEETS:
        rows = book.get_sheet_by_name(sheet.name).to_python()
        assert rows[0] == [c.header for c in sheet.columns]
    customers = book.get_sheet_by_name("客户信息").to_python()
    assert len(customers) > 20


def test_a_messy_file_reads_the_same_as_the_template_layout(tmp_path):
    branch = Branch("华东分公司", random.Random(7))
    branch.customers = [branch.new_customer(i) for i in range(20)]
    _designed_customers(branch)
    for month in range(2, 6):
        branch.advance(month)
    rows = branch.month_rows(5)
    name = "华东分公司_2026-05_客户信息统计表.xlsx"
    (tmp_path / "plain").mkdir()
    (tmp_path / "messy").mkdir()
    write_standard(tmp_path / "plain" / name, branch.name, "2026-05", rows)
    write_messy(tmp_path / "messy" / name, branch.name, "2026-05", rows, dt.datetime(2026, 5, 22, 10))
    config = load_config(None)
    plain = validate_file(tmp_path / "plain" / name, config)
    messy = validate_file(tmp_path / "messy" / name, config)
    assert plain.status == messy.status == "accepted"
    assert (messy.branch, messy.period) == ("华东分公司", "2026-05")
    book = CalamineWorkbook.from_path(str(tmp_path / "messy" / name))
    assert "投诉记录" not in book.sheet_names and "本单位备注" in book.sheet_names
    for key, order in (("customers", ["name"]), ("projects", ["contract_no", "project_name"]),
                       ("surveys", ["customer_name", "surveyed_on"]),
                       ("visits", ["customer_name", "visited_on", "visitor_level"])):
        expected = plain.frames[key].drop(columns="_row").sort_values(order, ignore_index=True)
        got = messy.frames[key].drop(columns="_row").sort_values(order, ignore_index=True)
        assert len(expected) > 0
        pd.testing.assert_frame_equal(got[expected.columns], expected, check_dtype=False)
