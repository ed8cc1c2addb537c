"""Endpoints that accept jobs (the seed's examples 1-3)."""

from fastapi import APIRouter, status

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
from skylane import contracts
from skylane.logs import logger
from skylane.submission import submit_job
from skylane.uploads import require_upload
from skylane.user_actions import record_user_action

router = APIRouter(tags=["jobs"])


@router.post("/process-file", status_code=status.HTTP_202_ACCEPTED)
def process_file(request: FileProcessRequest) -> PendingTaskAccepted:
    key = require_upload(request.file_path)
    job = submit_job(contracts.PROCESS_LARGE_FILE, {"file_key": key})
    return PendingTaskAccepted(message="Task submitted", task_id=job.job_id)


@router.post("/send-email", status_code=status.HTTP_202_ACCEPTED)
def send_email(request: EmailRequest) -> TaskAccepted:
    job = submit_job(
        contracts.SEND_EMAIL,
        {"email": str(request.email), "subject": request.subject, "body": request.body},
    )
    return TaskAccepted(message="Email task submitted", task_id=job.job_id)


@router.post("/process-document", status_code=status.HTTP_202_ACCEPTED)
def process_document(request: DocumentRequest) -> QueuedJobAccepted:
    key = require_upload(request.file_path)
    job = submit_job(contracts.PROCESS_DOCUMENT, {"file_key": key})
    return QueuedJobAccepted(message="Task submitted", job_id=job.job_id)


@router.post("/generate-report", status_code=status.HTTP_202_ACCEPTED)
def generate_report(request: ReportRequest) -> JobAccepted:
    job = submit_job(
        contracts.GENERATE_REPORT,
        {"user_id": request.user_id, "report_type": request.report_type},
        user_id=str(request.user_id),
    )
    return JobAccepted(message="Report generation submitted", job_id=job.job_id)


@router.post("/process-video", status_code=status.HTTP_202_ACCEPTED)
def process_video(request: VideoProcessRequest) -> VideoAccepted:
    key = require_upload(request.video_path)
    job = submit_job(
        contracts.PROCESS_VIDEO,
        {"video_path": key, "user_id": request.user_id},
        user_id=str(request.user_id),
    )
    record_user_action(request.user_id, "process_video")
    return VideoAccepted(
        message="Video processing started",
        task_id=job.job_id,
        notification_task_id=_notify_quietly(request.user_id, job.job_id),
    )


def _notify_quietly(user_id: int, video_job_id: str) -> str | None:
    # The notification is the seed's non-critical short job: if it cannot be queued, the video
    # job (already accepted) must not be reported as failed.
    try:
        notification = submit_job(
            contracts.SEND_NOTIFICATION,
            {"user_id": user_id, "message": "Video processing has started"},
            user_id=str(user_id),
        )
    except Exception:
        logger.exception("notification not queued", extra={"job_id": video_job_id})
        return None
    return notification.job_id
