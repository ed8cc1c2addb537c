"""The job store: one DynamoDB item per job, written by the API and updated by the worker.

Every update is one conditional UpdateItem, so concurrent writers never move a job backwards:
nothing overwrites a final state, and progress only moves forward within an attempt. JSON
values (inputs, result, meta) are stored as JSON strings: DynamoDB has no floats.
"""

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from skylane.core import dynamodb_items
from skylane.core.aws import client
from skylane.core.limits import DYNAMODB_BATCH_GET_LIMIT
from skylane.core.outages import unavailable_as
from skylane.core.settings import get_settings
from skylane.jobs.contracts import TASKS
from skylane.jobs.states import FINAL_STATES, JobState

USER_INDEX = "by_user"
# Jobs by creation day, for daily reports and reconciliation. Each day is spread over
# DAY_SHARDS partitions so a busy day never concentrates its writes on one partition.
DAY_INDEX = "by_day"
DAY_SHARDS = 10
_ACTIVE_STATES = [s.value for s in JobState if s not in FINAL_STATES]


def utcnow() -> datetime:
    return datetime.now(UTC)


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class JobRecord:
    job_id: str
    task: str
    kind: str
    queue: str
    state: JobState
    created_at: str
    inputs: dict[str, Any] = field(default_factory=dict)
    user_id: str | None = None
    started_at: str | None = None
    last_started_at: str | None = None
    ended_at: str | None = None
    attempts: int = 0
    current: int | None = None
    total: int | None = None
    result: Any = None
    error: str | None = None
    request_hash: str | None = None
    # FAILURE given by the reconciler (mark_lost), not by a run: the job may run again.
    lost: bool = False
    # The schedule whose run this is (skylane/schedules/invocations.py), if any.
    schedule: str | None = None
    # Canvas links: the chord body a part belongs to (or the task that sent it), the group it
    # was sent in; on a chord's body, its parts and how many of them finished.
    parent_id: str | None = None
    group_id: str | None = None
    parts: list[str] = field(default_factory=list)
    chord_size: int | None = None
    chord_done: int | None = None

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> "JobRecord":
        values = dynamodb_items.from_item(item)

        def whole(name: str) -> int | None:
            value = values.get(name)
            return int(value) if value is not None else None

        def decoded(name: str) -> Any:
            raw = values.get(name)
            return json.loads(raw) if raw is not None else None

        return cls(
            job_id=values["job_id"],
            task=values.get("task") or "",
            kind=values.get("kind") or "",
            queue=values.get("queue") or "",
            state=JobState(values.get("state") or JobState.PENDING),
            created_at=values.get("created_at") or "",
            inputs=decoded("inputs") or {},
            user_id=values.get("user_id"),
            started_at=values.get("started_at"),
            last_started_at=values.get("last_started_at"),
            ended_at=values.get("ended_at"),
            attempts=whole("attempts") or 0,
            current=whole("current"),
            total=whole("total"),
            result=decoded("result"),
            error=values.get("error"),
            request_hash=values.get("request_hash"),
            lost=bool(values.get("lost", False)),
            schedule=values.get("schedule"),
            parent_id=values.get("parent_id"),
            group_id=values.get("group_id"),
            parts=list(values.get("parts", [])),
            chord_size=whole("chord_size"),
            chord_done=whole("chord_done"),
        )


