"""A local firing end to end on moto's mock: the payload rendered from template.yaml goes
through the scheduler function's real handler, and a redelivery makes no second job."""

from datetime import UTC, datetime
from typing import Any

import boto3

from infra.function_runner import function_invoker
from infra.schedules import Firing, find_schedule, load_template, read_schedules, render_payload
from skylane.jobs.store import JobStore
from tests.unit.conftest import REGION

DUE = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)


def queued_ids(queue_url: str) -> list[str]:
    sqs = boto3.client("sqs", region_name=REGION)
    messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", [])
    return [m["MessageId"] for m in messages]


def test_the_same_execution_id_twice_makes_one_job(aws: dict[str, Any]) -> None:
    template = load_template()
    invoke = function_invoker(template, "SchedulerFunction", "skylane-test-Scheduler", REGION)
    report = find_schedule(read_schedules(template), "GenerateDailyReport")
    firing = Firing(schedule=report, scheduled_time=DUE)

    first = invoke(render_payload(firing, "skylane-test", REGION))
    # Scheduler delivers at least once: the same execution, delivered again.
    again = invoke(render_payload(firing, "skylane-test", REGION))

    assert first["duplicate"] is False
    assert again == {**first, "duplicate": True}
    record = JobStore.from_settings().get(first["job_id"])
    assert record is not None
    assert record.task == "skylane.generate_daily_report"
    assert len(queued_ids(aws["DEFAULT_QUEUE_URL"])) == 1


def test_the_next_firing_is_a_new_job(aws: dict[str, Any]) -> None:
    template = load_template()
    invoke = function_invoker(template, "SchedulerFunction", "skylane-test-Scheduler", REGION)
    cleanup = find_schedule(read_schedules(template), "CleanupTempFiles")
    answers = [
        invoke(render_payload(Firing(schedule=cleanup, scheduled_time=DUE), "skylane-test", REGION))
        for _ in range(2)
    ]
    assert answers[0]["job_id"] != answers[1]["job_id"]
    assert not any(answer["duplicate"] for answer in answers)
