"""The stack's monitoring (deploy/monitoring.py): alarms on the metrics the pipeline really
publishes (musicstream/metrics.py, read back from the local CloudWatch), the alarm topic and
its key, the dashboard; and the namespace reaching the Glue job and the outputs.

The expected names and values are written out by hand, not derived from the code under test.
"""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

import pytest

from aws_local import REGION, client
from musicstream import metrics
from musicstream.deploy.template import build_template
from musicstream.jobs.glue import resolve_options
from musicstream.jobs.spark_submit import settings_for
from musicstream.settings import load_settings

from .cfn_eval import ACCOUNT, resolve, symbolic_names
from .iam_eval import ALLOW, DENY, IMPLICIT, Request, decide
from .moto_stack import Stack

pytestmark = pytest.mark.infra

T = build_template()
RES: dict[str, Any] = T["Resources"]
NAMESPACE = "musicstream"  # MetricsNamespace's default
ALARM_TOPIC = f"arn:aws:sns:us-east-1:{ACCOUNT}:stack-alarms"
ALARM_KEY = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/alarm-key"
DEAD_LETTERS = "stack-LandingDeadLetters"  # the dead-letter queue's name
NAMES = symbolic_names(T) | {
    "AlarmTopic": ALARM_TOPIC,
    "AlarmKey": ALARM_KEY,
    "AlarmKey.Arn": ALARM_KEY,
    "LandingDeadLetters.QueueName": DEAD_LETTERS,
}
ALARMS = {  # name → what it watches, in one line
    "stack-freshness": "no ok run",
    "stack-lag": "landing-to-load lag",
    "stack-failures": "failed runs",
    "stack-quarantine": "quarantined share",
    "stack-dead-letters": "landing dead letters",
}
CLOUDWATCH = "cloudwatch.amazonaws.com"
Metric = tuple[str, str, frozenset[tuple[str, str]]]  # namespace, name, dimensions

# Two runs, as the summary reports them: every dataset, every optional key; and a failure.
OK_RUN: dict[str, Any] = {
    "status": "ok",
    "duration_s": 30.0,
    "datasets": {
        "songs": {"read": 10, "kept": 9, "quarantined": 1, "reasons": {"missing_genre": 1}},
        "users": {"read": 4, "kept": 4, "quarantined": 0},
        "streams": {"read": 100, "kept": 97, "quarantined": 3},
    },
    "stages": {"plan": 0.5, "validate": 5.0, "load": 3.0},
    "lag_s": 90.0,
    "store_items_written": 42,
    "warnings": [{"check": "volume"}],
}
FAILED_RUN = {"status": "failed", "duration_s": 1.0}


def resolved(logical: str, names: dict[str, str] = NAMES) -> dict[str, Any]:
    return dict(resolve(RES[logical]["Properties"], names))


def alarms(names: dict[str, str] = NAMES) -> dict[str, dict[str, Any]]:
    """Every alarm's properties as AWS gets them, by alarm name."""
    found = [resolved(k, names) for k, r in RES.items() if r["Type"] == "AWS::CloudWatch::Alarm"]
    return {a["AlarmName"]: a for a in found}


def watched(alarm: dict[str, Any]) -> list[Metric]:
    """The metrics an alarm reads: its one metric, or every MetricStat of its math."""
    stats = [q["MetricStat"]["Metric"] for q in alarm.get("Metrics", []) if "MetricStat" in q]
    for metric in stats or [alarm]:
        assert set(metric) >= {"Namespace", "MetricName"}, alarm["AlarmName"]
    return [
        (
            m["Namespace"],
            m["MetricName"],
            frozenset((d["Name"], d["Value"]) for d in m["Dimensions"]),
        )
        for m in stats or [alarm]
    ]


def published(endpoint: str) -> tuple[str, set[Metric]]:
    """A fresh namespace with OK_RUN and FAILED_RUN published to it, and what it then lists."""
    namespace = f"musicstream-{uuid.uuid4().hex[:8]}"
    settings = load_settings(
        metrics_namespace=namespace, aws_endpoint_url=endpoint, aws_region=REGION
    )
    metrics.publish(settings, OK_RUN)
    metrics.publish(settings, FAILED_RUN)
    pages = (
        client("cloudwatch", endpoint).get_paginator("list_metrics").paginate(Namespace=namespace)
    )
    listed = {
        (namespace, m["MetricName"], frozenset((d["Name"], d["Value"]) for d in m["Dimensions"]))
        for page in pages
        for m in page["Metrics"]
    }
    assert listed  # the run's metrics are there to be watched
    return namespace, listed


