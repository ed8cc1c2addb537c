"""sync_data's work: reconcile the job table with what the queues can still deliver.

A job still STARTED or PROGRESS past its hard time limit plus its queue's visibility timeout
will never be finished by a worker: it is marked FAILURE (JobStore.mark_lost), conditional on
the attempt seen, so a rerun or a worker that picked the job up is never overwritten.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Protocol

from skylane.core.settings import get_settings
from skylane.jobs.contracts import TASKS, QueueName, longest_time_limit
from skylane.jobs.states import JobState
from skylane.jobs.store import JobRecord, utcnow
from skylane.observability.logs import logger

# Beyond a hard time limit plus a visibility timeout: the time a redelivered message may wait
# behind others before a worker receives it.
REDELIVERY_MARGIN = timedelta(seconds=60)
_RUNNING = frozenset({JobState.STARTED, JobState.PROGRESS})


class ReconciledStore(Protocol):
    def jobs_created_on(self, day: date) -> Sequence[JobRecord]: ...

    def mark_lost(self, job_id: str, seen_started_at: str, reason: str) -> bool: ...


@dataclass(frozen=True)
class Reconciliation:
    checked: int
    marked_lost: list[str]


def lost_after(task: str, visibility_timeout_seconds: int) -> tuple[timedelta, QueueName]:
    """How long after its last start a running job of `task` is certainly lost, and its queue.

    A task this worker does not know (renamed, or sent by a newer producer) gets the default
    queue's longest time limit.
    """
    spec = TASKS.get(task)
    queue = spec.queue if spec else QueueName.DEFAULT
    time_limit = spec.time_limit if spec else longest_time_limit(queue)
    return timedelta(seconds=time_limit + visibility_timeout_seconds) + REDELIVERY_MARGIN, queue


def reconcile_running_jobs(
    store: ReconciledStore,
    now: datetime | None = None,
    visibility_timeout_seconds: int | None = None,
) -> Reconciliation:
    """Mark lost every running job created today or yesterday (UTC) that is past its deadline.

    Two days suffice: this runs hourly and the longest deadline is about an hour, so every job
    is examined many times before it leaves the window.
    """
    moment = now or utcnow()
    visibility = visibility_timeout_seconds or get_settings().queue_visibility_timeout_seconds
    today = moment.astimezone(UTC).date()
    running = [
        job
        for day in (today - timedelta(days=1), today)
        for job in store.jobs_created_on(day)
        if job.state in _RUNNING
    ]
    marked: list[str] = []
    for job in running:
        started_at = job.last_started_at
        deadline, queue = lost_after(job.task, visibility)
        if started_at is None or moment - datetime.fromisoformat(started_at) <= deadline:
            continue
        reason = (
            f"Job lost: still {job.state.value} {int(deadline.total_seconds())} s after its "
            f"last start, so no worker will finish it (its worker stopped and the message was "
            f"moved to the {queue.value} dead-letter queue after repeated deliveries, or was lost)"
        )
        if store.mark_lost(job.job_id, started_at, reason):
            logger.warning(
                "running job marked lost",
                extra={"job_id": job.job_id, "task": job.task, "queue": queue.value},
            )
            marked.append(job.job_id)
    return Reconciliation(checked=len(running), marked_lost=marked)
