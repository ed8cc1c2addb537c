"""Shipping the local children's lines into CloudWatch Logs, against moto's in-process mock."""

import json
import re
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from moto import mock_aws

from infra.log_shipping import (
    EVENT_OVERHEAD_BYTES,
    MAX_BATCH_BYTES,
    MAX_BATCH_EVENTS,
    MAX_EVENT_BYTES,
    CloudWatchShipping,
    Event,
    batches,
    component_of,
    ensure_log_groups,
    event_timestamp,
    stream_name,
    truncate,
)
from skylane.observability.log_search import COMPONENTS, Component, to_millis
from tests.unit.logs_helpers import logs_client, make_log_groups

GROUPS = {
    "api": "/aws/lambda/skylane-test-ApiFunction-ABC",
    "worker": "/ecs/skylane-test/worker",
    "scheduler": "/aws/lambda/skylane-test-SchedulerFunction-DEF",
}
NOW = datetime(2026, 11, 29, 1, 2, 3, 456000, tzinfo=UTC)


class Collected:
    """The wrapped sink: what the terminal or the log files would get."""

    def __init__(self) -> None:
        self.lines: list[tuple[str, str]] = []
        self.closed = False

    def write_line(self, name: str, line: str) -> None:
        self.lines.append((name, line))

    def close(self) -> None:
        self.closed = True


@pytest.fixture
def logs() -> Iterator[Any]:
    with mock_aws():
        # No stream: the shipping creates each child's own.
        yield make_log_groups(logs_client(), GROUPS.values(), stream=None)


def all_events(logs: Any, group: str) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = logs.filter_log_events(logGroupName=group)["events"]
    return events


@pytest.mark.parametrize(
    ("child", "component"),
    [
        ("api", "api"),
        ("worker", "worker"),
        ("worker-1", "worker"),
        ("worker-12", "worker"),
        ("scheduler", "scheduler"),
        ("bench-proxy", None),
    ],
)
def test_each_child_maps_to_its_components_group(child: str, component: str | None) -> None:
    found = component_of(child)
    assert (found.name if found else None) == component


def test_a_new_component_is_one_table_entry_and_the_longest_name_wins() -> None:
    table = (*COMPONENTS, Component("worker-light", "LightLogGroupName", "lambda"))
    found = component_of("worker-light-poller", table)
    assert found is not None
    assert found.log_group_output == "LightLogGroupName"


def test_streams_are_named_as_on_aws() -> None:
    api, worker = COMPONENTS[0], COMPONENTS[1]
    hex_id = "0123456789abcdef0123456789abcdef"
    assert stream_name(api, NOW, hex_id) == f"2026/11/29/[$LATEST]{hex_id}"
    assert stream_name(worker, NOW, hex_id) == f"worker/worker/{hex_id}"


def test_the_json_lines_own_timestamp_is_the_events_time() -> None:
    line = json.dumps({"message": "job started", "timestamp": "2026-11-28 23:20:01,657+0000"})
    expected = datetime(2026, 11, 28, 23, 20, 1, 657000, tzinfo=UTC)
    assert event_timestamp(line, NOW) == to_millis(expected)


@pytest.mark.parametrize(
    "line",
    ["INFO:     Uvicorn running", '{"message": "no time"}', '{"timestamp": "yesterday"}', "{oops"],
)
def test_a_line_without_a_readable_timestamp_gets_the_current_time(line: str) -> None:
    assert event_timestamp(line, NOW) == to_millis(NOW)


def event(timestamp: int, message: str = "x") -> Event:
    return Event("group", "stream", timestamp, message)


def test_batches_are_chronological_whatever_order_the_lines_came_in() -> None:
    found = batches([event(3, "c"), event(1, "a"), event(2, "b")])
    assert [[e.message for e in batch] for batch in found] == [["a", "b", "c"]]


def test_batches_respect_the_event_count_limit() -> None:
    found = batches([event(n) for n in range(MAX_BATCH_EVENTS + 5)])
    assert [len(batch) for batch in found] == [MAX_BATCH_EVENTS, 5]


def test_batches_respect_the_byte_limit_counting_each_events_overhead() -> None:
    message = "m" * 100_000
    found = batches([event(n, message) for n in range(12)])
    for batch in found:
        assert sum(len(e.message) + EVENT_OVERHEAD_BYTES for e in batch) <= MAX_BATCH_BYTES
    assert sum(len(batch) for batch in found) == 12
    assert len(found) == 2


