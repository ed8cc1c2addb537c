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
from skylane.schedules.runs import Overlap, ScheduleRuns
from skylane.schedules.runtime import runtime_group, runtime_schedule_name

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
    # A runtime schedule's (skylane/schedules/runtime.py) name and overlap policy; the
    # template's schedules have neither.
    runtime_name: str | None = None
    overlap: Overlap = Overlap.ALLOW

    @property
    def schedule_name(self) -> str | None:
        """The name its runs' job records carry: the last part of the schedule's ARN."""
        return self.schedule.rsplit("/", 1)[-1] if self.schedule else None

    @property
    def job_id(self) -> str:
        return str(uuid.uuid5(SCHEDULE_NAMESPACE, f"{self.delivery_id}/{self.spec.name}"))


@dataclass(frozen=True)
class ScheduledJob:
    job_id: str
    task: str
    duplicate: bool
    # Not enqueued: the overlap policy dropped this run while ``skipped_for`` is going.
    skipped_for: str | None = None


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
    runtime_name = runtime_schedule_name(schedule) if isinstance(schedule, str) else None
    # The template schedules periodic tasks only; a runtime schedule any task (the API
    # validated its kwargs when the schedule was written).
    allowed = sorted(TASKS) if runtime_name else periodic_task_names()
    if spec is None or spec.name not in allowed:
        raise InvalidScheduledEvent(
            f"unknown scheduled task {task!r}: expected one of {', '.join(allowed)}"
        )
    try:
        overlap = Overlap(body.get("overlap", Overlap.ALLOW.value))
    except ValueError:
        raise InvalidScheduledEvent(
            f"'overlap' must be one of {', '.join(Overlap)}, got {body.get('overlap')!r}"
        ) from None
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
        runtime_name=runtime_name,
        overlap=overlap,
    )


def enqueue_scheduled(invocation: ScheduledInvocation) -> ScheduledJob:
    keys = {
        "job_id": invocation.job_id,
        "task": invocation.spec.name,
        "queue": lane_of(invocation.spec).value,
        "schedule": invocation.schedule,
        "scheduled_time": invocation.scheduled_time,
    }
    if invocation.runtime_name is not None:
        claim = ScheduleRuns.from_settings().claim(
            runtime_group(), invocation.runtime_name, invocation.job_id, invocation.overlap
        )
        if claim.blocked_by is not None:
            logger.info(
                "scheduled run skipped: the previous run is still going",
                extra={**keys, "previous_job_id": claim.blocked_by},
            )
            return ScheduledJob(
                job_id=invocation.job_id,
                task=invocation.spec.name,
                duplicate=False,
                skipped_for=claim.blocked_by,
            )
    try:
        submit_job(
            invocation.spec,
            invocation.kwargs,
            job_id=invocation.job_id,
            schedule=invocation.schedule_name,
        )
    except JobExists:
        logger.info("duplicate scheduled delivery: job already accepted", extra=keys)
        return ScheduledJob(job_id=invocation.job_id, task=invocation.spec.name, duplicate=True)
    logger.info("scheduled job enqueued", extra=keys)
    return ScheduledJob(job_id=invocation.job_id, task=invocation.spec.name, duplicate=False)
