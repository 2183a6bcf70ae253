"""The lake's run lock: one run writes at a time, on a local folder or on S3 (SPEC §4).

The lock is one small JSON record, ``_state/lock.json``: who holds it (host, pid, started),
until when (``lease_until``), and a random ``token`` naming one acquisition. Every change to
it is a compare-and-swap on the record's *version*: it lands only if the record is still the
one the writer read. So judging a lock stale and taking it over is one atomic step: of two
runs that find the same stale lock, one swap lands; the other sees a changed version, reads
again and finds a live holder (one clear ``LakeLocked`` line, or a wait).

- Local lake: the version is a digest of the file's bytes. A swap reads, compares and writes
  while holding ``flock`` on the lock file itself, re-checked to be the inode still at the
  path (a release unlinks it). The flock lasts one read and one write, never the run, and
  the kernel drops it when its process dies. NFS emulates flock with byte-range locks,
  hence the read-write open. Readers take it shared, so never see half a record. A crash
  or a full disk mid-write leaves an empty or cut-short file, which is no lock (and a
  failed write removes it).
- S3 lake: the version is the object's ETag. Create is a PUT with ``If-None-Match: *``,
  take-over and renewal a PUT with ``If-Match: <etag>``, release a DELETE with ``If-Match``.
  S3 evaluates each condition atomically (412 when it fails, 409 when a concurrent
  conditional write wins, 404 when the object went). Tokens make every record's bytes, so
  its ETag, unique: an old ETag never matches a newer record.

Not chosen: a flock held for the whole run cannot lapse, so a frozen holder would keep the
lake forever, and S3 needs compare-and-swap anyway; one algorithm serves both. Rename-based
take-over cannot compare: a late taker's rename moves away the lock a faster one just made.

A lock is stale when its file is empty or not a lock record, when its lease has run out, or
when its holder is a dead process on this host. The holder renews the lease every third of
``lease_s`` from a daemon thread, so one that stops renewing (its host died, it froze) loses
the lock after ``lease_s``, wherever it runs. Hosts' clocks must agree to well within a
lease. A record without a lease (from an older version) of another host is never broken
automatically: ``musicstream unlock`` does that, deliberately.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, fields, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from fsspec.asyn import sync

from musicstream.errors import LakeLocked, UserError
from musicstream.lake import Lake

LOCK = "_state/lock.json"
LEASE_S = 120.0  # the default of Settings.lock_lease_s
_MAX_RECORD = 1 << 16
# A condition that did not hold: someone else changed the lock first.
_CONFLICTS = {"PreconditionFailed", "ConditionalRequestConflict", "NoSuchKey", "404", "409", "412"}

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LockInfo:
    """Who holds the lake's lock, and until when (ISO UTC) unless they renew it."""

    host: str
    pid: int
    started: str
    lease_until: str | None = None  # None: written by a version without leases
    token: str = ""  # one acquisition: our own write, retried, is recognised as ours


class _Store(Protocol):
    """Where the record lives. A version is None when there is no record."""

    def read(self) -> tuple[bytes | None, str | None]: ...

    def swap(self, version: str | None, data: bytes) -> str | None:
        """Write ``data`` if the record is still at ``version``: the new version, else None."""
        ...

    def delete(self, version: str) -> bool: ...


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
    lease = _Lease(store, me, version, lease_s)
    try:
        yield me
    finally:
        lease.stop()
        _release(store, me, lease.version)


def read_lock(lake: Lake) -> LockInfo | None:
    """The recorded holder, or None when there is no lock or it is not a readable record."""
    data, _ = _store(lake).read()
    return None if data is None else parse(data)


def parse(data: bytes) -> LockInfo | None:
    """The record in ``data``; None when it is empty, cut short or not a lock record."""
    try:
        obj = json.loads(data)
        info = LockInfo(**{f.name: obj[f.name] for f in fields(LockInfo) if f.name in obj})
    except (ValueError, TypeError, KeyError):
        return None
    return info if _valid(info) else None


def _valid(info: LockInfo) -> bool:
    texts = (info.host, info.started, info.token)
    if not all(isinstance(t, str) for t in texts) or type(info.pid) is not int or info.pid < 1:
        return False
    return info.lease_until is None or _lease_end(info.lease_until) is not None


