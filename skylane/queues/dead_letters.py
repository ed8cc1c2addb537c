"""What sits in a dead-letter queue, and sending it back to its queue after a fix.

Listing does not consume: each message is received with a short visibility timeout and made
visible again at once. A redrive sends each body back, then deletes it from the DLQ (not SQS's
StartMessageMoveTask, which emulators lack): an interrupted redrive may duplicate, never lose.
"""

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from skylane.core.limits import SQS_BATCH_LIMIT
from skylane.jobs.contracts import TASKS

# Long enough to receive the whole DLQ before the first message reappears.
PEEK_VISIBILITY_SECONDS = 30


@dataclass(frozen=True)
class DeadLetter:
    message_id: str
    job_id: str | None
    task: str | None
    # How often SQS handed the message out (the source queue's receives, plus listings).
    receive_count: int
    reason: str


def describe(body: str) -> tuple[str | None, str | None, str]:
    """The job id, task name and the likely reason a message body was dead-lettered."""
    try:
        envelope = json.loads(body)
    except json.JSONDecodeError:
        return None, None, "not a Celery message: the body is not JSON"
    headers = envelope.get("headers") if isinstance(envelope, dict) else None
    if not isinstance(headers, dict) or "task" not in headers:
        return None, None, "not a Celery message: no task headers"
    job_id, task = headers.get("id"), headers.get("task")
    if task not in TASKS:
        return job_id, task, f"unknown task {task!r}: no worker registers it"
    return job_id, task, "received too often without finishing: its worker died running it"


def _receive(sqs: Any, queue_url: str, visibility: int) -> Iterator[dict[str, Any]]:
    for batch in _receive_batches(sqs, queue_url, visibility):
        yield from batch


def _receive_batches(sqs: Any, queue_url: str, visibility: int) -> Iterator[list[dict[str, Any]]]:
    while True:
        messages = sqs.receive_message(
            QueueUrl=queue_url,
            MaxNumberOfMessages=SQS_BATCH_LIMIT,
            VisibilityTimeout=visibility,
            WaitTimeSeconds=0,
            AttributeNames=["ApproximateReceiveCount"],
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        if not messages:
            return
        yield messages


def _release(sqs: Any, queue_url: str, messages: list[dict[str, Any]]) -> None:
    for start in range(0, len(messages), SQS_BATCH_LIMIT):
        entries = [
            {"Id": str(n), "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": 0}
            for n, m in enumerate(messages[start : start + SQS_BATCH_LIMIT])
        ]
        sqs.change_message_visibility_batch(QueueUrl=queue_url, Entries=entries)


def _dead_letter(message: dict[str, Any]) -> DeadLetter:
    job_id, task, reason = describe(message["Body"])
    return DeadLetter(
        message_id=message["MessageId"],
        job_id=job_id,
        task=task,
        receive_count=int(message.get("Attributes", {}).get("ApproximateReceiveCount", 0)),
        reason=reason,
    )


def list_dead_letters(sqs: Any, dlq_url: str) -> list[DeadLetter]:
    """Every message in the DLQ, left in place."""
    held = list(_receive(sqs, dlq_url, PEEK_VISIBILITY_SECONDS))
    try:
        return [_dead_letter(message) for message in held]
    finally:
        _release(sqs, dlq_url, held)


def redrive(
    sqs: Any,
    dlq_url: str,
    queue_url: str,
    wanted: Callable[[DeadLetter], bool] = lambda _: True,
    max_messages: int | None = None,
) -> list[DeadLetter]:
    """Move the wanted messages back to `queue_url`; the others stay in the DLQ.

    max_messages stops after that many were moved (the API's redrive must finish within
    API Gateway's 29 s; the rest waits for the next call).
    """
    moved: list[DeadLetter] = []
    kept: list[dict[str, Any]] = []
    try:
        for batch in _receive_batches(sqs, dlq_url, PEEK_VISIBILITY_SECONDS):
            for message in batch:
                letter = _dead_letter(message)
                full = max_messages is not None and len(moved) >= max_messages
                if full or not wanted(letter):
                    kept.append(message)
                    continue
                copy: dict[str, Any] = {"QueueUrl": queue_url, "MessageBody": message["Body"]}
                if message.get("MessageAttributes"):
                    copy["MessageAttributes"] = message["MessageAttributes"]
                sqs.send_message(**copy)
                sqs.delete_message(QueueUrl=dlq_url, ReceiptHandle=message["ReceiptHandle"])
                moved.append(letter)
            if max_messages is not None and len(moved) >= max_messages:
                break
    finally:
        _release(sqs, dlq_url, kept)
    return moved
