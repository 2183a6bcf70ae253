"""Monitoring on AWS: alarms on the per-run metrics (``musicstream/metrics.py``, in the
namespace ``MetricsNamespace`` the run roles may publish to) and on the landing dead-letter
queue, and one dashboard of the pipeline.

Alarms: *freshness* (no run loaded new data for ``FreshnessHours`` hours: no data counts as
breaching, so a pipeline that stopped publishing alarms too), *lag* (a file waited more than
``MaxLagSeconds`` from landing to loaded), *failures* (a run failed), *quarantine* (a
dataset quarantined more than ``MaxQuarantineRatio`` of its rows in an hour: quarantined /
read by metric math, the quality gate's ratio), *dead letters* (a landing event could not be
delivered: ``deploy/events.py``). Each notifies the alarm topic when it fires and when it
clears.

The alarms have a topic of their own: CloudWatch can publish to an encrypted topic only when
the topic's key lets the ``cloudwatch.amazonaws.com`` service use it, which the AWS managed
key of the run topic (``alias/aws/sns``) cannot be made to do. Its key is a key of its own
rather than the data key, so that granting CloudWatch the key does not reach the lake's data;
the topic's policy lets CloudWatch publish for this stack's alarms only.
"""

from __future__ import annotations

import json

from musicstream import metrics
from musicstream.datasets import DATASETS
from musicstream.deploy import events
from musicstream.deploy.cfn import Node, arn, document, ref, statement, sub, tags

NAMESPACE = "MetricsNamespace"  # the parameter
TOPIC, KEY = "AlarmTopic", "AlarmKey"
CLOUDWATCH = "cloudwatch.amazonaws.com"
ALARMS = "${AWS::StackName}-"  # every alarm's name starts with the stack's
HOUR, FIVE_MINUTES = 3600, 300
DEAD_LETTERS_NAME = {"Fn::GetAtt": [events.DEAD_LETTERS, "QueueName"]}

PARAMETERS: dict[str, Node] = {
    NAMESPACE: {
        "Type": "String",
        "Default": "musicstream",
        "Description": "settings metrics_namespace",
        "AllowedPattern": r"^[A-Za-z0-9_.#:/-]{1,255}$",
    },
    "FreshnessHours": {"Type": "Number", "Default": 6, "MinValue": 1, "MaxValue": 24},
    "MaxLagSeconds": {"Type": "Number", "Default": 3600, "MinValue": 60},
    "MaxQuarantineRatio": {"Type": "Number", "Default": 0.1, "MinValue": 0, "MaxValue": 1},
}
OUTPUTS: dict[str, Node] = {
    "MetricsNamespace": {"Description": "settings metrics_namespace", "Value": ref(NAMESPACE)},
    "AlarmTopicArn": {"Description": "subscribe for alarms", "Value": ref(TOPIC)},
}


def _alarm(name: str, description: str, props: Node) -> Node:
    """An alarm named ``<stack>-<name>`` notifying the alarm topic when it fires and clears."""
    actions = [ref(TOPIC)]
    head = {"AlarmName": sub(ALARMS + name), "AlarmDescription": description}
    tail = {"AlarmActions": actions, "OKActions": actions, "EvaluationPeriods": 1}
    return {"Type": "AWS::CloudWatch::Alarm", "Properties": {**head, **tail, **props}}


def _metric(name: str, **dimensions: str) -> Node:
    dims = [{"Name": k, "Value": v} for k, v in dimensions.items()]
    return {"Namespace": ref(NAMESPACE), "MetricName": name, "Dimensions": dims}


def _over(threshold: object, missing: str = "notBreaching") -> Node:
    op = "GreaterThanThreshold"
    return {"Threshold": threshold, "ComparisonOperator": op, "TreatMissingData": missing}


