"""The local runner's part for runtime schedules, on moto's in-process Scheduler, with a clock."""

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from moto import mock_aws

from infra.runtime_schedule_runner import RuntimeScheduleLoop

GROUP = "skylane-test-schedules"
TARGET = {
    "Arn": "arn:aws:lambda:us-east-1:123456789012:function:skylane-test-SchedulerFunction",
    "RoleArn": "arn:aws:iam::123456789012:role/invoke",
    "Input": json.dumps(
        {
            "task": "skylane.sync_data",
            "kwargs": {},
            "execution_id": "<aws.scheduler.execution-id>",
            "scheduled_time": "<aws.scheduler.scheduled-time>",
            "schedule": "<aws.scheduler.schedule-arn>",
        }
    ),
}


@pytest.fixture
def scheduler(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        client = boto3.client("scheduler", region_name="us-east-1")
        client.create_schedule_group(Name=GROUP)
        yield client


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


def loop(scheduler: Any, clock: Clock) -> tuple[RuntimeScheduleLoop, list[Any]]:
    invoked: list[Any] = []
    runner = RuntimeScheduleLoop(
        scheduler,
        GROUP,
        "skylane-test",
        "us-east-1",
        "123456789012",
        invoke=lambda payload: invoked.append(payload) or {"job_id": "j"},
        report=lambda *_: None,
        clock=clock,
    )
    return runner, invoked


def create(scheduler: Any, name: str, expression: str, **extra: Any) -> None:
    scheduler.create_schedule(
        Name=name,
        GroupName=GROUP,
        ScheduleExpression=expression,
        FlexibleTimeWindow={"Mode": "OFF"},
        Target=TARGET,
        **extra,
    )


def test_a_new_rate_schedule_fires_at_once_with_the_payload_scheduler_renders(
    scheduler: Any,
) -> None:
    clock = Clock()
    runner, invoked = loop(scheduler, clock)
    create(scheduler, "every-minute", "rate(1 minute)")
    clock.now += timedelta(seconds=1)
    runner.refresh()
    runner.fire_due()
    assert len(invoked) == 1
    payload = invoked[0]
    assert payload["task"] == "skylane.sync_data"
    assert payload["schedule"].endswith(f":schedule/{GROUP}/every-minute")
    assert "<aws." not in json.dumps(payload)
    # Not again until a minute later.
    clock.now += timedelta(seconds=30)
    runner.refresh()
    runner.fire_due()
    assert len(invoked) == 1
    clock.now += timedelta(seconds=31)
    runner.fire_due()
    assert len(invoked) == 2


def test_a_paused_schedule_does_not_fire_and_a_deleted_one_is_forgotten(scheduler: Any) -> None:
    clock = Clock()
    runner, invoked = loop(scheduler, clock)
    create(scheduler, "paused", "rate(1 minute)", State="DISABLED")
    create(scheduler, "gone", "rate(1 minute)")
    scheduler.delete_schedule(Name="gone", GroupName=GROUP)
    clock.now += timedelta(minutes=5)
    runner.refresh()
    runner.fire_due()
    assert invoked == []


def test_a_one_off_runs_once_then_is_deleted(scheduler: Any) -> None:
    clock = Clock()
    runner, invoked = loop(scheduler, clock)
    when = (clock.now + timedelta(seconds=10)).replace(microsecond=0)
    create(
        scheduler,
        "once",
        f"at({when:%Y-%m-%dT%H:%M:%S})",
        ActionAfterCompletion="DELETE",
    )
    runner.refresh()
    runner.fire_due()
    assert invoked == []
    clock.now = when
    runner.fire_due()
    assert len(invoked) == 1
    assert scheduler.list_schedules(GroupName=GROUP)["Schedules"] == []
    clock.now += timedelta(minutes=1)
    runner.refresh()
    runner.fire_due()
    assert len(invoked) == 1
