"""The stack on the local AWS endpoint, and the pipeline running against what it created.

moto has no IAM enforcement worth the name (it treats policy conditions as met), so the
roles are judged differently: every request each stage sends is recorded by moto and then
authorized by :mod:`iam_eval` against the policies of the role that runs that stage in
the deployment (Glue job role for validate / compute_kpis, MWAA role for the rest), with
the bucket and topic policies in force.
"""

from __future__ import annotations

import ast
import json
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from typer.testing import CliRunner

from aws_landing import BATCHES
from aws_local import client, land
from http_api_events import http_event, lambda_context
from musicstream import notify, pipeline
from musicstream.cli import app
from musicstream.deploy import events, serving
from musicstream.pipeline import tasks
from musicstream.settings import Settings, load_settings
from musicstream.stores import Load
from musicstream.stores.dynamodb import DynamoDBStore
from stores.data import SONGS, USERS, all_tables, dimension, load_periods

from .cfn_eval import resolve
from .iam_eval import ALLOW, Request, decide
from .moto_stack import Recorder, Stack
from .wire import requests_of

pytestmark = [pytest.mark.infra, pytest.mark.aws]


def stack_settings(stack: Stack, endpoint: str, **overrides: Any) -> Settings:
    """Settings as a deployment takes them from the stack's outputs."""
    out = stack.outputs
    values = {
        "lake": out["LakeUrl"],
        "store": "dynamodb",
        "store_prefix": out["StorePrefix"],
        "sns_topic_arn": out["TopicArn"],
        "aws_endpoint_url": endpoint,
        "aws_region": "us-east-1",
        "progress": False,
    }
    return load_settings(**{**values, **overrides})


