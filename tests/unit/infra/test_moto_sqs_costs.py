"""moto's SQS behaves as before with infra/moto_sqs_costs.py installed (start_moto installs it).

What it saves is the emulator's CPU per message, which `make bench` shows; these tests hold
that nothing a client sees has changed, and fail first when a moto upgrade moves what it
replaces.
"""

import inspect
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from moto.core import DEFAULT_ACCOUNT_ID
from moto.sqs import models

from infra import moto_sqs_costs
from infra.emulator import Emulator, start_moto

REGION = "us-east-1"


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    started = start_moto(port=0)
    yield started
    started.stop()


def new_queue(emulator: Emulator, name: str, **attributes: str) -> tuple[Any, str]:
    sqs = emulator.endpoint.client("sqs")
    url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
    return sqs, url


def test_the_functions_it_replaces_keep_their_parameters() -> None:
    checked = models.SQSBackend.is_message_valid_based_on_retention_period
    assert list(inspect.signature(checked).parameters) == ["self", "queue_name", "message"]
    assert list(inspect.signature(moto_sqs_costs._moto_unix_time_millis).parameters) == ["dt"]


def test_its_clock_reads_what_motos_reads() -> None:
    moment = datetime(2026, 12, 7, 12, 0, 0, 250_000)
    assert moto_sqs_costs._unix_time_millis(moment) == moto_sqs_costs._moto_unix_time_millis(moment)
    assert abs(moto_sqs_costs._unix_time_millis() - time.time() * 1000) < 1000
    assert abs(moto_sqs_costs._unix_time_millis() - datetime.now(UTC).timestamp() * 1000) < 1000


def test_a_message_past_its_queues_retention_period_is_never_received(
    emulator: Emulator,
) -> None:
    sqs, url = new_queue(emulator, "retention", MessageRetentionPeriod="60")
    sqs.send_message(QueueUrl=url, MessageBody="old")
    queue = models.sqs_backends[DEFAULT_ACCOUNT_ID][REGION].get_queue("retention")
    queue._messages[0].sent_timestamp -= 61_000  # sent 61 s ago, against a period of 60 s

    assert sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages") is None

    sqs.send_message(QueueUrl=url, MessageBody="new")
    received = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    assert [m["Body"] for m in received] == ["new"]


def test_delays_and_visibility_timeouts_still_hide_messages(emulator: Emulator) -> None:
    sqs, url = new_queue(emulator, "hiding")
    sqs.send_message(QueueUrl=url, MessageBody="delayed", DelaySeconds=2)
    sqs.send_message(QueueUrl=url, MessageBody="ready")

    [ready] = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=2)[
        "Messages"
    ]
    assert ready["Body"] == "ready"
    assert sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages") is None
    counts = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert counts["ApproximateNumberOfMessagesDelayed"] == "1"
    assert counts["ApproximateNumberOfMessagesNotVisible"] == "1"

    time.sleep(2.5)
    again = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    assert sorted(m["Body"] for m in again) == ["delayed", "ready"]
