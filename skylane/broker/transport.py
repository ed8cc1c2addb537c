"""kombu's SQS transport, changed where a worker on SQS needs it (README: *How jobs run*).

It keeps polling through an outage, refills the prefetch window in batches (``refill_batch``),
receives as soon as a job frees a place in it (``_park``), gives held messages back instead of
publishing copies (``_restore``), and deletes acknowledged messages in batches
(skylane/broker/deletes.py).
"""

from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from kombu.transport import SQS, TRANSPORT_ALIASES, virtual

from skylane.broker.deletes import MAX_WAIT_SECONDS, DeleteBuffer
from skylane.core.aws import client
from skylane.core.limits import SQS_BATCH_LIMIT
from skylane.observability.logs import logger

ALIAS = "skylane-sqs"
MAX_BACKOFF_SECONDS = 10.0
# Transport option: the worker's prefetch multiplier, from which the channel tells the pool's
# size apart from the waiting places in its prefetch window.
PREFETCH_MULTIPLIER_OPTION = "skylane_prefetch_multiplier"


def refill_batch(prefetch_count: int, multiplier: int) -> int:
    """How many free places in the prefetch window are worth a receive.

    The window is multiplier x pool size; its places beyond the pool size hold messages
    waiting for a free process. The batch is half of those places (at most SQS's ten per
    receive): while fewer are free, the worker holds more messages than it has processes, so
    no process waits for the receive. Multiplier 1 has no waiting places: one free place is
    worth a receive, as in kombu.
    """
    if prefetch_count <= 0 or multiplier <= 1:
        return 1
    waiting_places = prefetch_count - prefetch_count // multiplier
    return max(1, min(SQS_BATCH_LIMIT, waiting_places // 2))


class Channel(SQS.Channel):  # type: ignore[misc]  # kombu ships no types
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._failed_receives: dict[str, int] = {}
        # The smallest prefetch count seen: Celery raises it for each ETA message it holds in
        # memory (skylane sends none: retries wait on SQS), and those occupy no pool process.
        self._base_prefetch = 0
        self._deletes = DeleteBuffer(lambda: client("sqs"))
        self._deletes_due = False
        # Queues whose polling waits for a free place in the prefetch window, with the timer
        # that looks again after the polling interval (``_park``).
        self._parked: dict[str, Any] = {}

    def _on_messages_ready(self, queue: str, qname: str, messages: Any) -> int:
        # A failed receive (connection refused, timeout, an error page) arrives here as something
        # other than SQS's answer; in kombu 5.7 the AttributeError it raises ends the queue's
        # polling loop for good. Counted as an empty receive, it is retried after a pause.
        if not isinstance(messages, dict):
            failures = self._failed_receives.get(qname, 0) + 1
            self._failed_receives[qname] = failures
            logger.warning(
                "SQS receive failed; polling again after a pause",
                extra={"queue": qname, "consecutive_failures": failures},
            )
            return 0
        self._failed_receives.pop(qname, None)
        received: int = super()._on_messages_ready(queue, qname, messages)
        return received

    def _schedule_queue(self, queue: str) -> None:
        # kombu receives again as soon as one place in the window is free: with prefetched
        # messages, a busy worker would make one ReceiveMessage per job.
        prefetch = self.qos.prefetch_count or 0
        if prefetch and (not self._base_prefetch or prefetch < self._base_prefetch):
            self._base_prefetch = prefetch
        if queue not in self._active_queues:
            return
        free = self.qos.can_consume_max_estimate()
        multiplier = int(self.transport_options.get(PREFETCH_MULTIPLIER_OPTION, 1))
        if not self.qos.can_consume() or (
            free and free < refill_batch(self._base_prefetch, multiplier)
        ):
            # No place free, or room for a few messages only while the pool is busy with those
            # held: no request now.
            self._park(queue)
            return
        super()._schedule_queue(queue)

    def _park(self, queue: str) -> None:
        """Look at ``queue`` again when a job frees a place (``_wake_parked``), or after the
        polling interval, whichever comes first.

        kombu only looks again after the interval, so a process that finished a short job
        waited for the next tick (half the interval on average) before its next receive even
        started.
        """
        self._parked[queue] = self.hub.call_later(
            self.connection.polling_interval, self._unpark, queue
        )

    def _unpark(self, queue: str) -> None:
        if self._parked.pop(queue, None) is not None:
            self._schedule_queue(queue)

    def _wake_parked(self) -> None:
        """A place in the prefetch window is free: every parked queue looks again now, its
        timer cancelled, so each queue still has exactly one receive or timer on its way.

        A timer due at once, not call_soon: Celery acknowledges from the event loop's ready
        callbacks, and a call_soon made there waits for the next pass, which first polls until
        the cancelled timer's time. Due timers fire in the same pass, before the poll. Every
        parked queue looks, so each may receive for the free place: at most one message per
        queue beyond the window, held like a prefetched one.
        """
        for queue, timer in list(self._parked.items()):
            del self._parked[queue]
            timer.cancel()
            self.hub.call_later(0, self._schedule_queue, queue)

    def _loop1(self, queue: str, messages_fetched: Any = None) -> None:
        failures = self._failed_receives.get(queue, 0)
        if failures:
            pause = min(0.5 * 2 ** (failures - 1), MAX_BACKOFF_SECONDS)
            self.hub.call_later(pause, self._schedule_queue, queue)
            return
        super()._loop1(queue, messages_fetched)

    def basic_ack(self, delivery_tag: Any, multiple: bool = False) -> None:
        # Buffered only where the channel has an event loop: a worker's, whose prefork pool
        # acknowledges on that loop's thread.
        try:
            message = self.qos.get(delivery_tag)
        except KeyError:
            super().basic_ack(delivery_tag, multiple)
            return
        info = getattr(message, "delivery_info", None) or {}
        sqs_message, queue_url = info.get("sqs_message"), info.get("sqs_queue")
        if self.hub is None or not sqs_message or not queue_url:
            super().basic_ack(delivery_tag, multiple)
            return
        # The prefetch slot is free now, as kombu frees it once its DeleteMessage returns.
        virtual.Channel.basic_ack(self, delivery_tag)
        self._wake_parked()
        job_id = (getattr(message, "headers", None) or {}).get("id")
        self._deletes.add(queue_url, sqs_message["ReceiptHandle"], job_id)
        if len(self._deletes) and not self._deletes_due:
            self._deletes_due = True
            self.hub.call_later(MAX_WAIT_SECONDS, self._flush_deletes)

    def basic_reject(self, delivery_tag: Any, requeue: bool = False) -> None:
        try:
            super().basic_reject(delivery_tag, requeue)
        finally:
            # kombu frees the place even when the reject fails.
            if self.hub is not None:
                self._wake_parked()

    def _flush_deletes(self) -> None:
        self._deletes_due = False
        self._deletes.flush()

    def close(self) -> None:
        # A warm shutdown sends what is waiting: otherwise each of those messages would come
        # back after its visibility timeout, to be received and dropped as finished.
        self._flush_deletes()
        super().close()

    def _restore(self, message: Any, *args: Any, **kwargs: Any) -> None:
        # kombu would publish a copy and leave the original hidden until its visibility
        # timeout, to run again then: a warm shutdown would queue every held job twice.
        info = getattr(message, "delivery_info", None) or {}
        sqs_message, queue_url = info.get("sqs_message"), info.get("sqs_queue")
        if not sqs_message or not queue_url:
            super()._restore(message, *args, **kwargs)
            return
        job_id = (getattr(message, "headers", None) or {}).get("id")
        try:
            client("sqs").change_message_visibility(
                QueueUrl=queue_url,
                ReceiptHandle=sqs_message["ReceiptHandle"],
                VisibilityTimeout=0,
            )
        except (BotoCoreError, ClientError) as exc:
            # Not lost: it comes back once its visibility timeout expires.
            logger.warning(
                "held message not given back; it returns after its visibility timeout",
                extra={"queue_url": queue_url, "job_id": job_id, "error": str(exc)},
            )
            return
        logger.info("held message given back to SQS", extra={"job_id": job_id})


class Transport(SQS.Transport):  # type: ignore[misc]
    Channel = Channel


def register() -> None:
    TRANSPORT_ALIASES[ALIAS] = f"{__name__}:Transport"
