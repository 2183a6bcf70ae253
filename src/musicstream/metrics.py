"""Per-run metrics: a run summary as CloudWatch metrics, which the stack's alarms and
dashboard watch (``deploy/monitoring.py``). On when ``metrics_namespace`` is set.

``PutMetricData`` rather than the embedded metric format (EMF). EMF metrics exist only once a
log event reaching CloudWatch Logs is one JSON object with nothing before or after it. Where
a run executes, that is not ours to promise: an Airflow task's output reaches CloudWatch Logs
through Airflow's task log handler, each line behind its timestamp, source and level; a Glue
job's driver output through Glue's own log forwarding; ``musicstream run`` or ``watch`` on a
host of its own writes to a terminal or a file, not to CloudWatch at all. One signed API call
publishes the same numbers from all of them, is tested against a local endpoint, and fails
loudly (one warning line) where a log line that is not EMF would be dropped silently. Its
price is an IAM grant, narrowed to the namespace (``deploy/access.py``), and one request per
run.

A failure to publish never fails the run: it is logged as one warning line.
"""

from __future__ import annotations

import logging
import math
from collections import Counter
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from musicstream.settings import Settings

log = logging.getLogger(__name__)

# Metric names and their dimensions; deploy/monitoring.py builds the alarms from these.
RUNS = "Runs"  # 1 per run; Status: ok, failed, rejected, nothing_new, interrupted
ROWS = {"read": "RowsRead", "kept": "RowsKept", "quarantined": "RowsQuarantined"}  # Dataset
QUALITY_ROWS = "BatchQualityRows"  # Dataset, Reason: each quarantine reason and warning
STAGE_DURATION = "StageDuration"  # Stage (seconds)
RUN_DURATION = "RunDuration"  # seconds
LAG = "FreshnessLag"  # seconds from the oldest file of the batch landing to its load
STORE_ITEMS = "StoreItemsWritten"
WARNINGS = "Warnings"  # Check
MAX_PER_REQUEST = 1000  # PutMetricData takes at most 1,000 metrics (and 1 MB) a request

Datum = dict[str, Any]


def publish(settings: Settings, summary: dict[str, Any]) -> None:
    """Put ``summary``'s metrics in ``settings.metrics_namespace``; nothing when unset."""
    if not settings.metrics_namespace:
        return
    try:
        _put(settings, settings.metrics_namespace, datums(summary, datetime.now(UTC)))
    except Exception as exc:  # metrics must never fail the run
        log.warning("CloudWatch metrics not published: %s", exc)


def datums(summary: dict[str, Any], at: datetime) -> list[Datum]:
    """The metric data of one run summary, all stamped ``at``; the optional keys of the
    summary (stages, lag, store items, warnings) give metrics only when present."""
    out = [_datum(RUNS, 1, "Count", Status=summary.get("status") or "unknown")]
    for dataset, counts in (summary.get("datasets") or {}).items():
        out += [
            _datum(name, counts.get(key), "Count", Dataset=dataset) for key, name in ROWS.items()
        ]
        out += [
            _datum(QUALITY_ROWS, rows, "Count", Dataset=dataset, Reason=reason)
            for reason, rows in (counts.get("reasons") or {}).items()
        ]
    out += [
        _datum(STAGE_DURATION, seconds, "Seconds", Stage=stage)
        for stage, seconds in (summary.get("stages") or {}).items()
    ]
    out.append(_datum(RUN_DURATION, summary.get("duration_s"), "Seconds"))
    out.append(_datum(LAG, summary.get("lag_s"), "Seconds"))
    out.append(_datum(STORE_ITEMS, summary.get("store_items_written"), "Count"))
    checks = Counter(str(w.get("check")) for w in summary.get("warnings") or [])
    out += [_datum(WARNINGS, n, "Count", Check=check) for check, n in sorted(checks.items())]
    return [{**d, "Timestamp": at} for d in out if d]


def _datum(name: str, value: Any, unit: str, **dimensions: Any) -> Datum | None:
    """One metric datum, or None for a value CloudWatch cannot take (absent, not a finite
    number: it rejects NaN and infinities)."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    # a dimension value is 1 to 1,024 characters, or the whole request is refused
    dims = [{"Name": k, "Value": str(v)[:1024] or "-"} for k, v in dimensions.items()]
    return {"MetricName": name, "Dimensions": dims, "Value": float(value), "Unit": unit}


def _put(settings: Settings, namespace: str, data: list[Datum]) -> None:
    import boto3  # the aws extra; imported only when metrics are on

    client = boto3.client(
        "cloudwatch", endpoint_url=settings.aws_endpoint_url, region_name=settings.aws_region
    )
    for start in range(0, len(data), MAX_PER_REQUEST):
        client.put_metric_data(
            Namespace=namespace, MetricData=data[start : start + MAX_PER_REQUEST]
        )
