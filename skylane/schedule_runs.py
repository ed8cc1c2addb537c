"""A runtime schedule's runs: its overlap policy, run count, last run and recent run ids.

One item per schedule in the jobs table, keyed ``schedule#<group>/<name>`` (no job id looks
like that, and the item has none of the indexes' keys, so no job listing sees it). Every run
claims the item with a conditional write on its version, so two deliveries at once cannot both
start a run: the loser reads the item again and decides anew (``skip``: the winner's run is
going, so it is dropped).
"""

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from botocore.exceptions import ClientError

from skylane.aws import client
from skylane.jobs import JobStore, iso, utcnow
from skylane.outages import unavailable_as
from skylane.states import FINAL_STATES

RECENT_RUNS = 20
# A run claims the schedule before its job record is written: a claim this recent whose record
# is not there yet is a run being accepted right now, not one whose send failed.
ACCEPTING_SECONDS = 60
# Each lost race means another delivery just claimed the item; a handful is plenty.
CLAIM_ATTEMPTS = 5


class Overlap(StrEnum):
    """What a run due while the schedule's previous run is still queued or running does."""

    ALLOW = "allow"  # runs anyway (EventBridge's own behaviour)
    SKIP = "skip"  # is dropped


@dataclass(frozen=True)
class RunState:
    run_count: int = 0
    last_run_at: str | None = None
    current_job: str | None = None
    recent_runs: tuple[str, ...] = ()
    version: int = 0


@dataclass(frozen=True)
class Claim:
    """What a delivery may do: start ``job_id``, or not, because of ``blocked_by``."""

    started: bool
    duplicate: bool = False
    blocked_by: str | None = None


class ClaimContention(RuntimeError):
    """Other deliveries kept claiming the schedule first; this one fails and is retried."""


def state_key(group: str, name: str) -> dict[str, Any]:
    return {"job_id": {"S": f"schedule#{group}/{name}"}}


def _from_item(item: dict[str, Any] | None) -> RunState:
    if not item:
        return RunState()
    return RunState(
        run_count=int(item.get("run_count", {}).get("N", "0")),
        last_run_at=item.get("last_run_at", {}).get("S"),
        current_job=item.get("current_job", {}).get("S"),
        recent_runs=tuple(value["S"] for value in item.get("recent_runs", {}).get("L", [])),
        version=int(item.get("version", {}).get("N", "0")),
    )


class ScheduleRuns:
    def __init__(self, store: JobStore) -> None:
        self.store = store

    @classmethod
    def from_settings(cls) -> "ScheduleRuns":
        return cls(JobStore.from_settings())

    def state(self, group: str, name: str) -> RunState:
        with unavailable_as("DynamoDB"):
            item = client("dynamodb").get_item(
                TableName=self.store.table_name, Key=state_key(group, name), ConsistentRead=True
            )
        return _from_item(item.get("Item"))

    def forget(self, group: str, name: str) -> None:
        """The schedule is gone: its counters go too (its runs' job records stay)."""
        with unavailable_as("DynamoDB"):
            client("dynamodb").delete_item(
                TableName=self.store.table_name, Key=state_key(group, name)
            )

    def _going(self, current: RunState) -> bool:
        assert current.current_job is not None
        record = self.store.get(current.current_job)
        if record is None:
            # Being accepted by another delivery, or its send failed and it was removed.
            claimed = datetime.fromisoformat(current.last_run_at or "1970-01-01T00:00:00+00:00")
            return (utcnow() - claimed).total_seconds() < ACCEPTING_SECONDS
        return record.state not in FINAL_STATES

    def claim(self, group: str, name: str, job_id: str, overlap: Overlap) -> Claim:
        """Record ``job_id`` as the schedule's newest run, unless ``overlap`` forbids it now."""
        for _ in range(CLAIM_ATTEMPTS):
            current = self.state(group, name)
            if current.current_job == job_id or job_id in current.recent_runs:
                return Claim(started=False, duplicate=True)
            if overlap is Overlap.SKIP and current.current_job is not None and self._going(current):
                return Claim(started=False, blocked_by=current.current_job)
            if self._write(group, name, job_id, current):
                return Claim(started=True)
        raise ClaimContention(f"schedule {name}: {CLAIM_ATTEMPTS} claims lost to other deliveries")

    def _write(self, group: str, name: str, job_id: str, current: RunState) -> bool:
        recent = [job_id, *current.recent_runs][:RECENT_RUNS]
        item = {
            **state_key(group, name),
            "run_count": {"N": str(current.run_count + 1)},
            "last_run_at": {"S": iso(utcnow())},
            "current_job": {"S": job_id},
            "recent_runs": {"L": [{"S": run} for run in recent]},
            "version": {"N": str(current.version + 1)},
        }
        condition: dict[str, Any] = (
            {"ConditionExpression": "attribute_not_exists(job_id)"}
            if current.version == 0
            else {
                "ConditionExpression": "version = :seen",
                "ExpressionAttributeValues": {":seen": {"N": str(current.version)}},
            }
        )
        try:
            with unavailable_as("DynamoDB"):
                client("dynamodb").put_item(TableName=self.store.table_name, Item=item, **condition)
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        return True
