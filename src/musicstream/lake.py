"""The lake: one URL (``file://…``, a plain path, or ``s3://…``) behind one fsspec layer.

Every stage addresses the lake with paths relative to its root (``landing/streams/a.csv``);
this module turns them into filesystem paths, and into URLs an engine can read.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import posixpath
import shutil
import stat
import tempfile
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import fsspec

from musicstream.errors import UserError

_CHUNK = 8 << 20


class Lake:
    """A lake rooted at ``url``; all paths given to its methods are relative to the root."""

    def __init__(self, url: str, **storage_options: Any) -> None:
        self.url = url.rstrip("/")
        self.fs, root = fsspec.core.url_to_fs(self.url, **storage_options)
        self.root = root.rstrip("/")
        protocol = self.fs.protocol
        self.protocol = protocol if isinstance(protocol, str) else protocol[0]
        self.is_local = self.protocol in ("file", "local")

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
        """Fail with one clear line when the lake does not exist, or is a file.

        An object store has no empty folders: a prefix in an existing bucket is a new lake.
        """
        if self.fs.isdir(self.root):
            return
        if not self.is_local and self.fs.exists(self.root.split("/", 1)[0]):
            return
        if self.is_local and os.path.exists(self.root):
            raise UserError(f"lake {self.url} is a file, not a lake folder")
        raise UserError(f"lake not found: {self.url} (create it, or run `musicstream demo`)")

    def require_writable(self) -> None:
        """:meth:`require`, and for a local lake that this process may write its state there.

        Checked before a run takes the lock, so a read-only lake (permissions, a read-only
        mount) is one clear line instead of a failure half way through a batch.
        """
        self.require()
        if not self.is_local:
            return  # S3 permissions show only on the first write
        for rel in ("", "_state", "_state/batches"):
            path = self.path(rel)
            if os.path.isdir(path) and not os.access(path, os.W_OK | os.X_OK):
                raise UserError(f"lake {self.url} is not writable ({path}): check its permissions")

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

    def read_json(self, rel: str) -> Any:
        return json.loads(self.read_bytes(rel))

    def write_bytes(self, rel: str, data: bytes) -> None:
        """Write ``data`` so that readers see the old file or the new one, never a part."""
        with self.staging() as tmp:
            local = os.path.join(tmp, "part")
            with open(local, "wb") as fh:
                fh.write(data)
            self.publish(local, rel)

    def write_json(self, rel: str, obj: Any) -> None:
        self.write_bytes(rel, json.dumps(obj, indent=1, sort_keys=True, default=str).encode())

    @contextlib.contextmanager
    def staging(self) -> Iterator[str]:
        """A local scratch folder for engine output, removed afterwards.

        For a local lake it lies inside the lake, so :meth:`publish` is an atomic rename.
        """
        if self.is_local:
            folder = self.path(f"_state/tmp/{uuid.uuid4().hex}")
            os.makedirs(folder)
        else:
            folder = tempfile.mkdtemp(prefix="musicstream-")
        try:
            yield folder
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    def publish(self, local_path: str, rel: str) -> None:
        """Move a finished local file to ``rel``, replacing what was there atomically."""
        if self.is_local:
            self.makedirs(posixpath.dirname(rel))
            os.replace(local_path, self.path(rel))
        else:
            self.fs.put_file(local_path, self.path(rel))

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

    def publish_all(self, moves: Sequence[tuple[str, str]]) -> None:
        """:meth:`publish` each (local file, rel); remotely as one concurrent upload."""
        if self.is_local:
            for local, rel in moves:
                self.publish(local, rel)
        elif moves:
            self.fs.put([local for local, _ in moves], [self.path(rel) for _, rel in moves])

    def makedirs(self, rel: str) -> None:
        if self.is_local:
            self.fs.makedirs(self.path(rel), exist_ok=True)

    def remove(self, rel: str, recursive: bool = False) -> None:
        """Remove a file or folder; a missing one is not an error (steps are retried)."""
        path = self.path(rel)
        if self.fs.exists(path):
            self.fs.rm(path, recursive=recursive)

    def sha256(self, rel: str) -> str:
        digest = hashlib.sha256()
        with self.fs.open(self.path(rel), "rb") as fh:
            while chunk := fh.read(_CHUNK):
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
        listed = []
        version: str | None
        for path, info in found.items():
            if self.is_local:
                st = _local_stat(path)
                if st is None:
                    continue  # gone since the listing
                size, mtime, version = st.st_size, st.st_mtime, _local_version(st)
            else:
                size, mtime, version = int(info.get("size") or 0), _mtime(info), _version(info)
            listed.append(Listed(self.relative(path), size, mtime, version))
        return sorted(listed, key=lambda f: f.path)

    def version(self, rel: str) -> str | None:
        """What changes whenever ``rel``'s content may have: None when it is gone."""
        if self.is_local:
            st = _local_stat(self.path(rel))
            return None if st is None else _local_version(st)
        try:
            return _version(self.fs.info(self.path(rel)))
        except FileNotFoundError:
            return None

    def stage(self, rel: str, staged: str) -> tuple[str, int, str | None] | None:
        """Copy ``rel`` to ``staged`` (same local lake): the copy's SHA-256, size, and the
        version of ``rel`` it was copied from.

        The copy is what the batch processes, whatever happens to ``rel`` afterwards. None
        when ``rel`` changed while it was copied: it is still being written.
        """
        if not stat.S_ISREG(os.stat(self.path(rel)).st_mode):  # a pipe would block forever
            raise OSError(f"{rel} is not a regular file")
        before = self.version(rel)
        digest, size = hashlib.sha256(), 0
        tmp = self.path(f"{staged}.part")
        self.makedirs(posixpath.dirname(staged))
        with open(self.path(rel), "rb") as src, open(tmp, "wb") as out:
            while chunk := src.read(_CHUNK):
                digest.update(chunk)
                out.write(chunk)
                size += len(chunk)
        if self.version(rel) != before:
            os.remove(tmp)
            return None
        os.replace(tmp, self.path(staged))
        return digest.hexdigest(), size, before

    def rename(self, src: str, dst: str) -> None:
        """Move ``src`` to ``dst`` within a local lake, atomically; done if already moved."""
        if not os.path.lexists(self.path(src)) and os.path.lexists(self.path(dst)):
            return
        self.makedirs(posixpath.dirname(dst))
        os.replace(self.path(src), self.path(dst))


