"""Requests recorded by moto, as the IAM (action, resource, context) AWS would authorize.

Covers the calls the pipeline makes: S3 REST (path-style, as against a custom endpoint),
DynamoDB, Glue and SQS JSON APIs, SNS query API. An unknown call raises, so a new kind of call
cannot slip past the permission check.
"""

from __future__ import annotations

import base64
import json
import re
import xml.etree.ElementTree as ET
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from .iam_eval import Request

ACCOUNT, REGION = "123456789012", "us-east-1"
Call = tuple[str, str, dict[str, str]]  # action, resource, context


def service_of(entry: dict[str, Any]) -> str:
    scope = re.search(
        r"Credential=[^/]+/\d+/[^/]+/([^/]+)/", entry["headers"].get("Authorization", "")
    )
    if not scope:
        raise ValueError(f"unsigned request {entry['method']} {entry['url']}")
    return scope.group(1)


def body_of(entry: dict[str, Any]) -> bytes:
    body = entry.get("body") or ""
    return base64.b64decode(body) if entry.get("body_encoded") else body.encode()


def calls(entry: dict[str, Any]) -> list[Call]:
    service = service_of(entry)
    if service == "s3":
        return s3_calls(entry)
    if service in ("dynamodb", "glue"):
        return json_calls(service, entry)
    if service == "sqs":
        return sqs_calls(entry)
    if service == "sns":
        form = parse_qs(body_of(entry).decode())
        return [(f"sns:{form['Action'][0]}", form["TopicArn"][0], {})]
    raise ValueError(f"unexpected call to {service}: {entry['method']} {entry['url']}")


def json_calls(service: str, entry: dict[str, Any]) -> list[Call]:
    operation = entry["headers"]["X-Amz-Target"].split(".")[-1]
    body = json.loads(body_of(entry) or b"{}")
    base = f"arn:aws:{service}:{REGION}:{ACCOUNT}"
    if service == "glue":
        return [(f"glue:{operation}", f"{base}:job/{body['JobName']}", {})]
    tables = list(body["RequestItems"]) if "RequestItems" in body else [body["TableName"]]
    index = f"/index/{body['IndexName']}" if "IndexName" in body else ""
    return [(f"dynamodb:{operation}", f"{base}:table/{t}{index}", {}) for t in tables]


def sqs_calls(entry: dict[str, Any]) -> list[Call]:
    """One queue per call; a batch call is authorized as its single-message action."""
    operation = entry["headers"]["X-Amz-Target"].split(".")[-1].removesuffix("Batch")
    account, name = json.loads(body_of(entry))["QueueUrl"].rstrip("/").split("/")[-2:]
    return [(f"sqs:{operation}", f"arn:aws:sqs:{REGION}:{account}:{name}", {})]


def s3_calls(entry: dict[str, Any]) -> list[Call]:
    url = urlsplit(entry["url"])
    bucket, _, key = url.path.lstrip("/").partition("/")
    key, query = unquote(key), parse_qs(url.query, keep_blank_values=True)
    method, headers = entry["method"], entry["headers"]
    bucket_arn = f"arn:aws:s3:::{bucket}"
    if not bucket:
        return [("s3:ListAllMyBuckets", "*", {})]
    if not key:
        return s3_bucket_calls(method, query, bucket_arn, entry)
    obj = f"{bucket_arn}/{key}"
    if method in ("GET", "HEAD") and "uploadId" not in query:
        return [("s3:GetObject", obj, {})]
    if method == "DELETE":
        return [("s3:AbortMultipartUpload" if "uploadId" in query else "s3:DeleteObject", obj, {})]
    if method in ("PUT", "POST"):
        out: list[Call] = [("s3:PutObject", obj, {})]
        source = headers.get("x-amz-copy-source") or headers.get("X-Amz-Copy-Source")
        if source:
            out.append(("s3:GetObject", f"arn:aws:s3:::{unquote(source).lstrip('/')}", {}))
        return out
    raise ValueError(f"unexpected S3 object call {method} {entry['url']}")


def s3_bucket_calls(
    method: str, query: dict[str, list[str]], bucket_arn: str, entry: dict[str, Any]
) -> list[Call]:
    if method == "POST" and "delete" in query:  # DeleteObjects: one DeleteObject per key
        root = ET.fromstring(body_of(entry))
        keys = [el.text or "" for el in root.iter() if el.tag.endswith("Key")]
        return [("s3:DeleteObject", f"{bucket_arn}/{k}", {}) for k in keys]
    if method == "GET" and "location" in query:
        return [("s3:GetBucketLocation", bucket_arn, {})]
    if method in ("GET", "HEAD") and set(query) <= {
        "list-type",
        "prefix",
        "delimiter",
        "continuation-token",
        "max-keys",
        "encoding-type",
        "start-after",
        "marker",
        "fetch-owner",
    }:
        context = {"s3:prefix": query["prefix"][0]} if "prefix" in query else {}
        return [("s3:ListBucket", bucket_arn, context)]
    raise ValueError(f"unexpected S3 bucket call {method} {entry['url']}")


def requests_of(recording: list[dict[str, Any]], principal: str) -> list[Request]:
    """Every recorded call as the authorization request of ``principal``."""
    return [
        Request(principal, action, resource, context)
        for entry in recording
        for action, resource, context in calls(entry)
    ]
