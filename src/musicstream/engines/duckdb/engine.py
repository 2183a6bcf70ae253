"""DuckDB engine: the shared .sql rules and KPIs, run in process over the lake's files."""

from __future__ import annotations

import contextlib
import functools
import os
import posixpath
from collections.abc import Callable, Iterator, Sequence
from datetime import date, timedelta
from importlib import resources
from typing import TYPE_CHECKING

import duckdb

from musicstream import layout
from musicstream.datasets import (
    BY_NAME,
    CURATED,
    DAY_LISTENERS,
    DIMENSIONS,
    KPI_TABLES,
    PERIOD_TABLES,
    SURROGATE_KEYS,
)
from musicstream.engines import (
    KPI_INTERMEDIATES,
    VALIDATION_STEPS,
    BatchContext,
    FileCounts,
    FileSpec,
    KpiWork,
    bookkeeping,
    changed_rows,
    partition_values,
    period_days,
    sql,
    surrogate,
)
from musicstream.engines.duckdb.reader import read_raw
from musicstream.periods import Period
from musicstream.settings import machine_memory
from musicstream.sqltext import literal, literal_list

if TYPE_CHECKING:
    from musicstream.lake import Lake
    from musicstream.settings import Settings


def _local_sql(name: str) -> str:
    return resources.files(__package__).joinpath(name).read_text("utf-8")


def _streams(files: Sequence[str], table: str = "streams") -> str:
    """Curated stream files (or ``_day_listeners`` files: ``table="day_listeners"``) with
    their report_date partition column."""
    if not files:
        return f"select * from empty_{table}"
    return (
        f"select * from read_parquet({literal_list(files)}, hive_partitioning = true, "
        "hive_types = {'report_date': 'DATE'})"
    )


# Without a `memory_limit` setting the bound follows each step's input: DuckDB spills past
# it, and spilling costs time (a 30M-stream first load: 272 s bounded at 1.5 GB, 224 s at
# 4.5 GB, 197 s unbounded with a 10.3 GB peak), so a larger batch or period gets more memory,
# never less than the floor (10M streams run inside 2 GB of RSS) nor over half the machine.
MIN_MEMORY = 1536 * 10**6
MEMORY_PER_INPUT_BYTE = 2.5
MAX_MEMORY_SHARE = 0.5


def memory_for(input_bytes: int, machine_bytes: int) -> int:
    """The memory bound, in bytes, for a step reading ``input_bytes`` of files."""
    wanted = min(input_bytes * MEMORY_PER_INPUT_BYTE, machine_bytes * MAX_MEMORY_SHARE)
    return int(max(MIN_MEMORY, wanted))


# What the KPI step reads of a curated stream.
_KPI_STREAMS = "select report_date, user_sk, track_sk, listen_time, ms_played from"


def _line(dataset: str) -> str:
    """A bad row's physical line. A uniform file's rows have no ``_line``: it is their
    position in the file, found from the file's first ``_ord`` (only for the bad rows)."""
    first = f"select first_ord from file_offsets_{dataset} as o where o._file_idx = raw._file_idx"
    return f"coalesce(raw._line, raw._ord - ({first}) + 2)"


