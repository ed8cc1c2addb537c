"""The job list and a job in full: what the dashboard shows, for any client.

Only ids travel in URLs (filters are state and task names); job data is in bodies, so the
access logs of API Gateway hold no inputs or results.
"""

from enum import StrEnum
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, HTTPException, Query, status

from functions.api import job_listing, job_logs, views
from functions.api.cold_start import RouteBuiltOnFirstUse
from functions.api.routes.status import link_report, record_or_404
from functions.api.schemas import MAX_PAGE, JobDetail, JobList, JobSummary
from skylane.core.aws import client
from skylane.core.settings import get_settings
from skylane.jobs.contracts import TASKS
from skylane.jobs.states import JobState

router = APIRouter(tags=["status"], route_class=RouteBuiltOnFirstUse)

NOT_REQUESTED = "log lines not requested (logs=false)"

# The known task names, so OpenAPI lists them and an unknown one is a 422.
TaskName = StrEnum("TaskName", {spec.kind: name for name, spec in TASKS.items()})  # type: ignore[misc]


@router.get(
    "/jobs",
    responses={status.HTTP_400_BAD_REQUEST: {"description": "The cursor is not one this API gave"}},
)
def get_jobs(
    state: Annotated[JobState | None, Query(description="Only jobs in this state")] = None,
    task: Annotated[TaskName | None, Query(description="Only jobs of this task")] = None,
    cursor: Annotated[
        str | None,
        Query(max_length=512, description="`next_cursor` of the previous page"),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE, description="Jobs per page at most")] = 25,
) -> JobList:
    """Recent jobs, newest first, a page at a time (jobs live for JOB_TTL_DAYS days)."""
    try:
        page = job_listing.list_jobs(
            get_settings().jobs_table,
            limit=limit,
            state=state,
            task=task.value if task is not None else None,
            cursor=cursor,
        )
    except job_listing.InvalidCursor as exc:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, f"Invalid cursor: {exc}") from exc
    return JobList(
        jobs=[JobSummary.model_validate(views.summary_view(record)) for record in page.jobs],
        next_cursor=page.next_cursor,
    )


@router.get("/jobs/{job_id}", responses={status.HTTP_404_NOT_FOUND: {"description": "No job"}})
def get_job_detail(
    job_id: UUID,
    logs: Annotated[
        bool,
        Query(
            description="Search CloudWatch Logs for the job's lines. A client polling the "
            "detail can pass false between searches: FilterLogEvents has a low account-wide "
            "rate quota."
        ),
    ] = True,
) -> JobDetail:
    """A job in full: inputs, timestamps, attempts, result or error, and its log lines."""
    record = record_or_404(job_id)
    found = (
        job_logs.job_logs(client("logs"), job_logs.log_groups(get_settings()), record)
        if logs
        else job_logs.JobLogs(None, NOT_REQUESTED)
    )
    return JobDetail.model_validate(
        {**views.detail_view(record, link_report), "logs": found.lines, "logs_reason": found.reason}
    )
