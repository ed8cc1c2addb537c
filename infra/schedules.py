"""The template's schedules, and the payload one firing delivers, rendered as AWS renders it.

Read straight from template.yaml (no stack needed): ``skylane schedules`` lists them on a
machine where nothing runs. infra.template is not imported for it: it brings samtranslator and
moto along, seconds of start-up for a listing.
"""

import json
import shutil
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cfn_tools import dump_json, load_yaml
from rich.console import Console
from rich.table import Table

from infra.processes import REPO_ROOT
from skylane.schedules.expressions import ScheduleExpression, next_occurrences, parse

TEMPLATE_PATH = REPO_ROOT / "template.yaml"
# ScheduleV2 is EventBridge Scheduler (time zones, placeholders); Schedule an EventBridge rule.
SCHEDULER_EVENT = "ScheduleV2"
RULE_EVENT = "Schedule"
# moto's account, for a payload rendered with no emulator to ask; the runners pass the account
# the emulator's STS reports (infra/function_runner.py's emulator_account).
LOCAL_ACCOUNT = "123456789012"
DEFAULT_GROUP = "default"
TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


class ScheduleNotFound(LookupError):
    pass


@dataclass(frozen=True)
class ScheduleDefinition:
    """One schedule event of a function in the template."""

    name: str
    function: str
    event_type: str
    expression: str
    timezone: str = "UTC"
    input: str | None = None
    enabled: bool = True
    # The Name property; CloudFormation derives one from the stack when it is absent.
    explicit_name: str | None = None
    group: str = DEFAULT_GROUP

    def parse(self, start: datetime | None = None) -> ScheduleExpression:
        return parse(self.expression, self.timezone, start)

    def resource_name(self, stack_name: str) -> str:
        return self.explicit_name or f"{stack_name}-{self.name}"

    def arn(self, stack_name: str, region: str, account: str = LOCAL_ACCOUNT) -> str:
        if self.event_type == RULE_EVENT:
            return f"arn:aws:events:{region}:{account}:rule/{self.resource_name(stack_name)}"
        return (
            f"arn:aws:scheduler:{region}:{account}:schedule/"
            f"{self.group}/{self.resource_name(stack_name)}"
        )


@dataclass(frozen=True)
class Firing:
    """One delivery of a schedule: what Scheduler's context placeholders stand for."""

    schedule: ScheduleDefinition
    scheduled_time: datetime
    execution_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    attempt: int = 1


def load_template(path: Path = TEMPLATE_PATH) -> dict[str, Any]:
    # The short intrinsics (!Ref, !GetAtt) become their JSON form, as in infra.template.
    loaded: dict[str, Any] = json.loads(dump_json(load_yaml(path.read_text())))
    return loaded


def _text(value: object, what: str) -> str:
    if not isinstance(value, str):
        raise ValueError(
            f"{what} is {value!r}: the local stack fires schedules whose expression and input "
            "are plain strings in the template, not intrinsic functions"
        )
    return value


def read_schedules(
    template: Mapping[str, Any] | None = None, function: str | None = None
) -> list[ScheduleDefinition]:
    """Every Schedule and ScheduleV2 event of every function (or of ``function``), in order."""
    template = load_template() if template is None else template
    schedules = []
    for logical_id, resource in template.get("Resources", {}).items():
        if resource.get("Type") != "AWS::Serverless::Function":
            continue
        if function is not None and logical_id != function:
            continue
        events = resource.get("Properties", {}).get("Events", {})
        for name, event in events.items():
            event_type = event.get("Type")
            if event_type not in (SCHEDULER_EVENT, RULE_EVENT):
                continue
            properties = event.get("Properties", {})
            where = f"{logical_id}.Events.{name}"
            raw_input = properties.get("Input")
            state = properties.get("State", "ENABLED")
            schedules.append(
                ScheduleDefinition(
                    name=name,
                    function=logical_id,
                    event_type=event_type,
                    expression=_text(properties.get("ScheduleExpression"), f"{where} expression"),
                    # Rules have no time zone: they evaluate cron in UTC.
                    timezone=_text(properties.get("ScheduleExpressionTimezone", "UTC"), where),
                    input=None if raw_input is None else _text(raw_input, f"{where}.Input"),
                    enabled=properties.get("Enabled", True) is not False and state != "DISABLED",
                    explicit_name=properties.get("Name"),
                    group=properties.get("GroupName", DEFAULT_GROUP),
                )
            )
    return schedules


