"""Running a Celery task message from the light queue inside a Lambda invocation.

kombu's own SQS channel decodes each record and Celery's own worker Request runs it, so the job
goes through the same states as on the worker. A record not settled (RecordNotSettled) becomes a
batch item failure (README: *Lanes*, "How the light lane runs a job").
"""

import socket
from dataclasses import dataclass
from typing import Any

from celery import Celery
from celery.worker.request import Request

from skylane.jobs.contracts import QueueName
from skylane.jobs.states import JobState
from skylane.jobs.store import JobStore
from skylane.observability.logs import logger


class RecordNotSettled(Exception):
    """The record must go back to the queue (a batch item failure)."""


@dataclass(frozen=True)
class Settled:
    job_id: str
    task: str
    # "acknowledged" (the task finished or was cancelled) or "rejected" (failed or retried).
    outcome: str


def sqs_message(record: dict[str, Any]) -> dict[str, Any]:
    """A Lambda SQS event record as the ReceiveMessage answer that kombu's channel reads."""
    return {
        "MessageId": record["messageId"],
        "ReceiptHandle": record["receiptHandle"],
        "Body": record["body"],
        "MD5OfBody": record.get("md5OfBody", ""),
        "Attributes": record.get("attributes", {}),
        "MessageAttributes": record.get("messageAttributes", {}),
    }


class LightLane:
    """Decodes and runs light-queue records with ``app``'s registered tasks."""

    def __init__(self, app: Celery, queue_url: str) -> None:
        if not queue_url:
            raise ValueError("LIGHT_QUEUE_URL is not set: the light lane has no queue")
        self._app = app
        self._queue_url = queue_url
        # A channel of the app's own SQS transport, only for decoding: with predefined
        # queues it makes no AWS request until asked to send or receive.
        self._connection = app.connection_for_read()
        self._channel = self._connection.default_channel
        self._hostname = f"light@{socket.gethostname()}"

    @staticmethod
    def _still_running(job_id: str) -> bool:
        """Read only for a rejected record: failures and retries, not the common case."""
        record = JobStore.from_settings().get(job_id)
        return record is not None and record.state in (JobState.STARTED, JobState.PROGRESS)

    def decode(self, record: dict[str, Any]) -> Any:
        """The kombu message the worker would have received for ``record``."""
        # kombu's SQS channel turns a received SQS message into its payload dict this way
        # (base64 or not, envelope, delivery_info with the SQS message and queue URL).
        payload = self._channel._message_to_python(
            sqs_message(record), QueueName.LIGHT.value, self._queue_url
        )
        return self._channel.Message(payload, channel=self._channel)

    def run(self, record: dict[str, Any]) -> Settled:
        """Run one record's task; raises RecordNotSettled if it must be received again."""
        keys: dict[str, Any] = {"message_id": record.get("messageId")}
        try:
            message = self.decode(record)
            headers = message.headers or {}
            keys |= {"job_id": headers.get("id"), "task": headers.get("task")}
            if not headers.get("id") or not headers.get("task"):
                raise RecordNotSettled("not a Celery task message (protocol 2 headers missing)")
            settled: list[str] = []

            def on_ack(*_: Any) -> None:
                settled.append("acknowledged")

            def on_reject(_logger: Any, _errors: Any, requeue: bool = False) -> None:
                settled.append("requeue" if requeue else "rejected")

            request = Request(
                message,
                app=self._app,
                on_ack=on_ack,
                on_reject=on_reject,
                hostname=self._hostname,
                connection_errors=self._connection.connection_errors,
            )
            request.execute()
        except RecordNotSettled as error:
            logger.error("light lane: record not run", extra={**keys, "reason": str(error)})
            raise
        except Exception as error:
            logger.exception("light lane: record not run", extra=keys)
            raise RecordNotSettled(f"{type(error).__name__}: {error}") from error
        outcome = settled[-1] if settled else "unsettled"
        if outcome == "rejected" and self._still_running(str(keys["job_id"])):
            outcome = "rejected while running"
        if outcome not in ("acknowledged", "rejected"):
            logger.error(
                "light lane: record left for redelivery", extra={**keys, "outcome": outcome}
            )
            raise RecordNotSettled(f"the request ended {outcome}")
        logger.info("light lane: record settled", extra={**keys, "outcome": outcome})
        return Settled(job_id=str(keys["job_id"]), task=str(keys["task"]), outcome=outcome)
