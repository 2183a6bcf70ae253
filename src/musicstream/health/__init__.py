"""Data health: warnings about a lake whose runs succeed but whose data looks wrong.

Four checks, each a warning a person can act on (``HealthWarning``); none of them fails a
run unless ``fail_on_warnings`` names it:

- ``freshness`` — no batch became visible for ``freshness_alert_after_s``. A batch is
  visible once committed (its KPIs are in the store). When that happened: the newer of the
  store's ``loads`` table (when it names a batch: a backfill brings no new data) and the
  ledger — the manifest's ``loaded_at`` where recorded, else the run clock plus the time the
  steps took (a batch finished by a later run after a crash then looks older than it is:
  the check errs towards warning).
- ``volume`` — a date's kept streams (the sum of ``genre_daily.listen_count``: one small
  KPI file per date) against the median of its last 4 same weekdays with data. Only dates
  that ended before the batch's clock are judged: the clock's own day is still filling.
- ``quarantine_rate`` — a dataset's rows of one reason (or warning) per row read, against
  the median of the same over the previous batches (rejected ones excluded).
- ``schema_change`` — a file's columns against those of the previous batch's files of its
  dataset (``FileEntry.columns``; replay files carry our own columns and are skipped).

One module per check (freshness.py, volume.py, batches.py); ledger.py reads the ledger
newest first and holds ``HealthWarning``. The checks read only the last few manifests and
the KPI files they judge: on S3 every manifest is a request, and the ledger grows by one
per batch.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from musicstream.health.batches import check_quarantine_rate, check_schema
from musicstream.health.freshness import check_freshness, last_visible, span, visible_at
from musicstream.health.ledger import VISIBLE, HealthWarning, Recent
from musicstream.health.volume import Volumes
from musicstream.lake import Lake
from musicstream.settings import Settings
from musicstream.state import Batch

__all__ = [
    "CHECKS",
    "VISIBLE",
    "HealthWarning",
    "Recent",
    "Volumes",
    "check_batches",
    "check_freshness",
    "check_quarantine_rate",
    "check_schema",
    "last_visible",
    "span",
    "visible_at",
]

CHECKS = ("freshness", "volume", "quarantine_rate", "schema_change")


def check_batches(
    settings: Settings,
    lake: Lake,
    batches: Sequence[Batch],
    now: datetime | None = None,
    recent: Recent | None = None,
) -> list[HealthWarning]:
    """Freshness of the lake, then the other checks of each batch (oldest first)."""
    recent = recent or Recent(lake)
    found = check_freshness(settings, lake, recent, now)
    volumes = Volumes(lake)
    for batch in batches:
        found += volumes.check(settings, batch)  # the manifests: read lazily, each once
        found += check_quarantine_rate(settings, batch, recent.before(batch.batch_id))
        found += check_schema(batch, recent.before(batch.batch_id))
    return found
