"""Cancelling a job in the store: one conditional write, and what running work learns from it."""

from typing import Any
from uuid import uuid4

import pytest
from celery import states

from skylane.broker.backend import StartOutcome
from skylane.broker.celery_app import get_celery_app
from skylane.jobs.states import JobState
from skylane.jobs.store import JobAlreadyFinished, JobNotFound, JobRevoked, JobStore


@pytest.fixture
def store(aws: dict[str, Any]) -> JobStore:
    return JobStore.from_settings()


def new_job(store: JobStore) -> str:
    job_id = str(uuid4())
    store.create(
        job_id, task="skylane.process_large_file", kind="process_large_file", queue="default",
        inputs={"file_key": "uploads/x"},
    )  # fmt: skip
    return job_id


def move_to(store: JobStore, job_id: str, state: JobState) -> None:
    if state is not JobState.PENDING:
        store.mark_started(job_id, task="skylane.process_large_file", queue="default")
    if state is JobState.PROGRESS:
        store.record_progress(job_id, 2, 10, {})
    elif state is JobState.RETRY:
        store.record_retry(job_id, "SlowDown: slow down")
    elif state is JobState.SUCCESS:
        store.record_success(job_id, {"status": "success"})
    elif state is JobState.FAILURE:
        store.record_failure(job_id, "ObjectMissing: gone", None)


@pytest.mark.parametrize(
    "state", [JobState.PENDING, JobState.STARTED, JobState.PROGRESS, JobState.RETRY]
)
def test_an_unfinished_job_is_revoked_and_ended(store: JobStore, state: JobState) -> None:
    job_id = new_job(store)
    move_to(store, job_id, state)

    revoked = store.revoke(job_id)

    assert revoked.state is JobState.REVOKED
    assert revoked.ended_at is not None
    assert store.get(job_id) == revoked


@pytest.mark.parametrize("state", [JobState.SUCCESS, JobState.FAILURE])
def test_a_finished_job_cannot_be_revoked(store: JobStore, state: JobState) -> None:
    job_id = new_job(store)
    move_to(store, job_id, state)

    with pytest.raises(JobAlreadyFinished, match=f"already finished \\({state.value}\\)") as info:
        store.revoke(job_id)

    assert info.value.record.state is state
    record = store.get(job_id)
    assert record is not None
    assert record.state is state


def test_revoking_twice_says_it_already_finished(store: JobStore) -> None:
    job_id = new_job(store)
    store.revoke(job_id)
    with pytest.raises(JobAlreadyFinished, match="REVOKED"):
        store.revoke(job_id)


def test_revoking_an_unknown_job_creates_nothing(store: JobStore) -> None:
    job_id = str(uuid4())
    with pytest.raises(JobNotFound):
        store.revoke(job_id)
    assert store.get(job_id) is None


def test_a_progress_write_after_revoke_raises_job_revoked(store: JobStore) -> None:
    job_id = new_job(store)
    move_to(store, job_id, JobState.PROGRESS)
    store.revoke(job_id)

    with pytest.raises(JobRevoked):
        store.record_progress(job_id, 3, 10, {})

    record = store.get(job_id)
    assert record is not None
    assert (record.state, record.current) == (JobState.REVOKED, 2)


def test_a_backwards_progress_write_is_still_only_ignored(store: JobStore) -> None:
    job_id = new_job(store)
    move_to(store, job_id, JobState.PROGRESS)
    assert store.record_progress(job_id, 1, 10, {}) is False


def test_progress_on_a_finished_job_is_ignored_not_a_cancellation(store: JobStore) -> None:
    job_id = new_job(store)
    move_to(store, job_id, JobState.SUCCESS)
    assert store.record_progress(job_id, 10, 10, {}) is False


def test_final_writes_after_revoke_leave_it_revoked(store: JobStore) -> None:
    job_id = new_job(store)
    move_to(store, job_id, JobState.STARTED)
    store.revoke(job_id)

    assert store.record_failure(job_id, "JobRevoked: cancelled", None) is False
    assert store.record_success(job_id, {"status": "success"}) is False
    assert store.record_retry(job_id, "SlowDown") is False
    store.mark_started(job_id, task="skylane.process_large_file", queue="default")

    record = store.get(job_id)
    assert record is not None
    assert record.state is JobState.REVOKED


def test_update_state_through_celery_raises_job_revoked(store: JobStore) -> None:
    backend = get_celery_app().backend
    job_id = new_job(store)
    store.revoke(job_id)

    with pytest.raises(JobRevoked):
        backend.store_result(job_id, {"current": 1, "total": 5}, JobState.PROGRESS.value)
    # Celery's own FAILURE write, which a task's error would cause, is refused too.
    backend.store_result(job_id, RuntimeError("boom"), states.FAILURE)
    record = store.get(job_id)
    assert record is not None
    assert record.state is JobState.REVOKED


def test_the_started_write_tells_the_task_whether_it_was_cancelled(store: JobStore) -> None:
    backend = get_celery_app().backend
    cancelled, queued = new_job(store), new_job(store)
    store.revoke(cancelled)

    backend.store_result(cancelled, {"pid": 1}, states.STARTED)
    assert backend.pop_start_outcome(cancelled) is StartOutcome.REVOKED
    record = store.get(cancelled)
    assert record is not None
    assert (record.state, record.attempts) == (JobState.REVOKED, 0)

    backend.store_result(queued, {"pid": 1}, states.STARTED)
    assert backend.pop_start_outcome(queued) is StartOutcome.STARTED
    # Asked once: a second question (or one about another job) has no answer, so a task that
    # was not started through this backend reads the record instead.
    assert backend.pop_start_outcome(queued) is None


def test_the_started_write_of_a_finished_job_says_so_and_changes_nothing(store: JobStore) -> None:
    """A finished job's message delivered again (its ack was lost with its worker)."""
    backend = get_celery_app().backend
    job_id = new_job(store)
    move_to(store, job_id, JobState.SUCCESS)
    before = store.get(job_id)

    backend.store_result(job_id, {"pid": 1}, states.STARTED)

    assert backend.pop_start_outcome(job_id) is StartOutcome.FINISHED
    assert store.get(job_id) == before
