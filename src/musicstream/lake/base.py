"""What every lake does the same way through fsspec, and what each kind must provide.

``open_lake(url)`` gives the kind that fits the URL: a
:class:`~musicstream.lake.local.LocalLake` for a folder on this machine, else a
:class:`~musicstream.lake.remote.RemoteLake`.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import posixpath
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import fsspec

from musicstream.errors import DiskError, UserError
from musicstream.schema import arrow_source

if TYPE_CHECKING:
    import pyarrow.parquet as pq

CHUNK = 8 << 20


@dataclass(frozen=True)
class Listed:
    """A file found in the lake: path, size, modification time, and version."""

    path: str
    size: int
    mtime: float  # seconds since the epoch: when it landed (local mtime, S3 LastModified)
    version: str | None  # local: size, mtime and inode; S3: the ETag (and version id)


class Lake:
    """A lake rooted at ``url``; all paths given to its methods are relative to the root."""

    is_local: ClassVar[bool]

    def __init__(self, url: str, **storage_options: Any) -> None:
        self.url = url.rstrip("/")
        self.fs, root = fsspec.core.url_to_fs(self.url, **storage_options)
        self.root = root.rstrip("/")
        self.protocol = _protocol(self.fs)

    def __repr__(self) -> str:
        return f"Lake({self.url!r})"

    def path(self, rel: str) -> str:
        """Filesystem path of ``rel``."""
        return posixpath.join(self.root, rel) if rel else self.root

    def uri(self, rel: str) -> str:
        """Where an engine reads/writes ``rel``: a local path, or ``protocol://path``."""
        if self.is_local:
            return self.path(rel)
        return f"{self.protocol}://{self.path(rel)}"

    def relative(self, path: str) -> str:
        """Inverse of :meth:`path` for paths the filesystem returns."""
        path = self.fs._strip_protocol(path)
        return posixpath.relpath(path, self.root)

    def require(self) -> None:
        """Fail with one clear line when the lake does not exist, or is a file."""
        if not self.fs.isdir(self.root):
            self._missing()

    def _missing(self) -> None:
        """The root is no folder: fail, unless that can be a new lake."""
        raise UserError(f"lake not found: {self.url} (create it, or run `musicstream demo`)")

    def require_writable(self) -> None:
        """:meth:`require`; a local lake also checks that this process may write its state
        (S3 permissions show only on the first write)."""
        self.require()

    def exists(self, rel: str) -> bool:
        return bool(self.fs.exists(self.path(rel)))

    def files(self, rel: str) -> list[str]:
        """All files below ``rel``, recursively, as sorted lake-relative paths."""
        base = self.path(rel)
        if not self.fs.isdir(base):
            return []
        found = self.fs.find(base, withdirs=False)
        return sorted(self.relative(p) for p in found)

    def read_bytes(self, rel: str) -> bytes:
        return bytes(self.fs.cat_file(self.path(rel)))

    def parquet(self, rel: str) -> pq.ParquetFile:
        """A Parquet file of the lake, read whole in one GET (FileNotFoundError without one),
        from Arrow's own memory (``arrow_source``). ``ParquetFile``, not ``pq.read_table``:
        that imports pandas (~2 s per process)."""
        import pyarrow.parquet as pq

        return pq.ParquetFile(arrow_source(self.read_bytes(rel)))

    def read_json(self, rel: str) -> Any:
        return json.loads(self.read_bytes(rel))

    def write_bytes(self, rel: str, data: bytes) -> None:
        """Write ``data`` so that readers see the old file or the new one, never a part."""
        with self.staging() as tmp:
            local = os.path.join(tmp, "part")
            try:
                with open(local, "wb") as fh:
                    fh.write(data)
            except OSError as exc:  # this machine's disk, not the data
                raise DiskError(f"cannot write {self.uri(rel)}: {exc.strerror or exc}") from exc
            self.publish(local, rel)

    def write_json(self, rel: str, obj: Any) -> None:
        self.write_bytes(rel, json.dumps(obj, indent=1, sort_keys=True, default=str).encode())

    def staging(self) -> contextlib.AbstractContextManager[str]:
        """A local scratch folder for engine output, removed afterwards."""
        raise NotImplementedError

    def sweep_scratch(self) -> list[str]:
        """Remove the scratch folders killed runs left behind (lake/scratch.py)."""
        raise NotImplementedError

    def publish(self, local_path: str, rel: str) -> None:
        """Move a finished local file to ``rel``, replacing what was there atomically."""
        raise NotImplementedError

    def publish_all(self, moves: Sequence[tuple[str, str]]) -> None:
        """:meth:`publish` each (local file, rel)."""
        raise NotImplementedError

    def makedirs(self, rel: str) -> None:
        """Make the folder ``rel`` where folders exist apart from their files."""
        raise NotImplementedError

    def version(self, rel: str) -> str | None:
        """What changes whenever ``rel``'s content may have: None when it is gone."""
        raise NotImplementedError

    def fetch(self, rels: Sequence[str], folder: str) -> list[str]:
        """Download ``rels`` (concurrently) to the same relative paths under local ``folder``.

        Keeping the layout keeps what readers infer from paths: ``.csv.gz`` compression,
        ``report_date=…`` hive partitions.
        """
        local = [os.path.join(folder, *rel.split("/")) for rel in rels]
        for parent in {os.path.dirname(p) for p in local}:
            os.makedirs(parent, exist_ok=True)
        if rels:
            self.fs.get([self.path(r) for r in rels], local)
        return local

    def remove(self, rel: str, recursive: bool = False) -> None:
        """Remove a file or folder; a missing one is not an error (steps are retried)."""
        path = self.path(rel)
        if self.fs.exists(path):
            self.fs.rm(path, recursive=recursive)

    def sha256(self, rel: str) -> str:
        digest = hashlib.sha256()
        with self.fs.open(self.path(rel), "rb") as fh:
            while chunk := fh.read(CHUNK):
                digest.update(chunk)
        return digest.hexdigest()

    def size(self, rel: str) -> int:
        return int(self.fs.size(self.path(rel)))

    def move(self, src: str, dst: str) -> None:
        """Copy, verify the copy's size, then delete the source: never lose a file.

        Idempotent: when ``src`` is gone and ``dst`` exists, the move already happened.
        """
        src_path, dst_path = self.path(src), self.path(dst)
        if not self.fs.exists(src_path):
            if self.fs.exists(dst_path):
                return
            raise FileNotFoundError(src_path)
        self.makedirs(posixpath.dirname(dst))
        self.fs.copy(src_path, dst_path)
        if self.fs.size(dst_path) != self.fs.size(src_path):
            raise OSError(f"archive copy of {src} is incomplete; source kept")
        self.fs.rm(src_path)

    def listing(self, rel: str) -> list[Listed]:
        """Files below ``rel`` with what planning needs to know of each, sorted by path.

        A dangling link or an unreadable file is listed too (its reading fails later, as
        that file's own problem); a folder named like a file is not a file.
        """
        base = self.path(rel)
        if not self.fs.isdir(base):
            return []
        found = self.fs.find(base, withdirs=False, detail=True)
        listed = [self._listed(path, info) for path, info in found.items()]
        return sorted((f for f in listed if f is not None), key=lambda f: f.path)

    def _listed(self, path: str, info: dict[str, Any]) -> Listed | None:
        """One file of a listing, from the listing's ``info``; None when it is gone since."""
        raise NotImplementedError


def _protocol(fs: fsspec.AbstractFileSystem) -> str:
    protocol = fs.protocol
    return protocol if isinstance(protocol, str) else str(protocol[0])


def one_line(exc: BaseException) -> str:
    """An error as one short line, for a quarantine entry or a message."""
    lines = str(exc).strip().splitlines()
    text = lines[0] if lines else ""
    if not isinstance(exc, OSError) or not text:
        text = f"{type(exc).__name__}: {text}".rstrip(": ")
    return text[:300]
