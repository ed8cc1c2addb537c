"""EventBridge Scheduler's part for the runtime schedules (POST /schedules), locally.

moto stores the group's schedules but never fires them. This loop reads them every POLL_SECONDS
as the Scheduler service would (SERVICE_KEY_VARIABLES' credentials), fires each when due with
the payload Scheduler renders from its target's input, and deletes a finished one whose
ActionAfterCompletion is DELETE; a changed schedule counts its next run from the change.
"""

import os
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3

from infra.emulator import AwsEndpoint
from infra.function_runner import Invoke
from infra.processes import SCHEDULER_FUNCTION
from infra.schedules import SCHEDULER_EVENT, Firing, ScheduleDefinition, render_payload
from skylane.schedules.expressions import ScheduleExpression, ScheduleExpressionError, parse

POLL_SECONDS = 1.0
GROUP_VARIABLE = "SCHEDULE_GROUP"
SERVICE_KEY_VARIABLES = ("SCHEDULER_SERVICE_ACCESS_KEY_ID", "SCHEDULER_SERVICE_SECRET_ACCESS_KEY")


def service_env(service: AwsEndpoint) -> dict[str, str]:
    """What the runner reads the schedules with (not AWS_*: the handler must not see them)."""
    key_id, secret = SERVICE_KEY_VARIABLES
    return {key_id: service.access_key_id, secret: service.secret_access_key}


def service_client(environ: Mapping[str, str] = os.environ, service: str = "scheduler") -> Any:
    key_id, secret = (environ.get(name) for name in SERVICE_KEY_VARIABLES)
    if not (key_id and secret):
        return boto3.client(service)  # type: ignore[call-overload]
    return boto3.client(  # type: ignore[call-overload]
        service, aws_access_key_id=key_id, aws_secret_access_key=secret, aws_session_token=None
    )


def _instant(value: Any) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.astimezone(UTC)
    return datetime.fromtimestamp(float(value), UTC)


@dataclass
class Tracked:
    definition: ScheduleDefinition
    expression: ScheduleExpression
    modified: datetime | None
    end: datetime | None
    delete_after: bool
    due: datetime | None


def track(answer: Mapping[str, Any], group: str, now: datetime) -> Tracked:
    """A GetSchedule answer, with its next run counted from its last change (or its start)."""
    start = _instant(answer.get("StartDate"))
    modified = _instant(answer.get("LastModificationDate")) or now
    expression = parse(
        answer["ScheduleExpression"],
        answer.get("ScheduleExpressionTimezone") or "UTC",
        start or _instant(answer.get("CreationDate")) or modified,
    )
    definition = ScheduleDefinition(
        name=answer["Name"],
        function=SCHEDULER_FUNCTION,
        event_type=SCHEDULER_EVENT,
        expression=answer["ScheduleExpression"],
        timezone=answer.get("ScheduleExpressionTimezone") or "UTC",
        input=answer["Target"].get("Input"),
        enabled=answer.get("State", "ENABLED") == "ENABLED",
        explicit_name=answer["Name"],
        group=group,
    )
    since = max(modified, start) if start else modified
    end = _instant(answer.get("EndDate"))
    tracked = Tracked(
        definition,
        expression,
        modified,
        end,
        delete_after=answer.get("ActionAfterCompletion") == "DELETE",
        due=None,
    )
    tracked.due = _bounded(tracked, expression.next_after(since - timedelta.resolution))
    return tracked


def _bounded(tracked: Tracked, when: datetime | None) -> datetime | None:
    if when is None or (tracked.end is not None and when > tracked.end):
        return None
    return when


@dataclass
class RuntimeScheduleLoop:
    scheduler: Any
    group: str
    stack_name: str
    region: str
    account: str
    invoke: Invoke
    report: Callable[[Firing, datetime, Any, BaseException | None], None]
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)

    def __post_init__(self) -> None:
        self.tracked: dict[str, Tracked] = {}

    def refresh(self) -> None:
        """Read the group's schedules again: new ones tracked, changed ones recounted."""
        now = self.clock()
        names = []
        for page in self.scheduler.get_paginator("list_schedules").paginate(GroupName=self.group):
            names += [summary["Name"] for summary in page["Schedules"]]
        for gone in set(self.tracked) - set(names):
            del self.tracked[gone]
        for name in names:
            try:
                answer = self.scheduler.get_schedule(Name=name, GroupName=self.group)
            except self.scheduler.exceptions.ResourceNotFoundException:
                self.tracked.pop(name, None)
                continue
            known = self.tracked.get(name)
            modified = _instant(answer.get("LastModificationDate"))
            if known is not None and known.modified == modified:
                continue
            try:
                self.tracked[name] = track(answer, self.group, now)
            except ScheduleExpressionError as error:
                print(f"{name}: not fired, EventBridge would refuse it: {error}", flush=True)
                self.tracked.pop(name, None)

    def fire_due(self) -> float:
        """Fire what is due; the seconds until the next run (at most POLL_SECONDS)."""
        wait = POLL_SECONDS
        for name, tracked in list(self.tracked.items()):
            if not tracked.definition.enabled or tracked.due is None:
                continue
            now = self.clock()
            if tracked.due > now:
                wait = min(wait, (tracked.due - now).total_seconds())
                continue
            firing = Firing(schedule=tracked.definition, scheduled_time=tracked.due)
            answer: Any = None
            failure: BaseException | None = None
            try:
                answer = self.invoke(
                    render_payload(firing, self.stack_name, self.region, self.account)
                )
            except Exception as error:
                failure = error
            self.report(firing, self.clock(), answer, failure)
            tracked.due = _bounded(
                tracked, tracked.expression.next_after(max(tracked.due, self.clock()))
            )
            if tracked.due is None and tracked.delete_after:
                self.scheduler.delete_schedule(Name=name, GroupName=self.group)
                del self.tracked[name]
                print(f"{name}: done, deleted (ActionAfterCompletion=DELETE)", flush=True)
        return wait

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                self.refresh()
            except Exception as error:  # the emulator restarting, say: try again soon
                print(f"runtime schedules not read: {error!r}", flush=True)
            stop.wait(max(0.05, self.fire_due()))
