"""A failed SQS receive must not end a queue's polling loop (kombu 5.7 lets it)."""

from typing import Any

from skylane.sqs_transport import MAX_BACKOFF_SECONDS, Channel


class _Hub:
    def __init__(self) -> None:
        self.later: list[tuple[float, Any]] = []

    def call_later(self, delay: float, callback: Any, *args: Any) -> None:
        self.later.append((delay, args))


def bare_channel() -> Any:
    channel = Channel.__new__(Channel)
    channel._failed_receives = {}
    channel.hub = _Hub()
    return channel


def test_a_failed_receive_counts_as_empty_and_backs_off() -> None:
    channel = bare_channel()
    for _ in range(8):
        assert channel._on_messages_ready("url", "default", ["not", "an", "answer"]) == 0
        channel._loop1("default")
    delays = [delay for delay, _ in channel.hub.later]
    assert delays[:4] == [0.5, 1.0, 2.0, 4.0]
    assert max(delays) == MAX_BACKOFF_SECONDS
    assert all(args == ("default",) for _, args in channel.hub.later)
