"""Archive: move a batch's processed raw files out of landing.

What goes to the archive is the content the batch processed: on a local lake the copy staged
at planning (a rename), on S3 the landing object if it is still the planned version. The
landing file is deleted only while it is still the version that was planned; one that
changed since (a writer appended to it, or replaced it) stays in landing, and the next run
processes it as a new file, its repeated events quarantined as ``duplicate_event``.
"""

from __future__ import annotations

import logging

from musicstream import layout
from musicstream.lake import Lake, LocalLake
from musicstream.state import Batch, FileEntry

log = logging.getLogger(__name__)


def archive_path(batch: Batch, landing_path: str) -> str:
    """``archive/<dataset>/<YYYY-MM-DD>/<batch_id>/<path under landing/<dataset>/>``."""
    _, dataset, rest = landing_path.split("/", 2)
    return layout.archived(dataset, batch.clock_dt.date().isoformat(), batch.batch_id, rest)


def archive_batch(lake: Lake, batch: Batch) -> None:
    """Idempotent: a file already moved by an interrupted attempt is skipped."""
    for entry in batch.files:
        if entry.skipped:
            continue  # never processed: it stays in landing for a later run
        target = archive_path(batch, entry.path)
        if entry.staged:
            assert isinstance(lake, LocalLake)  # only a local lake stages copies
            lake.rename(entry.staged, target)
            _retire(lake, entry)
        else:
            _move(lake, entry, target)


def _retire(lake: Lake, entry: FileEntry) -> None:
    """Delete the landing file if it is still the planned version."""
    now = lake.version(entry.path)
    if now is None:
        return
    if now == entry.version:
        lake.remove(entry.path)
    else:
        _leave(entry)


def _move(lake: Lake, entry: FileEntry, target: str) -> None:
    """Move a landing file that has no staged copy (S3; or it could not be read)."""
    now = lake.version(entry.path)
    if now is None:
        return  # moved by an interrupted attempt, or gone before it could be read
    if entry.version is not None and now != entry.version:
        _leave(entry)
    elif isinstance(lake, LocalLake):
        lake.rename(entry.path, target)  # also what cannot be read, such as a dangling link
    else:
        lake.move(entry.path, target)


def _leave(entry: FileEntry) -> None:
    entry.left_in_landing = True
    log.warning(
        "%s changed after it was planned: left in landing, a later run processes it",
        entry.path,
    )
