"""Spark engine: the shared .sql rules and KPIs, translated to Spark SQL, run on a cluster.

Mirrors the DuckDB engine step for step, with the same view names, so the same queries
run on both. Rows stay in Spark: the driver sees only file names, dates and counts.
"""

from __future__ import annotations

import dataclasses
import functools
import os
from collections.abc import Sequence
from datetime import date, timedelta
from typing import TYPE_CHECKING

import sqlglot
from pyspark import StorageLevel
from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F
from sqlglot import exp

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
    period_days,
    surrogate,
)
from musicstream.engines.spark.reader import read_records
from musicstream.engines.spark.session import get_session, local_frame, shuffle_partitions
from musicstream.engines.spark.translate import spark_sql, to_spark
from musicstream.engines.spark.writer import write_file, write_partitions

if TYPE_CHECKING:
    from musicstream.lake import Lake
    from musicstream.settings import Settings

KEEP = StorageLevel.MEMORY_AND_DISK
# A batch's parsed and checked records (10M streams: ~1 GB each), read a few times in one
# step: on local disk (the OS's page cache), so the heap stays free for joins, aggregates and
# the broadcast dimensions, and the JVM's resident size for the memory limit.
ON_DISK = StorageLevel.DISK_ONLY


def _ntz(frame: DataFrame, *columns: str) -> DataFrame:
    """Timestamps as written by DuckDB: naive UTC wall time (Parquet isAdjustedToUTC=false)."""
    return frame.withColumns({c: F.col(c).cast("timestamp_ntz") for c in columns})


@functools.cache
def _reads(name: str) -> frozenset[str]:
    """The names the shared query ``name`` reads from (its CTEs' names among them)."""
    tree = sqlglot.parse_one(spark_sql(name), read="spark")
    return frozenset(table.name for table in tree.find_all(exp.Table))


def _ltz(frame: DataFrame, *columns: str) -> DataFrame:
    """Lake timestamps (naive UTC) as Spark's session timestamps, comparable to parsed ones."""
    return frame.withColumns({c: F.col(c).cast("timestamp") for c in columns})


