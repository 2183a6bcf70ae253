"""Files in flight (SPEC §2): settling, files changed after planning, and landing order."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pyarrow.parquet as pq

from conftest import STREAM_HEADER, Landing, cli, read_curated_streams, song
from musicstream import pipeline
from musicstream.pipeline import tasks

ROW = "u{u},t1,2026-01-{d:02d} {h:02d}:{m:02d}:{s:02d},\n"


def _dims(landing: Landing, users: int = 5) -> None:
    landing.songs([song(0, "t1", "pop")])
    landing.users([[f"u{i}", "x", 30, "US", ""] for i in range(users)])


def _events(n: int, start: int = 0) -> list[str]:
    return [
        ROW.format(u=i % 5, d=2 + i // 86400, h=(i // 3600) % 24, m=(i // 60) % 60, s=i % 60)
        for i in range(start, start + n)
    ]


def _kept_events(lake: Path) -> list[tuple[str, str, str]]:
    return [
        (r["user_id"], r["track_id"], str(r["listen_time"])) for r in read_curated_streams(lake)
    ]


def test_a_file_is_taken_only_once_it_has_settled(
    lake: Path, landing: Landing, settings_for
) -> None:
    _dims(landing)
    landing.streams([["u1", "t1", "2026-01-02 10:00:00", ""]])
    waiting = pipeline.run(settings_for(lake, settle_s=60))
    assert waiting["status"] == "nothing_new"
    assert (lake / "landing/streams/streams.csv").exists()
    for path in (lake / "landing").rglob("*.csv"):  # as if they landed a minute ago
        os.utime(path, (time.time() - 61, time.time() - 61))
    done = pipeline.run(settings_for(lake, settle_s=60))
    assert done["status"] == "ok" and done["datasets"]["streams"]["kept"] == 1


def test_a_file_replaced_after_planning_loses_no_row(
    lake: Path, landing: Landing, settings_for
) -> None:
    _dims(landing)
    settings = settings_for(lake)
    first, more = _events(300), _events(200, start=300)
    path = lake / "landing/streams/live.csv"
    path.parent.mkdir(parents=True)
    path.write_text(",".join(STREAM_HEADER) + "\n" + "".join(first))
    planned = tasks.plan_batch(settings)
    assert planned is not None
    # the exporter rewrites the file (tmp + rename) with everything so far
    tmp = path.with_name(".live.csv.tmp")
    tmp.write_text(",".join(STREAM_HEADER) + "\n" + "".join(first + more))
    os.replace(tmp, path)
    # one run: the planned batch processes the content it hashed; the changed file is left
    # in landing and, settled, is planned again as a new file in the same run
    summary = pipeline.run(settings)
    assert len(summary["batch_ids"]) == 2
    assert summary["files_left_in_landing"] == ["landing/streams/live.csv"]
    first_batch = summary["batches"][0]["files"]
    assert [f["rows_kept"] for f in first_batch if f["dataset"] == "streams"] == [300]
    archived = sorted((lake / "archive/streams").rglob("live.csv"))
    assert sorted(p.read_text().count("\n") for p in archived) == [301, 501]
    streams = summary["datasets"]["streams"]
    assert (streams["kept"], streams["reasons"]) == (500, {"duplicate_event": 300})
    assert len(_kept_events(lake)) == len(set(_kept_events(lake))) == 500
    assert not path.exists()


def test_dimension_files_apply_in_the_order_they_landed(lake: Path, landing: Landing, run) -> None:
    older = landing.songs([song(0, "t1", "pop")], name="songs.csv")
    landing.songs([song(0, "t1", "rock")], name="songs-b2.csv")  # sorts first by name
    past = time.time() - 100
    os.utime(older, (past, past))
    run(lake)
    (row,) = pq.read_table(lake / "curated/songs/songs.parquet").to_pylist()
    assert row["track_genre"] == "rock"


def _writer(path: Path, per_batch: int, stop: threading.Event, written: list[int]) -> None:
    """An exporter appending to a landing file in small writes, not atomically, until told."""
    with open(path, "a") as fh:
        b = 0
        while not stop.is_set():
            for row in _events(per_batch, start=b * per_batch):  # a reader sees half lines
                fh.write(row)
            fh.flush()
            b += 1
            written[0] = b * per_batch
            time.sleep(0.01)


def test_a_run_killed_while_a_file_is_appended_to_loses_no_row(tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    landing = Landing(lake)
    _dims(landing)
    path = lake / "landing/streams/live.csv"
    path.parent.mkdir(parents=True)
    path.write_text(",".join(STREAM_HEADER) + "\n")
    stop = threading.Event()
    written = [0]
    writer = threading.Thread(target=_writer, args=(path, 100, stop, written))
    writer.start()
    env = {**os.environ, "MUSICSTREAM_SETTLE_S": "0", "MUSICSTREAM_PROGRESS": "false"}
    try:
        for delay in (0.3, 0.6, 0.9):  # runs killed at several points of the writing
            proc = subprocess.Popen(
                [sys.executable, "-m", "musicstream", "run", "--lake", str(lake)],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            time.sleep(delay)
            proc.send_signal(signal.SIGKILL)
            proc.wait()
        finished = cli("run", "--lake", str(lake))  # and one that completes mid-writing
        assert finished.returncode == 0, finished.stderr
    finally:
        stop.set()
        writer.join()
    for _ in range(6):  # later runs: finish what was interrupted, then the rest of the file
        proc = cli("run", "--lake", str(lake), "--log-format", "json")
        assert proc.returncode == 0, proc.stderr
        if json.loads(proc.stdout)["status"] == "nothing_new":
            break
    kept = _kept_events(lake)
    assert len(kept) == len(set(kept)) == written[0] > 0
    assert not path.exists()


def test_a_planned_file_that_vanished_is_missing_file(
    lake: Path, landing: Landing, settings_for
) -> None:
    """Before staging existed a planned batch read from landing; its file removed, it wedged."""
    _dims(landing)
    landing.streams([["u1", "t1", "2026-01-02 10:00:00", ""]], name="gone.csv")
    landing.streams([["u2", "t1", "2026-01-02 11:00:00", ""]], name="kept.csv")
    settings = settings_for(lake)
    batch_id = tasks.plan_batch(settings)["batch_id"]
    manifest = lake / f"_state/batches/{batch_id}.json"
    planned = json.loads(manifest.read_text())
    for f in planned["files"]:  # as an older version planned it: no staged copies
        (lake / f["staged"]).unlink()
        f["staged"] = None
    manifest.write_text(json.dumps(planned))
    content = (lake / "landing/streams/gone.csv").read_bytes()
    (lake / "landing/streams/gone.csv").unlink()
    summary = pipeline.run(settings)
    assert summary["status"] == "ok"
    (whole,) = summary["files_quarantined"]
    assert (whole["path"], whole["reason"]) == ("landing/streams/gone.csv", "missing_file")
    assert summary["datasets"]["streams"]["kept"] == 1
    (lake / "landing/streams/gone.csv").write_bytes(content)
    again = pipeline.run(settings)  # never read, so not known: landed again, it is processed
    assert again["datasets"]["streams"]["kept"] == 1
