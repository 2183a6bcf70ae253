"""`musicstream replay`: late-arriving dimensions (SPEC §2, §4).

Streams quarantined as ``unknown_track`` / ``unknown_user`` whose song or user has landed
since get a second chance as a new batch. Under the run lock a replay takes those rows,
records them in ``_state/replays/<replay_id>.json``, then lands their original fields as
``landing/streams/replay/<replay_id>.csv``; the pipeline validates that file like any other:
kept rows count, the rest are quarantined again in its batch. Earlier quarantines are only read.

- Never twice: a row (batch, source file, line) a replay took is skipped by every later one,
  unless the quality gate rejected that replay's batch. The manifest is written first, so a
  crash leaves at worst a manifest without a file, which the next replay drops (its rows are
  free again). An event already kept elsewhere comes back as ``duplicate_event``.
- Only rows that can pass now: every key the row missed is in the curated dimensions, and it
  has no other reason. So a replay with nothing new to match takes nothing, instead of
  copying the same rows into one more quarantine.
- The file carries each row's origin (``from_*`` columns, which validation ignores); that
  also keeps its content unique, never taken for a re-landed copy of an earlier file.
"""

from __future__ import annotations

import csv
import io
import os
import time
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from musicstream import pipeline
from musicstream.datasets import STREAMS
from musicstream.errors import LakeLocked, UserError
from musicstream.lake import Lake
from musicstream.pipeline import OnStep, lake_for, no_step
from musicstream.settings import Settings
from musicstream.state import (
    ARCHIVED,
    COMMITTED,
    COMPUTED,
    PLANNED,
    REJECTED,
    Batch,
    FileEntry,
    Ledger,
    run_lock,
)

if TYPE_CHECKING:
    import pyarrow.parquet as pq

# A late-dimension reason → the curated dimension that cures it, and its key column.
REPLAYABLE = {"unknown_track": ("songs", "track_id"), "unknown_user": ("users", "user_id")}
REPLAYS = "_state/replays"
FOLDER = "landing/streams/replay"
LINEAGE = ("from_batch", "from_file", "from_line")
PAST_GATE = (COMPUTED, COMMITTED, ARCHIVED)  # batches whose quarantine is final
QUARANTINE = (*STREAMS.columns, "reasons", "line", "source_file")
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


def replay(
    settings: Settings,
    reasons: Iterable[str],
    batch_ids: Iterable[str] | None = None,
    on_step: OnStep = no_step,
) -> dict[str, Any]:
    """Land the replayable rows under the lock, then run the pipeline once on them."""
    wanted = replayable(reasons)
    lake = lake_for(settings)
    with run_lock(lake, settings.lock_timeout_s, lease_s=settings.lock_lease_s):
        made, missing = take(lake, wanted, batch_ids, settings.settle_s)
    report: dict[str, Any] = {"replay": None, "still_missing": missing, "run": None, "note": None}
    if made is None:
        return report
    _wait_settled(lake, made.landing_file, settings.settle_s)
    try:
        report["run"] = pipeline.run(settings, on_step)
    except LakeLocked as exc:  # a run started in between: it, or the next one, takes the file
        report["note"] = f"{exc}; the next run processes {made.landing_file}"
    report["replay"] = describe(made, _processed(Ledger(lake).batches()))
    return report


def replayable(reasons: Iterable[str]) -> set[str]:
    """The asked reasons, each one a replay can cure."""
    wanted = set(reasons)
    other = sorted(wanted - REPLAYABLE.keys())
    if other:
        raise UserError(
            f"cannot replay reason {other[0]!r}: only {' and '.join(REPLAYABLE)} rows can pass "
            "later (their song or user may arrive in a later file)"
        )
    return wanted


def take(
    lake: Lake, reasons: set[str], batch_ids: Iterable[str] | None, settle_s: float = 0.0
) -> tuple[Replay | None, int]:
    """Under the run lock: pick the rows, save the manifest, then land their file.

    Returns the replay (None when no row can pass now) and how many rows it left because
    their song or user is still unknown.
    """
    batches = Ledger(lake).batches()
    sources = _sources(lake, batches, batch_ids)
    taken = _taken(lake, batches)
    rows = [r for r in _quarantined(lake, sources) if _asked(r, reasons) and _key(r) not in taken]
    ready = _known_now(lake, rows)
    if not ready:
        return None, len(rows)
    made = _manifest(reasons, ready)
    lake.write_json(f"{REPLAYS}/{made.replay_id}.json", asdict(made))  # first: see above
    _land(lake, made.landing_file, ready, settle_s)
    return made, len(rows) - len(ready)


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
    processed = _processed(batches)
    taken: set[Key] = set()
    for made in manifests(lake):
        found = processed.get(made.landing_file)
        if found is None and not lake.exists(made.landing_file):
            lake.remove(f"{REPLAYS}/{made.replay_id}.json")
        elif found is None or found[0].status != REJECTED:
            taken |= made.keys()
    return taken


