"""Run one measured command as a child process: wall time, CPU time and peak RSS of its tree.

Peak RSS is the largest sum of the resident sets of the child and all its descendants seen
while polling (a JVM and its Python workers count together), each address space once (see
:func:`shares_memory`); not ``ru_maxrss``, which for a forked child starts at the parent's
size. CPU time is user + sys: the larger
of ``wait4``'s (the child and the descendants it waited for) and the sum of the last value
polled for every process of the tree (which also sees a JVM nobody waits for).
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import platform
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import psutil

POLL_S = 0.05
TAIL_LINES = 6
# kcmp(2), which psutil does not offer: its number per machine, and KCMP_VM.
_KCMP = {"x86_64": 312, "aarch64": 272}.get(platform.machine()) if os.name == "posix" else None
_KCMP_VM = 1
_LIBC = ctypes.CDLL(None, use_errno=True) if _KCMP is not None else None


@dataclass(frozen=True)
class Measurement:
    """What one child process cost, and whether it worked."""

    wall_s: float
    cpu_s: float
    peak_rss_bytes: int
    returncode: int
    load_before: float
    load_after: float
    log: Path
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def peak_rss_gb(self) -> float:
        return self.peak_rss_bytes / 1e9


def run(
    cmd: Sequence[str],
    log: Path,
    *,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    timeout_s: float = 7200.0,
) -> Measurement:
    """Run ``cmd`` to completion (stdout and stderr into ``log``) and measure it."""
    log.parent.mkdir(parents=True, exist_ok=True)
    load_before = os.getloadavg()[0]
    with log.open("wb") as out:
        out.write(("$ " + " ".join(cmd) + "\n").encode())
        out.flush()
        started = time.perf_counter()
        child = subprocess.Popen(
            list(cmd),
            cwd=cwd,
            env={**os.environ, **(env or {})},
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: a timeout kills the whole tree
        )
        status, usage, tree = _wait(child.pid, started + timeout_s)
        wall = time.perf_counter() - started
    child.returncode = _returncode(status)  # reaped by wait4: keep Popen from waiting again
    error = _error(child.returncode, log, timed_out=status is None, timeout_s=timeout_s)
    return Measurement(
        wall_s=wall,
        cpu_s=max(usage.ru_utime + usage.ru_stime, tree.cpu_s),
        peak_rss_bytes=tree.peak_rss,
        returncode=child.returncode,
        load_before=load_before,
        load_after=os.getloadavg()[0],
        log=log,
        error=error,
    )


def _wait(pid: int, deadline: float) -> tuple[int | None, os.struct_rusage, _Tree]:
    """Poll the tree until ``pid`` exits (or the deadline kills it); reap it with wait4."""
    tree = _Tree(psutil.Process(pid))
    while True:
        tree.poll()
        done, status, usage = os.wait4(pid, os.WNOHANG)
        if done:
            _end_group(pid, signal.SIGTERM)  # leftovers (a JVM) must not run into the next case
            return status, usage, tree
        if time.perf_counter() > deadline:
            _end_group(pid, signal.SIGKILL)
            _, _, usage = os.wait4(pid, 0)
            return None, usage, tree
        time.sleep(POLL_S)


class _Tree:
    """The child and its descendants, polled: peak total RSS, last CPU time seen per process.

    ``wait4`` only counts descendants their parent waited for; a JVM that pyspark leaves to
    die is only seen here.
    """

    def __init__(self, root: psutil.Process) -> None:
        self.root = root
        self.peak_rss = 0
        self.cpu: dict[tuple[int, float], float] = {}

    def poll(self) -> None:
        try:
            procs = [self.root, *self.root.children(recursive=True)]
        except psutil.Error:
            return
        rss = 0
        for proc in procs:
            try:
                with proc.oneshot():
                    if proc is self.root or not shares_memory(proc.pid, proc.ppid()):
                        rss += proc.memory_info().rss
                    times = proc.cpu_times()
                    key = (proc.pid, proc.create_time())
            except psutil.Error:
                continue  # exited between listing and reading
            self.cpu[key] = times.user + times.system
        self.peak_rss = max(self.peak_rss, rss)

    @property
    def cpu_s(self) -> float:
        return sum(self.cpu.values())


def shares_memory(pid: int, other: int) -> bool:
    """Whether two processes share one address space: a child ``vfork()``ed and not yet
    exec'd shows its parent's whole resident set as its own, and must not count twice.
    The JVM starts a process so for each ``chmod`` of Hadoop's local file system (through
    ``jspawnhelper``): counted twice, those moments took the Spark case's peak from 3.5 GB
    to 6.1 GB. False where kcmp(2) is not there (not Linux) or refuses."""
    if _LIBC is None:
        return False
    return bool(_LIBC.syscall(_KCMP, pid, other, _KCMP_VM, 0, 0) == 0)


def _end_group(pid: int, sig: signal.Signals) -> None:
    """Signal what is left of the child's process group (it has a session of its own)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)


def _returncode(status: int | None) -> int:
    if status is None:
        return -int(signal.SIGKILL)
    return os.waitstatus_to_exitcode(status)


def _error(code: int, log: Path, *, timed_out: bool, timeout_s: float) -> str | None:
    """None on success, else a one-paragraph reason: the exit and the log's last lines."""
    if code == 0 and not timed_out:
        return None
    lines = [ln for ln in log.read_text(errors="replace").splitlines() if ln.strip()]
    tail = " | ".join(ln.strip() for ln in lines[-TAIL_LINES:])
    what = f"timed out after {timeout_s:.0f}s" if timed_out else f"exit {code}"
    return f"{what}: {tail}" if tail else what
