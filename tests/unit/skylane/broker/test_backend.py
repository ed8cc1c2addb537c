"""Celery's own API (update_state, results, retries) lands in the job record."""

from typing import Any
from uuid import uuid4

from celery import states

from skylane.broker.backend import describe_error
from skylane.broker.celery_app import get_celery_app
from skylane.jobs.states import JobState
from skylane.jobs.store import JobStore


class _Request:
    def __init__(self, task: str, queue: str) -> None:
        self.task = task
        self.delivery_info = {"routing_key": queue}
        self.retries = 0
        self.chord = None
        self.ignore_result = False


def test_celery_states_map_onto_the_record(aws: dict[str, Any]) -> None:
    app = get_celery_app()
    backend = app.backend
    job_id = str(uuid4())
    JobStore.from_settings().create(
        job_id, task="skylane.send_email", kind="send_email", queue="default", inputs={}
    )
    request = _Request("skylane.send_email", "default")
    backend.store_result(job_id, {"pid": 1}, states.STARTED, request=request)
    backend.store_result(job_id, {"current": 2, "total": 4}, "PROGRESS", request=request)
    assert app.AsyncResult(job_id).state == "PROGRESS"
    assert app.AsyncResult(job_id).info == {"current": 2, "total": 4}

    backend.mark_as_retry(job_id, ConnectionError("SES unreachable"), request=request)
    record = JobStore.from_settings().get(job_id)
    assert record is not None
    assert record.state is JobState.RETRY
    assert record.error == "ConnectionError: SES unreachable"

    backend.mark_as_done(job_id, {"status": "success"}, request=request)
    result = app.AsyncResult(job_id)
    assert result.state == "SUCCESS"
    assert result.result == {"status": "success"}


def test_failures_keep_their_message_and_traceback(aws: dict[str, Any]) -> None:
    backend = get_celery_app().backend
    job_id = str(uuid4())
    backend.mark_as_failure(job_id, ValueError("not a readable PDF"), traceback="Traceback: ...")
    record = JobStore.from_settings().get(job_id)
    assert record is not None
    assert record.state is JobState.FAILURE
    assert record.error == "ValueError: not a readable PDF"
    assert record.ended_at is not None


def test_describe_error_reads_celerys_encoded_exceptions() -> None:
    encoded = {"exc_type": "KeyError", "exc_message": ["missing"], "exc_module": "builtins"}
    assert describe_error(encoded) == "KeyError: missing"
    assert describe_error({"exc_type": "Boom", "exc_message": []}) == "Boom"
