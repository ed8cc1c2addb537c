"""Idempotency-Key: a repeated request returns the same job and enqueues nothing."""

from typing import Any

from tests.unit.functions.api.conftest import Invoke
from tests.unit.functions.api.test_endpoints import queued_messages, upload

EMAIL = {"email": "user@example.com", "subject": "Hello", "body": "Hi"}


def test_a_repeat_with_the_same_key_returns_the_same_job(
    invoke: Invoke, aws: dict[str, Any]
) -> None:
    first = invoke("POST", "/send-email", EMAIL, {"Idempotency-Key": "order-1234"})
    again = invoke("POST", "/send-email", EMAIL, {"Idempotency-Key": "order-1234"})
    assert first.status == again.status == 202
    assert again.body == first.body
    assert len(queued_messages(aws["DEFAULT_QUEUE_URL"])) == 1


def test_the_same_key_with_another_body_is_refused(invoke: Invoke, aws: dict[str, Any]) -> None:
    invoke("POST", "/send-email", EMAIL, {"Idempotency-Key": "order-1234"})
    other = invoke(
        "POST", "/send-email", {**EMAIL, "subject": "Changed"}, {"Idempotency-Key": "order-1234"}
    )
    assert other.status == 422
    assert other.body["detail"][0]["loc"] == ["header", "Idempotency-Key"]
    assert "different request" in other.body["detail"][0]["msg"]
    assert len(queued_messages(aws["DEFAULT_QUEUE_URL"])) == 1


def test_the_same_key_on_another_endpoint_is_refused(invoke: Invoke) -> None:
    invoke("POST", "/send-email", EMAIL, {"Idempotency-Key": "k-1"})
    report = invoke(
        "POST",
        "/generate-report",
        {"user_id": 1, "report_type": "summary"},
        {"Idempotency-Key": "k-1"},
    )
    assert report.status == 422


def test_without_a_key_every_request_is_a_new_job(invoke: Invoke, aws: dict[str, Any]) -> None:
    first = invoke("POST", "/send-email", EMAIL)
    second = invoke("POST", "/send-email", EMAIL)
    assert first.body["task_id"] != second.body["task_id"]
    assert len(queued_messages(aws["DEFAULT_QUEUE_URL"])) == 2


def test_a_repeated_video_request_repeats_its_notification_too(
    invoke: Invoke, aws: dict[str, Any]
) -> None:
    key = upload("uploads/v/clip.mp4", b"\x00\x00\x00\x18ftypmp42")
    body = {"video_path": key, "user_id": 3}
    first = invoke("POST", "/process-video", body, {"Idempotency-Key": "video-1"})
    again = invoke("POST", "/process-video", body, {"Idempotency-Key": "video-1"})
    assert again.body == first.body
    assert first.body["notification_task_id"] != first.body["task_id"]
    assert len(queued_messages(aws["DEFAULT_QUEUE_URL"])) == 2


def test_a_malformed_key_is_refused(invoke: Invoke) -> None:
    answer = invoke("POST", "/send-email", EMAIL, {"Idempotency-Key": "has space"})
    assert answer.status == 422
    assert answer.body["detail"][0]["loc"] == ["header", "Idempotency-Key"]
