"""SQLite store only: every SPEC §5 access pattern is a key lookup or key range (the query
plan shows SEARCH, never SCAN, of a KPI table). What every store does is in test_contract.py.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from musicstream.settings import Settings
from musicstream.stores import KpiQuery
from musicstream.stores.sqlite import SQLiteStore, statement

from .data import PATTERNS


@pytest.fixture
def sqlite_store(sqlite_settings: Settings) -> Iterator[SQLiteStore]:
    s = SQLiteStore(sqlite_settings)
    s.init()
    s.init()  # idempotent
    yield s
    s.close()


@pytest.mark.parametrize("q", PATTERNS.values(), ids=PATTERNS)
def test_access_patterns_never_scan_a_kpi_table(sqlite_store: SQLiteStore, q: KpiQuery) -> None:
    sql, args = statement(q)
    plan = sqlite_store.con.execute(f"explain query plan {sql}", args).fetchall()
    details = [row[-1] for row in plan]
    assert not any(d.startswith("SCAN") and q.table in d for d in details), details
    assert any(d.startswith("SEARCH") and q.table in d for d in details), details
    sqlite_store.query(q)  # and it runs
