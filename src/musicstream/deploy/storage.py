"""The stateful resources: the lake bucket and its policy, the KPI tables, the run topic.

The table definitions come from :mod:`musicstream.stores.dynamodb` — the same code that
``store init`` runs — so the stack and SPEC §5 cannot drift apart.
"""

from __future__ import annotations

from typing import Any

from musicstream.deploy.cfn import LAKE, Node, bucket_arn, document, ref, statement, sub, tags

RETAIN = {"DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain"}  # data outlives the stack


def lake_bucket() -> Node:
    """Versioned, KMS-encrypted, never public, ACLs off, with lifecycle rules."""
    public_access_block = {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    encryption = {  # SSE-KMS with the AWS managed key aws/s3: no key policy to maintain
        "ServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms"},
        "BucketKeyEnabled": True,  # one data key per bucket, not one KMS call per object
    }
    return {
        "Type": "AWS::S3::Bucket",
        **RETAIN,
        "Properties": {
            "VersioningConfiguration": {"Status": "Enabled"},
            "BucketEncryption": {"ServerSideEncryptionConfiguration": [encryption]},
            "PublicAccessBlockConfiguration": public_access_block,
            "OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]},
            "LifecycleConfiguration": {"Rules": lifecycle_rules()},
            "Tags": tags(),
        },
    }


def lifecycle_rules() -> list[Node]:
    """Archive and quarantine age into cheaper classes and expire after their retention;
    scratch left by killed runs and superseded object versions are cleaned up."""
    return [
        {
            "Id": "archive",
            "Status": "Enabled",
            "Prefix": f"{LAKE}/archive/",
            "Transitions": [
                {"StorageClass": "STANDARD_IA", "TransitionInDays": 30},
                {"StorageClass": "GLACIER", "TransitionInDays": 90},
            ],
            "ExpirationInDays": ref("ArchiveRetentionDays"),
        },
        {
            "Id": "quarantine",
            "Status": "Enabled",
            "Prefix": f"{LAKE}/quarantine/",
            "Transitions": [{"StorageClass": "STANDARD_IA", "TransitionInDays": 30}],
            "ExpirationInDays": ref("QuarantineRetentionDays"),
        },
        {
            "Id": "scratch",
            "Status": "Enabled",
            "Prefix": f"{LAKE}/_state/tmp/",
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


def _deny_all(sid: str, condition: Node) -> Node:
    """Deny everyone everything on the bucket and its keys when ``condition`` holds."""
    everything = [bucket_arn(), bucket_arn("*")]
    return statement(sid, ["s3:*"], everything, condition, effect="Deny", principal="*")


def table_id(table: str) -> str:
    """Logical id of a KPI table: ``genre_daily`` → ``GenreDailyTable``."""
    return "".join(part.title() for part in table.split("_")) + "Table"


def kpi_tables() -> dict[str, Node]:
    """One on-demand table per KPI table, named ``<StorePrefix><table>``, with point-in-time
    recovery and KMS encryption; keys and indexes exactly as ``store init`` creates them."""
    from musicstream.stores.dynamodb import SPECS, _table_definition

    out: dict[str, Node] = {}
    for table, spec in SPECS.items():
        props = _table_definition(f"${{StorePrefix}}{table}", spec)
        props["TableName"] = sub(props["TableName"])
        props["PointInTimeRecoverySpecification"] = {"PointInTimeRecoveryEnabled": True}
        props["SSESpecification"] = {"SSEEnabled": True}  # AWS managed key aws/dynamodb
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