def _quarantine_rate() -> Node:
    """The worst dataset's quarantined / read rows over the hour (metric math)."""
    queries, ratios = [], []
    for i, dataset in enumerate(DATASETS):
        for key, name in (("q", metrics.ROWS["quarantined"]), ("r", metrics.ROWS["read"])):
            stat = {"Metric": _metric(name, Dataset=dataset.name), "Stat": "Sum", "Period": HOUR}
            queries.append({"Id": f"{key}{i}", "MetricStat": stat, "ReturnData": False})
        queries.append({"Id": f"e{i}", "Expression": f"q{i}/r{i}", "ReturnData": False})
        ratios.append(f"e{i}")
    worst = {"Id": "worst", "Expression": f"MAX([{','.join(ratios)}])", "ReturnData": True}
    return {"Metrics": [*queries, worst], **_over(ref("MaxQuarantineRatio"))}


def alarms() -> dict[str, Node]:
    """The five alarms by logical id (``FreshnessAlarm``, …), named ``<stack>-freshness``, …"""
    runs = metrics.RUNS
    fresh = {
        **_metric(runs, Status="ok"),
        "Statistic": "Sum",
        "Period": HOUR,
        "EvaluationPeriods": ref("FreshnessHours"),
        "Threshold": 1,
        "ComparisonOperator": "LessThanThreshold",
        "TreatMissingData": "breaching",  # no run published at all: stale too
    }
    lag = {**_metric(metrics.LAG), "Statistic": "Maximum", "Period": HOUR}
    failed = {**_metric(runs, Status="failed"), "Statistic": "Sum", "Period": FIVE_MINUTES}
    dead = {
        "Namespace": "AWS/SQS",
        "MetricName": "ApproximateNumberOfMessagesVisible",
        "Dimensions": [{"Name": "QueueName", "Value": DEAD_LETTERS_NAME}],
        "Statistic": "Maximum",
        "Period": FIVE_MINUTES,
    }
    found = {
        "freshness": ("no run loaded new data for FreshnessHours", fresh),
        "lag": (
            "a file waited over MaxLagSeconds to be loaded",
            {**lag, **_over(ref("MaxLagSeconds"))},
        ),
        "failures": ("a run failed", {**failed, **_over(0)}),
        "quarantine": ("a dataset quarantined over MaxQuarantineRatio", _quarantine_rate()),
        "dead-letters": ("landing events were not delivered", {**dead, **_over(0)}),
    }
    return {_logical(name): _alarm(name, *spec) for name, spec in found.items()}


def _logical(alarm: str) -> str:
    """``dead-letters`` → ``DeadLettersAlarm``."""
    return "".join(part.title() for part in alarm.split("-")) + "Alarm"


def alarm_topic() -> dict[str, Node]:
    """The alarms' topic, its key and its policy: CloudWatch publishes for this stack's
    alarms (their names start with the stack's), over TLS only."""
    root = sub("arn:${AWS::Partition}:iam::${AWS::AccountId}:root")
    key_policy = document(
        [
            statement("AccountIamPolicies", ["kms:*"], ["*"], principal={"AWS": root}),
            # what publishing to an encrypted topic asks of the publisher (AWS's grant for
            # CloudWatch); the key encrypts nothing but this topic's messages
            statement(
                "CloudWatchAlarms",
                ["kms:Decrypt", "kms:GenerateDataKey*"],
                ["*"],  # in a key policy, "*" is this key
                principal={"Service": CLOUDWATCH},
            ),
        ]
    )
    key = {
        "Type": "AWS::KMS::Key",
        # it encrypts messages in flight only: nothing to keep once the stack goes
        "DeletionPolicy": "Delete",
        "UpdateReplacePolicy": "Delete",
        "Properties": {
            "Description": sub("${AWS::StackName}: alarm notifications"),
            "EnableKeyRotation": True,
            "PendingWindowInDays": 7,
            "KeyPolicy": key_policy,
            "Tags": tags(),
        },
    }
    topic = {
        "Type": "AWS::SNS::Topic",
        "Properties": {
            "TopicName": sub("${AWS::StackName}-alarms"),
            "DisplayName": "musicstream alarms",
            "KmsMasterKeyId": ref(KEY),
            "Tags": tags(),
        },
    }
    publish = statement(
        "CloudWatchAlarms",
        ["sns:Publish"],
        [ref(TOPIC)],
        {"ArnLike": {"aws:SourceArn": arn("cloudwatch", f"alarm:{ALARMS}*")}},
        principal={"Service": CLOUDWATCH},
    )
    tls_only = statement(
        "DenyInsecureTransport",
        ["sns:Publish"],
        [ref(TOPIC)],
        {"Bool": {"aws:SecureTransport": "false"}},
        effect="Deny",
        principal="*",
    )
    policy = {
        "Type": "AWS::SNS::TopicPolicy",
        "Properties": {"Topics": [ref(TOPIC)], "PolicyDocument": document([publish, tls_only])},
    }
    return {KEY: key, TOPIC: topic, f"{TOPIC}Policy": policy}


