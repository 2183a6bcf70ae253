"""The pipeline's two roles and exactly what each may do.

*Glue job role* — the Spark stages the DAG sends to Glue (validate+curate, compute KPIs):
the lake prefixes those stages touch, the code prefix, and Glue's logs and metrics; and the
per-run metrics, as a whole run on Glue (no ``--stage``) publishes them.
*Airflow (MWAA) execution role* — every other task (sensor, plan, quality gate, reject, load,
archive, backfill, notify) and the DAG's asset watcher: the lake prefixes they touch, the
KPI tables and the one index the per-date replace queries, the run topic and the per-run
metrics (both from notify), starting and watching the one Glue job, consuming the landing
queue, and what MWAA itself needs to run.
Both use the stack's key, only through the services that encrypt with it for them (S3 for
the lake; DynamoDB for the tables; SQS, only to decrypt, for the landing queue).

Lake access is a table (prefix → verbs) rather than hand-written statements, so the
rendered policies and the tests read the same facts. No statement grants ``*`` actions;
the few ``*`` resources are where the AWS API has no narrower resource, each listed with
its reason in :data:`WILDCARDS` (rendered into the role's Metadata and checked by the tests).
"""

from __future__ import annotations

from musicstream.deploy import events
from musicstream.deploy.cfn import (
    CODE,
    DATA_KEY,
    LAKE,
    Node,
    arn,
    arn_of,
    bucket_arn,
    document,
    ref,
    statement,
    sub,
    tags,
    trust,
)
from musicstream.deploy.encryption import GLUE_LOG_GROUPS
from musicstream.deploy.storage import table_id

GET, PUT, DELETE = "get", "put", "delete"
VERBS = {
    GET: ("LakeRead", ["s3:GetObject"]),  # HEAD (exists, size) is GetObject too
    PUT: ("LakeWrite", ["s3:PutObject", "s3:AbortMultipartUpload"]),  # copies are a PUT
    DELETE: ("LakeDelete", ["s3:DeleteObject"]),
}

# Glue: validate reads landing and writes curated + quarantine; compute reads curated and
# writes kpis (removing a date's stale tables); both keep the ledger, the lock and Spark's
# scratch in _state. Spark moves each part file to its name and checks the copy's size,
# hence GET on what it writes. Never archive/, never a delete in curated/ or quarantine/.
GLUE_LAKE: dict[str, set[str]] = {
    "landing": {GET},
    "curated": {GET, PUT},
    "quarantine": {GET, PUT},
    "kpis": {GET, PUT, DELETE},
    "_state": {GET, PUT, DELETE},
}
# Airflow: plan hashes landing files, archive/reject move them to archive/, reject rolls
# curation back, load reads kpis, backfill recomputes kpis from curated. Never quarantine/.
AIRFLOW_LAKE: dict[str, set[str]] = {
    "landing": {GET, DELETE},
    "archive": {GET, PUT},  # append-only: no delete
    "curated": {GET, PUT, DELETE},
    "kpis": {GET, PUT, DELETE},
    "_state": {GET, PUT, DELETE},
}

# Statements whose resource is "*" or any account: the API allows nothing narrower.
WILDCARDS: dict[str, str] = {
    "GlueMetrics": "cloudwatch:PutMetricData has no resource-level permissions; "
    "the cloudwatch:namespace condition keeps it to the Glue namespace",
    "MwaaMetrics": "cloudwatch:PutMetricData has no resource-level permissions; "
    "the cloudwatch:namespace condition keeps it to the AmazonMWAA namespace",
    "RunMetrics": "cloudwatch:PutMetricData has no resource-level permissions; "
    "the cloudwatch:namespace condition keeps it to the stack's MetricsNamespace",
    "MwaaLogGroupsList": "logs:DescribeLogGroups lists log groups and takes no resource",
    "MwaaAccountPublicAccessBlock": "s3:GetAccountPublicAccessBlock is an account-level "
    "read with no resource",
    "MwaaCeleryQueues": "MWAA's Celery queues live in an AWS-owned account whose id is not "
    "known: the account is a wildcard, the name is airflow-celery-*",
    "MwaaCeleryQueueKeys": "the AWS-owned KMS key of those queues, in that unknown account; "
    "the kms:ViaService condition allows it only through SQS in this region",
}


def lake_statements(access: dict[str, set[str]]) -> list[Node]:
    """One statement per verb, listing the lake prefixes it applies to; plus the listing."""
    out = [
        # Bucket-level: list keys, and turn a HEAD on a missing key into 404 (not 403),
        # which the lake's exists() relies on. Not narrowed by s3:prefix for that reason.
        statement("LakeList", ["s3:ListBucket"], [bucket_arn()]),
    ]
    for verb, (sid, actions) in VERBS.items():
        prefixes = sorted(p for p, verbs in access.items() if verb in verbs)
        if prefixes:
            out.append(statement(sid, actions, [bucket_arn(f"{LAKE}/{p}/*") for p in prefixes]))
    return out


