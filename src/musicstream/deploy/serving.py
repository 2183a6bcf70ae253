"""The read API on AWS (SPEC §7): the same application as ``musicstream serve``, as a Lambda
function behind an API Gateway HTTP API that authorizes every route with IAM (SigV4).

Lambda reads its package when the function is created, and the package lives in the lake
bucket (under ``code/``, next to the Glue code: private to the pipeline and the admin,
encrypted, versioned), which the first deploy creates. So these resources exist only once
``ApiCodeKey`` names an uploaded package (condition ``ServeApi``): deploy, upload, deploy
again with the key (README, "Deploy to AWS"). A new package goes to a new key.

The function's role reads and nothing else: Query on the KPI tables, on ``loads`` (the last
load, for ``/health``) and on the one index a read uses (one genre over a date range);
GetItem on songs and users; the data key only as DynamoDB uses it to decrypt; and writing
its own log group.
"""

from __future__ import annotations

import json

from musicstream.deploy.access import role
from musicstream.deploy.cfn import (
    CODE,
    DATA_KEY,
    Node,
    arn,
    arn_of,
    checkov_skips,
    ref,
    statement,
    sub,
    tags,
    trust,
)
from musicstream.deploy.encryption import LOGS_KEY_ACTIONS
from musicstream.deploy.storage import RETAIN, table_id

SERVE = "ServeApi"  # the condition every resource of this module carries
HANDLER = "musicstream.api.aws.handler"
LOGS = "/musicstream/${AWS::StackName}/"  # the stack's log groups: the function's, the API's
FUNCTION_LOGS, ACCESS_LOGS = LOGS + "api-function", LOGS + "api-access"
# The application's paths, GET only: any other request is answered 404 by API Gateway
# without invoking the function.
ROUTES = {
    "ApiRouteV1": "GET /v1/{proxy+}",
    "ApiRouteHealth": "GET /health",
    "ApiRouteOpenApi": "GET /openapi.json",
    "ApiRouteDashboard": "GET /",
    "ApiRouteAssets": "GET /assets/{proxy+}",
}
ACCESS_LOG_FORMAT = json.dumps(  # one JSON line per request, with the caller's IAM identity
    {
        "requestId": "$context.requestId",
        "caller": "$context.identity.userArn",
        "ip": "$context.identity.sourceIp",
        "time": "$context.requestTime",
        "route": "$context.routeKey",
        "path": "$context.path",
        "status": "$context.status",
        "ms": "$context.responseLatency",
        "error": "$context.integrationErrorMessage",
    },
    separators=(",", ":"),
)

PARAMETERS: dict[str, Node] = {
    "ApiCodeKey": {
        "Type": "String",
        "Default": "",
        "Description": "The read API's package in the lake bucket; empty: no API",
        "AllowedPattern": rf"^({CODE}/\S+\.zip)?$",
    },
    "ApiConcurrency": {
        "Type": "Number",
        "Default": 10,
        "Description": "The read API function's reserved concurrency",
        "MinValue": 1,
        "MaxValue": 1000,
    },
}
CONDITIONS: dict[str, Node] = {SERVE: {"Fn::Not": [{"Fn::Equals": [ref("ApiCodeKey"), ""]}]}}
OUTPUTS: dict[str, Node] = {
    "ApiUrl": {
        "Condition": SERVE,
        "Description": "the read API (IAM auth)",
        "Value": sub("https://${HttpApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}/"),
    },
}


def read_statements() -> list[Node]:
    """Query and GetItem exactly where the read path sends them (``stores/dynamodb.py``).
    Table ARNs as one-line ``Fn::Sub`` strings: the template must stay under 51,200 bytes."""
    from musicstream.datasets import DIMENSION_KEYS
    from musicstream.stores.dynamodb_tables import SPECS

    def table(name: str, index: str | None = None) -> Node:
        return sub(f"${{{table_id(name)}.Arn}}" + (f"/index/{index}" if index else ""))

    queried = [table(t) for t in SPECS if t not in DIMENSION_KEYS]  # KPI tables, loads
    indexes = [  # a date range of one genre; the other indexes serve the per-date replace
        table(t, spec.index_name)
        for t, spec in SPECS.items()
        if spec.index_name and spec.pk == "report_date"
    ]
    streams = arn("logs", f"log-group:{FUNCTION_LOGS}:*")  # its own log group's streams
    via = {"StringEquals": {"kms:ViaService": sub("dynamodb.${AWS::Region}.amazonaws.com")}}
    return [
        statement("ReadTables", ["dynamodb:Query"], [*queried, *indexes]),
        statement("ReadDimensions", ["dynamodb:GetItem"], [table(t) for t in DIMENSION_KEYS]),
        statement("DataKey", ["kms:Decrypt"], [arn_of(DATA_KEY)], via),
        statement("Logs", ["logs:CreateLogStream", "logs:PutLogEvents"], [streams]),
    ]


