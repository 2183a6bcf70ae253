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

from collections.abc import Iterable
from typing import Any

from musicstream import pipeline
from musicstream.errors import LakeLocked, UserError
from musicstream.lake import Lake
from musicstream.pipeline import OnStep, lake_for, no_step
from musicstream.replay import manifest, rows
from musicstream.replay.manifest import COLUMNS, Replay, summaries
from musicstream.replay.rows import REPLAYABLE
from musicstream.settings import Settings
from musicstream.state import Ledger, run_lock

__all__ = ["COLUMNS", "Replay", "render", "replay", "replayable", "summaries", "take"]


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
    manifest.wait_settled(lake, made.landing_file, settings.settle_s)
    try:
        report["run"] = pipeline.run(settings, on_step)
    except LakeLocked as exc:  # a run started in between: it, or the next one, takes the file
        report["note"] = f"{exc}; the next run processes {made.landing_file}"
    report["replay"] = manifest.describe(made, manifest.by_landing_file(Ledger(lake).batches()))
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
    ready, missing = rows.ready(lake, Ledger(lake).batches(), reasons, batch_ids)
    if not ready:
        return None, missing
    made = manifest.new(reasons, ready)
    manifest.save(lake, made)  # first: see the module docstring
    manifest.land(lake, made.landing_file, ready, settle_s)
    return made, missing


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
