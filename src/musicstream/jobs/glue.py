"""AWS Glue 5 job entry: Glue's job arguments in, the Spark engine's run or stage out.

Glue passes job parameters as ``--name value`` pairs; the ones this job reads are
``--lake`` (required), ``--stage`` and ``--batch_id`` (as the Airflow DAG sends them), and
any setting by name (``--store``, ``--store_prefix``, ``--aws_region``, ``--sns_topic_arn``,
``--max_bad_ratio``, …). Outside Glue (no ``awsglue``) the same arguments are parsed with
argparse and a plain SparkSession is used, so the job runs anywhere for testing.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import Any

from musicstream.jobs.spark_submit import JOB_SETTINGS, run_job, settings_for

JOB_ARGS = ("stage", "batch_id", "config", *JOB_SETTINGS)


def resolve_options(argv: Sequence[str]) -> dict[str, Any]:
    """Job arguments by name: Glue's resolver when on Glue, argparse otherwise.

    Glue's resolver fails on a missing name, so only the names present are asked for;
    ``--batch-id`` and ``--batch_id`` are the same argument.
    """
    ours = {f"--{name}".replace("_", "-"): f"--{name}" for name in JOB_ARGS}
    argv = [ours.get(a, a) for a in argv]
    wanted = [name for name in ("JOB_NAME", *JOB_ARGS) if f"--{name}" in argv]
    try:
        from awsglue.utils import getResolvedOptions
    except ImportError:
        import argparse

        cli = argparse.ArgumentParser(prog="musicstream-glue")
        for name in wanted:
            cli.add_argument(f"--{name}")
        found, _ = cli.parse_known_args(argv[1:])
        return vars(found)
    return dict(getResolvedOptions(list(argv), wanted))


def _glue_job(options: dict[str, Any]) -> Any:
    """Start the Glue job (GlueContext, Job.init) when on Glue; None elsewhere."""
    try:
        from awsglue.context import GlueContext
        from awsglue.job import Job
        from pyspark.context import SparkContext
    except ImportError:
        return None
    job = Job(GlueContext(SparkContext.getOrCreate()))
    job.init(options.get("JOB_NAME", "musicstream"), options)
    return job


def main(argv: Sequence[str] | None = None) -> None:
    options = resolve_options(sys.argv if argv is None else ["glue", *argv])
    job = _glue_job(options)
    result = run_job(settings_for(options), options.get("stage"), options.get("batch_id"))
    print(json.dumps(result, default=str))
    if job is not None:
        job.commit()


if __name__ == "__main__":
    main()
