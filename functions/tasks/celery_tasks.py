"""The worker's tasks: one per job contract (skylane.jobs.contracts), each wiring a work module.

Producers send these by name with keyword arguments; the parameter names here are the contract.
"""

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict
from typing import Any

from celery import Task
from celery.exceptions import Ignore

from functions.tasks import (
    batch_summary,
    cleanup,
    daily_report,
    documents,
    files,
    job_keys,
    messaging,
    reconcile,
    reports,
    video,
)
from functions.tasks.retries import is_transient
from functions.tasks.scratch import scratch_dir
from skylane.broker.backend import StartOutcome
from skylane.broker.celery_app import get_celery_app
from skylane.broker.retry_delay import retry_delay_options
from skylane.core.outages import permission_missing
from skylane.core.settings import get_settings
from skylane.jobs import contracts
from skylane.jobs.contracts import TaskSpec
from skylane.jobs.progress import ProgressReporter
from skylane.jobs.states import FINAL_STATES, JobState
from skylane.jobs.store import JobRevoked, JobStore
from skylane.observability.logs import logger
from skylane.observability.metrics import Metric, emit

app = get_celery_app()
job_keys.connect()


def contract_task(spec: TaskSpec) -> Callable[[Callable[..., dict[str, Any]]], Task]:
    """Registers a task under its contract's name and limits (bound: it reports progress).

    Not shared: Celery would otherwise add the task to every app created in the process.
    """
    decorator: Callable[[Callable[..., dict[str, Any]]], Task] = app.task(
        name=spec.name,
        shared=False,
        bind=True,
        max_retries=spec.max_retries,
        soft_time_limit=spec.soft_time_limit,
        time_limit=spec.time_limit,
    )
    return decorator


class TaskProgress:
    """Passes a work function's (current, total) reports to the job through ProgressReporter.

    A total that changes mid-job (a document's page count becomes known) gets a new reporter,
    whose first write goes through at once.
    """

    def __init__(self, task: Task) -> None:
        self._task = task
        self._reporter: ProgressReporter | None = None

    def __call__(self, current: int, total: int) -> None:
        if self._reporter is None or self._reporter.total != max(total, 1):
            self._reporter = ProgressReporter(self._task, total)
        self._reporter.update(current)


@contextmanager
def job_context(task: Task, **keys: object) -> Iterator[None]:
    """Logs and measures the attempt; a transient failure becomes a scheduled retry.

    A cancelled job ends in Ignore: Celery acknowledges the message (it never runs again, nor
    is it retried) and stores no state, so REVOKED stays.
    """
    request = task.request
    keys |= job_keys.job_keys(task)
    outcome = _start_outcome(task, request.id)
    if outcome is StartOutcome.REVOKED:
        # Cancelled while queued: its record says so before any work or "job started".
        logger.info("job cancelled before it started", extra=keys)
        raise Ignore()
    if outcome is StartOutcome.FINISHED:
        # A redelivered message of a job that already ended (its acknowledgement was lost with
        # a worker, or a stopping worker's last receive): acknowledge it, run nothing again.
        logger.info("job already finished; redelivered message dropped", extra=keys)
        raise Ignore()
    logger.info("job started", extra=keys)
    meter = JobMeter(task)
    try:
        yield
    except JobRevoked:
        # Cancelled while running: a progress write found REVOKED and stopped the work.
        logger.info("job cancelled while running", extra=keys)
        raise Ignore() from None
    except Exception as exc:
        denied = permission_missing(exc)
        if denied is not None:
            # The worker's role lacks a permission: no retry can help, and the job's error
            # says which call was refused.
            logger.exception("job failed: an AWS permission is missing", extra=keys)
            meter.finished(Metric.JOBS_FAILED)
            raise denied from exc
        if not is_transient(exc) or request.retries >= task.max_retries:
            logger.exception("job failed", extra=keys)
            meter.finished(Metric.JOBS_FAILED)
            raise
        countdown = get_settings().retry_countdown_seconds
        logger.warning("transient failure, retrying", extra={**keys, "retry_in_seconds": countdown})
        meter.finished(Metric.JOBS_RETRIED)
        raise task.retry(exc=exc, **retry_delay_options(countdown)) from exc
    logger.info("job finished", extra=keys)
    meter.finished(Metric.JOBS_SUCCEEDED)


class JobMeter:
    """One EMF line per attempt: its outcome, its duration and (first attempt) its queue wait.

    The wait runs from the API's acceptance (a message header) to the start, so it needs no
    read of the job record. A retried attempt's wait would include the earlier attempts and
    the countdown, so only the first attempt reports one.
    """

    def __init__(self, task: Task) -> None:
        self._task = task.name
        self._queue = (task.request.delivery_info or {}).get("routing_key") or "unknown"
        self._started = time.monotonic()
        accepted_at_ms = job_keys.accepted_at_ms(task)
        self._wait_ms: float | None = None
        if accepted_at_ms is not None and not task.request.retries:
            # Clocks of two machines: a small negative difference means "no wait".
            self._wait_ms = max(0.0, time.time() * 1000 - accepted_at_ms)

    def finished(self, outcome: Metric) -> None:
        values = {outcome: 1.0, Metric.JOB_DURATION: (time.monotonic() - self._started) * 1000}
        if self._wait_ms is not None:
            values[Metric.QUEUE_WAIT_TIME] = self._wait_ms
        try:
            emit(values, task=self._task, queue=self._queue)
        except Exception:
            # A metric must never change a job's outcome.
            logger.exception("job metrics not written")


