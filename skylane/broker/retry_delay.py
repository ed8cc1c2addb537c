"""How a retried job waits out its countdown: on SQS as a delayed message, not in a worker.

A Celery ETA would hold the message unacknowledged in a worker, where SQS redelivers it after
its visibility timeout. The retry is published with SQS's DelaySeconds instead (kombu reads a
``delay_seconds`` property); a wait over SQS's 900 s re-delays hop by hop (README: *How jobs run*).
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