class JobStore:
    def __init__(self, table_name: str, ttl_days: int) -> None:
        self.table_name = table_name
        self.ttl = timedelta(days=ttl_days)

    @classmethod
    def from_settings(cls) -> "JobStore":
        settings = get_settings()
        return cls(settings.jobs_table, settings.job_ttl_days)

    # ------------------------------------------------------------------ producer side
    def create(
        self,
        job_id: str,
        *,
        task: str,
        kind: str,
        queue: str,
        inputs: dict[str, Any],
        user_id: str | None = None,
        request_hash: str | None = None,
        schedule: str | None = None,
        parent_id: str | None = None,
        group_id: str | None = None,
    ) -> JobRecord:
        """Record an accepted job as PENDING. Raises JobExists if the id is taken.

        request_hash fingerprints the request that created the job (idempotent submissions).
        """
        now = utcnow()
        item = dynamodb_items.to_item(
            {
                "job_id": job_id,
                "day_shard": day_shard(now.date(), job_id),
                "task": task,
                "kind": kind,
                "queue": queue,
                "state": JobState.PENDING.value,
                "created_at": iso(now),
                "updated_at": iso(now),
                "inputs": json.dumps(inputs, sort_keys=True),
                "attempts": 0,
                "expires_at": int((now + self.ttl).timestamp()),
                "user_id": user_id,
                "request_hash": request_hash,
                "schedule": schedule,
                # An empty link is no link (a message's empty header).
                "parent_id": parent_id or None,
                "group_id": group_id or None,
            }
        )
        try:
            with unavailable_as("DynamoDB"):
                client("dynamodb").put_item(
                    TableName=self.table_name,
                    Item=item,
                    ConditionExpression="attribute_not_exists(job_id)",
                )
        except ClientError as exc:
            if _condition_failed(exc):
                raise JobExists(job_id) from exc
            raise
        return JobRecord.from_item(item)

    def discard(self, job_id: str) -> None:
        """Remove a record whose message never reached the queue, so no record claims it is queued."""
        with unavailable_as("DynamoDB"):
            client("dynamodb").delete_item(
                TableName=self.table_name,
                Key={"job_id": {"S": job_id}},
                ConditionExpression="#state = :pending",
                ExpressionAttributeNames={"#state": "state"},
                ExpressionAttributeValues={":pending": {"S": JobState.PENDING.value}},
            )

    def get(self, job_id: str) -> JobRecord | None:
        with unavailable_as("DynamoDB"):
            response = client("dynamodb").get_item(
                TableName=self.table_name, Key={"job_id": {"S": job_id}}, ConsistentRead=True
            )
        item = response.get("Item")
        return JobRecord.from_item(item) if item else None

    def jobs_for_user(self, user_id: str, limit: int = 1000) -> list[JobRecord]:
        """A user's jobs, newest first (the by_user index holds their ids only)."""
        job_ids: list[str] = []
        paginator = client("dynamodb").get_paginator("query")
        with unavailable_as("DynamoDB"):
            for page in paginator.paginate(
                TableName=self.table_name,
                IndexName=USER_INDEX,
                KeyConditionExpression="user_id = :user",
                ExpressionAttributeValues={":user": {"S": user_id}},
                ScanIndexForward=False,
            ):
                job_ids.extend(_job_ids(page))
                if len(job_ids) >= limit:
                    break
        return get_records(self.table_name, job_ids[:limit])

    def jobs_created_on(self, day: date) -> list[JobRecord]:
        """Every job created on `day` (UTC), oldest first within each shard."""
        job_ids: list[str] = []
        paginator = client("dynamodb").get_paginator("query")
        with unavailable_as("DynamoDB"):
            for shard in range(DAY_SHARDS):
                for page in paginator.paginate(
                    TableName=self.table_name,
                    IndexName=DAY_INDEX,
                    KeyConditionExpression="day_shard = :shard",
                    ExpressionAttributeValues={":shard": {"S": f"{day.isoformat()}#{shard}"}},
                ):
                    job_ids.extend(_job_ids(page))
        return get_records(self.table_name, job_ids)

    # ------------------------------------------------------------------ worker side
    def mark_started(
        self,
        job_id: str,
        *,
        task: str,
        queue: str,
        retries: int = 0,
        raise_if_revoked: bool = False,
        inputs: dict[str, Any] | None = None,
        parent_id: str | None = None,
        group_id: str | None = None,
    ) -> bool:
        """A worker began an attempt: count it and reset that attempt's progress.

        False when the record is already final (a redelivered message of a finished job): the
        write is refused and the attempt must not run. A job the reconciler marked lost
        (mark_lost) is the exception: its message came back (a redrive from the dead-letter
        queue, or a late redelivery), so it runs again and its record leaves FAILURE.
        retries: the message's retry number (Celery's ``retries`` header: 0 for the first
        message, n for the one the n-th retry sent). A message whose attempt a retry has
        superseded is refused too: one with a lower number than the last attempt started, or
        the same number once that attempt ended in RETRY. Such a message is back only because
        its deletion was lost or is still on its way (skylane/broker/deletes.py), while its
        successor waits on SQS; running it would run the job twice. A worker that died mid-job
        leaves its attempt STARTED, so that attempt's own message runs again.
        raise_if_revoked: raise JobRevoked when the job was cancelled while queued (the write
        is refused and the refusal says why, so no extra read is needed to find out).
        inputs, parent_id, group_id: what the message carries, kept only where the record has
        none (a job sent by a producer outside skylane gets its whole record here).
        """
        moment = utcnow()
        now = iso(moment)
        links = ""
        link_values: dict[str, Any] = {}
        for name, value in (("parent_id", parent_id), ("group_id", group_id)):
            if value:
                links += f", {name} = if_not_exists({name}, :{name})"
                link_values[f":{name}"] = {"S": str(value)}
        return self._update(
            job_id,
            "SET #state = :started, started_at = if_not_exists(started_at, :now), "
            "last_started_at = :now, updated_at = :now, expires_at = :expires, "
            "task = if_not_exists(task, :task), #queue = if_not_exists(#queue, :queue), "
            "created_at = if_not_exists(created_at, :now), #retries = :msg_retries, "
            "kind = if_not_exists(kind, :kind), day_shard = if_not_exists(day_shard, :shard), "
            "inputs = if_not_exists(inputs, :inputs)" + links + " "
            "ADD attempts :one REMOVE #current, #total, #error, lost, ended_at",
            {
                **link_values,
                ":kind": {"S": kind_of(task)},
                ":shard": {"S": day_shard(moment.date(), job_id)},
                ":inputs": {"S": json.dumps(inputs or {}, sort_keys=True, default=str)},
                ":started": {"S": JobState.STARTED.value},
                ":now": {"S": now},
                ":one": {"N": "1"},
                ":task": {"S": task},
                ":queue": {"S": queue},
                ":msg_retries": {"N": str(retries)},
                ":retry_state": {"S": JobState.RETRY.value},
            },
            extra_condition="(attribute_not_exists(#retries) OR #retries < :msg_retries "
            "OR (#retries = :msg_retries AND #state <> :retry_state))",
            raise_if_revoked=raise_if_revoked,
            or_lost=True,
        )

    def record_progress(self, job_id: str, current: int, total: int, meta: dict[str, Any]) -> bool:
        """Store PROGRESS; ignored (returns False) if it would move progress backwards.

        Raises JobRevoked when the job was cancelled: a progress step is where a running job
        learns of it (SQS has no broadcast to tell the worker).
        """
        return self._update(
            job_id,
            "SET #state = :progress, #current = :current, #total = :total, meta = :meta, "
            "updated_at = :now, expires_at = :expires",
            {
                ":progress": {"S": JobState.PROGRESS.value},
                ":current": {"N": str(current)},
                ":total": {"N": str(total)},
                ":meta": {"S": json.dumps(meta, sort_keys=True, default=str)},
                ":now": {"S": iso(utcnow())},
            },
            extra_condition="(attribute_not_exists(#current) OR #current <= :current)",
            raise_if_revoked=True,
        )

    def record_retry(self, job_id: str, error: str) -> bool:
        return self._update(
            job_id,
            "SET #state = :retry, #error = :error, updated_at = :now, expires_at = :expires",
            {
                ":retry": {"S": JobState.RETRY.value},
                ":error": {"S": error},
                ":now": {"S": iso(utcnow())},
            },
        )

    def record_success(self, job_id: str, result: Any) -> bool:
        return self.finish(job_id, JobState.SUCCESS, result=result) is not None

    def record_failure(self, job_id: str, error: str, traceback: str | None) -> bool:
        return self.finish(job_id, JobState.FAILURE, error=error, traceback=traceback) is not None

    def finish(
        self,
        job_id: str,
        state: JobState,
        *,
        result: Any = None,
        error: str | None = None,
        traceback: str | None = None,
    ) -> JobRecord | None:
        """SUCCESS with ``result`` or FAILURE with ``error``: the record as it now is (its
        finisher acts on it, e.g. a schedule's held run), or None if it was already final."""
        now = iso(utcnow())
        if state is JobState.SUCCESS:
            expression = (
                "SET #state = :success, #result = :result, ended_at = :now, updated_at = :now, "
                "expires_at = :expires REMOVE #error"
            )
            values = {
                ":success": {"S": JobState.SUCCESS.value},
                ":result": {"S": json.dumps(result, sort_keys=True, default=str)},
                ":now": {"S": now},
            }
        else:
            expression = (
                "SET #state = :failure, #error = :error, #traceback = :traceback, "
                "ended_at = :now, updated_at = :now, expires_at = :expires"
            )
            values = {
                ":failure": {"S": JobState.FAILURE.value},
                ":error": {"S": error or ""},
                ":traceback": {"S": traceback or ""},
                ":now": {"S": now},
            }
        item = self._update_item(job_id, expression, values, return_new=True)
        return JobRecord.from_item(item) if item is not None else None

    def revoke(self, job_id: str) -> JobRecord:
        """Cancel an unfinished job: REVOKED, ended now. The record as it now is.

        One conditional write, so a job that finishes meanwhile is never overwritten. Raises
        JobNotFound for an unknown id and JobAlreadyFinished (with the final record) otherwise.
        """
        now = iso(utcnow())
        try:
            with unavailable_as("DynamoDB"):
                response = client("dynamodb").update_item(
                    TableName=self.table_name,
                    Key={"job_id": {"S": job_id}},
                    UpdateExpression="SET #state = :revoked, ended_at = :now, updated_at = :now",
                    ConditionExpression="#state IN ("
                    + ", ".join(f":active{i}" for i in range(len(_ACTIVE_STATES)))
                    + ")",
                    ExpressionAttributeNames={"#state": "state"},
                    ExpressionAttributeValues={
                        ":revoked": {"S": JobState.REVOKED.value},
                        ":now": {"S": now},
                        **{f":active{i}": {"S": state} for i, state in enumerate(_ACTIVE_STATES)},
                    },
                    ReturnValues="ALL_NEW",
                    # Tells "no such job" from "already final" without a second read.
                    ReturnValuesOnConditionCheckFailure="ALL_OLD",
                )
        except ClientError as exc:
            if not _condition_failed(exc):
                raise
            old = _old_item(exc)
            if not old:
                raise JobNotFound(job_id) from exc
            raise JobAlreadyFinished(JobRecord.from_item(old)) from exc
        return JobRecord.from_item(response["Attributes"])

    def mark_lost(self, job_id: str, seen_started_at: str, reason: str) -> bool:
        """FAILURE for a job whose worker vanished, unless it moved on since it was seen.

        Conditional on the attempt seen (last_started_at) and an unfinished state, so running
        it twice, or racing a worker that picked the job up again, changes nothing.
        """
        now = iso(utcnow())
        try:
            with unavailable_as("DynamoDB"):
                client("dynamodb").update_item(
                    TableName=self.table_name,
                    Key={"job_id": {"S": job_id}},
                    # `lost` tells this verdict from a failure a run reported: a lost job whose
                    # message comes back may run again (mark_started).
                    UpdateExpression="SET #state = :failure, #error = :reason, ended_at = :now, "
                    "updated_at = :now, lost = :true",
                    ConditionExpression="last_started_at = :seen AND #state IN (:started, :progress)",
                    ExpressionAttributeNames={"#state": "state", "#error": "error"},
                    ExpressionAttributeValues={
                        ":failure": {"S": JobState.FAILURE.value},
                        ":reason": {"S": reason},
                        ":now": {"S": now},
                        ":seen": {"S": seen_started_at},
                        ":started": {"S": JobState.STARTED.value},
                        ":progress": {"S": JobState.PROGRESS.value},
                        ":true": {"BOOL": True},
                    },
                )
        except ClientError as exc:
            if _condition_failed(exc):
                return False
            raise
        return True

    def _update(
        self,
        job_id: str,
        expression: str,
        values: dict[str, Any],
        extra_condition: str | None = None,
        raise_if_revoked: bool = False,
        or_lost: bool = False,
    ) -> bool:
        """Apply one update unless the job is already final. False when the condition refused it.

        raise_if_revoked: raise JobRevoked instead when the refusal is a cancelled job.
        or_lost: also apply it to a job the reconciler marked lost.
        """
        item = self._update_item(
            job_id, expression, values, extra_condition, raise_if_revoked, or_lost
        )
        return item is not None

    def _update_item(
        self,
        job_id: str,
        expression: str,
        values: dict[str, Any],
        extra_condition: str | None = None,
        raise_if_revoked: bool = False,
        or_lost: bool = False,
        return_new: bool = False,
    ) -> dict[str, Any] | None:
        """_update's write: the item after it (empty unless return_new), None if refused."""
        condition = (
            "attribute_not_exists(#state) OR #state IN ("
            + ", ".join(f":active{i}" for i in range(len(_ACTIVE_STATES)))
            + ")"
            + (" OR lost = :true" if or_lost else "")
        )
        if extra_condition:
            condition = f"({condition}) AND {extra_condition}"
        values = {
            **values,
            **{f":active{i}": {"S": state} for i, state in enumerate(_ACTIVE_STATES)},
            ":expires": {"N": str(int((utcnow() + self.ttl).timestamp()))},
            ":true": {"BOOL": True},
        }
        names = {
            "#state": "state",
            "#current": "current",
            "#total": "total",
            "#error": "error",
            "#result": "result",
            "#queue": "queue",
            "#traceback": "traceback",
            "#retries": "retries",
        }
        used_names = {k: v for k, v in names.items() if k in expression or k in condition}
        used_values = {k: v for k, v in values.items() if k in expression or k in condition}
        try:
            with unavailable_as("DynamoDB"):
                response = client("dynamodb").update_item(
                    TableName=self.table_name,
                    Key={"job_id": {"S": job_id}},
                    UpdateExpression=expression,
                    ConditionExpression=condition,
                    ExpressionAttributeNames=used_names,
                    ExpressionAttributeValues=used_values,
                    ReturnValuesOnConditionCheckFailure="ALL_OLD",
                    # No capacity cost: the new item comes back with the write's answer.
                    ReturnValues="ALL_NEW" if return_new else "NONE",
                )
        except ClientError as exc:
            if not _condition_failed(exc):
                raise
            old = _old_item(exc)
            state = dynamodb_items.from_item(old).get("state")
            if raise_if_revoked and state == JobState.REVOKED.value:
                raise JobRevoked(job_id) from exc
            return None
        attributes: dict[str, Any] = response.get("Attributes", {})
        return attributes


