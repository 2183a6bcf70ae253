"""The input contracts of SPEC §2 as data: which columns each dataset has and needs."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Dataset:
    """One input dataset: its columns, the ones a file must have, and its key."""

    name: str
    columns: tuple[str, ...]
    required: tuple[str, ...]
    key: str | None = None

    @property
    def is_dimension(self) -> bool:
        return self.key is not None


SONGS = Dataset(
    "songs",
    columns=(
        "track_id",
        "track_name",
        "album_name",
        "artists",
        "track_genre",
        "duration_ms",
        "popularity",
        "explicit",
    ),
    required=("track_id", "track_genre", "duration_ms"),
    key="track_id",
)
USERS = Dataset(
    "users",
    columns=("user_id", "user_name", "user_age", "user_country", "created_at"),
    required=("user_id",),
    key="user_id",
)
STREAMS = Dataset(
    "streams",
    columns=("user_id", "track_id", "listen_time", "ms_played"),
    required=("user_id", "track_id", "listen_time"),
)

# Processing order matters: dimensions before streams (SPEC §4).
DATASETS: tuple[Dataset, ...] = (SONGS, USERS, STREAMS)
BY_NAME = {d.name: d for d in DATASETS}

# In build order: top_genres_daily ranks genre_daily, top_songs_daily ranks track_daily.
KPI_TABLES: tuple[str, ...] = (
    "genre_daily",
    "top_genres_daily",
    "track_daily",
    "top_songs_daily",
    "country_daily",
    "top_artists_daily",
)

# KPI table schemas (SPEC §3): column → type ('str', 'int', 'float'), report_date first.
_COUNTS = {"listen_count": "int", "unique_listeners": "int"}
KPI_COLUMNS: dict[str, dict[str, str]] = {
    "genre_daily": {
        "report_date": "str",
        "genre": "str",
        **_COUNTS,
        "total_listening_ms": "int",
        "avg_listening_ms_per_stream": "float",
        "avg_listening_ms_per_user": "float",
    },
    "top_songs_daily": {
        "report_date": "str",
        "genre": "str",
        "rank": "int",
        "track_id": "str",
        "track_name": "str",
        "artists": "str",
        **_COUNTS,
    },
    "top_genres_daily": {
        "report_date": "str",
        "rank": "int",
        "genre": "str",
        **_COUNTS,
        "total_listening_ms": "int",
    },
    "track_daily": {
        "report_date": "str",
        "track_id": "str",
        "track_name": "str",
        "artists": "str",
        "genre": "str",
        **_COUNTS,
        "total_listening_ms": "int",
        "avg_listening_ms_per_user": "float",
    },
    "country_daily": {
        "report_date": "str",
        "country": "str",
        **_COUNTS,
        "total_listening_ms": "int",
    },
    "top_artists_daily": {"report_date": "str", "rank": "int", "artist": "str", **_COUNTS},
}

# Serving keys (SPEC §5): the columns that identify a row within the table.
KPI_KEYS: dict[str, tuple[str, ...]] = {
    "genre_daily": ("report_date", "genre"),
    "top_songs_daily": ("report_date", "genre", "rank"),
    "top_genres_daily": ("report_date", "rank"),
    "track_daily": ("track_id", "report_date"),
    "country_daily": ("report_date", "country"),
    "top_artists_daily": ("report_date", "rank"),
}
