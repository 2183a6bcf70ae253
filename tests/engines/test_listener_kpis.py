"""Golden tests of the listener tables (SPEC §3): user_daily, hourly_activity and
active_listeners, every column worked out by hand.

The dates straddle a year: Wed 2025-12-31, Thu 2026-01-01 and Sat 2026-01-03 share the ISO
week Mon 2025-12-29 .. Sun 2026-01-04, which spans a month and a year boundary. Offsets move
listens across midnight; users are created on a bare date, with an offset that changes the
UTC date, long before, or never. A second, late batch restates an already computed week and
both months.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from conftest import Landing, read_table, song
from kpi_helpers import assert_same
from musicstream import layout
from musicstream.datasets import DAY_LISTENERS

D1, D2, D3 = "2025-12-31", "2026-01-01", "2026-01-03"
WEEK, DEC, JAN = "2025-12-29", "2025-12-01", "2026-01-01"


def _row(table: str, *values: Any) -> dict[str, Any]:
    names = {
        "user_daily": (
            "report_date",
            "user_id",
            "listen_count",
            "unique_tracks",
            "total_listening_ms",
            "top_genre",
        ),
        "hourly_activity": (
            "report_date",
            "hour",
            "listen_count",
            "unique_listeners",
            "total_listening_ms",
        ),
        "active_listeners": (
            "period",
            "period_start",
            "period_end",
            "listeners",
            "new_listeners",
            "listen_count",
            "total_listening_ms",
        ),
    }[table]
    return dict(zip(names, values, strict=True))


@pytest.fixture
def listener_lake(lake: Path, landing: Landing, run) -> Path:
    landing.songs(
        [
            song(0, "s1", "pop", 100_000, "A"),
            song(1, "s2", "rock", 100_000, "B"),
            song(2, "s3", "jazz", 50_000, "C"),
            song(3, "s4", "pop", 60_000, "D"),
        ]
    )
    landing.users(
        [
            ["u1", "a", 30, "US", "2025-12-30"],  # a bare date
            ["u2", "b", 30, "FR", "2026-01-02T23:30:00-02:00"],  # UTC: 2026-01-03 01:30
            ["u3", "c", 30, "", ""],  # no created_at: never new
            ["u4", "d", 30, "US", "2020-05-05 10:00:00"],
        ]
    )
    landing.streams(
        [
            ["u1", "s1", "2025-12-31 23:59:59", 10_000],
            ["u1", "s2", "2026-01-01T00:30:00+01:00", ""],  # UTC: 2025-12-31 23:30
            ["u1", "s3", "2025-12-31 10:00:00", ""],
            # u2 on D1: pop 2 streams / 10 000 ms, rock 2 / 10 000: tie → pop (name)
            ["u2", "s1", "2025-12-31 12:00:00", 5_000],
            ["u2", "s4", "2025-12-31 12:10:00", 5_000],
            ["u2", "s2", "2025-12-31 12:20:00", 5_000],
            ["u2", "s2", "2025-12-31 12:30:00", 5_000],
            ["u3", "s3", "2026-01-01T01:00:00+02:00", ""],  # UTC: 2025-12-31 23:00
            ["u3", "s1", "2026-01-01 00:00:00", 1_000],
            ["u4", "s1", "2026-01-01 23:59:59.999", 2_000],
            ["u2", "s3", "2026-01-03 00:00:00", ""],
        ]
    )
    run(lake)
    return lake


def test_user_daily(listener_lake: Path) -> None:
    assert_same(
        "user_daily",
        read_table(listener_lake, "user_daily"),
        [
            # u1: one stream each of pop, rock, jazz: tie on count → rock has the most ms
            _row("user_daily", D1, "u1", 3, 3, 160_000, "rock"),
            _row("user_daily", D1, "u2", 4, 3, 20_000, "pop"),
            _row("user_daily", D1, "u3", 1, 1, 50_000, "jazz"),
            _row("user_daily", D2, "u3", 1, 1, 1_000, "pop"),
            _row("user_daily", D2, "u4", 1, 1, 2_000, "pop"),
            _row("user_daily", D3, "u2", 1, 1, 50_000, "jazz"),
        ],
    )


def test_hourly_activity(listener_lake: Path) -> None:
    assert_same(
        "hourly_activity",
        read_table(listener_lake, "hourly_activity"),
        [
            _row("hourly_activity", D1, 10, 1, 1, 50_000),
            _row("hourly_activity", D1, 12, 4, 1, 20_000),
            _row("hourly_activity", D1, 23, 3, 2, 160_000),  # two moved here by offsets
            _row("hourly_activity", D2, 0, 1, 1, 1_000),
            _row("hourly_activity", D2, 23, 1, 1, 2_000),
            _row("hourly_activity", D3, 0, 1, 1, 50_000),
        ],
    )


FIRST_BATCH = [
    _row("active_listeners", "day", D1, D1, 3, 0, 8, 230_000),
    _row("active_listeners", "day", D2, D2, 2, 0, 2, 3_000),
    _row("active_listeners", "day", D3, D3, 1, 1, 1, 50_000),  # u2: created D3 in UTC
    # the week across both boundaries: u1 (created 12-30) and u2 (01-03) are new in it
    _row("active_listeners", "week", WEEK, "2026-01-04", 4, 2, 11, 283_000),
    _row("active_listeners", "month", DEC, D1, 3, 1, 8, 230_000),
    _row("active_listeners", "month", JAN, "2026-01-31", 3, 1, 3, 53_000),
]


def test_active_listeners(listener_lake: Path) -> None:
    assert_same("active_listeners", read_table(listener_lake, "active_listeners"), FIRST_BATCH)


@pytest.mark.parametrize("before", ["as_run", "no_listener_days", "streams_lost"])
def test_late_batch_restates_its_week_and_months(
    listener_lake: Path, landing: Landing, run, before: str
) -> None:
    """The week's and months' other dates come from their ``_day_listeners`` rows; a lake
    without those (written before them) reads those dates' streams instead, to the same
    rows. ``streams_lost``: D1's curated streams are gone, and the week still counts them
    (its stored listener day, not its streams, is read)."""
    if before == "no_listener_days":
        shutil.rmtree(listener_lake / layout.kpi_table(DAY_LISTENERS.name))
    elif before == "streams_lost":
        [d1] = (listener_lake / layout.stream_day(D1)).iterdir()
        d1.unlink()
    landing.users([["u5", "e", 20, "DE", "2026-01-02"]], name="users2.csv")
    landing.streams(
        [
            ["u4", "s4", "2026-01-02 08:00:00", ""],
            ["u5", "s1", "2026-01-02 09:00:00", 1_000],
            ["u3", "s4", "2025-12-15 08:00:00", 3_000],
        ],
        name="late.csv",
    )
    run(listener_lake)
    restated = {("week", WEEK), ("month", DEC), ("month", JAN)}
    untouched = [r for r in FIRST_BATCH if (r["period"], r["period_start"]) not in restated]
    assert_same(
        "active_listeners",
        read_table(listener_lake, "active_listeners"),
        [
            *untouched,  # the days no batch touched keep their rows
            _row("active_listeners", "day", "2026-01-02", "2026-01-02", 2, 1, 2, 61_000),
            _row("active_listeners", "day", "2025-12-15", "2025-12-15", 1, 0, 1, 3_000),
            _row("active_listeners", "week", "2025-12-15", "2025-12-21", 1, 0, 1, 3_000),
            _row("active_listeners", "week", WEEK, "2026-01-04", 5, 3, 13, 344_000),
            _row("active_listeners", "month", DEC, D1, 3, 1, 9, 233_000),
            _row("active_listeners", "month", JAN, "2026-01-31", 4, 2, 5, 114_000),
        ],
    )


def test_a_period_takes_song_durations_as_they_stand_when_it_is_computed(
    listener_lake: Path, landing: Landing, run
) -> None:
    """s3 (50 000 ms) gets 80 000 ms; a late stream restates the week and January, whose
    other dates' three s3 streams without ms_played (two on D1, one on D3) now count
    80 000 each: their stored listener days keep those streams by track, not their ms."""
    landing.songs([song(2, "s3", "jazz", 80_000, "C")], name="songs2.csv")
    landing.streams([["u4", "s1", "2026-01-02 08:00:00", 1_000]], name="late.csv")
    run(listener_lake)
    rows = {
        (r["period"], r["period_start"]): r for r in read_table(listener_lake, "active_listeners")
    }
    assert_same(
        "active_listeners",
        [rows["week", WEEK], rows["month", JAN], rows["month", DEC]],
        [
            _row("active_listeners", "week", WEEK, "2026-01-04", 4, 2, 12, 283_000 + 91_000),
            _row("active_listeners", "month", JAN, "2026-01-31", 3, 1, 4, 53_000 + 31_000),
            FIRST_BATCH[4],  # December: no date of it computed, as it was
        ],
    )
