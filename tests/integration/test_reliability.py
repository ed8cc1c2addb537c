"""Retries, priorities, shutdowns and outages, through the real parts."""

import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from infra.emulator import free_port
from infra.processes import child_environment, start_api
from tests.integration.client import follow, submit, upload
from tests.integration.conftest import LocalStack
from tests.integration.job_records import records
from tests.integration.waiting import wait_until
from tests.integration.workers import stop_every_worker

pytestmark = pytest.mark.integration


def state_of(local_stack: LocalStack, job_id: str) -> str:
    state: str = httpx.get(f"{local_stack.api_url}/task/{job_id}", timeout=10).json()["state"]
    return state


def test_a_transient_failure_is_retried_with_countdown_then_succeeds(
    local_stack: LocalStack,
) -> None:
    ses = local_stack.client("ses")
    sender = local_stack.stack.worker_env["EMAIL_SENDER"]
    # SES refuses mail from an unverified sender until an operator verifies it: a failure that
    # a retry can get past.
    ses.delete_identity(Identity=sender)
    try:
        job_id = submit(
            local_stack.api_url,
            "/send-email",
            {"email": "user@example.com", "subject": "Retry me", "body": "Hello"},
        )
        wait_until(lambda: state_of(local_stack, job_id) == "RETRY", 30, "the first retry")
    finally:
        ses.verify_email_identity(EmailAddress=sender)

    followed = follow(local_stack.api_url, job_id)
    assert followed.final["state"] == "SUCCESS", followed.final
    assert int(records(local_stack, [job_id])[job_id]["attempts"]["N"]) >= 2


def test_a_high_job_starts_before_a_default_backlog_drains(local_stack: LocalStack) -> None:
    stop_every_worker(local_stack)

    def send(n: int) -> str:
        body = {"email": f"user{n}@example.com", "subject": f"Backlog {n}", "body": "x"}
        return submit(local_stack.api_url, "/send-email", body)

    with ThreadPoolExecutor(max_workers=8) as pool:
        backlog = list(pool.map(send, range(200)))
    urgent = submit(
        local_stack.api_url, "/generate-report", {"user_id": 1, "report_type": "summary"}
    )

    local_stack.start_worker()
    assert follow(local_stack.api_url, urgent).final["state"] == "SUCCESS"
    urgent_started = records(local_stack, [urgent])[urgent]["started_at"]["S"]
    started_first = [
        item
        for item in records(local_stack, backlog).values()
        if "started_at" in item and item["started_at"]["S"] < urgent_started
    ]
    assert len(started_first) < 50, f"{len(started_first)} default jobs started before the high one"

    def backlog_done() -> bool:
        found = records(local_stack, backlog)
        return all(item["state"]["S"] == "SUCCESS" for item in found.values())

    wait_until(backlog_done, 120, "the backlog to drain")


def test_sigterm_finishes_or_returns_every_job_in_flight(local_stack: LocalStack) -> None:
    stop_every_worker(local_stack)
    data = b"0123456789abcdef\n" * (2 * 1024 * 1024)  # 34 MB: each job takes a moment
    key = upload(local_stack.api_url, "big.txt", data, "text/plain")
    jobs = [submit(local_stack.api_url, "/process-file", {"file_path": key}) for _ in range(6)]

    worker = local_stack.start_worker()

    def some_job_running() -> bool:
        return any(
            item["state"]["S"] in ("STARTED", "PROGRESS")
            for item in records(local_stack, jobs).values()
        )

    wait_until(some_job_running, 30, "a job to start")
    worker.terminate()  # what ECS sends when it stops a task
    assert worker.wait(timeout=90) == 0
    local_stack.workers.remove(worker)
    after_shutdown = {job: item["state"]["S"] for job, item in records(local_stack, jobs).items()}
    # Warm shutdown: what was running finished; nothing failed or was left half-done.
    assert set(after_shutdown.values()) <= {"SUCCESS", "PENDING"}, after_shutdown
    assert "SUCCESS" in after_shutdown.values()

    local_stack.start_worker()
    for job in jobs:
        assert follow(local_stack.api_url, job, timeout=120).final["state"] == "SUCCESS"


def api_with_unreachable(local_stack: LocalStack, service: str) -> tuple[Any, str]:
    """A second API process whose `service` endpoint refuses connections, and its URL."""
    nothing_listens = f"http://127.0.0.1:{free_port()}"
    env = child_environment(
        local_stack.component_env("api"),
        local_stack.stack.api_env,
        {f"AWS_ENDPOINT_URL_{service}": nothing_listens},
    )
    port = free_port()
    api = start_api(env, local_stack.logs, port=port, name=f"api-without-{service.lower()}")
    return api, f"http://127.0.0.1:{port}"


def test_sqs_down_answers_503_and_leaves_no_record(local_stack: LocalStack) -> None:
    api, api_url = api_with_unreachable(local_stack, "SQS")
    try:
        marker = f"outage-{uuid.uuid4()}"
        answer = httpx.post(
            f"{api_url}/send-email",
            json={"email": "user@example.com", "subject": marker, "body": "x"},
            timeout=30,
        )
        assert answer.status_code == 503
        assert answer.headers["Retry-After"].isdigit()
        assert "SQS is unavailable" in answer.json()["detail"]
        assert "No job was accepted" in answer.json()["detail"]

        scan = local_stack.client("dynamodb").scan(TableName=local_stack.table)
        assert not [item for item in scan["Items"] if marker in item.get("inputs", {}).get("S", "")]

        assert httpx.get(f"{api_url}/queues", timeout=30).status_code == 503
        assert httpx.get(f"{api_url}/health", timeout=10).status_code == 200
    finally:
        api.stop()


def test_dynamodb_down_answers_503_and_sends_nothing(local_stack: LocalStack) -> None:
    api, api_url = api_with_unreachable(local_stack, "DYNAMODB")
    try:
        queued_before = local_stack.client("sqs").get_queue_attributes(
            QueueUrl=local_stack.high_queue_url, AttributeNames=["ApproximateNumberOfMessages"]
        )["Attributes"]
        answer = httpx.post(
            f"{api_url}/generate-report", json={"user_id": 5, "report_type": "summary"}, timeout=30
        )
        assert answer.status_code == 503
        assert "DynamoDB is unavailable" in answer.json()["detail"]
        status = httpx.get(f"{api_url}/task/{uuid.uuid4()}", timeout=30)
        assert status.status_code == 503
        assert "No job was accepted" not in status.json()["detail"]
        queued_after = local_stack.client("sqs").get_queue_attributes(
            QueueUrl=local_stack.high_queue_url, AttributeNames=["ApproximateNumberOfMessages"]
        )["Attributes"]
        assert queued_after == queued_before
    finally:
        api.stop()
