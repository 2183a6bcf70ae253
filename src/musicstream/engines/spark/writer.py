"""Writing Spark output to exact lake paths, so a re-run replaces its own files.

Spark names its files ``part-…``; the lake layout wants ``<batch_id>.parquet`` or
``data.parquet``. Spark writes into a scratch folder inside the lake, then each part file
is moved to its name: a rename on a local lake, a server-side copy on S3. Only file names
pass through the driver, never rows.
"""

from __future__ import annotations

import contextlib
import posixpath
import uuid
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING

from musicstream import layout
from musicstream.engines import partition_values

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

    from musicstream.lake import Lake

# No _SUCCESS marker: the part files are all we take (and on a local lake without Hadoop's
# native library each file Hadoop creates also starts a `chmod` process).
WRITE_OPTIONS = {"mapreduce.fileoutputcommitter.marksuccessfuljobs": "false"}


@contextlib.contextmanager
def scratch(lake: Lake) -> Iterator[str]:
    """A lake-relative folder the executors can write to, removed afterwards."""
    rel = layout.tmp(f"spark-{uuid.uuid4().hex}")
    try:
        yield rel
    finally:
        lake.remove(rel, recursive=True)


def _parts(lake: Lake, rel: str) -> list[str]:
    """The Parquet part files Spark wrote below ``rel`` (no _SUCCESS, no .crc)."""
    found = lake.files(rel)
    return [
        p for p in found if posixpath.basename(p).startswith("part-") and p.endswith(".parquet")
    ]


def _publish(lake: Lake, part: str, target: str) -> None:
    if lake.is_local:
        lake.publish(lake.path(part), target)
    else:
        lake.move(part, target)


def write_file(lake: Lake, frame: DataFrame, target: str, order: str | Sequence[str] = ()) -> None:
    """Write ``frame`` as the single Parquet file ``target`` (small tables: dimensions,
    a batch's quarantine), sorted by ``order``."""
    single = frame.repartition(1)
    if order:
        single = single.sortWithinPartitions(order if isinstance(order, str) else list(order))
    with scratch(lake) as tmp:
        single.write.options(**WRITE_OPTIONS).parquet(lake.uri(tmp))
        (part,) = _parts(lake, tmp)
        _publish(lake, part, target)


def write_partitions(
    lake: Lake, frame: DataFrame, keys: Sequence[str], target: Callable[..., str]
) -> list[tuple[str, ...]]:
    """Write ``frame`` one file per partition (the values of ``keys``), at
    ``target(*values)``; return the partitions' values.

    Repartitioning by the keys puts each partition in one task, so each partition folder
    gets exactly one part file.
    """
    with scratch(lake) as tmp:
        frame.repartition(*keys).write.options(**WRITE_OPTIONS).partitionBy(*keys).parquet(
            lake.uri(tmp)
        )
        found = _parts(lake, tmp)
        parts = {partition_values(p, keys): p for p in found}
        if len(parts) != len(found) or None in parts:
            raise RuntimeError(f"expected one file per partition, got {found}")
        written = sorted(values for values in parts if values is not None)
        for values in written:
            _publish(lake, parts[values], target(*values))
    return written
