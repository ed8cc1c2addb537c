"""Scheduled invocations (EventBridge, replacing Celery Beat) turned into jobs, exactly once.

EventBridge delivers at least once, so the job id is derived from the delivery's own id
(Scheduler's execution id, or a rule event's id) and the job record's write is conditional:
a second delivery of the same event finds the record and enqueues nothing.
"""

import uuid
from dataclasses import dataclass
from typing import Any

from skylane.jobs.contracts import TASKS, TaskSpec
from skylane.jobs.store import JobExists
from skylane.jobs.submission import lane_of, submit_job
from skylane.observability.logs import logger

# Fixed forever: changing it would let a redelivered event enqueue its job a second time.
SCHEDULE_NAMESPACE = uuid.UUID("6f1d3c9e-8a53-4d4e-9b3a-5c2f7d1e0a42")
MAX_ID_LENGTH = 256


class InvalidScheduledEvent(ValueError):
    """The event does not name a scheduled task correctly: the invocation must fail loudly."""


@dataclass(frozen=True)
class ScheduledInvocation:
    spec: TaskSpec
    kwargs: dict[str, Any]
    delivery_id: str
    scheduled_time: str | None
    schedule: str | None

    @property
    def job_id(self) -> str:
        return str(uuid.uuid5(SCHEDULE_NAMESPACE, f"{self.delivery_id}/{self.spec.name}"))


@dataclass(frozen=True)
class ScheduledJob:
    job_id: str
    task: str
    duplicate: bool


def periodic_task_names() -> list[str]:
    return sorted(name for name, spec in TASKS.items() if spec.periodic)


def parse_invocation(event: Any) -> ScheduledInvocation:
    """Read an EventBridge Scheduler input, or an EventBridge rule's scheduled event.

    Scheduler (template.yaml): {"task", "kwargs", "execution_id", "scheduled_time", "schedule"}.
    Rule: {"id", "detail-type": "Scheduled Event", "time", "resources", "detail": {"task", "kwargs"}}.
    """
    if not isinstance(event, dict):
        raise InvalidScheduledEvent(f"expected a JSON object, got {type(event).__name__}")
    if event.get("detail-type") == "Scheduled Event":
        body = event.get("detail")
        delivery_id = event.get("id")
        scheduled_time = event.get("time")
        resources = event.get("resources") or [None]
        schedule = resources[0]
    else:
        body = event
        delivery_id = event.get("execution_id")
        scheduled_time = event.get("scheduled_time")
        schedule = event.get("schedule")
    if not isinstance(body, dict):
        raise InvalidScheduledEvent("the event carries no task (expected an object with 'task')")
    task = body.get("task")
    spec = TASKS.get(task) if isinstance(task, str) else None
    if spec is None or not spec.periodic:
        raise InvalidScheduledEvent(
            f"unknown scheduled task {task!r}: expected one of {', '.join(periodic_task_names())}"
        )
    kwargs = body.get("kwargs", {})
    if not isinstance(kwargs, dict):
        raise InvalidScheduledEvent(f"'kwargs' of {task} must be an object, got {kwargs!r}")
    if not isinstance(delivery_id, str) or not delivery_id or len(delivery_id) > MAX_ID_LENGTH:
        raise InvalidScheduledEvent(
            "the event has no usable delivery id (Scheduler's execution_id or the event's id), "
            "so a duplicate delivery could not be recognised"
        )
    return ScheduledInvocation(
        spec=spec,
        kwargs=kwargs,
        delivery_id=delivery_id,
        scheduled_time=scheduled_time if isinstance(scheduled_time, str) else None,
        schedule=schedule if isinstance(schedule, str) else None,
    )


def enqueue_scheduled(invocation: ScheduledInvocation) -> ScheduledJob:
    keys = {
        "job_id": invocation.job_id,
        "task": invocation.spec.name,
        "queue": lane_of(invocation.spec).value,
        "schedule": invocation.schedule,
        "scheduled_time": invocation.scheduled_time,
    }
    try:
        submit_job(invocation.spec, invocation.kwargs, job_id=invocation.job_id)
    except JobExists:
        logger.info("duplicate scheduled delivery: job already accepted", extra=keys)
        return ScheduledJob(job_id=invocation.job_id, task=invocation.spec.name, duplicate=True)
    logger.info("scheduled job enqueued", extra=keys)
    return ScheduledJob(job_id=invocation.job_id, task=invocation.spec.name, duplicate=False)