def role(description: str, trusted: Node, statements: list[Node]) -> Node:
    """An IAM role with one inline policy; its wildcard resources declared in Metadata."""
    used = {s["Sid"]: WILDCARDS[s["Sid"]] for s in statements if s["Sid"] in WILDCARDS}
    return {
        "Type": "AWS::IAM::Role",
        "Metadata": {"musicstream": {"wildcard_resources": used}} if used else {},
        "Properties": {
            "Description": description,
            "AssumeRolePolicyDocument": trusted,
            "Policies": [{"PolicyName": "musicstream", "PolicyDocument": document(statements)}],
            "Tags": tags(),
        },
    }


GLUE_JOB_ACTIONS = [  # GlueJobOperator: find the job, start a run, watch it, stop it on kill
    "glue:BatchStopJobRun",
    "glue:GetJob",
    "glue:GetJobRun",
    "glue:GetJobRuns",
    "glue:StartJobRun",
]
GLUE_LOG_ACTIONS = [  # AssociateKmsKey: Glue puts the data key on the log groups it creates
    "logs:AssociateKmsKey",
    "logs:CreateLogGroup",
    "logs:CreateLogStream",
    "logs:PutLogEvents",
]
# what S3 and DynamoDB ask of a caller whose data they encrypt with a customer-managed key
DATA_KEY_ACTIONS = ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"]

MWAA_SOURCE_BUCKET = [  # spelled out from AWS's s3:GetBucket* / s3:List* example
    "s3:GetBucketLocation",
    "s3:GetBucketPublicAccessBlock",
    "s3:GetBucketVersioning",
    "s3:ListBucket",
]
MWAA_LOG_ACTIONS = [
    "logs:CreateLogGroup",
    "logs:CreateLogStream",
    "logs:GetLogEvents",
    "logs:GetLogGroupFields",
    "logs:GetLogRecord",
    "logs:GetQueryResults",
    "logs:PutLogEvents",
]
MWAA_QUEUE_ACTIONS = [
    "sqs:ChangeMessageVisibility",
    "sqs:DeleteMessage",
    "sqs:GetQueueAttributes",
    "sqs:GetQueueUrl",
    "sqs:ReceiveMessage",
    "sqs:SendMessage",
]
MWAA_KEY_ACTIONS = ["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey"]
# The asset watcher's trigger (SqsSensorTrigger): receive, then delete what it received
# (DeleteMessageBatch is authorized as DeleteMessage). Nothing else: it neither reads the
# queue's attributes nor changes a message's visibility.
LANDING_QUEUE_ACTIONS = ["sqs:DeleteMessage", "sqs:ReceiveMessage"]


def data_key_statement(*services: str) -> Node:
    """Use of the stack's key, only by way of ``services`` (``s3``, ``dynamodb``): what
    reading and writing data they encrypt with it asks of the caller."""
    via = [sub(f"{s}.${{AWS::Region}}.amazonaws.com") for s in services]
    condition = {"StringEquals": {"kms:ViaService": via}}
    return statement("DataKey", DATA_KEY_ACTIONS, [arn_of(DATA_KEY)], condition)


def glue_job_role() -> Node:
    logs = arn("logs", GLUE_LOG_GROUPS)  # Glue's log groups: one stream per run
    statements = [
        *lake_statements(GLUE_LAKE),
        data_key_statement("s3"),
        statement("Code", ["s3:GetObject"], [bucket_arn(f"{CODE}/*")]),
        statement("GlueLogs", GLUE_LOG_ACTIONS, [logs]),
        statement(
            "GlueMetrics",
            ["cloudwatch:PutMetricData"],
            ["*"],  # WILDCARDS: no resource-level permissions; the namespace condition narrows
            {"StringEquals": {"cloudwatch:namespace": "Glue"}},
        ),
        run_metrics_statement(),
    ]
    trusted = trust("glue.amazonaws.com")
    return role("musicstream Glue job: Spark stages over the lake", trusted, statements)


def airflow_role() -> Node:
    trusted = trust(
        "airflow.amazonaws.com",
        "airflow-env.amazonaws.com",
        condition={"StringEquals": {"aws:SourceAccount": sub("${AWS::AccountId}")}},
    )
    statements = [
        *lake_statements(AIRFLOW_LAKE),
        *store_statements(),
        data_key_statement("s3", "dynamodb"),
        statement("RunTopic", ["sns:Publish"], [ref("RunTopic")]),
        run_metrics_statement(),
        statement("GlueJob", GLUE_JOB_ACTIONS, [arn("glue", "job/${GlueJobName}")]),
        *landing_queue_statements(),
        *mwaa_source_statements(),
        *mwaa_service_statements(),
    ]
    return role("musicstream Airflow (MWAA) execution role", trusted, statements)


