"""User actions, recorded as structured log events.

Not a local file, which Lambda would lose: a structured log line goes to CloudWatch Logs,
where it is durable and can be queried (Logs Insights).
"""

from skylane.observability.logs import logger


def record_user_action(user_id: int, action: str) -> None:
    logger.info("user action", extra={"event": "user_action", "user_id": user_id, "action": action})
