"""musicstream data health, hourly: ``musicstream status --check`` as one task.

    check      fails (and notifies, status "unhealthy") when freshness or a check of the
               lake's latest batch fires; Airflow's failure alerting fires with it

Separate from the ``musicstream`` DAG, which only works when data lands: see
``musicstream.jobs.airflow_health``.
"""

from __future__ import annotations

from typing import Any

from airflow.sdk import dag, task

from musicstream.jobs import airflow_health as health
from musicstream.jobs.airflow_dag import START_DATE

LAKE = health.lake()


@dag(
    dag_id=health.DAG_ID,
    schedule=health.schedule(),
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    default_args={"owner": "musicstream", "retries": 1, "execution_timeout": health.TIMEOUT},
    tags=["musicstream"],
    doc_md=__doc__,
)
def musicstream_health() -> None:
    @task(task_id="check")
    def check() -> dict[str, Any]:
        return health.check(LAKE)

    check()


musicstream_health()
