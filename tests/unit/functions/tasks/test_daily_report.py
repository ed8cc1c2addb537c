import json
from datetime import date, datetime, timedelta
from typing import Any

import boto3
import pytest

from functions.tasks.daily_report import (
    InvalidReportDay,
    build_daily_report,
    publish_daily_report,
    report_day,
)
from skylane.jobs.contracts import GENERATE_DAILY_REPORT, PROCESS_VIDEO, SEND_EMAIL, TaskSpec
from skylane.jobs.states import JobState
from skylane.jobs.store import JobRecord, JobStore, utcnow

TODAY = date(2026, 11, 28)


def record(job_id: str, task: str, state: JobState, seconds: float | None = None) -> JobRecord:
    started = datetime(2026, 11, 27, 12, 0, 0).isoformat() + "+00:00"
    ended = None
    if seconds is not None:
        ended = (datetime(2026, 11, 27, 12, 0, 0) + timedelta(seconds=seconds)).isoformat()
        ended += "+00:00"
    return JobRecord(
        job_id=job_id,
        task=task,
        kind=task.removeprefix("skylane."),
        queue="default",
        state=state,
        created_at="2026-11-27T11:59:59.000Z",
        started_at=started,
        ended_at=ended,
        error="boom" if state is JobState.FAILURE else None,
    )


def test_day_defaults_to_yesterday() -> None:
    assert report_day(None, TODAY) == date(2026, 11, 27)


def test_an_explicit_day_may_be_any_past_day_or_today() -> None:
    assert report_day("2026-01-31", TODAY) == date(2026, 1, 31)
    assert report_day("2026-11-28", TODAY) == TODAY


@pytest.mark.parametrize(
    ("day", "message"),
    [
        ("yesterday", "YYYY-MM-DD"),
        ("20261127", "YYYY-MM-DD"),
        (20261127, "YYYY-MM-DD"),
        ("2026-02-30", "not a calendar date"),
        ("2026-11-29", "in the future"),
    ],
)
def test_an_invalid_day_is_refused_with_a_clear_message(day: object, message: str) -> None:
    with pytest.raises(InvalidReportDay, match=message):
        report_day(day, TODAY)


def test_report_counts_by_task_and_state_and_lists_failures() -> None:
    email, video = SEND_EMAIL.name, PROCESS_VIDEO.name
    jobs = [
        record("e1", email, JobState.SUCCESS, 1),
        record("e2", email, JobState.SUCCESS, 2),
        record("e3", email, JobState.FAILURE, 3),
        record("v1", video, JobState.SUCCESS, 100),
        record("v2", video, JobState.PENDING),
    ]

    report = build_daily_report(date(2026, 11, 27), jobs, datetime(2026, 11, 28, 2, 0))

    assert report["day"] == "2026-11-27"
    assert report["jobs"] == 5
    assert report["by_task"] == {email: 3, video: 2}
    assert report["by_state"] == {"FAILURE": 1, "PENDING": 1, "SUCCESS": 3}
    assert report["by_task_state"] == {
        email: {"FAILURE": 1, "SUCCESS": 2},
        video: {"PENDING": 1, "SUCCESS": 1},
    }
    assert report["failures"] == [{"job_id": "e3", "task": email, "error": "boom"}]
    assert report["failures_truncated"] is False


def test_durations_are_nearest_rank_percentiles_per_task() -> None:
    jobs = [
        record(f"j{n}", SEND_EMAIL.name, JobState.SUCCESS, seconds)
        for n, seconds in enumerate([float(s) for s in range(1, 21)])
    ]
    jobs.append(record("once", PROCESS_VIDEO.name, JobState.SUCCESS, 42.5))

    durations = build_daily_report(date(2026, 11, 27), jobs, datetime(2026, 11, 28))["durations"]

    assert durations[SEND_EMAIL.name] == {
        "count": 20,
        "p50_seconds": 10.0,
        "p95_seconds": 19.0,
        "max_seconds": 20.0,
    }
    assert durations[PROCESS_VIDEO.name] == {
        "count": 1,
        "p50_seconds": 42.5,
        "p95_seconds": 42.5,
        "max_seconds": 42.5,
    }


def create(store: JobStore, job_id: str, spec: TaskSpec) -> None:
    store.create(job_id, task=spec.name, kind=spec.kind, queue=spec.queue.value, inputs={})


def test_published_report_covers_the_days_jobs_but_not_itself(aws: dict[str, Any]) -> None:
    store = JobStore.from_settings()
    for job_id, final in [("ok-1", True), ("ok-2", True), ("bad-1", False)]:
        create(store, job_id, SEND_EMAIL)
        store.mark_started(job_id, task=SEND_EMAIL.name, queue="default")
        if final:
            store.record_success(job_id, {"status": "success"})
        else:
            store.record_failure(job_id, "SMTP said no", None)
    create(store, "report-job", GENERATE_DAILY_REPORT)
    # The day after the jobs ran, so the default day is the one they were created on.
    tomorrow = utcnow() + timedelta(days=1)

    published = publish_daily_report(
        aws["REPORTS_BUCKET"], None, job_id="report-job", store=store, now=tomorrow
    )

    day = (tomorrow - timedelta(days=1)).date().isoformat()
    assert published == {"day": day, "report_key": f"reports/daily/{day}.json", "jobs": 3}
    body = boto3.client("s3").get_object(Bucket=aws["REPORTS_BUCKET"], Key=published["report_key"])
    report = json.loads(body["Body"].read())
    assert report["by_task_state"] == {SEND_EMAIL.name: {"FAILURE": 1, "SUCCESS": 2}}
    assert report["failures"] == [
        {"job_id": "bad-1", "task": SEND_EMAIL.name, "error": "SMTP said no"}
    ]
    assert report["durations"][SEND_EMAIL.name]["count"] == 3


def test_a_day_without_jobs_is_an_empty_report(aws: dict[str, Any]) -> None:
    published = publish_daily_report(
        aws["REPORTS_BUCKET"],
        "2020-01-01",
        job_id="report-job",
        store=JobStore.from_settings(),
    )

    assert published["jobs"] == 0
    body = boto3.client("s3").get_object(Bucket=aws["REPORTS_BUCKET"], Key=published["report_key"])
    report = json.loads(body["Body"].read())
    assert (report["by_task"], report["failures"], report["durations"]) == ({}, [], {})
