"""One job's log lines across the API, scheduler and worker, from CloudWatch Logs.

Pure logic over a ``logs`` client (emulator or AWS), shared by ``skylane logs`` and the
dashboard. ``COMPONENTS`` is the one table of the components' log groups (stack outputs); the
local log shipping (infra/log_shipping.py) reads it too.
"""

import json
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

# Powertools' level names, lowest first; a level filter keeps its level and those after it.
LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
# Keys every line has or that the columns already show; the rest are the line's own keys.
_SHOWN_ELSEWHERE = {"level", "message", "timestamp"}
# How far back each --follow poll looks again: a line can reach CloudWatch Logs a few seconds
# after its own timestamp (the shipper's batching locally, Lambda's and awslogs' buffering on AWS).
FOLLOW_LOOKBACK = timedelta(seconds=30)


@dataclass(frozen=True)
class Component:
    """A part of the stack that logs: its name in commands, its log group's stack output."""

    name: str
    log_group_output: str
    # How its log streams are named: one per Lambda execution environment, or awslogs' per task.
    runs_on: Literal["lambda", "ecs"]


COMPONENTS: tuple[Component, ...] = (
    Component("api", "ApiLogGroupName", "lambda"),
    Component("worker", "WorkerLogGroupName", "ecs"),
    Component("scheduler", "SchedulerLogGroupName", "lambda"),
    Component("light", "LightLogGroupName", "lambda"),
)


@dataclass(frozen=True)
class LogLine:
    timestamp: datetime
    component: str
    # None for a line that is not a JSON object (a traceback, uvicorn's access line, ...).
    level: str | None
    message: str
    keys: dict[str, Any] = field(default_factory=dict)
    event_id: str = ""
    stream: str = ""

    @property
    def key(self) -> tuple[str, str, str]:
        """What tells two events apart, whatever the backend's event id scheme."""
        return self.component, self.stream, self.event_id


def log_groups(
    outputs: Mapping[str, str], components: Iterable[Component] = COMPONENTS
) -> dict[str, str]:
    """Component name -> log group name, for the components this stack has."""
    return {
        c.name: outputs[c.log_group_output] for c in components if c.log_group_output in outputs
    }


