"""Surrogate keys: numbered once in key order, kept for good, carried by curated streams; a
lake written before them is upgraded on the next run and gives the same KPIs."""

from __future__ import annotations

import shutil
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from conftest import Landing, read_table, song
from musicstream import layout
from musicstream.datasets import KPIS, SURROGATE_KEYS

SK_COLUMNS = ("user_sk", "track_sk")


def _keys(lake: Path, dim: str) -> dict[str, int]:
    table = pq.read_table(lake / layout.dimension(dim)).to_pylist()
    key = {"songs": "track_id", "users": "user_id"}[dim]
    return {row[key]: row[SURROGATE_KEYS[dim]] for row in table}


def _streams(lake: Path) -> list[dict]:
    """Every curated stream, without its batch id (two lakes' batches differ by the clock)."""
    rows = [
        {k: v for k, v in row.items() if k != "batch_id"}
        for path in (lake / layout.CURATED_STREAMS).rglob("*.parquet")
        for row in pq.read_table(path).to_pylist()
    ]
    return sorted(rows, key=repr)


def _first_batch(landing: Landing) -> None:
    landing.songs([song(0, "t2", "pop", 1000, "A"), song(1, "t1", "rock", 2000, "B;C")])
    landing.users([["u3", "c", 30, "US", "2026-01-01"], ["u1", "a", 30, "FR", ""]])
    landing.streams(
        [
            ["u1", "t1", "2026-01-02 10:00:00", ""],
            ["u3", "t2", "2026-01-02 11:00:00", 500],
            ["u3", "t1", "2026-01-03 12:00:00", ""],
        ]
    )


def _second_batch(landing: Landing) -> None:
    """New keys that sort before and after the first batch's, a changed user, late streams."""
    landing.songs([song(0, "t0", "jazz", 3000, "A")], name="songs-2.csv")
    landing.users(
        [["u2", "b", 30, "DE", ""], ["u1", "a", 31, "ES", ""], ["u0", "z", 20, "", ""]],
        name="users-2.csv",
    )
    landing.streams(
        [
            ["u2", "t0", "2026-01-02 13:00:00", ""],
            ["u0", "t1", "2026-01-03 09:00:00", 100],
            ["u1", "t2", "2026-01-09 09:00:00", ""],
        ],
        name="streams-2.csv",
    )


def test_keys_are_numbered_in_key_order_and_kept(lake: Path, landing: Landing, run) -> None:
    _first_batch(landing)
    run(lake)
    assert _keys(lake, "users") == {"u1": 1, "u3": 2}
    assert _keys(lake, "songs") == {"t1": 1, "t2": 2}
    _second_batch(landing)
    run(lake)
    # new keys count on from the largest, in key order, wherever they sort; old keep theirs
    assert _keys(lake, "users") == {"u1": 1, "u3": 2, "u0": 3, "u2": 4}
    assert _keys(lake, "songs") == {"t1": 1, "t2": 2, "t0": 3}
    users, songs = _keys(lake, "users"), _keys(lake, "songs")
    streams = _streams(lake)
    assert len(streams) == 6
    for row in streams:
        assert (row["user_sk"], row["track_sk"]) == (users[row["user_id"]], songs[row["track_id"]])


def _strip_keys(lake: Path, keep: str | None = None) -> None:
    """The lake as a version before surrogate keys wrote it; ``keep``: a curated stream
    folder whose files keep theirs (an upgrade that stopped midway)."""
    files = [lake / layout.dimension(d) for d in SURROGATE_KEYS]
    files += sorted((lake / layout.CURATED_STREAMS).rglob("*.parquet"))
    for path in files:
        if keep is not None and keep in str(path):
            continue
        table = pq.read_table(path)
        pq.write_table(table.drop_columns([c for c in SK_COLUMNS if c in table.column_names]), path)


@pytest.mark.parametrize("keep", [None, "report_date=2026-01-03"], ids=["legacy", "midway"])
def test_a_lake_from_before_surrogate_keys_is_upgraded(
    tmp_path: Path, landing: Landing, run, keep: str | None
) -> None:
    reference = tmp_path / "reference"
    _first_batch(landing)
    shutil.copytree(landing.lake, reference)
    run(landing.lake)
    run(reference)
    _strip_keys(landing.lake, keep)
    assert "user_sk" not in pq.read_schema(landing.lake / layout.dimension("users")).names
    _second_batch(landing)
    _second_batch(Landing(reference))
    run(landing.lake)
    run(reference)
    for dim in SURROGATE_KEYS:
        assert _keys(landing.lake, dim) == _keys(reference, dim)
    assert _streams(landing.lake) == _streams(reference)
    for table in KPIS:
        ours, theirs = (sorted(read_table(x, table), key=repr) for x in (landing.lake, reference))
        assert ours == theirs, table
