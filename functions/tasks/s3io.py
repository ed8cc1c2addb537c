"""Reading uploads from S3 as a stream, so a job's memory does not grow with the object."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from skylane.core.aws import client
from skylane.core.errors import PermissionMissing
from skylane.core.outages import permission_missing

# A streaming read's unit: large enough to keep the request count low, small enough to keep
# a worker process's memory flat whatever the object's size.
CHUNK_SIZE = 1024 * 1024

# Work functions report (steps done, steps in all) after each real step.
OnProgress = Callable[[int, int], None]

_MISSING_CODES = frozenset({"NoSuchKey", "NoSuchBucket", "404"})


class ObjectMissing(Exception):
    """The object a job names does not exist: retrying cannot make it appear.

    Its only argument is the message, so Celery can pickle it and the job's error reads well.
    """


@dataclass
class S3Object:
    bucket: str
    key: str
    size: int
    body: Any

    def read(self, amount: int) -> bytes:
        """Exactly `amount` bytes, fewer only at the end: a stream may return short reads."""
        parts: list[bytes] = []
        remaining = amount
        while remaining > 0:
            part = self.body.read(remaining)
            if not part:
                break
            parts.append(part)
            remaining -= len(part)
        return b"".join(parts)

    def __enter__(self) -> "S3Object":
        return self

    def __exit__(self, *exc_info: object) -> None:
        # Releases the HTTP connection even when a job stops reading half-way.
        self.body.close()


def open_object(bucket: str, key: str) -> S3Object:
    try:
        response = client("s3").get_object(Bucket=bucket, Key=key)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in _MISSING_CODES:
            raise ObjectMissing(f"s3://{bucket}/{key} does not exist") from exc
        denied = permission_missing(exc, "S3")
        if denied is not None:
            raise PermissionMissing(
                "S3", denied.operation, f"{denied.detail} (s3://{bucket}/{key})"
            ) from exc
        raise
    return S3Object(bucket, key, int(response["ContentLength"]), response["Body"])


def chunk_count(size: int, chunk_size: int = CHUNK_SIZE) -> int:
    """Chunks a streaming read of `size` bytes takes; an empty object still takes one read."""
    return max(1, -(-size // chunk_size))
