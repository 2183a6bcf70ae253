"""The SQLite store: per-date replacement, and every SPEC §5 access pattern served by a key
lookup or key range (SQLite's query plan shows SEARCH, never SCAN of a KPI table)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pyarrow as pa
import pytest

from musicstream.settings import load_settings
from musicstream.stores import KpiQuery
from musicstream.stores.sqlite import SQLiteStore, statement


def tracks(rows: list[tuple[str, int]]) -> pa.Table:
    return pa.Table.from_pylist(
        [
            {
                "track_id": t,
                "track_name": f"n{t}",
                "artists": "A",
                "genre": "pop",
                "listen_count": n,
                "unique_listeners": 1,
                "total_listening_ms": n,
                "avg_listening_ms_per_user": float(n),
            }
            for t, n in rows
        ]
    )


@pytest.fixture
def store(tmp_path: Path):
    s = SQLiteStore(load_settings(lake=str(tmp_path), store_path=str(tmp_path / "kv.sqlite")))
    s.init()
    s.init()  # idempotent
    yield s
    s.close()


def test_replace_date_leaves_exactly_the_new_rows(store: SQLiteStore) -> None:
    d1, d2 = date(2026, 1, 1), date(2026, 1, 2)
    store.replace_date(d1, {"track_daily": tracks([("a", 1), ("b", 2)])})
    store.replace_date(d2, {"track_daily": tracks([("a", 5)])})
    store.replace_date(d1, {"track_daily": tracks([("c", 3)])})  # 'a' and 'b' of d1 are stale
    got = store.query(KpiQuery("track_daily", date_from=d1, date_to=d2, track="a"))
    assert [(r["report_date"], r["listen_count"]) for r in got] == [("2026-01-02", 5)]
    got = store.query(KpiQuery("track_daily", date=d1, track="c"))
    assert [r["listen_count"] for r in got] == [3]
    assert store.query(KpiQuery("track_daily", date=d1, track="b")) == []


PATTERNS = [
    KpiQuery("genre_daily", date=date(2026, 1, 1)),
    KpiQuery("genre_daily", date_from=date(2026, 1, 1), date_to=date(2026, 2, 1), genre="pop"),
    KpiQuery("top_songs_daily", date=date(2026, 1, 1)),
    KpiQuery("top_songs_daily", date=date(2026, 1, 1), genre="pop"),
    KpiQuery("top_genres_daily", date=date(2026, 1, 1)),
    KpiQuery("track_daily", date_from=date(2026, 1, 1), date_to=date(2026, 2, 1), track="a"),
    KpiQuery("country_daily", date=date(2026, 1, 1)),
    KpiQuery("top_artists_daily", date=date(2026, 1, 1)),
]


@pytest.mark.parametrize("q", PATTERNS, ids=lambda q: f"{q.table}-{q.genre or q.track or ''}")
def test_access_patterns_never_scan_a_kpi_table(store: SQLiteStore, q: KpiQuery) -> None:
    sql, args = statement(q)
    plan = store.con.execute(f"explain query plan {sql}", args).fetchall()
    details = [row[-1] for row in plan]
    assert not any(d.startswith("SCAN") and q.table in d for d in details), details
    assert any(d.startswith("SEARCH") and q.table in d for d in details), details
    store.query(q)  # and it runs
