"""``musicstream watch``: a batch whenever settled files are in landing, until stopped (SPEC §7).

One process stays up, so a batch pays no process start or imports (about 2 s of a small
batch's 2.5 s as a separate ``run``): each batch is :func:`musicstream.pipeline.run`, under
the lake's lock like any run, so two watchers (or a watcher and a ``run``) never both write —
the one that finds the lake locked waits and tries again.

When to look: on a local lake, file-system events on ``landing/`` (watchfiles: inotify,
FSEvents, …) wake the watcher at once; on S3, or without events, a listing every
``watch_interval_s``. A file is taken once settled (unchanged for ``settle_s``, SPEC §2): a
file still landing wakes the watcher again when it would have settled. Ignored names (hidden,
``_x``, ``*.tmp``, ``*.part``) neither wake it nor are taken.

Stopping: the first SIGINT or SIGTERM lets the batch in progress finish (it is never
interrupted mid-step), then the watcher returns; a second one stops at once, which a crash-safe
run tolerates: the next run or watch finishes the batch. A batch that fails is reported and
tried again after a backoff (doubling to ``watch_max_backoff_s``), the watcher keeps going.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

from musicstream import ingest, interrupts, layout, pipeline
from musicstream.errors import LakeLocked, QualityGateFailed, UserError
from musicstream.lake import Lake, Listed
from musicstream.settings import Settings

log = logging.getLogger(__name__)
EVENT_STEP_MS = 50  # how often the event waiter checks the stop flag
SETTLE_MARGIN_S = 0.05  # wake a little after a file would settle, not a little before


@dataclass
class Outcome:
    """One attempt of the watcher: the run's summary, or why there was none."""

    status: str  # ok, nothing_new, rejected, failed, locked
    summary: dict[str, Any] | None = None
    error: str | None = None
    retry_in_s: float | None = None
    finished: float = field(default_factory=time.time)


