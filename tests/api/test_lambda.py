"""The read API as its Lambda function runs it: ``musicstream.api.aws.handler``, imported
afresh with the function's environment (so the app is built from it, as on a cold start),
invoked with HTTP API (payload 2.0) events against DynamoDB on the local moto server,
loaded by the store's own code. Each answer is the store's rows for that access pattern."""

from __future__ import annotations

import importlib
import json
import sys
import uuid
from collections.abc import Callable, Iterator
from datetime import date
from typing import Any

import pytest

from aws_local import HAVE_AWS, REGION
from http_api_events import http_event, lambda_context
from musicstream.settings import load_settings
from musicstream.stores import KpiQuery, Load, Store, create_store
from stores.data import (
    D1,
    D2,
    D3,
    SONGS,
    USERS,
    all_tables,
    dimension,
    kpi_rows,
    load_periods,
)

pytestmark = [
    pytest.mark.aws,
    pytest.mark.skipif(not HAVE_AWS, reason="needs moto and s3fs"),
]
pytest.importorskip("mangum")

LOADS = {D1: 12, D2: 8, D3: 4}  # rows per table of each date
BATCH = "20260104T000000Z-lambda"
Response = dict[str, Any]


@pytest.fixture(scope="module")
def function_env(
    endpoint: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, str]]:
    """The function's environment as the stack sets it (plus the local endpoint), and dummy
    credentials with no profile or config file from the machine (as ``aws_env`` does, for
    the whole module)."""
    folder = tmp_path_factory.mktemp("lambda")
    values = {
        "MUSICSTREAM_STORE": "dynamodb",
        "MUSICSTREAM_STORE_PREFIX": f"fn{uuid.uuid4().hex[:8]}_",
        "MUSICSTREAM_AWS_REGION": REGION,
        "MUSICSTREAM_AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_CONFIG_FILE": str(folder / "no-aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(folder / "no-aws-credentials"),
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    with pytest.MonkeyPatch.context() as env:
        for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "MUSICSTREAM_CONFIG"):
            env.delenv(name, raising=False)
        for name, value in values.items():
            env.setenv(name, value)
        env.chdir(folder)  # no musicstream.toml but the function's (none)
        yield values


@pytest.fixture(scope="module")
def store(function_env: dict[str, str]) -> Iterator[Store]:
    """The function's tables, created and loaded by the store's own code: three dates of
    every KPI table, the active_listeners periods, songs, users and one recorded load."""
    opened = create_store(load_settings(progress=False))
    opened.init()
    for salt, (day, n) in enumerate(LOADS.items()):
        opened.replace_date(day, all_tables(n, salt))
    load_periods(opened)
    opened.upsert_dimension("songs", dimension("songs", SONGS))
    opened.upsert_dimension("users", dimension("users", USERS))
    opened.record_load(Load.now(BATCH, list(LOADS), None))
    yield opened
    opened.close()


@pytest.fixture(scope="module")
def invoke(store: Store) -> Iterator[Callable[..., Response]]:
    """``GET path?query`` through the function's handler, imported now: the module builds
    the app from the environment when it is imported, as a cold start does."""
    sys.modules.pop("musicstream.api.aws", None)
    handler = importlib.import_module("musicstream.api.aws").handler

    def call(path: str, **query: str) -> Response:
        response: Response = handler(http_event(path, query), lambda_context())
        return response

    yield call
    sys.modules.pop("musicstream.api.aws", None)  # built from this module's environment


def body(response: Response) -> Any:
    assert response["isBase64Encoded"] is False
    return json.loads(response["body"])


def ok_json(response: Response) -> Any:
    assert response["statusCode"] == 200, response["body"]
    assert response["headers"]["content-type"] == "application/json"
    return body(response)


RANGE = {"from": "2026-01-02", "to": "2026-01-03"}
PATTERNS: dict[str, tuple[str, dict[str, str], KpiQuery]] = {
    "genre_daily of a date": (
        "genre_daily",
        {"date": "2026-01-02"},
        KpiQuery("genre_daily", date=D2),
    ),
    "one genre over a range (the genre index)": (
        "genre_daily",
        {"genre": "g1", **RANGE},
        KpiQuery("genre_daily", date_from=D2, date_to=D3, genre="g1"),
    ),
    "top_songs_daily of a date and genre": (
        "top_songs_daily",
        {"date": "2026-01-01", "genre": "g2"},
        KpiQuery("top_songs_daily", date=D1, genre="g2"),
    ),
    "one track over a range": (
        "track_daily",
        {"track_id": "t001", "from": "2026-01-01", "to": "2026-01-03"},
        KpiQuery("track_daily", date_from=D1, date_to=D3, track="t001"),
    ),
    "one user over a range": (
        "user_daily",
        {"user_id": "u005", "from": "2026-01-01", "to": "2026-01-02"},
        KpiQuery("user_daily", date_from=D1, date_to=D2, user="u005"),
    ),
    "active_listeners weeks over a range of starts": (
        "active_listeners",
        {"period": "week", "from": "2025-12-29", "to": "2026-01-12"},
        KpiQuery(
            "active_listeners",
            date_from=date(2025, 12, 29),
            date_to=date(2026, 1, 12),
            period="week",
        ),
    ),
    "hourly_activity of a date": (
        "hourly_activity",
        {"date": "2026-01-03"},
        KpiQuery("hourly_activity", date=D3),
    ),
}


@pytest.mark.parametrize("case", PATTERNS)
def test_an_access_pattern_answers_the_stores_rows(
    case: str, invoke: Callable[..., Response], store: Store
) -> None:
    table, query, q = PATTERNS[case]
    got = ok_json(invoke(f"/v1/kpis/{table}", **query))
    expected = store.query(q)
    assert expected, case  # the pattern has rows to return
    assert got == {"table": table, "rows": expected}


def test_a_genre_over_a_range_is_the_rows_loaded_for_it(invoke: Callable[..., Response]) -> None:
    got = ok_json(invoke("/v1/kpis/genre_daily", genre="g1", **RANGE))["rows"]
    loaded = [  # row 1 of each date has genre g1; the dates' salts are 1 and 2
        {"report_date": day.isoformat(), **kpi_rows("genre_daily", LOADS[day], salt)[1]}
        for salt, day in ((1, D2), (2, D3))
    ]
    assert got == loaded


def test_a_song_and_a_user_are_the_rows_upserted(invoke: Callable[..., Response]) -> None:
    assert ok_json(invoke("/v1/songs/t2")) == SONGS[1]
    assert ok_json(invoke("/v1/users/u3")) == USERS[2]


def test_a_missing_song_is_404(invoke: Callable[..., Response]) -> None:
    response = invoke("/v1/songs/t999")
    assert response["statusCode"] == 404
    assert body(response) == {"error": "no song 't999'"}


@pytest.mark.parametrize(
    ("path", "query", "says"),
    [
        ("/v1/kpis/genre_daily", {"date": "2026-02-30"}, "date must be a date"),
        ("/v1/kpis/plays_daily", {"date": "2026-01-01"}, "unknown KPI table 'plays_daily'"),
        (
            "/v1/kpis/genre_daily",
            {"genre": "g1", "from": "2025-01-01", "to": "2026-01-02"},
            "at most 366 days, not 367",
        ),
        ("/v1/kpis/genre_daily", {"from": "2026-01-01", "to": "2026-01-02"}, "one genre"),
    ],
)
def test_a_request_that_is_not_an_access_pattern_is_400(
    path: str, query: dict[str, str], says: str, invoke: Callable[..., Response]
) -> None:
    response = invoke(path, **query)
    assert response["statusCode"] == 400
    assert response["headers"]["content-type"] == "application/json"
    [error] = body(response).values()
    assert says in error and "\n" not in error


def test_health_shows_the_last_load(invoke: Callable[..., Response]) -> None:
    health = ok_json(invoke("/health"))
    assert (health["status"], health["store"]) == ("ok", "dynamodb")
    last = health["last_load"]
    assert last["batch_id"] == BATCH
    assert (last["dates"], last["date_from"], last["date_to"]) == (3, "2026-01-01", "2026-01-03")
    assert 0 <= health["age_s"] < 600


def test_openapi_and_the_dashboard_are_served(invoke: Callable[..., Response]) -> None:
    spec = ok_json(invoke("/openapi.json"))
    assert {"/v1/kpis/{table}", "/v1/songs/{track_id}", "/v1/users/{user_id}", "/health"} <= set(
        spec["paths"]
    )
    page = invoke("/")
    assert page["statusCode"] == 200
    assert page["headers"]["content-type"].startswith("text/html")
