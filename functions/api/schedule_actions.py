"""What /schedules does: the runtime schedules of the stack's group, and the template's,
read-only. The routes (functions/api/routes/schedules.py) import this on first use, so a cold
start that serves no schedule request skips the schedules modules (README: *Cold start*).

EventBridge calls live in skylane/schedules/runtime.py, runs in skylane/schedules/runs.py.
"""

import re
import uuid
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from fastapi import HTTPException, status
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from functions.api.schedule_schemas import (
    TASK_KWARGS,
    ScheduleCreate,
    ScheduleDetail,
    ScheduleFields,
    ScheduleFired,
    ScheduleList,
    ScheduleView,
    kwargs_model,
)
from functions.api.schemas import JobSummary
from functions.api.views import summary_view
from skylane.jobs.contracts import TASKS
from skylane.jobs.store import JobStore
from skylane.schedules import runtime as runtime_schedules
from skylane.schedules.expressions import ScheduleExpressionError
from skylane.schedules.invocations import ScheduledInvocation, enqueue_scheduled
from skylane.schedules.overlap import Overlap
from skylane.schedules.runs import RunState, ScheduleRuns
from skylane.schedules.runtime import (
    DISABLED,
    ENABLED,
    TEMPLATE_GROUP,
    RuntimeSchedule,
    ScheduleExists,
    ScheduleNotFound,
    runtime_group,
    schedule_arn,
)


def _checked_kwargs(task: str, kwargs: dict[str, Any]) -> dict[str, Any]:
    """The task's kwargs as its job endpoint would accept them; 422 naming the field if not."""
    model = kwargs_model(task)
    if model is None or task not in TASKS:
        known = ", ".join(sorted(TASK_KWARGS))
        raise RequestValidationError(
            [
                {
                    "loc": ("body", "task"),
                    "msg": f"unknown task {task!r}: expected one of {known}",
                    "type": "value_error",
                }
            ]
        )
    try:
        return model.model_validate(kwargs).model_dump(mode="json", exclude_none=True)
    except ValidationError as error:
        raise RequestValidationError(
            [
                {**detail, "loc": ("body", "kwargs", *detail["loc"])}
                for detail in error.errors(include_url=False, include_context=False)
            ]
        ) from error


def _refused(field: str, error: Exception) -> RequestValidationError:
    return RequestValidationError(
        [{"loc": ("body", field), "msg": str(error), "type": "value_error"}]
    )


def _view(schedule: RuntimeSchedule, runs: RunState, read_only: bool) -> dict[str, Any]:
    return {
        "name": schedule.name,
        "task": schedule.task,
        "kwargs": schedule.kwargs,
        "expression": schedule.expression,
        "timezone": schedule.timezone,
        "start_date": schedule.start_date,
        "end_date": schedule.end_date,
        "flexible_window_minutes": schedule.flexible_window_minutes,
        "overlap": schedule.overlap,
        "state": schedule.state,
        "description": schedule.description,
        "read_only": read_only,
        "one_off": schedule.one_off,
        "next_runs": schedule.next_runs(datetime.now(UTC)),
        "last_run_at": runs.last_run_at,
        "run_count": runs.run_count,
        "held": None
        if runs.held is None
        else {"job_id": runs.held.job_id, "held_at": runs.held_at, "behind": runs.current_job},
    }


# EventBridge's rule for a schedule's name: any other names no schedule (and boto3 would
# refuse to send it).
NAME = re.compile(r"[0-9a-zA-Z_.-]{1,64}")


def _named(name: str) -> str:
    if not NAME.fullmatch(name):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"No schedule named {name}")
    return name


def _template(name: str) -> RuntimeSchedule | None:
    return next((s for s in runtime_schedules.template_schedules() if s.name == name), None)


def _runtime_or_404(name: str) -> RuntimeSchedule:
    _named(name)
    try:
        return runtime_schedules.get(name)
    except ScheduleNotFound as error:
        if _template(name) is not None:
            raise HTTPException(
                status.HTTP_409_CONFLICT,
                f"Schedule {name} is declared in template.yaml and is read-only here",
            ) from error
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"No schedule named {name}") from error


def _written(schedule: RuntimeSchedule, create: bool) -> RuntimeSchedule:
    try:
        if create:
            return runtime_schedules.create(schedule)
        return runtime_schedules.update(schedule)
    except ScheduleExpressionError as error:
        raise _refused("expression", error) from error
    except ScheduleExists as error:
        raise HTTPException(status.HTTP_409_CONFLICT, str(error)) from error
    except ScheduleNotFound as error:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(error)) from error
    except ValueError as error:
        raise _refused("schedule", error) from error


