"""Transform: recompute every KPI table of the affected dates, and the batch's quality table."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import date

import pyarrow as pa
import pyarrow.csv as pa_csv
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
    # Through pyarrow's CSV reader: pa.array/pa.table/from_pylist import pandas where it is
    # installed, 1.3 s of a run that does not otherwise need it.
    text = io.StringIO()
    writer = csv.DictWriter(text, schema.names, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    table = pa_csv.read_csv(
        io.BytesIO(text.getvalue().encode()),
        convert_options=pa_csv.ConvertOptions(column_types=schema, strings_can_be_null=False),
    )
    buffer = io.BytesIO()
    pq.write_table(table.select(schema.names), buffer)
    lake.write_bytes(f"kpis/batch_quality/batch_id={batch_id}/data.parquet", buffer.getvalue())
