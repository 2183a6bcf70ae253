"""Deploy the rendered template to moto: CloudFormation first, then each resource (or
property) moto's CloudFormation skips, through that service's own API, from the same dict.

moto 5 creates KMS keys, S3 buckets (encryption, tags), SQS queues, EventBridge rules (with
their targets), DynamoDB tables, SNS topics, IAM roles (inline policies included), log
groups and Lambda functions from a stack; it skips ``AWS::S3::BucketPolicy``,
``AWS::SNS::TopicPolicy``, ``AWS::SQS::QueuePolicy``, ``AWS::Glue::SecurityConfiguration``,
``AWS::Glue::Job`` and every ``AWS::ApiGatewayV2::*`` resource (their ids are learned as
they are applied), and ignores a bucket's versioning, public access block, ownership,
lifecycle and EventBridge notifications, a table's point-in-time recovery, and a function's
logging configuration and tags. A log group's key it reads only as ``kmsKeyId`` (the Logs
API's name): it gets it so. A Lambda permission it would store with ``${HttpApi}``
unresolved: it is taken out of moto's template and added through the Lambda API. Of a KMS
key it takes ``KeyPolicy`` only as JSON text and mis-reads ``Tags`` (it wants the KMS API's
``TagKey``/``TagValue``): the policy goes to moto as text (its pseudo parameters resolved),
the tags after the key through the KMS API. A bucket's access logging is not applied: moto
accepts a log bucket's policy only with a single-string ``Resource`` (test_security reads
ours instead).
"""

from __future__ import annotations

import copy
import json
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aws_local import REGION, client
from musicstream.deploy.template import build_template, render

from .cfn_eval import resolve

ACCOUNT = "123456789012"  # moto's default account
ADMIN_ROLE = f"arn:aws:iam::{ACCOUNT}:role/musicstream-admin"
API_CODE_KEY = "code/musicstream-api.zip"


@dataclass
class Stack:
    """A deployed stack: its template, the resolved names and its outputs."""

    name: str
    template: dict[str, Any]
    names: dict[str, str]  # Ref / GetAtt / ${...} → value, as CloudFormation resolved them
    outputs: dict[str, str]
    physical: dict[str, str]


def create_stack(cfn: Any, endpoint: str, name: str, prefix: str) -> Stack:
    """Create the stack, complete what moto skipped, and check moto's outputs against ours."""
    template = build_template()
    params = {
        "AdminRoleArn": ADMIN_ROLE,
        "StorePrefix": prefix,
        "GlueJobName": f"{name}-job",
        "MwaaSourceBucketName": f"airflow-{name}",
        "ApiCodeKey": API_CODE_KEY,  # the read API too (moto does not look for the package)
    }
    cfn.create_stack(
        StackName=name,
        TemplateBody=render(_for_moto(template, name)),
        Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in params.items()],
        Capabilities=["CAPABILITY_IAM"],
    )
    waiter = cfn.get_waiter("stack_create_complete")
    waiter.wait(StackName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 30})
    listed = cfn.describe_stack_resources(StackName=name)["StackResources"]
    created = [r for r in listed if "LogicalResourceId" in r]  # moto lists skipped ones bare
    physical = {r["LogicalResourceId"]: r["PhysicalResourceId"] for r in created}
    names = _names(template, params, physical, endpoint, name)

    def make(service: str) -> Any:
        return client(service, endpoint)

    for logical, resource in template["Resources"].items():  # in dependency order
        if resource["Type"] in APPLY:
            props = resolve(resource["Properties"], names)
            made = APPLY[resource["Type"]](make, props, physical.get(logical))
            if made is not None:  # the id of a resource moto skipped: what its Ref gives
                names[logical] = physical[logical] = made
    outputs = {k: resolve(v["Value"], names) for k, v in template["Outputs"].items()}
    [described] = cfn.describe_stacks(StackName=name)["Stacks"]
    got = {o["OutputKey"]: o["OutputValue"] for o in described["Outputs"]}
    assert set(got) == set(outputs)
    # an output naming a resource moto skipped keeps its ${…} there; ours has the id
    assert {k: v for k, v in got.items() if "${" not in v} == {
        k: outputs[k] for k, v in got.items() if "${" not in v
    }
    return Stack(name, template, names, outputs, physical)


def _for_moto(template: dict[str, Any], stack: str) -> dict[str, Any]:
    """The template with each KMS key's policy as text and without its tags, a log group's
    key as ``kmsKeyId``, and without the Lambda permission (see above)."""
    sent = copy.deepcopy(template)
    for logical, resource in list(sent["Resources"].items()):
        if resource["Type"] == "AWS::Lambda::Permission":
            del sent["Resources"][logical]
        elif resource["Type"] == "AWS::Logs::LogGroup":  # moto wants the API's spelling
            props = resource["Properties"]
            props["kmsKeyId"] = props.pop("KmsKeyId")
        if resource["Type"] == "AWS::KMS::Key":
            props = resource["Properties"]
            props.pop("Tags", None)
            props["KeyPolicy"] = json.dumps(resolve(props["KeyPolicy"], _pseudo(stack)))
    return sent


