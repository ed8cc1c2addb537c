"""A worker's acknowledged messages are deleted ten to a request, within a second, and at
close; a delete that fails is logged, and its message is not lost (it comes back)."""

import logging
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from kombu.transport.virtual import QoS

from skylane.broker.deletes import MAX_WAIT_SECONDS, DeleteBuffer
from skylane.broker.transport import Channel

REGION = "us-east-1"


class CountingSqs:
    """The real (moto) SQS client, counting the requests made through it."""

    def __init__(self) -> None:
        self.client = boto3.client("sqs", region_name=REGION)
        self.batches: list[int] = []

    def delete_message_batch(self, **request: Any) -> Any:
        self.batches.append(len(request["Entries"]))
        return self.client.delete_message_batch(**request)


def received(queue_url: str, count: int) -> list[dict[str, Any]]:
    sqs = boto3.client("sqs", region_name=REGION)
    for n in range(count):
        sqs.send_message(QueueUrl=queue_url, MessageBody=f"job-{n}")
    messages: list[dict[str, Any]] = []
    while len(messages) < count:
        answer = sqs.receive_message(
            QueueUrl=queue_url, MaxNumberOfMessages=10, VisibilityTimeout=300
        )
        messages += answer.get("Messages", [])
    return messages


def left_in(queue_url: str) -> int:
    attributes = boto3.client("sqs", region_name=REGION).get_queue_attributes(
        QueueUrl=queue_url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) + int(
        attributes["ApproximateNumberOfMessagesNotVisible"]
    )


def test_deletes_go_ten_to_a_request(aws: dict[str, Any]) -> None:
    queue_url = aws["DEFAULT_QUEUE_URL"]
    sqs = CountingSqs()
    buffer = DeleteBuffer(lambda: sqs)

    for message in received(queue_url, 23):
        buffer.add(queue_url, message["ReceiptHandle"], message["Body"])
    assert sqs.batches == [10, 10]
    assert len(buffer) == 3
    buffer.flush()

    assert sqs.batches == [10, 10, 3]
    assert len(buffer) == 0
    assert left_in(queue_url) == 0


def test_a_failed_delete_is_logged_and_its_message_comes_back(
    aws: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    queue_url = aws["DEFAULT_QUEUE_URL"]
    [message] = received(queue_url, 1)
    sqs = boto3.client("sqs", region_name=REGION)
    buffer = DeleteBuffer(lambda: sqs)
    buffer.add(queue_url, message["ReceiptHandle"], "job-kept")
    buffer.add(queue_url, "not-a-receipt-handle", "job-stale")
    caplog.set_level(logging.WARNING)

    buffer.flush()

    stale = [r for r in caplog.records if getattr(r, "job_id", None) == "job-stale"]
    assert [r.getMessage() for r in stale] == [
        "acknowledged message not deleted; SQS gives it back after its visibility timeout "
        "and the worker drops it as finished"
    ]
    assert left_in(queue_url) == 0


def test_sqs_down_during_a_delete_is_logged_not_raised(
    aws: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    queue_url = aws["DEFAULT_QUEUE_URL"]
    [message] = received(queue_url, 1)
    sqs = boto3.client("sqs", region_name=REGION)
    stubber = Stubber(sqs)
    stubber.add_client_error("delete_message_batch", service_error_code="ServiceUnavailable")
    stubber.activate()
    buffer = DeleteBuffer(lambda: sqs)
    buffer.add(queue_url, message["ReceiptHandle"], "job-1")
    caplog.set_level(logging.WARNING)

    buffer.flush()

    [warning] = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert warning.getMessage().startswith("acknowledged messages not deleted")
    assert warning.job_ids == ["job-1"]  # type: ignore[attr-defined]
    assert left_in(queue_url) == 1


class _Hub:
    def __init__(self) -> None:
        self.later: list[tuple[float, Any]] = []

    def call_later(self, delay: float, callback: Any, *args: Any) -> None:
        self.later.append((delay, callback))

    def run_due(self) -> None:
        due, self.later = self.later, []
        for _, callback in due:
            callback()


class _Delivery:
    def __init__(self, message: dict[str, Any], queue_url: str) -> None:
        self.delivery_info = {"sqs_message": message, "sqs_queue": queue_url}
        self.headers = {"id": message["Body"], "task": "skylane.send_email"}


def worker_channel(hub: _Hub | None) -> Any:
    """A channel as a worker's main process has it: an event loop, deliveries in its QoS."""
    channel = Channel.__new__(Channel)
    channel._failed_receives = {}
    channel._deletes = DeleteBuffer(lambda: boto3.client("sqs", region_name=REGION))
    channel._deletes_due = False
    channel._parked = {}
    channel.hub = hub
    channel._qos = QoS(channel, prefetch_count=8)
    channel._qos.restore_at_shutdown = False
    return channel


def test_a_workers_acks_wait_at_most_a_second_then_go_in_one_request(
    aws: dict[str, Any],
) -> None:
    queue_url = aws["DEFAULT_QUEUE_URL"]
    hub = _Hub()
    channel = worker_channel(hub)
    for tag, message in enumerate(received(queue_url, 4)):
        channel.qos.append(_Delivery(message, queue_url), tag)
        channel.basic_ack(tag)

    # Each ack freed its prefetch slot at once; the deletes wait for the one timer.
    assert channel.qos.can_consume_max_estimate() == 8
    assert left_in(queue_url) == 4
    assert [delay for delay, _ in hub.later] == [MAX_WAIT_SECONDS]

    hub.run_due()

    assert left_in(queue_url) == 0


def test_closing_the_channel_sends_the_deletes_waiting(
    aws: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    queue_url = aws["DEFAULT_QUEUE_URL"]
    channel = worker_channel(_Hub())
    for tag, message in enumerate(received(queue_url, 3)):
        channel.qos.append(_Delivery(message, queue_url), tag)
        channel.basic_ack(tag)
    # kombu's own close needs a live connection; this channel has none.
    closed: list[bool] = []
    monkeypatch.setattr("kombu.transport.SQS.Channel.close", lambda self: closed.append(True))

    channel.close()

    assert closed == [True]
    assert left_in(queue_url) == 0


def test_without_an_event_loop_an_ack_deletes_at_once(
    aws: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    queue_url = aws["DEFAULT_QUEUE_URL"]
    channel = worker_channel(None)
    deleted: list[Any] = []
    monkeypatch.setattr(
        "kombu.transport.SQS.Channel.basic_ack",
        lambda self, tag, multiple=False: deleted.append(tag),
    )
    [message] = received(queue_url, 1)
    channel.qos.append(_Delivery(message, queue_url), "tag-1")

    channel.basic_ack("tag-1")

    assert deleted == ["tag-1"]
    assert len(channel._deletes) == 0