def store_statements() -> list[Node]:
    """Load: describe, query a date's keys, batch-write the KPI tables, through the GSIs the
    per-date replace uses (track_daily's and user_daily's report_date indexes), and the same
    on ``loads`` (the last load is read, the new one written); describe and batch-write the
    dimension tables (songs, users: upserts, nothing read). BatchGetItem on the KPI tables:
    the check after a load reads a date's track_daily and user_daily items by the keys their
    date index gives (verify/). No CreateTable, no Scan, no GetItem."""
    from musicstream.datasets import DIMENSION_KEYS
    from musicstream.stores.dynamodb_tables import SPECS

    kpis = [arn_of(table_id(t)) for t in SPECS if t not in DIMENSION_KEYS]
    dimensions = [arn_of(table_id(t)) for t in SPECS if t in DIMENSION_KEYS]
    indexes = [
        sub(f"${{{table_id(t)}.Arn}}/index/{spec.index_name}")
        for t, spec in SPECS.items()
        if spec.index_name and spec.pk != "report_date"  # the others' indexes serve reads
    ]
    write = ["dynamodb:BatchWriteItem", "dynamodb:DescribeTable"]
    return [
        statement("KpiTables", [*write, "dynamodb:Query", "dynamodb:BatchGetItem"], kpis),
        statement("KpiDateIndex", ["dynamodb:Query"], indexes),
        statement("DimensionTables", write, dimensions),
    ]


def run_metrics_statement() -> Node:
    """The per-run metrics (``musicstream/metrics.py``), whichever role's task ends the run:
    PutMetricData in the stack's MetricsNamespace and no other."""
    in_namespace = {"StringEquals": {"cloudwatch:namespace": ref("MetricsNamespace")}}
    # WILDCARDS: no resource-level permissions; the namespace condition narrows
    return statement("RunMetrics", ["cloudwatch:PutMetricData"], ["*"], in_namespace)


def landing_queue_statements() -> list[Node]:
    """The DAG's asset watcher consumes the landing queue; its messages are encrypted with
    the data key, which it may use through SQS to decrypt only."""
    via_sqs = {"StringEquals": {"kms:ViaService": sub("sqs.${AWS::Region}.amazonaws.com")}}
    return [
        statement("LandingQueue", LANDING_QUEUE_ACTIONS, [arn_of(events.QUEUE)]),
        statement("LandingQueueKey", ["kms:Decrypt"], [arn_of(DATA_KEY)], via_sqs),
    ]


def mwaa_source_statements() -> list[Node]:
    """Read-only access to the bucket MWAA loads the DAGs and requirements from."""
    source = "arn:${AWS::Partition}:s3:::${MwaaSourceBucketName}"
    return [
        statement("MwaaSourceBucket", MWAA_SOURCE_BUCKET, [sub(source)]),
        statement(
            "MwaaSourceObjects", ["s3:GetObject", "s3:GetObjectVersion"], [sub(source + "/*")]
        ),
        # WILDCARDS: an account-level setting, the API takes no resource
        statement("MwaaAccountPublicAccessBlock", ["s3:GetAccountPublicAccessBlock"], ["*"]),
    ]


def mwaa_service_statements() -> list[Node]:
    """What an MWAA environment needs from its execution role to run at all: metrics, its
    log groups, and the Celery queues (with their key) that MWAA owns."""
    environment = arn("airflow", "environment/${MwaaEnvironmentName}")
    logs = arn("logs", "log-group:airflow-${MwaaEnvironmentName}-*")
    return [
        statement("MwaaPublishMetrics", ["airflow:PublishMetrics"], [environment]),
        statement("MwaaLogs", MWAA_LOG_ACTIONS, [logs]),
        # WILDCARDS: DescribeLogGroups and PutMetricData take no resource
        statement("MwaaLogGroupsList", ["logs:DescribeLogGroups"], ["*"]),
        statement(
            "MwaaMetrics",
            ["cloudwatch:PutMetricData"],
            ["*"],
            {"StringEquals": {"cloudwatch:namespace": "AmazonMWAA"}},
        ),
        # WILDCARDS: the queues and their key live in an AWS-owned account of unknown id
        statement(
            "MwaaCeleryQueues",
            MWAA_QUEUE_ACTIONS,
            [sub("arn:${AWS::Partition}:sqs:${AWS::Region}:*:airflow-celery-*")],
        ),
        statement(
            "MwaaCeleryQueueKeys",
            MWAA_KEY_ACTIONS,
            [sub("arn:${AWS::Partition}:kms:${AWS::Region}:*:key/*")],
            {"StringEquals": {"kms:ViaService": sub("sqs.${AWS::Region}.amazonaws.com")}},
        ),
    ]
