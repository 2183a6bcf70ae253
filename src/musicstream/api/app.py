"""The read API: SPEC §5's access patterns as ``GET`` routes with JSON answers (SPEC §7).

One read path: every route builds a :class:`~musicstream.stores.KpiQuery`, the same the
``kpis`` command builds, and asks the store's ``query``, so the API cannot serve a pattern
the CLI refuses, or scan where the CLI would not.

Consistency. SQLite: each request is one SELECT on a read-only connection (the event
loop's; see :class:`Stores`), in autocommit, so it reads one WAL snapshot; a date is replaced
in one write transaction, so a request sees a date's old rows or its new rows, never a mix,
and never waits for the load (WAL readers do not block the writer, nor it them). DynamoDB
guarantees only single-item atomicity and has no snapshot across items: while a date is
being reloaded (about a second per date) a Query may return a mix of its old and new items.
A key both versions have is overwritten in place, never deleted, so the mix never lacks it;
a key only the old version has may still show, one only the new version has may not yet.
The README ("Read API") says so; a reader that needs a settled date waits for ``/health``
to show the load finished (reads are strongly consistent on the tables).
"""

from __future__ import annotations

import datetime as dt
import hmac
import importlib.resources
import json
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

from musicstream.datasets import DIMENSION_COLUMNS, KPI_COLUMNS, PERIODS
from musicstream.errors import StoreNotReady, UserError
from musicstream.stores import HTTP, KpiQuery, Row, Store, create_store

if TYPE_CHECKING:
    from musicstream.settings import Settings

MAX_RANGE_DAYS = 366  # a longer range is refused: never a scan-sized answer
PARAMETERS = ("date", "from", "to", "genre", "track_id", "user_id", "period")
DASHBOARD = Path(str(importlib.resources.files("musicstream.api") / "dashboard"))
T = TypeVar("T")
ASSETS = {
    "dashboard.js": "text/javascript",
    "charts.js": "text/javascript",
    "dashboard.css": "text/css",
}


class ApiError(Exception):
    """A request the API answers with ``status`` and ``{"error": message}``."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class Rows(BaseModel):
    """The answer of ``/v1/kpis/{table}``: the table's rows in key order."""

    table: str
    rows: list[dict[str, Any]]


class Error(BaseModel):
    error: str


class Health(BaseModel):
    status: str  # ok, or empty: nothing loaded yet
    store: str
    last_load: dict[str, Any] | None
    age_s: float | None  # seconds since the last load finished


class Stores:
    """One read-only store per serving thread, opened on first use.

    SQLite answers a pattern in well under a millisecond to a few, so its reads run on the
    event loop's own thread (one connection, each SELECT its own snapshot): a thread-pool hop
    per request cost more CPU than the query (measured on the 10M benchmark store with 2
    workers: 1,208 → 1,730 requests/s, lookup p95 42.9 → 13.3 ms). A store that waits on the
    network (DynamoDB) is called in the thread pool, so the loop keeps serving. A store that
    does not exist yet is tried again on the next request, so a server started before the
    first run serves as soon as that run has loaded.
    """

    def __init__(self, open_store: Callable[[], Store], blocking: bool) -> None:
        self.open_store = open_store
        self.blocking = blocking
        self.local = threading.local()

    def get(self) -> Store:
        store: Store | None = getattr(self.local, "store", None)
        if store is None:
            store = self.local.store = self.open_store()
        return store

    async def call(self, read: Callable[[Store], T]) -> T:
        """``read(store)``, on this thread or (a store on the network) in the thread pool."""
        if self.blocking:
            return await run_in_threadpool(lambda: read(self.get()))
        return read(self.get())


def create_app(settings: Settings, open_store: Callable[[], Store] | None = None) -> FastAPI:
    """The application: routes over the store ``settings`` name (``open_store`` opens it;
    default: read-only, as the ``kpis`` command does)."""
    from musicstream import __version__

    opened = open_store or (lambda: create_store(settings, read_only=True))
    stores = Stores(opened, blocking=settings.store != "sqlite")
    app = FastAPI(
        title="musicstream read API",
        version=__version__,
        description="Daily music-streaming KPIs (SPEC §5 access patterns), from the store.",
        docs_url=None,  # Swagger UI and ReDoc load from a CDN: the API works offline
        redoc_url=None,
    )
    _errors(app)
    app.include_router(_v1(settings, stores))
    _pages(app, settings, stores)
    return app