def test_five_alarms_notify_the_alarm_topic_when_they_fire_and_clear() -> None:
    found = alarms()
    assert set(found) == set(ALARMS)
    for name, alarm in found.items():
        assert alarm["AlarmActions"] == alarm["OKActions"] == [ALARM_TOPIC], name
        assert alarm["AlarmDescription"], name


@pytest.mark.aws
def test_every_alarm_watches_a_metric_the_pipeline_publishes(endpoint: str) -> None:
    namespace, listed = published(endpoint)
    found = alarms(NAMES | {"MetricsNamespace": namespace})
    for name, alarm in found.items():
        ours = [m for m in watched(alarm) if m[0] == namespace]
        assert set(ours) <= listed, (name, set(ours) - listed)
        if name != "stack-dead-letters":
            assert ours, name
    assert watched(found["stack-dead-letters"]) == [
        ("AWS/SQS", "ApproximateNumberOfMessagesVisible", frozenset({("QueueName", DEAD_LETTERS)}))
    ]
    assert watched(found["stack-freshness"]) == [(namespace, "Runs", frozenset({("Status", "ok")}))]
    assert watched(found["stack-failures"]) == [
        (namespace, "Runs", frozenset({("Status", "failed")}))
    ]
    assert watched(found["stack-lag"]) == [(namespace, "FreshnessLag", frozenset())]


def test_no_run_for_freshness_hours_is_stale_and_one_failed_run_alarms() -> None:
    found = alarms()
    fresh = found["stack-freshness"]
    assert (fresh["Statistic"], fresh["Period"], fresh["Threshold"]) == ("Sum", 3600, 1)
    assert fresh["ComparisonOperator"] == "LessThanThreshold"
    assert fresh["TreatMissingData"] == "breaching"  # nothing published at all is stale too
    assert RES["FreshnessAlarm"]["Properties"]["EvaluationPeriods"] == {"Ref": "FreshnessHours"}
    hours = T["Parameters"]["FreshnessHours"]
    assert hours["MinValue"] >= 1 and hours["MaxValue"] * 3600 <= 86_400  # CloudWatch's day
    failures = found["stack-failures"]
    assert (failures["Statistic"], failures["Threshold"], failures["EvaluationPeriods"]) == (
        "Sum",
        0,
        1,
    )
    assert failures["ComparisonOperator"] == "GreaterThanThreshold"
    assert failures["TreatMissingData"] == "notBreaching"  # no run is the freshness alarm's
    lag = found["stack-lag"]
    assert (lag["Statistic"], lag["ComparisonOperator"]) == ("Maximum", "GreaterThanThreshold")
    assert lag["Threshold"] == "3600"  # MaxLagSeconds' default, as Ref gives it
    dead = found["stack-dead-letters"]
    assert (dead["Statistic"], dead["ComparisonOperator"], dead["Threshold"]) == (
        "Maximum",
        "GreaterThanThreshold",
        0,
    )


def test_the_quarantine_alarm_watches_the_worst_datasets_quarantined_share() -> None:
    """The math, evaluated on one hour's sums: songs 1 of 10, users 0 of 4, streams 3 of
    100 → 0.1, the songs' share (the quality gate's ratio, per dataset)."""
    alarm = alarms()["stack-quarantine"]
    assert alarm["Threshold"] == "0.1"  # MaxQuarantineRatio's default
    assert alarm["ComparisonOperator"] == "GreaterThanThreshold"
    queries = {q["Id"]: q for q in alarm["Metrics"]}
    [returned] = [q for q in queries.values() if q["ReturnData"]]
    sums = {"RowsQuarantined": {"songs": 1, "users": 0, "streams": 3}}
    sums["RowsRead"] = {"songs": 10, "users": 4, "streams": 100}
    values: dict[str, Any] = {}
    for query_id, query in queries.items():
        if "MetricStat" in query:
            metric = query["MetricStat"]["Metric"]
            [dimension] = metric["Dimensions"]
            assert dimension["Name"] == "Dataset"
            assert (query["MetricStat"]["Stat"], query["MetricStat"]["Period"]) == ("Sum", 3600)
            values[query_id] = sums[metric["MetricName"]][dimension["Value"]]
    assert len(values) == 6  # quarantined and read of songs, users and streams
    for query_id, query in queries.items():  # expressions in the order they depend
        if "Expression" in query:
            expression = query["Expression"].replace("MAX(", "max(")
            assert set(re.findall(r"[a-z]\w*", expression)) <= set(values) | {"max"}
            values[query_id] = eval(expression, {"max": max}, dict(values))
    assert values[returned["Id"]] == pytest.approx(0.1)


