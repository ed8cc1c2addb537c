"""The job contracts shared by producers (API, scheduler) and the worker.

Producers send tasks by name and never import worker code; the worker registers an
implementation for every name here (a test holds the two together). Time limits live here
because the worker stops extending a job message's visibility at its task's hard limit
(functions/worker/visibility.py), whichever process reads the message.
"""

from dataclasses import dataclass
from enum import StrEnum


class QueueName(StrEnum):
    HIGH = "high"
    DEFAULT = "default"


@dataclass(frozen=True)
class TaskSpec:
    kind: str
    queue: QueueName
    soft_time_limit: int
    time_limit: int
    max_retries: int = 3
    # Run by an EventBridge schedule (template.yaml), not submitted through the API.
    periodic: bool = False

    @property
    def name(self) -> str:
        return f"skylane.{self.kind}"


PROCESS_LARGE_FILE = TaskSpec("process_large_file", QueueName.DEFAULT, 570, 600)
SEND_EMAIL = TaskSpec("send_email", QueueName.DEFAULT, 50, 60)
# The seed's RQ job_timeout='5m'.
PROCESS_DOCUMENT = TaskSpec("process_document", QueueName.DEFAULT, 270, 300)
# The seed's RQ job_timeout='10m', on the high-priority queue.
GENERATE_REPORT = TaskSpec("generate_report", QueueName.HIGH, 570, 600)
PROCESS_VIDEO = TaskSpec("process_video", QueueName.DEFAULT, 1740, 1800)
SEND_NOTIFICATION = TaskSpec("send_notification", QueueName.DEFAULT, 50, 60)

# The seed's Celery Beat schedules, now EventBridge Scheduler schedules of SchedulerFunction.
CLEANUP_TEMP_FILES = TaskSpec("cleanup_temp_files", QueueName.DEFAULT, 50, 60, periodic=True)
GENERATE_DAILY_REPORT = TaskSpec(
    "generate_daily_report", QueueName.DEFAULT, 270, 300, periodic=True
)
SYNC_DATA = TaskSpec("sync_data", QueueName.DEFAULT, 270, 300, periodic=True)

TASKS: dict[str, TaskSpec] = {
    spec.name: spec
    for spec in (
        PROCESS_LARGE_FILE,
        SEND_EMAIL,
        PROCESS_DOCUMENT,
        GENERATE_REPORT,
        PROCESS_VIDEO,
        SEND_NOTIFICATION,
        CLEANUP_TEMP_FILES,
        GENERATE_DAILY_REPORT,
        SYNC_DATA,
    )
}


def longest_time_limit(queue: QueueName) -> int:
    """The longest hard limit of the tasks routed to `queue`."""
    return max(spec.time_limit for spec in TASKS.values() if spec.queue is queue)
