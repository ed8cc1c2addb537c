"""Schedules as data: the runtime schedules of the stack's group, and the template's, read-only.

Thin: what each route does is in functions/api/schedule_actions.py, which the Lambda handler
defers to its first use (ROUTE_HELPERS), so a cold start that serves no schedule request never
imports the schedules modules (README: *Cold start in the Lambda runtime*).
"""

from typing import Any

from fastapi import APIRouter, status

from functions.api import schedule_actions
from functions.api.cold_start import RouteBuiltOnFirstUse
from functions.api.schedule_schemas import (
    ScheduleCreate,
    ScheduleDetail,
    ScheduleFields,
    ScheduleFired,
    ScheduleList,
    ScheduleView,
)

router = APIRouter(tags=["schedules"], route_class=RouteBuiltOnFirstUse)

Responses = dict[int | str, dict[str, Any]]
NOT_FOUND: Responses = {status.HTTP_404_NOT_FOUND: {"description": "No schedule by that name"}}
READ_ONLY: Responses = {
    status.HTTP_409_CONFLICT: {"description": "Declared in template.yaml: read-only"}
}


@router.get("/schedules")
def list_schedules() -> ScheduleList:
    """Every runtime schedule, then the template's (read-only), with their next runs."""
    return schedule_actions.list_all()


@router.post("/schedules", status_code=status.HTTP_201_CREATED, responses=READ_ONLY)
def create_schedule(request: ScheduleCreate) -> ScheduleView:
    """A new schedule in the stack's group, delivering its task to SchedulerFunction."""
    return schedule_actions.create(request)


@router.get("/schedules/{name}", responses=NOT_FOUND)
def get_schedule(name: str) -> ScheduleDetail:
    """A schedule with its next runs, run count, last run, and its last runs as jobs."""
    return schedule_actions.detail(name)


@router.patch("/schedules/{name}", responses={**NOT_FOUND, **READ_ONLY})
def update_schedule(name: str, request: ScheduleFields) -> ScheduleView:
    """Change some fields; the rest stay. EventBridge applies it at once."""
    return schedule_actions.update(name, request)


@router.delete(
    "/schedules/{name}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={**NOT_FOUND, **READ_ONLY},
)
def delete_schedule(name: str) -> None:
    """The schedule stops at once; its runs' job records stay."""
    schedule_actions.delete(name)


@router.post("/schedules/{name}/pause", responses={**NOT_FOUND, **READ_ONLY})
def pause_schedule(name: str) -> ScheduleView:
    """No runs until resumed (EventBridge's DISABLED state)."""
    return schedule_actions.pause(name)


@router.post("/schedules/{name}/resume", responses={**NOT_FOUND, **READ_ONLY})
def resume_schedule(name: str) -> ScheduleView:
    """Runs again from its next occurrence; missed ones are not made up."""
    return schedule_actions.resume(name)


@router.post("/schedules/{name}/fire", responses=NOT_FOUND)
def fire_schedule(name: str) -> ScheduleFired:
    """Run now, as one more delivery of the schedule (its overlap policy applies)."""
    return schedule_actions.fire(name)
