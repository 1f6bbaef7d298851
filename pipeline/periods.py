"""Periods: months ('2026-10'), quarters, half years and years — all period parsing lives here."""
from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass

from .errors import PeriodError

_EXCEL_EPOCH = dt.date(1899, 12, 30)


def parse_month(value) -> str | None:
    """'2026-10', '2026年10月', '2026.10', '202610', a date or an Excel serial → 'YYYY-MM'; else None."""
    if hasattr(value, "year") and hasattr(value, "month"):
        return f"{value.year:04d}-{value.month:02d}"
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if 20000 < value < 80000:  # an Excel serial date
            day = _EXCEL_EPOCH + dt.timedelta(days=int(value))
            return f"{day.year:04d}-{day.month:02d}"
        return None
    text = unicodedata.normalize("NFKC", str(value or "")).strip()
    m = re.fullmatch(r"(\d{4})\s*[-年./]\s*(\d{1,2})\s*(?:月(?:份)?)?(?:\s*[-./]?\s*\d{1,2}\s*日?)?", text)
    if m and 1 <= int(m.group(2)) <= 12:
        return f"{int(m.group(1)):04d}-{int(m.group(2)):02d}"
    m = re.fullmatch(r"(\d{4})(\d{2})", text)
    if m and 1 <= int(m.group(2)) <= 12:
        return f"{m.group(1)}-{m.group(2)}"
    return None


def hours_text(hours: float) -> str:
    """A time past a limit in hours, as a reader counts it: '5 小时', '2 天 3 小时', '233 天' (from 10 days on, in
    days only: 5,607 hours is not a figure anyone pictures)."""
    whole = max(0, int(round(hours)))
    if whole < 48:
        return f"{whole} 小时"
    days, rest = divmod(whole, 24)
    return f"{days} 天" if days >= 10 or not rest else f"{days} 天 {rest} 小时"


def month_index(month: str) -> int:
    """'2026-10' → a month count (year × 12 + month − 1), for month arithmetic."""
    return int(month[:4]) * 12 + int(month[5:7]) - 1


def add_months(month: str, count: int) -> str:
    """'2026-10' + 3 → '2027-01'."""
    index = month_index(month) + count
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def current_month(today: dt.date | None = None) -> str:
    return (today or dt.date.today()).strftime("%Y-%m")


def month_end(month: str) -> dt.datetime:
    """The last second of a month."""
    first_of_next = add_months(month, 1)
    return dt.datetime(int(first_of_next[:4]), int(first_of_next[5:]), 1) - dt.timedelta(seconds=1)


def month_start(month: str) -> dt.datetime:
    return dt.datetime(int(month[:4]), int(month[5:7]), 1)


@dataclass(frozen=True)
class Period:
    """A reporting period: kind is month / quarter / half / year."""

    kind: str
    year: int
    number: int = 0  # month 1–12, quarter 1–4, half 1–2; 0 for a year

    @classmethod
    def parse(cls, text: str) -> "Period":
        raw = str(text)
        text = unicodedata.normalize("NFKC", raw).strip().upper()
        if m := re.fullmatch(r"(\d{4})\s*[-/.]?\s*Q([1-4])", text):
            return cls("quarter", int(m[1]), int(m[2]))
        if m := re.fullmatch(r"(\d{4})\s*[-/.]?\s*H([12])", text):
            return cls("half", int(m[1]), int(m[2]))
        if m := re.fullmatch(r"(\d{4})年?", text):
            return cls("year", int(m[1]))
        if month := parse_month(text):
            return cls("month", int(month[:4]), int(month[5:]))
        raise PeriodError(f"“{raw}”不是有效的报告期，请写成 2026-10、2026-Q3、2026-H1 或 2026。")

    @classmethod
    def parse_half(cls, text: str) -> "Period":
        try:
            period = cls.parse(text)
        except PeriodError:
            period = None
        if period is None or period.kind != "half":
            raise PeriodError(f"“{text}”不是有效的半年度，请写成 2026-H1 或 2026-H2。")
        return period

    @classmethod
    def of_month(cls, month: str) -> "Period":
        return cls("month", int(month[:4]), int(month[5:7]))

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

    @property
    def halves(self) -> list["Period"]:
        """The half years inside this period (both for a year, itself for a half, none otherwise)."""
        if self.kind == "year":
            return [Period("half", self.year, 1), Period("half", self.year, 2)]
        return [self] if self.kind == "half" else []

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


def half_end(half: str) -> str:
    """'2026-H1' → '2026-06'; '2026-H2' → '2026-12'."""
    return Period.parse_half(half).end