def test_the_stack_creates_every_resource_as_rendered(stack: Stack, endpoint: str) -> None:
    s3, out = client("s3", endpoint), stack.outputs
    bucket = out["BucketName"]
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    [sse] = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    assert sse["ApplyServerSideEncryptionByDefault"] == {
        "SSEAlgorithm": "aws:kms",
        "KMSMasterKeyID": out["DataKeyArn"],
    }
    kms = client("kms", endpoint)
    assert kms.describe_key(KeyId=out["DataKeyArn"])["KeyMetadata"]["KeyState"] == "Enabled"
    assert kms.get_key_rotation_status(KeyId=out["DataKeyArn"])["KeyRotationEnabled"]
    policy = kms.get_key_policy(KeyId=out["DataKeyArn"], PolicyName="default")["Policy"]
    key_props = stack.template["Resources"]["DataKey"]["Properties"]
    assert json.loads(policy) == resolve(key_props["KeyPolicy"], stack.names)
    logs = out["AccessLogBucketName"]
    assert s3.get_bucket_versioning(Bucket=logs)["Status"] == "Enabled"
    [sse] = s3.get_bucket_encryption(Bucket=logs)["ServerSideEncryptionConfiguration"]["Rules"]
    assert sse["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    assert all(s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"].values())
    rules = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    assert {r["ID"] for r in rules} == {"archive", "quarantine", "scratch", "versions-and-uploads"}

    ddb = client("dynamodb", endpoint)
    reference = DynamoDBStore(stack_settings(stack, endpoint, store_prefix=f"{stack.name}ref_"))
    reference.init()  # what `store init` creates: the stack's tables must be the same
    for table in ("genre_daily", "top_songs_daily", "track_daily", "top_artists_daily"):
        made = ddb.describe_table(TableName=f"{out['StorePrefix']}{table}")["Table"]
        want = ddb.describe_table(TableName=reference.name(table))["Table"]
        for key in ("KeySchema", "AttributeDefinitions", "BillingModeSummary"):
            assert made[key] == want[key], (table, key)
        indexes = [
            (i["IndexName"], i["KeySchema"], i["Projection"])
            for i in made.get("GlobalSecondaryIndexes", [])
        ]
        assert indexes == [
            (i["IndexName"], i["KeySchema"], i["Projection"])
            for i in want.get("GlobalSecondaryIndexes", [])
        ]
        backups = ddb.describe_continuous_backups(TableName=made["TableName"])
        pitr = backups["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"]
        assert pitr["PointInTimeRecoveryStatus"] == "ENABLED"

    # S3 → EventBridge → SQS: the rule and its target, the queues (moto does not read the
    # bucket's EventBridge setting back: the next test shows its events reach the bus)
    eventbridge = client("events", endpoint)
    rule_props = stack.template["Resources"]["LandingRule"]["Properties"]
    rule = eventbridge.describe_rule(Name=f"{stack.name}-landing")
    assert rule["Arn"] == resolve(events.rule_arn(), stack.names)  # what policies name
    assert rule["State"] == "ENABLED" and rule["EventBusName"] == "default"
    assert json.loads(rule["EventPattern"]) == resolve(rule_props["EventPattern"], stack.names)
    [target] = eventbridge.list_targets_by_rule(Rule=rule["Name"])["Targets"]
    assert target == resolve(rule_props["Targets"][0], stack.names)
    sqs = client("sqs", endpoint)
    attributes = sqs.get_queue_attributes(QueueUrl=out["LandingQueueUrl"], AttributeNames=["All"])
    landing = attributes["Attributes"]
    assert landing["KmsMasterKeyId"] == out["DataKeyArn"]
    assert json.loads(landing["RedrivePolicy"]) == {
        "deadLetterTargetArn": stack.names["LandingDeadLetters.Arn"],
        "maxReceiveCount": 5,
    }
    assert landing["ReceiveMessageWaitTimeSeconds"] == "20"
    for queue in ("LandingQueue", "LandingDeadLetters"):
        stored = sqs.get_queue_attributes(QueueUrl=stack.names[queue], AttributeNames=["Policy"])
        policy_props = stack.template["Resources"][f"{queue}Policy"]["Properties"]
        want = resolve(policy_props["PolicyDocument"], stack.names)
        assert json.loads(stored["Attributes"]["Policy"]) == want

    topic = client("sns", endpoint).get_topic_attributes(TopicArn=out["TopicArn"])["Attributes"]
    assert topic["KmsMasterKeyId"] == "alias/aws/sns"
    job = client("glue", endpoint).get_job(JobName=out["GlueJobName"])["Job"]
    assert job["GlueVersion"] == "5.0" and job["ExecutionProperty"]["MaxConcurrentRuns"] == 1
    assert job["DefaultArguments"]["--lake"] == out["LakeUrl"]
    assert job["Role"] == out["GlueJobRoleArn"]
    assert job["Command"]["ScriptLocation"] == out["CodeUrl"] + "glue_job.py"
    security = client("glue", endpoint).get_security_configuration(
        Name=job["SecurityConfiguration"]
    )
    encryption = security["SecurityConfiguration"]["EncryptionConfiguration"]
    assert encryption["S3Encryption"] == [
        {"S3EncryptionMode": "SSE-KMS", "KmsKeyArn": out["DataKeyArn"]}
    ]

    iam = client("iam", endpoint)
    for role in ("GlueJobRole", "AirflowRole", "ApiRole"):
        name = stack.physical[role]
        got = iam.get_role_policy(RoleName=name, PolicyName="musicstream")["PolicyDocument"]
        if isinstance(got, str):  # moto keeps the dict CloudFormation gave it: its repr
            got = ast.literal_eval(got)
        props = stack.template["Resources"][role]["Properties"]
        assert got == resolve(props["Policies"][0]["PolicyDocument"], stack.names)


