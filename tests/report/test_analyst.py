"""The analysts' API (``musicstream.connect``, ``read_kpis``), ``sql`` and ``catalog duckdb``,
on a small dirty lake made by the real pipeline; every answer is checked against the lake's
Parquet files read independently with pyarrow."""

from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import pyarrow.parquet as pq
import pytest

import musicstream
from conftest import cli
from musicstream import pipeline
from musicstream.datasets import KPI_COLUMNS, KPI_KEYS, KPIS
from musicstream.errors import UserError
from musicstream.generate import generate
from musicstream.report.tables import TABLES
from musicstream.report.views import write_catalog
from musicstream.settings import load_settings

START = dt.date(2026, 1, 26)  # a Monday; 9 days: two ISO weeks, two months
DAYS = [START + dt.timedelta(days=i) for i in range(9)]
DATE_KEYS = ("report_date", "period_start")
Row = dict[str, Any]


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A lake with files in every table: dirty data gives quarantined rows and files."""
    root = tmp_path_factory.mktemp("analyst") / "lake"
    generate(root / "landing", streams=1500, songs=60, users=80, days=9, start=START, dirty=0.05)
    pipeline.run(load_settings(lake=str(root), progress=False))
    return str(root)


def lake_rows(lake: str, table: str) -> list[Row]:
    """Every row of a table's Parquet files, the partition keys from the path (dated keys as
    dates): the lake read without DuckDB."""
    base = Path(lake) / TABLES[table].prefix
    rows = []
    for path in sorted(base.rglob("*.parquet")):
        keys = dict(part.split("=", 1) for part in path.relative_to(base).parent.parts)
        typed = {k: dt.date.fromisoformat(v) if k in DATE_KEYS else v for k, v in keys.items()}
        rows += [{**row, **typed} for row in pq.read_table(path).to_pylist()]
    return rows


def as_multiset(rows: list[Row]) -> list[list[tuple[str, Any]]]:
    items = [sorted(r.items()) for r in rows]
    return sorted(items, key=lambda r: [(k, str(v)) for k, v in r])


def busiest(lake: str, table: str, column: str) -> Any:
    """A key value the lake has: the one of the row with the most plays."""
    return max(lake_rows(lake, table), key=lambda r: r["listen_count"])[column]


def test_every_table_is_a_view_equal_to_its_files(lake: str) -> None:
    con = musicstream.connect(lake)
    assert {name for (name,) in con.sql("show tables").fetchall()} == set(TABLES)
    for table in TABLES:
        want = lake_rows(lake, table)
        assert want, f"the fixture lake has no {table} rows"
        got = con.sql(f"select * from {table}").to_arrow_table().to_pylist()
        assert len(got) == len(want), table
        assert as_multiset(got) == as_multiset(want), table


def test_dated_keys_are_dates(lake: str) -> None:
    con = musicstream.connect(lake)
    for table in [*KPIS, "streams"]:
        rel = con.sql(f"from {table}")
        types = dict(zip(rel.columns, map(str, rel.types), strict=True))
        key = "period_start" if table == "active_listeners" else "report_date"
        assert types[key] == "DATE", table
    got = con.sql(
        "select count(*) from genre_daily where report_date between '2026-01-30' and ?",
        params=[dt.date(2026, 2, 1)],
    ).fetchall()
    rows = lake_rows(lake, "genre_daily")
    assert got == [(sum(1 for r in rows if DAYS[4] <= r["report_date"] <= DAYS[6]),)]


def test_a_table_without_files_is_an_empty_view_with_its_columns(lake: str, tmp_path: Path) -> None:
    full, empty = musicstream.connect(lake), musicstream.connect(str(tmp_path))
    for table in TABLES:
        assert empty.sql(f"select count(*) from {table}").fetchall() == [(0,)]
        assert empty.sql(f"describe {table}").fetchall() == full.sql(f"describe {table}").fetchall()


def expected(lake: str, table: str, keep: Callable[[Row], bool]) -> list[Row]:
    """read_kpis' answer worked out in Python: its columns, its rows, in key order."""
    rows = [{c: r[c] for c in KPI_COLUMNS[table]} for r in lake_rows(lake, table) if keep(r)]
    return sorted(rows, key=lambda r: tuple(r[k] for k in KPI_KEYS[table]))


def check(lake: str, table: str, keep: Callable[[Row], bool], **filters: Any) -> None:
    got = musicstream.read_kpis(table, lake=lake, **filters)
    assert got.column_names == list(KPI_COLUMNS[table])
    want = expected(lake, table, keep)
    assert want, f"{table} {filters}: a filter that keeps nothing proves little"
    assert got.to_pylist() == want


