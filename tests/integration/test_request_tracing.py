"""One request id from the client through the API process, SQS and the worker's log lines,
and the job's metrics as an EMF line on the worker's stdout."""

import json
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.integration.client import follow
from tests.integration.conftest import LocalStack

pytestmark = pytest.mark.integration


def json_lines(path: Path) -> list[dict[str, Any]]:
    lines = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        if raw.startswith("{"):
            try:
                lines.append(json.loads(raw))
            except json.JSONDecodeError:
                continue
    return lines


def wait_for_lines(path: Path, wanted: Any, timeout: float = 30) -> list[dict[str, Any]]:
    """The JSON lines of a child's log that `wanted` accepts, once there is at least one.

    The child's output reaches its log file through a reader thread, a moment after the job's
    state is written: wait for it rather than race it.
    """
    deadline = time.monotonic() + timeout
    while True:
        found = [line for line in json_lines(path) if wanted(line)]
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


def log_of_worker_that_finished(local_stack: LocalStack, job_id: str, timeout: float = 30) -> Path:
    """The log of whichever running worker finished the job (earlier tests replace workers)."""
    deadline = time.monotonic() + timeout
    while True:
        for worker in local_stack.workers:
            path = local_stack.logs.path(worker.name)
            if any(
                line.get("job_id") == job_id and line.get("message") == "job finished"
                for line in json_lines(path)
            ):
                return path
        if time.monotonic() > deadline:
            names = [worker.name for worker in local_stack.workers]
            raise AssertionError(f"no 'job finished' line for {job_id} in the logs of {names}")
        time.sleep(0.2)


def test_a_request_id_follows_the_job_from_the_api_into_the_worker(
    local_stack: LocalStack,
) -> None:
    request_id = f"it-{uuid.uuid4()}"
    answer = httpx.post(
        f"{local_stack.api_url}/send-email",
        json={"email": "someone@example.com", "subject": "Traced", "body": "Hello"},
        headers={"X-Request-Id": request_id},
        timeout=30,
    )
    assert answer.status_code == 202, answer.text
    assert answer.headers["X-Request-Id"] == request_id
    job_id = answer.json()["task_id"]
    assert follow(local_stack.api_url, job_id).final["state"] == "SUCCESS"

    api_lines = wait_for_lines(
        local_stack.logs.path("api"), lambda line: line.get("request_id") == request_id
    )
    assert any(line.get("job_id") == job_id for line in api_lines), api_lines

    worker_log = log_of_worker_that_finished(local_stack, job_id)
    job_lines = [line for line in json_lines(worker_log) if line.get("job_id") == job_id]
    # The worker's own lines and Celery's ("succeeded in ...") carry the whole job context.
    assert {line["message"] for line in job_lines} >= {"job started", "job finished"}
    for line in job_lines:
        assert line["request_id"] == request_id, line
        assert line["task"] == "skylane.send_email", line
        assert line["queue"] == "default", line
        assert line["attempt"] == 1, line
    assert any("succeeded" in str(line["message"]) for line in job_lines), job_lines

    metrics = wait_for_lines(
        worker_log,
        lambda line: (
            "_aws" in line and line.get("task") == "skylane.send_email" and "JobsSucceeded" in line
        ),
    )
    assert metrics, f"no JobsSucceeded EMF line in {worker_log}"
    emf = metrics[-1]
    [directive] = emf["_aws"]["CloudWatchMetrics"]
    assert directive["Namespace"] == f"skylane/{local_stack.stack.stack_name}"
    assert [sorted(dimensions) for dimensions in directive["Dimensions"]] == [
        ["queue", "service", "task"]
    ]
    names = {metric["Name"] for metric in directive["Metrics"]}
    assert {"JobsSucceeded", "JobDuration", "QueueWaitTime"} <= names
    assert emf["queue"] == "default"
    assert emf["JobsSucceeded"] == [1.0]
