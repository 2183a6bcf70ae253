"""The lake's run lock: one run writes at a time, on a local folder or on S3 (SPEC §4).

The lock is one small JSON record, ``_state/lock.json`` (record.py): who holds it (host, pid,
started), until when (``lease_until``), and a random ``token`` naming one acquisition. Every
change to it is a compare-and-swap on the record's *version*: it lands only if the record is
still the one the writer read. So judging a lock stale and taking it over is one atomic step:
of two runs that find the same stale lock, one swap lands; the other sees a changed version,
reads again and finds a live holder (one clear ``LakeLocked`` line, or a wait). A local lake
keeps the record as a file under ``flock`` (local.py), an S3 lake as an object changed by
conditional requests (s3.py).

Not chosen: a flock held for the whole run cannot lapse, so a frozen holder would keep the
lake forever, and S3 needs compare-and-swap anyway; one algorithm serves both. Rename-based
take-over cannot compare: a late taker's rename moves away the lock a faster one just made.

A lock is stale when its file is empty or not a lock record, when its lease has run out, or
when its holder is a dead process on this host. The holder renews the lease every third of
``lease_s`` from a daemon thread (lease.py), so one that stops renewing (its host died, it
froze) loses the lock after ``lease_s``, wherever it runs. Hosts' clocks must agree to well
within a lease. A record without a lease (from an older version) of another host is never
broken automatically: ``musicstream unlock`` does that, deliberately.
"""

from __future__ import annotations

import logging
import os
import socket
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from musicstream.errors import LakeLocked, UserError
from musicstream.lake import Lake
from musicstream.lock.lease import Lease
from musicstream.lock.local import LocalStore
from musicstream.lock.record import LockInfo, Store, encode, is_stale, ours, parse
from musicstream.lock.s3 import S3Store

__all__ = ["LEASE_S", "LockInfo", "parse", "read_lock", "run_lock"]

LEASE_S = 120.0  # the default of Settings.lock_lease_s

log = logging.getLogger(__name__)


@contextmanager
def run_lock(
    lake: Lake, timeout_s: float = 0.0, poll_s: float = 0.5, lease_s: float = LEASE_S
) -> Iterator[LockInfo]:
    """Hold the lake's run lock; a second run waits up to ``timeout_s``, then fails clearly.

    A stale lock is taken over by one run only; the lease is renewed until the block ends.
    """
    store = _store(lake)
    started = datetime.now(UTC).isoformat()
    me = LockInfo(socket.gethostname(), os.getpid(), started, token=uuid.uuid4().hex)
    version = _acquire(lake, store, me, timeout_s, poll_s, lease_s)
    lease = Lease(store, me, version, lease_s)
    try:
        yield me
    finally:
        lease.stop()
        _release(store, me, lease.version)


def read_lock(lake: Lake) -> LockInfo | None:
    """The recorded holder, or None when there is no lock or it is not a readable record."""
    data, _ = _store(lake).read()
    return None if data is None else parse(data)


def _acquire(
    lake: Lake, store: Store, me: LockInfo, timeout_s: float, poll_s: float, lease_s: float
) -> str:
    """Take the lock when it is free or stale; wait for a live holder until the deadline."""
    deadline = time.monotonic() + timeout_s
    while True:
        data, version = store.read()
        holder = None if data is None else parse(data)
        if holder is not None and holder.token == me.token and version is not None:
            return version  # our write landed, its response was lost, and a retry failed
        if holder is None or is_stale(holder):
            new = store.swap(version, encode(me, lease_s))
            if new is not None:
                return new
            continue  # another run changed the lock first: look again
        if time.monotonic() >= deadline:
            raise LakeLocked(_locked_message(lake, holder))
        time.sleep(poll_s)


def _release(store: Store, me: LockInfo, version: str) -> None:
    if store.delete(version):
        return
    current = ours(store, me)
    if current is not None and store.delete(current):
        return
    log.error(
        "the lake's lock was taken over or removed while this run held it "
        "(its lease lapsed, or `musicstream unlock`); another run may have written meanwhile"
    )


def _locked_message(lake: Lake, holder: LockInfo) -> str:
    lease = f", lease until {holder.lease_until}" if holder.lease_until else ""
    return (
        f"lake {lake.url} is locked by pid {holder.pid} on {holder.host} since "
        f"{holder.started}{lease}; wait for it to finish "
        "(or `musicstream unlock` if that run is dead)"
    )


def _store(lake: Lake) -> Store:
    if lake.is_local:
        return LocalStore(lake)
    if lake.protocol in ("s3", "s3a"):
        return S3Store(lake)
    raise UserError(f"lake {lake.url}: the run lock supports local folders and s3:// only")
