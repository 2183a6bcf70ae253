"""Parse ``dags/`` under each placement given as JSON in argv[1]; print what the tests check.

Run in a subprocess by test_airflow_dag.py: the first placement is parsed before anything
else is imported, so ``heavy`` tells whether parsing the DAG file imports heavy clients.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

HEAVY = ("duckdb", "pyarrow", "pyspark", "boto3", "botocore", "musicstream.pipeline")
FIELDS = (
    "retries",
    "retry_exponential_backoff",
    "mode",
    "poke_interval",
    "timeout",
    "soft_fail",
    "deferrable",
    "wait_for_completion",
    "application",
    "application_args",
    "job_name",
    "script_args",
    "bucket_key",
    "wildcard_match",
    "max_retries",
    "trigger_rule",
)


def describe_task(task: Any) -> dict[str, Any]:
    info = {f: getattr(task, f) for f in FIELDS if hasattr(task, f)}
    timeout = task.execution_timeout
    return {
        **{
            k: v if isinstance(v, (int, float, str, list, dict, type(None))) else str(v)
            for k, v in info.items()
        },
        "type": type(task).__name__,
        "upstream": sorted(task.upstream_task_ids),
        "downstream": sorted(task.downstream_task_ids),
        "execution_timeout_s": timeout.total_seconds() if timeout else None,
        "max_retry_delay_s": task.max_retry_delay.total_seconds() if task.max_retry_delay else None,
        "on_failure_callback": [type(c).__name__ for c in task.on_failure_callback or []],
        "on_success_callback": [type(c).__name__ for c in task.on_success_callback or []],
        "outlets": [getattr(o, "uri", str(o)) for o in task.outlets],
    }


def describe(dag: Any) -> dict[str, Any]:
    return {
        "schedule": getattr(dag.timetable, "expression", str(dag.timetable)),
        "max_active_runs": dag.max_active_runs,
        "catchup": dag.catchup,
        "start_date": dag.start_date.isoformat(),
        "params": {k: dag.params[k] for k in dag.params},
        "tasks": {t.task_id: describe_task(t) for t in dag.tasks},
    }


def main() -> None:
    from airflow.dag_processing.dagbag import DagBag

    out = {}
    for placement in json.loads(sys.argv[1]):
        os.environ.update(placement["env"])
        bag = DagBag(dag_folder=os.environ["AIRFLOW__CORE__DAGS_FOLDER"])
        dag = bag.dags.get("musicstream")
        out[placement["name"]] = {
            "errors": {str(k): str(v) for k, v in bag.import_errors.items()},
            "heavy": [m for m in HEAVY if m in sys.modules],
            "dag": describe(dag) if dag else None,
        }
    print("RESULT " + json.dumps(out, default=str))


if __name__ == "__main__":
    main()
