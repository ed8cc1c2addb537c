"""Finding one job's lines across the component log groups (moto's in-process CloudWatch Logs)."""

import itertools
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from moto import mock_aws

from skylane.observability.log_search import (
    LogLine,
    follow,
    log_groups,
    merge,
    parse_event,
    parse_since,
    parse_timestamp,
    search,
)
from tests.unit.logs_helpers import logs_client, make_log_groups, put_lines

OUTPUTS = {
    "ApiLogGroupName": "/aws/lambda/t-ApiFunction-A",
    "WorkerLogGroupName": "/ecs/t/worker",
    "SchedulerLogGroupName": "/aws/lambda/t-SchedulerFunction-S",
    "JobsTableName": "t-jobs",
}
GROUPS = log_groups(OUTPUTS)
JOB = "6f1c1a8e-1111-4222-8333-444455556666"
OTHER = "0a0b0c0d-9999-4888-8777-666655554444"
T0 = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)


def json_line(at: datetime, message: str, level: str = "INFO", **keys: Any) -> str:
    stamp = f"{at:%Y-%m-%d %H:%M:%S},{at.microsecond // 1000:03d}+0000"
    return json.dumps({"level": level, "message": message, "timestamp": stamp, **keys})


@pytest.fixture
def logs() -> Iterator[Any]:
    with mock_aws():
        yield make_log_groups(logs_client(), GROUPS.values())


def put(logs: Any, component: str, *lines: tuple[datetime, str]) -> None:
    put_lines(logs, GROUPS[component], *lines)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


@pytest.fixture
def one_job(logs: Any) -> Any:
    """A job accepted by the API, failing once on the worker, then finishing; another job too."""
    put(
        logs,
        "api",
        (at(0), json_line(at(0), "job accepted", job_id=JOB, task="skylane.send_email")),
        (at(0.5), json_line(at(0.5), "job accepted", job_id=OTHER)),
    )
    put(
        logs,
        "worker",
        (at(0.2), json_line(at(0.2), "job started", job_id=JOB, attempt=1)),
        (
            at(0.3),
            json_line(at(0.3), "transient failure, retrying", "WARNING", job_id=JOB, attempt=1),
        ),
        (at(0.6), json_line(at(0.6), "job started", job_id=OTHER, attempt=1)),
        (at(1.4), json_line(at(1.4), "job started", job_id=JOB, attempt=2)),
        (at(1.5), json_line(at(1.5), "job finished", job_id=JOB, attempt=2)),
    )
    return logs


def test_only_the_components_the_stack_has_are_searched() -> None:
    assert GROUPS == {
        "api": "/aws/lambda/t-ApiFunction-A",
        "worker": "/ecs/t/worker",
        "scheduler": "/aws/lambda/t-SchedulerFunction-S",
    }
    assert log_groups({"WorkerLogGroupName": "/ecs/t/worker"}) == {"worker": "/ecs/t/worker"}


def test_a_jobs_lines_from_every_group_come_in_time_order(one_job: Any) -> None:
    found = search(one_job, GROUPS, JOB)
    assert [(line.component, line.message, line.keys.get("attempt")) for line in found] == [
        ("api", "job accepted", None),
        ("worker", "job started", 1),
        ("worker", "transient failure, retrying", 1),
        ("worker", "job started", 2),
        ("worker", "job finished", 2),
    ]
    assert found[0].keys["task"] == "skylane.send_email"
    assert found[0].timestamp == at(0)


def test_level_and_component_filters(one_job: Any) -> None:
    warnings = search(one_job, GROUPS, JOB, level="WARNING")
    assert [line.message for line in warnings] == ["transient failure, retrying"]
    api_only = search(one_job, GROUPS, JOB, components=["api"])
    assert [line.message for line in api_only] == ["job accepted"]


def test_since_leaves_out_earlier_lines(one_job: Any) -> None:
    found = search(one_job, GROUPS, JOB, since=at(1))
    assert [line.keys["attempt"] for line in found] == [2, 2]


def test_without_a_job_id_every_line_is_found(one_job: Any) -> None:
    assert len(search(one_job, GROUPS)) == 7


def test_a_missing_group_has_no_lines(one_job: Any) -> None:
    groups = {**GROUPS, "light": "/aws/lambda/never-created"}
    assert len(search(one_job, groups, JOB)) == 5


def test_a_plain_text_line_is_kept_without_a_level() -> None:
    line = parse_event("api", {"timestamp": 1000, "message": "Traceback (most recent call last):"})
    assert (line.level, line.message, line.keys) == (None, "Traceback (most recent call last):", {})
    assert line.timestamp == datetime.fromtimestamp(1, UTC)


def test_merge_keeps_each_groups_order_for_equal_times() -> None:
    same = at(0)
    lines = [
        LogLine(at(1), "worker", "INFO", "later"),
        LogLine(same, "api", "INFO", "first"),
        LogLine(same, "api", "INFO", "second"),
    ]
    assert [line.message for line in merge(lines)] == ["first", "second", "later"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-29 01:35:57,617+0000", datetime(2026, 11, 29, 1, 35, 57, 617000, tzinfo=UTC)),
        ("2026-11-29T01:35:57.617Z", datetime(2026, 11, 29, 1, 35, 57, 617000, tzinfo=UTC)),
        ("2026-11-29 01:35:57", datetime(2026, 11, 29, 1, 35, 57, tzinfo=UTC)),
        (1_764_380_157_617, datetime(2025, 11, 29, 1, 35, 57, 617000, tzinfo=UTC)),
        ("not a time", None),
        (True, None),
    ],
)
def test_timestamps_in_the_shapes_loggers_write(text: object, expected: datetime | None) -> None:
    assert parse_timestamp(text) == expected


def test_since_accepts_durations_and_times() -> None:
    now = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
    assert parse_since("10m", now) == now - timedelta(minutes=10)
    assert parse_since("2h", now) == now - timedelta(hours=2)
    assert parse_since("2026-11-29T10:00:00", now) == datetime(2026, 11, 29, 10, tzinfo=UTC)
    with pytest.raises(ValueError, match="10m"):
        parse_since("ten minutes", now)


def test_follow_gives_each_line_once_as_it_arrives(logs: Any) -> None:
    polls: list[float] = []

    def arrive_between_polls(seconds: float) -> None:
        polls.append(seconds)
        if len(polls) == 1:
            put(logs, "worker", (at(2), json_line(at(2), "job finished", job_id=JOB)))

    put(logs, "api", (at(1), json_line(at(1), "job accepted", job_id=JOB)))
    lines = follow(logs, GROUPS, JOB, since=at(0), sleep=arrive_between_polls)
    found = list(itertools.islice(lines, 2))
    assert [line.message for line in found] == ["job accepted", "job finished"]
    assert len(polls) == 1
