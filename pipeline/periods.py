"""Reporting periods: months, quarters, half years and years."""
from __future__ import annotations

import re
from dataclasses import dataclass


class PeriodError(ValueError):
    """A period text that is not a month, quarter, half year or year."""


@dataclass(frozen=True)
class Period:
    """A reporting period: kind is month / quarter / half / year."""

    kind: str
    year: int
    number: int = 0  # month 1–12, quarter 1–4, half 1–2; 0 for a year

    @classmethod
    def parse(cls, text: str) -> "Period":
        text = str(text).strip().upper()
        if m := re.fullmatch(r"(\d{4})-Q([1-4])", text):
            return cls("quarter", int(m[1]), int(m[2]))
        if m := re.fullmatch(r"(\d{4})-H([12])", text):
            return cls("half", int(m[1]), int(m[2]))
        if m := re.fullmatch(r"(\d{4})", text):
            return cls("year", int(m[1]))
        if m := re.fullmatch(r"(\d{4})-(\d{1,2})", text):
            if 1 <= int(m[2]) <= 12:
                return cls("month", int(m[1]), int(m[2]))
        raise PeriodError(f"“{text}”不是有效的报告期，请写成 2026-10、2026-Q3、2026-H1 或 2026。")

    @property
    def months(self) -> list[str]:
        """The months of the period, 'YYYY-MM', in order."""
        span = {"month": (self.number, self.number), "quarter": (3 * self.number - 2, 3 * self.number),
                "half": (6 * self.number - 5, 6 * self.number), "year": (1, 12)}[self.kind]
        return [f"{self.year:04d}-{m:02d}" for m in range(span[0], span[1] + 1)]

    @property
    def start(self) -> str:
        return self.months[0]

    @property
    def end(self) -> str:
        """The as-of month: the period's last month."""
        return self.months[-1]

    def previous(self) -> "Period":
        """The previous period of the same kind."""
        if self.kind == "year":
            return Period("year", self.year - 1)
        count = {"month": 12, "quarter": 4, "half": 2}[self.kind]
        if self.number == 1:
            return Period(self.kind, self.year - 1, count)
        return Period(self.kind, self.year, self.number - 1)

    def __str__(self) -> str:
        return {"month": f"{self.year:04d}-{self.number:02d}", "quarter": f"{self.year}-Q{self.number}",
                "half": f"{self.year}-H{self.number}", "year": f"{self.year}"}[self.kind]

    @property
    def title(self) -> str:
        """Chinese name: 2026年第三季度, 2026年上半年, 2026年度, 2026年10月."""
        if self.kind == "quarter":
            return f"{self.year}年第{'一二三四'[self.number - 1]}季度"
        if self.kind == "half":
            return f"{self.year}年{'上下'[self.number - 1]}半年"
        if self.kind == "year":
            return f"{self.year}年度"
        return f"{self.year}年{self.number}月"
