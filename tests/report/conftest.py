"""A small hand-built lake in the layout of SPEC.md §4, with hand-checked numbers.

Three report dates over two ISO weeks (Mon 2026-01-05, Tue 2026-01-06, Mon 2026-01-12),
four genres (folk never makes the daily top-2 genres), five artists, three batches.
The KPI rows agree with each other (genre totals = track totals = country totals per day),
so the expected answers in the tests can be worked out by hand from this file alone.

The listener tables (user_daily, hourly_activity, active_listeners) come from one story of
streams, STREAM_STORY below, that adds up to the same daily tracks, genres and countries.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

STR, BIG, INT, DBL = pa.string(), pa.int64(), pa.int32(), pa.float64()
TS = pa.timestamp("us")

SCHEMAS: dict[str, list[tuple[str, pa.DataType]]] = {
    "genre_daily": [
        ("genre", STR),
        ("listen_count", BIG),
        ("unique_listeners", BIG),
        ("total_listening_ms", BIG),
        ("avg_listening_ms_per_stream", DBL),
        ("avg_listening_ms_per_user", DBL),
    ],
    "top_songs_daily": [
        ("genre", STR),
        ("rank", INT),
        ("track_id", STR),
        ("track_name", STR),
        ("artists", STR),
        ("listen_count", BIG),
        ("unique_listeners", BIG),
    ],
    "top_genres_daily": [
        ("rank", INT),
        ("genre", STR),
        ("listen_count", BIG),
        ("unique_listeners", BIG),
        ("total_listening_ms", BIG),
    ],
    "track_daily": [
        ("track_id", STR),
        ("track_name", STR),
        ("artists", STR),
        ("genre", STR),
        ("listen_count", BIG),
        ("unique_listeners", BIG),
        ("total_listening_ms", BIG),
        ("avg_listening_ms_per_user", DBL),
    ],
    "country_daily": [
        ("country", STR),
        ("listen_count", BIG),
        ("unique_listeners", BIG),
        ("total_listening_ms", BIG),
    ],
    "top_artists_daily": [
        ("rank", INT),
        ("artist", STR),
        ("listen_count", BIG),
        ("unique_listeners", BIG),
    ],
    "batch_quality": [("dataset", STR), ("reason", STR), ("rows", BIG)],
    "user_daily": [
        ("user_id", STR),
        ("listen_count", BIG),
        ("unique_tracks", BIG),
        ("total_listening_ms", BIG),
        ("top_genre", STR),
    ],
    "hourly_activity": [
        ("hour", INT),
        ("listen_count", BIG),
        ("unique_listeners", BIG),
        ("total_listening_ms", BIG),
    ],
    "active_listeners": [
        ("period_end", pa.date32()),
        ("listeners", BIG),
        ("new_listeners", BIG),
        ("listen_count", BIG),
        ("total_listening_ms", BIG),
    ],
    "streams": [
        ("user_id", STR),
        ("track_id", STR),
        ("listen_time", TS),
        ("ms_played", BIG),
        ("batch_id", STR),
        ("user_sk", BIG),
        ("track_sk", BIG),
    ],
    "songs": [
        ("track_id", STR),
        ("track_name", STR),
        ("album_name", STR),
        ("artists", STR),
        ("track_genre", STR),
        ("duration_ms", BIG),
        ("popularity", INT),
        ("explicit", pa.bool_()),
        ("track_sk", BIG),
    ],
    "users": [
        ("user_id", STR),
        ("user_name", STR),
        ("user_age", INT),
        ("user_country", STR),
        ("created_at", TS),
        ("user_sk", BIG),
    ],
}

D1, D2, D3 = "2026-01-05", "2026-01-06", "2026-01-12"

# (genre, plays, listeners, ms) per day
GENRES = {
    D1: [("rock", 4, 2, 800_000), ("pop", 2, 2, 300_000), ("folk", 1, 1, 100_000)],
    D2: [("pop", 3, 2, 450_000), ("rock", 1, 1, 200_000)],
    D3: [("pop", 5, 3, 600_000), ("jazz", 2, 1, 240_000), ("folk", 1, 1, 60_000)],
}
TRACKS = {
    "t1": ("Song One", "Alpha;Beta", "rock"),
    "t2": ("Song Two", "Alpha; Alpha", "rock"),  # a duplicate credit counts once
    "t3": ("Song Three", "Gamma", "pop"),
    "t4": ("Song Four", " Delta ; ;Alpha", "folk"),  # spaces and an empty credit
    "t5": ("Song Five", "Beta", "pop"),
    "t6": ("Song Six", "Epsilon", "jazz"),
}
# (track, plays, listeners, ms) per day
TRACK_PLAYS = {
    D1: [
        ("t1", 3, 2, 600_000),
        ("t2", 1, 1, 200_000),
        ("t3", 2, 2, 300_000),
        ("t4", 1, 1, 100_000),
    ],
    D2: [("t3", 3, 2, 450_000), ("t1", 1, 1, 200_000)],
    D3: [("t3", 4, 3, 480_000), ("t5", 1, 1, 120_000), ("t6", 2, 1, 240_000), ("t4", 1, 1, 60_000)],
}
COUNTRIES = {
    D1: [("DE", 5, 2, 900_000), ("US", 2, 1, 300_000)],
    D2: [("DE", 4, 2, 650_000)],
    D3: [("US", 5, 2, 560_000), ("Unknown", 3, 1, 340_000)],
}
TOP_GENRES = {D1: ["rock", "pop"], D2: ["pop", "rock"], D3: ["pop", "jazz"]}
# (genre, rank, track) per day
TOP_SONGS = {
    D1: [("rock", 1, "t1"), ("rock", 2, "t2"), ("pop", 1, "t3"), ("folk", 1, "t4")],
    D2: [("pop", 1, "t3"), ("rock", 1, "t1")],
    D3: [("pop", 1, "t3"), ("pop", 2, "t5"), ("jazz", 1, "t6"), ("folk", 1, "t4")],
}
BATCHES = {
    "20260105T090000Z-aaaa1111": [
        ("songs", "kept", 6),
        ("users", "kept", 4),
        ("streams", "kept", 7),
        ("streams", "unknown_user", 2),
        ("streams", "listen_before_signup", 3),
    ],
    "20260106T090000Z-bbbb2222": [("streams", "kept", 4), ("streams", "duplicate_event", 1)],
    "20260112T090000Z-cccc3333": [
        ("streams", "kept", 8),
        ("streams", "invalid_listen_time", 1),
        ("streams", "unknown_track", 2),
    ],
}

# The kept streams behind the KPIs: (user, track, UTC hour, listen ms) per day. Users: u1
# and u3 in DE, u2 and u5 in the US, u4 without a country (Unknown); created_at in USERS.
STREAM_STORY = {
    D1: [
        ("u1", "t1", 8, 200_000),
        ("u1", "t1", 8, 200_000),
        ("u2", "t1", 8, 200_000),
        ("u1", "t2", 9, 200_000),
        ("u2", "t3", 9, 100_000),
        ("u1", "t4", 21, 100_000),
        ("u3", "t3", 21, 200_000),
    ],
    D2: [
        ("u1", "t3", 7, 150_000),
        ("u1", "t3", 7, 150_000),
        ("u1", "t1", 18, 200_000),
        ("u3", "t3", 18, 150_000),
    ],
    D3: [
        ("u5", "t3", 8, 120_000),
        ("u5", "t4", 8, 60_000),
        ("u2", "t3", 12, 130_000),
        ("u2", "t3", 12, 130_000),
        ("u2", "t5", 20, 120_000),
        ("u4", "t3", 20, 100_000),
        ("u4", "t6", 23, 120_000),
        ("u4", "t6", 23, 120_000),
    ],
}
# user_id, listen_count, unique_tracks, total_listening_ms, top_genre; from STREAM_STORY
# (u2 on D1: rock and pop one play each, rock has more ms)
USER_DAILY = {
    D1: [
        ("u1", 4, 3, 700_000, "rock"),
        ("u2", 2, 2, 300_000, "rock"),
        ("u3", 1, 1, 200_000, "pop"),
    ],
    D2: [("u1", 3, 2, 500_000, "pop"), ("u3", 1, 1, 150_000, "pop")],
    D3: [
        ("u2", 3, 2, 380_000, "pop"),
        ("u4", 3, 2, 340_000, "jazz"),
        ("u5", 2, 2, 180_000, "pop"),
    ],
}
# hour, listen_count, unique_listeners, total_listening_ms
HOURLY = {
    D1: [(8, 3, 2, 600_000), (9, 2, 2, 300_000), (21, 2, 2, 300_000)],
    D2: [(7, 2, 1, 300_000), (18, 2, 2, 350_000)],
    D3: [(8, 2, 1, 180_000), (12, 2, 1, 260_000), (20, 2, 2, 220_000), (23, 2, 1, 240_000)],
}
# users: (id, name, age, country, created_at); u3 is new on D1, u4 on D3, u5 in January
# but in the week before its first stream
USERS = [
    ("u1", "Ann", 30, "DE", datetime(2025, 1, 1)),
    ("u2", "Bo", 41, "US", datetime(2025, 2, 1)),
    ("u3", "Chen", 25, "DE", datetime(2026, 1, 5, 7, 0)),
    ("u4", "Dai", 35, None, datetime(2026, 1, 12)),
    ("u5", "Eve", 28, "US", datetime(2026, 1, 10)),
]
# (period, period_start): period_end, listeners, new_listeners, listen_count, ms
ACTIVE = {
    ("day", D1): (D1, 3, 1, 7, 1_200_000),  # u1 u2 u3; u3 new
    ("day", D2): (D2, 2, 0, 4, 650_000),  # u1 u3
    ("day", D3): (D3, 3, 1, 8, 900_000),  # u2 u4 u5; u4 new
    ("week", D1): ("2026-01-11", 3, 1, 11, 1_850_000),  # u1 u2 u3; u3 new
    ("week", D3): ("2026-01-18", 3, 1, 8, 900_000),  # u2 u4 u5; u4 new (u5: the week before)
    ("month", "2026-01-01"): ("2026-01-31", 5, 3, 19, 2_750_000),  # u3 u4 u5 new
}


def write(path: Path, columns: list[tuple[str, pa.DataType]], rows: list[tuple]) -> None:
    """One Parquet file with exactly the contract's column types."""
    path.parent.mkdir(parents=True, exist_ok=True)
    schema = pa.schema(columns)
    data = {name: [r[i] for r in rows] for i, (name, _) in enumerate(columns)}
    pq.write_table(pa.table(data, schema=schema), path)


