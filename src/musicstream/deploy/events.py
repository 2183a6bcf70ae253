"""Event-driven runs (SPEC §7): every object created under the lake's ``landing/`` reaches an
SQS queue, and the Airflow DAG's asset watcher wakes up on that queue
(``jobs/airflow_dag.py``); the DAG's time schedule stays as the fallback.

S3 → EventBridge → SQS: the lake bucket sends its events to the account's default event
bus (``EventBridgeConfiguration``: no destination named, so nothing the bucket must wait
for), and :data:`RULE` there takes the lake bucket's "Object Created" events under
``landing/`` to the queue. The rule has a fixed name (:data:`RULE_NAME`, at most 64
characters: a stack name of at most 56) because the data key's policy names it, and the
key cannot wait for the rule: the rule targets the queue, which the key encrypts.

A message is only a wake-up call (bucket, key, size): the landing files stay the truth, so
a message lost, expired or dead-lettered delays a batch until the next scheduled run and
never loses one. The queue is encrypted with the stack's key, which EventBridge may use for
this rule only (:func:`key_statement`); only EventBridge, for this rule, may send to it;
everything over TLS; only the Airflow role receives (``access.py``: no other role is
granted the queue). A message EventBridge could not deliver within :data:`MAX_EVENT_AGE_S`,
or one received :data:`MAX_RECEIVES` times and never deleted, goes to a dead-letter queue,
kept 14 days to be looked at.
"""

from __future__ import annotations

from musicstream import layout
from musicstream.deploy.cfn import (
    DATA_KEY,
    LAKE,
    Node,
    arn,
    arn_of,
    document,
    ref,
    statement,
    sub,
    tags,
)

QUEUE = "LandingQueue"
DEAD_LETTERS = "LandingDeadLetters"
QUEUE_POLICY = f"{QUEUE}Policy"
RULE = "LandingRule"
RULE_NAME = "${AWS::StackName}-landing"
EVENTS = "events.amazonaws.com"  # the service principal EventBridge delivers as
MAX_RECEIVES = 5  # then to the dead-letter queue: a trigger that keeps failing on it
# An hour late a wake-up is moot (the fallback run, hourly by default, took the file).
MAX_EVENT_AGE_S = 3600
DAY_S = 24 * 3600
LANDING_PREFIX = f"{LAKE}/{layout.LANDING}/"

OUTPUTS: dict[str, Node] = {
    "LandingQueueUrl": {
        "Description": "MUSICSTREAM_AIRFLOW_QUEUE_URL (event-driven runs)",
        "Value": ref(QUEUE),
    },
}


def rule_arn() -> Node:
    """The rule's ARN by its name, for the policies the rule's targets depend on."""
    return arn("events", f"rule/{RULE_NAME}")


def _from_the_rule() -> Node:
    """The condition naming the landing rule as the source of a request: its ARN holds the
    account. Only aws:SourceArn, as AWS's EventBridge → SQS example has it: a key the
    service might not send (aws:SourceAccount) would refuse every delivery, silently."""
    return {"ArnEquals": {"aws:SourceArn": rule_arn()}}


def bucket_notifications() -> Node:
    """The lake bucket's NotificationConfiguration: all its events to EventBridge."""
    return {"EventBridgeConfiguration": {"EventBridgeEnabled": True}}


def landing_rule() -> Node:
    """On the default bus: the lake bucket's objects created under landing/ → the queue;
    what EventBridge cannot deliver within the hour → the dead-letter queue."""
    pattern = {
        "source": ["aws.s3"],
        "detail-type": ["Object Created"],
        "detail": {
            "bucket": {"name": [ref("LakeBucket")]},
            "object": {"key": [{"prefix": LANDING_PREFIX}]},
        },
    }
    target = {
        "Id": QUEUE,
        "Arn": arn_of(QUEUE),
        "DeadLetterConfig": {"Arn": arn_of(DEAD_LETTERS)},
        "RetryPolicy": {"MaximumEventAgeInSeconds": MAX_EVENT_AGE_S},
    }
    properties = {
        "Name": sub(RULE_NAME),
        "Description": f"musicstream: objects created under {LANDING_PREFIX}, to the queue",
        "State": "ENABLED",
        "EventPattern": pattern,
        "Targets": [target],
    }
    return {"Type": "AWS::Events::Rule", "Properties": properties}


def key_statement() -> Node:
    """For the data key's policy: EventBridge may encrypt messages to the queues (and
    decrypt, as SQS asks it to) on behalf of the landing rule only."""
    return statement(
        "LandingEvents",
        ["kms:Decrypt", "kms:GenerateDataKey"],
        ["*"],  # in a key policy, "*" is this key
        _from_the_rule(),
        principal={"Service": EVENTS},
    )


def _queue(retention_days: int, **props: object) -> Node:
    properties = {
        "KmsMasterKeyId": arn_of(DATA_KEY),
        "MessageRetentionPeriod": retention_days * DAY_S,
        **props,
        "Tags": tags(),
    }
    # unlike the lake's and the tables' data, its messages may go with the stack: the
    # landing files they announce stay in the bucket
    delete = {"DeletionPolicy": "Delete", "UpdateReplacePolicy": "Delete"}
    return {"Type": "AWS::SQS::Queue", **delete, "Properties": properties}


def _queue_policy(queue: str, *extra: Node) -> Node:
    """EventBridge may send for the landing rule; ``extra`` statements; TLS only."""
    rule = statement(
        "LandingEvents",
        ["sqs:SendMessage"],
        [arn_of(queue)],
        _from_the_rule(),
        principal={"Service": EVENTS},
    )
    tls_only = statement(
        "DenyInsecureTransport",
        ["sqs:*"],
        [arn_of(queue)],
        {"Bool": {"aws:SecureTransport": "false"}},
        effect="Deny",
        principal="*",
    )
    return {
        "Type": "AWS::SQS::QueuePolicy",
        "Properties": {
            "Queues": [ref(queue)],
            "PolicyDocument": document([rule, *extra, tls_only]),
        },
    }


def resources() -> dict[str, Node]:
    """The two queues, their policies and the rule. Nobody but the rule may send to the
    landing queue, even with an IAM grant (``sqs:*`` in a Deny widens the Deny only); the
    dead-letter queue has no such Deny, so as not to stand in the way of SQS moving
    messages there."""
    others = statement(
        "DenyOtherSenders",
        ["sqs:SendMessage"],
        [arn_of(QUEUE)],
        {"ArnNotEquals": {"aws:SourceArn": rule_arn()}},
        effect="Deny",
        principal="*",
    )
    redrive = {"deadLetterTargetArn": arn_of(DEAD_LETTERS), "maxReceiveCount": MAX_RECEIVES}
    return {
        DEAD_LETTERS: _queue(14),  # the longest SQS keeps a message
        f"{DEAD_LETTERS}Policy": _queue_policy(DEAD_LETTERS),
        # long polling: a receive waits up to 20 s for a message instead of returning empty
        QUEUE: _queue(4, ReceiveMessageWaitTimeSeconds=20, RedrivePolicy=redrive),
        QUEUE_POLICY: _queue_policy(QUEUE, others),
        RULE: landing_rule(),
    }
