"""The shape of the code: stages import on their own, SQL stays in the archive, words stay in schemas/."""
from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

from schemas import labels
from schemas.columns import ALL_SHEETS

ROOT = Path(__file__).resolve().parents[1]
PIPELINE = ROOT / "pipeline"
MODULES = sorted(p for p in PIPELINE.rglob("*.py"))


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@pytest.mark.parametrize("name", sorted(_module_name(p) for p in MODULES if p.name != "__main__.py"))
def test_every_module_imports_on_its_own(name):
    done = subprocess.run([sys.executable, "-c", f"import {name}"], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]


def test_no_sql_outside_the_archive():
    offenders = [str(p.relative_to(ROOT)) for p in MODULES
                 if "archive" not in p.relative_to(PIPELINE).parts[:1]
                 and re.search(r"\.conn\b|\bexecute\(|read_sql", p.read_text(encoding="utf-8"))]
    assert offenders == []


def _vocabulary() -> set[str]:
    words = {text for text, _ in labels.COLUMNS.values()}
    words |= {text for context in labels.CONTEXTS.values() for text in context.values()}
    words |= set(labels.SHEETS.values()) | set(labels.TITLES.values()) | set(labels.ENTITIES.values())
    words |= set(labels.VERDICTS.values()) | set(labels.OUTCOMES.values()) | set(labels.SEVERITIES.values())
    words |= set(labels.SUBMISSION_STATES) | set(labels.SEGMENTS) | set(labels.QUADRANT_HINTS)
    words |= set(labels.ADJUST_DECISIONS) | set(labels.REVIEW_DECISIONS) | set(labels.DOCUMENT_KINDS.values())
    words |= set(labels.ASSESSMENT_RESULTS) | set(labels.COMPLAINT_STATES) | set(labels.DUTY_STATES)
    words |= set(labels.MAIL_KINDS.values()) | set(labels.MAIL_ROLES) | set(labels.MAIL_STATES)
    words |= {labels.UPGRADE, labels.DOWNGRADE, labels.SOURCE_ADJUSTED, labels.SOURCE_RULES,
              labels.SAME_CODE_OTHER_NAME, labels.SAME_NAME_OTHER_CODE, labels.SIMILAR_NAME,
              labels.GROUP_TOTAL, labels.REVIEWED}
    for sheet in ALL_SHEETS:
        words.add(sheet.name)
        words |= {c.header for c in sheet.columns}
    return {w for w in words if re.search(r"[\u4e00-\u9fff]", w)}


def _string_constants(path: Path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                docstrings.add(id(first.value))
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            yield node.lineno, node.value


def test_no_label_literal_outside_schemas():
    """Labels, sheet names, statuses and decisions are spelled in schemas/ only (messages may quote them)."""
    words = _vocabulary()
    found = []
    for path in MODULES:
        rel = path.relative_to(ROOT)
        if rel.parts[1] == "dev" or path.name in ("findings.py", "chinese.py"):
            continue  # the sample generator writes submissions; findings and click's words are message tables
        for line, text in _string_constants(path):
            if text.strip() in words:
                found.append(f"{rel}:{line}: {text!r}")
    assert found == []


def test_readme_layout_table_matches_the_tree():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## 代码结构", 1)[1].split("\n## ", 1)[0]
    named = set(re.findall(r"`(pipeline/[\w/]+\.py|pipeline/\w+/|schemas/\w+\.py)`", section))
    packages = {f"pipeline/{p.name}/" for p in PIPELINE.iterdir() if (p / "__init__.py").exists()}
    modules = {str(p.relative_to(ROOT)) for p in PIPELINE.glob("*.py") if p.name != "__init__.py"}
    modules |= {str(p.relative_to(ROOT)) for p in (ROOT / "schemas").glob("*.py") if p.name != "__init__.py"}
    assert packages | modules <= named, sorted((packages | modules) - named)
    stale = {n for n in named if not (ROOT / n).exists()}
    assert stale == set()
