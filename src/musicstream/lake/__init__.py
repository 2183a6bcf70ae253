"""The lake: one URL (``file://…``, a plain path, or ``s3://…``) behind one fsspec layer.

Every stage addresses the lake with paths relative to its root (``landing/streams/a.csv``,
spelled in layout.py); a :class:`Lake` turns them into filesystem paths, and into URLs an
engine can read. ``base.py`` holds what every lake does alike; ``local.py`` and ``remote.py``
what differs between a folder of this machine and an object store.
"""

from __future__ import annotations

from typing import Any

from fsspec.utils import get_protocol

from musicstream.lake.base import Lake, Listed, one_line
from musicstream.lake.local import LocalLake
from musicstream.lake.remote import RemoteLake

__all__ = ["Lake", "Listed", "LocalLake", "RemoteLake", "one_line", "open_lake"]


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
    kind: type[Lake] = LocalLake if get_protocol(url) in ("file", "local") else RemoteLake
    return kind(url, **options)