def _lease_end(text: Any) -> datetime | None:
    try:
        end = datetime.fromisoformat(text)
    except (TypeError, ValueError):
        return None
    return end if end.tzinfo is not None else None


def _acquire(
    lake: Lake, store: _Store, me: LockInfo, timeout_s: float, poll_s: float, lease_s: float
) -> str:
    """Take the lock when it is free or stale; wait for a live holder until the deadline."""
    deadline = time.monotonic() + timeout_s
    while True:
        data, version = store.read()
        holder = None if data is None else parse(data)
        if holder is not None and holder.token == me.token and version is not None:
            return version  # our write landed, its response was lost, and a retry failed
        if holder is None or _is_stale(holder):
            new = store.swap(version, _encode(me, lease_s))
            if new is not None:
                return new
            continue  # another run changed the lock first: look again
        if time.monotonic() >= deadline:
            raise LakeLocked(_locked_message(lake, holder))
        time.sleep(poll_s)


def _is_stale(holder: LockInfo) -> bool:
    end = None if holder.lease_until is None else _lease_end(holder.lease_until)
    if end is not None and end <= datetime.now(UTC):
        return True
    return holder.host == socket.gethostname() and not _alive(holder.pid)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # another user's process
    return True


def _encode(me: LockInfo, lease_s: float) -> bytes:
    until = datetime.now(UTC) + timedelta(seconds=lease_s)
    return json.dumps(asdict(replace(me, lease_until=until.isoformat())), indent=1).encode()


def _ours(store: _Store, me: LockInfo) -> str | None:
    """The record's version when it is ours (a write whose response was lost), else None."""
    data, version = store.read()
    holder = None if data is None else parse(data)
    return version if holder is not None and holder.token == me.token else None


def _release(store: _Store, me: LockInfo, version: str) -> None:
    if store.delete(version):
        return
    current = _ours(store, me)
    if current is not None and store.delete(current):
        return
    log.error(
        "the lake's lock was taken over or removed while this run held it "
        "(its lease lapsed, or `musicstream unlock`); another run may have written meanwhile"
    )


class _Lease:
    """Renews the lock every third of its lease from a daemon thread, until :meth:`stop`.

    A renewal that finds the lock no longer ours only logs an error: a thread cannot stop the
    run safely in the middle of its writes, so the run carries on, unprotected.
    """

    def __init__(self, store: _Store, me: LockInfo, version: str, lease_s: float) -> None:
        self.store, self.me, self.version, self.lease_s = store, me, version, lease_s
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="lock-lease", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopped.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stopped.wait(self.lease_s / 3):
            try:
                if not self._renew():
                    return
            except Exception:
                log.warning("could not renew the lake's lock; trying again", exc_info=True)

    def _renew(self) -> bool:
        new = self.store.swap(self.version, _encode(self.me, self.lease_s))
        if new is None:
            new = _ours(self.store, self.me)
        if new is None:
            log.error(
                "lost the lake's lock (taken over after this run's lease lapsed, or removed "
                "by `musicstream unlock`); this run carries on unprotected: a thread cannot "
                "stop it safely"
            )
            return False
        self.version = new
        return True


def _locked_message(lake: Lake, holder: LockInfo) -> str:
    lease = f", lease until {holder.lease_until}" if holder.lease_until else ""
    return (
        f"lake {lake.url} is locked by pid {holder.pid} on {holder.host} since "
        f"{holder.started}{lease}; wait for it to finish "
        "(or `musicstream unlock` if that run is dead)"
    )


def _store(lake: Lake) -> _Store:
    if lake.is_local:
        return _LocalStore(lake)
    if lake.protocol in ("s3", "s3a"):
        return _S3Store(lake)
    raise UserError(f"lake {lake.url}: the run lock supports local folders and s3:// only")


