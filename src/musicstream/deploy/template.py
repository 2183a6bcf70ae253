"""The whole stack as one CloudFormation template, built as a dict and rendered as JSON.

CloudFormation rather than CDK: the template is plain data, so it is built by the same
Python that defines the DynamoDB tables, unit-tested without node or a synth step, linted
by cfn-lint, and deployed with nothing but the AWS CLI.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from musicstream import __version__
from musicstream.deploy import events, monitoring, serving
from musicstream.deploy.access import airflow_role, glue_job_role
from musicstream.deploy.cfn import CODE, DATA_KEY, LAKE, Node, arn_of, ref, sub
from musicstream.deploy.encryption import data_key, glue_security_configuration
from musicstream.deploy.storage import (
    access_log_bucket,
    access_log_bucket_policy,
    bucket_policy,
    kpi_tables,
    lake_bucket,
    run_topic,
)

GLUE_SCRIPT = "glue_job.py"  # scripts/glue_job.py, uploaded to code/
WHEEL = f"musicstream-{__version__}-py3-none-any.whl"  # `uv build` output, uploaded to code/

PARAMETERS: dict[str, Node] = {
    "AdminRoleArn": {
        "Type": "String",
        "Description": "The one human/admin role the bucket policy lets in besides the pipeline.",
        "AllowedPattern": r"^arn:aws[a-z-]*:iam::\d{12}:role/.+$",
    },
    "StorePrefix": {
        "Type": "String",
        "Default": "musicstream_",
        "Description": "DynamoDB table-name prefix (settings store_prefix).",
        "AllowedPattern": r"^[A-Za-z0-9_.-]{0,200}$",
    },
    "GlueJobName": {"Type": "String", "Default": "musicstream", "MinLength": 1},
    "GlueWorkers": {"Type": "Number", "Default": 2, "MinValue": 2, "MaxValue": 100},
    "MwaaEnvironmentName": {"Type": "String", "Default": "musicstream", "MinLength": 1},
    "MwaaSourceBucketName": {
        "Type": "String",
        "Description": "Existing bucket MWAA reads dags/ and requirements.txt from.",
        "MinLength": 3,
    },
    "ArchiveRetentionDays": {"Type": "Number", "Default": 730, "MinValue": 180},
    "QuarantineRetentionDays": {"Type": "Number", "Default": 365, "MinValue": 31},
    "AccessLogRetentionDays": {"Type": "Number", "Default": 365, "MinValue": 90},
    **serving.PARAMETERS,
    **monitoring.PARAMETERS,
}


def job_arguments() -> Node:
    """The job's default arguments; the DAG adds ``--stage`` and ``--batch_id`` per run."""
    return {
        "--lake": sub(f"s3://${{LakeBucket}}/{LAKE}"),
        # the package, and s3fs for the lake's own reads and writes (Glue has boto3, not s3fs)
        "--additional-python-modules": sub(f"s3://${{LakeBucket}}/{CODE}/{WHEEL},s3fs"),
        "--job-language": "python",
        "--job-bookmark-option": "job-bookmark-disable",  # the lake's ledger tracks batches
        "--metrics_namespace": ref(monitoring.NAMESPACE),  # settings metrics_namespace
        "--enable-metrics": "true",
        "--enable-observability-metrics": "true",
        "--enable-continuous-cloudwatch-log": "true",
    }


def glue_job() -> Node:
    """Glue 5.0 (Spark 3.5) running the thin entry script; one run at a time; what it
    writes encrypted with the stack's key (its security configuration)."""
    script = sub(f"s3://${{LakeBucket}}/{CODE}/{GLUE_SCRIPT}")
    return {
        "Type": "AWS::Glue::Job",
        "Properties": {
            "Name": ref("GlueJobName"),
            "Description": "musicstream Spark stages (validate, compute_kpis) over the lake",
            "Role": arn_of("GlueJobRole"),
            "GlueVersion": "5.0",
            "Command": {"Name": "glueetl", "PythonVersion": "3", "ScriptLocation": script},
            "DefaultArguments": job_arguments(),
            "ExecutionProperty": {"MaxConcurrentRuns": 1},  # stages of one lake never overlap
            "MaxRetries": 0,  # Airflow retries the stage; the ledger makes that safe
            "Timeout": 120,  # minutes
            "WorkerType": "G.1X",
            "NumberOfWorkers": ref("GlueWorkers"),
            "SecurityConfiguration": ref("GlueSecurityConfiguration"),
            "Tags": {"project": "musicstream"},
        },
    }


