"""One settings class for every process, read once from the environment the template gives it.

Names are the template's environment variables, matched without regard to case; tests clear
the cache with ``get_settings.cache_clear()``. A plain pydantic model, not pydantic-settings,
whose imports the API's cold start would pay for nothing used (README: *Performance*).
"""

import os
import tempfile
from collections.abc import Mapping
from functools import cache
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

# localstack-client's convention: LOCALSTACK_HOST names the edge host (port 4566 unless given).
LOCALSTACK_EDGE_PORT = 4566


def apply_localstack_host() -> None:
    """Point AWS_ENDPOINT_URL at LocalStack when a user set only LOCALSTACK_HOST.

    boto3 (and so kombu's SQS transport, which builds its own clients) reads AWS_ENDPOINT_URL,
    so switching emulators stays a matter of configuration, never of code paths.
    """
    host = os.environ.get("LOCALSTACK_HOST")
    if host and not os.environ.get("AWS_ENDPOINT_URL"):
        if ":" not in host:
            host = f"{host}:{LOCALSTACK_EDGE_PORT}"
        os.environ["AWS_ENDPOINT_URL"] = f"http://{host}"


class Settings(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    skylane_stage: Literal["local", "dev", "prod"] = "local"
    aws_region: str = Field(default="us-east-1")
    aws_endpoint_url: str | None = None

    jobs_table: str
    uploads_bucket: str
    reports_bucket: str
    high_queue_url: str
    default_queue_url: str
    high_dlq_url: str = ""
    default_dlq_url: str = ""
    # The light lane (skylane/jobs/routing.py); empty: light jobs go to their worker queue.
    light_queue_url: str = ""
    light_dlq_url: str = ""
    notifications_topic_arn: str = ""
    # The log groups the API searches for a job's lines (GET /jobs/{id}); empty: not searched.
    # Its own group is the one Lambda names in AWS_LAMBDA_LOG_GROUP_NAME (the template cannot
    # give it: the group's name depends on the function's, a circular reference).
    aws_lambda_log_group_name: str = ""
    worker_log_group: str = ""
    scheduler_log_group: str = ""
    light_log_group: str = ""
    email_sender: str = ""
    # Runtime schedules (skylane/schedules/runtime.py): the stack's schedule group, and the
    # target every schedule in it delivers to, with the role Scheduler invokes it as.
    schedule_group: str = ""
    scheduler_function_arn: str = ""
    scheduler_invoke_role_arn: str = ""
    schedule_dlq_arn: str = ""

    job_ttl_days: int = Field(default=7, ge=1)
    retry_countdown_seconds: int = Field(default=60, ge=0, le=900)
    upload_url_expires_seconds: int = Field(default=900, ge=60, le=604800)
    # How long a worker's SQS receive waits for a message (long polling, at most 20 s). Shorter
    # means more empty receives; it also bounds how long a stopped worker's last receive can
    # still take a message it will never run (that message then waits out its visibility timeout).
    sqs_wait_time_seconds: int = Field(default=20, ge=0, le=20)
    # The queues' VisibilityTimeout (template parameter QueueVisibilityTimeoutSeconds): the
    # worker extends its in-flight messages every third of it, and it is how long a crashed
    # worker's messages stay hidden before another worker receives them.
    queue_visibility_timeout_seconds: int = Field(default=300, ge=3, le=43200)
    # Messages a worker holds per pool process (Celery's worker_prefetch_multiplier). 1 by
    # default: the worker runs the long and critical jobs, and a message it holds waiting is
    # invisible to other workers and to the autoscaling backlog for as long as the jobs ahead
    # of it run (a video: 30 min). Above 1, a slot's next message is already there when a job
    # ends (short jobs: up to 1.3x the throughput, `make bench`); acks stay late and the
    # heartbeat covers prefetched messages too, but a high job can wait behind up to
    # (multiplier - 1) x concurrency default jobs this worker already holds.
    worker_prefetch_multiplier: int = Field(default=1, ge=1, le=10)
    # The worker's own scratch area: inputs spooled to disk live here and nowhere else, and
    # the periodic cleanup deletes only here (never the rest of /tmp).
    scratch_dir: str = Field(
        default_factory=lambda: os.path.join(tempfile.gettempdir(), "skylane-scratch")
    )
    scratch_max_age_seconds: int = Field(default=3600, ge=60)
    # Progress writes per job are coalesced to at most one per this many seconds.
    progress_min_interval_seconds: float = Field(default=1.0, ge=0)
    # How long a producer waits on SQS/DynamoDB before answering 503 (API Gateway gives up at 29 s).
    aws_connect_timeout_seconds: float = Field(default=2.0, gt=0)
    aws_read_timeout_seconds: float = Field(default=10.0, gt=0)

    @model_validator(mode="after")
    def _refuse_emulator_outside_local(self) -> "Settings":
        if self.skylane_stage != "local" and self.aws_endpoint_url:
            raise ValueError(
                f"AWS_ENDPOINT_URL={self.aws_endpoint_url} is set but SKYLANE_STAGE="
                f"{self.skylane_stage}: an emulator endpoint is only allowed in the local stage"
            )
        return self

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> "Settings":
        """The settings named in ``environ`` (default: this process's environment)."""
        lowered = {name.lower(): value for name, value in (environ or os.environ).items()}
        return cls.model_validate(
            {name: lowered[name] for name in cls.model_fields if name in lowered}
        )


@cache
def get_settings() -> Settings:
    apply_localstack_host()
    return Settings.from_environ()
