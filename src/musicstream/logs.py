"""Logging for people (rich, text) or machines (one JSON object per line)."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry)


def setup_logging(fmt: str = "text", level: int = logging.INFO) -> None:
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    handler: logging.Handler
    if fmt == "json":
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(JsonFormatter())
    else:
        from rich.console import Console
        from rich.logging import RichHandler

        # stderr, as the JSON logs: stdout is for results (`--format json`, CSV, tables)
        handler = RichHandler(
            console=Console(stderr=True), show_path=False, markup=False, rich_tracebacks=False
        )
    root.addHandler(handler)
    root.setLevel(level)
    # AWS clients log credential discovery at INFO, py4j every closed Spark connection (even
    # from __del__ at interpreter exit, after handlers' streams are gone), matplotlib its
    # choice of axis units, watchfiles every change it sees: noise
    for noisy in ("botocore", "boto3", "aiobotocore", "s3fs", "py4j", "matplotlib", "watchfiles"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    # our own notify log line carries the full JSON summary: keep it out of the text view
    logging.getLogger("musicstream.notify").setLevel(
        logging.INFO if fmt == "json" else logging.WARNING
    )
