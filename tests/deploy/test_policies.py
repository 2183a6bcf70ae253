"""Least privilege, asserted on the rendered policies as AWS would read them.

The expected grants below are written out by hand — not derived from the code under
test — so widening a role means changing this file, in review.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import pytest

from musicstream.deploy.template import build_template

from .cfn_eval import ACCOUNT, ADMIN, BUCKET, KEY, resolve, role_arn, symbolic_names
from .iam_eval import ALLOW, DENY, IMPLICIT, Request, decide

pytestmark = pytest.mark.infra

TEMPLATE = build_template()
NAMES = symbolic_names(TEMPLATE)
GLUE, AIRFLOW, API = role_arn("GlueJobRole"), role_arn("AirflowRole"), role_arn("ApiRole")
B = f"arn:aws:s3:::{BUCKET}"
REGIONAL = f"us-east-1:{ACCOUNT}"


def doc(logical: str) -> dict[str, Any]:
    props = TEMPLATE["Resources"][logical]["Properties"]
    return dict(resolve(props["PolicyDocument"], NAMES))


def identity(logical: str) -> list[dict[str, Any]]:
    props = TEMPLATE["Resources"][logical]["Properties"]
    return [resolve(p["PolicyDocument"], NAMES) for p in props["Policies"]]


def grants(logical: str) -> dict[str, set[str]]:
    """Action → every resource some Allow statement of the role grants it on."""
    out: dict[str, set[str]] = defaultdict(set)
    for policy in identity(logical):
        for s in policy["Statement"]:
            for action in s["Action"]:
                out[action] |= set(s["Resource"])
    return dict(out)


def lake(*prefixes: str) -> set[str]:
    return {f"{B}/lake/{p}/*" for p in prefixes}


def table(name: str) -> str:
    return f"arn:aws:dynamodb:{REGIONAL}:table/musicstream_{name}"


TABLES = {
    table(t)
    for t in (
        "genre_daily",
        "top_songs_daily",
        "top_genres_daily",
        "track_daily",
        "country_daily",
        "top_artists_daily",
        "user_daily",
        "hourly_activity",
        "active_listeners",
    )
}
DIMENSION_TABLES = {table("songs"), table("users")}
LOADS = {table("loads")}  # the store's record of finished loads (/health)
GENRE_INDEX = table("genre_daily") + "/index/genre-report_date"
GLUE_LOGS = {f"arn:aws:logs:{REGIONAL}:log-group:/aws-glue/jobs*"}
MWAA_LOGS = {f"arn:aws:logs:{REGIONAL}:log-group:airflow-musicstream-*"}
QUEUES = {"arn:aws:sqs:us-east-1:*:airflow-celery-*"}
LANDING_QUEUE = f"arn:aws:sqs:{REGIONAL}:stack-LandingQueue"  # what lands, via EventBridge
DEAD_LETTERS = f"arn:aws:sqs:{REGIONAL}:stack-LandingDeadLetters"

EXPECTED_GLUE = {
    "s3:ListBucket": {B},
    "s3:GetObject": lake("landing", "curated", "quarantine", "kpis", "_state") | {f"{B}/code/*"},
    "s3:PutObject": lake("curated", "quarantine", "kpis", "_state"),
    "s3:AbortMultipartUpload": lake("curated", "quarantine", "kpis", "_state"),
    "s3:DeleteObject": lake("kpis", "_state"),
    "kms:Decrypt": {KEY},
    "kms:Encrypt": {KEY},
    "kms:GenerateDataKey": {KEY},
    "logs:AssociateKmsKey": GLUE_LOGS,
    "logs:CreateLogGroup": GLUE_LOGS,
    "logs:CreateLogStream": GLUE_LOGS,
    "logs:PutLogEvents": GLUE_LOGS,
    "cloudwatch:PutMetricData": {"*"},
}
EXPECTED_AIRFLOW = {
    "s3:ListBucket": {B, "arn:aws:s3:::airflow-dags"},
    "s3:GetObject": lake("landing", "archive", "curated", "kpis", "_state")
    | {"arn:aws:s3:::airflow-dags/*"},
    "s3:PutObject": lake("archive", "curated", "kpis", "_state"),
    "s3:AbortMultipartUpload": lake("archive", "curated", "kpis", "_state"),
    "s3:DeleteObject": lake("landing", "curated", "kpis", "_state"),
    # the load step: `store init` describes every table, `record_load` writes the loads
    # table after Querying it for the last load
    "dynamodb:DescribeTable": TABLES | DIMENSION_TABLES | LOADS,
    "dynamodb:BatchWriteItem": TABLES | DIMENSION_TABLES | LOADS,
    # the check after a load reads a date's track_daily/user_daily items by their keys
    "dynamodb:BatchGetItem": TABLES | LOADS,
    "dynamodb:Query": TABLES
    | LOADS
    | {
        table("track_daily") + "/index/report_date-track_id",
        table("user_daily") + "/index/report_date-user_id",
    },
    "sns:Publish": {f"arn:aws:sns:{REGIONAL}:stack-runs"},
    **{
        f"glue:{a}": {f"arn:aws:glue:{REGIONAL}:job/musicstream"}
        for a in ("GetJob", "StartJobRun", "GetJobRun", "GetJobRuns", "BatchStopJobRun")
    },
    # what MWAA itself needs from its execution role
    "airflow:PublishMetrics": {f"arn:aws:airflow:{REGIONAL}:environment/musicstream"},
    "s3:GetObjectVersion": {"arn:aws:s3:::airflow-dags/*"},
    "s3:GetBucketLocation": {"arn:aws:s3:::airflow-dags"},
    "s3:GetBucketPublicAccessBlock": {"arn:aws:s3:::airflow-dags"},
    "s3:GetBucketVersioning": {"arn:aws:s3:::airflow-dags"},
    "s3:GetAccountPublicAccessBlock": {"*"},
    **{
        f"logs:{a}": MWAA_LOGS
        for a in (
            "CreateLogGroup",
            "CreateLogStream",
            "PutLogEvents",
            "GetLogEvents",
            "GetLogRecord",
            "GetLogGroupFields",
            "GetQueryResults",
        )
    },
    "logs:DescribeLogGroups": {"*"},
    "cloudwatch:PutMetricData": {"*"},
    **{
        f"sqs:{a}": QUEUES
        for a in ("ChangeMessageVisibility", "GetQueueAttributes", "GetQueueUrl", "SendMessage")
    },
    # the asset watcher's trigger: receive from the landing queue, delete what it received
    "sqs:ReceiveMessage": QUEUES | {LANDING_QUEUE},
    "sqs:DeleteMessage": QUEUES | {LANDING_QUEUE},
    # the stack's key (lake and tables), and the Celery queues' key in MWAA's account
    **{f"kms:{a}": {KEY, "arn:aws:kms:us-east-1:*:key/*"} for a in ("Decrypt", "Encrypt")},
    "kms:GenerateDataKey": {KEY, "arn:aws:kms:us-east-1:*:key/*"},
    "kms:DescribeKey": {"arn:aws:kms:us-east-1:*:key/*"},
}


# The read API's function: Query where the read path queries (every KPI table, the last
# load, and genre_daily's genre index for one genre over a range), GetItem of one song or
# user, the key only as DynamoDB decrypts with it, and writing its own log group.
API_LOGS = {f"arn:aws:logs:{REGIONAL}:log-group:/musicstream/stack/api-function:*"}
EXPECTED_API = {
    "dynamodb:Query": TABLES | LOADS | {GENRE_INDEX},
    "dynamodb:GetItem": DIMENSION_TABLES,
    "kms:Decrypt": {KEY},
    "logs:CreateLogStream": API_LOGS,
    "logs:PutLogEvents": API_LOGS,
}


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("GlueJobRole", EXPECTED_GLUE),
        ("AirflowRole", EXPECTED_AIRFLOW),
        ("ApiRole", EXPECTED_API),
    ],
)
def test_each_role_allows_exactly_the_listed_actions_on_the_listed_resources(
    role: str, expected: dict[str, set[str]]
) -> None:
    assert grants(role) == expected


def test_the_wildcard_grants_are_narrowed_by_conditions_where_aws_allows() -> None:
    conditions = {
        s["Sid"]: s.get("Condition")
        for role in ("GlueJobRole", "AirflowRole")
        for p in identity(role)
        for s in p["Statement"]
    }
    assert conditions["GlueMetrics"] == {"StringEquals": {"cloudwatch:namespace": "Glue"}}
    assert conditions["MwaaMetrics"] == {"StringEquals": {"cloudwatch:namespace": "AmazonMWAA"}}
    assert conditions["MwaaCeleryQueueKeys"] == {
        "StringEquals": {"kms:ViaService": "sqs.us-east-1.amazonaws.com"}
    }
    assert conditions["LandingQueueKey"] == conditions["MwaaCeleryQueueKeys"]


VIA_S3, VIA_DYNAMODB = "s3.us-east-1.amazonaws.com", "dynamodb.us-east-1.amazonaws.com"


@pytest.mark.parametrize(
    ("role", "via", "decision"),
    [
        ("GlueJobRole", VIA_S3, ALLOW),  # the lake
        ("GlueJobRole", VIA_DYNAMODB, IMPLICIT),  # Glue never touches the tables
        ("GlueJobRole", None, IMPLICIT),  # no direct use of the key
        ("AirflowRole", VIA_S3, ALLOW),
        ("AirflowRole", VIA_DYNAMODB, ALLOW),  # the KPI tables
        ("AirflowRole", None, IMPLICIT),
        ("AirflowRole", "secretsmanager.us-east-1.amazonaws.com", IMPLICIT),
    ],
)
def test_the_data_key_is_used_only_through_the_services_that_encrypt_with_it(
    role: str, via: str | None, decision: str
) -> None:
    arn, policies = role_arn(role), identity(role)
    context = {"kms:ViaService": via} if via else {}
    for action in ("kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"):
        assert decide(Request(arn, action, KEY, context), policies) == decision, action
    # never another key of the account (the Celery grant is SQS-only), never administration
    other_key = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/another"
    assert decide(Request(arn, "kms:Decrypt", other_key, context), policies) == IMPLICIT
    for admin in ("kms:ScheduleKeyDeletion", "kms:PutKeyPolicy", "kms:CreateGrant"):
        assert decide(Request(arn, admin, KEY, context), policies) == IMPLICIT, admin


def lake_request(principal: str, action: str, key: str, **context: str) -> Request:
    return Request(principal, action, f"{B}/{key}" if key else B, context)


ADMIN_POLICY = {"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
BUCKET_POLICY = [doc("LakeBucketPolicy")]


def test_the_read_api_never_reaches_the_lake_and_its_key_only_decrypts_via_dynamodb() -> None:
    policies = identity("ApiRole")
    for key in ("lake/kpis/genre_daily/report_date=2026-01-01/data.parquet", "code/api.zip"):
        request = lake_request(API, "s3:GetObject", key)
        assert decide(request, policies, BUCKET_POLICY) == DENY  # not a role the bucket lets in
    for via, action, decision in [
        (VIA_DYNAMODB, "kms:Decrypt", ALLOW),
        (VIA_DYNAMODB, "kms:Encrypt", IMPLICIT),  # it writes nothing
        (VIA_DYNAMODB, "kms:GenerateDataKey", IMPLICIT),
        (VIA_S3, "kms:Decrypt", IMPLICIT),  # never the lake
        (None, "kms:Decrypt", IMPLICIT),  # never directly
    ]:
        context = {"kms:ViaService": via} if via else {}
        assert decide(Request(API, action, KEY, context), policies) == decision, (via, action)


@pytest.mark.parametrize(
    "principal",
    [
        f"arn:aws:iam::{ACCOUNT}:role/analyst",  # another role of the account
        f"arn:aws:iam::{ACCOUNT}:user/alice",  # an IAM user
        f"arn:aws:iam::{ACCOUNT}:root",  # the account itself
        "arn:aws:iam::444455556666:role/stack-GlueJobRole",  # same name, other account
    ],
)
def test_the_bucket_policy_denies_an_unlisted_principal_even_with_admin_rights(
    principal: str,
) -> None:
    for action, key in [("s3:GetObject", "lake/kpis/x"), ("s3:ListBucket", "")]:
        request = lake_request(principal, action, key)
        assert decide(request, [ADMIN_POLICY], BUCKET_POLICY) == DENY


def test_the_bucket_policy_lets_the_listed_roles_and_the_admin_in_over_tls_only() -> None:
    cases = [
        (GLUE, identity("GlueJobRole"), "s3:GetObject", "lake/landing/songs/a.csv"),
        (AIRFLOW, identity("AirflowRole"), "s3:DeleteObject", "lake/landing/songs/a.csv"),
        (ADMIN, [ADMIN_POLICY], "s3:PutObject", "code/glue_job.py"),
    ]
    for principal, policies, action, key in cases:
        assert decide(lake_request(principal, action, key), policies, BUCKET_POLICY) == ALLOW
        plain = lake_request(principal, action, key, **{"aws:SecureTransport": "false"})
        assert decide(plain, policies, BUCKET_POLICY) == DENY
        old = lake_request(principal, action, key, **{"s3:TlsVersion": "1.1"})
        assert decide(old, policies, BUCKET_POLICY) == DENY


@pytest.mark.parametrize(
    ("role", "action", "resource"),
    [
        ("GlueJobRole", "s3:DeleteObject", f"{B}/lake/landing/songs/a.csv"),
        ("GlueJobRole", "s3:PutObject", f"{B}/lake/archive/songs/a.csv"),
        ("GlueJobRole", "s3:DeleteObject", f"{B}/lake/quarantine/songs/batch_id=b/q.parquet"),
        ("GlueJobRole", "s3:PutObject", f"{B}/code/glue_job.py"),
        ("GlueJobRole", "dynamodb:BatchWriteItem", table("genre_daily")),
        ("GlueJobRole", "sns:Publish", f"arn:aws:sns:{REGIONAL}:stack-runs"),
        ("AirflowRole", "s3:PutObject", f"{B}/lake/quarantine/songs/batch_id=b/q.parquet"),
        ("AirflowRole", "s3:DeleteObject", f"{B}/lake/archive/songs/a.csv"),
        ("AirflowRole", "s3:GetObject", f"{B}/code/glue_job.py"),
        ("AirflowRole", "s3:PutObject", f"{B}/elsewhere/x"),
        ("AirflowRole", "dynamodb:Scan", table("genre_daily")),
        ("AirflowRole", "dynamodb:CreateTable", table("genre_daily")),
        ("AirflowRole", "dynamodb:DeleteTable", table("genre_daily")),
        ("AirflowRole", "dynamodb:Query", f"arn:aws:dynamodb:{REGIONAL}:table/other"),
        ("AirflowRole", "dynamodb:Query", table("genre_daily") + "/index/genre-report_date"),
        ("AirflowRole", "sns:Publish", f"arn:aws:sns:{REGIONAL}:another-topic"),
        ("AirflowRole", "glue:StartJobRun", f"arn:aws:glue:{REGIONAL}:job/another-job"),
        ("AirflowRole", "glue:UpdateJob", f"arn:aws:glue:{REGIONAL}:job/musicstream"),
        ("AirflowRole", "s3:PutObject", "arn:aws:s3:::airflow-dags/dags/evil.py"),
        # the read API reads, by key, and nothing else
        ("ApiRole", "dynamodb:Scan", table("genre_daily")),
        ("ApiRole", "dynamodb:GetItem", table("genre_daily")),
        ("ApiRole", "dynamodb:Query", table("songs")),
        ("ApiRole", "dynamodb:PutItem", table("songs")),
        ("ApiRole", "dynamodb:BatchWriteItem", table("loads")),
        ("ApiRole", "dynamodb:DeleteItem", table("user_daily")),
        ("ApiRole", "dynamodb:DescribeTable", table("track_daily")),
        ("ApiRole", "dynamodb:Query", table("track_daily") + "/index/report_date-track_id"),
        ("ApiRole", "dynamodb:Query", f"arn:aws:dynamodb:{REGIONAL}:table/other"),
        ("ApiRole", "logs:CreateLogGroup", f"arn:aws:logs:{REGIONAL}:log-group:/x:*"),
        ("ApiRole", "logs:PutLogEvents", f"arn:aws:logs:{REGIONAL}:log-group:/aws-glue/jobs:*"),
        ("ApiRole", "sns:Publish", f"arn:aws:sns:{REGIONAL}:stack-runs"),
    ],
)
def test_a_role_cannot_step_outside_its_stages(role: str, action: str, resource: str) -> None:
    arn = role_arn(role)
    assert decide(Request(arn, action, resource), identity(role), BUCKET_POLICY) == IMPLICIT


def test_unconditioned_use_of_a_wildcard_grant_is_refused() -> None:
    put_metric = Request(GLUE, "cloudwatch:PutMetricData", "*", {"cloudwatch:namespace": "Other"})
    assert decide(put_metric, identity("GlueJobRole")) == IMPLICIT
    kms = Request(AIRFLOW, "kms:Decrypt", "arn:aws:kms:us-east-1:999988887777:key/k")
    assert decide(kms, identity("AirflowRole")) == IMPLICIT  # not through SQS
    via_sqs = Request(
        AIRFLOW, kms.action, kms.resource, {"kms:ViaService": "sqs.us-east-1.amazonaws.com"}
    )
    assert decide(via_sqs, identity("AirflowRole")) == ALLOW


@pytest.mark.parametrize(
    ("role", "namespace", "decision"),
    [
        ("GlueJobRole", "musicstream", ALLOW),  # MetricsNamespace's default
        ("AirflowRole", "musicstream", ALLOW),
        ("GlueJobRole", "musicstream-other", IMPLICIT),
        ("AirflowRole", "Other", IMPLICIT),
        ("AirflowRole", "AWS/SQS", IMPLICIT),
        ("AirflowRole", None, IMPLICIT),  # no namespace said: no grant applies
        ("ApiRole", "musicstream", IMPLICIT),  # the read API publishes no metric
    ],
)
def test_the_run_roles_put_metrics_in_the_stacks_namespace_only(
    role: str, namespace: str | None, decision: str
) -> None:
    """The per-run metrics (musicstream/metrics.py), from whichever role ends the run."""
    context = {"cloudwatch:namespace": namespace} if namespace else {}
    request = Request(role_arn(role), "cloudwatch:PutMetricData", "*", context)
    assert decide(request, identity(role)) == decision


# The landing queue (deploy/events.py): EventBridge sends for the landing rule, the Airflow
# role receives and deletes, nobody else does anything; TLS only.
QUEUE_POLICY = [doc("LandingQueuePolicy")]
DEAD_LETTERS_POLICY = [doc("LandingDeadLettersPolicy")]
KEY_POLICY = [resolve(TEMPLATE["Resources"]["DataKey"]["Properties"]["KeyPolicy"], NAMES)]
EVENTS, S3 = "events.amazonaws.com", "s3.amazonaws.com"  # service principals
RULE = f"arn:aws:events:{REGIONAL}:rule/stack-landing"  # the landing rule of stack "stack"
FROM_RULE = {"aws:SourceArn": RULE, "aws:SourceAccount": ACCOUNT}  # what EventBridge may send
ANOTHER_RULE = {**FROM_RULE, "aws:SourceArn": f"arn:aws:events:{REGIONAL}:rule/another"}
FOREIGN_RULE = {
    "aws:SourceArn": "arn:aws:events:us-east-1:444455556666:rule/stack-landing",
    "aws:SourceAccount": "444455556666",
}
FROM_LAKE = {"aws:SourceArn": B, "aws:SourceAccount": ACCOUNT}  # S3's own notifications
PLAIN_HTTP = {"aws:SecureTransport": "false"}


def resource_grants(policy: dict[str, Any]) -> dict[tuple[str, str], set[str]]:
    """(effect, action) → resources, of every statement of a resource policy."""
    out: dict[tuple[str, str], set[str]] = defaultdict(set)
    for s in policy["Statement"]:
        for action in s["Action"]:
            out[(s["Effect"], action)] |= set(s["Resource"])
    return dict(out)


def test_the_landing_queue_policies_grant_the_rule_sending_and_deny_the_rest() -> None:
    [landing], [dead] = QUEUE_POLICY, DEAD_LETTERS_POLICY
    assert resource_grants(landing) == {
        ("Allow", "sqs:SendMessage"): {LANDING_QUEUE},
        ("Deny", "sqs:SendMessage"): {LANDING_QUEUE},  # anyone but the rule
        ("Deny", "sqs:*"): {LANDING_QUEUE},  # without TLS
    }
    assert resource_grants(dead) == {
        ("Allow", "sqs:SendMessage"): {DEAD_LETTERS},  # what the rule could not deliver
        ("Deny", "sqs:*"): {DEAD_LETTERS},
    }
    for policy in (landing, dead):
        [allow] = [s for s in policy["Statement"] if s["Effect"] == "Allow"]
        assert allow["Principal"] == {"Service": EVENTS}
        assert allow["Condition"] == {"ArnEquals": {"aws:SourceArn": RULE}}
    [others] = [s for s in landing["Statement"] if s["Sid"] == "DenyOtherSenders"]
    assert (others["Principal"], others["Condition"]) == (
        "*",
        {"ArnNotEquals": {"aws:SourceArn": RULE}},
    )


@pytest.mark.parametrize(
    ("principal", "context", "decision"),
    [
        (EVENTS, FROM_RULE, ALLOW),  # the landing rule's events
        (EVENTS, ANOTHER_RULE, DENY),  # another rule of the account
        (EVENTS, FOREIGN_RULE, DENY),  # a rule of the same name in another account
        (EVENTS, {**FROM_RULE, **PLAIN_HTTP}, DENY),
        (EVENTS, {"aws:SourceArn": RULE}, ALLOW),  # the rule's ARN alone: it names the account
        (EVENTS, {}, DENY),  # EventBridge acting for no rule of ours
        (S3, FROM_LAKE, DENY),  # S3 sends to EventBridge, never to the queue itself
        (ADMIN, {}, DENY),  # an admin with every IAM right still may not send
        (AIRFLOW, {}, DENY),
        (GLUE, {}, DENY),
    ],
)
def test_only_the_landing_rule_may_send_to_the_landing_queue(
    principal: str, context: dict[str, str], decision: str
) -> None:
    roles = {AIRFLOW: identity("AirflowRole"), GLUE: identity("GlueJobRole")}
    policies = {ADMIN: [ADMIN_POLICY], **roles}.get(principal, [])
    request = Request(principal, "sqs:SendMessage", LANDING_QUEUE, context)
    assert decide(request, policies, QUEUE_POLICY) == decision


def test_the_dead_letters_come_from_the_rule_and_no_role_of_the_stack() -> None:
    def send(principal: str, context: dict[str, str], policies: Any = ()) -> str:
        request = Request(principal, "sqs:SendMessage", DEAD_LETTERS, context)
        return decide(request, policies, DEAD_LETTERS_POLICY)

    assert send(EVENTS, FROM_RULE) == ALLOW
    assert send(EVENTS, ANOTHER_RULE) == IMPLICIT
    assert send(EVENTS, {**FROM_RULE, **PLAIN_HTTP}) == DENY
    for role in ("AirflowRole", "GlueJobRole", "ApiRole"):
        assert send(role_arn(role), {}, identity(role)) == IMPLICIT, role
    # no Deny of other senders there (SQS moves redriven messages in): an IAM grant counts
    assert send(ADMIN, {}, [ADMIN_POLICY]) == ALLOW


def test_only_the_airflow_role_consumes_the_landing_queue_and_only_over_tls() -> None:
    airflow = identity("AirflowRole")
    for action in ("sqs:ReceiveMessage", "sqs:DeleteMessage"):
        assert decide(Request(AIRFLOW, action, LANDING_QUEUE), airflow, QUEUE_POLICY) == ALLOW
        plain = Request(AIRFLOW, action, LANDING_QUEUE, PLAIN_HTTP)
        assert decide(plain, airflow, QUEUE_POLICY) == DENY
        for role in ("GlueJobRole", "ApiRole"):  # no other role of the stack reads it
            request = Request(role_arn(role), action, LANDING_QUEUE)
            assert decide(request, identity(role), QUEUE_POLICY) == IMPLICIT, (role, action)
        assert decide(Request(EVENTS, action, LANDING_QUEUE, FROM_RULE), [], QUEUE_POLICY) == (
            IMPLICIT
        )
    for action, queue in [
        ("sqs:PurgeQueue", LANDING_QUEUE),
        ("sqs:SetQueueAttributes", LANDING_QUEUE),
        ("sqs:ChangeMessageVisibility", LANDING_QUEUE),
        ("sqs:GetQueueAttributes", LANDING_QUEUE),
        ("sqs:SendMessage", LANDING_QUEUE),
        ("sqs:ReceiveMessage", DEAD_LETTERS),  # the dead letters are the admin's to look at
        ("sqs:ReceiveMessage", f"arn:aws:sqs:{REGIONAL}:another-queue"),
    ]:
        assert decide(Request(AIRFLOW, action, queue), airflow, QUEUE_POLICY) != ALLOW, action


def test_the_landing_queue_key_decrypts_for_airflow_via_sqs() -> None:
    via_sqs = {"kms:ViaService": "sqs.us-east-1.amazonaws.com"}
    # the role's own statement for the queue (its MWAA Celery grant also covers any key via SQS)
    [grant] = [s for s in identity("AirflowRole")[0]["Statement"] if s["Sid"] == "LandingQueueKey"]
    queue_key = [{"Statement": [grant]}]
    assert decide(Request(AIRFLOW, "kms:Decrypt", KEY, via_sqs), queue_key) == ALLOW
    assert decide(Request(AIRFLOW, "kms:Decrypt", KEY), queue_key) == IMPLICIT
    assert decide(Request(AIRFLOW, "kms:Encrypt", KEY, via_sqs), queue_key) == IMPLICIT


def test_the_key_encrypts_for_eventbridge_on_behalf_of_the_landing_rule_only() -> None:
    [statement] = [s for s in KEY_POLICY[0]["Statement"] if s["Sid"] == "LandingEvents"]
    assert (statement["Principal"], statement["Action"], statement["Resource"]) == (
        {"Service": EVENTS},
        ["kms:Decrypt", "kms:GenerateDataKey"],
        ["*"],  # this key
    )
    assert statement["Condition"] == {"ArnEquals": {"aws:SourceArn": RULE}}
    for action in ("kms:GenerateDataKey", "kms:Decrypt"):
        assert decide(Request(EVENTS, action, KEY, FROM_RULE), [], KEY_POLICY) == ALLOW, action
        for refused in (ANOTHER_RULE, FOREIGN_RULE, {}):
            request = Request(EVENTS, action, KEY, refused)
            assert decide(request, [], KEY_POLICY) == IMPLICIT, (action, refused)
        # S3 no longer encrypts to the queue itself: no grant of the key to S3 at all
        assert decide(Request(S3, action, KEY, FROM_LAKE), [], KEY_POLICY) == IMPLICIT, action
    for action in ("kms:Encrypt", "kms:ReEncryptFrom", "kms:CreateGrant", "kms:DescribeKey"):
        assert decide(Request(EVENTS, action, KEY, FROM_RULE), [], KEY_POLICY) == IMPLICIT, action