def _quarantined(lake: Lake, batch_ids: list[str]) -> Iterator[dict[str, Any]]:
    """The quarantined stream rows of these batches, each with its batch_id."""
    import pyarrow.compute as pc

    wanted, late = set(batch_ids), "|".join(REPLAYABLE)
    for rel in lake.files("quarantine/streams"):
        batch_id = rel.split("/")[2].removeprefix("batch_id=")
        if batch_id in wanted and rel.endswith(".parquet"):
            for part in _parquet(lake, rel).iter_batches(columns=list(QUARANTINE)):
                part = part.filter(pc.match_substring_regex(part.column("reasons"), late))
                for row in part.to_pylist():
                    yield {**row, "batch_id": batch_id}


def _asked(row: dict[str, Any], reasons: set[str]) -> bool:
    """One of the asked reasons, and none a replay cannot cure (it would only fail again)."""
    found = set(row["reasons"].split(";"))
    return bool(found & reasons) and found <= REPLAYABLE.keys()


def _key(row: dict[str, Any]) -> Key:
    return row["batch_id"], row["source_file"], row["line"]


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
    rel = f"curated/{dim}/{dim}.parquet"
    found: set[str] = set()
    if ids and lake.exists(rel):
        for part in _parquet(lake, rel).iter_batches(columns=[column]):
            found |= ids.intersection(part.column(0).to_pylist())
    return found


def _parquet(lake: Lake, rel: str) -> pq.ParquetFile:
    """A lake Parquet file through the lake's own reads (local or s3://).

    ``ParquetFile`` rather than ``pq.read_table``: that imports pandas where it is installed
    (transform.py says why that matters).
    """
    import pyarrow.parquet as pq

    return pq.ParquetFile(io.BytesIO(lake.read_bytes(rel)))


def _manifest(reasons: set[str], rows: list[dict[str, Any]]) -> Replay:
    rows.sort(key=_key)
    taken: dict[str, dict[str, list[int]]] = {}
    for r in rows:
        taken.setdefault(r["batch_id"], {}).setdefault(r["source_file"], []).append(r["line"])
    now = datetime.now(UTC).replace(microsecond=0)
    replay_id = f"{now:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"  # sortable by time, like batches
    landing = f"{FOLDER}/{replay_id}.csv"
    return Replay(replay_id, now.isoformat(), sorted(reasons), landing, len(rows), taken)


def _land(lake: Lake, rel: str, rows: list[dict[str, Any]], settle_s: float) -> None:
    """Publish the file whole: written in local scratch, then renamed or uploaded.

    UTF-8 with a BOM, which admission reads as UTF-8 whatever ``input_encoding`` says. Dated
    ``settle_s`` back, so a local lake takes it at once without taking other files that are
    still being written (S3 dates an object itself: :func:`_wait_settled`).
    """
    with lake.staging() as tmp:
        local = os.path.join(tmp, "replay.csv")
        with open(local, "w", encoding="utf-8-sig", newline="") as fh:
            writer = csv.writer(fh, lineterminator="\n")
            writer.writerow((*STREAMS.columns, *LINEAGE))
            for r in rows:
                writer.writerow([*(r[c] for c in STREAMS.columns), *_key(r)])
        landed = time.time() - settle_s
        os.utime(local, (landed, landed))
        lake.publish(local, rel)


def _wait_settled(lake: Lake, rel: str, settle_s: float) -> None:
    """Until the landed file counts as settled (SPEC §2); at once where it could be dated."""
    for found in lake.listing(FOLDER):
        if found.path == rel:
            time.sleep(max(0.0, settle_s - (time.time() - found.mtime)))


# -- what became of each replay: `status`, and the command's own output ---------------------


def manifests(lake: Lake) -> list[Replay]:
    return [_read(lake, rel) for rel in _manifest_paths(lake)]


def _manifest_paths(lake: Lake) -> list[str]:
    return [rel for rel in lake.files(REPLAYS) if rel.endswith(".json")]


def _read(lake: Lake, rel: str) -> Replay:
    try:
        return Replay(**lake.read_json(rel))
    except (ValueError, TypeError) as exc:
        raise UserError(f"damaged replay manifest {lake.uri(rel)}: {exc}") from None


def _processed(batches: list[Batch]) -> dict[str, tuple[Batch, FileEntry]]:
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
    processed, rows = _processed(batches), []
    for rel in _manifest_paths(lake):
        try:
            rows.append(describe(_read(lake, rel), processed))
        except UserError as exc:
            rows.append({"replay_id": rel.rsplit("/", 1)[-1], "outcome": str(exc)})
    return rows


def render(report: dict[str, Any]) -> None:
    from musicstream.console import console, print_run_summary

    made = report["replay"]
    if made is None:
        waiting = report["still_missing"]
        console.print(
            f"Nothing to replay: {waiting} quarantined row(s) still miss their song or user."
            if waiting
            else "Nothing to replay."
        )
        return
    console.print(
        f"Replay {made['replay_id']}: {made['rows']} row(s) ({made['reasons']}) "
        f"landed as {made['landing_file']}",
        highlight=False,
    )
    if report["run"]:
        print_run_summary(report["run"])
    if made["kept"] is None:
        console.print(report["note"] or f"Pending: the next run processes {made['landing_file']}")
    else:
        console.print(
            f"Replayed rows: {made['kept']} kept, {made['quarantined']} quarantined again "
            f"(batch {made['batch_id']})",
            highlight=False,
        )
