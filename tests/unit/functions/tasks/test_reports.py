import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest

from functions.tasks.reports import (
    InvalidReportType,
    build_report,
    publish_report,
    report_key,
)
from skylane.jobs.states import JobState
from skylane.jobs.store import JobRecord, JobStore

GENERATED_AT = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)


def record(
    job_id: str,
    kind: str,
    state: JobState,
    started_at: str | None = None,
    ended_at: str | None = None,
    error: str | None = None,
) -> JobRecord:
    return JobRecord(
        job_id=job_id,
        task=f"skylane.{kind}",
        kind=kind,
        queue="default",
        state=state,
        created_at="2025-01-01T10:00:00.000Z",
        user_id="42",
        started_at=started_at,
        ended_at=ended_at,
        error=error,
    )


JOBS = [
    record(
        "a",
        "process_video",
        JobState.SUCCESS,
        "2025-01-01T10:00:00.000Z",
        "2025-01-01T10:01:00.000Z",
    ),
    record(
        "b",
        "process_video",
        JobState.SUCCESS,
        "2025-01-01T11:00:00.000Z",
        "2025-01-01T11:03:00.000Z",
    ),
    record(
        "c",
        "send_notification",
        JobState.FAILURE,
        "2025-01-01T12:00:00.000Z",
        "2025-01-01T12:00:00.500Z",
        error="NotConfigured: NOTIFICATIONS_TOPIC_ARN is not set",
    ),
    record("d", "process_video", JobState.PROGRESS, "2025-01-01T13:00:00.000Z"),
    record("e", "generate_report", JobState.PENDING),
]


class FakeHistory:
    def __init__(self, jobs: Sequence[JobRecord]) -> None:
        self.jobs = jobs
        self.asked: list[str] = []

    def jobs_for_user(self, user_id: str) -> Sequence[JobRecord]:
        self.asked.append(user_id)
        return self.jobs


def test_summary_counts_states_kinds_failures_and_durations() -> None:
    report = build_report(42, "summary", JOBS, GENERATED_AT)

    assert report == {
        "user_id": 42,
        "report_type": "summary",
        "generated_at": "2025-01-02T03:04:05.000Z",
        "jobs_counted": 5,
        "by_kind": {"generate_report": 1, "process_video": 3, "send_notification": 1},
        "by_state": {"FAILURE": 1, "PENDING": 1, "PROGRESS": 1, "SUCCESS": 2},
        "failures": 1,
        "durations": {
            "measured": 3,
            "mean_seconds": round((60 + 180 + 0.5) / 3, 3),
            "max_seconds": 180.0,
            "by_kind": {
                "process_video": {"measured": 2, "mean_seconds": 120.0, "max_seconds": 180.0},
                "send_notification": {"measured": 1, "mean_seconds": 0.5, "max_seconds": 0.5},
            },
        },
    }


def test_detailed_report_lists_every_job() -> None:
    report = build_report(42, "detailed", JOBS, GENERATED_AT)

    assert [job["job_id"] for job in report["jobs"]] == ["a", "b", "c", "d", "e"]
    assert report["jobs"][2] == {
        "job_id": "c",
        "kind": "send_notification",
        "state": "FAILURE",
        "created_at": "2025-01-01T10:00:00.000Z",
        "started_at": "2025-01-01T12:00:00.000Z",
        "ended_at": "2025-01-01T12:00:00.500Z",
        "error": "NotConfigured: NOTIFICATIONS_TOPIC_ARN is not set",
    }
    assert report["jobs"][4]["started_at"] is None


def test_report_of_a_user_without_jobs() -> None:
    report = build_report(7, "summary", [], GENERATED_AT)

    assert report["jobs_counted"] == 0
    assert report["by_state"] == {}
    assert report["durations"] == {
        "measured": 0,
        "mean_seconds": None,
        "max_seconds": None,
        "by_kind": {},
    }


def test_published_report_is_json_in_the_reports_bucket_without_its_own_job(
    worker_aws: dict[str, str],
) -> None:
    history = FakeHistory([*JOBS, record("report-job", "generate_report", JobState.STARTED)])

    published = publish_report(
        worker_aws["REPORTS_BUCKET"], 42, "detailed", job_id="report-job", history=history
    )

    assert published == {
        "report_key": "reports/42/detailed/report-job.json",
        "jobs_counted": 5,
    }
    assert history.asked == ["42"]
    stored = boto3.client("s3").get_object(
        Bucket=worker_aws["REPORTS_BUCKET"], Key=published["report_key"]
    )
    assert stored["ContentType"] == "application/json"
    report: dict[str, Any] = json.loads(stored["Body"].read())
    assert report["jobs_counted"] == 5
    assert "report-job" not in [job["job_id"] for job in report["jobs"]]


def test_report_from_the_real_job_table(worker_aws: dict[str, str]) -> None:
    store = JobStore.from_settings()
    for job_id, kind in [("j1", "process_video"), ("j2", "send_notification")]:
        store.create(
            job_id, task=f"skylane.{kind}", kind=kind, queue="default", inputs={}, user_id="9"
        )
    store.create(
        "other-user", task="skylane.send_email", kind="send_email", queue="default", inputs={}
    )
    store.mark_started("j1", task="skylane.process_video", queue="default")
    store.record_success("j1", {"status": "success"})
    store.mark_started("j2", task="skylane.send_notification", queue="default")
    store.record_failure("j2", "NotConfigured: no topic", None)

    published = publish_report(
        worker_aws["REPORTS_BUCKET"], 9, "summary", job_id="report-job", history=store
    )

    assert published["jobs_counted"] == 2
    body = (
        boto3.client("s3")
        .get_object(
            Bucket=worker_aws["REPORTS_BUCKET"], Key=report_key(9, "summary", "report-job")
        )["Body"]
        .read()
    )
    report = json.loads(body)
    assert report["by_state"] == {"FAILURE": 1, "SUCCESS": 1}
    assert report["failures"] == 1
    assert report["durations"]["measured"] == 2
    assert "jobs" not in report


def test_unknown_report_type_fails_before_reading_the_history() -> None:
    history = FakeHistory(JOBS)

    with pytest.raises(
        InvalidReportType, match="report_type must be one of summary, detailed, not 'weekly'"
    ):
        publish_report("unused-bucket", 42, "weekly", job_id="report-job", history=history)
    assert history.asked == []
