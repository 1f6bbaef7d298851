"""Plain-text tables for the terminal, aligned for Chinese (wide) characters."""
from __future__ import annotations

import codecs
import re
import sys

from schemas.labels import EMPTY

from ..widths import display_width as text_width


def _pad(text: str, width: int) -> str:
    return text + " " * (width - text_width(text))


def table(headers: list[str], rows: list[list], max_width: int = 90, notes: list[str | None] | None = None) -> str:
    """Rows under headers, columns padded to their widest cell. ``notes``: a text for each row (or None), shown
    on a line of its own under the row, so a long remark does not widen every line of the table."""
    # ASCII for the rule and for an empty cell's dash: a Chinese Windows console draws ─ and — two columns wide
    # (they are "ambiguous" in width), which pushed the columns apart there.
    cells = [[_clip(_as_printed("-" if v == EMPTY else str("" if v is None else v)), max_width) for v in row]
             for row in rows]
    widths = [max([text_width(h)] + [text_width(r[i]) for r in cells])
              for i, h in enumerate(headers)]
    lines = ["  ".join(_pad(h, w) for h, w in zip(headers, widths)).rstrip(),
             "  ".join("-" * w for w in widths)]
    for row, note in zip(cells, notes or [None] * len(cells)):
        lines.append("  ".join(_pad(c, w) for c, w in zip(row, widths)).rstrip())
        for i, line in enumerate(part for text in (note or "").splitlines() for part in _wrapped(text)):
            lines.append(("  └ " if i == 0 else "    ") + line)
    return "\n".join(lines)


def _as_printed(text: str) -> str:
    """``text`` as the console will show it: a character the output's encoding lacks (GBK, when a Chinese Windows
    console's output is redirected to a file, has no emoji and no 𠮷) is printed as one narrow “?”, and the columns
    are measured so (``_printable_anywhere``)."""
    encoding = getattr(sys.stdout, "encoding", None) or "utf-8"
    try:
        if codecs.lookup(encoding).name in ("utf-8", "utf-8-sig", "ascii"):  # (click writes UTF-8 to an ASCII one)
            return text
        return text.encode(encoding, errors="replace").decode(encoding)
    except LookupError:
        return text


_PATH = re.compile(r"[/\\].*(\.[A-Za-z0-9]{1,5}|[/\\])$")  # a folder and a file name (or a folder) to the end
NOTE_WIDTH = 100  # a note's lines, within a console window of 120 columns with room to spare
_BREAKS = "，。；、）)"


def _wrapped(text: str, width: int = NOTE_WIDTH) -> list[str]:
    """``text`` in lines of at most ``width`` columns, each broken after a punctuation mark (a text with none
    where it is needed is left whole). A file path ending the text (after its last “：”) is never broken: it is
    copied, not read, and its name may hold a “）”."""
    out = []
    while text_width(text) > width:
        head, colon, tail = text.rpartition("：")
        path = len(head) + len(colon) if colon and _PATH.search(tail) else len(text)
        used, cut = 0, None
        for i, ch in enumerate(text):
            used += text_width(ch)
            if used > width or i >= path:
                break
            if ch in _BREAKS:
                cut = i + 1
        if cut is None or cut == len(text):
            break
        out.append(text[:cut])
        text = text[cut:]
    return out + [text]


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
