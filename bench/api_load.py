"""Put the read API under load: the server, one wrk per request class, the concurrent run.

The load generator is wrk (Debian's package, installed on first use): C and epoll, so it
takes a few percent of a core at thousands of requests a second and leaves the two cores to
the server and the run it is measured against; its LuaJIT hooks (bench/api.lua) check every
answer as it arrives, and it reports a full latency histogram. Locust or any Python client
would need a core of its own to make 1,000 requests/s; wrk2 (constant request rate), oha,
vegeta and k6 are not in Debian 12; of those that are, hey and ab load one URL, and siege
reads URLs from a file but has no hook to check an answer.

wrk is a closed loop: each connection sends its next request when the answer arrives. The
throughput measured is therefore the most the server gives at that concurrency, and the
latencies are the latencies at that throughput (queueing included): the strict reading of
"p95 ≤ X ms at ≥ 1,000 requests/s". Fewer connections give lower latencies.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from bench import measure
from bench.api_lake import RUN_ENV
from bench.api_mix import CLASSES

LUA = Path(__file__).with_name("api.lua")
SOCKET_ERRORS = ("connect", "read", "write", "timeout")


@dataclass
class ClassLoad:
    """What one wrk process (one request class) measured and saw."""

    name: str
    connections: int
    stats: dict[str, float]  # requests, duration_us, socket_*, responses, non200, violations
    latency_us: dict[str, float]  # "50", "95", "99", "max", "mean", …
    statuses: Counter[str]
    samples: list[str]
    seen: dict[str, Counter[str]]  # answer key → CRC-32 of the answer → times seen
    wrk_cpu_s: float
    torn: int = 0  # answers that are neither version of the store (see api_verify)
    torn_samples: list[str] = field(default_factory=list)

    @property
    def rps(self) -> float:
        return self.stats.get("requests", 0) / max(self.stats.get("duration_us", 0) / 1e6, 1e-9)

    @property
    def errors(self) -> int:
        """Answers that were not 200, and requests that got none (socket errors, timeouts)."""
        return int(self.stats.get("non200", 0)) + sum(
            int(self.stats.get(f"socket_{k}", 0)) for k in SOCKET_ERRORS
        )

    def ms(self, percentile: str) -> float:
        return self.latency_us.get(percentile, float("nan")) / 1000


@dataclass
class Phase:
    """One load window on one server: both classes at once, with or without the run."""

    workers: int
    name: str  # "alone" or "during run"
    window_s: float  # from starting wrk until both stopped
    classes: dict[str, ClassLoad]
    server_cpu_s: float
    run: measure.Measurement | None = None
    run_start_s: float = 0.0  # after the load started
    run_dates: int | None = None  # dates the run recomputed
    load_avg: float = 0.0  # the 1-minute load average as the window ended
    rate: float = 0.0  # requests/s offered (paced), 0: closed loop

    @property
    def rps(self) -> float:
        return sum(c.rps for c in self.classes.values())


class Server:
    """``musicstream serve`` on ``lake`` with ``workers`` processes, on a free local port."""

    def __init__(self, lake: Path, workers: int, folder: Path) -> None:
        self.workers, self.port = workers, _free_port()
        folder.mkdir(parents=True, exist_ok=True)
        self.log = folder / f"serve-w{workers}.log"
        cmd = [sys.executable, "-m", "musicstream", "serve", "--lake", str(lake)]
        cmd += ["--port", str(self.port), "--workers", str(workers)]
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(
                cmd, cwd=folder, env={**os.environ, **RUN_ENV}, stdout=out,
                stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def wait_ready(self, timeout_s: float = 120.0) -> None:
        """Until /health answers 200 (every worker imports the app first)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the server exited: {self.log.read_text()[-800:]}")
            with (
                contextlib.suppress(OSError),
                urllib.request.urlopen(self.url + "/health", timeout=5) as answer,
            ):
                if answer.status == 200:
                    return
            time.sleep(0.2)
        raise RuntimeError(f"the server did not answer /health in {timeout_s:.0f}s")

    def cpu_s(self) -> float:
        """User + sys of the server and its worker processes so far."""
        try:
            procs = [psutil.Process(self.proc.pid)]
            procs += procs[0].children(recursive=True)
        except psutil.Error:
            return 0.0
        total = 0.0
        for proc in procs:
            with contextlib.suppress(psutil.Error):
                times = proc.cpu_times()
                total += times.user + times.system
        return total

    def stop(self) -> None:
        """SIGTERM to the server's process group (uvicorn finishes in-flight requests)."""
        for sig, wait_s in ((signal.SIGTERM, 30), (signal.SIGKILL, 10)):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.proc.pid, sig)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=wait_s)
                return


@contextlib.contextmanager
def serving(lake: Path, workers: int, folder: Path) -> Iterator[Server]:
    server = Server(lake, workers, folder)
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()


def ensure_wrk() -> str | None:
    """None when wrk is on PATH (Debian's package installed on first use), else why not."""
    if shutil.which("wrk"):
        return None
    if not shutil.which("apt-get") or os.geteuid() != 0:
        return "wrk is missing and cannot be installed here (needs apt-get as root)"
    env = os.environ | {"DEBIAN_FRONTEND": "noninteractive"}
    for cmd in (["apt-get", "update"], ["apt-get", "install", "-y", "wrk"]):
        try:
            done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=900)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return f"{' '.join(cmd)}: {exc}"
        if done.returncode != 0:
            return f"{' '.join(cmd)} failed: {done.stderr.strip()[-300:]}"
    return None if shutil.which("wrk") else "apt-get install wrk gave no wrk on PATH"


