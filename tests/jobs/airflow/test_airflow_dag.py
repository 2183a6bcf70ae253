"""The DAG file: parses with no import errors and no heavy imports; its shape per placement."""

from __future__ import annotations

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


@pytest.fixture(scope="module")
def parsed(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The DAG as parsed locally (first, so heavy imports show), for Spark, and for Glue on S3."""
    home = tmp_path_factory.mktemp("airflow_parse")
    lake = home / "lake"
    placements = [
        {"name": "local", "env": {"MUSICSTREAM_LAKE": str(lake)}},
        {"name": "spark", "env": {"MUSICSTREAM_AIRFLOW_COMPUTE": "spark"}},
        {
            "name": "glue",
            "env": {"MUSICSTREAM_AIRFLOW_COMPUTE": "glue", "MUSICSTREAM_LAKE": "s3://b/lake"},
        },
    ]
    return run_script("dag_probe.py", clean_env(home), placements)


def tasks(parsed: dict, placement: str) -> dict:
    return parsed[placement]["dag"]["tasks"]


def test_dag_imports_cleanly_without_heavy_modules(parsed: dict) -> None:
    for placement in ("local", "spark", "glue"):
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
