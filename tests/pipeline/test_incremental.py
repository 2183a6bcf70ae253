"""Batches over time: late data, duplicates across batches, dimension updates, re-landed files."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from conftest import Landing, read_curated_streams, read_quarantine, read_table, song
from musicstream import pipeline


def stored(lake: Path, table: str) -> list[dict]:
    con = sqlite3.connect(lake / "_state" / "kpis.sqlite")
    con.row_factory = sqlite3.Row
    return [dict(r) for r in con.execute(f"select * from {table} order by 1, 2")]


def genre_counts(rows: list[dict]) -> dict[tuple[str, str], int]:
    return {(str(r["report_date"]), r["genre"]): r["listen_count"] for r in rows}


def batches(lake: Path) -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted((lake / "_state/batches").glob("*.json"))]


def seed(landing: Landing) -> None:
    landing.songs([song(0, "t1", "pop", 1000, "A"), song(1, "t2", "rock", 2000, "B")])
    landing.users([["u1", "a", 30, "US", ""], ["u2", "b", 30, "FR", ""]])
    landing.streams(
        [
            ["u1", "t1", "2026-01-02 10:00:00", ""],
            ["u2", "t2", "2026-01-03 10:00:00", ""],
        ],
        name="day1.csv",
    )


def test_late_data_restates_its_day_only(lake: Path, landing: Landing, run) -> None:
    seed(landing)
    run(lake)
    untouched = (lake / "kpis/genre_daily/report_date=2026-01-03/data.parquet").stat().st_mtime_ns
    landing.streams([["u2", "t1", "2026-01-02 20:00:00", ""]], name="late.csv")
    summary = run(lake)
    assert summary["dates"] == ["2026-01-02"]
    assert genre_counts(stored(lake, "genre_daily")) == {
        ("2026-01-02", "pop"): 2,
        ("2026-01-03", "rock"): 1,
    }
    after = (lake / "kpis/genre_daily/report_date=2026-01-03/data.parquet").stat().st_mtime_ns
    assert after == untouched


def test_duplicate_events_across_batches_count_once(lake: Path, landing: Landing, run) -> None:
    seed(landing)
    run(lake)
    landing.streams(
        [
            ["u1", "t1", "2026-01-02T10:00:00Z", "999"],  # same instant as batch 1
            ["u1", "t1", "2026-01-02T11:00:00+01:00", ""],  # same instant, offset form
            ["u1", "t2", "2026-01-02 12:00:00", ""],  # new
        ],
        name="again.csv",
    )
    run(lake)
    assert genre_counts(read_table(lake, "genre_daily")) == {
        ("2026-01-02", "pop"): 1,
        ("2026-01-02", "rock"): 1,
        ("2026-01-03", "rock"): 1,
    }
    assert [r["reasons"] for r in read_quarantine(lake, "streams")] == ["duplicate_event"] * 2
    assert len(read_curated_streams(lake)) == 3


def test_dimension_update_restates_when_recomputed(
    lake: Path, landing: Landing, run, settings_for
) -> None:
    seed(landing)
    run(lake)
    landing.songs([song(0, "t1", "rock", 1000, "A")], name="songs-v2.csv")  # t1 moves genre
    landing.streams([["u2", "t2", "2026-01-02 23:00:00", ""]], name="more.csv")
    run(lake)
    # 2026-01-02 was recomputed with t1 as rock: no stale 'pop' row in lake or store
    assert genre_counts(stored(lake, "genre_daily"))[("2026-01-02", "rock")] == 2
    assert ("2026-01-02", "pop") not in genre_counts(stored(lake, "genre_daily"))
    assert ("2026-01-02", "pop") not in genre_counts(read_table(lake, "genre_daily"))
    landing.users([["u2", "b", 30, "DE", ""]], name="users-v2.csv")  # u2 moves country
    run(lake)
    countries = {(str(r["report_date"]), r["country"]) for r in stored(lake, "country_daily")}
    assert ("2026-01-03", "FR") in countries  # not recomputed yet
    pipeline.backfill(settings_for(lake), date(2026, 1, 3), date(2026, 1, 3))
    countries = {(str(r["report_date"]), r["country"]) for r in stored(lake, "country_daily")}
    assert ("2026-01-03", "DE") in countries and ("2026-01-03", "FR") not in countries


def test_same_file_landed_twice_is_processed_once(lake: Path, landing: Landing, run) -> None:
    seed(landing)
    body = (lake / "landing/streams/day1.csv").read_bytes()
    (lake / "landing/streams/zz-copy-in-same-batch.csv").write_bytes(body)
    run(lake)
    (lake / "landing/streams/sub").mkdir()
    (lake / "landing/streams/sub/relanded.csv").write_bytes(body)
    summary = run(lake)
    assert summary["dates"] == []
    assert len(read_curated_streams(lake)) == 2
    files = {f["path"]: f for b in batches(lake) for f in b["files"]}
    assert (
        files["landing/streams/zz-copy-in-same-batch.csv"]["duplicate_of"]
        == "landing/streams/day1.csv"
    )
    assert files["landing/streams/sub/relanded.csv"]["duplicate_of"] == "landing/streams/day1.csv"
    assert not list((lake / "landing").rglob("*.csv"))
    second = batches(lake)[1]["batch_id"]
    assert list((lake / "archive/streams").glob(f"*/{second}/sub/relanded.csv"))


def test_archive_and_quarantine_are_append_only(lake: Path, landing: Landing, run) -> None:
    seed(landing)
    landing.streams([["ghost", "t1", "2026-01-02 10:00:00", ""]], name="bad1.csv")
    run(lake)
    landing.streams([["ghost2", "t1", "2026-01-02 10:00:00", ""]], name="bad1-resent.csv")
    run(lake)
    ids = [b["batch_id"] for b in batches(lake)]
    parts = sorted(p.parent.name for p in (lake / "quarantine/streams").glob("*/*.parquet"))
    assert parts == [f"batch_id={i}" for i in ids]
    archived = sorted(p.name for p in (lake / "archive").rglob("*.csv"))
    assert archived == ["bad1-resent.csv", "bad1.csv", "day1.csv", "songs.csv", "users.csv"]


def test_nothing_new_is_a_clean_no_op(lake: Path, run) -> None:
    summary = run(lake)
    assert summary["status"] == "nothing_new"
    assert not (lake / "_state/batches").exists() or not list((lake / "_state/batches").iterdir())


def test_batches_planned_in_one_second_sort_in_the_order_planned(
    lake: Path, landing: Landing, settings_for
) -> None:
    """Batch ids sort by their clock's second; a second batch in the same second takes the
    next one, whatever the content hash after it says (it once ordered same-second batches)."""
    clock = datetime(2026, 2, 1, 12, 0, tzinfo=UTC)
    seed(landing)
    pipeline.run(settings_for(lake), clock=clock)
    for n in range(5):
        landing.streams([["u1", "t1", f"2026-01-0{n + 4} 10:00:00", ""]], name=f"more{n}.csv")
        pipeline.run(settings_for(lake), clock=clock)
    recorded = batches(lake)
    assert [len(b["files"]) for b in recorded] == [3, 1, 1, 1, 1, 1]  # seed first, in order
    assert [b["files"][0]["path"] for b in recorded[1:]] == [
        f"landing/streams/more{n}.csv" for n in range(5)
    ]
    assert [b["clock"] for b in recorded] == [
        (clock + timedelta(seconds=n)).isoformat() for n in range(6)
    ]
