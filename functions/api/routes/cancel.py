"""Cancellation: Celery's revoke and RQ's cancel, as one conditional write to the job record.

SQS has no broadcast to reach a worker, so the record is the signal: a queued job is skipped
when a worker picks it up, a running one stops at its next progress write.
"""

from typing import Any
from uuid import UUID

from fastapi import APIRouter, HTTPException, status

from functions.api import views
from functions.api.batches import revoke_with_parts
from functions.api.cold_start import RouteBuiltOnFirstUse
from functions.api.routes.status import link_report
from skylane.jobs.store import JobAlreadyFinished, JobNotFound, JobRecord, JobStore
from skylane.schedules import invocations

router = APIRouter(tags=["status"], route_class=RouteBuiltOnFirstUse)

_RESPONSES: dict[int | str, dict[str, Any]] = {
    status.HTTP_404_NOT_FOUND: {"description": "No job with this id"},
    status.HTTP_409_CONFLICT: {"description": "The job already finished; nothing to cancel"},
}


@router.post("/task/{task_id}/cancel", responses=_RESPONSES)
def cancel_task(task_id: UUID) -> dict[str, Any]:
    """Revoke a queued, running or retrying job; answers Celery's view of it (REVOKED)."""
    return views.celery_view(_revoke(task_id), link_report)


@router.post("/job/{job_id}/cancel", responses=_RESPONSES)
def cancel_job(job_id: UUID) -> dict[str, Any]:
    """RQ's cancel for the same record; answers RQ's view of it (canceled)."""
    return views.rq_view(_revoke(job_id), link_report)


def _revoke(job_id: UUID) -> JobRecord:
    try:
        # A batch (a chord's body) takes its unfinished parts with it.
        record = revoke_with_parts(JobStore.from_settings(), str(job_id))
    except JobNotFound as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from exc
    except JobAlreadyFinished as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from exc
    # A cancelled run of a buffer_one schedule lets the run held behind it start.
    invocations.release_after(record)
    return record
