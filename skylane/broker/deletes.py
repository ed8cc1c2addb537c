"""Acknowledged SQS messages, deleted ten at a time (DeleteMessageBatch) instead of one by one.

A worker's channel collects receipt handles and sends them when a queue has ten, when the
oldest has waited MAX_WAIT_SECONDS, or when the channel closes. The wait is safe because a
message that comes back runs nothing (README: *How jobs run*).
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from skylane.core.limits import SQS_BATCH_LIMIT
from skylane.observability.logs import logger

# Well under any visibility timeout the template allows, so a message acknowledged but not yet
# deleted does not become visible again in the meantime.
MAX_WAIT_SECONDS = 1.0
NOT_DELETED = (
    "not deleted; SQS gives {it} back after {its} visibility timeout and the worker drops {it} "
    "as finished"
)


@dataclass(frozen=True)
class PendingDelete:
    receipt_handle: str
    # The job id (Celery's "id" header), so a warning names the job.
    job_id: str | None


class DeleteBuffer:
    """Receipt handles waiting for deletion, by queue URL."""

    def __init__(self, sqs: Callable[[], Any]) -> None:
        self._sqs = sqs
        self._pending: dict[str, list[PendingDelete]] = {}

    def __len__(self) -> int:
        return sum(len(entries) for entries in self._pending.values())

    def add(self, queue_url: str, receipt_handle: str, job_id: str | None) -> None:
        entries = self._pending.setdefault(queue_url, [])
        entries.append(PendingDelete(receipt_handle, job_id))
        if len(entries) >= SQS_BATCH_LIMIT:
            self._send(queue_url, self._pending.pop(queue_url))

    def flush(self) -> None:
        pending, self._pending = self._pending, {}
        for queue_url, entries in pending.items():
            for start in range(0, len(entries), SQS_BATCH_LIMIT):
                self._send(queue_url, entries[start : start + SQS_BATCH_LIMIT])

    def _send(self, queue_url: str, entries: list[PendingDelete]) -> None:
        # A message left undeleted is not lost and does not run again: SQS gives it back after
        # its visibility timeout and the worker drops it, its job being final. So a failure is
        # logged, never raised: raising here would stop the worker's event loop.
        try:
            answer = self._sqs().delete_message_batch(
                QueueUrl=queue_url,
                Entries=[
                    {"Id": str(index), "ReceiptHandle": entry.receipt_handle}
                    for index, entry in enumerate(entries)
                ],
            )
        except (BotoCoreError, ClientError) as exc:
            logger.warning(
                "acknowledged messages " + NOT_DELETED.format(it="them", its="their"),
                extra={
                    "queue_url": queue_url,
                    "job_ids": [entry.job_id for entry in entries],
                    "error": str(exc),
                },
            )
            return
        for failure in answer.get("Failed", []):
            entry = entries[int(failure["Id"])]
            logger.warning(
                "acknowledged message " + NOT_DELETED.format(it="it", its="its"),
                extra={
                    "queue_url": queue_url,
                    "job_id": entry.job_id,
                    "error": f"{failure.get('Code')}: {failure.get('Message')}",
                },
            )
