import hashlib
import importlib
import inspect
import json
import os
import sys
import time
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from celery.bin.base import CLIContext
from celery.bin.worker import worker as worker_command
from celery.exceptions import Retry
from celery.signals import setup_logging

from functions.tasks import files
from functions.tasks.daily_report import InvalidReportDay
from functions.tasks.s3io import ObjectMissing
from skylane.broker.celery_app import get_celery_app
from skylane.core.settings import get_settings
from skylane.jobs.contracts import PROCESS_LARGE_FILE, TASKS
from skylane.jobs.states import JobState
from skylane.jobs.store import JobStore
from tests.unit.functions.tasks.helpers import Upload

# What producers put in send_task(name, kwargs=...): the contract with the API and scheduler.
PRODUCER_KWARGS = {
    "skylane.process_large_file": ["file_key"],
    "skylane.send_email": ["email", "subject", "body"],
    "skylane.process_document": ["file_key"],
    "skylane.generate_report": ["user_id", "report_type"],
    "skylane.process_video": ["video_path", "user_id"],
    "skylane.send_notification": ["user_id", "message"],
    # A chord's body: its parts' results, which Celery passes first.
    "skylane.process_batch": ["results"],
    # The scheduler sends {}; a fire-now command may name the day to report on.
    "skylane.cleanup_temp_files": [],
    "skylane.generate_daily_report": ["day"],
    "skylane.sync_data": [],
}


@pytest.fixture
def tasks(worker_aws: dict[str, str]) -> ModuleType:
    """functions.tasks.celery_tasks, imported afresh so it registers on this test's Celery app."""
    sys.modules.pop("functions.tasks.celery_tasks", None)
    return importlib.import_module("functions.tasks.celery_tasks")


class FakeTask:
    name = "skylane.fake"
    max_retries = 3

    def __init__(self, retries: int = 0) -> None:
        self.request = SimpleNamespace(
            id="job-1", retries=retries, delivery_info={"routing_key": "default"}
        )
        # (exc, countdown, delay_seconds) of each retry.
        self.retried: list[tuple[BaseException, int, int]] = []
        self.states: list[dict[str, Any]] = []

    def retry(self, exc: BaseException, countdown: int, delay_seconds: int) -> Retry:
        self.retried.append((exc, countdown, delay_seconds))
        return Retry(exc=exc, when=delay_seconds)

    def update_state(
        self, task_id: str | None = None, state: str | None = None, meta: Any = None
    ) -> None:
        self.states.append({"state": state, **meta})


def throttled() -> ClientError:
    return ClientError({"Error": {"Code": "SlowDown", "Message": "slow down"}}, "GetObject")


def test_every_contract_is_registered_with_its_limits(tasks: ModuleType) -> None:
    registered = get_celery_app().tasks

    for name, spec in TASKS.items():
        task = registered[name]
        assert (task.soft_time_limit, task.time_limit, task.max_retries) == (
            spec.soft_time_limit,
            spec.time_limit,
            spec.max_retries,
        )
    assert {name for name in registered if name.startswith("skylane.")} == set(TASKS)


def test_tasks_take_the_producers_keyword_arguments(tasks: ModuleType) -> None:
    assert set(PRODUCER_KWARGS) == set(TASKS)
    for name, kwargs in PRODUCER_KWARGS.items():
        run = get_celery_app().tasks[name].run
        assert list(inspect.signature(run).parameters) == kwargs


def test_transient_failure_delays_the_retry_on_sqs_for_the_configured_countdown(
    worker_aws: dict[str, str], tasks: ModuleType
) -> None:
    task = FakeTask()
    failure = throttled()

    with pytest.raises(Retry), tasks.job_context(task):
        raise failure

    # No Celery countdown (an ETA held in the worker): SQS delays the retried message.
    assert task.retried == [(failure, 0, int(worker_aws["RETRY_COUNTDOWN_SECONDS"]))]


def test_permanent_failure_is_raised_without_a_retry(tasks: ModuleType) -> None:
    task = FakeTask()

    with pytest.raises(ObjectMissing), tasks.job_context(task):
        raise ObjectMissing("s3://uploads/gone.txt does not exist")

    assert task.retried == []


