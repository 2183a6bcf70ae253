"""Which quarantined stream rows a replay takes: those that can pass now, and no row twice."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from musicstream import layout
from musicstream.datasets import STREAMS
from musicstream.errors import UserError
from musicstream.lake import Lake
from musicstream.replay.manifest import Key, by_landing_file, drop, key, manifests
from musicstream.state import ARCHIVED, COMMITTED, COMPUTED, REJECTED, Batch

# A late-dimension reason → the curated dimension that cures it, and its key column.
REPLAYABLE = {"unknown_track": ("songs", "track_id"), "unknown_user": ("users", "user_id")}
PAST_GATE = (COMPUTED, COMMITTED, ARCHIVED)  # batches whose quarantine is final
QUARANTINE = (*STREAMS.columns, "reasons", "line", "source_file")


def ready(
    lake: Lake, batches: list[Batch], reasons: set[str], batch_ids: Iterable[str] | None
) -> tuple[list[dict[str, Any]], int]:
    """The rows a replay takes now, and how many asked-for rows still miss a song or user."""
    sources = _sources(lake, batches, batch_ids)
    taken = _taken(lake, batches)
    rows = [r for r in _quarantined(lake, sources) if _asked(r, reasons) and key(r) not in taken]
    found = _known_now(lake, rows)
    return found, len(rows) - len(found)


def _sources(lake: Lake, batches: list[Batch], batch_ids: Iterable[str] | None) -> list[str]:
    """Batches whose stream quarantine is final (past the quality gate); ``--batch`` narrows."""
    status = {b.batch_id: b.status for b in batches}
    asked = list(dict.fromkeys(batch_ids or ()))
    if not asked:
        return [b for b, s in status.items() if s in PAST_GATE]
    for batch_id in asked:
        if batch_id not in status:
            raise UserError(f"no batch {batch_id} in the ledger of {lake.url}")
        if status[batch_id] not in PAST_GATE:
            raise UserError(
                f"batch {batch_id} is {status[batch_id]}: only the quarantine of a batch "
                f"past the quality gate ({', '.join(PAST_GATE)}) is replayed"
            )
    return asked


def _taken(lake: Lake, batches: list[Batch]) -> set[Key]:
    """Rows earlier replays took. A manifest whose file never landed (a crash between the
    two writes) is dropped; one whose batch the gate rejected took nothing that counts."""
    processed = by_landing_file(batches)
    taken: set[Key] = set()
    for made in manifests(lake):
        found = processed.get(made.landing_file)
        if found is None and not lake.exists(made.landing_file):
            drop(lake, made)
        elif found is None or found[0].status != REJECTED:
            taken |= made.keys()
    return taken


def _quarantined(lake: Lake, batch_ids: list[str]) -> Iterator[dict[str, Any]]:
    """The quarantined stream rows of these batches, each with its batch_id."""
    import pyarrow.compute as pc

    wanted, late = set(batch_ids), "|".join(REPLAYABLE)
    for rel in lake.files(layout.quarantined(STREAMS.name)):
        batch_id = layout.batch_of(rel)
        if batch_id in wanted and rel.endswith(".parquet"):
            for part in lake.parquet(rel).iter_batches(columns=list(QUARANTINE)):
                part = part.filter(pc.match_substring_regex(part.column("reasons"), late))
                for row in part.to_pylist():
                    yield {**row, "batch_id": batch_id}


def _asked(row: dict[str, Any], reasons: set[str]) -> bool:
    """One of the asked reasons, and none a replay cannot cure (it would only fail again)."""
    found = set(row["reasons"].split(";"))
    return bool(found & reasons) and found <= REPLAYABLE.keys()


def _known_now(lake: Lake, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows whose every missing song and user is in the curated dimensions now."""
    present: dict[str, set[str]] = {}
    for reason, (dim, column) in REPLAYABLE.items():
        ids = {_id(r[column]) for r in rows if reason in r["reasons"].split(";")}
        present[reason] = _present(lake, dim, column, ids)
    return [
        r
        for r in rows
        if all(_id(r[REPLAYABLE[x][1]]) in present[x] for x in r["reasons"].split(";"))
    ]


def _id(value: str | None) -> str:
    """An id as validation matches it (``ms_id``: trimmed of spaces and tabs; the quarantine
    holds admitted text, already NFC)."""
    return (value or "").strip(" \t")


def _present(lake: Lake, dim: str, column: str, ids: set[str]) -> set[str]:
    """Which of ``ids`` the curated dimension has, read one column chunk at a time."""
    rel = layout.dimension(dim)
    found: set[str] = set()
    if ids and lake.exists(rel):
        for part in lake.parquet(rel).iter_batches(columns=[column]):
            found |= ids.intersection(part.column(0).to_pylist())
    return found
