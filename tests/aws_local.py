"""A local AWS for the session: moto in server mode on 127.0.0.1, reached over HTTP only.

A plugin (``pytest_plugins`` in tests/conftest.py), so one server serves every folder. Every
AWS test talks to it through boto3 and s3fs exactly as it would to AWS; the dummy
credentials live in the environment of each test only: a folder of AWS tests turns
``aws_env`` on for each of its tests in its conftest.py. Nothing heavy is imported here, so
the suite still loads without the aws extra (the tests that need it are skipped).
"""

from __future__ import annotations

import gzip
import importlib.util
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from aws_landing import BATCHES
from musicstream.lake import open_lake
from musicstream.settings import Settings, load_settings

HAVE_AWS = all(importlib.util.find_spec(name) for name in ("moto", "s3fs"))
REGION = "us-east-1"


# ``python -m moto.server`` with S3's writes made atomic. moto checks a PUT's or DELETE's
# If-Match / If-None-Match, then writes, in one of its server's threads: two conditional
# writes racing each other can both pass the check (seen under load: two holders of the
# run lock on S3, tests/lake/aws/test_lock_s3.py). S3 evaluates each condition atomically,
# and the run lock relies on that: here one request's check and write are one step.
MOTO_SERVER = """
import sys, threading
from moto.s3.responses import S3Response
from moto.server import main

lock = threading.Lock()


def atomic(method):
    def locked(self, *args, **kwargs):
        with lock:
            return method(self, *args, **kwargs)

    return locked


S3Response.put_object = atomic(S3Response.put_object)
S3Response.delete_object = atomic(S3Response.delete_object)
main(sys.argv[1:])
"""


def moto_command(port: int) -> list[str]:
    """The command of a moto server on 127.0.0.1:``port`` (see :data:`MOTO_SERVER`)."""
    return [sys.executable, "-c", MOTO_SERVER, "-H", "127.0.0.1", "-p", str(port)]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Start ``moto.server`` as a subprocess on a free port for the whole session."""
    if not HAVE_AWS:
        pytest.skip("needs moto and s3fs (the aws extra)")
    port = free_port()
    log = (tmp_path_factory.mktemp("moto") / "moto.log").open("wb")
    proc = subprocess.Popen(moto_command(port), stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(url, proc)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        log.close()


def wait_until_up(url: str, proc: subprocess.Popen[bytes], timeout_s: float = 30) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("moto server exited at start")
        try:
            urllib.request.urlopen(f"{url}/moto-api/", timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("moto server did not start")


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Dummy credentials for this test only; no profile or config file from the machine."""
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


def client(service: str, endpoint: str) -> Any:
    import boto3

    return boto3.client(service, endpoint_url=endpoint, region_name=REGION)


@pytest.fixture
def bucket(endpoint: str) -> str:
    """A fresh bucket per test."""
    name = f"lake-{uuid.uuid4().hex[:12]}"
    client("s3", endpoint).create_bucket(Bucket=name)
    return name


@pytest.fixture
def aws_settings(endpoint: str, bucket: str) -> Callable[..., Settings]:
    """Settings of an S3 lake + DynamoDB store; a fresh table prefix per test."""
    prefix = f"t{uuid.uuid4().hex[:8]}_"

    def make(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "lake": f"s3://{bucket}/lake",
            "store": "dynamodb",
            "store_prefix": prefix,
            "aws_endpoint_url": endpoint,
            "aws_region": REGION,
            "progress": False,
        }
        return load_settings(**{**values, **overrides})

    return make


@pytest.fixture
def local_settings(tmp_path: Path) -> Callable[..., Settings]:
    """Settings of a local lake + SQLite store: the reference the AWS run must equal."""
    lake = tmp_path / "local-lake"
    lake.mkdir()

    def make(**overrides: Any) -> Settings:
        return load_settings(lake=str(lake), progress=False, **overrides)

    return make


def land(settings: Settings, batch: int) -> None:
    """Write batch ``batch`` (0-based) of :data:`BATCHES` into the lake's landing zone."""
    lake = open_lake(settings.lake, settings.aws_endpoint_url, settings.aws_region)
    for rel, text in BATCHES[batch].items():
        data = text.encode()
        lake.write_bytes(rel, gzip.compress(data, mtime=0) if rel.endswith(".gz") else data)
