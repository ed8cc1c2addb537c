"""The template's schedules, and each firing's payload as EventBridge renders it."""

import re
from datetime import UTC, datetime
from typing import Any

import pytest
from rich.console import Console

from infra.schedules import (
    Firing,
    ScheduleDefinition,
    ScheduleNotFound,
    find_schedule,
    read_schedules,
    render_payload,
    schedules_table,
    with_kwargs,
)

STACK = "skylane-local"
REGION = "us-east-1"
DUE = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")


def test_the_template_has_the_three_beat_schedules() -> None:
    schedules = read_schedules()
    assert [(s.name, s.expression, s.timezone) for s in schedules] == [
        ("CleanupTempFiles", "rate(1 minute)", "UTC"),
        ("GenerateDailyReport", "cron(0 2 * * ? *)", "UTC"),
        ("SyncData", "cron(0 * * * ? *)", "UTC"),
    ]
    assert {(s.function, s.event_type, s.enabled) for s in schedules} == {
        ("SchedulerFunction", "ScheduleV2", True)
    }
    for schedule in schedules:
        assert schedule.parse(DUE).next_after(DUE) is not None


def function(events: dict[str, Any]) -> dict[str, Any]:
    return {"Type": "AWS::Serverless::Function", "Properties": {"Events": events}}


def test_every_schedule_event_of_every_function_is_read() -> None:
    template = {
        "Resources": {
            "Reporter": function(
                {
                    "Nightly": {
                        "Type": "ScheduleV2",
                        "Properties": {
                            "ScheduleExpression": "cron(0 2 * * ? *)",
                            "ScheduleExpressionTimezone": "Europe/Paris",
                            "State": "DISABLED",
                            "Name": "nightly-report",
                            "GroupName": "reports",
                        },
                    },
                    "Http": {"Type": "HttpApi", "Properties": {}},
                }
            ),
            "Legacy": function(
                {
                    "Tick": {
                        "Type": "Schedule",
                        "Properties": {"ScheduleExpression": "rate(5 minutes)"},
                    }
                }
            ),
            "Queue": {"Type": "AWS::SQS::Queue", "Properties": {}},
        }
    }
    nightly, tick = read_schedules(template)
    assert nightly == ScheduleDefinition(
        name="Nightly",
        function="Reporter",
        event_type="ScheduleV2",
        expression="cron(0 2 * * ? *)",
        timezone="Europe/Paris",
        enabled=False,
        explicit_name="nightly-report",
        group="reports",
    )
    assert nightly.arn(STACK, REGION) == (
        "arn:aws:scheduler:us-east-1:123456789012:schedule/reports/nightly-report"
    )
    assert (tick.function, tick.event_type, tick.timezone) == ("Legacy", "Schedule", "UTC")
    assert read_schedules(template, function="Legacy") == [tick]


def test_an_intrinsic_expression_is_refused_clearly() -> None:
    template = {
        "Resources": {
            "F": function(
                {"E": {"Type": "ScheduleV2", "Properties": {"ScheduleExpression": {"Ref": "Rate"}}}}
            )
        }
    }
    with pytest.raises(ValueError, match="not intrinsic functions"):
        read_schedules(template)


def test_an_unknown_schedule_names_the_known_ones() -> None:
    with pytest.raises(ScheduleNotFound, match="CleanupTempFiles, GenerateDailyReport, SyncData"):
        find_schedule(read_schedules(), "Nightly")


def test_scheduler_placeholders_are_replaced_as_scheduler_does() -> None:
    report = find_schedule(read_schedules(), "GenerateDailyReport")
    firing = Firing(schedule=report, scheduled_time=DUE)
    payload = render_payload(firing, STACK, REGION)
    assert payload == {
        "task": "skylane.generate_daily_report",
        "kwargs": {},
        "execution_id": firing.execution_id,
        "scheduled_time": "2026-11-28T02:00:00Z",
        "schedule": (
            "arn:aws:scheduler:us-east-1:123456789012:schedule/default/"
            "skylane-local-GenerateDailyReport"
        ),
    }
    assert UUID.fullmatch(firing.execution_id)


def test_each_firing_has_a_new_execution_id() -> None:
    cleanup = find_schedule(read_schedules(), "CleanupTempFiles")
    first = render_payload(Firing(cleanup, DUE), STACK, REGION)
    second = render_payload(Firing(cleanup, DUE), STACK, REGION)
    assert first["execution_id"] != second["execution_id"]


def test_the_attempt_number_placeholder() -> None:
    schedule = ScheduleDefinition(
        name="Retry",
        function="F",
        event_type="ScheduleV2",
        expression="rate(1 hour)",
        input='{"attempt": <aws.scheduler.attempt-number>, "id": "<aws.scheduler.execution-id>"}',
    )
    payload = render_payload(Firing(schedule, DUE, execution_id="fixed", attempt=2), STACK, REGION)
    assert payload == {"attempt": 2, "id": "fixed"}


def test_a_rule_without_input_delivers_the_scheduled_event_envelope() -> None:
    rule = ScheduleDefinition(
        name="Tick", function="F", event_type="Schedule", expression="rate(5 minutes)"
    )
    payload = render_payload(Firing(rule, DUE, execution_id="e1"), STACK, REGION)
    assert payload["detail-type"] == "Scheduled Event"
    assert payload["id"] == "e1"
    assert payload["time"] == "2026-11-28T02:00:00Z"
    assert payload["resources"] == ["arn:aws:events:us-east-1:123456789012:rule/skylane-local-Tick"]
    with_input = ScheduleDefinition(
        name="Tick",
        function="F",
        event_type="Schedule",
        expression="rate(5 minutes)",
        input='{"task": "t", "id": "<aws.scheduler.execution-id>"}',
    )
    # Rules deliver their Input verbatim: the placeholders are Scheduler's alone.
    assert (
        render_payload(Firing(with_input, DUE), STACK, REGION)["id"]
        == "<aws.scheduler.execution-id>"
    )


def test_kwargs_are_replaced_in_either_shape() -> None:
    assert with_kwargs({"task": "t", "kwargs": {}}, {"day": "2026-11-27"}) == {
        "task": "t",
        "kwargs": {"day": "2026-11-27"},
    }
    envelope = {"detail-type": "Scheduled Event", "detail": {"task": "t"}}
    assert with_kwargs(envelope, {"a": 1})["detail"] == {"task": "t", "kwargs": {"a": 1}}
    with pytest.raises(ValueError, match="not an object"):
        with_kwargs([1], {})


def test_the_table_lists_the_next_firings() -> None:
    console = Console(width=200, record=True)
    console.print(schedules_table(read_schedules(), start=DUE, now=DUE, count=3))
    text = console.export_text()
    assert "rate(1 minute)" in text
    assert "2026-11-28T02:01:00Z" in text  # a rate schedule counts from its start
    assert "2026-11-29T02:00:00Z" in text  # the daily report's next run after 02:00
    assert "cron(0 * * * ? *)" in text
