"""The two presentations of one job record: Celery's (/task/{id}) and RQ's (/job/{id})."""

from collections.abc import Callable
from typing import Any

from skylane.jobs import JobRecord
from skylane.states import JobState

STATUS_TEXT = {
    JobState.PENDING: "Job is waiting in the queue",
    JobState.STARTED: "Job has started",
    JobState.PROGRESS: "Job is in progress",
    JobState.RETRY: "Job failed and will be retried",
    JobState.SUCCESS: "Job completed",
    JobState.FAILURE: "Job failed",
    JobState.REVOKED: "Job was cancelled",
}

# RQ's job statuses for the same states.
RQ_STATUS = {
    JobState.PENDING: "queued",
    JobState.STARTED: "started",
    JobState.PROGRESS: "started",
    JobState.RETRY: "scheduled",
    JobState.SUCCESS: "finished",
    JobState.FAILURE: "failed",
    JobState.REVOKED: "canceled",
}

# Turns a stored result's report key into a link the client can open.
ReportLinker = Callable[[str], str]


def presented_result(result: Any, link_report: ReportLinker) -> Any:
    """The stored result, with a fresh presigned `url` where it names a report object.

    The link is made at read time so it is always valid for its full lifetime.
    """
    if isinstance(result, dict) and isinstance(result.get("report_key"), str):
        return {**result, "url": link_report(result["report_key"])}
    return result


def celery_view(record: JobRecord, link_report: ReportLinker) -> dict[str, Any]:
    view: dict[str, Any] = {"state": record.state.value, "status": STATUS_TEXT[record.state]}
    if record.state is JobState.PROGRESS:
        current = record.current or 0
        total = record.total or 1
        view.update(current=current, total=total, progress=f"{current / total * 100:.1f}%")
    elif record.state is JobState.SUCCESS:
        view["result"] = presented_result(record.result, link_report)
    elif record.state in (JobState.FAILURE, JobState.RETRY):
        view["error"] = record.error
    return view


def rq_view(record: JobRecord, link_report: ReportLinker) -> dict[str, Any]:
    view: dict[str, Any] = {
        "job_id": record.job_id,
        "status": RQ_STATUS[record.state],
        "created_at": record.created_at or None,
        "started_at": record.started_at,
        "ended_at": record.ended_at,
    }
    if record.state is JobState.SUCCESS:
        view["result"] = presented_result(record.result, link_report)
    elif record.state is JobState.FAILURE:
        view["error"] = record.error
    return view
