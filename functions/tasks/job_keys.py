"""Every line logged while a job runs carries its job_id, task, queue, attempt and request_id.

Bound on Celery's task_prerun and cleared on task_postrun, in the process that runs the job, so
helper modules' lines and Celery's own "succeeded"/"retry"/"raised" lines (logged before
task_postrun) carry them too, and nothing of one job is left on the next job's lines.
"""

from typing import Any

from celery import Task
from celery.signals import task_postrun, task_prerun

from skylane.jobs.submission import ACCEPTED_AT_HEADER
from skylane.observability import request_ids
from skylane.observability.logs import logger


def message_header(request: Any, name: str) -> Any:
    """A header the producer added (skylane.jobs.submission.message_headers).

    A worker's request has the message's custom headers as attributes and in `headers`; an
    eager run (tests) has them in `headers` only.
    """
    value = getattr(request, name, None)
    if value is None:
        value = (getattr(request, "headers", None) or {}).get(name)
    return value


def job_keys(task: Task) -> dict[str, Any]:
    request = task.request
    return {
        "job_id": request.id,
        "task": task.name,
        "queue": (request.delivery_info or {}).get("routing_key"),
        # Celery counts retries from 0; people count attempts from 1.
        "attempt": (request.retries or 0) + 1,
        "request_id": message_header(request, request_ids.MESSAGE_HEADER),
    }


def accepted_at_ms(task: Task) -> int | None:
    value = message_header(task.request, ACCEPTED_AT_HEADER)
    return value if isinstance(value, int) else None


def bind(task: Task | None = None, **_: object) -> None:
    logger.thread_safe_clear_keys()
    if task is not None:
        logger.thread_safe_append_keys(**job_keys(task))


def unbind(**_: object) -> None:
    logger.thread_safe_clear_keys()


def connect() -> None:
    # dispatch_uid: connecting again (tests import the tasks module afresh) replaces, not adds.
    task_prerun.connect(bind, weak=False, dispatch_uid="skylane.job_keys.bind")
    task_postrun.connect(unbind, weak=False, dispatch_uid="skylane.job_keys.unbind")
