"""`sam local invoke` of SchedulerFunction and LightFunction: their built packages in the arm64
runtime stand-in (under qemu on an x86_64 machine), with events made by `sam local
generate-event` that carry our bodies, against the session's stack through Docker's bridge.
"""

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest

from infra.sam_local import SamLocal, sam_cli
from skylane.broker.celery_app import get_celery_app
from skylane.core.aws import reset_clients
from skylane.core.settings import get_settings
from skylane.jobs.contracts import SEND_NOTIFICATION
from skylane.jobs.states import JobState
from skylane.jobs.store import JobRecord
from skylane.jobs.submission import submit_job
from tests.integration.conftest import LocalStack
from tests.integration.job_records import records
from tests.integration.sam_cli import (
    invoke_json,
    no_container_left,
    reachable_from_containers,
    sam_json,
    sam_local_for,
)
from tests.integration.waiting import wait_until

# Each invocation is a fresh container whose package is imported under qemu.
pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]

INVOKE_SECONDS = 480
GENERATE_SECONDS = 60
# A day of its own, so no other test's daily report is this one.
REPORT_DAY = "2026-01-15"


def job(local_stack: LocalStack, job_id: str) -> JobRecord | None:
    """The job's record, straight from the stack's table in the emulator."""
    item = records(local_stack, [job_id]).get(job_id)
    return None if item is None else JobRecord.from_item(item)


def job_state(local_stack: LocalStack, job_id: str) -> JobState | None:
    found = job(local_stack, job_id)
    return None if found is None else found.state


@pytest.fixture(scope="module")
def sam(local_stack: LocalStack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SamLocal]:
    with (
        no_container_left("sam local invoke"),
        reachable_from_containers(local_stack.emulator),
    ):
        yield sam_local_for(
            local_stack.stack,
            local_stack.emulator,
            local_stack.identities,
            tmp_path_factory.mktemp("sam-invoke"),
        )


def generate_event(sam: SamLocal, service: str, kind: str, *options: str) -> dict[str, Any]:
    argv = [*sam_cli(), "local", "generate-event", service, kind, *options]
    event: dict[str, Any] = sam_json(argv, sam.environment(), GENERATE_SECONDS)
    return event


def invoke(sam: SamLocal, function: str, event: dict[str, Any], directory: Path) -> Any:
    path = directory / f"{function}-event.json"
    path.write_text(json.dumps(event))
    return invoke_json(sam, function, path, INVOKE_SECONDS)


def test_the_scheduler_function_enqueues_its_job_from_a_scheduled_event(
    sam: SamLocal, local_stack: LocalStack, tmp_path: Path
) -> None:
    event = generate_event(sam, "cloudwatch", "scheduled-event", "--region", "us-east-1")
    # An EventBridge rule's scheduled event, its detail our schedule's body; a delivery id of
    # its own (the job id is derived from it).
    event["id"] = str(uuid4())
    event["detail"] = {"task": "skylane.generate_daily_report", "kwargs": {"day": REPORT_DAY}}

    answer = invoke(sam, "SchedulerFunction", event, tmp_path)

    assert answer["task"] == "skylane.generate_daily_report"
    assert answer["duplicate"] is False
    job_id = answer["job_id"]
    # The container wrote the record into the stack's table and sent the message to its queue:
    # the session's worker runs the job.
    wait_until(
        lambda: job_state(local_stack, job_id) is JobState.SUCCESS,
        120,
        f"the scheduled job {job_id} SUCCESS",
        0.5,
    )
    done = job(local_stack, job_id)
    assert done is not None
    report_key = f"reports/daily/{REPORT_DAY}.json"
    assert done.result["report_key"] == report_key
    report = local_stack.client("s3").get_object(Bucket=local_stack.reports_bucket, Key=report_key)
    assert json.loads(report["Body"].read())["day"] == REPORT_DAY


@pytest.fixture
def light_message(
    local_stack: LocalStack, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[str, dict[str, Any]]]:
    """A notification job as the API sends it to the light queue (this process as the producer,
    with ApiFunction's environment), caught in a queue of its own before the session's light
    lane could run it: its job id and the SQS message."""
    sqs = local_stack.client("sqs")
    capture = sqs.create_queue(QueueName=f"skylane-it-light-capture-{uuid4().hex[:8]}")["QueueUrl"]
    for name, value in {**local_stack.stack.api_env, **local_stack.env}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("LIGHT_QUEUE_URL", capture)
    get_settings.cache_clear()
    reset_clients()
    get_celery_app.cache_clear()
    try:
        job_id = submit_job(SEND_NOTIFICATION, {"user_id": 31, "message": "from sam local"}).job_id
        (message,) = sqs.receive_message(
            QueueUrl=capture, MaxNumberOfMessages=1, WaitTimeSeconds=5, AttributeNames=["All"]
        )["Messages"]
        yield job_id, message
    finally:
        sqs.delete_queue(QueueUrl=capture)
        monkeypatch.undo()
        get_settings.cache_clear()
        reset_clients()
        get_celery_app.cache_clear()


def test_the_light_function_runs_a_light_queue_record_to_success(
    sam: SamLocal,
    local_stack: LocalStack,
    light_message: tuple[str, dict[str, Any]],
    tmp_path: Path,
) -> None:
    job_id, message = light_message
    assert job_state(local_stack, job_id) is JobState.PENDING
    queue_name = local_stack.light_queue_url.rsplit("/", 1)[1]
    event = generate_event(
        sam, "sqs", "receive-message", "--queue-name", queue_name, "--body", message["Body"]
    )
    (generated,) = event["Records"]
    generated["messageId"] = message["MessageId"]
    generated["md5OfBody"] = hashlib.md5(message["Body"].encode()).hexdigest()  # noqa: S324

    answer = invoke(sam, "LightFunction", event, tmp_path)

    assert answer == {"batchItemFailures": []}
    done = job(local_stack, job_id)
    assert done is not None
    assert done.state is JobState.SUCCESS, done
    assert done.queue == "light"
    assert done.result["user_id"] == 31
    # The session's light lane never saw it: the function in the container ran it.
    assert job_id not in local_stack.logs.path("light").read_text()
