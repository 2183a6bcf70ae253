"""KPI serving stores, chosen by name from settings: SQLite (embedded) or DynamoDB."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from musicstream.datasets import DIMENSION_COLUMNS, DIMENSION_KEYS, KPI_COLUMNS, KPI_KEYS, PERIODS
from musicstream.errors import StoreError, UserError
from musicstream.plugins import load_class

if TYPE_CHECKING:
    import pyarrow as pa

    from musicstream.settings import Settings, StoreName

# Every table the store serves (KPI tables, then the songs and users dimensions): its
# columns ('str', 'int', 'float', 'bool') and its key, in the order rows come back.
STORE_COLUMNS: dict[str, dict[str, str]] = {**KPI_COLUMNS, **DIMENSION_COLUMNS}
STORE_KEYS: dict[str, tuple[str, ...]] = {
    **KPI_KEYS,
    **{name: (key,) for name, key in DIMENSION_KEYS.items()},
}
# The KpiQuery filters: (field, column it selects on).
FILTERS = (("genre", "genre"), ("track", "track_id"), ("user", "user_id"), ("period", "period"))


@dataclass(frozen=True)
class Words:
    """How a caller spells a query's parts, so a refusal names what to type: the ``kpis``
    command's options or the read API's parameters."""

    names: Mapping[str, str]  # field (date, from, to, genre, track, user, period) → spelling
    sep: str  # between a name and its value

    def __call__(self, part: str, value: str = "") -> str:
        return f"{self.names[part]}{self.sep}{value}" if value else self.names[part]

    def range(self) -> str:
        return f"{self('from')}/{self('to')}"


CLI = Words({f: f"--{f}" for f in ("date", "from", "to", "genre", "track", "user", "period")}, " ")
HTTP = Words(
    {"date": "date", "from": "from", "to": "to", "genre": "genre", "track": "track_id"}
    | {"user": "user_id", "period": "period"},
    "=",
)


@dataclass(frozen=True)
class KpiQuery:
    """One of the SPEC §5 access patterns: a date, or a date range for one genre, track, user
    or period kind (active_listeners: the dates bound period_start); or one song or user.
    ``words`` spells the parts in the messages of :meth:`check`."""

    table: str
    date: dt.date | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    genre: str | None = None
    track: str | None = None
    user: str | None = None
    period: str | None = None
    words: Words = field(default=CLI, compare=False, repr=False)

    @property
    def ranged(self) -> bool:
        return self.date_from is not None or self.date_to is not None

    def filters(self) -> dict[str, str]:
        """The given filters, as column → value."""
        return {col: v for f, col in FILTERS if (v := getattr(self, f)) is not None}

    def check(self) -> None:
        """Reject combinations no key serves, with a message that says what would."""
        w = self.words
        if self.table in DIMENSION_COLUMNS:
            self._check_dimension()
            return
        if self.table not in KPI_COLUMNS:
            tables = ", ".join(STORE_COLUMNS)
            raise UserError(f"unknown KPI table {self.table!r}; one of {tables}")
        for name, column in FILTERS:
            if getattr(self, name) is not None and column not in KPI_COLUMNS[self.table]:
                raise UserError(f"{self.table} has no {column} to select: drop {w(name)}")
        self._check_dates()
        self._check_key()

    def _check_dimension(self) -> None:
        """Patterns 11 and 12: one song by track, one user by user id, nothing else."""
        w, key = self.words, {"songs": "track", "users": "user"}[self.table]
        others = [w(f) for f, _ in FILTERS if f != key and getattr(self, f) is not None]
        if self.date is not None or self.ranged or others:
            given = others + [w("date")] * (self.date is not None) + [w.range()] * self.ranged
            by = w(key, "ID")
            raise UserError(f"{self.table} is read by {by} alone: drop {', '.join(given)}")
        if getattr(self, key) is None:
            raise UserError(f"{self.table} is read by key: add {w(key, 'ID')}")

    def _check_dates(self) -> None:
        w = self.words
        if self.date is None and not self.ranged:
            keys = f"{w('genre')}, {w('track')}, {w('user')} or {w('period')}"
            raise UserError(f"give {w('date')}, or {w.range()} with {keys}")
        if self.date is not None and self.ranged:
            raise UserError(f"give either {w('date')} or {w.range()}, not both")
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise UserError(
                f"{w('from', str(self.date_from))} is after {w('to', str(self.date_to))}"
            )

    def _check_key(self) -> None:
        """The key each table is read by (patterns 5, 8, 10), then which tables take ranges."""
        w = self.words
        if self.table == "active_listeners":
            if self.period is None:
                raise UserError(
                    f"active_listeners is read per period kind: add {w('period')} "
                    f"({'/'.join(PERIODS)})"
                )
            if self.period not in PERIODS:
                raise UserError(f"unknown period {self.period!r}; one of {', '.join(PERIODS)}")
        if self.table == "track_daily" and self.date is not None and not self.track:
            raise UserError(f"track_daily is read per track: add {w('track', 'ID')}")
        if self.table == "user_daily" and not self.user:
            raise UserError(f"user_daily is read per user: add {w('user', 'ID')}")
        if self.ranged and not (
            (self.table == "genre_daily" and self.genre)
            or (self.table == "track_daily" and self.track)
            or self.table in ("user_daily", "active_listeners")
        ):
            raise UserError(
                f"a date range is served for one genre (genre_daily {w('genre', 'G')}), one "
                f"track (track_daily {w('track', 'ID')}), one user (user_daily "
                f"{w('user', 'ID')}) or one period kind (active_listeners {w('period', 'P')})"
            )


Row = dict[str, Any]


@dataclass(frozen=True)
class Load:
    """One finished load of the store: by a batch (its id), or a backfill (``backfill``),
    when it finished (UTC, ISO 8601 with microseconds: it sorts as text), the dates it
    replaced, and the latest date any load so far has put in the store."""

    batch_id: str
    finished_at: str
    dates: int
    date_from: str | None
    date_to: str | None
    latest_date: str | None

    @classmethod
    def now(cls, batch_id: str, dates: Sequence[dt.date], previous: Load | None) -> Load:
        finished = dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")
        first, last = (min(dates).isoformat(), max(dates).isoformat()) if dates else (None, None)
        known = [d for d in (last, previous and previous.latest_date) if d]
        latest = max(known) if known else None
        return cls(batch_id, finished.replace("+00:00", "Z"), len(dates), first, last, latest)

    def row(self) -> Row:
        return dict(vars(self))


# The store's own table of finished loads: (column, type), finished_at is its key.
LOAD_COLUMNS = {f: "int" if f == "dates" else "str" for f in Load.__dataclass_fields__}


def column_values(data: pa.Table, name: str) -> list[Any]:
    """A column as the store keeps it: Python values, dates and timestamps as ISO text."""
    import pyarrow as pa

    column = data.column(name)
    if pa.types.is_date(column.type) or pa.types.is_timestamp(column.type):
        return _iso_text(column)
    return column.to_pylist()


def _iso_text(column: pa.ChunkedArray) -> list[str | None]:
    """Dates and timestamps as Python's ``isoformat()`` writes them. Formatted by Arrow
    where its text is the same (dates; timestamps without a zone, of whole seconds): a
    first load's 1M users spent 0.9 s making each created_at a datetime to format it."""
    import pyarrow as pa
    import pyarrow.compute as pc

    kind = column.type
    if pa.types.is_date(kind):
        return column.cast(pa.string()).to_pylist()
    if kind.tz is None:
        seconds = pc.floor_temporal(column, unit="second")
        if pc.all(pc.equal(seconds, column)).as_py() is not False:  # None: no values
            # Arrow's cast of whole seconds is isoformat()'s text with a blank for the 'T'
            # (a cast of a finer unit has a fraction); 5x cheaper than strftime on 1M users.
            text = seconds.cast(pa.timestamp("s")).cast(pa.string())
            return pc.utf8_replace_slice(text, start=10, stop=11, replacement="T").to_pylist()
    return [None if v is None else v.isoformat() for v in column.to_pylist()]


