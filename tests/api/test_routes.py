"""The read API's routes over HTTP (a real uvicorn server), against both stores, each loaded
by a real run of the pipeline: every access pattern answers exactly the lake's KPI Parquet
rows in key order, and every request that is not a pattern is refused in one line.
"""

from __future__ import annotations

import datetime as dt
import shutil
import urllib.parse
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from pydantic import SecretStr

from aws_local import HAVE_AWS, REGION
from conftest import read_table
from musicstream import pipeline
from musicstream.datasets import KPI_KEYS, STORE_DIMENSIONS
from musicstream.generate import generate
from musicstream.settings import Settings, load_settings

from .serving import get, serving

DYNAMODB = pytest.param(
    "dynamodb",
    marks=[pytest.mark.aws, pytest.mark.skipif(not HAVE_AWS, reason="needs moto and s3fs")],
)
START = dt.date(2026, 3, 29)  # a Sunday: the generated days cross a week and a month
DAYS = 4
Served = tuple[str, Path, Settings]


@pytest.fixture(scope="module")
def landing(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("generated") / "landing"
    generate(out, streams=3000, songs=300, users=400, days=DAYS, start=START, seed=11)
    return out


@pytest.fixture(scope="module", params=["sqlite", DYNAMODB])
def served(
    request: pytest.FixtureRequest, landing: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, Path, Settings]]:
    """(base URL, lake, settings): a lake run once into the store, the API serving it."""
    lake = tmp_path_factory.mktemp(f"lake-{request.param}")
    shutil.copytree(landing, lake / "landing")
    with pytest.MonkeyPatch.context() as env:
        overrides: dict[str, Any] = {}
        if request.param == "dynamodb":
            endpoint = request.getfixturevalue("endpoint")
            for name, value in (("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "x")):
                env.setenv(name, value)
            env.setenv("AWS_EC2_METADATA_DISABLED", "true")
            overrides = {
                "store": "dynamodb",
                "store_prefix": f"api{request.param_index}_",
                "aws_endpoint_url": endpoint,
                "aws_region": REGION,
            }
        settings = load_settings(lake=str(lake), settle_s=0, progress=False, **overrides)
        pipeline.run(settings)
        with serving(settings) as url:
            yield url, lake, settings


@pytest.fixture(scope="module")
def url(served: Served) -> str:
    return served[0]


@pytest.fixture(scope="module")
def lake_rows(served: Served) -> Callable[[str], list[dict[str, Any]]]:
    """A KPI table's rows as the lake's Parquet holds them, values as JSON carries them."""
    lake = served[1]

    def rows(table: str) -> list[dict[str, Any]]:
        return [{k: _json_value(v) for k, v in r.items()} for r in read_table(lake, table)]

    return rows


def _json_value(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.date | dt.datetime) else value


def in_key_order(table: str, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(rows, key=lambda r: tuple(r[k] for k in KPI_KEYS[table]))


def answer(url: str, path: str, **params: str) -> Any:
    status, body, headers = get(f"{url}{path}?{urllib.parse.urlencode(params)}")
    assert status == 200, body
    assert headers["content-type"] == "application/json"
    return body


def days(first: int = 0, last: int = DAYS - 1) -> tuple[str, str]:
    return (START + dt.timedelta(first)).isoformat(), (START + dt.timedelta(last)).isoformat()


DATE_TABLES = (
    "genre_daily",
    "top_songs_daily",
    "top_genres_daily",
    "country_daily",
    "top_artists_daily",
    "hourly_activity",
)


@pytest.mark.parametrize("table", DATE_TABLES)
def test_a_dates_rows_are_the_lakes_rows_in_key_order(
    url: str, lake_rows: Callable[[str], list[dict[str, Any]]], table: str
) -> None:
    """Patterns 1, 3, 4, 6, 7, 9: every date of the lake, every column."""
    every = lake_rows(table)
    for day in sorted({r["report_date"] for r in every}):
        body = answer(url, f"/v1/kpis/{table}", date=day)
        expected = in_key_order(table, [r for r in every if r["report_date"] == day])
        assert body == {"table": table, "rows": expected}
        assert expected  # the generated days each have rows


def test_one_genre_and_a_genres_top_songs(
    url: str, lake_rows: Callable[[str], list[dict[str, Any]]]
) -> None:
    """Patterns 2 (one genre over a range) and 3 with a genre."""
    genres = lake_rows("genre_daily")
    first, last = days(1, DAYS - 1)  # a range that leaves out the first date
    for genre in sorted({r["genre"] for r in genres})[:5]:
        body = answer(url, "/v1/kpis/genre_daily", genre=genre, **{"from": first, "to": last})
        expected = [r for r in genres if r["genre"] == genre and first <= r["report_date"] <= last]
        assert body["rows"] == in_key_order("genre_daily", expected)
        top = answer(url, "/v1/kpis/top_songs_daily", date=first, genre=genre)["rows"]
        expected = [
            r
            for r in lake_rows("top_songs_daily")
            if r["genre"] == genre and r["report_date"] == first
        ]
        assert top == in_key_order("top_songs_daily", expected)


@pytest.mark.parametrize(
    ("table", "key", "column"),
    [("track_daily", "track_id", "track_id"), ("user_daily", "user_id", "user_id")],
)
def test_one_track_or_user_over_a_range_and_one_date(
    url: str, lake_rows: Callable[[str], list[dict[str, Any]]], table: str, key: str, column: str
) -> None:
    """Patterns 5 and 8: the busiest keys, over the whole range and over one date."""
    every = lake_rows(table)
    counts: dict[str, int] = {}
    for r in every:
        counts[r[column]] = counts.get(r[column], 0) + 1
    first, last = days()
    for value in sorted(counts, key=lambda v: (-counts[v], v))[:4]:
        body = answer(url, f"/v1/kpis/{table}", **{key: value, "from": first, "to": last})
        expected = in_key_order(table, [r for r in every if r[column] == value])
        assert body["rows"] == expected and len(expected) == counts[value]
        one = answer(url, f"/v1/kpis/{table}", **{key: value, "date": expected[0]["report_date"]})
        assert one["rows"] == expected[:1]


@pytest.mark.parametrize("period", ["day", "week", "month"])
def test_active_listeners_of_a_period_kind_over_a_range(
    url: str, lake_rows: Callable[[str], list[dict[str, Any]]], period: str
) -> None:
    """Pattern 10: from/to bound period_start (a week or month may start before the data)."""
    every = [r for r in lake_rows("active_listeners") if r["period"] == period]
    first, last = "2026-01-01", "2026-12-31"
    body = answer(url, "/v1/kpis/active_listeners", period=period, **{"from": first, "to": last})
    assert body["rows"] == in_key_order("active_listeners", every)
    assert len(every) == {"day": DAYS, "week": 2, "month": 2}[period]


@pytest.mark.parametrize("dimension", ["songs", "users"])
def test_a_song_or_user_is_its_curated_row(url: str, served: Served, dimension: str) -> None:
    """Patterns 11 and 12: the object, with the store's column names and types."""
    columns = STORE_DIMENSIONS[dimension]
    curated = pq.read_table(served[1] / "curated" / dimension / f"{dimension}.parquet")
    rows = curated.to_pylist()
    for row in rows[:3] + rows[-2:]:
        expected = {name: _json_value(row[source]) for name, source, _ in columns}
        key = expected[columns[0][0]]
        assert answer(url, f"/v1/{dimension}/{urllib.parse.quote(key)}") == expected


def test_health_names_the_batch_that_loaded(url: str, served: Served) -> None:
    status, body, _ = get(f"{url}/health")
    assert status == 200
    batches = [p.stem for p in (served[1] / "_state" / "batches").glob("*.json")]
    assert body["status"] == "ok" and [body["last_load"]["batch_id"]] == batches
    assert (body["last_load"]["date_from"], body["last_load"]["date_to"]) == days()
    assert body["last_load"]["latest_date"] == days()[1]
    assert 0 <= body["age_s"] < 600


REFUSED = {
    "an unknown table": ("/v1/kpis/plays", {"date": "2026-03-30"}, "unknown KPI table 'plays'"),
    "a malformed date": ("/v1/kpis/genre_daily", {"date": "2026-02-30"}, "date must be a date"),
    "a malformed bound": (
        "/v1/kpis/genre_daily",
        {"genre": "pop", "from": "yesterday", "to": "2026-03-30"},
        "from must be a date",
    ),
    "a range without its key": (
        "/v1/kpis/genre_daily",
        {"from": "2026-03-30", "to": "2026-04-02"},
        "a date range is served for one genre (genre_daily genre=G)",
    ),
    "a range over 366 days": (
        "/v1/kpis/track_daily",
        {"track_id": "t1", "from": "2025-01-01", "to": "2026-01-02"},
        "at most 366 days, not 367",
    ),
    "half a range": ("/v1/kpis/user_daily", {"user_id": "u1", "from": "2026-03-30"}, "both"),
    "a range backwards": (
        "/v1/kpis/user_daily",
        {"user_id": "u1", "from": "2026-04-02", "to": "2026-03-30"},
        "from=2026-04-02 is after to=2026-03-30",
    ),
    "a date and a range": (
        "/v1/kpis/user_daily",
        {"user_id": "u", "date": "2026-03-30", "from": "2026-03-30", "to": "2026-03-31"},
        "give either date or from/to, not both",
    ),
    "no date at all": ("/v1/kpis/genre_daily", {}, "give date, or from/to with genre"),
    "a track's date without the track": (
        "/v1/kpis/track_daily",
        {"date": "2026-03-30"},
        "track_daily is read per track: add track_id=ID",
    ),
    "a filter the table lacks": (
        "/v1/kpis/country_daily",
        {"date": "2026-03-30", "genre": "pop"},
        "country_daily has no genre to select: drop genre",
    ),
    "an unknown period": (
        "/v1/kpis/active_listeners",
        {"period": "year", "from": "2026-01-01", "to": "2026-03-01"},
        "unknown period 'year'",
    ),
    "an unknown parameter": (
        "/v1/kpis/genre_daily",
        {"date": "2026-03-30", "track": "t1"},
        "unknown parameter 'track'",
    ),
    "a dimension as a KPI table": (
        "/v1/kpis/songs",
        {"track_id": "t1"},
        "songs is served at /v1/songs/{track_id}",
    ),
}


@pytest.mark.parametrize("case", REFUSED)
def test_a_request_that_is_no_access_pattern_is_400_in_one_line(url: str, case: str) -> None:
    path, params, message = REFUSED[case]
    status, body, _ = get(f"{url}{path}?{urllib.parse.urlencode(params)}")
    assert status == 400
    assert list(body) == ["error"] and message in body["error"] and "\n" not in body["error"]


@pytest.mark.parametrize(
    "path", ["/v1/songs/no-such-track", "/v1/users/no-such-user", "/v2/kpis", "/v1/kpis"]
)
def test_what_does_not_exist_is_404(url: str, path: str) -> None:
    status, body, _ = get(f"{url}{path}")
    assert status == 404 and list(body) == ["error"]


def test_the_openapi_description_lists_every_route(url: str) -> None:
    status, body, _ = get(f"{url}/openapi.json")
    assert status == 200
    assert set(body["paths"]) == {
        "/v1/kpis/{table}",
        "/v1/songs/{track_id}",
        "/v1/users/{user_id}",
        "/health",
    }
    parameters = {p["name"] for p in body["paths"]["/v1/kpis/{table}"]["get"]["parameters"]}
    assert parameters == {"table", "date", "from", "to", "genre", "track_id", "user_id", "period"}


def test_with_a_token_every_v1_route_needs_it(served: Served, url: str) -> None:
    token = SecretStr("s3cret-token")
    with serving(served[2].model_copy(update={"api_token": token})) as guarded:
        top = "/v1/kpis/top_genres_daily?date=" + START.isoformat()
        for path in (top, "/v1/songs/x", "/v1/users/x"):
            status, body, headers = get(f"{guarded}{path}")
            assert status == 401 and "Bearer" in body["error"]
            assert headers["www-authenticate"] == "Bearer"
            for wrong in ("Bearer s3cret-tokeN", "Bearer", "Basic s3cret-token", "s3cret-token"):
                assert get(f"{guarded}{path}", {"Authorization": wrong})[0] == 401
        status, body, _ = get(f"{guarded}{top}", {"Authorization": "Bearer s3cret-token"})
        assert status == 200 and body == get(f"{url}{top}")[1]
        assert get(f"{guarded}/health")[0] == 200  # health stays open
