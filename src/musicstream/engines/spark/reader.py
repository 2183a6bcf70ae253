"""Reading admitted files with Spark (the two layouts of ``FileSpec``), all text.

A ``lines`` file is read as text lines (splittable, so one big file still spreads over the
cluster) and each line is split on ``,``: a line with the wrong number of fields, trailing
empty ones included, is a malformed record kept with its raw text. A line's number is its
position in the file, header = 1, counted from per-block line counts (a small metadata job)
plus the position inside the block; it does not depend on how Spark partitions the file.
A blank line is no record but keeps its number, as in the DuckDB engine.

A ``records`` file is well-formed RFC 4180 CSV that admission wrote with each record's start
line and, for a malformed record, its raw text; Spark's multi-line CSV reader parses it.

Either way an empty field is NULL, and ``_ord`` (the order of records in a file, which the
shared SQL uses for "first row wins") is the record's line.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from musicstream.datasets import BY_NAME
from musicstream.engines import LINES, RECORDS
from musicstream.engines.spark.session import local_frame

if TYPE_CHECKING:
    from musicstream.engines import FileSpec


def read_records(spark: SparkSession, dataset: str, files: Sequence[FileSpec]) -> DataFrame:
    """Every data record of ``files``: contract columns as text, ``_file_idx``, ``_ord``,
    ``_line``, ``_file_reason``, ``_malformed`` and, for those, ``_raw``."""
    specs = [s for s in files if s.header]  # a file without a header has no records
    if not specs:
        return _empty(spark, dataset)
    shifts = _block_shifts(spark, [s for s in specs if s.layout == LINES])
    frames = []
    for spec in specs:
        if spec.layout == LINES:
            frames.append(_from_lines(dataset, spec, _lines(spark, spec), shifts))
        elif spec.layout == RECORDS:
            frames.append(_from_records(spark, dataset, spec))
        else:
            raise ValueError(f"{spec.path}: unknown layout {spec.layout!r}")
    return _union(frames)


def _lines(spark: SparkSession, spec: FileSpec) -> DataFrame:
    """A file's lines with the block they come from and their position in the partition.

    The position is the row's index within its Spark partition (the partition id taken out
    of the monotonic id), so it is the same in every job that reads the file.
    """
    position = F.monotonically_increasing_id() - F.shiftleft(
        F.spark_partition_id().cast("bigint"), 33
    )
    return (
        spark.read.option("lineSep", "\n")
        .text(spec.uri)
        .select(
            F.lit(spec.index).alias("_file_idx"),
            F.col("_metadata.file_block_start").alias("_blk"),
            position.alias("_pos"),
            F.col("value").alias("_text"),
        )
    )


def _block_shifts(spark: SparkSession, specs: Sequence[FileSpec]) -> DataFrame:
    """Per (file, block): what to add to a position in the block to get the line - 1.

    One small job over all ``lines`` files: the lines of each block and its first position.
    """
    ddl = "_file_idx int, _blk bigint, _shift bigint"
    if not specs:
        return local_frame(spark, [], ddl)
    lines = _union([_lines(spark, s) for s in specs])
    stats = lines.groupBy("_file_idx", "_blk").agg(F.count(F.lit(1)), F.min("_pos")).collect()
    shifts, before, current = [], 0, None
    for idx, blk, count, first in sorted(tuple(int(v) for v in row) for row in stats):
        if idx != current:
            before, current = 0, idx
        shifts.append((idx, blk, before - first))
        before += count
    return local_frame(spark, shifts, ddl)


def _from_lines(dataset: str, spec: FileSpec, lines: DataFrame, shifts: DataFrame) -> DataFrame:
    """A ``lines`` file's records: numbered, split on ``,``, the header and blank lines out."""
    numbered = lines.join(F.broadcast(shifts), ["_file_idx", "_blk"]).withColumn(
        "_line", F.col("_pos") + F.col("_shift") + 1
    )
    records = numbered.where((F.col("_line") > 1) & (F.col("_text") != "")).withColumn(
        "_fields", F.split("_text", ",", -1)
    )
    fields = [F.get("_fields", i) for i in range(len(spec.header))]
    malformed = F.size("_fields") != len(spec.header)
    return _project(dataset, spec, records, fields, F.col("_text"), malformed)


def _from_records(spark: SparkSession, dataset: str, spec: FileSpec) -> DataFrame:
    """A ``records`` file's records: its columns ``_line``, ``_raw``, ``c0`` … ``c{n-1}``.

    FAILFAST: admission wrote the file with ``csv.writer``, so a parse error is a bug to
    surface, not data to drop.
    """
    names = [f"c{i}" for i in range(len(spec.header))]
    schema = ", ".join(["_line bigint", "_raw string", *(f"{c} string" for c in names)])
    records = (
        spark.read.schema(schema)
        .option("header", True)
        .option("multiLine", True)
        .option("quote", '"')
        .option("escape", '"')
        .option("mode", "FAILFAST")
        .csv(spec.uri)
    )
    raw = _value(F.col("_raw"))
    return _project(dataset, spec, records, [F.col(c) for c in names], raw, raw.isNotNull())


def _project(
    dataset: str,
    spec: FileSpec,
    records: DataFrame,
    fields: Sequence[Column],
    raw: Column,
    malformed: Column,
) -> DataFrame:
    """Contract columns from ``fields`` (in header order; empty → NULL), plus bookkeeping."""
    columns = [
        _value(fields[spec.header.index(c)]).alias(c)
        if c in spec.header
        else F.lit(None).cast("string").alias(c)
        for c in BY_NAME[dataset].columns
    ]
    return records.select(
        *columns,
        F.lit(spec.index).alias("_file_idx"),
        F.col("_line").alias("_ord"),
        "_line",
        F.lit(spec.file_reason).cast("string").alias("_file_reason"),
        F.when(malformed, raw).alias("_raw"),
        malformed.alias("_malformed"),
    )


def _value(field: Column) -> Column:
    return F.when(field != "", field)


def _empty(spark: SparkSession, dataset: str) -> DataFrame:
    columns = ", ".join(f"{c} string" for c in BY_NAME[dataset].columns)
    schema = f"{columns}, _file_idx int, _ord bigint, _line bigint, _file_reason string, "
    return local_frame(spark, [], schema + "_raw string, _malformed boolean")


def _union(frames: Sequence[DataFrame]) -> DataFrame:
    result = frames[0]
    for frame in frames[1:]:
        result = result.unionByName(frame)
    return result