def kind_of(task: str) -> str:
    """A job's kind from its task name: a contract's kind, else the name's last part."""
    spec = TASKS.get(task)
    return spec.kind if spec else task.rsplit(".", 1)[-1]


def get_records(table_name: str, job_ids: list[str], consistent: bool = True) -> list[JobRecord]:
    """The records of `job_ids` in that order (BatchGetItem); ids without a record are left out.

    The indexes project only what never changes after creation (template.yaml), so whoever
    lists through them reads the state, progress and result here.
    """
    found: dict[str, JobRecord] = {}
    unique = list(dict.fromkeys(job_ids))
    with unavailable_as("DynamoDB"):
        for start in range(0, len(unique), DYNAMODB_BATCH_GET_LIMIT):
            request: dict[str, Any] = {
                table_name: {
                    "Keys": [
                        {"job_id": {"S": j}}
                        for j in unique[start : start + DYNAMODB_BATCH_GET_LIMIT]
                    ],
                    "ConsistentRead": consistent,
                }
            }
            while request:
                answer = client("dynamodb").batch_get_item(RequestItems=request)
                for item in answer.get("Responses", {}).get(table_name, []):
                    record = JobRecord.from_item(item)
                    found[record.job_id] = record
                # Keys DynamoDB left for later (throttling, the 16 MB limit): asked again.
                request = answer.get("UnprocessedKeys") or {}
    return [found[j] for j in unique if j in found]


