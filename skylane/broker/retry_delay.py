"""How a retried job waits out its countdown: on SQS as a delayed message, not in a worker.

Celery turns a retry's countdown into an ETA: the worker receives the retried message at once
and holds it unacknowledged in memory until then. On SQS a held message reappears once its
visibility timeout expires and runs a second time on another worker, and it is lost from view
meanwhile (/queues shows it in flight, not delayed). Instead the retried message is published
with SQS's own DelaySeconds (kombu's SQS transport reads a ``delay_seconds`` message property)
and no ETA: SQS keeps it invisible, then any worker runs it at once.

SQS delays a message at most 900 s, so RETRY_COUNTDOWN_SECONDS is capped there (template and
settings). A longer wait would re-delay: the message would carry its due time and a worker
receiving it early would publish it again with the remaining delay, at most 900 s a hop, then
acknowledge it (README, "How jobs run").
"""

SQS_MAX_DELAY_SECONDS = 900


def retry_delay_options(countdown: int) -> dict[str, int]:
    """Options for ``task.retry`` that delay the retried message on SQS by ``countdown`` s.

    countdown=0 stops Celery from stamping an ETA (it converts only a non-zero countdown, and
    falls back to default_retry_delay when none is given).
    """
    if not 0 <= countdown <= SQS_MAX_DELAY_SECONDS:
        raise ValueError(
            f"a retry countdown of {countdown} s is outside SQS's 0..{SQS_MAX_DELAY_SECONDS} s"
        )
    return {"countdown": 0, "delay_seconds": countdown}
