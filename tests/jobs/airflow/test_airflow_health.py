"""The musicstream_health DAG end to end with ``dag.test()`` in a private AIRFLOW_HOME: on a
lake loaded just now its check succeeds; with a freshness limit the lake has passed it
fails the run and posts an "unhealthy" notification to the webhook."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from airflow_env import MARKS, clean_env, run_script

from conftest import Landing, song
from musicstream import pipeline
from musicstream.settings import load_settings
from webhook import Webhook

pytestmark = MARKS


@pytest.fixture
def webhook() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """A real local endpoint keeping the JSON bodies POSTed to it (tests/webhook.py)."""
    hook = Webhook()
    yield hook.url, hook.received
    hook.close()


def test_health_dag_fails_and_notifies_only_when_unhealthy(
    tmp_path: Path, lake: Path, landing: Landing, webhook: tuple[str, list[dict[str, Any]]]
) -> None:
    landing.songs([song(0, "t1", "pop")])
    landing.users([["u1", "a", 30, "US", ""]])
    landing.streams([["u1", "t1", "2026-01-05 10:00:00", ""]])
    [batch_id] = pipeline.run(load_settings(lake=str(lake), progress=False))["batch_ids"]
    home = tmp_path / "airflow_home"
    home.mkdir()
    airflow = Path(sys.executable).with_name("airflow")
    env = clean_env(home, MUSICSTREAM_LAKE=str(lake), MUSICSTREAM_WEBHOOK_URL=webhook[0])
    subprocess.run(
        [str(airflow), "db", "migrate"], env=env, check=True, capture_output=True, cwd=home
    )
    scenarios = [{"env": {}}, {"env": {"MUSICSTREAM_FRESHNESS_ALERT_AFTER_S": "0.001"}}]
    result = run_script("health_runner.py", env, scenarios, timeout=600)
    assert result["errors"] == {} and result["heavy"] == []
    healthy, stale = result["runs"]
    assert healthy == {"state": "success", "tasks": {"check": "success"}}
    assert stale == {"state": "failed", "tasks": {"check": "failed"}}
    [alert] = webhook[1]
    assert alert["status"] == "unhealthy" and alert["last_batch"] == batch_id
    assert [w["check"] for w in alert["warnings"]] == ["freshness"]