def _pseudo(stack: str) -> dict[str, str]:
    return {
        "AWS::Partition": "aws",
        "AWS::Region": REGION,
        "AWS::AccountId": ACCOUNT,
        "AWS::StackName": stack,
        "AWS::URLSuffix": "amazonaws.com",
    }


def _names(
    template: dict[str, Any],
    params: dict[str, str],
    physical: dict[str, str],
    endpoint: str,
    stack: str,
) -> dict[str, str]:
    """Values of every Ref / GetAtt the template uses, read back from the created resources."""
    names = {k: str(v.get("Default", "")) for k, v in template["Parameters"].items()}
    names |= params | _pseudo(stack)
    names |= physical
    iam, ddb, kms = client("iam", endpoint), client("dynamodb", endpoint), client("kms", endpoint)
    for logical, resource in template["Resources"].items():
        if resource["Type"] == "AWS::IAM::Role":
            names[f"{logical}.Arn"] = iam.get_role(RoleName=physical[logical])["Role"]["Arn"]
        elif resource["Type"] == "AWS::DynamoDB::Table":
            found = ddb.describe_table(TableName=physical[logical])["Table"]
            names[f"{logical}.Arn"] = found["TableArn"]
        elif resource["Type"] == "AWS::KMS::Key":
            key = kms.describe_key(KeyId=physical[logical])["KeyMetadata"]
            names[f"{logical}.Arn"] = key["Arn"]
        elif resource["Type"] == "AWS::Glue::SecurityConfiguration":  # skipped: Ref is its name
            names[logical] = resolve(resource["Properties"]["Name"], names)
        elif resource["Type"] == "AWS::SQS::Queue":  # Ref: its URL; moto names it by AWS's
            url = physical[logical]
            found = client("sqs", endpoint).get_queue_attributes(
                QueueUrl=url, AttributeNames=["QueueArn"]
            )
            names[f"{logical}.Arn"] = found["Attributes"]["QueueArn"]
        elif resource["Type"] == "AWS::Lambda::Function":
            found = client("lambda", endpoint).get_function(FunctionName=physical[logical])
            names[f"{logical}.Arn"] = found["Configuration"]["FunctionArn"]
        elif resource["Type"] == "AWS::Logs::LogGroup":
            [group] = client("logs", endpoint).describe_log_groups(
                logGroupNamePrefix=physical[logical]
            )["logGroups"]
            names[f"{logical}.Arn"] = group["arn"]
    return names


def _bucket(make: Callable[[str], Any], props: dict[str, Any], bucket: str | None) -> None:
    s3 = make("s3")
    s3.put_bucket_versioning(
        Bucket=bucket, VersioningConfiguration=props["VersioningConfiguration"]
    )
    s3.put_public_access_block(
        Bucket=bucket, PublicAccessBlockConfiguration=props["PublicAccessBlockConfiguration"]
    )
    s3.put_bucket_ownership_controls(Bucket=bucket, OwnershipControls=props["OwnershipControls"])
    rules = [lifecycle_rule(r) for r in props["LifecycleConfiguration"]["Rules"]]
    s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": rules})
    notifications = props.get("NotificationConfiguration", {})
    if notifications.get("EventBridgeConfiguration", {}).get("EventBridgeEnabled"):
        eventbridge = {"EventBridgeConfiguration": {}}  # the S3 API's "enabled"
        s3.put_bucket_notification_configuration(
            Bucket=bucket, NotificationConfiguration=eventbridge
        )


def lifecycle_rule(cfn: dict[str, Any]) -> dict[str, Any]:
    """A CloudFormation lifecycle rule in the S3 API's shape."""
    rule: dict[str, Any] = {
        "ID": cfn["Id"],
        "Status": cfn["Status"],
        "Filter": {"Prefix": cfn.get("Prefix", "")},
    }
    if "Transitions" in cfn:
        rule["Transitions"] = [
            {"Days": int(t["TransitionInDays"]), "StorageClass": t["StorageClass"]}
            for t in cfn["Transitions"]
        ]
    if "ExpirationInDays" in cfn:
        rule["Expiration"] = {"Days": int(cfn["ExpirationInDays"])}
    if "ExpiredObjectDeleteMarker" in cfn:
        rule["Expiration"] = {"ExpiredObjectDeleteMarker": cfn["ExpiredObjectDeleteMarker"]}
    for key in ("NoncurrentVersionExpiration", "AbortIncompleteMultipartUpload"):
        if key in cfn:
            rule[key] = cfn[key]
    return rule


