"""Recent jobs, newest first, a page at a time: what the dashboard and GET /jobs list.

A page reads every by_day shard of a day newest first, merged by creation time, then the day
before, until it has ``limit`` jobs, runs out of days or examines EXAMINE_BUDGET items; only a
missing next_cursor means the end (README: *Dashboard*, "How listing stays cheap").
"""

import base64
import binascii
import json
import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from functions.api.schemas import MAX_PAGE
from skylane.core import dynamodb_items
from skylane.core.aws import client
from skylane.core.outages import unavailable_as
from skylane.core.settings import get_settings
from skylane.jobs.states import JobState
from skylane.jobs.store import DAY_INDEX, DAY_SHARDS, JobRecord, get_records, utcnow

# Items DynamoDB may examine for one request (matched or not), over all shards and days.
EXAMINE_BUDGET = 2000
_ISO_MILLIS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
_JOB_ID = re.compile(r"^[0-9A-Za-z-]{1,64}$")
_MAX_CURSOR_CHARS = 512


class InvalidCursor(ValueError):
    """A cursor that is not one this module produced."""


@dataclass(frozen=True)
class Position:
    """Where a listing continues: jobs of `day` (and earlier days) before this point.

    created_at None: from the newest job of the day. job_id None: every job created at or
    before created_at (the point where a budget-limited read stopped, ties included).
    Otherwise: jobs ordered strictly after (created_at, job_id) in newest-first order.
    """

    day: date
    created_at: str | None = None
    job_id: str | None = None

    def admits(self, record: JobRecord) -> bool:
        if self.created_at is None:
            return True
        if self.job_id is None:
            return record.created_at <= self.created_at
        return (record.created_at, record.job_id) < (self.created_at, self.job_id)


@dataclass(frozen=True)
class JobPage:
    jobs: list[JobRecord]
    # None when nothing older is left to list.
    next_cursor: str | None


