"""The freshness case's watcher: one ``musicstream watch --log-format json`` process, its JSON
lines (one per batch) read as they come, its CPU time and peak RSS."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import psutil

if TYPE_CHECKING:
    from bench.freshness import Options

REPO = Path(__file__).resolve().parent.parent


class Watcher:
    """``musicstream watch --log-format json`` on ``lake``; its JSON lines read as they come."""

    def __init__(self, lake: Path, opts: Options, log: Path) -> None:
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join(filter(None, (str(REPO), os.environ.get("PYTHONPATH")))),
            "MUSICSTREAM_PROGRESS": "false",
            "MUSICSTREAM_SETTLE_S": f"{opts.settle_s:g}",
            "MUSICSTREAM_THREADS": str(opts.threads),
        }
        cmd = [sys.executable, "-m", "musicstream", "watch", "--lake", str(lake)]
        self.stderr = log.open("wb")
        self.proc = subprocess.Popen(
            [*cmd, "--log-format", "json"],
            cwd=log.parent,  # no stray musicstream.toml
            env=env,
            stdout=subprocess.PIPE,
            stderr=self.stderr,
            text=True,
            start_new_session=True,
        )
        self.ps = psutil.Process(self.proc.pid)
        self.lines: list[dict[str, Any]] = []
        self.peak_rss = 0
        assert self.proc.stdout is not None
        threading.Thread(target=self._read, args=(self.proc.stdout,), daemon=True).start()

    def _read(self, stdout: IO[str]) -> None:
        for line in stdout:
            if line.startswith("{"):
                self.lines.append(json.loads(line) | {"seen_at": time.time()})

    def cpu_s(self) -> float:
        try:
            t = self.ps.cpu_times()
        except psutil.Error:
            return 0.0
        return t.user + t.system + t.children_user + t.children_system

    def sample(self) -> None:
        with contextlib.suppress(psutil.Error):
            self.peak_rss = max(self.peak_rss, self.ps.memory_info().rss)
        if self.proc.poll() is not None:
            raise RuntimeError(f"the watcher exited with {self.proc.returncode}")

    def stop(self, timeout_s: float = 60.0) -> None:
        """SIGTERM (the batch in progress finishes), SIGKILL after ``timeout_s``."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout_s)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.stderr.close()
