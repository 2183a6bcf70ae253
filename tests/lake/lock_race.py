"""Processes released at one instant against one lake's run lock, and what each one saw.

A round: the test puts the lock in some state (none, a dead run's, a live one's, an expired
lease, garbage), then every worker process passes one barrier at once and tries the lock
without waiting. Each appends what happened to a shared log (``O_APPEND``, one write per
line, so the log's order is the order of the events): ``enter`` and ``exit`` around holding
the lock, ``locked`` with the error's message, or ``error`` with a traceback.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import socket
import subprocess
import sys
import time
import traceback
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from musicstream.errors import LakeLocked
from musicstream.lake import open_lake
from musicstream.lock import run_lock

BARRIER_S = 30  # a worker that never arrives fails the test instead of hanging it
LEASE_S = 600.0  # no renewals during a race: those have their own tests

# Lock files no run wrote whole: each must count as no lock.
GARBAGE: list[bytes | None] = [
    None,
    b"",
    b"{",
    b'{"host": "h", "pid": 12',
    b"null",
    b"[1, 2]",
    b'"lock"',
    b'{"host": 5, "pid": "x", "started": 1}',
    b'{"host": "h", "pid": 0, "started": "s"}',
    b'{"host": "h", "pid": 1, "started": "s", "lease_until": "soon"}',
    bytes(range(256)),
    b"\x00" * 64,
]


def record(host: str, pid: int, lease_s: float | None) -> bytes:
    """A lock record as a run writes it; ``lease_s`` < 0 is a lease that already ran out."""
    obj: dict[str, Any] = {"host": host, "pid": pid, "started": "2026-01-01T00:00:00+00:00"}
    if lease_s is not None:
        obj["lease_until"] = (datetime.now(UTC) + timedelta(seconds=lease_s)).isoformat()
        obj["token"] = os.urandom(8).hex()
    return json.dumps(obj).encode()


def dead_pid() -> int:
    """The pid of a process of this host that has exited and been reaped."""
    code = "import os; print(os.getpid())"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, check=True)
    return int(done.stdout)


Round = tuple[bytes | None, bool]  # the lock a round starts from; whether its holder is live


def states(kind: str, rounds: int) -> list[Round]:
    """The lock each round starts from: a dead run's, a live run's, an expired lease, garbage.

    The dead and the live run's leases are valid: only the pid tells them apart. Every other
    dead run's record has no lease, as an older version wrote it.
    """
    host = socket.gethostname()
    if kind == "dead":
        dead = dead_pid()
        return [(record(host, dead, 3600 if n % 2 else None), False) for n in range(rounds)]
    if kind == "live":
        return [(record(host, os.getpid(), 3600), True)] * rounds
    if kind == "expired":  # another host's run that stopped renewing
        return [(record("another-host.example", 4242, -5), False) for _ in range(rounds)]
    return [(GARBAGE[n % len(GARBAGE)], False) for n in range(rounds)]


def race(
    url: str,
    endpoint: str | None,
    rounds: Sequence[Round],
    write: Callable[[bytes | None], None],
    read: Callable[[], bytes | None],
    log: Path,
    workers: int = 4,
    hold_s: float = 0.01,
) -> list[dict[str, Any]]:
    """Run the rounds and check them; the events, for more checks."""
    ctx = multiprocessing.get_context("spawn")  # no fork of a process with s3fs's threads
    start, done = ctx.Barrier(workers + 1), ctx.Barrier(workers + 1)
    args = (url, endpoint, len(rounds), start, done, str(log), hold_s)
    procs = [ctx.Process(target=worker, args=args) for _ in range(workers)]
    for p in procs:
        p.start()
    try:
        for state, live in rounds:
            write(state)
            start.wait(BARRIER_S)
            done.wait(BARRIER_S)
            left = read()
            assert left == (state if live else None), f"after a round the lock is {left!r}"
    except BaseException:
        start.abort()  # the workers stop at once instead of at their barrier's timeout
        done.abort()
        raise
    finally:
        for p in procs:
            p.join(BARRIER_S)
    events = [json.loads(line) for line in log.read_text().splitlines()]
    check(events, [live for _, live in rounds], workers)
    return events


def worker(
    url: str,
    endpoint: str | None,
    rounds: int,
    start: Any,
    done: Any,
    log: str,
    hold_s: float,
) -> None:
    """One contending process: each round, try the lock once when the barrier opens."""
    lake = open_lake(url, endpoint)
    fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    for n in range(rounds):
        start.wait(BARRIER_S)
        try:
            with run_lock(lake, lease_s=LEASE_S):
                note(fd, n, "enter")
                time.sleep(hold_s)
                note(fd, n, "exit")
        except LakeLocked as exc:
            note(fd, n, "locked", str(exc))
        except Exception:
            note(fd, n, "error", traceback.format_exc())
        done.wait(BARRIER_S)


def note(fd: int, round_: int, what: str, text: str = "") -> None:
    line = json.dumps({"round": round_, "pid": os.getpid(), "what": what, "text": text})
    os.write(fd, (line + "\n").encode())


def check(events: list[dict[str, Any]], live: Sequence[bool], workers: int) -> None:
    """Never two holders at once; every other try is one clean ``LakeLocked`` line."""
    inside: dict[str, Any] | None = None
    for e in events:
        if e["what"] == "enter":
            assert inside is None, f"two holders at once: {inside} and {e}"
            inside = e
        elif e["what"] == "exit":
            assert inside is not None and (inside["pid"], inside["round"]) == (e["pid"], e["round"])
            inside = None
    errors = [e["text"] for e in events if e["what"] == "error"]
    assert not errors, f"{len(errors)} tries failed with a traceback, e.g.:\n{errors[0]}"
    for e in events:
        if e["what"] == "locked":
            assert "\n" not in e["text"] and " is locked by pid " in e["text"], e["text"]
    tries = Counter(e["round"] for e in events if e["what"] in ("enter", "locked"))
    assert all(tries[n] == workers for n in range(len(live))), "a worker skipped a round"
    held = Counter(e["round"] for e in events if e["what"] == "enter")
    for n, is_live in enumerate(live):
        assert (held[n] == 0) if is_live else (held[n] >= 1), f"round {n}: {held[n]} holders"


HOLDER = """
import logging, sys, time
from musicstream.lake import open_lake
from musicstream.lock import run_lock

logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(message)s")
url, endpoint, lease_s, hold_s = sys.argv[1], sys.argv[2] or None, *map(float, sys.argv[3:])
with run_lock(open_lake(url, endpoint), lease_s=lease_s):
    print("held", flush=True)
    time.sleep(hold_s)
print("released", flush=True)
"""


def start_holder(
    url: str, endpoint: str | None, lease_s: float, hold_s: float
) -> subprocess.Popen[str]:
    """A run in another process that holds the lock for ``hold_s``; returns once it does."""
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, url, endpoint or "", str(lease_s), str(hold_s)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    if proc.stdout.readline() != "held\n":
        proc.kill()
        raise AssertionError(f"the holder did not get the lock: {proc.communicate()[1]}")
    return proc


def watch_renewals(url: str, endpoint: str | None, lake: Any) -> None:
    """A holder with a 2 s lease held 7 s: every attempt meanwhile is refused, the lease is
    renewed every third of it, and the holder releases cleanly."""
    from musicstream.lock import read_lock

    holder = start_holder(url, endpoint, lease_s=2, hold_s=7)
    leases = set()
    try:
        started = time.monotonic()
        while time.monotonic() - started < 6:  # three leases
            try:
                with run_lock(lake):
                    raise AssertionError("took a lock its holder renews")
            except LakeLocked:
                pass
            info = read_lock(lake)
            assert info is not None
            leases.add(info.lease_until)
            time.sleep(0.2)
    finally:
        out, err = holder.communicate(timeout=60)
    assert holder.returncode == 0 and out == "released\n" and err == "", err
    assert len(leases) >= 6  # renewed every third of a lease
