"""SQLite store only: every SPEC §5 access pattern is a key lookup or key range (the query
plan shows SEARCH, never SCAN, of a KPI table). What every store does is in test_contract.py.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from musicstream.settings import Settings
from musicstream.stores import KpiQuery
from musicstream.stores.sqlite import SQLiteStore, statement

from .data import DIMENSION_PATTERNS, PATTERNS

ALL_PATTERNS = {**PATTERNS, **DIMENSION_PATTERNS}


@pytest.fixture
def sqlite_store(sqlite_settings: Settings) -> Iterator[SQLiteStore]:
    s = SQLiteStore(sqlite_settings)
    s.init()
    s.init()  # idempotent
    yield s
    s.close()


def plan(store: SQLiteStore, q: KpiQuery) -> list[str]:
    sql, args = statement(q)
    return [row[-1] for row in store.con.execute(f"explain query plan {sql}", args).fetchall()]


@pytest.mark.parametrize("q", ALL_PATTERNS.values(), ids=ALL_PATTERNS)
def test_access_patterns_never_scan_a_kpi_table(sqlite_store: SQLiteStore, q: KpiQuery) -> None:
    details = plan(sqlite_store, q)
    assert not any(d.startswith("SCAN") and q.table in d for d in details), details
    assert any(d.startswith("SEARCH") and q.table in d for d in details), details
    sqlite_store.query(q)  # and it runs


@pytest.mark.parametrize(
    ("q", "key"),
    [
        (PATTERNS["5 one track over a date range"], "track_id"),
        (PATTERNS["8 one user over a date range"], "user_id"),
    ],
    ids=["track_daily", "user_daily"],
)
def test_one_key_over_a_range_seeks_the_key_on_each_loaded_date(
    sqlite_store: SQLiteStore, q: KpiQuery, key: str
) -> None:
    """Not a walk over every row of the range (a SEARCH on report_date alone would be)."""
    details = plan(sqlite_store, q)
    search = f"SEARCH {q.table} USING PRIMARY KEY (report_date=? AND {key}=?)"
    assert search in details, details


@pytest.mark.parametrize(
    ("q", "key"),
    [
        (DIMENSION_PATTERNS["11 one song"], "(track_id=?)"),
        (DIMENSION_PATTERNS["12 one user"], "(user_id=?)"),
        (PATTERNS["10 one month by its start"], "(period=? AND period_start=?)"),
        (PATTERNS["9 hourly_activity of a date"], "(report_date=?)"),
    ],
    ids=["songs", "users", "active_listeners", "hourly_activity"],
)
def test_new_tables_are_read_by_their_primary_key(
    sqlite_store: SQLiteStore, q: KpiQuery, key: str
) -> None:
    assert f"SEARCH {q.table} USING PRIMARY KEY {key}" in plan(sqlite_store, q)


def test_a_store_made_before_a_table_existed_says_so(sqlite_settings: Settings) -> None:
    """A store file from before user_daily: reading it is a one-line error, not a crash."""
    import sqlite3

    from musicstream.errors import UserError

    assert sqlite_settings.store_path
    with sqlite3.connect(sqlite_settings.store_path) as con:
        con.execute("create table loaded_dates (report_date text primary key)")
    con.close()
    old = SQLiteStore.open_read_only(sqlite_settings)
    try:
        with pytest.raises(UserError, match=r"no user_daily in .* yet: run `musicstream run`"):
            old.query(PATTERNS["8 one user on a date"])
    finally:
        old.close()