def test_the_read_api_is_deployed_as_rendered(stack: Stack, endpoint: str) -> None:
    """The function, its log groups and its invoke permission from moto's CloudFormation;
    the HTTP API as applied through its own API (moto's CloudFormation skips it)."""
    resources, names = stack.template["Resources"], stack.names
    fn = client("lambda", endpoint)
    name = stack.physical["ApiFunction"]
    config = fn.get_function(FunctionName=name)["Configuration"]
    props = resolve(resources["ApiFunction"]["Properties"], names)
    assert (config["Runtime"], config["Handler"]) == ("python3.12", "musicstream.api.aws.handler")
    assert config["Role"] == names["ApiRole.Arn"]
    assert config["Environment"]["Variables"] == props["Environment"]["Variables"]
    assert config["Environment"]["Variables"]["MUSICSTREAM_STORE_PREFIX"] == f"{stack.name}_"
    concurrency = fn.get_function_concurrency(FunctionName=name)
    assert concurrency["ReservedConcurrentExecutions"] == 10
    [permission] = json.loads(fn.get_policy(FunctionName=name)["Policy"])["Statement"]
    assert permission["Principal"] == {"Service": "apigateway.amazonaws.com"}
    source = f"arn:aws:execute-api:us-east-1:123456789012:{names['HttpApi']}/*/GET/*"
    assert permission["Condition"]["ArnLike"]["AWS:SourceArn"] == source

    logs = client("logs", endpoint)
    for group in ("ApiLogGroup", "ApiAccessLogGroup"):
        [found] = logs.describe_log_groups(logGroupNamePrefix=stack.physical[group])["logGroups"]
        assert found["retentionInDays"] == 365
        assert found["kmsKeyId"] == stack.outputs["DataKeyArn"]

    gateway, api = client("apigatewayv2", endpoint), names["HttpApi"]
    assert gateway.get_api(ApiId=api)["ProtocolType"] == "HTTP"
    routes = gateway.get_routes(ApiId=api)["Items"]
    assert {r["RouteKey"] for r in routes} == set(serving.ROUTES.values())
    target = f"integrations/{names['ApiIntegration']}"
    assert {(r["AuthorizationType"], r["Target"]) for r in routes} == {("AWS_IAM", target)}
    [integration] = gateway.get_integrations(ApiId=api)["Items"]
    assert integration["IntegrationType"] == "AWS_PROXY"
    assert integration["PayloadFormatVersion"] == "2.0"
    assert integration["IntegrationUri"] == names["ApiFunction.Arn"]
    stage = gateway.get_stage(ApiId=api, StageName="$default")
    assert stage["AutoDeploy"] is True
    assert stage["AccessLogSettings"]["DestinationArn"] == names["ApiAccessLogGroup.Arn"]
    assert stack.outputs["ApiUrl"] == f"https://{api}.execute-api.us-east-1.amazonaws.com/"


class AsRoles:
    """Runs each step as the role the deployment runs it as, recording its AWS calls."""

    def __init__(self, stack: Stack, recorder: Recorder) -> None:
        self.stack, self.recorder = stack, recorder
        self.requests: list[tuple[str, Request]] = []

    def __call__(self, role: str, step: Callable[[], Any]) -> Any:
        self.recorder.start()
        try:
            return step()
        finally:
            arn = self.stack.names[f"{role}.Arn"]
            self.requests += [(role, r) for r in requests_of(self.recorder.stop(), arn)]

    def policies(self, logical: str) -> list[dict[str, Any]]:
        props = self.stack.template["Resources"][logical]["Properties"]
        found = props.get("Policies", [props])  # a role's inline policies, or a resource's
        docs = [p["PolicyDocument"] for p in found]
        return [resolve(d, self.stack.names) for d in docs]

    def refused(self) -> list[str]:
        """Every recorded request the deployed policies would not allow."""
        resource = [
            *self.policies("LakeBucketPolicy"),
            *self.policies("RunTopicPolicy"),
            *self.policies("LandingQueuePolicy"),
        ]
        out = {
            f"{role}: {r.action} {r.resource}"
            for role, r in self.requests
            if decide(r, self.policies(role), resource) != ALLOW
        }
        return sorted(out)

    def lake_prefixes(self, role: str) -> set[str]:
        bucket = f"arn:aws:s3:::{self.stack.outputs['BucketName']}/lake/"
        found = [r.resource for who, r in self.requests if who == role]
        return {r.removeprefix(bucket).split("/")[0] for r in found if r.startswith(bucket)}


