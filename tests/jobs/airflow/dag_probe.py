"""Parse ``dags/`` under each placement given as JSON in argv[1]; print what the tests check.

Run in a subprocess by test_airflow_dag.py: the first placement is parsed before anything
else is imported, so ``heavy`` tells whether parsing the DAG file imports heavy clients.
A placement with ``watch`` (seconds) also runs its asset watcher's trigger, as the
triggerer does, until its first event.
"""

from __future__ import annotations

import asyncio
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


def describe_asset(asset: Any) -> dict[str, Any]:
    watchers = [
        {"name": w.name, "type": type(w.trigger).__name__, "trigger": w.trigger.serialize()}
        for w in asset.watchers
    ]
    return {"name": asset.name, "uri": asset.uri, "watchers": watchers}


def serialized_timetable(dag: Any) -> dict[str, Any]:
    """The timetable as the DAG processor stores it for the scheduler and triggerer."""
    try:
        from airflow.serialization.serialized_objects import DagSerialization as serializer
    except ImportError:  # Airflow 3.1
        from airflow.serialization.serialized_objects import SerializedDAG as serializer

    return dict(serializer.to_dict(dag)["dag"]["timetable"])


def routes() -> dict[str, str]:
    """Where ``route`` sends a run of each kind, and a backfill."""
    from musicstream.jobs import airflow_dag as ms

    config = ms.DagConfig.from_env()
    kinds = {
        kind: ms.route({}, kind, config) for kind in ("scheduled", "manual", "asset_triggered")
    }
    return {**kinds, "backfill": ms.route({"backfill_from": "2026-01-01"}, "manual", config)}


def describe(dag: Any) -> dict[str, Any]:
    timetable = dag.timetable
    cron = getattr(timetable, "timetable", timetable)  # an asset-or-time schedule's cron
    assets = getattr(getattr(timetable, "asset_condition", None), "objects", [])
    return {
        "schedule": getattr(cron, "expression", str(cron)),
        "timetable": type(timetable).__name__,
        "assets": [describe_asset(a) for a in assets],
        "serialized_timetable": serialized_timetable(dag),
        "routes": routes(),
        "max_active_runs": dag.max_active_runs,
        "catchup": dag.catchup,
        "start_date": dag.start_date.isoformat(),
        "params": {k: dag.params[k] for k in dag.params},
        "tasks": {t.task_id: describe_task(t) for t in dag.tasks},
    }


async def first_event(trigger: Any, timeout_s: float) -> Any:
    """The trigger's first event, as the triggerer would get it; then the trigger is closed."""
    events = trigger.run()
    try:
        return (await asyncio.wait_for(anext(events), timeout_s)).payload
    finally:
        await events.aclose()


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
        if dag and placement.get("watch"):
            [asset] = dag.timetable.asset_condition.objects
            [watcher] = asset.watchers
            event = asyncio.run(first_event(watcher.trigger, placement["watch"]))
            out[placement["name"]]["event"] = event
    print("RESULT " + json.dumps(out, default=str))


if __name__ == "__main__":
    main()
