"""Reading the lake's Parquet with DuckDB: table name -> ``read_parquet`` over its files.

The lake is a root string (a local path, ``file://…`` or ``s3://…``). Only string joins are
done here, so the same code reads any root DuckDB can glob. An object-store lake is read
through :func:`readable`, which mirrors the tables a query needs to a local folder first.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from datetime import date
from pathlib import Path

import duckdb

from musicstream.errors import UserError
from musicstream.report.tables import TABLES, PartitionKey, TableSpec
from musicstream.sqltext import literal


class ReportError(UserError):
    """A user-facing problem (no data, unknown query, bad parameter): one clear line."""


class LakeDataMissing(ReportError):
    """The lake has no files for a table the caller needs."""


def lake_root(lake: str) -> str:
    """The lake root without a trailing slash (``s3://bucket/`` -> ``s3://bucket``)."""
    root = lake.rstrip("/")
    if not root:
        raise ReportError("the lake path is empty")
    return root


def lake_url(lake: str) -> str:
    """The lake as a URL for an external catalog: URLs as given, local paths as ``file://``."""
    root = lake_root(lake)
    return root if "://" in root else Path(root).resolve().as_uri()


@contextlib.contextmanager
def readable(lake: str, tables: Iterable[str]) -> Iterator[str]:
    """A root DuckDB can read ``tables`` of ``lake`` from, valid inside the block.

    A local lake is read in place. From an object store (``s3://…``), the tables' Parquet
    files are downloaded concurrently, in the same layout, to a local scratch folder, as the
    engine does: DuckDB's S3 support is an extension it would have to download. Endpoint and
    region come from the usual settings (``MUSICSTREAM_AWS_ENDPOINT_URL``, …). Errors name
    the lake, not the scratch folder.
    """
    root = lake_root(lake)
    if "://" not in root or root.startswith("file://"):
        yield root
        return
    from musicstream.lake import open_lake
    from musicstream.settings import load_settings

    settings = load_settings(lake=root)
    remote = open_lake(settings.lake, settings.aws_endpoint_url, settings.aws_region)
    remote.require()  # a missing bucket is one clear line, not an empty lake
    rels = sorted(
        {
            path
            for name in set(tables)
            for path in remote.files(TABLES[name].prefix)
            if path.endswith(".parquet")
        }
    )
    with remote.staging() as folder:
        remote.fetch(rels, folder)
        try:
            yield folder
        except ReportError as exc:
            raise type(exc)(str(exc).replace(folder, root)) from None


def table_glob(lake: str, spec: TableSpec) -> str:
    """The glob of a table's data files under the lake root."""
    return f"{lake_root(lake)}/{spec.file_glob}"


def has_files(con: duckdb.DuckDBPyConnection, lake: str, spec: TableSpec) -> bool:
    """Whether the table has at least one data file in the lake."""
    # fetchall: a DuckDB 2 result left open (fetchone) blocks con.sql() on this connection
    found = con.execute(f"select count(*) from glob({literal(table_glob(lake, spec))})").fetchall()
    return bool(found and found[0][0])


def source_sql(lake: str, spec: TableSpec, *, typed_keys: bool = False) -> str:
    """DuckDB ``select`` over a table's files, partition keys read from the path as strings.

    The partition keys stay strings, as in the Athena DDL, so a query means the same on
    both engines; queries cast them where they need a date. ``typed_keys`` reads the dated
    keys (``report_date``, ``period_start``) as DATE instead, for the analysts' views: typed
    here, in the scan, so that a filter on them still skips the other partitions' files.
    """
    glob = literal(table_glob(lake, spec))
    if not spec.partition:
        return f"select * from read_parquet({glob})"
    types = ", ".join(
        f"{literal(k.name)}: {literal(key_type(k, typed_keys))}" for k in spec.partition
    )
    return f"select * from read_parquet({glob}, hive_partitioning = true, hive_types = {{{types}}})"


def key_type(key: PartitionKey, typed: bool = True) -> str:
    """The DuckDB type a partition key is read as: a dated key as ``date`` when ``typed``."""
    return "date" if typed and key.projection == "date" else "varchar"


def require_table(con: duckdb.DuckDBPyConnection, lake: str, name: str) -> TableSpec:
    """The table's spec, or LakeDataMissing when the lake holds none of its files."""
    spec = TABLES[name]
    if not has_files(con, lake, spec):
        raise LakeDataMissing(f"no {name} data in the lake {lake} (looked for {spec.file_glob})")
    return spec


def batch_ids(
    con: duckdb.DuckDBPyConnection, lake: str, date_from: date | None, date_to: date | None
) -> list[str]:
    """The lake's batch ids (from the batch_quality partitions) whose date is in the range.

    Batch ids start with their UTC timestamp (``20260101T120000Z-…``); an id that does not
    is kept whatever the range, rather than hidden.
    """
    spec = require_table(con, lake, "batch_quality")
    rows = con.execute(f"select file from glob({literal(table_glob(lake, spec))})").fetchall()
    ids = sorted({_partition_value(str(r[0]), "batch_id") for r in rows})
    return [b for b in ids if _in_range(_batch_date(b), date_from, date_to)]


def _partition_value(path: str, key: str) -> str:
    part = next(p for p in path.replace("\\", "/").split("/") if p.startswith(f"{key}="))
    return part.split("=", 1)[1]


def _batch_date(batch_id: str) -> date | None:
    try:
        return date(int(batch_id[:4]), int(batch_id[4:6]), int(batch_id[6:8]))
    except ValueError:
        return None


def _in_range(day: date | None, date_from: date | None, date_to: date | None) -> bool:
    if day is None:
        return True
    return (date_from is None or day >= date_from) and (date_to is None or day <= date_to)
