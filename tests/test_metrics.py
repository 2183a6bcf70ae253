"""Per-run metrics reach CloudWatch (the local moto server) and are read back from it."""

from __future__ import annotations

import logging
import math
import os
import subprocess
import sys
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from aws_local import REGION, client, free_port, land
from musicstream import metrics, pipeline
from musicstream.pipeline.summary import run_summary
from musicstream.settings import Settings, load_settings

Metric = tuple[str, frozenset[tuple[str, str]]]  # name, dimensions

# A run as the lead's summary reports it, with every optional key.
SUMMARY: dict[str, Any] = {
    "status": "ok",
    "duration_s": 12.5,
    "datasets": {
        "songs": {"files": 1, "read": 10, "kept": 9, "quarantined": 1},
        "streams": {
            "files": 2,
            "read": 100,
            "kept": 95,
            "quarantined": 5,
            "reasons": {"unknown_user": 3, "duplicate_event": 2, "listen_before_signup": 7},
        },
    },
    "stages": {"plan": 0.25, "validate": 4.0, "load": 2.5},
    "lag_s": 42.5,
    "store_items_written": 1234,
    "warnings": [{"check": "late_file"}, {"check": "late_file"}, {"check": "clock_skew"}],
}
# What CloudWatch must hold after publishing SUMMARY: written out by hand.
EXPECTED: dict[Metric, float] = {
    ("Runs", frozenset({("Status", "ok")})): 1,
    ("RunDuration", frozenset()): 12.5,
    ("RowsRead", frozenset({("Dataset", "songs")})): 10,
    ("RowsKept", frozenset({("Dataset", "songs")})): 9,
    ("RowsQuarantined", frozenset({("Dataset", "songs")})): 1,
    ("RowsRead", frozenset({("Dataset", "streams")})): 100,
    ("RowsKept", frozenset({("Dataset", "streams")})): 95,
    ("RowsQuarantined", frozenset({("Dataset", "streams")})): 5,
    ("BatchQualityRows", frozenset({("Dataset", "streams"), ("Reason", "unknown_user")})): 3,
    ("BatchQualityRows", frozenset({("Dataset", "streams"), ("Reason", "duplicate_event")})): 2,
    (
        "BatchQualityRows",
        frozenset({("Dataset", "streams"), ("Reason", "listen_before_signup")}),
    ): 7,
    ("StageDuration", frozenset({("Stage", "plan")})): 0.25,
    ("StageDuration", frozenset({("Stage", "validate")})): 4.0,
    ("StageDuration", frozenset({("Stage", "load")})): 2.5,
    ("FreshnessLag", frozenset()): 42.5,
    ("StoreItemsWritten", frozenset()): 1234,
    ("Warnings", frozenset({("Check", "late_file")})): 2,
    ("Warnings", frozenset({("Check", "clock_skew")})): 1,
}


@pytest.fixture
def cloudwatch(endpoint: str, aws_env: None) -> Any:
    pytest.importorskip("moto")
    return client("cloudwatch", endpoint)


def settings_for(endpoint: str, namespace: str | None) -> Settings:
    return load_settings(
        metrics_namespace=namespace, aws_endpoint_url=endpoint, aws_region=REGION, progress=False
    )


def fresh_namespace() -> str:
    """One namespace per test: the moto server (and what it holds) lives for the session."""
    return f"musicstream-test/{uuid.uuid4().hex[:8]}"


def listed(cloudwatch: Any, namespace: str) -> set[Metric]:
    pages = cloudwatch.get_paginator("list_metrics").paginate(Namespace=namespace)
    return {
        (m["MetricName"], frozenset((d["Name"], d["Value"]) for d in m["Dimensions"]))
        for page in pages
        for m in page["Metrics"]
    }


def total(cloudwatch: Any, namespace: str, metric: Metric) -> float:
    """The Sum of every data point of ``metric`` around now."""
    name, dimensions = metric
    now = datetime.now(UTC)
    points = cloudwatch.get_metric_statistics(
        Namespace=namespace,
        MetricName=name,
        Dimensions=[{"Name": k, "Value": v} for k, v in sorted(dimensions)],
        StartTime=now - timedelta(hours=1),
        EndTime=now + timedelta(hours=1),
        Period=3600,
        Statistics=["Sum"],
    )["Datapoints"]
    return sum(p["Sum"] for p in points)


@pytest.mark.aws
def test_a_run_summary_becomes_metrics_with_their_dimensions_and_values(
    endpoint: str, cloudwatch: Any
) -> None:
    namespace = fresh_namespace()
    metrics.publish(settings_for(endpoint, namespace), SUMMARY)
    assert listed(cloudwatch, namespace) == set(EXPECTED)
    for metric, value in EXPECTED.items():
        assert total(cloudwatch, namespace, metric) == pytest.approx(value), metric


