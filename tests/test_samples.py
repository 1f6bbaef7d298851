"""The sample generator: deterministic, and every file gets the verdict it was designed for."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline.config import load_config
from pipeline.identity import uscc_problem
from pipeline.samples import MANIFEST, generate_samples
from pipeline.validation import validate_paths

SHIPPED = Path(__file__).resolve().parent.parent / "input_samples"


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
    codes = [c for r in results if r.status == "accepted" for c in r.frames["customers"]["uscc"].dropna()]
    assert len(codes) > 100 and all(uscc_problem(c) is None for c in codes)