class _LocalStore:
    """The record as a file; each step holds ``flock`` on it (see the module docstring)."""

    def __init__(self, lake: Lake) -> None:
        self.path = lake.path(LOCK)

    def read(self) -> tuple[bytes | None, str | None]:
        with self._locked(os.O_RDONLY, fcntl.LOCK_SH) as fd:
            data = b"" if fd is None else os.pread(fd, _MAX_RECORD, 0)
        return (data, _digest(data)) if data else (None, None)

    def swap(self, version: str | None, data: bytes) -> str | None:
        os.makedirs(os.path.dirname(self.path), exist_ok=True)
        with self._locked(os.O_RDWR | os.O_CREAT, fcntl.LOCK_EX) as fd:
            assert fd is not None  # O_CREAT
            current = os.pread(fd, _MAX_RECORD, 0)
            if (_digest(current) if current else None) != version:
                if not current:
                    os.unlink(self.path)  # the empty file our open just created
                return None
            self._write(fd, data)
        return _digest(data)

    def delete(self, version: str) -> bool:
        with self._locked(os.O_RDWR, fcntl.LOCK_EX) as fd:
            if fd is None or _digest(os.pread(fd, _MAX_RECORD, 0)) != version:
                return False
            os.unlink(self.path)
        return True

    def _write(self, fd: int, data: bytes) -> None:
        try:
            if os.pwrite(fd, data, 0) != len(data):
                raise OSError(f"short write to {self.path} (disk full?)")
            os.ftruncate(fd, len(data))
        except OSError:
            os.unlink(self.path)  # no half-written lock left to block later runs
            raise

    @contextmanager
    def _locked(self, flags: int, how: int) -> Iterator[int | None]:
        """The lock file open and flock'ed, or None when it does not exist (no O_CREAT)."""
        while True:
            try:
                fd = os.open(self.path, flags, 0o644)
            except FileNotFoundError:
                yield None
                return
            fcntl.flock(fd, how)  # held only for a read and a write, so waiting is short
            if _is_at(fd, self.path):
                break
            os.close(fd)  # a release unlinked it while we waited: open the new one
        try:
            yield fd
        finally:
            os.close(fd)


def _is_at(fd: int, path: str) -> bool:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return False
    fst = os.fstat(fd)
    return (st.st_dev, st.st_ino) == (fst.st_dev, fst.st_ino)


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class _S3Store:
    """The record as an object; conditional requests make each change atomic."""

    def __init__(self, lake: Lake) -> None:
        self.fs = lake.fs
        self.bucket, self.key, _ = lake.fs.split_path(lake.path(LOCK))
        put = self.fs.s3.meta.service_model.operation_model("PutObject").input_shape
        if "IfMatch" not in put.members:  # s3fs drops unknown arguments: it would not be atomic
            raise UserError("the run lock on S3 needs a botocore that sends If-Match; upgrade it")

    def read(self) -> tuple[bytes | None, str | None]:
        try:
            data, etag = sync(self.fs.loop, self._get)
        except FileNotFoundError:
            return None, None
        return bytes(data), str(etag)

    async def _get(self) -> tuple[bytes, str]:
        """Body and ETag of one GET: the two always belong together."""
        resp = await self.fs._call_s3("get_object", Bucket=self.bucket, Key=self.key)
        try:
            return await resp["Body"].read(), resp["ETag"]
        finally:
            resp["Body"].close()

    def swap(self, version: str | None, data: bytes) -> str | None:
        cond = {"IfNoneMatch": "*"} if version is None else {"IfMatch": version}
        try:
            resp = self.fs.call_s3(
                "put_object", Bucket=self.bucket, Key=self.key, Body=data, **cond
            )
        except OSError as exc:
            if _conflict(exc):
                return None
            raise
        return str(resp["ETag"])

    def delete(self, version: str) -> bool:
        try:
            self.fs.call_s3("delete_object", Bucket=self.bucket, Key=self.key, IfMatch=version)
        except OSError as exc:
            if _conflict(exc):
                return False
            raise
        return True


def _conflict(exc: OSError) -> bool:
    """s3fs turns a failed condition into FileExistsError, FileNotFoundError or OSError."""
    if isinstance(exc, FileExistsError | FileNotFoundError):
        return True
    response = getattr(exc.__cause__, "response", None) or {}
    return response.get("Error", {}).get("Code") in _CONFLICTS
