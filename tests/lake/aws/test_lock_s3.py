"""The run lock on an S3 lake (moto server): the races and leases of test_lock.py, fewer
rounds, and the conditional requests that make each change atomic."""

from __future__ import annotations

import os
import signal
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from aws_local import client
from musicstream.lake import Lake, open_lake
from musicstream.layout import LOCK
from musicstream.lock import read_lock, run_lock

from ..lock_race import race, record, start_holder, states, watch_renewals

pytestmark = pytest.mark.aws

KEY = f"lake/{LOCK}"


@pytest.fixture
def url(bucket: str) -> str:
    return f"s3://{bucket}/lake"


@pytest.fixture
def lake(url: str, endpoint: str) -> Lake:
    return open_lake(url, endpoint)


@pytest.fixture
def s3(endpoint: str) -> Any:
    return client("s3", endpoint)


def put(s3: Any, bucket: str, data: bytes | None) -> None:
    if data is None:
        s3.delete_object(Bucket=bucket, Key=KEY)
    else:
        s3.put_object(Bucket=bucket, Key=KEY, Body=data)


def get(s3: Any, bucket: str) -> bytes | None:
    try:
        return bytes(s3.get_object(Bucket=bucket, Key=KEY)["Body"].read())
    except s3.exceptions.NoSuchKey:
        return None


@pytest.mark.slow
def test_runs_released_at_once_never_both_hold_the_lock(
    url: str, endpoint: str, s3: Any, bucket: str, tmp_path: Path
) -> None:
    """One set of workers for every kind of round: each worker takes seconds to start."""
    kinds = [("dead", 30), ("live", 8), ("expired", 20), ("garbage", 24)]
    race(
        url,
        endpoint,
        [state for kind, n in kinds for state in states(kind, n)],
        write=lambda data: put(s3, bucket, data),
        read=lambda: get(s3, bucket),
        log=tmp_path / "events.jsonl",
        workers=3,
        hold_s=0.1,  # requests take milliseconds: a shorter hold is over before others try
    )


def test_every_change_is_a_conditional_request(lake: Lake) -> None:
    sent: list[tuple[str, Any]] = []
    for op in ("PutObject", "DeleteObject"):
        lake.fs.s3.meta.events.register(
            f"before-send.s3.{op}", lambda request, **_: sent.append((request.method, request))
        )
    with run_lock(lake, lease_s=1):
        time.sleep(0.5)  # one renewal
    methods = [m for m, _ in sent]
    assert methods[0] == "PUT" and methods[-1] == "DELETE" and methods.count("PUT") >= 2
    first, *rest = (request.headers for _, request in sent)
    assert first.get("If-None-Match") in (b"*", "*")
    assert all(h.get("If-Match") for h in rest)  # renewals and the release name an ETag


def test_holder_that_renews_keeps_the_lock_over_several_leases(
    url: str, endpoint: str, lake: Lake, s3: Any, bucket: str
) -> None:
    watch_renewals(url, endpoint, lake)
    assert get(s3, bucket) is None


def test_frozen_holder_is_taken_over_after_its_lease_and_cannot_undo_that(
    url: str, endpoint: str, lake: Lake, s3: Any, bucket: str
) -> None:
    holder = start_holder(url, endpoint, lease_s=1, hold_s=1.5)
    os.kill(holder.pid, signal.SIGSTOP)
    try:
        frozen = read_lock(lake)
        assert frozen is not None and frozen.lease_until is not None
        with run_lock(lake, timeout_s=20, poll_s=0.05) as me:
            assert datetime.now(UTC) >= datetime.fromisoformat(frozen.lease_until)
            os.kill(holder.pid, signal.SIGCONT)
            out, err = holder.communicate(timeout=60)
            info = read_lock(lake)
            assert info is not None and info.token == me.token
    finally:
        if holder.poll() is None:
            os.kill(holder.pid, signal.SIGCONT)
    assert holder.returncode == 0 and out == "released\n", err
    assert "taken over or removed while this run held it" in err and "Traceback" not in err
    assert get(s3, bucket) is None


def test_garbage_and_an_expired_lease_are_no_lock(lake: Lake, s3: Any, bucket: str) -> None:
    for data in (b"", b"{", record("another-host.example", 7, -1)):
        put(s3, bucket, data)
        with run_lock(lake) as me:
            info = read_lock(lake)
            assert info is not None and info.token == me.token
    assert get(s3, bucket) is None
