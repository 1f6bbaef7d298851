"""A mail body as a small document (headings, paragraphs, bullet lists, tables with bars), rendered twice:
as HTML for mail readers and browsers, and as plain text for the alternative part.

The HTML is built for mail clients, not only browsers: tables for layout, inline styles
only, bars drawn as table cells with a background colour (no image, no script, so the
reader's own font renders the Chinese and Outlook's Word engine draws the bars too).
"""
from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import dataclass, field

# Tones: what colour a cell or paragraph takes.
NORMAL, GOOD, BAD, WARN, MUTED, STRONG = "normal", "good", "bad", "warn", "muted", "strong"
_COLOURS = {NORMAL: "#1f2933", GOOD: "#17803d", BAD: "#c0392b", WARN: "#b7791f", MUTED: "#6b7785",
            STRONG: "#1f2933"}
_BACKGROUNDS = {GOOD: "#e8f5ec", BAD: "#fdecea", WARN: "#fdf6e3"}
BAR = "#3f6fb5"
BAR_BAD = "#d9534f"
FONTS = ("-apple-system, 'PingFang SC', 'Hiragino Sans GB', 'Microsoft YaHei', 'Noto Sans CJK SC', "
         "'Source Han Sans SC', 'WenQuanYi Micro Hei', sans-serif")


@dataclass
class Cell:
    text: str
    tone: str = NORMAL
    bar: float | None = None       # 0–1: a bar after the text, as long as this share of the column
    bar_tone: str = NORMAL
    align: str = "left"
    nowrap: bool = False           # a short label (a branch name) kept on one line


@dataclass
class Table:
    headers: list[str]
    rows: list[list[Cell | str]]
    highlight: set[int] = field(default_factory=set)   # rows shown bold on a tinted background
    note: str = ""


@dataclass
class Paragraph:
    text: str
    tone: str = NORMAL


@dataclass
class Bullets:
    items: list[tuple[str, str]]    # (text, tone)


@dataclass
class Section:
    heading: str
    blocks: list = field(default_factory=list)


@dataclass
class Document:
    title: str
    subtitle: str
    sections: list[Section] = field(default_factory=list)
    footer: list[str] = field(default_factory=list)

    def add(self, heading: str, *blocks) -> Section:
        section = Section(heading, [b for b in blocks if b is not None])
        self.sections.append(section)
        return section

    @property
    def empty(self) -> bool:
        return not any(s.blocks for s in self.sections)


def number(value, digits: int = 0) -> str:
    if value is None or value != value:
        return "—"
    return f"{value:,.{digits}f}"


def percent(value, digits: int = 1) -> str:
    if value is None or value != value:
        return "—"
    return f"{value * 100:.{digits}f}%"


def signed(value) -> str:
    """+3 / −2 / 0 for a change; — when there is nothing to compare with."""
    if value is None or value != value:
        return "—"
    value = int(round(value))
    return f"+{value}" if value > 0 else ("0" if value == 0 else f"−{-value}")


def arrow(change) -> Cell:
    """A rank change (positive = moved up) as an arrow cell."""
    if change is None or change != change:
        return Cell("—", MUTED, align="center")
    change = int(change)
    if change > 0:
        return Cell(f"↑{change}", GOOD, align="center")
    if change < 0:
        return Cell(f"↓{-change}", BAD, align="center")
    return Cell("持平", MUTED, align="center")


def unit(name: str) -> Cell:
    """A branch name in a table: one line, never broken."""
    return Cell(name, nowrap=True)


def _cell(value) -> Cell:
    return value if isinstance(value, Cell) else Cell(str(value))


# -- HTML ------------------------------------------------------------------------------------------

def _e(text: str) -> str:
    return html.escape(str(text), quote=True)


_DATE = re.compile(r"\d{4}-(?:\d{2}|H[12])(?:-\d{2})?")


def _prose(text: str) -> str:
    """Running text, escaped, its dates and months (2026-08-04, 2026-H1) never broken at their hyphen."""
    return _DATE.sub(lambda m: f'<span style="white-space:nowrap;">{m.group(0)}</span>', _e(text))


def _bar(share: float, tone: str) -> str:
    share = max(0.0, min(1.0, float(share)))
    width = max(1, round(share * 100)) if share > 0 else 0
    colour = BAR_BAD if tone == BAD else BAR
    filled = (f'<td width="{width}%" bgcolor="{colour}" style="background:{colour};height:10px;'
              f'font-size:1px;line-height:1px;">&nbsp;</td>') if width else ""
    rest = (f'<td width="{100 - width}%" bgcolor="#e6ebf1" style="background:#e6ebf1;height:10px;'
            f'font-size:1px;line-height:1px;">&nbsp;</td>') if width < 100 else ""
    return ('<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" '
            f'style="border-collapse:collapse;min-width:30px;"><tr>{filled}{rest}</tr></table>')


