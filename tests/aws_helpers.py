"""Readers for comparing stores, and a recorder of the DynamoDB operations a client sends."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

import pytest

from aws_landing import DATES, TRACKS
from musicstream.datasets import KPI_TABLES
from musicstream.settings import Settings
from musicstream.stores import KpiQuery, create_store
from musicstream.stores.dynamodb import DynamoDBStore


def dump_store(settings: Settings) -> dict[str, list[dict[str, Any]]]:
    """Every KPI row of the test dates, read through the store's own access patterns."""
    store = create_store(settings)
    try:
        out: dict[str, list[dict[str, Any]]] = {}
        for table in KPI_TABLES:
            if table == "track_daily":
                queries = [
                    KpiQuery(table, date_from=date(2026, 1, 1), date_to=date(2026, 12, 31), track=t)
                    for t in TRACKS
                ]
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
