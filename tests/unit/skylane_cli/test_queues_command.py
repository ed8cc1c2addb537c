"""``skylane queues``: the queues come from the stack's outputs; counts from SQS (moto)."""

import json
from typing import Any

import boto3
import pytest

from skylane.queues.pairs import from_stack_outputs
from skylane_cli import main as cli
from skylane_cli import queues as queues_cli
from skylane_cli.queues import QueueCounts, count
from skylane_cli.stack_target import StackTarget


@pytest.fixture
def stack(aws: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> StackTarget:
    sqs = boto3.client("sqs", region_name="us-east-1")
    outputs = {
        "HighQueueUrl": aws["HIGH_QUEUE_URL"],
        "HighDeadLetterQueueUrl": aws["HIGH_DLQ_URL"],
        "ScheduleDeadLetterQueueUrl": sqs.create_queue(QueueName="schedules-dlq")["QueueUrl"],
    }
    target = StackTarget(name="skylane-test", region="us-east-1", outputs=outputs, api_url=None)
    # The moto mock is in this process: a deployed-style target reaches it.
    monkeypatch.setattr(queues_cli, "target_from", lambda args: target)
    return target


def test_counts_visible_in_flight_delayed_and_dead_letters(stack: StackTarget) -> None:
    sqs = boto3.client("sqs", region_name="us-east-1")
    high, high_dlq = stack.outputs["HighQueueUrl"], stack.outputs["HighDeadLetterQueueUrl"]
    for body in ("a", "b", "c"):
        sqs.send_message(QueueUrl=high, MessageBody=body)
    sqs.send_message(QueueUrl=high, MessageBody="later", DelaySeconds=900)
    sqs.receive_message(QueueUrl=high, MaxNumberOfMessages=1, VisibilityTimeout=600)
    sqs.send_message(QueueUrl=high_dlq, MessageBody="poison")
    sqs.send_message(QueueUrl=high_dlq, MessageBody="poison 2")
    # Someone looking at a dead letter does not hide it from the count.
    sqs.receive_message(QueueUrl=high_dlq, MaxNumberOfMessages=1, VisibilityTimeout=600)

    rows = count(sqs, from_stack_outputs(stack.outputs))
    assert rows == [
        QueueCounts("high", visible=2, in_flight=1, delayed=1, dead_letters=2),
        QueueCounts("schedule", visible=None, in_flight=None, delayed=None, dead_letters=0),
    ]


def test_json_for_scripts(stack: StackTarget, capsys: pytest.CaptureFixture[str]) -> None:
    boto3.client("sqs", region_name="us-east-1").send_message(
        QueueUrl=stack.outputs["HighDeadLetterQueueUrl"], MessageBody="poison"
    )
    assert cli.main(["queues", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {
        "high": {"visible": 0, "in_flight": 0, "delayed": 0, "dead_letters": 1},
        "schedule": {"visible": None, "in_flight": None, "delayed": None, "dead_letters": 0},
    }


def test_the_table_names_every_queue(
    stack: StackTarget, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["queues"]) == 0
    out = capsys.readouterr().out
    assert "queues of skylane-test" in out
    for word in ("high", "schedule", "visible", "in flight", "delayed", "dead letters"):
        assert word in out


def test_sqs_unreachable_is_one_line(
    stack: StackTarget, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from botocore.exceptions import EndpointConnectionError

    class DownSqs:
        def get_queue_attributes(self, **kwargs: Any) -> Any:
            raise EndpointConnectionError(endpoint_url="http://sqs.test")

    monkeypatch.setattr(StackTarget, "client", lambda self, service: DownSqs())
    assert cli.main(["queues"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("skylane: SQS could not be read: Could not connect")
    assert err.count("\n") == 1
