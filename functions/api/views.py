"""Presentations of a job record: Celery's (/task/{id}), RQ's (/job/{id}) and the dashboard's
(/jobs, /jobs/{id})."""

from collections.abc import Callable
from datetime import datetime
from typing import Any

from skylane.jobs.states import FINAL_STATES, JobState
from skylane.jobs.store import JobRecord, iso, utcnow

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


def chord_waiting(record: JobRecord) -> bool:
    """A chord's body (a batch) whose parts are still running: its progress is theirs."""
    return record.chord_size is not None and record.state is JobState.PENDING


def parts_progress(record: JobRecord) -> dict[str, Any]:
    done, size = record.chord_done or 0, max(record.chord_size or 0, 1)
    return {"current": done, "total": size, "progress": f"{done / size * 100:.1f}%"}


def celery_view(record: JobRecord, link_report: ReportLinker) -> dict[str, Any]:
    view: dict[str, Any] = {"state": record.state.value, "status": STATUS_TEXT[record.state]}
    if chord_waiting(record):
        view.update(parts_progress(record), status="Batch parts are running")
    elif record.state is JobState.PROGRESS:
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


def _seconds_between(start: str, end: str) -> float:
    return (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds()


def summary_view(record: JobRecord, now: str | None = None) -> dict[str, Any]:
    """One row of the job list (GET /jobs, the dashboard): no inputs, results or errors.

    duration_seconds: from the first start to the end, or to `now` while the job runs.
    progress: the fraction done (0..1) while the job reports progress.
    """
    now = now or iso(utcnow())
    duration = None
    if record.started_at:
        finished = record.ended_at if record.state in FINAL_STATES else None
        duration = round(_seconds_between(record.started_at, finished or now), 3)
    progress = None
    current, total = record.current, record.total
    if record.state is JobState.PROGRESS and record.total:
        progress = min(1.0, (record.current or 0) / record.total)
    elif chord_waiting(record):
        current, total = record.chord_done or 0, record.chord_size
        progress = min(1.0, current / max(total or 0, 1))
    return {
        "job_id": record.job_id,
        "task": record.task,
        "kind": record.kind,
        "queue": record.queue,
        "state": record.state.value,
        "created_at": record.created_at or None,
        "started_at": record.started_at,
        "ended_at": record.ended_at,
        "attempts": record.attempts,
        "current": current,
        "total": total,
        "progress": progress,
        "duration_seconds": duration,
        "parent_id": record.parent_id,
    }


def detail_view(record: JobRecord, link_report: ReportLinker) -> dict[str, Any]:
    """Everything the dashboard's detail pane shows: the row plus inputs, result or error."""
    return {
        **summary_view(record),
        "inputs": record.inputs,
        "user_id": record.user_id,
        "last_started_at": record.last_started_at,
        "result": presented_result(record.result, link_report)
        if record.state is JobState.SUCCESS
        else None,
        "error": record.error,
        "schedule": record.schedule,
        "group_id": record.group_id,
        "parts": record.parts,
        "parts_done": (record.chord_done or 0) if record.chord_size is not None else None,
    }
