"""DynamoDB items to plain Python values and back, through boto3's own (de)serializers.

Numbers come back as ``Decimal`` (DynamoDB's numbers are exact); callers convert to what their
field wants.
"""

from collections.abc import Mapping
from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from boto3.dynamodb.types import TypeDeserializer, TypeSerializer


@cache
def _deserializer() -> "TypeDeserializer":
    # Imported on first use, as boto3 is in skylane.core.aws: importing boto3 would cost every
    # cold start, /health's included.
    from boto3.dynamodb.types import TypeDeserializer

    return TypeDeserializer()


@cache
def _serializer() -> "TypeSerializer":
    from boto3.dynamodb.types import TypeSerializer

    return TypeSerializer()


def from_item(item: Mapping[str, Any]) -> dict[str, Any]:
    """An item as the client API returns it (``{"S": ...}`` per attribute), as plain values."""
    deserialize = _deserializer().deserialize
    return {name: deserialize(value) for name, value in item.items()}


def to_item(values: Mapping[str, Any]) -> dict[str, Any]:
    """Plain values as an item for the client API; ``None`` values are left out."""
    serialize = _serializer().serialize
    return {name: serialize(value) for name, value in values.items() if value is not None}
