"""Byte-level fuzzing of landing files: whatever lands, the run goes on and accounts for it.

Valid files are damaged the way real ones are — cut short, quotes, newlines, NULs and CRs
inserted, bytes flipped, re-encoded, gzip damaged — and landed beside an untouched control
file. Invariants: the run succeeds; every file is quarantined whole with a reason or
conserves its rows; the control file's events are all kept; the KPIs equal the oracle's on
exactly the streams that were kept; and the next batch loads normally.

``make fuzz`` runs many more examples (MUSICSTREAM_FUZZ_EXAMPLES).
"""

from __future__ import annotations

import gzip
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import Landing, csv_text, read_curated_streams, read_table, song
from kpi_helpers import assert_same
from musicstream import pipeline
from musicstream.datasets import KPIS
from musicstream.settings import load_settings
from oracle import kpis

pytestmark = pytest.mark.slow  # many damaged files, each a run

EXAMPLES = int(os.environ.get("MUSICSTREAM_FUZZ_EXAMPLES", "30"))
HEADERS = {
    "streams": ["user_id", "track_id", "listen_time", "ms_played"],
    "users": ["user_id", "user_name", "user_age", "user_country", "created_at"],
}
CONTROL = [["u0", "t0", f"2026-01-02 0{h}:00:00", 1000] for h in range(5)]
INSERTS = [b'"', b"\n", b"\r", b"\x00", b",", b"\xff", b"\xc3", b"\r\n", b'""', b"\t"]

mutation = st.one_of(
    st.tuples(st.just("truncate"), st.floats(0, 1)),
    st.tuples(st.just("insert"), st.floats(0, 1), st.sampled_from(INSERTS)),
    st.tuples(st.just("flip"), st.floats(0, 1), st.integers(1, 255)),
)
container = st.sampled_from(
    ["plain", "utf-16", "cp1252", "gzip", "gzip-cut", "gzip-flip", "gzip-concat"]
)


def valid_file(dataset: str) -> bytes:
    if dataset == "users":
        rows = [[f"u{i}", f"Zoë {i}", 20 + i, "FR", "2025-01-01"] for i in range(1, 6)]
    else:
        rows = [[f"u{i % 3}", f"t{i % 2}", f"2026-01-03 1{i}:00:00", i * 10] for i in range(8)]
    return csv_text(HEADERS[dataset], rows).encode()


def mutate(data: bytes, mutations: list[tuple[Any, ...]]) -> bytes:
    for kind, where, *arg in mutations:
        at = int(where * len(data))
        if kind == "truncate":
            data = data[:at]
        elif kind == "insert":
            data = data[:at] + arg[0] + data[at:]
        elif data:
            at = min(at, len(data) - 1)
            data = data[:at] + bytes([data[at] ^ arg[0]]) + data[at + 1 :]
    return data


def pack(data: bytes, how: str) -> tuple[bytes, str]:
    if how == "utf-16":
        return data.decode("utf-8", "replace").encode("utf-16"), ".csv"
    if how == "cp1252":
        return data.decode("utf-8", "replace").encode("cp1252", "replace"), ".csv"
    if how == "plain":
        return data, ".csv"
    packed = gzip.compress(data, mtime=0)
    if how == "gzip-cut":
        packed = packed[: len(packed) * 2 // 3]
    elif how == "gzip-flip":
        packed = packed[:12] + bytes([packed[12] ^ 0x5A]) + packed[13:]
    elif how == "gzip-concat":
        packed += gzip.compress(data, mtime=0)
    return packed, ".csv.gz"


def land(lake: Path, dataset: str, data: bytes, how: str) -> None:
    landing = Landing(lake)
    landing.songs([song(0, "t0", "pop"), song(1, "t1", "rock", artists="Beyoncé")])
    landing.users([["u0", "a", 30, "US", ""], ["u1", "b", 30, "FR", ""], ["u2", "c", 30, "", ""]])
    landing.streams(CONTROL, name="control.csv")
    packed, suffix = pack(data, how)
    folder = lake / "landing" / dataset
    (folder / f"fuzzed{suffix}").write_bytes(packed)


def files_accounted(lake: Path) -> None:
    for manifest in (lake / "_state/batches").glob("*.json"):
        for f in json.loads(manifest.read_text())["files"]:
            if f["reason"] and f["reason"] != "missing_columns":
                assert f["rows_read"] == 0 and f["detail"], f
            else:
                assert f["rows_read"] == f["rows_kept"] + f["rows_quarantined"], f


def kpis_match_kept_streams(lake: Path) -> None:
    """The oracle of SPEC §3 over the curated streams and dimensions as they stand."""
    songs = {
        r["track_id"]: r for r in pq.read_table(lake / "curated/songs/songs.parquet").to_pylist()
    }
    users = {
        r["user_id"]: r for r in pq.read_table(lake / "curated/users/users.parquet").to_pylist()
    }
    events = [
        (r["user_id"], r["track_id"], r["listen_time"], r["ms_played"])
        for r in read_curated_streams(lake)
    ]
    want = kpis(events, songs, users)
    for table in KPIS:
        assert_same(table, read_table(lake, table), want[table])


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    st.sampled_from(["streams", "users"]),
    st.lists(mutation, min_size=1, max_size=4),
    container,
)
def test_damaged_files_never_stop_a_run(
    dataset: str, mutations: list[tuple[Any, ...]], how: str
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        lake = Path(tmp)
        land(lake, dataset, mutate(valid_file(dataset), mutations), how)
        summary = pipeline.run(load_settings(lake=str(lake), progress=False))
        assert summary["status"] == "ok"
        files_accounted(lake)
        kept = {(r["user_id"], r["track_id"]) for r in read_curated_streams(lake)}
        assert ("u0", "t0") in kept
        assert (
            sum(r["user_id"] == "u0" and r["track_id"] == "t0" for r in read_curated_streams(lake))
            >= 5
        )
        kpis_match_kept_streams(lake)
        (lake / "landing/streams/next.csv").write_text(
            "user_id,track_id,listen_time\nu1,t1,2026-01-09 10:00:00\n"
        )
        after = pipeline.run(load_settings(lake=str(lake), progress=False))
        assert after["status"] == "ok" and after["datasets"]["streams"]["kept"] == 1
