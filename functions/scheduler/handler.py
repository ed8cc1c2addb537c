"""Lambda entry point for EventBridge schedules: parse, enqueue by name, answer.

A malformed event or an unknown task raises: the invocation fails, the error is in the logs,
and EventBridge Scheduler retries, then parks the event in the schedules' dead-letter queue.
"""

from dataclasses import asdict
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from skylane.logs import logger
from skylane.scheduling import enqueue_scheduled, parse_invocation


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    try:
        invocation = parse_invocation(event)
    except ValueError:
        logger.exception("scheduled event refused", extra={"event": event})
        raise
    return asdict(enqueue_scheduled(invocation))