def test_transient_failure_after_the_last_retry_fails_the_job(tasks: ModuleType) -> None:
    task = FakeTask(retries=FakeTask.max_retries)

    with pytest.raises(ClientError), tasks.job_context(task):
        raise throttled()

    assert task.retried == []


def test_progress_gets_a_new_reporter_when_the_total_changes(tasks: ModuleType) -> None:
    task = FakeTask()
    progress = tasks.TaskProgress(task)

    for current, total in [(1, 3), (2, 3), (3, 5), (4, 5), (5, 5)]:
        progress(current, total)

    # Writes in between are coalesced; a new total and the final step always go through.
    assert [(state["current"], state["total"]) for state in task.states] == [
        (1, 3),
        (3, 5),
        (5, 5),
    ]
    assert {state["state"] for state in task.states} == {JobState.PROGRESS.value}


def test_process_large_file_through_celery_records_progress_and_returns_facts(
    upload: Upload, tasks: ModuleType
) -> None:
    key = upload("uploads/data.csv", b"a,b\n1,2\n3,4\n")
    store = JobStore.from_settings()
    store.create(
        "job-42",
        task=PROCESS_LARGE_FILE.name,
        kind=PROCESS_LARGE_FILE.kind,
        queue="default",
        inputs={"file_key": key},
    )

    result = tasks.process_large_file.apply(kwargs={"file_key": key}, task_id="job-42")

    assert result.get() == {
        "status": "success",
        "file": key,
        "size_bytes": 12,
        "sha256": hashlib.sha256(b"a,b\n1,2\n3,4\n").hexdigest(),
        "lines": 3,
        "chunks": 1,
    }
    job = store.get("job-42")
    assert job is not None
    assert (job.state, job.current, job.total) == (JobState.PROGRESS, 1, 1)


def test_missing_upload_fails_the_task_at_once(upload: Upload, tasks: ModuleType) -> None:
    result = tasks.process_large_file.apply(kwargs={"file_key": "uploads/never.txt"})

    assert result.state == JobState.FAILURE.value
    assert isinstance(result.result, ObjectMissing)


