"""buffer_one through the scheduler's own path: one run held, the rest dropped, the held one
started by whoever records its predecessor's final state, or by the next delivery when that
release failed half-way."""

import base64
import json
from typing import Any

import boto3
import pytest
from celery import states

from skylane.broker.celery_app import get_celery_app
from skylane.jobs.contracts import TASKS
from skylane.jobs.states import JobState
from skylane.jobs.store import JobStore
from skylane.schedules import invocations
from skylane.schedules.invocations import (
    ScheduledInvocation,
    enqueue_scheduled,
    held_invocation,
    release_after,
)
from skylane.schedules.overlap import Overlap
from skylane.schedules.runs import ScheduleRuns
from skylane.schedules.runtime import schedule_arn
from tests.unit.conftest import REGION, SCHEDULE_GROUP, TABLE

NAME = "hourly-sync"


def delivery(number: int) -> ScheduledInvocation:
    return ScheduledInvocation(
        spec=TASKS["skylane.sync_data"],
        kwargs={},
        delivery_id=f"execution-{number}",
        scheduled_time=f"2026-12-01T1{number}:00:00Z",
        schedule=schedule_arn(NAME, SCHEDULE_GROUP),
        runtime_name=NAME,
        overlap=Overlap.BUFFER_ONE,
    )


def queued_ids(queue_url: str) -> list[str]:
    sqs = boto3.client("sqs", region_name=REGION)
    found: list[str] = []
    while messages := sqs.receive_message(
        QueueUrl=queue_url, MaxNumberOfMessages=10, VisibilityTimeout=60
    ).get("Messages", []):
        found += [json.loads(base64.b64decode(m["Body"]))["headers"]["id"] for m in messages]
    return found


def store() -> JobStore:
    return JobStore(TABLE, 7)


def finish_without_release(job_id: str) -> None:
    """The finisher wrote the final state and died before releasing anything."""
    assert store().finish(job_id, JobState.SUCCESS, result={"status": "success"}) is not None


def test_one_run_is_held_the_rest_dropped_and_the_finisher_starts_the_held_one(
    aws: dict[str, Any],
) -> None:
    first = enqueue_scheduled(delivery(1))
    held = enqueue_scheduled(delivery(2))
    dropped = enqueue_scheduled(delivery(3))
    assert (first.skipped_for, first.held_for) == (None, None)
    assert held.held_for == first.job_id
    assert dropped.skipped_for == first.job_id
    # Neither the held run nor the dropped one has a job yet.
    assert store().get(held.job_id) is None
    assert store().get(dropped.job_id) is None
    state = ScheduleRuns.from_settings().state(SCHEDULE_GROUP, NAME)
    assert state.held is not None
    assert state.held.job_id == held.job_id

    # The worker's result backend records the first run's end: that releases the held one.
    get_celery_app().backend.store_result(first.job_id, {"status": "success"}, states.SUCCESS)

    record = store().get(held.job_id)
    assert record is not None
    assert record.state is JobState.PENDING
    assert record.schedule == NAME
    assert queued_ids(aws["DEFAULT_QUEUE_URL"]) == [first.job_id, held.job_id]
    state = ScheduleRuns.from_settings().state(SCHEDULE_GROUP, NAME)
    assert state.held is None
    assert state.current_job == held.job_id
    assert state.run_count == 2
    assert state.recent_runs == (held.job_id, first.job_id)
    # A second report of the same end (a redelivered message) releases nothing more.
    get_celery_app().backend.store_result(first.job_id, {"status": "success"}, states.SUCCESS)
    assert queued_ids(aws["DEFAULT_QUEUE_URL"]) == []


def test_a_failed_run_releases_the_held_one_too(aws: dict[str, Any]) -> None:
    first = enqueue_scheduled(delivery(1))
    held = enqueue_scheduled(delivery(2))
    get_celery_app().backend.store_result(first.job_id, ValueError("boom"), states.FAILURE)
    record = store().get(held.job_id)
    assert record is not None
    assert record.schedule == NAME


def test_a_release_whose_send_failed_is_started_by_the_next_delivery(
    aws: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    first = enqueue_scheduled(delivery(1))
    held = enqueue_scheduled(delivery(2))

    def sqs_down(*args: Any, **kwargs: Any) -> None:
        raise ConnectionError("SQS is down")

    finished = store().finish(first.job_id, JobState.SUCCESS, result={"status": "success"})
    with monkeypatch.context() as patched:
        patched.setattr(invocations, "submit_job", sqs_down)
        release_after(finished)  # logs, never raises: the finisher's own write stands
    assert store().get(held.job_id) is None
    assert queued_ids(aws["DEFAULT_QUEUE_URL"]) == [first.job_id]

    # The next delivery finds the run held behind a final one: it starts it, and is held itself.
    later = enqueue_scheduled(delivery(3))
    assert later.held_for == held.job_id
    record = store().get(held.job_id)
    assert record is not None
    assert record.schedule == NAME
    assert queued_ids(aws["DEFAULT_QUEUE_URL"]) == [held.job_id]
    state = ScheduleRuns.from_settings().state(SCHEDULE_GROUP, NAME)
    assert state.current_job == held.job_id
    assert state.held is not None
    assert state.held.job_id == later.job_id


def test_a_crash_between_the_release_send_and_its_promotion_runs_the_held_run_once(
    aws: dict[str, Any],
) -> None:
    first = enqueue_scheduled(delivery(1))
    held = enqueue_scheduled(delivery(2))
    finish_without_release(first.job_id)
    # The finisher sent the held run, then died before its conditional write.
    state = ScheduleRuns.from_settings().state(SCHEDULE_GROUP, NAME)
    assert state.held is not None
    invocations._submit(held_invocation(state.held))

    later = enqueue_scheduled(delivery(3))
    assert later.held_for == held.job_id
    # The next delivery's start of it was a duplicate: one message for the held run.
    assert queued_ids(aws["DEFAULT_QUEUE_URL"]) == [first.job_id, held.job_id]
    assert ScheduleRuns.from_settings().state(SCHEDULE_GROUP, NAME).current_job == held.job_id


def test_a_held_run_that_finished_before_its_promotion_promotes_itself(
    aws: dict[str, Any],
) -> None:
    first = enqueue_scheduled(delivery(1))
    held = enqueue_scheduled(delivery(2))
    finish_without_release(first.job_id)
    state = ScheduleRuns.from_settings().state(SCHEDULE_GROUP, NAME)
    assert state.held is not None
    invocations._submit(held_invocation(state.held))
    # It ran and ended before the releaser's promotion landed (the releaser died).
    get_celery_app().backend.store_result(held.job_id, {"status": "success"}, states.SUCCESS)
    state = ScheduleRuns.from_settings().state(SCHEDULE_GROUP, NAME)
    assert (state.current_job, state.held) == (held.job_id, None)
    # Nothing is going any more, so the next delivery starts at once.
    later = enqueue_scheduled(delivery(3))
    assert (later.held_for, later.skipped_for, later.duplicate) == (None, None, False)


def test_a_redelivery_of_the_held_run_stays_held(aws: dict[str, Any]) -> None:
    first = enqueue_scheduled(delivery(1))
    held = enqueue_scheduled(delivery(2))
    again = enqueue_scheduled(delivery(2))
    assert (again.job_id, again.held_for, again.duplicate) == (held.job_id, first.job_id, True)
    assert queued_ids(aws["DEFAULT_QUEUE_URL"]) == [first.job_id]
