"""The job store's guarantees: conditional writes that never move a job backwards."""

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

import pytest

from skylane.jobs.states import JobState
from skylane.jobs.store import JobExists, JobStore


@pytest.fixture
def store(aws: dict[str, Any]) -> JobStore:
    return JobStore.from_settings()


def new_job(store: JobStore, user_id: str | None = None) -> str:
    job_id = str(uuid4())
    store.create(
        job_id,
        task="skylane.process_large_file",
        kind="process_large_file",
        queue="default",
        inputs={"file_key": "uploads/x"},
        user_id=user_id,
    )
    return job_id


def test_a_job_id_is_recorded_once(store: JobStore) -> None:
    job_id = new_job(store)
    with pytest.raises(JobExists):
        store.create(job_id, task="t", kind="k", queue="default", inputs={})


def test_record_carries_inputs_and_expires_after_the_ttl(store: JobStore) -> None:
    job_id = new_job(store)
    record = store.get(job_id)
    assert record is not None
    assert record.state is JobState.PENDING
    assert record.inputs == {"file_key": "uploads/x"}
    assert record.attempts == 0


def test_progress_never_goes_backwards_within_an_attempt(store: JobStore) -> None:
    job_id = new_job(store)
    store.mark_started(job_id, task="skylane.process_large_file", queue="default")
    assert store.record_progress(job_id, 5, 10, {})
    assert not store.record_progress(job_id, 3, 10, {})
    record = store.get(job_id)
    assert record is not None
    assert (record.state, record.current, record.total) == (JobState.PROGRESS, 5, 10)


def test_a_new_attempt_counts_and_restarts_its_progress(store: JobStore) -> None:
    job_id = new_job(store)
    store.mark_started(job_id, task="skylane.process_large_file", queue="default")
    store.record_progress(job_id, 8, 10, {})
    store.record_retry(job_id, "ConnectionError: S3 unreachable")
    retrying = store.get(job_id)
    assert retrying is not None
    assert retrying.state is JobState.RETRY
    assert retrying.error == "ConnectionError: S3 unreachable"

    # The retry's message: Celery's retries header is 1.
    assert store.mark_started(job_id, task="skylane.process_large_file", queue="default", retries=1)
    assert store.record_progress(job_id, 1, 10, {})
    record = store.get(job_id)
    assert record is not None
    assert (record.attempts, record.current, record.error) == (2, 1, None)


def test_nothing_overwrites_a_final_state(store: JobStore) -> None:
    job_id = new_job(store)
    store.mark_started(job_id, task="skylane.process_large_file", queue="default")
    assert store.record_success(job_id, {"status": "success"})
    assert not store.record_progress(job_id, 9, 10, {})
    assert not store.record_failure(job_id, "late failure", None)
    store.mark_started(job_id, task="skylane.process_large_file", queue="default")
    record = store.get(job_id)
    assert record is not None
    assert record.state is JobState.SUCCESS
    assert record.result == {"status": "success"}
    assert record.ended_at is not None


def test_started_at_is_the_first_start(store: JobStore) -> None:
    job_id = new_job(store)
    store.mark_started(job_id, task="skylane.process_large_file", queue="default")
    first = store.get(job_id)
    store.mark_started(job_id, task="skylane.process_large_file", queue="default")
    second = store.get(job_id)
    assert first is not None
    assert second is not None
    assert first.started_at == second.started_at
    assert second.attempts == 2


def test_discard_removes_only_a_pending_record(store: JobStore) -> None:
    pending = new_job(store)
    store.discard(pending)
    assert store.get(pending) is None


def test_jobs_for_user_lists_that_users_jobs_newest_first(store: JobStore) -> None:
    first = new_job(store, user_id="7")
    second = new_job(store, user_id="7")
    new_job(store, user_id="8")
    new_job(store)
    assert [r.job_id for r in store.jobs_for_user("7")] == [second, first]


def test_jobs_created_on_finds_the_days_jobs_across_shards(store: JobStore) -> None:
    created = {new_job(store) for _ in range(25)}
    today = datetime.now(UTC).date()
    assert {r.job_id for r in store.jobs_created_on(today)} == created
    assert store.jobs_created_on(today - timedelta(days=1)) == []


