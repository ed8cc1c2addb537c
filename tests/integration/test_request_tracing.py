"""One request id from the client through the API process, SQS and the worker's log lines,
and the job's metrics as an EMF line on the worker's stdout."""

import time
import uuid
from pathlib import Path

import httpx
import pytest

from tests.integration.client import follow
from tests.integration.conftest import LocalStack
from tests.integration.log_files import job_lines, job_messages, wait_for_lines

pytestmark = pytest.mark.integration


def log_of_worker_that_finished(local_stack: LocalStack, job_id: str, timeout: float = 30) -> Path:
    """The log of whichever running worker finished the job (earlier tests replace workers)."""
    deadline = time.monotonic() + timeout
    while True:
        for worker in local_stack.workers:
            path = local_stack.logs.path(worker.name)
            if "job finished" in job_messages(path, job_id):
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
    lines = job_lines(worker_log, job_id)
    # The worker's own lines and Celery's ("succeeded in ...") carry the whole job context.
    assert {line["message"] for line in lines} >= {"job started", "job finished"}
    for line in lines:
        assert line["request_id"] == request_id, line
        assert line["task"] == "skylane.send_email", line
        assert line["queue"] == "default", line
        assert line["attempt"] == 1, line
    assert any("succeeded" in str(line["message"]) for line in lines), lines

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
