"""Notify: tell someone how a run went — a log line always, a webhook and SNS if configured,
and CloudWatch metrics when a namespace is (metrics.py).

A channel that fails is tried again with exponential backoff and jitter (tenacity) —
``NOTIFY_ATTEMPTS`` times in all, over about ``NOTIFY_MAX_WAIT_S`` — then logged as lost; a
notification never fails a run. A webhook's 4xx answer other than 408/429 is not retried:
the receiver refused the message and would refuse it again.
"""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from musicstream.settings import Settings

log = logging.getLogger(__name__)

_SNS_MAX_BYTES = 256 * 1024 - 1024  # the SNS message limit, with room for the envelope


NOTIFY_ATTEMPTS = 4
NOTIFY_FIRST_WAIT_S = 0.5  # then doubling, with jitter, up to:
NOTIFY_MAX_WAIT_S = 8.0


def notify(settings: Settings, summary: dict[str, Any]) -> None:
    """Send ``summary`` (a JSON-able run summary) to every configured channel."""
    log.info("run %s: %s", summary.get("status"), json.dumps(summary, default=str))
    if settings.webhook_url:
        _guarded("webhook", _post_webhook, settings.webhook_url, summary)
    if settings.sns_topic_arn:
        _guarded("SNS", _publish_sns, settings, summary)
    if settings.metrics_namespace:
        from musicstream import metrics

        metrics.publish(settings, summary)


def _guarded(channel: str, send: Any, *args: Any) -> None:
    """``send``, retried with backoff; a notification must never fail the run."""
    import tenacity

    def retrying(state: tenacity.RetryCallState) -> None:
        assert state.outcome is not None and state.next_action is not None
        log.warning(
            "%s notification failed (attempt %d of %d): %s; trying again in %.1fs",
            channel,
            state.attempt_number,
            NOTIFY_ATTEMPTS,
            state.outcome.exception(),
            state.next_action.sleep,
        )

    try:
        tenacity.Retrying(
            stop=tenacity.stop_after_attempt(NOTIFY_ATTEMPTS),
            wait=tenacity.wait_random_exponential(NOTIFY_FIRST_WAIT_S, max=NOTIFY_MAX_WAIT_S),
            retry=tenacity.retry_if_exception(_worth_retrying),
            before_sleep=retrying,
            reraise=True,
        )(send, *args)
    except Exception as exc:
        log.error("%s notification lost: %s", channel, " ".join(str(exc).split()))


def _worth_retrying(exc: BaseException) -> bool:
    """Not a refusal: an HTTP 4xx answer (but 408 timeout, 429 too many) would be refused
    again — the webhook's, or SNS's (a topic that does not exist, access denied)."""
    if not isinstance(exc, Exception):
        return False
    status = exc.code if isinstance(exc, urllib.error.HTTPError) else None
    response = getattr(exc, "response", None)  # botocore's ClientError
    if isinstance(response, dict):
        status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return not isinstance(status, int) or status >= 500 or status in (408, 429)


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
