"""The lake tables the report layer reads: names, locations, columns and partitioning.

One registry serves both consumers, so they cannot drift apart: the Athena catalog
(``catalog.py`` renders ``CREATE EXTERNAL TABLE`` from it) and the local DuckDB runner
(``lakeio.py`` maps each table name to a ``read_parquet`` over the same files).
Columns and types come from ``musicstream.datasets`` (as Athena / Hive DDL names), folders
from ``musicstream.layout``: SPEC.md §3 and §4.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass

from musicstream import layout
from musicstream.datasets import BATCH_QUALITY, CURATED, DIMENSIONS, KPIS
from musicstream.schema import DATE, Table

Column = tuple[str, str]


@dataclass(frozen=True)
class TableSpec:
    """One lake table: where its Parquet files live and what they hold.

    ``prefix`` is the folder under the lake root; ``partition`` is the hive partition key
    found in the path (never inside the files); ``projection`` is its Athena projection type.
    """

    name: str
    prefix: str
    columns: tuple[Column, ...]
    partition: str | None = None
    projection: str | None = None

    @property
    def file_glob(self) -> str:
        """Glob of the table's data files relative to the lake root."""
        return f"{self.prefix}/*/*.parquet" if self.partition else f"{self.prefix}/*.parquet"


def _spec(table: Table, prefix: str) -> TableSpec:
    """A dated partition is projected as a date range; a batch id, unknowable in advance,
    is ``injected`` (queries must name it)."""
    if table.partition is None:
        return TableSpec(table.name, prefix, table.athena_columns())
    key, kind = table.partition
    projection = "date" if kind == DATE else "injected"
    return TableSpec(table.name, prefix, table.athena_columns(), key, projection)


KPI_TABLES: tuple[TableSpec, ...] = (
    *(_spec(t, layout.kpi_table(t.name)) for t in KPIS.values()),
    _spec(BATCH_QUALITY, layout.kpi_table(layout.BATCH_QUALITY)),
)

CURATED_TABLES: tuple[TableSpec, ...] = (
    _spec(CURATED["streams"], layout.CURATED_STREAMS),
    *(_spec(CURATED[d], posixpath.dirname(layout.dimension(d))) for d in DIMENSIONS),
)

TABLES: dict[str, TableSpec] = {t.name: t for t in KPI_TABLES + CURATED_TABLES}
