"""The API's request id (API Gateway's, the client's or a fresh one) on its lines, its
response and the job's message, and the JobsSubmitted metric of every accepted job."""

import base64
import json
import threading
from typing import Any

import boto3
import pytest
from fastapi.testclient import TestClient

from functions.api.app import app
from skylane.jobs import submission
from tests.unit.conftest import REGION
from tests.unit.functions.api.conftest import Invoke
from tests.unit.log_capture import capture

EMAIL = {"email": "user@example.com", "subject": "Hi", "body": "Hello"}
GATEWAY_IDS = {"id", "c6af9ac6-7b61-11e6-9a41-93e8deadbeef"}  # tests/events/*.json


def message_headers(queue_url: str) -> list[dict[str, Any]]:
    sqs = boto3.client("sqs", region_name=REGION)
    messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", [])
    return [json.loads(base64.b64decode(m["Body"]))["headers"] for m in messages]


def test_under_api_gateway_its_request_id_is_on_the_response_lines_and_message(
    invoke: Invoke, aws: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    with capture(monkeypatch) as captured:
        answer = invoke("POST", "/send-email", EMAIL, {"X-Request-Id": "client-chosen"})

    assert answer.status == 202
    gateway_id = answer.headers["x-request-id"]
    assert gateway_id in GATEWAY_IDS
    job_id = answer.body["task_id"]
    [accepted] = [line for line in captured.lines() if line["message"] == "job accepted"]
    assert (accepted["request_id"], accepted["job_id"]) == (gateway_id, job_id)
    [headers] = message_headers(aws["DEFAULT_QUEUE_URL"])
    assert headers["id"] == job_id
    assert headers["request_id"] == gateway_id
    assert isinstance(headers["accepted_at_ms"], int)


def test_every_accepted_job_writes_a_jobs_submitted_emf_line(
    invoke: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "skylane/test")
    with capture(monkeypatch) as captured:
        assert (
            invoke("POST", "/generate-report", {"user_id": 7, "report_type": "summary"}).status
            == 202
        )

    [emf] = captured.metrics()
    [directive] = emf["_aws"]["CloudWatchMetrics"]
    assert directive["Namespace"] == "skylane/test"
    assert directive["Metrics"] == [{"Name": "JobsSubmitted", "Unit": "Count"}]
    [dimensions] = directive["Dimensions"]
    assert {"task", "queue"} <= set(dimensions)
    assert (emf["task"], emf["queue"], emf["JobsSubmitted"]) == (
        "skylane.generate_report",
        "high",
        [1.0],
    )


def test_a_malformed_request_id_is_a_400_that_says_why(invoke: Invoke, aws: dict[str, Any]) -> None:
    answer = invoke("POST", "/send-email", EMAIL, {"X-Request-Id": "has spaces in it"})

    assert answer.status == 400
    assert "X-Request-Id must be" in answer.body["detail"]
    assert message_headers(aws["DEFAULT_QUEUE_URL"]) == []


def test_locally_the_clients_id_is_used_or_a_fresh_one(aws: dict[str, Any]) -> None:
    with TestClient(app) as client:
        chosen = client.get("/health", headers={"X-Request-Id": "mine-1"})
        fresh = [client.get("/health").headers["x-request-id"] for _ in range(2)]

    assert chosen.headers["x-request-id"] == "mine-1"
    assert len(set(fresh)) == 2


def test_two_concurrent_requests_keep_their_own_ids_on_their_lines(
    aws: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Both requests are inside their (thread-pool) route at once before either sends.
    barrier = threading.Barrier(2, timeout=30)
    send_task = submission.send_task

    def send_when_both_are_here(*args: Any) -> None:
        barrier.wait()
        submission.logger.info("sending")
        send_task(*args)

    monkeypatch.setattr(submission, "send_task", send_when_both_are_here)
    answers: dict[str, str] = {}

    def submit(request_id: str) -> None:
        with TestClient(app) as client:
            answer = client.post("/send-email", json=EMAIL, headers={"X-Request-Id": request_id})
        answers[request_id] = answer.json()["task_id"]

    with capture(monkeypatch) as captured:
        threads = [threading.Thread(target=submit, args=(rid,)) for rid in ("req-a", "req-b")]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    lines = captured.lines()
    sending = [line["request_id"] for line in lines if line["message"] == "sending"]
    assert sorted(sending) == ["req-a", "req-b"]
    accepted = {
        line["job_id"]: line["request_id"] for line in lines if line["message"] == "job accepted"
    }
    assert accepted == {job_id: request_id for request_id, job_id in answers.items()}
