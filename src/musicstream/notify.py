"""Notify: tell someone how a run went — a log line always, a webhook and SNS if configured.

A failed notification is logged and never fails a run.
"""

from __future__ import annotations

import json
import logging
import urllib.request
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from musicstream.settings import Settings

log = logging.getLogger(__name__)

_SNS_MAX_BYTES = 256 * 1024 - 1024  # the SNS message limit, with room for the envelope


def notify(settings: Settings, summary: dict[str, Any]) -> None:
    """Send ``summary`` (a JSON-able run summary) to every configured channel."""
    log.info("run %s: %s", summary.get("status"), json.dumps(summary, default=str))
    if settings.webhook_url:
        _guarded("webhook", _post_webhook, settings.webhook_url, summary)
    if settings.sns_topic_arn:
        _guarded("SNS", _publish_sns, settings, summary)


def _guarded(channel: str, send: Any, *args: Any) -> None:
    try:
        send(*args)
    except Exception as exc:  # a notification must never fail the run
        log.warning("%s notification failed: %s", channel, exc)


def _post_webhook(url: str, summary: dict[str, Any]) -> None:
    body = json.dumps(summary, default=str).encode()
    request = urllib.request.Request(
        url, data=body, headers={"Content-Type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        response.read()


def _publish_sns(settings: Settings, summary: dict[str, Any]) -> None:
    import boto3  # the aws extra; imported only when SNS is configured

    client = boto3.client(
        "sns", endpoint_url=settings.aws_endpoint_url, region_name=settings.aws_region
    )
    client.publish(
        TopicArn=settings.sns_topic_arn, Subject=sns_subject(summary), Message=sns_message(summary)
    )


def sns_subject(summary: dict[str, Any]) -> str:
    """ASCII, one line, at most 100 characters (SNS rules for email subjects)."""
    batches = ", ".join(summary.get("batch_ids") or []) or "no new files"
    text = f"musicstream run {summary.get('status')}: {batches}"
    return text.encode("ascii", "replace").decode()[:100]


def sns_message(summary: dict[str, Any]) -> str:
    """The summary as JSON; without per-file detail when that would pass SNS's 256 KB."""
    body = json.dumps(summary, default=str)
    if len(body.encode()) <= _SNS_MAX_BYTES:
        return body
    return json.dumps({**summary, "batches": "omitted: too large for SNS"}, default=str)
