"""Every SPEC §2 reason code, on hand-made files; conservation of rows for every file."""

from __future__ import annotations

import json
from pathlib import Path

import musicstream.state as state
from conftest import STREAM_HEADER, Landing, read_curated_streams, read_quarantine, song


def reasons_by_key(rows: list[dict], key: str) -> dict[str, set[str]]:
    return {r[key]: set(r["reasons"].split(";")) for r in rows if r[key] is not None}


def manifest(lake: Path) -> dict:
    (path,) = (lake / "_state" / "batches").glob("*.json")
    return json.loads(path.read_text())


def assert_conserved(lake: Path) -> None:
    for f in manifest(lake)["files"]:
        assert f["rows_read"] == f["rows_kept"] + f["rows_quarantined"], f


def test_song_rules(lake: Path, landing: Landing, run) -> None:
    landing.songs(
        [
            song(0, "ok1", "pop"),
            song(1, "", "pop"),  # missing_track_id
            song(2, "ok1", "rock"),  # duplicate_track_id
            song(3, "nogenre", " "),  # missing_genre
            song(4, "zero", "pop", duration=0),  # invalid_duration_ms
            song(5, "huge", "pop", duration=86_400_001),  # invalid_duration_ms
            song(6, "frac", "pop", duration="1000.5"),  # invalid_duration_ms
            song(7, "pop101", "pop", popularity=101),  # invalid_popularity
            song(8, "popx", "pop", popularity="x"),  # invalid_popularity
            song(9, "expl", "pop", explicit="maybe"),  # invalid_explicit
            song(10, "multi", "", duration=-1, popularity=-1),  # three reasons at once
            song(11, "ok2", "rock", duration=86_400_000, popularity="", explicit="1"),
            song(12, "ok3", "rock", duration=1, popularity=0, explicit="true"),
        ]
    )
    run(lake)
    got = reasons_by_key(read_quarantine(lake, "songs"), "track_id")
    assert got == {
        "ok1": {"duplicate_track_id"},
        "nogenre": {"missing_genre"},
        "zero": {"invalid_duration_ms"},
        "huge": {"invalid_duration_ms"},
        "frac": {"invalid_duration_ms"},
        "pop101": {"invalid_popularity"},
        "popx": {"invalid_popularity"},
        "expl": {"invalid_explicit"},
        "multi": {"missing_genre", "invalid_duration_ms", "invalid_popularity"},
    }
    missing = [r for r in read_quarantine(lake, "songs") if r["track_id"] is None]
    assert [set(r["reasons"].split(";")) for r in missing] == [{"missing_track_id"}]
    (f,) = manifest(lake)["files"]
    assert (f["rows_read"], f["rows_kept"], f["rows_quarantined"]) == (13, 3, 10)


def test_user_rules(lake: Path, landing: Landing, run) -> None:
    landing.users(
        [
            ["u1", "Ann", 30, "US", "2026-01-01"],
            ["", "NoId", 30, "US", "2026-01-01"],  # missing_user_id
            ["u1", "Again", 31, "FR", "2026-01-01"],  # duplicate_user_id
            ["young", "Kid", 12, "US", ""],  # invalid_age
            ["old", "Old", 121, "US", ""],  # invalid_age
            ["agex", "X", "thirty", "US", ""],  # invalid_age
            ["badts", "B", 40, "US", "2026-02-30"],  # invalid_created_at
            ["ok13", "T", 13, "", "2026-01-01T10:00:00+02:00"],
            ["ok120", "S", 120, "US", "2026-01-01 10:00:00"],
            ["noage", "N", "", "DE", ""],
        ]
    )
    run(lake)
    got = reasons_by_key(read_quarantine(lake, "users"), "user_id")
    assert got == {
        "u1": {"duplicate_user_id"},
        "young": {"invalid_age"},
        "old": {"invalid_age"},
        "agex": {"invalid_age"},
        "badts": {"invalid_created_at"},
    }
    assert_conserved(lake)
    assert manifest(lake)["files"][0]["rows_kept"] == 4


def base_dims(landing: Landing) -> None:
    landing.songs([song(0, "t1", "pop", duration=180_000), song(1, "t2", "rock")])
    landing.users([["u1", "Ann", 30, "US", "2026-01-01"], ["u2", "Bob", 40, "FR", "2026-03-01"]])


