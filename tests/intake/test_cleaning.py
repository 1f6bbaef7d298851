"""Cleaning a whole column at once gives exactly what cleaning it cell by cell gives."""
from __future__ import annotations

import datetime as dt
import random

import pandas as pd
import pytest

from pipeline.intake import cleaning
from schemas.columns import DATA_SHEETS, DATE, DATETIME, ENUM, NUMBER

COLUMNS = [c for sheet in DATA_SHEETS for c in sheet.columns if c.kind in (NUMBER, DATE, DATETIME, ENUM)]


def _cell(rng: random.Random, column, usual: bool):
    """A raw cell as calamine gives it: mostly of the column's usual kind, or anything a clerk may type."""
    if column.kind == NUMBER:
        usual_cells = [rng.uniform(-1e6, 1e9), rng.randrange(10**6), 0.0, -0.0, ""]
    elif column.kind in (DATE, DATETIME):
        usual_cells = [dt.datetime(rng.randrange(1990, 2030), rng.randrange(1, 13), rng.randrange(1, 29),
                                   rng.randrange(24), rng.randrange(60), rng.randrange(60), rng.randrange(10**6)), ""]
    else:
        usual_cells = [*column.allowed, ""]
    odd = [True, 1.5, "12万", " 3,000 ", "(5)", float("nan"), float("inf"), "无", "-", "/", " 是 ", "a", "ａ",
           "2026-01-02", "2026年1月2日 9:30", 45000.0, 45000, dt.datetime(1800, 1, 1), dt.time(0, 0),
           dt.date(2026, 1, 2), None, "否", "A", "b"]
    return rng.choice(usual_cells if usual else odd)


@pytest.mark.parametrize("seed", range(6))
def test_a_whole_column_is_cleaned_as_cell_by_cell(seed, monkeypatch):
    rng = random.Random(seed)
    for column in COLUMNS:
        for odd_share in (0, 0, 0.02, 0.5):  # all usual (the fast way), or a few odd cells (cell by cell)
            cells = [_cell(rng, column, rng.random() >= odd_share) for _ in range(rng.randrange(1, 40))]
            raw = pd.DataFrame({column.key: pd.Series(cells, dtype=object), "_row": range(2, 2 + len(cells))})
            fast, fast_failures = cleaning.clean_frame(raw, [column])
            with monkeypatch.context() as m:
                m.setattr(cleaning, "_whole_column", lambda *args: None)
                slow, slow_failures = cleaning.clean_frame(raw, [column])
            pd.testing.assert_frame_equal(fast, slow)
            assert [(i, c.key, repr(v)) for i, c, v in fast_failures] == \
                [(i, c.key, repr(v)) for i, c, v in slow_failures]


def test_usual_columns_take_the_whole_column_way(monkeypatch):
    monkeypatch.setattr(cleaning, "clean_value", lambda *args: pytest.fail("cleaned cell by cell"))
    number = next(c for c in COLUMNS if c.kind == NUMBER)
    date = next(c for c in COLUMNS if c.kind == DATE)
    listed = next(c for c in COLUMNS if c.kind == ENUM and c.default is None)
    raw = pd.DataFrame({number.key: [1.5, "", 3], date.key: [dt.datetime(2026, 1, 2, 9, 30), "", dt.datetime(2026, 2, 1)],
                        listed.key: [listed.allowed[0], "", listed.allowed[-1]], "_row": [2, 3, 4]})
    frame, failures = cleaning.clean_frame(raw, [number, date, listed])
    assert not failures
    assert frame[number.key].tolist()[::2] == [1.5, 3.0] and pd.isna(frame[number.key].iloc[1])
    assert frame[date.key].iloc[0] == pd.Timestamp(2026, 1, 2) and pd.isna(frame[date.key].iloc[1])
    assert frame[listed.key].tolist() == [listed.allowed[0], None, listed.allowed[-1]]


@pytest.mark.parametrize("sheet", DATA_SHEETS, ids=lambda s: s.key)
def test_no_rows_give_the_frame_cleaning_gives(sheet):
    """A sheet whose every row repeats the last file leaves no rows to clean: the typed empty frame is made
    once and handed out as a copy, the same as cleaning no rows gives (the index of the rows picked too)."""
    columns = list(sheet.read_columns)
    raw = pd.DataFrame({c.key: ["x", "y"] for c in columns} | {"_row": pd.array([5, 6], dtype="int64")})
    for empty in (raw[raw["_row"] > 9], raw.iloc[:0], pd.DataFrame({c.key: [] for c in columns[:3]})):
        frame, failures = cleaning.clean_frame(empty, columns)
        expected, _ = cleaning._cleaned(empty, columns)
        pd.testing.assert_frame_equal(frame, expected)
        assert failures == [] and list(frame.columns) == [c.key for c in columns] + ["_row"]
        frame["extra"] = 1  # the caller's copy: the next sheet's frame is not changed by it
        frame.loc[len(frame), columns[0].key] = "z"
    assert list(cleaning.clean_frame(raw.iloc[:0], columns)[0].columns) == [c.key for c in columns] + ["_row"]


def test_a_figure_a_spreadsheet_recalculated_is_the_figure_typed(monkeypatch):
    # LibreOffice saves 1000.5 − 10.13 as 990.370000000001: the archive keeps 990.37 either way, to a hundredth of
    # a yuan (amounts are in 万元).
    number = next(c for c in COLUMNS if c.kind == NUMBER)
    raw = pd.DataFrame({number.key: [990.370000000001, 1000.5 - 10.13, 0.000001, 12.3456789], "_row": [2, 3, 4, 5]})
    fast, _ = cleaning.clean_frame(raw, [number])
    assert fast[number.key].tolist() == [990.37, 990.37, 0.000001, 12.345679]
    assert cleaning.clean_value("990.370000000001", number) == 990.37


def test_a_recalculated_figure_sent_again_is_no_change(tmp_path):
    from builders import example_row, ingest
    from pipeline.archive import Archive
    with Archive(tmp_path / "a.sqlite") as archive:
        ingest(archive, tmp_path, "x", customers=[example_row("customers")],
               projects=[example_row("projects", cost=10.13, amount=1000.5, profit=990.37)])
        ingest(archive, tmp_path, "y", period="2026-11", when="2026-11-20T10:00", customers=[example_row("customers")],
               projects=[example_row("projects", cost=10.13, amount=1000.5, profit=990.370000000001)])
        assert archive.history().empty
        assert archive.snapshot()["projects"]["profit"].tolist() == [990.37]
