"""Listing jobs newest first through the by_day index: pages, days, filters, cursors."""

import base64
import json
from datetime import date, timedelta
from typing import Any

import boto3
import pytest

from functions.api import job_listing
from functions.api.job_listing import (
    InvalidCursor,
    Position,
    decode_cursor,
    encode_cursor,
    list_jobs,
)
from skylane.jobs.states import JobState
from skylane.jobs.store import day_shard

TODAY = date(2026, 11, 28)


def put_job(
    table: str, job_id: str, created_at: str, state: str = "SUCCESS", task: str = "send_email"
) -> None:
    boto3.client("dynamodb", region_name="us-east-1").put_item(
        TableName=table,
        Item={
            "job_id": {"S": job_id},
            "day_shard": {"S": day_shard(date.fromisoformat(created_at[:10]), job_id)},
            "task": {"S": f"skylane.{task}"},
            "kind": {"S": task},
            "queue": {"S": "default"},
            "state": {"S": state},
            "created_at": {"S": created_at},
            "inputs": {"S": "{}"},
            "attempts": {"N": "1"},
        },
    )


def at(day: date, second: int) -> str:
    return f"{day.isoformat()}T{second // 3600:02d}:{second // 60 % 60:02d}:{second % 60:02d}.000Z"


def walk(table: str, **filters: Any) -> tuple[list[str], int]:
    """Every page in turn: the job ids in order, and how many pages it took."""
    ids: list[str] = []
    cursor, pages = None, 0
    while True:
        page = list_jobs(table, cursor=cursor, today=TODAY, days_back=7, **filters)
        ids += [job.job_id for job in page.jobs]
        pages += 1
        if page.next_cursor is None:
            return ids, pages
        cursor = page.next_cursor


def test_pages_list_every_job_once_newest_first_across_days(aws: dict[str, Any]) -> None:
    table = aws["JOBS_TABLE"]
    expected = []
    for days_ago in (0, 1, 3):
        day = TODAY - timedelta(days=days_ago)
        for n in range(9):
            job_id = f"job-{days_ago}-{n}"
            put_job(table, job_id, at(day, 1000 + n * 10))
            expected.append((at(day, 1000 + n * 10), job_id))
    # Past the records' lifetime: never listed.
    put_job(table, "expired", at(TODAY - timedelta(days=8), 5))

    ids, pages = walk(table, limit=4)

    assert ids == [job_id for _, job_id in sorted(expected, reverse=True)]
    assert pages == 7


def test_jobs_created_in_the_same_millisecond_are_neither_lost_nor_repeated(
    aws: dict[str, Any],
) -> None:
    table = aws["JOBS_TABLE"]
    for n in range(12):
        put_job(table, f"tie-{n:02d}", at(TODAY, 500))

    ids, _ = walk(table, limit=5)

    assert ids == [f"tie-{n:02d}" for n in reversed(range(12))]


def test_state_and_task_filters(aws: dict[str, Any]) -> None:
    table = aws["JOBS_TABLE"]
    put_job(table, "a", at(TODAY, 1), state="FAILURE", task="send_email")
    put_job(table, "b", at(TODAY, 2), state="SUCCESS", task="send_email")
    put_job(table, "c", at(TODAY, 3), state="FAILURE", task="process_document")
    put_job(table, "d", at(TODAY, 4), state="PENDING", task="process_document")

    assert walk(table, state=JobState.FAILURE)[0] == ["c", "a"]
    assert walk(table, task="skylane.process_document")[0] == ["d", "c"]
    assert walk(table, state=JobState.FAILURE, task="skylane.send_email")[0] == ["a"]
    assert walk(table, state=JobState.REVOKED)[0] == []


def test_a_page_reads_the_records_of_its_own_jobs_only(
    aws: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each shard offers up to a page of candidates; only the chosen page's records are read
    (a busy day's dashboard page read up to ten times more)."""
    table = aws["JOBS_TABLE"]
    for n in range(200):
        put_job(table, f"busy-{n:03d}", at(TODAY, 100 + n), state="STARTED")
    read: list[str] = []
    get_records = job_listing.get_records

    def counted(table_name: str, job_ids: list[str], consistent: bool = True) -> Any:
        read.extend(job_ids)
        return get_records(table_name, job_ids, consistent)

    monkeypatch.setattr(job_listing, "get_records", counted)

    page = list_jobs(table, limit=25, today=TODAY, days_back=7)

    assert [job.job_id for job in page.jobs] == [f"busy-{n:03d}" for n in range(199, 174, -1)]
    assert all(job.state is JobState.STARTED for job in page.jobs)  # the records' own state
    assert sorted(read) == sorted(job.job_id for job in page.jobs)


def test_a_rare_state_is_found_in_short_pages_when_the_read_budget_runs_out(
    aws: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    table = aws["JOBS_TABLE"]
    for n in range(60):
        put_job(table, f"ok-{n:02d}", at(TODAY, 100 + n))
    put_job(table, "failed-new", at(TODAY, 200), state="FAILURE")
    put_job(table, "failed-old", at(TODAY, 10), state="FAILURE")
    # 20 items examined per request at most (2 per shard).
    monkeypatch.setattr(job_listing, "EXAMINE_BUDGET", 20)

    ids, pages = walk(table, state=JobState.FAILURE, limit=10)

    assert ids == ["failed-new", "failed-old"]
    assert pages > 1


def test_cursor_round_trip_and_refusals() -> None:
    position = Position(TODAY, at(TODAY, 7), "b1c2")
    assert decode_cursor(encode_cursor(position)) == position
    assert decode_cursor(encode_cursor(Position(TODAY))) == Position(TODAY)

    def forged(payload: Any) -> str:
        return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode()

    for bad in (
        "not base64 at all!",
        forged([1, 2]),
        forged({"d": "2026-13-01", "t": None, "i": None}),
        forged({"d": "2026-11-28", "t": "yesterday", "i": None}),
        forged({"d": "2026-11-28", "t": "2026-11-27T00:00:00.000Z", "i": None}),
        forged({"d": "2026-11-28", "t": None, "i": "x"}),
        forged({"d": "2026-11-28", "t": "2026-11-28T00:00:00.000Z", "i": "<script>"}),
        forged({"d": "2026-11-28", "t": None, "i": None, "extra": 1}),
        "A" * 600,
    ):
        with pytest.raises(InvalidCursor):
            decode_cursor(bad)


def test_a_cursor_from_the_future_is_refused(aws: dict[str, Any]) -> None:
    future = encode_cursor(Position(TODAY + timedelta(days=1)))
    with pytest.raises(InvalidCursor):
        list_jobs(aws["JOBS_TABLE"], cursor=future, today=TODAY)