Row = list[object]
NS = f"${{{NAMESPACE}}}"
ALARM_ARN = "arn:${AWS::Partition}:cloudwatch:${AWS::Region}:${AWS::AccountId}:alarm:" + ALARMS


def _widget(title: str, rows: list[Row], stat: str = "Sum") -> Node:
    props = {"title": title, "region": "${AWS::Region}", "stat": stat, "period": HOUR}
    return {"type": "metric", "width": 12, "properties": {**props, "metrics": rows}}


def _ours(metric: str, **dimensions: str) -> Row:
    return [NS, metric, *(part for item in dimensions.items() for part in item)]


def _search(metric: str, dimension: str, stat: str = "Sum") -> Row:
    """Every metric of that name in the namespace, one line per value of ``dimension``."""
    query = f'{{"{NS}",{dimension}}} MetricName="{metric}"'
    return [{"expression": f"SEARCH('{query}','{stat}',{HOUR})", "id": dimension.lower()}]


def dashboard_body(alarm_names: list[str]) -> str:
    """The dashboard as JSON with ``${…}`` for ``Fn::Sub``: the alarms, rows kept and
    quarantined per dataset, stage durations, lag and run time, runs by status, store items
    and warnings, the landing dead letters and the read API function's errors (empty while
    there is no API)."""
    alarm_list = {"title": "Alarms", "alarms": [ALARM_ARN + name for name in alarm_names]}
    rows = [
        _ours(metrics.ROWS[k], Dataset=d.name) for d in DATASETS for k in ("kept", "quarantined")
    ]
    queue = f"${{{events.DEAD_LETTERS}.QueueName}}"
    services: list[Row] = [
        ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", queue, {"stat": "Maximum"}],
        ["AWS/Lambda", "Errors", "FunctionName", "${AWS::StackName}-api"],
        [".", "Throttles", ".", "."],
    ]
    widgets = [
        {"type": "alarm", "width": 24, "height": 3, "properties": alarm_list},
        _widget("Rows kept and quarantined", rows),
        _widget("Stage duration (s)", [_search(metrics.STAGE_DURATION, "Stage", "Maximum")]),
        _widget(
            "Freshness lag, run duration (s)",
            [_ours(metrics.LAG), _ours(metrics.RUN_DURATION)],
            "Maximum",
        ),
        _widget("Runs by status", [_search(metrics.RUNS, "Status")]),
        _widget(
            "Store items, warnings",
            [_ours(metrics.STORE_ITEMS), _search(metrics.WARNINGS, "Check")],
        ),
        _widget("Landing dead letters, read API errors", services),
    ]
    return json.dumps({"widgets": widgets}, separators=(",", ":"))


def resources() -> dict[str, Node]:
    """The alarm topic with its key and policy, the alarms, the dashboard."""
    watched = alarms()
    names = [a["Properties"]["AlarmName"]["Fn::Sub"].removeprefix(ALARMS) for a in watched.values()]
    body = sub(dashboard_body(names))
    dashboard = {"DashboardName": sub("${AWS::StackName}"), "DashboardBody": body}
    return {
        **alarm_topic(),
        **watched,
        "Dashboard": {"Type": "AWS::CloudWatch::Dashboard", "Properties": dashboard},
    }
