"""Run the musicstream_health DAG with ``dag.test()`` once per scenario given as JSON in
argv[1] (each scenario: environment variables to set first). Prints whether parsing the
DAG folder imported heavy modules, then each run's state and its task's state. Run in a
subprocess by test_airflow_health.py.
"""

from __future__ import annotations

import json
import os
import sys

HEAVY = ("duckdb", "pyarrow", "boto3", "musicstream.pipeline", "musicstream.health")


def main() -> None:
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=os.environ["AIRFLOW__CORE__DAGS_FOLDER"])
    dag = bag.dags["musicstream_health"]
    out = {
        "errors": {str(k): str(v) for k, v in bag.import_errors.items()},
        "heavy": [m for m in HEAVY if m in sys.modules],
        "schedule": str(getattr(dag.timetable, "summary", dag.timetable)),
        "runs": [],
    }
    for scenario in json.loads(sys.argv[1]):
        os.environ.update(scenario["env"])
        run = dag.test()
        tis = {ti.task_id: str(ti.state) for ti in run.get_task_instances()}
        out["runs"].append({"state": str(run.state), "tasks": tis})
    print("RESULT " + json.dumps(out, default=str))


if __name__ == "__main__":
    main()
