"""GET /jobs, GET /jobs/{id}, POST /queues/{queue}/redrive and the dashboard page, through the
Mangum handler with HTTP API (2.0) and REST API (1.0, stage prefix) payloads."""

import json
import re
from typing import Any
from uuid import uuid4

import boto3

from skylane.jobs.store import JobStore
from tests.unit.functions.api.conftest import Invoke


def create(kind: str = "send_email", inputs: dict[str, Any] | None = None) -> str:
    job_id = str(uuid4())
    JobStore.from_settings().create(
        job_id, task=f"skylane.{kind}", kind=kind, queue="default", inputs=inputs or {}
    )
    return job_id


def test_jobs_are_listed_newest_first_in_pages(invoke: Invoke) -> None:
    created = [create() for _ in range(5)]

    seen: list[str] = []
    cursor = ""
    for _ in range(10):
        page = invoke("GET", f"/jobs?limit=2{cursor}")
        assert page.status == 200, page.body
        seen += [job["job_id"] for job in page.body["jobs"]]
        if page.body["next_cursor"] is None:
            break
        cursor = f"&cursor={page.body['next_cursor']}"

    assert sorted(seen) == sorted(created)
    assert len(seen) == 5
    first = invoke("GET", "/jobs?limit=1").body["jobs"][0]
    assert set(first) >= {"job_id", "task", "queue", "state", "created_at", "progress"}
    assert "inputs" not in first


def test_jobs_filter_by_state_and_task(invoke: Invoke) -> None:
    store = JobStore.from_settings()
    email, document = create("send_email"), create("process_document")
    store.mark_started(document, task="skylane.process_document", queue="default")
    store.record_progress(document, 3, 4, {})

    running = invoke("GET", "/jobs?state=PROGRESS").body["jobs"]
    emails = invoke("GET", "/jobs?task=skylane.send_email").body["jobs"]

    assert [job["job_id"] for job in running] == [document]
    assert running[0]["progress"] == 0.75
    assert running[0]["duration_seconds"] >= 0
    assert [job["job_id"] for job in emails] == [email]


def test_unknown_filters_and_bad_cursors_are_refused(invoke: Invoke) -> None:
    assert invoke("GET", "/jobs?state=DONE").status == 422
    assert invoke("GET", "/jobs?task=skylane.mine_bitcoin").status == 422
    assert invoke("GET", "/jobs?limit=0").status == 422
    assert invoke("GET", "/jobs?limit=101").status == 422
    refused = invoke("GET", "/jobs?cursor=bm90IGEgY3Vyc29y")
    assert refused.status == 400
    assert "cursor" in refused.body["detail"]


def test_job_detail_has_inputs_timestamps_attempts_and_a_place_for_logs(invoke: Invoke) -> None:
    store = JobStore.from_settings()
    job_id = create("send_email", {"email": "a@example.com", "subject": "Hi"})
    store.mark_started(job_id, task="skylane.send_email", queue="default")
    store.record_retry(job_id, "SES throttled")

    detail = invoke("GET", f"/jobs/{job_id}")

    assert detail.status == 200
    assert detail.body["inputs"] == {"email": "a@example.com", "subject": "Hi"}
    assert detail.body["attempts"] == 1
    assert detail.body["state"] == "RETRY"
    assert detail.body["error"] == "SES throttled"
    assert detail.body["started_at"].endswith("Z")
    # This API names no log groups (see test_job_detail_logs.py for one that does).
    assert detail.body["logs"] is None
    assert "not configured" in detail.body["logs_reason"]
    assert invoke("GET", f"/jobs/{uuid4()}").status == 404
    assert invoke("GET", "/jobs/not-a-uuid").status == 422


def test_redrive_sends_dead_letters_back_to_their_queue(
    invoke: Invoke, aws: dict[str, Any]
) -> None:
    sqs = boto3.client("sqs", region_name="us-east-1")
    body = json.dumps({"headers": {"task": "skylane.send_email", "id": "job-1"}, "body": "W10="})
    sqs.send_message(QueueUrl=aws["DEFAULT_DLQ_URL"], MessageBody=body)

    answer = invoke("POST", "/queues/default/redrive")

    assert answer.status == 200, answer.body
    assert answer.body == {"queue": "default", "moved": 1, "job_ids": ["job-1"]}
    queues = invoke("GET", "/queues").body
    assert queues["default_dlq"]["count"] == 0
    assert queues["default"]["count"] == 1
    assert invoke("POST", "/queues/default_dlq/redrive").status == 404
    assert invoke("POST", "/queues/nope/redrive").status == 404


def test_redrive_of_some_jobs_leaves_the_others(invoke: Invoke, aws: dict[str, Any]) -> None:
    sqs = boto3.client("sqs", region_name="us-east-1")
    for job in ("keep", "move"):
        body = json.dumps({"headers": {"task": "skylane.send_email", "id": job}, "body": "W10="})
        sqs.send_message(QueueUrl=aws["HIGH_DLQ_URL"], MessageBody=body)

    answer = invoke("POST", "/queues/high/redrive", {"job_ids": ["move"]})

    assert answer.body["job_ids"] == ["move"]
    assert invoke("GET", "/queues").body["high_dlq"]["count"] == 1


def test_dashboard_page_is_served_with_its_assets(invoke: Invoke) -> None:
    page = invoke("GET", "/dashboard")

    assert page.status == 200
    assert page.headers["content-type"].startswith("text/html")
    assert page.headers["cache-control"] == "no-cache"
    assert "script-src 'self'" in page.headers["content-security-policy"]
    # Behind a REST API stage the page's relative URLs must resolve under the stage.
    base = re.search(r'<base href="([^"]*)">', page.body)
    assert base is not None
    assert base.group(1) in ("/", "/prod/")
    assert '<option value="skylane.send_email">send_email</option>' in page.body
    assert '<option value="REVOKED">REVOKED</option>' in page.body
    for name, kind in (("dashboard.js", "text/javascript"), ("dashboard.css", "text/css")):
        version = re.search(rf"dashboard/assets/{name}\?v=(\w+)", page.body)
        assert version is not None, name
        fresh = invoke("GET", f"/dashboard/assets/{name}?v={version.group(1)}")
        assert fresh.status == 200
        assert fresh.headers["content-type"].startswith(kind)
        assert "immutable" in fresh.headers["cache-control"]
        stale = invoke("GET", f"/dashboard/assets/{name}?v=old")
        assert stale.headers["cache-control"] == "no-cache"
    assert invoke("GET", "/dashboard/assets/secrets.py").status == 404
    assert invoke("GET", "/dashboard/assets/..%2Fapp.py").status == 404


def test_openapi_documents_the_listing(invoke: Invoke) -> None:
    schema = invoke("GET", "/openapi.json").body
    parameters = {p["name"] for p in schema["paths"]["/jobs"]["get"]["parameters"]}
    assert parameters == {"state", "task", "cursor", "limit"}
    assert "/jobs/{job_id}" in schema["paths"]
    assert "/queues/{queue}/redrive" in schema["paths"]
    assert "/dashboard" not in schema["paths"]
    assert "JobList" in schema["components"]["schemas"]
