"""The read API's command: ``serve``."""

from __future__ import annotations

from typing import Annotated

import typer

from musicstream.cli.common import Config, Lake, LogFormat, StoreName, app, settings_from


@app.command()
def serve(
    lake: Lake = None,
    store: StoreName = None,
    host: Annotated[
        str | None, typer.Option(help="Address to bind; default 127.0.0.1 (this machine only).")
    ] = None,
    port: Annotated[int | None, typer.Option(help="TCP port; default 8000.")] = None,
    workers: Annotated[
        int, typer.Option(min=1, help="Server processes (one per core for the most requests/s).")
    ] = 1,
    access_log: Annotated[bool, typer.Option(help="Log every request (costs throughput).")] = False,
    config: Config = None,
    log_format: LogFormat = None,
) -> None:
    """Serve the store's KPIs over HTTP (JSON) with a live dashboard at /, until Ctrl-C.

    \b
    GET /v1/kpis/{table}?date=D | ?from=A&to=B&genre=G|track_id=ID|user_id=ID|period=P
    GET /v1/songs/{track_id}    GET /v1/users/{user_id}    GET /health
    OpenAPI description: /openapi.json. With the api_token setting, /v1 needs
    "Authorization: Bearer <token>".
    """
    from musicstream.api import server

    settings = settings_from(
        config, log_format, lake=lake, store=store, api_host=host, api_port=port
    )
    server.run(settings, workers, access_log)