class SparkEngine:
    """Runs every stage's data work as Spark jobs in the process's SparkSession."""

    name = "spark"

    def __init__(self, settings: Settings, lake: Lake) -> None:
        self.lake = lake
        self.top_n = settings.top_n
        self.spark = get_session(settings)
        self.views: dict[str, DataFrame] = {}
        self._uploaded: list[str] = []  # admitted files uploaded to a remote lake
        for dim in DIMENSIONS:
            self._load_dimension(dim)

    def interrupt(self) -> None:
        """Nothing: a py4j call from a signal handler could deadlock on the connection the
        interrupted call holds, so a Spark run stops at its next step boundary instead."""

    def close(self) -> None:
        """Free what this engine cached; the session lives on for the next engine."""
        for name in list(self.views):
            self._drop(name)
        for folder in self._uploaded:
            self.lake.remove(folder, recursive=True)
        self._uploaded.clear()

    def _view(self, name: str, frame: DataFrame, keep: StorageLevel | None = None) -> DataFrame:
        """Register ``frame`` under the name the shared SQL uses; ``keep`` caches it there."""
        self._drop(name)
        if keep is not None:
            frame = frame.persist(keep)
        frame.createOrReplaceTempView(name)
        self.views[name] = frame
        return frame

    def _drop(self, name: str) -> None:
        frame = self.views.pop(name, None)
        if frame is not None:
            frame.unpersist()
            self.spark.catalog.dropTempView(name)

    def _empty(self, table: str) -> DataFrame:
        """A curated table (or ``_day_listeners``) with no rows, for a lake that has none."""
        spec = DAY_LISTENERS if table == DAY_LISTENERS.name else CURATED[table]
        return local_frame(self.spark, [], spec.ddl("spark", partition=True))

    def _size_for(self, nbytes: int) -> None:
        """Shuffle partitions sized to the ``nbytes`` of input of the coming step."""
        parallelism = self.spark.sparkContext.defaultParallelism
        self.spark.conf.set("spark.sql.shuffle.partitions", shuffle_partitions(nbytes, parallelism))

    # -- validate ------------------------------------------------------------------------

    def validate(
        self, dataset: str, files: Sequence[FileSpec], ctx: BatchContext
    ) -> list[FileCounts]:
        self._size_for(sum(os.path.getsize(s.uri) for s in files if s.header))
        readable = self._readable(dataset, files, ctx.batch_id)
        # Not cached: the steps below cache what they parse from the records, and the
        # malformed ones (counts, quarantine) cost a cheaper read of the files than a
        # cache of every record as text would cost memory.
        records = read_records(self.spark, dataset, readable)
        raw = records.where(~F.col("_malformed")).drop("_raw", "_malformed")
        self._view(f"raw_{dataset}", raw)
        malformed = records.where("_malformed").select(
            "_file_idx", F.col("_line").alias("line"), F.col("_raw").alias("raw_record")
        )
        self._view(f"malformed_{dataset}", malformed)
        self._set_context(ctx)
        for name in VALIDATION_STEPS.get(dataset, ()):
            self._view(name, self.spark.sql(spark_sql(f"validate/{name}")), ON_DISK)
        if dataset == "streams":
            self._load_lake_events(ctx)
        checked = self.spark.sql(spark_sql(f"validate/{dataset}"))
        self._view(f"checked_{dataset}", checked, ON_DISK)
        counts = self._counts(dataset, files)
        for name in VALIDATION_STEPS.get(dataset, ()):  # checked is cached by now
            self._drop(name)
        self._write_quarantine(dataset, files, ctx, counts)
        self._drop(f"raw_{dataset}")
        self._drop(f"malformed_{dataset}")
        return counts

    def _readable(self, dataset: str, files: Sequence[FileSpec], batch_id: str) -> list[FileSpec]:
        """``files`` where Spark's executors can read them.

        Admitted files are local files of the driver. A local lake's engine reads them in
        place; otherwise they are first uploaded into the lake (one concurrent upload), and
        removed when the engine closes: the cached checked rows curation reads may be
        recomputed from them until then (a lost executor).
        """
        if self.lake.is_local:
            return list(files)
        folder = layout.tmp(f"admitted/{batch_id}/{dataset}")
        rels = {s.index: f"{folder}/{s.index}.csv" for s in files if s.header}
        self._uploaded.append(folder)
        self.lake.publish_all([(s.uri, rels[s.index]) for s in files if s.header])
        return [
            dataclasses.replace(s, uri=self.lake.uri(rels[s.index])) if s.header else s
            for s in files
        ]

    def _set_context(self, ctx: BatchContext) -> None:
        limit = ctx.clock.replace(tzinfo=None) + timedelta(seconds=ctx.future_tolerance_s)
        context = self.spark.sql(
            "select cast(:batch_id as string) as batch_id, "
            "cast(:limit as timestamp) as future_limit",
            args={"batch_id": ctx.batch_id, "limit": limit.isoformat(sep=" ")},
        )
        self._view("batch_context", context)

    def _load_lake_events(self, ctx: BatchContext) -> None:
        """Kept events of earlier batches on the dates this batch touches (the parsed
        listen times of the cached keyed_streams: this first look at them caches them)."""
        query = (
            "select distinct cast(t_listen_time as date) as d from keyed_streams "
            "where t_listen_time is not null"
        )
        dates = [row.d for row in self.spark.sql(query).collect()]
        own = f"{ctx.batch_id}.parquet"
        uris = [
            self.lake.uri(p)
            for d in dates
            for p in self.lake.files(layout.stream_day(d))
            if p.endswith(".parquet") and not p.endswith("/" + own)
        ]
        events = self.spark.read.parquet(*uris) if uris else self._empty("streams")
        columns = events.select("user_sk", "track_sk", "listen_time").distinct()
        self._view("lake_events", _ltz(columns, "listen_time"))

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
        sources = [(s.index, s.path) for s in files]
        ddl = "_file_idx int, source_file string"
        self._view("source_files", local_frame(self.spark, sources, ddl))
        table = self.spark.sql(to_spark(bookkeeping.quarantine_query(dataset)))
        write_file(self.lake, table, rel, order=list(bookkeeping.QUARANTINE_ORDER))
        self._drop("source_files")

    def _counts(self, dataset: str, files: Sequence[FileSpec]) -> list[FileCounts]:
        """Per-file rows read, kept, quarantined and per reason: one small aggregate."""
        rows = self.spark.sql(to_spark(bookkeeping.counts_query(dataset))).collect()
        return bookkeeping.file_counts(files, rows)

    # -- curate --------------------------------------------------------------------------

    @staticmethod
    def _lake_types(dataset: str, frame: DataFrame) -> DataFrame:
        return _ntz(frame, "created_at") if dataset == "users" else frame

    def _load_dimension(self, dim: str) -> None:
        rel = layout.dimension(dim)
        frame = (
            self.spark.read.parquet(self.lake.uri(rel))
            if self.lake.exists(rel)
            else self._empty(dim)
        )
        if dim == "users":
            frame = _ltz(frame, "created_at")
        self._view(f"curated_{dim}", frame)

    def _number_new_keys(self, dataset: str) -> None:
        """``new_keys_<dataset>``: this batch's new natural keys numbered on from the
        snapshot's largest surrogate key, in key order, as DuckDB's ``row_number() over
        (order by key)`` numbers them, without a window over all rows on one partition.

        The keys are range-partitioned and sorted (partition i holds smaller keys than
        partition i+1); ``monotonically_increasing_id`` numbers each partition's rows in
        order from ``partition << 33``; each partition's first number and row count (one row
        per partition, so the running sum over them is a window over a handful of rows) give
        its offset. Persisted, so both passes see the same partitions."""
        key, sk = BY_NAME[dataset].key, SURROGATE_KEYS[dataset]
        assert key is not None
        ordered = (
            self.spark.sql(to_spark(surrogate.new_keys(dataset)))
            .orderBy(key)
            .select(
                key,
                F.spark_partition_id().alias("part"),
                F.monotonically_increasing_id().alias("id"),
            )
            .persist(KEEP)
        )
        before = Window.orderBy("part").rowsBetween(Window.unboundedPreceding, -1)
        starts = (
            ordered.groupBy("part")
            .agg(F.min("id").alias("first"), F.count("*").alias("rows"))
            .withColumn("before", F.coalesce(F.sum("rows").over(before), F.lit(0)))
        )
        base = self.spark.sql(to_spark(surrogate.next_number(dataset)))
        numbered = (
            ordered.join(F.broadcast(starts), "part")
            .crossJoin(F.broadcast(base))
            .select(
                key, (F.col("base") + F.col("before") + F.col("id") - F.col("first") + 1).alias(sk)
            )
        )
        self._view(f"new_keys_{dataset}", numbered, KEEP).count()  # computed while ordered is
        ordered.unpersist()

    def curate_dimension(self, dataset: str, batch_id: str) -> None:
        self._number_new_keys(dataset)
        # cached: the changed rows and the snapshot are both written from it
        query = self.spark.sql(spark_sql(f"curate/{dataset}"))
        snapshot = self._view(f"next_{dataset}", query, KEEP)
        key = BY_NAME[dataset].key
        assert key is not None
        changes = layout.changes_file(batch_id, dataset)
        if not self.lake.exists(changes):
            changed = self.spark.sql(to_spark(changed_rows(dataset)))
            write_file(self.lake, self._lake_types(dataset, changed), changes, order=key)
        write_file(self.lake, self._lake_types(dataset, snapshot), layout.dimension(dataset), key)
        self._drop(f"next_{dataset}")
        self._drop(f"new_keys_{dataset}")
        self._drop(f"checked_{dataset}")
        self._load_dimension(dataset)  # the new snapshot, re-read from the lake

    def curate_streams(self, ctx: BatchContext) -> list[date]:
        self._set_context(ctx)
        kept = _ntz(self.spark.sql(spark_sql("curate/streams")), "listen_time")
        target = functools.partial(layout.stream_file, batch_id=ctx.batch_id)
        written = write_partitions(self.lake, kept, ("report_date",), target)
        self._drop("checked_streams")
        return [date.fromisoformat(day) for (day,) in written]

    # -- transform -----------------------------------------------------------------------

    def write_kpis(self, dates: Sequence[date]) -> None:
        work = KpiWork.of(self.lake, dates)
        read = [*work.date_files, *work.period_files, *work.listener_files]
        self._size_for(sum(self.lake.size(r) for r in read))
        n = self.top_n
        params = self.spark.sql(
            f"select {n.songs} as top_songs, {n.genres} as top_genres, {n.artists} as top_artists"
        )
        self._view("kpi_params", params)
        ddl = "period string, period_start date, period_end date, report_date date"
        rows = [tuple(str(v) for v in row) for row in period_days(work.periods)]
        self._view("period_days", local_frame(self.spark, rows, ddl))
        self._view("date_streams", self._streams(work.date_files))
        columns = ("report_date", "user_sk", "track_sk", "ms_played")
        self._view("period_streams", self._streams(work.period_files).select(*columns))
        name = DAY_LISTENERS.name
        stored = self._dated(work.listener_files, layout.kpi_table(name), name)
        self._view("stored_day_listeners", stored.select(*DAY_LISTENERS.names, "report_date"))
        for intermediate in KPI_INTERMEDIATES:
            self._view(intermediate, self.spark.sql(spark_sql(f"kpis/{intermediate}")), KEEP)
        keys, target = work.partitions(name)
        days = self.spark.sql(spark_sql("kpis/day_listeners"))
        work.remove_stale(self.lake, name, write_partitions(self.lake, days, keys, target))
        # in build order (the top_* tables rank their daily table); cached only when a later
        # table reads it, the others are computed once, by their write
        tables = (*KPI_TABLES, *PERIOD_TABLES)
        for i, table in enumerate(tables):
            read_later = any(table in _reads(f"kpis/{later}") for later in tables[i + 1 :])
            query = self.spark.sql(spark_sql(f"kpis/{table}"))
            frame = self._view(table, query, KEEP if read_later else None)
            keys, target = work.partitions(table)
            work.remove_stale(self.lake, table, write_partitions(self.lake, frame, keys, target))
        for name in ("stored_day_listeners", *KPI_INTERMEDIATES, *KPI_TABLES, *PERIOD_TABLES):
            self._drop(name)

    def _streams(self, rels: Sequence[str]) -> DataFrame:
        """Curated stream files with their report_date partition column."""
        return _ltz(self._dated(rels, layout.CURATED_STREAMS, "streams"), "listen_time")

    def _dated(self, rels: Sequence[str], folder: str, table: str) -> DataFrame:
        """The files ``rels`` of a table partitioned by report_date below ``folder``, with
        that column; ``table`` names the table for its columns when there are none."""
        if not rels:
            return self._empty(table)
        base = self.lake.uri(folder)
        return self.spark.read.option("basePath", base).parquet(*[self.lake.uri(p) for p in rels])