@dataclass(frozen=True)
class Listed:
    """A file found in the lake: path, size, modification time, and version."""

    path: str
    size: int
    mtime: float  # seconds since the epoch: when it landed (local mtime, S3 LastModified)
    version: str | None  # local: size, mtime and inode; S3: the ETag (and version id)


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


def _local_stat(path: str) -> os.stat_result | None:
    """The file's stat, or its link's when the link dangles; None when neither exists."""
    try:
        return os.stat(path)
    except FileNotFoundError:
        try:
            return os.lstat(path)
        except FileNotFoundError:
            return None


def _local_version(st: os.stat_result) -> str:
    return f"{st.st_size}:{st.st_mtime_ns}:{st.st_ino}"


def one_line(exc: BaseException) -> str:
    """An error as one short line, for a quarantine entry or a message."""
    lines = str(exc).strip().splitlines()
    text = lines[0] if lines else ""
    if not isinstance(exc, OSError) or not text:
        text = f"{type(exc).__name__}: {text}".rstrip(": ")
    return text[:300]


def open_lake(url: str, endpoint_url: str | None = None, region: str | None = None) -> Lake:
    """Open the lake at ``url``; S3 options come from settings and the AWS chain."""
    options: dict[str, Any] = {}
    if url.startswith(("s3://", "s3a://")):
        # No listing cache: other runs and uploaders change the bucket between our calls.
        options["use_listings_cache"] = False
        client: dict[str, Any] = {}
        if endpoint_url:
            client["endpoint_url"] = endpoint_url
        if region:
            client["region_name"] = region
        if client:
            options["client_kwargs"] = client
    return Lake(url, **options)
