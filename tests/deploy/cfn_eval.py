"""Resolve the intrinsic functions the template uses (Ref, Fn::GetAtt, Fn::Sub) to values."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

_VAR = re.compile(r"\$\{([^}!][^}]*)\}")


def resolve(node: Any, names: Mapping[str, str]) -> Any:
    """``node`` with every intrinsic replaced; an unknown name or function is a KeyError."""
    if isinstance(node, list):
        return [resolve(n, names) for n in node]
    if not isinstance(node, dict):
        return node
    if "Ref" in node:
        return names[node["Ref"]]
    if "Fn::GetAtt" in node:
        return names[".".join(node["Fn::GetAtt"])]
    if "Fn::Sub" in node:
        return _VAR.sub(lambda m: names[m.group(1)], node["Fn::Sub"])
    unknown = [k for k in node if k.startswith("Fn::")]
    if unknown:
        raise KeyError(f"unsupported intrinsic {unknown[0]}")
    return {k: resolve(v, names) for k, v in node.items()}


ACCOUNT = "111122223333"
BUCKET = "lake-bucket"
LOG_BUCKET = "access-log-bucket"
ADMIN = f"arn:aws:iam::{ACCOUNT}:role/admin"
KEY = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
API_ID = "a1b2c3d4e5"  # the HTTP API's id


def role_arn(logical: str) -> str:
    return f"arn:aws:iam::{ACCOUNT}:role/stack-{logical}"


def symbolic_names(template: Mapping[str, Any]) -> dict[str, str]:
    """Made-up but realistic values for every name the template refers to, so that its
    policies can be read as the literal JSON AWS would evaluate."""
    names = {k: str(v.get("Default", "")) for k, v in template["Parameters"].items()}
    names |= {
        "AWS::Partition": "aws",
        "AWS::Region": "us-east-1",
        "AWS::AccountId": ACCOUNT,
        "AWS::StackName": "stack",
        "AdminRoleArn": ADMIN,
        "MwaaSourceBucketName": "airflow-dags",
        "LakeBucket": BUCKET,
        "AccessLogBucket": LOG_BUCKET,
        "RunTopic": f"arn:aws:sns:us-east-1:{ACCOUNT}:stack-runs",
        "DataKey.Arn": KEY,
        "GlueSecurityConfiguration": "stack-glue",
        "AWS::URLSuffix": "amazonaws.com",
        "ApiCodeKey": "code/musicstream-api.zip",
        "HttpApi": API_ID,
        "ApiIntegration": "integ01",
    }
    regional = f"us-east-1:{ACCOUNT}"
    for logical, resource in template["Resources"].items():
        kind, props = resource["Type"], resource["Properties"]
        if kind == "AWS::IAM::Role":
            names[f"{logical}.Arn"] = role_arn(logical)
        elif kind == "AWS::DynamoDB::Table":
            table = resolve(props["TableName"], names)
            names[f"{logical}.Arn"] = f"arn:aws:dynamodb:{regional}:table/{table}"
        elif kind == "AWS::Logs::LogGroup":  # a log group's Arn attribute ends in ":*"
            group = resolve(props["LogGroupName"], names)
            names[f"{logical}.Arn"] = f"arn:aws:logs:{regional}:log-group:{group}:*"
        elif kind == "AWS::SQS::Queue":  # Ref is the queue's URL
            names[logical] = f"https://sqs.us-east-1.amazonaws.com/{ACCOUNT}/stack-{logical}"
            names[f"{logical}.Arn"] = f"arn:aws:sqs:{regional}:stack-{logical}"
        elif kind == "AWS::Lambda::Function":
            function = resolve(props["FunctionName"], names)
            names[f"{logical}.Arn"] = f"arn:aws:lambda:{regional}:function:{function}"
    return names
