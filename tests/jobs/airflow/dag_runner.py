"""Run the musicstream DAG with ``dag.test()`` once per scenario given as JSON in argv[1].

Each scenario may first copy a folder of CSVs into the lake's landing zone and may pass a
run conf (params). Prints, per scenario, the run's state, each task's state and the Asset
events the run emitted. Run in a subprocess by test_airflow_runs.py.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from typing import Any


def asset_events(session: Any, run_id: str) -> list[dict[str, Any]]:
    from airflow.models.asset import AssetEvent
    from sqlalchemy import select

    events = session.scalars(select(AssetEvent).where(AssetEvent.source_run_id == run_id))
    return [{"uri": e.asset.uri, "extra": e.extra} for e in events]


def main() -> None:
    from airflow import settings
    from airflow.dag_processing.dagbag import DagBag

    dag = DagBag(dag_folder=os.environ["AIRFLOW__CORE__DAGS_FOLDER"]).dags["musicstream"]
    lake = os.environ["MUSICSTREAM_LAKE"]
    results = []
    for scenario in json.loads(sys.argv[1]):
        if scenario.get("land"):
            shutil.copytree(scenario["land"], f"{lake}/landing", dirs_exist_ok=True)
        run = dag.test(run_conf=scenario.get("conf"))
        tis = {ti.task_id: str(ti.state) for ti in run.get_task_instances()}
        with settings.Session() as session:
            events = asset_events(session, run.run_id)
        results.append({"state": str(run.state), "tasks": tis, "asset_events": events})
    print("RESULT " + json.dumps(results, default=str))


if __name__ == "__main__":
    main()
