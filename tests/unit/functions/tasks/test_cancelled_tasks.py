"""A cancelled job never starts if it was queued, and stops at its next progress step if not."""

import importlib
import logging
import sys
from types import ModuleType
from typing import Any

import pytest

from functions.tasks import files, messaging
from skylane.core.settings import get_settings
from skylane.jobs.contracts import PROCESS_LARGE_FILE, SEND_EMAIL
from skylane.jobs.states import JobState
from skylane.jobs.store import JobStore
from tests.unit.functions.tasks.helpers import Upload

CHUNK = 1024 * 1024


@pytest.fixture
def tasks(worker_aws: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    # Every progress step is written, so the test decides which step meets the cancellation.
    monkeypatch.setenv("PROGRESS_MIN_INTERVAL_SECONDS", "0")
    get_settings.cache_clear()
    sys.modules.pop("functions.tasks.celery_tasks", None)
    return importlib.import_module("functions.tasks.celery_tasks")


def messages(caplog: pytest.LogCaptureFixture, job_id: str) -> list[str]:
    return [r.getMessage() for r in caplog.records if getattr(r, "job_id", None) == job_id]


def test_a_job_cancelled_in_the_queue_never_runs(
    tasks: ModuleType, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    store = JobStore.from_settings()
    store.create("job-q", task=SEND_EMAIL.name, kind=SEND_EMAIL.kind, queue="default", inputs={})
    store.revoke("job-q")
    sent: list[Any] = []
    monkeypatch.setattr(messaging, "send_email", lambda *args: sent.append(args) or "id")
    caplog.set_level(logging.INFO)

    result = tasks.send_email.apply(
        kwargs={"email": "a@example.com", "subject": "s", "body": "b"}, task_id="job-q"
    )

    # Ignore: Celery acknowledges the message and stores nothing, so it is neither run nor retried.
    assert result.state == "IGNORED"
    assert sent == []
    assert "job started" not in messages(caplog, "job-q")
    assert "job cancelled before it started" in messages(caplog, "job-q")
    record = store.get("job-q")
    assert record is not None
    assert (record.state, record.started_at, record.attempts) == (JobState.REVOKED, None, 0)


def test_a_running_job_stops_at_its_next_progress_step(
    tasks: ModuleType,
    upload: Upload,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    key = upload("uploads/big.bin", b"x" * (4 * CHUNK))
    store = JobStore.from_settings()
    store.create(
        "job-r", task=PROCESS_LARGE_FILE.name, kind=PROCESS_LARGE_FILE.kind, queue="default",
        inputs={"file_key": key},
    )  # fmt: skip
    steps: list[int] = []
    analyse_file = files.analyse_file

    def cancelled_after_the_first_step(bucket: str, key: str, on_progress: Any) -> Any:
        def step(current: int, total: int) -> None:
            steps.append(current)
            on_progress(current, total)
            if current == 1:
                store.revoke("job-r")

        return analyse_file(bucket, key, step)

    monkeypatch.setattr(files, "analyse_file", cancelled_after_the_first_step)
    caplog.set_level(logging.INFO)

    result = tasks.process_large_file.apply(kwargs={"file_key": key}, task_id="job-r")

    assert result.state == "IGNORED"
    assert steps == [1, 2]
    assert "job cancelled while running" in messages(caplog, "job-r")
    assert "job failed" not in messages(caplog, "job-r")
    record = store.get("job-r")
    assert record is not None
    assert (record.state, record.current, record.total) == (JobState.REVOKED, 1, 4)
    assert record.ended_at is not None


def test_a_job_that_is_not_cancelled_runs(
    tasks: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = JobStore.from_settings()
    store.create("job-ok", task=SEND_EMAIL.name, kind=SEND_EMAIL.kind, queue="default", inputs={})
    monkeypatch.setattr(messaging, "send_email", lambda *args: "message-1")

    result = tasks.send_email.apply(
        kwargs={"email": "a@example.com", "subject": "s", "body": "b"}, task_id="job-ok"
    )

    assert result.get()["message_id"] == "message-1"
