from types import SimpleNamespace
from typing import Any

import boto3
import pytest

from skylane.broker.visibility import HeldMessage, VisibilityKeeper, extend, held_messages
from skylane.jobs.contracts import SEND_EMAIL
from tests.unit.log_capture import capture


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def delivery(handle: str, queue_url: str, task: str | None) -> SimpleNamespace:
    info = {"sqs_message": {"ReceiptHandle": handle}, "sqs_queue": queue_url}
    return SimpleNamespace(delivery_info=info, headers={"task": task} if task else {})


def test_held_messages_are_the_unacked_sqs_deliveries() -> None:
    delivered = {
        "h1": delivery("h1", "q-default", SEND_EMAIL.name),
        "h2": delivery("h2", "q-high", None),
        "acked": delivery("acked", "q-default", SEND_EMAIL.name),
        "not-sqs": SimpleNamespace(delivery_info={}, headers={}),
    }

    assert held_messages(delivered, acked={"acked"}) == [
        HeldMessage("h1", "q-default", SEND_EMAIL.name),
        HeldMessage("h2", "q-high", None),
    ]


def test_messages_are_extended_by_queue_until_their_tasks_hard_limit() -> None:
    clock = Clock()
    keeper = VisibilityKeeper(clock)
    first = HeldMessage("a", "q-default", SEND_EMAIL.name)
    other_queue = HeldMessage("b", "q-high", "skylane.generate_report")
    unknown = HeldMessage("c", "q-default", "skylane.nobody")

    assert keeper.due([first, other_queue, unknown]) == {"q-default": ["a"], "q-high": ["b"]}

    clock.now += SEND_EMAIL.time_limit - 1
    later = HeldMessage("d", "q-default", SEND_EMAIL.name)
    assert keeper.due([first, later]) == {"q-default": ["a", "d"]}

    # Past send_email's 60 s hard limit since first seen: "a" is left to reappear.
    clock.now += 1
    assert keeper.due([first, later]) == {"q-default": ["d"]}


def test_a_message_acked_and_received_again_starts_a_new_window() -> None:
    clock = Clock()
    keeper = VisibilityKeeper(clock)
    message = HeldMessage("a", "q", SEND_EMAIL.name)
    keeper.due([message])
    clock.now += SEND_EMAIL.time_limit
    keeper.due([])

    assert keeper.due([message]) == {"q": ["a"]}


def test_extend_changes_visibility_in_batches_of_ten(aws: dict[str, Any]) -> None:
    sqs = boto3.client("sqs", region_name="us-east-1")
    queue_url = aws["DEFAULT_QUEUE_URL"]
    for n in range(12):
        sqs.send_message(QueueUrl=queue_url, MessageBody=str(n))
    handles = []
    while len(handles) < 12:
        received = sqs.receive_message(
            QueueUrl=queue_url, MaxNumberOfMessages=10, VisibilityTimeout=1
        )
        handles += [m["ReceiptHandle"] for m in received.get("Messages", [])]
    calls: list[int] = []
    real = sqs.change_message_visibility_batch

    def counting(**kwargs: Any) -> Any:
        calls.append(len(kwargs["Entries"]))
        return real(**kwargs)

    sqs.change_message_visibility_batch = counting  # type: ignore[method-assign]

    assert extend(sqs, {queue_url: handles}, 600) == 12
    assert calls == [10, 2]
    attributes = sqs.get_queue_attributes(
        QueueUrl=queue_url, AttributeNames=["ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    assert attributes["ApproximateNumberOfMessagesNotVisible"] == "12"


def test_a_failed_extension_is_logged_not_raised(aws: dict[str, Any]) -> None:
    sqs = boto3.client("sqs", region_name="us-east-1")

    assert extend(sqs, {aws["DEFAULT_QUEUE_URL"]: ["no-such-handle"]}, 600) == 0


def test_a_failed_extension_names_the_job_it_concerns(
    aws: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    sqs = boto3.client("sqs", region_name="us-east-1")
    with capture(monkeypatch) as captured:
        extend(sqs, {aws["DEFAULT_QUEUE_URL"]: ["no-such-handle"]}, 600, {"no-such-handle": "j-7"})

    warnings = [line for line in captured.lines() if line["message"] == "visibility not extended"]
    assert warnings
    assert all("j-7" in (line.get("job_ids") or [line.get("job_id")]) for line in warnings)


def test_held_messages_know_their_job_id() -> None:
    message = delivery("h1", "q-default", SEND_EMAIL.name)
    message.headers["id"] = "job-9"

    assert [held.job_id for held in held_messages({"h1": message})] == ["job-9"]
