"""Queues paired with their dead-letter queues, from a stack's outputs and from the settings."""

from typing import Any

import pytest

from skylane.core.settings import get_settings
from skylane.queues.pairs import QueueUrls, dead_letter_pairs, from_settings, from_stack_outputs
from skylane.queues.stats import queue_urls


def test_every_queue_output_is_a_row_with_its_dead_letter_queue() -> None:
    outputs = {
        "ApiUrl": "https://api",
        "HighQueueUrl": "q/high",
        "DefaultQueueUrl": "q/default",
        "HighDeadLetterQueueUrl": "q/high-dlq",
        "DefaultDeadLetterQueueUrl": "q/default-dlq",
        # A queue a later template adds appears without a code change.
        "LightQueueUrl": "q/light",
        "LightDeadLetterQueueUrl": "q/light-dlq",
        "ScheduleDeadLetterQueueUrl": "q/schedules-dlq",
    }
    assert from_stack_outputs(outputs) == [
        QueueUrls("high", "q/high", "q/high-dlq"),
        QueueUrls("default", "q/default", "q/default-dlq"),
        QueueUrls("light", "q/light", "q/light-dlq"),
        QueueUrls("schedule", None, "q/schedules-dlq"),
    ]


def test_the_settings_pair_each_queue_with_its_dead_letter_queue(
    aws: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LIGHT_QUEUE_URL", "q/light")
    get_settings.cache_clear()
    assert from_settings() == [
        QueueUrls("default", aws["DEFAULT_QUEUE_URL"], aws["DEFAULT_DLQ_URL"]),
        QueueUrls("high", aws["HIGH_QUEUE_URL"], aws["HIGH_DLQ_URL"]),
        QueueUrls("light", "q/light", None),
    ]
    # Only a queue with both can be redriven; GET /queues lists every one by name.
    assert dead_letter_pairs(from_settings()) == {
        "default": (aws["DEFAULT_QUEUE_URL"], aws["DEFAULT_DLQ_URL"]),
        "high": (aws["HIGH_QUEUE_URL"], aws["HIGH_DLQ_URL"]),
    }
    assert queue_urls() == {
        "default": aws["DEFAULT_QUEUE_URL"],
        "default_dlq": aws["DEFAULT_DLQ_URL"],
        "high": aws["HIGH_QUEUE_URL"],
        "high_dlq": aws["HIGH_DLQ_URL"],
        "light": "q/light",
    }
