"""Each queue with its dead-letter queue, from the settings or from a stack's outputs.

The API, the dashboard and the ``skylane`` command all read the pairs here, so a queue the
template adds is paired the same way everywhere.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass

from skylane.core.settings import get_settings

# A dead-letter queue's name in GET /queues: "<queue>_dlq".
DLQ_SUFFIX = "_dlq"
_QUEUE_OUTPUT = re.compile(r"^(?P<name>[A-Za-z0-9]+?)(?P<dead>DeadLetter)?QueueUrl$")


@dataclass(frozen=True)
class QueueUrls:
    name: str
    # None where there is no such queue: a dead-letter queue of no queue (EventBridge's
    # failed schedule deliveries), or a queue without one.
    url: str | None
    dead_letter_url: str | None


def from_settings() -> list[QueueUrls]:
    """The queues this process's environment names (what the template gives a function)."""
    settings = get_settings()
    pairs = [
        QueueUrls("default", settings.default_queue_url, settings.default_dlq_url),
        QueueUrls("high", settings.high_queue_url, settings.high_dlq_url),
        QueueUrls("light", settings.light_queue_url, settings.light_dlq_url),
    ]
    return [
        QueueUrls(pair.name, pair.url or None, pair.dead_letter_url or None)
        for pair in pairs
        if pair.url or pair.dead_letter_url
    ]


def from_stack_outputs(outputs: Mapping[str, str]) -> list[QueueUrls]:
    """Every ``<Name>QueueUrl`` and ``<Name>DeadLetterQueueUrl`` output, paired by name, in the
    outputs' order."""
    found: dict[str, dict[str, str]] = {}
    for output, url in outputs.items():
        match = _QUEUE_OUTPUT.match(output)
        if match:
            role = "dead_letter_url" if match["dead"] else "url"
            found.setdefault(match["name"], {})[role] = url
    return [
        QueueUrls(_row_name(prefix), urls.get("url"), urls.get("dead_letter_url"))
        for prefix, urls in found.items()
    ]


def dead_letter_pairs(queues: list[QueueUrls]) -> dict[str, tuple[str, str]]:
    """Each queue that has both: its URL and its dead-letter queue's, by name."""
    return {
        queue.name: (queue.url, queue.dead_letter_url)
        for queue in queues
        if queue.url and queue.dead_letter_url
    }


def _row_name(output_prefix: str) -> str:
    # "High" -> "high", "LightWork" -> "light-work"
    return re.sub(r"(?<!^)(?=[A-Z])", "-", output_prefix).lower()
