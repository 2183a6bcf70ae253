"""The DAG file: parses with no import errors and no heavy imports; its shape per placement;
with the landing queue, event-driven runs whose trigger takes S3's events, as EventBridge
delivers them, off a queue on the local AWS (moto)."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from airflow_env import MARKS, clean_env, run_script

pytestmark = MARKS

LOCAL_FLOW = {
    "route": {"backfill", "wait_for_landing"},
    "wait_for_landing": {"plan"},
    "validate": {"quality_gate"},
    "quality_gate": {"compute_kpis", "reject"},
    "compute_kpis": {"load"},
    "load": {"archive"},
}
SQS_TRIGGER = "airflow.providers.amazon.aws.triggers.sqs.SqsSensorTrigger"
AWS_QUEUE = "https://sqs.us-east-1.amazonaws.com/123456789012/landing"  # without moto
LANDED = "lake/landing/streams/2026-01-05.csv"
BUCKET = f"dag-test-{uuid.uuid4().hex[:8]}"  # S3 on the session's moto server
TESTING = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


def aws(service: str, endpoint: str) -> Any:
    import boto3

    return boto3.client(service, endpoint_url=endpoint, region_name="us-east-1", **TESTING)


@pytest.fixture(scope="module")
def landing_queue(request: pytest.FixtureRequest) -> tuple[str, str] | None:
    """(moto endpoint, queue URL): a bucket sending its events to EventBridge, the stack's
    rule for it (its pattern from deploy/events.py) targeting a queue, and one file landed
    and one archived, so the queue holds the landed file's "Object Created" event. None
    without the local AWS."""
    try:
        endpoint = request.getfixturevalue("endpoint")
    except pytest.skip.Exception:
        return None
    from musicstream.deploy import events

    sqs, s3, bus = aws("sqs", endpoint), aws("s3", endpoint), aws("events", endpoint)
    url = sqs.create_queue(QueueName=BUCKET)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    s3.create_bucket(Bucket=BUCKET)
    s3.put_bucket_notification_configuration(
        Bucket=BUCKET, NotificationConfiguration={"EventBridgeConfiguration": {}}
    )
    pattern = events.landing_rule()["Properties"]["EventPattern"]
    pattern["detail"]["bucket"]["name"] = [BUCKET]  # the stack's Ref LakeBucket
    bus.put_rule(Name=BUCKET, EventPattern=json.dumps(pattern))
    bus.put_targets(Rule=BUCKET, Targets=[{"Id": "queue", "Arn": arn}])
    s3.put_object(Bucket=BUCKET, Key=LANDED, Body=b"user_id\n")
    s3.put_object(Bucket=BUCKET, Key="lake/archive/x.csv", Body=b"")
    return endpoint, url


def events_placement(landing_queue: tuple[str, str] | None) -> dict:
    """Glue on S3 with the landing queue; on moto, its trigger is run until its first event
    (the credentials and endpoint from the AWS connection, as on MWAA)."""
    if landing_queue is None:
        return {"name": "events", "env": {"MUSICSTREAM_AIRFLOW_QUEUE_URL": AWS_QUEUE}}
    endpoint, url = landing_queue
    connection = {"conn_type": "aws", "extra": {"endpoint_url": endpoint}}
    env = {
        "MUSICSTREAM_AIRFLOW_QUEUE_URL": url,
        "AIRFLOW_CONN_AWS_DEFAULT": json.dumps(connection),
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    return {"name": "events", "env": env, "watch": 60}


@pytest.fixture(scope="module")
def parsed(tmp_path_factory: pytest.TempPathFactory, landing_queue: tuple[str, str] | None) -> dict:
    """The DAG as parsed locally (first, so heavy imports show), for Spark, for Glue on S3,
    and for Glue on S3 with the landing queue (the same process: Airflow starts once)."""
    home = tmp_path_factory.mktemp("airflow_parse")
    lake = home / "lake"
    placements = [
        {"name": "local", "env": {"MUSICSTREAM_LAKE": str(lake)}},
        {"name": "spark", "env": {"MUSICSTREAM_AIRFLOW_COMPUTE": "spark"}},
        {
            "name": "glue",
            "env": {"MUSICSTREAM_AIRFLOW_COMPUTE": "glue", "MUSICSTREAM_LAKE": "s3://b/lake"},
        },
        events_placement(landing_queue),  # each placement's env adds to the ones before
    ]
    return run_script("dag_probe.py", clean_env(home), placements)


def tasks(parsed: dict, placement: str) -> dict:
    return parsed[placement]["dag"]["tasks"]


def test_dag_imports_cleanly_without_heavy_modules(parsed: dict) -> None:
    for placement in ("local", "spark", "glue", "events"):
        assert parsed[placement]["errors"] == {}, placement
    assert parsed["local"]["heavy"] == []  # duckdb, pyarrow, pyspark, boto3: only in tasks


def test_dag_settings(parsed: dict) -> None:
    dag = parsed["local"]["dag"]
    assert dag["schedule"] == "*/5 * * * *"
    assert dag["max_active_runs"] == 1 and dag["catchup"] is False
    assert dag["start_date"] == "2026-01-01T00:00:00+00:00"
    assert dag["params"] == {"max_bad_ratio": 0.1, "backfill_from": None, "backfill_to": None}


def test_local_flow(parsed: dict) -> None:
    local = tasks(parsed, "local")
    for task_id, downstream in LOCAL_FLOW.items():
        assert set(local[task_id]["downstream"]) == downstream, task_id
    assert local["plan"]["upstream"] == ["wait_for_landing"]
    assert local["wait_for_landing"]["type"] == "DecoratedSensorOperator"
    assert local["reject"]["downstream"] == [] and local["archive"]["downstream"] == []
    [kpis] = local["archive"]["outlets"]
    assert local["backfill"]["outlets"] == [kpis]
    assert kpis.startswith("file:///") and kpis.endswith("/lake/kpis")


def test_every_task_retries_with_backoff_times_out_and_notifies(parsed: dict) -> None:
    for placement in ("local", "spark", "glue"):
        for task_id, task in tasks(parsed, placement).items():
            assert task["execution_timeout_s"], (placement, task_id)
            assert task["on_failure_callback"] == ["RunNotifier"], (placement, task_id)
            if not task_id.endswith("_wait"):  # a failed Glue run is not retried by waiting
                assert task["retries"] == 3 and task["retry_exponential_backoff"] == 2.0
                assert task["max_retry_delay_s"] == 600


def test_sensors_time_out_softly(parsed: dict) -> None:
    local = tasks(parsed, "local")["wait_for_landing"]
    assert local["mode"] == "reschedule" and local["soft_fail"] is True
    assert local["timeout"] < 300 < local["execution_timeout_s"]  # gives up before the next run
    s3 = tasks(parsed, "glue")["wait_for_landing"]
    assert s3["type"] == "S3KeySensor" and s3["deferrable"] is True and s3["soft_fail"] is True
    assert s3["bucket_key"] == "s3://b/lake/landing/*.csv*" and s3["wildcard_match"] is True


def test_spark_placement_submits_the_stage_to_the_spark_entry(parsed: dict) -> None:
    spark = tasks(parsed, "spark")
    for stage in ("validate", "compute_kpis"):
        task = spark[stage]
        assert task["type"] == "SparkSubmitOperator"
        assert task["application"].endswith("musicstream/jobs/spark_submit.py")
        assert task["application_args"][:3] == ["--stage", stage, "--batch-id"]
        assert "{{ ti.xcom_pull(task_ids='plan')" in task["application_args"][3]
    assert set(spark["quality_gate"]["downstream"]) == {"compute_kpis", "reject"}


def test_glue_placement_frees_the_worker_while_the_job_runs(parsed: dict) -> None:
    glue = tasks(parsed, "glue")
    for stage in ("validate", "compute_kpis"):
        start, wait = glue[stage], glue[f"{stage}_wait"]
        assert start["type"] == "GlueJobOperator" and start["wait_for_completion"] is False
        assert start["deferrable"] is False and start["downstream"] == [f"{stage}_wait"]
        assert start["script_args"]["--stage"] == stage
        assert wait["type"] == "GlueJobSensor" and wait["deferrable"] is True
        assert wait["retries"] == 0 and wait["timeout"] > 0
    assert glue["quality_gate"]["upstream"] == ["plan", "validate_wait"]
    assert glue["load"]["upstream"] == ["compute_kpis_wait", "plan"]


def test_without_the_landing_queue_the_dag_runs_on_its_schedule_only(parsed: dict) -> None:
    for placement in ("local", "spark", "glue"):
        dag = parsed[placement]["dag"]
        assert (dag["timetable"], dag["assets"]) == ("CronTriggerTimetable", []), placement
        assert "landing_event" not in dag["tasks"]
        assert dag["tasks"]["plan"]["trigger_rule"] == "all_success"
        assert dag["routes"] == {
            "scheduled": "wait_for_landing",
            "manual": "wait_for_landing",
            "asset_triggered": "wait_for_landing",
            "backfill": "backfill",
        }


def test_with_the_landing_queue_the_dag_runs_on_its_messages_or_the_schedule(
    parsed: dict, landing_queue: tuple[str, str] | None
) -> None:
    dag = parsed["events"]["dag"]
    assert dag["timetable"] == "AssetOrTimeSchedule"
    assert dag["schedule"] == "0 * * * *"  # the fallback, hourly unless told otherwise
    assert dag["max_active_runs"] == 1  # one batch at a time, whatever triggered it
    [landing] = dag["assets"]
    assert (landing["name"], landing["uri"]) == ("musicstream_landing", "s3://b/lake/landing")
    [watcher] = landing["watchers"]
    assert watcher["type"] == "MessageQueueTrigger"  # common.messaging, scheme "sqs"
    classpath, kwargs = watcher["trigger"]
    assert classpath == SQS_TRIGGER
    queue = landing_queue[1] if landing_queue else AWS_QUEUE
    assert kwargs["sqs_queue"] == queue and kwargs["aws_conn_id"] == "aws_default"
    assert (kwargs["max_messages"], kwargs["wait_time_seconds"], kwargs["waiter_delay"]) == (
        10,
        20,
        0,
    )
    assert kwargs["delete_message_on_reception"] is True
    # as the DAG processor stores it for the scheduler and the triggerer
    stored = dag["serialized_timetable"]
    assert stored["__type"].endswith(".AssetOrTimeSchedule")
    [stored_asset] = stored["__var"]["asset_condition"]["objects"]
    [stored_watcher] = stored_asset["watchers"]
    assert stored_watcher["trigger"] == {"classpath": SQS_TRIGGER, "kwargs": kwargs}
    assert stored["__var"]["timetable"]["__var"]["expression"] == "0 * * * *"


def test_a_run_the_queue_triggered_goes_to_plan_without_the_sensor(parsed: dict) -> None:
    tasks = parsed["events"]["dag"]["tasks"]
    assert set(tasks["route"]["downstream"]) == {"backfill", "wait_for_landing", "landing_event"}
    assert tasks["landing_event"]["type"] == "EmptyOperator"
    assert tasks["landing_event"]["downstream"] == ["plan"]
    assert tasks["plan"]["upstream"] == ["landing_event", "wait_for_landing"]
    assert tasks["plan"]["trigger_rule"] == "none_failed_min_one_success"  # either, not both
    assert tasks["wait_for_landing"]["type"] == "S3KeySensor"  # unchanged on the schedule
    assert parsed["events"]["dag"]["routes"] == {
        "scheduled": "wait_for_landing",
        "manual": "wait_for_landing",
        "asset_triggered": "landing_event",
        "backfill": "backfill",
    }


def test_the_watcher_takes_the_landing_events_off_the_queue(
    parsed: dict, landing_queue: tuple[str, str] | None
) -> None:
    """The DAG's own trigger, run as the triggerer runs it, against SQS on moto, fed by
    S3 → EventBridge there: the message is EventBridge's event, not S3's notification."""
    if landing_queue is None:
        pytest.skip("needs the local AWS (moto)")
    event = parsed["events"]["event"]
    assert event["status"] == "success"
    bodies = [json.loads(m["Body"]) for m in event["message_batch"]]
    assert [(b["source"], b["detail-type"]) for b in bodies] == [("aws.s3", "Object Created")]
    assert [b["detail"]["bucket"]["name"] for b in bodies] == [BUCKET]
    assert [b["detail"]["object"]["key"] for b in bodies] == [LANDED]  # not the archived one
    endpoint, url = landing_queue
    left = aws("sqs", endpoint).get_queue_attributes(
        QueueUrl=url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    assert left == {  # deleted, not only received
        "ApproximateNumberOfMessages": "0",
        "ApproximateNumberOfMessagesNotVisible": "0",
    }
