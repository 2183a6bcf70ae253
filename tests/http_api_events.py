"""What API Gateway hands the read API's Lambda function: HTTP API events (payload format
2.0) of IAM-authorized GET requests, and a Lambda context.

The route of each path is the one the stack's HTTP API would match (``ROUTES`` of
``deploy/serving.py``); a path no route matches is answered 404 by API Gateway and never
reaches the function, so asking for its event is an error here.
"""

from __future__ import annotations

import time
import uuid
from types import SimpleNamespace
from typing import Any
from urllib.parse import parse_qsl, urlencode

from musicstream.deploy.serving import ROUTES

ACCOUNT, REGION, API_ID = "123456789012", "us-east-1", "a1b2c3d4e5"
CALLER = f"arn:aws:sts::{ACCOUNT}:assumed-role/analyst/alice"
SOURCE_IP = "203.0.113.7"


def route_of(path: str) -> tuple[str, dict[str, str] | None]:
    """The stack's route key that serves ``GET path``, and its path parameters."""
    for key in ROUTES.values():
        route = key.removeprefix("GET ")
        if route.endswith("/{proxy+}"):
            prefix = route.removesuffix("{proxy+}")
            if path.startswith(prefix) and len(path) > len(prefix):
                return key, {"proxy": path.removeprefix(prefix)}
        elif path == route:
            return key, None
    raise ValueError(f"no route of the HTTP API serves GET {path}: API Gateway answers 404")


def http_event(path: str, query: dict[str, str] | None = None) -> dict[str, Any]:
    """An HTTP API (payload 2.0) event of ``GET path?query``, signed by an IAM caller."""
    route_key, path_parameters = route_of(path)
    raw_query = urlencode(query or {})
    now = time.time()
    host = f"{API_ID}.execute-api.{REGION}.amazonaws.com"
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": path,
        "rawQueryString": raw_query,
        "headers": {
            "accept": "application/json",
            "content-length": "0",
            "host": host,
            "user-agent": "awscurl/0.36",
            "x-amz-date": time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(now)),
            "x-forwarded-for": SOURCE_IP,
            "x-forwarded-port": "443",
            "x-forwarded-proto": "https",
        },
        "requestContext": {
            "accountId": ACCOUNT,
            "apiId": API_ID,
            "authorizer": {
                "iam": {
                    "accessKey": "ASIAEXAMPLEKEY",
                    "accountId": ACCOUNT,
                    "callerId": "AROAEXAMPLEID:alice",
                    "cognitoIdentity": None,
                    "principalOrgId": None,
                    "userArn": CALLER,
                    "userId": "AROAEXAMPLEID:alice",
                }
            },
            "domainName": host,
            "domainPrefix": API_ID,
            "http": {
                "method": "GET",
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": SOURCE_IP,
                "userAgent": "awscurl/0.36",
            },
            "requestId": uuid.uuid4().hex[:16],
            "routeKey": route_key,
            "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "timeEpoch": int(now * 1000),
        },
        "isBase64Encoded": False,
    }
    if raw_query:  # a repeated name's values are joined with commas in this map
        pairs = parse_qsl(raw_query, keep_blank_values=True)
        event["queryStringParameters"] = {
            k: ",".join(v for n, v in pairs if n == k) for k, _ in pairs
        }
    if path_parameters:
        event["pathParameters"] = path_parameters
    return event


def lambda_context(function: str = "musicstream-api") -> SimpleNamespace:
    """The attributes of a Lambda context object the adapter and the app may read."""
    return SimpleNamespace(
        function_name=function,
        function_version="$LATEST",
        invoked_function_arn=f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{function}",
        memory_limit_in_mb=512,
        aws_request_id=str(uuid.uuid4()),
        log_group_name=f"/musicstream/{function}/api-function",
        log_stream_name="2026/01/05/[$LATEST]0123456789abcdef",
        get_remaining_time_in_millis=lambda: 10_000,
    )
