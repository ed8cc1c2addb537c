"""Runtime schedules: EventBridge Scheduler schedules in the stack's own group, as data.

EventBridge keeps all of a schedule: expression, time zone, dates, window and state, and in the
target's input (what SchedulerFunction receives) the task, its kwargs and the overlap policy.
Run counters are in skylane/schedules/runs.py; expressions are checked before they are sent.
"""

import json
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from skylane.core.aws import client
from skylane.core.outages import unavailable_as
from skylane.core.settings import get_settings
from skylane.schedules.expressions import (
    AtExpression,
    ScheduleExpression,
    next_occurrences,
    parse,
)
from skylane.schedules.overlap import Overlap

ENABLED, DISABLED = "ENABLED", "DISABLED"
# SAM puts the template's ScheduleV2 events in the account's default group.
TEMPLATE_GROUP = "default"
# The payload's placeholders, filled by Scheduler at each delivery (as in template.yaml).
DELIVERY_FIELDS = {
    "execution_id": "<aws.scheduler.execution-id>",
    "scheduled_time": "<aws.scheduler.scheduled-time>",
    "schedule": "<aws.scheduler.schedule-arn>",
}
# CreateSchedule refuses a StartDate further back than this.
START_DATE_GRACE = timedelta(minutes=5)
# As the template's schedules retry their deliveries.
RETRY_POLICY = {"MaximumRetryAttempts": 2, "MaximumEventAgeInSeconds": 3600}


class ScheduleNotFound(LookupError):
    pass


class ScheduleExists(ValueError):
    pass


class ScheduleRefused(ValueError):
    """EventBridge refused the schedule (ValidationException), saying why."""


@dataclass(frozen=True)
class RuntimeSchedule:
    name: str
    task: str
    expression: str
    kwargs: dict[str, Any] = field(default_factory=dict)
    timezone: str = "UTC"
    start_date: datetime | None = None
    end_date: datetime | None = None
    # Minutes EventBridge may delay each run by (its FLEXIBLE mode); None: on time ("OFF").
    flexible_window_minutes: int | None = None
    overlap: Overlap = Overlap.ALLOW
    state: str = ENABLED
    description: str = ""
    created_at: datetime | None = None
    modified_at: datetime | None = None

    @property
    def one_off(self) -> bool:
        return self.expression.startswith("at(")

    def parsed(self) -> ScheduleExpression:
        """The expression, checked as Scheduler checks it (ScheduleExpressionError if not)."""
        return parse(self.expression, self.timezone, self.start_date or self.created_at)

    def next_runs(self, now: datetime, count: int = 3) -> list[datetime]:
        if self.state != ENABLED:
            return []
        after = max(now, self.start_date) if self.start_date else now
        runs = next_occurrences(self.parsed(), after - _TICK, count)
        return [run for run in runs if self.end_date is None or run <= self.end_date]


_TICK = datetime.resolution


def check(schedule: RuntimeSchedule, now: datetime) -> None:
    """What CreateSchedule refuses (ValidationException) and moto does not: ValueError, why."""
    expression = schedule.parsed()
    if schedule.start_date and schedule.end_date and schedule.end_date <= schedule.start_date:
        raise ValueError("end_date must be after start_date")
    if schedule.end_date is not None and schedule.end_date <= now:
        raise ValueError("end_date must be in the future")
    if isinstance(expression, AtExpression) and expression.next_after(now) is None:
        raise ValueError(f"{schedule.expression} is in the past: it would never run")


def runtime_group() -> str:
    return get_settings().schedule_group


def group_and_name(arn: str) -> tuple[str, str] | None:
    """A Scheduler schedule's group and name, from its ARN; None for any other ARN."""
    _, found, path = arn.rpartition(":schedule/")
    if not found or "/" not in path:
        return None
    group, name = path.split("/", 1)
    return group, name


def runtime_schedule_name(arn: str) -> str | None:
    """The name of a schedule in the stack's group, from its ARN; None for any other."""
    group, found = runtime_group(), group_and_name(arn)
    if not group or found is None:
        return None
    return found[1] if found[0] == group else None


def _scheduler() -> Any:
    return client("scheduler")


def _request(schedule: RuntimeSchedule) -> dict[str, Any]:
    settings = get_settings()
    payload = {
        "task": schedule.task,
        "kwargs": schedule.kwargs,
        "overlap": schedule.overlap.value,
        **DELIVERY_FIELDS,
    }
    target: dict[str, Any] = {
        "Arn": settings.scheduler_function_arn,
        "RoleArn": settings.scheduler_invoke_role_arn,
        "Input": json.dumps(payload),
        "RetryPolicy": RETRY_POLICY,
    }
    if settings.schedule_dlq_arn:
        target["DeadLetterConfig"] = {"Arn": settings.schedule_dlq_arn}
    window = (
        {"Mode": "OFF"}
        if schedule.flexible_window_minutes is None
        else {"Mode": "FLEXIBLE", "MaximumWindowInMinutes": schedule.flexible_window_minutes}
    )
    request: dict[str, Any] = {
        "Name": schedule.name,
        "GroupName": runtime_group(),
        "ScheduleExpression": schedule.expression,
        "ScheduleExpressionTimezone": schedule.timezone,
        "FlexibleTimeWindow": window,
        "Target": target,
        "State": schedule.state,
        "Description": schedule.description,
        # A one-off schedule deletes itself once it ran, as Beat's one_off tasks disable.
        "ActionAfterCompletion": "DELETE" if schedule.one_off else "NONE",
    }
    if schedule.start_date is not None:
        request["StartDate"] = schedule.start_date
    if schedule.end_date is not None:
        request["EndDate"] = schedule.end_date
    return request


