"""Load: copy the KPI partitions of the affected dates and periods from the lake into the
serving store, and the dimension rows a batch changed."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date

import pyarrow as pa

from musicstream import layout
from musicstream.datasets import KPI_TABLES, KPIS, PERIOD_TABLES, STORE_DIMENSIONS
from musicstream.lake import Lake
from musicstream.periods import periods_of
from musicstream.schema import empty_table
from musicstream.stores import Store


def _read(lake: Lake, rel: str) -> pa.Table | None:
    """One Parquet file of the lake; None when there is none."""
    try:  # one GET on an object store, not exists + stat + read
        return lake.parquet(rel).read()
    except FileNotFoundError:
        return None


def read_kpi_partition(lake: Lake, table: str, day: date) -> pa.Table:
    """One table's rows of one date (empty when the date has none)."""
    found = _read(lake, layout.kpi_file(table, day))
    return empty_table(KPIS[table].arrow_schema()) if found is None else found


def load_dates(
    lake: Lake,
    store: Store,
    dates: Sequence[date],
    on_date: Callable[[date], None] | None = None,
) -> int:
    """Per-date replacement: after loading, the store holds exactly the lake's rows of
    ``dates``, and of every period (day, ISO week, month) they fall in. Returns the rows
    written."""
    store.init()
    written = 0
    for day in sorted(dates):
        tables = {t: read_kpi_partition(lake, t, day) for t in KPI_TABLES}
        store.replace_date(day, tables)
        written += sum(rows.num_rows for rows in tables.values())
        if on_date is not None:
            on_date(day)
    for table in PERIOD_TABLES:
        empty = empty_table(KPIS[table].arrow_schema())
        for period in periods_of(dates):
            rows = _read(lake, layout.kpi_period_file(table, period.kind, period.start))
            rows = empty if rows is None else rows
            store.replace_period(table, period.kind, period.start, rows)
            written += rows.num_rows
    return written


def load_changes(lake: Lake, store: Store, batch_id: str) -> int:
    """Upsert the dimension rows batch ``batch_id`` changed into the store's ``songs`` and
    ``users``; a batch that changed none writes nothing. Returns the rows written."""
    written = 0
    for dimension, columns in STORE_DIMENSIONS.items():
        rows = _read(lake, layout.changes_file(batch_id, dimension))
        if rows is None or rows.num_rows == 0:
            continue
        store.init()
        served = rows.select([curated for _, curated, _ in columns])
        store.upsert_dimension(dimension, served.rename_columns([name for name, _, _ in columns]))
        written += rows.num_rows
    return written
