"""The lake tables the report layer reads: names, locations, columns and partitioning.

One registry serves both consumers, so they cannot drift apart: the Athena catalog
(``catalog.py`` renders ``CREATE EXTERNAL TABLE`` from it) and the local DuckDB runner
(``lakeio.py`` maps each table name to a ``read_parquet`` over the same files).
Column types are Athena (Hive DDL) names; the layout is SPEC.md §4.
"""

from __future__ import annotations

from dataclasses import dataclass

Column = tuple[str, str]


@dataclass(frozen=True)
class TableSpec:
    """One lake table: where its Parquet files live and what they hold.

    ``prefix`` is the folder under the lake root; ``partition`` is the hive partition key
    found in the path (never inside the files); ``projection`` is its Athena projection type.
    """

    name: str
    prefix: str
    columns: tuple[Column, ...]
    partition: str | None = None
    projection: str | None = None

    @property
    def file_glob(self) -> str:
        """Glob of the table's data files relative to the lake root."""
        return f"{self.prefix}/*/*.parquet" if self.partition else f"{self.prefix}/*.parquet"


def _kpi(name: str, *columns: Column) -> TableSpec:
    return TableSpec(name, f"kpis/{name}", columns, "report_date", "date")


_S, _B, _I, _D = "string", "bigint", "int", "double"

KPI_TABLES: tuple[TableSpec, ...] = (
    _kpi(
        "genre_daily",
        ("genre", _S),
        ("listen_count", _B),
        ("unique_listeners", _B),
        ("total_listening_ms", _B),
        ("avg_listening_ms_per_stream", _D),
        ("avg_listening_ms_per_user", _D),
    ),
    _kpi(
        "top_songs_daily",
        ("genre", _S),
        ("rank", _I),
        ("track_id", _S),
        ("track_name", _S),
        ("artists", _S),
        ("listen_count", _B),
        ("unique_listeners", _B),
    ),
    _kpi(
        "top_genres_daily",
        ("rank", _I),
        ("genre", _S),
        ("listen_count", _B),
        ("unique_listeners", _B),
        ("total_listening_ms", _B),
    ),
    _kpi(
        "track_daily",
        ("track_id", _S),
        ("track_name", _S),
        ("artists", _S),
        ("genre", _S),
        ("listen_count", _B),
        ("unique_listeners", _B),
        ("total_listening_ms", _B),
        ("avg_listening_ms_per_user", _D),
    ),
    _kpi(
        "country_daily",
        ("country", _S),
        ("listen_count", _B),
        ("unique_listeners", _B),
        ("total_listening_ms", _B),
    ),
    _kpi(
        "top_artists_daily",
        ("rank", _I),
        ("artist", _S),
        ("listen_count", _B),
        ("unique_listeners", _B),
    ),
    TableSpec(
        "batch_quality",
        "kpis/batch_quality",
        (("dataset", _S), ("reason", _S), ("rows", _B)),
        "batch_id",
        "injected",
    ),
)

CURATED_TABLES: tuple[TableSpec, ...] = (
    TableSpec(
        "streams",
        "curated/streams",
        (
            ("user_id", _S),
            ("track_id", _S),
            ("listen_time", "timestamp"),
            ("ms_played", _B),
            ("batch_id", _S),
        ),
        "report_date",
        "date",
    ),
    TableSpec(
        "songs",
        "curated/songs",
        (
            ("track_id", _S),
            ("track_name", _S),
            ("album_name", _S),
            ("artists", _S),
            ("track_genre", _S),
            ("duration_ms", _B),
            ("popularity", _I),
            ("explicit", "boolean"),
        ),
    ),
    TableSpec(
        "users",
        "curated/users",
        (
            ("user_id", _S),
            ("user_name", _S),
            ("user_age", _I),
            ("user_country", _S),
            ("created_at", "timestamp"),
        ),
    ),
)

TABLES: dict[str, TableSpec] = {t.name: t for t in KPI_TABLES + CURATED_TABLES}
