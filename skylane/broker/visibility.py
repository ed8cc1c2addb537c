"""Keeps the SQS messages a worker holds hidden while their jobs run (a visibility heartbeat).

Every third of the visibility timeout the worker's main process extends every message it holds
(running or prefetched), until its task's hard time limit has passed; then the message comes
back for another attempt (README: *How jobs run*).
"""

import time
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from celery import bootsteps

from skylane.core.aws import client
from skylane.core.limits import SQS_BATCH_LIMIT
from skylane.core.settings import get_settings
from skylane.jobs.contracts import TASKS
from skylane.observability.logs import logger

HEARTBEATS_PER_TIMEOUT = 3


@dataclass(frozen=True)
class HeldMessage:
    receipt_handle: str
    queue_url: str
    task: str | None
    # The job id (Celery's "id" header): a warning about this message names its job.
    job_id: str | None = None


def held_messages(delivered: Mapping[Any, Any], acked: Collection[Any] = ()) -> list[HeldMessage]:
    """The SQS messages among a channel's unacknowledged deliveries.

    kombu forgets an acknowledged delivery lazily (it sits in QoS._dirty until the next flush),
    and its message is already deleted on SQS: `acked` leaves those out.
    """
    held = []
    for tag, message in list(delivered.items()):
        if tag in acked:
            continue
        info = getattr(message, "delivery_info", None) or {}
        sqs_message, queue_url = info.get("sqs_message"), info.get("sqs_queue")
        if not sqs_message or not queue_url:
            continue
        headers = getattr(message, "headers", None) or {}
        held.append(
            HeldMessage(
                sqs_message["ReceiptHandle"], queue_url, headers.get("task"), headers.get("id")
            )
        )
    return held


class VisibilityKeeper:
    """Decides which held messages to extend, remembering when each was first seen."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._first_seen: dict[str, float] = {}

    def due(self, held: Iterable[HeldMessage]) -> dict[str, list[str]]:
        """Receipt handles to extend now, by queue URL."""
        now = self._clock()
        seen = {message.receipt_handle: message for message in held}
        # Forget acknowledged messages so the map stays as small as the prefetch window.
        self._first_seen = {
            handle: since for handle, since in self._first_seen.items() if handle in seen
        }
        due: dict[str, list[str]] = defaultdict(list)
        for handle, message in seen.items():
            since = self._first_seen.setdefault(handle, now)
            spec = TASKS.get(message.task or "")
            # A body that is no task of ours is rejected at once: nothing to keep hidden.
            if spec is not None and now - since < spec.time_limit:
                due[message.queue_url].append(handle)
        return dict(due)


def extend(
    sqs: Any,
    due: Mapping[str, list[str]],
    visibility_timeout: int,
    job_ids: Mapping[str, str | None] | None = None,
) -> int:
    """Hide the due messages for another visibility timeout; returns how many were extended.

    A failure is logged, not raised: a message not extended this time may be next time, and at
    worst it is redelivered, which acks-late jobs tolerate. Its warning names the job ids
    (`job_ids`: receipt handle to job id), so searching for a job id finds it.
    """
    job_ids = job_ids or {}
    extended = 0
    for queue_url, handles in due.items():
        for start in range(0, len(handles), SQS_BATCH_LIMIT):
            batch = handles[start : start + SQS_BATCH_LIMIT]
            entries = [
                {"Id": str(n), "ReceiptHandle": handle, "VisibilityTimeout": visibility_timeout}
                for n, handle in enumerate(batch)
            ]
            try:
                answer = sqs.change_message_visibility_batch(QueueUrl=queue_url, Entries=entries)
            except (BotoCoreError, ClientError) as exc:
                logger.warning(
                    "visibility not extended",
                    extra={
                        "queue_url": queue_url,
                        "error": str(exc),
                        "job_ids": [job_ids.get(handle) for handle in batch],
                    },
                )
                continue
            for failure in answer.get("Failed", []):
                index = failure.get("Id", "")
                handle = batch[int(index)] if index.isdigit() and int(index) < len(batch) else ""
                logger.warning(
                    "visibility not extended",
                    extra={
                        "queue_url": queue_url,
                        "error": failure.get("Message"),
                        "job_id": job_ids.get(handle),
                    },
                )
            extended += len(answer.get("Successful", []))
    return extended


class VisibilityHeartbeat(bootsteps.StartStopStep):  # type: ignore[misc]  # celery is untyped
    """Consumer bootstep: runs the heartbeat on the consumer's timer once tasks are consumed."""

    requires = ("celery.worker.consumer.tasks:Tasks",)

    def __init__(self, parent: Any, **kwargs: Any) -> None:
        super().__init__(parent, **kwargs)
        self._keeper = VisibilityKeeper()
        self._timer_entry: Any = None
        self._timeout = get_settings().queue_visibility_timeout_seconds

    def start(self, parent: Any) -> None:
        interval = self._timeout / HEARTBEATS_PER_TIMEOUT
        self._timer_entry = parent.timer.call_repeatedly(interval, self.beat, (parent,))

    def stop(self, parent: Any) -> None:
        if self._timer_entry is not None:
            self._timer_entry.cancel()
            self._timer_entry = None

    shutdown = stop

    def beat(self, parent: Any) -> None:
        channel = getattr(parent.task_consumer, "channel", None)
        qos = getattr(channel, "qos", None)
        if qos is None:
            return
        # kombu's unacknowledged deliveries, each delivery_info holding the ReceiptHandle
        # ('sqs_message') and queue URL ('sqs_queue'). This runs on the event loop's timer, the
        # thread that acknowledges and rejects them, so they never change under it.
        held = held_messages(qos._delivered, qos._dirty)
        due = self._keeper.due(held)
        if due:
            job_ids = {message.receipt_handle: message.job_id for message in held}
            extend(client("sqs"), due, self._timeout, job_ids)
