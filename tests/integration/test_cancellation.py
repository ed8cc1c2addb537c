"""Cancellation through the real parts: the API's conditional write, then a real worker.

SQS has no broadcast, so the job record is the only signal: a queued job is skipped when a
worker receives it, a running one stops at its next progress write.
"""

import time
from collections.abc import Iterator

import httpx
import pytest

from infra.processes import ChildProcess
from tests.integration.client import follow, job_view, submit, upload
from tests.integration.conftest import LocalStack
from tests.integration.job_records import records
from tests.integration.log_files import job_messages
from tests.integration.waiting import wait_until
from tests.integration.workers import stop_every_worker

pytestmark = pytest.mark.integration

MIB = 1024 * 1024


def worker_lines(local_stack: LocalStack, worker: ChildProcess, job_id: str) -> list[str]:
    """The messages of a worker's JSON log lines about one job."""
    return job_messages(local_stack.logs.path(worker.name), job_id)


def cancel(local_stack: LocalStack, view: str, job_id: str) -> httpx.Response:
    return httpx.post(f"{local_stack.api_url}/{view}/{job_id}/cancel", timeout=10)


def queue_drained(local_stack: LocalStack, queue_url: str) -> bool:
    attributes = local_stack.client("sqs").get_queue_attributes(
        QueueUrl=queue_url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return all(value == "0" for value in attributes.values())


@pytest.fixture
def no_workers(local_stack: LocalStack) -> Iterator[None]:
    """Every worker stopped; afterwards one ordinary worker again, as the session started."""
    stop_every_worker(local_stack)
    yield
    for worker in list(local_stack.workers):
        local_stack.stop_worker(worker)
    local_stack.start_worker()


@pytest.mark.usefixtures("no_workers")
@pytest.mark.every_emulator
def test_a_queued_job_cancelled_never_starts(local_stack: LocalStack) -> None:
    email = {"email": "user@example.com", "subject": "Cancel me", "body": "x"}
    cancelled = submit(local_stack.api_url, "/send-email", email)
    answer = cancel(local_stack, "task", cancelled)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"state": "REVOKED", "status": "Job was cancelled"}
    behind = submit(local_stack.api_url, "/send-email", {**email, "subject": "Run me"})

    worker = local_stack.start_worker()
    assert follow(local_stack.api_url, behind).final["state"] == "SUCCESS"
    # The cancelled message was received and acknowledged, not left to come back.
    wait_until(
        lambda: queue_drained(local_stack, local_stack.default_queue_url), 30, "an empty queue"
    )

    assert follow(local_stack.api_url, cancelled).final == {
        "state": "REVOKED",
        "status": "Job was cancelled",
    }
    view = job_view(local_stack.api_url, cancelled)
    assert (view["status"], view["started_at"]) == ("canceled", None)
    assert view["ended_at"] is not None
    record = records(local_stack, [cancelled])[cancelled]
    assert "started_at" not in record
    assert record["attempts"]["N"] == "0"
    said = worker_lines(local_stack, worker, cancelled)
    assert "job cancelled before it started" in said
    assert "job started" not in said
    # A second cancel finds a final job.
    again = cancel(local_stack, "job", cancelled)
    assert again.status_code == 409
    assert "already finished (REVOKED)" in again.json()["detail"]


CHUNKS = 192


@pytest.mark.usefixtures("no_workers")
def test_a_running_job_cancelled_stops_at_its_next_progress_step(local_stack: LocalStack) -> None:
    # Every 1 MiB chunk writes its progress, so the job takes seconds and learns of the
    # cancellation within one chunk. 192 chunks: the job must still be running when the cancel
    # lands, which on a loaded machine can be seconds after the first progress write.
    worker = local_stack.start_worker({"PROGRESS_MIN_INTERVAL_SECONDS": "0"})
    key = upload(
        local_stack.api_url, "long.bin", b"\x00" * (CHUNKS * MIB), "application/octet-stream"
    )
    job_id = submit(local_stack.api_url, "/process-file", {"file_path": key})

    wait_until(
        lambda: records(local_stack, [job_id])[job_id]["state"]["S"] == "PROGRESS",
        60,
        "the job to report progress",
    )
    answer = cancel(local_stack, "job", job_id)
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "canceled"

    wait_until(
        lambda: "job cancelled while running" in worker_lines(local_stack, worker, job_id),
        60,
        "the worker to stop the job",
    )
    time.sleep(1)  # nothing may be written after the stop
    record = records(local_stack, [job_id])[job_id]
    assert record["state"]["S"] == "REVOKED"
    assert int(record["current"]["N"]) < int(record["total"]["N"]) == CHUNKS
    said = worker_lines(local_stack, worker, job_id)
    assert "job finished" not in said
    assert "job failed" not in said
    assert follow(local_stack.api_url, job_id).final["state"] == "REVOKED"
    view = job_view(local_stack.api_url, job_id)
    assert view["status"] == "canceled"
    assert view["started_at"] <= view["ended_at"]
    wait_until(
        lambda: queue_drained(local_stack, local_stack.default_queue_url), 30, "an empty queue"
    )
