"""Every endpoint through the Mangum handler with real API Gateway payloads (2.0 and 1.0)."""

import base64
import json
from typing import Any
from uuid import uuid4

import boto3
import pytest

from skylane.jobs.states import JobState
from skylane.jobs.store import JobStore
from tests.unit.conftest import REGION, UPLOADS
from tests.unit.functions.api.conftest import Invoke


def queued_messages(queue_url: str) -> list[dict[str, Any]]:
    """The Celery messages waiting in a queue: task name, id and kwargs."""
    sqs = boto3.client("sqs", region_name=REGION)
    found = []
    response = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10)
    for message in response.get("Messages", []):
        envelope = json.loads(base64.b64decode(message["Body"]))
        _args, kwargs, _ = json.loads(base64.b64decode(envelope["body"]))
        found.append(
            {"task": envelope["headers"]["task"], "id": envelope["headers"]["id"], "kwargs": kwargs}
        )
    return found


def upload(key: str, body: bytes = b"line one\nline two\n") -> str:
    boto3.client("s3", region_name=REGION).put_object(Bucket=UPLOADS, Key=key, Body=body)
    return key


def test_health(invoke: Invoke) -> None:
    answer = invoke("GET", "/health")
    assert answer.status == 200
    assert answer.body == {"status": "ok"}


def test_uploads_gives_a_presigned_put_url_into_the_uploads_bucket(invoke: Invoke) -> None:
    answer = invoke(
        "POST", "/uploads", {"filename": "../../etc/passwd", "content_type": "text/plain"}
    )
    assert answer.status == 201
    assert answer.body["key"].startswith("uploads/")
    assert answer.body["key"].endswith("/passwd")
    assert ".." not in answer.body["key"]
    assert f"/{UPLOADS}/" in answer.body["upload_url"]
    assert "X-Amz-Signature=" in answer.body["upload_url"]
    assert answer.body["expires_in"] == 900


def test_process_file_records_the_job_and_queues_it(invoke: Invoke, aws: dict[str, Any]) -> None:
    key = upload("uploads/a/large_file.txt")
    answer = invoke("POST", "/process-file", {"file_path": key})
    assert answer.status == 202
    assert answer.body["status"] == "pending"
    assert answer.body["message"]
    job_id = answer.body["task_id"]

    record = JobStore.from_settings().get(job_id)
    assert record is not None
    assert record.state is JobState.PENDING
    assert record.queue == "default"
    assert record.inputs == {"file_key": key}
    assert queued_messages(aws["DEFAULT_QUEUE_URL"]) == [
        {"task": "skylane.process_large_file", "id": job_id, "kwargs": {"file_key": key}}
    ]


def test_process_file_accepts_an_s3_uri_of_the_uploads_bucket(invoke: Invoke) -> None:
    key = upload("uploads/b/data.csv")
    answer = invoke("POST", "/process-file", {"file_path": f"s3://{UPLOADS}/{key}"})
    assert answer.status == 202
    record = JobStore.from_settings().get(answer.body["task_id"])
    assert record is not None
    assert record.inputs == {"file_key": key}


@pytest.mark.parametrize(
    ("file_path", "says"),
    [
        ("uploads/never-uploaded.txt", "no object 'uploads/never-uploaded.txt'"),
        ("s3://someone-elses-bucket/x.txt", "must be in the uploads bucket"),
        ("uploads/../../secret", "without '..'"),
        ("/etc/passwd", "leading '/'"),
    ],
)
def test_process_file_refuses_inputs_outside_the_uploads_bucket(
    invoke: Invoke, aws: dict[str, Any], file_path: str, says: str
) -> None:
    answer = invoke("POST", "/process-file", {"file_path": file_path})
    assert answer.status == 422
    assert says in answer.body["detail"][0]["msg"]
    assert answer.body["detail"][0]["loc"] == ["body", "file_path"]
    assert queued_messages(aws["DEFAULT_QUEUE_URL"]) == []


