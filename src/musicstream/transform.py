"""Transform: recompute every KPI table of the affected dates, and the batch's quality table."""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from datetime import date

import pyarrow as pa
import pyarrow.parquet as pq

from musicstream.engines import Engine, FileCounts
from musicstream.lake import Lake


def compute_kpis(engine: Engine, dates: Sequence[date]) -> None:
    """Each date from all its curated streams, so late data restates its day."""
    if dates:
        engine.write_kpis(sorted(dates))


def quality_rows(dataset: str, counts: Iterable[FileCounts]) -> list[dict[str, object]]:
    """batch_quality rows of one dataset: 'kept' and one row per reason or warning."""
    totals: dict[str, int] = {}
    for c in counts:
        totals["kept"] = totals.get("kept", 0) + c.rows_kept
        for reason, n in c.reasons.items():
            totals[reason] = totals.get(reason, 0) + n
    return [{"dataset": dataset, "reason": r, "rows": n} for r, n in sorted(totals.items())]


def write_batch_quality(lake: Lake, batch_id: str, rows: list[dict[str, object]]) -> None:
    schema = pa.schema([("dataset", pa.string()), ("reason", pa.string()), ("rows", pa.int64())])
    buffer = io.BytesIO()
    pq.write_table(pa.Table.from_pylist(rows, schema=schema), buffer)
    lake.write_bytes(f"kpis/batch_quality/batch_id={batch_id}/data.parquet", buffer.getvalue())
