"""Request and response bodies: every field strictly typed, unknown fields refused."""

import warnings
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field
from pydantic.warnings import UnsupportedFieldAttributeWarning

from functions.api.batches import MAX_BATCH_FILES
from functions.api.text import MultilineText, SingleLineText
from skylane.jobs.states import JobState

# Job inputs travel inside an SQS message (256 KiB, and Celery's envelope base64-encodes the
# body twice), so free text is capped well below that.
MAX_TEXT = 50_000
MAX_PATH = 1024
# Jobs in one page of GET /jobs at most.
MAX_PAGE = 100
UserId = Field(ge=1, le=2**53, description="The user's numeric id")


# FastAPI wraps each body model in a TypeAdapter aliased to the parameter's name (`request` on
# every route here), and silences pydantic's warning that the alias does nothing there only
# while it builds that adapter at import. A deferred model builds at its route's first request,
# outside that silence. (pytest resets filters per test: pyproject.toml repeats this one.)
warnings.filterwarnings(
    "ignore",
    "The 'alias' attribute with value 'request' ",
    UnsupportedFieldAttributeWarning,
    "pydantic",
)


class Schema(BaseModel):
    # Built when a request first uses it, not at import: a cold start then pays only for the
    # models of the route it serves (`make bench`). Subclasses' configs merge with this.
    model_config = ConfigDict(defer_build=True)


class RequestModel(BaseModel):
    model_config = ConfigDict(
        strict=True, extra="forbid", str_strip_whitespace=True, defer_build=True
    )


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


class BatchRequest(RequestModel):
    file_paths: list[
        Annotated[str, Field(min_length=1, max_length=MAX_PATH, examples=["uploads/4f1c.../a.txt"])]
    ] = Field(
        min_length=1,
        max_length=MAX_BATCH_FILES,
        description=f"1 to {MAX_BATCH_FILES} uploads (keys or s3:// URLs), each as /process-file "
        "takes it; the summary's message must fit in SQS's 256 KiB",
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


class UploadResponse(Schema):
    key: str
    upload_url: str
    expires_in: int


class TaskAccepted(Schema):
    message: str
    task_id: str


class PendingTaskAccepted(TaskAccepted):
    status: Literal["pending"] = "pending"


class BatchAccepted(PendingTaskAccepted):
    parts: list[str] = Field(description="The job id of each file's part, in order")


class VideoAccepted(TaskAccepted):
    notification_task_id: str | None = Field(
        description="The notification job, or null if it could not be queued (non-critical)"
    )


class JobAccepted(Schema):
    message: str
    job_id: str


class QueuedJobAccepted(JobAccepted):
    status: Literal["queued"] = "queued"


class QueueStatsView(Schema):
    name: str
    count: int = Field(description="Messages waiting (visible)")
    in_flight: int = Field(description="Messages received by a worker and not yet deleted")
    delayed: int = Field(description="Messages waiting for their delay (countdown) to pass")


class Message(Schema):
    message: str


class Health(Schema):
    status: Literal["ok"] = "ok"


class JobSummary(Schema):
    """A job in the list: what it is, where it is, how far it got."""

    job_id: str
    task: str = Field(examples=["skylane.send_email"])
    kind: str = Field(examples=["send_email"])
    queue: str = Field(examples=["default"])
    state: JobState
    created_at: str | None = Field(description="ISO 8601 UTC")
    started_at: str | None = Field(description="The first attempt's start")
    ended_at: str | None
    attempts: int = Field(description="How many times a worker started it")
    current: int | None = Field(
        description="Progress steps done (while in PROGRESS); a waiting batch's parts done"
    )
    total: int | None = Field(
        description="Progress steps in all (while in PROGRESS); a waiting batch's parts"
    )
    progress: float | None = Field(
        description="Fraction done, 0 to 1, while in PROGRESS or while a batch's parts run"
    )
    duration_seconds: float | None = Field(
        description="From the first start to the end, or until now while it runs"
    )
    parent_id: str | None = Field(
        default=None, description="The batch (chord body) this job is a part of, or its sender"
    )


class JobList(Schema):
    jobs: list[JobSummary] = Field(description="Newest first")
    next_cursor: str | None = Field(
        description="Pass as `cursor` for older jobs. A page may be shorter than `limit` "
        "and still have a cursor; only a null cursor means there is nothing older."
    )


class JobLogLine(BaseModel):
    timestamp: str = Field(description="When the line was written, ISO 8601 UTC")
    component: str = Field(examples=["api", "worker", "scheduler", "light"])
    level: str | None = Field(description="INFO, WARNING, ...; null for a line that is not JSON")
    message: str


class JobDetail(JobSummary):
    """A job in full: the list's fields plus its inputs, result or error, and its log lines."""

    inputs: dict[str, Any]
    user_id: str | None
    last_started_at: str | None = Field(description="The latest attempt's start")
    result: Any = Field(description="The return value, when SUCCESS")
    error: str | None = Field(description="Why the last attempt failed (FAILURE, RETRY)")
    schedule: str | None = Field(
        default=None, description="The schedule whose run this job is (GET /schedules/{name})"
    )
    group_id: str | None = Field(default=None, description="The Celery group it was sent in")
    parts: list[str] = Field(
        default_factory=list, description="A batch's (chord body's) parts, in order"
    )
    parts_done: int | None = Field(
        default=None, description="How many of a batch's parts finished (null: not a batch)"
    )
    # From CloudWatch Logs (functions/api/job_logs.py); the dashboard shows each line's timestamp,
    # component, level and message.
    logs: list[JobLogLine] | None = Field(
        default=None,
        description="The job's log lines across the API, worker, scheduler and light lane, "
        "oldest first; null where CloudWatch Logs could not be searched (see logs_reason)",
    )
    logs_reason: str | None = Field(
        default=None,
        description="Why `logs` is null or incomplete; null when it holds every line of the job",
    )


class RedriveRequest(RequestModel):
    job_ids: list[str] | None = Field(
        default=None,
        max_length=100,
        description="Only these jobs' messages; all dead letters (up to the per-call limit) if absent",
    )


class RedriveResult(Schema):
    queue: str
    moved: int = Field(description="Messages sent back to the queue")
    job_ids: list[str | None] = Field(description="The moved messages' job ids (null: no job)")
