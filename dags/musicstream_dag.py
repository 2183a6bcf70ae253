"""musicstream on Airflow 3: one batch of new landing files per run, one stage per task.

    route ─┬─ backfill                                  (params backfill_from / backfill_to)
           ├─ wait_for_landing → plan → validate → quality_gate ─┬─ compute_kpis → load → archive
           └─ landing_event ───┘                                  └─ reject (fails the run)

``landing_event`` only with a landing queue (``MUSICSTREAM_AIRFLOW_QUEUE_URL``): a run the
queue's asset watcher triggered goes to plan at once; scheduled and manual runs wait on the
sensor as before.

Every task calls one function of ``musicstream.pipeline.tasks`` (the same steps ``musicstream
run`` takes a batch through); progress lives in the lake's ledger, so any task can be retried
and a failed run is finished by the next one. Configuration: ``musicstream.jobs.airflow_dag``.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from airflow.sdk import dag, task

try:  # where the Task SDK has them (newer Airflow 3)
    from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException
except ImportError:  # Airflow 3.1
    from airflow.exceptions import AirflowFailException, AirflowSkipException

from musicstream.jobs import airflow_dag as ms
from musicstream.settings import Settings

CONFIG = ms.DagConfig.from_env()
KPIS = CONFIG.asset
T = ms.TIMEOUTS
NOTIFY_SUCCESS = ms.RunNotifier(CONFIG, failed=False)


def _settings(params: dict[str, Any]) -> Settings:
    return ms.task_settings(params, CONFIG)


@dag(
    dag_id="musicstream",
    schedule=ms.schedule(CONFIG),
    start_date=ms.START_DATE,
    catchup=False,
    max_active_runs=1,
    default_args=ms.default_args(CONFIG),
    params=ms.params(CONFIG),
    tags=["musicstream"],
    doc_md=__doc__,
)
def musicstream() -> None:
    @task.branch(task_id="route", execution_timeout=T["route"])
    def route(params: dict[str, Any], dag_run: Any) -> str:
        return ms.route(params, dag_run.run_type, CONFIG)

    @task(
        task_id="backfill",
        execution_timeout=T["backfill"],
        outlets=[KPIS],
        on_success_callback=NOTIFY_SUCCESS,
    )
    def backfill(params: dict[str, Any], outlet_events: Any) -> list[str]:
        from musicstream import pipeline

        span = ms.backfill_range(params)
        assert span is not None  # route() sent the run here
        dates = [d.isoformat() for d in pipeline.backfill(_settings(params), *span)]
        outlet_events[KPIS].extra = {"dates": dates}
        return dates

    @task.sensor(
        task_id="wait_for_landing",
        poke_interval=CONFIG.sensor_poke_s,
        timeout=CONFIG.sensor_timeout_s,
        mode="reschedule",
        soft_fail=True,  # nothing landed before the next run is due: skip, not fail
        execution_timeout=timedelta(seconds=CONFIG.sensor_timeout_s + 120),
    )
    def wait_for_landing(params: dict[str, Any]) -> bool:
        from musicstream import ingest
        from musicstream.pipeline import lake_for

        settings = _settings(params)
        settled, _ = ingest.landing_files(lake_for(settings), settings.settle_s)
        return bool(settled)

    # With a landing queue plan follows the sensor or the landing event, whichever ran.
    @task(
        task_id="plan",
        execution_timeout=T["plan"],
        trigger_rule="none_failed_min_one_success" if CONFIG.queue_url else "all_success",
    )
    def plan(params: dict[str, Any]) -> dict[str, Any]:
        from musicstream.pipeline import tasks

        planned = tasks.plan_batch(_settings(params))
        if planned is None:
            raise AirflowSkipException("no new files in landing")
        return planned

    @task(task_id="validate")
    def validate(planned: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
        from musicstream.pipeline import tasks

        return tasks.validate_batch(_settings(params), planned["batch_id"])

    @task.branch(task_id="quality_gate", execution_timeout=T["quality_gate"])
    def quality_gate(planned: dict[str, Any], params: dict[str, Any]) -> str:
        from musicstream.pipeline import tasks

        verdict = tasks.check_quality(_settings(params), planned["batch_id"])
        return "compute_kpis" if verdict["passed"] else "reject"

    @task(task_id="reject", execution_timeout=T["reject"])
    def reject(planned: dict[str, Any], params: dict[str, Any]) -> None:
        from musicstream.pipeline import quality, tasks

        settings = _settings(params)
        tasks.reject_batch(settings, planned["batch_id"])
        verdict = tasks.check_quality(settings, planned["batch_id"])
        raise AirflowFailException(quality.message(verdict))

    @task(task_id="compute_kpis")
    def compute_kpis(planned: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
        from musicstream.pipeline import tasks

        return tasks.compute_batch_kpis(_settings(params), planned["batch_id"])

    @task(task_id="load", execution_timeout=T["load"])
    def load(planned: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
        from musicstream.pipeline import tasks

        return tasks.load_batch(_settings(params), planned["batch_id"])

    @task(
        task_id="archive",
        execution_timeout=T["archive"],
        outlets=[KPIS],
        on_success_callback=NOTIFY_SUCCESS,
    )
    def archive(planned: dict[str, Any], params: dict[str, Any], outlet_events: Any) -> None:
        from musicstream.pipeline import tasks

        done = tasks.archive_batch(_settings(params), planned["batch_id"])
        outlet_events[KPIS].extra = {"batch_id": done["batch_id"], "dates": done["dates"]}

    sensor = ms.s3_landing_sensor(CONFIG) if CONFIG.lake.startswith("s3") else wait_for_landing()
    planned = plan()
    waits = [sensor]
    if CONFIG.queue_url:
        from airflow.providers.standard.operators.empty import EmptyOperator

        waits.append(EmptyOperator(task_id="landing_event", execution_timeout=T["route"]))
    route() >> [backfill(), *waits]
    waits >> planned
    if CONFIG.compute == "local":
        validate_first = validate_last = validate(planned)
        compute_first = compute_last = compute_kpis(planned)
    else:
        validate_first, validate_last = ms.remote_stage("validate", CONFIG)
        compute_first, compute_last = ms.remote_stage("compute_kpis", CONFIG)
        planned >> validate_first
    validate_last >> quality_gate(planned) >> [compute_first, reject(planned)]
    compute_last >> load(planned) >> archive(planned)


musicstream()
