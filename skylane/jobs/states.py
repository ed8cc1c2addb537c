"""Job states: Celery's names, and what they mean to a client."""

from enum import StrEnum


class JobState(StrEnum):
    PENDING = "PENDING"
    STARTED = "STARTED"
    PROGRESS = "PROGRESS"
    RETRY = "RETRY"
    SUCCESS = "SUCCESS"
    FAILURE = "FAILURE"
    REVOKED = "REVOKED"


FINAL_STATES = frozenset({JobState.SUCCESS, JobState.FAILURE, JobState.REVOKED})
