"""``python -m functions.worker``: the Celery worker for both queues (the ECS task's command).

ECS stops a task with SIGTERM; Celery's warm shutdown lets running jobs finish and leaves
unstarted messages on SQS. Each worker sweeps its own scratch directory as it starts, since the
periodic cleanup runs on whichever one worker receives it.
"""

import os

from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers
from celery.signals import setup_logging

from functions.tasks import celery_tasks
from functions.tasks.scratch import scratch_dir, sweep_scratch
from skylane.broker.visibility import VisibilityHeartbeat
from skylane.core.settings import get_settings
from skylane.jobs.contracts import QueueName
from skylane.observability.logs import logger

DEFAULT_CONCURRENCY = 2


def worker_argv(concurrency: int) -> list[str]:
    return [
        "worker",
        "-Q",
        f"{QueueName.HIGH.value},{QueueName.DEFAULT.value}",
        "--loglevel",
        "INFO",
        "--pool",
        "prefork",
        "--concurrency",
        str(concurrency),
        # SQS has no broadcast: these worker-to-worker exchanges would need queues nobody created.
        "--without-heartbeat",
        "--without-gossip",
        "--without-mingle",
    ]


def use_json_logs(loglevel: int | str | None = None, **_: object) -> None:
    """Celery's own records as the same JSON lines as skylane's.

    Celery's default setup puts a plain-text handler on the root logger, which would print every
    skylane record a second time and every botocore INFO record once.
    """
    copy_config_to_registered_loggers(
        source_logger=logger, log_level=loglevel, include={"celery", "kombu"}
    )


def main() -> None:
    setup_logging.connect(use_json_logs)
    swept = sweep_scratch(scratch_dir(), get_settings().scratch_max_age_seconds)
    logger.info(
        "scratch directory swept",
        extra={"files_deleted": swept.files_deleted, "bytes_freed": swept.bytes_freed},
    )
    concurrency = int(os.environ.get("WORKER_CONCURRENCY", DEFAULT_CONCURRENCY))
    celery_tasks.app.steps["consumer"].add(VisibilityHeartbeat)
    celery_tasks.app.worker_main(worker_argv(concurrency))


if __name__ == "__main__":
    main()
