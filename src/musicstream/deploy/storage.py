"""The stateful resources: the lake bucket, its access-log bucket and their policies, the KPI
tables, the run topic.

The table definitions come from :mod:`musicstream.stores.dynamodb` — the same code that
``store init`` runs — so the stack and SPEC §5 cannot drift apart.
"""

from __future__ import annotations

from typing import Any

from musicstream import layout
from musicstream.deploy import events
from musicstream.deploy.cfn import (
    DATA_KEY,
    LAKE,
    Node,
    arn_of,
    bucket_arn,
    checkov_skips,
    document,
    ref,
    statement,
    sub,
    tags,
)

RETAIN = {"DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain"}  # data outlives the stack
ACCESS_LOGS = "lake-bucket/"  # key prefix of the lake bucket's access logs in the log bucket


def private() -> Node:
    """A bucket's properties that keep it never public, with ACLs off."""
    return {
        "PublicAccessBlockConfiguration": {
            "BlockPublicAcls": True,
            "BlockPublicPolicy": True,
            "IgnorePublicAcls": True,
            "RestrictPublicBuckets": True,
        },
        "OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]},
    }


def lake_bucket() -> Node:
    """Versioned, encrypted with the stack's key, private, access-logged, with lifecycle
    rules; its events go to EventBridge, which takes what lands to the landing queue
    (deploy/events.py)."""
    encryption = {
        "ServerSideEncryptionByDefault": {
            "SSEAlgorithm": "aws:kms",
            "KMSMasterKeyID": arn_of(DATA_KEY),
        },
        "BucketKeyEnabled": True,  # one data key per bucket, not one KMS call per object
    }
    logging = {"DestinationBucketName": ref("AccessLogBucket"), "LogFilePrefix": ACCESS_LOGS}
    return {
        "Type": "AWS::S3::Bucket",
        **RETAIN,
        "Properties": {
            "VersioningConfiguration": {"Status": "Enabled"},
            "BucketEncryption": {"ServerSideEncryptionConfiguration": [encryption]},
            **private(),
            "LoggingConfiguration": logging,
            "LifecycleConfiguration": {"Rules": lifecycle_rules()},
            "NotificationConfiguration": events.bucket_notifications(),
            "Tags": tags(),
        },
    }


def access_log_bucket() -> Node:
    """The lake bucket's S3 server access logs: private, versioned (a deleted or overwritten
    log stays recoverable), kept AccessLogRetentionDays. SSE-S3, because S3 log delivery
    cannot write to a bucket whose default encryption is SSE-KMS."""
    expire = {
        "Id": "expire",
        "Status": "Enabled",
        "ExpirationInDays": ref("AccessLogRetentionDays"),
        "NoncurrentVersionExpiration": {"NoncurrentDays": 30},
    }
    sse_s3 = {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}
    skips = {
        "CKV_AWS_18": "this is the access-log bucket: logging its own access would need yet "
        "another log bucket; only S3 log delivery writes here and the admin reads",
    }
    return {
        "Type": "AWS::S3::Bucket",
        **RETAIN,
        "Metadata": checkov_skips(skips),
        "Properties": {
            "VersioningConfiguration": {"Status": "Enabled"},
            "BucketEncryption": {"ServerSideEncryptionConfiguration": [sse_s3]},
            **private(),
            "LifecycleConfiguration": {"Rules": [expire]},
            "Tags": tags(),
        },
    }


def access_log_bucket_policy() -> Node:
    """S3 log delivery may write the lake bucket's logs (under their prefix, for that bucket
    of this account only); TLS only for everyone."""
    log_bucket = "AccessLogBucket"
    delivery = statement(
        "S3ServerAccessLogs",
        ["s3:PutObject"],
        [bucket_arn(f"{ACCESS_LOGS}*", bucket=log_bucket)],
        {
            "ArnLike": {"aws:SourceArn": bucket_arn()},
            "StringEquals": {"aws:SourceAccount": sub("${AWS::AccountId}")},
        },
        principal={"Service": "logging.s3.amazonaws.com"},
    )
    insecure = _deny_all(
        "DenyInsecureTransport", {"Bool": {"aws:SecureTransport": "false"}}, log_bucket
    )
    return {
        "Type": "AWS::S3::BucketPolicy",
        "Properties": {
            "Bucket": ref(log_bucket),
            "PolicyDocument": document([delivery, insecure]),
        },
    }


