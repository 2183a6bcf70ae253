"""Notifications are retried with backoff before they are logged as lost (a real local
HTTP receiver that fails on purpose)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import pytest

from musicstream import notify
from musicstream.settings import Settings
from webhook import Webhook

SUMMARY = {"status": "ok", "batch_ids": ["b1"], "files": 1}


def send(settings: Settings, caplog: pytest.LogCaptureFixture) -> list[str]:
    with caplog.at_level(logging.WARNING, logger="musicstream.notify"):
        notify.notify(settings, SUMMARY)
    return [r.getMessage() for r in caplog.records if r.name == "musicstream.notify"]


@pytest.mark.parametrize("status", [500, 503, 429])
def test_a_webhook_that_fails_twice_then_succeeds_delivers_once(
    tmp_path: Path,
    settings_for: Callable[..., Settings],
    caplog: pytest.LogCaptureFixture,
    status: int,
) -> None:
    hook = Webhook(fail_first=2, fail_status=status)
    try:
        logged = send(settings_for(tmp_path, webhook_url=hook.url), caplog)
    finally:
        hook.close()
    assert hook.attempts == 3 and hook.received == [SUMMARY]
    assert [m.split(":")[0] for m in logged] == [
        "webhook notification failed (attempt 1 of 4)",
        "webhook notification failed (attempt 2 of 4)",
    ]


def test_a_webhook_down_for_good_is_logged_as_lost_after_every_attempt(
    tmp_path: Path, settings_for: Callable[..., Settings], caplog: pytest.LogCaptureFixture
) -> None:
    hook = Webhook(fail_first=99)
    try:
        logged = send(settings_for(tmp_path, webhook_url=hook.url), caplog)
    finally:
        hook.close()
    assert hook.attempts == notify.NOTIFY_ATTEMPTS and hook.received == []
    assert logged[-1].startswith("webhook notification lost: HTTP Error 503")


def test_a_refusal_is_not_retried(
    tmp_path: Path, settings_for: Callable[..., Settings], caplog: pytest.LogCaptureFixture
) -> None:
    """A 4xx answer would be given again: one attempt, then logged as lost."""
    hook = Webhook(fail_first=99, fail_status=404)
    try:
        logged = send(settings_for(tmp_path, webhook_url=hook.url), caplog)
    finally:
        hook.close()
    assert hook.attempts == 1
    assert logged == ["webhook notification lost: HTTP Error 404: Not Found"]