def _kpi_rows(day: str) -> dict[str, list[tuple]]:
    by_genre = {g: (n, u, ms) for g, n, u, ms in GENRES[day]}
    plays = {t: (n, u, ms) for t, n, u, ms in TRACK_PLAYS[day]}
    return {
        "genre_daily": [(g, n, u, ms, ms / n, ms / u) for g, n, u, ms in GENRES[day]],
        "track_daily": [(t, *TRACKS[t], n, u, ms, ms / u) for t, n, u, ms in TRACK_PLAYS[day]],
        "country_daily": list(COUNTRIES[day]),
        "top_genres_daily": [(i + 1, g, *by_genre[g]) for i, g in enumerate(TOP_GENRES[day])],
        "top_songs_daily": [
            (g, rank, t, TRACKS[t][0], TRACKS[t][1], *plays[t][:2]) for g, rank, t in TOP_SONGS[day]
        ],
        "top_artists_daily": [(1, "Gamma", plays["t3"][0], plays["t3"][1])],
    }


def build_lake(root: Path) -> Path:
    """Write the whole fixture lake under ``root``; returns ``root``."""
    for day in GENRES:
        for table, rows in _kpi_rows(day).items():
            write(
                root / "kpis" / table / f"report_date={day}" / "data.parquet", SCHEMAS[table], rows
            )
    for batch, rows in BATCHES.items():
        path = root / "kpis" / "batch_quality" / f"batch_id={batch}" / "data.parquet"
        write(path, SCHEMAS["batch_quality"], rows)
    _listener_tables(root)
    _curated(root)
    return root


