from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest

from functions.tasks.reconcile import lost_after, reconcile_running_jobs
from skylane.jobs.contracts import PROCESS_VIDEO, SEND_EMAIL, QueueName, TaskSpec
from skylane.jobs.states import JobState
from skylane.jobs.store import JobStore


def test_a_job_is_lost_after_its_time_limit_a_visibility_timeout_and_a_margin() -> None:
    # send_email: 60 s hard limit + a 300 s visibility timeout + 60 s.
    assert lost_after(SEND_EMAIL.name, 300) == (timedelta(seconds=420), QueueName.DEFAULT)
    # generate_report: 600 s + 300 s + 60 s.
    assert lost_after("skylane.generate_report", 300) == (timedelta(seconds=960), QueueName.HIGH)
    # An unknown task gets the default queue's longest limit (process_video's 1800 s).
    assert lost_after("skylane.retired", 300) == (timedelta(seconds=2160), QueueName.DEFAULT)


def started(store: JobStore, job_id: str, spec: TaskSpec | None) -> datetime:
    task = spec.name if spec else "skylane.retired"
    store.create(job_id, task=task, kind=task.removeprefix("skylane."), queue="default", inputs={})
    store.mark_started(job_id, task=task, queue="default")
    job = store.get(job_id)
    assert job is not None
    assert job.last_started_at is not None
    return datetime.fromisoformat(job.last_started_at)


@pytest.fixture
def store(aws: dict[str, Any]) -> JobStore:
    return JobStore.from_settings()


def test_only_a_job_past_its_deadline_is_marked_lost(store: JobStore) -> None:
    stuck_since = started(store, "stuck", SEND_EMAIL)
    started(store, "long-video", PROCESS_VIDEO)
    started(store, "unknown", None)
    started(store, "done", SEND_EMAIL)
    store.record_success("done", {"status": "success"})
    # Past send_email's 420 s, within process_video's and an unknown task's 2160 s (the
    # default 300 s visibility timeout).
    now = stuck_since + timedelta(seconds=2000)

    outcome = reconcile_running_jobs(store, now=now)

    assert outcome.marked_lost == ["stuck"]
    assert outcome.checked == 3
    stuck = store.get("stuck")
    assert stuck is not None
    assert stuck.state is JobState.FAILURE
    assert stuck.error is not None
    assert "default dead-letter queue" in stuck.error
    for job_id, state in [
        ("long-video", JobState.STARTED),
        ("unknown", JobState.STARTED),
        ("done", JobState.SUCCESS),
    ]:
        job = store.get(job_id)
        assert job is not None
        assert job.state is state


def test_a_job_within_its_deadline_is_left_running(store: JobStore) -> None:
    since = started(store, "running", SEND_EMAIL)

    outcome = reconcile_running_jobs(store, now=since + timedelta(seconds=420))

    assert outcome.marked_lost == []
    job = store.get("running")
    assert job is not None
    assert job.state is JobState.STARTED


def test_reconciling_twice_changes_nothing_the_second_time(store: JobStore) -> None:
    since = started(store, "stuck", None)
    now = since + timedelta(hours=2)

    first = reconcile_running_jobs(store, now=now)
    lost = store.get("stuck")
    second = reconcile_running_jobs(store, now=now + timedelta(minutes=5))

    assert first.marked_lost == ["stuck"]
    assert (second.checked, second.marked_lost) == (0, [])
    assert store.get("stuck") == lost


def test_jobs_of_yesterday_are_reconciled_too(store: JobStore) -> None:
    since = started(store, "stuck", SEND_EMAIL)

    # The last second of the next UTC day: the job's creation day is "yesterday".
    next_day_end = datetime.combine(since.date() + timedelta(days=2), time(), UTC) - timedelta(
        seconds=1
    )

    outcome = reconcile_running_jobs(store, now=next_day_end)

    assert outcome.marked_lost == ["stuck"]
