"""The store's record of finished loads (``/health``), on every store: none before the first,
then always the newest, with the latest date any load has put in the store."""

from __future__ import annotations

from datetime import date

from musicstream.stores import Load, Store


def test_a_fresh_store_has_no_load(store: Store) -> None:
    assert store.last_load() is None


def test_the_newest_load_is_the_last_and_the_latest_date_never_goes_back(store: Store) -> None:
    first = Load.now("b1", [date(2026, 1, 3), date(2026, 1, 1)], store.last_load())
    store.record_load(first)
    assert store.last_load() == first
    assert (first.dates, first.date_from, first.date_to) == (2, "2026-01-01", "2026-01-03")
    late = Load.now("b2", [date(2025, 12, 31)], store.last_load())  # late data, older date
    store.record_load(late)
    assert store.last_load() == late
    assert late.latest_date == "2026-01-03"
    assert late.finished_at > first.finished_at
    empty = Load.now("backfill", [], store.last_load())
    store.record_load(empty)
    assert store.last_load() == empty
    assert (empty.dates, empty.date_from, empty.latest_date) == (0, None, "2026-01-03")