def test_read_kpis_by_date_and_range(lake: str) -> None:
    check(lake, "top_songs_daily", lambda r: r["report_date"] == DAYS[2], date=DAYS[2])
    check(lake, "country_daily", lambda r: r["report_date"] == DAYS[2], date="2026-01-28")
    genre = busiest(lake, "genre_daily", "genre")
    check(
        lake,
        "genre_daily",
        lambda r: DAYS[2] <= r["report_date"] <= DAYS[7] and r["genre"] == genre,
        date_from="2026-01-28",
        date_to=DAYS[7],
        genre=genre,
    )
    check(lake, "hourly_activity", lambda r: True)  # no filter: the whole table


def test_read_kpis_by_track_user_and_period(lake: str) -> None:
    track = busiest(lake, "track_daily", "track_id")
    check(lake, "track_daily", lambda r: r["track_id"] == track, track_id=track)
    user = busiest(lake, "user_daily", "user_id")
    check(
        lake,
        "user_daily",
        lambda r: r["user_id"] == user and r["report_date"] <= DAYS[6],
        user_id=user,
        date_to="2026-02-01",
    )
    check(
        lake,
        "active_listeners",
        lambda r: r["period"] == "week" and r["period_start"] >= DAYS[1],
        period="week",
        date_from=DAYS[1],
    )


@pytest.mark.parametrize(
    ("table", "filters", "message"),
    [
        ("genre_weekly", {}, "unknown KPI table 'genre_weekly'; one of genre_daily, "),
        (
            "genre_daily",
            {"track_id": "t1"},
            "genre_daily has no track_id column; its filters: date, date_from, date_to, genre",
        ),
        ("active_listeners", {"period": "year"}, "unknown period 'year'; one of day, week, month"),
        ("genre_daily", {"date": "2026-13-01"}, "date must be a date like 2026-01-31"),
        ("genre_daily", {"date": DAYS[0], "date_to": DAYS[1]}, "give date, or date_from/date_to"),
        (
            "genre_daily",
            {"date_from": DAYS[1], "date_to": DAYS[0]},
            "date_from 2026-01-27 is after date_to 2026-01-26",
        ),
    ],
    ids=["table", "filter", "period", "bad-date", "date-and-range", "empty-range"],
)
def test_read_kpis_mistakes(lake: str, table: str, filters: dict[str, Any], message: str) -> None:
    with pytest.raises(UserError, match="^" + re.escape(message)):
        musicstream.read_kpis(table, lake=lake, **filters)


def test_a_missing_lake_is_one_clear_error(tmp_path: Path) -> None:
    missing = str(tmp_path / "nowhere")
    for call in (
        lambda: musicstream.connect(missing),
        lambda: musicstream.read_kpis("genre_daily", lake=missing),
    ):
        with pytest.raises(
            UserError, match=f"^no lake at {re.escape(missing)}: .* does not exist$"
        ):
            call()


def test_sql_command(lake: str) -> None:
    query = "select report_date, genre, listen_count from genre_daily order by all"
    proc = cli("sql", query, "--lake", lake, "--format", "json")
    assert proc.returncode == 0, proc.stderr
    got = [json.loads(line) for line in proc.stdout.splitlines()]
    want = musicstream.connect(lake).sql(query).fetchall()
    assert [tuple(r.values()) for r in got] == [(str(d), g, n) for d, g, n in want]
    proc = cli("sql", "select * from genre_dayly", "--lake", lake)
    assert proc.returncode == 2
    assert proc.stderr.startswith("error: Catalog Error: Table with name genre_dayly")
    assert len(proc.stderr.splitlines()) == 1 and "Traceback" not in proc.stderr


def test_catalog_duckdb_file(lake: str, tmp_path: Path) -> None:
    out = tmp_path / "bi" / "lake.duckdb"
    proc = cli("catalog", "duckdb", "--out", str(out), "--lake", lake)
    assert proc.returncode == 0, proc.stderr
    assert write_catalog(lake, out) == []  # again: the views of that file are replaced
    query = "select period, period_start, listeners from active_listeners order by all"
    with duckdb.connect(str(out), read_only=True) as con:
        assert con.sql(query).fetchall() == musicstream.connect(lake).sql(query).fetchall()
        assert {name for (name,) in con.sql("show tables").fetchall()} == set(TABLES)
    other = tmp_path / "notes.txt"
    other.write_text("mine")
    with pytest.raises(
        UserError, match=re.escape(f"--out {other} exists and is not a DuckDB database")
    ):
        write_catalog(lake, other)
    assert other.read_text() == "mine"


def test_import_musicstream_is_cheap() -> None:
    code = (
        "import sys, musicstream\n"
        "assert 'duckdb' not in sys.modules\n"
        "assert callable(musicstream.connect) and callable(musicstream.read_kpis)\n"
        "heavy = {'plotly', 'matplotlib', 'sqlglot', 'pandas'} & set(sys.modules)\n"
        "assert 'duckdb' in sys.modules and not heavy, heavy\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
