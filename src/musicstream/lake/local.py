"""A lake in a folder of this machine: renames are atomic, and a file's inode tells versions apart.

So a write lands whole by a rename from scratch space inside the lake, a planned landing file
is staged (copied) at planning, and archiving moves that copy by a rename.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import posixpath
import shutil
import stat
from collections.abc import Iterator, Sequence
from typing import Any, BinaryIO

from musicstream import layout
from musicstream.errors import DiskError, UserError
from musicstream.lake.base import CHUNK, Lake, Listed
from musicstream.lake.scratch import scratch_name, sweep


class LocalLake(Lake):
    """A lake rooted at a local folder (a plain path or ``file://…``)."""

    is_local = True

    def _missing(self) -> None:
        if os.path.exists(self.root):
            raise UserError(f"lake {self.url} is a file, not a lake folder")
        super()._missing()

    def require_writable(self) -> None:
        """:meth:`require`, and that this process may write its state there.

        Checked before a run takes the lock, so a read-only lake (permissions, a read-only
        mount) is one clear line instead of a failure half way through a batch.
        """
        self.require()
        for rel in ("", layout.STATE, layout.BATCHES):
            path = self.path(rel)
            if os.path.isdir(path) and not os.access(path, os.W_OK | os.X_OK):
                raise UserError(f"lake {self.url} is not writable ({path}): check its permissions")

    @contextlib.contextmanager
    def staging(self) -> Iterator[str]:
        """A scratch folder inside the lake, so that :meth:`publish` is an atomic rename."""
        folder = self.path(layout.tmp(scratch_name()))
        os.makedirs(folder)
        try:
            yield folder
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    def sweep_scratch(self) -> list[str]:
        """Also the partial copies a killed planning left in ``_state/staged/`` (only the
        lock's holder stages files, and it is the caller)."""
        removed = sweep(self.path(layout.TMP))
        for part in self.fs.glob(self.path(layout.staged("*.part"))):
            with contextlib.suppress(FileNotFoundError):
                os.remove(part)
            removed.append(part)
        return removed

    def publish(self, local_path: str, rel: str) -> None:
        self.makedirs(posixpath.dirname(rel))
        os.replace(local_path, self.path(rel))

    def publish_all(self, moves: Sequence[tuple[str, str]]) -> None:
        for local, rel in moves:
            self.publish(local, rel)

    def makedirs(self, rel: str) -> None:
        self.fs.makedirs(self.path(rel), exist_ok=True)

    def version(self, rel: str) -> str | None:
        st = _stat(self.path(rel))
        return None if st is None else _version(st)

    def _listed(self, path: str, info: dict[str, Any]) -> Listed | None:
        st = _stat(path)
        if st is None:
            return None  # gone since the listing
        return Listed(self.relative(path), st.st_size, st.st_mtime, _version(st))

    def stage(self, rel: str, staged: str) -> tuple[str, int, str | None] | None:
        """Copy ``rel`` to ``staged``: the copy's SHA-256, size, and the version of ``rel``
        it was copied from.

        The copy is what the batch processes, whatever happens to ``rel`` afterwards. None
        when ``rel`` changed while it was copied: it is still being written.
        """
        if not stat.S_ISREG(os.stat(self.path(rel)).st_mode):  # a pipe would block forever
            raise OSError(f"{rel} is not a regular file")
        before = self.version(rel)
        digest, size = hashlib.sha256(), 0
        tmp = self.path(f"{staged}.part")
        self.makedirs(posixpath.dirname(staged))
        try:
            with open(self.path(rel), "rb") as src, _writing(tmp) as out:
                while chunk := src.read(CHUNK):
                    digest.update(chunk)
                    _write(out, chunk, tmp)
                    size += len(chunk)
        except BaseException:
            with contextlib.suppress(OSError):
                os.remove(tmp)
            raise
        if self.version(rel) != before:
            os.remove(tmp)
            return None
        os.replace(tmp, self.path(staged))
        return digest.hexdigest(), size, before

    def rename(self, src: str, dst: str) -> None:
        """Move ``src`` to ``dst``, atomically; done if already moved."""
        if not os.path.lexists(self.path(src)) and os.path.lexists(self.path(dst)):
            return
        self.makedirs(posixpath.dirname(dst))
        os.replace(self.path(src), self.path(dst))


@contextlib.contextmanager
def _writing(path: str) -> Iterator[BinaryIO]:
    """``path`` open for writing; failing to write it is this machine's error (DiskError),
    never the source file's (planning quarantines unreadable sources)."""
    try:
        out = open(path, "wb")  # noqa: SIM115 - closed below, its errors told apart
    except OSError as exc:
        raise DiskError(f"cannot write {path}: {exc.strerror or exc}") from exc
    try:
        yield out
    finally:
        try:
            out.close()
        except OSError as exc:
            raise DiskError(f"cannot write {path}: {exc.strerror or exc}") from exc


def _write(out: BinaryIO, data: bytes, path: str) -> None:
    try:
        out.write(data)
    except OSError as exc:
        raise DiskError(f"cannot write {path}: {exc.strerror or exc}") from exc


def _stat(path: str) -> os.stat_result | None:
    """The file's stat, or its link's when the link dangles; None when neither exists."""
    try:
        return os.stat(path)
    except FileNotFoundError:
        try:
            return os.lstat(path)
        except FileNotFoundError:
            return None


def _version(st: os.stat_result) -> str:
    return f"{st.st_size}:{st.st_mtime_ns}:{st.st_ino}"