def rows_of(data: pa.Table) -> list[Row]:
    """``data`` as row dicts, values as :func:`column_values` gives them."""
    names = data.column_names
    columns = [column_values(data, name) for name in names]
    return [dict(zip(names, values, strict=True)) for values in zip(*columns, strict=True)]


def arrow_schema(table: str, without: Sequence[str] = ()) -> pa.Schema:
    """The columns of a store table but ``without``, as Arrow types (str: string, int:
    int64, float: float64, bool: bool), in the order rows come back."""
    import pyarrow as pa

    types = {"str": pa.string(), "int": pa.int64(), "float": pa.float64(), "bool": pa.bool_()}
    columns = STORE_COLUMNS[table].items()
    return pa.schema([(name, types[kind]) for name, kind in columns if name not in without])


def table_of(table: str, rows: Sequence[Row], without: Sequence[str] = ()) -> pa.Table:
    """Rows as a store gives them (typed as in STORE_COLUMNS) as an Arrow table of
    :func:`arrow_schema`; no rows give an empty table of its columns."""
    import pyarrow as pa

    return pa.Table.from_pylist(list(rows), schema=arrow_schema(table, without))


class Store(Protocol):
    """What the load stage, the `kpis` command and `verify` ask of a serving store."""

    def init(self) -> None:
        """Create tables and indexes; safe to call again."""
        ...

    def replace_date(self, report_date: dt.date, tables: Mapping[str, pa.Table]) -> None:
        """Make the store's rows of ``report_date`` exactly ``tables`` (per-date replace)."""
        ...

    def replace_period(self, table: str, period: str, start: dt.date, rows: pa.Table) -> None:
        """Make the store's rows of one period of a period table (``active_listeners``)
        exactly ``rows`` (the lake file's columns, without period and period_start)."""
        ...

    def upsert_dimension(self, dimension: str, rows: pa.Table) -> None:
        """Write ``rows`` (the store columns of ``DIMENSION_COLUMNS[dimension]``) into the
        store's ``songs`` or ``users`` table, replacing each key's item whole."""
        ...

    def query(self, q: KpiQuery) -> list[Row]:
        """Rows for one access pattern, via keys only (never a full scan)."""
        ...

    def record_load(self, load: Load) -> None:
        """Note a finished load (the ``loads`` table), for ``/health`` and freshness."""
        ...

    def last_load(self) -> Load | None:
        """The latest load recorded; None when none is (or the store predates ``loads``)."""
        ...

    # -- reconciliation (``musicstream verify``): whole partitions by key, never a scan ------

    def date_rows(self, table: str, report_date: dt.date) -> list[Row]:
        """Every row of a date-keyed KPI table on ``report_date``, in no set order: what a
        per-date replacement last wrote there, read by that date's key."""
        ...

    def period_rows(self, table: str, period: str, start: dt.date) -> list[Row]:
        """Every row of one (period, period_start) of a period table, by its key."""
        ...

    def date_table(self, table: str, report_date: dt.date) -> pa.Table:
        """:meth:`date_rows` as one Arrow table of :func:`arrow_schema` without report_date
        (what :meth:`replace_date` was given), empty when the date has no rows: for a
        comparison that makes no dict per row. A value of another type than its column's
        (a row written some other way) raises pyarrow's ArrowInvalid or ArrowTypeError:
        it is never converted, so the table holds what the rows hold."""
        ...

    def period_table(self, table: str, period: str, start: dt.date) -> pa.Table:
        """:meth:`period_rows` without period and period_start, as :meth:`date_table`."""
        ...

    def loaded_span(self) -> tuple[dt.date, dt.date] | None:
        """The first and last date any recorded load replaced (None before the first): where
        the store may hold dates, for a check of dates it has and the lake lacks."""
        ...

    def missing_tables(self) -> list[str]:
        """The KPI tables the store lacks, creating none (all of them: there is no store)."""
        ...

    # How long a row just written may take to show in ``date_rows``: 0 when reads see every
    # finished write (SQLite), else a pause before checking a difference again (DynamoDB's
    # report_date index is eventually consistent).
    settle_s: float

    def close(self) -> None: ...


