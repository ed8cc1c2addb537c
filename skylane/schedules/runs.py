"""A runtime schedule's runs: its overlap policy, run count, last run and recent run ids.

One item per schedule in the jobs table, keyed ``schedule#<group>/<name>`` (no job id looks
like that, and no index sees it). Each run claims it with a conditional write on its version,
so of two deliveries at once one starts the run and the other reads again and decides anew.
"""

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from botocore.exceptions import ClientError

from skylane.core import dynamodb_items
from skylane.core.aws import client
from skylane.core.outages import unavailable_as
from skylane.jobs.states import FINAL_STATES
from skylane.jobs.store import JobStore, iso, utcnow

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
    values = dynamodb_items.from_item(item)
    return RunState(
        run_count=int(values.get("run_count", 0)),
        last_run_at=values.get("last_run_at"),
        current_job=values.get("current_job"),
        recent_runs=tuple(values.get("recent_runs", ())),
        version=int(values.get("version", 0)),
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

    def claim(self, group: str, name: str, job_id: str, overlap: Overlap) -> Claim:
        """Record ``job_id`` as the schedule's newest run, unless ``overlap`` forbids it now.

        Conditional writes only (the scheduler's role reads no job record): the first run puts
        the item if absent; each later one puts it if its version is still the one seen, in
        one transaction with, for ``skip``, a condition check that the previous run's record
        is final. A failed condition hands back the item as it is, to decide again.
        """
        seen = self._put(group, name, job_id, RunState())
        for _ in range(CLAIM_ATTEMPTS):
            if seen is None:
                return Claim(started=True)
            if seen.current_job == job_id or job_id in seen.recent_runs:
                return Claim(started=False, duplicate=True)
            previous = seen.current_job
            if overlap is Overlap.ALLOW or previous is None:
                seen = self._put(group, name, job_id, seen)
                continue
            outcome = self._put_if_previous(group, name, job_id, seen, FINISHED)
            if outcome is _BLOCKED:
                # Not final: going, or being accepted by another delivery right now (a claim
                # comes before its record), or its send failed and its record was removed,
                # which only an old claim can be.
                claimed = datetime.fromisoformat(seen.last_run_at or EPOCH)
                if (utcnow() - claimed).total_seconds() < ACCEPTING_SECONDS:
                    return Claim(started=False, blocked_by=previous)
                outcome = self._put_if_previous(group, name, job_id, seen, ABSENT)
                if outcome is _BLOCKED:
                    return Claim(started=False, blocked_by=previous)
            seen = outcome if isinstance(outcome, RunState) else None
        raise ClaimContention(f"schedule {name}: {CLAIM_ATTEMPTS} claims lost to other deliveries")

    def _item(self, group: str, name: str, job_id: str, seen: RunState) -> dict[str, Any]:
        recent = [job_id, *seen.recent_runs][:RECENT_RUNS]
        return {
            **state_key(group, name),
            **dynamodb_items.to_item(
                {
                    "run_count": seen.run_count + 1,
                    "last_run_at": iso(utcnow()),
                    "current_job": job_id,
                    "recent_runs": recent,
                    "version": seen.version + 1,
                }
            ),
        }

    def _condition(self, seen: RunState) -> dict[str, Any]:
        if seen.version == 0:
            return {"ConditionExpression": "attribute_not_exists(job_id)"}
        return {
            "ConditionExpression": "version = :seen",
            "ExpressionAttributeValues": {":seen": {"N": str(seen.version)}},
        }

    def _put(self, group: str, name: str, job_id: str, seen: RunState) -> RunState | None:
        """None when written; the item as it is when someone else changed it first."""
        try:
            with unavailable_as("DynamoDB"):
                client("dynamodb").put_item(
                    TableName=self.store.table_name,
                    Item=self._item(group, name, job_id, seen),
                    ReturnValuesOnConditionCheckFailure="ALL_OLD",
                    **self._condition(seen),
                )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                answer: dict[str, Any] = dict(exc.response)
                return _from_item(answer.get("Item"))
            raise
        return None

    def _put_if_previous(
        self, group: str, name: str, job_id: str, seen: RunState, check: dict[str, Any]
    ) -> object:
        """Written (None), the item changed first (a RunState), or _BLOCKED: the previous
        run's record failed ``check``."""
        assert seen.current_job is not None
        put = {
            "TableName": self.store.table_name,
            "Item": self._item(group, name, job_id, seen),
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
            **self._condition(seen),
        }
        condition_check = {
            "TableName": self.store.table_name,
            "Key": {"job_id": {"S": seen.current_job}},
            **check,
        }
        try:
            with unavailable_as("DynamoDB"):
                client("dynamodb").transact_write_items(
                    TransactItems=[{"ConditionCheck": condition_check}, {"Put": put}]
                )
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "TransactionCanceledException":
                raise
            answer: dict[str, Any] = dict(exc.response)
            previous, state = [*answer.get("CancellationReasons", []), {}, {}][:2]
            if state.get("Code") == "ConditionalCheckFailed":
                return _from_item(state.get("Item"))
            if previous.get("Code") == "ConditionalCheckFailed":
                return _BLOCKED
            raise
        return None


EPOCH = "1970-01-01T00:00:00+00:00"
_BLOCKED = object()
# The previous run's record is final / does not exist (conditions on its job record).
FINISHED = {
    "ConditionExpression": "#state IN (:success, :failure, :revoked)",
    "ExpressionAttributeNames": {"#state": "state"},
    "ExpressionAttributeValues": {
        f":{state.value.lower()}": {"S": state.value} for state in FINAL_STATES
    },
}
ABSENT = {"ConditionExpression": "attribute_not_exists(job_id)"}