def test_mark_lost_fails_only_the_attempt_it_saw(store: JobStore) -> None:
    job_id = new_job(store)
    store.mark_started(job_id, task="skylane.process_large_file", queue="default")
    seen = store.get(job_id)
    assert seen is not None
    assert seen.last_started_at is not None
    assert not store.mark_lost(job_id, "2000-01-01T00:00:00.000Z", "lost")
    assert store.mark_lost(job_id, seen.last_started_at, "lost: worker vanished")
    assert not store.mark_lost(job_id, seen.last_started_at, "lost again")
    record = store.get(job_id)
    assert record is not None
    assert (record.state, record.error) == (JobState.FAILURE, "lost: worker vanished")


def test_a_lost_job_whose_message_comes_back_runs_again_to_its_real_end(store: JobStore) -> None:
    # The reconciler's verdict is not a run's: a redrive from the dead-letter queue (or a late
    # redelivery) restarts the job, and its record follows the new attempt.
    job_id = new_job(store)
    store.mark_started(job_id, task="skylane.process_large_file", queue="default")
    seen = store.get(job_id)
    assert seen is not None
    assert seen.last_started_at is not None
    assert store.mark_lost(job_id, seen.last_started_at, "lost: worker vanished")

    assert store.mark_started(job_id, task="skylane.process_large_file", queue="default")
    again = store.get(job_id)
    assert again is not None
    assert (again.state, again.error, again.ended_at, again.attempts) == (
        JobState.STARTED,
        None,
        None,
        2,
    )
    assert store.record_success(job_id, {"status": "success"})
    done = store.get(job_id)
    assert done is not None
    assert done.state is JobState.SUCCESS
    # Finished for real now: a further redelivery does not start it.
    assert not store.mark_started(job_id, task="skylane.process_large_file", queue="default")


def test_a_failure_a_run_reported_is_final(store: JobStore) -> None:
    job_id = new_job(store)
    store.mark_started(job_id, task="skylane.process_large_file", queue="default")
    assert store.record_failure(job_id, "ValueError: not a PDF", None)
    assert not store.mark_started(job_id, task="skylane.process_large_file", queue="default")
    record = store.get(job_id)
    assert record is not None
    assert record.state is JobState.FAILURE


def start(store: JobStore, job_id: str, retries: int) -> bool:
    return store.mark_started(
        job_id, task="skylane.process_large_file", queue="default", retries=retries
    )


def test_a_message_a_retry_superseded_does_not_run_again(store: JobStore) -> None:
    # The first attempt retried: its message was acknowledged, but its deletion can be lost
    # (or still on its way), so SQS may give it back while the retry's message waits.
    job_id = new_job(store)
    assert start(store, job_id, retries=0)
    assert store.record_retry(job_id, "ConnectionError: SES unavailable")
    assert not start(store, job_id, retries=0)

    # The retry's own message runs; once it runs, the first message still does not.
    assert start(store, job_id, retries=1)
    assert not start(store, job_id, retries=0)
    record = store.get(job_id)
    assert record is not None
    assert (record.state, record.attempts) == (JobState.STARTED, 2)


def test_a_crashed_attempts_own_message_runs_again(store: JobStore) -> None:
    # A worker died mid-job: the attempt's record stays STARTED and its message comes back.
    job_id = new_job(store)
    assert start(store, job_id, retries=1)
    assert start(store, job_id, retries=1)
    assert start(store, job_id, retries=1)
    record = store.get(job_id)
    assert record is not None
    assert (record.state, record.attempts) == (JobState.STARTED, 3)


def test_a_lost_retried_job_redriven_from_the_dead_letter_queue_runs(store: JobStore) -> None:
    job_id = new_job(store)
    assert start(store, job_id, retries=0)
    assert store.record_retry(job_id, "ConnectionError")
    assert start(store, job_id, retries=1)
    seen = store.get(job_id)
    assert seen is not None
    assert seen.last_started_at is not None
    assert store.mark_lost(job_id, seen.last_started_at, "lost: worker vanished")

    assert start(store, job_id, retries=1)