def test_send_email_queues_an_email_job(invoke: Invoke, aws: dict[str, Any]) -> None:
    body = {"email": "user@example.com", "subject": "Hello", "body": "Hi there"}
    answer = invoke("POST", "/send-email", body)
    assert answer.status == 202
    assert set(answer.body) == {"message", "task_id"}
    [message] = queued_messages(aws["DEFAULT_QUEUE_URL"])
    assert message["task"] == "skylane.send_email"
    assert message["kwargs"] == body


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email": "not-an-email", "subject": "s", "body": "b"}, "email"),
        ({"email": "a@example.com", "body": "b"}, "subject"),
        ({"email": "a@example.com", "subject": "s", "body": "b", "cc": "x"}, "cc"),
        ({"email": "a@example.com", "subject": 5, "body": "b"}, "subject"),
    ],
)
def test_send_email_refuses_bad_input_with_the_field_named(
    invoke: Invoke, aws: dict[str, Any], body: dict[str, Any], field: str
) -> None:
    answer = invoke("POST", "/send-email", body)
    assert answer.status == 422
    assert field in answer.body["detail"][0]["loc"]
    assert queued_messages(aws["DEFAULT_QUEUE_URL"]) == []


def test_malformed_json_is_a_422_not_a_500(invoke: Invoke) -> None:
    answer = invoke("POST", "/send-email", '{"email": ')
    assert answer.status == 422
    assert answer.body["detail"][0]["type"] == "json_invalid"


def test_oversized_body_is_refused_with_413(invoke: Invoke, aws: dict[str, Any]) -> None:
    body = {"email": "a@example.com", "subject": "s", "body": "x" * 300_000}
    answer = invoke("POST", "/send-email", body)
    assert answer.status == 413
    assert "POST /uploads" in answer.body["detail"]
    assert queued_messages(aws["DEFAULT_QUEUE_URL"]) == []


def test_process_document_answers_in_rq_shape(invoke: Invoke, aws: dict[str, Any]) -> None:
    key = upload("uploads/c/document.pdf", b"%PDF-1.4 not really")
    answer = invoke("POST", "/process-document", {"file_path": key})
    assert answer.status == 202
    assert answer.body["status"] == "queued"
    [message] = queued_messages(aws["DEFAULT_QUEUE_URL"])
    assert message == {
        "task": "skylane.process_document",
        "id": answer.body["job_id"],
        "kwargs": {"file_key": key},
    }


def test_generate_report_goes_to_the_high_queue(invoke: Invoke, aws: dict[str, Any]) -> None:
    answer = invoke("POST", "/generate-report", {"user_id": 42, "report_type": "summary"})
    assert answer.status == 202
    [message] = queued_messages(aws["HIGH_QUEUE_URL"])
    assert message["task"] == "skylane.generate_report"
    assert message["kwargs"] == {"user_id": 42, "report_type": "summary"}
    assert queued_messages(aws["DEFAULT_QUEUE_URL"]) == []
    record = JobStore.from_settings().get(answer.body["job_id"])
    assert record is not None
    assert record.user_id == "42"


def test_generate_report_refuses_unknown_report_types(invoke: Invoke) -> None:
    answer = invoke("POST", "/generate-report", {"user_id": 42, "report_type": "everything"})
    assert answer.status == 422
    assert answer.body["detail"][0]["loc"] == ["body", "report_type"]


def test_process_video_queues_the_video_and_its_notification(
    invoke: Invoke, aws: dict[str, Any]
) -> None:
    key = upload("uploads/d/clip.mp4", b"\x00\x00\x00\x18ftypmp42")
    answer = invoke("POST", "/process-video", {"video_path": key, "user_id": 7})
    assert answer.status == 202
    messages = {m["task"]: m for m in queued_messages(aws["DEFAULT_QUEUE_URL"])}
    assert messages["skylane.process_video"]["id"] == answer.body["task_id"]
    assert messages["skylane.process_video"]["kwargs"] == {"video_path": key, "user_id": 7}
    assert messages["skylane.send_notification"]["id"] == answer.body["notification_task_id"]


def test_user_action_is_recorded_as_a_structured_log_line(
    invoke: Invoke, caplog: pytest.LogCaptureFixture
) -> None:
    answer = invoke("POST", "/user-action", {"user_id": 3, "action": "login"})
    assert answer.status == 200
    assert answer.body == {"message": "Action recorded"}
    assert any(
        getattr(record, "event", None) == "user_action"
        and getattr(record, "user_id", None) == 3
        and getattr(record, "action", None) == "login"
        for record in caplog.records
    )


