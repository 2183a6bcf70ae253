"""BatchWriteItem done right: 25 items a request, parallel senders, backoff with full jitter
on UnprocessedItems and throttling, and a final failure that names every unsent key.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError, ConnectionError, HTTPClientError

log = logging.getLogger(__name__)

BATCH = 25  # the BatchWriteItem limit
RETRYABLE = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "InternalServerError",
        "ServiceUnavailable",
    }
)
SHOWN_KEYS = 20  # unsent keys named in the message; all of them are on the exception

WriteRequest = tuple[str, dict[str, Any]]  # (table name, {"PutRequest"|"DeleteRequest": …})
KeyOf = Callable[[str, Mapping[str, Any]], dict[str, Any]]


@dataclass
class Backoff:
    """Exponential backoff with full jitter: attempt n sleeps uniform(0, min(cap, base·2ⁿ))."""

    base_s: float = 0.05
    cap_s: float = 5.0
    attempts: int = 10

    def delay(self, attempt: int) -> float:
        return random.uniform(0, min(self.cap_s, self.base_s * 2**attempt))


class StoreWriteError(RuntimeError):
    """Some items could not be written; ``unsent`` lists (table, key) of every one."""

    def __init__(self, unsent: list[tuple[str, dict[str, Any]]], reason: str) -> None:
        self.unsent = unsent
        shown = "; ".join(f"{table} {key}" for table, key in unsent[:SHOWN_KEYS])
        more = f" … and {len(unsent) - SHOWN_KEYS} more" if len(unsent) > SHOWN_KEYS else ""
        super().__init__(f"{len(unsent)} DynamoDB write(s) not applied ({reason}): {shown}{more}")


class BatchWriter:
    """Sends write requests in chunks of 25 from ``writers`` threads; raises on any loss."""

    def __init__(self, client: Any, writers: int, backoff: Backoff, key_of: KeyOf) -> None:
        self.client, self.writers, self.backoff, self.key_of = client, writers, backoff, key_of

    def write(self, requests: Sequence[WriteRequest]) -> None:
        # One table per request: DynamoDB allows mixing, but moto then rejects equal keys of
        # two tables as "duplicates"; the cost is at most one part-filled request per table.
        chunks = [
            [(table, r) for r in group[i : i + BATCH]]
            for table, group in _by_table(requests).items()
            for i in range(0, len(group), BATCH)
        ]
        if len(chunks) <= 1 or self.writers <= 1:
            results = [self._send(c) for c in chunks]
        else:
            with ThreadPoolExecutor(min(self.writers, len(chunks))) as pool:
                results = list(pool.map(self._send, chunks))
        unsent = [(t, self.key_of(t, r)) for left, _ in results for t, r in left]
        if unsent:
            reasons = sorted({reason for left, reason in results if left})
            raise StoreWriteError(unsent, "; ".join(reasons))

    def _send(self, chunk: Sequence[WriteRequest]) -> tuple[list[WriteRequest], str]:
        """Send one chunk until done; what is left unsent, and why."""
        pending = _by_table(chunk)
        reason = ""
        for attempt in range(self.backoff.attempts):
            try:
                response = self.client.batch_write_item(RequestItems=pending)
            except ClientError as exc:
                code = exc.response.get("Error", {}).get("Code", "")
                if code not in RETRYABLE:
                    return _flatten(pending), f"{code}: {exc}"
                reason = code
            except (ConnectionError, HTTPClientError) as exc:
                reason = f"{type(exc).__name__}: {exc}"
            else:
                pending = response.get("UnprocessedItems") or {}
                if not pending:
                    return [], ""
                reason = "UnprocessedItems"
            log.debug("BatchWriteItem attempt %d: %s; retrying", attempt + 1, reason)
            if attempt + 1 < self.backoff.attempts:
                time.sleep(self.backoff.delay(attempt))
        return _flatten(pending), f"{reason} after {self.backoff.attempts} attempts"


def _by_table(chunk: Sequence[WriteRequest]) -> dict[str, list[dict[str, Any]]]:
    grouped: dict[str, list[dict[str, Any]]] = {}
    for table, request in chunk:
        grouped.setdefault(table, []).append(request)
    return grouped


def _flatten(pending: Mapping[str, Sequence[dict[str, Any]]]) -> list[WriteRequest]:
    return [(table, r) for table, requests in pending.items() for r in requests]
