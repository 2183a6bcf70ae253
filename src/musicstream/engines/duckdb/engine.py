"""DuckDB engine: the shared .sql rules and KPIs, run in process over the lake's files."""

from __future__ import annotations

import os
from collections.abc import Sequence
from datetime import date, timedelta
from importlib import resources
from typing import TYPE_CHECKING

import duckdb

from musicstream.datasets import BY_NAME, KPI_TABLES
from musicstream.engines import BatchContext, FileCounts, FileSpec, sql
from musicstream.engines.duckdb.reader import read_raw

if TYPE_CHECKING:
    from musicstream.lake import Lake
    from musicstream.settings import Settings

DIMENSIONS = ("songs", "users")


def _local_sql(name: str) -> str:
    return resources.files(__package__).joinpath(name).read_text("utf-8")


def _list(paths: Sequence[str]) -> str:
    return "[" + ", ".join("'" + p.replace("'", "''") + "'" for p in paths) + "]"


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
        if not lake.is_local:
            self.con.register_filesystem(lake.fs)
        self.con.execute(_local_sql("macros.sql"))
        self.con.execute(_local_sql("schema.sql"))
        for dim in DIMENSIONS:
            self._load_dimension(dim)

    def close(self) -> None:
        self.con.close()

    # -- validate ------------------------------------------------------------------------

    def validate(
        self, dataset: str, files: Sequence[FileSpec], ctx: BatchContext
    ) -> list[FileCounts]:
        read_raw(self.con, dataset, files)
        self._set_context(ctx)
        if dataset == "streams":
            self._load_lake_events(ctx)
        checked = sql(f"validate/{dataset}")
        self.con.execute(f"create or replace temp table checked_{dataset} as {checked}")
        self._write_quarantine(dataset, files, ctx)
        counts = self._counts(dataset, files)
        self.con.execute(f"drop table raw_{dataset}")
        return counts

    def _set_context(self, ctx: BatchContext) -> None:
        limit = ctx.clock.replace(tzinfo=None) + timedelta(seconds=ctx.future_tolerance_s)
        self.con.execute(
            "create or replace temp table batch_context as "
            "select cast(? as varchar) as batch_id, cast(? as timestamp) as future_limit",
            [ctx.batch_id, limit],
        )

    def _load_lake_events(self, ctx: BatchContext) -> None:
        """Kept events of earlier batches on the dates this batch touches."""
        dates = self.con.execute(
            "select distinct cast(ms_ts(listen_time) as date) from raw_streams "
            "where ms_ts(listen_time) is not null"
        ).fetchall()
        own = f"{ctx.batch_id}.parquet"
        files = [
            self.lake.uri(p)
            for (d,) in dates
            for p in self.lake.files(f"curated/streams/report_date={d.isoformat()}")
            if p.endswith(".parquet") and not p.endswith("/" + own)
        ]
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
            with bad as (
                select _file_idx, _ord, reasons from checked_{dataset} where reasons <> ''
            ),
            malformed_lines as (
                select _file_idx, line - 2 - (row_number() over (
                    partition by _file_idx order by line) - 1) as parsed_before
                from malformed_{dataset}
            ),
            rows as (
                select {cols}, bad.reasons, bad._file_idx,
                    bad._ord + 1 + (select count(*) from malformed_lines m
                        where m._file_idx = bad._file_idx and m.parsed_before < bad._ord) as line,
                    cast(null as varchar) as raw_record
                from bad join raw_{dataset} as raw using (_file_idx, _ord)
                union all
                select {nulls}, 'malformed_row', _file_idx, cast(line as bigint), raw_record
                from malformed_{dataset}
            )
            select rows.* exclude (_file_idx), f.source_file
            from rows join source_files f using (_file_idx)
            order by f.source_file, line
        """
        n = self.con.execute(f"select count(*) from ({query})").fetchone()
        if not n or not n[0]:
            return
        rel = f"quarantine/{dataset}/batch_id={ctx.batch_id}/quarantine.parquet"
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
        source = (
            f"select * from read_parquet('{self.lake.uri(rel)}')"
            if self.lake.exists(rel)
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
        self.con.execute(f"create or replace temp table kept_streams as {sql('curate/streams')}")
        self._write_partitions(
            "select * from kept_streams", "curated/streams", f"{ctx.batch_id}.parquet"
        )
        rows = self.con.execute("select distinct report_date from kept_streams order by 1")
        dates = [d for (d,) in rows.fetchall()]
        self.con.execute("drop table kept_streams")
        return dates

    def _write_partitions(self, query: str, prefix: str, filename: str) -> list[date]:
        """COPY ``query`` partitioned by report_date, publish each part as ``filename``."""
        with self.lake.staging() as tmp:
            out = os.path.join(tmp, "out")
            self.con.execute(
                f"copy ({query}) to '{out}' (format parquet, partition_by (report_date), "
                "filename_pattern 'part_{i}')"
            )
            written = []
            for folder in sorted(os.listdir(out)) if os.path.isdir(out) else []:
                parts = os.listdir(os.path.join(out, folder))
                assert len(parts) == 1, f"expected one file per partition, got {parts}"
                self.lake.publish(
                    os.path.join(out, folder, parts[0]), f"{prefix}/{folder}/{filename}"
                )
                written.append(date.fromisoformat(folder.split("=", 1)[1]))
        return written

    # -- transform -----------------------------------------------------------------------

    def write_kpis(self, dates: Sequence[date]) -> None:
        files = [
            self.lake.uri(p)
            for d in dates
            for p in self.lake.files(f"curated/streams/report_date={d.isoformat()}")
            if p.endswith(".parquet")
        ]
        source = (
            f"select * from read_parquet({_list(files)}, hive_partitioning = true, "
            "hive_types = {'report_date': 'DATE'})"
            if files
            else "select * from empty_streams"
        )
        self.con.execute(f"create or replace temp view date_streams as {source}")
        self.con.execute(f"create or replace temp table enriched as {sql('kpis/enriched')}")
        self.con.execute(
            f"create or replace temp table track_artists as {sql('kpis/track_artists')}"
        )
        n = self.top_n
        self.con.execute(
            "create or replace temp table kpi_params as select "
            f"{n.songs} as top_songs, {n.genres} as top_genres, {n.artists} as top_artists"
        )
        for table in KPI_TABLES:
            written = self._write_partitions(sql(f"kpis/{table}"), f"kpis/{table}", "data.parquet")
            for d in set(dates) - set(written):  # a date with no rows left: no stale rows
                self.lake.remove(f"kpis/{table}/report_date={d.isoformat()}", recursive=True)
        self.con.execute("drop table enriched")
