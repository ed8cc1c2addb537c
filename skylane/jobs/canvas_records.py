"""Canvas state in the job table: saved groups, chord counters, the records of a chord's jobs.

A saved group is an item of its own (no ``day_shard``, so listings never see it). A chord's
counter is on its body's record: one conditional ``ADD`` per part, refused for a part already
counted, so ``/task/{body}`` reads the progress in the same item.
"""

import json
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from botocore.exceptions import ClientError

from skylane.core import dynamodb_items
from skylane.core.aws import client
from skylane.core.limits import DYNAMODB_BATCH_GET_LIMIT
from skylane.core.outages import unavailable_as
from skylane.core.settings import get_settings
from skylane.jobs.states import JobState
from skylane.jobs.store import day_shard, iso, utcnow


class CanvasRecords:
    def __init__(self, table_name: str, ttl_days: int) -> None:
        self.table_name = table_name
        self.ttl = timedelta(days=ttl_days)

    @classmethod
    def from_settings(cls) -> "CanvasRecords":
        settings = get_settings()
        return cls(settings.jobs_table, settings.job_ttl_days)

    def _expires(self) -> dict[str, str]:
        return {"N": str(int((utcnow() + self.ttl).timestamp()))}

    # ------------------------------------------------------------------ saved groups
    def put_value(self, key: str, value: str) -> None:
        with unavailable_as("DynamoDB"):
            client("dynamodb").put_item(
                TableName=self.table_name,
                Item={"job_id": {"S": key}, "kv": {"S": value}, "expires_at": self._expires()},
            )

    def get_value(self, key: str) -> str | None:
        with unavailable_as("DynamoDB"):
            item = (
                client("dynamodb")
                .get_item(
                    TableName=self.table_name,
                    Key={"job_id": {"S": key}},
                    ConsistentRead=True,
                    ProjectionExpression="kv",
                )
                .get("Item")
            )
        value = dynamodb_items.from_item(item or {}).get("kv")
        return str(value) if value is not None else None

    def delete_value(self, key: str) -> None:
        with unavailable_as("DynamoDB"):
            client("dynamodb").delete_item(
                TableName=self.table_name,
                Key={"job_id": {"S": key}},
                # Only a saved group's item: never a job record.
                ConditionExpression="attribute_exists(kv) OR attribute_not_exists(job_id)",
            )

    # ------------------------------------------------------------------ job records, many at once
    def get_items(self, job_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        """Job records by id (BatchGetItem, strongly consistent); missing ids are left out."""
        wanted = list(dict.fromkeys(job_ids))
        found: dict[str, dict[str, Any]] = {}
        for start in range(0, len(wanted), DYNAMODB_BATCH_GET_LIMIT):
            request: dict[str, Any] = {
                self.table_name: {
                    "Keys": [
                        {"job_id": {"S": i}}
                        for i in wanted[start : start + DYNAMODB_BATCH_GET_LIMIT]
                    ],
                    "ConsistentRead": True,
                }
            }
            while request:
                with unavailable_as("DynamoDB"):
                    response = client("dynamodb").batch_get_item(RequestItems=request)
                for item in response.get("Responses", {}).get(self.table_name, []):
                    found[dynamodb_items.from_item(item)["job_id"]] = item
                request = response.get("UnprocessedKeys") or {}
        return found

    # ------------------------------------------------------------------ chords
    def record_chord(
        self,
        body_id: str,
        *,
        task: str,
        kind: str,
        queue: str,
        group_id: str,
        parts: list[str],
        inputs: dict[str, Any],
    ) -> None:
        """The body's record as a chord is applied: PENDING unless it exists, with its parts.

        An upsert, so a record the API wrote first (with the batch's own inputs) keeps them.
        """
        now = utcnow()
        with unavailable_as("DynamoDB"):
            client("dynamodb").update_item(
                TableName=self.table_name,
                Key={"job_id": {"S": body_id}},
                UpdateExpression="SET #state = if_not_exists(#state, :pending), "
                "day_shard = if_not_exists(day_shard, :shard), "
                "created_at = if_not_exists(created_at, :now), updated_at = :now, "
                "task = if_not_exists(task, :task), kind = if_not_exists(kind, :kind), "
                "#queue = if_not_exists(#queue, :queue), "
                "inputs = if_not_exists(inputs, :inputs), "
                "attempts = if_not_exists(attempts, :zero), expires_at = :expires, "
                "group_id = :group, parts = :parts, chord_size = :size",
                ExpressionAttributeNames={"#state": "state", "#queue": "queue"},
                ExpressionAttributeValues={
                    ":pending": {"S": JobState.PENDING.value},
                    ":shard": {"S": day_shard(now.date(), body_id)},
                    ":now": {"S": iso(now)},
                    ":task": {"S": task},
                    ":kind": {"S": kind},
                    ":queue": {"S": queue},
                    ":inputs": {"S": json.dumps(inputs, sort_keys=True, default=str)},
                    ":zero": {"N": "0"},
                    ":expires": self._expires(),
                    ":group": {"S": group_id},
                    ":parts": {"L": [{"S": part} for part in parts]},
                    ":size": {"N": str(len(parts))},
                },
            )

    def count_part(self, body_id: str, part_id: str, size: int | None) -> int:
        """Count a finished part on the body's record: the parts counted so far, or 0 when
        this part was counted already (a redelivered message), so it never completes a chord
        twice."""
        expression = "ADD chord_done :one, chord_counted :part SET updated_at = :now"
        values: dict[str, Any] = {
            ":one": {"N": "1"},
            ":part": {"SS": [part_id]},
            ":part_id": {"S": part_id},
            ":now": {"S": iso(utcnow())},
        }
        if size is not None:
            expression += ", chord_size = :size"
            values[":size"] = {"N": str(size)}
        try:
            with unavailable_as("DynamoDB"):
                response = client("dynamodb").update_item(
                    TableName=self.table_name,
                    Key={"job_id": {"S": body_id}},
                    UpdateExpression=expression,
                    ConditionExpression="NOT contains(chord_counted, :part_id)",
                    ExpressionAttributeValues=values,
                    ReturnValues="UPDATED_NEW",
                )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return 0
            raise
        return int(dynamodb_items.from_item(response["Attributes"])["chord_done"])