def _errors(app: FastAPI) -> None:
    """Every error is ``{"error": "<one line>"}``: ours, a bad parameter, a wrong path."""

    @app.exception_handler(ApiError)
    def api_error(request: Request, exc: ApiError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        return JSONResponse({"error": str(exc)}, exc.status, headers=headers)

    @app.exception_handler(RequestValidationError)
    def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"][1:]) or "request"
        return JSONResponse({"error": f"{where}: {first['msg']}"}, 400)

    @app.exception_handler(HTTPException)
    def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        return JSONResponse({"error": str(exc.detail)}, exc.status_code, headers=exc.headers)


def _v1(settings: Settings, stores: Stores) -> APIRouter:
    token = settings.api_token.get_secret_value() if settings.api_token else None

    async def authorized(request: Request) -> None:  # async: no thread-pool hop
        if token is None:
            return
        given = request.headers.get("authorization", "")
        scheme, _, value = given.partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(value.encode(), token.encode()):
            raise ApiError(401, "this API needs the header Authorization: Bearer <api_token>")

    errors: dict[int | str, dict[str, Any]] = {
        code: {"model": Error, "description": text}
        for code, text in ((400, "not an access pattern"), (401, "missing or wrong token"))
    }
    v1 = APIRouter(prefix="/v1", dependencies=[Depends(authorized)], responses=errors)

    @v1.get("/kpis/{table}", response_model=Rows, summary="KPI rows of one access pattern")
    async def kpis(
        request: Request,
        table: Annotated[str, _table_param()],
        date: Annotated[str | None, Query(description="One date, YYYY-MM-DD.")] = None,
        date_from: Annotated[str | None, Query(alias="from", description="Range start.")] = None,
        date_to: Annotated[str | None, Query(alias="to", description="Range end.")] = None,
        genre: Annotated[str | None, Query(description="genre_daily, top_songs_daily")] = None,
        track_id: Annotated[str | None, Query(description="track_daily")] = None,
        user_id: Annotated[str | None, Query(description="user_daily")] = None,
        period: Annotated[str | None, Query(description="/".join(PERIODS))] = None,
    ) -> Response:
        """SPEC §5 patterns 1-10: ``date``, or ``from`` and ``to`` (inclusive, at most 366
        days) with the pattern's key filter. Rows come in key order."""
        unknown = sorted(set(request.query_params) - set(PARAMETERS))
        if unknown:
            raise ApiError(400, f"unknown parameter {unknown[0]!r}; one of {', '.join(PARAMETERS)}")
        if table in DIMENSION_COLUMNS:
            key = "track_id" if table == "songs" else "user_id"
            raise ApiError(400, f"{table} is served at /v1/{table}/{{{key}}}")
        first, last = _day(date_from, "from"), _day(date_to, "to")
        if (first is None) != (last is None):
            raise ApiError(400, "a range needs both from and to")
        if first and last and (last - first).days + 1 > MAX_RANGE_DAYS:
            days = (last - first).days + 1
            raise ApiError(400, f"a range covers at most {MAX_RANGE_DAYS} days, not {days}")
        q = KpiQuery(table, _day(date, "date"), first, last, genre, track_id, user_id, period, HTTP)
        return _json({"table": table, "rows": await _query(stores, q)})

    @v1.get("/songs/{track_id}", summary="One song's metadata (pattern 11)")
    async def song(track_id: str) -> Response:
        return await _one(
            stores, KpiQuery("songs", track=track_id, words=HTTP), f"no song {track_id!r}"
        )

    @v1.get("/users/{user_id}", summary="One user's profile (pattern 12)")
    async def user(user_id: str) -> Response:
        return await _one(
            stores, KpiQuery("users", user=user_id, words=HTTP), f"no user {user_id!r}"
        )

    return v1


def _table_param() -> Any:
    from fastapi import Path as PathParam

    return PathParam(description="A KPI table.", json_schema_extra={"enum": list(KPI_COLUMNS)})


def _pages(app: FastAPI, settings: Settings, stores: Stores) -> None:
    @app.get("/health", response_model=Health, summary="The last load, and how long ago")
    async def health() -> Response:
        try:
            load = await stores.call(lambda store: store.last_load())
        except StoreNotReady:
            load = None
        age = None
        if load is not None:
            finished = dt.datetime.fromisoformat(load.finished_at.replace("Z", "+00:00"))
            age = round((dt.datetime.now(dt.UTC) - finished).total_seconds(), 3)
        body = {
            "status": "ok" if load else "empty",
            "store": settings.store,
            "last_load": load.row() if load else None,
            "age_s": age,
        }
        return _json(body)

    @app.get("/", include_in_schema=False)
    def dashboard() -> Response:
        return FileResponse(DASHBOARD / "index.html", media_type="text/html")

    @app.get("/assets/{name}", include_in_schema=False)
    def asset(name: str) -> Response:
        if name == "plotly.min.js":  # the chart library, from the installed plotly package
            # 4.8 MB: the browser keeps it a day rather than fetch it on every page load
            cache = {"Cache-Control": "public, max-age=86400"}
            return FileResponse(_plotly_js(), media_type="text/javascript", headers=cache)
        if name not in ASSETS:
            raise ApiError(404, f"no asset {name!r}")
        return FileResponse(DASHBOARD / name, media_type=ASSETS[name])


def _plotly_js() -> Path:
    return Path(str(importlib.resources.files("plotly") / "package_data" / "plotly.min.js"))


def _day(value: str | None, name: str) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ApiError(400, f"{name} must be a date like 2026-01-31, not {value!r}") from None


async def _query(stores: Stores, q: KpiQuery) -> list[Row]:
    """The store's rows for ``q``: a refused pattern is 400, a store not ready 503."""
    try:
        return await stores.call(lambda store: store.query(q))
    except StoreNotReady as exc:
        raise ApiError(503, str(exc)) from None
    except UserError as exc:
        raise ApiError(400, str(exc)) from None


async def _one(stores: Stores, q: KpiQuery, missing: str) -> Response:
    rows = await _query(stores, q)
    if not rows:
        raise ApiError(404, missing)
    return _json(rows[0])


def _json(body: Any) -> Response:
    """JSON without the response-model round trip (rows are plain already): numbers as JSON
    numbers; NaN or infinity, which no KPI has, would be an error, not invalid JSON."""
    text = json.dumps(body, separators=(",", ":"), allow_nan=False)
    return Response(text, media_type="application/json")
