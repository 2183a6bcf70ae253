"""Security scan of the rendered template: our own rules, in the spirit of checkov's
(which ``make test`` also runs over the template).

Each check reads the template as CloudFormation would get it. The accepted exceptions are
declared with their reasons where a reviewer sees them: an IAM ``*`` resource in the role's
Metadata (``musicstream.wildcard_resources``), a skipped checkov check in the resource's
(``checkov.skip``).
"""

from __future__ import annotations

from typing import Any

import pytest

from musicstream.deploy.template import build_template

pytestmark = pytest.mark.infra

T = build_template()
RES: dict[str, Any] = T["Resources"]


def of_type(kind: str) -> dict[str, dict[str, Any]]:
    return {k: r for k, r in RES.items() if r["Type"] == kind}


ROLES = of_type("AWS::IAM::Role")
KEY = {"Fn::GetAtt": ["DataKey", "Arn"]}
PRIVATE = {
    "PublicAccessBlockConfiguration": dict.fromkeys(
        ("BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets"), True
    ),
    "OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]},
}


RULE_ARN = {
    "Fn::Sub": "arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}"
    ":rule/${AWS::StackName}-landing"
}
FROM_RULE = {"ArnEquals": {"aws:SourceArn": RULE_ARN}}


def role_statements(role: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for p in role["Properties"]["Policies"] for s in p["PolicyDocument"]["Statement"]]


def test_the_bucket_is_versioned_encrypted_with_the_key_private_logged_and_kept() -> None:
    props = RES["LakeBucket"]["Properties"]
    assert props["VersioningConfiguration"] == {"Status": "Enabled"}
    [rule] = props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"] == {
        "SSEAlgorithm": "aws:kms",
        "KMSMasterKeyID": KEY,
    }
    assert {k: props[k] for k in PRIVATE} == PRIVATE
    assert "AccessControl" not in props  # no ACLs
    assert props["LoggingConfiguration"] == {
        "DestinationBucketName": {"Ref": "AccessLogBucket"},
        "LogFilePrefix": "lake-bucket/",
    }
    assert RES["LakeBucket"]["DeletionPolicy"] == "Retain"


def test_the_bucket_keeps_its_generated_name_and_sends_its_events_to_eventbridge() -> None:
    """No name and no reference to the queue: nothing the bucket waits for, and an update
    of a stack deployed before the queue changes the bucket in place (no replacement)."""
    bucket = RES["LakeBucket"]
    assert "BucketName" not in bucket["Properties"] and "DependsOn" not in bucket
    assert bucket["Properties"]["NotificationConfiguration"] == {
        "EventBridgeConfiguration": {"EventBridgeEnabled": True}
    }


def test_the_rule_takes_the_lake_buckets_landed_objects_to_the_queue() -> None:
    [(logical, rule)] = of_type("AWS::Events::Rule").items()
    assert logical == "LandingRule"
    props = rule["Properties"]
    assert props["Name"] == {"Fn::Sub": "${AWS::StackName}-landing"}  # RULE_ARN's name
    assert "EventBusName" not in props and props["State"] == "ENABLED"  # the default bus
    assert props["EventPattern"] == {
        "source": ["aws.s3"],
        "detail-type": ["Object Created"],
        "detail": {
            "bucket": {"name": [{"Ref": "LakeBucket"}]},
            "object": {"key": [{"prefix": "lake/landing/"}]},
        },
    }
    assert props["Targets"] == [
        {
            "Id": "LandingQueue",
            "Arn": {"Fn::GetAtt": ["LandingQueue", "Arn"]},
            "DeadLetterConfig": {"Arn": {"Fn::GetAtt": ["LandingDeadLetters", "Arn"]}},
            "RetryPolicy": {"MaximumEventAgeInSeconds": 3600},
        }
    ]  # no RoleArn: EventBridge sends to SQS under the queue's policy


def test_the_landing_queues_are_encrypted_with_the_key_tls_only_and_dead_letter() -> None:
    queues = of_type("AWS::SQS::Queue")
    assert set(queues) == {"LandingQueue", "LandingDeadLetters"}
    for queue in queues.values():
        assert queue["Properties"]["KmsMasterKeyId"] == KEY
    landing, dead = queues["LandingQueue"]["Properties"], queues["LandingDeadLetters"]["Properties"]
    assert landing["RedrivePolicy"] == {
        "deadLetterTargetArn": {"Fn::GetAtt": ["LandingDeadLetters", "Arn"]},
        "maxReceiveCount": 5,
    }
    assert landing["MessageRetentionPeriod"] == 4 * 86400  # the SQS default, said out loud
    assert dead["MessageRetentionPeriod"] == 14 * 86400  # the longest SQS keeps
    policies = of_type("AWS::SQS::QueuePolicy")
    assert {p["Properties"]["Queues"][0]["Ref"] for p in policies.values()} == set(queues)
    for policy in policies.values():
        statements = {s["Sid"]: s for s in policy["Properties"]["PolicyDocument"]["Statement"]}
        deny, allow = statements["DenyInsecureTransport"], statements["LandingEvents"]
        assert (deny["Effect"], deny["Principal"], deny["Action"]) == ("Deny", "*", ["sqs:*"])
        assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        assert (allow["Effect"], allow["Principal"]) == (
            "Allow",
            {"Service": "events.amazonaws.com"},
        )
        assert allow["Condition"] == FROM_RULE  # the landing rule sends (or dead-letters)


