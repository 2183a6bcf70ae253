"""Reading landing CSVs with Spark: the records and fields DuckDB's strict reader would see.

Each file is read as text lines (splittable, so one big file still spreads over the
cluster) and every line is checked against DuckDB's CSV grammar (RFC 4180 quoting, at most
one blank before an opening quote, blanks after a closing one). A line that fails it, has
the wrong number of fields, or holds bytes that are not UTF-8 is a malformed record, kept
with its raw text. Only a file where a quoted field runs past the end of a line (a quoted
newline, or an unterminated quote that DuckDB lets swallow the rest of the file) is parsed
as a whole by Spark's multi-line CSV reader instead; its records are checked the same way.

Order: a record's number is its position in the file, header = 1, counted from
per-block line counts (a small metadata job) plus the position inside the block; it does
not depend on how Spark partitions the files. DuckDB skips blank lines but counts them in
its record numbers; so do we.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from musicstream.datasets import BY_NAME
from musicstream.engines.spark.session import local_frame

if TYPE_CHECKING:
    from musicstream.engines import FileSpec

QUOTED = r' ?"(?:[^"]|"")*+" *'  # one optional blank before the quote, blanks after it
UNQUOTED = r'(?! ?")[^,]*+'  # anything but a comma, not starting like a quoted field
FIELD = f"(?:{QUOTED}|{UNQUOTED})"
RECORD = rf"^{FIELD}(?:,{FIELD})*+\z"
OPEN_QUOTE = rf'^(?:{FIELD},)*+ ?"(?:[^"]|"")*+\z'  # ends inside a quoted field
NOT_UTF8 = "\ufffd"  # what undecodable bytes become (DuckDB shows them as "?")


def read_records(spark: SparkSession, dataset: str, files: Sequence[FileSpec]) -> DataFrame:
    """Every data record of ``files``: contract columns as text, ``_file_idx``, ``_ord``
    (record number - 1), ``_file_reason``, ``_malformed`` and, for those, ``_raw``."""
    specs = [s for s in files if s.header]
    if not specs:
        return _empty(spark, dataset)
    blocks = _block_stats(spark, specs)
    frames = []
    for spec in specs:
        stats = [b for b in blocks if b[0] == spec.index]
        multiline = any(b[4] for b in stats)
        lines = _multiline(spark, spec) if multiline else _lines(spark, spec)
        frames.append(_project(dataset, spec, _number(spark, lines, stats, multiline)))
    return _union(frames)


def _lines(spark: SparkSession, spec: FileSpec) -> DataFrame:
    """The file's lines, with the block they come from and a within-block position."""
    return spark.read.text(spec.uri).select(
        F.lit(spec.index).alias("_file_idx"),
        F.col("_metadata.file_block_start").alias("_blk"),
        F.monotonically_increasing_id().alias("_pos"),
        F.col("value").alias("_raw"),
        F.lit(None).cast("array<string>").alias("_fields"),
    )


def _block_stats(spark: SparkSession, specs: Sequence[FileSpec]) -> list[tuple[int, ...]]:
    """(file, block, lines, first position, lines ending inside a quote) per file block."""
    lines = _union([_lines(spark, s) for s in specs])
    stats = lines.groupBy("_file_idx", "_blk").agg(
        F.count(F.lit(1)),
        F.min("_pos"),
        F.max(F.col("_raw").rlike(OPEN_QUOTE).cast("int")),
    )
    return sorted(tuple(int(v) for v in row) for row in stats.collect())