class DuckDBEngine:
    """Runs every stage's data work inside one DuckDB connection."""

    name = "duckdb"

    def __init__(self, settings: Settings, lake: Lake) -> None:
        self.lake = lake
        self.top_n = settings.top_n
        self.con = duckdb.connect(config={"preserve_insertion_order": True})
        self.con.execute("set TimeZone = 'UTC'")
        if settings.threads:
            self.con.execute(f"set threads = {settings.threads}")
        # Bounded: past the limit DuckDB spills its operators and the engine's tables to a
        # scratch folder (not `.tmp` in the working directory). Measured at 10M streams:
        # 3.6 GB peak RSS without a limit, 1.8 GB with 1.5 GB, 4% slower.
        self._memory = 0  # bytes; 0: the setting's, fixed
        if settings.memory_limit:
            self.con.execute(f"set memory_limit = {literal(settings.memory_limit)}")
        else:
            self._memory = MIN_MEMORY
            self._bound(0)
        self._scratch = contextlib.ExitStack()
        spill = self._scratch.enter_context(lake.staging())  # local, swept if we are killed
        self._scratch_dir = spill
        self.con.execute(f"set temp_directory = {literal(os.path.join(spill, 'spill'))}")
        self._held: str | None = None  # the batch whose kept streams are held_streams
        self._snapshot_views: set[str] = set()  # dimensions still read from the lake's file
        self.con.execute(_local_sql("macros.sql"))
        for name, table in {**CURATED, "day_listeners": DAY_LISTENERS}.items():  # none yet
            columns = table.ddl("duckdb", partition=True)
            self.con.execute(f"create or replace temp table empty_{name} ({columns})")
        for dim in DIMENSIONS:
            self._load_dimension(dim)

    def _bound(self, input_bytes: int) -> None:
        """Without a memory_limit setting, the bound for a step reading ``input_bytes``:
        raised when the step needs more, never lowered (the tables held may need it)."""
        if not self._memory:
            return
        self._memory = max(self._memory, memory_for(input_bytes, machine_memory()))
        self.con.execute(f"set memory_limit = '{self._memory // 10**6}MB'")

    def interrupt(self) -> None:
        self.con.interrupt()

    def close(self) -> None:
        self.con.close()
        self._scratch.close()

    @contextlib.contextmanager
    def _readable(self, rels: Sequence[str]) -> Iterator[list[str]]:
        """Paths DuckDB reads lake files ``rels`` from, valid inside the block.

        A local lake is read in place. A remote one is first downloaded, concurrently, to
        local scratch: DuckDB's S3 support (httpfs) is an extension it would have to download,
        and reading through a registered fsspec filesystem was measured at ~3x the requests
        (a HEAD per read of a Parquet file) and ~3x the time of the KPI step.
        """
        if self.lake.is_local:
            yield [self.lake.uri(p) for p in rels]
            return
        with self.lake.staging() as tmp:
            yield self.lake.fetch(rels, tmp)

    # -- validate ------------------------------------------------------------------------

    def validate(
        self, dataset: str, files: Sequence[FileSpec], ctx: BatchContext
    ) -> list[FileCounts]:
        self._bound(sum(os.path.getsize(spec.uri) for spec in files))  # admitted: local
        read_raw(self.con, dataset, files)
        self._set_context(ctx)
        if dataset == "streams":
            self._load_lake_events(ctx)
        for name in VALIDATION_STEPS.get(dataset, ()):
            self.con.execute(f"create or replace temp table {name} as {sql('validate/' + name)}")
        checked = sql(f"validate/{dataset}")
        self.con.execute(f"create or replace temp table checked_{dataset} as {checked}")
        for name in VALIDATION_STEPS.get(dataset, ()):
            self.con.execute(f"drop table {name}")
        counts = self._counts(dataset, files)
        self._write_quarantine(dataset, files, ctx, counts)
        self.con.execute(f"drop view raw_{dataset}")
        self.con.execute(f"drop table raw_{dataset}_rows")
        return counts

    def _set_context(self, ctx: BatchContext) -> None:
        limit = ctx.clock.replace(tzinfo=None) + timedelta(seconds=ctx.future_tolerance_s)
        self.con.execute(  # literals: binding a Python datetime costs ~2 s of imports
            f"create or replace temp table batch_context as select {literal(ctx.batch_id)} "
            f"as batch_id, timestamp {literal(limit.isoformat())} as future_limit"
        )

    def _load_lake_events(self, ctx: BatchContext) -> None:
        """Kept events of earlier batches on the dates this batch touches."""
        own = f"/{ctx.batch_id}.parquet"
        earlier = [
            p
            for p in self.lake.files(layout.CURATED_STREAMS)
            if p.endswith(".parquet") and not p.endswith(own)
        ]
        if earlier:  # a first load skips the pass over the batch for its dates
            days = self.con.execute(  # the date as written; an offset moves it a day at most
                "select distinct d from (select try_cast(substr(trim(listen_time), 1, 10) "
                "as date) as d from raw_streams) where d between date '0001-01-02' "
                "and date '9999-12-30'"  # a BC or edge date has no partition, nor a neighbour
            ).fetchall()
            wanted = {
                layout.stream_day(d + timedelta(days=k))
                for (d,) in days
                if d is not None
                for k in (-1, 0, 1)
            }
            earlier = [p for p in earlier if posixpath.dirname(p) in wanted]
        with self._readable(earlier) as files:
            source = (
                "select distinct user_sk, track_sk, listen_time "
                f"from read_parquet({literal_list(files)})"
                if files
                else "select user_sk, track_sk, listen_time from empty_streams"
            )
            self.con.execute(f"create or replace temp table lake_events as {source}")

    def _write_quarantine(
        self,
        dataset: str,
        files: Sequence[FileSpec],
        ctx: BatchContext,
        counts: Sequence[FileCounts],
    ) -> None:
        """Every quarantined row with its reasons, source file and physical start line."""
        rel = bookkeeping.quarantine_target(self.lake, dataset, ctx.batch_id, counts)
        if rel is None:
            return
        sources = ", ".join(f"({s.index}, {literal(s.path)})" for s in files)
        self.con.execute(
            "create or replace temp table source_files as "
            f"select * from (values {sources}) t(_file_idx, source_file)"
        )
        query = bookkeeping.quarantine_query(dataset, _line(dataset))
        order = ", ".join(bookkeeping.QUARANTINE_ORDER)
        self._write_file(f"select * from ({query}) order by {order}", rel)

    def _counts(self, dataset: str, files: Sequence[FileSpec]) -> list[FileCounts]:
        """Per-file rows read, kept, quarantined and per reason: one small aggregate."""
        rows = self.con.execute(bookkeeping.counts_query(dataset)).fetchall()
        return bookkeeping.file_counts(files, rows)

    # -- curate --------------------------------------------------------------------------

    def _load_dimension(self, dim: str) -> None:
        """``curated_<dim>``: a view of the lake's snapshot, read where a query reads it (the
        columns it needs), until this batch's rows of ``dim`` replace it with a table
        (curate_dimension). A batch of streams on a 3M-user history spent 0.35 s loading
        every user's every column, most of which no query of its reads."""
        rel = layout.dimension(dim)
        if not self.lake.exists(rel):
            source = f"select * from empty_{dim}"
        elif self.lake.is_local:
            source = f"select * from read_parquet({literal(self.lake.uri(rel))})"
        else:  # downloaded once to the engine's scratch folder, kept while the engine lives
            [local] = self.lake.fetch([rel], self._scratch_dir)
            source = f"select * from read_parquet({literal(local)})"
        self.con.execute(f"create or replace temp view curated_{dim} as {source}")
        self._snapshot_views.add(dim)

    def curate_dimension(self, dataset: str, batch_id: str) -> None:
        key, sk = BY_NAME[dataset].key, SURROGATE_KEYS[dataset]
        self.con.execute(  # a global sort of the new keys only: DuckDB sorts in parallel
            f"create or replace temp table new_keys_{dataset} as select {key}, "
            f"({surrogate.next_number(dataset)}) + row_number() over (order by {key}) as {sk} "
            f"from ({surrogate.new_keys(dataset)})"
        )
        self.con.execute(
            f"create or replace temp table next_{dataset} as {sql('curate/' + dataset)}"
        )
        self.con.execute(f"drop table new_keys_{dataset}")
        changes = layout.changes_file(batch_id, dataset)
        if not self.lake.exists(changes):
            self._write_file(f"{changed_rows(dataset)} order by {key}", changes)
        self._write_file(f"select * from next_{dataset} order by {key}", layout.dimension(dataset))
        kind = "view" if dataset in self._snapshot_views else "table"  # DuckDB checks which
        self._snapshot_views.discard(dataset)
        self.con.execute(f"drop {kind} curated_{dataset}")
        self.con.execute(f"alter table next_{dataset} rename to curated_{dataset}")

    def _write_file(self, query: str, rel: str) -> None:
        """``query`` as the one Parquet file ``rel`` of the lake."""
        with self.lake.staging() as tmp:
            local = os.path.join(tmp, posixpath.basename(rel))
            self.con.execute(f"copy ({query}) to {literal(local)} (format parquet)")
            self.lake.publish(local, rel)

    def curate_streams(self, ctx: BatchContext) -> list[date]:
        self._set_context(ctx)
        kept = sql("curate/streams")
        # One pass: the KPI step of this batch (in this process) reads the kept rows from
        # memory, not back from the files written here; on integers only, so small.
        self.con.execute(f"create or replace temp table held_streams as {_KPI_STREAMS} ({kept})")
        self._held = ctx.batch_id
        target = functools.partial(layout.stream_file, batch_id=ctx.batch_id)
        written = self._write_partitions(kept, ("report_date",), target)
        for table in ("checked_streams", "lake_events"):  # their memory is the KPI step's
            self.con.execute(f"drop table if exists {table}")
        return [date.fromisoformat(day) for (day,) in written]

    def _write_partitions(
        self, query: str, keys: Sequence[str], target: Callable[..., str]
    ) -> list[tuple[str, ...]]:
        """COPY ``query`` partitioned by ``keys``; publish each partition's one part file at
        ``target(*values)``. Returns the partitions' values."""
        with self.lake.staging() as tmp:
            out = os.path.join(tmp, "out")
            self.con.execute(
                f"copy ({query}) to {literal(out)} (format parquet, "
                f"partition_by ({', '.join(keys)}), filename_pattern 'part_{{i}}')"
            )
            found: dict[tuple[str, ...], str] = {}
            for folder, _, names in os.walk(out):
                for name in names:
                    values = partition_values(os.path.relpath(folder, out), keys)
                    assert values is not None and values not in found, f"{folder}/{name}"
                    found[values] = os.path.join(folder, name)
            written = sorted(found)
            self.lake.publish_all([(found[values], target(*values)) for values in written])
        return written

    # -- transform -----------------------------------------------------------------------

    def write_kpis(self, dates: Sequence[date]) -> None:
        work = KpiWork.of(self.lake, dates)
        n = self.top_n
        self.con.execute(
            "create or replace temp table kpi_params as select "
            f"{n.songs} as top_songs, {n.genres} as top_genres, {n.artists} as top_artists"
        )
        self._set_period_days(work.periods)
        wanted = sorted({*work.date_files, *work.period_files, *work.listener_files})
        with self._readable(wanted) as files:  # the tables reading streams run inside
            local = dict(zip(wanted, files, strict=True))
            self._bound(sum(os.path.getsize(path) for path in files))
            dated = self._dated(work, local)
            self.con.execute(f"create or replace temp view date_streams as {dated}")
            self.con.execute(
                "create or replace temp view period_streams as select report_date, user_sk, "
                f"track_sk, ms_played from ({_streams([local[r] for r in work.period_files])})"
            )
            stored = _streams([local[r] for r in work.listener_files], "day_listeners")
            self.con.execute(f"create or replace temp view stored_day_listeners as {stored}")
            for name in KPI_INTERMEDIATES:
                self.con.execute(f"create or replace temp table {name} as {sql('kpis/' + name)}")
            keys, target = work.partitions(DAY_LISTENERS.name)
            written = self._write_partitions(sql("kpis/day_listeners"), keys, target)
            work.remove_stale(self.lake, DAY_LISTENERS.name, written)
            # in build order: the top_* tables rank their daily table, active_listeners reads
            # user_daily
            for table in (*KPI_TABLES, *PERIOD_TABLES):
                self.con.execute(f"create or replace temp table {table} as {sql('kpis/' + table)}")
                keys, target = work.partitions(table)
                written = self._write_partitions(f"select * from {table}", keys, target)
                work.remove_stale(self.lake, table, written)
        for table in (*KPI_INTERMEDIATES, *KPI_TABLES, *PERIOD_TABLES):
            self.con.execute(f"drop table {table}")

    def _dated(self, work: KpiWork, local: dict[str, str]) -> str:
        """The curated streams of the work's dates: the rows this engine curated and still
        holds (curate_streams), and the other batches' files of those dates."""
        own = f"/{self._held}.parquet"
        files = [local[r] for r in work.date_files if self._held is None or not r.endswith(own)]
        query = f"{_KPI_STREAMS} ({_streams(files)})"
        if self._held is None or len(files) == len(work.date_files):
            return query
        days = ", ".join(f"date {literal(d.isoformat())}" for d in work.dates)
        held = f"select * from held_streams where report_date in ({days})"
        return f"{held} union all {query}" if files else held

    def _set_period_days(self, periods: Sequence[Period]) -> None:
        self.con.execute(
            "create or replace temp table period_days "
            "(period varchar, period_start date, period_end date, report_date date)"
        )
        rows = period_days(periods)
        if rows:  # literals: binding Python dates costs ~2 s of imports
            values = ", ".join(f"({', '.join(map(literal, row))})" for row in rows)
            self.con.execute(f"insert into period_days values {values}")
