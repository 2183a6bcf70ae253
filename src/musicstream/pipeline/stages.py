"""Every stage of a batch timed, logged and shown as it runs.

A stage logs its start and its end (or failure, or interrupt) with ``stage``, ``batch_id``,
``duration_s`` and its counts as fields of the log record, so the JSON logs carry them as
keys and the text logs as ``key=value`` (logs.py); its duration adds up in the batch's
``stages`` (kept in the ledger, so an Airflow task's stage counts as a run's); a
:class:`Display` (the terminal's progress bar) names the stage while it runs. The start and
end of a stage are also the run's safe points for a stop signal (interrupts.py).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol

from musicstream import interrupts
from musicstream.state import Batch

log = logging.getLogger("musicstream.pipeline")


class Display(Protocol):
    """What shows the running stage: a progress bar where the work is countable."""

    def start(self, name: str, total: int | None) -> None: ...

    def advance(self, n: int = 1) -> None: ...

    def end(self) -> None: ...


class NoDisplay:
    def start(self, name: str, total: int | None) -> None:
        pass

    def advance(self, n: int = 1) -> None:
        pass

    def end(self) -> None:
        pass


@dataclass
class Stage:
    """A running stage: the body records its counts in ``fields`` and advances the bar."""

    name: str
    display: Display
    batch: Batch | None = None  # whose ``stages`` the duration adds to (plan: set once made)
    fields: dict[str, Any] = field(default_factory=dict)

    def advance(self, n: int = 1) -> None:
        self.display.advance(n)
        interrupts.check()


@contextmanager
def stage(
    name: str,
    batch: Batch | str | None,
    display: Display,
    total: int | None = None,
    **fields: Any,
) -> Iterator[Stage]:
    """Run one stage of ``batch`` (or of a backfill: its name): log, time, show it."""
    interrupts.check()
    batch_id = batch if isinstance(batch, str | None) else batch.batch_id
    base = {"stage": name, "batch_id": batch_id, **fields}
    log.info("%s started", name, extra={"fields": {"event": "start", **base}})
    running = Stage(name, display, batch if isinstance(batch, Batch) else None)
    display.start(name, total)
    started = time.monotonic()
    try:
        yield running
    except BaseException as exc:
        _failed(name, base, running, started, exc)
        raised = interrupts.translated(exc)
        if raised is not exc:
            raise raised from None
        raise
    finally:
        display.end()
    duration = round(time.monotonic() - started, 3)
    if running.batch is not None:  # the ledger has it from the batch's next save
        running.batch.stages[name] = round(running.batch.stages.get(name, 0.0) + duration, 3)
    end = {"event": "end", **base, "duration_s": duration, **running.fields}
    log.info("%s done in %.2fs", name, duration, extra={"fields": end})
    interrupts.check()


def _failed(
    name: str, base: dict[str, Any], running: Stage, started: float, exc: BaseException
) -> None:
    duration = round(time.monotonic() - started, 3)
    stopped = isinstance(interrupts.translated(exc), interrupts.Interrupted)
    event = "interrupted" if stopped else "failed"
    error = " ".join(f"{type(exc).__name__}: {exc}".split())[:500]
    fields = {"event": event, **base, "duration_s": duration, **running.fields, "error": error}
    level = logging.WARNING if stopped else logging.ERROR
    log.log(level, "%s %s after %.2fs", name, event, duration, extra={"fields": fields})


def totals(batches: list[Batch]) -> dict[str, float]:
    """Seconds per stage kind over ``batches`` (``validate:songs`` counts as ``validate``),
    in the order the stages run."""
    out: dict[str, float] = {}
    for batch in batches:
        for name, seconds in batch.stages.items():
            kind = name.split(":")[0]
            out[kind] = round(out.get(kind, 0.0) + seconds, 3)
    return out
