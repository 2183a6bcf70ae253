"""Load: copy each affected date's KPI partitions from the lake into the serving store."""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from datetime import date

import pyarrow as pa
import pyarrow.parquet as pq

from musicstream import layout
from musicstream.datasets import KPI_TABLES, KPIS
from musicstream.lake import Lake
from musicstream.stores import Store


def read_kpi_partition(lake: Lake, table: str, day: date) -> pa.Table:
    """One table's rows of one date (empty when the date has none)."""
    rel = layout.kpi_file(table, day)
    try:  # one GET on an object store, not exists + stat + read
        # ParquetFile, not read_table: read_table goes through pyarrow.dataset, whose import
        # pulls in pandas and pyarrow.compute (~2 s per process).
        return pq.ParquetFile(io.BytesIO(lake.read_bytes(rel))).read()
    except FileNotFoundError:
        pass
    return KPIS[table].arrow_schema().empty_table()


def load_dates(
    lake: Lake,
    store: Store,
    dates: Sequence[date],
    on_date: Callable[[date], None] | None = None,
) -> None:
    """Per-date replacement: after loading, the store holds exactly the lake's rows."""
    store.init()
    for day in sorted(dates):
        store.replace_date(day, {t: read_kpi_partition(lake, t, day) for t in KPI_TABLES})
        if on_date is not None:
            on_date(day)