def wrk_version() -> str:
    done = subprocess.run(["wrk", "-v"], capture_output=True, text=True, check=False)
    return (done.stdout or done.stderr).splitlines()[0].split(" Copyright")[0].strip()


@dataclass(frozen=True)
class Load:
    """How to load: the request files per class, connections per class, window seconds."""

    files: dict[str, Path]
    connections: dict[str, int]
    duration_s: int
    folder: Path
    rate: float = 0.0  # requests/s offered in all (paced), 0: as fast as answers come

    @property
    def paced(self) -> str:
        """The window's name suffix: how the load was offered."""
        return f", {self.rate:,.0f} req/s offered" if self.rate else ""


def run_phase(
    server: Server, load: Load, name: str, run: list[str] | None = None, lead_s: float = 2.0
) -> Phase:
    """Both classes' wrk at once: for ``load.duration_s``, or, given ``run``, from ``lead_s``
    before the run starts until it ends (wrk stops on SIGINT and reports as usual)."""
    tag = f"w{server.workers}-" + re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    seconds = RUN_CAP_S if run else load.duration_s
    procs = {c: _start_wrk(server, load, c, tag, seconds) for c in CLASSES}
    cpu_before, started = server.cpu_s(), time.perf_counter()
    ran = None
    if run is not None:
        time.sleep(lead_s)
        ran = measure.run(run, load.folder / f"run-{tag}.log", cwd=load.folder, env=RUN_ENV)
        for proc in procs.values():
            proc.send_signal(signal.SIGINT)
    classes = {c: _finish_wrk(proc, load, c, tag) for c, proc in procs.items()}
    window = time.perf_counter() - started
    phase = Phase(server.workers, name, window, classes, server.cpu_s() - cpu_before)
    phase.load_avg, phase.rate = os.getloadavg()[0], load.rate
    if ran is not None:
        phase.run, phase.run_start_s = ran, lead_s
        phase.run_dates = _dates_recomputed(ran.log)
    return phase


RUN_CAP_S = 3600  # a window that lasts as long as the run: wrk is stopped when it ends


def _start_wrk(
    server: Server, load: Load, name: str, tag: str, seconds: int
) -> subprocess.Popen[bytes]:
    n, out = load.connections[name], load.folder / f"wrk-{tag}-{name}.tsv"
    out.unlink(missing_ok=True)
    cmd = ["wrk", f"-t{n}", f"-c{n}", f"-d{seconds}s", "--timeout", "10s"]
    cmd += ["-s", str(LUA), server.url]
    env = {"API_BENCH_PATHS": str(load.files[name]), "API_BENCH_OUT": str(out)}
    env["API_BENCH_RANGED"] = "1" if name == "ranges" else "0"
    env["API_BENCH_RATE"] = str(load.rate / sum(load.connections.values()))
    log = load.folder / f"wrk-{tag}-{name}.log"
    with log.open("wb") as sink:
        sink.write(("$ " + " ".join(cmd) + "\n").encode())
        sink.flush()
        return subprocess.Popen(
            cmd, cwd=load.folder, env={**os.environ, **env}, stdout=sink,
            stderr=subprocess.STDOUT,
        )  # fmt: skip


def _finish_wrk(proc: subprocess.Popen[bytes], load: Load, name: str, tag: str) -> ClassLoad:
    """Wait for wrk (its CPU from wait4) and read what bench/api.lua wrote."""
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)  # reaped: Popen must not wait again
    out, log = load.folder / f"wrk-{tag}-{name}.tsv", load.folder / f"wrk-{tag}-{name}.log"
    if proc.returncode != 0 or not out.exists():
        raise RuntimeError(f"wrk ({name}) failed, exit {proc.returncode}: see {log}")
    cpu = usage.ru_utime + usage.ru_stime
    return parse(out, name, load.connections[name], cpu)


def parse(path: Path, name: str, connections: int, wrk_cpu_s: float) -> ClassLoad:
    """The tab-separated lines bench/api.lua's done() wrote (per-thread counts summed)."""
    stats: dict[str, float] = {}
    latency, statuses, samples = {}, Counter[str](), []
    seen: dict[str, Counter[str]] = {}
    for line in path.read_text().splitlines():
        kind, *rest = line.split("\t")
        if kind == "stat":
            stats[rest[0]] = stats.get(rest[0], 0.0) + float(rest[1])
        elif kind == "latency_us":
            latency[_percentile(rest[0])] = float(rest[1])
        elif kind == "status":
            statuses[rest[0]] += int(rest[1])
        elif kind == "sample":
            samples.append(rest[0])
        elif kind == "seen":
            seen.setdefault(rest[0], Counter())[rest[1]] += int(rest[2])
    return ClassLoad(name, connections, stats, latency, statuses, samples, seen, wrk_cpu_s)


def _percentile(text: str) -> str:
    """``50`` / ``50.0`` → ``50``; ``99.9`` stays; ``max`` and ``mean`` as they are."""
    with contextlib.suppress(ValueError):
        return f"{float(text):g}"
    return text


def _dates_recomputed(log: Path) -> int | None:
    found = re.search(r"(\d+) date\(s\) recomputed", log.read_text(errors="replace"))
    return int(found.group(1)) if found else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
