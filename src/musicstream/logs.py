"""Logging for people (rich, text) or machines (one JSON object per line)."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any


class JsonFormatter(logging.Formatter):
    """One JSON object per record; a record's ``fields`` (``extra={"fields": {…}}``: a
    stage's name, batch id, duration, counts) become keys of their own."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, value in getattr(record, "fields", {}).items():
            entry.setdefault(key, value)
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


class FieldsFormatter(logging.Formatter):
    """The message, then the record's ``fields`` as ``key=value``: the same facts as the
    JSON logs, for people and for grep (less what the message already says)."""

    SAID = frozenset({"event", "stage", "duration_s"})  # "load done in 1.20s"

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        fields = getattr(record, "fields", {})
        pairs = [
            f"{k}={_plain(v)}" for k, v in fields.items() if k not in self.SAID and v is not None
        ]
        return " · ".join([text, " ".join(pairs)]) if pairs else text


def _plain(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value).replace(" ", "_")


def error_line(message: str, fmt: str) -> str:
    """A command's final error line on stderr: JSON like every other line with
    ``--log-format json``, else ``error: …``."""
    if fmt != "json":
        return f"error: {message}"
    entry = {"ts": datetime.now(UTC).isoformat(), "level": "error", "msg": message}
    return json.dumps({**entry, "logger": "musicstream"})


def log_format() -> str:
    """``json`` when :func:`setup_logging` set up JSON logs, else ``text``."""
    handlers = logging.getLogger().handlers
    return "json" if any(isinstance(h.formatter, JsonFormatter) for h in handlers) else "text"


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
        handler.setFormatter(FieldsFormatter())
    root.addHandler(handler)
    root.setLevel(level)
    logging.captureWarnings(True)  # library warnings as log records: JSON lines too
    # AWS clients log credential discovery at INFO, py4j every closed Spark connection (even
    # from __del__ at interpreter exit, after handlers' streams are gone), matplotlib its
    # choice of axis units, watchfiles every change it sees: noise
    for noisy in ("botocore", "boto3", "aiobotocore", "s3fs", "py4j", "matplotlib", "watchfiles"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    # our own notify log line carries the full JSON summary: keep it out of the text view
    logging.getLogger("musicstream.notify").setLevel(
        logging.INFO if fmt == "json" else logging.WARNING
    )
