"""Every schema of the product as data, in one place.

The input contracts of SPEC §2 (which columns each dataset has and needs), and every table
the lake holds (SPEC §3, §4) with the precise type of each column as its Parquet files hold
it. Engines, the serving store, the loader and the Athena catalog derive their schemas from
here: :meth:`Table.ddl` (DuckDB / Spark column lists), :meth:`Table.arrow_schema`,
:meth:`Table.athena_columns` and ``KPI_COLUMNS`` (the store's coarse types).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, NamedTuple

if TYPE_CHECKING:
    import pyarrow as pa

# Logical types: one per physical type the lake's Parquet files hold.
STRING, INT32, INT64, FLOAT64 = "string", "int32", "int64", "float64"
BOOL, TIMESTAMP, DATE = "bool", "timestamp", "date"  # timestamp: naive UTC, microseconds

Dialect = Literal["duckdb", "spark"]
Column = tuple[str, str]  # (name, logical type)


class _Names(NamedTuple):
    """A logical type's name in each place that declares it."""

    duckdb: str
    spark: str
    athena: str
    store: str  # the serving store's 'str', 'int', 'float' or 'bool'


_NAMES: dict[str, _Names] = {
    STRING: _Names("varchar", "STRING", "string", "str"),
    INT32: _Names("integer", "INT", "int", "int"),
    INT64: _Names("bigint", "BIGINT", "bigint", "int"),
    FLOAT64: _Names("double", "DOUBLE", "double", "float"),
    BOOL: _Names("boolean", "BOOLEAN", "boolean", "bool"),
    TIMESTAMP: _Names("timestamp", "TIMESTAMP_NTZ", "timestamp", "str"),
    DATE: _Names("date", "DATE", "date", "str"),  # the store keeps a date as its ISO text
}


def arrow_type(logical: str) -> pa.DataType:
    """The Arrow type of a logical type (pyarrow imported here: it is not always needed)."""
    import pyarrow as pa

    factories = {
        STRING: pa.string,
        INT32: pa.int32,
        INT64: pa.int64,
        FLOAT64: pa.float64,
        BOOL: pa.bool_,
        TIMESTAMP: lambda: pa.timestamp("us"),
        DATE: pa.date32,
    }
    return factories[logical]()


@dataclass(frozen=True)
class Table:
    """A lake table: its columns as the files hold them, and the hive partition key its
    folders carry (``report_date=…``, ``batch_id=…``), which is never inside the files."""

    name: str
    columns: tuple[Column, ...]
    partition: Column | None = None

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.columns)

    def _with(self, partition: bool) -> tuple[Column, ...]:
        extra = (self.partition,) if partition and self.partition else ()
        return self.columns + extra

    def ddl(self, dialect: Dialect, partition: bool = False) -> str:
        """``name type, …`` in ``dialect``; ``partition`` appends the partition column."""
        columns = self._with(partition)
        return ", ".join(f"{name} {getattr(_NAMES[kind], dialect)}" for name, kind in columns)

    def arrow_schema(self, partition: bool = False) -> pa.Schema:
        import pyarrow as pa

        return pa.schema([(name, arrow_type(kind)) for name, kind in self._with(partition)])

    def parquet(self, rows: Iterable[Sequence[object]]) -> bytes:
        """``rows`` (values in column order; None or "" is NULL) as one Parquet file.

        Built through pyarrow's CSV reader: pa.array/pa.table/from_pylist import pandas where
        it is installed, over a second of a run that does not otherwise need it.
        """
        import pyarrow.csv as pa_csv
        import pyarrow.parquet as pq

        text = io.StringIO()
        writer = csv.writer(text, lineterminator="\n")
        writer.writerow(self.names)
        writer.writerows(["" if v is None else v for v in row] for row in rows)
        table = pa_csv.read_csv(
            io.BytesIO(text.getvalue().encode()),
            convert_options=pa_csv.ConvertOptions(  # only "" is NULL (not "NA", "null", …)
                column_types=self.arrow_schema(), strings_can_be_null=True, null_values=[""]
            ),
        )
        buffer = io.BytesIO()
        pq.write_table(table, buffer)
        return buffer.getvalue()

    def athena_columns(self) -> tuple[tuple[str, str], ...]:
        """The file columns with their Athena (Hive DDL) type names."""
        return tuple((name, _NAMES[kind].athena) for name, kind in self.columns)

    def store_columns(self) -> dict[str, str]:
        """Partition first, then the file columns: name → 'str', 'int', 'float' or 'bool'."""
        columns = ((self.partition,) if self.partition else ()) + self.columns
        return {name: _NAMES[kind].store for name, kind in columns}


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

CURATED: dict[str, Table] = {
    "songs": Table("songs", SONGS.types),
    "users": Table("users", USERS.types),
    "streams": Table(
        "streams", (*STREAMS.types, ("batch_id", STRING)), partition=("report_date", DATE)
    ),
}


def _quarantine(dataset: Dataset) -> Table:
    """Bad rows: the fields as read, their reasons, the record's start line and file."""
    fields = tuple((name, STRING) for name in dataset.columns)
    bookkeeping = (("reasons", STRING), ("line", INT64), ("raw_record", STRING))
    return Table(
        dataset.name, (*fields, *bookkeeping, ("source_file", STRING)), ("batch_id", STRING)
    )


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
    ("batch_id", STRING),
)

# -- KPI tables (SPEC §3) ------------------------------------------------------------------

_DAY = ("report_date", DATE)
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
)

# One row per (batch, dataset, reason): 'kept', each quarantine reason, each warning.
BATCH_QUALITY = Table(
    "batch_quality",
    (("dataset", STRING), ("reason", STRING), ("rows", INT64)),
    ("batch_id", STRING),
)

# The serving store's view of each KPI table (SPEC §5): report_date first, then the file
# columns; 'str', 'int' or 'float'.
KPI_COLUMNS: dict[str, dict[str, str]] = {t.name: t.store_columns() for t in KPIS.values()}

# Serving keys (SPEC §5): the columns that identify a row within the table.
KPI_KEYS: dict[str, tuple[str, ...]] = {
    "genre_daily": ("report_date", "genre"),
    "top_songs_daily": ("report_date", "genre", "rank"),
    "top_genres_daily": ("report_date", "rank"),
    "track_daily": ("track_id", "report_date"),
    "country_daily": ("report_date", "country"),
    "top_artists_daily": ("report_date", "rank"),
}
