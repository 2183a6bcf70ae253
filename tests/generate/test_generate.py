"""The synthetic data generator, checked by reading its CSVs back independently of the pipeline.

``_Validator`` is a small, slow, obviously-correct reading of SPEC §2 in plain Python; the
generator's claimed injection counts must match what it finds, reason by reason.
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import io
import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from musicstream.generate import GenerateSummary, generate, generate_increment

SPOTIFY_HEADER = (
    ",track_id,artists,album_name,track_name,popularity,duration_ms,explicit,danceability,"
    "energy,key,loudness,mode,speechiness,acousticness,instrumentalness,liveness,valence,tempo,"
    "time_signature,track_genre"
)
SMALL = {"streams": 4000, "songs": 400, "users": 300, "genres": 20, "days": 3}
B62_ID = re.compile(r"^[0-9A-Za-z]{22}$")
NOW = dt.datetime.now(dt.UTC)


def read_csv(path: Path) -> tuple[list[str], list[list[str]]]:
    """Header (BOM stripped, names trimmed + lower-cased) and rows of a .csv or .csv.gz."""
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    return [name.strip().lower() for name in rows[0]], rows[1:]


def records(path: Path) -> Iterator[dict[str, str] | None]:
    """Each data row as a dict of trimmed values, ``None`` for a wrong field count."""
    header, rows = read_csv(path)
    for row in rows:
        yield (
            dict(zip(header, (v.strip() for v in row), strict=True))
            if len(row) == len(header)
            else None
        )


def parse_ts(text: str) -> dt.datetime | None:
    """A SPEC timestamp as an aware UTC datetime (naive = UTC), ``None`` if unparseable."""
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def as_int(text: str) -> int | None:
    return int(text) if re.fullmatch(r"-?\d+", text) else None


class _Validator:
    """SPEC §2 row rules in plain Python; counts the first failing reason of every row."""

    def __init__(self) -> None:
        self.reasons: dict[str, Counter[str]] = {}
        self.users: dict[str, dt.datetime | None] = {}
        self.tracks: set[str] = set()
        self.events: set[tuple[str, str, dt.datetime]] = set()
        self.before_signup = 0

    def run(self, root: Path) -> _Validator:
        for dataset, check in (
            ("songs", self.song),
            ("users", self.user),
            ("streams", self.stream),
        ):
            counter = self.reasons.setdefault(dataset, Counter())
            for path in sorted((root / dataset).rglob("*.csv*")):
                header, _ = read_csv(path)
                if not _REQUIRED[dataset] <= set(header):
                    counter["missing_columns"] += len(read_csv(path)[1])
                    continue
                seen: set[str] = set()
                for rec in records(path):
                    counter["malformed_row" if rec is None else check(rec, seen)] += 1
        return self

    def song(self, r: dict[str, str], seen: set[str]) -> str:
        dur, pop = as_int(r["duration_ms"]), as_int(r["popularity"])
        reason = (
            (not r["track_id"] and "missing_track_id")
            or (not r["track_genre"] and "missing_genre")
            or ((dur is None or not 1 <= dur <= 86_400_000) and "invalid_duration_ms")
            or (r["popularity"] and (pop is None or not 0 <= pop <= 100) and "invalid_popularity")
            or (
                r["explicit"] not in ("", "True", "False", "true", "false", "1", "0")
                and "invalid_explicit"
            )
            or (r["track_id"] in seen and "duplicate_track_id")
        )
        seen.add(r["track_id"])
        if not reason:
            self.tracks.add(r["track_id"])
        return reason or "kept"

    def user(self, r: dict[str, str], seen: set[str]) -> str:
        age, created = as_int(r["user_age"]), r["created_at"]
        reason = (
            (not r["user_id"] and "missing_user_id")
            or (r["user_age"] and (age is None or not 13 <= age <= 120) and "invalid_age")
            or (created and parse_ts(created) is None and "invalid_created_at")
            or (r["user_id"] in seen and "duplicate_user_id")
        )
        seen.add(r["user_id"])
        if not reason:
            self.users[r["user_id"]] = parse_ts(created) if created else None
        return reason or "kept"

    def stream(self, r: dict[str, str], _: set[str]) -> str:
        ts = parse_ts(r["listen_time"])
        ms = r.get("ms_played", "")
        reason = (
            (not r["user_id"] and "missing_user_id")
            or (not r["track_id"] and "missing_track_id")
            or (r["user_id"] not in self.users and "unknown_user")
            or (r["track_id"] not in self.tracks and "unknown_track")
            or (ts is None and "invalid_listen_time")
            or (ts and ts > NOW + dt.timedelta(hours=1) and "future_listen_time")
            or (
                ms
                and (as_int(ms) is None or not 0 <= int(ms) <= 86_400_000)
                and "invalid_ms_played"
            )
        )
        if reason or ts is None:
            return reason or "kept"
        key = (r["user_id"], r["track_id"], ts)
        if key in self.events:
            return "duplicate_event"
        self.events.add(key)
        created = self.users[r["user_id"]]
        self.before_signup += bool(created and ts < created)
        return "kept"


_REQUIRED = {
    "songs": {"track_id", "track_genre", "duration_ms"},
    "users": {"user_id"},
    "streams": {"user_id", "track_id", "listen_time"},
}


def data_rows(summary: GenerateSummary, dataset: str) -> int:
    return sum(len(read_csv(p)[1]) for p in summary.files[dataset])


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> GenerateSummary:
    return generate(tmp_path_factory.mktemp("clean"), stream_files=2, **SMALL)


@pytest.fixture(scope="module")
def dirty(tmp_path_factory: pytest.TempPathFactory) -> GenerateSummary:
    return generate(tmp_path_factory.mktemp("dirty"), dirty=0.05, **SMALL)


def test_files_headers_and_row_counts(clean: GenerateSummary) -> None:
    root = clean.out_dir
    assert clean.files["songs"] == (root / "songs" / "songs.csv",)
    assert clean.files["users"] == (root / "users" / "users.csv",)
    assert [p.name for p in clean.files["streams"]] == ["streams-0001.csv", "streams-0002.csv"]
    assert set(clean.paths) == {p for p in root.rglob("*") if p.is_file()}
    for dataset, header in (
        ("songs", SPOTIFY_HEADER),
        ("users", "user_id,user_name,user_age,user_country,created_at"),
        ("streams", "user_id,track_id,listen_time,ms_played"),
    ):
        for path in clean.files[dataset]:
            assert path.read_text().split("\n", 1)[0] == header
        assert data_rows(clean, dataset) == clean.rows[dataset] == SMALL[dataset]


def test_songs_look_like_spotify_tracks(clean: GenerateSummary) -> None:
    _, rows = read_csv(clean.files["songs"][0])
    assert [int(r[0]) for r in rows] == list(range(len(rows)))
    assert all(B62_ID.match(r[1]) and r[7] in ("True", "False") for r in rows)
    assert any(";" in r[2] for r in rows) and any("," in r[4] for r in rows)
    per_genre = Counter(r[20] for r in rows)
    assert len(per_genre) == SMALL["genres"] and {"acoustic", "afrobeat"} <= set(per_genre)
    assert max(per_genre.values()) - min(per_genre.values()) <= 1
    genres_of: dict[str, set[str]] = {}
    for r in rows:
        genres_of.setdefault(r[1], set()).add(r[20])
    repeats = len(rows) - len(genres_of)
    assert repeats == clean.injected["songs"]["duplicate_track_id"]
    assert 0.05 * len(rows) < repeats < 0.15 * len(rows)
    assert sum(len(g) for g in genres_of.values()) - len(genres_of) > 0.8 * repeats


def test_clean_data_is_fully_valid(clean: GenerateSummary) -> None:
    found = _Validator().run(clean.out_dir)
    for dataset in ("users", "streams"):
        assert found.reasons[dataset] == {"kept": SMALL[dataset]}
    dups = clean.injected["songs"]["duplicate_track_id"]
    assert found.reasons["songs"] == {"kept": SMALL["songs"] - dups, "duplicate_track_id": dups}
    assert all(v == 0 for d in ("users", "streams") for v in clean.injected[d].values())
    # about half the users sign up during the window, after some of their listens
    assert 0.05 * SMALL["streams"] < found.before_signup < 0.6 * SMALL["streams"]


def test_streams_shape(clean: GenerateSummary) -> None:
    rows = [r for p in clean.files["streams"] for r in records(p) if r]
    times = [parse_ts(r["listen_time"]) for r in rows]
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    assert all(t and start <= t < start + dt.timedelta(days=SMALL["days"]) for t in times)
    plays = Counter(r["track_id"] for r in rows).most_common()
    assert 4 * len(rows) / len(plays) < plays[0][1] < 0.05 * len(rows)  # skewed, not degenerate
    hours = Counter(t.hour for t in times if t)
    assert hours[20] > 3 * hours[4]  # evening peak
    text = [r["listen_time"] for r in rows]
    assert sum(" " in t for t in text) > 0.7 * len(text)
    assert any(t.endswith("Z") for t in text)
    offset = [t for t in text if re.search(r"[+-]\d\d:\d\d$", t)]
    assert any(t[:10] != str(utc.date()) for t in offset if (utc := parse_ts(t)))
    ms = [r["ms_played"] for r in rows]
    assert 0 < ms.count("") < 0.1 * len(ms)


def test_same_seed_same_bytes_any_thread_count(tmp_path: Path) -> None:
    one = generate(tmp_path / "a", dirty=0.05, threads=1, **SMALL)
    two = generate(tmp_path / "b", dirty=0.05, threads=4, **SMALL)
    other = generate(tmp_path / "c", dirty=0.05, seed=43, **SMALL)
    for a, b, c in zip(one.paths, two.paths, other.paths, strict=True):
        assert a.read_bytes() == b.read_bytes()
        assert a.read_bytes() != c.read_bytes()
    assert one.injected == two.injected and one.rows == two.rows


def test_dirty_injects_every_kind_exactly(dirty: GenerateSummary) -> None:
    found = _Validator().run(dirty.out_dir)
    for dataset in ("songs", "users", "streams"):
        injected = {k: v for k, v in dirty.injected[dataset].items() if v}
        counted = dict(found.reasons[dataset])
        kept = counted.pop("kept")
        assert counted == injected, dataset
        assert kept + sum(counted.values()) == dirty.rows[dataset]
    assert set(dirty.injected["streams"]) >= {
        "missing_user_id", "missing_track_id", "unknown_user", "unknown_track",
        "invalid_listen_time", "future_listen_time", "invalid_ms_played", "duplicate_event",
        "malformed_row", "missing_columns",
    }  # fmt: skip
    assert all(dirty.injected[d][k] > 0 for d in dirty.injected for k in dirty.injected[d])
    assert dirty.extras["empty_country"] > 0 and dirty.extras["padded_user_id"] > 0


def test_dirty_values_look_as_documented(dirty: GenerateSummary) -> None:
    songs = [r for r in records(dirty.files["songs"][0]) if r]
    assert {"0", "-1"} & {r["duration_ms"][:2] for r in songs}
    assert "yes" in {r["explicit"] for r in songs} and "101" in {r["popularity"] for r in songs}
    users = [r for r in records(dirty.files["users"][0]) if r]
    assert "7" in {r["user_age"] for r in users}
    assert "not a date" in {r["created_at"] for r in users}
    streams = [r for p in dirty.files["streams"][:-1] for r in records(p) if r]
    assert any(r["listen_time"].startswith("2099-") for r in streams)
    bad_times = {r["listen_time"] for r in streams if parse_ts(r["listen_time"]) is None}
    assert bad_times and all(t for t in bad_times)
    lines = "".join(p.read_text(encoding="utf-8-sig") for p in dirty.files["streams"][:1])
    assert '"x"' in lines and ",extra" in lines


def test_bad_files(dirty: GenerateSummary) -> None:
    names = [p.relative_to(dirty.out_dir / "streams").as_posix() for p in dirty.files["streams"]]
    assert names == ["streams-0001.csv", "streams-0002.csv.gz", "streams-0003.csv",
                     "bad/missing-columns.csv"]  # fmt: skip
    gz, bom, missing = dirty.files["streams"][1:]
    assert gz.read_bytes()[:2] == b"\x1f\x8b"
    raw = bom.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and raw.split(b"\n")[0].count(b" ") >= 2
    header, _ = read_csv(bom)
    assert header == ["ms_played", "track_id", "listen_time", "user_id"]
    assert read_csv(missing)[0] == ["user_id", "track_id", "ms_played"]
    assert len(read_csv(missing)[1]) == dirty.injected["streams"]["missing_columns"]
    con = duckdb.connect()
    for path in (gz, bom):
        rel = con.read_csv(str(path), all_varchar=True, strict_mode=False)
        assert rel.shape[0] == len(read_csv(path)[1])
    assert {c.strip().lower() for c in con.read_csv(str(bom)).columns} == set(header)


def test_without_ms_played(tmp_path: Path) -> None:
    summary = generate(tmp_path, ms_played=False, dirty=0.05, **SMALL)
    for path in summary.files["streams"]:
        assert "ms_played" not in read_csv(path)[0]
    assert "invalid_ms_played" not in summary.injected["streams"]
    found = _Validator().run(tmp_path)
    counted = {k: v for k, v in found.reasons["streams"].items() if k != "kept"}
    assert counted == {k: v for k, v in summary.injected["streams"].items() if v}


def test_rerun_overwrites_but_refuses_stale_files(tmp_path: Path) -> None:
    first = generate(tmp_path, streams=100, songs=50, users=20, genres=5, stream_files=2)
    again = generate(tmp_path, streams=100, songs=50, users=20, genres=5, stream_files=2)
    assert [p.read_bytes() for p in first.paths] == [p.read_bytes() for p in again.paths]
    with pytest.raises(FileExistsError):
        generate(tmp_path, streams=100, songs=50, users=20, genres=5)


@pytest.mark.parametrize(
    "kwargs", [{"streams": 0}, {"genres": 0}, {"dirty": 1.5}, {"streams": 2, "stream_files": 3}]
)
def test_rejects_bad_arguments(tmp_path: Path, kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        generate(tmp_path, **kwargs)


def _keys(path: Path) -> list[tuple[str, str, dt.datetime, str]]:
    """(user, track, UTC instant, raw listen_time) of every well-formed row."""
    out = []
    for r in records(path):
        ts = parse_ts(r["listen_time"]) if r else None
        if r and ts:
            out.append((r["user_id"], r["track_id"], ts, r["listen_time"]))
    return out


@pytest.fixture(scope="module")
def increment(clean: GenerateSummary, tmp_path_factory: pytest.TempPathFactory) -> GenerateSummary:
    return generate_increment(tmp_path_factory.mktemp("inc"), clean.out_dir, streams=600)


def test_increment_is_deterministic(
    clean: GenerateSummary, increment: GenerateSummary, tmp_path: Path
) -> None:
    again = generate_increment(tmp_path, clean.out_dir, streams=600)
    assert [p.read_bytes() for p in increment.paths] == [p.read_bytes() for p in again.paths]


def test_increment_streams_are_late_duplicate_or_new(
    clean: GenerateSummary, increment: GenerateSummary
) -> None:
    ref = {(u, t, ts): raw for p in clean.files["streams"] for u, t, ts, raw in _keys(p)}
    ref_days = {ts.date() for _, _, ts in ref}
    rows = _keys(increment.files["streams"][0])
    assert len(rows) == increment.rows["streams"] == 600
    dups = [(u, t, ts, raw) for u, t, ts, raw in rows if (u, t, ts) in ref]
    assert len(dups) == increment.extras["reference_duplicates"] == 60
    assert increment.injected["streams"]["duplicate_event"] == 60
    assert all(raw != ref[(u, t, ts)] for u, t, ts, raw in dups)  # same instant, other text
    fresh = [ts.date() for u, t, ts, _ in rows if (u, t, ts) not in ref]
    new_day = max(ref_days) + dt.timedelta(days=1)
    assert sum(d in ref_days for d in fresh) == increment.extras["late_streams"] == 240
    assert sum(d == new_day for d in fresh) == increment.extras["new_streams"] == 300


def test_increment_dimension_deltas(clean: GenerateSummary, increment: GenerateSummary) -> None:
    genres: dict[str, set[str]] = {}
    for r in read_csv(clean.files["songs"][0])[1]:
        genres.setdefault(r[1], set()).add(r[20])
    header, songs = read_csv(increment.files["songs"][0])
    assert header[1:] == SPOTIFY_HEADER.split(",")[1:]
    changed = [r for r in songs if r[1] in genres]
    assert changed and len(changed) == increment.extras["genre_changes"]
    assert all(r[20] not in genres[r[1]] for r in changed)
    new_tracks = {r[1] for r in songs if r[1] not in genres}
    assert len(new_tracks) == increment.extras["new_tracks"]

    ref_users = {r[0]: r for r in read_csv(clean.files["users"][0])[1]}
    users = read_csv(increment.files["users"][0])[1]
    moved = [r for r in users if r[0] in ref_users]
    assert len(moved) == increment.extras["country_changes"]
    assert all(r[3] != ref_users[r[0]][3] and r[:3] == ref_users[r[0]][:3] for r in moved)
    new_users = {r[0] for r in users if r[0] not in ref_users}
    assert len(new_users) == increment.extras["new_users"]
    rows = _keys(increment.files["streams"][0])
    assert any(u in new_users for u, *_ in rows) and any(t in new_tracks for _, t, *_ in rows)


@pytest.mark.parametrize("reference", ["clean", "dirty"])
def test_increment_validates_against_merged_dimensions(
    reference: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    ref: GenerateSummary = request.getfixturevalue(reference)
    inc = generate_increment(tmp_path, ref.out_dir, streams=600, dirty=0.1)
    assert inc.extras["reference_duplicates"] == 60  # a dirty reference still has plenty
    found = _Validator()
    found.run(ref.out_dir)
    found.reasons.clear()
    found.run(tmp_path)  # dimensions upsert, events dedupe across batches
    counted = {k: v for k, v in found.reasons["streams"].items() if k != "kept"}
    assert counted == {k: v for k, v in inc.injected["streams"].items() if v}
    assert found.reasons["songs"] == {"kept": inc.rows["songs"]}
    assert found.reasons["users"] == {"kept": inc.rows["users"]}


def test_csv_is_readable_by_duckdb(clean: GenerateSummary) -> None:
    con = duckdb.connect()
    songs = con.read_csv(str(clean.files["songs"][0]))
    assert songs.shape[0] == SMALL["songs"] and songs.columns[1] == "track_id"
    text = io.StringIO(clean.files["users"][0].read_text())
    assert len(list(csv.DictReader(text))) == SMALL["users"]