def _start_outcome(task: Task, job_id: str | None) -> StartOutcome:
    # The STARTED write just before the body already learnt it (one request per job fewer);
    # a read is only needed where none was made (eager runs in tests).
    pop_start_outcome = getattr(getattr(task, "backend", None), "pop_start_outcome", None)
    known = pop_start_outcome(job_id) if pop_start_outcome and job_id else None
    if isinstance(known, StartOutcome):
        return known
    record = JobStore.from_settings().get(job_id) if job_id else None
    if record is not None and record.state is JobState.REVOKED:
        return StartOutcome.REVOKED
    # A job the reconciler marked lost runs again, as mark_started allows on the worker.
    if record is not None and record.state in FINAL_STATES and not record.lost:
        return StartOutcome.FINISHED
    return StartOutcome.STARTED


@contract_task(contracts.PROCESS_LARGE_FILE)
def process_large_file(self: Task, file_key: str) -> dict[str, Any]:
    with job_context(self):
        facts = files.analyse_file(get_settings().uploads_bucket, file_key, TaskProgress(self))
    return {"status": "success", "file": file_key, **facts}


@contract_task(contracts.SEND_EMAIL)
def send_email(self: Task, email: str, subject: str, body: str) -> dict[str, Any]:
    with job_context(self):
        message_id = messaging.send_email(get_settings().email_sender, email, subject, body)
    return {"status": "success", "email": email, "message_id": message_id}


@contract_task(contracts.PROCESS_DOCUMENT)
def process_document(self: Task, file_key: str) -> dict[str, Any]:
    with job_context(self):
        facts = documents.analyse_document(
            get_settings().uploads_bucket, file_key, TaskProgress(self)
        )
    return {"status": "success", "file": file_key, **facts}


@contract_task(contracts.GENERATE_REPORT)
def generate_report(self: Task, user_id: int, report_type: str) -> dict[str, Any]:
    with job_context(self, user_id=user_id):
        published = reports.publish_report(
            get_settings().reports_bucket,
            user_id,
            report_type,
            job_id=self.request.id,
            history=JobStore.from_settings(),
        )
    return {"status": "success", "user_id": user_id, "report_type": report_type, **published}


@contract_task(contracts.PROCESS_VIDEO)
def process_video(self: Task, video_path: str, user_id: int) -> dict[str, Any]:
    with job_context(self, user_id=user_id):
        facts = video.analyse_video(get_settings().uploads_bucket, video_path, TaskProgress(self))
    return {"status": "success", "video": video_path, **facts}


@contract_task(contracts.SEND_NOTIFICATION)
def send_notification(self: Task, user_id: int, message: str) -> dict[str, Any]:
    with job_context(self, user_id=user_id):
        message_id = messaging.send_notification(
            get_settings().notifications_topic_arn, user_id, message
        )
    return {"status": "success", "user_id": user_id, "message_id": message_id}


@contract_task(contracts.PROCESS_BATCH)
def process_batch(self: Task, results: list[Any]) -> dict[str, Any]:
    """A chord's body: its parts' results arrive as the first argument (Celery's chord)."""
    with job_context(self):
        summary = batch_summary.summarize(results)
    return {"status": "success", **summary}


# The periodic tasks (EventBridge schedules, in Celery Beat's place).


@contract_task(contracts.CLEANUP_TEMP_FILES)
def cleanup_temp_files(self: Task) -> dict[str, Any]:
    settings = get_settings()
    with job_context(self):
        outcome = cleanup.cleanup_temp_files(
            scratch=scratch_dir(),
            scratch_max_age_seconds=settings.scratch_max_age_seconds,
            uploads_bucket=settings.uploads_bucket,
            upload_url_expires_seconds=settings.upload_url_expires_seconds,
        )
    return {"status": "success", **asdict(outcome)}


@contract_task(contracts.GENERATE_DAILY_REPORT)
def generate_daily_report(self: Task, day: str | None = None) -> dict[str, Any]:
    with job_context(self, day=day):
        published = daily_report.publish_daily_report(
            get_settings().reports_bucket,
            day,
            job_id=self.request.id,
            store=JobStore.from_settings(),
        )
    return {"status": "success", **published}


@contract_task(contracts.SYNC_DATA)
def sync_data(self: Task) -> dict[str, Any]:
    with job_context(self):
        outcome = reconcile.reconcile_running_jobs(JobStore.from_settings())
    return {"status": "success", **asdict(outcome)}