def _job_ids(page: dict[str, Any]) -> list[str]:
    """The job ids of a query page over an index (which projects them)."""
    return [dynamodb_items.from_item(item)["job_id"] for item in page.get("Items", [])]


def day_shard(day: date, job_id: str) -> str:
    """The by_day partition of a job: its creation day and a shard derived from its id."""
    shard = int(hashlib.sha256(job_id.encode()).hexdigest(), 16) % DAY_SHARDS
    return f"{day.isoformat()}#{shard}"


class JobExists(Exception):
    def __init__(self, job_id: str) -> None:
        super().__init__(f"a job with id {job_id} already exists")
        self.job_id = job_id


class JobNotFound(Exception):
    def __init__(self, job_id: str) -> None:
        super().__init__(f"No job with id {job_id}")
        self.job_id = job_id


class JobAlreadyFinished(Exception):
    """A job in a final state: nothing can change it any more (cancel answers 409)."""

    def __init__(self, record: JobRecord) -> None:
        super().__init__(
            f"Job {record.job_id} already finished ({record.state.value}); "
            "only a job that is queued, running or waiting to retry can be cancelled"
        )
        self.record = record


class JobRevoked(Exception):
    """The job was cancelled while it ran; the task stops and leaves REVOKED in place."""

    def __init__(self, job_id: str) -> None:
        super().__init__(f"job {job_id} was cancelled")
        self.job_id = job_id

    def __reduce__(self) -> tuple[type, tuple[str]]:
        # Celery pickles errors between worker processes; keep the job id.
        return (type(self), (self.job_id,))


def _condition_failed(exc: ClientError) -> bool:
    return exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"


def _old_item(exc: ClientError) -> dict[str, Any]:
    """The item a refused conditional write saw (ReturnValuesOnConditionCheckFailure=ALL_OLD)."""
    item = dict(exc.response).get("Item")
    return item if isinstance(item, dict) else {}