def test_batches_never_span_more_than_a_day() -> None:
    day = 24 * 60 * 60 * 1000
    found = batches([event(0), event(day // 2), event(day + 1)])
    assert [len(batch) for batch in found] == [2, 1]


def test_an_oversized_line_is_cut_to_what_cloudwatch_accepts() -> None:
    assert len(truncate("é" * MAX_EVENT_BYTES).encode()) <= MAX_EVENT_BYTES
    assert truncate("short") == "short"


def test_missing_log_groups_are_created(logs: Any) -> None:
    made = ensure_log_groups(logs, [*GROUPS.values(), "/ecs/skylane-test/light"])
    assert made == ["/ecs/skylane-test/light"]
    names = [g["logGroupName"] for g in logs.describe_log_groups()["logGroups"]]
    assert "/ecs/skylane-test/light" in names


def test_lines_reach_the_wrapped_sink_and_their_group_on_close(logs: Any) -> None:
    inner = Collected()
    shipping = CloudWatchShipping(inner, logs, GROUPS, flush_seconds=60)
    started = json.dumps({"message": "job started", "timestamp": "2026-11-29 01:00:00,100+0000"})
    shipping.write_line("worker-1", started)
    shipping.write_line("api", "INFO:     Uvicorn running")
    shipping.write_line("bench-proxy", "not a component")
    shipping.close()

    assert inner.lines == [
        ("worker-1", started),
        ("api", "INFO:     Uvicorn running"),
        ("bench-proxy", "not a component"),
    ]
    assert inner.closed
    worker_events = all_events(logs, GROUPS["worker"])
    assert [e["message"] for e in worker_events] == [started]
    assert re.fullmatch(r"worker/worker/[0-9a-f]{32}", worker_events[0]["logStreamName"])
    api_events = all_events(logs, GROUPS["api"])
    assert re.fullmatch(r"\d{4}/\d\d/\d\d/\[\$LATEST\][0-9a-f]{32}", api_events[0]["logStreamName"])
    assert shipping.shipped == 2
    assert shipping.dropped == 0


def test_empty_lines_are_not_shipped_and_do_not_sink_their_batch(logs: Any) -> None:
    inner = Collected()
    shipping = CloudWatchShipping(inner, logs, GROUPS, flush_seconds=60)
    for line in ("before", "", "after"):
        shipping.write_line("scheduler", line)
    shipping.close()
    assert [line for _, line in inner.lines] == ["before", "", "after"]
    assert [e["message"] for e in all_events(logs, GROUPS["scheduler"])] == ["before", "after"]
    assert shipping.dropped == 0


def test_each_child_has_its_own_stream(logs: Any) -> None:
    shipping = CloudWatchShipping(Collected(), logs, GROUPS, flush_seconds=60)
    shipping.write_line("worker-1", "one")
    shipping.write_line("worker-2", "two")
    shipping.write_line("worker-1", "three")
    shipping.close()
    streams = {e["message"]: e["logStreamName"] for e in all_events(logs, GROUPS["worker"])}
    assert streams["one"] == streams["three"] != streams["two"]


def test_the_background_thread_ships_without_waiting_for_close(logs: Any) -> None:
    shipping = CloudWatchShipping(Collected(), logs, GROUPS, flush_seconds=0.05)
    try:
        shipping.write_line("scheduler", "scheduler ready")
        shipped = threading.Event()
        for _ in range(200):
            if all_events(logs, GROUPS["scheduler"]):
                shipped.set()
                break
            shipped.wait(0.05)
        assert shipped.is_set(), "the line was not shipped before close"
    finally:
        shipping.close()


class Unreachable:
    """A logs client whose every call fails, as when the emulator is down."""

    class exceptions:  # noqa: N801 (the shape of a boto3 client's exceptions attribute)
        ResourceAlreadyExistsException = type("ResourceAlreadyExistsException", (Exception,), {})

    def create_log_stream(self, **_: Any) -> None:
        raise ConnectionError("emulator down")

    def put_log_events(self, **_: Any) -> dict[str, Any]:
        raise ConnectionError("emulator down")


def test_an_unreachable_emulator_drops_lines_with_a_counted_warning() -> None:
    inner = Collected()
    warnings: list[str] = []
    shipping = CloudWatchShipping(
        inner, Unreachable(), GROUPS, flush_seconds=60, warn=warnings.append
    )
    for n in range(3):
        shipping.write_line("api", f"line {n}")
    shipping.close()

    assert [line for _, line in inner.lines] == ["line 0", "line 1", "line 2"]
    assert shipping.dropped == 3
    assert any("ConnectionError" in w for w in warnings)
    assert warnings[-1] == "3 lines were not shipped to CloudWatch Logs"


def test_a_full_queue_drops_instead_of_blocking_the_reader(logs: Any) -> None:
    warnings: list[str] = []
    shipping = CloudWatchShipping(
        Collected(), logs, GROUPS, flush_seconds=60, max_pending=2, warn=warnings.append
    )
    for n in range(5):
        shipping.write_line("api", f"line {n}")
    shipping.close()
    assert shipping.dropped == 3
    assert [e["message"] for e in all_events(logs, GROUPS["api"])] == ["line 0", "line 1"]
    assert "not keeping up" in warnings[0]
