"""Liveness, queue statistics and user actions."""

from fastapi import APIRouter, HTTPException, status

from functions.api.cold_start import RouteBuiltOnFirstUse
from functions.api.schemas import (
    Health,
    Message,
    QueueStatsView,
    RedriveRequest,
    RedriveResult,
    UserActionRequest,
)
from functions.api.user_actions import record_user_action
from skylane.core.aws import client
from skylane.core.outages import unavailable_as
from skylane.queues import dead_letters, pairs, stats

# Messages moved per call: each is a send and a delete, and the call must end well within
# API Gateway's 29 s. Call again for more.
REDRIVE_MAX_MESSAGES = 100

router = APIRouter(tags=["operations"], route_class=RouteBuiltOnFirstUse)


@router.get("/health")
def health() -> Health:
    """Cheap liveness: no AWS calls."""
    return Health()


@router.get("/queues")
def get_queue_stats() -> dict[str, QueueStatsView]:
    """Live SQS counts for each queue and its dead-letter queue."""
    return {
        queue.name: QueueStatsView(
            name=queue.name, count=queue.count, in_flight=queue.in_flight, delayed=queue.delayed
        )
        for queue in stats.queue_stats()
    }


@router.post(
    "/queues/{queue}/redrive",
    responses={
        status.HTTP_404_NOT_FOUND: {"description": "No such queue with a dead-letter queue"}
    },
)
def redrive_dead_letters(queue: str, request: RedriveRequest | None = None) -> RedriveResult:
    """Send a queue's dead letters back to it (all, or only the given jobs'), at most 100 a call."""
    known_pairs = pairs.dead_letter_pairs(pairs.from_settings())
    if queue not in known_pairs:
        known = ", ".join(sorted(known_pairs)) or "none"
        raise HTTPException(
            status.HTTP_404_NOT_FOUND,
            f"No queue {queue!r} with a dead-letter queue; known: {known}",
        )
    queue_url, dlq_url = known_pairs[queue]
    only = set(request.job_ids) if request and request.job_ids else None
    with unavailable_as("SQS"):
        moved = dead_letters.redrive(
            client("sqs"),
            dlq_url,
            queue_url,
            wanted=lambda letter: only is None or letter.job_id in only,
            max_messages=REDRIVE_MAX_MESSAGES,
        )
    return RedriveResult(queue=queue, moved=len(moved), job_ids=[letter.job_id for letter in moved])


@router.post("/user-action")
def user_action(request: UserActionRequest) -> Message:
    record_user_action(request.user_id, request.action)
    return Message(message="Action recorded")