def _table_html(table: Table) -> str:
    head = "".join(f'<th style="text-align:left;padding:5px 5px;border-bottom:2px solid #c9d3df;'
                   f'color:#42505e;font-weight:600;font-size:12px;white-space:nowrap;">{_e(h)}</th>'
                   for h in table.headers)  # (short labels: a header broken in two, 单元/格, reads badly)
    body = []
    for index, row in enumerate(table.rows):
        marked = index in table.highlight
        cells = []
        for value in row:
            cell = _cell(value)
            style = [f"padding:4px 5px;border-bottom:1px solid #e6ebf1;color:{_COLOURS[cell.tone]};",
                     f"text-align:{cell.align};"]
            if cell.tone in (BAD, GOOD, WARN, STRONG) or marked:
                style.append("font-weight:600;")
            if cell.nowrap:
                style.append("white-space:nowrap;")
            if cell.tone in _BACKGROUNDS and cell.bar is None:
                style.append(f"background:{_BACKGROUNDS[cell.tone]};")
            content = _e(cell.text)
            if cell.bar is not None:
                content = (f'<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0">'
                           f'<tr><td style="white-space:nowrap;padding-right:4px;width:1%;color:{_COLOURS[cell.tone]};">'
                           f'{content}</td><td style="min-width:36px;">{_bar(cell.bar, cell.bar_tone)}</td></tr></table>')
            cells.append(f'<td style="{"".join(style)}">{content}</td>')
        shade = ' style="background:#eef4fb;"' if marked else ""
        body.append(f"<tr{shade}>{''.join(cells)}</tr>")
    note = f'<p style="margin:4px 0 0;color:#6b7785;font-size:12px;">{_e(table.note)}</p>' if table.note else ""
    return ('<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" '
            'style="border-collapse:collapse;font-size:13px;margin:6px 0 4px;">'
            f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>{note}")


def _block_html(block) -> str:
    if isinstance(block, Paragraph):
        weight = "font-weight:600;" if block.tone in (BAD, GOOD, STRONG, WARN) else ""
        background = (f"background:{_BACKGROUNDS[block.tone]};padding:8px 10px;border-radius:4px;"
                      if block.tone in _BACKGROUNDS else "")
        return (f'<p style="margin:8px 0;line-height:1.6;color:{_COLOURS[block.tone]};{weight}{background}">'
                f"{_prose(block.text)}</p>")
    if isinstance(block, Bullets):
        items = "".join(f'<li style="margin:3px 0;color:{_COLOURS[tone]};'
                        f'{"font-weight:600;" if tone in (BAD, GOOD, WARN) else ""}">{_prose(text)}</li>'
                        for text, tone in block.items)
        return f'<ul style="margin:6px 0;padding-left:20px;line-height:1.6;">{items}</ul>'
    return _table_html(block)


def render_html(doc: Document) -> str:
    """A self-contained page (inline styles only): the mail's HTML part and 简报.html alike."""
    parts = [f'<h1 style="font-size:19px;line-height:1.35;margin:0 0 4px;color:#16324f;">{_e(doc.title)}</h1>',
             f'<p style="margin:0 0 12px;color:#6b7785;font-size:13px;">{_e(doc.subtitle)}</p>']
    for section in doc.sections:
        if not section.blocks:
            continue
        parts.append(f'<h2 style="font-size:16px;margin:18px 0 6px;padding-bottom:4px;color:#16324f;'
                     f'border-bottom:1px solid #c9d3df;">{_e(section.heading)}</h2>')
        parts += [_block_html(b) for b in section.blocks]
    if doc.footer:
        parts.append('<div style="margin-top:20px;padding-top:8px;border-top:1px solid #e6ebf1;color:#6b7785;'
                     'font-size:12px;line-height:1.6;">' + "<br>".join(_e(line) for line in doc.footer) + "</div>")
    body = "\n".join(parts)
    return ("<!DOCTYPE html>\n<html lang=\"zh-CN\">\n<head>\n<meta charset=\"utf-8\">\n"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
            f"<title>{_e(doc.title)}</title>\n</head>\n"
            f'<body style="margin:0;padding:0;background:#f4f6f9;">\n'
            '<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" '
            'style="background:#f4f6f9;"><tr><td align="center" style="padding:8px 4px;">\n'
            '<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" '
            f'style="max-width:680px;background:#ffffff;border-radius:6px;font-family:{FONTS};'
            'color:#1f2933;"><tr><td style="padding:14px 10px;">\n'
            f"{body}\n</td></tr></table>\n</td></tr></table>\n</body>\n</html>\n")


# -- plain text ------------------------------------------------------------------------------------

def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * max(0, width - _width(text))


def _table_text(table: Table) -> list[str]:
    rows = [[_cell(v).text for v in row] for row in table.rows]
    widths = [max([_width(h)] + [_width(r[i]) for r in rows]) for i, h in enumerate(table.headers)]
    lines = ["  ".join(_pad(h, w) for h, w in zip(table.headers, widths)).rstrip(),
             "  ".join("-" * w for w in widths)]
    for index, row in enumerate(rows):
        mark = " ◀" if index in table.highlight else ""
        lines.append("  ".join(_pad(v, w) for v, w in zip(row, widths)).rstrip() + mark)
    if table.note:
        lines.append(table.note)
    return lines


def render_text(doc: Document) -> str:
    lines = [doc.title, doc.subtitle, ""]
    for section in doc.sections:
        if not section.blocks:
            continue
        lines += [f"【{section.heading}】"]
        for block in section.blocks:
            if isinstance(block, Paragraph):
                lines.append(block.text)
            elif isinstance(block, Bullets):
                lines += [f"· {text}" for text, _ in block.items]
            else:
                lines += _table_text(block)
        lines.append("")
    lines += ["—" * 20, *doc.footer]
    return "\n".join(lines).rstrip() + "\n"