def _multiline(spark: SparkSession, spec: FileSpec) -> DataFrame:
    """Records of a file with quoted newlines, cut by Spark's multi-line CSV parser.

    The schema has one column, so every record of two or more fields is "corrupt" and
    comes with its raw text; a one-field record comes as its value.
    """
    records = (
        spark.read.schema("_v string, _corrupt string")
        .option("multiLine", True)
        .option("header", False)
        .option("escape", '"')
        .option("mode", "PERMISSIVE")
        .option("columnNameOfCorruptRecord", "_corrupt")
        .csv(spec.uri)
    )
    return records.select(
        F.lit(spec.index).alias("_file_idx"),
        F.lit(0).cast("long").alias("_blk"),
        F.monotonically_increasing_id().alias("_pos"),
        F.when(  # DuckDB keeps the newline ending a quote left open at the end of the file
            F.col("_corrupt").rlike(OPEN_QUOTE), F.concat("_corrupt", F.lit("\n"))
        )
        .otherwise(F.coalesce("_corrupt", "_v", F.lit("")))
        .alias("_raw"),
        F.when(F.col("_corrupt").isNull(), F.array("_v")).alias("_fields"),
    )


def _number(
    spark: SparkSession, lines: DataFrame, stats: list[tuple[int, ...]], multiline: bool
) -> DataFrame:
    """Add ``_ord``: lines before the block, plus the position inside it; drop the header."""
    offsets, before = [], 0
    for _, blk, count, first, _ in stats:
        offsets.append((0 if multiline else blk, before - first))
        before += count
    if multiline:
        lowest = lines.agg(F.min("_pos")).first()
        offsets = [(0, -int(lowest[0]) if lowest and lowest[0] is not None else 0)]
    table = local_frame(spark, offsets, "_blk bigint, _shift bigint")
    numbered = lines.join(F.broadcast(table), "_blk").withColumn(
        "_ord", F.col("_pos") + F.col("_shift")
    )
    return numbered.where((F.col("_ord") >= 1) & (F.col("_raw") != ""))


def _fields(raw: Column, given: Column) -> Column:
    """The record's raw fields, or NULL when it breaks the grammar."""
    tokens = F.regexp_extract_all(F.concat(F.lit(","), raw), F.lit(f",({FIELD})"), 1)
    return (
        F.when(given.isNotNull(), given)
        .when(raw.rlike(NOT_UTF8), None)  # a regex sees the decoded text
        .when(~raw.contains('"'), F.split(raw, ",", -1))
        .when(raw.rlike(RECORD), tokens)
    )


def _value(field: Column) -> Column:
    """A field's value: quotes removed and "" unescaped; empty (quoted or not) is NULL."""
    unquoted = F.regexp_replace(F.regexp_extract(field, r'(?s)^ ?"(.*)" *\z', 1), '""', '"')
    value = F.when(field.rlike('^ ?"'), unquoted).otherwise(field)
    return F.when(value != "", value)


def _project(dataset: str, spec: FileSpec, lines: DataFrame) -> DataFrame:
    """Contract columns by header position, plus the record's bookkeeping columns."""
    fields = _fields(F.col("_raw"), F.col("_fields"))
    parsed = lines.withColumn("_tokens", fields)
    malformed = F.col("_tokens").isNull() | (F.size("_tokens") != len(spec.header))
    columns = [
        _value(F.get(F.col("_tokens"), spec.header.index(c))).alias(c)
        if c in spec.header
        else F.lit(None).cast("string").alias(c)
        for c in BY_NAME[dataset].columns
    ]
    return parsed.select(
        *columns,
        "_file_idx",
        "_ord",
        F.lit(spec.file_reason).cast("string").alias("_file_reason"),
        F.when(
            malformed, F.regexp_replace(F.decode(F.encode("_raw", "UTF-8"), "UTF-8"), NOT_UTF8, "?")
        ).alias("_raw"),
        malformed.alias("_malformed"),
    )


def _empty(spark: SparkSession, dataset: str) -> DataFrame:
    columns = ", ".join(f"{c} string" for c in BY_NAME[dataset].columns)
    schema = f"{columns}, _file_idx int, _ord bigint, _file_reason string, _raw string, "
    return local_frame(spark, [], schema + "_malformed boolean")


def _union(frames: Sequence[DataFrame]) -> DataFrame:
    result = frames[0]
    for frame in frames[1:]:
        result = result.unionByName(frame)
    return result