def function() -> Node:
    """Python 3.12, the app built once per cold start; settings from the environment."""
    skips = {
        "CKV_AWS_116": "invoked synchronously: the caller gets the error, no event to keep",
        "CKV_AWS_117": "calls only DynamoDB and Logs (TLS, SigV4): a VPC adds NAT, no isolation",
        "CKV_AWS_173": "the variables are a store name, table prefix and region: no secret",
    }
    environment = {
        "MUSICSTREAM_STORE": "dynamodb",
        "MUSICSTREAM_STORE_PREFIX": ref("StorePrefix"),
        "MUSICSTREAM_AWS_REGION": ref("AWS::Region"),
    }
    return {
        "Type": "AWS::Lambda::Function",
        "Condition": SERVE,
        "Metadata": checkov_skips(skips),
        "Properties": {
            "FunctionName": sub("${AWS::StackName}-api"),
            "Runtime": "python3.12",
            "Handler": HANDLER,
            "Code": {"S3Bucket": ref("LakeBucket"), "S3Key": ref("ApiCodeKey")},
            "Role": arn_of("ApiRole"),
            "MemorySize": 512,  # CPU scales with memory: a cold start imports FastAPI
            "Timeout": 10,  # one Query or GetItem per request; API Gateway waits up to 30 s
            # a ceiling on cost and on DynamoDB reads, and capacity no other function takes
            "ReservedConcurrentExecutions": ref("ApiConcurrency"),
            "Environment": {"Variables": environment},
            "LoggingConfig": {"LogGroup": ref("ApiLogGroup")},
            "Tags": tags(),
        },
    }


def log_group(name: str) -> Node:
    """Kept a year, encrypted with the data key, and kept when the stack goes (audit)."""
    props = {"LogGroupName": sub(name), "RetentionInDays": 365, "KmsKeyId": arn_of(DATA_KEY)}
    return {"Type": "AWS::Logs::LogGroup", "Condition": SERVE, **RETAIN, "Properties": props}


def http_api() -> dict[str, Node]:
    """The HTTP API, its one Lambda integration (payload 2.0), the routes, the stage."""
    api = {"ApiId": ref("HttpApi")}
    integration = {
        **api,
        "IntegrationType": "AWS_PROXY",
        "IntegrationUri": arn_of("ApiFunction"),
        "PayloadFormatVersion": "2.0",
    }
    target = sub("integrations/${ApiIntegration}")
    route = {**api, "AuthorizationType": "AWS_IAM", "Target": target}
    out = {
        "HttpApi": _serving(
            "AWS::ApiGatewayV2::Api",
            {"Name": sub("${AWS::StackName}-api"), "ProtocolType": "HTTP"},
        ),
        "ApiIntegration": _serving("AWS::ApiGatewayV2::Integration", integration),
    }
    out |= {
        logical: _serving("AWS::ApiGatewayV2::Route", {**route, "RouteKey": key})
        for logical, key in ROUTES.items()
    }
    out["ApiStage"] = stage()
    return out


def stage() -> Node:
    """``$default``, deployed on every change, each request logged, throttled."""
    props = {
        "ApiId": ref("HttpApi"),
        "StageName": "$default",
        "AutoDeploy": True,
        "AccessLogSettings": {
            "DestinationArn": arn_of("ApiAccessLogGroup"),
            "Format": ACCESS_LOG_FORMAT,
        },
        # a steady 50 requests/s (bursts of 100), then 429s, before the function's
        # reserved concurrency (10 at ~20 requests/s each) throttles it
        "DefaultRouteSettings": {"ThrottlingBurstLimit": 100, "ThrottlingRateLimit": 50},
    }
    return _serving("AWS::ApiGatewayV2::Stage", props)


def invoke_permission() -> Node:
    """API Gateway may invoke the function for GET routes of this API, and nothing else may."""
    props = {
        "Action": "lambda:InvokeFunction",
        "FunctionName": arn_of("ApiFunction"),
        "Principal": "apigateway.amazonaws.com",
        "SourceArn": arn("execute-api", "${HttpApi}/*/GET/*"),
    }
    return _serving("AWS::Lambda::Permission", props)


def _serving(kind: str, props: Node) -> Node:
    return {"Type": kind, "Condition": SERVE, "Properties": props}


def resources() -> dict[str, Node]:
    """The API's resources, in the order they depend on each other."""
    api_role = role(
        "musicstream read API: reads the tables", trust("lambda.amazonaws.com"), read_statements()
    )
    return {
        "ApiRole": {**api_role, "Condition": SERVE},
        "ApiLogGroup": log_group(FUNCTION_LOGS),
        "ApiAccessLogGroup": log_group(ACCESS_LOGS),
        "ApiFunction": function(),
        **http_api(),
        "ApiPermission": invoke_permission(),
    }


def logs_key_statement() -> Node:
    """For the data key's policy: CloudWatch Logs may use the key for the stack's own log
    groups only (the encryption context names the log group)."""
    groups = arn("logs", f"log-group:{LOGS}*")
    return statement(
        "ApiLogs",
        LOGS_KEY_ACTIONS,
        ["*"],  # in a key policy, "*" is this key
        {"ArnLike": {"kms:EncryptionContext:aws:logs:arn": groups}},
        principal={"Service": sub("logs.${AWS::Region}.amazonaws.com")},
    )