def _listener_tables(root: Path) -> None:
    for table, by_day in (("user_daily", USER_DAILY), ("hourly_activity", HOURLY)):
        for day, rows in by_day.items():
            path = root / "kpis" / table / f"report_date={day}" / "data.parquet"
            write(path, SCHEMAS[table], rows)
    for (period, start), (end, *counts) in ACTIVE.items():
        folder = root / "kpis/active_listeners" / f"period={period}" / f"period_start={start}"
        row = (date.fromisoformat(end), *counts)
        write(folder / "data.parquet", SCHEMAS["active_listeners"], [row])


def _curated(root: Path) -> None:
    batch = next(iter(BATCHES))
    streams = [
        ("u1", "t1", datetime(2026, 1, 5, 8, 30), 200_000, batch, 1, 1),
        ("u2", "t3", datetime(2026, 1, 5, 9, 0), None, batch, 2, 3),
    ]
    path = root / "curated/streams/report_date=2026-01-05" / f"{batch}.parquet"
    write(path, SCHEMAS["streams"], streams)
    songs = [  # surrogate keys numbered in key order, as the engines number them
        (t, name, "An Album", artists, genre, 200_000, 50, False, sk)
        for sk, (t, (name, artists, genre)) in enumerate(sorted(TRACKS.items()), 1)
    ]
    write(root / "curated/songs/songs.parquet", SCHEMAS["songs"], songs)
    users = [(*user, sk) for sk, user in enumerate(sorted(USERS), 1)]
    write(root / "curated/users/users.parquet", SCHEMAS["users"], users)