def resources() -> dict[str, Node]:
    roles = [arn_of("GlueJobRole"), arn_of("AirflowRole"), ref("AdminRoleArn")]
    key = data_key()
    key["Properties"]["KeyPolicy"]["Statement"] += [
        serving.logs_key_statement(),
        events.key_statement(),
    ]
    return {
        DATA_KEY: key,
        "LakeBucket": lake_bucket(),
        "LakeBucketPolicy": bucket_policy(roles),
        "AccessLogBucket": access_log_bucket(),
        "AccessLogBucketPolicy": access_log_bucket_policy(),
        **events.resources(),  # the landing queue and the rule that feeds it what lands
        **kpi_tables(),
        **run_topic(),
        "GlueJobRole": glue_job_role(),
        "AirflowRole": airflow_role(),
        "GlueSecurityConfiguration": glue_security_configuration(),
        "GlueJob": glue_job(),
        **serving.resources(),  # the read API, once its package is uploaded
        **monitoring.resources(),  # alarms, their topic, the dashboard
    }


OUTPUTS: dict[str, Node] = {
    "BucketName": {"Value": ref("LakeBucket")},
    "LakeUrl": {"Description": "settings lake", "Value": sub(f"s3://${{LakeBucket}}/{LAKE}")},
    "CodeUrl": {
        "Description": "upload the Glue script and wheel here",
        "Value": sub(f"s3://${{LakeBucket}}/{CODE}/"),
    },
    "StorePrefix": {"Description": "settings store_prefix", "Value": ref("StorePrefix")},
    "TopicArn": {"Description": "settings sns_topic_arn", "Value": ref("RunTopic")},
    "GlueJobName": {"Description": "MUSICSTREAM_AIRFLOW_GLUE_JOB", "Value": ref("GlueJobName")},
    "GlueJobRoleArn": {"Value": arn_of("GlueJobRole")},
    "AirflowRoleArn": {"Description": "MWAA execution role", "Value": arn_of("AirflowRole")},
    "DataKeyArn": {"Description": "KMS key of the lake and tables", "Value": arn_of(DATA_KEY)},
    "AccessLogBucketName": {"Value": ref("AccessLogBucket")},
    **events.OUTPUTS,
    **serving.OUTPUTS,
    **monitoring.OUTPUTS,
}


def build_template() -> dict[str, Any]:
    """The musicstream stack: data key, lake and access-log buckets, landing queue and its
    EventBridge rule, KPI tables, run topic, Glue job, two roles; alarms, their topic and
    a dashboard; and the read API (function, HTTP API, its role) once its package is
    uploaded."""
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": f"musicstream {__version__}: lake, landing queue, KPI store, "
        "notifications, Glue, read API, IAM, KMS, alarms",
        "Parameters": copy.deepcopy(PARAMETERS),
        "Conditions": copy.deepcopy(serving.CONDITIONS),
        "Resources": resources(),
        "Outputs": copy.deepcopy(OUTPUTS),
    }


def render(template: dict[str, Any] | None = None) -> str:
    """The template as JSON text (what ``aws cloudformation deploy`` takes).

    Compact (no indentation: ``jq . build/musicstream-stack.json`` to read it): 46 kB, where
    one space of indentation made 50.6 kB of the 51,200 bytes a direct upload accepts.
    """
    return json.dumps(template or build_template(), separators=(",", ":")) + "\n"
