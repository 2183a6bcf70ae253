"""The lock record as a file of a local lake.

The version is a digest of the file's bytes. A swap reads, compares and writes while holding
``flock`` on the lock file itself, re-checked to be the inode still at the path (a release
unlinks it). The flock lasts one read and one write, never the run, and the kernel drops it
when its process dies. NFS emulates flock with byte-range locks, hence the read-write open.
Readers take it shared, so never see half a record. A crash or a full disk mid-write leaves
an empty or cut-short file, which is no lock (and a failed write removes it).
"""

from __future__ import annotations

import fcntl
import hashlib
import os
from collections.abc import Iterator
from contextlib import contextmanager

from musicstream import layout
from musicstream.lake import Lake

_MAX_RECORD = 1 << 16


class LocalStore:
    """The record as a file; each step holds ``flock`` on it."""

    def __init__(self, lake: Lake) -> None:
        self.path = lake.path(layout.LOCK)

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
