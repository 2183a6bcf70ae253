"""The read API's resources in the template: a Lambda function running the app's handler
with the store's settings, behind an HTTP API whose every route needs IAM auth, created
only once its package is named. (Its role's grants: test_policies.py.)"""

from __future__ import annotations

import ast
import importlib.util
import re
from pathlib import Path
from typing import Any

import pytest

from musicstream.deploy.template import build_template
from musicstream.settings import load_settings

from .cfn_eval import ACCOUNT, API_ID, resolve, symbolic_names

pytestmark = pytest.mark.infra

T = build_template()
RES: dict[str, Any] = T["Resources"]
NAMES = symbolic_names(T)
SERVING = {
    "ApiRole",
    "ApiLogGroup",
    "ApiAccessLogGroup",
    "ApiFunction",
    "HttpApi",
    "ApiIntegration",
    "ApiRouteV1",
    "ApiRouteHealth",
    "ApiRouteOpenApi",
    "ApiRouteDashboard",
    "ApiRouteAssets",
    "ApiStage",
    "ApiPermission",
}
ROUTE_KEYS = {
    "GET /v1/{proxy+}",
    "GET /health",
    "GET /openapi.json",
    "GET /",
    "GET /assets/{proxy+}",
}


def test_the_api_exists_only_once_its_package_key_is_given() -> None:
    assert T["Conditions"] == {
        "ServeApi": {"Fn::Not": [{"Fn::Equals": [{"Ref": "ApiCodeKey"}, ""]}]}
    }
    conditioned = {k for k, r in RES.items() if r.get("Condition") == "ServeApi"}
    assert conditioned == SERVING
    assert T["Outputs"]["ApiUrl"]["Condition"] == "ServeApi"
    key = T["Parameters"]["ApiCodeKey"]
    assert key["Default"] == ""
    pattern = re.compile(key["AllowedPattern"])
    for ok in ("", "code/musicstream-api-0.1.0-3f2a.zip", "code/api/a.zip"):
        assert pattern.fullmatch(ok), ok
    for bad in ("lake/kpis/x.zip", "code/api.whl", "code/a b.zip", "/code/a.zip"):
        assert not pattern.fullmatch(bad), bad


def _assigned_names(module: str) -> set[str]:
    spec = importlib.util.find_spec(module)
    assert spec is not None and spec.origin
    tree = ast.parse(Path(spec.origin).read_text())
    return {
        t.id
        for node in tree.body
        if isinstance(node, ast.Assign)
        for t in node.targets
        if isinstance(t, ast.Name)
    }


def test_the_function_runs_the_apps_lambda_handler_on_the_stacks_tables() -> None:
    props = RES["ApiFunction"]["Properties"]
    assert props["Runtime"] == "python3.12"
    module, _, attribute = props["Handler"].rpartition(".")
    assert attribute in _assigned_names(module)  # musicstream.api.aws.handler
    assert props["Code"] == {"S3Bucket": {"Ref": "LakeBucket"}, "S3Key": {"Ref": "ApiCodeKey"}}
    assert props["Role"] == {"Fn::GetAtt": ["ApiRole", "Arn"]}
    assert props["LoggingConfig"] == {"LogGroup": {"Ref": "ApiLogGroup"}}
    assert props["ReservedConcurrentExecutions"] == {"Ref": "ApiConcurrency"}
    variables = props["Environment"]["Variables"]
    assert variables == {
        "MUSICSTREAM_STORE": "dynamodb",
        "MUSICSTREAM_STORE_PREFIX": {"Ref": "StorePrefix"},  # the tables' prefix
        "MUSICSTREAM_AWS_REGION": {"Ref": "AWS::Region"},
    }


def test_every_route_is_get_with_iam_auth_into_the_one_lambda_integration() -> None:
    routes = {k: r["Properties"] for k, r in RES.items() if r["Type"] == "AWS::ApiGatewayV2::Route"}
    assert {r["RouteKey"] for r in routes.values()} == ROUTE_KEYS
    for route in routes.values():
        assert route["AuthorizationType"] == "AWS_IAM"
        assert route["Target"] == {"Fn::Sub": "integrations/${ApiIntegration}"}
        assert route["ApiId"] == {"Ref": "HttpApi"}
    assert RES["HttpApi"]["Properties"]["ProtocolType"] == "HTTP"
    integration = RES["ApiIntegration"]["Properties"]
    assert integration["IntegrationType"] == "AWS_PROXY"
    assert integration["PayloadFormatVersion"] == "2.0"
    assert integration["IntegrationUri"] == {"Fn::GetAtt": ["ApiFunction", "Arn"]}


def _served(path: str) -> bool:
    """Does a GET of ``path`` (a FastAPI path, ``{name}`` parameters) match a route?"""
    for key in ROUTE_KEYS:
        route = key.removeprefix("GET ")
        if route.endswith("/{proxy+}"):
            if path.startswith(route.removesuffix("{proxy+}")):
                return True
        elif path == route:
            return True
    return False


def test_the_routes_cover_every_path_of_the_application() -> None:
    pytest.importorskip("fastapi")
    from fastapi.routing import APIRoute

    from musicstream.api.app import create_app

    app = create_app(load_settings(store="dynamodb", aws_region="us-east-1"))
    paths = {r.path for r in app.routes if isinstance(r, APIRoute) and "GET" in r.methods}
    paths.add(app.openapi_url or "")
    assert {"/v1/kpis/{table}", "/health", "/", "/openapi.json"} <= paths
    assert [p for p in sorted(paths) if not _served(p)] == []


def test_the_stage_auto_deploys_throttles_and_logs_every_request() -> None:
    stage = RES["ApiStage"]["Properties"]
    assert (stage["StageName"], stage["AutoDeploy"]) == ("$default", True)
    logs = stage["AccessLogSettings"]
    assert logs["DestinationArn"] == {"Fn::GetAtt": ["ApiAccessLogGroup", "Arn"]}
    assert "$context.identity.userArn" in logs["Format"]  # who called, as IAM authorized them
    assert stage["DefaultRouteSettings"]["ThrottlingRateLimit"] > 0
    for group in ("ApiLogGroup", "ApiAccessLogGroup"):
        resource = RES[group]
        assert resource["Properties"]["RetentionInDays"] == 365
        assert resource["Properties"]["KmsKeyId"] == {"Fn::GetAtt": ["DataKey", "Arn"]}
        assert resource["DeletionPolicy"] == "Retain"


def test_only_this_apis_get_routes_may_invoke_the_function() -> None:
    props = resolve(RES["ApiPermission"]["Properties"], NAMES)
    assert props == {
        "Action": "lambda:InvokeFunction",
        "FunctionName": f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:stack-api",
        "Principal": "apigateway.amazonaws.com",
        "SourceArn": f"arn:aws:execute-api:us-east-1:{ACCOUNT}:{API_ID}/*/GET/*",
    }
    url = resolve(T["Outputs"]["ApiUrl"]["Value"], NAMES)
    assert url == f"https://{API_ID}.execute-api.us-east-1.amazonaws.com/"


def test_settings_from_the_functions_environment_name_the_stacks_store() -> None:
    variables = resolve(RES["ApiFunction"]["Properties"]["Environment"]["Variables"], NAMES)
    settings = load_settings(
        **{k.removeprefix("MUSICSTREAM_").lower(): v for k, v in variables.items()}
    )
    assert (settings.store, settings.store_prefix, settings.aws_region) == (
        "dynamodb",
        "musicstream_",
        "us-east-1",
    )