def _instant(value: Any) -> datetime | None:
    """A date as boto3 returns it (a datetime), or as moto stores what it was sent (epoch)."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.astimezone(UTC)
    return datetime.fromtimestamp(float(value), UTC)


def from_eventbridge(answer: dict[str, Any]) -> RuntimeSchedule:
    """A GetSchedule answer as a runtime schedule (ValueError if its input is not ours)."""
    payload = json.loads(answer["Target"].get("Input") or "{}")
    if not isinstance(payload, dict) or not isinstance(payload.get("task"), str):
        raise ValueError(f"schedule {answer['Name']} does not deliver a skylane task")
    window = answer.get("FlexibleTimeWindow") or {}
    return RuntimeSchedule(
        name=answer["Name"],
        task=payload["task"],
        kwargs=payload.get("kwargs") or {},
        expression=answer["ScheduleExpression"],
        timezone=answer.get("ScheduleExpressionTimezone") or "UTC",
        start_date=_instant(answer.get("StartDate")),
        end_date=_instant(answer.get("EndDate")),
        flexible_window_minutes=window.get("MaximumWindowInMinutes")
        if window.get("Mode") == "FLEXIBLE"
        else None,
        overlap=Overlap(payload.get("overlap", Overlap.ALLOW.value)),
        state=answer.get("State") or ENABLED,
        description=answer.get("Description") or "",
        created_at=_instant(answer.get("CreationDate")),
        modified_at=_instant(answer.get("LastModificationDate")),
    )


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def create(schedule: RuntimeSchedule) -> RuntimeSchedule:
    now = datetime.now(UTC)
    check(schedule, now)
    if schedule.start_date is not None and schedule.start_date < now - START_DATE_GRACE:
        raise ValueError("start_date cannot be earlier than 5 minutes ago (EventBridge's rule)")
    try:
        with unavailable_as("EventBridge Scheduler"):
            _scheduler().create_schedule(**_request(schedule))
    except ClientError as error:
        if _code(error) == "ValidationException":
            raise ScheduleRefused(error.response["Error"].get("Message", str(error))) from error
        if _code(error) == "ConflictException":
            raise ScheduleExists(f"a schedule named {schedule.name!r} exists already") from error
        raise
    return get(schedule.name)


def get(name: str) -> RuntimeSchedule:
    try:
        with unavailable_as("EventBridge Scheduler"):
            answer = _scheduler().get_schedule(Name=name, GroupName=runtime_group())
    except ClientError as error:
        if _code(error) == "ResourceNotFoundException":
            raise ScheduleNotFound(f"no schedule named {name!r}") from error
        raise
    return from_eventbridge(dict(answer))


def update(schedule: RuntimeSchedule) -> RuntimeSchedule:
    """UpdateSchedule replaces the whole schedule, so every field is sent again."""
    check(schedule, datetime.now(UTC))
    try:
        with unavailable_as("EventBridge Scheduler"):
            _scheduler().update_schedule(**_request(schedule))
    except ClientError as error:
        if _code(error) == "ValidationException":
            raise ScheduleRefused(error.response["Error"].get("Message", str(error))) from error
        if _code(error) == "ResourceNotFoundException":
            raise ScheduleNotFound(f"no schedule named {schedule.name!r}") from error
        raise
    return get(schedule.name)


def set_state(name: str, state: str) -> RuntimeSchedule:
    current = get(name)
    if current.state == state:
        return current
    return update(replace(current, state=state))


def delete(name: str) -> None:
    try:
        with unavailable_as("EventBridge Scheduler"):
            _scheduler().delete_schedule(Name=name, GroupName=runtime_group())
    except ClientError as error:
        if _code(error) == "ResourceNotFoundException":
            raise ScheduleNotFound(f"no schedule named {name!r}") from error
        raise


def list_all() -> list[RuntimeSchedule]:
    """Every schedule of the group, by name (ListSchedules, then GetSchedule for each)."""
    scheduler = _scheduler()
    names: list[str] = []
    with unavailable_as("EventBridge Scheduler"):
        for page in scheduler.get_paginator("list_schedules").paginate(GroupName=runtime_group()):
            names += [summary["Name"] for summary in page["Schedules"]]
    found = []
    for name in sorted(names):
        try:
            found.append(get(name))
        except ScheduleNotFound:
            continue  # deleted in between (a one-off that just ran)
    return found


def template_schedules() -> list[RuntimeSchedule]:
    """The template's schedules (the default group's that deliver to SchedulerFunction).

    Read-only through the API; found by their target, so no name is assumed.
    """
    scheduler = _scheduler()
    function_arn = get_settings().scheduler_function_arn
    found = []
    with unavailable_as("EventBridge Scheduler"):
        pages = scheduler.get_paginator("list_schedules").paginate(GroupName=TEMPLATE_GROUP)
        for page in pages:
            for summary in page["Schedules"]:
                if summary.get("Target", {}).get("Arn") != function_arn:
                    continue
                answer = scheduler.get_schedule(Name=summary["Name"], GroupName=TEMPLATE_GROUP)
                found.append(from_eventbridge(dict(answer)))
    return sorted(found, key=lambda schedule: schedule.name)


def schedule_arn(name: str, group: str) -> str:
    """A schedule's ARN, in the region and account of the function it delivers to."""
    _, partition, _, region, account, _ = get_settings().scheduler_function_arn.split(":", 5)
    return f"arn:{partition}:scheduler:{region}:{account}:schedule/{group}/{name}"
