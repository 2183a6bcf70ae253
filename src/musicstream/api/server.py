"""Run the read API with uvicorn: one process, or ``workers`` processes on one socket."""

from __future__ import annotations

import json
import os
import socket

import uvicorn
from fastapi import FastAPI

from musicstream.api.app import create_app
from musicstream.errors import UserError
from musicstream.settings import Settings

# Worker processes are started fresh (spawn) and build the app from this variable: the
# settings the command resolved, so flags and config files mean the same in every worker.
SETTINGS_ENV = "MUSICSTREAM_SERVE_SETTINGS"


def run(settings: Settings, workers: int = 1, access_log: bool = False) -> None:
    """Serve until Ctrl-C or SIGTERM (uvicorn finishes the requests in flight)."""
    sock = listen(settings.api_host, settings.api_port)
    host, port = sock.getsockname()[:2]
    print(
        f"musicstream read API on http://{host}:{port}/ (dashboard), /openapi.json; "
        f"store {settings.store}; Ctrl-C stops",
        flush=True,
    )
    options = {"log_level": "warning", "access_log": access_log}
    if workers == 1:
        config = uvicorn.Config(create_app(settings), **options)  # type: ignore[arg-type]
        uvicorn.Server(config).run(sockets=[sock])
        return
    from uvicorn.supervisors import Multiprocess

    os.environ[SETTINGS_ENV] = dump(settings)
    config = uvicorn.Config(
        f"{__name__}:from_environment",
        factory=True,
        workers=workers,
        **options,  # type: ignore[arg-type]
    )
    Multiprocess(config, sockets=[sock]).run()


def listen(host: str, port: int) -> socket.socket:
    """The server's socket, bound here so a taken port is one clear line, not a log."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise UserError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    sock.set_inheritable(True)  # the worker processes accept on it
    return sock


def dump(settings: Settings) -> str:
    data = settings.model_dump(mode="json")
    if settings.api_token is not None:  # model_dump masks secrets
        data["api_token"] = settings.api_token.get_secret_value()
    return json.dumps(data)


def from_environment() -> FastAPI:
    """The app of a worker process, from the settings the parent resolved."""
    return create_app(Settings(**json.loads(os.environ[SETTINGS_ENV])))