def test_transient_failures_are_retried_until_the_job_succeeds(
    upload: Upload, tasks: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = upload("uploads/flaky.txt", b"eventually\n")
    attempts: list[int] = []
    analyse_file = files.analyse_file

    def flaky(*args: Any, **kwargs: Any) -> files.FileFacts:
        attempts.append(len(attempts) + 1)
        if len(attempts) < 3:
            raise throttled()
        return analyse_file(*args, **kwargs)

    monkeypatch.setattr(files, "analyse_file", flaky)

    result = tasks.process_large_file.apply(kwargs={"file_key": key})

    assert result.get()["lines"] == 1
    assert attempts == [1, 2, 3]


def test_generate_report_writes_to_the_reports_bucket(
    worker_aws: dict[str, str], tasks: ModuleType
) -> None:
    result = tasks.generate_report.apply(
        kwargs={"user_id": 5, "report_type": "summary"}, task_id="report-1"
    )

    assert result.get() == {
        "status": "success",
        "user_id": 5,
        "report_type": "summary",
        "report_key": "reports/5/summary/report-1.json",
        "jobs_counted": 0,
    }
    body = (
        boto3.client("s3")
        .get_object(Bucket=worker_aws["REPORTS_BUCKET"], Key="reports/5/summary/report-1.json")[
            "Body"
        ]
        .read()
    )
    assert json.loads(body)["user_id"] == 5


def test_periodic_tasks_are_registered_on_the_default_queue_with_their_limits(
    tasks: ModuleType,
) -> None:
    periodic = {name: spec for name, spec in TASKS.items() if spec.periodic}
    registered = get_celery_app().tasks

    assert set(periodic) == {
        "skylane.cleanup_temp_files",
        "skylane.generate_daily_report",
        "skylane.sync_data",
    }
    for name, spec in periodic.items():
        task = registered[name]
        assert (task.soft_time_limit, task.time_limit) == (spec.soft_time_limit, spec.time_limit)
        assert get_celery_app().amqp.router.route({}, name)["queue"].name == "default"


@pytest.fixture
def scratch(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """SCRATCH_DIR pointed at a fresh directory (the default is shared /tmp/skylane-scratch)."""
    path = tmp_path / "scratch"
    monkeypatch.setenv("SCRATCH_DIR", str(path))
    get_settings.cache_clear()
    return path


def stale_file(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"left behind")
    os.utime(path, (time.time() - 7200, time.time() - 7200))
    return path


def test_cleanup_temp_files_sweeps_the_scratch_dir_and_reports_counts(
    tasks: ModuleType, scratch: Path, tmp_path: Path
) -> None:
    old = stale_file(scratch / "old.bin")
    outside = stale_file(tmp_path / "not-ours.bin")

    result = tasks.cleanup_temp_files.apply(kwargs={})

    assert result.get() == {
        "status": "success",
        "scratch_files_deleted": 1,
        "scratch_bytes_freed": len(b"left behind"),
        "multipart_uploads_aborted": 0,
    }
    assert not old.exists()
    assert outside.exists()


def test_generate_daily_report_publishes_the_named_day(
    worker_aws: dict[str, str], tasks: ModuleType
) -> None:
    result = tasks.generate_daily_report.apply(kwargs={"day": "2026-01-02"}, task_id="daily-1")

    assert result.get() == {
        "status": "success",
        "day": "2026-01-02",
        "report_key": "reports/daily/2026-01-02.json",
        "jobs": 0,
    }
    boto3.client("s3").head_object(
        Bucket=worker_aws["REPORTS_BUCKET"], Key="reports/daily/2026-01-02.json"
    )


def test_generate_daily_report_refuses_an_invalid_day_without_retrying(
    tasks: ModuleType,
) -> None:
    result = tasks.generate_daily_report.apply(kwargs={"day": "next tuesday"})

    assert result.state == JobState.FAILURE.value
    assert isinstance(result.result, InvalidReportDay)
    assert "YYYY-MM-DD" in str(result.result)


def test_sync_data_reports_what_it_checked(tasks: ModuleType) -> None:
    result = tasks.sync_data.apply(kwargs={})

    assert result.get() == {"status": "success", "checked": 0, "marked_lost": []}


def test_worker_command_line_is_valid_for_celery(
    tasks: ModuleType, monkeypatch: pytest.MonkeyPatch, scratch: Path
) -> None:
    # Imported afresh so `python -m functions.worker` uses this test's tasks module and app.
    sys.modules.pop("functions.worker.__main__", None)
    entry = importlib.import_module("functions.worker.__main__")
    started: list[list[str]] = []
    monkeypatch.setattr(tasks.app, "worker_main", started.append)
    monkeypatch.setenv("WORKER_CONCURRENCY", "5")

    old = stale_file(scratch / "old.bin")

    entry.main()
    # main() hands Celery's logging setup to the worker; later tests start no worker.
    setup_logging.disconnect(entry.use_json_logs)

    command, *options = started[0]
    assert command == "worker"
    parsed = worker_command.make_context(
        "worker",
        options,
        obj=CLIContext(app=tasks.app, no_color=True, workdir=None, quiet=True),
    ).params
    # Each worker sweeps its own scratch directory as it starts.
    assert not old.exists()
    assert parsed["queues"] == ["high", "default"]
    assert parsed["concurrency"] == 5
    assert parsed["pool"].__module__ == "celery.concurrency.prefork"
    assert (parsed["without_heartbeat"], parsed["without_gossip"], parsed["without_mingle"]) == (
        True,
        True,
        True,
    )


def test_a_refused_permission_fails_the_job_at_once_and_names_the_call(
    tasks: ModuleType,
) -> None:
    from skylane.core.errors import PermissionMissing

    task = FakeTask()
    refused = ClientError(
        {
            "Error": {"Code": "AccessDenied", "Message": "Access Denied"},
            "ResponseMetadata": {"HTTPStatusCode": 403},
        },
        "GetObject",
    )

    with pytest.raises(PermissionMissing) as raised, tasks.job_context(task):
        raise refused

    assert task.retried == []
    assert "denied GetObject: AccessDenied" in str(raised.value)
