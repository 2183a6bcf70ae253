"""Airflow glue for ``dags/musicstream_dag.py``: configuration, settings, sensor, compute, notifier.

Kept out of the DAG file so that it stays a picture of the flow, and out of the rest of the
package because it imports Airflow: only the DAG imports this module, and the heavy clients
(boto3, the Spark and AWS providers) are imported only for the placement that needs them.

*Parse time* — the shape of the DAG — reads environment variables (``MUSICSTREAM_AIRFLOW_…``
and the lake from ``MUSICSTREAM_LAKE`` / the config file); only the schedule falls back to
the Airflow Variable ``musicstream_schedule``. With ``MUSICSTREAM_AIRFLOW_QUEUE_URL`` (the
stack's landing queue) the DAG also runs on events, the schedule kept as the fallback
(:func:`schedule`). *Run time* builds :class:`Settings` like the CLI does: DAG-run params
> Variable ``musicstream_settings`` (a JSON object) > ``MUSICSTREAM_…`` environment > config
file > defaults.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from airflow.sdk import Asset, AssetWatcher, BaseNotifier, BaseOperator, Param, Variable

from musicstream import layout
from musicstream.settings import Settings, load_settings

START_DATE = datetime(2026, 1, 1, tzinfo=UTC)
SETTINGS_VARIABLE = "musicstream_settings"
PREFIX = "MUSICSTREAM_AIRFLOW_"
# Doubling retry delays: a multiplier since Airflow 3.3 (where True would mean 1x), a flag before.
BACKOFF = True if isinstance(BaseOperator.retry_exponential_backoff, bool) else 2.0
BATCH_ID = "{{ ti.xcom_pull(task_ids='plan')['batch_id'] }}"
# execution_timeout per task; the compute steps take MUSICSTREAM_AIRFLOW_COMPUTE_TIMEOUT_MIN.
TIMEOUTS = {
    "route": timedelta(minutes=2),
    "plan": timedelta(minutes=15),
    "quality_gate": timedelta(minutes=5),
    "reject": timedelta(minutes=15),
    "load": timedelta(minutes=30),
    "archive": timedelta(minutes=15),
    "backfill": timedelta(hours=3),
}


@dataclass(frozen=True)
class DagConfig:
    """What shapes the DAG, read from the environment when the file is parsed."""

    lake: str  # absolute path of a local lake, or its URL
    schedule: str
    compute: str  # local | spark | glue
    max_bad_ratio: float  # default of the DAG param (stricter than the CLI's 1.0)
    retries: int
    sensor_poke_s: float
    sensor_timeout_s: float
    compute_timeout: timedelta
    aws_conn_id: str
    spark_conn_id: str
    spark_application: str
    glue_job: str
    queue_url: str  # the landing queue's URL: event-driven runs; empty: the schedule only

    @classmethod
    def from_env(cls) -> DagConfig:
        def env(name: str, default: str = "") -> str:
            return os.environ.get(PREFIX + name) or default

        compute, queue_url = env("COMPUTE", "local"), env("QUEUE_URL")
        if compute not in ("local", "spark", "glue"):
            raise ValueError(f"{PREFIX}COMPUTE must be local, spark or glue, not {compute!r}")
        return cls(
            lake=_absolute(load_settings().lake),
            schedule=env("SCHEDULE") or _schedule_variable(events=bool(queue_url)),
            compute=compute,
            max_bad_ratio=float(env("MAX_BAD_RATIO", "0.1")),
            retries=int(env("RETRIES", "3")),
            sensor_poke_s=float(env("SENSOR_POKE_S", "60")),
            sensor_timeout_s=float(env("SENSOR_TIMEOUT_S", "240")),
            compute_timeout=timedelta(minutes=float(env("COMPUTE_TIMEOUT_MIN", "60"))),
            aws_conn_id=env("AWS_CONN_ID", "aws_default"),
            spark_conn_id=env("SPARK_CONN_ID", "spark_default"),
            spark_application=env("SPARK_APPLICATION") or _spark_entry(),
            glue_job=env("GLUE_JOB", "musicstream"),
            queue_url=queue_url,
        )

    @property
    def url(self) -> str:
        return self.lake if "://" in self.lake else Path(self.lake).as_uri()

    @property
    def asset(self) -> Asset:
        """The KPI tables, for data-aware downstream DAGs (``schedule=[asset]``)."""
        return Asset(name="musicstream_kpis", uri=f"{self.url}/{layout.KPIS}")

    @property
    def landing(self) -> Asset:
        """The landing zone, updated by each message on the landing queue (S3's "Object
        Created" events of ``landing/``, through EventBridge: deploy/events.py): what the
        event-driven runs are scheduled on."""
        watcher = AssetWatcher(name="landing_queue", trigger=landing_trigger(self))
        uri = f"{self.url}/{layout.LANDING}"
        return Asset(name="musicstream_landing", uri=uri, watchers=[watcher])


def landing_trigger(config: DagConfig) -> Any:
    """The common-messaging trigger on the SQS queue (the amazon provider's SqsSensorTrigger,
    which deletes what it received): up to 10 messages become one asset event; each receive
    waits up to 20 s for a message (long polling), then the next one starts at once."""
    from airflow.providers.common.messaging.triggers.msg_queue import MessageQueueTrigger

    return MessageQueueTrigger(
        scheme="sqs",
        sqs_queue=config.queue_url,
        aws_conn_id=config.aws_conn_id,
        max_messages=10,
        wait_time_seconds=20,
        waiter_delay=0,
    )


def schedule(config: DagConfig) -> Any:
    """The cron schedule; with a landing queue, the landing asset *or* that schedule, then
    the fallback for a message lost or a file not yet settled when its message came."""
    if not config.queue_url:
        return config.schedule
    try:  # where the Task SDK has them (newer Airflow 3)
        from airflow.sdk import AssetOrTimeSchedule, CronTriggerTimetable
    except ImportError:  # Airflow 3.1
        from airflow.timetables.assets import AssetOrTimeSchedule  # type: ignore[assignment]
        from airflow.timetables.trigger import CronTriggerTimetable  # type: ignore[assignment]

    cron = CronTriggerTimetable(config.schedule, timezone="UTC")
    return AssetOrTimeSchedule(timetable=cron, assets=[config.landing])


def route(params: Mapping[str, Any], run_type: Any, config: DagConfig) -> str:
    """Where ``route`` sends a run: a backfill; a run the queue triggered to plan at once
    (the message says something landed, and a run with nothing to do then ends at plan
    instead of holding the one active run on a sensor); any other to the sensor."""
    if backfill_range(params):
        return "backfill"
    if config.queue_url and str(getattr(run_type, "value", run_type)) == "asset_triggered":
        return "landing_event"
    return "wait_for_landing"


def _absolute(lake: str) -> str:
    if "://" in lake and not lake.startswith("file://"):
        return lake
    return str(Path(lake.removeprefix("file://")).resolve())


def _schedule_variable(events: bool) -> str:
    """The Variable fallback: one lookup per parse, only when the env does not say. Hourly
    by default with event-driven runs: a scheduled run holds the one active run while its
    sensor waits (up to sensor_timeout_s), and runs on events would wait behind it."""
    default = "0 * * * *" if events else "*/5 * * * *"
    return str(Variable.get("musicstream_schedule", default=default))


def _spark_entry() -> str:
    """The spark-submit application: the installed package's ``jobs/spark_submit.py``.

    Found by path, so that parsing the DAG does not import the pipeline.
    """
    spec = importlib.util.find_spec("musicstream")
    assert spec is not None and spec.submodule_search_locations
    package = Path(next(iter(spec.submodule_search_locations)))
    return str(package / "jobs" / "spark_submit.py")


def default_args(config: DagConfig) -> dict[str, Any]:
    """Retries with exponential backoff, a timeout, and the failure notifier on every task."""
    return {
        "owner": "musicstream",
        "retries": config.retries,
        "retry_delay": timedelta(seconds=30),
        "retry_exponential_backoff": BACKOFF,
        "max_retry_delay": timedelta(minutes=10),
        "execution_timeout": config.compute_timeout,
        "on_failure_callback": RunNotifier(config, failed=True),
    }


def params(config: DagConfig) -> dict[str, Param]:
    return {
        "max_bad_ratio": Param(
            config.max_bad_ratio,
            type="number",
            minimum=0,
            maximum=1,
            description="Reject a new batch when a dataset quarantines more than this share.",
        ),
        "backfill_from": Param(
            None,
            type=["null", "string"],
            format="date",
            description="Set (with backfill_to) to recompute and reload a date range instead.",
        ),
        "backfill_to": Param(None, type=["null", "string"], format="date"),
    }


def backfill_range(params: Mapping[str, Any]) -> tuple[date, date] | None:
    """The date range of a backfill run, or None for a normal run."""
    start, end = params.get("backfill_from"), params.get("backfill_to")
    if not start and not end:
        return None
    first, last = date.fromisoformat(str(start or end)), date.fromisoformat(str(end or start))
    if first > last:
        raise ValueError(f"backfill_from {first} is after backfill_to {last}")
    return first, last


def task_settings(params: Mapping[str, Any] | None, config: DagConfig) -> Settings:
    """A task's settings: params > Variable ``musicstream_settings`` > env > file > default."""
    overrides = dict(Variable.get(SETTINGS_VARIABLE, default={}, deserialize_json=True) or {})
    if "lake" in overrides:
        raise ValueError(
            f"Variable {SETTINGS_VARIABLE} may not set the lake: the sensor and the Asset are "
            "defined from MUSICSTREAM_LAKE when the DAG is parsed"
        )
    overrides.setdefault("lock_timeout_s", 120.0)  # wait for a CLI run rather than fail at once
    overrides.update(lake=config.lake, progress=False)
    if params and params.get("max_bad_ratio") is not None:
        overrides["max_bad_ratio"] = float(params["max_bad_ratio"])
    return load_settings(**overrides)


def s3_landing_sensor(config: DagConfig) -> Any:
    """Deferrable: the triggerer, not a worker slot, waits for a CSV under ``landing/``."""
    from airflow.providers.amazon.aws.sensors.s3 import S3KeySensor

    return S3KeySensor(
        task_id="wait_for_landing",
        bucket_key=f"{config.lake}/{layout.LANDING}/*.csv*",
        wildcard_match=True,
        deferrable=True,
        aws_conn_id=config.aws_conn_id,
        poke_interval=config.sensor_poke_s,
        timeout=config.sensor_timeout_s,
        soft_fail=True,  # nothing landed before the next run is due: skip, not fail
        execution_timeout=timedelta(seconds=config.sensor_timeout_s + 120),
    )


def remote_stage(stage: str, config: DagConfig) -> tuple[Any, Any]:
    """A compute stage as a Spark or Glue job: (first task, last task) to chain."""
    if config.compute == "spark":
        from airflow.providers.apache.spark.operators.spark_submit import SparkSubmitOperator

        args = ["--stage", stage, "--batch-id", BATCH_ID, "--lake", config.lake]
        submit = SparkSubmitOperator(
            task_id=stage,
            application=config.spark_application,
            application_args=args,
            conn_id=config.spark_conn_id,
            name=f"musicstream-{stage}",
        )
        return submit, submit
    from airflow.providers.amazon.aws.operators.glue import GlueJobOperator
    from airflow.providers.amazon.aws.sensors.glue import GlueJobSensor

    start = GlueJobOperator(
        task_id=stage,
        job_name=config.glue_job,
        script_args={"--stage": stage, "--batch_id": BATCH_ID, "--lake": config.lake},
        wait_for_completion=False,  # the sensor below waits, in the triggerer
        deferrable=False,
        stop_job_run_on_kill=True,
        aws_conn_id=config.aws_conn_id,
        execution_timeout=timedelta(minutes=10),
    )
    polls = max(1, int(config.compute_timeout.total_seconds() // 60))
    wait = GlueJobSensor(
        task_id=f"{stage}_wait",
        job_name=config.glue_job,
        run_id=f"{{{{ ti.xcom_pull(task_ids='{stage}') }}}}",  # the Glue job run id
        deferrable=True,
        poke_interval=60,
        max_retries=polls,
        timeout=polls * 60,
        aws_conn_id=config.aws_conn_id,
        retries=0,  # a failed Glue run fails the stage; retrying the wait cannot fix it
        execution_timeout=config.compute_timeout + timedelta(minutes=5),
    )
    start >> wait
    return start, wait


class RunNotifier(BaseNotifier):
    """Sends the run summary (what ``musicstream run`` reports) through ``musicstream.notify``."""

    def __init__(self, config: DagConfig, failed: bool) -> None:
        super().__init__()
        self.config, self.failed = config, failed

    def notify(self, context: Any) -> None:
        from musicstream import notify

        try:
            settings = task_settings(context["params"], self.config)
        except Exception:  # a broken Variable must not silence the alert about it
            settings = load_settings(lake=self.config.lake, progress=False)
        notify.notify(settings, self.summary(context, settings))

    def summary(self, context: Any, settings: Settings) -> dict[str, Any]:
        from musicstream.pipeline import summary, tasks

        ti = context["ti"]
        planned = ti.xcom_pull(task_ids="plan")
        batch_id = planned["batch_id"] if planned else None
        error = None
        if self.failed and ti.task_id != "reject":  # a rejection's message is the gate's
            error = context.get("exception") or f"task {ti.task_id} failed"
        try:
            report = tasks.summarize(settings, batch_id, error)
        except Exception as exc:  # the lake itself may be what failed: still tell someone
            report = summary.run_summary([], 0.0, error or exc)
            report["batch_ids"] = [batch_id] if batch_id else []
        if ti.task_id == "backfill" and not self.failed:
            report.update(status="ok", dates=ti.xcom_pull(task_ids="backfill") or [])
        report["airflow"] = {"dag_id": ti.dag_id, "run_id": ti.run_id, "task_id": ti.task_id}
        return report
