"""Readers never see a half-replaced date: while a loader replaces one date again and again,
alternating between two versions of different sizes, every answer the API gives for that
date is exactly one version, and the loader is never held up by the readers (SQLite, WAL)."""

from __future__ import annotations

import threading
import time
from datetime import date
from pathlib import Path
from typing import Any

from musicstream.settings import load_settings
from musicstream.stores import create_store
from stores.data import arrow, kpi_rows

from .serving import get, serving

DAY = date(2026, 5, 4)
TABLES = ("genre_daily", "top_genres_daily", "hourly_activity")
SIZES = {"a": 40, "b": 25}  # version b drops rows, so a torn read could also lack rows


def version(name: str) -> dict[str, Any]:
    salt = {"a": 0, "b": 1000}[name]
    return {t: arrow(t, kpi_rows(t, SIZES[name], salt)) for t in TABLES}


def as_json(table: str, name: str) -> list[dict[str, Any]]:
    rows = kpi_rows(table, SIZES[name], {"a": 0, "b": 1000}[name])
    return [{"report_date": DAY.isoformat(), **r} for r in rows]


def rowset(rows: list[dict[str, Any]]) -> frozenset[tuple[tuple[str, Any], ...]]:
    return frozenset(tuple(sorted(r.items())) for r in rows)


def test_a_date_being_replaced_reads_as_one_version_never_a_mix(tmp_path: Path) -> None:
    settings = load_settings(lake=str(tmp_path), store_path=str(tmp_path / "kv.sqlite"))
    writer = create_store(settings)
    writer.init()
    versions = {name: version(name) for name in SIZES}
    writer.replace_date(DAY, versions["a"])
    writer.close()
    expected = {
        t: {rowset(as_json(t, n)): n for n in SIZES}
        for t in TABLES  # a version's rows → which version they are
    }
    stop = threading.Event()
    loads = [0]

    def load() -> None:
        store = create_store(settings)  # SQLite: a connection belongs to its thread
        while not stop.is_set():
            store.replace_date(DAY, versions["ab"[loads[0] % 2 == 0]])
            loads[0] += 1
        store.close()

    seen: dict[str, int] = {"a": 0, "b": 0}
    torn: list[str] = []

    def read(base: str, table: str) -> None:
        while not stop.is_set():
            status, body, _ = get(f"{base}/v1/kpis/{table}?date={DAY.isoformat()}")
            assert status == 200, body
            which = expected[table].get(rowset(body["rows"]))
            if which is None:
                torn.append(f"{table}: {len(body['rows'])} rows of neither version")
            else:
                seen[which] += 1

    with serving(settings) as base:
        threads = [threading.Thread(target=load)] + [
            threading.Thread(target=read, args=(base, t)) for t in TABLES * 2
        ]
        for thread in threads:
            thread.start()
        time.sleep(3)
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
    assert not torn, torn[:5]
    assert loads[0] >= 20, "the readers held the loader up"
    assert min(seen.values()) >= 10, f"both versions must have been read: {seen}"
