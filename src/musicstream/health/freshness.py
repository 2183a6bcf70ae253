"""Freshness: how long since a batch last became visible (see the package docstring)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from musicstream.health.ledger import VISIBLE, HealthWarning, Recent
from musicstream.lake import Lake
from musicstream.settings import Settings
from musicstream.state import Batch

log = logging.getLogger(__name__)


def check_freshness(
    settings: Settings, lake: Lake, recent: Recent | None = None, now: datetime | None = None
) -> list[HealthWarning]:
    limit = settings.freshness_alert_after_s
    if not limit:
        return []
    last = last_visible(settings, recent or Recent(lake))
    if last is None:
        message = f"no batch has been loaded from {lake.url} yet"
        return [HealthWarning("freshness", message, numbers={"limit_s": limit})]
    at, batch_id = last
    age = ((now or datetime.now(UTC)) - at).total_seconds()
    if age <= limit:
        return []
    message = (
        f"no new batch for {span(age)}: the last, {batch_id}, was loaded at "
        f"{at:%Y-%m-%d %H:%M} UTC (alert after {span(limit)})"
    )
    numbers = {"age_s": round(age), "limit_s": limit, "loaded_at": at.isoformat()}
    return [HealthWarning("freshness", message, batch_id=batch_id, numbers=numbers)]


def last_visible(settings: Settings, recent: Recent) -> tuple[datetime, str] | None:
    """When the newest data became visible, and the batch that brought it."""
    newest = next((b for b in recent.before() if b.status in VISIBLE), None)
    found = [] if newest is None else [(visible_at(newest), newest.batch_id)]
    load = _last_load(settings)
    if load is not None and load[1] in recent.ids:  # a backfill brings no new data
        found.append(load)
    return max(found, default=None)


def visible_at(batch: Batch) -> datetime:
    """When the ledger says a batch became visible: when its load finished, where the
    manifest records that (``loaded_at``); else its run clock plus its steps' time."""
    loaded = getattr(batch, "loaded_at", None)
    if loaded is not None:
        return datetime.fromtimestamp(loaded, UTC)
    clock = batch.clock_dt if batch.clock_dt.tzinfo else batch.clock_dt.replace(tzinfo=UTC)
    return clock + timedelta(seconds=batch.duration_s or 0.0)


def _last_load(settings: Settings) -> tuple[datetime, str] | None:
    """The store's last load; None without a store (the ledger then tells)."""
    from musicstream.stores import create_store

    try:
        store = create_store(settings, read_only=True)
        try:
            load = store.last_load()
        finally:
            store.close()
    except Exception as exc:  # no store yet, or unreachable: freshness still has the ledger
        log.debug("no store to read the last load from: %s", exc)
        return None
    if load is None:
        return None
    return datetime.fromisoformat(load.finished_at), load.batch_id


def span(seconds: float) -> str:
    """A duration as people say it: 45 min, 7.5 h, 3.0 days."""
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    if seconds < 172800:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"
