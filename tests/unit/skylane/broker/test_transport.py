"""A failed SQS receive must not end a queue's polling loop (kombu 5.7 lets it)."""

from typing import Any

import boto3
from kombu.transport.virtual import QoS

from skylane.broker.transport import (
    MAX_BACKOFF_SECONDS,
    PREFETCH_MULTIPLIER_OPTION,
    Channel,
    refill_batch,
)


class _Hub:
    def __init__(self) -> None:
        self.later: list[tuple[float, Any]] = []

    def call_later(self, delay: float, callback: Any, *args: Any) -> None:
        self.later.append((delay, args))


def bare_channel() -> Any:
    channel = Channel.__new__(Channel)
    channel._failed_receives = {}
    channel.hub = _Hub()
    return channel


def test_a_failed_receive_counts_as_empty_and_backs_off() -> None:
    channel = bare_channel()
    for _ in range(8):
        assert channel._on_messages_ready("url", "default", ["not", "an", "answer"]) == 0
        channel._loop1("default")
    delays = [delay for delay, _ in channel.hub.later]
    assert delays[:4] == [0.5, 1.0, 2.0, 4.0]
    assert max(delays) == MAX_BACKOFF_SECONDS
    assert all(args == ("default",) for _, args in channel.hub.later)


class _Client:
    def __init__(self, multiplier: int) -> None:
        self.transport_options = {PREFETCH_MULTIPLIER_OPTION: multiplier}


class _Connection:
    polling_interval = 0.1

    def __init__(self, multiplier: int) -> None:
        self.client = _Client(multiplier)


class _Receives:
    """Stands in for the SQS receive: records how many messages each one asked for."""

    def __init__(self, channel: Any) -> None:
        self.asked: list[int] = []
        self._channel = channel

    def __call__(self, queue: str, callback: Any = None) -> None:
        self.asked.append(self._channel._get_message_estimate())


def worker_channel(multiplier: int, processes: int, held: int) -> tuple[Any, _Receives]:
    """A channel as a worker's: a prefetch window of multiplier x processes, `held` in it."""
    channel = bare_channel()
    channel._base_prefetch = 0
    channel._qos = QoS(channel, prefetch_count=multiplier * processes)
    channel._qos.restore_at_shutdown = False  # its fake deliveries are not messages
    for tag in range(held):
        channel.qos._delivered[tag] = object()
    channel._active_queues = ["default"]
    channel.connection = _Connection(multiplier)
    receives = _Receives(channel)
    channel._get_bulk_async = receives
    return channel, receives


def test_a_busy_worker_refills_its_prefetch_window_in_batches() -> None:
    # Two processes, multiplier 4: a window of 8, 6 of them places for waiting messages.
    channel, receives = worker_channel(multiplier=4, processes=2, held=6)
    channel._schedule_queue("default")
    # 2 running, 4 waiting: no receive for just two messages, another look after the interval.
    assert receives.asked == []
    assert channel.hub.later == [(0.1, ("default",))]

    channel.qos._delivered.pop(0)  # a job ended: 3 places free, half of the 6 waiting places
    channel._schedule_queue("default")
    assert receives.asked == [3]


def test_an_idle_worker_and_multiplier_one_receive_as_soon_as_a_place_is_free() -> None:
    idle, idle_receives = worker_channel(multiplier=4, processes=2, held=0)
    idle._schedule_queue("default")
    assert idle_receives.asked == [8]

    one, one_receives = worker_channel(multiplier=1, processes=4, held=3)
    one._schedule_queue("default")
    assert one_receives.asked == [1]


def test_waiting_for_a_batch_never_leaves_a_process_without_a_job() -> None:
    for multiplier in range(1, 11):
        for processes in range(1, 17):
            window = multiplier * processes
            for held in range(window):
                channel, receives = worker_channel(multiplier, processes, held)
                channel._schedule_queue("default")
                if not receives.asked:
                    # Skipped: every process has a job and at least one more is waiting.
                    assert held > processes, (multiplier, processes, held)


def test_the_refill_batch_is_at_most_what_one_receive_returns() -> None:
    assert refill_batch(prefetch_count=8, multiplier=4) == 3
    assert refill_batch(prefetch_count=2, multiplier=1) == 1
    assert refill_batch(prefetch_count=160, multiplier=10) == 10


class _HeldMessage:
    def __init__(self, received: dict[str, Any], queue_url: str) -> None:
        self.delivery_info = {"sqs_message": received, "sqs_queue": queue_url}
        self.headers = {"id": "job-1", "task": "skylane.send_email"}


def test_a_held_message_is_given_back_not_copied(aws: dict[str, Any]) -> None:
    """A warm shutdown returns its prefetched messages: each must come back once, at once."""
    sqs = boto3.client("sqs", region_name="us-east-1")
    queue_url = aws["DEFAULT_QUEUE_URL"]
    sqs.send_message(QueueUrl=queue_url, MessageBody="job-1")
    held = sqs.receive_message(QueueUrl=queue_url, VisibilityTimeout=300)["Messages"][0]

    bare_channel()._restore(_HeldMessage(held, queue_url))

    again = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10)["Messages"]
    assert [m["MessageId"] for m in again] == [held["MessageId"]]
    assert sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages") is None


def test_a_message_that_cannot_be_given_back_waits_out_its_timeout(aws: dict[str, Any]) -> None:
    sqs = boto3.client("sqs", region_name="us-east-1")
    queue_url = aws["DEFAULT_QUEUE_URL"]
    sqs.send_message(QueueUrl=queue_url, MessageBody="job-1")
    held = sqs.receive_message(QueueUrl=queue_url, VisibilityTimeout=300)["Messages"][0]
    stale = {**held, "ReceiptHandle": "not-a-receipt-handle"}

    bare_channel()._restore(_HeldMessage(stale, queue_url))  # logged, not raised

    # Still hidden, and no copy was published: it returns once, after its timeout.
    assert sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages") is None
