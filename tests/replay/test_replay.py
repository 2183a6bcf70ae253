"""`musicstream replay`: streams quarantined for a song or user that landed later get a second
chance as a new batch, counted once, with the quarantine left append-only (SPEC §2, §4)."""

from __future__ import annotations

import csv
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from conftest import (
    STREAM_HEADER,
    Landing,
    cli,
    csv_text,
    read_curated_streams,
    read_quarantine,
    read_table,
    song,
)
from musicstream import pipeline, replay
from musicstream.datasets import KPIS
from musicstream.errors import QualityGateFailed
from musicstream.pipeline import lake_for
from musicstream.settings import Settings
from musicstream.state import Ledger

Run = Callable[..., dict[str, Any]]
Make = Callable[..., Settings]

USERS = [["u1", "a", 30, "US", ""], ["u2", "b", 30, "FR", ""]]
# Batch 1: t9's song only lands in batch 2, t8's never; ghost never signs up.
FIRST = [
    ["u1", "t1", "2026-01-02 10:00:00", ""],
    ["u1", "t9", "2026-01-02 11:00:00", 1000],  # unknown_track, then kept by the replay
    ["u2", " t9", "2026-01-03 09:00:00", ""],  # unknown_track; batch 2 re-sends it (trimmed)
    ["u1", "t8", "2026-01-02 12:00:00", ""],  # unknown_track, and its song never comes
    ["ghost", "t9", "2026-01-02 13:00:00", ""],  # unknown_user;unknown_track: the user never comes
    ["u2", "t9", "not a time", ""],  # unknown_track;invalid_listen_time: no replay cures it
]
RESENT = [["u2", "t9", "2026-01-03 09:00:00", ""]]  # kept in batch 2: a replay of it is a copy


@pytest.fixture
def late(lake: Path, landing: Landing, run: Run) -> Path:
    """Batch 1 quarantines streams of t9 as unknown_track; batch 2 brings t9's song."""
    landing.songs([song(0, "t1", "pop", 1000, "A;B")])
    landing.users(USERS)
    landing.streams(FIRST, name="a.csv")
    first = run(lake)
    assert first["datasets"]["streams"]["reasons"]["unknown_track"] == 5
    landing.songs([song(0, "t9", "rock", 3000, "C")], name="late.csv")
    landing.streams(RESENT, name="b.csv")
    run(lake)
    return lake


