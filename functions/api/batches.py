"""A batch of files as one Celery chord: a process_large_file part per file, then a
process_batch body that adds their results up; the batch's id is the body's job id.

The body's record is written first; Celery's chord then records every part as it is sent. If a
send fails, the batch and the parts sent are cancelled: no record claims a batch that never runs.
"""

import contextlib
from uuid import uuid4

from skylane.core.outages import unavailable_as
from skylane.jobs.contracts import PROCESS_BATCH, PROCESS_LARGE_FILE
from skylane.jobs.store import JobAlreadyFinished, JobNotFound, JobRecord, JobStore
from skylane.jobs.submission import lane_of
from skylane.observability.logs import logger

# The body's message carries every part's result (about 200 bytes plus the file's key, up to
# 1,024), base64-encoded twice on its way into SQS (Celery's body, kombu's envelope), and SQS
# takes 256 KiB: 100 files of the longest keys still fit (tests/unit/functions/api/test_batch_size_cap.py).
MAX_BATCH_FILES = 100


def submit_batch(file_keys: list[str], store: JobStore | None = None) -> JobRecord:
    """Record and send the batch's chord; the batch's record, with its parts."""
    from celery import chord, group

    from skylane.broker.celery_app import get_celery_app

    app = get_celery_app()
    store = store or JobStore.from_settings()
    batch_id = str(uuid4())
    store.create(
        batch_id,
        task=PROCESS_BATCH.name,
        kind=PROCESS_BATCH.kind,
        queue=lane_of(PROCESS_BATCH).value,
        inputs={"file_paths": file_keys},
    )
    header = group(
        app.signature(PROCESS_LARGE_FILE.name, kwargs={"file_key": key}) for key in file_keys
    )
    try:
        with unavailable_as("SQS"):
            chord(header, app.signature(PROCESS_BATCH.name)).apply_async(task_id=batch_id)
    except BaseException:
        _cancel_quietly(store, batch_id)
        raise
    logger.info("batch accepted", extra={"job_id": batch_id, "parts": len(file_keys)})
    return store.get(batch_id) or JobRecord.from_item({"job_id": {"S": batch_id}})


def revoke_with_parts(store: JobStore, job_id: str) -> JobRecord:
    """Cancel a job and, if it is a chord's body, every part of it not finished yet.

    Raises as JobStore.revoke does for the job itself; parts already finished are left as
    they are.
    """
    record = store.revoke(job_id)
    for part in record.parts:
        with contextlib.suppress(JobAlreadyFinished, JobNotFound):
            store.revoke(part)
    return record


def _cancel_quietly(store: JobStore, batch_id: str) -> None:
    try:
        revoke_with_parts(store, batch_id)
    except Exception:
        logger.exception(
            "could not cancel a batch whose parts were not all sent", extra={"job_id": batch_id}
        )