def test_queues_reports_every_queue_with_live_counts(invoke: Invoke, aws: dict[str, Any]) -> None:
    invoke("POST", "/generate-report", {"user_id": 1, "report_type": "summary"})
    invoke("POST", "/generate-report", {"user_id": 2, "report_type": "detailed"})
    answer = invoke("GET", "/queues")
    assert answer.status == 200
    assert set(answer.body) == {"default", "high", "default_dlq", "high_dlq"}
    assert answer.body["high"] == {"name": "high", "count": 2, "in_flight": 0, "delayed": 0}
    assert answer.body["default"]["count"] == 0


def test_unknown_job_is_404_on_both_views(invoke: Invoke) -> None:
    job_id = str(uuid4())
    for path in (f"/task/{job_id}", f"/job/{job_id}"):
        answer = invoke("GET", path)
        assert answer.status == 404
        assert job_id in answer.body["detail"]


def test_malformed_job_id_is_422(invoke: Invoke) -> None:
    answer = invoke("GET", "/task/not-a-job-id")
    assert answer.status == 422


def _accepted_job() -> str:
    job_id = str(uuid4())
    JobStore.from_settings().create(
        job_id, task="skylane.generate_report", kind="generate_report", queue="high", inputs={}
    )
    return job_id


def test_task_view_follows_the_job_through_its_states(invoke: Invoke) -> None:
    store = JobStore.from_settings()
    job_id = _accepted_job()
    assert invoke("GET", f"/task/{job_id}").body == {
        "state": "PENDING",
        "status": "Job is waiting in the queue",
    }
    store.mark_started(job_id, task="skylane.generate_report", queue="high")
    store.record_progress(job_id, 3, 10, {"current": 3, "total": 10})
    progress = invoke("GET", f"/task/{job_id}").body
    assert progress["state"] == "PROGRESS"
    assert (progress["current"], progress["total"], progress["progress"]) == (3, 10, "30.0%")

    store.record_success(job_id, {"status": "success", "report_key": "reports/1/summary/x.json"})
    done = invoke("GET", f"/task/{job_id}").body
    assert done["state"] == "SUCCESS"
    assert done["result"]["report_key"] == "reports/1/summary/x.json"
    assert "reports/1/summary/x.json" in done["result"]["url"]
    assert "X-Amz-Signature=" in done["result"]["url"]


def test_failed_job_shows_its_error_on_both_views(invoke: Invoke) -> None:
    store = JobStore.from_settings()
    job_id = _accepted_job()
    store.mark_started(job_id, task="skylane.generate_report", queue="high")
    store.record_failure(job_id, "DocumentUnreadable: not a PDF", "Traceback ...")
    task = invoke("GET", f"/task/{job_id}").body
    assert task["state"] == "FAILURE"
    assert task["error"] == "DocumentUnreadable: not a PDF"
    job = invoke("GET", f"/job/{job_id}").body
    assert job["status"] == "failed"
    assert job["error"] == "DocumentUnreadable: not a PDF"
    assert job["ended_at"].endswith("Z")


def test_job_view_has_rq_timestamps(invoke: Invoke) -> None:
    store = JobStore.from_settings()
    job_id = _accepted_job()
    queued = invoke("GET", f"/job/{job_id}").body
    assert queued["status"] == "queued"
    assert queued["job_id"] == job_id
    assert queued["created_at"].endswith("Z")
    assert queued["started_at"] is None
    assert queued["ended_at"] is None
    store.mark_started(job_id, task="skylane.generate_report", queue="high")
    store.record_success(job_id, {"status": "success"})
    finished = invoke("GET", f"/job/{job_id}").body
    assert finished["status"] == "finished"
    assert finished["started_at"] <= finished["ended_at"]
    assert finished["result"] == {"status": "success"}


def test_docs_and_openapi_are_served(invoke: Invoke) -> None:
    docs = invoke("GET", "/docs")
    assert docs.status == 200
    assert "swagger" in docs.body.lower()
    schema = invoke("GET", "/openapi.json")
    assert schema.status == 200
    assert "/process-file" in schema.body["paths"]
