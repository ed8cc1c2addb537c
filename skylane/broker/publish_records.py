"""A PENDING record for every job skylane's Celery app publishes without one.

skylane's producers record a job before sending it (skylane/jobs/submission.py). Everything
else sent through the app (``.delay()``, ``send_task``, canvas parts and bodies) gets its record
here, on Celery's ``before_task_publish``, so ``/task/{id}`` answers for it at once.
"""

import contextlib
from typing import Any

from celery.signals import before_task_publish

from skylane.broker.canvas_backend import chord_body_id
from skylane.jobs.message_inputs import message_inputs
from skylane.jobs.store import JobExists, JobStore, kind_of
from skylane.jobs.submission import RECORDED_HEADER


def record_published(
    body: Any = None,
    routing_key: str | None = None,
    headers: dict[str, Any] | None = None,
    **_: Any,
) -> None:
    headers = headers or {}
    task_id, task = headers.get("id"), headers.get("task")
    # A retry republishes a job that has its record; Celery's own tasks are no jobs.
    if not task_id or not task or headers.get(RECORDED_HEADER) or headers.get("retries"):
        return
    if str(task).startswith("celery."):
        return
    args, kwargs, embed = (
        body if isinstance(body, list | tuple) and len(body) == 3 else ((), {}, {})
    )
    with contextlib.suppress(JobExists):
        JobStore.from_settings().create(
            str(task_id),
            task=str(task),
            kind=kind_of(str(task)),
            queue=routing_key or "",
            inputs=message_inputs(args, kwargs),
            parent_id=chord_body_id((embed or {}).get("chord")) or headers.get("parent_id"),
            group_id=headers.get("group"),
        )


def connect() -> None:
    before_task_publish.connect(
        record_published, weak=False, dispatch_uid="skylane.publish_records.record_published"
    )
