"""A runtime schedule's runs: its overlap policy, run count, last run and recent run ids.

One item per schedule in the jobs table, keyed ``schedule#<group>/<name>`` (no job id looks
like that, and no index sees it). Each run claims it with a conditional write on its version,
so of two deliveries at once one starts the run and the other reads again and decides anew
(``buffer_one``: held on the item until the going run's finisher releases it).
"""

import json
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from skylane.core import dynamodb_items
from skylane.core.aws import client
from skylane.core.outages import unavailable_as
from skylane.jobs.states import FINAL_STATES
from skylane.jobs.store import JobStore, iso, utcnow
from skylane.schedules.overlap import Overlap

RECENT_RUNS = 20
# A run claims the schedule before its job record is written: a claim this recent whose record
# is not there yet is a run being accepted right now, not one whose send failed.
ACCEPTING_SECONDS = 60
# Each lost race means another delivery just claimed the item; a handful is plenty.
CLAIM_ATTEMPTS = 5


@dataclass(frozen=True)
class Run:
    """A run not started yet: its job id, and the delivery that enqueues it (as JSON)."""

    job_id: str
    delivery: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RunState:
    run_count: int = 0
    last_run_at: str | None = None
    current_job: str | None = None
    recent_runs: tuple[str, ...] = ()
    version: int = 0
    held: Run | None = None
    held_at: str | None = None


@dataclass(frozen=True)
class Claim:
    """What a delivery may do: start its run, or not, because of ``blocked_by``.

    ``held``: buffer_one keeps it until ``blocked_by`` is final. ``release``: a held run whose
    predecessor is final must be sent first, then promoted (``ScheduleRuns.promote``) from
    ``seen``; the delivery then claims again.
    """

    started: bool
    duplicate: bool = False
    blocked_by: str | None = None
    held: bool = False
    release: Run | None = None
    seen: RunState | None = None


class ClaimContention(RuntimeError):
    """Other deliveries kept claiming the schedule first; this one fails and is retried."""


def state_key(group: str, name: str) -> dict[str, Any]:
    return {"job_id": {"S": f"schedule#{group}/{name}"}}


