"""The scheduler function with real payloads: exactly one job per delivery, loud refusals."""

import base64
import json
from typing import Any

import boto3
import pytest

from functions.scheduler.handler import handler
from skylane.jobs.states import JobState
from skylane.jobs.store import JobStore
from skylane.schedules.runs import ScheduleRuns
from tests.conftest import load_event
from tests.unit.conftest import REGION
from tests.unit.log_capture import capture


class _Context:
    function_name = "SchedulerFunction"
    memory_limit_in_mb = 256
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:SchedulerFunction"
    aws_request_id = "test-request"


def queued(queue_url: str) -> list[dict[str, Any]]:
    sqs = boto3.client("sqs", region_name=REGION)
    messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", [])
    return [json.loads(base64.b64decode(m["Body"]))["headers"] for m in messages]


def test_a_scheduler_payload_becomes_one_pending_job(aws: dict[str, Any]) -> None:
    answer = handler(load_event("scheduler_cleanup"), _Context())
    assert answer["task"] == "skylane.cleanup_temp_files"
    assert answer["duplicate"] is False
    record = JobStore.from_settings().get(answer["job_id"])
    assert record is not None
    assert record.state is JobState.PENDING
    assert [(h["task"], h["id"]) for h in queued(aws["DEFAULT_QUEUE_URL"])] == [
        ("skylane.cleanup_temp_files", answer["job_id"])
    ]


def test_a_duplicate_delivery_enqueues_nothing(aws: dict[str, Any]) -> None:
    first = handler(load_event("scheduler_cleanup"), _Context())
    second = handler(load_event("scheduler_cleanup"), _Context())
    assert second == {**first, "duplicate": True}
    assert len(queued(aws["DEFAULT_QUEUE_URL"])) == 1


def test_each_execution_is_its_own_job(aws: dict[str, Any]) -> None:
    event = load_event("scheduler_cleanup")
    first = handler(event, _Context())
    second = handler({**event, "execution_id": "another-execution"}, _Context())
    assert first["job_id"] != second["job_id"]
    assert len(queued(aws["DEFAULT_QUEUE_URL"])) == 2


def test_an_eventbridge_rule_scheduled_event_works_too(aws: dict[str, Any]) -> None:
    event = load_event("eventbridge_scheduled")
    event["detail"] = {"task": "skylane.sync_data", "kwargs": {}}
    answer = handler(event, _Context())
    assert answer["task"] == "skylane.sync_data"
    assert handler(event, _Context())["duplicate"] is True


@pytest.mark.parametrize(
    ("change", "says"),
    [
        ({"task": "tasks.cleanup_temp_files"}, "unknown scheduled task 'tasks.cleanup_temp_files'"),
        ({"task": "skylane.send_email"}, "unknown scheduled task 'skylane.send_email'"),
        ({"task": None}, "unknown scheduled task None"),
        ({"kwargs": ["not", "an", "object"]}, "'kwargs' of skylane.cleanup_temp_files"),
        ({"execution_id": ""}, "no usable delivery id"),
    ],
)
def test_a_malformed_event_fails_the_invocation_and_says_why(
    aws: dict[str, Any], caplog: pytest.LogCaptureFixture, change: dict[str, Any], says: str
) -> None:
    event = {**load_event("scheduler_cleanup"), **change}
    with pytest.raises(ValueError, match=says.replace("(", r"\(").replace("[", r"\[")):
        handler(event, _Context())
    assert any("scheduled event refused" in record.getMessage() for record in caplog.records)
    assert queued(aws["DEFAULT_QUEUE_URL"]) == []


def test_an_unscheduled_rule_event_is_refused(aws: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="unknown scheduled task"):
        handler(load_event("eventbridge_scheduled"), _Context())


def test_the_invocations_request_id_travels_with_the_job_and_on_its_lines(
    aws: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    with capture(monkeypatch) as captured:
        answer = handler(load_event("scheduler_cleanup"), _Context())

    [headers] = queued(aws["DEFAULT_QUEUE_URL"])
    assert headers["request_id"] == _Context.aws_request_id
    enqueued = [line for line in captured.lines() if line["message"] == "scheduled job enqueued"]
    assert [(line["request_id"], line["job_id"]) for line in enqueued] == [
        (_Context.aws_request_id, answer["job_id"])
    ]
    [emf] = captured.metrics()
    assert (emf["task"], emf["JobsSubmitted"]) == ("skylane.cleanup_temp_files", [1.0])


def test_the_templates_schedules_count_their_runs(aws: dict[str, Any]) -> None:
    event = load_event("scheduler_cleanup")
    first = handler(event, _Context())
    handler(event, _Context())  # a duplicate delivery: not a second run
    handler({**event, "execution_id": "another-execution"}, _Context())
    state = ScheduleRuns.from_settings().state("default", "skylane-dev-CleanupTempFiles")
    assert state.run_count == 2
    assert state.last_run_at is not None
    assert first["job_id"] in state.recent_runs
