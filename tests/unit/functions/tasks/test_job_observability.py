"""A job's log lines carry its keys, and each attempt writes one EMF line of metrics."""

import importlib
import sys
import time
from types import ModuleType
from typing import Any

import pytest
from botocore.exceptions import ClientError

from functions.tasks import files
from skylane.observability.logs import logger
from tests.unit.functions.tasks.helpers import Upload
from tests.unit.log_capture import capture

HEADERS_OF = {"request_id": "req-42"}


@pytest.fixture
def tasks(worker_aws: dict[str, str]) -> ModuleType:
    sys.modules.pop("functions.tasks.celery_tasks", None)
    return importlib.import_module("functions.tasks.celery_tasks")


def run(tasks: ModuleType, key: str, job_id: str, accepted_ms_ago: int = 1500) -> Any:
    headers = {**HEADERS_OF, "accepted_at_ms": int(time.time() * 1000) - accepted_ms_ago}
    return tasks.process_large_file.apply(
        kwargs={"file_key": key}, task_id=job_id, headers=headers, routing_key="default"
    )


def test_every_line_of_a_job_carries_its_keys_and_none_leak_after(
    upload: Upload, tasks: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = upload("uploads/a.txt", b"one\ntwo\n")
    with capture(monkeypatch) as captured:
        result = run(tasks, key, "job-keys-1")
        logger.info("between jobs")

    assert result.get()["lines"] == 2
    *job_lines, after = captured.lines()
    messages = [line["message"] for line in job_lines]
    assert "job started" in messages
    assert "job finished" in messages
    # Celery's own line about the job, logged by its tracer before task_postrun.
    assert any("succeeded" in message for message in messages)
    for line in job_lines:
        assert line["job_id"] == "job-keys-1", line
        assert line["task"] == "skylane.process_large_file", line
        assert line["queue"] == "default", line
        assert line["attempt"] == 1, line
        assert line["request_id"] == "req-42", line
    assert not {"job_id", "task", "attempt", "request_id"} & after.keys()


def test_a_successful_job_writes_succeeded_duration_and_queue_wait(
    upload: Upload, tasks: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = upload("uploads/b.txt", b"x\n")
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "skylane/unit")
    with capture(monkeypatch) as captured:
        run(tasks, key, "job-metrics-1", accepted_ms_ago=1500).get()

    [emf] = captured.metrics()
    [directive] = emf["_aws"]["CloudWatchMetrics"]
    assert directive["Namespace"] == "skylane/unit"
    [dimensions] = directive["Dimensions"]
    assert {"task", "queue"} <= set(dimensions)
    assert {m["Name"]: m["Unit"] for m in directive["Metrics"]} == {
        "JobsSucceeded": "Count",
        "JobDuration": "Milliseconds",
        "QueueWaitTime": "Milliseconds",
    }
    assert (emf["task"], emf["queue"]) == ("skylane.process_large_file", "default")
    assert emf["JobsSucceeded"] == [1.0]
    # Accepted 1.5 s before the test ran it: the wait is at least that.
    assert emf["QueueWaitTime"][0] >= 1500
    assert emf["JobDuration"][0] >= 0


def test_retried_attempts_count_as_retries_with_their_attempt_on_each_line(
    upload: Upload, tasks: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = upload("uploads/flaky.txt", b"eventually\n")
    analyse_file = files.analyse_file
    calls: list[int] = []

    def flaky(*args: Any, **kwargs: Any) -> files.FileFacts:
        calls.append(1)
        if len(calls) < 3:
            raise ClientError({"Error": {"Code": "SlowDown", "Message": "slow"}}, "GetObject")
        return analyse_file(*args, **kwargs)

    monkeypatch.setattr(files, "analyse_file", flaky)
    with capture(monkeypatch) as captured:
        run(tasks, key, "job-retried-1").get()

    started = [line for line in captured.lines() if line["message"] == "job started"]
    assert [(line["attempt"], line["request_id"]) for line in started] == [
        (1, "req-42"),
        (2, "req-42"),
        (3, "req-42"),
    ]
    outcomes = [
        next(name for name in ("JobsRetried", "JobsSucceeded", "JobsFailed") if name in emf)
        for emf in captured.metrics()
    ]
    assert outcomes == ["JobsRetried", "JobsRetried", "JobsSucceeded"]
    # Only the first attempt waited in the queue since the API accepted the job.
    assert ["QueueWaitTime" in emf for emf in captured.metrics()] == [True, False, False]


def test_a_failed_job_counts_as_failed(tasks: ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    with capture(monkeypatch) as captured:
        result = run(tasks, "uploads/never.txt", "job-failed-1")

    assert result.failed()
    [emf] = captured.metrics()
    assert emf["JobsFailed"] == [1.0]
    failed = [line for line in captured.lines() if line["message"] == "job failed"]
    assert failed
    assert failed[0]["job_id"] == "job-failed-1"
