"""Accepting a job: record it, then hand it to SQS through Celery, all or nothing.

The record is written first so a worker that picks the message up at once always finds it.
If the message cannot be sent, the record is removed again: no record is ever left claiming
that a job is queued when no message exists.
"""

import time
from typing import Any
from uuid import uuid4

from skylane.core.outages import unavailable_as
from skylane.core.settings import get_settings
from skylane.jobs.contracts import QueueName, TaskSpec
from skylane.jobs.idempotency import IdempotencyConflict
from skylane.jobs.routing import queue_for
from skylane.jobs.store import JobExists, JobRecord, JobStore
from skylane.observability import request_ids
from skylane.observability.logs import logger
from skylane.observability.metrics import Metric, emit

# Message header with the acceptance time (epoch ms): the worker's queue wait time starts here
# without reading the job record.
ACCEPTED_AT_HEADER = "accepted_at_ms"
# Marks a message whose record submit_job wrote first (skylane/broker/publish_records.py adds none).
RECORDED_HEADER = "skylane_recorded"


def submit_job(
    spec: TaskSpec,
    kwargs: dict[str, Any],
    *,
    user_id: str | None = None,
    job_id: str | None = None,
    request_hash: str | None = None,
    store: JobStore | None = None,
    schedule: str | None = None,
) -> JobRecord:
    """Record and send one job. With request_hash (an idempotent request), a repeat of the same
    request returns the recorded job and sends nothing; a different request under the same
    id raises IdempotencyConflict. Without it, an existing id raises JobExists.
    """
    job_id = job_id or str(uuid4())
    store = store or JobStore.from_settings()
    queue = lane_of(spec)
    try:
        record = store.create(
            job_id,
            task=spec.name,
            kind=spec.kind,
            queue=queue.value,
            inputs=kwargs,
            user_id=user_id,
            request_hash=request_hash,
            schedule=schedule,
        )
    except JobExists:
        if request_hash is None:
            raise
        existing = store.get(job_id)
        if existing is not None:
            if existing.request_hash != request_hash:
                raise IdempotencyConflict() from None
            logger.info("idempotent repeat: job already accepted", extra={"job_id": job_id})
            return existing
        # The first request's send failed and its record was discarded a moment ago: this
        # repeat is the retry that should go through.
        return submit_job(
            spec, kwargs, user_id=user_id, job_id=job_id, request_hash=request_hash, store=store
        )
    try:
        send_task(spec, kwargs, job_id, queue)
    except BaseException:
        _discard_quietly(store, job_id)
        raise
    logger.info("job accepted", extra={"job_id": job_id, "task": spec.name, "queue": queue.value})
    emit({Metric.JOBS_SUBMITTED: 1}, task=spec.name, queue=queue.value)
    return record


def lane_of(spec: TaskSpec) -> QueueName:
    """The queue the router picks for ``spec`` on this stack (skylane/jobs/routing.py)."""
    return queue_for(spec, light_lane_available=bool(get_settings().light_queue_url))


def message_headers() -> dict[str, Any]:
    """What the worker logs and measures a job by: the request id and the acceptance time."""
    headers: dict[str, Any] = {
        ACCEPTED_AT_HEADER: int(time.time() * 1000),
        # The record is written before the message (submit_job): none to add on publish.
        RECORDED_HEADER: True,
    }
    request_id = request_ids.current()
    if request_id is not None:
        headers[request_ids.MESSAGE_HEADER] = request_id
    return headers


def send_task(
    spec: TaskSpec, kwargs: dict[str, Any], job_id: str, queue: QueueName | None = None
) -> None:
    # Imported here: Celery is only needed once a job is actually sent, so the API's cold
    # start does not pay for it on /health or status reads.
    from skylane.broker.celery_app import get_celery_app

    queue = queue or lane_of(spec)
    with unavailable_as("SQS"):
        get_celery_app().send_task(
            spec.name,
            kwargs=kwargs,
            task_id=job_id,
            queue=queue.value,
            headers=message_headers(),
        )


def _discard_quietly(store: JobStore, job_id: str) -> None:
    try:
        store.discard(job_id)
    except Exception:
        # The send failed and so did the clean-up: the record stays PENDING with no message.
        # Say so loudly; the sync task (scheduler issue) reconciles such records.
        logger.exception("could not discard the record of an unsent job", extra={"job_id": job_id})
