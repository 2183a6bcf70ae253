"""Airflow glue for ``dags/musicstream_health_dag.py``: the data-health check, hourly.

A DAG of its own rather than a task of the ``musicstream`` DAG: that one does work only
when data lands (a run with nothing new ends at its sensor, skipped), and staleness is
exactly the case where nothing lands; it also runs one batch at a time, so a check inside
it would wait behind a long batch. This one reads the ledger and the store, takes no lock,
and runs whatever the pipeline does.

Its one task is ``musicstream status --check``: it notifies (webhook / SNS, status
``unhealthy``) and fails when a check fires, so Airflow's own failure alerting fires too.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from typing import Any

from musicstream.settings import Settings, load_settings

DAG_ID = "musicstream_health"
SETTINGS_VARIABLE = "musicstream_settings"  # the same overrides as the main DAG's tasks
TIMEOUT = timedelta(minutes=10)


def schedule() -> str:
    """Hourly, or ``MUSICSTREAM_AIRFLOW_HEALTH_SCHEDULE`` (a cron expression or preset)."""
    return os.environ.get("MUSICSTREAM_AIRFLOW_HEALTH_SCHEDULE") or "@hourly"


def lake() -> str:
    """The lake, read when the DAG file is parsed (as the main DAG's): a local one absolute."""
    url = load_settings().lake
    if "://" in url and not url.startswith("file://"):
        return url
    return str(Path(url.removeprefix("file://")).resolve())


def task_settings(lake: str) -> Settings:
    """Settings as the main DAG's tasks build them: Variable ``musicstream_settings`` > env >
    config file > default; the lake the DAG was parsed with."""
    from airflow.sdk import Variable

    overrides = dict(Variable.get(SETTINGS_VARIABLE, default={}, deserialize_json=True) or {})
    return load_settings(**{**overrides, "lake": lake, "progress": False})


def check(lake: str) -> dict[str, Any]:
    """The health report; raises (no retry) when a check fired, after notifying."""
    try:  # where the Task SDK has it (newer Airflow 3)
        from airflow.sdk.exceptions import AirflowFailException
    except ImportError:  # Airflow 3.1
        from airflow.exceptions import AirflowFailException  # type: ignore[no-redef]

    from musicstream import status

    report = status.check(task_settings(lake))
    if report["warnings"]:
        lines = [f"{w['check']}: {w['message']}" for w in report["warnings"]]
        raise AirflowFailException("unhealthy: " + " | ".join(lines))
    return report
