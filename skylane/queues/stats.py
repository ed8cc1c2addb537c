"""Live queue statistics straight from SQS: waiting, in flight and delayed, per queue (RQ's len(queue))."""

from dataclasses import dataclass

from skylane.core.aws import client
from skylane.core.outages import unavailable_as
from skylane.queues.pairs import DLQ_SUFFIX, from_settings

_ATTRIBUTES = [
    "ApproximateNumberOfMessages",
    "ApproximateNumberOfMessagesNotVisible",
    "ApproximateNumberOfMessagesDelayed",
]


@dataclass(frozen=True)
class QueueStats:
    name: str
    count: int
    in_flight: int
    delayed: int


def queue_urls() -> dict[str, str]:
    """Every queue and dead-letter queue, by its name in GET /queues."""
    urls: dict[str, str] = {}
    for queue in from_settings():
        if queue.url:
            urls[queue.name] = queue.url
        if queue.dead_letter_url:
            urls[queue.name + DLQ_SUFFIX] = queue.dead_letter_url
    return urls


def queue_stats() -> list[QueueStats]:
    sqs = client("sqs")
    stats = []
    with unavailable_as("SQS"):
        for name, url in queue_urls().items():
            attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=_ATTRIBUTES)[
                "Attributes"
            ]
            stats.append(
                QueueStats(
                    name=name,
                    count=int(attributes.get("ApproximateNumberOfMessages", 0)),
                    in_flight=int(attributes.get("ApproximateNumberOfMessagesNotVisible", 0)),
                    delayed=int(attributes.get("ApproximateNumberOfMessagesDelayed", 0)),
                )
            )
    return stats
