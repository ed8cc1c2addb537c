"""The request id that ties an API request (or a schedule firing) to the jobs it submitted.

The API takes API Gateway's own request id when it has one (it is also in the access log),
otherwise a client's X-Request-Id, otherwise a fresh one. Submission copies the current id
into the job's message headers, and the worker logs it on every line of that job.
"""

import re
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from skylane.observability.logs import log_keys

HEADER = "X-Request-Id"
MESSAGE_HEADER = "request_id"
MAX_LENGTH = 100
# Letters, digits and a few separators: enough for UUIDs, API Gateway's base64-like ids and
# tracing ids, and nothing that could break a log line or a header.
_VALID = re.compile(rf"^[A-Za-z0-9][A-Za-z0-9._:=+/-]{{0,{MAX_LENGTH - 1}}}$")

_current: ContextVar[str | None] = ContextVar("skylane_request_id", default=None)


class InvalidRequestId(ValueError):
    def __init__(self) -> None:
        super().__init__(
            f"{HEADER} must be 1 to {MAX_LENGTH} characters: letters, digits and . _ : = + / - "
            "(starting with a letter or digit)"
        )


def is_valid(value: str) -> bool:
    return bool(_VALID.fullmatch(value))


def choose(aws_event: Mapping[str, Any] | None, header: str | None) -> str:
    """API Gateway's id under Mangum, else the client's header (validated), else a new uuid.

    A malformed header raises InvalidRequestId even when API Gateway's id wins: the client
    learns its header is wrong instead of finding it silently ignored.
    """
    if header is not None and not is_valid(header):
        raise InvalidRequestId()
    gateway_id = _gateway_request_id(aws_event)
    return gateway_id or header or str(uuid.uuid4())


def _gateway_request_id(aws_event: Mapping[str, Any] | None) -> str | None:
    context = (aws_event or {}).get("requestContext")
    request_id = context.get("requestId") if isinstance(context, Mapping) else None
    return request_id if isinstance(request_id, str) and request_id else None


def current() -> str | None:
    """The request id of the request (or invocation) being handled, if any."""
    return _current.get()


@contextmanager
def bound(request_id: str) -> Iterator[None]:
    """Inside, `current()` is request_id and every log line carries it."""
    token = _current.set(request_id)
    try:
        with log_keys(request_id=request_id):
            yield
    finally:
        _current.reset(token)
