"""The run lock on a local lake (SPEC §4): one holder at a time, also when many runs find
the same stale lock at once; a lease its holder stops renewing lapses; garbage is no lock."""

from __future__ import annotations

import errno
import os
import signal
import socket
from datetime import UTC, datetime
from pathlib import Path

import pytest

from musicstream import lock
from musicstream.errors import LakeLocked
from musicstream.lake import Lake, open_lake
from musicstream.layout import LOCK
from musicstream.lock import LockInfo, read_lock, run_lock

from .lock_race import GARBAGE, race, record, start_holder, states, watch_renewals


@pytest.fixture
def root(tmp_path: Path) -> Path:
    (tmp_path / "lake" / "_state").mkdir(parents=True)
    return tmp_path / "lake"


@pytest.fixture
def lake(root: Path) -> Lake:
    return open_lake(str(root))


def put(root: Path, data: bytes | None) -> None:
    """Leave the lock file as a crashed run, an older version or a bad disk would."""
    path = root / LOCK
    if data is None:
        path.unlink(missing_ok=True)
    else:
        path.write_bytes(data)


def get(root: Path) -> bytes | None:
    path = root / LOCK
    return path.read_bytes() if path.exists() else None


@pytest.mark.parametrize(
    ("kind", "rounds"), [("dead", 300), ("live", 40), ("expired", 120), ("garbage", 120)]
)
def test_runs_released_at_once_never_both_hold_the_lock(
    root: Path, tmp_path: Path, kind: str, rounds: int
) -> None:
    race(
        str(root),
        None,
        states(kind, rounds),
        write=lambda data: put(root, data),
        read=lambda: get(root),
        log=tmp_path / "events.jsonl",
    )


@pytest.mark.parametrize("data", [d for d in GARBAGE if d is not None])
def test_garbage_is_no_lock_and_is_taken_over(root: Path, lake: Lake, data: bytes) -> None:
    put(root, data)
    assert read_lock(lake) is None
    with run_lock(lake) as me:
        info = read_lock(lake)
        assert info is not None and info.token == me.token
        assert info == lock.parse(get(root) or b"")
    assert get(root) is None


def test_old_lock_of_another_host_without_a_lease_is_kept(root: Path, lake: Lake) -> None:
    put(root, record("elsewhere", 1, None))
    with pytest.raises(LakeLocked, match="pid 1 on elsewhere"), run_lock(lake):
        pass
    assert read_lock(lake) == LockInfo("elsewhere", 1, "2026-01-01T00:00:00+00:00")
    assert vars(read_lock(lake)).keys() >= {"host", "pid", "started"}  # what `status` shows


def test_a_full_disk_leaves_no_lock_behind(
    root: Path, lake: Lake, monkeypatch: pytest.MonkeyPatch
) -> None:
    def full(fd: int, data: bytes, offset: int) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(lock.os, "pwrite", full)
    with pytest.raises(OSError, match="No space left"), run_lock(lake):
        pass
    assert get(root) is None
    monkeypatch.undo()
    with run_lock(lake):
        assert read_lock(lake) is not None


def test_holder_that_renews_keeps_the_lock_over_several_leases(root: Path, lake: Lake) -> None:
    watch_renewals(str(root), None, lake)
    assert get(root) is None


def test_frozen_holder_is_taken_over_after_its_lease_and_cannot_undo_that(
    root: Path, lake: Lake
) -> None:
    """Same host, pid alive, but the lease ran out: SPEC §4 "a lease its holder stopped
    renewing". Woken up, the old holder must not remove the new holder's lock."""
    holder = start_holder(str(root), None, lease_s=1, hold_s=1.5)
    os.kill(holder.pid, signal.SIGSTOP)
    try:
        frozen = read_lock(lake)
        assert frozen is not None and frozen.host == socket.gethostname()
        with run_lock(lake, timeout_s=20, poll_s=0.05) as me:
            assert datetime.now(UTC) >= datetime.fromisoformat(frozen.lease_until or "")
            os.kill(holder.pid, signal.SIGCONT)
            out, err = holder.communicate(timeout=60)
            info = read_lock(lake)
            assert info is not None and info.token == me.token
    finally:
        if holder.poll() is None:
            os.kill(holder.pid, signal.SIGCONT)
    assert holder.returncode == 0 and out == "released\n", err
    assert "taken over or removed while this run held it" in err and "Traceback" not in err
    assert get(root) is None
