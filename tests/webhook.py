"""A webhook receiver for tests: a real HTTP server on 127.0.0.1 keeping the JSON bodies
POSTed to it; it can answer the first requests with an error, as a flaky receiver does."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class Webhook:
    """``received``: the bodies it accepted; ``attempts``: every POST, accepted or not."""

    def __init__(self, fail_first: int = 0, fail_status: int = 503) -> None:
        self.received: list[dict[str, Any]] = []
        self.attempts = 0
        self.fail_first, self.fail_status = fail_first, fail_status
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                hook.attempts += 1
                if hook.attempts <= hook.fail_first:
                    self.send_response(hook.fail_status)
                else:
                    hook.received.append(json.loads(body))
                    self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
