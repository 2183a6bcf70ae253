"""The core contract scenarios, run on DuckDB and on Spark: the lakes must be identical."""

from __future__ import annotations

import gzip
from datetime import timedelta
from pathlib import Path

from conftest import STREAM_HEADER, Landing, land_first, song
from spark_local import CLOCK

from .parity import assert_same

# Broken and unusual CSV, one file each: what DuckDB's strict reader does, Spark must do.
ODD_STREAM_FILES = {
    "quoted_newline.csv": "user_id,track_id,listen_time,ms_played\n"
    'u1,ok1,2026-01-05 08:00:00,"1\n2"\nu2,ok2,2026-01-05 08:00:01,5\n',
    "unterminated.csv": "user_id,track_id,listen_time,ms_played\n"
    'u1,ok1,2026-01-05 09:00:00,1\nu2,"ok2,2026-01-05 09:00:01,2\nu1,ok2,2026-01-05 09:00:02,3\n',
    "quoting.csv": "user_id,track_id,listen_time,ms_played\n"
    '"u1","ok1","2026-01-05 10:00:00",""\n"ab"c,ok1,2026-01-05 10:00:01,1\n'
    'u1,ok2,2026-01-05 10:00:02,"4",extra\nu2,ok2\n'
    'u"2,ok2,2026-01-05 10:00:03,1\n "u1" ,ok2,2026-01-05 10:00:04,1\n'
    '"u2"\t,ok2,2026-01-05 10:00:05,1\n u1,ok1,2026-01-05 10:00:06,1\n\n\n',
    "crlf.csv": "Listen_Time , USER_ID,ms_played,track_id,extra\r\n"
    "2026-01-05 11:00:00,u1,,ok1,x\r\n2026-01-05 11:00:01,u2,7,ok2,y\r\n",
}


def land_rules(landing: Landing) -> None:
    """Every SPEC §2 reason code and warning, and every kind of broken CSV."""
    landing.songs(
        [
            song(0, "ok1", "pop", artists="A;B"),
            song(1, "", "pop"),
            song(2, "ok1", "rock"),
            song(3, "nogenre", " "),
            song(4, "zero", "pop", duration=0),
            song(5, "frac", "pop", duration="1000.5"),
            song(6, "pop101", "pop", popularity=101),
            song(7, "expl", "pop", explicit="maybe"),
            song(8, "multi", "", duration=-1, popularity=-1),
            song(
                9,
                "ok2",
                "rock",
                duration=86_400_000,
                popularity="",
                explicit="1",
                artists=" B ; C;",
            ),
            song(10, " ok3 ", "jazz", duration=" 250000 ", explicit="TRUE", artists=""),
            song(11, "quote", "pop", name='"Heroes" - 2017, Remaster', artists='Bowie;"X"'),
        ]
    )
    landing.users(
        [
            ["u1", "Ann", 30, "FR", "2025-01-01"],
            ["u2", "Bob", "", "", "2026-01-05 10:00:00"],
            ["u3", "Cy", 7, "DE", "bad"],
            ["u1", "dup", 20, "FR", ""],
            ["", "nobody", 40, "US", ""],
            ["u4", "Di", "13", " ", "2025/06/01"],
            ["u5", "Ed", "x", "ES", "2025-01-01T00:00:00Z"],
        ]
    )
    landing.streams(
        [
            ["u1", "ok1", "2026-01-05 12:00:00", 1000],
            ["u2", "ok2", "2026-01-05T13:00:00Z", ""],
            ["u1", "ok1", "2026-01-05 12:00:00", 5],
            ["u9", "ok1", "2026-01-06 01:00:00+02:00", 10],
            ["u2", "t9", "2026-01-06 01:00:00", 3],
            ["u1", "ok2", "nope", 1],
            ["u1", "ok2", "2099-01-01 00:00:00", 1],
            ["u2", "ok1", "2026-01-06 00:30:00+01:00", "-5"],
            ["", "", "", "x"],
            [" u4 ", '"ok3"', "2026-01-04 23:59:59.999", "86400000"],
            ["u2", "ok1", "2026-01-05 09:00:00", "1.5"],
            ["u1", "ok3", "2026-01-05T12:00:00-05:00", 7],
            ["u2", "quote", "05/01/2026 12:00:00", 1],
            ["u2", "quote", "2026-01-05 25:00:00", 1],
        ]
    )
    landing.streams(
        [["u1", "ok1"], ["u2", "ok2"]], name="no_time.csv", header=["user_id", "track_id"]
    )
    landing.streams([], name="header_only.csv")
    landing.write("streams", "empty.csv", STREAM_HEADER, [], raw="")
    landing.streams([["u2", "ok1", "2026-01-05 14:00:00", 9]], name="z.csv.gz", gz=True, bom=True)
    for name, text in ODD_STREAM_FILES.items():
        (landing.lake / "landing/streams" / name).write_text(text, newline="")
    (landing.lake / "landing/streams/latin1.csv").write_bytes(
        b"user_id,track_id,listen_time,ms_played\nu1,ok1,2026-01-05 15:00:00,1\n"
        b"u\xff,ok1,2026-01-05 15:00:01,1\nu2,ok1,2026-01-05 15:00:02,1\n"
    )
    assert gzip  # .csv.gz written by Landing


