"""The router: short, non-critical tasks on the light lane, the rest on the worker queues."""

import pytest

from skylane.jobs import contracts
from skylane.jobs.contracts import TASKS, QueueName, TaskSpec
from skylane.jobs.routing import LIGHT_FUNCTION_TIMEOUT_SECONDS, queue_for, route

# Six kinds of task, declared as the specs such tasks would have, with the lane each should
# take (the README's *Lanes* table): what would be a BackgroundTask goes light, the rest stays
# on Celery's worker.
SCENARIOS = [
    # Scenario 1: send an email, 5 s, a side effect nobody waits on.
    (TaskSpec("email", QueueName.DEFAULT, 50, 60, expected_seconds=5, critical=False), "light"),
    # Scenario 2: generate a thumbnail, 10 s.
    (
        TaskSpec("thumbnail", QueueName.DEFAULT, 50, 60, expected_seconds=10, critical=False),
        "light",
    ),
    # Scenario 3: process a large file, 2 minutes.
    (
        TaskSpec("large_file", QueueName.DEFAULT, 570, 600, expected_seconds=120, critical=False),
        "default",
    ),
    # Scenario 4: train a model, 1 hour: past Lambda's 15 minutes whatever it declares.
    (
        TaskSpec("training", QueueName.HIGH, 3540, 3600, expected_seconds=3600, critical=False),
        "high",
    ),
    # Scenario 5: a scheduled task (EventBridge Scheduler, in Celery Beat's place).
    (
        TaskSpec(
            "nightly", QueueName.DEFAULT, 50, 60, expected_seconds=10, critical=False, periodic=True
        ),
        "default",
    ),
    # Scenario 6: log a chat exchange, 1 s.
    (TaskSpec("chat_log", QueueName.DEFAULT, 10, 15, expected_seconds=1, critical=False), "light"),
]


@pytest.mark.parametrize(("spec", "lane"), SCENARIOS, ids=[spec.kind for spec, _ in SCENARIOS])
def test_six_kinds_of_task_take_their_lane(spec: TaskSpec, lane: str) -> None:
    assert route(spec).queue.value == lane


def test_light_means_under_30_seconds_and_not_critical() -> None:
    # 5 s and not critical: light; 120 s critical, 10 s critical, exactly 30 s: the worker.
    def spec(seconds: int, critical: bool) -> TaskSpec:
        return TaskSpec("x", QueueName.DEFAULT, 50, 60, expected_seconds=seconds, critical=critical)

    assert route(spec(5, False)).light
    assert not route(spec(120, True)).light
    assert not route(spec(10, True)).light
    assert not route(spec(30, False)).light  # under 30 s, not 30 s itself


def test_a_short_task_whose_limit_outlasts_the_light_function_stays_on_the_worker() -> None:
    spec = TaskSpec(
        "short_but_unbounded",
        QueueName.DEFAULT,
        LIGHT_FUNCTION_TIMEOUT_SECONDS,
        LIGHT_FUNCTION_TIMEOUT_SECONDS + 1,
        expected_seconds=1,
        critical=False,
    )
    decision = route(spec)
    assert decision.queue is QueueName.DEFAULT
    assert "time limit" in decision.reason


def test_only_the_notification_of_the_real_tasks_takes_the_light_lane() -> None:
    light = {name for name, spec in TASKS.items() if route(spec).light}
    assert light == {contracts.SEND_NOTIFICATION.name}


def test_without_a_light_queue_light_jobs_go_to_their_worker_queue() -> None:
    assert queue_for(contracts.SEND_NOTIFICATION) is QueueName.LIGHT
    assert queue_for(contracts.SEND_NOTIFICATION, light_lane_available=False) is QueueName.DEFAULT


def test_a_spec_cannot_name_the_light_queue_itself() -> None:
    with pytest.raises(ValueError, match="router picks light"):
        route(TaskSpec("x", QueueName.LIGHT, 5, 10))
