"""Jobs skylane's API did not submit still get a whole record: from the STARTED write (a
producer outside skylane), or as the shared app publishes them (user code)."""

from typing import Any
from uuid import uuid4

from celery import states

from functions.api.job_listing import list_jobs
from skylane.broker.celery_app import get_celery_app
from skylane.jobs.message_inputs import MAX_INPUTS_BYTES
from skylane.jobs.states import JobState
from skylane.jobs.store import JobStore
from tests.unit.conftest import TABLE


class _Request:
    def __init__(self, args: list[Any], kwargs: dict[str, Any]) -> None:
        self.task = "skylane.send_email"
        self.delivery_info = {"routing_key": "default"}
        self.retries = 0
        self.chord = None
        self.group = None
        self.parent_id = None
        self.ignore_result = False
        self.args = args
        self.kwargs = kwargs


def test_the_started_write_gives_a_foreign_job_its_record_and_lists_it(
    aws: dict[str, Any],
) -> None:
    job_id = str(uuid4())
    kwargs = {"email": "a@example.com", "subject": "Hi", "body": "x"}
    get_celery_app().backend.store_result(
        job_id, None, states.STARTED, request=_Request([], kwargs)
    )
    record = JobStore.from_settings().get(job_id)
    assert record is not None
    assert (record.state, record.kind, record.queue, record.inputs) == (
        JobState.STARTED,
        "send_email",
        "default",
        kwargs,
    )
    assert record.created_at
    assert job_id in [job.job_id for job in list_jobs(TABLE).jobs]


def test_arguments_too_large_for_a_record_are_summarised(aws: dict[str, Any]) -> None:
    job_id = str(uuid4())
    results = [{"file": "x" * 100}] * (MAX_INPUTS_BYTES // 50)
    get_celery_app().backend.store_result(
        job_id, None, states.STARTED, request=_Request([results], {})
    )
    record = JobStore.from_settings().get(job_id)
    assert record is not None
    assert record.inputs["keys"] == ["args"]
    assert "bytes of arguments" in record.inputs["omitted"]


def test_sending_through_the_shared_app_records_the_job_at_once(aws: dict[str, Any]) -> None:
    sent = get_celery_app().send_task(
        "skylane.generate_report", kwargs={"user_id": 4, "report_type": "summary"}
    )
    record = JobStore.from_settings().get(sent.id)
    assert record is not None
    assert (record.state, record.kind, record.queue, record.inputs) == (
        JobState.PENDING,
        "generate_report",
        "high",
        {"user_id": 4, "report_type": "summary"},
    )
