"""Archive: move a batch's processed raw files out of landing (copy, verify, delete)."""

from __future__ import annotations

from musicstream.lake import Lake
from musicstream.state import Batch


def archive_path(batch: Batch, landing_path: str) -> str:
    """``archive/<dataset>/<YYYY-MM-DD>/<batch_id>/<path under landing/<dataset>/>``."""
    _, dataset, rest = landing_path.split("/", 2)
    day = batch.clock_dt.date().isoformat()
    return f"archive/{dataset}/{day}/{batch.batch_id}/{rest}"


def archive_batch(lake: Lake, batch: Batch) -> None:
    """Idempotent: a file already moved by an interrupted attempt is skipped."""
    for entry in batch.files:
        lake.move(entry.path, archive_path(batch, entry.path))