def _bucket_policy(make: Callable[[str], Any], props: dict[str, Any], _: str | None) -> None:
    """Put, read back, then take off again: moto treats every policy condition as met, so
    with our conditional Denies in place it refuses every object request of everyone. The
    policy's logic is judged by ``iam_eval`` against the recorded requests instead."""
    s3, bucket = make("s3"), props["Bucket"]
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(props["PolicyDocument"]))
    stored = json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])
    if stored != props["PolicyDocument"]:
        raise AssertionError(f"bucket policy stored as {stored}")
    s3.delete_bucket_policy(Bucket=bucket)


def _topic_policy(make: Callable[[str], Any], props: dict[str, Any], _: str | None) -> None:
    for arn in props["Topics"]:
        make("sns").set_topic_attributes(
            TopicArn=arn, AttributeName="Policy", AttributeValue=json.dumps(props["PolicyDocument"])
        )


def _queue_policy(make: Callable[[str], Any], props: dict[str, Any], _: str | None) -> None:
    """Stored as the queue's Policy attribute (moto does not enforce it: iam_eval judges)."""
    for url in props["Queues"]:
        policy = json.dumps(props["PolicyDocument"])
        make("sqs").set_queue_attributes(QueueUrl=url, Attributes={"Policy": policy})


def _table(make: Callable[[str], Any], props: dict[str, Any], table: str | None) -> None:
    make("dynamodb").update_continuous_backups(
        TableName=table, PointInTimeRecoverySpecification=props["PointInTimeRecoverySpecification"]
    )


def _key_tags(make: Callable[[str], Any], props: dict[str, Any], key: str | None) -> None:
    tags = [{"TagKey": t["Key"], "TagValue": t["Value"]} for t in props.get("Tags", [])]
    make("kms").tag_resource(KeyId=key, Tags=tags)


def _glue_security(make: Callable[[str], Any], props: dict[str, Any], _: str | None) -> None:
    config = dict(props["EncryptionConfiguration"])
    config["S3Encryption"] = config.pop("S3Encryptions")  # the API's name for the list
    make("glue").create_security_configuration(Name=props["Name"], EncryptionConfiguration=config)


def _glue_job(make: Callable[[str], Any], props: dict[str, Any], _: str | None) -> None:
    job = dict(props)
    job["NumberOfWorkers"] = int(job["NumberOfWorkers"])
    make("glue").create_job(**job)


def _http_api(make: Callable[[str], Any], props: dict[str, Any], _: str | None) -> str:
    return str(make("apigatewayv2").create_api(**props)["ApiId"])


def _integration(make: Callable[[str], Any], props: dict[str, Any], _: str | None) -> str:
    return str(make("apigatewayv2").create_integration(**props)["IntegrationId"])


def _route(make: Callable[[str], Any], props: dict[str, Any], _: str | None) -> None:
    make("apigatewayv2").create_route(**props)


def _stage(make: Callable[[str], Any], props: dict[str, Any], _: str | None) -> None:
    make("apigatewayv2").create_stage(**props)


def _permission(make: Callable[[str], Any], props: dict[str, Any], _: str | None) -> None:
    make("lambda").add_permission(StatementId="ApiGateway", **props)


Apply = Callable[[Callable[[str], Any], dict[str, Any], str | None], str | None]
APPLY: dict[str, Apply] = {
    "AWS::KMS::Key": _key_tags,
    "AWS::S3::Bucket": _bucket,
    "AWS::S3::BucketPolicy": _bucket_policy,
    "AWS::SNS::TopicPolicy": _topic_policy,
    "AWS::SQS::QueuePolicy": _queue_policy,
    "AWS::DynamoDB::Table": _table,
    "AWS::Glue::SecurityConfiguration": _glue_security,
    "AWS::Glue::Job": _glue_job,
    "AWS::ApiGatewayV2::Api": _http_api,
    "AWS::ApiGatewayV2::Integration": _integration,
    "AWS::ApiGatewayV2::Route": _route,
    "AWS::ApiGatewayV2::Stage": _stage,
    "AWS::Lambda::Permission": _permission,
}


class Recorder:
    """moto's request recorder: what the code under test sent, request by request."""

    def __init__(self, endpoint: str, path: Path) -> None:
        self.endpoint, self.path = endpoint, path

    def _post(self, what: str) -> None:
        url = f"{self.endpoint}/moto-api/recorder/{what}"
        urllib.request.urlopen(urllib.request.Request(url, data=b"", method="POST")).close()

    def start(self) -> None:
        self._post("reset-recording")
        self._post("start-recording")

    def stop(self) -> list[dict[str, Any]]:
        self._post("stop-recording")
        text = self.path.read_text() if self.path.exists() else ""
        return [json.loads(line) for line in text.splitlines() if line.strip()]
