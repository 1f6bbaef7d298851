"""Branch documents that arrive in the inbox beside the monthly workbooks.

Two are required by the group's rules and scored in the branch assessment:
- the half-yearly 客户分析报告 (001 三(三): due 1 June and 31 December);
- the 客户关系维护工作总结 a 合格 or 差 branch owes within a week of its assessment
  (001 三(二)Ⅱ4).
They are Word, PDF or Excel files named like ``华东分公司_2026-H1_客户分析报告.docx``;
the name says what they are, whose they are and for which half year. They are
filed, not parsed: only their size is checked.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from schemas.labels import DOCUMENT_KINDS, DOCUMENT_NAME_WORDS

from ..config import Config
from ..filenames import display_name
from ..findings import Finding, make_finding

SUFFIXES = (".docx", ".doc", ".pdf", ".xlsx", ".xls", ".wps", ".et", ".ofd")
KEYWORDS = DOCUMENT_NAME_WORDS
_HALF = re.compile(r"(20\d{2})\s*(?:年)?\s*[-_.]?\s*(?:(H|h)\s*([12])|(上|下)\s*半\s*年)")


@dataclass(frozen=True)
class Document:
    """What the name of a branch document says."""

    kind: str          # analysis_report / work_summary
    branch: str | None
    period: str | None  # '2026-H1'

    @property
    def label(self) -> str:
        return DOCUMENT_KINDS[self.kind]


def classify(path: Path, config: Config) -> Document | None:
    """The document a file is, or None when it is not one (a monthly workbook, most likely)."""
    name = unicodedata.normalize("NFKC", display_name(Path(path).name))
    if Path(name).suffix.lower() not in SUFFIXES:
        return None
    kind = next((k for k, words in KEYWORDS.items() if any(w in name for w in words)), None)
    if kind is None:
        return None
    branch = next((b for b in sorted(config.branches, key=len, reverse=True) if b in name), None)
    period = None
    if m := _HALF.search(name):
        half = m.group(3) or ("1" if m.group(4) == "上" else "2")
        period = f"{m.group(1)}-H{half}"
    return Document(kind, branch, period)


def problems(document: Document, path: Path, config: Config) -> list[Finding]:
    """What keeps a document from being filed: a name without the branch or the half year, or its size."""
    name = display_name(Path(path).name)
    out = []
    if document.branch is None:
        out.append(make_finding("document-name", name, detail=f"没有写明是哪个单位的{document.label}",
                                allowed=config.branches))
    if document.period is None:
        out.append(make_finding("document-name", name, detail=f"没有写明是哪个半年度的{document.label}"))
    size = Path(path).stat().st_size
    limit = config.get("limits", "max_file_mib") * 2**20
    if size == 0:
        out.append(make_finding("empty-file", name))
    elif size > limit:
        out.append(make_finding("unsafe-workbook", name, detail=f"文件有 {size / 2**20:.0f} MiB，超过上限 "
                                                                 f"{limit / 2**20:.0f} MiB"))
    return out