def dashboard(names: dict[str, str] = NAMES) -> dict[str, Any]:
    return dict(json.loads(resolved("Dashboard", names)["DashboardBody"]))


@pytest.mark.aws
def test_the_dashboard_is_json_showing_published_metrics_alarms_and_services(
    endpoint: str,
) -> None:
    namespace, listed = published(endpoint)
    body = dashboard(NAMES | {"MetricsNamespace": namespace})
    widgets = body["widgets"]
    [alarm_widget] = [w for w in widgets if w["type"] == "alarm"]
    prefix = f"arn:aws:cloudwatch:us-east-1:{ACCOUNT}:alarm:"
    assert sorted(alarm_widget["properties"]["alarms"]) == sorted(prefix + n for n in ALARMS)
    rows = [row for w in widgets if w["type"] == "metric" for row in w["properties"]["metrics"]]
    assert {w["properties"]["region"] for w in widgets if w["type"] == "metric"} == {"us-east-1"}
    ours, searches, services = set(), [], []
    for row in rows:
        if isinstance(row[0], dict):
            searches.append(row[0]["expression"])
        elif row[0] == namespace:
            names = [p for p in row[1:] if isinstance(p, str)]
            ours.add((namespace, names[0], frozenset(zip(names[1::2], names[2::2], strict=True))))
        else:
            services.append(row)
    assert ours and ours <= listed, ours - listed
    assert {m[1] for m in ours} >= {"RowsKept", "RowsQuarantined", "FreshnessLag"}
    shown = set()
    for expression in searches:  # SEARCH('{"<namespace>",<dimension>} MetricName="<name>"', …)
        found = re.fullmatch(
            r"""SEARCH\('\{"(.+)",(\w+)\} MetricName="(\w+)"','\w+',\d+\)""", expression
        )
        assert found, expression
        assert found[1] == namespace
        assert any(m[1] == found[3] and found[2] in dict(m[2]) for m in listed), expression
        shown.add(found[3])
    assert shown == {"StageDuration", "Runs", "Warnings"}
    function = resolve(RES["ApiFunction"]["Properties"]["FunctionName"], NAMES)
    assert ["AWS/Lambda", "Errors", "FunctionName", function] in services
    dead_letters = ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", DEAD_LETTERS]
    assert [row[:4] for row in services if row[0] == "AWS/SQS"] == [dead_letters]


def test_the_namespace_is_one_parameter_reaching_glue_the_roles_and_the_outputs() -> None:
    ref = {"Ref": "MetricsNamespace"}
    args = RES["GlueJob"]["Properties"]["DefaultArguments"]
    assert args["--metrics_namespace"] == ref
    assert T["Outputs"]["MetricsNamespace"]["Value"] == ref
    for role in ("GlueJobRole", "AirflowRole"):
        [policy] = RES[role]["Properties"]["Policies"]
        [grant] = [s for s in policy["PolicyDocument"]["Statement"] if s["Sid"] == "RunMetrics"]
        assert grant["Condition"] == {"StringEquals": {"cloudwatch:namespace": ref}}, role
    # the Glue entry script reads the job's default arguments into settings
    given = resolve({k: args[k] for k in ("--lake", "--metrics_namespace")}, NAMES)
    options = resolve_options(["glue", *(part for item in given.items() for part in item)])
    assert settings_for(options).metrics_namespace == NAMESPACE


def test_cloudwatch_publishes_to_the_alarm_topic_for_the_stacks_alarms_only() -> None:
    topic = resolved("AlarmTopic")
    assert topic["KmsMasterKeyId"] == ALARM_KEY  # a key of its own, not the data key's
    policy = [resolved("AlarmTopicPolicy")["PolicyDocument"]]
    assert resolved("AlarmTopicPolicy")["Topics"] == [ALARM_TOPIC]

    def publish(principal: str, context: dict[str, str]) -> str:
        return decide(Request(principal, "sns:Publish", ALARM_TOPIC, context), [], policy)

    ours = {"aws:SourceArn": f"arn:aws:cloudwatch:us-east-1:{ACCOUNT}:alarm:stack-lag"}
    assert publish(CLOUDWATCH, ours) == ALLOW
    assert publish(CLOUDWATCH, {**ours, "aws:SecureTransport": "false"}) == DENY
    for other in (
        f"arn:aws:cloudwatch:us-east-1:{ACCOUNT}:alarm:another-stack-lag",
        "arn:aws:cloudwatch:us-east-1:444455556666:alarm:stack-lag",  # another account
    ):
        assert publish(CLOUDWATCH, {"aws:SourceArn": other}) == IMPLICIT, other
    assert publish(CLOUDWATCH, {}) == IMPLICIT
    assert publish("events.amazonaws.com", ours) == IMPLICIT