def parse_timestamp(value: object) -> datetime | None:
    """A JSON line's ``timestamp``: Powertools' ``2026-11-29 01:35:57,617+0000``, ISO 8601, or
    epoch seconds/milliseconds. None when it is none of those."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        seconds = value / 1000 if value > 1e11 else value
        try:
            return datetime.fromtimestamp(seconds, UTC)
        except (OverflowError, OSError, ValueError):
            return None
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace(",", ".", 1))
    except ValueError:
        return None
    # A timestamp without an offset is UTC, as Lambda's and ECS's clocks are.
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def parse_json_line(line: str) -> dict[str, Any] | None:
    if not line.startswith("{"):
        return None
    try:
        value = json.loads(line)
    except json.JSONDecodeError:
        return None
    return value if isinstance(value, dict) else None


def from_millis(millis: int) -> datetime:
    return datetime.fromtimestamp(millis / 1000, UTC)


def to_millis(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def parse_event(component: str, event: Mapping[str, Any]) -> LogLine:
    """A FilterLogEvents event as a LogLine; its time is the event's (the line's own)."""
    text = str(event.get("message", "")).rstrip("\n")
    data = parse_json_line(text)
    timestamp = from_millis(int(event.get("timestamp", 0)))
    event_id = str(event.get("eventId", ""))
    stream = str(event.get("logStreamName", ""))
    if data is None:
        return LogLine(timestamp, component, None, text, {}, event_id, stream)
    level = data.get("level")
    return LogLine(
        timestamp=timestamp,
        component=component,
        level=str(level).upper() if level is not None else None,
        message=str(data.get("message", "")),
        keys={k: v for k, v in data.items() if k not in _SHOWN_ELSEWHERE},
        event_id=event_id,
        stream=stream,
    )


def level_at_least(line: LogLine, minimum: str | None) -> bool:
    """True when no minimum is asked for, or the line's level is it or more severe.

    A line without a level (not JSON) is left out by any level filter: it cannot be placed.
    """
    if minimum is None:
        return True
    if line.level not in LEVELS:
        return False
    return LEVELS.index(line.level) >= LEVELS.index(minimum.upper())


def merge(lines: Iterable[LogLine]) -> list[LogLine]:
    """Every component's lines in one time order; equal times keep each group's own order."""
    return sorted(lines, key=lambda line: line.timestamp)


def job_filter_pattern(job_id: str) -> str:
    # A quoted term matches the id anywhere in the line, on AWS and in moto alike; quoting is
    # required for a term with hyphens.
    return '"' + job_id.replace('"', "") + '"'


@dataclass(frozen=True)
class Bounds:
    """How much one search may read of each log group (so a caller that must answer fast can)."""

    max_events: int = 200
    max_pages: int = 5


class Truncated(Exception):
    """A group had more matching events than the bounds let a search read."""


def _events(
    logs: Any,
    group: str,
    pattern: str | None,
    start: datetime | None,
    end: datetime | None,
    bounds: Bounds | None = None,
) -> Iterator[dict[str, Any]]:
    """The group's matching events, oldest first, as FilterLogEvents pages them; with bounds,
    at most ``bounds.max_events`` of them from at most ``bounds.max_pages`` pages, after which
    it raises Truncated (a page may hold no events yet still have a next one, so the pages are
    capped as well as the events)."""
    request: dict[str, Any] = {"logGroupName": group}
    if pattern:
        request["filterPattern"] = pattern
    if start is not None:
        request["startTime"] = to_millis(start)
    if end is not None:
        request["endTime"] = to_millis(end)
    if bounds is None:
        for page in logs.get_paginator("filter_log_events").paginate(**request):
            yield from page.get("events", [])
        return
    given = 0
    for _ in range(bounds.max_pages):
        # Never ask for more than is still wanted; one more, to know whether there is more.
        request["limit"] = min(bounds.max_events - given + 1, 10_000)
        page = logs.filter_log_events(**request)
        for event in page.get("events", []):
            if given == bounds.max_events:
                raise Truncated(group)
            given += 1
            yield event
        token = page.get("nextToken")
        if not token:
            return
        request["nextToken"] = token
    raise Truncated(group)


def search(
    logs: Any,
    groups: Mapping[str, str],
    job_id: str | None = None,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    level: str | None = None,
    components: Sequence[str] | None = None,
) -> list[LogLine]:
    """The lines of ``job_id`` (or all lines) in the chosen components' groups, in time order.

    A group that does not exist (nothing deployed yet) has no lines.
    """
    lines, _ = search_bounded(
        logs, groups, job_id, since=since, until=until, level=level, components=components
    )
    return lines


def search_bounded(
    logs: Any,
    groups: Mapping[str, str],
    job_id: str | None = None,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    level: str | None = None,
    components: Sequence[str] | None = None,
    bounds: Bounds | None = None,
) -> tuple[list[LogLine], bool]:
    """``search``, reading each group only as far as ``bounds`` allow: the lines found, and
    whether every group was read to its end (False: some group had more than the bounds).

    With bounds, at most ``bounds.max_events`` lines come back: the earliest ones.
    """
    pattern = job_filter_pattern(job_id) if job_id else None
    found: list[LogLine] = []
    complete = True
    for component, group in groups.items():
        if components and component not in components:
            continue
        events: list[dict[str, Any]] = []
        try:
            for event in _events(logs, group, pattern, since, until, bounds):
                events.append(event)
        except logs.exceptions.ResourceNotFoundException:
            continue
        except Truncated:
            complete = False
        for event in events:
            line = parse_event(component, event)
            # The pattern already chose these; checking again keeps an emulator that ignores
            # a pattern from showing other jobs' lines.
            if job_id and job_id not in str(event.get("message", "")):
                continue
            if level_at_least(line, level):
                found.append(line)
    merged = merge(found)
    if bounds is not None and len(merged) > bounds.max_events:
        # Each group gave its earliest lines, so the earliest of them all are among these.
        return merged[: bounds.max_events], False
    return merged, complete


def follow(
    logs: Any,
    groups: Mapping[str, str],
    job_id: str | None = None,
    *,
    since: datetime | None = None,
    level: str | None = None,
    components: Sequence[str] | None = None,
    poll_seconds: float = 1.0,
    sleep: Callable[[float], None] = time.sleep,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> Iterator[LogLine]:
    """New lines as they arrive, each once, until the caller stops iterating; without
    ``since``, the last FOLLOW_LOOKBACK's lines first (``aws logs tail`` shows some too).

    Each poll asks again from a little before the newest line seen (lines arrive late and out
    of order across components) and skips the event ids it already gave.
    """
    start = since or now() - FOLLOW_LOOKBACK
    seen: dict[tuple[str, str, str], datetime] = {}
    while True:
        fresh = [
            line
            for line in search(
                logs, groups, job_id, since=start, level=level, components=components
            )
            if line.key not in seen
        ]
        for line in fresh:
            seen[line.key] = line.timestamp
            yield line
        newest = max(seen.values(), default=start)
        start = max(start, newest - FOLLOW_LOOKBACK)
        # Ids older than the window cannot come back; forget them so memory stays bounded.
        seen = {key: at for key, at in seen.items() if at >= start}
        sleep(poll_seconds)


def parse_since(text: str, now: datetime | None = None) -> datetime:
    """``10m``, ``2h``, ``30s``, ``7d`` ago, or an ISO 8601 time (UTC unless it says)."""
    now = now or datetime.now(UTC)
    units = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}
    value = text.strip()
    if value[-1:] in units and value[:-1].isdigit():
        return now - timedelta(**{units[value[-1]]: int(value[:-1])})
    moment = parse_timestamp(value)
    if moment is None:
        raise ValueError(f"--since {text!r}: expected 30s, 10m, 2h, 7d or an ISO 8601 time")
    return moment