def _from_item(item: dict[str, Any] | None) -> RunState:
    if not item:
        return RunState()
    values = dynamodb_items.from_item(item)
    held_job = values.get("held_job")
    return RunState(
        run_count=int(values.get("run_count", 0)),
        last_run_at=values.get("last_run_at"),
        current_job=values.get("current_job"),
        recent_runs=tuple(values.get("recent_runs", ())),
        version=int(values.get("version", 0)),
        held=Run(held_job, json.loads(values.get("held_run", "{}"))) if held_job else None,
        held_at=values.get("held_at"),
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

    def claim(
        self,
        group: str,
        name: str,
        job_id: str,
        overlap: Overlap,
        delivery: dict[str, Any] | None = None,
    ) -> Claim:
        """Record ``job_id`` as the schedule's newest run, unless ``overlap`` forbids it now.

        Conditional writes only (the scheduler's role reads no job record): the first run puts
        the item if absent; each later one puts it if its version is still the one seen, in
        one transaction with, for ``skip`` and ``buffer_one``, a condition check that the
        previous run's record is final (or, to hold a run, that it is not). A failed condition
        hands back the item as it is, to decide again. ``delivery``: what enqueues this run
        if it is held.
        """
        run = Run(job_id, delivery or {})
        seen = self._put(group, name, job_id, RunState())
        for _ in range(CLAIM_ATTEMPTS):
            if seen is None:
                return Claim(started=True)
            if seen.current_job == job_id or job_id in seen.recent_runs:
                return Claim(started=False, duplicate=True)
            previous, held = seen.current_job, seen.held
            if previous is None or (overlap is Overlap.ALLOW and held is None):
                seen = self._put(group, name, job_id, seen)
                continue
            if overlap is Overlap.ALLOW and held is not None:
                # Held under buffer_one before the policy changed: runs may overlap now.
                return Claim(started=False, release=held, seen=seen)
            if held is not None:
                # Due before this one: it goes first, once its predecessor is final (its
                # finisher releases it; this is the path when that failed or never came).
                outcome = self._after_previous(group, name, None, seen)
                if outcome is _BLOCKED:
                    again = held.job_id == job_id
                    return Claim(started=False, duplicate=again, held=again, blocked_by=previous)
                if outcome is None:
                    bumped = replace(seen, version=seen.version + 1)
                    return Claim(started=False, release=held, seen=bumped)
                seen = outcome if isinstance(outcome, RunState) else None
                continue
            outcome = self._after_previous(group, name, job_id, seen)
            if outcome is _BLOCKED and overlap is Overlap.BUFFER_ONE:
                outcome = self._write(
                    self._item(group, name, seen, None, held=run), seen, previous, GOING
                )
                if outcome is None:
                    return Claim(started=False, held=True, blocked_by=previous)
                if outcome is _BLOCKED:
                    continue  # it became final a moment ago: decide again
            elif outcome is _BLOCKED:
                return Claim(started=False, blocked_by=previous)
            seen = outcome if isinstance(outcome, RunState) else None
        raise ClaimContention(f"schedule {name}: {CLAIM_ATTEMPTS} claims lost to other deliveries")

    def promote(self, group: str, name: str, seen: RunState) -> RunState | None:
        """The held run, sent already, becomes the current one.

        Conditional on ``seen``'s version, so of the finisher and a delivery doing it at once
        one wins; None when written, else the item as it now is.
        """
        assert seen.held is not None
        outcome = self._write(self._item(group, name, seen, seen.held.job_id, None), seen)
        return outcome if isinstance(outcome, RunState) else None

    def _after_previous(self, group: str, name: str, start: str | None, seen: RunState) -> object:
        """Write (``start`` as the new run, or no change but the version) if the previous run
        is over: None, a RunState (the item changed first) or _BLOCKED (it is not over)."""
        assert seen.current_job is not None
        item = self._item(group, name, seen, start, held=seen.held if start is None else None)
        outcome = self._write(item, seen, seen.current_job, FINISHED)
        if outcome is not _BLOCKED:
            return outcome
        # Not final: going, or being accepted by another delivery right now (a claim comes
        # before its record), or its send failed and its record was removed, which only an
        # old claim can be.
        claimed = datetime.fromisoformat(seen.last_run_at or EPOCH)
        if (utcnow() - claimed).total_seconds() < ACCEPTING_SECONDS:
            return _BLOCKED
        return self._write(item, seen, seen.current_job, ABSENT)

    def _item(
        self, group: str, name: str, seen: RunState, start: str | None, held: Run | None
    ) -> dict[str, Any]:
        """``seen`` with ``start`` as its newest run (if given), ``held`` held, a new version."""
        values: dict[str, Any] = {
            "version": seen.version + 1,
            "run_count": seen.run_count,
            "recent_runs": list(seen.recent_runs),
            "last_run_at": seen.last_run_at,
            "current_job": seen.current_job,
        }
        if start is not None:
            values |= {
                "run_count": seen.run_count + 1,
                "last_run_at": iso(utcnow()),
                "current_job": start,
                "recent_runs": [start, *seen.recent_runs][:RECENT_RUNS],
            }
        if held is not None:
            same = seen.held is not None and seen.held.job_id == held.job_id
            values |= {
                "held_job": held.job_id,
                "held_run": json.dumps(held.delivery, sort_keys=True),
                "held_at": seen.held_at if same and seen.held_at else iso(utcnow()),
            }
        return {**state_key(group, name), **dynamodb_items.to_item(values)}

    def _condition(self, seen: RunState) -> dict[str, Any]:
        if seen.version == 0:
            return {"ConditionExpression": "attribute_not_exists(job_id)"}
        return {
            "ConditionExpression": "version = :seen",
            "ExpressionAttributeValues": {":seen": {"N": str(seen.version)}},
        }

    def _put(self, group: str, name: str, job_id: str, seen: RunState) -> RunState | None:
        """``job_id`` starts (a run held stays held). None when written; the item as it is
        when someone else changed it first."""
        outcome = self._write(self._item(group, name, seen, job_id, held=seen.held), seen)
        return outcome if isinstance(outcome, RunState) else None

    def _write(
        self,
        item: dict[str, Any],
        seen: RunState,
        job_id: str | None = None,
        check: dict[str, Any] | None = None,
    ) -> object:
        """Put ``item`` if the version is still ``seen``'s, and (given ``check``) if the record
        of ``job_id`` passes it: written (None), the item changed first (a RunState), or
        _BLOCKED: the record failed ``check``."""
        put = {
            "TableName": self.store.table_name,
            "Item": item,
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
            **self._condition(seen),
        }
        try:
            with unavailable_as("DynamoDB"):
                if check is None:
                    client("dynamodb").put_item(**put)
                else:
                    condition_check = {
                        "TableName": self.store.table_name,
                        "Key": {"job_id": {"S": job_id}},
                        **check,
                    }
                    client("dynamodb").transact_write_items(
                        TransactItems=[{"ConditionCheck": condition_check}, {"Put": put}]
                    )
        except ClientError as exc:
            answer: dict[str, Any] = dict(exc.response)
            code = answer["Error"]["Code"]
            if code == "ConditionalCheckFailedException":
                return _from_item(answer.get("Item"))
            if code != "TransactionCanceledException":
                raise
            previous, state = [*answer.get("CancellationReasons", []), {}, {}][:2]
            if state.get("Code") == "ConditionalCheckFailed":
                return _from_item(state.get("Item"))
            if previous.get("Code") == "ConditionalCheckFailed":
                return _BLOCKED
            raise
        return None


EPOCH = "1970-01-01T00:00:00+00:00"
_BLOCKED = object()
# Conditions on the previous run's job record.
_FINAL_VALUES = {f":{state.value.lower()}": {"S": state.value} for state in FINAL_STATES}
FINISHED = {
    "ConditionExpression": "#state IN (:success, :failure, :revoked)",
    "ExpressionAttributeNames": {"#state": "state"},
    "ExpressionAttributeValues": _FINAL_VALUES,
}
# Not final: queued, running, or being accepted (no record yet).
GOING = {
    "ConditionExpression": "NOT (#state IN (:success, :failure, :revoked))",
    "ExpressionAttributeNames": {"#state": "state"},
    "ExpressionAttributeValues": _FINAL_VALUES,
}
ABSENT = {"ConditionExpression": "attribute_not_exists(job_id)"}