@pytest.mark.aws
def test_a_run_on_s3_publishes_what_its_summary_reports(
    aws_env: None, aws_settings: Callable[..., Settings], cloudwatch: Any
) -> None:
    """Through the pipeline's own notify: a real batch, its real summary."""
    pytest.importorskip("s3fs")
    namespace = fresh_namespace()
    settings = aws_settings(metrics_namespace=namespace)
    land(settings, 0)
    summary = pipeline.run(settings)
    assert summary["status"] == "ok" and summary["datasets"]
    for dataset, counts in summary["datasets"].items():
        assert counts["read"] == counts["kept"] + counts["quarantined"] > 0, dataset
        for key, name in [
            ("read", "RowsRead"),
            ("kept", "RowsKept"),
            ("quarantined", "RowsQuarantined"),
        ]:
            got = total(cloudwatch, namespace, (name, frozenset({("Dataset", dataset)})))
            assert got == counts[key], (dataset, name)
    assert total(cloudwatch, namespace, ("Runs", frozenset({("Status", "ok")}))) == 1
    found = listed(cloudwatch, namespace)
    stages = {dict(dims)["Stage"] for name, dims in found if name == "StageDuration"}
    assert stages == set(summary["stages"]) and stages
    assert (("FreshnessLag", frozenset()) in found) == (summary["lag_s"] is not None)
    items = total(cloudwatch, namespace, ("StoreItemsWritten", frozenset()))
    assert items == summary["store_items_written"] > 0


OPTIONAL = ("stages", "lag_s", "store_items_written", "warnings")


@pytest.mark.aws
@pytest.mark.parametrize(
    ("error", "status"), [(None, "nothing_new"), (RuntimeError("boom"), "failed")]
)
@pytest.mark.parametrize("optional", [True, False], ids=["as-built", "without-optional-keys"])
def test_a_run_that_loaded_nothing_is_counted_with_or_without_the_optional_keys(
    endpoint: str, cloudwatch: Any, error: BaseException | None, status: str, optional: bool
) -> None:
    """The summary ``run_summary`` builds for a run that found nothing or failed; and the
    same without the keys a summary may lack (an older one, or one built elsewhere)."""
    namespace = fresh_namespace()
    summary = run_summary([], 0.5, error=error)
    if not optional:
        summary = {k: v for k, v in summary.items() if k not in OPTIONAL}
    metrics.publish(settings_for(endpoint, namespace), summary)
    runs = ("Runs", frozenset({("Status", status)}))
    expected = {runs: 1.0, ("RunDuration", frozenset()): 0.5}
    if optional:  # no lag (nothing loaded), no stage, no warning: 0 store items
        expected[("StoreItemsWritten", frozenset())] = 0.0
    assert listed(cloudwatch, namespace) == set(expected)
    assert {m: total(cloudwatch, namespace, m) for m in expected} == expected


@pytest.mark.aws
def test_more_metrics_than_one_request_takes_go_in_several_requests(
    endpoint: str, cloudwatch: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import boto3

    sent: list[int] = []
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)  # a session of this test's own
    boto3.setup_default_session()
    assert boto3.DEFAULT_SESSION is not None
    boto3.DEFAULT_SESSION.events.register(
        "provide-client-params.cloudwatch.PutMetricData",
        lambda params, **_: sent.append(len(params["MetricData"])),
    )
    namespace = fresh_namespace()
    checks = [{"check": f"check_{i:04d}"} for i in range(1500)]
    metrics.publish(settings_for(endpoint, namespace), {"status": "ok", "warnings": checks})
    assert sent == [1000, 501]  # 1,500 warnings and the run itself
    assert len(listed(cloudwatch, namespace)) == 1501


def test_values_cloudwatch_refuses_are_left_out() -> None:
    at = datetime(2026, 1, 1, tzinfo=UTC)
    summary = {
        "status": "ok",
        "duration_s": 1.0,
        "lag_s": math.nan,
        "store_items_written": None,
        "stages": {"plan": math.inf, "load": 2},
        "datasets": {"songs": {"read": True, "kept": "9"}},
    }
    data = metrics.datums(summary, at)
    assert sorted(d["MetricName"] for d in data) == ["RunDuration", "Runs", "StageDuration"]
    assert {d["Timestamp"] for d in data} == {at}
    [stage] = [d for d in data if d["MetricName"] == "StageDuration"]
    assert stage["Dimensions"] == [{"Name": "Stage", "Value": "load"}]
    assert stage["Value"] == 2.0


@pytest.mark.aws
def test_an_unreachable_endpoint_logs_one_warning_and_the_run_goes_on(
    aws_env: None, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    pytest.importorskip("boto3")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")  # the failure, not botocore's retries
    closed = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    with caplog.at_level(logging.WARNING, logger="musicstream.metrics"):
        metrics.publish(settings_for(closed, fresh_namespace()), SUMMARY)
    [record] = [r for r in caplog.records if r.name == "musicstream.metrics"]
    assert record.levelno == logging.WARNING
    assert record.getMessage().startswith("CloudWatch metrics not published: ")
    assert "127.0.0.1" in record.getMessage()


def test_without_a_namespace_nothing_is_published_and_boto3_is_not_needed() -> None:
    """In a fresh interpreter where boto3 cannot be imported: without a namespace publish
    returns quietly; with one (the control) the missing boto3 is its one warning."""
    code = (
        "import logging, sys\n"
        "sys.modules['boto3'] = None\n"  # `import boto3` now raises ImportError
        "logging.basicConfig(level=logging.DEBUG)\n"
        "from musicstream import metrics\n"
        "from musicstream.settings import load_settings\n"
        "metrics.publish(load_settings(), {'status': 'ok'})\n"
        "print('--- with a namespace', file=sys.stderr)\n"
        "metrics.publish(load_settings(metrics_namespace='ns'), {'status': 'ok'})\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("MUSICSTREAM_")}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=env
    )
    assert done.returncode == 0, done.stderr
    without, with_namespace = done.stderr.split("--- with a namespace")
    assert "musicstream.metrics" not in without
    [warning] = [line for line in with_namespace.splitlines() if "musicstream.metrics" in line]
    assert warning.startswith("WARNING:musicstream.metrics:CloudWatch metrics not published")
