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
import tempfile
import uuid
from collections.abc import Iterator, Sequence
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
        """Fail with one clear line when the lake does not exist.

        An object store has no empty folders: a prefix in an existing bucket is a new lake.
        """
        if self.fs.isdir(self.root):
            return
        if not self.is_local and self.fs.exists(self.root.split("/", 1)[0]):
            return
        raise UserError(f"lake not found: {self.url} (create it, or run `musicstream demo`)")

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

    def create_exclusive(self, rel: str, data: bytes) -> bool:
        """Create ``rel`` only if it does not exist; False when it already does."""
        self.makedirs(posixpath.dirname(rel))
        if self.is_local:
            try:
                fd = os.open(self.path(rel), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            except FileExistsError:
                return False
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            return True
        return _create_exclusive_remote(self, rel, data)


def _create_exclusive_remote(lake: Lake, rel: str, data: bytes) -> bool:
    """Object stores: a conditional PUT (If-None-Match: *), so two writers cannot both win.

    s3fs sends the header for mode "xb" and maps 412 PreconditionFailed to FileExistsError
    (checked against moto). A 409 ConditionalRequestConflict means a concurrent conditional
    write to the same key is in flight: that writer wins, so this one has lost too.
    """
    try:
        with lake.fs.open(lake.path(rel), "xb") as fh:
            fh.write(data)
    except FileExistsError:
        return False
    except OSError as exc:
        if "ConditionalRequestConflict" in str(exc):
            return False
        raise
    return True


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
