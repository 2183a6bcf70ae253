"""Record numbers do not depend on how Spark splits a file: each record's ``_ord`` is its
line number - 1, whatever the block size, in plain and quoted-newline files alike."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from musicstream.engines import FileSpec
from musicstream.validate import normalize_header

HEADER = "user_id,track_id,listen_time,ms_played"


def _write(path: Path, lines: list[str]) -> FileSpec:
    path.write_text("\n".join([HEADER, *lines]) + "\n")
    return FileSpec(0, path.name, str(path), normalize_header(HEADER.split(",")))


def _records(spark: Any, spec: FileSpec, block_bytes: int) -> list[Any]:
    from musicstream.engines.spark.reader import read_records

    spark.conf.set("spark.sql.files.maxPartitionBytes", block_bytes)
    try:
        frame = read_records(spark, "streams", [spec])
        return frame.select("_ord", "ms_played", "_malformed", "_raw").collect()
    finally:
        spark.conf.unset("spark.sql.files.maxPartitionBytes")


@pytest.mark.parametrize("block_bytes", [1 << 12, 1 << 27])
def test_record_numbers_are_line_numbers(spark: Any, tmp_path: Path, block_bytes: int) -> None:
    """ms_played holds each line's own number; a broken line every 97 lines; blank lines."""
    lines = []
    for n in range(2, 3002):
        lines.append("" if n % 211 == 0 else f"u{n % 50},t{n % 7},2026-01-05 10:00:00,{n}")
        if n % 97 == 0:
            lines[-1] = f"u{n},t1,{n}"  # too few fields
    rows = _records(spark, _write(tmp_path / "s.csv", lines), block_bytes)
    assert all(r._ord + 1 == int(r.ms_played) for r in rows if not r._malformed)
    broken = sorted(r._ord + 1 for r in rows if r._malformed)
    assert broken == [n for n in range(2, 3002) if n % 97 == 0 and n % 211]
    assert len(rows) == sum(1 for n in range(2, 3002) if n % 211)


def test_quoted_newlines_number_records(spark: Any, tmp_path: Path) -> None:
    """A file whose quoted fields hold newlines is read as records (header = record 1)."""
    lines = ['u1,t1,"2026-01-05\n10:00:00",2', "u2,t2,2026-01-05 10:00:01,3", 'u3,"t\n3",x,4']
    rows = _records(spark, _write(tmp_path / "q.csv", lines), 1 << 12)
    assert [(r._ord + 1, r.ms_played, r._malformed) for r in rows] == [
        (2, "2", False),
        (3, "3", False),
        (4, "4", False),
    ]
