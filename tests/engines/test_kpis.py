"""Golden KPI tests: a small hand-made day, every KPI column computed by hand (SPEC §3)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from conftest import Landing, land_first, read_table, song
from kpi_helpers import assert_same
from musicstream import layout
from musicstream.datasets import BATCH_QUALITY, CURATED, DAY_LISTENERS, KPIS, QUARANTINE, Table

D2, D3 = "2026-01-02", "2026-01-03"


@pytest.fixture
def golden_lake(lake: Path, landing: Landing, run) -> Path:
    landing.songs(
        [
            song(0, "t1", "pop", 100_000, "A;B"),
            song(1, "t2", "pop", 200_000, "B"),
            song(2, "t3", "rock", 300_000, "C; A ;"),
            song(3, "t4", "rock", 50_000, ""),
            song(4, "t5", "jazz", 10_000, "D"),
            song(5, "t6", "jazz", 20_000, "D"),
        ]
    )
    landing.users(
        [
            ["u1", "a", 30, "US", ""],
            ["u2", "b", 30, "FR", ""],
            ["u3", "c", 30, "", ""],
            ["u4", "d", 30, "US", ""],
        ]
    )
    landing.streams(
        [
            ["u1", "t1", "2026-01-02 10:00:00", 50_000],
            ["u1", "t1", "2026-01-02 11:00:00", ""],
            ["u2", "t1", "2026-01-02 12:00:00", 10_000],
            ["u2", "t2", "2026-01-02 13:00:00", ""],
            ["u3", "t3", "2026-01-02 14:00:00", 1_000],
            ["u4", "t4", "2026-01-02 15:00:00", ""],
            ["u1", "t2", "2026-01-03T01:30:00+02:00", 7],  # UTC: 2026-01-02 23:30
            ["u2", "t3", "2026-01-02T23:30:00-01:00", 3_000],  # UTC: 2026-01-03 00:30
            ["u3", "t3", "2026-01-03 05:00:00", ""],
            ["u1", "t5", "2026-01-03 06:00:00", ""],
            ["u1", "t5", "2026-01-03 07:00:00", ""],
            ["u1", "t6", "2026-01-03 08:00:00", ""],
            ["u2", "t6", "2026-01-03 09:00:00", ""],
        ]
    )
    run(lake)
    return lake


def test_genre_daily(golden_lake: Path) -> None:
    assert_same(
        "genre_daily",
        read_table(golden_lake, "genre_daily"),
        [
            {
                "report_date": D2,
                "genre": "pop",
                "listen_count": 5,
                "unique_listeners": 2,
                "total_listening_ms": 360_007,
                "avg_listening_ms_per_stream": 72_001.4,
                "avg_listening_ms_per_user": 180_003.5,
            },
            {
                "report_date": D2,
                "genre": "rock",
                "listen_count": 2,
                "unique_listeners": 2,
                "total_listening_ms": 51_000,
                "avg_listening_ms_per_stream": 25_500.0,
                "avg_listening_ms_per_user": 25_500.0,
            },
            {
                "report_date": D3,
                "genre": "rock",
                "listen_count": 2,
                "unique_listeners": 2,
                "total_listening_ms": 303_000,
                "avg_listening_ms_per_stream": 151_500.0,
                "avg_listening_ms_per_user": 151_500.0,
            },
            {
                "report_date": D3,
                "genre": "jazz",
                "listen_count": 4,
                "unique_listeners": 2,
                "total_listening_ms": 60_000,
                "avg_listening_ms_per_stream": 15_000.0,
                "avg_listening_ms_per_user": 30_000.0,
            },
        ],
    )


def test_top_songs_daily_ties(golden_lake: Path) -> None:
    def row(d, g, rank, t, artists, n, u):
        return {
            "report_date": d,
            "genre": g,
            "rank": rank,
            "track_id": t,
            "track_name": f"Song {t}",
            "artists": artists,
            "listen_count": n,
            "unique_listeners": u,
        }

    assert_same(
        "top_songs_daily",
        read_table(golden_lake, "top_songs_daily"),
        [
            row(D2, "pop", 1, "t1", "A;B", 3, 2),
            row(D2, "pop", 2, "t2", "B", 2, 2),
            # equal counts and listeners: track_id decides (an empty artists field is NULL)
            row(D2, "rock", 1, "t3", "C; A ;", 1, 1),
            row(D2, "rock", 2, "t4", None, 1, 1),
            row(D3, "rock", 1, "t3", "C; A ;", 2, 2),
            # equal counts: more listeners first, though t5 sorts before t6
            row(D3, "jazz", 1, "t6", "D", 2, 2),
            row(D3, "jazz", 2, "t5", "D", 2, 1),
        ],
    )


def test_top_genres_daily(golden_lake: Path) -> None:
    assert_same(
        "top_genres_daily",
        read_table(golden_lake, "top_genres_daily"),
        [
            {
                "report_date": D2,
                "rank": 1,
                "genre": "pop",
                "listen_count": 5,
                "unique_listeners": 2,
                "total_listening_ms": 360_007,
            },
            {
                "report_date": D2,
                "rank": 2,
                "genre": "rock",
                "listen_count": 2,
                "unique_listeners": 2,
                "total_listening_ms": 51_000,
            },
            {
                "report_date": D3,
                "rank": 1,
                "genre": "jazz",
                "listen_count": 4,
                "unique_listeners": 2,
                "total_listening_ms": 60_000,
            },
            {
                "report_date": D3,
                "rank": 2,
                "genre": "rock",
                "listen_count": 2,
                "unique_listeners": 2,
                "total_listening_ms": 303_000,
            },
        ],
    )


def test_track_daily(golden_lake: Path) -> None:
    def row(t, d, artists, genre, n, u, total):
        return {
            "track_id": t,
            "report_date": d,
            "track_name": f"Song {t}",
            "artists": artists,
            "genre": genre,
            "listen_count": n,
            "unique_listeners": u,
            "total_listening_ms": total,
            "avg_listening_ms_per_user": total / u,
        }

    assert_same(
        "track_daily",
        read_table(golden_lake, "track_daily"),
        [
            row("t1", D2, "A;B", "pop", 3, 2, 160_000),
            row("t2", D2, "B", "pop", 2, 2, 200_007),
            row("t3", D2, "C; A ;", "rock", 1, 1, 1_000),
            row("t4", D2, None, "rock", 1, 1, 50_000),
            row("t3", D3, "C; A ;", "rock", 2, 2, 303_000),
            row("t5", D3, "D", "jazz", 2, 1, 20_000),
            row("t6", D3, "D", "jazz", 2, 2, 40_000),
        ],
    )


def test_country_daily_unknown(golden_lake: Path) -> None:
    def row(d, c, n, u, total):
        return {
            "report_date": d,
            "country": c,
            "listen_count": n,
            "unique_listeners": u,
            "total_listening_ms": total,
        }

    assert_same(
        "country_daily",
        read_table(golden_lake, "country_daily"),
        [
            row(D2, "US", 4, 2, 200_007),
            row(D2, "FR", 2, 1, 210_000),
            row(D2, "Unknown", 1, 1, 1_000),
            row(D3, "US", 3, 1, 40_000),
            row(D3, "FR", 2, 1, 23_000),
            row(D3, "Unknown", 1, 1, 300_000),
        ],
    )


def test_top_artists_daily_multi_artist(golden_lake: Path) -> None:
    def row(d, rank, a, n, u):
        return {
            "report_date": d,
            "rank": rank,
            "artist": a,
            "listen_count": n,
            "unique_listeners": u,
        }

    assert_same(
        "top_artists_daily",
        read_table(golden_lake, "top_artists_daily"),
        [
            row(D2, 1, "B", 5, 2),
            row(D2, 2, "A", 4, 3),
            row(D2, 3, "C", 1, 1),
            row(D3, 1, "D", 4, 2),
            row(D3, 2, "A", 2, 2),
            row(D3, 3, "C", 2, 2),
        ],
    )


def test_store_holds_exactly_the_lake_rows(golden_lake: Path) -> None:
    con = sqlite3.connect(golden_lake / "_state" / "kpis.sqlite")
    con.row_factory = sqlite3.Row
    for table in KPIS:
        stored = [dict(r) for r in con.execute(f"select * from {table}")]
        assert_same(table, stored, read_table(golden_lake, table))


def test_top_n_is_configurable(lake: Path, landing: Landing, run) -> None:
    landing.songs([song(0, "t1", "pop", 1000, "A;B;C"), song(1, "t2", "pop", 1000, "D")])
    landing.users([["u1", "a", 30, "US", ""]])
    landing.streams(
        [["u1", "t1", "2026-01-02 10:00:00", ""], ["u1", "t2", "2026-01-02 11:00:00", ""]]
    )
    run(lake, top_n={"songs": 1, "genres": 1, "artists": 2})
    assert [r["track_id"] for r in read_table(lake, "top_songs_daily")] == ["t1"]
    assert [
        r["artist"] for r in sorted(read_table(lake, "top_artists_daily"), key=lambda r: r["rank"])
    ] == ["A", "B"]


def test_top_artists_ties_at_the_nth_count_are_ranked_by_listeners(
    lake: Path, landing: Landing, run
) -> None:
    """Only artists with at least the day's Nth count are ranked: one tied with the Nth on
    streams still wins on listeners, one a stream short never ranks whatever its listeners."""
    tracks = [("tA", "A"), ("tB", "B"), ("tC", "C"), ("tD", "D")]
    landing.songs([song(i, t, "pop", 1000, a) for i, (t, a) in enumerate(tracks)])
    landing.users([[f"u{i}", "a", 30, "US", ""] for i in range(1, 5)])
    plays = [("u1", "tA")] * 3 + [("u1", "tC")] * 2 + [("u1", "tB"), ("u2", "tB"), ("u3", "tD")]
    landing.streams([[u, t, f"2026-01-02 10:{i:02d}:00", ""] for i, (u, t) in enumerate(plays)])
    run(lake, top_n={"songs": 3, "genres": 5, "artists": 2})
    rows = sorted(read_table(lake, "top_artists_daily"), key=lambda r: r["rank"])
    assert [(r["artist"], r["listen_count"], r["unique_listeners"]) for r in rows] == [
        ("A", 3, 1),
        ("B", 2, 2),
    ]


def _declared(rel: str) -> Table:
    """The table datasets.py declares for a lake file."""
    kind, name = rel.split("/")[:2]
    if kind == layout.KPIS:
        return {**KPIS, layout.BATCH_QUALITY: BATCH_QUALITY, DAY_LISTENERS.name: DAY_LISTENERS}[
            name
        ]
    return {layout.CURATED: CURATED, layout.QUARANTINE: QUARANTINE}[kind][name]


def test_lake_files_have_the_declared_schemas(lake: Path, landing: Landing, run) -> None:
    """datasets.py is the one source of every schema: each file written matches it."""
    land_first(landing)
    landing.streams([["u1", "t1"]], name="short.csv", header=["user_id", "track_id"])
    run(lake)
    files = [p.relative_to(lake).as_posix() for p in sorted(lake.rglob("*.parquet"))]
    written = [f for f in files if not f.startswith(layout.STATE)]
    assert {f.split("/")[0] for f in written} == {"kpis", "curated", "quarantine"}
    assert any(f.startswith(layout.quarantine("files", "")) for f in written)
    for rel in written:  # names and types; DuckDB 2 marks columns it proves non-null required
        found = [(f.name, f.type) for f in pq.read_schema(lake / rel)]
        assert found == [(f.name, f.type) for f in _declared(rel).arrow_schema()], rel
