"""Athena catalog: ``CREATE EXTERNAL TABLE`` statements for every KPI and curated table.

Athena reads the lake's Parquet in place. Partition projection computes the partition
locations from table properties, so no Glue crawler, ``MSCK REPAIR`` or ``ADD PARTITION`` is
ever needed after a run: ``report_date`` is projected as a date range from a start day to
``NOW``; ``batch_id`` (random suffix, unknowable in advance) is ``injected``, which makes
Athena demand ``batch_id = …`` / ``batch_id in (…)`` in every query on that table.

The statements are Athena DDL, i.e. Hive syntax: identifiers in backticks, ``string``/``int``
types, ``TBLPROPERTIES``. Partition keys are ``string``, as in the AWS examples; the projection
type only tells Athena how to format the values, and ISO dates compare correctly as strings.
"""

from __future__ import annotations

import re
from datetime import date

from musicstream.report.lakeio import ReportError, lake_url
from musicstream.report.tables import CURATED_TABLES, KPI_TABLES, TableSpec

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
    lines = [f"create external table if not exists {database}.{spec.name} (\n{columns}\n)"]
    if spec.projection == "injected":
        key = spec.partition
        lines.insert(0, f"-- {key} is injected: queries must list it (where {key} in (...))")
    if spec.partition:
        lines.append(f"partitioned by (`{spec.partition}` string)")
    lines += ["stored as parquet", f"location '{location}'"]
    properties = _projection(spec, location, projection_start)
    if properties:
        pairs = ",\n".join(f"  '{key}' = '{value}'" for key, value in properties.items())
        lines.append(f"tblproperties (\n{pairs}\n)")
    return "\n".join(lines)


def _projection(spec: TableSpec, location: str, start: date) -> dict[str, str]:
    """Partition-projection table properties for a partitioned table (empty otherwise)."""
    key = spec.partition
    if key is None:
        return {}
    props = {"projection.enabled": "true", f"projection.{key}.type": str(spec.projection)}
    if spec.projection == "date":
        props |= {
            f"projection.{key}.format": "yyyy-MM-dd",
            f"projection.{key}.range": f"{start.isoformat()},NOW",
            f"projection.{key}.interval": "1",
            f"projection.{key}.interval.unit": "DAYS",
        }
    props["storage.location.template"] = f"{location}{key}=${{{key}}}/"
    return props


def _check(database: str, url: str) -> None:
    if not re.fullmatch(r"[a-z0-9_]+", database):
        raise ReportError(f"bad Athena database name {database!r}: use a-z, 0-9 and _")
    if "'" in url:
        raise ReportError(f"the lake URL {url!r} contains a quote")
