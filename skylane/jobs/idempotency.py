"""Idempotent submission: the same Idempotency-Key and request give the same job, once.

The job id derives from the key, so the record's conditional write is the lock: a repeat gets
the same id and enqueues nothing. The record keeps a fingerprint of the request; the same key
with another request is a 422 (draft-ietf-httpapi-idempotency-key-header).
"""

import hashlib
import json
import uuid
from typing import Any

# Fixed forever: changing it would turn a retried request into a second job.
IDEMPOTENCY_NAMESPACE = uuid.UUID("0b6f2a5e-3c1d-4f7a-9e2b-8d4c6a1f5e37")


class IdempotencyConflict(Exception):
    def __init__(self) -> None:
        super().__init__(
            "this Idempotency-Key was already used with a different request; "
            "use a new key for a new request"
        )


def idempotent_job_id(key: str, part: str = "") -> str:
    """The job id a key stands for; `part` names a second job of the same request."""
    return str(uuid.uuid5(IDEMPOTENCY_NAMESPACE, f"{key}\n{part}"))


def request_fingerprint(path: str, body: dict[str, Any]) -> str:
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(f"{path}\n{canonical}".encode()).hexdigest()