def files_under(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def kpis(lake: Path) -> dict[str, list[dict[str, Any]]]:
    return {t: sorted(read_table(lake, t), key=lambda r: json.dumps(r, default=str)) for t in KPIS}


def events(lake: Path) -> list[tuple[str, str, str]]:
    return sorted(
        (r["user_id"], r["track_id"], str(r["listen_time"])) for r in read_curated_streams(lake)
    )


def test_replay_counts_late_streams_as_a_lake_that_had_the_song_first(
    late: Path, tmp_path: Path, settings_for: Make, run: Run
) -> None:
    quarantine_before = files_under(late / "quarantine")
    rock = [r for r in read_table(late, "genre_daily") if r["genre"] == "rock"]
    assert [r["report_date"] for r in rock] == ["2026-01-03"]  # the re-sent event only

    report = replay.replay(settings_for(late), ["unknown_track"])

    made = report["replay"]
    assert (made["rows"], made["kept"], made["quarantined"]) == (2, 1, 1)
    assert report["still_missing"] == 2  # t8's song and ghost are still unknown
    assert report["run"]["status"] == "ok" and made["batch_id"] in report["run"]["batch_ids"]
    # An oracle: the same files landed after the song, into a fresh lake.
    oracle = tmp_path / "oracle"
    fresh = Landing(oracle)
    fresh.songs([song(0, "t1", "pop", 1000, "A;B"), song(1, "t9", "rock", 3000, "C")])
    fresh.users(USERS)
    fresh.streams(FIRST, name="a.csv")
    fresh.streams(RESENT, name="b.csv")
    run(oracle)
    assert kpis(late) == kpis(oracle)
    assert events(late) == events(oracle)
    assert {
        (r["report_date"], r["listen_count"])
        for r in read_table(late, "genre_daily")
        if r["genre"] == "rock"
    } == {("2026-01-02", 1), ("2026-01-03", 1)}
    # The re-sent event comes back as a copy, quarantined in the replay's own batch.
    quarantine = read_quarantine(late, "streams")
    (again,) = [q for q in quarantine if q["source_file"] == made["landing_file"]]
    assert (again["track_id"], again["reasons"]) == (" t9", "duplicate_event")
    # The replayed file says where each row came from.
    (archived,) = (late / "archive").rglob(f"{made['replay_id']}.csv")
    lineage = list(csv.DictReader(archived.read_text("utf-8-sig").splitlines()))
    (first,) = [r for r in lineage if r["track_id"] == "t9"]
    assert (first["from_file"], first["from_line"]) == ("landing/streams/a.csv", "3")
    (origin,) = [
        b
        for b in Ledger(lake_for(settings_for(late))).batches()
        if any(f.path == "landing/streams/a.csv" for f in b.files)
    ]
    assert first["from_batch"] == origin.batch_id
    # Append-only: every earlier quarantine file is still there, byte for byte.
    after = files_under(late / "quarantine")
    assert {k: after[k] for k in quarantine_before} == quarantine_before
    assert len(after) == len(quarantine_before) + 1


def test_a_second_replay_takes_nothing_until_the_missing_song_lands(
    late: Path, landing: Landing, settings_for: Make, run: Run
) -> None:
    settings = settings_for(late)
    replay.replay(settings, ["unknown_track"])
    batches = len(Ledger(lake_for(settings)).batches())
    kept = events(late)

    again = replay.replay(settings, ["unknown_track", "unknown_user"])

    assert again["replay"] is None and again["run"] is None
    assert again["still_missing"] == 2
    assert len(Ledger(lake_for(settings)).batches()) == batches
    assert len(list((late / "_state" / "replays").iterdir())) == 1
    assert events(late) == kept
    # t8's song arrives: the next replay takes that one row, and nothing it took before.
    landing.songs([song(0, "t8", "jazz")], name="later.csv")
    run(late)
    third = replay.replay(settings, ["unknown_track"])["replay"]
    assert (third["rows"], third["kept"], third["quarantined"]) == (1, 1, 0)
    assert ("u1", "t8", "2026-01-02 12:00:00") in events(late)


def test_status_shows_each_replay_and_its_outcome(late: Path) -> None:
    proc = cli("replay", "--reason", "unknown_track", "--lake", str(late))
    assert proc.returncode == 0, proc.stderr
    assert "2 row(s) (unknown_track)" in proc.stdout
    assert "Replayed rows: 1 kept, 1 quarantined again" in proc.stdout

    proc = cli("status", "--lake", str(late), "--log-format", "json")
    assert proc.returncode == 0, proc.stderr
    (row,) = json.loads(proc.stdout)["replays"]
    assert (row["reasons"], row["rows"], row["outcome"]) == ("unknown_track", 2, "archived")
    assert (row["kept"], row["quarantined"]) == (1, 1)
    proc = cli("status", "--lake", str(late))
    assert "Replays" in proc.stdout and row["replay_id"] in proc.stdout

    proc = cli("replay", "--reason", "unknown_track", "--lake", str(late), "--log-format", "json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == {
        "replay": None,
        "still_missing": 2,
        "run": None,
        "note": None,
    }


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--reason", "invalid_listen_time"], "cannot replay reason 'invalid_listen_time'"),
        (["--reason", "unknown_track", "--reason", "duplicate_event"], "cannot replay reason"),
        (["--reason", "unknown_track", "--batch", "nope"], "no batch nope in the ledger"),
        ([], "Missing option '--reason'"),
    ],
)
def test_a_bad_replay_is_one_line_and_exit_2(lake: Path, args: list[str], message: str) -> None:
    proc = cli("replay", *args, "--lake", str(lake))
    assert proc.returncode == 2
    assert proc.stdout == "" and len(proc.stderr.strip().splitlines()) == 1
    assert message in proc.stderr


def test_batch_limits_the_selection(
    lake: Path, landing: Landing, settings_for: Make, run: Run
) -> None:
    landing.songs([song(0, "t1", "pop")])
    landing.users(USERS)
    landing.streams([["u1", "t9", "2026-01-02 11:00:00", ""]], name="a.csv")
    (first,) = run(lake)["batch_ids"]
    landing.streams([["u2", "t9", "2026-01-04 11:00:00", ""]], name="b.csv")
    (second,) = run(lake)["batch_ids"]
    landing.songs([song(0, "t9", "rock")], name="late.csv")
    run(lake)
    settings = settings_for(lake)

    only = replay.replay(settings, ["unknown_track"], [second])["replay"]

    assert (only["rows"], only["kept"]) == (1, 1)
    assert events(lake) == [("u2", "t9", "2026-01-04 11:00:00")]
    rest = replay.replay(settings, ["unknown_track"])["replay"]
    assert (rest["rows"], rest["kept"]) == (1, 1)
    assert len(events(lake)) == 2
    assert replay.replay(settings, ["unknown_track"], [first])["replay"] is None