@pytest.fixture(scope="session")
def kpi_lake(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The fixture lake's root as a plain path string (read-only for tests)."""
    return str(build_lake(tmp_path_factory.mktemp("lake")))


@pytest.fixture(scope="session")
def report_files(tmp_path_factory: pytest.TempPathFactory, kpi_lake: str) -> tuple[Path, Path]:
    """The fixture lake's report, written once: (HTML file, PNG folder)."""
    from musicstream.report.build import write_report

    out = tmp_path_factory.mktemp("report")
    html = write_report(kpi_lake, out / "report.html", png_dir=out / "png")
    return html, out / "png"


CHROMIUM = "/usr/bin/chromium"


# apt-get fails at once when another apt-get holds its lock: the test sessions of this
# machine (pytest-xdist workers among them) take turns through this file lock.
APT_LOCK = Path(tempfile.gettempdir()) / "musicstream-tests-apt.lock"


def apt_ensure(package: str, present: Callable[[], bool]) -> str | None:
    """``apt-get install package`` unless ``present()``; None when it is present after, else
    why not. ``present()`` is asked under the lock the install holds: the other xdist worker
    must not find a package half unpacked (a browser binary whose libraries are not there
    yet) and go on with it."""
    if not shutil.which("apt-get"):
        return None if present() else "no apt-get on this machine"
    with APT_LOCK.open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if present():
            return None
        if os.geteuid() != 0:
            return "not root, cannot apt-get install"
        env = os.environ | {"DEBIAN_FRONTEND": "noninteractive"}
        wait = ["-o", "DPkg::Lock::Timeout=600"]  # and wait for any other apt user
        for command in (["apt-get", *wait, "update"], ["apt-get", *wait, "install", "-y", package]):
            try:
                done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=900)
            except (OSError, subprocess.TimeoutExpired) as error:
                return f"{' '.join(command)}: {error}"
            if done.returncode != 0:
                return f"{' '.join(command)} failed: {done.stderr.strip()[-300:]}"
        return None if present() else "installed, and still not found"


@pytest.fixture(scope="session")
def chromium() -> str:
    """Path of Debian's Chromium, installed on first use when missing. Playwright drives
    this binary (``executable_path``) rather than downloading a build of its own."""
    reason = apt_ensure("chromium", lambda: os.path.exists(CHROMIUM))
    if reason:
        pytest.skip(f"Chromium unavailable ({CHROMIUM} missing; install: {reason})")
    return CHROMIUM


CJK_FONT_PACKAGE = "fonts-wqy-microhei"  # Debian's smallest font with Chinese and Japanese


def _has_cjk_font() -> bool:
    done = subprocess.run(["fc-list", ":lang=ja"], capture_output=True, text=True, check=False)
    return bool(done.stdout.strip())


@pytest.fixture(scope="session")
def cjk_font() -> None:
    """A font that draws Chinese and Japanese, installed on first use when fontconfig
    knows none, as Chromium is."""
    if not shutil.which("fc-list"):
        pytest.skip("no fontconfig (fc-list) on this machine")
    reason = apt_ensure(CJK_FONT_PACKAGE, _has_cjk_font)
    if reason:
        pytest.skip(f"no CJK font ({CJK_FONT_PACKAGE}: {reason})")
    from musicstream.report.pngstyle import font_families

    # A process finds its fonts once; the PNG tests this worker ran before the install (in
    # whatever order xdist handed them out) found none that draws CJK.
    font_families.cache_clear()
