"""Bodies of /schedules, and the kwargs each task takes, checked like the job endpoints' bodies."""

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field

from functions.api.schemas import MAX_PATH, MAX_TEXT, JobSummary, RequestModel, Schema, UserId
from functions.api.text import MultilineText, SingleLineText
from skylane.schedules.overlap import Overlap

# EventBridge Scheduler's own limits on a schedule's name and a flexible window.
ScheduleName = Field(min_length=1, max_length=64, pattern=r"^[0-9a-zA-Z_.-]+$")
WindowMinutes = Field(default=None, ge=1, le=1440)


class FileKwargs(RequestModel):
    file_key: str = Field(min_length=1, max_length=MAX_PATH)


class EmailKwargs(RequestModel):
    email: EmailStr
    subject: SingleLineText = Field(min_length=1, max_length=998)
    body: MultilineText = Field(max_length=MAX_TEXT)


class ReportKwargs(RequestModel):
    user_id: int = UserId
    report_type: Literal["summary", "detailed"]


class VideoKwargs(RequestModel):
    video_path: str = Field(min_length=1, max_length=MAX_PATH)
    user_id: int = UserId


class NotificationKwargs(RequestModel):
    user_id: int = UserId
    message: SingleLineText = Field(min_length=1, max_length=1000)


class DailyReportKwargs(RequestModel):
    day: date | None = None

    model_config = ConfigDict(strict=False, extra="forbid", str_strip_whitespace=True)


class NoKwargs(RequestModel):
    pass


# Each schedulable task's keyword arguments (a unit test holds these and NOT_SCHEDULABLE to
# skylane.jobs.contracts.TASKS).
TASK_KWARGS: dict[str, type[RequestModel]] = {
    "skylane.process_large_file": FileKwargs,
    "skylane.send_email": EmailKwargs,
    "skylane.process_document": FileKwargs,
    "skylane.generate_report": ReportKwargs,
    "skylane.process_video": VideoKwargs,
    "skylane.send_notification": NotificationKwargs,
    "skylane.cleanup_temp_files": NoKwargs,
    "skylane.generate_daily_report": DailyReportKwargs,
    "skylane.sync_data": NoKwargs,
}
# A batch's summary runs only as its chord's body, on its parts' results.
NOT_SCHEDULABLE = frozenset({"skylane.process_batch"})


class ScheduleFields(RequestModel):
    """What a client may set; every field optional (PATCH), POST requires some below."""

    task: str | None = Field(default=None, examples=["skylane.sync_data"])
    kwargs: dict[str, Any] | None = None
    expression: str | None = Field(
        default=None,
        max_length=256,
        description="cron(...), rate(...) or at(...), as EventBridge Scheduler takes them",
        examples=["cron(*/5 * * * ? *)"],
    )
    timezone: str | None = Field(default=None, max_length=50, examples=["Europe/Paris"])
    start_date: datetime | None = None
    end_date: datetime | None = None
    flexible_window_minutes: int | None = WindowMinutes
    overlap: Overlap | None = Field(
        default=None,
        description="allow: runs overlap; skip: a run due while the previous one is still "
        "queued or running is dropped; buffer_one: it is held (at most one, further ones are "
        "dropped) and starts when the previous one is final",
    )
    enabled: bool | None = None
    description: str | None = Field(default=None, max_length=512)

    # Dates arrive as JSON text: lax parsing for them only would need a validator per field.
    model_config = ConfigDict(strict=False, extra="forbid", str_strip_whitespace=True)


class ScheduleCreate(ScheduleFields):
    name: str = ScheduleName
    task: str = Field(examples=["skylane.sync_data"])
    expression: str = Field(max_length=256, examples=["cron(*/5 * * * ? *)"])


class HeldRun(Schema):
    job_id: str = Field(description="The job id it will run under")
    held_at: datetime | None
    behind: str | None = Field(description="The run it waits for")


class ScheduleView(Schema):
    name: str
    task: str
    kwargs: dict[str, Any]
    expression: str
    timezone: str
    start_date: datetime | None
    end_date: datetime | None
    flexible_window_minutes: int | None
    overlap: Overlap
    state: Literal["ENABLED", "DISABLED"]
    description: str
    # Declared in template.yaml: listed, fired, never edited through the API.
    read_only: bool
    one_off: bool
    next_runs: list[datetime]
    last_run_at: datetime | None
    run_count: int
    held: HeldRun | None = Field(
        default=None, description="buffer_one: the run waiting for the previous one to finish"
    )


class ScheduleList(Schema):
    schedules: list[ScheduleView]


class ScheduleDetail(ScheduleView):
    runs: list[JobSummary] = Field(description="The last runs, newest first")


class ScheduleFired(Schema):
    schedule: str
    job_id: str
    started: bool
    skipped_for: str | None = Field(
        description="skip or buffer_one: the run still going, for which this one was dropped"
    )
    held_for: str | None = Field(
        default=None,
        description="buffer_one: the run still going; this one starts once it is final",
    )


def kwargs_model(task: str) -> type[BaseModel] | None:
    return TASK_KWARGS.get(task)
