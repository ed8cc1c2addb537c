"""Liveness, queue statistics and user actions."""

from fastapi import APIRouter

from functions.api.schemas import Health, Message, QueueStatsView, UserActionRequest
from skylane.queues import queue_stats
from skylane.user_actions import record_user_action

router = APIRouter(tags=["operations"])


@router.get("/health")
def health() -> Health:
    """Cheap liveness: no AWS calls."""
    return Health()


@router.get("/queues")
def get_queue_stats() -> dict[str, QueueStatsView]:
    """Live SQS counts for each queue and its dead-letter queue."""
    return {
        stats.name: QueueStatsView(
            name=stats.name, count=stats.count, in_flight=stats.in_flight, delayed=stats.delayed
        )
        for stats in queue_stats()
    }


@router.post("/user-action")
def user_action(request: UserActionRequest) -> Message:
    record_user_action(request.user_id, request.action)
    return Message(message="Action recorded")
