"""LightFunction's handler on real light-queue messages (moto's in-process SQS, SNS, DynamoDB).

Messages are sent by the producers' own code (skylane.jobs.submission through our Celery app) and
received from SQS, so the records carry exactly what the wire carries.
"""

import importlib
import sys
import time
from types import ModuleType
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from functions.tasks import messaging
from infra.light_lane_runner import EventSource, lambda_event
from skylane.broker.celery_app import get_celery_app
from skylane.core.aws import reset_clients
from skylane.core.settings import get_settings
from skylane.jobs.contracts import SEND_NOTIFICATION, QueueName
from skylane.jobs.states import JobState
from skylane.jobs.store import JobStore
from skylane.jobs.submission import submit_job

REGION = "us-east-1"


class Context:
    """The LambdaContext fields Powertools' logger reads."""

    function_name = "skylane-test-LightFunction"
    memory_limit_in_mb = 512
    invoked_function_arn = f"arn:aws:lambda:{REGION}:123456789012:function:skylane-test-light"
    aws_request_id = "request-1"


@pytest.fixture
def light_queue(worker_aws: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> EventSource:
    sqs = boto3.client("sqs")
    url = sqs.create_queue(QueueName="skylane-test-light")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    monkeypatch.setenv("LIGHT_QUEUE_URL", url)
    get_settings.cache_clear()
    reset_clients()
    get_celery_app.cache_clear()
    return EventSource(queue_url=url, queue_arn=arn, region=REGION, batch_size=10)


@pytest.fixture
def handler(light_queue: EventSource) -> ModuleType:
    """functions.light.handler with the tasks registered on this test's Celery app."""
    for name in ("functions.tasks.celery_tasks", "functions.light.handler"):
        sys.modules.pop(name, None)
    # Imported by name first: the handler's `from functions.tasks import celery_tasks` would
    # otherwise find the package's attribute, the module an earlier test imported, whose app
    # was built without this test's light queue.
    importlib.import_module("functions.tasks.celery_tasks")
    return importlib.import_module("functions.light.handler")


def receive_event(source: EventSource) -> dict[str, Any]:
    """Everything on the light queue, as the event Lambda's SQS event source would send."""
    answer = boto3.client("sqs").receive_message(
        QueueUrl=source.queue_url,
        MaxNumberOfMessages=10,
        AttributeNames=["All"],
        MessageAttributeNames=["All"],
    )
    return lambda_event(answer.get("Messages", []), source)


def notify(user_id: int) -> str:
    return submit_job(SEND_NOTIFICATION, {"user_id": user_id, "message": "Video started"}).job_id


def test_a_notification_job_is_sent_to_the_light_queue_and_decoded_as_kombu_would(
    handler: ModuleType, light_queue: EventSource
) -> None:
    job_id = notify(7)

    (record,) = receive_event(light_queue)["Records"]
    message = handler.lane().decode(record)

    assert message.headers["id"] == job_id
    assert message.headers["task"] == "skylane.send_notification"
    assert message.delivery_info["routing_key"] == QueueName.LIGHT.value
    args, kwargs, _embed = message.decode()
    assert (args, kwargs) == ([], {"user_id": 7, "message": "Video started"})
    assert JobStore.from_settings().get(job_id).queue == "light"  # type: ignore[union-attr]


def test_a_batch_reports_exactly_the_record_that_failed(
    handler: ModuleType, light_queue: EventSource
) -> None:
    first, second = notify(1), notify(2)
    # A task nobody registered: no lane can ever run it, so it must go back (and, after
    # maxReceiveCount receives, to the dead-letter queue).
    get_celery_app().send_task("skylane.no_such_task", kwargs={}, queue=QueueName.LIGHT.value)
    event = receive_event(light_queue)
    assert len(event["Records"]) == 3
    bad = next(
        record["messageId"]
        for record in event["Records"]
        if handler.lane().decode(record).headers["task"] == "skylane.no_such_task"
    )

    answer = handler.handler(event, Context())

    assert answer == {"batchItemFailures": [{"itemIdentifier": bad}]}
    store = JobStore.from_settings()
    for job_id, user in ((first, 1), (second, 2)):
        record = store.get(job_id)
        assert record is not None
        assert record.state is JobState.SUCCESS
        assert record.result["user_id"] == user
        assert record.queue == "light"
        assert record.attempts == 1


def test_garbage_is_reported_failed_not_dropped(
    handler: ModuleType, light_queue: EventSource
) -> None:
    boto3.client("sqs").send_message(QueueUrl=light_queue.queue_url, MessageBody="not a job")
    event = receive_event(light_queue)

    answer = handler.handler(event, Context())

    assert answer == {"batchItemFailures": [{"itemIdentifier": event["Records"][0]["messageId"]}]}


def test_a_task_that_fails_for_good_is_recorded_failed_and_not_retried(
    handler: ModuleType, light_queue: EventSource, monkeypatch: pytest.MonkeyPatch
) -> None:
    job_id = notify(3)
    # No topic configured: the same error on every attempt, so the job fails at once, as on
    # the worker, and its message is done with (not a batch failure).
    monkeypatch.setenv("NOTIFICATIONS_TOPIC_ARN", "")
    get_settings.cache_clear()

    answer = handler.handler(receive_event(light_queue), Context())

    assert answer == {"batchItemFailures": []}
    record = JobStore.from_settings().get(job_id)
    assert record is not None
    assert record.state is JobState.FAILURE
    assert "NOTIFICATIONS_TOPIC_ARN is not set" in (record.error or "")


def test_a_job_cancelled_while_queued_never_runs(
    handler: ModuleType, light_queue: EventSource
) -> None:
    job_id = notify(4)
    JobStore.from_settings().revoke(job_id)

    answer = handler.handler(receive_event(light_queue), Context())

    assert answer == {"batchItemFailures": []}
    record = JobStore.from_settings().get(job_id)
    assert record is not None
    assert record.state is JobState.REVOKED
    assert record.result is None


def test_a_transient_failure_is_retried_through_a_delayed_message_then_succeeds(
    handler: ModuleType, light_queue: EventSource, monkeypatch: pytest.MonkeyPatch
) -> None:
    job_id = notify(5)
    real_send = messaging.send_notification
    calls: list[int] = []

    def throttled_once(topic_arn: str, user_id: int, message: str) -> str:
        calls.append(user_id)
        if len(calls) == 1:
            raise ClientError(
                {"Error": {"Code": "Throttling", "Message": "Rate exceeded"}}, "Publish"
            )
        return real_send(topic_arn, user_id, message)

    monkeypatch.setattr(messaging, "send_notification", throttled_once)

    # The first attempt: SNS throttles. The record is not a batch failure (its message is done
    # with); the retry is a new message on the light queue, delayed by the countdown.
    assert handler.handler(receive_event(light_queue), Context()) == {"batchItemFailures": []}
    record = JobStore.from_settings().get(job_id)
    assert record is not None
    assert record.state is JobState.RETRY
    assert "Throttling" in (record.error or "")
    attributes = boto3.client("sqs").get_queue_attributes(
        QueueUrl=light_queue.queue_url, AttributeNames=["ApproximateNumberOfMessagesDelayed"]
    )["Attributes"]
    assert attributes["ApproximateNumberOfMessagesDelayed"] == "1"

    # Once the countdown (RETRY_COUNTDOWN_SECONDS=1 here) is over, the retry's message runs.
    event: dict[str, Any] = {"Records": []}
    for _ in range(50):
        event = receive_event(light_queue)
        if event["Records"]:
            break
        time.sleep(0.1)
    (retried,) = event["Records"]
    assert handler.lane().decode(retried).headers["retries"] == 1
    assert handler.handler(event, Context()) == {"batchItemFailures": []}

    record = JobStore.from_settings().get(job_id)
    assert record is not None
    assert record.state is JobState.SUCCESS
    assert record.attempts == 2
    assert calls == [5, 5]


def test_a_retry_that_cannot_be_sent_leaves_its_record_for_redelivery(
    handler: ModuleType, light_queue: EventSource, monkeypatch: pytest.MonkeyPatch
) -> None:
    job_id = notify(6)

    def throttled(topic_arn: str, user_id: int, message: str) -> str:
        raise ClientError({"Error": {"Code": "Throttling", "Message": "Rate exceeded"}}, "Publish")

    monkeypatch.setattr(messaging, "send_notification", throttled)
    event = receive_event(light_queue)
    # SQS refuses the retry's message (the queue is gone by the time it is sent): Celery turns
    # that into Reject, and the job has neither ended nor stored a retry.
    boto3.client("sqs").delete_queue(QueueUrl=light_queue.queue_url)

    answer = handler.handler(event, Context())

    # Reported failed: SQS gives the record back after its visibility timeout (and to the
    # light DLQ after maxReceiveCount), so the job runs again instead of being dropped.
    assert answer == {"batchItemFailures": [{"itemIdentifier": event["Records"][0]["messageId"]}]}
    record = JobStore.from_settings().get(job_id)
    assert record is not None
    assert record.state is JobState.STARTED
