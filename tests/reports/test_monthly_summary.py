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
