"""Powertools Tracer (X-Ray) for the Lambda handlers, built only where it can trace.

Creating a Tracer imports the X-Ray SDK even with tracing off, so none is made at import, off
the Lambda runtime, or with POWERTOOLS_TRACE_DISABLED=true (Stage=local): the API's cold start
has no room for it.
"""

import os
from collections.abc import Callable
from functools import cache
from typing import Any, TypeVar

Handler = TypeVar("Handler", bound=Callable[..., Any])

_TRUTHY = {"1", "true", "yes", "on"}


def tracing_enabled() -> bool:
    """Powertools' own rule: on Lambda (not `sam local`), unless POWERTOOLS_TRACE_DISABLED."""
    if os.environ.get("POWERTOOLS_TRACE_DISABLED", "").strip().lower() in _TRUTHY:
        return False
    return bool(os.environ.get("LAMBDA_TASK_ROOT")) and not os.environ.get("AWS_SAM_LOCAL")


@cache
def _tracer() -> Any:
    from aws_lambda_powertools import Tracer

    # Patches botocore: every DynamoDB, SQS and S3 call becomes a subsegment.
    return Tracer()


def traced(handler: Handler) -> Handler:
    """`handler` wrapped in Tracer.capture_lambda_handler, decided at its first invocation.

    Responses are not captured: API bodies can be large and say nothing a trace needs.
    """
    wrapped: Callable[..., Any] | None = None

    def invoke(event: Any, context: Any) -> Any:
        nonlocal wrapped
        if wrapped is None:
            wrapped = (
                _tracer().capture_lambda_handler(handler, capture_response=False)
                if tracing_enabled()
                else handler
            )
        return wrapped(event, context)

    invoke.__doc__ = handler.__doc__
    return invoke  # type: ignore[return-value]
