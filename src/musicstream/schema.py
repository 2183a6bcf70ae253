"""The types of the lake's tables, and a table's schema in every form a consumer needs.

A column has a *logical* type (one per physical type the lake's Parquet files hold); a
:class:`Table` turns its columns into DuckDB or Spark DDL, an Arrow schema, Athena types or
the serving store's coarse types. The tables themselves are declared in ``datasets.py``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, NamedTuple

if TYPE_CHECKING:
    import pyarrow as pa

# Logical types: one per physical type the lake's Parquet files hold.
STRING, INT32, INT64, FLOAT64 = "string", "int32", "int64", "float64"
BOOL, TIMESTAMP, DATE = "bool", "timestamp", "date"  # timestamp: naive UTC, microseconds

Dialect = Literal["duckdb", "spark"]
Column = tuple[str, str]  # (name, logical type)


class _Names(NamedTuple):
    """A logical type's name in each place that declares it."""

    duckdb: str
    spark: str
    athena: str
    store: str  # the serving store's 'str', 'int', 'float' or 'bool'


_NAMES: dict[str, _Names] = {
    STRING: _Names("varchar", "STRING", "string", "str"),
    INT32: _Names("integer", "INT", "int", "int"),
    INT64: _Names("bigint", "BIGINT", "bigint", "int"),
    FLOAT64: _Names("double", "DOUBLE", "double", "float"),
    BOOL: _Names("boolean", "BOOLEAN", "boolean", "bool"),
    TIMESTAMP: _Names("timestamp", "TIMESTAMP_NTZ", "timestamp", "str"),
    DATE: _Names("date", "DATE", "date", "str"),  # the store keeps a date as its ISO text
}


def arrow_source(data: bytes) -> pa.BufferReader:
    """``data`` as an in-memory file for Arrow's readers, copied into Arrow's own memory.

    Over a Python object (``io.BytesIO``, or a buffer of ``bytes``) Arrow's I/O threads keep
    Python buffers in the futures of their read-ahead; one released on such a thread while
    the interpreter exits aborts the process ('terminate called without an active
    exception': SIGABRT after a run that had succeeded, 1 run in 4 with a small
    memory_limit, and at 30M streams).
    """
    import pyarrow as pa

    copy = pa.BufferOutputStream()
    copy.write(data)
    return pa.BufferReader(copy.getvalue())


def empty_table(schema: pa.Schema) -> pa.Table:
    """A table of ``schema`` with no rows. ``schema.empty_table()`` imports pandas where it
    is installed: ~2 s of a one-day batch's load, which otherwise never needs it."""
    import pyarrow as pa

    return pa.Table.from_batches([], schema=schema)


def arrow_type(logical: str) -> pa.DataType:
    """The Arrow type of a logical type (pyarrow imported here: it is not always needed)."""
    import pyarrow as pa

    factories = {
        STRING: pa.string,
        INT32: pa.int32,
        INT64: pa.int64,
        FLOAT64: pa.float64,
        BOOL: pa.bool_,
        TIMESTAMP: lambda: pa.timestamp("us"),
        DATE: pa.date32,
    }
    return factories[logical]()


@dataclass(frozen=True)
class Table:
    """A lake table: its columns as the files hold them, and the hive partition keys its
    folders carry (``report_date=…``, ``batch_id=…``, ``period=…/period_start=…``, outermost
    first), which are never inside the files."""

    name: str
    columns: tuple[Column, ...]
    partition: tuple[Column, ...] = ()

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.columns)

    def _with(self, partition: bool) -> tuple[Column, ...]:
        return self.columns + (self.partition if partition else ())

    def ddl(self, dialect: Dialect, partition: bool = False) -> str:
        """``name type, …`` in ``dialect``; ``partition`` appends the partition column."""
        columns = self._with(partition)
        return ", ".join(f"{name} {getattr(_NAMES[kind], dialect)}" for name, kind in columns)

    def arrow_schema(self, partition: bool = False) -> pa.Schema:
        import pyarrow as pa

        return pa.schema([(name, arrow_type(kind)) for name, kind in self._with(partition)])

    def parquet(self, rows: Iterable[Sequence[object]]) -> bytes:
        """``rows`` (values in column order; None or "" is NULL) as one Parquet file.

        Built through pyarrow's CSV reader: pa.array/pa.table/from_pylist import pandas where
        it is installed, over a second of a run that does not otherwise need it.
        """
        import pyarrow.csv as pa_csv
        import pyarrow.parquet as pq

        text = io.StringIO()
        writer = csv.writer(text, lineterminator="\n")
        writer.writerow(self.names)
        writer.writerows(["" if v is None else v for v in row] for row in rows)
        table = pa_csv.read_csv(
            arrow_source(text.getvalue().encode()),
            convert_options=pa_csv.ConvertOptions(  # only "" is NULL (not "NA", "null", …)
                column_types=self.arrow_schema(), strings_can_be_null=True, null_values=[""]
            ),
        )
        buffer = io.BytesIO()
        pq.write_table(table, buffer)
        return buffer.getvalue()

    def athena_columns(self) -> tuple[tuple[str, str], ...]:
        """The file columns with their Athena (Hive DDL) type names."""
        return tuple((name, _NAMES[kind].athena) for name, kind in self.columns)

    def store_columns(self) -> dict[str, str]:
        """Partition keys first, then the file columns: name → 'str', 'int', 'float' or 'bool'."""
        columns = self.partition + self.columns
        return {name: _NAMES[kind].store for name, kind in columns}