def test_each_stage_is_allowed_every_call_it_makes_by_the_role_that_runs_it(
    stack: Stack, endpoint: str, recorder: Recorder
) -> None:
    settings = stack_settings(stack, endpoint)
    strict = stack_settings(stack, endpoint, max_bad_ratio=0.1)
    as_role, glue, s3 = AsRoles(stack, recorder), client("glue", endpoint), client("s3", endpoint)
    job, bucket = stack.outputs["GlueJobName"], stack.outputs["BucketName"]

    def dag_run(s: Settings) -> str:
        """The DAG's first tasks: S3 sensor, plan, Glue operator + sensor around validate."""
        listed = as_role(
            "AirflowRole", lambda: s3.list_objects_v2(Bucket=bucket, Prefix="lake/landing/")
        )
        assert listed["KeyCount"]
        batch = as_role("AirflowRole", lambda: tasks.plan_batch(s))["batch_id"]
        as_role("AirflowRole", lambda: glue.get_job(JobName=job))
        run = as_role("AirflowRole", lambda: glue.start_job_run(JobName=job))["JobRunId"]
        as_role("AirflowRole", lambda: glue.get_job_run(JobName=job, RunId=run))
        as_role("GlueJobRole", lambda: tasks.validate_batch(s, batch))
        return batch

    land(settings, 0)  # an uploader (not one of the pipeline's roles) fills landing/
    first = dag_run(settings)
    assert as_role("AirflowRole", lambda: tasks.check_quality(settings, first))["passed"]
    as_role("GlueJobRole", lambda: tasks.compute_batch_kpis(settings, first))
    as_role("AirflowRole", lambda: tasks.load_batch(settings, first))
    as_role("AirflowRole", lambda: tasks.archive_batch(settings, first))
    as_role("AirflowRole", lambda: notify.notify(settings, tasks.summarize(settings, first)))

    land(settings, 1)  # 1 of its 5 streams is a duplicate: over a 10% quality gate
    second = dag_run(strict)
    assert not as_role("AirflowRole", lambda: tasks.check_quality(strict, second))["passed"]
    as_role("AirflowRole", lambda: tasks.reject_batch(strict, second))
    days = (date(2026, 1, 1), date(2026, 1, 31))
    assert as_role("AirflowRole", lambda: pipeline.backfill(settings, *days))

    assert len(as_role.requests) > 100
    assert as_role.refused() == []
    # no lake prefix is granted to a role that does not use it
    assert as_role.lake_prefixes("GlueJobRole") == {
        "landing",
        "curated",
        "quarantine",
        "kpis",
        "_state",
    }
    assert as_role.lake_prefixes("AirflowRole") == {
        "landing",
        "archive",
        "curated",
        "kpis",
        "_state",
    }


def test_what_lands_is_announced_on_the_queue_which_the_airflow_role_consumes(
    stack: Stack, endpoint: str, recorder: Recorder
) -> None:
    """S3 → EventBridge → SQS as deployed (moto sends the bucket's events to the default bus
    and the rule's matches to its target), then the calls the DAG's asset watcher makes on
    each poll (SqsSensorTrigger: receive up to 10, delete them in one batch), as the Airflow
    role: allowed, and exactly the queue grants the role has."""
    s3, sqs = client("s3", endpoint), client("sqs", endpoint)
    bucket, queue = stack.outputs["BucketName"], stack.outputs["LandingQueueUrl"]
    s3.put_object(Bucket=bucket, Key="lake/archive/songs/old.csv", Body=b"x")  # not landing/
    other = f"{stack.name}-other"  # another bucket of the account sending its events too
    s3.create_bucket(Bucket=other)
    s3.put_bucket_notification_configuration(
        Bucket=other, NotificationConfiguration={"EventBridgeConfiguration": {}}
    )
    s3.put_object(Bucket=other, Key="lake/landing/songs/other.csv", Body=b"x")  # not the lake
    land(stack_settings(stack, endpoint), 0)
    as_role, bodies = AsRoles(stack, recorder), []

    def receive() -> list[dict[str, Any]]:
        got = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, WaitTimeSeconds=0)
        return list(got.get("Messages", []))

    def delete(messages: list[dict[str, Any]]) -> Any:
        entries = [{"Id": m["MessageId"], "ReceiptHandle": m["ReceiptHandle"]} for m in messages]
        return sqs.delete_message_batch(QueueUrl=queue, Entries=entries)

    while messages := as_role("AirflowRole", receive):
        as_role("AirflowRole", lambda: delete(messages))
        bodies += [json.loads(m["Body"]) for m in messages]

    # one EventBridge event per landed file (no S3 test event on this path), nothing else
    assert sorted(b["detail"]["object"]["key"] for b in bodies) == sorted(
        f"lake/{path}" for path in BATCHES[0]
    )
    assert {(b["source"], b["detail-type"], b["detail"]["bucket"]["name"]) for b in bodies} == {
        ("aws.s3", "Object Created", bucket)
    }
    assert as_role.refused() == []
    queue_arn = stack.names["LandingQueue.Arn"]
    assert {(r.action, r.resource) for _, r in as_role.requests} == {
        ("sqs:ReceiveMessage", queue_arn),
        ("sqs:DeleteMessage", queue_arn),
    }
    dead = sqs.get_queue_attributes(
        QueueUrl=stack.names["LandingDeadLetters"], AttributeNames=["ApproximateNumberOfMessages"]
    )
    assert dead["Attributes"]["ApproximateNumberOfMessages"] == "0"


