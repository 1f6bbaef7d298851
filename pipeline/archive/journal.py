"""The archive's journal: every write that files cannot reproduce, one JSON line each, in order.

Beside the archive the workspace keeps every submitted file (received/, rejected/).
The journal (received/归档日志.jsonl) records, in the order they happened, each
submission as it was filed (its id, received time, verdict, where it went) and
each decision of the department (review, grade adjustment, assessment, access,
mail). With the files it is enough to rebuild the archive exactly: `crm archive
rebuild` replays it (archive/rebuild.py).

A line is appended after its transaction commits and is fsynced before the
file is moved, so a crash leaves at worst one committed event that the next run
appends when it finishes that file.
"""
from __future__ import annotations

import json
import math
import os
from pathlib import Path

JOURNAL_FILE = "归档日志.jsonl"


def _plain(value):
    """``value`` as JSON has it: NaN and the infinities (a blank read by pandas) become null, which is what SQLite
    stored for them; Python's json would write a bare NaN, which is not JSON and other readers refuse."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    return value


class Journal:
    """Append-only JSON lines; readers skip a torn last line."""

    def __init__(self, path: Path):
        self.path = Path(path)

    def append(self, event: dict) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        line = json.dumps(_plain(event), ensure_ascii=False, sort_keys=True, default=str) + "\n"
        with open(self.path, "a", encoding="utf-8", newline="\n") as handle:
            handle.write(line)
            handle.flush()
            os.fsync(handle.fileno())

    def events(self) -> list[dict]:
        if not self.path.exists():
            return []
        out = []
        with open(self.path, encoding="utf-8") as handle:
            for line in handle:
                line = line.strip()
                if not line:
                    continue
                try:
                    out.append(json.loads(line))
                except json.JSONDecodeError:
                    continue  # a line torn by a crash: the next run re-appends its event
        return out

    def submission_ids(self) -> set[int]:
        return {e["id"] for e in self.events() if e.get("type") == "submission"}
