"""Two costs of moto's SQS that grow with a queue's depth, which SQS itself does not have,
removed for the embedded server in this process.

- Each message received was checked against the queue's retention period by computing every
  attribute of the queue, three of them by walking all its messages: a receive from a queue of
  400 messages cost 37 ms of the emulator's CPU, against 2 ms from an empty one. The check now
  reads the retention period alone.
- Every walk asks each message whether it is visible and whether it is delayed, and each answer
  built datetimes to read the clock. moto's SQS now reads the same clock with ``time.time()``.

Nothing else changes: the same messages are received, hidden, delayed and expired as before.
Without this, the local rate of a system depended on how deep its queue got, and the deeper it
got the slower each message became (README: *Throughput runs*).
"""

import time
from typing import Any

from moto.core.utils import unix_time
from moto.sqs import models

_moto_unix_time_millis = models.unix_time_millis


def _unix_time_millis(dt: Any = None) -> float:
    if dt is not None:
        return float(_moto_unix_time_millis(dt))
    return time.time() * 1000.0


def _within_retention_period(self: Any, queue_name: str, message: Any) -> bool:
    retention_seconds = int(self.get_queue(queue_name).message_retention_period)
    return bool(retention_seconds + message.sent_timestamp / 1000 > unix_time())


def install() -> None:
    """Apply to moto's SQS in this process (idempotent)."""
    models.unix_time_millis = _unix_time_millis
    models.SQSBackend.is_message_valid_based_on_retention_period = _within_retention_period
