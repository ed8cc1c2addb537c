"""Live queue statistics straight from SQS (what RQ's len(queue) gave the seed)."""

from dataclasses import dataclass

from skylane.core.aws import client
from skylane.core.outages import unavailable_as
from skylane.core.settings import get_settings

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
    settings = get_settings()
    urls = {
        "default": settings.default_queue_url,
        "high": settings.high_queue_url,
        "default_dlq": settings.default_dlq_url,
        "high_dlq": settings.high_dlq_url,
        "light": settings.light_queue_url,
        "light_dlq": settings.light_dlq_url,
    }
    return {name: url for name, url in urls.items() if url}


# queue_urls() names a queue's dead-letter queue "<queue>_dlq".
DLQ_SUFFIX = "_dlq"


def dead_letter_pairs() -> dict[str, tuple[str, str]]:
    """Each queue that has a dead-letter queue: its URL and its DLQ's URL."""
    urls = queue_urls()
    return {
        name: (url, urls[name + DLQ_SUFFIX])
        for name, url in urls.items()
        if not name.endswith(DLQ_SUFFIX) and name + DLQ_SUFFIX in urls
    }


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
