"""CloudFormation building blocks: intrinsic functions, ARNs and IAM statements as plain dicts.

The template is data. These helpers keep its pieces short to write and uniform to test.
"""

from __future__ import annotations

from typing import Any

Node = dict[str, Any]

LAKE = "lake"  # the lake's key prefix in the bucket: settings.lake = s3://<bucket>/lake
CODE = "code"  # the Glue entry script and the musicstream wheel
DATA_KEY = "DataKey"  # logical id of the stack's customer-managed KMS key


def ref(name: str) -> Node:
    return {"Ref": name}


def sub(text: str) -> Node:
    """``Fn::Sub``: ``${Param}``, ``${Resource}``, ``${Resource.Attr}``, ``${AWS::…}``."""
    return {"Fn::Sub": text}


def arn_of(resource: str) -> Node:
    return {"Fn::GetAtt": [resource, "Arn"]}


def arn(service: str, resource: str) -> Node:
    """An ARN of this account and region, e.g. ``arn("glue", "job/${GlueJobName}")``."""
    return sub(f"arn:${{AWS::Partition}}:{service}:${{AWS::Region}}:${{AWS::AccountId}}:{resource}")


def bucket_arn(key: str = "", bucket: str = "LakeBucket") -> Node:
    """The lake bucket (``key`` empty) or keys in it (``lake/landing/*``); or another bucket."""
    return sub(f"arn:${{AWS::Partition}}:s3:::${{{bucket}}}" + (f"/{key}" if key else ""))


def statement(
    sid: str,
    actions: list[str],
    resources: list[Any],
    condition: Node | None = None,
    *,
    effect: str = "Allow",
    principal: str | Node | None = None,
) -> Node:
    """One IAM policy statement; actions sorted so the rendered template is stable.

    ``principal`` only in resource policies (a bucket's, a topic's, a key's): ``"*"`` there
    means "whoever asks", which the statement's condition then narrows.
    """
    out: Node = {"Sid": sid, "Effect": effect}
    if principal:
        out["Principal"] = principal
    out |= {"Action": sorted(actions), "Resource": resources}
    if condition:
        out["Condition"] = condition
    return out


def document(statements: list[Node]) -> Node:
    return {"Version": "2012-10-17", "Statement": statements}


def trust(*services: str, condition: Node | None = None) -> Node:
    """A role's trust policy: only these AWS service principals may assume it."""
    grant: Node = {
        "Effect": "Allow",
        "Principal": {"Service": sorted(services)},
        "Action": "sts:AssumeRole",
    }
    if condition:
        grant["Condition"] = condition
    return document([grant])


def checkov_skips(reasons: dict[str, str]) -> Node:
    """Resource Metadata naming the checkov checks that do not apply to it, each with why."""
    return {"checkov": {"skip": [{"id": i, "comment": c} for i, c in reasons.items()]}}


def tags(**extra: str) -> list[Node]:
    return [{"Key": k, "Value": v} for k, v in {"project": "musicstream", **extra}.items()]
