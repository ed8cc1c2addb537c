"""Scheduled invocations (EventBridge, replacing Celery Beat) turned into jobs, exactly once.

EventBridge delivers at least once, so the job id is derived from the delivery's own id
(Scheduler's execution id, or a rule event's id) and the job record's write is conditional:
a second delivery of the same event finds the record and enqueues nothing.
"""

import uuid
from dataclasses import dataclass
from typing import Any

from skylane.jobs.contracts import TASKS, TaskSpec
from skylane.jobs.states import FINAL_STATES
from skylane.jobs.store import JobExists, JobRecord
from skylane.jobs.submission import lane_of, submit_job
from skylane.observability.logs import logger
from skylane.schedules.overlap import Overlap
from skylane.schedules.runs import (
    CLAIM_ATTEMPTS,
    ClaimContention,
    Run,
    RunState,
    ScheduleRuns,
)
from skylane.schedules.runtime import group_and_name, runtime_group, runtime_schedule_name

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
    # Not enqueued yet: buffer_one holds it until ``held_for`` is final.
    held_for: str | None = None


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


def _delivery(invocation: ScheduledInvocation) -> dict[str, Any]:
    """What enqueues ``invocation`` later, kept on the schedule's item while its run is held."""
    return {
        "task": invocation.spec.name,
        "kwargs": invocation.kwargs,
        "delivery_id": invocation.delivery_id,
        "scheduled_time": invocation.scheduled_time,
        "schedule": invocation.schedule,
        "overlap": invocation.overlap.value,
    }


def held_invocation(run: Run) -> ScheduledInvocation:
    """The delivery of a held run, as it came (its job id is the one it was held under)."""
    delivery = run.delivery
    schedule = delivery.get("schedule")
    invocation = ScheduledInvocation(
        spec=TASKS[delivery["task"]],
        kwargs=delivery.get("kwargs") or {},
        delivery_id=delivery["delivery_id"],
        scheduled_time=delivery.get("scheduled_time"),
        schedule=schedule,
        runtime_name=runtime_schedule_name(schedule) if schedule else None,
        overlap=Overlap(delivery.get("overlap", Overlap.BUFFER_ONE.value)),
    )
    assert invocation.job_id == run.job_id, "a held run is enqueued under the id it was held by"
    return invocation


def _runs_of(invocation: ScheduledInvocation) -> tuple[str, str] | None:
    """The group and name whose run-state item counts this run (None: a rule's event)."""
    if invocation.runtime_name is not None:
        return runtime_group(), invocation.runtime_name
    return group_and_name(invocation.schedule) if invocation.schedule else None


def enqueue_scheduled(invocation: ScheduledInvocation) -> ScheduledJob:
    """Claim the run (the overlap policy), then enqueue it; one held before it goes first."""
    keys = _keys(invocation)
    counted = _runs_of(invocation)
    if counted is not None:
        group, name = counted
        runs = ScheduleRuns.from_settings()
        for _ in range(CLAIM_ATTEMPTS):
            claim = runs.claim(
                group, name, invocation.job_id, invocation.overlap, _delivery(invocation)
            )
            if claim.release is None or claim.seen is None:
                break
            # Sent before it is promoted: a crash in between leaves it held behind a final
            # run, which the next delivery or finisher starts (its job id makes a second send
            # a duplicate).
            _submit(held_invocation(claim.release))
            runs.promote(group, name, claim.seen)
        else:
            raise ClaimContention(f"schedule {name}: held runs kept changing")
        if claim.held:
            logger.info(
                "scheduled run held: the previous run is still going",
                extra={**keys, "previous_job_id": claim.blocked_by},
            )
            return ScheduledJob(
                job_id=invocation.job_id,
                task=invocation.spec.name,
                duplicate=claim.duplicate,
                held_for=claim.blocked_by,
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
    return _submit(invocation)


def _keys(invocation: ScheduledInvocation) -> dict[str, Any]:
    return {
        "job_id": invocation.job_id,
        "task": invocation.spec.name,
        "queue": lane_of(invocation.spec).value,
        "schedule": invocation.schedule,
        "scheduled_time": invocation.scheduled_time,
    }


def _submit(invocation: ScheduledInvocation) -> ScheduledJob:
    keys = _keys(invocation)
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


def release_held_run(finished: JobRecord) -> None:
    """``finished`` (a run of a schedule) reached its final state: start the run held behind it.

    Whoever records a final state calls this. The held run is sent first, then promoted to
    the schedule's current run with a write conditional on the item's version, which only one
    finisher (or a delivery doing the same) wins. Any failure leaves it held behind a final
    run, where the schedule's next delivery finds and starts it.
    """
    if finished.schedule is None or finished.state not in FINAL_STATES or not runtime_group():
        return
    group, name = runtime_group(), finished.schedule
    runs = ScheduleRuns.from_settings()
    seen: RunState | None = runs.state(group, name)
    for _ in range(CLAIM_ATTEMPTS):
        if seen is None or seen.held is None:
            return
        if seen.current_job == finished.job_id:
            logger.info(
                "held scheduled run released",
                extra={"job_id": seen.held.job_id, "previous_job_id": finished.job_id},
            )
            _submit(held_invocation(seen.held))
        elif seen.held.job_id != finished.job_id:
            return  # held behind another run
        # (else: this run was sent by a releaser whose promotion has not landed yet, and is
        # over already: it is promoted here, so nothing stays held behind a stale run.)
        seen = runs.promote(group, name, seen)
    logger.error("held scheduled run: promotion kept losing races", extra={"schedule": name})


def release_after(finished: JobRecord | None) -> None:
    """release_held_run for a finisher whose own write is done: never raises (a failure is
    logged, and the schedule's next delivery starts the held run)."""
    if finished is None or finished.schedule is None:
        return
    try:
        release_held_run(finished)
    except Exception:
        logger.exception(
            "held scheduled run not released: the next delivery starts it",
            extra={"job_id": finished.job_id, "schedule": finished.schedule},
        )
