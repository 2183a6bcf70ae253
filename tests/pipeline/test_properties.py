"""Property tests: KPIs are a pure function of the kept streams and the dimensions —
whatever the batch boundaries, file order, timestamp spelling or re-runs (SPEC §3, §4)."""

from __future__ import annotations

import json
import tempfile
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import STREAM_HEADER, Landing, read_table, song
from kpi_helpers import assert_same
from musicstream import pipeline
from musicstream.datasets import KPIS
from musicstream.settings import load_settings
from oracle import kpis

pytestmark = pytest.mark.slow  # many generated scenarios, each several runs

GENRES = ["pop", "rock", "jazz"]
ARTISTS = ["A", "B", "C;A", " D ; E ", ""]
COUNTRIES = ["US", "FR", "", "BR"]
# signup: none, a bare date, an offset that moves the UTC date, after or long before the events
CREATED = ["", "2026-01-02", "2025-12-31T23:30:00-02:00", "2026-02-01 10:00:00", "2020-01-01"]
BASE = datetime(2025, 12, 31, tzinfo=UTC)  # three days across a month and a year boundary

songs_st = st.lists(
    st.tuples(st.sampled_from(GENRES), st.sampled_from(ARTISTS), st.integers(1, 300_000)),
    min_size=1,
    max_size=5,
)
users_st = st.lists(
    st.tuples(st.sampled_from(COUNTRIES), st.sampled_from(CREATED)), min_size=1, max_size=4
)
event_st = st.tuples(
    st.integers(0, 3),  # user index (mod number of users)
    st.integers(0, 4),  # track index (mod number of songs)
    st.integers(0, 3 * 24 * 60 - 1),  # minute within three days
    st.one_of(st.none(), st.integers(0, 400_000)),
    st.sampled_from(["space", "zulu", "offset"]),
)


def spell(ts: datetime, style: str) -> str:
    if style == "space":
        return ts.strftime("%Y-%m-%d %H:%M:%S")
    if style == "zulu":
        return ts.strftime("%Y-%m-%dT%H:%M:%SZ")
    return ts.astimezone(timezone(timedelta(hours=-3))).isoformat()


def scenario(draw_songs, draw_users, draw_events):
    songs = {
        f"t{i}": {
            "track_genre": g,
            "artists": a or None,
            "duration_ms": d,
            "track_name": f"Song t{i}",
        }
        for i, (g, a, d) in enumerate(draw_songs)
    }
    users = {
        f"u{i}": {"user_country": c, "created_at": created}
        for i, (c, created) in enumerate(draw_users)
    }
    events, first_ms = [], {}
    for u, t, minute, ms, style in draw_events:
        key = (f"u{u % len(users)}", f"t{t % len(songs)}", BASE + timedelta(minutes=minute))
        # copies of one event carry the same values: only then is "first copy wins"
        # independent of arrival order, which is what this test is about
        events.append((*key, first_ms.setdefault(key, ms), style))
    return songs, users, events


def land_dims(landing: Landing, songs: dict, users: dict) -> None:
    landing.songs(
        [
            song(i, t, s["track_genre"], s["duration_ms"], s["artists"] or "")
            for i, (t, s) in enumerate(songs.items())
        ]
    )
    landing.users([[u, u, 30, d["user_country"], d["created_at"]] for u, d in users.items()])


def stream_rows(events) -> list[list]:
    return [[u, t, spell(ts, style), "" if ms is None else ms] for u, t, ts, ms, style in events]


def expected(songs, users, events) -> dict:
    first: dict[tuple, tuple] = {}
    for u, t, ts, ms, _ in events:
        first.setdefault((u, t, ts), (u, t, ts, ms))
    return kpis(list(first.values()), songs, users)


def run_all(lake: Path) -> None:
    pipeline.run(load_settings(lake=str(lake), progress=False))


def check(lake: Path, want: dict) -> None:
    for table in KPIS:
        assert_same(table, read_table(lake, table), want[table])


def conserved(lake: Path) -> None:
    for p in (lake / "_state/batches").glob("*.json"):
        for f in json.loads(p.read_text())["files"]:
            assert f["rows_read"] == f["rows_kept"] + f["rows_quarantined"]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(songs_st, users_st, st.lists(event_st, min_size=1, max_size=25), st.data())
def test_kpis_do_not_depend_on_batching_order_or_reruns(draw_songs, draw_users, draw_events, data):
    songs, users, events = scenario(draw_songs, draw_users, draw_events)
    # exact duplicates (the first copy is kept; copies are identical, so order is irrelevant)
    dupes = data.draw(st.lists(st.sampled_from(events), max_size=4))
    events = events + [(u, t, ts, ms, "zulu") for u, t, ts, ms, _ in dupes]
    order = data.draw(st.permutations(range(len(events))))
    cuts = sorted(data.draw(st.lists(st.integers(0, len(events)), max_size=3)))
    shuffled = [events[i] for i in order]
    chunks = [shuffled[a:b] for a, b in zip([0, *cuts], [*cuts, len(events)], strict=True)]
    want = expected(songs, users, events)
    with tempfile.TemporaryDirectory() as tmp:
        lake = Path(tmp)
        landing = Landing(lake)
        land_dims(landing, songs, users)
        for b, chunk in enumerate(chunks):
            half = len(chunk) // 2  # two files per batch, the second named to sort first
            landing.streams(stream_rows(chunk[:half]), name=f"b{b}-z.csv")
            landing.streams(stream_rows(chunk[half:]), name=f"b{b}-a.csv")
            run_all(lake)
        check(lake, want)
        conserved(lake)
        # the same events landed again, in new files: all duplicates, nothing changes
        before = {t: read_table(lake, t) for t in KPIS}
        for b, chunk in enumerate(chunks):
            landing.streams(stream_rows(chunk), name=f"again-{b}.csv", header=STREAM_HEADER)
        run_all(lake)
        for table in KPIS:
            assert_same(table, read_table(lake, table), before[table])
        conserved(lake)