def test_stream_rules(lake: Path, landing: Landing, run) -> None:
    base_dims(landing)
    landing.streams(
        [
            ["u1", "t1", "2026-01-02 10:00:00", 1000],  # kept
            ["", "t1", "2026-01-02 10:00:00", 1],  # missing_user_id
            ["nobody", "t1", "2026-01-02 10:00:00", 1],  # unknown_user
            ["u1", "", "2026-01-02 10:00:00", 1],  # missing_track_id
            ["u1", "nosong", "2026-01-02 10:00:00", 1],  # unknown_track
            ["u1", "t2", "yesterday", 1],  # invalid_listen_time
            ["u1", "t2", "2026-01-02", 1],  # invalid_listen_time (no time)
            ["u1", "t2", "2099-01-01 00:00:00", 1],  # future_listen_time
            ["u1", "t2", "2026-01-02 11:00:00", -1],  # invalid_ms_played
            ["u1", "t2", "2026-01-02 12:00:00", "12.5"],  # invalid_ms_played
            ["u1", "t2", "2026-01-02 13:00:00", 86_400_001],  # invalid_ms_played
            ["u1", "t1", "2026-01-02T10:00:00Z", 5],  # duplicate_event (same instant)
            ["u1", "t1", "2026-01-02T12:00:00+02:00", 5],  # duplicate_event (same instant)
            ["u2", "t1", "2026-01-03 00:00:00", ""],  # kept, listen_before_signup
            [" u2 ", " t2 ", "2026-03-02T00:30:00.250", 0],  # kept (ids trimmed)
            ["nobody", "", "bad", "x"],  # four reasons at once
        ]
    )
    run(lake)
    rows = read_quarantine(lake, "streams")
    got = sorted(sorted(r["reasons"].split(";")) for r in rows)
    assert got == sorted(
        [
            ["missing_user_id"],
            ["unknown_user"],
            ["missing_track_id"],
            ["unknown_track"],
            ["invalid_listen_time"],
            ["invalid_listen_time"],
            ["future_listen_time"],
            ["invalid_ms_played"],
            ["invalid_ms_played"],
            ["invalid_ms_played"],
            ["duplicate_event"],
            ["duplicate_event"],
            sorted(
                ["unknown_user", "missing_track_id", "invalid_listen_time", "invalid_ms_played"]
            ),
        ]
    )
    kept = read_curated_streams(lake)
    assert sorted((r["user_id"], r["track_id"], r["ms_played"]) for r in kept) == [
        ("u1", "t1", 1000),
        ("u2", "t1", None),
        ("u2", "t2", 0),
    ]
    quality = {(q["dataset"], q["reason"]): q["rows"] for q in manifest(lake)["quality"]}
    assert quality[("streams", "listen_before_signup")] == 1
    assert quality[("streams", "kept")] == 3
    assert_conserved(lake)


def test_quarantine_keeps_original_fields_file_and_line(lake: Path, landing: Landing, run) -> None:
    base_dims(landing)
    landing.streams(
        [],
        raw=(
            "user_id,track_id,listen_time\n"
            "u1,t1,2026-01-02 10:00:00\n"  # line 2
            "u1,t1,2026-01-02 10:00:00,extra\n"  # line 3: malformed (too many fields)
            'u1,"t1\n'  # line 4: broken quoting swallows the rest
        ),
        name="a.csv",
    )
    landing.streams(
        [],
        raw=(
            "user_id,track_id,listen_time\n"
            "u1,t1,2026-01-02 11:00:00\n"  # line 2
            "u1,t1,2026-01-02 11:00:00,x\n"  # line 3: malformed
            "u9, t1 ,2026-01-02 12:00:00\n"  # line 4: unknown_user
        ),
        name="b.csv",
    )
    run(lake)
    rows = read_quarantine(lake, "streams")
    by_line = {(r["source_file"], r["line"]): r for r in rows}
    assert by_line[("landing/streams/a.csv", 3)]["reasons"] == "malformed_row"
    assert by_line[("landing/streams/a.csv", 3)]["raw_record"] == "u1,t1,2026-01-02 10:00:00,extra"
    assert by_line[("landing/streams/a.csv", 4)]["reasons"] == "malformed_row"
    bad = by_line[("landing/streams/b.csv", 4)]
    assert (bad["reasons"], bad["user_id"], bad["track_id"]) == ("unknown_user", "u9", " t1 ")
    assert len(rows) == 4
    assert_conserved(lake)


def test_headers_bom_gzip_case_order_extra_columns(lake: Path, landing: Landing, run) -> None:
    base_dims(landing)
    landing.write(
        "streams",
        "odd.csv.gz",
        [" MS_Played", "Listen_Time ", "TRACK_ID", "x", "User_Id"],
        [
            [10, "2026-01-02 10:00:00", "t1", "ignored", "u1"],
            [20, "2026-01-02 11:00:00", "t2", "ignored, with comma", "u2"],
        ],
        bom=True,
        gz=True,
    )
    landing.write("streams", "quoted.csv", STREAM_HEADER, [["u1", "t2", "2026-01-02 12:00:00", 30]])
    run(lake)
    kept = sorted((r["user_id"], r["track_id"], r["ms_played"]) for r in read_curated_streams(lake))
    assert kept == [("u1", "t1", 10), ("u1", "t2", 30), ("u2", "t2", 20)]
    assert read_quarantine(lake, "streams") == []


def test_missing_columns_quarantines_whole_file_and_the_rest_loads(
    lake: Path, landing: Landing, run
) -> None:
    base_dims(landing)
    landing.write("streams", "no_time.csv", ["user_id", "track_id"], [["u1", "t1"], ["u2", "t2"]])
    landing.write("streams", "empty.csv", [], [], raw="")
    landing.streams([["u1", "t1", "2026-01-02 10:00:00", 1]], name="good.csv")
    run(lake)
    rows = read_quarantine(lake, "streams")
    assert [(r["source_file"], r["reasons"], r["user_id"]) for r in rows] == [
        ("landing/streams/no_time.csv", "missing_columns", "u1"),
        ("landing/streams/no_time.csv", "missing_columns", "u2"),
    ]
    files = {f["path"]: f for f in manifest(lake)["files"]}
    assert files["landing/streams/empty.csv"]["rows_read"] == 0
    assert files["landing/streams/good.csv"]["rows_kept"] == 1
    assert_conserved(lake)


def test_ledger_status_is_archived(lake: Path, landing: Landing, run) -> None:
    base_dims(landing)
    run(lake)
    assert manifest(lake)["status"] == state.ARCHIVED