def test_every_rule_and_odd_csv_same_on_both_engines(
    tmp_path: Path, twin_lakes, run_engine
) -> None:
    land_rules(Landing(tmp_path / "src"))
    duck, spark = twin_lakes(tmp_path / "src")
    run_engine(duck, "duckdb")
    run_engine(spark, "spark")
    shot = assert_same(duck, spark)
    reasons = {r["reason"] for r in shot["batch_quality"]}
    assert {"malformed_row", "missing_columns", "duplicate_event", "unknown_user"} <= reasons
    lines = {(r["source_file"], r["line"]) for r in shot["quarantine/streams"]}
    assert ("landing/streams/unterminated.csv", 3) in lines  # swallows the rest of the file


def land_second(landing: Landing) -> None:
    """Late data, a duplicate of a kept event in another spelling, dimension upserts."""
    landing.songs(
        [song(0, "t1", "rock", 1000, "A"), song(1, "t3", "jazz", 3000, "C")], name="s2.csv"
    )
    landing.users([["u3", "c", 30, "", ""], ["u1", "a", 30, "DE", ""]], name="u2.csv")
    landing.streams(
        [
            ["u1", "t1", "2026-01-02T10:00:00Z", ""],
            ["u3", "t3", "2026-01-02 12:00:00", ""],
            ["u2", "t1", "2026-01-04 10:00:00", ""],
            ["u1", "t3", "2026-01-05 10:00:00", "x"],
            ["u2", "t2", "2026-01-03 10:00:00", 5],
        ],
        name="b.csv",
    )
    (landing.lake / "landing/streams/again").mkdir(parents=True)
    landing.streams(
        [
            ["u1", "t1", "2026-01-02 10:00:00", ""],
            ["u2", "t2", "2026-01-03 10:00:00", 5],
            ["ghost", "t2", "2026-01-03 11:00:00", 5],
        ],
        name="again/a-copy.csv",
    )


def test_engines_continue_each_others_lakes(tmp_path: Path, run_engine) -> None:
    """Batch 2 after batch 1 (late data, upserts, cross-batch duplicates, a re-landed file):
    Spark continuing a DuckDB lake, and DuckDB continuing a Spark lake, end where DuckDB
    alone does."""
    orders = {"duck": ("duckdb", "duckdb"), "d_s": ("duckdb", "spark"), "s_d": ("spark", "duckdb")}
    for name, engines in orders.items():
        lake = tmp_path / name
        land_first(Landing(lake))
        run_engine(lake, engines[0])
        land_second(Landing(lake))
        run_engine(lake, engines[1], clock=CLOCK + timedelta(hours=1))
    shot = assert_same(tmp_path / "duck", tmp_path / "d_s")
    assert_same(tmp_path / "duck", tmp_path / "s_d")
    assert [len(b["files"]) for b in shot["ledger"]] == [3, 4]
