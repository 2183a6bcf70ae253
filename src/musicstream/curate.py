"""Curate: clean rows into the lake — dimension snapshots (upsert) and dated stream files."""

from __future__ import annotations

from datetime import date

from musicstream.engines import BatchContext, Engine


def curate_dimension(engine: Engine, dataset: str) -> None:
    """Upsert the batch's kept rows into ``curated/<dataset>/`` (a later file wins)."""
    engine.curate_dimension(dataset)


def curate_streams(engine: Engine, ctx: BatchContext) -> list[date]:
    """Write kept streams to ``curated/streams/report_date=D/<batch_id>.parquet``.

    Returns the affected dates: only those are recomputed (SPEC §4).
    """
    return engine.curate_streams(ctx)
