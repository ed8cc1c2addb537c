"""Endpoints that report a job's state: the Celery view and the RQ view of one record."""

from typing import Any
from uuid import UUID

from fastapi import APIRouter, HTTPException, status

from functions.api import upload_objects, views
from functions.api.cold_start import RouteBuiltOnFirstUse
from skylane.core.settings import get_settings
from skylane.jobs.store import JobRecord, JobStore

router = APIRouter(tags=["status"], route_class=RouteBuiltOnFirstUse)


@router.get("/task/{task_id}")
def get_task_status(task_id: UUID) -> dict[str, Any]:
    """Celery's view: state, status, and progress / result / error as the state has them."""
    return views.celery_view(record_or_404(task_id), link_report)


@router.get("/job/{job_id}")
def get_job_status(job_id: UUID) -> dict[str, Any]:
    """RQ's view of the same record: status and ISO 8601 UTC timestamps."""
    return views.rq_view(record_or_404(job_id), link_report)


def record_or_404(job_id: UUID) -> JobRecord:
    # Celery answers PENDING for any id it has never seen; a record per job lets us say 404.
    record = JobStore.from_settings().get(str(job_id))
    if record is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"No job with id {job_id}")
    return record


def link_report(key: str) -> str:
    return upload_objects.presign_download(get_settings().reports_bucket, key)
