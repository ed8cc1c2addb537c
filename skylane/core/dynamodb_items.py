"""DynamoDB items to plain Python values and back, through boto3's own (de)serializers.

Numbers come back as ``Decimal`` (DynamoDB's numbers are exact); callers convert to what their
field wants.
"""

from collections.abc import Mapping
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

_deserializer = TypeDeserializer()
_serializer = TypeSerializer()


def from_item(item: Mapping[str, Any]) -> dict[str, Any]:
    """An item as the client API returns it (``{"S": ...}`` per attribute), as plain values."""
    return {name: _deserializer.deserialize(value) for name, value in item.items()}


def to_item(values: Mapping[str, Any]) -> dict[str, Any]:
    """Plain values as an item for the client API; ``None`` values are left out."""
    return {
        name: _serializer.serialize(value) for name, value in values.items() if value is not None
    }
