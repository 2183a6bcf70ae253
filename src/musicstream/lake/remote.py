"""A lake on an object store (S3; ``memory://`` in tests): objects are written whole, by upload.

There are no folders apart from the objects in them, nor renames: scratch space is a local
temporary folder, and an object's ETag tells its versions apart.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from typing import Any

from musicstream.lake.base import Lake, Listed
from musicstream.lake.scratch import scratch_name, sweep

SCRATCH_PREFIX = "musicstream-"  # scratch lives in the system's temporary folder


class RemoteLake(Lake):
    """A lake rooted at ``s3://bucket/prefix`` (or another fsspec filesystem's URL)."""

    is_local = False

    def _missing(self) -> None:
        """An object store has no empty folders: a prefix in an existing bucket is a new lake."""
        if not self.fs.exists(self.root.split("/", 1)[0]):
            super()._missing()

    def sweep_scratch(self) -> list[str]:
        return sweep(tempfile.gettempdir(), SCRATCH_PREFIX)

    @contextlib.contextmanager
    def staging(self) -> Iterator[str]:
        folder = tempfile.mkdtemp(prefix=f"{SCRATCH_PREFIX}{scratch_name()}")
        try:
            yield folder
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    def publish(self, local_path: str, rel: str) -> None:
        self.fs.put_file(local_path, self.path(rel))

    def publish_all(self, moves: Sequence[tuple[str, str]]) -> None:
        """One concurrent upload."""
        if moves:
            self.fs.put([local for local, _ in moves], [self.path(rel) for _, rel in moves])

    def makedirs(self, rel: str) -> None:
        pass  # a folder is there once an object is in it

    def version(self, rel: str) -> str | None:
        try:
            return _version(self.fs.info(self.path(rel)))
        except FileNotFoundError:
            return None

    def _listed(self, path: str, info: dict[str, Any]) -> Listed | None:
        size, mtime = int(info.get("size") or 0), _mtime(info)
        return Listed(self.relative(path), size, mtime, _version(info))


def _mtime(info: dict[str, Any]) -> float:
    value: Any = info.get("mtime", info.get("LastModified"))
    if hasattr(value, "timestamp"):
        return float(value.timestamp())
    return float(value or 0.0)


def _version(info: dict[str, Any]) -> str | None:
    """An object's ETag: it changes with the content. (Not the version id: a listing of a
    versioned bucket gives none, a HEAD does.)"""
    etag = info.get("ETag") or info.get("etag")
    return str(etag).strip('"') if etag else None
