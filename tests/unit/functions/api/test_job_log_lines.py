"""A job's log lines for its detail view (functions/api/job_logs.py), over moto's CloudWatch Logs:
only the job's lines, in time order, within its lifetime, capped, and never an error."""

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from functions.api.job_logs import AFTER_MARGIN, BEFORE_MARGIN, job_logs, log_groups
from skylane.core.settings import Settings
from skylane.jobs.states import JobState
from skylane.jobs.store import JobRecord, iso
from tests.unit.logs_helpers import logs_client, make_log_groups, put_lines

JOB = "3f1c2d4e-0000-4000-8000-000000000001"
OTHER = "3f1c2d4e-0000-4000-8000-000000000002"
CREATED = datetime(2026, 11, 29, 1, 0, tzinfo=UTC)
ENDED = CREATED + timedelta(seconds=30)
GROUPS = {"api": "/aws/lambda/api", "worker": "/ecs/worker"}


def record(ended: datetime | None = ENDED) -> JobRecord:
    return JobRecord(
        job_id=JOB,
        task="skylane.send_email",
        kind="send_email",
        queue="default",
        state=JobState.SUCCESS if ended else JobState.STARTED,
        created_at=iso(CREATED),
        ended_at=iso(ended) if ended else None,
    )


def line(message: str, job_id: str = JOB, level: str = "INFO") -> str:
    return json.dumps({"level": level, "message": message, "job_id": job_id})


@pytest.fixture
def logs(aws: dict[str, Any]) -> Any:
    return make_log_groups(logs_client(), GROUPS.values())


def test_the_jobs_lines_from_every_group_in_time_order_and_nothing_else(logs: Any) -> None:
    at = CREATED + timedelta(seconds=1)
    put_lines(
        logs,
        GROUPS["api"],
        (at, line("job accepted")),
        (at + timedelta(seconds=1), line("job accepted", job_id=OTHER)),
    )
    put_lines(
        logs,
        GROUPS["worker"],
        (at + timedelta(seconds=2), line("job started")),
        (at + timedelta(seconds=3), f"Traceback mentioning {JOB}"),
        (at + timedelta(seconds=4), line("transient failure", level="WARNING")),
    )

    found = job_logs(logs, GROUPS, record(), now=lambda: ENDED)

    assert found.reason is None
    assert found.lines == [
        {"timestamp": iso(at), "component": "api", "level": "INFO", "message": "job accepted"},
        {
            "timestamp": iso(at + timedelta(seconds=2)),
            "component": "worker",
            "level": "INFO",
            "message": "job started",
        },
        {
            "timestamp": iso(at + timedelta(seconds=3)),
            "component": "worker",
            "level": None,
            "message": f"Traceback mentioning {JOB}",
        },
        {
            "timestamp": iso(at + timedelta(seconds=4)),
            "component": "worker",
            "level": "WARNING",
            "message": "transient failure",
        },
    ]


def test_only_lines_within_the_jobs_lifetime_and_its_margins_are_read(logs: Any) -> None:
    # Another run of the same id long before (a replayed id) or long after is not this job's.
    put_lines(
        logs,
        GROUPS["worker"],
        (CREATED - BEFORE_MARGIN - timedelta(seconds=1), line("too early")),
        (CREATED - BEFORE_MARGIN + timedelta(seconds=1), line("just before created_at")),
        (ENDED + AFTER_MARGIN - timedelta(seconds=1), line("just after ended_at")),
        (ENDED + AFTER_MARGIN + timedelta(seconds=1), line("too late")),
    )

    found = job_logs(logs, GROUPS, record(), now=lambda: ENDED + timedelta(days=1))

    assert [entry["message"] for entry in found.lines or []] == [
        "just before created_at",
        "just after ended_at",
    ]


def test_a_running_job_is_searched_up_to_now(logs: Any) -> None:
    now = CREATED + timedelta(minutes=10)
    put_lines(logs, GROUPS["worker"], (now - timedelta(seconds=5), line("still going")))

    found = job_logs(logs, GROUPS, record(ended=None), now=lambda: now)

    assert [entry["message"] for entry in found.lines or []] == ["still going"]


def test_a_chatty_job_shows_its_first_lines_and_says_there_are_more(logs: Any) -> None:
    start = CREATED + timedelta(seconds=1)
    put_lines(
        logs,
        GROUPS["worker"],
        *[(start + timedelta(milliseconds=n), line(f"worker {n}")) for n in range(0, 40, 2)],
    )
    put_lines(
        logs,
        GROUPS["api"],
        *[(start + timedelta(milliseconds=n), line(f"api {n}")) for n in range(1, 40, 2)],
    )

    found = job_logs(logs, GROUPS, record(), max_lines=7, now=lambda: ENDED)

    assert [entry["message"] for entry in found.lines or []] == [
        "worker 0",
        "api 1",
        "worker 2",
        "api 3",
        "worker 4",
        "api 5",
        "worker 6",
    ]
    assert found.reason == "the job has more log lines than the first 7 shown"
    exactly = job_logs(logs, {"api": GROUPS["api"]}, record(), max_lines=20, now=lambda: ENDED)
    assert len(exactly.lines or []) == 20
    assert exactly.reason is None


def test_endless_empty_pages_stop_at_the_page_cap(aws: dict[str, Any]) -> None:
    # FilterLogEvents may answer a page without events but with a next token while it scans.
    logs = boto3.client("logs", region_name="us-east-1")
    stubber = Stubber(logs)
    for _ in range(3):
        stubber.add_response("filter_log_events", {"events": [], "nextToken": "more"})
    with stubber:
        found = job_logs(logs, {"worker": "/ecs/worker"}, record(), max_pages=3)
    stubber.assert_no_pending_responses()
    assert found.lines == []
    assert found.reason is not None


def test_an_unavailable_cloudwatch_logs_gives_no_lines_and_the_reason(aws: dict[str, Any]) -> None:
    logs = boto3.client("logs", region_name="us-east-1")
    stubber = Stubber(logs)
    stubber.add_client_error(
        "filter_log_events",
        service_error_code="ServiceUnavailableException",
        service_message="try later",
        http_status_code=503,
    )
    with stubber:
        found = job_logs(logs, {"worker": "/ecs/worker"}, record())
    assert found.lines is None
    assert found.reason == (
        "CloudWatch Logs could not be read (ServiceUnavailableException: try later)"
    )


def test_a_group_not_created_yet_has_no_lines(logs: Any) -> None:
    found = job_logs(logs, {"light": "/aws/lambda/not-yet"}, record())
    assert (found.lines, found.reason) == ([], None)


def test_no_configured_groups_means_no_search() -> None:
    found = job_logs(object(), {}, record())
    assert found.lines is None
    assert found.reason is not None
    assert "not configured" in found.reason


def test_the_groups_are_the_settings_own_lambda_group_and_the_templates_others() -> None:
    environ = {
        "JOBS_TABLE": "t",
        "UPLOADS_BUCKET": "u",
        "REPORTS_BUCKET": "r",
        "HIGH_QUEUE_URL": "h",
        "DEFAULT_QUEUE_URL": "d",
        "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/stack-ApiFunction-x",
        "WORKER_LOG_GROUP": "/ecs/stack/worker",
        "LIGHT_LOG_GROUP": "/aws/lambda/stack-LightFunction-y",
    }
    assert log_groups(Settings.from_environ(environ)) == {
        "api": "/aws/lambda/stack-ApiFunction-x",
        "worker": "/ecs/stack/worker",
        "light": "/aws/lambda/stack-LightFunction-y",
    }
