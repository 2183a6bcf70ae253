"""The Lake class on S3: listing, reading, publishing, moving, and the run lock."""

from __future__ import annotations

import gzip
import json
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from aws_local import client, land
from musicstream import ingest, pipeline
from musicstream.admit import admit
from musicstream.errors import LakeLocked, UserError
from musicstream.lake import Lake, open_lake
from musicstream.layout import LOCK
from musicstream.settings import Settings
from musicstream.state import run_lock

pytestmark = pytest.mark.aws

Make = Callable[..., Settings]


@pytest.fixture
def lake(endpoint: str, bucket: str) -> Lake:
    return open_lake(f"s3://{bucket}/lake", endpoint)


def test_listing_reading_and_publishing(lake: Lake, tmp_path: Path) -> None:
    lake.write_bytes("landing/streams/a/b/deep.csv", b"x")
    header = gzip.compress("\ufeffUser_ID ,x\n1,2\n".encode())
    lake.write_bytes("landing/streams/top.csv.gz", header)
    assert lake.files("landing/streams") == [
        "landing/streams/a/b/deep.csv",
        "landing/streams/top.csv.gz",
    ]
    assert lake.files("landing/nothing") == []
    (found,) = [f for f in lake.listing("landing/streams") if f.path.endswith(".gz")]
    entry = ingest.plan_file(lake, found)
    assert entry is not None and entry.version  # the ETag the plan saw
    admitted = admit(lake, "streams", entry, 0, str(tmp_path), "utf-8")
    assert admitted.spec is not None and admitted.spec.header == ("user_id", "x")
    assert lake.uri("landing/x.csv") == f"s3://{lake.root}/landing/x.csv"

    local = [tmp_path / f"{i}.bin" for i in range(3)]
    for i, path in enumerate(local):
        path.write_bytes(bytes([i]) * 10)
    lake.publish_all(
        [(str(p), f"kpis/t/report_date=2026-01-0{i}/data.parquet") for i, p in enumerate(local)]
    )
    got = lake.fetch(lake.files("kpis/t"), str(tmp_path / "fetched"))
    assert [Path(p).read_bytes() for p in got] == [bytes([i]) * 10 for i in range(3)]
    assert got[1].endswith("kpis/t/report_date=2026-01-01/data.parquet")  # layout kept


def test_move_is_copy_verify_delete_and_idempotent(lake: Lake) -> None:
    lake.write_bytes("landing/songs/s.csv", b"a,b\n")
    lake.move("landing/songs/s.csv", "archive/songs/2026-01-01/b1/s.csv")
    assert not lake.exists("landing/songs/s.csv")
    assert lake.read_bytes("archive/songs/2026-01-01/b1/s.csv") == b"a,b\n"
    lake.move("landing/songs/s.csv", "archive/songs/2026-01-01/b1/s.csv")  # retried: no-op
    with pytest.raises(FileNotFoundError):
        lake.move("landing/songs/gone.csv", "archive/songs/x.csv")


def test_a_new_prefix_in_an_existing_bucket_is_a_lake(endpoint: str, bucket: str) -> None:
    open_lake(f"s3://{bucket}/fresh", endpoint).require()
    with pytest.raises(UserError, match="lake not found"):
        open_lake("s3://no-such-bucket-here/lake", endpoint).require()


def test_second_run_fails_clearly_while_the_lock_object_exists(aws_settings: Make) -> None:
    settings = aws_settings()
    land(settings, 0)
    lake = open_lake(settings.lake, settings.aws_endpoint_url)
    with run_lock(lake):
        with pytest.raises(LakeLocked, match="is locked by pid"):
            pipeline.run(settings)
        with pytest.raises(LakeLocked):
            pipeline.run(aws_settings(lock_timeout_s=0.6))  # waits, then gives up
        assert lake.files("_state/batches") == []
    assert not lake.exists(LOCK)
    assert pipeline.run(settings)["status"] == "ok"
    assert not lake.exists(LOCK)


def test_lock_of_another_host_is_kept_a_dead_local_one_taken_over(
    aws_settings: Make, endpoint: str, bucket: str
) -> None:
    settings = aws_settings()
    land(settings, 0)
    s3 = client("s3", endpoint)
    other = {"host": "elsewhere", "pid": 1, "started": "2026-01-01T00:00:00+00:00"}
    s3.put_object(Bucket=bucket, Key=f"lake/{LOCK}", Body=json.dumps(other).encode())
    with pytest.raises(LakeLocked, match="pid 1 on elsewhere"):
        pipeline.run(settings)

    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    mine = {**other, "host": socket.gethostname(), "pid": int(dead.stdout)}
    s3.put_object(Bucket=bucket, Key=f"lake/{LOCK}", Body=json.dumps(mine).encode())
    assert pipeline.run(settings)["status"] == "ok"


def test_an_object_replaced_after_planning_is_left_for_the_next_run(
    lake: Lake, tmp_path: Path
) -> None:
    """S3 has no staged copy: the download is checked against the planned hash."""
    lake.write_bytes("landing/streams/s.csv", b"user_id,track_id,listen_time\nu1,t1,x\n")
    (found,) = lake.listing("landing/streams")
    entry = ingest.plan_file(lake, found)
    assert entry is not None
    lake.write_bytes("landing/streams/s.csv", b"user_id,track_id,listen_time\nu2,t2,y\n")
    admitted = admit(lake, "streams", entry, 0, str(tmp_path), "utf-8")
    assert (admitted.spec, admitted.changed) == (None, True)
    lake.remove("landing/streams/s.csv")
    assert admit(lake, "streams", entry, 0, str(tmp_path), "utf-8").reason == "missing_file"
