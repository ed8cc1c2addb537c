"""kombu's SQS transport, made to keep polling through an outage.

In kombu 5.7 a receive that fails (connection refused, timeout, an error page) reaches
`_on_messages_ready` as something other than SQS's answer; the AttributeError it raises there
ends that queue's polling loop for good, so after an outage the worker stays up but never takes
another message. Here a failed receive counts as an empty one, and the queue is polled again
after a growing pause (at most MAX_BACKOFF_SECONDS), so the worker resumes by itself.
"""

from typing import Any

from kombu.transport import SQS, TRANSPORT_ALIASES

from skylane.logs import logger

ALIAS = "skylane-sqs"
MAX_BACKOFF_SECONDS = 10.0


class Channel(SQS.Channel):  # type: ignore[misc]  # kombu ships no types
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._failed_receives: dict[str, int] = {}

    def _on_messages_ready(self, queue: str, qname: str, messages: Any) -> int:
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

    def _loop1(self, queue: str, messages_fetched: Any = None) -> None:
        failures = self._failed_receives.get(queue, 0)
        if failures:
            pause = min(0.5 * 2 ** (failures - 1), MAX_BACKOFF_SECONDS)
            self.hub.call_later(pause, self._schedule_queue, queue)
            return
        super()._loop1(queue, messages_fetched)


class Transport(SQS.Transport):  # type: ignore[misc]
    Channel = Channel


def register() -> None:
    TRANSPORT_ALIASES[ALIAS] = f"{__name__}:Transport"
