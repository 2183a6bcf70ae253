"""spark-submit entry point: the pipeline, or one stage of a batch, on the Spark engine.

    spark-submit --master yarn musicstream/jobs/spark_submit.py \\
        --lake s3://bucket/lake --store dynamodb [--stage validate --batch-id ID]

Without ``--stage`` it is ``musicstream run``; with one it is ``musicstream stage`` (what
the Airflow DAG submits). Any setting can be given as ``--<setting>`` (``--store-prefix``,
``--aws-region``, ``--max-bad-ratio``, …); the engine is always ``spark``. Prints the JSON
result on the last line of stdout.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from musicstream.errors import UserError
from musicstream.settings import Settings, load_settings

# Settings a job may be given on its command line (top_n stays in the config file).
JOB_SETTINGS = tuple(
    name for name in Settings.model_fields if name not in ("engine", "top_n", "progress")
)


def settings_for(options: Mapping[str, Any]) -> Settings:
    """Settings from job options; unset ones come from env / config file / defaults."""
    given = {k: options.get(k) for k in JOB_SETTINGS}
    config = Path(options["config"]) if options.get("config") else None
    return load_settings(config, engine="spark", progress=False, **given)


def run_job(settings: Settings, stage: str | None, batch_id: str | None) -> dict[str, Any]:
    """The whole run, planning a batch (``stage='plan'``), or one stage of ``batch_id``."""
    from musicstream import pipeline
    from musicstream.logs import setup_logging
    from musicstream.pipeline import tasks

    setup_logging(settings.log_format)
    if stage is None:
        return pipeline.run(settings)
    if stage == "plan":
        return tasks.plan_batch(settings) or {"batch_id": None}
    if not batch_id:
        raise UserError(f"stage {stage!r} needs --batch-id")
    return tasks.run_stage(stage, settings, batch_id)


def parser() -> argparse.ArgumentParser:
    cli = argparse.ArgumentParser(prog="musicstream-spark", description=__doc__.split("\n")[0])
    cli.add_argument(
        "--stage", help="plan, validate, compute_kpis, load, archive, … (default: run)"
    )
    cli.add_argument("--batch-id", help="the batch a stage works on")
    cli.add_argument("--config", help="TOML settings file")
    for name in JOB_SETTINGS:
        cli.add_argument("--" + name.replace("_", "-"), dest=name)
    return cli


def main(argv: Sequence[str] | None = None) -> None:
    options = vars(parser().parse_args(argv))
    try:
        result = run_job(settings_for(options), options["stage"], options["batch_id"])
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
    print(json.dumps(result, default=str))


if __name__ == "__main__":
    main()
