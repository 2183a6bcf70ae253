"""Lake Parquet files are read from Arrow's own memory, never through a Python file object
(Arrow's read-ahead threads then hold Python buffers, and one released while the interpreter
exits aborts the process)."""

from __future__ import annotations

import io
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from musicstream.lake import open_lake
from musicstream.schema import arrow_source

TABLE = pa.table({"user_id": ["u1", "u2", None], "listen_count": [3, 1, 7]})


def _parquet_bytes(table: pa.Table) -> bytes:
    sink = io.BytesIO()
    pq.write_table(table, sink)
    return sink.getvalue()


def test_the_bytes_are_copied_into_arrow_memory() -> None:
    data = _parquet_bytes(TABLE) * 64  # big enough to see in the pool's count
    before = pa.total_allocated_bytes()
    source = arrow_source(data)
    assert pa.total_allocated_bytes() - before >= len(data)  # a Python-backed one adds 0
    assert source.read() == data


def test_a_lake_file_reads_back_whole(tmp_path: Path) -> None:
    lake = open_lake(str(tmp_path))
    lake.write_bytes("kpis/t/report_date=2026-01-01/part.parquet", _parquet_bytes(TABLE))
    got = lake.parquet("kpis/t/report_date=2026-01-01/part.parquet")
    assert got.read().equals(TABLE)
    assert got.read(["listen_count"]).column(0).to_pylist() == [3, 1, 7]


def test_a_missing_lake_file_is_file_not_found(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        open_lake(str(tmp_path)).parquet("kpis/t/none.parquet")
