"""Compute engines, chosen by name from settings: DuckDB (embedded) or Spark (at scale).

The contract holds only what the stages call. Engines read and write the lake themselves;
nothing row-shaped crosses into Python.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from importlib import resources
from typing import TYPE_CHECKING, Protocol

from musicstream import interrupts, layout
from musicstream.datasets import DAY_LISTENERS, KPIS, PERIOD_TABLES
from musicstream.engines import surrogate
from musicstream.periods import Period, covered_dates, periods_of
from musicstream.plugins import load_class

if TYPE_CHECKING:
    from musicstream.lake import Lake
    from musicstream.settings import EngineName, Settings


LINES, RECORDS = "lines", "records"
# The tables a dataset's validation builds before its rules (sql/validate/<name>.sql): each
# streams record parsed and looked up in the dimensions once, as the rules read it thrice.
VALIDATION_STEPS = {"streams": ("keyed_streams",)}
# The tables every KPI query reads, built first and in this order (sql/kpis/<name>.sql): one
# row per (date, track, listener) on the surrogate keys and its roll-ups per track and per
# listener, so the KPIs count listeners as rows instead of by distinct counts; the dimensions
# they join to.
KPI_INTERMEDIATES = (
    "keyed_songs",
    "track_artists",
    "plays",
    "track_days",
    "listener_days",
    "keyed_users",
    "listener_genres",
)


@dataclass(frozen=True)
class FileSpec:
    """An admitted file to read (admit.py): where it is, its header, its layout, its verdict.

    Engines never see a landing file as it landed: admission hands them a local UTF-8 file
    with LF line ends in one of two layouts, so that both engines split records the same way:

    - ``lines``: no ``"``, NUL or ``\x01`` after the header. Line 1 is the header; every
      later line is one record, split on ``,``; its physical line number is its position
      (header = 1); a blank line is no record. A record whose field count differs from the
      header's is ``malformed_row`` with its line as raw text. An empty field is NULL.
    - ``records``: written by Python's ``csv.writer`` (RFC 4180, LF, no BOM) from a strict
      scan of the landing file. Header ``_line,_raw,c0,…,c{n-1}`` (n = len(header)); each
      row: the physical line the record starts on, then either its raw text (a malformed
      record, fields empty) or an empty ``_raw`` and its n fields. An empty field is NULL.
    """

    index: int  # position in the batch's processing order (later files win upserts)
    path: str  # lake-relative landing path, as recorded in the ledger
    uri: str  # the admitted local file the engine reads
    header: tuple[str, ...]  # normalized column names, in file order
    file_reason: str | None = None  # 'missing_columns': every row is quarantined with it
    layout: str = LINES
    # lines only: every record has len(header) fields and no blank line is in between, so a
    # plain CSV parse gives the same rows (an engine may take that faster path)
    uniform: bool = False


@dataclass(frozen=True)
class BatchContext:
    batch_id: str
    clock: datetime
    future_tolerance_s: int


@dataclass
class FileCounts:
    """Per-file outcome; rows_read = rows_kept + rows_quarantined (SPEC conservation)."""

    index: int
    rows_read: int = 0
    rows_kept: int = 0
    rows_quarantined: int = 0
    reasons: dict[str, int] = field(default_factory=dict)  # quarantine reasons and warnings


class Engine(Protocol):
    """What the pipeline stages ask of an engine."""

    name: str

    def validate(
        self, dataset: str, files: Sequence[FileSpec], ctx: BatchContext
    ) -> list[FileCounts]:
        """Check every row; write the quarantine; keep the clean rows for curation."""
        ...

    def curate_dimension(self, dataset: str, batch_id: str) -> None:
        """Upsert the kept rows into ``curated/<dataset>/``; first write the rows whose key
        is new or whose row changed to ``layout.changes_file`` (unless a first attempt at
        the batch already did: it saw the snapshot before the batch)."""
        ...

    def curate_streams(self, ctx: BatchContext) -> list[date]:
        """Write the kept streams into their report_date partitions; return those dates."""
        ...

    def write_kpis(self, dates: Sequence[date]) -> None:
        """Recompute every KPI table of ``dates`` from the curated lake and write them; the
        period tables for every period (day, week, month) one of ``dates`` falls in."""
        ...

    def interrupt(self) -> None:
        """Make the running query stop soon with an error (called from a signal handler)."""
        ...

    def close(self) -> None: ...


ENGINES: dict[EngineName, str] = {
    "duckdb": "musicstream.engines.duckdb.engine:DuckDBEngine",
    "spark": "musicstream.engines.spark.engine:SparkEngine",
}


def create_engine(settings: Settings, lake: Lake) -> Engine:
    """Instantiate the engine named in settings (heavy imports happen only here); a lake
    written before surrogate keys gets them first (surrogate.py)."""
    cls = load_class("engine", ENGINES, settings.engine, extra=settings.engine)
    surrogate.upgrade(lake)
    engine: Engine = cls(settings, lake)
    return engine


# Errors of the machine, not of a file: they fail the run (which is retried), never a file.
_ENVIRONMENT = {"IOException", "OutOfMemoryException", "InterruptException", "Py4JNetworkError"}


def is_environment_error(exc: BaseException) -> bool:
    """Whether ``exc`` is about this machine (disk, memory, interrupt) rather than a file:
    after a stop signal, any error (a query it interrupted) is the stop's."""
    if interrupts.pending() or isinstance(exc, OSError | MemoryError | KeyboardInterrupt):
        return True
    return any(t.__name__ in _ENVIRONMENT for t in type(exc).__mro__)


