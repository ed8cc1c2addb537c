"""The README's walk-through, through the real parts: API process, emulator server, worker."""

import hashlib
import json

import httpx
import pytest

from tests.integration.client import follow, job_view, submit, upload
from tests.integration.conftest import LocalStack
from tests.samples import mp4, pdf_bytes

pytestmark = pytest.mark.integration


@pytest.mark.every_emulator
def test_process_file_reports_progress_and_real_facts(local_stack: LocalStack) -> None:
    data = b"".join(f"line {n:07d}\n".encode() for n in range(400_000))  # 5.2 MB, 6 chunks
    key = upload(local_stack.api_url, "large_file.txt", data, "text/plain")
    job_id = submit(local_stack.api_url, "/process-file", {"file_path": key})

    followed = follow(local_stack.api_url, job_id)
    assert followed.final["state"] == "SUCCESS", followed.final
    result = followed.final["result"]
    assert result["size_bytes"] == len(data)
    assert result["sha256"] == hashlib.sha256(data).hexdigest()
    assert result["lines"] == 400_000
    assert followed.states_seen[-1] == "SUCCESS"
    assert set(followed.states_seen) <= {"PENDING", "STARTED", "PROGRESS", "SUCCESS"}

    record = local_stack.client("dynamodb").get_item(
        TableName=local_stack.table, Key={"job_id": {"S": job_id}}
    )["Item"]
    # Progress reached its total before the job succeeded, and the attempt was counted once.
    assert record["current"] == record["total"] == {"N": str(result["chunks"])}
    assert record["attempts"] == {"N": "1"}


@pytest.mark.every_emulator
def test_send_email_goes_through_ses(local_stack: LocalStack) -> None:
    ses = local_stack.client("ses")
    sent_before = ses.get_send_quota()["SentLast24Hours"]
    job_id = submit(
        local_stack.api_url,
        "/send-email",
        {"email": "user@example.com", "subject": "Welcome", "body": "Hello from skylane"},
    )
    followed = follow(local_stack.api_url, job_id)
    assert followed.final["state"] == "SUCCESS", followed.final
    assert followed.final["result"]["email"] == "user@example.com"
    assert ses.get_send_quota()["SentLast24Hours"] == sent_before + 1


def test_process_document_reads_a_real_pdf(local_stack: LocalStack) -> None:
    key = upload(
        local_stack.api_url,
        "contract.pdf",
        pdf_bytes(["Hello skylane", "", "Page three"]),
        "application/pdf",
    )
    job_id = submit(local_stack.api_url, "/process-document", {"file_path": key})
    followed = follow(local_stack.api_url, job_id)
    assert followed.final["state"] == "SUCCESS", followed.final
    assert followed.final["result"]["page_count"] == 3
    assert "Hello skylane" in followed.final["result"]["text_excerpt"]

    rq = job_view(local_stack.api_url, job_id)
    assert rq["status"] == "finished"
    assert rq["created_at"] <= rq["started_at"] <= rq["ended_at"]


def test_a_corrupt_document_fails_at_once_with_a_clear_error(local_stack: LocalStack) -> None:
    key = upload(
        local_stack.api_url, "broken.pdf", b"%PDF-1.7\nthis is not a pdf", "application/pdf"
    )
    job_id = submit(local_stack.api_url, "/process-document", {"file_path": key})
    followed = follow(local_stack.api_url, job_id)
    assert followed.final["state"] == "FAILURE"
    assert "not a readable PDF" in followed.final["error"]
    assert "RETRY" not in followed.states_seen
    assert job_view(local_stack.api_url, job_id)["status"] == "failed"


@pytest.mark.every_emulator
def test_generate_report_writes_a_report_to_s3_with_a_working_link(
    local_stack: LocalStack,
) -> None:
    job_id = submit(
        local_stack.api_url, "/generate-report", {"user_id": 4242, "report_type": "detailed"}
    )
    followed = follow(local_stack.api_url, job_id)
    assert followed.final["state"] == "SUCCESS", followed.final
    result = followed.final["result"]
    assert result["report_key"] == f"reports/4242/detailed/{job_id}.json"

    report = httpx.get(result["url"], timeout=10)
    assert report.status_code == 200
    assert json.loads(report.content)["user_id"] == 4242


def test_process_video_runs_the_video_and_its_notification(local_stack: LocalStack) -> None:
    video = mp4(timescale=600, duration=600 * 42)
    key = upload(local_stack.api_url, "clip.mp4", video, "video/mp4")
    answer = httpx.post(
        f"{local_stack.api_url}/process-video", json={"video_path": key, "user_id": 9}, timeout=30
    )
    assert answer.status_code == 202, answer.text
    accepted = answer.json()

    video_job = follow(local_stack.api_url, accepted["task_id"])
    assert video_job.final["state"] == "SUCCESS", video_job.final
    assert video_job.final["result"]["container"] == "mp4"
    assert video_job.final["result"]["duration_seconds"] == 42
    assert video_job.final["result"]["sha256"] == hashlib.sha256(video).hexdigest()

    notification = follow(local_stack.api_url, accepted["notification_task_id"])
    assert notification.final["state"] == "SUCCESS", notification.final
    assert notification.final["result"]["user_id"] == 9


@pytest.mark.every_emulator
def test_queues_shows_live_counts(local_stack: LocalStack) -> None:
    answer = httpx.get(f"{local_stack.api_url}/queues", timeout=10)
    assert answer.status_code == 200
    assert set(answer.json()) == {
        "default",
        "high",
        "default_dlq",
        "high_dlq",
        "light",
        "light_dlq",
    }
    for name, stats in answer.json().items():
        assert stats["name"] == name
        assert {"count", "in_flight", "delayed"} <= set(stats)
