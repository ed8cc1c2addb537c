"""A schedule's overlap policy: what a run due while the previous one is unfinished does."""

from enum import StrEnum


class Overlap(StrEnum):
    """What a run due while the schedule's previous run is still queued or running does."""

    ALLOW = "allow"  # runs anyway (EventBridge's own behaviour)
    SKIP = "skip"  # is dropped
    BUFFER_ONE = "buffer_one"  # is held, at most one, until the previous run is final
