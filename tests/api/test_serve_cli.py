"""`musicstream serve` as a user starts it: worker processes, a store not loaded yet, a port
already taken, Ctrl-C."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from aws_local import free_port
from conftest import cli


def test_two_workers_serve_an_empty_lake_until_ctrl_c(tmp_path: Path) -> None:
    """Before the first run the API is up: /health says empty, a KPI route says 503 with
    what to do; Ctrl-C stops every worker and exits 0."""
    (tmp_path / "lake").mkdir()
    port = free_port()
    serve = ["serve", "--lake", str(tmp_path / "lake"), "--port", str(port), "--workers", "2"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "musicstream", *serve],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "MUSICSTREAM_API_TOKEN": "tok"},
    )
    try:
        health = _wait_for(f"http://127.0.0.1:{port}/health", proc)
        assert health["status"] == "empty" and health["last_load"] is None
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/v1/kpis/genre_daily?date=2026-01-01",
            headers={"Authorization": "Bearer tok"},  # the workers got the token too
        )
        try:
            urllib.request.urlopen(request, timeout=10)
            raise AssertionError("a store that does not exist yet cannot answer")
        except urllib.error.HTTPError as exc:
            assert exc.code == 503
            assert "run `musicstream run` first" in json.loads(exc.read())["error"]
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "Traceback" not in err
    assert f"http://127.0.0.1:{port}/" in out


def test_a_taken_port_is_one_line(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = cli("serve", "--lake", str(tmp_path), "--port", str(port))
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        f"error: cannot listen on 127.0.0.1:{port}: Address already in use"
    ]


def _wait_for(url: str, proc: subprocess.Popen[str]) -> dict[str, object]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"serve exited: {proc.stderr.read() if proc.stderr else ''}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return dict(json.loads(response.read()))
        except OSError:
            time.sleep(0.2)
    raise AssertionError("serve did not answer")
