"""DynamoDB request units from item sizes and index definitions, as DynamoDB bills them.

moto accepts ``ReturnConsumedCapacity=INDEXES`` but answers a constant (1 unit per write, 0.5
per read) with no figure per global secondary index, so the bench computes the units itself:

- an item's size is the sum of its attribute names and values (UTF-8 strings, about one byte
  per two significant digits of a number plus one, 1 byte for a boolean or null, 3 bytes plus
  the elements for a list or map);
- a write costs one unit per started KB of the larger of the item before and after it (a
  conditional write that is refused costs the same, for the item as it stands);
- each global secondary index costs units of its own, only when the write changes what the
  index holds for the item (its entry: the table's and the index's keys plus the projected
  attributes): one write to add or update an entry, one to remove it, two when its key moves;
- a read costs one unit per started 4 KB (half for an eventually consistent read), per item
  for GetItem and BatchGetItem and over the whole result for a Query.

https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html
https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/GSI.html#GSI.ThroughputConsiderations.Writes
"""

import base64
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

Item = Mapping[str, Any]
WRITE_UNIT_BYTES = 1024
READ_UNIT_BYTES = 4096


def _number_size(text: str) -> int:
    digits = Decimal(text).normalize().as_tuple().digits
    significant = len(digits) if any(digits) else 1
    return math.ceil(significant / 2) + 1 + (1 if text.lstrip().startswith("-") else 0)


def value_size(value: Mapping[str, Any]) -> int:
    """Bytes of one attribute value in DynamoDB's JSON form ({"S": ...}, {"N": ...}, ...)."""
    ((kind, data),) = value.items()
    if kind == "S":
        return len(str(data).encode())
    if kind == "N":
        return _number_size(str(data))
    if kind == "B":
        return len(base64.b64decode(data)) if isinstance(data, str) else len(data)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(len(str(x).encode()) for x in data)
    if kind == "NS":
        return sum(_number_size(str(x)) for x in data)
    if kind == "BS":
        return sum(len(base64.b64decode(x)) if isinstance(x, str) else len(x) for x in data)
    if kind == "L":
        return 3 + sum(1 + value_size(x) for x in data)
    if kind == "M":
        return 3 + sum(1 + len(k.encode()) + value_size(v) for k, v in data.items())
    raise ValueError(f"unknown DynamoDB type {kind!r}")


def item_size(item: Item | None) -> int:
    if not item:
        return 0
    return sum(len(name.encode()) + value_size(value) for name, value in item.items())


def write_units(size: int) -> int:
    return max(1, math.ceil(size / WRITE_UNIT_BYTES))


def read_units(size: int, consistent: bool) -> float:
    units = max(1, math.ceil(size / READ_UNIT_BYTES))
    return float(units) if consistent else units / 2


@dataclass(frozen=True)
class Index:
    """A global secondary index: its key attributes and what it projects."""

    name: str
    keys: tuple[str, ...]
    projection: str  # ALL, KEYS_ONLY or INCLUDE
    included: tuple[str, ...] = ()

    @classmethod
    def from_description(cls, gsi: Mapping[str, Any]) -> "Index":
        projection = gsi.get("Projection", {})
        return cls(
            name=gsi["IndexName"],
            keys=tuple(key["AttributeName"] for key in gsi["KeySchema"]),
            projection=projection.get("ProjectionType", "ALL"),
            included=tuple(projection.get("NonKeyAttributes", ())),
        )

    def entry(self, item: Item | None, table_keys: Iterable[str]) -> dict[str, Any] | None:
        """What the index holds for ``item``; None when the item lacks a key (sparse index)."""
        if not item or any(key not in item for key in self.keys):
            return None
        if self.projection == "ALL":
            return dict(item)
        names = {*table_keys, *self.keys, *self.included}
        return {name: value for name, value in item.items() if name in names}


def index_write_units(
    index: Index, before: Item | None, after: Item | None, table_keys: Iterable[str]
) -> int:
    keys = tuple(table_keys)
    old, new = index.entry(before, keys), index.entry(after, keys)
    if old == new:
        return 0
    if old is None:
        return write_units(item_size(new))
    if new is None:
        return write_units(item_size(old))
    if any(old[key] != new[key] for key in index.keys):
        return write_units(item_size(old)) + write_units(item_size(new))
    return write_units(max(item_size(old), item_size(new)))


def write_cost(
    before: Item | None,
    after: Item | None,
    table_keys: Iterable[str],
    indexes: Iterable[Index],
    refused: bool = False,
) -> dict[str, int]:
    """Write units of one write, for the table and each index it touched."""
    keys = tuple(table_keys)
    units = {"table": write_units(max(item_size(before), item_size(after)))}
    if refused:
        return units
    for index in indexes:
        spent = index_write_units(index, before, after, keys)
        if spent:
            units[index.name] = spent
    return units
