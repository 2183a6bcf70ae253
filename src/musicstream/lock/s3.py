"""The lock record as an object of an S3 lake.

The version is the object's ETag. Create is a PUT with ``If-None-Match: *``, take-over and
renewal a PUT with ``If-Match: <etag>``, release a DELETE with ``If-Match``. S3 evaluates
each condition atomically (412 when it fails, 409 when a concurrent conditional write wins,
404 when the object went). Tokens make every record's bytes, so its ETag, unique: an old
ETag never matches a newer record.
"""

from __future__ import annotations

from fsspec.asyn import sync

from musicstream import layout
from musicstream.errors import UserError
from musicstream.lake import Lake

# A condition that did not hold: someone else changed the lock first.
_CONFLICTS = {"PreconditionFailed", "ConditionalRequestConflict", "NoSuchKey", "404", "409", "412"}


class S3Store:
    """The record as an object; conditional requests make each change atomic."""

    def __init__(self, lake: Lake) -> None:
        self.fs = lake.fs
        self.bucket, self.key, _ = lake.fs.split_path(lake.path(layout.LOCK))
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
