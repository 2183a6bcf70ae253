"""The Spark reader on admitted files (the two layouts of ``FileSpec``): values, NULLs,
malformed records, and physical line numbers that do not depend on how Spark splits a file."""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from musicstream.engines import LINES, RECORDS, BatchContext, FileSpec

HEADER = ("user_id", "track_id", "listen_time", "ms_played")
COLUMNS = ("_line", "user_id", "track_id", "listen_time", "ms_played", "_malformed", "_raw")


def _lines_file(path: Path, lines: list[str], index: int = 0, **kw: Any) -> FileSpec:
    path.write_text("\n".join([",".join(HEADER), *lines]) + "\n", encoding="utf-8")
    return FileSpec(index, f"landing/streams/{path.name}", str(path), HEADER, **kw)


def _records_file(path: Path, rows: list[tuple[Any, ...]], index: int = 0) -> FileSpec:
    """``rows``: (line, fields) of a record, or (line, raw text) of a malformed one."""
    with open(path, "w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["_line", "_raw", *(f"c{i}" for i in range(len(HEADER)))])
        for line, value in rows:
            if isinstance(value, str):
                writer.writerow([line, value, *[""] * len(HEADER)])
            else:
                writer.writerow([line, "", *value])
    return FileSpec(index, f"landing/streams/{path.name}", str(path), HEADER, layout=RECORDS)


def _read(spark: Any, specs: list[FileSpec], block_bytes: int = 1 << 27) -> list[Any]:
    from musicstream.engines.spark.reader import read_records

    spark.conf.set("spark.sql.files.maxPartitionBytes", block_bytes)
    try:
        frame = read_records(spark, "streams", specs)
        return frame.orderBy("_file_idx", "_ord").collect()
    finally:
        spark.conf.unset("spark.sql.files.maxPartitionBytes")


def _rows(found: list[Any]) -> list[tuple[Any, ...]]:
    return [tuple(r[c] for c in COLUMNS) for r in found]


def test_lines_values_nulls_and_malformed(spark: Any, tmp_path: Path) -> None:
    """Split on ',': empty → NULL, blanks kept; a wrong field count (trailing empty fields
    too) is malformed with its line; a blank line is no record but keeps its number."""
    spec = _lines_file(
        tmp_path / "s.csv",
        [
            "u1,t1,2026-01-05 10:00:00,1000",
            " u2 ,t2,,",
            "u3,t3,2026-01-05 10:00:00,,",
            "",
            "u4,t4",
            "Beyoncé,t\\5,x,5",
            ",,,",
        ],
    )
    assert _rows(_read(spark, [spec])) == [
        (2, "u1", "t1", "2026-01-05 10:00:00", "1000", False, None),
        (3, " u2 ", "t2", None, None, False, None),
        (4, "u3", "t3", "2026-01-05 10:00:00", None, True, "u3,t3,2026-01-05 10:00:00,,"),
        (6, "u4", "t4", None, None, True, "u4,t4"),
        (7, "Beyoncé", "t\\5", "x", "5", False, None),
        (8, None, None, None, None, False, None),
    ]


def test_lines_header_order_bom_and_file_reason(spark: Any, tmp_path: Path) -> None:
    """Columns by header position, absent ones NULL, extra ones ignored; the header line
    (with a BOM) is not a record; the file's reason comes with every row."""
    path = tmp_path / "u.csv"
    path.write_text("\ufeffuser_country,extra,user_id\nFR,x,u1\n,y,u2\n", encoding="utf-8")
    header = ("user_country", "extra", "user_id")
    spec = FileSpec(3, "landing/users/u.csv", str(path), header, "missing_columns")
    from musicstream.engines.spark.reader import read_records

    found = read_records(spark, "users", [spec]).orderBy("_ord").collect()
    assert [
        (r._line, r.user_id, r.user_country, r.user_name, r._file_idx, r._file_reason)
        for r in found
    ] == [(2, "u1", "FR", None, 3, "missing_columns"), (3, "u2", None, None, 3, "missing_columns")]


@pytest.mark.parametrize("block_bytes", [1 << 12, 1 << 27])
def test_line_numbers_do_not_depend_on_splits(spark: Any, tmp_path: Path, block_bytes: int) -> None:
    """ms_played holds each line's own number, in two files read together with a records
    file; a broken line every 97 lines, a blank one every 211."""
    lines = []
    for n in range(2, 3002):
        lines.append("" if n % 211 == 0 else f"u{n % 50},t{n % 7},2026-01-05 10:00:00,{n}")
        if n % 97 == 0:
            lines[-1] = f"u{n},t1,{n}" if n % 2 else f"u{n},t1,2026-01-05 10:00:00,{n},"
    specs = [
        _lines_file(tmp_path / "a.csv", lines, index=0),
        _records_file(tmp_path / "b.csv", [(2, ("u", "t", "x", "2")), (5, "u,\n\nt")], index=1),
        _lines_file(tmp_path / "c.csv", lines[:500], index=2),
    ]
    found = _read(spark, specs, block_bytes)
    for idx, last in ((0, 3002), (2, 502)):
        rows = [r for r in found if r._file_idx == idx]
        expected = [n for n in range(2, last) if n % 211]
        assert [r._line for r in rows] == expected
        assert all(r._line == int(r.ms_played) for r in rows if not r._malformed)
        assert [r._line for r in rows if r._malformed] == [n for n in expected if n % 97 == 0]
        assert all(r._ord == r._line for r in rows)
    assert [(r._line, r._malformed) for r in found if r._file_idx == 1] == [(2, False), (5, True)]


def test_records_values_nulls_and_malformed(spark: Any, tmp_path: Path) -> None:
    """RFC 4180 as csv.writer writes it: commas, quotes, newlines, CRs and blanks in fields
    come back as they were, empty is NULL; a malformed record keeps its raw text and line."""
    raw = 'u9,"t9\nstill t9,2026-01-05 10:00:00,1\n"x"'
    spec = _records_file(
        tmp_path / "r.csv",
        [
            (2, ("u1", 't"1"', "2026-01-05 10:00:00", "")),
            (3, (" u,2 ", "t\n2\r\n", "", "2")),
            (5, raw),
            (8, ("Beyoncé", "\\", "a\x00b", "\t")),
            (9, ("", "", "", "")),
        ],
    )
    assert _rows(_read(spark, [spec])) == [
        (2, "u1", 't"1"', "2026-01-05 10:00:00", None, False, None),
        (3, " u,2 ", "t\n2\r\n", None, "2", False, None),
        (5, None, None, None, None, True, raw),
        (8, "Beyoncé", "\\", "a\x00b", "\t", False, None),
        (9, None, None, None, None, False, None),
    ]


def test_files_without_records(spark: Any, tmp_path: Path) -> None:
    """A header alone has no records; a file without a header (0 bytes) is not read."""
    empty = tmp_path / "e.csv"
    empty.write_bytes(b"")
    specs = [
        _lines_file(tmp_path / "h.csv", [], index=0),
        _records_file(tmp_path / "r.csv", [], index=1),
        FileSpec(2, "landing/streams/e.csv", str(empty), ()),
    ]
    assert _read(spark, specs) == []
    assert _read(spark, specs[2:]) == []


def test_quarantine_lines(spark: Any, tmp_path: Path) -> None:
    """The quarantine's line is the record's physical start line, malformed or not."""
    import duckdb

    from musicstream.engines.spark.engine import SparkEngine
    from musicstream.lake import open_lake
    from musicstream.settings import load_settings

    lake = tmp_path / "lake"
    lake.mkdir()
    settings = load_settings(lake=str(lake), engine="spark", spark_master="local[2]")
    engine = SparkEngine(settings, open_lake(str(lake)))
    users = tmp_path / "users.csv"
    users.write_text("user_id,user_age\nu1,30\n,31\nu1,32\nu4,33,x\n\nu6,7\n", encoding="utf-8")
    quoted = _records_file(tmp_path / "q.csv", [(2, "a,\nb"), (4, ("", "t", "x", "1"))], 1)
    specs = [
        FileSpec(0, "landing/users/users.csv", str(users), ("user_id", "user_age"), None, LINES),
        FileSpec(1, "landing/users/q.csv", quoted.uri, HEADER, "missing_columns", RECORDS),
    ]
    ctx = BatchContext("b1", datetime(2026, 3, 1, tzinfo=UTC), 3600)
    try:
        counts = engine.validate("users", specs, ctx)
    finally:
        engine.close()
    assert [(c.rows_read, c.rows_kept, c.rows_quarantined) for c in counts] == [
        (5, 1, 4),
        (2, 0, 2),
    ]
    rel = "quarantine/users/batch_id=b1/quarantine.parquet"
    found = duckdb.sql(
        f"select source_file, line, reasons, raw_record from '{lake / rel}' order by all"
    ).fetchall()
    assert found == [
        ("landing/users/q.csv", 2, "malformed_row", "a,\nb"),
        ("landing/users/q.csv", 4, "missing_columns", None),
        ("landing/users/users.csv", 3, "missing_user_id", None),
        ("landing/users/users.csv", 4, "duplicate_user_id", None),
        ("landing/users/users.csv", 5, "malformed_row", "u4,33,x"),
        ("landing/users/users.csv", 7, "invalid_age", None),
    ]


def test_remote_lake_reads_uploaded_copies(spark: Any, tmp_path: Path) -> None:
    """Executors cannot read the driver's files: for a lake that is not local they are
    uploaded into it, and removed when the engine closes (cached rows may need them until
    then)."""
    from musicstream.engines.spark.engine import SparkEngine
    from musicstream.lake import open_lake
    from musicstream.settings import load_settings

    lake = open_lake("memory://musicstream-test-lake")
    settings = load_settings(lake=str(tmp_path), engine="spark", spark_master="local[2]")
    engine = SparkEngine(settings, lake)
    specs = [
        _lines_file(tmp_path / "a.csv", ["u1,t1,x,1"], index=0),
        FileSpec(1, "landing/streams/e.csv", str(tmp_path / "missing"), ()),
    ]
    folder = "_state/tmp/admitted/b1/streams"
    try:
        readable = engine._readable("streams", specs, "b1")
        assert readable[0].uri == lake.uri(f"{folder}/0.csv")
        assert lake.read_bytes(f"{folder}/0.csv") == (tmp_path / "a.csv").read_bytes()
        assert readable[1] == specs[1]
        engine.close()
        assert not lake.exists(folder)
    finally:
        engine.close()
        lake.remove("", recursive=True)
