"""What a replay records and lands, and what became of it (``status``, the command's output).

A replay's manifest, ``_state/replays/<replay_id>.json``, names the quarantined rows it took;
its file, ``landing/streams/replay/<replay_id>.csv``, holds their original fields and origin.
"""

from __future__ import annotations

import csv
import os
import time
import uuid
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from musicstream import layout
from musicstream.datasets import STREAMS
from musicstream.errors import UserError
from musicstream.lake import Lake
from musicstream.state import PLANNED, Batch, FileEntry

LINEAGE = ("from_batch", "from_file", "from_line")
# What `status` shows of each replay.
COLUMNS = ("replay_id", "reasons", "rows", "batch_id", "outcome", "kept", "quarantined")

Key = tuple[str, str, int]  # one quarantined row: (batch_id, source_file, line)


@dataclass
class Replay:
    """One replay's manifest: the quarantined rows it took and the file it landed them in."""

    replay_id: str
    created: str
    reasons: list[str]
    landing_file: str
    rows: int
    taken: dict[str, dict[str, list[int]]]  # batch_id → source file → lines

    def keys(self) -> set[Key]:
        return {(b, f, n) for b, files in self.taken.items() for f, ns in files.items() for n in ns}


def key(row: dict[str, Any]) -> Key:
    return row["batch_id"], row["source_file"], row["line"]


def new(reasons: Iterable[str], rows: list[dict[str, Any]]) -> Replay:
    """The manifest of a replay taking ``rows`` (sorted in place: the order they land in)."""
    rows.sort(key=key)
    taken: dict[str, dict[str, list[int]]] = {}
    for r in rows:
        taken.setdefault(r["batch_id"], {}).setdefault(r["source_file"], []).append(r["line"])
    now = datetime.now(UTC).replace(microsecond=0)
    replay_id = f"{now:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"  # sortable by time, like batches
    landing = layout.replay_file(replay_id)
    return Replay(replay_id, now.isoformat(), sorted(reasons), landing, len(rows), taken)


def save(lake: Lake, made: Replay) -> None:
    lake.write_json(layout.replay_manifest(made.replay_id), asdict(made))


def drop(lake: Lake, made: Replay) -> None:
    lake.remove(layout.replay_manifest(made.replay_id))


def land(lake: Lake, rel: str, rows: list[dict[str, Any]], settle_s: float) -> None:
    """Publish the file whole: written in local scratch, then renamed or uploaded.

    UTF-8 with a BOM, which admission reads as UTF-8 whatever ``input_encoding`` says. Dated
    ``settle_s`` back, so a local lake takes it at once without taking other files that are
    still being written (S3 dates an object itself: :func:`wait_settled`).
    """
    with lake.staging() as tmp:
        local = os.path.join(tmp, "replay.csv")
        with open(local, "w", encoding="utf-8-sig", newline="") as fh:
            writer = csv.writer(fh, lineterminator="\n")
            writer.writerow((*STREAMS.columns, *LINEAGE))
            for r in rows:
                writer.writerow([*(r[c] for c in STREAMS.columns), *key(r)])
        landed = time.time() - settle_s
        os.utime(local, (landed, landed))
        lake.publish(local, rel)


def wait_settled(lake: Lake, rel: str, settle_s: float) -> None:
    """Until the landed file counts as settled (SPEC §2); at once where it could be dated."""
    for found in lake.listing(layout.REPLAY_LANDING):
        if found.path == rel:
            time.sleep(max(0.0, settle_s - (time.time() - found.mtime)))


def manifests(lake: Lake) -> list[Replay]:
    return [_read(lake, rel) for rel in _manifest_paths(lake)]


def _manifest_paths(lake: Lake) -> list[str]:
    return [rel for rel in lake.files(layout.REPLAYS) if rel.endswith(".json")]


def _read(lake: Lake, rel: str) -> Replay:
    try:
        return Replay(**lake.read_json(rel))
    except (ValueError, TypeError) as exc:
        raise UserError(f"damaged replay manifest {lake.uri(rel)}: {exc}") from None


def by_landing_file(batches: list[Batch]) -> dict[str, tuple[Batch, FileEntry]]:
    """Landing path → the batch that took the file, and its file entry."""
    return {f.path: (b, f) for b in batches for f in b.files}


def describe(made: Replay, processed: dict[str, tuple[Batch, FileEntry]]) -> dict[str, Any]:
    """A replay and its outcome: the batch that processed its file, or pending."""
    batch, entry = processed.get(made.landing_file, (None, None))
    counted = entry if batch is not None and batch.status != PLANNED else None
    return {
        "replay_id": made.replay_id,
        "created": made.created,
        "reasons": ";".join(made.reasons),
        "rows": made.rows,
        "batch_id": batch.batch_id if batch else None,
        "outcome": batch.status if batch else "pending",
        "kept": counted.rows_kept if counted else None,
        "quarantined": counted.rows_quarantined if counted else None,
        "landing_file": made.landing_file,
    }


def summaries(lake: Lake, batches: list[Batch]) -> list[dict[str, Any]]:
    """One row per replay, oldest first, for ``status``; a damaged manifest is listed."""
    found, rows = by_landing_file(batches), []
    for rel in _manifest_paths(lake):
        try:
            rows.append(describe(_read(lake, rel), found))
        except UserError as exc:
            rows.append({"replay_id": rel.rsplit("/", 1)[-1], "outcome": str(exc)})
    return rows