def test_the_alarm_key_rotates_and_lets_cloudwatch_encrypt_for_the_topic_only() -> None:
    key = RES["AlarmKey"]
    assert key["Properties"]["EnableKeyRotation"] is True
    policy = [resolved("AlarmKey")["KeyPolicy"]]
    for action, decision in [
        ("kms:GenerateDataKey", ALLOW),  # what publishing to an encrypted topic asks
        ("kms:Decrypt", ALLOW),
        ("kms:Encrypt", IMPLICIT),
        ("kms:ReEncryptFrom", IMPLICIT),
        ("kms:CreateGrant", IMPLICIT),
        ("kms:ScheduleKeyDeletion", IMPLICIT),
    ]:
        assert decide(Request(CLOUDWATCH, action, ALARM_KEY), [], policy) == decision, action
    for service in ("events.amazonaws.com", "sns.amazonaws.com", "logs.amazonaws.com"):
        request = Request(service, "kms:Decrypt", ALARM_KEY)
        assert decide(request, [], policy) == IMPLICIT, service
    # and the data key (lake, tables) grants CloudWatch nothing
    data_key = [resolve(RES["DataKey"]["Properties"]["KeyPolicy"], NAMES)]
    key_arn = NAMES["DataKey.Arn"]
    assert decide(Request(CLOUDWATCH, "kms:GenerateDataKey", key_arn), [], data_key) == IMPLICIT


@pytest.mark.aws
def test_the_stack_creates_the_dashboard_topic_and_alarms_that_cloudwatch_accepts(
    stack: Stack, endpoint: str
) -> None:
    """moto creates the dashboard, the key and the topic from the template; it skips the
    alarms, which go through PutMetricAlarm as resolved (so their properties are that
    API's); then a run configured from the outputs publishes what they watch."""
    cloudwatch, names = client("cloudwatch", endpoint), stack.names
    body = json.loads(cloudwatch.get_dashboard(DashboardName=stack.name)["DashboardBody"])
    text = json.dumps(body)
    queue = (
        client("sqs", endpoint)
        .get_queue_attributes(QueueUrl=names["LandingDeadLetters"], AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        .rsplit(":", 1)[1]
    )
    assert f'"{NAMESPACE}"' in text and f'"{queue}"' in text and "${" not in text
    topic = client("sns", endpoint).get_topic_attributes(TopicArn=stack.outputs["AlarmTopicArn"])
    assert topic["Attributes"]["KmsMasterKeyId"] == stack.physical["AlarmKey"]

    names = names | {"LandingDeadLetters.QueueName": queue}
    for resource in stack.template["Resources"].values():
        if resource["Type"] == "AWS::CloudWatch::Alarm":
            props = resolve(resource["Properties"], names)
            props["EvaluationPeriods"] = int(props["EvaluationPeriods"])
            props["Threshold"] = float(props["Threshold"])
            cloudwatch.put_metric_alarm(**props)
    described = cloudwatch.describe_alarms(AlarmNamePrefix=f"{stack.name}-")["MetricAlarms"]
    assert {a["AlarmName"].removeprefix(stack.name) for a in described} == {
        n.removeprefix("stack") for n in ALARMS
    }
    assert {tuple(a["AlarmActions"]) for a in described} == {(stack.outputs["AlarmTopicArn"],)}

    assert stack.outputs["MetricsNamespace"] == NAMESPACE
    settings = load_settings(
        metrics_namespace=stack.outputs["MetricsNamespace"],
        aws_endpoint_url=endpoint,
        aws_region=REGION,
    )
    metrics.publish(settings, OK_RUN)
    listed = {m["MetricName"] for m in cloudwatch.list_metrics(Namespace=NAMESPACE)["Metrics"]}
    for alarm in described:
        metric_names = [alarm.get("MetricName")] + [
            q["MetricStat"]["Metric"]["MetricName"]
            for q in alarm.get("Metrics", [])
            if "MetricStat" in q
        ]
        ours = [n for n in metric_names if n and alarm.get("Namespace") != "AWS/SQS"]
        assert set(ours) <= listed, alarm["AlarmName"]
