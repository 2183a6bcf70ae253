"""The lock record, and the compare-and-swap store that holds it.

The record says who holds the lock (host, pid, started), until when (``lease_until``), and
names one acquisition with a random ``token``. A store changes it only by compare-and-swap
on its *version*: the change lands only if the record is still the one the writer read.
"""

from __future__ import annotations

import json
import socket
from dataclasses import asdict, dataclass, fields, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from musicstream.lake.scratch import pid_alive


@dataclass(frozen=True)
class LockInfo:
    """Who holds the lake's lock, and until when (ISO UTC) unless they renew it."""

    host: str
    pid: int
    started: str
    lease_until: str | None = None  # None: written by a version without leases
    token: str = ""  # one acquisition: our own write, retried, is recognised as ours


class Store(Protocol):
    """Where the record lives. A version is None when there is no record."""

    def read(self) -> tuple[bytes | None, str | None]: ...

    def swap(self, version: str | None, data: bytes) -> str | None:
        """Write ``data`` if the record is still at ``version``: the new version, else None."""
        ...

    def delete(self, version: str) -> bool: ...


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


def encode(me: LockInfo, lease_s: float) -> bytes:
    """Our record, with a lease of ``lease_s`` from now."""
    until = datetime.now(UTC) + timedelta(seconds=lease_s)
    return json.dumps(asdict(replace(me, lease_until=until.isoformat())), indent=1).encode()


def is_stale(holder: LockInfo) -> bool:
    """Its lease has run out, or its holder is a dead process on this host."""
    end = None if holder.lease_until is None else _lease_end(holder.lease_until)
    if end is not None and end <= datetime.now(UTC):
        return True
    return holder.host == socket.gethostname() and not pid_alive(holder.pid)


def ours(store: Store, me: LockInfo) -> str | None:
    """The record's version when it is ours (a write whose response was lost), else None."""
    data, version = store.read()
    holder = None if data is None else parse(data)
    return version if holder is not None and holder.token == me.token else None
