"""Lambda entry point for EventBridge schedules: parse, enqueue by name, answer.

A malformed event or an unknown task raises: the invocation fails, and EventBridge Scheduler
retries, then parks the event in the schedules' dead-letter queue. The invocation's request id
is the request id of the job it enqueues, so the worker's lines of that job carry it.
"""

from dataclasses import asdict
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from skylane.observability import request_ids
from skylane.observability.logs import logger
from skylane.observability.tracing import traced
from skylane.schedules.invocations import enqueue_scheduled, parse_invocation


def enqueue(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    with request_ids.bound(context.aws_request_id):
        try:
            invocation = parse_invocation(event)
        except ValueError:
            logger.exception("scheduled event refused", extra={"event": event})
            raise
        return asdict(enqueue_scheduled(invocation))


handler = logger.inject_lambda_context(clear_state=True)(traced(enqueue))
