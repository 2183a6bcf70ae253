"""The stack's customer-managed KMS key, and the Glue security configuration that uses it.

One key encrypts what the stack stores: the lake (the bucket's default encryption, and what
Glue's Spark writes), the KPI tables, and the Glue job's logs and bookmarks. A key of our own
rather than AWS managed ones: its policy, rotation and every use (CloudTrail) are ours to set
and audit, and no principal reads the data without a grant on it. The roles' grants are in
:mod:`musicstream.deploy.access`; the key is retained with the data it encrypts.
"""

from __future__ import annotations

from musicstream.deploy.cfn import DATA_KEY, Node, arn, arn_of, document, statement, sub, tags

# Glue's job log groups: /aws-glue/jobs/… and, under a security configuration,
# /aws-glue/jobs-<role>-<configuration>/… (both match; nothing else of Glue's does).
GLUE_LOG_GROUPS = "log-group:/aws-glue/jobs*"

# What CloudWatch Logs does with a log group's key (AWS's documented grant for Glue's
# encrypted logs): for Glue's log groups here, for the read API's in deploy/serving.py.
LOGS_KEY_ACTIONS = [
    "kms:Decrypt*",
    "kms:Describe*",
    "kms:Encrypt*",
    "kms:GenerateDataKey*",
    "kms:ReEncrypt*",
]


def data_key() -> Node:
    """A symmetric key with yearly rotation. The account's IAM policies govern its use (the
    standard first statement: without it the roles' grants would not count); CloudWatch Logs
    may use it for Glue's log groups (the template adds the read API's log groups)."""
    account = sub("arn:${AWS::Partition}:iam::${AWS::AccountId}:root")
    logs_service = sub("logs.${AWS::Region}.amazonaws.com")
    statements = [
        statement("AccountIamPolicies", ["kms:*"], ["*"], principal={"AWS": account}),
        statement(
            "GlueJobLogs",
            LOGS_KEY_ACTIONS,
            ["*"],  # in a key policy, "*" is this key
            {"ArnLike": {"kms:EncryptionContext:aws:logs:arn": arn("logs", GLUE_LOG_GROUPS)}},
            principal={"Service": logs_service},
        ),
    ]
    return {
        "Type": "AWS::KMS::Key",
        # data encrypted under it outlives the stack (tables and bucket are retained)
        "DeletionPolicy": "Retain",
        "UpdateReplacePolicy": "Retain",
        "Properties": {
            "Description": sub("${AWS::StackName}: lake, KPI tables, Glue logs and bookmarks"),
            "EnableKeyRotation": True,
            "PendingWindowInDays": 30,
            "KeyPolicy": document(statements),
            "Tags": tags(),
        },
    }


def glue_security_configuration() -> Node:
    """What the Glue job writes, encrypted with the data key: its S3 output (the same key as
    the bucket's default, so the lake stays under one key), its CloudWatch logs and its job
    bookmarks (client-side; the job runs with bookmarks off: the lake's ledger tracks
    batches, so no bookmark is written and the role needs no direct use of the key)."""
    key = arn_of(DATA_KEY)
    return {
        "Type": "AWS::Glue::SecurityConfiguration",
        "Properties": {
            "Name": sub("${AWS::StackName}-glue"),
            "EncryptionConfiguration": {
                "S3Encryptions": [{"S3EncryptionMode": "SSE-KMS", "KmsKeyArn": key}],
                "CloudWatchEncryption": {"CloudWatchEncryptionMode": "SSE-KMS", "KmsKeyArn": key},
                "JobBookmarksEncryption": {
                    "JobBookmarksEncryptionMode": "CSE-KMS",
                    "KmsKeyArn": key,
                },
            },
        },
    }