def encode_cursor(position: Position) -> str:
    # Opaque to clients and carrying nothing but a position: a cursor edited into another valid
    # position only moves the listing, and reveals nothing GET /jobs would not list anyway.
    payload = {"d": position.day.isoformat(), "t": position.created_at, "i": position.job_id}
    raw = json.dumps(payload, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> Position:
    if len(cursor) > _MAX_CURSOR_CHARS:
        raise InvalidCursor("cursor is too long")
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        payload = json.loads(raw)
    except (binascii.Error, ValueError) as exc:
        raise InvalidCursor("cursor is not one this API returned") from exc
    if not isinstance(payload, dict) or set(payload) != {"d", "t", "i"}:
        raise InvalidCursor("cursor is not one this API returned")
    day, created_at, job_id = payload["d"], payload["t"], payload["i"]
    try:
        parsed_day = date.fromisoformat(day) if isinstance(day, str) else None
    except ValueError:
        parsed_day = None
    if parsed_day is None:
        raise InvalidCursor("cursor names no valid day")
    if created_at is not None and (
        not isinstance(created_at, str)
        or not _ISO_MILLIS.match(created_at)
        or not created_at.startswith(parsed_day.isoformat())
    ):
        raise InvalidCursor("cursor names no valid time")
    if job_id is not None and (
        created_at is None or not isinstance(job_id, str) or not _JOB_ID.match(job_id)
    ):
        raise InvalidCursor("cursor names no valid job")
    return Position(parsed_day, created_at, job_id)


def list_jobs(
    table_name: str,
    *,
    limit: int = 25,
    state: JobState | None = None,
    task: str | None = None,
    cursor: str | None = None,
    days_back: int | None = None,
    today: date | None = None,
) -> JobPage:
    """One page of jobs, newest first. Raises InvalidCursor for a cursor not produced here."""
    limit = max(1, min(limit, MAX_PAGE))
    today = today or utcnow().date()
    # Records expire after JOB_TTL_DAYS, so no older day can hold one.
    oldest = today - timedelta(days=days_back if days_back is not None else _ttl_days())
    position = decode_cursor(cursor) if cursor else Position(today)
    if position.day > today:
        raise InvalidCursor("cursor lies in the future")
    budget = EXAMINE_BUDGET
    jobs: list[JobRecord] = []

    def page(next_position: Position | None) -> JobPage:
        # Without a state filter the index entries chose the page: only its own records are
        # read, not those of every candidate the shards returned (up to `limit` each).
        chosen = jobs if state is not None else _records(table_name, jobs)
        return JobPage(chosen, encode_cursor(next_position) if next_position else None)

    while position.day >= oldest:
        want = limit - len(jobs)
        found, frontier, budget = _read_day(table_name, position, state, task, want, budget)
        jobs.extend(found[:want])
        if len(jobs) == limit:
            last = jobs[-1]
            return page(Position(position.day, last.created_at, last.job_id))
        if frontier is not None:
            # The budget ran out inside this day: continue from where reading stopped (jobs
            # created at that very moment included, unless the cursor had passed some of them).
            same_moment = frontier == position.created_at
            return page(Position(position.day, frontier, position.job_id if same_moment else None))
        position = Position(position.day - timedelta(days=1))
        if budget <= 0 and position.day >= oldest:
            return page(position)
    return page(None)


def _records(table_name: str, entries: list[JobRecord]) -> list[JobRecord]:
    """The records of index entries, in their order (one that expired meanwhile left out)."""
    return get_records(table_name, [entry.job_id for entry in entries], consistent=False)


def _ttl_days() -> int:
    return get_settings().job_ttl_days


def _read_day(
    table_name: str,
    position: Position,
    state: JobState | None,
    task: str | None,
    want: int,
    budget: int,
) -> tuple[list[JobRecord], str | None, int]:
    """The day's newest admitted jobs known to be complete and in order; where a read ran out
    of budget (None if none did); the budget left.

    Each shard is read newest first until it has `want` matches, is exhausted, or has spent its
    share of the budget. A shard with `want` matches cannot contribute anything older to the
    newest `want` of the day. A shard that ran out of budget at time T may still hold matches
    older than T, so only jobs newer than the newest such point (the frontier) are returned,
    and the next page continues from it.
    """
    share = max(1, budget // DAY_SHARDS)
    merged: list[JobRecord] = []
    frontier: str | None = None
    spent = 0
    for shard in range(DAY_SHARDS):
        partition = f"{position.day.isoformat()}#{shard}"
        records, stopped_at, examined = _read_shard(
            table_name, partition, position, state, task, want, share
        )
        spent += examined
        merged.extend(records)
        if stopped_at is not None and (frontier is None or stopped_at > frontier):
            frontier = stopped_at
    merged.sort(key=lambda record: (record.created_at, record.job_id), reverse=True)
    if frontier is not None:
        merged = [record for record in merged if record.created_at > frontier]
    return merged, frontier, budget - spent


def _read_shard(
    table_name: str,
    partition: str,
    position: Position,
    state: JobState | None,
    task: str | None,
    want: int,
    share: int,
) -> tuple[list[JobRecord], str | None, int]:
    """Up to about `want` admitted jobs of one partition, newest first (their index entries
    when no state is asked for, else their records); the created_at where the budget share ran
    out before `want` were found (else None); items DynamoDB examined."""
    query: dict[str, Any] = {
        "TableName": table_name,
        "IndexName": DAY_INDEX,
        "KeyConditionExpression": "day_shard = :partition",
        "ExpressionAttributeValues": {":partition": {"S": partition}},
        "ScanIndexForward": False,
    }
    if position.created_at is not None:
        query["KeyConditionExpression"] += " AND created_at <= :before"
        query["ExpressionAttributeValues"][":before"] = {"S": position.created_at}
    if task is not None:
        query["FilterExpression"] = "#task = :task"
        query["ExpressionAttributeNames"] = {"#task": "task"}
        query["ExpressionAttributeValues"][":task"] = {"S": task}
    # DynamoDB's Limit counts examined items, not matches: read a few more per match wanted
    # when a filter drops some, fewer round trips for the same bound.
    read_ahead = 4 if task is not None or state is not None else 1
    records: list[JobRecord] = []
    examined = 0
    with unavailable_as("DynamoDB"):
        while True:
            missing = want - len(records)
            page = client("dynamodb").query(
                **query, Limit=max(1, min(share - examined, missing * read_ahead))
            )
            examined += int(page.get("ScannedCount", 0))
            admitted = [
                entry
                for entry in (JobRecord.from_item(item) for item in page.get("Items", []))
                if position.admits(entry)
            ]
            if state is None:
                # The index holds what ordering and the task filter need: the records of the
                # page alone are read once it is chosen (list_jobs).
                records.extend(admitted)
            else:
                # State lives in the records only.
                records.extend(
                    record for record in _records(table_name, admitted) if record.state is state
                )
            last_key = page.get("LastEvaluatedKey")
            if not last_key or len(records) >= want:
                return records, None, examined
            if examined >= share:
                return records, dynamodb_items.from_item(last_key)["created_at"], examined
            query["ExclusiveStartKey"] = last_key
