"""Shared helpers for the Airflow tests: a clean environment and a Python subprocess.

Airflow keeps global configuration state, so every Airflow call runs in a subprocess with
its own ``AIRFLOW_HOME``; the test process never imports Airflow and its environment is
never changed, so nothing leaks into other tests.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).parent
DAGS = HERE.parents[2] / "dags"  # tests/jobs/airflow -> the repository's dags/


def _installed() -> bool:
    try:  # without importing Airflow into this process
        importlib.metadata.version("apache-airflow")
    except importlib.metadata.PackageNotFoundError:
        return False
    return True


MARKS = [
    pytest.mark.airflow,
    # One worker under pytest-xdist: one migrated AIRFLOW_HOME, one Airflow start-up at a time.
    pytest.mark.xdist_group("airflow"),
    pytest.mark.skipif(not _installed(), reason="needs the airflow extra"),
]


def clean_env(home: Path, **extra: str) -> dict[str, str]:
    """This process's environment minus any AIRFLOW_* / MUSICSTREAM_*, plus a private home."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "MUSICSTREAM_"))}
    env.update(
        AIRFLOW_HOME=str(home),
        AIRFLOW__CORE__DAGS_FOLDER=str(DAGS),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=f"sqlite:///{home}/airflow.db",
        PYTHONWARNINGS="ignore",
        MUSICSTREAM_SETTLE_S="0",  # the tests land whole files right before the DAG runs
    )
    env.update(extra)
    return env


def run_script(script: str, env: dict[str, str], arg: Any, timeout: float = 300) -> Any:
    """Run ``tests/jobs/airflow/<script>`` with ``arg`` as JSON; return the JSON it prints last."""
    proc = subprocess.run(
        [sys.executable, str(HERE / script), json.dumps(arg)],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=env["AIRFLOW_HOME"],
    )
    lines = [line for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
    if proc.returncode or not lines:
        output = f"{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}"
        raise AssertionError(f"{script} failed ({proc.returncode}):\n{output}")
    return json.loads(lines[-1].removeprefix("RESULT "))
