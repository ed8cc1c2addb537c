"""The local stand-in for Lambda's SQS event source (infra/light_lane_runner.py), on moto's SQS."""

import hashlib
import json
from typing import Any

import boto3
import pytest

from infra.light_lane_runner import (
    EventSource,
    describe,
    run_batch,
    sqs_event_batch_size,
)
from infra.schedules import load_template

WAIT = 0


@pytest.fixture
def source(aws: dict[str, Any]) -> EventSource:
    sqs = boto3.client("sqs")
    dlq = sqs.create_queue(QueueName="runner-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    url = sqs.create_queue(
        QueueName="runner-light",
        Attributes={
            "VisibilityTimeout": "0",
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "2"}),
        },
    )["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    return EventSource(queue_url=url, queue_arn=arn, region="us-east-1", batch_size=10)


def waiting(url: str) -> int:
    attributes = boto3.client("sqs").get_queue_attributes(
        QueueUrl=url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) + int(
        attributes["ApproximateNumberOfMessagesNotVisible"]
    )


def test_the_event_is_lambdas_sqs_event(source: EventSource) -> None:
    sqs = boto3.client("sqs")
    sqs.send_message(
        QueueUrl=source.queue_url,
        MessageBody="hello",
        MessageAttributes={"kind": {"DataType": "String", "StringValue": "greeting"}},
    )
    events: list[dict[str, Any]] = []

    run_batch(sqs, source, lambda event: events.append(event) or {"batchItemFailures": []}, WAIT)

    (record,) = events[0]["Records"]
    assert record["body"] == "hello"
    assert record["md5OfBody"] == hashlib.md5(b"hello").hexdigest()  # noqa: S324
    assert record["eventSource"] == "aws:sqs"
    assert record["eventSourceARN"] == source.queue_arn
    assert record["awsRegion"] == "us-east-1"
    assert record["receiptHandle"]
    assert record["attributes"]["ApproximateReceiveCount"] == "1"
    assert {"SentTimestamp", "ApproximateFirstReceiveTimestamp"} <= set(record["attributes"])
    assert record["messageAttributes"]["kind"]["stringValue"] == "greeting"
    assert record["messageAttributes"]["kind"]["dataType"] == "String"


def test_reported_failures_stay_and_reach_the_dead_letter_queue(source: EventSource) -> None:
    sqs = boto3.client("sqs")
    for body in ("good", "bad"):
        sqs.send_message(QueueUrl=source.queue_url, MessageBody=body)

    def invoke(event: dict[str, Any]) -> dict[str, Any]:
        failed = [r["messageId"] for r in event["Records"] if r["body"] == "bad"]
        return {"batchItemFailures": [{"itemIdentifier": i} for i in failed]}

    first = run_batch(sqs, source, invoke, WAIT)
    assert (first.received, first.deleted, len(first.failed)) == (2, 1, 1)
    assert "left for redelivery" in describe(first)
    assert waiting(source.queue_url) == 1
    # The second receive is the last maxReceiveCount allows; the next one finds it moved.
    second = run_batch(sqs, source, invoke, WAIT)
    third = run_batch(sqs, source, invoke, WAIT)
    assert (second.received, third.received) == (1, 0)
    dlq = sqs.get_queue_url(QueueName="runner-dlq")["QueueUrl"]
    moved = sqs.receive_message(QueueUrl=dlq)["Messages"]
    assert [message["Body"] for message in moved] == ["bad"]


def test_an_invocation_that_fails_leaves_the_whole_batch(source: EventSource) -> None:
    sqs = boto3.client("sqs")
    sqs.send_message(QueueUrl=source.queue_url, MessageBody="any")

    def crash(event: dict[str, Any]) -> Any:
        raise RuntimeError("import error")

    outcome = run_batch(sqs, source, crash, WAIT)

    assert (outcome.deleted, len(outcome.failed)) == (0, 1)
    assert "invocation failed" in describe(outcome)
    assert waiting(source.queue_url) == 1


def test_the_batch_size_is_the_templates() -> None:
    assert sqs_event_batch_size(load_template(), "LightFunction") == 10
