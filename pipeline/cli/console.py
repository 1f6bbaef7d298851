"""Plain-text tables for the terminal, aligned for Chinese (wide) characters."""
from __future__ import annotations

from ..widths import display_width as text_width


def _pad(text: str, width: int) -> str:
    return text + " " * (width - text_width(text))


def table(headers: list[str], rows: list[list], max_width: int = 90) -> str:
    """Rows under headers, columns padded to their widest cell."""
    cells = [[_clip(str("" if v is None else v), max_width) for v in row] for row in rows]
    widths = [max([text_width(h)] + [text_width(r[i]) for r in cells])
              for i, h in enumerate(headers)]
    lines = ["  ".join(_pad(h, w) for h, w in zip(headers, widths)).rstrip(),
             "  ".join("─" * w for w in widths)]
    lines += ["  ".join(_pad(c, w) for c, w in zip(row, widths)).rstrip() for row in cells]
    return "\n".join(lines)


def _clip(text: str, limit: int) -> str:
    if text_width(text) <= limit:
        return text
    out, used = "", 0
    for ch in text:
        used += text_width(ch)
        if used > limit - 1:
            return out + "…"
        out += ch
    return out
