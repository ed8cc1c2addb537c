"""The light lane through the real parts: the API process, the emulator's SQS and DynamoDB, the
light lane's poller invoking LightFunction's handler, and a Celery worker alongside."""

import dataclasses
from collections.abc import Iterator
from typing import Any
from uuid import uuid4

import httpx
import pytest

from skylane.broker.celery_app import get_celery_app
from skylane.core.aws import reset_clients
from skylane.core.settings import get_settings
from skylane.jobs.contracts import SEND_NOTIFICATION, QueueName
from skylane.jobs.store import JobRecord, JobStore
from skylane.jobs.submission import send_task, submit_job
from tests.integration.client import follow, upload
from tests.integration.conftest import LocalStack
from tests.integration.waiting import wait_until
from tests.samples import mp4

pytestmark = pytest.mark.integration

# What differs between any two runs of a job: its id, its times, the queue it went through
# and the id SNS gives the published message.
VOLATILE = {"job_id", "created_at", "started_at", "last_started_at", "ended_at", "queue"}


def _clear_caches() -> None:
    get_settings.cache_clear()
    reset_clients()
    get_celery_app.cache_clear()


@pytest.fixture
def producer(local_stack: LocalStack, monkeypatch: pytest.MonkeyPatch) -> Iterator[JobStore]:
    """This process as a producer: the API function's environment, aimed at the emulator."""
    for name, value in {**local_stack.stack.api_env, **local_stack.component_env("api")}.items():
        monkeypatch.setenv(name, value)
    _clear_caches()
    yield JobStore.from_settings()
    _clear_caches()


def comparable(record: JobRecord | None) -> dict[str, Any]:
    assert record is not None
    fields = dataclasses.asdict(record)
    fields = {name: value for name, value in fields.items() if name not in VOLATILE}
    fields["result"] = {k: v for k, v in fields["result"].items() if k != "message_id"}
    return fields


def light_log(local_stack: LocalStack) -> str:
    return local_stack.logs.path("light").read_text()


@pytest.mark.every_emulator
def test_the_same_task_runs_on_either_lane_with_the_same_record(
    local_stack: LocalStack, producer: JobStore
) -> None:
    kwargs = {"user_id": 5, "message": "same job, two lanes"}
    # Routed by the router: the light lane.
    light_job = submit_job(SEND_NOTIFICATION, kwargs).job_id
    # The same message sent to the worker's queue instead.
    worker_job = str(uuid4())
    producer.create(
        worker_job,
        task=SEND_NOTIFICATION.name,
        kind=SEND_NOTIFICATION.kind,
        queue=QueueName.DEFAULT.value,
        inputs=kwargs,
    )
    send_task(SEND_NOTIFICATION, kwargs, worker_job, QueueName.DEFAULT)

    for job_id in (light_job, worker_job):
        followed = follow(local_stack.api_url, job_id)
        assert followed.final["state"] == "SUCCESS", followed.final

    on_light, on_worker = producer.get(light_job), producer.get(worker_job)
    assert comparable(on_light) == comparable(on_worker)
    assert comparable(on_light)["attempts"] == 1
    assert (on_light.queue, on_worker.queue) == ("light", "default")  # type: ignore[union-attr]
    # The light lane ran one and only one of them.
    log = light_log(local_stack)
    assert light_job in log
    assert worker_job not in log


def test_process_video_answers_and_its_notification_runs_on_the_light_lane(
    local_stack: LocalStack,
) -> None:
    key = upload(
        local_stack.api_url, "lanes.mp4", mp4(timescale=600, duration=600 * 7), "video/mp4"
    )

    answer = httpx.post(
        f"{local_stack.api_url}/process-video", json={"video_path": key, "user_id": 11}, timeout=30
    )

    assert answer.status_code == 202, answer.text
    accepted = answer.json()
    video = follow(local_stack.api_url, accepted["task_id"])
    notification = follow(local_stack.api_url, accepted["notification_task_id"])
    assert video.final["state"] == "SUCCESS", video.final
    assert video.final["result"]["duration_seconds"] == 7
    assert notification.final["state"] == "SUCCESS", notification.final
    assert notification.final["result"]["user_id"] == 11
    log = light_log(local_stack)
    assert accepted["notification_task_id"] in log
    assert accepted["task_id"] not in log
    worker_logs = "".join(
        local_stack.logs.path(worker.name).read_text() for worker in local_stack.workers
    )
    assert accepted["task_id"] in worker_logs


@pytest.mark.every_emulator
def test_a_message_no_lane_can_run_ends_in_the_light_dead_letter_queue(
    local_stack: LocalStack,
) -> None:
    sqs = local_stack.client("sqs")
    body = f"poison {uuid4()}"
    sent = sqs.send_message(QueueUrl=local_stack.light_queue_url, MessageBody=body)["MessageId"]
    parked: list[dict[str, Any]] = []

    def in_dead_letter_queue() -> bool:
        answer = sqs.receive_message(
            QueueUrl=local_stack.light_dlq_url,
            MaxNumberOfMessages=10,
            WaitTimeSeconds=1,
            AttributeNames=["All"],
        )
        parked.extend(answer.get("Messages", []))
        return any(message["Body"] == body for message in parked)

    # Three receives (MaxReceiveCount) a visibility timeout apart, then SQS's redrive.
    wait_until(in_dead_letter_queue, 90, "the poison message in the light DLQ", interval=0.2)
    assert f"left for redelivery: {sent}" in light_log(local_stack)


def test_the_stack_has_the_light_lanes_event_source_switched_off_locally(
    local_stack: LocalStack,
) -> None:
    # On AWS Lambda polls; here the runner does, and moto must not take messages itself.
    function = local_stack.stack.physical_ids["LightFunction"]
    (mapping,) = local_stack.client("lambda").list_event_source_mappings(FunctionName=function)[
        "EventSourceMappings"
    ]
    queue_arn = local_stack.client("sqs").get_queue_attributes(
        QueueUrl=local_stack.light_queue_url, AttributeNames=["QueueArn"]
    )["Attributes"]["QueueArn"]
    assert mapping["EventSourceArn"] == queue_arn
    assert mapping["BatchSize"] == 10
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["State"] == "Disabled"