def find_schedule(schedules: Sequence[ScheduleDefinition], name: str) -> ScheduleDefinition:
    for schedule in schedules:
        if schedule.name == name:
            return schedule
    known = ", ".join(schedule.name for schedule in schedules) or "none"
    raise ScheduleNotFound(f"no schedule {name!r} in the template (schedules: {known})")


def format_time(instant: datetime) -> str:
    """Scheduler's form of a time, e.g. 2026-11-28T02:00:00Z."""
    return instant.astimezone(UTC).strftime(TIME_FORMAT)


def render_payload(
    firing: Firing, stack_name: str, region: str, account: str = LOCAL_ACCOUNT
) -> Any:
    """The event the function receives for ``firing``, as EventBridge builds it."""
    schedule = firing.schedule
    arn = schedule.arn(stack_name, region, account)
    if schedule.event_type == RULE_EVENT:
        # A rule delivers its Input as it is, or else the "Scheduled Event" envelope.
        if schedule.input is not None:
            return json.loads(schedule.input)
        return {
            "version": "0",
            "id": firing.execution_id,
            "detail-type": "Scheduled Event",
            "source": "aws.events",
            "account": account,
            "time": format_time(firing.scheduled_time),
            "region": region,
            "resources": [arn],
            "detail": {},
        }
    # Scheduler replaces its context placeholders in the Input text, then delivers that text.
    text = schedule.input if schedule.input is not None else "{}"
    for placeholder, value in {
        "<aws.scheduler.execution-id>": firing.execution_id,
        "<aws.scheduler.scheduled-time>": format_time(firing.scheduled_time),
        "<aws.scheduler.schedule-arn>": arn,
        "<aws.scheduler.attempt-number>": str(firing.attempt),
    }.items():
        text = text.replace(placeholder, value)
    return json.loads(text)


def with_kwargs(payload: Any, kwargs: Mapping[str, Any]) -> Any:
    """The payload with its task's keyword arguments replaced (skylane's input convention)."""
    if not isinstance(payload, dict):
        raise ValueError(f"cannot set kwargs in a payload that is not an object: {payload!r}")
    if payload.get("detail-type") == "Scheduled Event":
        return {**payload, "detail": {**payload.get("detail", {}), "kwargs": dict(kwargs)}}
    return {**payload, "kwargs": dict(kwargs)}


def schedules_table(
    schedules: Sequence[ScheduleDefinition], start: datetime, now: datetime, count: int = 3
) -> Table:
    """Each schedule with its next ``count`` firings (rate schedules counted from ``start``)."""
    table = Table(title=f"Schedules (next {count} firings, UTC)", title_justify="left")
    for column in ("schedule", "function", "expression", "time zone", "next firings"):
        table.add_column(column, no_wrap=True)
    for schedule in schedules:
        upcoming = next_occurrences(schedule.parse(start), now, count)
        when = "disabled" if not schedule.enabled else "\n".join(map(format_time, upcoming))
        table.add_row(
            schedule.name,
            schedule.function,
            schedule.expression,
            schedule.timezone,
            when or "never again",
        )
    return table


def print_table(table: Table) -> None:
    # A pipe (make up's prefixed output, a test's log) gets 120 columns rather than rich's 80.
    Console(width=shutil.get_terminal_size((120, 24)).columns).print(table)
