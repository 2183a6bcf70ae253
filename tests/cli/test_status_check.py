"""`musicstream status --check`: exit 0 and one line when healthy; exit 1, one line per
finding and an "unhealthy" notification (to a real local webhook) when a check fires."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from conftest import Landing, cli, song
from webhook import Webhook

Received = list[dict[str, Any]]


@pytest.fixture
def webhook() -> Iterator[tuple[str, Received]]:
    """A real local endpoint keeping the JSON bodies POSTed to it (tests/webhook.py)."""
    hook = Webhook()
    yield hook.url, hook.received
    hook.close()


@pytest.fixture
def loaded(lake: Path, landing: Landing, run: Callable[..., dict[str, Any]]) -> str:
    """A lake with one batch loaded just now; its batch id."""
    landing.songs([song(0, "t1", "pop")])
    landing.users([["u1", "a", 30, "US", ""]])
    landing.streams([["u1", "t1", "2026-01-05 10:00:00", ""]])
    [batch_id] = run(lake)["batch_ids"]
    return str(batch_id)


def test_healthy_lake_exits_0_without_alerting(
    lake: Path, loaded: str, webhook: tuple[str, Received]
) -> None:
    url, received = webhook
    proc = cli("status", "--check", "--lake", str(lake), env={"MUSICSTREAM_WEBHOOK_URL": url})
    assert proc.returncode == 0, proc.stderr
    [line] = proc.stdout.splitlines()
    assert line.startswith(f"healthy: last batch {loaded} loaded ") and line.endswith(" min ago")
    assert received == []


def test_stale_lake_exits_1_prints_json_and_alerts(
    lake: Path, loaded: str, webhook: tuple[str, Received]
) -> None:
    """A limit of a millisecond: the batch loaded before the command started is stale."""
    url, received = webhook
    env = {"MUSICSTREAM_WEBHOOK_URL": url, "MUSICSTREAM_FRESHNESS_ALERT_AFTER_S": "0.001"}
    text = cli("status", "--check", "--lake", str(lake), env=env)
    assert text.returncode == 1
    [line] = text.stdout.splitlines()
    assert line.startswith("freshness: no new batch for ") and loaded in line
    proc = cli("status", "--check", "--lake", str(lake), "--log-format", "json", env=env)
    assert proc.returncode == 1
    report = json.loads(proc.stdout)
    assert report["status"] == "unhealthy" and report["last_batch"] == loaded
    [warning] = report["warnings"]
    assert warning["check"] == "freshness" and warning["batch_id"] == loaded
    assert warning["numbers"]["limit_s"] == 0.001
    assert [r["status"] for r in received] == ["unhealthy", "unhealthy"]
    assert received[1]["warnings"] == report["warnings"]


def test_lake_never_loaded_is_unhealthy(lake: Path) -> None:
    proc = cli("status", "--check", "--lake", str(lake))
    assert proc.returncode == 1
    assert proc.stdout.startswith("freshness: no batch has been loaded from ")
    quiet = cli(
        "status", "--check", "--lake", str(lake), env={"MUSICSTREAM_FRESHNESS_ALERT_AFTER_S": "0"}
    )
    assert quiet.returncode == 0 and quiet.stdout.strip() == "healthy: no batch loaded yet"
