"""The monthly summary reads the archive in parts of customers: the figures are those of the whole archive."""
from __future__ import annotations

import pandas as pd
import pytest

from pipeline.archive import Archive
from pipeline.config import load_config
from pipeline.reports.monthly import monthly_summary

FIGURES = ("status", "files", "new_customers", "changes", "conflicts", "complaints", "contacts")


@pytest.mark.parametrize("period", ["2026-03", "2026-09", "2026-12"])
def test_parts_of_a_few_customers_give_the_whole_archive_s_figures(sample_year, monkeypatch, period):
    config = load_config(sample_year.config_path)
    with Archive(sample_year.archive_path) as archive:
        whole = monthly_summary(archive, config, period)
        monkeypatch.setattr(Archive, "SNAPSHOT_PART", 4)
        parts = list(archive.snapshot_parts(period))
        in_parts = monthly_summary(archive, config, period)
        full = archive.snapshot(period)
    assert len(parts) > 3
    customers = pd.concat([p["customers"] for p in parts], ignore_index=True)
    pd.testing.assert_frame_equal(customers, full["customers"])
    for entity in ("customer_branches", "projects", "complaints", "visits"):  # every record in one part
        assert sum(len(p[entity]) for p in parts) == len(full[entity])
    assert len(whole.new_customers) and len(whole.contacts)  # figures worth comparing
    for name in FIGURES:
        pd.testing.assert_frame_equal(getattr(in_parts, name), getattr(whole, name), obj=name)


def test_the_summary_reads_in_parts_inside_a_command_s_read_transaction(sample_year):
    """Commands that only read the archive hold one read transaction (``Archive.reading``); the parts are read
    inside it, not in a transaction of their own."""
    config = load_config(sample_year.config_path)
    with Archive(sample_year.archive_path) as archive:
        with archive.reading():
            inside = monthly_summary(archive, config, "2026-10")
            assert archive.conn.in_transaction
        assert not archive.conn.in_transaction
        outside = monthly_summary(archive, config, "2026-10")
    for name in FIGURES:
        pd.testing.assert_frame_equal(getattr(inside, name), getattr(outside, name), obj=name)


class _FailingPool:
    """A stand-in for the workers whose every part fails (a worker that died, or a bug there)."""

    def __init__(self):
        self.asked = 0

    def submit(self, fn, *args):
        from concurrent.futures import Future
        self.asked += 1
        future = Future()
        future.set_exception(RuntimeError("a worker died"))
        return future


@pytest.mark.parametrize("real", [True, False])
def test_parts_shared_with_the_workers_give_the_same_figures(sample_year, monkeypatch, real):
    """The workers read their parts of the archive themselves; a part they fail on is done in this process."""
    from types import SimpleNamespace

    from pipeline.intake import worker
    from pipeline.intake.worker import PARALLEL_FROM, Workers
    from pipeline.reports import monthly
    config = load_config(sample_year.config_path)
    with Archive(sample_year.archive_path) as archive:
        alone = monthly_summary(archive, config, "2026-09")
        monkeypatch.setattr(worker, "SHARED_FROM", 2)
        monkeypatch.setattr(Archive, "SNAPSHOT_PART", 5)
        answered = []
        monkeypatch.setattr(monthly, "_answer", lambda future, done=monthly._answer: answered.append(done(future))
                            or answered[-1])
        with Workers() as workers:
            if real:
                workers.start(PARALLEL_FROM)
            else:
                workers = SimpleNamespace(pool=_FailingPool(), count=1)
            shared = monthly_summary(archive, config, "2026-09", workers)
            if not real:
                assert workers.pool.asked > 1  # half the parts were asked for
    assert len(answered) > 1 and all(answered) == real  # the workers' figures were used, or none were
    for name in FIGURES:
        pd.testing.assert_frame_equal(getattr(shared, name), getattr(alone, name), obj=name)


def test_the_parts_are_even_and_shared_only_when_worth_it(sample_year):
    with Archive(sample_year.archive_path) as archive:
        every = [cid for (cid,) in archive.conn.execute("SELECT id FROM customers ORDER BY id")]
        for customers, shares, least, expected in [(5, 1, 1, -(-len(every) // 5)), (5, 3, 1, None),
                                                   (len(every), 2, 1, 2), (len(every), 2, len(every), 1)]:
            bounds = archive.snapshot_bounds(None, customers, shares=shares, least=least)
            if expected is not None:
                assert len(bounds) == expected, (customers, shares, least)
            else:
                assert len(bounds) % shares == 0
            sizes = [sum(low <= cid <= high for cid in every) for low, high in bounds]
            assert sum(sizes) == len(every) and max(sizes) <= customers and max(sizes) - min(sizes) <= 1