# One request per access pattern (SPEC §5: 1-12) and /health: every read the API makes.
API_READS: list[tuple[str, dict[str, str]]] = [
    ("/v1/kpis/genre_daily", {"date": "2026-01-01"}),
    ("/v1/kpis/genre_daily", {"genre": "g1", "from": "2026-01-01", "to": "2026-01-31"}),
    ("/v1/kpis/top_songs_daily", {"date": "2026-01-01", "genre": "g0"}),
    ("/v1/kpis/top_genres_daily", {"date": "2026-01-01"}),
    ("/v1/kpis/track_daily", {"track_id": "t001", "from": "2026-01-01", "to": "2026-01-31"}),
    ("/v1/kpis/country_daily", {"date": "2026-01-01"}),
    ("/v1/kpis/top_artists_daily", {"date": "2026-01-01"}),
    ("/v1/kpis/user_daily", {"user_id": "u001", "from": "2026-01-01", "to": "2026-01-31"}),
    ("/v1/kpis/hourly_activity", {"date": "2026-01-01"}),
    ("/v1/kpis/active_listeners", {"period": "day", "from": "2026-01-01", "to": "2026-01-02"}),
    ("/v1/songs/t1", {}),
    ("/v1/users/u1", {}),
    ("/health", {}),
]


def test_the_read_api_is_allowed_every_call_it_makes_and_uses_every_grant(
    stack: Stack, endpoint: str, recorder: Recorder
) -> None:
    """The function's handler (the app behind Mangum, as ``api/aws.py`` builds it) answers
    every access pattern from the stack's tables; each DynamoDB call it sends is authorized
    by the policy of ApiRole, and each DynamoDB grant of that policy is used by one."""
    from mangum import Mangum

    from musicstream.api.app import create_app

    settings = stack_settings(stack, endpoint)
    loader = DynamoDBStore(settings)  # a load, as the pipeline's role writes it
    loader.replace_date(date(2026, 1, 1), all_tables(3))
    load_periods(loader)
    loader.upsert_dimension("songs", dimension("songs", SONGS))
    loader.upsert_dimension("users", dimension("users", USERS))
    loader.record_load(Load.now("batch-1", [date(2026, 1, 1)], None))

    handler = Mangum(create_app(settings), lifespan="off")
    as_role = AsRoles(stack, recorder)
    for path, query in API_READS:
        event = http_event(path, query)
        response = as_role("ApiRole", lambda e=event: handler(e, lambda_context()))
        assert response["statusCode"] == 200, (path, response["body"])
        assert json.loads(response["body"]), path  # rows, the object, the last load

    assert as_role.refused() == []
    used = {(r.action, r.resource) for _, r in as_role.requests}
    [policy] = as_role.policies("ApiRole")
    granted = {
        (action, resource)
        for s in policy["Statement"]
        for action in s["Action"]
        if action.startswith("dynamodb:")
        for resource in s["Resource"]
    }
    assert used == granted


def test_musicstream_run_against_the_stack_loads_kpis_and_publishes(
    stack: Stack, endpoint: str
) -> None:
    sns, sqs = client("sns", endpoint), client("sqs", endpoint)
    queue = sqs.create_queue(QueueName=f"{stack.name}-runs")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])
    topic = stack.outputs["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn["Attributes"]["QueueArn"])
    land(stack_settings(stack, endpoint), 0)

    env = {  # configured from the stack's outputs, as a deployment would be
        "MUSICSTREAM_STORE_PREFIX": stack.outputs["StorePrefix"],
        "MUSICSTREAM_SNS_TOPIC_ARN": topic,
        "MUSICSTREAM_AWS_ENDPOINT_URL": endpoint,
        "MUSICSTREAM_AWS_REGION": "us-east-1",
    }
    args = [
        "run",
        "--lake",
        stack.outputs["LakeUrl"],
        "--store",
        "dynamodb",
        "--log-format",
        "json",
    ]
    result = CliRunner().invoke(app, args, env=env)
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output.splitlines()[-1])
    assert summary["status"] == "ok" and summary["dates"]

    ddb = client("dynamodb", endpoint)
    for day in summary["dates"]:
        items = ddb.query(
            TableName=f"{stack.outputs['StorePrefix']}genre_daily",
            KeyConditionExpression="report_date = :d",
            ExpressionAttributeValues={":d": {"S": day}},
        )["Items"]
        assert items and all(int(i["listen_count"]["N"]) > 0 for i in items)

    got = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, WaitTimeSeconds=1)
    [message] = [json.loads(m["Body"]) for m in got["Messages"]]
    assert message["TopicArn"] == topic
    assert json.loads(message["Message"])["batch_ids"] == summary["batch_ids"]
