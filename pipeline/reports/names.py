"""Where every output lives under ``output/``: one place for the names commands write and distribution reads."""
from __future__ import annotations

from pathlib import Path

EDITIONS_FOLDER = "分子公司版"
OUTBOX_FOLDER = "outbox"


def monthly_summary(out: Path, month: str) -> Path:
    return out / month / f"月度汇总_{month}.xlsx"


def period_report(out: Path, period: str, branch: str | None = None) -> Path:
    """``<P>/客户分级报告_<P>.xlsx``; a branch's edition under ``<P>/分子公司版/``."""
    if branch is None:
        return out / period / f"客户分级报告_{period}.xlsx"
    return out / period / EDITIONS_FOLDER / f"客户分级报告_{period}_{branch}.xlsx"


def assessment_workbook(out: Path, half: str) -> Path:
    return out / half / f"客户关系维护成效考核_{half}.xlsx"


def bulletin(out: Path, half: str) -> Path:
    return out / half / f"考核通报_{half}.xlsx"


def grade_lists(out: Path, month: str, suffix: str = "") -> Path:
    return out / month / f"客户分级清单_{month}{suffix}.xlsx"


def strategic_list(out: Path, year: int | str) -> Path:
    return out / str(year) / f"战略客户名单_{year}.xlsx"


PREFILLED_FOLDER = "预填模板"


def prefilled(out: Path, period: str, branch: str) -> Path:
    """A branch's pre-filled workbook for a month: ``<月份>/预填模板/<单位>_<月份>_客户信息统计表（预填）.xlsx``."""
    return out / period / PREFILLED_FOLDER / f"{branch}_{period}_客户信息统计表（预填）.xlsx"


def brief(out: Path, period: str) -> Path:
    return out / period / "简报.html"


def outbox(out: Path, period: str) -> Path:
    return out / period / OUTBOX_FOLDER