def list_all() -> ScheduleList:
    runs = ScheduleRuns.from_settings()
    views = [
        _view(schedule, runs.state(runtime_group(), schedule.name), read_only=False)
        for schedule in runtime_schedules.list_all()
    ] + [
        _view(schedule, runs.state(TEMPLATE_GROUP, schedule.name), read_only=True)
        for schedule in runtime_schedules.template_schedules()
    ]
    return ScheduleList(schedules=[ScheduleView.model_validate(view) for view in views])


def create(request: ScheduleCreate) -> ScheduleView:
    if _template(request.name) is not None:
        raise HTTPException(
            status.HTTP_409_CONFLICT, f"Schedule {request.name} is declared in template.yaml"
        )
    schedule = RuntimeSchedule(
        name=request.name,
        task=request.task,
        expression=request.expression,
        kwargs=_checked_kwargs(request.task, request.kwargs or {}),
        timezone=request.timezone or "UTC",
        start_date=request.start_date,
        end_date=request.end_date,
        flexible_window_minutes=request.flexible_window_minutes,
        overlap=request.overlap or Overlap.ALLOW,
        state=DISABLED if request.enabled is False else ENABLED,
        description=request.description or "",
    )
    written = _written(schedule, create=True)
    # A schedule that had this name before (a one-off that deleted itself) left its counters.
    ScheduleRuns.from_settings().forget(runtime_group(), request.name)
    return ScheduleView.model_validate(_view(written, RunState(), read_only=False))


def detail(name: str) -> ScheduleDetail:
    _named(name)
    try:
        schedule = runtime_schedules.get(name)
        read_only = False
    except ScheduleNotFound as error:
        template = _template(name)
        if template is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"No schedule named {name}") from error
        schedule, read_only = template, True
    group = TEMPLATE_GROUP if read_only else runtime_group()
    runs = ScheduleRuns.from_settings().state(group, name)
    store = JobStore.from_settings()
    records = [record for job_id in runs.recent_runs if (record := store.get(job_id))]
    return ScheduleDetail.model_validate(
        {
            **_view(schedule, runs, read_only),
            "runs": [JobSummary.model_validate(summary_view(record)) for record in records],
        }
    )


def update(name: str, request: ScheduleFields) -> ScheduleView:
    current = _runtime_or_404(name)
    given = request.model_dump(exclude_unset=True)
    task = given.get("task") or current.task
    kwargs = given.get("kwargs", current.kwargs if task == current.task else {})
    changes: dict[str, Any] = {
        key: value
        for key, value in given.items()
        if key
        in {
            "expression",
            "timezone",
            "start_date",
            "end_date",
            "flexible_window_minutes",
            "overlap",
            "description",
        }
    }
    if given.get("enabled") is not None:
        changes["state"] = ENABLED if given["enabled"] else DISABLED
    updated = replace(current, task=task, kwargs=_checked_kwargs(task, kwargs or {}), **changes)
    written = _written(updated, create=False)
    state = ScheduleRuns.from_settings().state(runtime_group(), name)
    return ScheduleView.model_validate(_view(written, state, read_only=False))


def delete(name: str) -> None:
    _runtime_or_404(name)
    try:
        runtime_schedules.delete(name)
    except ScheduleNotFound as error:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(error)) from error
    ScheduleRuns.from_settings().forget(runtime_group(), name)


def _set_state(name: str, state: str) -> ScheduleView:
    _runtime_or_404(name)
    try:
        written = runtime_schedules.set_state(name, state)
    except ScheduleNotFound as error:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(error)) from error
    runs = ScheduleRuns.from_settings().state(runtime_group(), name)
    return ScheduleView.model_validate(_view(written, runs, read_only=False))


def pause(name: str) -> ScheduleView:
    return _set_state(name, DISABLED)


def resume(name: str) -> ScheduleView:
    return _set_state(name, ENABLED)


def fire(name: str) -> ScheduleFired:
    _named(name)
    try:
        schedule = runtime_schedules.get(name)
        group = runtime_group()
    except ScheduleNotFound as error:
        template = _template(name)
        if template is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"No schedule named {name}") from error
        schedule, group = template, TEMPLATE_GROUP
    invocation = ScheduledInvocation(
        spec=TASKS[schedule.task],
        kwargs=schedule.kwargs,
        delivery_id=f"fire-{uuid.uuid4()}",
        scheduled_time=None,
        schedule=schedule_arn(name, group),
        runtime_name=name if group != TEMPLATE_GROUP else None,
        overlap=schedule.overlap,
    )
    job = enqueue_scheduled(invocation)
    return ScheduleFired(
        schedule=name,
        job_id=job.job_id,
        started=job.skipped_for is None and job.held_for is None and not job.duplicate,
        skipped_for=job.skipped_for,
        held_for=job.held_for,
    )
