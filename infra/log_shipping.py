"""Every local child's output lines into the emulator's CloudWatch Logs, as AWS would keep them.

``CloudWatchShipping`` passes each line on to the sink it wraps and queues it for the log group
of the child's component (log_search.COMPONENTS), sent about once a second. Queueing never
blocks the child's reader: with the emulator slow or down, lines are dropped and counted.
"""

import contextlib
import queue
import sys
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from botocore.config import Config

from infra.emulator import AwsEndpoint
from infra.processes import OutputSink
from skylane.observability.log_search import (
    COMPONENTS,
    Component,
    parse_json_line,
    parse_timestamp,
    to_millis,
)

FLUSH_SECONDS = 1.0
# PutLogEvents' limits: events and bytes per call (each event counts 26 bytes over its
# message), one message's size, and the span of one call's timestamps.
MAX_BATCH_EVENTS = 10_000
MAX_BATCH_BYTES = 1_048_576
EVENT_OVERHEAD_BYTES = 26
MAX_EVENT_BYTES = 262_144 - EVENT_OVERHEAD_BYTES
MAX_BATCH_SPAN_MS = 24 * 60 * 60 * 1000
# Lines waiting to be sent; beyond this the emulator is not keeping up and lines are dropped.
MAX_PENDING_LINES = 50_000
# The shipper gives up on a call quickly rather than piling up behind a stuck emulator.
CLIENT_CONFIG = Config(connect_timeout=2, read_timeout=5, retries={"max_attempts": 1})


@dataclass(frozen=True)
class Event:
    group: str
    stream: str
    timestamp: int
    message: str


def component_of(child: str, components: Sequence[Component] = COMPONENTS) -> Component | None:
    """``api``, ``worker-3``, ``scheduler``...: the component whose name the child's starts with
    (the longest such name), or None for a child that belongs to none."""
    matches = [c for c in components if child == c.name or child.startswith(c.name)]
    return max(matches, key=lambda c: len(c.name), default=None)


def stream_name(component: Component, started: datetime, instance_id: str) -> str:
    """The stream AWS would write: Lambda's ``2026/11/29/[$LATEST]<32 hex>`` per execution
    environment, ECS awslogs' ``<prefix>/<container>/<task id>`` per task (both ``worker``
    in template.yaml)."""
    if component.runs_on == "lambda":
        return f"{started:%Y/%m/%d}/[$LATEST]{instance_id}"
    return f"{component.name}/{component.name}/{instance_id}"


def event_timestamp(line: str, now: datetime) -> int:
    """Milliseconds of the JSON line's own ``timestamp``, else of ``now``."""
    data = parse_json_line(line)
    moment = parse_timestamp(data.get("timestamp")) if data is not None else None
    return to_millis(moment or now)


def truncate(message: str) -> str:
    encoded = message.encode("utf-8")
    if len(encoded) <= MAX_EVENT_BYTES:
        return message
    return encoded[:MAX_EVENT_BYTES].decode("utf-8", errors="ignore")


def event_size(event: Event) -> int:
    return len(event.message.encode("utf-8")) + EVENT_OVERHEAD_BYTES


def batches(events: Sequence[Event]) -> list[list[Event]]:
    """One stream's events in chronological order, cut where PutLogEvents' limits require."""
    result: list[list[Event]] = []
    current: list[Event] = []
    size = 0
    for event in sorted(events, key=lambda e: e.timestamp):
        grown = size + event_size(event)
        if current and (
            len(current) >= MAX_BATCH_EVENTS
            or grown > MAX_BATCH_BYTES
            or event.timestamp - current[0].timestamp > MAX_BATCH_SPAN_MS
        ):
            result.append(current)
            current, grown = [], event_size(event)
        current.append(event)
        size = grown
    if current:
        result.append(current)
    return result


def ensure_log_groups(logs: Any, groups: Sequence[str]) -> list[str]:
    """Create the groups the emulator's CloudFormation did not (moto's does); the ones made."""
    created = []
    for group in groups:
        found = logs.describe_log_groups(logGroupNamePrefix=group).get("logGroups", [])
        if not any(g["logGroupName"] == group for g in found):
            with contextlib.suppress(logs.exceptions.ResourceAlreadyExistsException):
                logs.create_log_group(logGroupName=group)
            created.append(group)
    return created


def _warn_on_stderr(message: str) -> None:
    print(f"log shipping: {message}", file=sys.stderr, flush=True)


