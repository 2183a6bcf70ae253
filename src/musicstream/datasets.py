"""Every schema of the product as data, in one place.

The input contracts of SPEC §2 (which columns each dataset has and needs), and every table
the lake holds (SPEC §3, §4) with the precise type of each column as its Parquet files hold
it. Engines, the serving store, the loader and the Athena catalog derive their schemas from
here through :class:`~musicstream.schema.Table` (``schema.py``): DuckDB / Spark DDL, Arrow
schemas, Athena types, and ``KPI_COLUMNS`` (the store's coarse types).
"""

from __future__ import annotations

from dataclasses import dataclass

from musicstream.schema import (
    BOOL,
    DATE,
    FLOAT64,
    INT32,
    INT64,
    STRING,
    TIMESTAMP,
    Column,
    Table,
)


@dataclass(frozen=True)
class Dataset:
    """One input dataset: its columns, the ones a file must have, and its key.

    ``types`` are the curated types of the columns (a quarantined row keeps them as text).
    """

    name: str
    types: tuple[Column, ...]
    required: tuple[str, ...]
    key: str | None = None

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.types)

    @property
    def is_dimension(self) -> bool:
        return self.key is not None


SONGS = Dataset(
    "songs",
    types=(
        ("track_id", STRING),
        ("track_name", STRING),
        ("album_name", STRING),
        ("artists", STRING),
        ("track_genre", STRING),
        ("duration_ms", INT64),
        ("popularity", INT32),
        ("explicit", BOOL),
    ),
    required=("track_id", "track_genre", "duration_ms"),
    key="track_id",
)
USERS = Dataset(
    "users",
    types=(
        ("user_id", STRING),
        ("user_name", STRING),
        ("user_age", INT32),
        ("user_country", STRING),
        ("created_at", TIMESTAMP),
    ),
    required=("user_id",),
    key="user_id",
)
STREAMS = Dataset(
    "streams",
    types=(
        ("user_id", STRING),
        ("track_id", STRING),
        ("listen_time", TIMESTAMP),
        ("ms_played", INT64),
    ),
    required=("user_id", "track_id", "listen_time"),
)

# Processing order matters: dimensions before streams (SPEC §4).
DATASETS: tuple[Dataset, ...] = (SONGS, USERS, STREAMS)
BY_NAME = {d.name: d for d in DATASETS}
DIMENSIONS: tuple[str, ...] = tuple(d.name for d in DATASETS if d.is_dimension)

# -- curated and quarantine tables (SPEC §4) ---------------------------------------------

# Each dimension row has an integer surrogate key, numbered once when its natural key first
# arrives (the next free numbers, in natural key order: the same on every engine) and never
# changed; curated streams carry their listener's and song's, so the KPIs join and group on
# integers (surrogate.py).
SURROGATE_KEYS = {"songs": "track_sk", "users": "user_sk"}

CURATED: dict[str, Table] = {
    "songs": Table("songs", (*SONGS.types, ("track_sk", INT64))),
    "users": Table("users", (*USERS.types, ("user_sk", INT64))),
    "streams": Table(
        "streams",
        (*STREAMS.types, ("batch_id", STRING), ("user_sk", INT64), ("track_sk", INT64)),
        partition=(("report_date", DATE),),
    ),
}


def _quarantine(dataset: Dataset) -> Table:
    """Bad rows: the fields as read, their reasons, the record's start line and file."""
    fields = tuple((name, STRING) for name in dataset.columns)
    bookkeeping = (("reasons", STRING), ("line", INT64), ("raw_record", STRING))
    return Table(dataset.name, (*fields, *bookkeeping, ("source_file", STRING)), _BATCH)


_BATCH = (("batch_id", STRING),)
QUARANTINE: dict[str, Table] = {d.name: _quarantine(d) for d in DATASETS}
QUARANTINE["files"] = Table(  # the files quarantined whole
    "files",
    (
        ("dataset", STRING),
        ("source_file", STRING),
        ("reason", STRING),
        ("detail", STRING),
        ("rows", INT64),
        ("sha256", STRING),
    ),
    _BATCH,
)

# -- KPI tables (SPEC §3) ------------------------------------------------------------------

_DAY = (("report_date", DATE),)
_COUNTS = (("listen_count", INT64), ("unique_listeners", INT64))
_TOTAL = ("total_listening_ms", INT64)
_RANK = ("rank", INT32)  # a position 1..N: the engines write it as a 32-bit int


def _kpi(name: str, *columns: Column) -> Table:
    return Table(name, columns, _DAY)


