"""A moto server of our own (so its request recorder writes to a temp file), and the stack.

The server is started like the session's one of ``tests/aws_local.py`` (same helpers, same
dummy credentials per test); only the recorder's file differs.
"""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("moto")
pytest.importorskip("s3fs")

from aws_local import client, free_port, moto_command, wait_until_up

from .moto_stack import Recorder, Stack, create_stack


@pytest.fixture(autouse=True)
def _dummy_credentials(aws_env: None) -> None:
    """``aws_env`` for every test in this folder."""


@pytest.fixture(scope="session")
def moto_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """``moto.server`` on a free port; returns its URL and its recording file."""
    folder = tmp_path_factory.mktemp("moto-infra")
    recording = folder / "recording.jsonl"
    # The stack's function is created before its package could be in the bucket the same
    # stack creates (on AWS: two deploys, README); moto is told not to look for it.
    env = {**os.environ, "MOTO_RECORDER_FILEPATH": str(recording), "VALIDATE_LAMBDA_S3": "false"}
    port = free_port()
    log = (folder / "moto.log").open("wb")
    proc = subprocess.Popen(
        moto_command(port),
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
        cwd=folder,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(url, proc)
        yield url, recording
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        log.close()


@pytest.fixture
def endpoint(moto_server: tuple[str, Path]) -> str:
    return moto_server[0]


@pytest.fixture
def recorder(moto_server: tuple[str, Path]) -> Recorder:
    return Recorder(*moto_server)


@pytest.fixture
def stack(endpoint: str) -> Stack:
    """The rendered template deployed to moto under a fresh stack name and table prefix."""
    name = f"ms-{uuid.uuid4().hex[:8]}"
    return create_stack(client("cloudformation", endpoint), endpoint, name, f"{name}_")