def test_the_access_logs_are_private_versioned_kept_and_writable_by_log_delivery_only() -> None:
    logs = RES["AccessLogBucket"]
    props = logs["Properties"]
    assert props["VersioningConfiguration"] == {"Status": "Enabled"}
    [rule] = props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"] == {"SSEAlgorithm": "AES256"}  # SSE-KMS: no logs
    assert {k: props[k] for k in PRIVATE} == PRIVATE
    [expire] = props["LifecycleConfiguration"]["Rules"]
    assert expire["ExpirationInDays"] == {"Ref": "AccessLogRetentionDays"}
    assert logs["DeletionPolicy"] == "Retain"

    policy = RES["AccessLogBucketPolicy"]["Properties"]
    assert policy["Bucket"] == {"Ref": "AccessLogBucket"}
    delivery, insecure = policy["PolicyDocument"]["Statement"]
    assert delivery["Principal"] == {"Service": "logging.s3.amazonaws.com"}
    assert (delivery["Effect"], delivery["Action"]) == ("Allow", ["s3:PutObject"])
    assert delivery["Resource"] == [
        {"Fn::Sub": "arn:${AWS::Partition}:s3:::${AccessLogBucket}/lake-bucket/*"}
    ]
    assert delivery["Condition"] == {
        "ArnLike": {"aws:SourceArn": {"Fn::Sub": "arn:${AWS::Partition}:s3:::${LakeBucket}"}},
        "StringEquals": {"aws:SourceAccount": {"Fn::Sub": "${AWS::AccountId}"}},
    }
    assert insecure["Effect"] == "Deny"
    assert insecure["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_the_data_key_rotates_is_kept_and_its_policy_names_no_wildcard_principal() -> None:
    key = RES["DataKey"]
    assert key["Type"] == "AWS::KMS::Key"
    assert key["Properties"]["EnableKeyRotation"] is True
    assert key["DeletionPolicy"] == key["UpdateReplacePolicy"] == "Retain"  # outlives its data
    account, logs, api_logs, events = key["Properties"]["KeyPolicy"]["Statement"]
    assert account["Principal"] == {
        "AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}
    }
    assert logs["Principal"] == {"Service": {"Fn::Sub": "logs.${AWS::Region}.amazonaws.com"}}
    glue_logs = (
        "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:/aws-glue/jobs*"
    )
    assert logs["Condition"] == {
        "ArnLike": {"kms:EncryptionContext:aws:logs:arn": {"Fn::Sub": glue_logs}}
    }
    # and the read API's two log groups, named under the stack's own prefix
    assert api_logs["Principal"] == logs["Principal"]
    stack_logs = (
        "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}"
        ":log-group:/musicstream/${AWS::StackName}/*"
    )
    assert api_logs["Condition"] == {
        "ArnLike": {"kms:EncryptionContext:aws:logs:arn": {"Fn::Sub": stack_logs}}
    }
    # EventBridge, to encrypt the landing events it sends to the queues, for that rule only
    assert events["Principal"] == {"Service": "events.amazonaws.com"}
    assert events["Action"] == ["kms:Decrypt", "kms:GenerateDataKey"]
    assert events["Condition"] == FROM_RULE
    groups = [
        r["Properties"]["LogGroupName"]["Fn::Sub"] for r in of_type("AWS::Logs::LogGroup").values()
    ]
    assert sorted(groups) == [
        "/musicstream/${AWS::StackName}/api-access",
        "/musicstream/${AWS::StackName}/api-function",
    ]


def test_the_glue_job_encrypts_its_output_logs_and_bookmarks_with_the_key() -> None:
    assert RES["GlueJob"]["Properties"]["SecurityConfiguration"] == {
        "Ref": "GlueSecurityConfiguration"
    }
    config = RES["GlueSecurityConfiguration"]["Properties"]["EncryptionConfiguration"]
    assert config == {
        "S3Encryptions": [{"S3EncryptionMode": "SSE-KMS", "KmsKeyArn": KEY}],
        "CloudWatchEncryption": {"CloudWatchEncryptionMode": "SSE-KMS", "KmsKeyArn": KEY},
        "JobBookmarksEncryption": {"JobBookmarksEncryptionMode": "CSE-KMS", "KmsKeyArn": KEY},
    }


def test_checkov_skips_are_few_and_each_gives_its_reason() -> None:
    skips = {
        (name, skip["id"]): skip["comment"]
        for name, resource in RES.items()
        for skip in resource.get("Metadata", {}).get("checkov", {}).get("skip", [])
    }
    assert set(skips) == {
        ("AccessLogBucket", "CKV_AWS_18"),
        ("ApiFunction", "CKV_AWS_116"),  # dead-letter queue: invoked synchronously
        ("ApiFunction", "CKV_AWS_117"),  # VPC
        ("ApiFunction", "CKV_AWS_173"),  # customer key for non-secret variables
    }
    assert all(len(reason) > 40 for reason in skips.values()), skips


def test_the_bucket_policy_denies_plain_http_old_tls_and_every_other_principal() -> None:
    statements = RES["LakeBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    assert {s["Effect"] for s in statements} == {"Deny"}  # grants come from roles only
    conditions = [s["Condition"] for s in statements]
    assert {"Bool": {"aws:SecureTransport": "false"}} in conditions
    assert {"NumericLessThan": {"s3:TlsVersion": "1.2"}} in conditions
    [others] = [c["ArnNotLike"]["aws:PrincipalArn"] for c in conditions if "ArnNotLike" in c]
    assert others == [
        {"Fn::GetAtt": ["GlueJobRole", "Arn"]},
        {"Fn::GetAtt": ["AirflowRole", "Arn"]},
        {"Ref": "AdminRoleArn"},
    ]
    for s in statements:
        assert s["Principal"] == "*" and s["Action"] == ["s3:*"]
        assert len(s["Resource"]) == 2  # the bucket and every key in it


def test_archive_and_quarantine_age_out_and_old_versions_expire() -> None:
    rules = {r["Id"]: r for r in RES["LakeBucket"]["Properties"]["LifecycleConfiguration"]["Rules"]}
    assert rules["archive"]["Prefix"] == "lake/archive/"
    assert rules["quarantine"]["Prefix"] == "lake/quarantine/"
    for name in ("archive", "quarantine"):
        assert rules[name]["Status"] == "Enabled"
        assert rules[name]["Transitions"] and "ExpirationInDays" in rules[name]
    assert rules["versions-and-uploads"]["NoncurrentVersionExpiration"]["NoncurrentDays"] > 0
    assert rules["versions-and-uploads"]["AbortIncompleteMultipartUpload"]


def test_tables_are_on_demand_recoverable_encrypted_with_the_key_and_kept() -> None:
    tables = of_type("AWS::DynamoDB::Table")
    assert len(tables) == 12  # nine KPI tables, songs and users (SPEC §5); loads
    for table in tables.values():
        props = table["Properties"]
        assert props["BillingMode"] == "PAY_PER_REQUEST"
        assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
        assert props["SSESpecification"] == {
            "SSEEnabled": True,
            "SSEType": "KMS",
            "KMSMasterKeyId": KEY,
        }
        assert table["DeletionPolicy"] == "Retain"


def test_the_topic_is_encrypted_and_tls_only() -> None:
    assert RES["RunTopic"]["Properties"]["KmsMasterKeyId"]
    [deny] = RES["RunTopicPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    assert deny["Effect"] == "Deny"
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_the_glue_job_is_glue_5_one_run_at_a_time_on_the_lake() -> None:
    props = RES["GlueJob"]["Properties"]
    assert props["GlueVersion"] == "5.0"
    assert props["ExecutionProperty"] == {"MaxConcurrentRuns": 1}
    assert props["Command"]["ScriptLocation"] == {"Fn::Sub": "s3://${LakeBucket}/code/glue_job.py"}
    assert props["DefaultArguments"]["--lake"] == {"Fn::Sub": "s3://${LakeBucket}/lake"}
    assert props["Role"] == {"Fn::GetAtt": ["GlueJobRole", "Arn"]}


@pytest.mark.parametrize("name", sorted(ROLES))
def test_no_role_allows_a_wildcard_action_or_escalation(name: str) -> None:
    for s in role_statements(ROLES[name]):
        assert s["Effect"] == "Allow" and not {"NotAction", "NotResource"} & set(s)
        for action in s["Action"]:
            assert "*" not in action and "?" not in action, (name, s["Sid"], action)
            assert not action.startswith(("iam:", "sts:", "organizations:")), action
    assert "ManagedPolicyArns" not in ROLES[name]["Properties"]  # no broad AWS policies


def _is_wildcard(resource: Any) -> bool:
    text = resource if isinstance(resource, str) else resource.get("Fn::Sub", "")
    return text == "*" or ":*:" in text  # anything, or any account


@pytest.mark.parametrize("name", sorted(ROLES))
def test_wildcard_resources_are_exactly_the_declared_justified_ones(name: str) -> None:
    declared = ROLES[name]["Metadata"].get("musicstream", {}).get("wildcard_resources", {})
    used = {s["Sid"] for s in role_statements(ROLES[name]) if any(map(_is_wildcard, s["Resource"]))}
    assert used == set(declared)
    assert all(len(reason) > 40 for reason in declared.values())


@pytest.mark.parametrize("name", sorted(ROLES))
def test_roles_trust_only_their_aws_service(name: str) -> None:
    [grant] = ROLES[name]["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert grant["Action"] == "sts:AssumeRole" and grant["Effect"] == "Allow"
    assert set(grant["Principal"]) == {"Service"}
    expected = {
        "GlueJobRole": ["glue.amazonaws.com"],
        "AirflowRole": ["airflow-env.amazonaws.com", "airflow.amazonaws.com"],
        "ApiRole": ["lambda.amazonaws.com"],
    }
    assert grant["Principal"]["Service"] == expected[name]