class CloudWatchShipping:
    def __init__(
        self,
        inner: OutputSink,
        logs: Any,
        groups: Mapping[str, str],
        components: Sequence[Component] = COMPONENTS,
        flush_seconds: float = FLUSH_SECONDS,
        max_pending: int = MAX_PENDING_LINES,
        warn: Callable[[str], None] = _warn_on_stderr,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._inner = inner
        self._logs = logs
        self._groups = dict(groups)
        self._components = [c for c in components if c.name in self._groups]
        self._flush_seconds = flush_seconds
        self._warn = warn
        self._clock = clock
        self._pending: queue.Queue[Event] = queue.Queue(maxsize=max_pending)
        self._streams: dict[str, str] = {}
        self._created_streams: set[tuple[str, str]] = set()
        self._lock = threading.Lock()
        self.shipped = 0
        self.dropped = 0
        self._failing = False
        self._closed = threading.Event()
        self._thread = threading.Thread(target=self._run, name="log-shipping", daemon=True)
        self._thread.start()

    def stream_of(self, child: str) -> tuple[str, str] | None:
        """The (group, stream) a child's lines go to: one stream per child, as one per
        Lambda execution environment or ECS task."""
        component = component_of(child, self._components)
        if component is None:
            return None
        with self._lock:
            stream = self._streams.get(child)
            if stream is None:
                stream = stream_name(component, self._clock(), uuid.uuid4().hex)
                self._streams[child] = stream
        return self._groups[component.name], stream

    def write_line(self, name: str, line: str) -> None:
        self._inner.write_line(name, line)
        # CloudWatch Logs refuses an empty message; awslogs and Lambda skip empty lines too.
        if not line:
            return
        target = self.stream_of(name)
        if target is None or self._closed.is_set():
            return
        event = Event(*target, event_timestamp(line, self._clock()), truncate(line))
        try:
            self._pending.put_nowait(event)
        except queue.Full:
            self._drop(1, "the emulator is not keeping up")

    def _drop(self, count: int, reason: str) -> None:
        with self._lock:
            self.dropped += count
            first = not self._failing
            self._failing = True
        if first:
            self._warn(f"dropping lines ({reason}); {self.dropped} dropped so far")

    def _take_pending(self, wait: float) -> list[Event]:
        events: list[Event] = []
        with contextlib.suppress(queue.Empty):
            events.append(self._pending.get(timeout=wait))
            while True:
                events.append(self._pending.get_nowait())
        return events

    def _run(self) -> None:
        while not self._closed.is_set():
            deadline = time.monotonic() + self._flush_seconds
            events: list[Event] = []
            while (remaining := deadline - time.monotonic()) > 0 and not self._closed.is_set():
                events += self._take_pending(min(remaining, 0.2))
            self.send(events)

    def send(self, events: Sequence[Event]) -> None:
        """PutLogEvents for each stream's events; a failed call drops its batch, counted."""
        by_stream: dict[tuple[str, str], list[Event]] = {}
        for event in events:
            by_stream.setdefault((event.group, event.stream), []).append(event)
        for (group, stream), stream_events in by_stream.items():
            for batch in batches(stream_events):
                try:
                    self._put(group, stream, batch)
                except Exception as error:
                    # Whatever the emulator does (down, slow, refusing), the shipper goes on.
                    self._drop(len(batch), f"{type(error).__name__}: {error}")
                    continue
                with self._lock:
                    self.shipped += len(batch)
                    recovered = self._failing
                    self._failing = False
                if recovered:
                    self._warn(f"CloudWatch Logs answers again; {self.dropped} lines dropped")

    def _put(self, group: str, stream: str, batch: Sequence[Event]) -> None:
        if (group, stream) not in self._created_streams:
            with contextlib.suppress(self._logs.exceptions.ResourceAlreadyExistsException):
                self._logs.create_log_stream(logGroupName=group, logStreamName=stream)
            self._created_streams.add((group, stream))
        answer = self._logs.put_log_events(
            logGroupName=group,
            logStreamName=stream,
            logEvents=[{"timestamp": e.timestamp, "message": e.message} for e in batch],
        )
        rejected = answer.get("rejectedLogEventsInfo")
        if rejected:
            self._warn(f"{group} {stream} refused some events: {rejected}")

    def close(self, timeout: float = 10.0) -> None:
        """Send what is queued, stop the thread, close the wrapped sink."""
        if not self._closed.is_set():
            self._closed.set()
            self._thread.join(timeout)
            self.send(self._take_pending(0))
            if self.dropped:
                self._warn(f"{self.dropped} lines were not shipped to CloudWatch Logs")
        self._inner.close()


def ship_to_cloudwatch(
    inner: OutputSink, endpoint: AwsEndpoint, outputs: Mapping[str, str]
) -> CloudWatchShipping:
    """A sink shipping to the stack's component log groups in the emulator, made if missing."""
    from skylane.observability.log_search import log_groups

    groups = log_groups(outputs)
    logs = endpoint.session.client("logs", endpoint_url=endpoint.url, config=CLIENT_CONFIG)
    ensure_log_groups(logs, list(groups.values()))
    return CloudWatchShipping(inner, logs, groups)
