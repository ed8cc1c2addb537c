"""DynamoDB units of the requests the bench's emulator counts (bench.request_counter), by table and index.

For a write the meter reads the item straight from the emulator before and after it (keyed
by the request's key), and prices the change with bench.dynamodb_units; for a read it prices
the whole items the request read (DynamoDB bills an item's full size whatever a projection
expression keeps). The extra reads go to the emulator directly and are never counted. Meant
for one job at a time (the per-job cases): two writers racing on one item could be seen in
between.
"""

import json
import threading
from collections.abc import Callable
from typing import Any

from bench.dynamodb_units import (
    Index,
    item_size,
    read_units,
    write_cost,
)

WRITES = {"PutItem", "UpdateItem", "DeleteItem"}
READS = {"GetItem", "BatchGetItem", "Query"}


class TableShape:
    def __init__(self, description: dict[str, Any]) -> None:
        self.keys = tuple(key["AttributeName"] for key in description["KeySchema"])
        self.indexes = {
            gsi["IndexName"]: Index.from_description(gsi)
            for gsi in description.get("GlobalSecondaryIndexes", [])
        }


class DynamoDBMeter:
    """Write and read units per (kind, table or index), kind "write" or "read"."""

    def __init__(self, dynamodb: Any) -> None:
        self._dynamodb = dynamodb
        self._shapes: dict[str, TableShape] = {}
        self._units: dict[tuple[str, str], float] = {}
        self._lock = threading.Lock()

    def shape(self, table: str) -> TableShape:
        if table not in self._shapes:
            self._shapes[table] = TableShape(
                self._dynamodb.describe_table(TableName=table)["Table"]
            )
        return self._shapes[table]

    def _item(self, table: str, key: dict[str, Any]) -> dict[str, Any] | None:
        found: dict[str, Any] | None = self._dynamodb.get_item(
            TableName=table, Key=key, ConsistentRead=True
        ).get("Item")
        return found

    def _add(self, kind: str, target: str, units: float) -> None:
        with self._lock:
            self._units[(kind, target)] = self._units.get((kind, target), 0.0) + units

    def snapshot(self) -> dict[str, dict[str, float]]:
        with self._lock:
            out: dict[str, dict[str, float]] = {}
            for (kind, target), units in sorted(self._units.items()):
                out.setdefault(kind, {})[target] = round(units, 2)
            return out

    def reset(self) -> None:
        with self._lock:
            self._units.clear()

    def around(
        self, operation: str, body: bytes, forward: Callable[[], tuple[int, bytes]]
    ) -> tuple[int, bytes]:
        """Forward one request and count its units."""
        if operation not in WRITES | READS:
            return forward()
        request = json.loads(body or b"{}")
        if operation in WRITES:
            return self._write(operation, request, forward)
        status, payload = forward()
        if status == 200:
            self._read(operation, request, json.loads(payload or b"{}"))
        return status, payload

    def _write(
        self, operation: str, request: dict[str, Any], forward: Callable[[], tuple[int, bytes]]
    ) -> tuple[int, bytes]:
        table = request["TableName"]
        shape = self.shape(table)
        source = request["Item"] if operation == "PutItem" else request["Key"]
        key = {name: source[name] for name in shape.keys}
        before = self._item(table, key)
        status, payload = forward()
        refused = status == 400 and b"ConditionalCheckFailed" in payload
        if status != 200 and not refused:
            return status, payload
        after = before if refused else self._item(table, key)
        for target, units in write_cost(
            before, after, shape.keys, shape.indexes.values(), refused
        ).items():
            self._add("write", target, units)
        return status, payload

    def _read(self, operation: str, request: dict[str, Any], answer: dict[str, Any]) -> None:
        if operation == "GetItem":
            table = request["TableName"]
            item = self._item(table, request["Key"])
            consistent = bool(request.get("ConsistentRead"))
            self._add("read", "table", read_units(item_size(item), consistent))
        elif operation == "BatchGetItem":
            for table, spec in request["RequestItems"].items():
                consistent = bool(spec.get("ConsistentRead"))
                for key in spec["Keys"]:
                    item = self._item(table, key)
                    self._add("read", "table", read_units(item_size(item), consistent))
        else:  # Query: the items it examined, filtered out or not, as one read
            table = request["TableName"]
            index_name = request.get("IndexName")
            shape = self.shape(table)
            index = shape.indexes.get(index_name) if index_name else None
            sizes = []
            for item in answer.get("Items", []):
                if any(name not in item for name in shape.keys):
                    sizes.append(item_size(item))  # a projection left the key out
                    continue
                full = self._item(table, {name: item[name] for name in shape.keys})
                sizes.append(item_size(index.entry(full, shape.keys) if index else full))
            examined = int(answer.get("ScannedCount", len(sizes)))
            average = sum(sizes) / len(sizes) if sizes else 0.0
            total = sum(sizes) + average * max(0, examined - len(sizes))
            consistent = bool(request.get("ConsistentRead")) and index is None
            self._add("read", index_name or "table", read_units(round(total), consistent))
