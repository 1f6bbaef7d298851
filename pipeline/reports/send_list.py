"""发送清单.xlsx: every message of a distribution, who it is for, what it carries and what became of it."""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from schemas import labels

from ..excel import ERROR_FILL, OK_FILL, WARNING_FILL, Styles, new_workbook, set_print_landscape, write_frame

COLUMNS = ["recipient", "address", "role", "branch", "mail_kind", "subject", "attachments", "size_kib", "mail_state",
           "mail_reason", "eml_file"]
_FILLS = {labels.MAIL_SENT: OK_FILL, labels.MAIL_FAILED: ERROR_FILL, labels.MAIL_TOO_LARGE: ERROR_FILL,
          labels.MAIL_SKIPPED: WARNING_FILL}


def write_send_list(rows: list[dict], title: str, note: str, out: Path) -> Path:
    """One row per message (keys of ``COLUMNS``), failures in red, skipped ones in yellow."""
    out.parent.mkdir(parents=True, exist_ok=True)
    frame = pd.DataFrame(rows, columns=COLUMNS)
    book = new_workbook(out)
    styles = Styles(book)
    ws = book.add_worksheet(labels.SEND_LIST)
    ws.write_string(0, 0, title, styles.title)
    ws.write_string(1, 0, note, styles.note)
    write_frame(ws, frame, styles=styles, start_row=3, context="mail", max_width=28,
                fills=[_FILLS.get(state) for state in frame["mail_state"]])
    set_print_landscape(ws, repeat_rows=(3, 3), title=title)
    book.close()
    return out
