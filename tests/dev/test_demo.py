"""make demo end to end: the sample year, its reports, the pre-filled December and the mail dry runs."""
from __future__ import annotations

from pathlib import Path

from pipeline.dev.demo import run_demo

ROOT = Path(__file__).resolve().parents[2]


def test_the_demo_runs_the_whole_year(tmp_path):
    lines: list[str] = []
    reports = run_demo(ROOT / "input_samples", tmp_path / "demo", echo=lines.append)
    output = tmp_path / "demo" / "workspace" / "output"
    text = "\n".join(lines)
    # the pre-filled December: one workbook per branch, one sent back edited, archived as designed
    assert len(list((output / "2026-12" / "预填模板").glob("*.xlsx"))) == 8
    assert "与设计一致" in text, text
    # the mail dry runs: the October month (with the rejected supplement's feedback), Q3 and H1
    october = sorted(p.name for p in (output / "2026-10" / "outbox").glob("*.eml"))
    assert len(october) == 10 and sum(n.startswith("退回反馈") for n in october) == 1
    assert len(list((output / "2026-Q3" / "outbox").glob("*.eml"))) == 10
    assert len(list((output / "2026-H1" / "outbox").glob("*.eml"))) == 20
    for period in ("2026-10", "2026-Q3", "2026-H1"):
        assert (output / period / "outbox" / "发送清单.xlsx").exists() and (output / period / "简报.html").exists()
    assert all(path.exists() for paths in reports.values() for path in paths)