@dataclass
class Stop:
    """The stop request: set by the first SIGINT/SIGTERM; a second one stops at once
    (:func:`musicstream.interrupts.insist`: the batch is left for the next run to finish)."""

    event: threading.Event = field(default_factory=threading.Event)
    signals: int = 0

    def __call__(self, signum: int, frame: FrameType | None) -> None:
        self.signals += 1
        if self.signals > 1:
            interrupts.insist(signum)
        self.event.set()

    @contextmanager
    def installed(self) -> Iterator[Stop]:
        """Route SIGINT and SIGTERM here while the block runs (main thread only). Once a
        stop was asked for, a later signal has nothing left to stop and is ignored: the
        handlers restored, or Python's at exit, would turn a clean stop into an error."""
        previous = {s: signal.signal(s, self) for s in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield self
        finally:
            for s, handler in previous.items():
                signal.signal(s, signal.SIG_IGN if self.event.is_set() else handler)


def watch(settings: Settings, report: Callable[[Outcome], None], stop: threading.Event) -> None:
    """Run batches as files settle in landing until ``stop`` is set; ``report`` hears of
    every batch, every failure, and a lock held by another run (once per wait)."""
    lake = pipeline.lake_for(settings)
    waiter = _events(lake, stop) if lake.is_local else None
    failures, locked, due = 0, False, True  # the first run finishes an interrupted batch
    while not stop.is_set():
        if due:
            outcome = _attempt(settings, failures)
            if outcome.status != "nothing_new" and not (locked and outcome.status == "locked"):
                report(outcome)
            locked = outcome.status == "locked"
            failures = failures + 1 if outcome.status == "failed" else 0
            if outcome.retry_in_s is not None:  # failed or locked: the same again, later
                stop.wait(outcome.retry_in_s)
                continue
            if outcome.status in ("ok", "rejected"):
                continue  # files may have landed during the batch: look again at once
        settled, landing = ingest.landing_files(lake, settings.settle_s)  # one listing a round
        if settled and not due:
            due = True
            continue
        # Nothing settled, or settled files the run just found not ready (still being
        # written): wait for an event, a file settling, or the interval, then look again.
        timeout = _until_settled(landing, settings.settle_s)
        if timeout is None:
            timeout = settings.watch_interval_s
        if waiter is not None:
            waiter(timeout)  # returns early when a file lands
        else:
            stop.wait(timeout)
        due = False


def _attempt(settings: Settings, failures: int) -> Outcome:
    """One ``run``: its summary, or a failure with the backoff before the next attempt."""
    try:
        summary = pipeline.run(settings)
    except LakeLocked as exc:
        return Outcome("locked", error=str(exc), retry_in_s=settings.watch_interval_s)
    except QualityGateFailed as exc:  # the batch was rejected and archived: nothing to retry
        return Outcome("rejected", error=str(exc))
    except (UserError, Exception) as exc:
        delay = min(settings.watch_max_backoff_s, 2.0**failures)
        log.warning("batch failed, trying again in %.0f s: %s", delay, exc, exc_info=True)
        return Outcome("failed", error=f"{type(exc).__name__}: {exc}", retry_in_s=delay)
    return Outcome(summary["status"], summary)


def _until_settled(landing: list[Listed], settle_s: float) -> float | None:
    """Seconds until the earliest file still landing would settle; None when none is."""
    if not landing:
        return None
    first = min(f.mtime for f in landing) + settle_s
    return max(0.0, first - time.time()) + SETTLE_MARGIN_S


def _events(lake: Lake, stop: threading.Event) -> Callable[[float], bool] | None:
    """A wait for file-system events under landing/: ``wait(timeout)`` is True when a
    file that is not ignored was added or changed, False on timeout or stop. None when
    watchfiles is not installed (the watcher then lists every interval)."""
    try:
        import watchfiles
    except ImportError:
        return None
    root = Path(lake.path(layout.LANDING))
    root.mkdir(parents=True, exist_ok=True)
    base = Path(lake.path(""))

    def interesting(change: Any, path: str) -> bool:
        if change == watchfiles.Change.deleted:
            return False
        rel = Path(path).relative_to(base).as_posix()
        # landing/ or landing/<dataset>/ itself: a folder moved in holds files of its own
        return rel.count("/") < 2 or not ingest.ignored(rel)

    changes = watchfiles.watch(
        root,
        watch_filter=interesting,
        debounce=EVENT_STEP_MS,
        step=EVENT_STEP_MS,
        stop_event=stop,
        rust_timeout=EVENT_STEP_MS * 2,
        yield_on_timeout=True,
    )

    def wait(timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not stop.is_set():
            found = next(changes, None)
            if found:
                return True
        return False

    return wait


def starting(settings: Settings) -> str:
    """The watcher's first line: where it looks, how, and how to stop it."""
    local = pipeline.lake_for(settings).is_local
    how = "file events" if local else f"a listing every {settings.watch_interval_s:g} s"
    return (
        f"watching {settings.lake}/landing ({how}; files settle for {settings.settle_s:g} s); "
        "Ctrl-C stops after the batch in progress"
    )


def describe(outcome: Outcome) -> str:
    """One line for people: what a batch did and how fresh its data is in the store."""
    stamp = time.strftime("%H:%M:%S", time.localtime(outcome.finished))
    if outcome.status == "locked":
        return f"{stamp} waiting: {outcome.error}"
    if outcome.status == "failed":
        return f"{stamp} batch failed, trying again in {outcome.retry_in_s:.0f} s: {outcome.error}"
    summary = outcome.summary or {}
    if outcome.status == "rejected" and not summary:
        return f"{stamp} batch rejected by the quality gate: {outcome.error}"
    datasets = summary.get("datasets", {})
    read = sum(d.get("read", 0) for d in datasets.values())
    kept = sum(d.get("kept", 0) for d in datasets.values())
    dates = summary.get("dates", [])
    span = f" ({dates[0]}…{dates[-1]})" if len(dates) > 1 else f" ({dates[0]})" if dates else ""
    lag = freshness_s(summary, outcome.finished)
    fresh = f"; landed → in the store {max(lag):.1f} s" if lag else ""
    return (
        f"{stamp} {', '.join(summary.get('batch_ids', [])) or 'batch'} {outcome.status}: "
        f"{_count(summary.get('files', 0), 'file')}, {_count(read, 'row')} ({kept:,} kept, "
        f"{read - kept:,} quarantined), {_count(len(dates), 'date')}{span}, "
        f"{summary.get('duration_s', 0):.2f} s{fresh}"
    )


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


def freshness_s(summary: dict[str, Any], loaded: float) -> list[float]:
    """Seconds from each file's landing (its mtime) to ``loaded`` (the batch in the store)."""
    return [
        round(loaded - f["landed"], 3)
        for b in summary.get("batches", [])
        for f in b.get("files", [])
        if f.get("landed")
    ]


def as_json(outcome: Outcome) -> dict[str, Any]:
    """One JSON line for machines: the outcome, the run summary's counts, the freshness."""
    summary = outcome.summary or {}
    body = {k: v for k, v in summary.items() if k != "batches"}
    lags = freshness_s(summary, outcome.finished)
    return {
        **body,
        "status": outcome.status,
        "error": outcome.error or summary.get("error"),
        "retry_in_s": outcome.retry_in_s,
        "freshness_s": max(lags) if lags else None,
    }
