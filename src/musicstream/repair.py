"""`musicstream repair`: set damaged ledger manifests aside and make the lake consistent again.

A batch manifest (``_state/batches/<batch_id>.json``) that is not valid JSON, or not a
manifest, stops every run: planning without it would take its batch's files for new ones and
count their rows twice. Under the run lock, each damaged manifest is moved to
``_state/damaged/`` (evidence is never deleted) and its batch is given a state the ledger can
describe again:

- Its raw files are in the archive: the batch got past loading (or was rejected by the
  quality gate, which archives too). Its manifest is rebuilt from the archive: the files
  re-hashed, so a re-landed copy is still a duplicate; its dates from its curated stream
  files; its quality from its ``batch_quality`` rows. Per-file row counts are not
  recoverable and stay 0.
- Otherwise it was interrupted before archiving: its outputs (curated stream files,
  quarantine, ``batch_quality``) are removed and the dates it touched recomputed and
  reloaded, so the next run plans its landing files again as a new batch and ends with the
  KPIs of a lake that was never damaged.
- Unless landing holds nothing the ledger does not know: then its raw files are gone and
  undoing it would lose its rows, so its outputs are kept, recorded as an archived batch
  without files, and its dates recomputed.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from musicstream import layout
from musicstream.datasets import DATASETS
from musicstream.lake import Lake
from musicstream.pipeline.steps import Steps, lake_for
from musicstream.settings import Settings
from musicstream.state import ARCHIVED, REJECTED, Batch, FileEntry, Ledger, run_lock


def repair(settings: Settings) -> dict[str, Any]:
    """Repair every damaged manifest, oldest batch first; one result per batch."""
    lake = lake_for(settings)
    with run_lock(lake, settings.lock_timeout_s):
        ledger = Ledger(lake)
        batches, damaged = ledger.scan()
        repaired = [_repair(settings, ledger, batches, d.path) for d in damaged]
    return {"lake": lake.url, "repaired": repaired}


def _repair(settings: Settings, ledger: Ledger, batches: list[Batch], rel: str) -> dict[str, Any]:
    lake = ledger.lake
    batch_id = rel.rsplit("/", 1)[-1].removesuffix(".json")
    moved_to = _set_aside(lake, rel)
    known = ledger.known_hashes(batches)
    archived = [p for p in lake.files(layout.ARCHIVE) if p.split("/")[3:4] == [batch_id]]
    if archived:
        batch = _rebuild(lake, batch_id, archived, known)
        action = f"rebuilt as {batch.status} from {len(archived)} archived file(s)"
    elif _landing_has_new_files(lake, known):
        dates = _undo(lake, batch_id)
        _recompute(settings, lake, dates)
        return _result(batch_id, moved_to, dates, "undone, its landing files run again next")
    else:
        batch = Batch(batch_id, _clock(batch_id), [], ARCHIVED, _dates(lake, batch_id))
        batch.quality = _quality(lake, batch_id)
        _recompute(settings, lake, batch.dates)
        action = "no raw files left in landing or archive: outputs kept, recorded as archived"
    ledger.save(batch)
    batches.append(batch)
    return _result(batch_id, moved_to, batch.dates, action)


def _result(batch_id: str, moved_to: str, dates: list[str], action: str) -> dict[str, Any]:
    return {"batch_id": batch_id, "moved_to": moved_to, "dates": dates, "action": action}


def _set_aside(lake: Lake, rel: str) -> str:
    """Move a damaged manifest to ``_state/damaged/``, never over an earlier one."""
    name = rel.rsplit("/", 1)[-1]
    target, n = layout.damaged(name), 0
    while lake.exists(target):
        n += 1
        target = f"{layout.damaged(name)}.{n}"
    lake.move(rel, target)
    return target


def _rebuild(lake: Lake, batch_id: str, archived: list[str], known: dict[str, str]) -> Batch:
    """The manifest of a batch whose raw files are in the archive.

    A rejected batch left no curated streams although it kept some: that is how it is told
    apart, so that landing its files again still processes them anew.
    """
    files = []
    for rel in archived:
        _, dataset, _day, _batch, rest = rel.split("/", 4)
        path = f"{layout.landing(dataset)}/{rest}"
        digest, size = _hash(lake, rel)
        files.append(FileEntry(dataset, path, digest, size, known.get(digest)))
        known.setdefault(digest, path)
    dates, quality = _dates(lake, batch_id), _quality(lake, batch_id)
    kept_streams = sum(
        q["rows"] for q in quality if q["dataset"] == "streams" and q["reason"] == "kept"
    )
    status = REJECTED if kept_streams and not dates else ARCHIVED
    day = archived[0].split("/")[2]
    return Batch(batch_id, _clock(batch_id, day), files, status, dates, quality)


def _hash(lake: Lake, rel: str) -> tuple[str, int]:
    """Content hash and size; an archived file that cannot be read is known by its path."""
    try:
        return lake.sha256(rel), lake.size(rel)
    except OSError:
        return f"unreadable-{rel}", 0


def _clock(batch_id: str, day: str = "1970-01-01") -> str:
    """The run clock a batch id starts with (``20260101T120000Z-…``); else its archive day."""
    try:
        clock = datetime.strptime(batch_id[:16], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    except ValueError:
        clock = datetime.fromisoformat(day).replace(tzinfo=UTC)
    return clock.isoformat()


def _dates(lake: Lake, batch_id: str) -> list[str]:
    """The report dates the batch curated streams for, from its curated file names."""
    mine = [p for p in lake.files(layout.CURATED_STREAMS) if p.endswith(f"/{batch_id}.parquet")]
    return sorted(str(layout.day_of(p)) for p in mine)


def _quality(lake: Lake, batch_id: str) -> list[dict[str, Any]]:
    rel = layout.batch_quality_file(batch_id)
    if not lake.exists(rel):
        return []
    rows: list[dict[str, Any]] = lake.parquet(rel).read().to_pylist()
    return rows


def _landing_has_new_files(lake: Lake, known: dict[str, str]) -> bool:
    """Whether landing holds content the ledger does not know: an undone batch's files."""
    for rel in lake.files(layout.LANDING):
        try:
            if lake.sha256(rel) not in known:
                return True
        except OSError:
            return True
    return False


def _undo(lake: Lake, batch_id: str) -> list[str]:
    """Remove what an unfinished batch wrote; returns the dates whose streams it removed."""
    dates = _dates(lake, batch_id)
    for day in dates:
        lake.remove(layout.stream_file(day, batch_id))
    for dataset in DATASETS:
        lake.remove(layout.quarantine(dataset.name, batch_id), recursive=True)
    lake.remove(layout.batch_quality(batch_id), recursive=True)
    lake.remove(layout.changes(batch_id), recursive=True)
    return dates


def _recompute(settings: Settings, lake: Lake, dates: list[str]) -> None:
    """What ``backfill`` does, for these dates even when none of their streams is left
    (backfill skips such a date, and its KPI rows would stay stale)."""
    days = [date.fromisoformat(d) for d in dates]
    if not days:
        return
    Steps(settings, lake).recompute(days)


def render(report: dict[str, Any]) -> None:
    from musicstream.console import console

    if not report["repaired"]:
        console.print(f"The ledger of {report['lake']} is readable: nothing to repair.")
    for r in report["repaired"]:
        console.print(
            f"{r['batch_id']}: {r['action']} ({len(r['dates'])} date(s)); "
            f"damaged manifest moved to {r['moved_to']}",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
