"""The validation workers: the pool a run keeps (``Workers``), and what each worker process does.

The ingest validates files ahead on spawned workers, and the monthly summary shares its parts with
them. This module imports nothing heavy: a worker imports what its task needs.

A worker first makes sure it dies with the process that started it: if the main process is
killed, an orphaned worker would keep running (and keep stdout open, so
`crm ingest | tee log` never ends). The watch thread ends the worker as soon
as its parent is gone; it works the same on Windows and POSIX.
"""
from __future__ import annotations

import multiprocessing
import os
import threading


PARALLEL_FROM = 4   # files; below this a worker costs more than it saves
SHARED_FROM = 2_000  # customers archived in each process's share of the monthly summary; below this, a worker's
#                      share costs more than it saves
GC_THRESHOLD = (20_000, 50, 50)  # allocations between young collections (Python's default: 700, 10, 10)


def collect_less() -> None:
    """Run Python's cycle collector less often in this process, and not over the heap at its exit.

    A run allocates millions of short-lived objects (cells, rows, frames) that reference counting frees at
    once; at the default threshold the collector ran some 700 times in a 60-file month and walked the whole
    heap, about 3 % of the run. Cycles are still collected, just in larger batches. At exit the memory goes
    back with the process: frozen, the heap is not walked once more (0.15 s after a large month)."""
    import atexit
    import gc
    gc.set_threshold(*GC_THRESHOLD)
    atexit.unregister(gc.freeze)  # registered once, however often this is called
    atexit.register(gc.freeze)


def processes() -> int:
    """One validation process per core besides the main one, which validates too (at most two: the merge in
    the main process is the other half of the work)."""
    return max(1, min(2, (os.cpu_count() or 2) - 1))


class Workers:
    """A run's validation workers, started when there are enough files (``start``) and kept until the run is
    done; a context manager.

    Workers are spawned, not forked, so they never inherit the workspace lock, and they exit
    by themselves when the main process dies."""

    def __init__(self):
        self.pool = None
        self.count = 0

    def start_for(self, folder) -> None:
        """Start the pool now if ``folder`` holds enough files, before the caller imports what it needs: the
        workers import theirs meanwhile, on the other cores."""
        from ..filenames import ignore_reason
        count = 0
        for place, _, names in os.walk(folder):  # a missing folder holds none
            below = os.path.relpath(place, folder)
            below = [] if below == os.curdir else below.split(os.sep)
            count += sum(1 for name in names if ignore_reason(name, (*below, name)) is None)  # as list_inbox does
            if count >= PARALLEL_FROM:
                self.start(count)
                return

    def start_for_summary(self, customers: int | None) -> None:
        """Start the pool now if the archive holds enough ``customers`` for the monthly summary to be shared with it:
        in a month of a few files (a late one, a correction) the summary of the whole archive is most of the run
        (``reports.monthly.monthly_summary`` gives each process a share of the customers)."""
        if self.pool is None and customers is not None and customers >= (processes() + 1) * SHARED_FROM:
            self._launch()

    def start(self, files: int):
        """The pool, started now (its workers import what validation needs at once), unless there are too few
        files to be worth it."""
        if self.pool is None and files >= PARALLEL_FROM:
            self._launch()
        return self.pool

    def _launch(self) -> None:
        from concurrent.futures import ProcessPoolExecutor
        self.count = processes()
        self.pool = ProcessPoolExecutor(max_workers=self.count, mp_context=multiprocessing.get_context("spawn"),
                                        initializer=start)
        self.pool.submit(ready)  # the first task starts the workers

    def stop(self) -> None:
        """Let the workers go now, without waiting for them to exit (they finish what they were given first):
        what the run does next (writing the report) does not need them, and they exit meanwhile."""
        if self.pool is not None:
            self.pool.shutdown(wait=False)
            self.pool, self.count = None, 0

    def __enter__(self) -> "Workers":
        return self

    def __exit__(self, kind, *exc) -> None:
        if self.pool is not None:
            # On an error the message is not held back until workers still importing are ready to stop.
            self.pool.shutdown(wait=kind is None, cancel_futures=True)
            self.pool, self.count = None, 0


def watch_parent(poll_seconds: float = 0.5) -> None:
    """Start a daemon thread that exits this process when its parent process ends."""
    parent = multiprocessing.parent_process()
    if parent is None:
        return

    def watch() -> None:
        parent.join()  # returns when the parent's sentinel closes, i.e. when it dies
        os._exit(1)

    threading.Thread(target=watch, name="crm-watch-parent", daemon=True).start()


class FromArchive:
    """What validation may look up in the archive (``Archive.known_identities``, ``Archive.archive_numbers``),
    read only when a file asks: in a month when every row names a customer of its own workbook and no file is
    pre-filled, neither is read at all (reading both took 0.15 s before any file could be validated).

    ``read`` reads it in this process (the archive this run writes); sent to a worker, it is read there from
    the archive file, as committed by then (a superset of what it was when the run began: a customer merged
    since is known, as the merge finds anyway, ``ingest._refresh_references``)."""

    def __init__(self, path, what: str, read=None):
        self.path, self.what, self._read, self._value = str(path), what, read, None

    def _loaded(self):
        if self._value is None:
            if self._read is not None:
                self._value = self._read()
            else:
                from pathlib import Path

                from ..archive.store import Archive
                with Archive(Path(self.path), read_only=True) as archive:
                    self._value = getattr(archive, self.what)()
        return self._value

    def __contains__(self, item) -> bool:  # as the set of known identities
        return item in self._loaded()

    def get(self, key, default=None):  # as the archive numbers by sheet
        return self._loaded().get(key, default)

    def __reduce__(self):  # to a worker: the file and what to read from it, never this process's reader
        return FromArchive, (self.path, self.what)


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
    collect_less()
    import importlib
    importlib.import_module(f"{__package__}.validation")


def ready() -> None:
    """A task that does nothing: submitting it starts the workers."""


def validate(paths: list, config, known: str) -> list:
    """Validate files together in a worker (``validation.validate_each``: a result, or the exception its
    validation raised, for each), against the archive's identities, the branches' last rows and the archive
    numbers in ``known`` (``save_known``'s file)."""
    global _KNOWN, _ROWS, _NUMBERS, _LOADED
    if known != _LOADED:
        import pickle
        with open(known, "rb") as saved:
            _KNOWN, _ROWS, _NUMBERS = pickle.load(saved)
        _LOADED = known
    from ..archive.schema import stored_texts
    from .validation import ACCEPTED, validate_each
    results = validate_each(paths, config, known_customers=_KNOWN, known_rows=_ROWS, numbers=_NUMBERS)
    for result in results:
        if getattr(result, "status", None) == ACCEPTED:  # the rows as the archive stores them: less for the
            result.stored, result.frames = stored_texts(result.frames), {}  # merging process to do
    return results


def summary_share(path: str, config, period: str, share: tuple[int, int]) -> list[tuple]:
    """A share of the monthly summary: ``reports.monthly.share_figures`` of the customers with ids within
    ``share``, read by this worker from the archive the main process writes (and has committed)."""
    from pathlib import Path

    from ..archive.store import Archive
    from ..reports.monthly import share_figures
    with Archive(Path(path), read_only=True) as archive:
        return share_figures(archive, config, period, share)
