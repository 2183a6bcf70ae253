"""Readers for comparing stores, and a recorder of the DynamoDB operations a client sends."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

import pytest

from aws_landing import DATES, TRACKS, USERS
from musicstream.datasets import DIMENSION_KEYS, KPIS, PERIODS
from musicstream.settings import Settings
from musicstream.stores import KpiQuery, create_store
from musicstream.stores.dynamodb import DynamoDBStore


def dump_store(settings: Settings) -> dict[str, list[dict[str, Any]]]:
    """Every KPI row of the test dates, and every song and user, read through the store's
    own access patterns."""
    store = create_store(settings)
    year = {"date_from": date(2026, 1, 1), "date_to": date(2026, 12, 31)}
    keys = {"songs": TRACKS, "users": USERS}
    try:
        out: dict[str, list[dict[str, Any]]] = {}
        for table in (*KPIS, *DIMENSION_KEYS):
            if table == "track_daily":
                queries = [KpiQuery(table, **year, track=t) for t in TRACKS]
            elif table == "user_daily":
                queries = [KpiQuery(table, **year, user=u) for u in USERS]
            elif table == "active_listeners":
                queries = [
                    KpiQuery(table, date_from=date(2025, 12, 1), date_to=date(2026, 2, 1), period=p)
                    for p in PERIODS
                ]
            elif table in keys:
                key = "track" if table == "songs" else "user"
                queries = [KpiQuery(table, **{key: k}) for k in keys[table]]
            else:
                queries = [KpiQuery(table, date=date.fromisoformat(d)) for d in DATES]
            out[table] = [row for q in queries for row in store.query(q)]
        return out
    finally:
        store.close()


class Calls:
    """DynamoDB operations sent by every DynamoDBStore created while recording."""

    def __init__(self) -> None:
        self.ops: list[tuple[str, dict[str, Any]]] = []

    def names(self) -> list[str]:
        return [name for name, _ in self.ops]

    def record(self, store: DynamoDBStore) -> None:
        def hook(model: Any, params: dict[str, Any], **_: Any) -> None:
            self.ops.append((model.name, params))

        store.client.meta.events.register("provide-client-params.dynamodb.*", hook)


@contextmanager
def recording(monkeypatch: pytest.MonkeyPatch) -> Iterator[Calls]:
    """Patch DynamoDBStore so each new instance reports its calls (CLI commands included)."""
    calls = Calls()
    original = DynamoDBStore.__init__

    def init(self: DynamoDBStore, settings: Settings) -> None:
        original(self, settings)
        calls.record(self)

    monkeypatch.setattr(DynamoDBStore, "__init__", init)
    yield calls
    monkeypatch.setattr(DynamoDBStore, "__init__", original)
