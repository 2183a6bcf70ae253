"""The lake tables the report layer reads: names, locations, columns and partitioning.

One registry serves every consumer, so they cannot drift apart: the Athena catalog
(``catalog.py`` renders ``CREATE EXTERNAL TABLE`` from it), the local DuckDB runner
(``lakeio.py`` maps each table name to a ``read_parquet`` over the same files) and the
analysts' DuckDB views (``views.py``, ``musicstream.connect``).
Columns and types come from ``musicstream.datasets`` (as Athena / Hive DDL names), folders
from ``musicstream.layout``: SPEC.md §3 and §4.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass

from musicstream import layout
from musicstream.datasets import BATCH_QUALITY, CURATED, DIMENSIONS, KPIS, PERIODS, QUARANTINE
from musicstream.schema import DATE, Table

Column = tuple[str, str]

# Partition keys whose values are a fixed set: Athena projects them as an ``enum``.
ENUM_KEYS: dict[str, tuple[str, ...]] = {"period": PERIODS}


@dataclass(frozen=True)
class PartitionKey:
    """One hive partition key of a table (``name=value`` in the path, never in the files)
    and how Athena projects its values: ``date``, ``enum`` (``values``) or ``injected``."""

    name: str
    projection: str
    values: tuple[str, ...] = ()


@dataclass(frozen=True)
class TableSpec:
    """One lake table: where its Parquet files live and what they hold.

    ``prefix`` is the folder under the lake root; ``partition`` lists the hive partition
    keys of its folders, outermost first (empty for an unpartitioned table).
    """

    name: str
    prefix: str
    columns: tuple[Column, ...]
    partition: tuple[PartitionKey, ...] = ()

    @property
    def partition_names(self) -> tuple[str, ...]:
        return tuple(key.name for key in self.partition)

    @property
    def file_glob(self) -> str:
        """Glob of the table's data files relative to the lake root: one folder level per
        partition key."""
        return "/".join([self.prefix, *("*" for _ in self.partition), "*.parquet"])


def _key(name: str, kind: str) -> PartitionKey:
    """A dated key is projected as a date range, a key with a fixed set of values as an enum;
    any other (a batch id, unknowable in advance) is ``injected``: queries must name it."""
    if kind == DATE:
        return PartitionKey(name, "date")
    if name in ENUM_KEYS:
        return PartitionKey(name, "enum", ENUM_KEYS[name])
    return PartitionKey(name, "injected")


def _spec(table: Table, prefix: str, name: str | None = None) -> TableSpec:
    keys = tuple(_key(key, kind) for key, kind in table.partition)
    return TableSpec(name or table.name, prefix, table.athena_columns(), keys)


KPI_TABLES: tuple[TableSpec, ...] = (
    *(_spec(t, layout.kpi_table(t.name)) for t in KPIS.values()),
    _spec(BATCH_QUALITY, layout.kpi_table(layout.BATCH_QUALITY)),
)

CURATED_TABLES: tuple[TableSpec, ...] = (
    _spec(CURATED["streams"], layout.CURATED_STREAMS),
    *(_spec(CURATED[d], posixpath.dirname(layout.dimension(d))) for d in DIMENSIONS),
)

# The bad rows of each dataset and the files quarantined whole (``quarantine_files``), named
# apart from the curated tables of the same dataset. Not in the Athena catalog (yet).
QUARANTINE_TABLES: tuple[TableSpec, ...] = tuple(
    _spec(table, layout.quarantined(dataset), f"quarantine_{dataset}")
    for dataset, table in QUARANTINE.items()
)

TABLES: dict[str, TableSpec] = {t.name: t for t in KPI_TABLES + CURATED_TABLES + QUARANTINE_TABLES}