def date_stream_files(lake: Lake, dates: Sequence[date]) -> list[str]:
    """Every batch's curated stream files of ``dates``: what a date's KPIs are computed from."""
    return [
        path
        for day in dates
        for path in lake.files(layout.stream_day(day))
        if path.endswith(".parquet")
    ]


_WRITTEN = {**KPIS, DAY_LISTENERS.name: DAY_LISTENERS}  # what write_kpis writes


@dataclass(frozen=True)
class KpiWork:
    """What one ``write_kpis`` computes: the dates, the periods they fall in, the curated
    stream files of the dates, and for the periods' other dates their ``_day_listeners``
    files, or their curated stream files where a date has none (active_listeners takes the
    dates being computed from their listener_days rows, so no stream is read twice)."""

    dates: list[date]
    periods: list[Period]
    date_files: list[str]
    period_files: list[str]
    listener_files: list[str]

    @classmethod
    def of(cls, lake: Lake, dates: Sequence[date]) -> KpiWork:
        periods = periods_of(dates)
        others = sorted(set(covered_dates(periods)) - set(dates))
        stored = set(lake.files(layout.kpi_table(DAY_LISTENERS.name)))
        wanted = {day: layout.kpi_file(DAY_LISTENERS.name, day) for day in others}
        unstored = [day for day, path in wanted.items() if path not in stored]
        listeners = [path for path in wanted.values() if path in stored]
        files = date_stream_files(lake, dates), date_stream_files(lake, unstored)
        return cls(sorted(dates), periods, *files, listeners)

    def partitions(self, table: str) -> tuple[tuple[str, ...], Callable[..., str]]:
        """The partition keys of a KPI table (or ``_day_listeners``), and where one
        partition's file goes."""
        keys = tuple(name for name, _ in _WRITTEN[table].partition)
        file = layout.kpi_period_file if table in PERIOD_TABLES else layout.kpi_file
        return keys, functools.partial(file, table)

    def remove_stale(self, lake: Lake, table: str, written: Sequence[tuple[str, ...]]) -> None:
        """Drop the partitions of this work a table wrote no rows for: no stale rows stay."""
        wanted: set[tuple[str, ...]]
        if table in PERIOD_TABLES:
            wanted = {(p.kind, p.start.isoformat()) for p in self.periods}
            folder = functools.partial(layout.kpi_period, table)
        else:
            wanted = {(day.isoformat(),) for day in self.dates}
            folder = functools.partial(layout.kpi_day, table)
        for values in wanted - set(written):
            lake.remove(folder(*values), recursive=True)


def partition_values(path: str, keys: Sequence[str]) -> tuple[str, ...] | None:
    """The values of hive partition ``keys`` in ``path`` (``…/k1=v1/k2=v2/…``), in the
    order of ``keys``; None unless each key occurs exactly once."""
    found: dict[str, list[str]] = {}
    for part in path.split("/"):
        key, sep, value = part.partition("=")
        if sep and key in keys:
            found.setdefault(key, []).append(value)
    if any(len(found.get(k, ())) != 1 for k in keys):
        return None
    return tuple(found[k][0] for k in keys)


def period_days(periods: Sequence[Period]) -> list[tuple[str, date, date, date]]:
    """``(period, period_start, period_end, report_date)`` for every date of ``periods``:
    the rows an engine joins the curated streams of those dates to."""
    return [(p.kind, p.start, p.end, day) for p in periods for day in p.dates()]


def changed_rows(dataset: str) -> str:
    """The rows of a dimension's next snapshot that are new or differ from the current one
    (set difference: NULLs compare equal). Both engines name them ``next_<dataset>`` and
    ``curated_<dataset>``."""
    return f"select * from next_{dataset} except select * from curated_{dataset}"


def sql(name: str) -> str:
    """The text of ``sql/<name>.sql``: one definition of each rule and KPI for every engine."""
    return resources.files("musicstream").joinpath(f"sql/{name}.sql").read_text("utf-8")