# The KPI tables in the order of SPEC §3.
KPIS: dict[str, Table] = {
    t.name: t
    for t in (
        _kpi(
            "genre_daily",
            ("genre", STRING),
            *_COUNTS,
            _TOTAL,
            ("avg_listening_ms_per_stream", FLOAT64),
            ("avg_listening_ms_per_user", FLOAT64),
        ),
        _kpi(
            "top_songs_daily",
            ("genre", STRING),
            _RANK,
            ("track_id", STRING),
            ("track_name", STRING),
            ("artists", STRING),
            *_COUNTS,
        ),
        _kpi("top_genres_daily", _RANK, ("genre", STRING), *_COUNTS, _TOTAL),
        _kpi(
            "track_daily",
            ("track_id", STRING),
            ("track_name", STRING),
            ("artists", STRING),
            ("genre", STRING),
            *_COUNTS,
            _TOTAL,
            ("avg_listening_ms_per_user", FLOAT64),
        ),
        _kpi("country_daily", ("country", STRING), *_COUNTS, _TOTAL),
        _kpi("top_artists_daily", _RANK, ("artist", STRING), *_COUNTS),
        _kpi(
            "user_daily",
            ("user_id", STRING),
            ("listen_count", INT64),
            ("unique_tracks", INT64),
            _TOTAL,
            ("top_genre", STRING),
        ),
        _kpi("hourly_activity", ("hour", INT32), *_COUNTS, _TOTAL),
        Table(
            "active_listeners",
            (
                ("period_end", DATE),
                ("listeners", INT64),
                ("new_listeners", INT64),
                ("listen_count", INT64),
                _TOTAL,
            ),
            (("period", STRING), ("period_start", DATE)),
        ),
    )
}

# In build order: top_genres_daily ranks genre_daily, top_songs_daily ranks track_daily.
KPI_TABLES: tuple[str, ...] = (
    "genre_daily",
    "top_genres_daily",
    "track_daily",
    "top_songs_daily",
    "country_daily",
    "top_artists_daily",
    "user_daily",
    "hourly_activity",
)
# Tables keyed by a period (day, ISO week, month) rather than a date: a date recomputes the
# three periods it falls in, each from all curated streams of the whole period (SPEC §3).
PERIOD_TABLES: tuple[str, ...] = ("active_listeners",)
PERIODS: tuple[str, ...] = ("day", "week", "month")
# Not served and not a KPI (SPEC §3 leaves it out): each listener's day as a period's
# active_listeners reads it for the period's dates no batch is computing, instead of their
# streams (at 30 days of 1M streams a day, a month is ~3M of these rows against 30M streams).
# Written with the date's KPIs, replaced with them (kpis/_day_listeners/report_date=D/): a
# row per listener (track_sk empty): streams and listening ms; a row per track (user_sk
# empty): the streams that gave no ms_played and the ms they were counted at, the song's
# duration then, so that a period takes them at the duration as it stands when computed.
DAY_LISTENERS = Table(
    "_day_listeners",
    (("user_sk", INT64), ("track_sk", INT64), ("listen_count", INT64), ("listen_ms", INT64)),
    _DAY,
)

# One row per (batch, dataset, reason): 'kept', each quarantine reason, each warning.
BATCH_QUALITY = Table(
    "batch_quality",
    (("dataset", STRING), ("reason", STRING), ("rows", INT64)),
    _BATCH,
)

# The serving store's view of each KPI table (SPEC §5): the partition keys first (report_date;
# period, period_start), then the file columns; 'str', 'int' or 'float'.
KPI_COLUMNS: dict[str, dict[str, str]] = {t.name: t.store_columns() for t in KPIS.values()}

# Serving keys (SPEC §5): the columns that identify a row within the table.
KPI_KEYS: dict[str, tuple[str, ...]] = {
    "genre_daily": ("report_date", "genre"),
    "top_songs_daily": ("report_date", "genre", "rank"),
    "top_genres_daily": ("report_date", "rank"),
    "track_daily": ("track_id", "report_date"),
    "country_daily": ("report_date", "country"),
    "top_artists_daily": ("report_date", "rank"),
    "user_daily": ("user_id", "report_date"),
    "hourly_activity": ("report_date", "hour"),
    "active_listeners": ("period", "period_start"),
}

# -- the store's dimension tables (SPEC §5) --------------------------------------------------

# What the store serves of each curated dimension: (store column, curated column, type).
# A user's country is served as it was given (no 'Unknown': that is the KPIs' grouping).
STORE_DIMENSIONS: dict[str, tuple[tuple[str, str, str], ...]] = {
    "songs": (
        ("track_id", "track_id", STRING),
        ("track_name", "track_name", STRING),
        ("artists", "artists", STRING),
        ("album_name", "album_name", STRING),
        ("genre", "track_genre", STRING),
        ("duration_ms", "duration_ms", INT64),
        ("popularity", "popularity", INT32),
        ("explicit", "explicit", BOOL),
    ),
    "users": (
        ("user_id", "user_id", STRING),
        ("user_name", "user_name", STRING),
        ("user_age", "user_age", INT32),
        ("country", "user_country", STRING),
        ("created_at", "created_at", TIMESTAMP),
    ),
}
DIMENSION_KEYS: dict[str, str] = {d.name: d.key for d in DATASETS if d.key}
DIMENSION_COLUMNS: dict[str, dict[str, str]] = {
    name: Table(name, tuple((c, kind) for c, _, kind in cols)).store_columns()
    for name, cols in STORE_DIMENSIONS.items()
}
