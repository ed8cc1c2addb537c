"""Request and response bodies: the seed's fields, strictly typed, unknown fields refused."""

from typing import Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field

from functions.api.text import MultilineText, SingleLineText

# Job inputs travel inside an SQS message (256 KiB, and Celery's envelope base64-encodes the
# body twice), so free text is capped well below that.
MAX_TEXT = 50_000
MAX_PATH = 1024
UserId = Field(ge=1, le=2**53, description="The user's numeric id")


class RequestModel(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", str_strip_whitespace=True)


class UploadRequest(RequestModel):
    filename: str = Field(min_length=1, max_length=255, examples=["large_file.txt"])
    content_type: str = Field(
        default="application/octet-stream",
        max_length=255,
        pattern=r"^[\w.+-]+/[\w.+-]+$",
        examples=["text/plain"],
    )


class FileProcessRequest(RequestModel):
    file_path: str = Field(
        min_length=1,
        max_length=MAX_PATH,
        description="A key in the uploads bucket (from POST /uploads) or s3://<uploads bucket>/<key>",
        examples=["uploads/4f1c.../large_file.txt"],
    )


class EmailRequest(RequestModel):
    email: EmailStr
    subject: SingleLineText = Field(min_length=1, max_length=998)
    body: MultilineText = Field(max_length=MAX_TEXT)


class DocumentRequest(FileProcessRequest):
    pass


class ReportRequest(RequestModel):
    user_id: int = UserId
    report_type: Literal["summary", "detailed"]


class VideoProcessRequest(RequestModel):
    video_path: str = Field(min_length=1, max_length=MAX_PATH)
    user_id: int = UserId


class UserActionRequest(RequestModel):
    user_id: int = UserId
    action: SingleLineText = Field(min_length=1, max_length=200)


class UploadResponse(BaseModel):
    key: str
    upload_url: str
    expires_in: int


class TaskAccepted(BaseModel):
    message: str
    task_id: str


class PendingTaskAccepted(TaskAccepted):
    status: Literal["pending"] = "pending"


class VideoAccepted(TaskAccepted):
    notification_task_id: str | None = Field(
        description="The notification job, or null if it could not be queued (non-critical)"
    )


class JobAccepted(BaseModel):
    message: str
    job_id: str


class QueuedJobAccepted(JobAccepted):
    status: Literal["queued"] = "queued"


class QueueStatsView(BaseModel):
    name: str
    count: int = Field(description="Messages waiting (visible)")
    in_flight: int = Field(description="Messages received by a worker and not yet deleted")
    delayed: int = Field(description="Messages waiting for their delay (countdown) to pass")


class Message(BaseModel):
    message: str


class Health(BaseModel):
    status: Literal["ok"] = "ok"
