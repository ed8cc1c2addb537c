"""A failed SQS receive must not end a queue's polling loop (kombu 5.7 lets it)."""

import socket
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from kombu.asynchronous import Hub
from kombu.transport import SQS
from kombu.transport.virtual import QoS

from skylane.broker.deletes import DeleteBuffer
from skylane.broker.transport import (
    MAX_BACKOFF_SECONDS,
    PREFETCH_MULTIPLIER_OPTION,
    Channel,
    refill_batch,
)


class _Timer:
    def __init__(self, delay: float, callback: Any, args: tuple[Any, ...]) -> None:
        self.delay, self.callback, self.args = delay, callback, args
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


class _Hub:
    """kombu's event loop, run by hand: what is due runs when the test says so."""

    def __init__(self) -> None:
        self.timers: list[_Timer] = []
        self.soon: list[tuple[Any, tuple[Any, ...]]] = []

    @property
    def later(self) -> list[tuple[float, Any]]:
        return [(t.delay, t.args) for t in self.timers if not t.cancelled]

    def call_later(self, delay: float, callback: Any, *args: Any) -> _Timer:
        timer = _Timer(delay, callback, args)
        self.timers.append(timer)
        return timer

    def call_soon(self, callback: Any, *args: Any) -> None:
        self.soon.append((callback, args))

    def run_ready(self) -> None:
        ready, self.soon = self.soon, []
        for callback, args in ready:
            callback(*args)

    def fire_timers(self) -> None:
        due = [t for t in self.timers if not t.cancelled]
        self.timers = []
        for timer in due:
            timer.callback(*timer.args)


def bare_channel() -> Any:
    channel = Channel.__new__(Channel)
    channel._failed_receives = {}
    channel._parked = {}
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


class _Delivery:
    def __init__(self, delivery_info: dict[str, Any]) -> None:
        self.delivery_info = delivery_info
        self.headers = {"id": "job-1", "task": "skylane.send_email"}
        self.properties: dict[str, Any] = {}


@pytest.fixture
def looping_channel() -> Iterator[Callable[[dict[str, Any]], tuple[Any, _Receives]]]:
    """A channel on kombu's own event loop, as a worker's main process runs it: one process,
    multiplier 1, its one place held by a job; the polling interval far off."""
    hub = Hub()
    # Something for the loop to poll that answers at once, so one pass ends without waiting.
    reader, writer = socket.socketpair()
    hub.add_reader(reader, lambda: reader.recv(1))
    writer.send(b"x")

    def make(delivery_info: dict[str, Any]) -> tuple[Any, _Receives]:
        channel, receives = worker_channel(multiplier=1, processes=1, held=0)
        channel.hub = hub
        channel._qos = SQS.QoS(channel, prefetch_count=1)
        channel._qos.restore_at_shutdown = False
        channel.qos.append(_Delivery(delivery_info), 0)
        channel.connection.polling_interval = 30.0
        channel._deletes = DeleteBuffer(lambda: boto3.client("sqs", region_name="us-east-1"))
        channel._deletes_due = False
        return channel, receives

    yield make
    hub.close()
    reader.close()
    writer.close()


def one_pass_after(channel: Any, acknowledge: Any) -> None:
    """Celery acknowledges from the loop's ready callbacks; run that pass of the loop."""
    channel.hub.call_soon(acknowledge)
    next(channel.hub.loop)


def test_an_acknowledged_job_starts_the_next_receive_before_the_loop_polls_again(
    aws: dict[str, Any], looping_channel: Any
) -> None:
    """kombu looks at a full window again only after the polling interval: each process that
    finished a short job idled half an interval, on average, before its next receive began."""
    queue_url = aws["DEFAULT_QUEUE_URL"]
    sqs = boto3.client("sqs", region_name="us-east-1")
    sqs.send_message(QueueUrl=queue_url, MessageBody="job-1")
    received = sqs.receive_message(QueueUrl=queue_url)["Messages"][0]
    channel, receives = looping_channel({"sqs_message": received, "sqs_queue": queue_url})
    channel._schedule_queue("default")
    assert receives.asked == []  # the window is full: parked until a place is free

    one_pass_after(channel, lambda: channel.basic_ack(0))

    assert receives.asked == [1]
    assert channel._parked == {}


def test_a_rejected_job_frees_its_place_as_promptly(looping_channel: Any) -> None:
    channel, receives = looping_channel({})
    channel._schedule_queue("default")
    assert receives.asked == []

    one_pass_after(channel, lambda: channel.basic_reject(0))

    assert receives.asked == [1]


def test_one_free_place_wakes_every_parked_queue() -> None:
    channel, receives = worker_channel(multiplier=1, processes=2, held=2)
    channel._active_queues = ["high", "default"]
    channel._schedule_queue("high")
    channel._schedule_queue("default")
    assert sorted(channel._parked) == ["default", "high"]

    channel.qos._delivered.pop(0)
    channel._wake_parked()
    channel.hub.fire_timers()

    assert receives.asked == [1, 1]  # each may take the place; the first message wins it
    assert channel.hub.later == []


def test_a_parked_queue_still_looks_again_after_the_interval() -> None:
    channel, receives = worker_channel(multiplier=1, processes=2, held=2)
    channel._schedule_queue("default")
    channel.qos._delivered.pop(0)  # freed without an acknowledgement through this channel
    channel.hub.fire_timers()
    assert receives.asked == [1]


def test_a_queue_no_longer_consumed_stops_looking() -> None:
    channel, receives = worker_channel(multiplier=1, processes=2, held=2)
    channel._schedule_queue("default")
    channel._active_queues = []
    channel.hub.fire_timers()
    assert receives.asked == []
    assert channel.hub.later == []
