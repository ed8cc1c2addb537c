"""A finished job's message delivered again (its ack lost with a worker) runs nothing twice."""

import importlib
import logging
import sys
from types import ModuleType
from typing import Any

import pytest

from functions.tasks import messaging
from skylane.core.settings import get_settings
from skylane.jobs.contracts import SEND_EMAIL
from skylane.jobs.states import JobState
from skylane.jobs.store import JobStore


@pytest.fixture
def tasks(worker_aws: dict[str, str]) -> ModuleType:
    get_settings.cache_clear()
    sys.modules.pop("functions.tasks.celery_tasks", None)
    return importlib.import_module("functions.tasks.celery_tasks")


@pytest.mark.parametrize("final", [JobState.SUCCESS, JobState.FAILURE])
def test_a_redelivered_finished_job_is_acknowledged_without_running(
    tasks: ModuleType,
    final: JobState,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    store = JobStore.from_settings()
    store.create("job-f", task=SEND_EMAIL.name, kind=SEND_EMAIL.kind, queue="default", inputs={})
    store.mark_started("job-f", task=SEND_EMAIL.name, queue="default")
    if final is JobState.SUCCESS:
        store.record_success("job-f", {"status": "success", "message_id": "first"})
    else:
        store.record_failure("job-f", "Boom: first attempt", None)
    before = store.get("job-f")
    sent: list[Any] = []
    monkeypatch.setattr(messaging, "send_email", lambda *args: sent.append(args) or "again")
    caplog.set_level(logging.INFO)

    result = tasks.send_email.apply(
        kwargs={"email": "a@example.com", "subject": "s", "body": "b"}, task_id="job-f"
    )

    # Ignore: Celery acknowledges the message (deletes it) and stores nothing.
    assert result.state == "IGNORED"
    assert sent == []
    logged = [r.getMessage() for r in caplog.records if getattr(r, "job_id", None) == "job-f"]
    assert "job already finished; redelivered message dropped" in logged
    assert "job started" not in logged
    assert store.get("job-f") == before


def test_a_redelivered_job_that_was_marked_lost_runs_again(
    tasks: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = JobStore.from_settings()
    store.create("job-l", task=SEND_EMAIL.name, kind=SEND_EMAIL.kind, queue="default", inputs={})
    seen = store.mark_started("job-l", task=SEND_EMAIL.name, queue="default")
    assert seen
    started = store.get("job-l")
    assert started is not None
    assert started.last_started_at is not None
    assert store.mark_lost("job-l", started.last_started_at, "lost: worker vanished")
    lost = store.get("job-l")
    assert lost is not None
    assert lost.state is JobState.FAILURE
    assert lost.lost
    sent: list[Any] = []
    monkeypatch.setattr(messaging, "send_email", lambda *args: sent.append(args) or "again")

    result = tasks.send_email.apply(
        kwargs={"email": "a@example.com", "subject": "s", "body": "b"}, task_id="job-l"
    )

    # Its message came back (a redrive from the dead-letter queue): the email goes out.
    assert result.state == "SUCCESS"
    # (The record's own move out of FAILURE is mark_started's, tested with the job store.)
    assert len(sent) == 1