def lifecycle_rules() -> list[Node]:
    """Archive and quarantine age into cheaper classes and expire after their retention;
    scratch left by killed runs and superseded object versions are cleaned up."""
    return [
        {
            "Id": "archive",
            "Status": "Enabled",
            "Prefix": f"{LAKE}/{layout.ARCHIVE}/",
            "Transitions": [
                {"StorageClass": "STANDARD_IA", "TransitionInDays": 30},
                {"StorageClass": "GLACIER", "TransitionInDays": 90},
            ],
            "ExpirationInDays": ref("ArchiveRetentionDays"),
        },
        {
            "Id": "quarantine",
            "Status": "Enabled",
            "Prefix": f"{LAKE}/{layout.QUARANTINE}/",
            "Transitions": [{"StorageClass": "STANDARD_IA", "TransitionInDays": 30}],
            "ExpirationInDays": ref("QuarantineRetentionDays"),
        },
        {
            "Id": "scratch",
            "Status": "Enabled",
            "Prefix": f"{LAKE}/{layout.TMP}/",
            "ExpirationInDays": 7,
        },
        {
            "Id": "versions-and-uploads",
            "Status": "Enabled",
            "NoncurrentVersionExpiration": {"NoncurrentDays": 30},
            "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7},
            "ExpiredObjectDeleteMarker": True,
        },
    ]


def bucket_policy(allowed: list[Any]) -> Node:
    """TLS 1.2+ only, and every principal but ``allowed`` (role ARNs) denied, by
    ``aws:PrincipalArn``. ``s3:*`` is safe here: it widens a Deny, never an Allow."""
    statements = [
        _deny_all("DenyInsecureTransport", {"Bool": {"aws:SecureTransport": "false"}}),
        _deny_all("DenyOldTls", {"NumericLessThan": {"s3:TlsVersion": "1.2"}}),
        _deny_all("DenyAllButPipelineAndAdmin", {"ArnNotLike": {"aws:PrincipalArn": allowed}}),
    ]
    return {
        "Type": "AWS::S3::BucketPolicy",
        "Properties": {"Bucket": ref("LakeBucket"), "PolicyDocument": document(statements)},
    }


def _deny_all(sid: str, condition: Node, bucket: str = "LakeBucket") -> Node:
    """Deny everyone everything on the bucket and its keys when ``condition`` holds."""
    everything = [bucket_arn(bucket=bucket), bucket_arn("*", bucket=bucket)]
    return statement(sid, ["s3:*"], everything, condition, effect="Deny", principal="*")


def table_id(table: str) -> str:
    """Logical id of a KPI table: ``genre_daily`` → ``GenreDailyTable``."""
    return "".join(part.title() for part in table.split("_")) + "Table"


def kpi_tables() -> dict[str, Node]:
    """One on-demand table per KPI table, named ``<StorePrefix><table>``, with point-in-time
    recovery and the stack's key; keys and indexes exactly as ``store init`` creates them."""
    from musicstream.stores.dynamodb_tables import SPECS, table_definition

    out: dict[str, Node] = {}
    for table, spec in SPECS.items():
        props = table_definition(f"${{StorePrefix}}{table}", spec)
        props["TableName"] = sub(props["TableName"])
        props["PointInTimeRecoverySpecification"] = {"PointInTimeRecoveryEnabled": True}
        props["SSESpecification"] = {
            "SSEEnabled": True,
            "SSEType": "KMS",
            "KMSMasterKeyId": arn_of(DATA_KEY),
        }
        props["Tags"] = tags()
        out[table_id(table)] = {"Type": "AWS::DynamoDB::Table", **RETAIN, "Properties": props}
    return out


def run_topic() -> dict[str, Node]:
    """The SNS topic of run summaries, encrypted, publishable over TLS only."""
    topic = {
        "Type": "AWS::SNS::Topic",
        "Properties": {
            "TopicName": sub("${AWS::StackName}-runs"),
            "DisplayName": "musicstream runs",
            "KmsMasterKeyId": "alias/aws/sns",  # AWS managed key: publishers need no KMS grant
            "Tags": tags(),
        },
    }
    deny_plain_http = statement(
        "DenyInsecureTransport",
        ["sns:Publish"],
        [ref("RunTopic")],
        {"Bool": {"aws:SecureTransport": "false"}},
        effect="Deny",
        principal="*",
    )
    policy = {
        "Type": "AWS::SNS::TopicPolicy",
        "Properties": {"Topics": [ref("RunTopic")], "PolicyDocument": document([deny_plain_http])},
    }
    return {"RunTopic": topic, "RunTopicPolicy": policy}