def test_a_landed_replay_not_yet_run_is_pending_and_counted_once(
    late: Path, settings_for: Make, run: Run
) -> None:
    """As when a run is busy while the replay lands its file: nothing is taken twice."""
    settings = settings_for(late)
    made, _ = replay.take(lake_for(settings), {"unknown_track"}, None)
    assert made is not None
    assert (late / made.landing_file).exists()
    (row,) = replay.summaries(lake_for(settings), Ledger(lake_for(settings)).batches())
    assert (row["outcome"], row["kept"]) == ("pending", None)

    assert replay.replay(settings, ["unknown_track"])["replay"] is None
    run(late)
    assert events(late).count(("u1", "t9", "2026-01-02 11:00:00")) == 1
    (row,) = replay.summaries(lake_for(settings), Ledger(lake_for(settings)).batches())
    assert (row["outcome"], row["kept"], row["quarantined"]) == ("archived", 1, 1)


def test_a_replay_killed_before_its_file_landed_frees_its_rows(
    late: Path, settings_for: Make, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = settings_for(late)

    def killed(*args: Any) -> None:
        raise OSError("killed")

    with monkeypatch.context() as patch:
        patch.setattr(replay.manifest, "land", killed)
        with pytest.raises(OSError, match="killed"):
            replay.replay(settings, ["unknown_track"])
    assert len(list((late / "_state" / "replays").iterdir())) == 1  # a manifest, no file

    made = replay.replay(settings, ["unknown_track"])["replay"]

    assert (made["rows"], made["kept"]) == (2, 1)
    assert [p.stem for p in (late / "_state" / "replays").iterdir()] == [made["replay_id"]]


def test_rows_of_a_replay_the_gate_rejected_can_be_replayed_again(
    late: Path, settings_for: Make
) -> None:
    with pytest.raises(QualityGateFailed):  # 1 of its 2 rows is a copy: 50% bad
        replay.replay(settings_for(late, max_bad_ratio=0.4), ["unknown_track"])
    assert ("u1", "t9", "2026-01-02 11:00:00") not in events(late)

    made = replay.replay(settings_for(late), ["unknown_track"])["replay"]

    assert (made["rows"], made["kept"], made["quarantined"]) == (2, 1, 1)
    assert events(late).count(("u1", "t9", "2026-01-02 11:00:00")) == 1


def test_the_replay_file_is_settled_at_once_and_files_in_flight_wait(
    late: Path, landing: Landing, settings_for: Make
) -> None:
    in_flight = landing.streams([["u1", "t1", "2026-01-05 10:00:00", ""]], name="uploading.csv")
    started = time.monotonic()

    made = replay.replay(settings_for(late, settle_s=30), ["unknown_track"])["replay"]

    assert time.monotonic() - started < 30  # it did not wait out the settle window
    assert (made["outcome"], made["kept"]) == ("archived", 1)
    assert in_flight.exists()  # still landing: left for a later run, as any run leaves it


def test_the_replay_file_reads_right_whatever_the_input_encoding(
    lake: Path, settings_for: Make
) -> None:
    def land(dataset: str, name: str, header: list[str], rows: list[list[Any]]) -> None:
        folder = lake / "landing" / dataset
        folder.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(csv_text(header, rows).encode("cp1252"))

    settings = settings_for(lake, input_encoding="cp1252")
    land("users", "users.csv", ["user_id"], [["u1"]])
    land("streams", "a.csv", STREAM_HEADER, [["u1", "café", "2026-01-02 10:00:00", ""]])
    pipeline.run(settings)
    land("songs", "songs.csv", ["track_id", "track_genre", "duration_ms"], [["café", "pop", 1000]])
    pipeline.run(settings)

    made = replay.replay(settings, ["unknown_track"])["replay"]

    assert (made["kept"], made["quarantined"]) == (1, 0)
    assert events(lake) == [("u1", "café", "2026-01-02 10:00:00")]


@pytest.mark.parametrize(
    "value", [None, "", " \t", "t9", " t9", "t9\t", " \tt9 \t", "t 9", "\u00a0t9", "t9\n", "\x01t9"]
)
def test_a_replay_matches_ids_as_validation_does(value: str | None) -> None:
    """The replay's ``_id`` trims as the SQL macro ``ms_id`` (an empty id matches nothing)."""
    from importlib import resources

    import duckdb

    from musicstream.replay.rows import _id

    macros = resources.files("musicstream.engines.duckdb").joinpath("macros.sql")
    con = duckdb.connect()
    con.execute(macros.read_text("utf-8"))
    (expected,) = con.execute("select ms_id(?)", [value]).fetchone()
    assert (_id(value) or None) == expected
