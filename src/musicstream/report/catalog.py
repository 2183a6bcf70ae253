"""Athena catalog: ``CREATE EXTERNAL TABLE`` statements for every KPI and curated table.

Athena reads the lake's Parquet in place. Partition projection computes the partition
locations from table properties, so no Glue crawler, ``MSCK REPAIR`` or ``ADD PARTITION`` is
ever needed after a run: ``report_date`` (and ``period_start``) is projected as a date range
from a start day to ``NOW``; ``period`` as the ``enum`` of its values (day, week, month);
``batch_id`` (random suffix, unknowable in advance) is ``injected``, which makes Athena demand
``batch_id = …`` / ``batch_id in (…)`` in every query on that table. A table with several
keys (``active_listeners``: ``period=…/period_start=…``) projects each one, and its
``storage.location.template`` names them all, outermost first.

The statements are Athena DDL, i.e. Hive syntax: identifiers in backticks, ``string``/``int``
types, ``TBLPROPERTIES``. Partition keys are ``string``, as in the AWS examples; the projection
type only tells Athena how to format the values, and ISO dates compare correctly as strings.
"""

from __future__ import annotations

import re
from datetime import date

from musicstream.report.lakeio import ReportError, lake_url
from musicstream.report.tables import CURATED_TABLES, KPI_TABLES, PartitionKey, TableSpec

DEFAULT_DATABASE = "musicstream"
DEFAULT_PROJECTION_START = date(2020, 1, 1)


def render_ddl(
    lake: str,
    database: str = DEFAULT_DATABASE,
    projection_start: date = DEFAULT_PROJECTION_START,
) -> str:
    """All catalog statements for the lake, ``;``-terminated, ready to run one by one."""
    url = lake_url(lake)
    _check(database, url)
    specs = KPI_TABLES + CURATED_TABLES
    tables = [table_ddl(spec, url, database, projection_start) for spec in specs]
    header = f"-- Athena catalog for the musicstream lake at {url}\n"
    body = "\n\n".join(s + ";" for s in [f"create database if not exists {database}", *tables])
    return header + body + "\n"


def table_ddl(spec: TableSpec, url: str, database: str, projection_start: date) -> str:
    """One ``CREATE EXTERNAL TABLE`` for the table stored under ``url``."""
    location = f"{url}/{spec.prefix}/"
    columns = ",\n".join(f"  `{name}` {kind}" for name, kind in spec.columns)
    injected = [k.name for k in spec.partition if k.projection == "injected"]
    lines = [
        f"-- {key} is injected: queries must list it (where {key} in (...))" for key in injected
    ]
    lines.append(f"create external table if not exists {database}.{spec.name} (\n{columns}\n)")
    if spec.partition:
        keys = ", ".join(f"`{name}` string" for name in spec.partition_names)
        lines.append(f"partitioned by ({keys})")
    lines += ["stored as parquet", f"location '{location}'"]
    properties = _projection(spec, location, projection_start)
    if properties:
        pairs = ",\n".join(f"  '{key}' = '{value}'" for key, value in properties.items())
        lines.append(f"tblproperties (\n{pairs}\n)")
    return "\n".join(lines)


def _projection(spec: TableSpec, location: str, start: date) -> dict[str, str]:
    """Partition-projection table properties for a partitioned table (empty otherwise)."""
    if not spec.partition:
        return {}
    props = {"projection.enabled": "true"}
    for key in spec.partition:
        props |= _key_projection(key, start)
    folders = "".join(f"{name}=${{{name}}}/" for name in spec.partition_names)
    props["storage.location.template"] = location + folders
    return props


def _key_projection(key: PartitionKey, start: date) -> dict[str, str]:
    """The ``projection.<key>.*`` properties of one partition key."""
    prefix = f"projection.{key.name}"
    props = {f"{prefix}.type": key.projection}
    if key.projection == "date":
        props |= {
            f"{prefix}.format": "yyyy-MM-dd",
            f"{prefix}.range": f"{start.isoformat()},NOW",
            f"{prefix}.interval": "1",
            f"{prefix}.interval.unit": "DAYS",
        }
    elif key.projection == "enum":
        props[f"{prefix}.values"] = ",".join(key.values)
    return props


def _check(database: str, url: str) -> None:
    if not re.fullmatch(r"[a-z0-9_]+", database):
        raise ReportError(f"bad Athena database name {database!r}: use a-z, 0-9 and _")
    if "'" in url:
        raise ReportError(f"the lake URL {url!r} contains a quote")
