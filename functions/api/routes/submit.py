"""Endpoints that accept jobs: files, mail, documents, reports, videos and batches."""

from typing import Annotated, Any

from fastapi import APIRouter, Header, status
from pydantic import BaseModel

from functions.api import upload_objects
from functions.api.cold_start import RouteBuiltOnFirstUse
from functions.api.schemas import (
    DocumentRequest,
    EmailRequest,
    FileProcessRequest,
    JobAccepted,
    PendingTaskAccepted,
    QueuedJobAccepted,
    ReportRequest,
    TaskAccepted,
    VideoAccepted,
    VideoProcessRequest,
)
from functions.api.user_actions import record_user_action
from skylane.jobs import contracts
from skylane.jobs.contracts import TaskSpec
from skylane.jobs.idempotency import idempotent_job_id, request_fingerprint
from skylane.jobs.store import JobRecord
from skylane.jobs.submission import submit_job
from skylane.observability.logs import logger

router = APIRouter(tags=["jobs"], route_class=RouteBuiltOnFirstUse)

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=255,
        pattern=r"^[\x21-\x7e]+$",
        description="Repeat a request with the same key (and body) to get the same job back "
        "without enqueuing it again; valid for as long as the job record lives (7 days).",
    ),
]


def accept(
    spec: TaskSpec,
    kwargs: dict[str, Any],
    key: str | None,
    request: BaseModel,
    path: str,
    user_id: str | None = None,
    part: str = "",
) -> JobRecord:
    """Submit, idempotently when the client sent a key (the request's body is its fingerprint)."""
    if key is None:
        return submit_job(spec, kwargs, user_id=user_id)
    return submit_job(
        spec,
        kwargs,
        user_id=user_id,
        job_id=idempotent_job_id(key, part),
        request_hash=request_fingerprint(path, request.model_dump(mode="json")),
    )


@router.post("/process-file", status_code=status.HTTP_202_ACCEPTED)
def process_file(
    request: FileProcessRequest, idempotency_key: IdempotencyKey = None
) -> PendingTaskAccepted:
    key = upload_objects.require_upload(request.file_path)
    job = accept(
        contracts.PROCESS_LARGE_FILE, {"file_key": key}, idempotency_key, request, "/process-file"
    )
    return PendingTaskAccepted(message="Task submitted", task_id=job.job_id)


@router.post("/send-email", status_code=status.HTTP_202_ACCEPTED)
def send_email(request: EmailRequest, idempotency_key: IdempotencyKey = None) -> TaskAccepted:
    job = accept(
        contracts.SEND_EMAIL,
        {"email": str(request.email), "subject": request.subject, "body": request.body},
        idempotency_key,
        request,
        "/send-email",
    )
    return TaskAccepted(message="Email task submitted", task_id=job.job_id)


@router.post("/process-document", status_code=status.HTTP_202_ACCEPTED)
def process_document(
    request: DocumentRequest, idempotency_key: IdempotencyKey = None
) -> QueuedJobAccepted:
    key = upload_objects.require_upload(request.file_path)
    job = accept(
        contracts.PROCESS_DOCUMENT, {"file_key": key}, idempotency_key, request, "/process-document"
    )
    return QueuedJobAccepted(message="Task submitted", job_id=job.job_id)


@router.post("/generate-report", status_code=status.HTTP_202_ACCEPTED)
def generate_report(request: ReportRequest, idempotency_key: IdempotencyKey = None) -> JobAccepted:
    job = accept(
        contracts.GENERATE_REPORT,
        {"user_id": request.user_id, "report_type": request.report_type},
        idempotency_key,
        request,
        "/generate-report",
        user_id=str(request.user_id),
    )
    return JobAccepted(message="Report generation submitted", job_id=job.job_id)


@router.post("/process-video", status_code=status.HTTP_202_ACCEPTED)
def process_video(
    request: VideoProcessRequest, idempotency_key: IdempotencyKey = None
) -> VideoAccepted:
    key = upload_objects.require_upload(request.video_path)
    job = accept(
        contracts.PROCESS_VIDEO,
        {"video_path": key, "user_id": request.user_id},
        idempotency_key,
        request,
        "/process-video",
        user_id=str(request.user_id),
    )
    record_user_action(request.user_id, "process_video")
    return VideoAccepted(
        message="Video processing started",
        task_id=job.job_id,
        notification_task_id=_notify_quietly(request, job.job_id, idempotency_key),
    )


def _notify_quietly(
    request: VideoProcessRequest, video_job_id: str, idempotency_key: str | None
) -> str | None:
    # The notification is short and not critical: if it cannot be queued, the video job
    # (already accepted) must not be reported as failed.
    try:
        notification = accept(
            contracts.SEND_NOTIFICATION,
            {"user_id": request.user_id, "message": "Video processing has started"},
            idempotency_key,
            request,
            "/process-video",
            user_id=str(request.user_id),
            part="notification",
        )
    except Exception:
        logger.exception("notification not queued", extra={"job_id": video_job_id})
        return None
    return notification.job_id