STORES: dict[StoreName, str] = {
    "sqlite": "musicstream.stores.sqlite:SQLiteStore",
    "dynamodb": "musicstream.stores.dynamodb:DynamoDBStore",
}


def store_name(settings: Settings) -> str:
    """The store as a person finds it: the SQLite file, or the DynamoDB tables' prefix."""
    name: str = load_class("store", STORES, settings.store, extra="aws").describe(settings)
    return name


@contextmanager
def store_errors(settings: Settings) -> Iterator[None]:
    """The store's own failures (disk full, I/O, throttling, an unreachable endpoint) as one
    line naming the store: the SQLite driver and botocore name neither file nor table."""
    try:
        yield
    except (UserError, OSError):
        raise  # ours say what they are about; an OSError names its file
    except Exception as exc:
        if not type(exc).__module__.startswith(("sqlite3", "botocore", "boto3")):
            raise
        one_line = " ".join(str(exc).split())
        raise StoreError(f"{store_name(settings)}: {type(exc).__name__}: {one_line}") from exc


def create_store(settings: Settings, read_only: bool = False) -> Store:
    """The store named in settings; ``read_only`` for commands that only read it.

    A read-only open never creates the store (nor the lake it lives in). A store class that
    creates nothing when opened (DynamoDB: tables are made by ``init``) needs no such path.
    """
    cls = load_class("store", STORES, settings.store, extra="aws")
    store: Store = getattr(cls, "open_read_only", cls)(settings) if read_only else cls(settings)
    return store
