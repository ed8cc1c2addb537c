"""The job contracts shared by producers (API, scheduler) and the worker.

Producers send tasks by name and never import worker code; the worker registers an
implementation for every name here (a test holds the two together). Time limits live here
because the heartbeat stops at a task's hard limit, whichever process reads the message.
"""

from dataclasses import dataclass
from enum import StrEnum


class QueueName(StrEnum):
    HIGH = "high"
    DEFAULT = "default"
    # The light lane (a queue consumed by LightFunction): never a spec's own queue, only the
    # router (skylane/jobs/routing.py) sends there.
    LIGHT = "light"


@dataclass(frozen=True)
class TaskSpec:
    kind: str
    # The worker queue the job runs on unless the router sends it to the light lane.
    queue: QueueName
    soft_time_limit: int
    time_limit: int
    # What the router decides on (skylane/jobs/routing.py): how long a run usually takes, and
    # whether its failure matters to the user who asked for it. Unknown tasks are treated as
    # long and critical.
    expected_seconds: int = 60
    critical: bool = True
    max_retries: int = 3
    # Run by an EventBridge schedule (template.yaml), not submitted through the API.
    periodic: bool = False

    @property
    def name(self) -> str:
        return f"skylane.{self.kind}"


# A large file takes about 2 minutes.
PROCESS_LARGE_FILE = TaskSpec(
    "process_large_file", QueueName.DEFAULT, 570, 600, expected_seconds=120
)
# Short, but it is what the client asked for (POST /send-email, followed in /task/{id}):
# critical, so it stays on the worker queues.
SEND_EMAIL = TaskSpec("send_email", QueueName.DEFAULT, 50, 60, expected_seconds=5)
# Five minutes at most (RQ's job_timeout='5m').
PROCESS_DOCUMENT = TaskSpec("process_document", QueueName.DEFAULT, 270, 300, expected_seconds=60)
# Ten minutes at most (RQ's job_timeout='10m'), on the high-priority queue.
GENERATE_REPORT = TaskSpec("generate_report", QueueName.HIGH, 570, 600, expected_seconds=120)
PROCESS_VIDEO = TaskSpec("process_video", QueueName.DEFAULT, 1740, 1800, expected_seconds=600)
# The notification /process-video sends: about a second, and the video job does not depend on
# it. The light lane runs it.
SEND_NOTIFICATION = TaskSpec(
    "send_notification", QueueName.DEFAULT, 50, 60, expected_seconds=1, critical=False
)
# The body of a batch's chord (POST /process-batch): adds up its files' results, in a second.
# What the client asked for, so it stays on the worker queues.
PROCESS_BATCH = TaskSpec("process_batch", QueueName.DEFAULT, 50, 60, expected_seconds=2)

# Periodic tasks, run by EventBridge Scheduler schedules of SchedulerFunction (Celery Beat's
# place). They stay on the worker queues; cleanup must anyway: it sweeps the scratch directory
# of the worker that runs it.
CLEANUP_TEMP_FILES = TaskSpec(
    "cleanup_temp_files", QueueName.DEFAULT, 50, 60, expected_seconds=5, periodic=True
)
GENERATE_DAILY_REPORT = TaskSpec(
    "generate_daily_report", QueueName.DEFAULT, 270, 300, expected_seconds=60, periodic=True
)
SYNC_DATA = TaskSpec("sync_data", QueueName.DEFAULT, 270, 300, expected_seconds=30, periodic=True)

TASKS: dict[str, TaskSpec] = {
    spec.name: spec
    for spec in (
        PROCESS_LARGE_FILE,
        SEND_EMAIL,
        PROCESS_DOCUMENT,
        GENERATE_REPORT,
        PROCESS_VIDEO,
        SEND_NOTIFICATION,
        PROCESS_BATCH,
        CLEANUP_TEMP_FILES,
        GENERATE_DAILY_REPORT,
        SYNC_DATA,
    )
}


def longest_time_limit(queue: QueueName) -> int:
    """The longest hard limit of the tasks routed to `queue`."""
    return max(spec.time_limit for spec in TASKS.values() if spec.queue is queue)
