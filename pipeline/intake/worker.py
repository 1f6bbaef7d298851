"""What a validation worker process does first: make sure it dies with the process that started it.

The ingest validates files ahead on a spawned worker. If the main process is
killed, an orphaned worker would keep running (and keep stdout open, so
`crm ingest | tee log` never ends). The watch thread ends the worker as soon
as its parent is gone; it works the same on Windows and POSIX.
"""
from __future__ import annotations

import multiprocessing
import os
import threading


def watch_parent(poll_seconds: float = 0.5) -> None:
    """Start a daemon thread that exits this process when its parent process ends."""
    parent = multiprocessing.parent_process()
    if parent is None:
        return

    def watch() -> None:
        parent.join()  # returns when the parent's sentinel closes, i.e. when it dies
        os._exit(1)

    threading.Thread(target=watch, name="crm-watch-parent", daemon=True).start()


_KNOWN: set[str] = set()
_ROWS: dict | None = None
_NUMBERS: dict | None = None
_LOADED: str | None = None  # the file the three above came from


def save_known(path, known: set[str], rows: dict | None = None, numbers: dict | None = None) -> None:
    """Write what every worker checks files against (``validate`` reads it once).

    It goes by file, not as task or initializer arguments: megabytes written into each
    worker's pipe would hold the parent until that worker has read them."""
    import pickle
    with open(path, "wb") as out:
        pickle.dump((known, rows, numbers), out, protocol=pickle.HIGHEST_PROTOCOL)


def start() -> None:
    """A worker's initializer: watch the parent, and import what validation needs while the parent
    is still reading the archive."""
    watch_parent()
    import importlib
    importlib.import_module(f"{__package__}.validation")


def ready() -> None:
    """A task that does nothing: submitting it starts the workers."""


def validate(path, config, known: str):
    """Validate one file in a worker, against the archive's identities, the branches' last rows and
    the archive numbers in ``known`` (``save_known``'s file)."""
    global _KNOWN, _ROWS, _NUMBERS, _LOADED
    if known != _LOADED:
        import pickle
        with open(known, "rb") as saved:
            _KNOWN, _ROWS, _NUMBERS = pickle.load(saved)
        _LOADED = known
    from .validation import validate_file
    return validate_file(path, config, known_customers=_KNOWN, known_rows=_ROWS, numbers=_NUMBERS)


def summary_part(path: str, config, period: str, bounds: tuple[int, int]):
    """A share of the monthly summary: ``reports.monthly.summary_part`` of the customers within ``bounds``,
    read by this worker from the archive the main process writes (and has committed)."""
    from pathlib import Path

    from ..archive.store import Archive
    from ..reports.monthly import summary_part as figures
    with Archive(Path(path), read_only=True) as archive:
        return figures(archive.snapshot_part(period, bounds), config, period)
