"""GET /jobs/{id} carries the job's log lines from CloudWatch Logs (moto), through the handler;
when CloudWatch Logs cannot be read, the detail still answers, without lines and saying why."""

import json
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

import boto3
import pytest

from functions.api.routes import jobs as jobs_route
from skylane.core.aws import reset_clients
from skylane.core.settings import get_settings
from skylane.jobs.store import JobStore
from tests.unit.functions.api.conftest import Invoke
from tests.unit.logs_helpers import logs_client, make_log_groups, put_lines

API_GROUP = "/aws/lambda/skylane-test-ApiFunction-abc"
WORKER_GROUP = "/ecs/skylane-test/worker"


@pytest.fixture
def log_groups(aws: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("AWS_LAMBDA_LOG_GROUP_NAME", API_GROUP)
    monkeypatch.setenv("WORKER_LOG_GROUP", WORKER_GROUP)
    get_settings.cache_clear()
    reset_clients()
    return make_log_groups(logs_client(), (API_GROUP, WORKER_GROUP))


def create_job() -> str:
    job_id = str(uuid4())
    JobStore.from_settings().create(
        job_id, task="skylane.send_email", kind="send_email", queue="default", inputs={}
    )
    return job_id


def put(logs: Any, group: str, job_id: str, message: str, level: str = "INFO") -> None:
    text = json.dumps({"level": level, "message": message, "job_id": job_id})
    put_lines(logs, group, (datetime.now(UTC), text))


def test_the_detail_lists_the_jobs_lines_from_the_api_and_the_worker(
    invoke: Invoke, log_groups: Any
) -> None:
    job_id = create_job()
    put(log_groups, API_GROUP, job_id, "job accepted")
    put(log_groups, WORKER_GROUP, job_id, "job started")
    put(log_groups, WORKER_GROUP, str(uuid4()), "someone else's job")

    detail = invoke("GET", f"/jobs/{job_id}")

    assert detail.status == 200, detail.body
    assert [(e["component"], e["level"], e["message"]) for e in detail.body["logs"]] == [
        ("api", "INFO", "job accepted"),
        ("worker", "INFO", "job started"),
    ]
    assert all(e["timestamp"].endswith("Z") for e in detail.body["logs"])
    assert detail.body["logs_reason"] is None


def test_an_unreadable_cloudwatch_logs_still_answers_the_detail(
    invoke: Invoke, log_groups: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from botocore.stub import Stubber

    job_id = create_job()
    unavailable = boto3.client("logs", region_name="us-east-1")
    stubber = Stubber(unavailable)
    stubber.add_client_error(
        "filter_log_events", service_error_code="AccessDeniedException", http_status_code=400
    )
    stubber.activate()
    monkeypatch.setattr(jobs_route, "client", lambda service: unavailable)

    detail = invoke("GET", f"/jobs/{job_id}")

    assert detail.status == 200, detail.body
    assert detail.body["job_id"] == job_id
    assert detail.body["logs"] is None
    assert "CloudWatch Logs could not be read (AccessDeniedException" in detail.body["logs_reason"]


def test_logs_false_answers_the_detail_without_searching_cloudwatch_logs(
    invoke: Invoke, log_groups: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    job_id = create_job()
    put(log_groups, API_GROUP, job_id, "job accepted")
    searched: list[str] = []
    monkeypatch.setattr(jobs_route, "client", lambda service: searched.append(service))

    detail = invoke("GET", f"/jobs/{job_id}?logs=false")

    assert detail.status == 200, detail.body
    assert detail.body["job_id"] == job_id
    assert detail.body["logs"] is None
    assert detail.body["logs_reason"] == "log lines not requested (logs=false)"
    assert searched == []
