"""Run summaries reach SNS (read back through a subscribed SQS queue) and a webhook."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from aws_local import client, land
from musicstream import notify, pipeline
from musicstream.settings import Settings
from webhook import Webhook

pytestmark = pytest.mark.aws


@pytest.fixture
def webhook() -> Iterator[Webhook]:
    hook = Webhook()
    yield hook
    hook.close()


@pytest.fixture
def topic(endpoint: str) -> tuple[str, Callable[[], list[dict[str, Any]]]]:
    """An SNS topic with an SQS queue subscribed; returns its ARN and a reader of the queue."""
    sns, sqs = client("sns", endpoint), client("sqs", endpoint)
    arn = sns.create_topic(Name="musicstream-runs")["TopicArn"]
    queue = sqs.create_queue(QueueName=f"runs-{id(sns)}")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])
    sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=queue_arn["Attributes"]["QueueArn"])

    def read() -> list[dict[str, Any]]:
        got = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, WaitTimeSeconds=1)
        return [json.loads(m["Body"]) for m in got.get("Messages", [])]

    return arn, read


def test_success_and_failure_summaries_reach_sns_and_the_webhook(
    aws_settings: Callable[..., Settings], webhook: Webhook, topic: tuple[str, Any]
) -> None:
    arn, read = topic
    settings = aws_settings(webhook_url=webhook.url, sns_topic_arn=arn)
    land(settings, 0)

    def fail(step: str) -> None:
        if step == "kpis":
            raise RuntimeError("disk on fire")

    with pytest.raises(RuntimeError):
        pipeline.run(settings, on_step=fail)
    summary = pipeline.run(settings)

    [failed, ok] = webhook.received
    assert failed["status"] == "failed" and "disk on fire" in failed["error"]
    assert failed["batch_ids"] == summary["batch_ids"]  # the batch that failed is named
    assert ok["status"] == "ok" and ok["error"] is None
    assert ok["datasets"]["streams"]["reasons"]["malformed_row"] == 1
    assert ok["dates"] == ["2026-01-01", "2026-01-02", "2026-01-03"]

    messages = read()
    assert [m["Subject"] for m in messages] == [
        f"musicstream run failed: {summary['batch_ids'][0]}",
        f"musicstream run ok: {summary['batch_ids'][0]}",
    ]
    assert [json.loads(m["Message"]) for m in messages] == [
        json.loads(json.dumps(s, default=str)) for s in (failed, ok)
    ]


def test_a_failed_notification_is_logged_and_the_run_succeeds(
    aws_settings: Callable[..., Settings], caplog: pytest.LogCaptureFixture, endpoint: str
) -> None:
    closed = Webhook()
    closed.server.server_close()  # nothing listens there any more
    settings = aws_settings(
        webhook_url=closed.url, sns_topic_arn="arn:aws:sns:us-east-1:123456789012:nowhere"
    )
    land(settings, 0)
    with caplog.at_level(logging.WARNING, logger="musicstream.notify"):
        assert pipeline.run(settings)["status"] == "ok"
    warnings = [r.getMessage() for r in caplog.records if r.name == "musicstream.notify"]
    assert any(w.startswith("webhook notification failed (attempt 1 of 4)") for w in warnings)
    assert any(w.startswith("webhook notification lost") for w in warnings)
    # a topic that does not exist is a refusal (404): not retried
    assert any(w.startswith("SNS notification lost") for w in warnings)
    assert not any(w.startswith("SNS notification failed") for w in warnings)


def test_a_summary_too_large_for_sns_drops_the_per_file_detail() -> None:
    summary = {"status": "ok", "batch_ids": ["b1"], "batches": ["x" * 300_000]}
    message = json.loads(notify.sns_message(summary))
    assert message["status"] == "ok" and message["batches"].startswith("omitted")
    subject = notify.sns_subject({"status": "ok", "batch_ids": []})
    assert subject == "musicstream run ok: no new files"
