"""DuckDB engine: the shared .sql rules and KPIs, run in process over the lake's files."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Sequence
from datetime import date, timedelta
from importlib import resources
from typing import TYPE_CHECKING

import duckdb

from musicstream.datasets import BY_NAME, KPI_TABLES
from musicstream.engines import (
    BatchContext,
    FileCounts,
    FileSpec,
    date_stream_files,
    remove_stale_dates,
    sql,
)
from musicstream.engines.duckdb.reader import read_raw

if TYPE_CHECKING:
    from musicstream.lake import Lake
    from musicstream.settings import Settings

DIMENSIONS = ("songs", "users")


def _local_sql(name: str) -> str:
    return resources.files(__package__).joinpath(name).read_text("utf-8")


def _list(paths: Sequence[str]) -> str:
    return "[" + ", ".join("'" + p.replace("'", "''") + "'" for p in paths) + "]"


def _streams(files: Sequence[str]) -> str:
    """Curated stream files with their report_date partition column."""
    if not files:
        return "select * from empty_streams"
    return (
        f"select * from read_parquet({_list(files)}, hive_partitioning = true, "
        "hive_types = {'report_date': 'DATE'})"
    )


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
        if settings.memory_limit:
            self.con.execute(f"set memory_limit = '{settings.memory_limit}'")
        self.con.execute(_local_sql("macros.sql"))
        self.con.execute(_local_sql("schema.sql"))
        for dim in DIMENSIONS:
            self._load_dimension(dim)

    def close(self) -> None:
        self.con.close()

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
        read_raw(self.con, dataset, files)  # admitted files are local
        self._set_context(ctx)
        if dataset == "streams":
            self._load_lake_events(ctx)
        checked = sql(f"validate/{dataset}")
        self.con.execute(f"create or replace temp table checked_{dataset} as {checked}")
        self._write_quarantine(dataset, files, ctx)
        counts = self._counts(dataset, files)
        self.con.execute(f"drop view raw_{dataset}")
        self.con.execute(f"drop table raw_{dataset}_rows")
        return counts

    def _set_context(self, ctx: BatchContext) -> None:
        limit = ctx.clock.replace(tzinfo=None) + timedelta(seconds=ctx.future_tolerance_s)
        batch_id = ctx.batch_id.replace("'", "''")
        self.con.execute(  # literals: binding a Python datetime costs ~2 s of imports
            "create or replace temp table batch_context as "
            f"select '{batch_id}' as batch_id, timestamp '{limit.isoformat()}' as future_limit"
        )

    def _load_lake_events(self, ctx: BatchContext) -> None:
        """Kept events of earlier batches on the dates this batch touches."""
        own = f"/{ctx.batch_id}.parquet"
        earlier = [
            p
            for p in self.lake.files("curated/streams")
            if p.endswith(".parquet") and not p.endswith(own)
        ]
        if earlier:  # a first load skips the pass over the batch for its dates
            days = self.con.execute(  # the date as written; an offset moves it a day at most
                "select distinct d from (select try_cast(substr(trim(listen_time), 1, 10) "
                "as date) as d from raw_streams) where d between date '0001-01-02' "
                "and date '9999-12-30'"  # a BC or edge date has no partition, nor a neighbour
            ).fetchall()
            wanted = {
                f"report_date={(d + timedelta(days=k)).isoformat()}"
                for (d,) in days
                if d is not None
                for k in (-1, 0, 1)
            }
            earlier = [p for p in earlier if p.split("/")[2] in wanted]
        rels = earlier
        with self._readable(rels) as files:
            source = (
                f"select distinct user_id, track_id, listen_time from read_parquet({_list(files)})"
                if files
                else "select user_id, track_id, listen_time from empty_streams"
            )
            self.con.execute(f"create or replace temp table lake_events as {source}")

    def _write_quarantine(self, dataset: str, files: Sequence[FileSpec], ctx: BatchContext) -> None:
        cols = ", ".join(f'raw."{c}"' for c in BY_NAME[dataset].columns)
        nulls = ", ".join(f'cast(null as varchar) as "{c}"' for c in BY_NAME[dataset].columns)
        self.con.execute(
            "create or replace temp table source_files as select * from (values "
            + ", ".join(f"({s.index}, '{s.path.replace(chr(39), chr(39) * 2)}')" for s in files)
            + (", " if files else "")
            + "(-1, '')) t(_file_idx, source_file)"
        )
        query = f"""
            with rows as (
                select {cols}, bad.reasons, bad._file_idx,
                    coalesce(raw._line, raw._ord - o.first_ord + 2) as line,
                    cast(null as varchar) as raw_record
                from checked_{dataset} as bad join raw_{dataset} as raw using (_ord)
                join file_offsets_{dataset} as o on o._file_idx = bad._file_idx
                where bad.reasons <> ''
                union all
                select {nulls}, 'malformed_row', _file_idx, line, raw_record
                from malformed_{dataset}
            )
            select rows.* exclude (_file_idx), f.source_file
            from rows join source_files f using (_file_idx)
            order by f.source_file, line
        """
        n = self.con.execute(f"select count(*) from ({query})").fetchone()
        rel = f"quarantine/{dataset}/batch_id={ctx.batch_id}/quarantine.parquet"
        if not n or not n[0]:
            self.lake.remove(rel)  # an earlier attempt's, over other files (validate.py)
            return
        with self.lake.staging() as tmp:
            local = os.path.join(tmp, "q.parquet")
            self.con.execute(f"copy ({query}) to '{local}' (format parquet)")
            self.lake.publish(local, rel)

    def _counts(self, dataset: str, files: Sequence[FileSpec]) -> list[FileCounts]:
        counts = {s.index: FileCounts(s.index) for s in files}
        rows = self.con.execute(
            f"""
            select _file_idx, count(*), count(*) filter (where reasons = '')
            from checked_{dataset} group by 1
            """
        ).fetchall()
        for idx, read, kept in rows:
            counts[idx].rows_read, counts[idx].rows_kept = read, kept
            counts[idx].rows_quarantined = read - kept
        reasons = self.con.execute(
            f"""
            select _file_idx, reason, count(*) from (
                select _file_idx, unnest(string_split(reasons, ';')) as reason
                from checked_{dataset} where reasons <> ''
                union all
                select _file_idx, warnings from checked_{dataset}
                where reasons = '' and warnings is not null
                union all
                select _file_idx, 'malformed_row' from malformed_{dataset}
            ) group by all
            """
        ).fetchall()
        for idx, reason, n in reasons:
            counts[idx].reasons[reason] = n
        for idx, n in self.con.execute(
            f"select _file_idx, count(*) from malformed_{dataset} group by 1"
        ).fetchall():
            counts[idx].rows_read += n
            counts[idx].rows_quarantined += n
        return [counts[s.index] for s in files]

    # -- curate --------------------------------------------------------------------------

    def _load_dimension(self, dim: str) -> None:
        rel = f"curated/{dim}/{dim}.parquet"
        with self._readable([rel] if self.lake.exists(rel) else []) as files:
            source = (
                f"select * from read_parquet({_list(files)})"
                if files
                else f"select * from empty_{dim}"
            )
            self.con.execute(f"create or replace temp table curated_{dim} as {source}")

    def curate_dimension(self, dataset: str) -> None:
        self.con.execute(
            f"create or replace temp table next_{dataset} as {sql('curate/' + dataset)}"
        )
        with self.lake.staging() as tmp:
            local = os.path.join(tmp, f"{dataset}.parquet")
            self.con.execute(
                f"copy (select * from next_{dataset} order by {BY_NAME[dataset].key}) "
                f"to '{local}' (format parquet)"
            )
            self.lake.publish(local, f"curated/{dataset}/{dataset}.parquet")
        self.con.execute(f"drop table curated_{dataset}")
        self.con.execute(f"alter table next_{dataset} rename to curated_{dataset}")

    def curate_streams(self, ctx: BatchContext) -> list[date]:
        self._set_context(ctx)
        query = sql("curate/streams")
        written = self._write_partitions(query, "curated/streams", f"{ctx.batch_id}.parquet")
        for table in ("checked_streams", "lake_events"):  # their memory is the KPI step's
            self.con.execute(f"drop table if exists {table}")
        return written

    def _write_partitions(self, query: str, prefix: str, filename: str) -> list[date]:
        """COPY ``query`` partitioned by report_date, publish each part as ``filename``."""
        with self.lake.staging() as tmp:
            out = os.path.join(tmp, "out")
            self.con.execute(
                f"copy ({query}) to '{out}' (format parquet, partition_by (report_date), "
                "filename_pattern 'part_{i}')"
            )
            written, moves = [], []
            for folder in sorted(os.listdir(out)) if os.path.isdir(out) else []:
                parts = os.listdir(os.path.join(out, folder))
                assert len(parts) == 1, f"expected one file per partition, got {parts}"
                moves.append((os.path.join(out, folder, parts[0]), f"{prefix}/{folder}/{filename}"))
                written.append(date.fromisoformat(folder.split("=", 1)[1]))
            self.lake.publish_all(moves)
        return written

    # -- transform -----------------------------------------------------------------------

    def write_kpis(self, dates: Sequence[date]) -> None:
        rels = date_stream_files(self.lake, dates)
        n = self.top_n
        self.con.execute(
            "create or replace temp table kpi_params as select "
            f"{n.songs} as top_songs, {n.genres} as top_genres, {n.artists} as top_artists"
        )
        with self._readable(rels) as files:
            self.con.execute(f"create or replace temp view date_streams as {_streams(files)}")
            for name in ("keyed_songs", "keyed_users", "track_artists"):
                self.con.execute(f"create or replace temp table {name} as {sql('kpis/' + name)}")
            self.con.execute(f"create or replace temp table plays as {sql('kpis/plays')}")
        for table in KPI_TABLES:  # in build order: the top_* tables rank their daily table
            self.con.execute(f"create or replace temp table {table} as {sql('kpis/' + table)}")
            written = self._write_partitions(
                f"select * from {table}", f"kpis/{table}", "data.parquet"
            )
            remove_stale_dates(self.lake, table, dates, written)
        for table in ("plays", *KPI_TABLES):
            self.con.execute(f"drop table {table}")
