"""The lake's ``_state/``: a ledger of batches (one JSON manifest each) and the run lock."""

from __future__ import annotations

import json
import os
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from musicstream.errors import LakeLocked
from musicstream.lake import Lake

BATCHES = "_state/batches"
LOCK = "_state/lock.json"

PLANNED, COMMITTED, ARCHIVED = "planned", "committed", "archived"
# Stage boundaries of a batch processed step by step (stages.py), and the quality gate's verdict.
CURATED, COMPUTED, REJECTED = "curated", "computed", "rejected"


@dataclass
class FileEntry:
    """One landing file of a batch, and what became of its rows."""

    dataset: str
    path: str  # lake-relative landing path
    sha256: str
    size: int
    duplicate_of: str | None = None  # an earlier batch's file with the same content
    rows_read: int = 0
    rows_kept: int = 0
    rows_quarantined: int = 0


@dataclass
class Batch:
    """A run's unit of work: the landing files not yet in the ledger (SPEC §4)."""

    batch_id: str
    clock: str  # the run clock, ISO UTC; fixed at planning so a retried batch behaves the same
    files: list[FileEntry]
    status: str = PLANNED
    dates: list[str] = field(default_factory=list)
    quality: list[dict[str, Any]] = field(default_factory=list)
    warnings: dict[str, int] = field(default_factory=dict)
    duration_s: float | None = None
    max_bad_ratio: float = 1.0  # the quality gate, fixed at planning like the clock

    @property
    def clock_dt(self) -> datetime:
        return datetime.fromisoformat(self.clock)

    def data_files(self, dataset: str) -> list[FileEntry]:
        return [f for f in self.files if f.dataset == dataset and f.duplicate_of is None]

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> Batch:
        files = [FileEntry(**f) for f in obj.pop("files")]
        return cls(files=files, **obj)


class Ledger:
    """Batches recorded in the lake; a batch's manifest is rewritten as it advances."""

    def __init__(self, lake: Lake) -> None:
        self.lake = lake

    def batches(self) -> list[Batch]:
        """Every recorded batch, oldest first (batch ids sort by time)."""
        paths = [p for p in self.lake.files(BATCHES) if p.endswith(".json")]
        return [Batch.from_json(self.lake.read_json(p)) for p in paths]

    def get(self, batch_id: str) -> Batch:
        return Batch.from_json(self.lake.read_json(f"{BATCHES}/{batch_id}.json"))

    def save(self, batch: Batch) -> None:
        self.lake.write_json(f"{BATCHES}/{batch.batch_id}.json", asdict(batch))

    def known_hashes(self) -> dict[str, str]:
        """Content hash → the landing path that first brought it.

        A rejected batch's files are not known: landing them again (say, with a higher
        ``max_bad_ratio``) processes them anew.
        """
        known: dict[str, str] = {}
        for batch in self.batches():
            if batch.status == REJECTED:
                continue
            for f in batch.files:
                known.setdefault(f.sha256, f.duplicate_of or f.path)
        return known


@dataclass(frozen=True)
class LockInfo:
    host: str
    pid: int
    started: str


@contextmanager
def run_lock(lake: Lake, timeout_s: float = 0.0, poll_s: float = 0.5) -> Iterator[LockInfo]:
    """Hold the lake's run lock; a second run waits up to ``timeout_s``, then fails clearly.

    A lock left by a dead process on this host is taken over; one from another host is
    never broken automatically (``musicstream unlock`` does that, deliberately).
    """
    me = LockInfo(socket.gethostname(), os.getpid(), datetime.now(UTC).isoformat())
    deadline = time.monotonic() + timeout_s
    while not lake.create_exclusive(LOCK, json.dumps(asdict(me)).encode()):
        holder = read_lock(lake)
        if holder == me:  # our own PUT landed, its response was lost and a retry saw it
            break
        if holder is not None and _is_stale(holder):
            lake.remove(LOCK)
            continue
        if time.monotonic() >= deadline:
            raise LakeLocked(_locked_message(lake, holder))
        time.sleep(poll_s)
    try:
        yield me
    finally:
        if read_lock(lake) == me:
            lake.remove(LOCK)


def read_lock(lake: Lake) -> LockInfo | None:
    try:
        return LockInfo(**lake.read_json(LOCK))
    except (FileNotFoundError, ValueError, TypeError):
        return None


def _is_stale(holder: LockInfo) -> bool:
    if holder.host != socket.gethostname():
        return False
    try:
        os.kill(holder.pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def _locked_message(lake: Lake, holder: LockInfo | None) -> str:
    who = f"pid {holder.pid} on {holder.host} since {holder.started}" if holder else "another run"
    return (
        f"lake {lake.url} is locked by {who}; wait for it to finish "
        "(or `musicstream unlock` if that run is dead)"
    )
