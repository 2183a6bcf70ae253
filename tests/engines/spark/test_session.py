"""The local-mode JVM's heap from ``memory_limit``: the share that keeps the process inside it."""

from __future__ import annotations

import pytest

from musicstream.engines.spark.session import DEFAULT_HEAP, HEAP_SHARE, heap_size


@pytest.mark.parametrize(
    ("limit", "limit_bytes"),
    [("4GiB", 4 << 30), ("4GB", 4 * 10**9), ("4g", 4 * 10**9), ("1536MB", 1536 * 10**6)],
)
def test_the_heap_is_a_share_of_the_limit_in_mib(limit: str, limit_bytes: int) -> None:
    heap = heap_size(limit)
    assert heap.endswith("m")
    mib = int(heap[:-1])
    assert mib == int(limit_bytes * HEAP_SHARE) >> 20
    assert mib << 20 < limit_bytes  # the JVM's own memory and Python's fit beside it


def test_no_limit_is_the_default_heap() -> None:
    assert heap_size(None) == DEFAULT_HEAP
