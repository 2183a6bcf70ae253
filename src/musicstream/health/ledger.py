"""The ledger as the checks read it, newest first, and what a check finds."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from itertools import groupby
from typing import Any

from musicstream.errors import LedgerDamaged
from musicstream.lake import Lake
from musicstream.state import ARCHIVED, COMMITTED, Batch, Ledger

VISIBLE = (COMMITTED, ARCHIVED)  # in the store: what readers see
LOOKBACK = 50  # manifests read at most, newest first, to find a history


@dataclass(frozen=True)
class HealthWarning:
    """One finding: which check, about what, a one-line message, and its numbers."""

    check: str
    message: str
    batch_id: str | None = None
    dataset: str | None = None
    date: str | None = None
    reason: str | None = None
    numbers: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class Recent:
    """The ledger newest first, each manifest read at most once and damaged ones skipped
    (``status`` reports those).

    Batch ids sort by their clock's second, one batch a second (ingest.plan_batch); a lake
    from before that may hold several in one second, sorted by content hash: those are
    ordered by when they were loaded instead, where the ledger says.
    """

    def __init__(self, lake: Lake) -> None:
        self.ledger = Ledger(lake)
        self.ids = [p.rsplit("/", 1)[-1].removesuffix(".json") for p in self.ledger.manifests()]
        self._read: dict[str, Batch | None] = {}

    def before(self, batch_id: str | None = None, limit: int = LOOKBACK) -> Iterator[Batch]:
        """Batches planned before ``batch_id`` (None: every batch), newest first."""
        second = batch_id.split("-")[0] if batch_id else "~"
        older = [b for b in self.ids if b.split("-")[0] <= second and b != batch_id]
        for _, ids in groupby(reversed(older[-limit:]), key=lambda b: b.split("-")[0]):
            found = [b for b in map(self._get, ids) if b is not None]
            yield from sorted(
                found, key=lambda b: getattr(b, "loaded_at", None) or 0.0, reverse=True
            )

    def _get(self, batch_id: str) -> Batch | None:
        if batch_id not in self._read:
            try:
                self._read[batch_id] = self.ledger.get(batch_id)
            except (LedgerDamaged, FileNotFoundError):
                self._read[batch_id] = None
        return self._read[batch_id]
